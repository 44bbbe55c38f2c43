// The installation's service keys: POST /api/v1/sessions/verify answers whose a session token is,
// for a service key only; a service key changes nothing and reaches no organisation's routes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildUser, type TestApp, testApp } from "../../test/helpers/app.js";
import { buildOrg, grantWorkspaceRole, joinOrg } from "../../test/helpers/org.js";
import { createServiceKey, listServiceKeys, revokeServiceKey } from "./service-keys.js";

let t: TestApp;
let token: string;
let keyId: string;
before(async () => {
  t = await testApp();
  const made = await t.db.transaction().execute((tx) => createServiceKey(tx, "web backend"));
  token = made.token;
  keyId = made.key.id;
});
after(async () => {
  await t.close();
});

test("verify answers the person, the session and their organisations, read now", async () => {
  assert.match(token, /^rsk_[A-Za-z0-9_-]{43}$/);
  const person = await buildUser(t, { name: "Vera Verified", organizationName: "Vera's" });
  const res = await t.request("POST", "/api/v1/sessions/verify", { token, body: { token: person.token } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.user, { id: person.userId, email: person.email, name: "Vera Verified" });
  assert.equal(res.json.session.id, person.sessionId);
  assert.ok(Date.parse(res.json.session.expiresAt) > Date.now());
  assert.equal(res.json.organizations.length, 1);
  assert.equal(res.json.organizations[0].role, "owner");

  // Logged out: the same token is no session any more.
  await t.request("POST", "/api/v1/auth/logout", { token: person.token });
  const ended = await t.request("POST", "/api/v1/sessions/verify", { token, body: { token: person.token } });
  assert.equal(ended.status, 401);
  assert.equal(ended.json.code, "invalid_session");
});

test("junk tokens answer 401 invalid_session; a missing one 400", async () => {
  for (const junk of ["nonsense", `ses_${"0".repeat(26)}.${"A".repeat(43)}`, token]) {
    const res = await t.request("POST", "/api/v1/sessions/verify", { token, body: { token: junk } });
    assert.equal(res.status, 401, junk);
    assert.equal(res.json.code, "invalid_session");
  }
  const missing = await t.request("POST", "/api/v1/sessions/verify", { token, body: {} });
  assert.equal(missing.status, 400);
});

test("only a service key may verify: a session 403, an API key 403, nothing 401", async () => {
  const person = await buildUser(t);
  const asPerson = await t.request("POST", "/api/v1/sessions/verify", {
    token: person.token,
    body: { token: person.token },
  });
  assert.equal(asPerson.status, 403);
  assert.equal(asPerson.json.code, "forbidden");
  const me = await t.request("GET", "/api/v1/me", { token: person.token });
  const orgId = me.json.organizations[0].id;
  const key = await t.request("POST", `/api/v1/orgs/${orgId}/api-keys`, {
    token: person.token,
    body: { name: "k", role: "admin" },
  });
  const asKey = await t.request("POST", "/api/v1/sessions/verify", {
    token: key.json.token,
    body: { token: person.token },
  });
  assert.equal(asKey.status, 403);
  const anonymous = await t.request("POST", "/api/v1/sessions/verify", { body: { token: person.token } });
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.json.code, "unauthenticated");
});

