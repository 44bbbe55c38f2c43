// Join notifications (rule 15), received by a real SMTP listener: one mail per person acting as
// admin in a workspace joined, none to the new member or to a workspace editor; owners and
// admins when no workspace was granted; nothing for a merge that changes nothing. And rule 14:
// a failure at the accept's audit event leaves nothing of the accept behind.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "kysely";
import { buildUser, PUBLIC_URL, type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import { buildInvitation, invitationState, orgRoleOf } from "../../test/helpers/invitations.js";
import { buildOrg, grantWorkspaceRole, joinOrg, type Org } from "../../test/helpers/org.js";
import { newId } from "../db/ids.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

const accept = (user: SignedUp, token: string) =>
  t.request("POST", "/api/v1/invitations/accept", { token: user.token, body: { token } });

async function orgName(orgId: string): Promise<string> {
  return (
    await t.db.selectFrom("organizations").select("name").where("id", "=", orgId).executeTakeFirstOrThrow()
  ).name;
}

/**
 * The recipients of `memberName`'s join mails: each expected one received over SMTP, then every
 * one queued (the outbox holds exactly what will ever be sent) once the worker is idle.
 */
async function joinedRecipients(memberName: string, expected: string[]): Promise<string[]> {
  for (const e of expected)
    await t.smtp.waitFor(
      (m) => m.subject.startsWith(`“${memberName}” joined`) && m.envelopeTo.includes(e.toLowerCase()),
    );
  await t.app.mailWorker.runUntilIdle();
  const received = t.smtp.messages
    .filter((m) => m.subject.startsWith(`“${memberName}” joined`))
    .map((m) => m.envelopeTo.join(",").toLowerCase());
  const queued = await t.db
    .selectFrom("mail_outbox")
    .select("to_address")
    .where("kind", "=", "member_joined")
    .where("subject", "like", `“${memberName}” joined%`)
    .execute();
  assert.equal(queued.length, received.length, "every queued mail was delivered, once");
  return received.sort();
}

/** An organisation with: owner, org admin, org member who is admin of a second workspace, an editor there. */
async function setting(): Promise<
  Org & { admin: SignedUp; wsAdmin: SignedUp; editor: SignedUp; ws2: string }
> {
  const org = await buildOrg(t, "Olive Owner");
  const ws2 = newId("wsp");
  await t.db.insertInto("workspaces").values({ id: ws2, org_id: org.orgId, name: "Field" }).execute();
  const admin = await joinOrg(t, org.orgId, "admin", "Ada Admin");
  const wsAdmin = await joinOrg(t, org.orgId, "member", "Wes Wsadmin");
  await grantWorkspaceRole(t, org.orgId, ws2, wsAdmin.userId, "admin");
  await grantWorkspaceRole(t, org.orgId, org.workspaceId, wsAdmin.userId, "admin");
  const editor = await joinOrg(t, org.orgId, "member", "Ed Editor");
  await grantWorkspaceRole(t, org.orgId, ws2, editor.userId, "editor");
  return { ...org, admin, wsAdmin, editor, ws2 };
}

test("joining workspaces mails each effective admin once, and no one else", async () => {
  const s = await setting();
  const bob = await buildUser(t, { name: "Bob Newcomer" });
  const inv = await buildInvitation(t, {
    orgId: s.orgId,
    invitedBy: { userId: s.owner.userId, name: "Olive Owner" },
    email: bob.email,
    workspaces: [
      { workspaceId: s.workspaceId, role: "agent" },
      { workspaceId: s.ws2, role: "viewer" },
    ],
  });
  const res = await accept(bob, inv.token);
  assert.equal(res.status, 200, res.text);
  const name = await orgName(s.orgId);
  const first = await t.smtp.waitFor((m) => m.subject === `“Bob Newcomer” joined “${name}”`);
  assert.ok(first.text?.includes(`${PUBLIC_URL}/orgs/${s.orgId}/members`), first.text);
  const expected = [s.owner.email, s.admin.email, s.wsAdmin.email].map((e) => e.toLowerCase()).sort();
  const to = await joinedRecipients("Bob Newcomer", expected);
  assert.deepEqual(to, expected, "one mail per person, though Wes administers both workspaces");
  assert.ok(!to.includes(bob.email.toLowerCase()), "never the new member");
  assert.ok(!to.includes(s.editor.email.toLowerCase()), "never a workspace editor");
});

test("without workspaces, the organisation's owners and admins are told", async () => {
  const s = await setting();
  const cleo = await buildUser(t, { name: "Cleo Linkjoiner" });
  const inv = await buildInvitation(t, {
    orgId: s.orgId,
    invitedBy: { userId: s.owner.userId, name: "Olive Owner" },
    maxUses: 5,
  });
  assert.equal((await accept(cleo, inv.token)).status, 200);
  const expected = [s.owner.email, s.admin.email].map((e) => e.toLowerCase()).sort();
  assert.deepEqual(await joinedRecipients("Cleo Linkjoiner", expected), expected);
});

test("an org admin who joins a workspace is not told of their own joining", async () => {
  const s = await setting();
  await t.db.updateTable("users").set({ name: "Ada Selfjoin" }).where("id", "=", s.admin.userId).execute();
  const inv = await buildInvitation(t, {
    orgId: s.orgId,
    invitedBy: { userId: s.owner.userId, name: "Olive Owner" },
    email: s.admin.email,
    role: "member",
    workspaces: [{ workspaceId: s.ws2, role: "editor" }],
  });
  assert.equal((await accept(s.admin, inv.token)).status, 200);
  const expected = [s.owner.email, s.wsAdmin.email].map((e) => e.toLowerCase()).sort();
  assert.deepEqual(await joinedRecipients("Ada Selfjoin", expected), expected);
});

test("a merge that changes nothing sends nothing", async () => {
  const s = await setting();
  const inv = await buildInvitation(t, {
    orgId: s.orgId,
    invitedBy: { userId: s.owner.userId, name: "Olive Owner" },
    email: s.admin.email,
    role: "member",
  });
  const before = await t.db
    .selectFrom("mail_outbox")
    .select("id")
    .where("kind", "=", "member_joined")
    .execute();
  assert.equal((await accept(s.admin, inv.token)).status, 200);
  const afterRows = await t.db
    .selectFrom("mail_outbox")
    .select("id")
    .where("kind", "=", "member_joined")
    .execute();
  assert.equal(afterRows.length, before.length);
});

test("rule 14: a failure at the accept's audit event leaves no membership, no use and no mail", async () => {
  const s = await setting();
  const dan = await buildUser(t, { name: "Dan Doomed" });
  const inv = await buildInvitation(t, {
    orgId: s.orgId,
    invitedBy: { userId: s.owner.userId, name: "Olive Owner" },
    email: dan.email,
    workspaces: [{ workspaceId: s.workspaceId, role: "editor" }],
  });
  await sql`
    CREATE FUNCTION refuse_invitation_accepted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.action = 'invitation.accepted' THEN RAISE EXCEPTION 'injected failure'; END IF;
      RETURN NEW;
    END $$`.execute(t.db);
  await sql`CREATE TRIGGER inject_accept BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_invitation_accepted()`.execute(
    t.db,
  );
  let res: Awaited<ReturnType<typeof accept>>;
  try {
    res = await accept(dan, inv.token);
  } finally {
    await sql`DROP TRIGGER inject_accept ON audit_events`.execute(t.db);
    await sql`DROP FUNCTION refuse_invitation_accepted()`.execute(t.db);
  }
  assert.equal(res.status, 500);
  assert.equal(await orgRoleOf(t, s.orgId, dan.userId), null);
  const ws = await t.db
    .selectFrom("workspace_memberships")
    .select("role")
    .where("user_id", "=", dan.userId)
    .execute();
  assert.deepEqual(ws, []);
  assert.deepEqual(await invitationState(t, inv.id), { status: "pending", uses: 0, useRows: 0 });
  const queued = await t.db
    .selectFrom("mail_outbox")
    .select("id")
    .where("kind", "=", "member_joined")
    .where("subject", "like", "“Dan Doomed”%")
    .execute();
  assert.deepEqual(queued, []);
  const events = await t.db
    .selectFrom("audit_events")
    .select("action")
    .where("target_id", "=", dan.userId)
    .where("org_id", "=", s.orgId)
    .execute();
  assert.deepEqual(events, []);
  // And once the failure is gone, the same accept works.
  assert.equal((await accept(dan, inv.token)).status, 200);
});
