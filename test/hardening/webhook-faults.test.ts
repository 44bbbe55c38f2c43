// Webhook deliveries through faults (issue 15, part 6; docs/webhooks.md), on PGlite and on
// PostgreSQL. Every delivery is checked at a real receiver on loopback with the Standard Webhooks
// library (test/helpers/webhook-receiver.ts), never with Rollcall's own code:
//   - a `rollcall serve` process SIGKILLed with posts in flight, restarted on the same data: every
//     event arrives, at least once, and is recorded delivered once; what was in flight comes again
//     with the same webhook-id once its lease has run out, what was delivered does not come again;
//   - a receiver that refuses connections for a while gets its deliveries when it is back, on the
//     retry schedule, each attempt counted and every attempt carrying the event's webhook-id;
//   - receivers that answer just inside the deadline slow neither the API nor another endpoint.
// Two server processes sharing the work are in test/postgres/webhook-servers.test.ts (PostgreSQL
// only: on PGlite a second process cannot open the same data).
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { ConfigError, loadConfig } from "../../src/config.js";
import type { Db } from "../../src/db/index.js";
import { nextAttemptDelay } from "../../src/webhooks/schedule.js";
import { PASSWORD, type TestApp, testApp, uniqueEmail } from "../helpers/app.js";
import { TEST_TARGET } from "../helpers/database.js";
import { eventually } from "../helpers/eventually.js";
import { buildOrg, type Org } from "../helpers/org.js";
import { freePort } from "../helpers/postgres-server.js";
import { type ServerProcess, startServer } from "../helpers/server.js";
import { type ReceivedDelivery, type Receiver, webhookReceiver } from "../helpers/webhook-receiver.js";
import { pgliteStore, postgresStore, type Store } from "./crash/store.js";

const ENV = {
  WEBHOOK_ALLOW_HTTP: "true",
  WEBHOOK_ALLOW_PRIVATE: "true",
  // 5 s, 5 min, 30 min, 2 h… become 5 ms, 300 ms, 1.8 s, 7.2 s…
  WEBHOOK_RETRY_SCALE: "0.001",
  EVENTS_POLL_MS: "50",
};

const receivers: Receiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});

async function receiver(
  answer?: Parameters<typeof webhookReceiver>[0],
  options?: Parameters<typeof webhookReceiver>[1],
): Promise<Receiver> {
  const r = await webhookReceiver(answer, options);
  receivers.push(r);
  return r;
}

type Request = Pick<TestApp, "request">["request"];

async function makeWebhook(request: Request, orgId: string, token: string, url: string): Promise<string> {
  const res = await request("POST", `/api/v1/orgs/${orgId}/webhooks`, {
    token,
    body: { url, types: ["workspace.created"] },
  });
  assert.equal(res.status, 201, res.text);
  return res.json.secret;
}

async function newWorkspace(request: Request, orgId: string, token: string, name: string): Promise<void> {
  const res = await request("POST", `/api/v1/orgs/${orgId}/workspaces`, { token, body: { name } });
  assert.equal(res.status, 201, res.text);
}

/** The ids of the organisation's workspace.created events made after its first webhook. */
async function workspaceEvents(db: Db, orgId: string): Promise<string[]> {
  const rows = await sql<{ id: string }>`
    SELECT id FROM audit_events
    WHERE org_id = ${orgId} AND action = 'workspace.created'
      AND seq > (SELECT min(seq) FROM audit_events WHERE org_id = ${orgId} AND action = 'webhook.created')
    ORDER BY seq`.execute(db);
  return rows.rows.map((r) => r.id);
}

interface DeliveryRow {
  endpoint_id: string;
  event_id: string;
  status: string;
  attempts: number;
  error: string | null;
  lease_expires_at: Date | null;
}

async function deliveryRows(db: Db, orgId: string): Promise<DeliveryRow[]> {
  return db
    .selectFrom("webhook_deliveries")
    .select(["endpoint_id", "event_id", "status", "attempts", "error", "lease_expires_at"])
    .where("org_id", "=", orgId)
    .execute();
}