test("a service key reaches no person's route and changes nothing in an organisation", async () => {
  const org = await buildOrg(t);
  const mine = await t.request("GET", "/api/v1/me", { token });
  assert.equal(mine.status, 403);
  assert.equal(mine.json.code, "api_key_not_allowed");
  const tries: [string, string, unknown][] = [
    ["PATCH", `/api/v1/orgs/${org.orgId}`, { name: "Taken" }],
    ["POST", `/api/v1/orgs/${org.orgId}/workspaces`, { name: "Taken" }],
    ["PATCH", `/api/v1/orgs/${org.orgId}/members/${org.owner.userId}`, { role: "member" }],
    ["DELETE", `/api/v1/orgs/${org.orgId}/members/${org.owner.userId}`, undefined],
    ["PUT", `/api/v1/workspaces/${org.workspaceId}/members/${org.owner.userId}`, { role: "viewer" }],
    ["POST", `/api/v1/orgs/${org.orgId}/invitations`, { delivery: "link", role: "owner" }],
    ["POST", `/api/v1/orgs/${org.orgId}/api-keys`, { name: "k", role: "admin" }],
    ["GET", `/api/v1/orgs/${org.orgId}/audit`, undefined],
    ["GET", `/api/v1/orgs/${org.orgId}/invitations`, undefined],
  ];
  const before = await t.db.selectFrom("audit_events").select(t.db.fn.countAll().as("n")).executeTakeFirst();
  for (const [method, path, body] of tries) {
    const res = await t.request(method, path, { token, body });
    assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
    assert.equal(res.json.code, "forbidden");
  }
  const after = await t.db.selectFrom("audit_events").select(t.db.fn.countAll().as("n")).executeTakeFirst();
  assert.deepEqual(after, before, "nothing was written");
});

test("a service key reads any organisation's members, roles and workspaces, and asks authorize about anyone", async () => {
  const org = await buildOrg(t);
  const agent = await joinOrg(t, org.orgId, "member", "Ada Agent");
  await grantWorkspaceRole(t, org.orgId, org.workspaceId, agent.userId, "agent");
  const other = await buildOrg(t, "Otto Other");

  const got = await t.request("GET", `/api/v1/orgs/${org.orgId}`, { token });
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.organization.id, org.orgId);
  assert.equal(got.json.role, null, "a service key holds no role");
  assert.deepEqual(got.json.permissions, []);

  const members = await t.request("GET", `/api/v1/orgs/${org.orgId}/members?q=ada`, { token });
  assert.equal(members.status, 200, members.text);
  assert.deepEqual(
    members.json.items.map((m: { userId: string; role: string; workspaces: { role: string }[] }) => [
      m.userId,
      m.role,
      m.workspaces.map((w) => w.role),
    ]),
    [[agent.userId, "member", ["agent"]]],
  );
  assert.deepEqual(members.json.items[0].abilities, { changeRole: false, remove: false });

  const workspaces = await t.request("GET", `/api/v1/orgs/${other.orgId}/workspaces`, { token });
  assert.equal(workspaces.status, 200, workspaces.text);
  assert.deepEqual(
    workspaces.json.items.map((w: { id: string; role: unknown }) => [w.id, w.role]),
    [[other.workspaceId, null]],
  );
  const ws = await t.request("GET", `/api/v1/workspaces/${org.workspaceId}`, { token });
  assert.equal(ws.status, 200, ws.text);
  assert.equal(ws.json.role, null);
  const wsMembers = await t.request("GET", `/api/v1/workspaces/${org.workspaceId}/members`, { token });
  assert.equal(wsMembers.status, 200, wsMembers.text);
  assert.deepEqual(
    wsMembers.json.items.map((m: { userId: string; role: string }) => [m.userId, m.role]),
    [[agent.userId, "agent"]],
  );

  const ask = (body: unknown) =>
    t.request("POST", `/api/v1/workspaces/${org.workspaceId}/authorize`, { token, body });
  const agentMay = await ask({ permission: "workspace.settings", userId: agent.userId });
  assert.equal(agentMay.status, 200, agentMay.text);
  assert.deepEqual(agentMay.json, {
    allowed: false,
    role: "agent",
    reason: agentMay.json.reason,
  });
  assert.match(agentMay.json.reason, /agent lacks workspace\.settings/);
  const ownerMay = await ask({ permission: "workspace.settings", userId: org.owner.userId });
  assert.equal(ownerMay.json.allowed, true);
  const stranger = await ask({ permission: "workspace.settings", userId: other.owner.userId });
  assert.deepEqual([stranger.json.allowed, stranger.json.role], [false, null]);
  const noOne = await ask({ permission: "workspace.settings" });
  assert.equal(noOne.status, 400, "a service key is nobody: it names whom it asks about");
  assert.equal(noOne.json.code, "validation_failed");
});

