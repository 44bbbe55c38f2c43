// `npm run bench [-- --quick]`: Rollcall side by side with Better Auth (organization plugin) on
// one PostgreSQL server of the benchmark's own, with the same data and the same load generator.
//
// Stages, each adding people to what the last one seeded (dataset.ts):
//   1k   users — W1–W3 on both: the base of the flatness ratio
//   10k  users — W0 ceiling, W1–W3 on both at every connection count, W5 invitation pairs
//   1M   users (100k in --quick) — W1–W3 on both again (flatness), W4 member search (Rollcall)
//   events — after W5, at 10k users: E1–E5, events and webhooks (events.ts), on PostgreSQL, then E1
//            and E2 on a Rollcall of its own on PGlite
// Each measurement: a warm-up per system, then RUNS runs alternating A B A B, medians reported.
// `--events-only` seeds the first stage and measures E1–E5 alone.
// Prints tables (figures, then ratios against the targets) and writes
// bench/results/<time>.json.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startPostgres } from "../test/helpers/postgres-server.js";
import { startSmtpCapture } from "../test/helpers/smtp.js";
import {
  betterAuthInvitationPair,
  betterAuthRequests,
  loginBetterAuth,
  migrateBetterAuth,
  seedBetterAuth,
  signUpBetterAuthInvitee,
  startBetterAuth,
  verifyBetterAuthRequests,
} from "./better-auth/index.js";
import { EVENT_SETTINGS, type EventsReport, pgliteEvents, postgresEvents } from "./events.js";
import { type LoadRequest, type LoadResult, measure, median } from "./load.js";
import { startCeiling, startRollcall } from "./processes.js";
import { type Report, type Row, report, type SizeRow, writeResults } from "./report.js";
import {
  api,
  loginRollcall,
  rollcallInvitationPair,
  rollcallOrgId,
  rollcallRequests,
  seedRollcall,
  signUpRollcallInvitee,
} from "./rollcall.js";

const quick = process.argv.includes("--quick");
const eventsOnly = process.argv.includes("--events-only");
/** Webhook endpoints on the bench's receiver, 127.0.0.1 over http, must be allowed. */
const WEBHOOK_ENV = { WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_ALLOW_PRIVATE: "true" };
const SETTINGS = {
  runs: 3,
  seconds: quick ? 1 : 10,
  warmupSeconds: quick ? 1 : 3,
  connections: quick ? [10] : [10, 50],
  /** Connections for the 1k and large stages (flatness, W4). */
  stageConnections: 10,
  pairs: quick ? 8 : 100,
  stages: quick ? [1_000, 10_000, 100_000] : [1_000, 10_000, 1_000_000],
};

/** W4: substrings of names and e-mails, from one match to every member, and none. */
const SEARCH_TERMS = [
  "lovelace",
  "grace",
  "user4242",
  "9999",
  "hopper 1",
  "knuth 77",
  "user123456@",
  "@bench",
  "ritchie",
  "nobody-at-all",
];

const log = (line: string) => process.stderr.write(`${line}\n`);
const rows: Row[] = [];

