// `npm run bench [-- --quick]`: starts a PostgreSQL server of its own, Rollcall's production build
// on it and the bare-Fastify ceiling, seeds through the API, and measures each workload with
// autocannon: a warm-up, then measured runs alternating between the systems, medians reported.
// Prints a table and writes bench/results/<time>.json.
//
// Workloads so far (issue 6 lists the rest): W0 the ceiling, W1 session check (GET /api/v1/me),
// W2 permission check (POST /api/v1/workspaces/{ws}/authorize). The Better Auth side is not
// built yet.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { type LoadRequest, type LoadResult, measure, median } from "./load.js";
import { startPostgres } from "./postgres.js";
import { startCeiling, startRollcall } from "./processes.js";

const quick = process.argv.includes("--quick");
const RUNS = quick ? 3 : 5;
const SECONDS = quick ? 3 : 10;
const WARMUP_SECONDS = quick ? 1 : 5;
const CONNECTIONS = quick ? [10] : [10, 50];

interface Workload {
  id: string;
  title: string;
  /** One request shape per system measured. */
  systems: Record<string, LoadRequest>;
}

// biome-ignore lint/suspicious/noExplicitAny: the seeding reads a few known fields of the API's answers
async function json(url: string, init: RequestInit & { body?: string }): Promise<any> {
  const res = await fetch(url, { ...init, headers: { "content-type": "application/json", ...init.headers } });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

const log = (line: string) => process.stderr.write(`${line}\n`);

const pg = await startPostgres();
log(`PostgreSQL: ${pg.version} at ${pg.url}`);
const rollcall = await startRollcall(pg.url);
const ceiling = await startCeiling();
try {
  log("seeding through the API…");
  const signup = await json(`${rollcall.url}/api/v1/auth/signup`, {
    method: "POST",
    body: JSON.stringify({
      email: "bench@example.org",
      password: "a long bench passphrase",
      name: "Bench Owner",
      organizationName: "Bench",
    }),
  });
  const token: string = signup.session.token;
  const auth = { authorization: `Bearer ${token}` };
  const me = await json(`${rollcall.url}/api/v1/me`, { headers: auth });
  const orgId: string = me.organizations[0].id;
  const ws = await json(`${rollcall.url}/api/v1/orgs/${orgId}/workspaces`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "Bench workspace" }),
  });

  const workloads: Workload[] = [
    {
      id: "W0",
      title: "ceiling: bare Fastify route",
      systems: { fastify: { url: `${ceiling.url}/ceiling` } },
    },
    {
      id: "W1",
      title: "session check",
      systems: { rollcall: { url: `${rollcall.url}/api/v1/me`, headers: auth } },
    },
    {
      id: "W2",
      title: "permission check",
      systems: {
        rollcall: {
          url: `${rollcall.url}/api/v1/workspaces/${ws.workspace.id}/authorize`,
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({ permission: "flows.write" }),
        },
      },
    },
  ];

  const rows: {
    workload: string;
    system: string;
    connections: number;
    runs: LoadResult[];
    median: LoadResult;
  }[] = [];
  for (const w of workloads) {
    for (const connections of CONNECTIONS) {
      const systems = Object.entries(w.systems);
      for (const [, request] of systems) await measure(request, connections, WARMUP_SECONDS);
      const runs = new Map<string, LoadResult[]>(systems.map(([name]) => [name, []]));
      // A B A B: each system's runs are spread over the same stretch of time.
      for (let r = 0; r < RUNS; r++) {
        for (const [name, request] of systems) {
          const result = await measure(request, connections, SECONDS);
          if (result.errors > 0 || result.non2xx > 0) {
            throw new Error(`${w.id} ${name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
          }
          runs.get(name)?.push(result);
          log(
            `${w.id} ${name} c=${connections} run ${r + 1}/${RUNS}: ${Math.round(result.requestsPerSecond)} req/s`,
          );
        }
      }
      for (const [name, results] of runs) {
        rows.push({
          workload: w.id,
          system: name,
          connections,
          runs: results,
          median: {
            requestsPerSecond: median(results.map((x) => x.requestsPerSecond)),
            p50Ms: median(results.map((x) => x.p50Ms)),
            p99Ms: median(results.map((x) => x.p99Ms)),
            errors: 0,
            non2xx: 0,
          },
        });
      }
    }
  }

  const titles = new Map(workloads.map((w) => [w.id, w.title]));
  console.log(
    `\n${"workload".padEnd(32)} ${"system".padEnd(10)} ${"conn".padStart(4)} ${"req/s".padStart(9)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)}`,
  );
  for (const r of rows) {
    console.log(
      `${`${r.workload} ${titles.get(r.workload)}`.padEnd(32)} ${r.system.padEnd(10)} ${String(r.connections).padStart(4)} ${Math.round(r.median.requestsPerSecond).toString().padStart(9)} ${r.median.p50Ms.toFixed(1).padStart(7)} ${r.median.p99Ms.toFixed(1).padStart(7)}`,
    );
  }
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/${new Date().toISOString().replaceAll(":", "-")}${quick ? "-quick" : ""}.json`;
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        quick,
        machine: {
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model,
          memoryGiB: Math.round(os.totalmem() / 2 ** 30),
          node: process.version,
        },
        postgres: pg.version,
        settings: { runs: RUNS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS },
        rows,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwritten: ${file}`);
} finally {
  await rollcall.stop();
  await ceiling.stop();
  pg.stop();
}
