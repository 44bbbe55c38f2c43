// A server SIGKILLed with webhook posts in flight (issue 15, part 6; docs/webhooks.md, "How
// deliveries are made"), on PGlite and on PostgreSQL: a `rollcall serve` process is killed while
// a receiver on loopback holds its posts open, then restarted on the same data. Every event
// arrives, at least once, and is recorded delivered once; what was in flight comes again with the
// same webhook-id once its lease has run out; what was delivered does not come again. Every
// delivery is checked with the Standard Webhooks library, never with Rollcall's own code.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { PER_ENDPOINT, PER_ORG } from "../../src/webhooks/worker.js";
import { PASSWORD, uniqueEmail } from "../helpers/app.js";
import { TEST_TARGET } from "../helpers/database.js";
import { eventually } from "../helpers/eventually.js";
import { type ServerProcess, startServer } from "../helpers/server.js";
import type { ReceivedDelivery } from "../helpers/webhook-receiver.js";
import { pgliteStore, postgresStore, type Store } from "./crash/store.js";
import {
  deliveryRows,
  ENV,
  makeWebhook,
  newWorkspace,
  receiver,
  tally,
  workspaceEvents,
} from "./webhooks/shared.js";

describe("webhooks through a crash", () => {
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
    const IN_FLIGHT = Math.min(ENDPOINTS * Math.min(DURING, PER_ENDPOINT), PER_ORG);
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

      // Now every post is held open: each endpoint's share is in flight (PER_ENDPOINT at once,
      // within the organisation's PER_ORG) and the rest wait behind it.
      holding = true;
      for (let i = 0; i < DURING; i++) await newWorkspace(first.request, orgId, token, `During ${i}`);
      await eventually(
        async () => assert.equal(held.length, IN_FLIGHT),
        TIMEOUT_MS / 2,
        "each endpoint's share of posts in flight",
      );
      await first.kill("SIGKILL");
      assert.equal((await first.exited).signal, "SIGKILL");
      holding = false;
      release();

      // As the crash left it: the held posts' rows are claimed and unrecorded, the rest untouched.
      const heldKeys = new Set(held.map((d) => `${d.path} ${d.headers["webhook-id"]}`));
      assert.equal(heldKeys.size, IN_FLIGHT, "each endpoint had its share in flight");
      const left = await store.inspect((db) => deliveryRows(db, orgId));
      assert.equal(left.length, ENDPOINTS * (BEFORE + DURING));
      const inFlight = left.filter((row) => row.status === "pending" && row.attempts === 1);
      assert.equal(inFlight.length, IN_FLIGHT, JSON.stringify(left));
      for (const row of inFlight) {
        assert.ok(row.lease_expires_at, "claimed under a lease");
        assert.equal(row.error, null, "its outcome was never recorded");
      }
      const leaseEnds = Math.min(...inFlight.map((row) => (row.lease_expires_at as Date).getTime()));
      assert.equal(left.filter((row) => row.status === "delivered").length, ENDPOINTS * BEFORE);
      assert.equal(
        left.filter((row) => row.status === "pending" && row.attempts === 0).length,
        ENDPOINTS * DURING - IN_FLIGHT,
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
        { 1: rows.length - IN_FLIGHT, 2: IN_FLIGHT },
        "claimed twice only where the first claim died",
      );
    } finally {
      release();
      await server?.kill("SIGKILL");
      await store.close();
    }
  });
});
