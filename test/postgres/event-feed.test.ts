// The event feed across transactions and servers, on PostgreSQL (docs/events.md): an event that
// commits after a later-started one is never skipped by a reader that resumes from its cursor,
// and a commit on one server reaches a stream held on another through LISTEN/NOTIFY.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { EventSource } from "eventsource";
import { recordAudit } from "../../src/audit/operations.js";
import { buildUser, type Sibling, type SignedUp, type TestApp, testApp } from "../helpers/app.js";

let t: TestApp;
let s: Sibling;
let owner: SignedUp;
let orgId: string;
before(async () => {
  // A poll far slower than the goal: only NOTIFY can make it.
  t = await testApp({ EVENTS_POLL_MS: "60000" });
  s = await t.sibling();
  owner = await buildUser(t, { name: "Olive Owner", organizationName: "Order Co" });
  orgId = (await t.request("GET", "/api/v1/me", { token: owner.token })).json.organizations[0].id;
});
after(async () => {
  await s.close();
  await t.close();
});

const actor = { id: null, name: "test", ip: null };

test("a transaction that began first and commits last is read in its place, never skipped", async () => {
  const before = await t.request("GET", `/api/v1/orgs/${orgId}/events`, { token: owner.token });
  const cursor: string = before.json.nextCursor;

  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => {
    wrote = resolve;
  });
  // T1 writes its event first (so its transaction id is the lower), then waits.
  const slow = t.db.transaction().execute(async (tx) => {
    await recordAudit(tx, actor, {
      orgId,
      action: "workspace.deleted",
      targetType: "workspace",
      targetId: null,
      data: { name: "slow" },
    });
    wrote();
    await gate;
  });
  await written;
  // T2 writes and commits meanwhile.
  await t.db.transaction().execute(async (tx) => {
    await recordAudit(tx, actor, {
      orgId,
      action: "workspace.deleted",
      targetType: "workspace",
      targetId: null,
      data: { name: "fast" },
    });
  });
  const during = await t.request("GET", `/api/v1/orgs/${orgId}/events?after=${cursor}`, {
    token: owner.token,
  });
  assert.deepEqual(during.json.items, [], "nothing past a transaction still running");
  assert.equal(during.json.nextCursor, cursor);

  release();
  await slow;
  const afterwards = await t.request("GET", `/api/v1/orgs/${orgId}/events?after=${cursor}`, {
    token: owner.token,
  });
  assert.deepEqual(
    afterwards.json.items.map((e: { data: { name: string } }) => e.data.name),
    ["slow", "fast"],
  );
});

test("a commit on one server reaches a stream held on another within 100 ms (median of ten)", async () => {
  const base = await s.app.fastify.listen({ port: 0, host: "127.0.0.1" });
  const arrivals: number[] = [];
  let waiting: ((at: number) => void) | null = null;
  const source = new EventSource(`${base}/api/v1/orgs/${orgId}/events/stream`, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: { ...(init?.headers ?? {}), authorization: `Bearer ${owner.token}` },
      }),
  });
  source.addEventListener("workspace.created", () => waiting?.(performance.now()));
  await new Promise<void>((resolve, reject) => {
    source.onopen = () => resolve();
    source.onerror = () => reject(new Error("the stream did not open"));
  });
  try {
    for (let i = 0; i < 10; i++) {
      const arrived = new Promise<number>((resolve) => {
        waiting = resolve;
      });
      const res = await t.request("POST", `/api/v1/orgs/${orgId}/workspaces`, {
        token: owner.token,
        body: { name: `Far ${i}` },
      });
      const committed = performance.now();
      assert.equal(res.status, 201);
      const at = await Promise.race([
        arrived,
        new Promise<number>((r) => setTimeout(() => r(Number.NaN), 5000)),
      ]);
      assert.ok(!Number.isNaN(at), `event ${i} never arrived on the other server`);
      arrivals.push(Math.max(0, at - committed));
    }
  } finally {
    source.close();
  }
  const sorted = [...arrivals].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.POSITIVE_INFINITY;
  assert.ok(
    median <= 100,
    `commit → other server's stream: ${sorted.map((x) => x.toFixed(0)).join(", ")} ms`,
  );
});
