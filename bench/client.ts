// `npm run bench:client [-- --quick]`: @rollcall/client (DESIGN §9) measured side by side in one run,
// on the benchmark's own PostgreSQL with the bench's data (10,000 users), against Rollcall's HTTP
// API and Better Auth (organization plugin):
//   C1  one check: can() and a cached verifySession() in this process (per call, from batches of
//       1,000 and from single timed calls), an HTTP authorize call and Better Auth's has-permission
//       (one request at a time)
//   C2  a host route guarded by the Fastify plugin, at 10 and 50 connections, against the same route
//       calling Rollcall's authorize, Better Auth's has-permission, and the bare Fastify ceiling
//   C3  a removal's answer with 3 connected clients holding leases, and with none: what the
//       freshness protocol adds, from outside and by the server's own metric (the fence lock before
//       the commit, and commit → acknowledged by all 3)
//   C4  the snapshot: ready() time and the heap it adds at 1,000,000 memberships (100,000 quick)
// Prints a table; writes bench/results/<time>-client.json.
import { execFileSync, fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { Rollcall } from "../packages/client/src/index.js";
import { freePort, startPostgres } from "../test/helpers/postgres-server.js";
import { startSmtpCapture } from "../test/helpers/smtp.js";
import {
  betterAuthRequests,
  loginBetterAuth,
  migrateBetterAuth,
  seedBetterAuth,
  startBetterAuth,
} from "./better-auth/index.js";
import { type LoadRequest, measure, median } from "./load.js";
import { type Server, startCeiling, startRollcall } from "./processes.js";
import { api, loginRollcall, rollcallUserId, seedRollcall } from "./rollcall.js";

const quick = process.argv.includes("--quick");
const SECONDS = quick ? 1 : 5;
const RUNS = 3;
const USERS = 10_000;
/** C4: users seeded in all; each has two memberships (bench/dataset.ts). */
const SNAPSHOT_USERS = quick ? 50_000 : 500_000;
const log = (line: string) => process.stderr.write(`${line}\n`);

function percentiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99) };
}

interface Micro {
  batch: { p50: number; p99: number };
  single: { p50: number; p99: number };
}

/**
 * Per-call times (µs) of `fn`: from batches of 1,000 calls (the batch's time / 1,000), and from
 * single calls each timed with hrtime (which adds the timer's own cost, ~0.05 µs). `fn` is
 * called as a host calls it: synchronously, or awaited when it answers a promise.
 */
async function micro(fn: () => unknown, awaited: boolean): Promise<Micro> {
  const time = async (rounds: number) => {
    const t = process.hrtime.bigint();
    if (awaited) for (let i = 0; i < rounds; i++) await fn();
    else for (let i = 0; i < rounds; i++) fn();
    return Number(process.hrtime.bigint() - t) / 1_000 / rounds;
  };
  await time(200_000); // warm-up: the JIT
  const batches: number[] = [];
  for (let b = 0; b < 1_000; b++) batches.push(await time(1_000));
  const singles: number[] = [];
  for (let i = 0; i < 200_000; i++) singles.push(await time(1));
  return { batch: percentiles(batches), single: percentiles(singles) };
}

/** A Prometheus histogram's cumulative bucket counts, by upper bound in seconds. */
async function histogram(server: Server, name: string): Promise<Map<number, number>> {
  const res = await fetch(`${server.url}/metrics`, {
    headers: { authorization: `Bearer ${server.metricsToken}` },
  });
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  const buckets = new Map<number, number>();
  for (const [, le, count] of (await res.text()).matchAll(
    new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, "gm"),
  ))
    buckets.set(le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), Number(count));
  return buckets;
}

/**
 * p50/p99 (ms) of what a histogram observed between two scrapes, interpolated within the bucket
 * (as Prometheus's histogram_quantile does): exact to the bucket's bounds, not finer.
 */
