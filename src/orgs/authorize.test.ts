// POST /api/v1/orgs/{org}/authorize (docs/roles.md): the host product's question about an
// organisation permission — about oneself, about someone else with org.users, about anyone with a
// service key — answered as the workspace's question is, from the org role alone.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TestApp, testApp } from "../../test/helpers/app.js";
import { buildServiceKey } from "../../test/helpers/keys.js";
import { buildOrg, joinOrg } from "../../test/helpers/org.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

const ask = (orgId: string, token: string, body: unknown) =>
  t.request("POST", `/api/v1/orgs/${orgId}/authorize`, { token, body });

test("each org role holds exactly its permissions, and the reason says which role has it", async () => {
  const org = await buildOrg(t);
  const admin = await joinOrg(t, org.orgId, "admin", "Ada Admin");
  const member = await joinOrg(t, org.orgId, "member", "Max Member");
  const table: [string, string, boolean][] = [
    [org.owner.token, "org.owners", true],
    [admin.token, "org.owners", false],
    [admin.token, "org.users", true],
    [member.token, "org.users", false],
    [member.token, "org.read", true],
  ];
  for (const [token, permission, allowed] of table) {
    const res = await ask(org.orgId, token, { permission });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.allowed, allowed, `${permission}: ${res.text}`);
  }
  const lacks = await ask(org.orgId, member.token, { permission: "org.users" });
  assert.deepEqual(lacks.json, {
    allowed: false,
    role: "member",
    reason: "organisation member lacks org.users; admin or owner has it",
  });
  const has = await ask(org.orgId, admin.token, { permission: "org.apikeys" });
  assert.deepEqual(has.json, { allowed: true, role: "admin", reason: "organisation admin has org.apikeys" });
});

test("asking about someone else takes org.users; outsiders and unknown ids get the same answer", async () => {
  const org = await buildOrg(t);
  const member = await joinOrg(t, org.orgId, "member", "Max Member");
  const other = await buildOrg(t, "Otto Other");
  const about = (userId: string) => ask(org.orgId, org.owner.token, { permission: "org.read", userId });
  assert.deepEqual((await about(member.userId)).json, {
    allowed: true,
    role: "member",
    reason: "organisation member has org.read",
  });
  const outsider = await about(other.owner.userId);
  const nobody = await about("usr_nobody");
  assert.equal(outsider.status, 200);
  assert.deepEqual(outsider.json, nobody.json);
  assert.deepEqual(outsider.json, {
    allowed: false,
    role: null,
    reason: "not a member of this organisation",
  });

  const refused = await ask(org.orgId, member.token, { permission: "org.read", userId: org.owner.userId });
  assert.equal(refused.status, 403, refused.text);
  assert.match(refused.json.detail, /asking about another person needs org\.users/);
});

test("a service key asks about anyone, naming whom; bad questions answer 400; strangers 404", async () => {
  const org = await buildOrg(t);
  const member = await joinOrg(t, org.orgId, "member", "Max Member");
  const key = (await buildServiceKey(t, "org authorize")).token;
  const answer = await ask(org.orgId, key, { permission: "org.users", userId: member.userId });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual([answer.json.allowed, answer.json.role], [false, "member"]);
  const nobody = await ask(org.orgId, key, { permission: "org.users" });
  assert.equal(nobody.status, 400);
  assert.equal(nobody.json.errors[0].field, "userId");

  const workspacePermission = await ask(org.orgId, org.owner.token, { permission: "flows.read" });
  assert.equal(workspacePermission.status, 400);
  assert.match(workspacePermission.json.errors[0].message, /workspace permission/);
  const unknown = await ask(org.orgId, org.owner.token, { permission: "org.everything" });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.errors[0].field, "permission");

  const stranger = await buildOrg(t, "Sam Stranger");
  const theirs = await ask(org.orgId, stranger.owner.token, { permission: "org.read" });
  const none = await ask("org_nothing", stranger.owner.token, { permission: "org.read" });
  assert.equal(theirs.status, 404);
  assert.deepEqual([theirs.json.code, theirs.json.detail], [none.json.code, none.json.detail]);
});