test("a service key reads an organisation's event feed; unknown places answer 404 as for anyone", async () => {
  const org = await buildOrg(t);
  const feed = await t.request("GET", `/api/v1/orgs/${org.orgId}/events`, { token });
  assert.equal(feed.status, 200, feed.text);
  assert.ok(feed.json.items.some((e: { type: string }) => e.type === "organization.created"));
  for (const [path, code] of [
    ["/api/v1/orgs/org_nope", "organization_not_found"],
    ["/api/v1/orgs/org_nope/members", "organization_not_found"],
    ["/api/v1/workspaces/ws_nope", "workspace_not_found"],
    [`/api/v1/workspaces/${org.orgId}/members`, "workspace_not_found"],
    ["/api/v1/orgs/o\u0000x/events", "organization_not_found"],
  ] as const) {
    const res = await t.request("GET", path, { token });
    assert.equal(res.status, 404, `${path}: ${res.text}`);
    assert.equal(res.json.code, code);
  }
  // An API key of one organisation still reads none of another's.
  const other = await buildOrg(t);
  const made = await t.request("POST", `/api/v1/orgs/${other.orgId}/api-keys`, {
    token: other.owner.token,
    body: { name: "reader", role: "admin" },
  });
  const foreign = await t.request("GET", `/api/v1/orgs/${org.orgId}/members`, { token: made.json.token });
  assert.equal(foreign.status, 404);
});

test("only reading routes admit a service key, and the API document says which", async () => {
  const doc = (await t.request("GET", "/api/v1/openapi.json")).json as {
    paths: Record<string, Record<string, { "x-permission"?: string; "x-service-key-reads"?: boolean }>>;
  };
  const admitted: string[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      assert.ok(operation["x-permission"], `${method} ${path} names its permission`);
      if (operation["x-service-key-reads"]) admitted.push(`${method.toUpperCase()} ${path}`);
    }
  }
  assert.deepEqual(admitted.sort(), [
    "GET /api/v1/orgs/{org}",
    "GET /api/v1/orgs/{org}/events",
    "GET /api/v1/orgs/{org}/events/stream",
    "GET /api/v1/orgs/{org}/members",
    "GET /api/v1/orgs/{org}/workspaces",
    "GET /api/v1/workspaces/{ws}",
    "GET /api/v1/workspaces/{ws}/members",
    "POST /api/v1/orgs/{org}/authorize",
    "POST /api/v1/workspaces/{ws}/authorize",
  ]);
});

test("lastUsedAt is kept; a revoked key answers 401 invalid_api_key", async () => {
  const keys = await listServiceKeys(t.db);
  assert.ok(keys.find((k) => k.id === keyId)?.lastUsedAt, "used above");
  const other = await t.db.transaction().execute((tx) => createServiceKey(tx, "to revoke"));
  assert.equal(await t.db.transaction().execute((tx) => revokeServiceKey(tx, other.key.id)), true);
  assert.equal(await t.db.transaction().execute((tx) => revokeServiceKey(tx, other.key.id)), false);
  const res = await t.request("POST", "/api/v1/sessions/verify", {
    token: other.token,
    body: { token: "x" },
  });
  assert.equal(res.status, 401);
  assert.equal(res.json.code, "invalid_api_key");
  const audit = await t.db
    .selectFrom("audit_events")
    .select(["action", "actor_type", "org_id"])
    .where("target_id", "=", other.key.id)
    .orderBy("at")
    .execute();
  assert.deepEqual(audit, [
    { action: "service_key.created", actor_type: "system", org_id: null },
    { action: "service_key.revoked", actor_type: "system", org_id: null },
  ]);
});
