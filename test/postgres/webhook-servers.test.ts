// Two `rollcall serve` processes on one PostgreSQL database sharing the webhook deliveries (issue
// 15, part 6; docs/webhooks.md#faults). src/webhooks/webhooks.test.ts has two in-process apps
// post a dozen events once each; here two real processes — each with its own pool, its own
// wake-ups and LISTEN — take many events written through both, to endpoints that answer after
// a moment so that the workers overlap, and the servers' own logs show who posted what.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { PASSWORD, uniqueEmail } from "../helpers/app.js";
import { type TestDatabase, testDatabase } from "../helpers/database.js";
import { eventually } from "../helpers/eventually.js";
import { type ServerProcess, startServer } from "../helpers/server.js";
import { type Receiver, webhookReceiver } from "../helpers/webhook-receiver.js";

const ENDPOINTS = 4;
const EVENTS = 60;

let database: TestDatabase | undefined;
let receiver: Receiver | undefined;
let servers: ServerProcess[] = [];

after(async () => {
  await Promise.all(servers.map((s) => s.kill("SIGKILL")));
  await receiver?.close();
  await database?.drop();
});

/** `deliveryId → ports of the servers that logged delivering it`, from the servers' JSON logs. */
function deliveredBy(): Map<string, number[]> {
  const posters = new Map<string, number[]>();
  for (const server of servers) {
    for (const line of server.output().split("\n")) {
      if (!line.includes('"webhook delivered"')) continue;
      let entry: { msg?: string; deliveryId?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.msg !== "webhook delivered" || !entry.deliveryId) continue;
      posters.set(entry.deliveryId, [...(posters.get(entry.deliveryId) ?? []), server.port]);
    }
  }
  return posters;
}

test(`two servers, ${EVENTS} events to ${ENDPOINTS} endpoints: each delivery posted by exactly one server, and both share the work`, async () => {
  // Promise (docs/webhooks.md, "How deliveries are made"): any number of servers share the
  // deliveries and no two take the same one — the claim's FOR UPDATE SKIP LOCKED, not luck.
  const db = await testDatabase();
  database = db;
  assert.ok(db.url, "test/postgres/ runs in the PostgreSQL pass only");
  // A short wait before each answer keeps several posts of each server in flight at once.
  const r = await webhookReceiver(async () => {
    await sleep(20);
    return 204;
  });
  receiver = r;
  const env = {
    WEBHOOK_ALLOW_HTTP: "true",
    WEBHOOK_ALLOW_PRIVATE: "true",
    WEBHOOK_RETRY_SCALE: "0.001",
    EVENTS_POLL_MS: "50",
  };
  servers = await Promise.all([0, 1].map(() => startServer({ databaseUrl: db.url, env })));
  const [a, b] = servers as [ServerProcess, ServerProcess];

  const signup = await a.request("POST", "/api/v1/auth/signup", {
    body: { email: uniqueEmail("owner"), password: PASSWORD, name: "Olive Owner" },
  });
  assert.equal(signup.status, 201, signup.text);
  const token: string = signup.json.session.token;
  const orgId: string = (await a.request("GET", "/api/v1/me", { token })).json.organizations[0].id;
  const secretOf = new Map<string, string>();
  for (let i = 0; i < ENDPOINTS; i++) {
    const path = `/hooks/e${i}`;
    const res = await a.request("POST", `/api/v1/orgs/${orgId}/webhooks`, {
      token,
      body: { url: `${new URL(r.url).origin}${path}`, types: ["workspace.created"] },
    });
    assert.equal(res.status, 201, res.text);
    secretOf.set(path, res.json.secret);
    r.secrets.push(res.json.secret);
  }

  // Half the events through each server, several at a time: each commit wakes its own server's
  // worker at once and the other's through NOTIFY, so both race for every delivery.
  const names = Array.from({ length: EVENTS }, (_, i) => `Shared ${i}`);
  for (let i = 0; i < names.length; i += 6) {
    await Promise.all(
      names.slice(i, i + 6).map(async (name, j) => {
        const server = j % 2 === 0 ? a : b;
        const res = await server.request("POST", `/api/v1/orgs/${orgId}/workspaces`, {
          token,
          body: { name },
        });
        assert.equal(res.status, 201, res.text);
      }),
    );
  }

  const rowsOf = () =>
    db.database.db
      .selectFrom("webhook_deliveries")
      .select(["id", "endpoint_id", "event_id", "status", "attempts"])
      .where("org_id", "=", orgId)
      .execute();
  await eventually(
    async () => {
      const rows = await rowsOf();
      assert.equal(rows.length, ENDPOINTS * EVENTS);
      assert.ok(
        rows.every((row) => row.status === "delivered"),
        `${rows.filter((row) => row.status !== "delivered").length} not delivered yet`,
      );
    },
    60_000,
    "every delivery recorded as delivered",
  );
  // A second post already under way would arrive within a few polls.
  await sleep(1000);

  const rows = await rowsOf();
  const events = (
    await db.database.db
      .selectFrom("audit_events")
      .select("id")
      .where("org_id", "=", orgId)
      .where("action", "=", "workspace.created")
      .where(
        "seq",
        ">",
        db.database.db
          .selectFrom("audit_events")
          .select((eb) => eb.fn.min("seq").as("first"))
          .where("org_id", "=", orgId)
          .where("action", "=", "webhook.created"),
      )
      .execute()
  ).map((e) => e.id);
  assert.equal(events.length, EVENTS);
  assert.ok(
    rows.every((row) => row.attempts === 1),
    "every delivery claimed once",
  );

  // At the receiver: every event at every endpoint, verified, each webhook-id exactly once.
  for (const d of r.received) {
    const secret = secretOf.get(d.path);
    assert.ok(secret, `a post to an endpoint's path (${d.path})`);
    assert.equal(d.verifiedWith.get(secret), true, `${d.path} ${d.headers["webhook-id"]} verifies`);
  }
  for (const path of secretOf.keys()) {
    const ids = r.received.filter((d) => d.path === path).map((d) => String(d.headers["webhook-id"]));
    assert.equal(ids.length, new Set(ids).size, `${path}: a webhook-id posted twice`);
    assert.deepEqual([...ids].sort(), [...events].sort(), `${path}: every event, none other`);
  }

  // In the servers' logs: each delivery posted by one server, and each server posted some.
  const posters = deliveredBy();
  assert.deepEqual([...posters.keys()].sort(), rows.map((row) => row.id).sort(), "every delivery logged");
  for (const [id, ports] of posters) assert.equal(ports.length, 1, `${id} posted by ${ports.join(" and ")}`);
  for (const server of servers) {
    const share = [...posters.values()].filter(([port]) => port === server.port).length;
    assert.ok(share > 0, `server :${server.port} posted ${share} of ${rows.length}`);
  }
});