function histogramPercentiles(before: Map<number, number>, after: Map<number, number>) {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = counts.at(-1) ?? 0;
  const at = (q: number) => {
    const rank = q * total;
    const i = counts.findIndex((c) => c >= rank);
    const upper = bounds[i] ?? 0;
    if (!Number.isFinite(upper)) return bounds.at(-2) ?? 0;
    const lower = i > 0 ? (bounds[i - 1] ?? 0) : 0;
    const below = i > 0 ? (counts[i - 1] ?? 0) : 0;
    const inside = (counts[i] ?? 0) - below;
    return (lower + (upper - lower) * (inside > 0 ? (rank - below) / inside : 1)) * 1000;
  };
  return { observed: total, p50: at(0.5), p99: at(0.99) };
}

/** One request at a time, `n` times: p50/p99 in ms. */
async function sequential(request: LoadRequest, n: number): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < n + 100; i++) {
    const t = performance.now();
    const res = await fetch(request.url, {
      method: request.method ?? "GET",
      headers: request.headers ?? {},
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${request.url}: ${res.status}`);
    if (i >= 100) times.push(performance.now() - t);
  }
  return percentiles(times);
}

async function startHost(mode: "replica" | "http", rollcallUrl: string, serviceKey: string): Promise<Server> {
  const port = await freePort();
  const child = fork("bench/client-host.ts", [String(port)], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, MODE: mode, ROLLCALL_URL: rollcallUrl, ROLLCALL_SERVICE_KEY: serviceKey },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`a bench host exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.disconnect();
      }),
  };
}

