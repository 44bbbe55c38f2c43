// Events and webhooks (issue 15): how soon an event reaches a webhook receiver and the streams,
// how many deliveries one server posts a second, and what an event adds to the change that writes
// it. Run against a Rollcall server of the benchmark's (its own event poll, EVENTS_POLL_MS, left at
// its default of 1 s) with a receiver on 127.0.0.1 (receiver.ts) that answers 204 at once.
//
//   E1 event → first delivery attempt at the receiver, one write at a time (the writer waits for
//      the delivery before the next write): written through the API (the server wakes its own
//      worker at the commit), and on PostgreSQL also by another process (recordAudit in a
//      transaction of the bench's: the worker hears PostgreSQL's NOTIFY)
//   E2 deliveries a second to a fast receiver: on PostgreSQL, N events written by recordAudit in
//      ONE transaction for an organisation with E endpoints, timed from its commit to the last
//      delivery; on PGlite (no second writer can reach its database), N API writes by 4 clients,
//      timed from the first write to the last delivery
//   E3 a membership change (PATCH a member's role, member ⇄ admin, one at a time) in an
//      organisation with 0 and with 3 webhook endpoints, in alternating blocks: back to back (the
//      worker's posts of the last change compete with the next), and spaced (each change after
//      the last one's deliveries have arrived, and 30 ms more, in both organisations alike)
//   E4 100 SSE readers (25 in --quick) of the organisation's stream on one server: a write → all have it
//   E5 a write on server A → a stream held on server B (PostgreSQL LISTEN/NOTIFY)
// Latencies are measured from the write's answer (the commit is before it) and from the moment
// the request was sent (so the truth for "from the commit" lies between the two).
import { EventSource } from "eventsource";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { recordAudit } from "../src/audit/operations.js";
import type { DB } from "../src/db/schema.js";
import { median } from "./load.js";
import type { Server } from "./processes.js";
import { type BenchReceiver, startReceiver } from "./receiver.js";
import { api } from "./rollcall.js";

export interface EventSettings {
  latencyWrites: number;
  throughputEvents: number;
  throughputEndpoints: number;
  /** E2 on PGlite: API writes (each a delivery to every endpoint). */
  pgliteWrites: number;
  costChanges: number;
  costBlocks: number;
  streamReaders: number;
  streamWrites: number;
  crossWrites: number;
}

/** `--quick` (CI) checks that every measure runs; its sizes are too small for its figures to mean much. */
export const EVENT_SETTINGS = (quick: boolean): EventSettings => ({
  latencyWrites: quick ? 10 : 50,
  throughputEvents: quick ? 60 : 1000,
  throughputEndpoints: quick ? 4 : 8,
  pgliteWrites: quick ? 20 : 100,
  costChanges: quick ? 20 : 200,
  costBlocks: quick ? 2 : 4,
  // Five streams per person (the per-caller limit): each reader's person signs up (argon2) first.
  streamReaders: quick ? 25 : 100,
  streamWrites: quick ? 5 : 20,
  crossWrites: quick ? 10 : 20,
});

export interface Latency {
  samples: number;
  /** From the write's answer to the arrival. */
  p50Ms: number;
  p99Ms: number;
  /** From the write's request being sent to the arrival. */
  sentP50Ms: number;
  sentP99Ms: number;
}

export interface EventRow {
  id: string;
  database: "postgres" | "pglite";
  what: string;
  latency?: Latency;
  /** E2: deliveries, seconds, per second. */
  throughput?: { deliveries: number; endpoints: number; seconds: number; perSecond: number; from: string };
  /** E3: the same change's median and p99 without and with endpoints. */
  cost?: {
    changes: number;
    without: { p50Ms: number; p99Ms: number };
    with: { p50Ms: number; p99Ms: number };
  };
}

