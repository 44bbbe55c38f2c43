// The event feed across transactions and servers, on PostgreSQL (docs/events.md): an event that
// commits after a later-started one is never skipped by a reader that resumes from its cursor,
// a commit on one server reaches a stream held on another through LISTEN/NOTIFY, an event held
// back behind a quiet transaction is sent when it ends, and other databases hold nothing back.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { EventSource } from "eventsource";
import { sql } from "kysely";
import pg from "pg";
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

/** A stream of the organisation held on the sibling server; `next()` answers the next workspace.created. */
let siblingBase: string | undefined;
async function streamOnSibling(): Promise<{ next(): Promise<string>; close(): void }> {
  siblingBase ??= await s.app.fastify.listen({ port: 0, host: "127.0.0.1" });
  const base = siblingBase;
  const arrived: string[] = [];
  let waiting: (() => void) | null = null;
  const source = new EventSource(`${base}/api/v1/orgs/${orgId}/events/stream`, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: { ...(init?.headers ?? {}), authorization: `Bearer ${owner.token}` },
      }),
  });
  source.addEventListener("workspace.created", (e) => {
    arrived.push(JSON.parse(e.data).data.name);
    waiting?.();
  });
  await new Promise<void>((resolve, reject) => {
    source.onopen = () => resolve();
    source.onerror = () => reject(new Error("the stream did not open"));
  });
  return {
    async next() {
      const deadline = Date.now() + 5000;
      while (arrived.length === 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          waiting = resolve;
          setTimeout(resolve, 100);
        });
      }
      const name = arrived.shift();
      assert.ok(name, "no event reached the other server's stream within 5 s (its poll is 60 s)");
      return name;
    },
    close: () => source.close(),
  };
}

async function createWorkspace(name: string): Promise<void> {
  const res = await t.request("POST", `/api/v1/orgs/${orgId}/workspaces`, {
    token: owner.token,
    body: { name },
  });
  assert.equal(res.status, 201, res.text);
}

// How fast is a benchmark's business (BENCHMARKS.md): here only that NOTIFY carries it at all.
test("a commit on one server reaches a stream held on another through NOTIFY, not the poll", async () => {
  const stream = await streamOnSibling();
  try {
    for (let i = 0; i < 5; i++) {
      await createWorkspace(`Far ${i}`);
      assert.equal(await stream.next(), `Far ${i}`);
    }
  } finally {
    stream.close();
  }
});

test("an event held back behind a transaction that writes none reaches the stream when it ends", async () => {
  const stream = await streamOnSibling();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let began!: () => void;
  const running = new Promise<void>((resolve) => {
    began = resolve;
  });
  try {
    // A transaction of this database with an id, older than the event's, that sends no NOTIFY.
    const quiet = t.db.transaction().execute(async (tx) => {
      await sql`select pg_current_xact_id()`.execute(tx);
      began();
      await gate;
    });
    await running;
    await createWorkspace("Behind");
    await new Promise((r) => setTimeout(r, 300));
    const during = await t.request("GET", `/api/v1/orgs/${orgId}/events?types=workspace.created&limit=200`, {
      token: owner.token,
    });
    assert.ok(
      !during.json.items.some((e: { data: { name: string } }) => e.data.name === "Behind"),
      "held back while the older transaction runs",
    );
    release();
    await quiet;
    // A stream starts after the last settled event: it may begin with the previous test's last
    // workspace, when a transaction that ended a moment before still counted (feed.ts: SETTLED).
    let name = await stream.next();
    while (name.startsWith("Far ")) name = await stream.next();
    assert.equal(name, "Behind");
  } finally {
    release();
    stream.close();
  }
});

test("a transaction running in another database does not hold the feed back", async () => {
  const other = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await other.connect();
  try {
    await other.query("begin");
    await other.query("select pg_current_xact_id()");
    await createWorkspace("Elsewhere");
    const res = await t.request("GET", `/api/v1/orgs/${orgId}/events?types=workspace.created&limit=200`, {
      token: owner.token,
    });
    assert.ok(res.json.items.some((e: { data: { name: string } }) => e.data.name === "Elsewhere"));
  } finally {
    await other.query("rollback").catch(() => undefined);
    await other.end();
  }
});