/** Warm-up, then alternating runs of every system; one row per system with the medians. */
async function compare(
  stage: number,
  workload: string,
  systems: Record<string, LoadRequest>,
  connections: number,
): Promise<void> {
  const entries = Object.entries(systems);
  for (const [, request] of entries) await measure(request, connections, SETTINGS.warmupSeconds);
  const runs = new Map<string, LoadResult[]>(entries.map(([name]) => [name, []]));
  for (let r = 0; r < SETTINGS.runs; r++) {
    for (const [name, request] of entries) {
      const result = await measure(request, connections, SETTINGS.seconds);
      if (result.errors > 0 || result.non2xx > 0) {
        throw new Error(`${workload} ${name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
      }
      runs.get(name)?.push(result);
      log(
        `  ${workload} ${name.padEnd(11)} ${stage.toLocaleString("en")} users c=${connections} run ${r + 1}/${SETTINGS.runs}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99Ms} ms`,
      );
    }
  }
  for (const [system, results] of runs) {
    rows.push({
      stage,
      workload,
      system,
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

function version(pkg: string): string {
  return JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, "utf8")).version;
}

async function tableSizes(url: string): Promise<SizeRow[]> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const { rows: sizes } = await pool.query<{ system: string; bytes: string }>(`
      SELECT CASE WHEN c.relname IN ('user', 'session', 'account', 'verification', 'organization', 'member', 'invitation')
                  THEN 'better-auth' ELSE 'rollcall' END AS system,
             sum(pg_total_relation_size(c.oid))::text AS bytes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r'
      GROUP BY 1`);
    const { rows: db } = await pool.query<{ bytes: string }>(
      "SELECT pg_database_size(current_database())::text AS bytes",
    );
    return [
      ...sizes.map((s) => ({ system: s.system, bytes: Number(s.bytes) })),
      { system: "database", bytes: Number(db[0]?.bytes ?? 0) },
    ];
  } finally {
    await pool.end();
  }
}

const startedAt = Date.now();
const postgres = await startPostgres({ sharedBuffers: "512MB" });
log(`PostgreSQL: ${postgres.version} at ${postgres.url}`);
const mailbox = await startSmtpCapture();
const rollcall = await startRollcall(postgres.url, mailbox.url, WEBHOOK_ENV);
await migrateBetterAuth(postgres.url);
const betterAuth = await startBetterAuth(postgres.url);
const ceiling = await startCeiling();
try {
  const seeding: Report["seeding"] = [];
  let seeded = 0;
  const seedTo = async (users: number) => {
    log(`\nseeding users ${seeded.toLocaleString("en")} … ${users.toLocaleString("en")} into both systems`);
    let t = performance.now();
    await seedRollcall(postgres.url, seeded, users);
    const rollcallMs = performance.now() - t;
    t = performance.now();
    await seedBetterAuth(postgres.url, seeded, users);
    const betterAuthMs = performance.now() - t;
    seeding.push({ users, from: seeded, rollcallMs, betterAuthMs, sizes: await tableSizes(postgres.url) });
    seeded = users;
  };

  const [small, middle, large] = SETTINGS.stages as [number, number, number];
  await seedTo(small);
  const rcLogin = await loginRollcall(rollcall.url, postgres.url);
  const baLogin = await loginBetterAuth(betterAuth.url, postgres.url);
  const rc = rollcallRequests(rollcall.url, rcLogin);
  const ba = betterAuthRequests(betterAuth.url, baLogin);
  const pairs = (stage: number) =>
    [
      ["W1", { rollcall: rc.session, "better-auth": ba.session }],
      ["W2", { rollcall: rc.permission, "better-auth": ba.permission }],
      ["W3", { rollcall: rc.members, "better-auth": ba.members }],
    ].map(([id, systems]) => ({ id: id as string, systems: systems as Record<string, LoadRequest>, stage }));

  const eventSettings = EVENT_SETTINGS(quick);
  /** E1–E5 on this PostgreSQL, then E1–E2 on a Rollcall of its own on PGlite. */
  const measureEvents = async (): Promise<EventsReport> => {
    let t = performance.now();
    const found = await postgresEvents({
      rollcall,
      startSibling: () => startRollcall(postgres.url, mailbox.url, WEBHOOK_ENV),
      databaseUrl: postgres.url,
      owner: rcLogin,
      orgIds: [1, 2, 3, 4, 5].map(rollcallOrgId),
      settings: eventSettings,
      signUp: async (n) => {
        const signup = await api(`${rollcall.url}/api/v1/auth/signup`, {
          method: "POST",
          body: {
            email: `reader${n}@bench.example`,
            password: "a long bench passphrase",
            name: `Reader ${n}`,
            organizationName: "Own",
          },
        });
        return { userId: signup.user.id, token: signup.session.token };
      },
    });
    const postgresSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "rollcall-bench-pglite-"));
    const embedded = await startRollcall(null, mailbox.url, { ...WEBHOOK_ENV, DATA_DIR: dataDir });
    try {
      const onPglite = await pgliteEvents(embedded, eventSettings);
      return {
        settings: eventSettings,
        rows: [...found.rows, ...onPglite.rows],
        verified: found.verified + onPglite.verified,
        seconds: { postgres: postgresSeconds, pglite: (performance.now() - t) / 1000 },
      };
    } finally {
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  let events: EventsReport | undefined;
  const searchTerms: Report["searchTerms"] = [];
  const pairMs: Record<string, number[]> = { rollcall: [], "better-auth": [] };
  if (eventsOnly) {
    events = await measureEvents();
  } else {
    log(`\nstage ${small.toLocaleString("en")} users`);
    await verifyBetterAuthRequests(betterAuth.url, baLogin, small);
    for (const w of pairs(small)) await compare(small, w.id, w.systems, SETTINGS.stageConnections);

    await seedTo(middle);
    log(`\nstage ${middle.toLocaleString("en")} users`);
    await verifyBetterAuthRequests(betterAuth.url, baLogin, middle);
    for (const connections of SETTINGS.connections) {
      await compare(middle, "W0", { fastify: { url: `${ceiling.url}/ceiling` } }, connections);
      for (const w of pairs(middle)) await compare(middle, w.id, w.systems, connections);
    }

    log(`\nW5: ${SETTINGS.pairs} invitation pairs each (invitees sign up first, untimed)`);
    const rcInvitees = [];
    const baInvitees = [];
    for (let n = 0; n < SETTINGS.pairs; n++) {
      rcInvitees.push(await signUpRollcallInvitee(rollcall.url, n));
      baInvitees.push(await signUpBetterAuthInvitee(betterAuth.url, n));
    }
    const batch = Math.ceil(SETTINGS.pairs / 4);
    for (let from = 0; from < SETTINGS.pairs; from += batch) {
      for (let n = from; n < Math.min(from + batch, SETTINGS.pairs); n++) {
        const invitee = rcInvitees[n];
        if (invitee)
          pairMs.rollcall?.push(await rollcallInvitationPair(rollcall.url, rcLogin, invitee, mailbox));
      }
      for (let n = from; n < Math.min(from + batch, SETTINGS.pairs); n++) {
        const invitee = baInvitees[n];
        if (!invitee) continue;
        const t = performance.now();
        await betterAuthInvitationPair(betterAuth.url, baLogin, invitee);
        pairMs["better-auth"]?.push(performance.now() - t);
      }
      log(`  W5 pairs ${Math.min(from + batch, SETTINGS.pairs)}/${SETTINGS.pairs} on each`);
    }

    events = await measureEvents();

    await seedTo(large);
    log(`\nstage ${large.toLocaleString("en")} users`);
    await verifyBetterAuthRequests(betterAuth.url, baLogin, large);
    for (const w of pairs(large)) await compare(large, w.id, w.systems, SETTINGS.stageConnections);
    await compare(
      large,
      "W4",
      {
        rollcall: {
          ...rc.members,
          paths: SEARCH_TERMS.map(
            (q) => `/api/v1/orgs/${rcLogin.bigOrgId}/members?limit=50&q=${encodeURIComponent(q)}`,
          ),
        },
      },
      SETTINGS.stageConnections,
    );

    // Each W4 term alone, one request at a time: which terms the p99 comes from.
    for (const q of SEARCH_TERMS) {
      const url = `${rollcall.url}/api/v1/orgs/${rcLogin.bigOrgId}/members?limit=50&q=${encodeURIComponent(q)}`;
      const times: number[] = [];
      let matches = 0;
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        const res = await fetch(url, { headers: rc.members.headers });
        const body = (await res.json()) as { items: unknown[] };
        times.push(performance.now() - t);
        matches = body.items.length;
      }
      searchTerms.push({ q, matches, medianMs: median(times), maxMs: Math.max(...times) });
    }
  }

  const results: Report = {
    at: new Date().toISOString(),
    quick,
    command: `npm run bench${quick || eventsOnly ? " --" : ""}${quick ? " --quick" : ""}${eventsOnly ? " --events-only" : ""}`,
    durationSeconds: Math.round((Date.now() - startedAt) / 1000),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    versions: {
      postgres: postgres.version,
      rollcall: JSON.parse(readFileSync("package.json", "utf8")).version,
      "better-auth": version("better-auth"),
      fastify: version("fastify"),
      autocannon: version("autocannon"),
    },
    settings: { ...SETTINGS, searchTerms: SEARCH_TERMS },
    seeding,
    rows,
    searchTerms,
    ...(events ? { events } : {}),
    invitationPairs: Object.fromEntries(
      Object.entries(pairMs)
        .filter(([, ms]) => ms.length > 0)
        .map(([system, ms]) => [
          system,
          { pairs: ms.length, medianMs: median(ms), meanMs: ms.reduce((a, b) => a + b, 0) / ms.length },
        ]),
    ),
  };
  console.log(report(results));
  console.log(`\nwritten: ${writeResults(results)}`);
} finally {
  await mailbox.close();
  await Promise.all([rollcall.stop(), betterAuth.stop(), ceiling.stop()]);
  postgres.destroy();
}
