// Webhook deliveries through faults (issue 15, part 6; docs/webhooks.md), on PGlite and on
// PostgreSQL. Every delivery is checked at a real receiver on loopback with the Standard Webhooks
// library (test/helpers/webhook-receiver.ts), never with Rollcall's own code:
//   - a receiver that refuses connections for a while gets its deliveries when it is back, on the
//     retry schedule, each attempt counted and every attempt carrying the event's webhook-id;
//   - receivers that answer just inside the deadline slow neither the API nor another endpoint.
// A server SIGKILLed mid-post: webhook-crash.test.ts. Two server processes sharing the work are in
// test/postgres/webhook-servers.test.ts (PostgreSQL only: on PGlite a second process cannot open
// the same data).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { ConfigError, loadConfig } from "../../src/config.js";
import { nextAttemptDelay } from "../../src/webhooks/schedule.js";
import { testApp } from "../helpers/app.js";
import { eventually } from "../helpers/eventually.js";
import { buildOrg, type Org } from "../helpers/org.js";
import { freePort } from "../helpers/postgres-server.js";
import { ENV, makeWebhook, newWorkspace, p50, receiver, workspaceEvents } from "./webhooks/shared.js";

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