/** How many times each key was seen. */
function tally(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

function p50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

describe("WEBHOOK_LEASE_MS", () => {
  test("defaults to twice the deadline plus a minute, is read from the environment, and must outlast the deadline", () => {
    // Promise: the lease a dead server's deliveries wait out is a validated setting, so that a
    // test (or an operator) can shorten it, but never below one attempt's deadline, which would
    // let a second server post a delivery that is still being posted.
    assert.equal(loadConfig({}).webhooks.leaseMs, 90_000);
    assert.equal(loadConfig({ WEBHOOK_TIMEOUT_MS: "1000" }).webhooks.leaseMs, 62_000);
    assert.equal(loadConfig({ WEBHOOK_LEASE_MS: "3000", WEBHOOK_TIMEOUT_MS: "2000" }).webhooks.leaseMs, 3000);
    for (const [lease, timeout] of [
      ["999", "500"],
      ["2000", "2000"],
      ["5000", "15000"],
      ["soon", "1000"],
    ]) {
      assert.throws(
        () => loadConfig({ WEBHOOK_LEASE_MS: lease, WEBHOOK_TIMEOUT_MS: timeout }),
        (err: unknown) => err instanceof ConfigError && /WEBHOOK_LEASE_MS/.test(err.message),
        `WEBHOOK_LEASE_MS=${lease} with WEBHOOK_TIMEOUT_MS=${timeout} must be refused`,
      );
    }
  });
});

describe("webhooks through faults", () => {
  test(`a server SIGKILLed with posts in flight (${TEST_TARGET}): after a restart every event is delivered, recorded once, and only what was in flight comes twice`, {
    timeout: 360_000,
  }, async () => {
    // Promise (docs/webhooks.md, "How deliveries are made"): at least once, never lost. A claim
    // commits before the post, so a server that dies mid-post leaves claimed rows behind; they
    // are posted again, with the same webhook-id, once their lease runs out, by whichever server
    // runs next. A delivery recorded as delivered is never posted again.
    const ENDPOINTS = 4;
    const BEFORE = 5;
    const DURING = 6;
    // Long enough that the posts held open are still in flight when the kill lands; the lease
    // longer than a restart takes on a loaded machine, so that the restarted server is seen to
    // wait it out (a restart slower than the lease would hide a server that does not wait).
    const TIMEOUT_MS = 8000;
    // PGlite's restart also copies its data directory to inspect it: 41 s was seen at load 10.
    const LEASE_MS = TEST_TARGET === "pglite" ? 75_000 : 30_000;
    const env = { ...ENV, WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS), WEBHOOK_LEASE_MS: String(LEASE_MS) };

    // Answers at once until `holding`; then keeps each post open until `release`, so that the
    // server dies with them unanswered. (Every arrival is in `r.received` once the hold ends.)
    let holding = false;
    const held: ReceivedDelivery[] = [];
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const r = await receiver(async (_n, d) => {
      if (!holding) return 204;
      held.push(d);
      await released;
      return 204;
    });

    const store: Store = TEST_TARGET === "postgres" ? await postgresStore() : await pgliteStore();
    let server: ServerProcess | undefined;
    try {
      server = await startServer({ ...store.server, env });
      const first = server;
      const signup = await first.request("POST", "/api/v1/auth/signup", {
        body: { email: uniqueEmail("owner"), password: PASSWORD, name: "Olive Owner" },
      });
      assert.equal(signup.status, 201, signup.text);
      const token: string = signup.json.session.token;
      const orgId: string = (await first.request("GET", "/api/v1/me", { token })).json.organizations[0].id;

      // One receiver, an endpoint per path, each with its own secret.
      const secretOf = new Map<string, string>();
      for (let i = 0; i < ENDPOINTS; i++) {
        const path = `/hooks/e${i}`;
        const secret = await makeWebhook(first.request, orgId, token, `${new URL(r.url).origin}${path}`);
        secretOf.set(path, secret);
        r.secrets.push(secret);
      }

      // Delivered and recorded before the crash: these must not come again.
      for (let i = 0; i < BEFORE; i++) await newWorkspace(first.request, orgId, token, `Before ${i}`);
      await eventually(
        async () => {
          const listed = await first.request("GET", `/api/v1/orgs/${orgId}/webhooks`, { token });
          for (const hook of listed.json.items) {
            const page = await first.request(
              "GET",
              `/api/v1/orgs/${orgId}/webhooks/${hook.id}/deliveries?status=delivered`,
              { token },
            );
            assert.equal(page.json.items.length, BEFORE, hook.url);
          }
        },
        20_000,
        "the first events delivered and recorded",
      );

      // Now every post is held open: one per endpoint is in flight (the worker posts to an
      // endpoint one delivery at a time) and the rest wait behind it.
      holding = true;
      for (let i = 0; i < DURING; i++) await newWorkspace(first.request, orgId, token, `During ${i}`);
      await eventually(
        async () => assert.equal(held.length, ENDPOINTS),
        TIMEOUT_MS / 2,
        "a post in flight to every endpoint",
      );
      await first.kill("SIGKILL");
      assert.equal((await first.exited).signal, "SIGKILL");
      holding = false;
      release();

      // As the crash left it: the held posts' rows are claimed and unrecorded, the rest untouched.
      const heldKeys = new Set(held.map((d) => `${d.path} ${d.headers["webhook-id"]}`));
      assert.equal(heldKeys.size, ENDPOINTS, "each endpoint had one post in flight");
      const left = await store.inspect((db) => deliveryRows(db, orgId));
      assert.equal(left.length, ENDPOINTS * (BEFORE + DURING));
      const inFlight = left.filter((row) => row.status === "pending" && row.attempts === 1);
      assert.equal(inFlight.length, ENDPOINTS, JSON.stringify(left));
      for (const row of inFlight) {
        assert.ok(row.lease_expires_at, "claimed under a lease");
        assert.equal(row.error, null, "its outcome was never recorded");
      }
      const leaseEnds = Math.min(...inFlight.map((row) => (row.lease_expires_at as Date).getTime()));
      assert.equal(left.filter((row) => row.status === "delivered").length, ENDPOINTS * BEFORE);
      assert.equal(
        left.filter((row) => row.status === "pending" && row.attempts === 0).length,
        ENDPOINTS * (DURING - 1),
      );

      server = await startServer({ ...store.server, env });
      const second = server;
      assert.ok(
        Date.now() < leaseEnds - 2000,
        `the restarted server was ready ${Date.now() - leaseEnds} ms after the lease ran out: the test cannot see it wait`,
      );
      await eventually(
        async () => {
          const listed = await second.request("GET", `/api/v1/orgs/${orgId}/webhooks`, { token });
          for (const hook of listed.json.items) {
            const page = await second.request(
              "GET",
              `/api/v1/orgs/${orgId}/webhooks/${hook.id}/deliveries?status=delivered`,
              { token },
            );
            assert.equal(page.json.items.length, BEFORE + DURING, hook.url);
          }
        },
        LEASE_MS + 30_000,
        "every delivery recorded as delivered after the restart",
      );
      // A duplicate already under way would arrive within a few polls.
      await sleep(1000);
      await second.kill("SIGTERM");

      const [events, rows] = await store.inspect(
        async (db) => [await workspaceEvents(db, orgId), await deliveryRows(db, orgId)] as const,
      );
      assert.equal(events.length, BEFORE + DURING);
      assert.equal(rows.length, ENDPOINTS * events.length, "one delivery per endpoint and event");
      for (const row of rows) {
        assert.equal(row.status, "delivered", JSON.stringify(row));
        assert.equal(row.lease_expires_at, null);
      }

      for (const d of r.received) {
        const secret = secretOf.get(d.path);
        assert.ok(secret, `a post to an endpoint's path (${d.path})`);
        assert.equal(d.verifiedWith.get(secret), true, `${d.path} ${d.headers["webhook-id"]} verifies`);
        assert.equal(d.payload.data.id, d.headers["webhook-id"], "webhook-id is the event id");
      }
      for (const path of secretOf.keys()) {
        const posts = r.received.filter((d) => d.path === path);
        const got = tally(posts.map((d) => String(d.headers["webhook-id"])));
        assert.deepEqual([...got.keys()].sort(), [...events].sort(), `${path}: every event, none other`);
        for (const [id, n] of got) {
          // Only the post the crash cut off is made twice; the retry waited out the lease.
          const wasHeld = heldKeys.has(`${path} ${id}`);
          assert.equal(n, wasHeld ? 2 : 1, `${path} ${id} posted ${n} times`);
          if (wasHeld) {
            const [cut, again] = posts.filter((d) => d.headers["webhook-id"] === id);
            assert.ok(cut && again);
            assert.equal(again.body, cut.body, "the same content again");
            // (The database's clock and the receiver's are the same machine's.)
            assert.ok(
              again.at >= leaseEnds - 100,
              `posted again ${leaseEnds - again.at} ms before the lease ran out`,
            );
          }
        }
      }
      const attempts = tally(rows.map((row) => String(row.attempts)));
      assert.deepEqual(
        Object.fromEntries(attempts),
        { 1: rows.length - ENDPOINTS, 2: ENDPOINTS },
        "claimed twice only where the first claim died",
      );
    } finally {
      release();
      await server?.kill("SIGKILL");
      await store.close();
    }
  });

  test("a receiver down for a while: its deliveries arrive when it is back, on the schedule, every attempt counted and with the same webhook-id", async () => {
    // Promise (docs/webhooks.md, "What counts as delivered, and the retries"): a refused
    // connection is a failed attempt, tried again after the schedule's wait (±10 %), with the
    // event's id as webhook-id on every attempt; the receiver loses nothing by being down.
    const scale = Number(ENV.WEBHOOK_RETRY_SCALE);
    const t = await testApp(ENV);
    try {
      const org = await buildOrg(t);
      const port = await freePort();
      // Up at first, answering 503 (to the first post, and perhaps to its retry 5 ms later), and
      // then gone: the attempts after it are refused connections.
      const up = await receiver(() => 503, { port });
      const url = `${new URL(up.url).origin}/hooks`;
      const secret = await makeWebhook(t.request, org.orgId, org.owner.token, url);
      up.secrets.push(secret);
      await newWorkspace(t.request, org.orgId, org.owner.token, "Seen before the outage");
      const refused = await up.waitFor(() => true, 5000);
      await up.close();
      // Made while the receiver is down: no attempt of it reaches anyone until it is back.
      await newWorkspace(t.request, org.orgId, org.owner.token, "Made during the outage");

      const rowsOf = () =>
        t.db
          .selectFrom("webhook_deliveries")
          .select(["id", "event_id", "status", "attempts", "error", "last_attempt_at", "next_attempt_at"])
          .where("org_id", "=", org.orgId)
          .orderBy("created_at")
          .execute();
      // Both refused at least twice (the third attempt waits 1.8 s), and each now waiting out a
      // wait long enough for the receiver to be back before it ends.
      const waiting = await eventually(
        async () => {
          const rows = await rowsOf();
          assert.equal(rows.length, 2);
          for (const row of rows) {
            assert.equal(row.status, "pending");
            assert.ok(row.attempts >= 3, `${row.attempts} attempts`);
            assert.equal(row.error, "The connection was refused (ECONNREFUSED).");
            assert.ok(row.next_attempt_at.getTime() > Date.now() + 300, "waiting for its next attempt");
          }
          return rows;
        },
        15_000,
        "both deliveries refused and waiting",
      );
      for (const row of waiting) {
        // The wait recorded is the schedule's for the attempts made, within its jitter; the
        // record is written a moment after the claim (a refused connection is quick).
        const expected = nextAttemptDelay(row.attempts, scale, () => 0.5) as number;
        const wait = row.next_attempt_at.getTime() - (row.last_attempt_at as Date).getTime();
        assert.ok(
          wait >= expected * 0.9 && wait <= expected * 1.1 + 500,
          `after attempt ${row.attempts}: waits ${wait} ms, the schedule says ${expected} ms ±10 %`,
        );
      }

      const back = await receiver(undefined, { port });
      back.secrets.push(secret);
      await eventually(async () => assert.equal(back.received.length, 2), 15_000, "both delivered");
      await eventually(
        async () => {
          const rows = await rowsOf();
          for (const row of rows) assert.equal(row.status, "delivered");
        },
        5000,
        "both recorded as delivered",
      );
      await sleep(300);
      const done = await rowsOf();
      const events = await workspaceEvents(t.db, org.orgId);
      assert.deepEqual(done.map((row) => row.event_id).sort(), [...events].sort(), "one delivery per event");
      for (const [i, row] of done.entries()) {
        const before = waiting.find((w) => w.id === row.id) as (typeof waiting)[number];
        assert.equal(
          row.attempts,
          before.attempts + 1,
          "the attempt after the outage is counted, and only it",
        );
        assert.equal(row.error, null);
        const got = back.received.find((d) => d.headers["webhook-id"] === row.event_id);
        assert.ok(got, `event ${i} arrived after the outage`);
        assert.equal(got.verifiedWith.get(secret), true);
        assert.ok(
          got.at >= before.next_attempt_at.getTime() - 50,
          `not before its scheduled attempt (${before.next_attempt_at.getTime() - got.at} ms early)`,
        );
      }
      assert.equal(back.received.length, 2, "each arrived once when the receiver was back");
      // The first event's attempt before the outage and the one after it: the same message.
      const firstAfter = back.received.find((d) => d.headers["webhook-id"] === events[0]);
      assert.equal(refused.headers["webhook-id"], events[0]);
      assert.equal(refused.verifiedWith.get(secret), true);
      assert.equal(firstAfter?.body, refused.body);
      assert.notEqual(firstAfter?.headers["webhook-signature"], refused.headers["webhook-signature"]);
    } finally {
      await t.close();
    }
  });

  test("receivers answering just inside the deadline slow neither the API nor another endpoint", async () => {
    // Promise (docs/webhooks.md, "How deliveries are made"): no transaction and no request waits
    // on a post; a slow receiver holds up only its own queue. Not a benchmark: the bound is loose
    // (p50 at most 3× the same requests' p50 with no webhook, + 50 ms), enough to catch a request
    // that waits on a post of 4 s.
    const TIMEOUT_MS = 5000;
    const SLOW_MS = 4000;
    const REQUESTS = 15;
    const t = await testApp({ ...ENV, WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS) });
    try {
      const org: Org = await buildOrg(t);
      const timed = async (name: string): Promise<{ ms: number; answeredAt: number }> => {
        const started = performance.now();
        await newWorkspace(t.request, org.orgId, org.owner.token, name);
        return { ms: performance.now() - started, answeredAt: Date.now() };
      };
      // Warm up, then the baseline: the same requests with no webhook at all.
      for (let i = 0; i < 3; i++) await timed(`Warm-up ${i}`);
      const baseline: number[] = [];
      for (let i = 0; i < REQUESTS; i++) baseline.push((await timed(`Baseline ${i}`)).ms);

      const slowAnswer = async () => {
        await sleep(SLOW_MS);
        return 204;
      };
      const slow = [await receiver(slowAnswer), await receiver(slowAnswer)];
      const fast = await receiver();
      for (const r of [...slow, fast]) {
        r.secrets.push(await makeWebhook(t.request, org.orgId, org.owner.token, r.url));
      }
      const loaded: number[] = [];
      const answeredAt = new Map<string, number>();
      for (let i = 0; i < REQUESTS; i++) {
        const name = `Loaded ${i}`;
        const result = await timed(name);
        loaded.push(result.ms);
        answeredAt.set(name, result.answeredAt);
      }
      const measured = Date.now();

      // The slow receivers were posted to while the requests ran.
      for (const r of slow) {
        const firstPost = await r.waitFor(() => true, TIMEOUT_MS + 1000);
        assert.ok(firstPost.at < measured, "a slow post was in flight during the requests");
      }
      const limit = 3 * p50(baseline) + 50;
      assert.ok(
        p50(loaded) <= limit,
        `p50 ${p50(loaded).toFixed(1)} ms with slow receivers, ${p50(baseline).toFixed(1)} ms without (limit ${limit.toFixed(1)} ms)`,
      );

      // The fast endpoint had each event sooner than one slow post takes: it never waited for one.
      // (The margin is for a loaded machine; a wait behind the slow posts would be seconds more.)
      for (const [name, at] of answeredAt) {
        const got = await fast.waitFor((d) => d.payload?.data.data.name === name, 5000);
        assert.equal(got.verifiedWith.get(fast.secrets[0] as string), true);
        assert.ok(
          got.at - at < SLOW_MS / 2,
          `${name} reached the fast endpoint ${got.at - at} ms after its answer`,
        );
      }
      // The fast endpoint's deliveries are all recorded (the receiver has each before the server
      // records it, hence the wait); the slow ones are still behind.
      await eventually(
        async () => {
          const pending = await t.db
            .selectFrom("webhook_deliveries as d")
            .innerJoin("webhook_endpoints as e", "e.id", "d.endpoint_id")
            .select(["e.url", sql<number>`count(*)::int`.as("n")])
            .where("d.org_id", "=", org.orgId)
            .where("d.status", "=", "pending")
            .groupBy("e.url")
            .execute();
          assert.deepEqual(
            pending.map((p) => p.url).sort(),
            slow.map((r) => r.url).sort(),
            "only the slow endpoints have deliveries waiting",
          );
        },
        2000,
        "the fast endpoint's deliveries recorded",
      );

      // Just inside the deadline is delivered, not a timeout.
      const answered = await eventually(
        async () => {
          const row = await t.db
            .selectFrom("webhook_deliveries as d")
            .innerJoin("webhook_endpoints as e", "e.id", "d.endpoint_id")
            .select(["d.status", "d.attempts", "d.response_status"])
            .where("e.url", "=", slow[0]?.url as string)
            .where("d.status", "=", "delivered")
            .executeTakeFirstOrThrow();
          return row;
        },
        TIMEOUT_MS * 2,
        "a slow post recorded as delivered",
      );
      assert.deepEqual(answered, { status: "delivered", attempts: 1, response_status: 204 });
    } finally {
      await t.close();
    }
  });
});