const startedAt = Date.now();
const postgres = await startPostgres({ sharedBuffers: "512MB" });
log(`PostgreSQL: ${postgres.version}`);
const mailbox = await startSmtpCapture();
const rollcall = await startRollcall(postgres.url, mailbox.url);
await migrateBetterAuth(postgres.url);
const betterAuth = await startBetterAuth(postgres.url);
const ceiling = await startCeiling();
const servers: Server[] = [rollcall, betterAuth, ceiling];
const results: Record<string, unknown> = {};
try {
  log(`seeding ${USERS.toLocaleString("en")} users into both systems`);
  await seedRollcall(postgres.url, 0, USERS);
  await seedBetterAuth(postgres.url, 0, USERS);
  const rcLogin = await loginRollcall(rollcall.url, postgres.url);
  const baLogin = await loginBetterAuth(betterAuth.url, postgres.url);
  const serviceKey = execFileSync(
    process.execPath,
    ["dist/main.js", "service-key", "create", "--name", "bench"],
    {
      env: { ...process.env, DATABASE_URL: postgres.url },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    },
  ).trim();
  const ws = rcLogin.bigWorkspaceId;
  const authorize: LoadRequest = {
    url: `${rollcall.url}/api/v1/workspaces/${ws}/authorize`,
    method: "POST",
    headers: { authorization: `Bearer ${rcLogin.token}`, "content-type": "application/json" },
    body: JSON.stringify({ permission: "flows.write" }),
  };
  const hasPermission = betterAuthRequests(betterAuth.url, baLogin).permission;

  log("C1: one check");
  const rc = new Rollcall({ url: rollcall.url, serviceKey, name: "bench" });
  await rc.ready();
  const input = { userId: rcLogin.userId, workspaceId: ws, permission: "flows.write" };
  if (!rc.can(input).allowed) throw new Error(`can() answered ${JSON.stringify(rc.can(input))}`);
  if ((await rc.verifySession(rcLogin.token))?.user.id !== rcLogin.userId) throw new Error("verifySession");
  results.C1 = {
    canMicroseconds: await micro(() => rc.can(input), false),
    verifySessionMicroseconds: await micro(() => rc.verifySession(rcLogin.token), true),
    httpAuthorizeMs: await sequential(authorize, quick ? 300 : 2_000),
    betterAuthHasPermissionMs: await sequential(hasPermission as LoadRequest, quick ? 300 : 2_000),
  };
  log(JSON.stringify(results.C1));

  log("C2: a guarded host route");
  const replicaHost = await startHost("replica", rollcall.url, serviceKey);
  const httpHost = await startHost("http", rollcall.url, serviceKey);
  servers.push(replicaHost, httpHost);
  const routeOf = (host: Server): LoadRequest => ({
    url: `${host.url}/w/${ws}/flows`,
    headers: { authorization: `Bearer ${rcLogin.token}` },
  });
  const systems: Record<string, LoadRequest> = {
    "host + @rollcall/client": routeOf(replicaHost),
    "host + HTTP authorize": routeOf(httpHost),
    "better-auth has-permission": hasPermission as LoadRequest,
    "bare fastify": { url: `${ceiling.url}/ceiling` },
  };
  const c2: Record<string, Record<string, { rps: number; p50: number; p99: number }>> = {};
  for (const connections of quick ? [10] : [10, 50]) {
    for (const request of Object.values(systems)) await measure(request, connections, 1);
    const runs = new Map<string, { rps: number; p50: number; p99: number }[]>();
    for (let r = 0; r < RUNS; r++) {
      for (const [name, request] of Object.entries(systems)) {
        const result = await measure(request, connections, SECONDS);
        if (result.errors || result.non2xx)
          throw new Error(`C2 ${name}: ${result.errors} errors, ${result.non2xx} non-2xx`);
        runs.set(name, [
          ...(runs.get(name) ?? []),
          { rps: result.requestsPerSecond, p50: result.p50Ms, p99: result.p99Ms },
        ]);
      }
    }
    c2[`c=${connections}`] = Object.fromEntries(
      [...runs].map(([name, rs]) => [
        name,
        {
          rps: median(rs.map((x) => x.rps)),
          p50: median(rs.map((x) => x.p50)),
          p99: median(rs.map((x) => x.p99)),
        },
      ]),
    );
    log(JSON.stringify(c2[`c=${connections}`]));
  }
  results.C2 = c2;
  await httpHost.stop();

  log("C3: removals with 3 connected clients, then with none");
  const others = [
    await startHost("replica", rollcall.url, serviceKey),
    await startHost("replica", rollcall.url, serviceKey),
  ];
  const n = quick ? 20 : 200;
  // Members of the big organisation (bench/dataset.ts: every user is in it), removed one by one.
  let next = 1;
  const removeTimes = async (count: number) => {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await api(`${rollcall.url}/api/v1/orgs/${rcLogin.bigOrgId}/members/${rollcallUserId(next++)}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${rcLogin.token}` },
      });
      times.push(performance.now() - t);
    }
    return percentiles(times);
  };
  await rc.close();
  const FENCE_WAIT = "rollcall_replica_fence_wait_seconds";
  const waitsBefore = await histogram(rollcall, FENCE_WAIT);
  const withClients = await removeTimes(n);
  const addedOnServer = histogramPercentiles(waitsBefore, await histogram(rollcall, FENCE_WAIT));
  await replicaHost.stop();
  for (const h of others) await h.stop();
  const withNone = await removeTimes(n);
  results.C3 = {
    removals: n,
    withThreeClientsMs: withClients,
    withNoClientMs: withNone,
    protocolOnServerMs: addedOnServer,
  };
  log(JSON.stringify(results.C3));

  log(`C4: the snapshot at ${(SNAPSHOT_USERS * 2).toLocaleString("en")} memberships`);
  await seedRollcall(postgres.url, USERS, SNAPSHOT_USERS);
  const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", "bench/client-snapshot.ts"], {
    env: { ...process.env, ROLLCALL_URL: rollcall.url, ROLLCALL_SERVICE_KEY: serviceKey },
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  const snap = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
    ms: number;
    heapBytes: number;
    memberships: number;
  };
  results.C4 = { ...snap, bytesPerMembership: snap.heapBytes / snap.memberships };
  log(JSON.stringify(results.C4));
} finally {
  for (const s of servers.reverse()) await s.stop().catch(() => undefined);
  await mailbox.close();
  postgres.destroy();
}

const report = {
  at: new Date().toISOString(),
  command: `npm run bench:client${quick ? " -- --quick" : ""}`,
  durationSeconds: Math.round((Date.now() - startedAt) / 1000),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", node: process.version },
  postgres: postgres.version,
  ...results,
};
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/${report.at.replaceAll(":", "-")}-client.json`;
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
console.log(`written: ${file}`);
