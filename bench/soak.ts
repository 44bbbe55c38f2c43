// `npm run soak [-- --seconds N]`: a bounded soak on loopback. Rollcall's production build on a
// PostgreSQL server of its own (durable, as in production), 1,000 seeded members, and mixed traffic
// from autocannon for N seconds (default 300) in windows: reads (the session, a permission check,
// the member page, member search, the invitation, session and audit lists) and writes (link and
// e-mail invitations, each e-mail delivered over SMTP to a listener here, and each cancelled
// again; a profile change; a log-in). After each window the server's resident memory (from /proc) and V8 heap (from
// /metrics) are read.
//
// It fails (exit 1) when any request errs, times out or answers other than 2xx, when resident
// memory grows past MEMORY_BOUND_MB from the first third of the windows to the last (after a
// warm-up window that is not counted), or when mail is still queued 30 s after the traffic.
// Prints one line per window and a Markdown summary for BENCHMARKS.md.
import { readFileSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { startPostgres } from "../test/helpers/postgres-server.js";
import { startSmtpCapture } from "../test/helpers/smtp.js";
import { startRollcall } from "./processes.js";
import { api, loginRollcall, seedRollcall } from "./rollcall.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "300" },
    connections: { type: "string", default: "10" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    "Usage: npm run soak [-- --seconds N] [-- --connections C]\n\n" +
      "Mixed traffic against Rollcall's production build on its own PostgreSQL for N seconds (default 300)\n" +
      "with C connections (default 10); fails on any error or non-2xx answer, or on memory growth over the bound.\n",
  );
  process.exit(0);
}
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
if (!(SECONDS >= 10) || !(CONNECTIONS >= 1)) {
  process.stderr.write("--seconds must be at least 10 and --connections at least 1\n");
  process.exit(2);
}
/** Ten windows, none shorter than 5 s. */
const WINDOW_SECONDS = Math.max(5, Math.floor(SECONDS / 10));
const WINDOWS = Math.max(2, Math.round(SECONDS / WINDOW_SECONDS));
/**
 * Resident memory may grow this much from the first third of the windows to the last. Node keeps freed
 * heap pages for a while and V8 grows its young generation under load, so a few tens of MB of
 * drift are normal; a leak of even 1 KB per request passes this within a minute at these rates.
 */
const MEMORY_BOUND_MB = 64;
const MEMBERS = 1_000;

const log = (line: string) => process.stdout.write(`${line}\n`);

interface Window {
  index: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  rssMb: number;
  heapMb: number;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function heapMb(url: string, token: string | undefined): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  const text = await res.text();
  const bytes = Number(/^rollcall_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? Number.NaN);
  return bytes / 1024 / 1024;
}

