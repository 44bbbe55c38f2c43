// Sign-up with invitationToken (rule 7): the account, the membership and the use in one
// transaction, no personal organisation; a bad token fails the sign-up and creates nothing. An
// address that already has an account gets the usual decoy (rule 11) and uses nothing.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildUser, PASSWORD, randomIp, type TestApp, testApp, uniqueEmail } from "../../test/helpers/app.js";
import { buildInvitation, invitationState } from "../../test/helpers/invitations.js";
import { buildOrg, type Org } from "../../test/helpers/org.js";

let t: TestApp;
let org: Org;
before(async () => {
  t = await testApp();
  org = await buildOrg(t, "Olive Owner");
});
after(async () => {
  await t.close();
});

const by = () => ({ userId: org.owner.userId, name: "Olive Owner" });
const signup = (email: string, invitationToken: string, name = "Nina New") =>
  t.request("POST", "/api/v1/auth/signup", {
    body: { email, password: PASSWORD, name, invitationToken },
    remoteAddress: randomIp(),
  });
const userCount = async (email: string) =>
  (await t.db.selectFrom("users").select("id").where("email", "=", email).execute()).length;

test("signing up with an e-mail invitation joins the inviting organisation and makes no other", async () => {
  const email = uniqueEmail("nina");
  const inv = await buildInvitation(t, {
    orgId: org.orgId,
    invitedBy: by(),
    email,
    role: "admin",
    workspaces: [{ workspaceId: org.workspaceId, role: "viewer" }],
  });
  const res = await signup(email, inv.token);
  assert.equal(res.status, 201, res.text);
  const me = await t.request("GET", "/api/v1/me", { token: res.json.session.token });
  assert.deepEqual(
    me.json.organizations.map((o: { id: string; role: string }) => [o.id, o.role]),
    [[org.orgId, "admin"]],
  );
  assert.deepEqual(await invitationState(t, inv.id), { status: "accepted", uses: 1, useRows: 1 });
  const ws = await t.db
    .selectFrom("workspace_memberships")
    .select("role")
    .where("user_id", "=", res.json.user.id)
    .execute();
  assert.deepEqual(ws, [{ role: "viewer" }]);
});

test("signing up with a link joins as the link says", async () => {
  const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), maxUses: 2 });
  const res = await signup(uniqueEmail("link"), inv.token);
  assert.equal(res.status, 201, res.text);
  const me = await t.request("GET", "/api/v1/me", { token: res.json.session.token });
  assert.deepEqual(
    me.json.organizations.map((o: { id: string }) => o.id),
    [org.orgId],
  );
  assert.deepEqual(await invitationState(t, inv.id), { status: "pending", uses: 1, useRows: 1 });
});

test("an ended invitation fails the sign-up with its 410 and creates no account", async () => {
  const endings: [string, Record<string, unknown>][] = [
    ["invitation_cancelled", { status: "cancelled" }],
    ["invitation_declined", { status: "declined" }],
    ["invitation_used", { status: "accepted", uses: 1 }],
    ["invitation_expired", { expires_at: new Date(Date.now() - 1000) }],
  ];
  for (const [code, set] of endings) {
    const email = uniqueEmail("late");
    const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), email });
    await t.db.updateTable("invitations").set(set).where("id", "=", inv.id).execute();
    const res = await signup(email, inv.token);
    assert.equal(res.status, 410, `${code}: ${res.text}`);
    assert.equal(res.json.code, code);
    assert.equal(await userCount(email), 0, `${code}: no account`);
  }
});

test("an unknown token fails with 404 and creates no account", async () => {
  const email = uniqueEmail("ghost");
  const res = await signup(email, "x".repeat(43));
  assert.equal(res.status, 404);
  assert.equal(res.json.code, "invitation_not_found");
  assert.equal(await userCount(email), 0);
});

test("an e-mail invitation's sign-up with another address fails 403 and creates nothing", async () => {
  const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), email: uniqueEmail("right") });
  const wrong = uniqueEmail("wrong");
  const res = await signup(wrong, inv.token);
  assert.equal(res.status, 403);
  assert.equal(res.json.code, "invitation_email_mismatch");
  assert.equal(res.json.emailHint, "r***@example.org");
  assert.equal(await userCount(wrong), 0);
  assert.deepEqual(await invitationState(t, inv.id), { status: "pending", uses: 0, useRows: 0 });
});

test("an address that already has an account gets the decoy, and the invitation stays unused", async () => {
  const existing = await buildUser(t, { name: "Eve Existing" });
  const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), email: existing.email });
  const res = await signup(existing.email, inv.token, "Someone Else");
  assert.equal(res.status, 201, res.text);
  assert.notEqual(res.json.user.id, existing.userId);
  assert.deepEqual(await invitationState(t, inv.id), { status: "pending", uses: 0, useRows: 0 });
  const mail = await t.smtp.waitFor((m) => m.to.includes(existing.email) && /already have/i.test(m.subject));
  assert.ok(mail);
  // The owner of the address can still accept it by logging in.
  const ok = await t.request("POST", "/api/v1/invitations/accept", {
    token: existing.token,
    body: { token: inv.token },
  });
  assert.equal(ok.status, 200, ok.text);
});

test("an invited sign-up works on an invite-only server; an uninvited one does not", async () => {
  const closed = await testApp({ SIGNUP: "invite-only" });
  try {
    const owner = await closed.db
      .insertInto("users")
      .values({
        id: "usr_00000000000000000000000001",
        email: uniqueEmail("op"),
        name: "Op",
        password_hash: null,
      })
      .returning(["id", "name"])
      .executeTakeFirstOrThrow();
    const orgId = "org_00000000000000000000000001";
    await closed.db.insertInto("organizations").values({ id: orgId, name: "Closed" }).execute();
    await closed.db
      .insertInto("org_memberships")
      .values({ org_id: orgId, user_id: owner.id, role: "owner" })
      .execute();
    const inv = await buildInvitation(closed, { orgId, invitedBy: { userId: owner.id, name: owner.name } });
    const body = { email: uniqueEmail("in"), password: PASSWORD, name: "Ina" };
    const refused = await closed.request("POST", "/api/v1/auth/signup", { body, remoteAddress: randomIp() });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.code, "signup_disabled");
    const res = await closed.request("POST", "/api/v1/auth/signup", {
      body: { ...body, invitationToken: inv.token },
      remoteAddress: randomIp(),
    });
    assert.equal(res.status, 201, res.text);
  } finally {
    await closed.close();
  }
});
