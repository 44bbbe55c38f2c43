// @rollcall/client against a live Rollcall (packages/client): the replica loaded from the
// snapshot answers can() and canInOrg() exactly as the server's authorize does — allowed, role
// and reason — for every permission and several people, and follows role changes and removals
// from the event stream.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Decision, Rollcall, type StreamEvent } from "../../packages/client/src/index.js";
import { DEFAULT_CATALOGUE } from "../../src/access/catalogue.js";
import { buildUser, type TestApp, testApp } from "../helpers/app.js";
import { buildServiceKey } from "../helpers/keys.js";
import { buildOrg, grantWorkspaceRole, joinOrg, type Org } from "../helpers/org.js";

let t: TestApp;
let key: string;
let base: string;
const clients: Rollcall[] = [];
before(async () => {
  t = await testApp({ EVENTS_POLL_MS: "50" });
  key = (await buildServiceKey(t, "client")).token;
  base = await t.app.fastify.listen({ port: 0, host: "127.0.0.1" });
});
after(async () => {
  for (const c of clients) await c.close();
  await t.close();
});

/** A client, ready, with the events it has applied and a way to wait for one. */
async function connect() {
  const client = new Rollcall({ url: base, serviceKey: key });
  clients.push(client);
  await client.ready();
  const seen: StreamEvent[] = [];
  client.on("event", (e) => seen.push(e));
  const arrived = async (match: (e: StreamEvent) => boolean) => {
    const deadline = Date.now() + 5000;
    while (!seen.some(match)) {
      if (Date.now() > deadline)
        throw new Error(`no such event; seen: ${seen.map((e) => e.type).join(", ")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { client, arrived };
}

const PERMISSIONS = [
  ...DEFAULT_CATALOGUE.workspacePermissions.keys(),
  ...DEFAULT_CATALOGUE.orgPermissions.keys(),
];

/** The server's answer to the same question. */
async function authorize(workspaceId: string, userId: string, permission: string): Promise<Decision> {
  const res = await t.request("POST", `/api/v1/workspaces/${workspaceId}/authorize`, {
    token: key,
    body: { permission, userId },
  });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

async function sameAsServer(client: Rollcall, org: Org, userIds: string[]): Promise<void> {
  for (const userId of userIds) {
    for (const permission of PERMISSIONS) {
      const local = client.can({ userId, workspaceId: org.workspaceId, permission });
      assert.deepEqual(
        local,
        await authorize(org.workspaceId, userId, permission),
        `${userId} ${permission}`,
      );
    }
  }
}

test("can() answers as authorize does, for every permission, from the snapshot and after changes", async () => {
  const org = await buildOrg(t);
  const admin = await joinOrg(t, org.orgId, "admin", "Ann Admin");
  const agent = await joinOrg(t, org.orgId, "member", "Ada Agent");
  await grantWorkspaceRole(t, org.orgId, org.workspaceId, agent.userId, "agent");
  const member = await joinOrg(t, org.orgId, "member", "Mo Member");
  const stranger = await buildUser(t, { name: "Stan Stranger" });
  // Inserted directly (no events): a client made now reads them from its snapshot.
  const { client, arrived } = await connect();
  await sameAsServer(client, org, [
    org.owner.userId,
    admin.userId,
    agent.userId,
    member.userId,
    stranger.userId,
  ]);
  assert.deepEqual(client.canInOrg({ userId: admin.userId, orgId: org.orgId, permission: "org.users" }), {
    allowed: true,
    role: "admin",
    reason: "organisation admin has org.users",
  });
  assert.equal(
    client.canInOrg({ userId: member.userId, orgId: org.orgId, permission: "org.users" }).allowed,
    false,
  );

  // Changes through the API reach it by the stream.
  const owner = org.owner.token;
  const put = await t.request("PUT", `/api/v1/workspaces/${org.workspaceId}/members/${member.userId}`, {
    token: owner,
    body: { role: "editor" },
  });
  assert.equal(put.status, 201, put.text);
  const demote = await t.request("PATCH", `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, {
    token: owner,
    body: { role: "member" },
  });
  assert.equal(demote.status, 200, demote.text);
  const remove = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${agent.userId}`, {
    token: owner,
  });
  assert.equal(remove.status, 204, remove.text);
  await arrived((e) => e.type === "member.removed" && e.data.userId === agent.userId);
  await sameAsServer(client, org, [org.owner.userId, admin.userId, agent.userId, member.userId]);
  assert.equal(
    client.can({ userId: agent.userId, workspaceId: org.workspaceId, permission: "flows.read" }).allowed,
    false,
  );
  assert.equal(
    client.canInOrg({ userId: admin.userId, orgId: org.orgId, permission: "org.users" }).allowed,
    false,
  );
});

test("a workspace made after ready() is known from its event; one that does not exist is refused", async () => {
  const { client, arrived } = await connect();
  const org = await buildOrg(t, "Wendy Workspaces");
  const made = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
    token: org.owner.token,
    body: { name: "Later" },
  });
  assert.equal(made.status, 201, made.text);
  const wsId = made.json.workspace.id;
  await arrived((e) => e.type === "workspace.created" && e.data.workspaceId === wsId);
  assert.deepEqual(
    client.can({ userId: org.owner.userId, workspaceId: wsId, permission: "workspace.settings" }),
    {
      allowed: true,
      role: "admin",
      reason: "admin (as organisation owner) has workspace.settings",
    },
  );
  assert.deepEqual(
    client.can({ userId: org.owner.userId, workspaceId: "ws_nope", permission: "flows.read" }),
    {
      allowed: false,
      role: null,
      reason: "no such workspace",
    },
  );
});

test("verifySession asks the server once, then answers from memory with the organisations as they are now", async () => {
  const { client, arrived } = await connect();
  const org = await buildOrg(t, "Vic Verified");
  const first = await client.verifySession(org.owner.token);
  assert.equal(first?.user.id, org.owner.userId);
  assert.deepEqual(first?.organizations, [{ id: org.orgId, role: "owner" }]);

  // A second organisation made since: the kept session's organisations come from the replica.
  const made = await t.request("POST", "/api/v1/orgs", { token: org.owner.token, body: { name: "Second" } });
  assert.equal(made.status, 201, made.text);
  const secondId: string = made.json.organization.id;
  await arrived((e) => e.type === "member.added" && e.orgId === secondId);
  const later = await client.verifySession(org.owner.token);
  assert.deepEqual(later?.organizations, [
    { id: org.orgId, role: "owner" },
    { id: secondId, role: "owner" },
  ]);

  // Kept: the answer no longer needs the server (the row is deleted here without an event, which
  // no real change does — a log-out writes session.revoked: test/client/freshness.test.ts).
  await t.db.deleteFrom("sessions").where("id", "=", org.owner.sessionId).execute();
  assert.equal((await client.verifySession(org.owner.token))?.session.id, first?.session.id);

  assert.equal(await client.verifySession("nonsense"), null);
  assert.equal(await client.verifySession(""), null);
  assert.equal(await client.verifySession("x".repeat(500)), null);
});

test("a stream that cannot resume (410 cursor_expired) is replaced by a new snapshot and a new stream", async () => {
  const client = new Rollcall({ url: base, serviceKey: key, retryMs: 50 });
  clients.push(client);
  await client.ready();
  const org = await buildOrg(t, "Rhea Resnapshot");
  // A membership written without an event: only a snapshot can tell the client of it.
  const quiet = await joinOrg(t, org.orgId, "admin", "Quinn Quiet");
  const asked = { userId: quiet.userId, orgId: org.orgId, permission: "org.users" };
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(client.canInOrg(asked).allowed, false, "not in the first snapshot, and no event told of it");
  // The events the client would resume from are gone (as past EVENTS_RETENTION_DAYS), and its
  // connection drops: resuming answers 410, so it reads a new snapshot.
  await t.db.deleteFrom("audit_events").execute();
  t.app.fastify.server.closeAllConnections();
  const deadline = Date.now() + 10_000;
  while (!client.canInOrg(asked).allowed) {
    assert.ok(Date.now() < deadline, "no new snapshot within 10 s");
    await new Promise((r) => setTimeout(r, 25));
  }
  // And it follows the new stream: a change after it arrives as an event.
  const removed = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${quiet.userId}`, {
    token: org.owner.token,
  });
  assert.equal(removed.status, 204, removed.text);
  assert.equal(client.canInOrg(asked).allowed, false, "the removal answered once this client applied it");
});