export interface EventsReport {
  settings: EventSettings;
  rows: EventRow[];
  /** Deliveries checked with standardwebhooks (every 10th; a failed check stops the run). */
  verified: number;
  /** How long E1–E5 took, set-up included, on each database. */
  seconds: Record<string, number>;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function latency(fromAnswer: number[], fromSent: number[]): Latency {
  return {
    samples: fromAnswer.length,
    p50Ms: median(fromAnswer),
    p99Ms: percentile(fromAnswer, 99),
    sentP50Ms: median(fromSent),
    sentP99Ms: percentile(fromSent, 99),
  };
}

interface Caller {
  base: string;
  token: string;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** One event: the organisation renamed (organization.updated), timed. */
async function rename(c: Caller, orgId: string, name: string): Promise<{ sent: number; answered: number }> {
  const sent = performance.now();
  await api(`${c.base}/api/v1/orgs/${orgId}`, { method: "PATCH", headers: bearer(c.token), body: { name } });
  return { sent, answered: performance.now() };
}

/** Registers `count` endpoints on the receiver for the organisation; answers their ids. */
async function addEndpoints(
  c: Caller,
  receiver: BenchReceiver,
  orgId: string,
  prefix: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}-${i}`;
    const made = await api(`${c.base}/api/v1/orgs/${orgId}/webhooks`, {
      method: "POST",
      headers: bearer(c.token),
      body: { url: `${receiver.url}/hook/${name}`, description: `bench ${name}` },
    });
    receiver.secret(name, made.secret);
    ids.push(made.webhook.id);
  }
  return ids;
}

let written = 0;
/** A unique organisation name for each write. */
const nextName = () => `Bench events ${++written}`;

/** E1 through the API: one rename at a time, each waited for at the receiver. */
async function deliveryLatencyApi(
  c: Caller,
  receiver: BenchReceiver,
  orgId: string,
  endpoint: string,
  writes: number,
): Promise<Latency> {
  const fromAnswer: number[] = [];
  const fromSent: number[] = [];
  for (let i = 0; i < writes; i++) {
    const from = receiver.arrivals.length;
    const w = await rename(c, orgId, nextName());
    const a = await receiver.waitFor((x) => x.endpoint === endpoint, 10_000, from);
    fromAnswer.push(a.at - w.answered);
    fromSent.push(a.at - w.sent);
    // Not in step with the poll: the next write lands anywhere in its second.
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
  }
  return latency(fromAnswer, fromSent);
}

const benchActor = { id: null, name: "bench", ip: null };

/** `count` events of the organisation written in one transaction of the bench's own. */
async function writeEvents(db: Kysely<DB>, orgId: string, count: number): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < count; i++) {
      await recordAudit(tx, benchActor, {
        orgId,
        action: "workspace.deleted",
        targetType: "workspace",
        targetId: null,
        data: { name: `bench ${i}` },
      });
    }
  });
}

/** E1 from another process: each event committed by the bench, the worker woken by NOTIFY. */
async function deliveryLatencyNotify(
  db: Kysely<DB>,
  receiver: BenchReceiver,
  orgId: string,
  endpoint: string,
  writes: number,
): Promise<Latency> {
  const fromCommit: number[] = [];
  const fromStart: number[] = [];
  for (let i = 0; i < writes; i++) {
    const from = receiver.arrivals.length;
    const started = performance.now();
    await writeEvents(db, orgId, 1);
    const committed = performance.now();
    const a = await receiver.waitFor((x) => x.endpoint === endpoint, 10_000, from);
    fromCommit.push(a.at - committed);
    fromStart.push(a.at - started);
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
  }
  return latency(fromCommit, fromStart);
}

/** Opens `count` readers of the organisation's stream, `perCaller` per token. */
async function openReaders(
  base: string,
  orgId: string,
  tokens: string[],
  count: number,
  onEvent: (reader: number, data: string) => void,
): Promise<EventSource[]> {
  const readers: EventSource[] = [];
  const opened: Promise<void>[] = [];
  for (let n = 0; n < count; n++) {
    const token = tokens[n % tokens.length] ?? "";
    const source = new EventSource(`${base}/api/v1/orgs/${orgId}/events/stream`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers ?? {}), ...bearer(token) } }),
    });
    source.addEventListener("organization.updated", (e) => onEvent(n, e.data));
    opened.push(
      new Promise<void>((resolve, reject) => {
        source.onopen = () => resolve();
        source.onerror = () => reject(new Error(`stream ${n} did not open`));
      }),
    );
    readers.push(source);
  }
  await Promise.all(opened);
  return readers;
}

/**
 * Renames the organisation `writes` times, one at a time, on `writer`; each time, waits until
 * every reader has the new name. Answers the time until the LAST reader had it.
 */
async function streamLatency(
  writer: Caller,
  readerBase: string,
  orgId: string,
  tokens: string[],
  count: number,
  writes: number,
): Promise<Latency> {
  let name = "";
  let pending = new Set<number>();
  let lastAt = 0;
  let done: (() => void) | null = null;
  const readers = await openReaders(readerBase, orgId, tokens, count, (reader, data) => {
    if (!name || !data.includes(`"${name}"`) || !pending.has(reader)) return;
    pending.delete(reader);
    if (pending.size === 0) {
      lastAt = performance.now();
      done?.();
    }
  });
  try {
    const fromAnswer: number[] = [];
    const fromSent: number[] = [];
    for (let i = 0; i < writes; i++) {
      name = nextName();
      pending = new Set(readers.map((_, n) => n));
      let timer: NodeJS.Timeout | undefined;
      const all = new Promise<void>((resolve, reject) => {
        done = resolve;
        timer = setTimeout(
          () => reject(new Error(`${pending.size} of ${count} readers lacked "${name}" after 10 s`)),
          10_000,
        );
      });
      const w = await rename(writer, orgId, name);
      await all.finally(() => clearTimeout(timer));
      fromAnswer.push(lastAt - w.answered);
      fromSent.push(lastAt - w.sent);
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
    return latency(fromAnswer, fromSent);
  } finally {
    for (const r of readers) r.close();
  }
}

/**
 * E3: the same role change, in alternating blocks, in an organisation without and with endpoints.
 * `spaced`: each change waits until the last one's deliveries (if any) have arrived, then 30 ms,
 * so that what is timed is the request itself and not the worker's posts running beside it.
 */
async function membershipCost(
  c: Caller,
  receiver: BenchReceiver,
  plain: { orgId: string; userId: string },
  hooked: { orgId: string; userId: string; endpoints: number },
  changes: number,
  blocks: number,
  spaced: boolean,
  /** Each organisation's member's role now: every change must be one (the same role is no event). */
  roles: Map<string, string>,
): Promise<NonNullable<EventRow["cost"]>> {
  const times: Record<"without" | "with", number[]> = { without: [], with: [] };
  let expected = receiver.arrivals.length;
  const change = async (target: { orgId: string; userId: string }) => {
    if (spaced) {
      await receiver.waitForCount(expected, 10_000);
      await new Promise((r) => setTimeout(r, 30));
    }
    const role = roles.get(target.orgId) === "admin" ? "member" : "admin";
    roles.set(target.orgId, role);
    const t = performance.now();
    await api(`${c.base}/api/v1/orgs/${target.orgId}/members/${target.userId}`, {
      method: "PATCH",
      headers: bearer(c.token),
      body: { role },
    });
    const took = performance.now() - t;
    if (target === hooked) expected += hooked.endpoints;
    return took;
  };
  // Warm-up: both paths a few times, untimed.
  for (let i = 0; i < Math.min(10, changes / 4); i++) {
    await change(plain);
    await change(hooked);
  }
  const perBlock = Math.ceil(changes / blocks);
  for (let b = 0; b < blocks; b++) {
    for (const [arm, target] of [
      ["without", plain],
      ["with", hooked],
    ] as const) {
      for (let i = 0; i < perBlock; i++) times[arm].push(await change(target));
    }
  }
  await receiver.waitForCount(expected, 30_000);
  const summary = (xs: number[]) => ({ p50Ms: median(xs), p99Ms: percentile(xs, 99) });
  return { changes: times.with.length, without: summary(times.without), with: summary(times.with) };
}

/** A member of `orgId` who is neither the bench owner nor an owner. */
async function someMember(c: Caller, orgId: string): Promise<string> {
  const page = await api(`${c.base}/api/v1/orgs/${orgId}/members?limit=50&role=member`, {
    headers: bearer(c.token),
  });
  const id: string | undefined = page.items[0]?.userId;
  if (!id) throw new Error(`no member to change in ${orgId}: ${JSON.stringify(page.items[0])}`);
  return id;
}

export interface PostgresEventsInput {
  rollcall: Server;
  /** Starts another server on the same database (E5). */
  startSibling(): Promise<Server>;
  databaseUrl: string;
  owner: { token: string; userId: string };
  /** Organisations of the seeded data set that the bench owner may be made owner of (≥ 5). */
  orgIds: string[];
  settings: EventSettings;
  /** Signs up a person through the API; answers their id and token (E4's readers). */
  signUp(n: number): Promise<{ userId: string; token: string }>;
}

export interface EventsFound {
  rows: EventRow[];
  /** Deliveries checked with standardwebhooks (a failed check stops the run). */
  verified: number;
}

/** E1–E5 on PostgreSQL. */
export async function postgresEvents(input: PostgresEventsInput): Promise<EventsFound> {
  const { settings: s } = input;
  const [latencyOrg, throughputOrg, plainOrg, hookedOrg, streamOrg] = input.orgIds as [
    string,
    string,
    string,
    string,
    string,
  ];
  const pool = new pg.Pool({ connectionString: input.databaseUrl, max: 2 });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const receiver = await startReceiver();
  const c: Caller = { base: input.rollcall.url, token: input.owner.token };
  const rows: EventRow[] = [];
  try {
    for (const orgId of input.orgIds) {
      await pool.query(
        "INSERT INTO org_memberships (org_id, user_id, role) VALUES ($1, $2, 'owner') ON CONFLICT DO NOTHING",
        [orgId, input.owner.userId],
      );
    }

    log("\nE1 event → first delivery attempt (PostgreSQL)");
    await addEndpoints(c, receiver, latencyOrg, "latency", 1);
    const viaApi = await deliveryLatencyApi(c, receiver, latencyOrg, "latency-0", s.latencyWrites);
    rows.push({
      id: "E1",
      database: "postgres",
      what: "API write → delivery (woken by the commit)",
      latency: viaApi,
    });
    log(`  API write: p50 ${viaApi.p50Ms.toFixed(1)} ms, p99 ${viaApi.p99Ms.toFixed(1)} ms`);
    const viaNotify = await deliveryLatencyNotify(db, receiver, latencyOrg, "latency-0", s.latencyWrites);
    rows.push({
      id: "E1",
      database: "postgres",
      what: "another process's commit → delivery (NOTIFY)",
      latency: viaNotify,
    });
    log(`  other process: p50 ${viaNotify.p50Ms.toFixed(1)} ms, p99 ${viaNotify.p99Ms.toFixed(1)} ms`);

    log(`\nE2 ${s.throughputEvents} events × ${s.throughputEndpoints} endpoints in one transaction`);
    await addEndpoints(c, receiver, throughputOrg, "throughput", s.throughputEndpoints);
    const deliveries = s.throughputEvents * s.throughputEndpoints;
    const before = receiver.arrivals.length;
    await writeEvents(db, throughputOrg, s.throughputEvents);
    const committed = performance.now();
    await receiver.waitForCount(before + deliveries, 300_000);
    const last = receiver.arrivals.at(-1)?.at ?? committed;
    const seconds = (last - committed) / 1000;
    rows.push({
      id: "E2",
      database: "postgres",
      what: "deliveries a second, one server",
      throughput: {
        deliveries,
        endpoints: s.throughputEndpoints,
        seconds,
        perSecond: deliveries / seconds,
        from: "commit of all the events",
      },
    });
    log(`  ${deliveries} deliveries in ${seconds.toFixed(2)} s: ${Math.round(deliveries / seconds)}/s`);

    log("\nE3 a role change without and with 3 webhook endpoints");
    await addEndpoints(c, receiver, hookedOrg, "cost", 3);
    const plain = { orgId: plainOrg, userId: await someMember(c, plainOrg) };
    const hooked = { orgId: hookedOrg, userId: await someMember(c, hookedOrg), endpoints: 3 };
    const roles = new Map<string, string>();
    for (const spaced of [false, true]) {
      const cost = await membershipCost(
        c,
        receiver,
        plain,
        hooked,
        s.costChanges,
        s.costBlocks,
        spaced,
        roles,
      );
      const what = spaced ? "PATCH member role, spaced" : "PATCH member role, back to back";
      rows.push({ id: "E3", database: "postgres", what, cost });
      log(
        `  ${what}: p50 ${cost.without.p50Ms.toFixed(2)} → ${cost.with.p50Ms.toFixed(2)} ms, p99 ${cost.without.p99Ms.toFixed(1)} → ${cost.with.p99Ms.toFixed(1)} ms`,
      );
    }

    log(`\nE4 ${s.streamReaders} stream readers on one server (5 per person: the per-caller limit)`);
    const tokens: string[] = [];
    for (let n = 0; n < Math.ceil(s.streamReaders / 5); n++) {
      const person = await input.signUp(n);
      await pool.query("INSERT INTO org_memberships (org_id, user_id, role) VALUES ($1, $2, 'owner')", [
        streamOrg,
        person.userId,
      ]);
      tokens.push(person.token);
    }
    const fanOut = await streamLatency(c, c.base, streamOrg, tokens, s.streamReaders, s.streamWrites);
    rows.push({
      id: "E4",
      database: "postgres",
      what: `write → all ${s.streamReaders} streams have it`,
      latency: fanOut,
    });
    log(`  p50 ${fanOut.p50Ms.toFixed(1)} ms, p99 ${fanOut.p99Ms.toFixed(1)} ms`);

    log("\nE5 a write on server A → a stream held on server B");
    const sibling = await input.startSibling();
    try {
      const cross = await streamLatency(c, sibling.url, streamOrg, tokens.slice(0, 1), 1, s.crossWrites);
      rows.push({
        id: "E5",
        database: "postgres",
        what: "write on A → stream on B (NOTIFY)",
        latency: cross,
      });
      log(`  p50 ${cross.p50Ms.toFixed(1)} ms, p99 ${cross.p99Ms.toFixed(1)} ms`);
    } finally {
      await sibling.stop();
    }
    return { rows, verified: checked(receiver) };
  } finally {
    await receiver.close();
    await db.destroy();
  }
}

/** How many deliveries were checked; throws when any failed the check. */
function checked(receiver: BenchReceiver): number {
  if (receiver.unverified > 0 || receiver.verified === 0) {
    throw new Error(
      `standardwebhooks: ${receiver.unverified} deliveries failed the check, ${receiver.verified} passed`,
    );
  }
  return receiver.verified;
}

/** E1 and E2 on PGlite: a server of its own, its owner signed up through the API. */
export async function pgliteEvents(rollcall: Server, settings: EventSettings): Promise<EventsFound> {
  const receiver = await startReceiver();
  try {
    const signup = await api(`${rollcall.url}/api/v1/auth/signup`, {
      method: "POST",
      body: {
        email: "bench-events@example.org",
        password: "a long bench passphrase",
        name: "Bench Owner",
        organizationName: "Bench events",
      },
    });
    const c: Caller = { base: rollcall.url, token: signup.session.token };
    const me = await api(`${rollcall.url}/api/v1/me`, { headers: bearer(c.token) });
    const orgId: string = me.organizations[0].id;
    const rows: EventRow[] = [];

    log("\nE1 event → first delivery attempt (PGlite)");
    await addEndpoints(c, receiver, orgId, "latency", 1);
    const viaApi = await deliveryLatencyApi(c, receiver, orgId, "latency-0", settings.latencyWrites);
    rows.push({
      id: "E1",
      database: "pglite",
      what: "API write → delivery (woken by the commit)",
      latency: viaApi,
    });
    log(`  API write: p50 ${viaApi.p50Ms.toFixed(1)} ms, p99 ${viaApi.p99Ms.toFixed(1)} ms`);

    const events = settings.pgliteWrites;
    const endpoints = settings.throughputEndpoints - 1;
    log(`\nE2 ${events} API writes × ${endpoints + 1} endpoints (PGlite)`);
    await addEndpoints(c, receiver, orgId, "throughput", endpoints);
    const deliveries = events * (endpoints + 1);
    const before = receiver.arrivals.length;
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < events) {
          next++;
          await rename(c, orgId, nextName());
        }
      }),
    );
    await receiver.waitForCount(before + deliveries, 300_000);
    const seconds = ((receiver.arrivals.at(-1)?.at ?? started) - started) / 1000;
    rows.push({
      id: "E2",
      database: "pglite",
      what: "deliveries a second, one server",
      throughput: {
        deliveries,
        endpoints: endpoints + 1,
        seconds,
        perSecond: deliveries / seconds,
        from: "first of the API writes (4 clients)",
      },
    });
    log(`  ${deliveries} deliveries in ${seconds.toFixed(2)} s: ${Math.round(deliveries / seconds)}/s`);
    return { rows, verified: checked(receiver) };
  } finally {
    await receiver.close();
  }
}