const started = Date.now();
const postgres = await startPostgres({ sharedBuffers: "256MB" });
const mailbox = await startSmtpCapture();
const rollcall = await startRollcall(postgres.url, mailbox.url);
if (!rollcall.pid) throw new Error("the server has no process id");
const windows: Window[] = [];
let failed = false;
try {
  log(`PostgreSQL: ${postgres.version}; seeding ${MEMBERS} members`);
  await seedRollcall(postgres.url, 0, MEMBERS);
  const login = await loginRollcall(rollcall.url, postgres.url);
  const auth = { authorization: `Bearer ${login.token}` };
  const jsonBody = { "content-type": "application/json" };
  const org = `/api/v1/orgs/${login.bigOrgId}`;
  const json = (body: unknown) => JSON.stringify(body);
  let sequence = 0;
  // Each connection cancels the invitations it made: an organisation holds at most 1,000 pending.
  type Made = { link?: string; email?: string };
  const remember = (kind: keyof Made) => (status: number, body: string, context: object) => {
    if (status === 201) (context as Made)[kind] = JSON.parse(body).invitation.id;
  };
  const cancel = (kind: keyof Made) => (request: autocannon.Request, context: object) => ({
    ...request,
    path: `/api/v1/invitations/${(context as Made)[kind]}`,
  });
  const requests: autocannon.Request[] = [
    { method: "GET", path: "/api/v1/me" },
    {
      method: "POST",
      path: `/api/v1/workspaces/${login.bigWorkspaceId}/authorize`,
      headers: jsonBody,
      body: json({ permission: "flows.write" }),
    },
    { method: "GET", path: `${org}/members?limit=50` },
    { method: "GET", path: `${org}/members?limit=20&q=hopper%201` },
    {
      method: "POST",
      path: `${org}/invitations`,
      headers: jsonBody,
      body: json({ delivery: "link", role: "member" }),
      onResponse: remember("link"),
    },
    {
      method: "POST",
      path: `${org}/invitations`,
      headers: jsonBody,
      // A new address each time: one pending e-mail invitation per address (rule 5).
      setupRequest: (request) => {
        sequence += 1;
        return {
          ...request,
          body: json({ delivery: "email", email: `soak${sequence}@soak.example`, role: "member" }),
        };
      },
      onResponse: remember("email"),
    },
    { method: "GET", path: `${org}/invitations?limit=20` },
    { method: "GET", path: "/api/v1/me/sessions?limit=20" },
    { method: "GET", path: `${org}/audit?limit=20` },
    {
      method: "PATCH",
      path: "/api/v1/me",
      headers: jsonBody,
      setupRequest: (request) => ({ ...request, body: json({ name: `Bench Owner ${sequence % 100}` }) }),
    },
    { method: "DELETE", path: "/api/v1/invitations/", setupRequest: cancel("link") },
    { method: "DELETE", path: "/api/v1/invitations/", setupRequest: cancel("email") },
    {
      method: "POST",
      path: "/api/v1/auth/login",
      headers: jsonBody,
      body: json({ email: "bench@example.org", password: "a long bench passphrase" }),
    },
  ];
  // The log-ins above pile up sessions: end them now and then, as people log out.
  const sessionsEnded = async () =>
    api(`${rollcall.url}/api/v1/me/sessions?except=current`, { method: "DELETE", headers: auth });

  log(
    `soak: ${WINDOWS} windows of ${WINDOW_SECONDS} s, ${CONNECTIONS} connections, ${requests.length} request shapes`,
  );
  const load = (seconds: number) =>
    autocannon({
      url: rollcall.url,
      headers: auth,
      requests,
      connections: CONNECTIONS,
      duration: seconds,
      timeout: 10,
    });
  // Warm-up (not a window): V8 grows its heap to what this load needs, the pools fill.
  const warm = await load(WINDOW_SECONDS);
  await sessionsEnded();
  const warmFailures = warm.errors + warm.timeouts + warm.non2xx;
  log(
    `warm-up: ${warm.requests.total} requests, ${warmFailures} failed, RSS ${rssMb(rollcall.pid).toFixed(1)} MB`,
  );
  if (warmFailures > 0) {
    log(`  statuses: ${JSON.stringify(warm.statusCodeStats)}`);
    failed = true;
  }
  log("window  requests   req/s   p50 ms  p99 ms  errors  non-2xx  RSS MB  heap MB");
  for (let index = 1; index <= WINDOWS; index++) {
    const result = await load(WINDOW_SECONDS);
    await sessionsEnded();
    const w: Window = {
      index,
      requests: result.requests.total,
      requestsPerSecond: result.requests.average,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      rssMb: rssMb(rollcall.pid),
      heapMb: await heapMb(rollcall.url, rollcall.metricsToken),
    };
    windows.push(w);
    log(
      `${String(index).padStart(6)}  ${String(w.requests).padStart(8)}  ${w.requestsPerSecond.toFixed(0).padStart(6)}  ` +
        `${String(w.p50Ms).padStart(7)}  ${String(w.p99Ms).padStart(6)}  ${String(w.errors).padStart(6)}  ` +
        `${String(w.non2xx).padStart(7)}  ${w.rssMb.toFixed(1).padStart(6)}  ${w.heapMb.toFixed(1).padStart(7)}`,
    );
    if (w.errors + w.non2xx > 0) {
      log(`  statuses: ${JSON.stringify(result.statusCodeStats)}`);
      failed = true;
    }
  }

  // Every e-mail invitation's mail arrives: the worker kept up, nothing was lost.
  const pool = (await import("pg")).default.Pool;
  const db = new pool({ connectionString: postgres.url, max: 1 });
  let pending = Number.NaN;
  const deadline = Date.now() + 30_000;
  try {
    do {
      pending = Number(
        (await db.query("SELECT count(*)::int AS n FROM mail_outbox WHERE status = 'queued'")).rows[0].n,
      );
      if (pending > 0) await new Promise((r) => setTimeout(r, 500));
    } while (pending > 0 && Date.now() < deadline);
  } finally {
    await db.end();
  }
  // Growth: the mean of the last third of the windows against the mean of the first third, so
  // that one window's garbage-collection sawtooth is neither a leak nor hides one.
  const third = Math.max(1, Math.floor(windows.length / 3));
  const meanRss = (ws: Window[]) => ws.reduce((sum, w) => sum + w.rssMb, 0) / ws.length;
  const early = meanRss(windows.slice(0, third));
  const late = meanRss(windows.slice(-third));
  const all = windows.reduce((sum, w) => sum + w.requests, 0);
  const worstP99 = Math.max(...windows.map((w) => w.p99Ms));
  const growth = late - early;
  const cpus = os.cpus();
  log("\n## Soak\n");
  log(
    `\`npm run soak -- --seconds ${SECONDS}\` on ${cpus.length} × ${cpus[0]?.model ?? "?"}, ${postgres.version}, Node ${process.version}.\n`,
  );
  log("| measure | value |");
  log("|---|---|");
  log(`| duration | ${WINDOWS} × ${WINDOW_SECONDS} s at ${CONNECTIONS} connections |`);
  log(`| requests | ${all.toLocaleString("en")} (${(all / (WINDOWS * WINDOW_SECONDS)).toFixed(0)} req/s) |`);
  log(`| errors, timeouts, non-2xx | ${windows.reduce((s, w) => s + w.errors + w.non2xx, 0)} |`);
  log(`| p99 per window | ${windows.map((w) => w.p99Ms).join(", ")} ms (worst ${worstP99} ms) |`);
  log(`| p50 per window | ${windows.map((w) => w.p50Ms).join(", ")} ms |`);
  log(
    `| RSS, first third → last third of the windows | ${early.toFixed(0)} → ${late.toFixed(0)} MB (bound: +${MEMORY_BOUND_MB} MB) |`,
  );
  log(`| RSS per window | ${windows.map((w) => w.rssMb.toFixed(0)).join(", ")} MB |`);
  log(`| V8 heap used per window | ${windows.map((w) => w.heapMb.toFixed(0)).join(", ")} MB |`);
  log(
    `| mail delivered | ${mailbox.messages.length} (the rest withdrawn by the cancels before SMTP took them); still queued 30 s after: ${pending} |`,
  );
  if (growth > MEMORY_BOUND_MB) {
    log(`\nFAILED: resident memory grew ${growth.toFixed(1)} MB (bound ${MEMORY_BOUND_MB} MB)`);
    failed = true;
  }
  if (pending > 0) {
    log(`\nFAILED: ${pending} mail(s) still not sent 30 s after the traffic stopped`);
    failed = true;
  }
  if (failed) log("\nFAILED: see above");
  else log(`\nsoak passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await rollcall.stop();
  await mailbox.close();
  postgres.destroy();
}
process.exit(failed ? 1 : 0);
