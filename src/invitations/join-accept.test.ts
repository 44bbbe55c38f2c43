// POST /api/v1/invitations/accept and /decline for existing users: joining at once (rule 8),
// e-mail binding (rule 6), merging that raises and never lowers (rule 8), ended invitations
// (rule 5), a resend's dead token. README.md#invitations.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildUser, type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import {
  buildInvitation,
  invitationState,
  orgRoleOf,
  workspaceRoleOf,
} from "../../test/helpers/invitations.js";
import { buildOrg, grantWorkspaceRole, joinOrg, type Org } from "../../test/helpers/org.js";
import { newInvitationToken } from "./model.js";

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
const accept = (user: SignedUp, token: string) =>
  t.request("POST", "/api/v1/invitations/accept", { token: user.token, body: { token } });
const decline = (user: SignedUp, token: string) =>
  t.request("POST", "/api/v1/invitations/decline", { token: user.token, body: { token } });

describe("accepting", () => {
  test("an existing user joins at once: the organisation is in GET /me", async () => {
    const bob = await buildUser(t, { name: "Bob" });
    const inv = await buildInvitation(t, {
      orgId: org.orgId,
      invitedBy: by(),
      email: bob.email.toUpperCase(),
      role: "admin",
      workspaces: [{ workspaceId: org.workspaceId, role: "editor" }],
    });
    const res = await accept(bob, inv.token);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.organization.id, org.orgId);
    assert.equal(res.json.role, "admin");
    assert.deepEqual(res.json.workspaces, [{ id: org.workspaceId, name: "General", role: "editor" }]);
    const me = await t.request("GET", "/api/v1/me", { token: bob.token });
    assert.ok(
      me.json.organizations.some(
        (o: { id: string; role: string }) => o.id === org.orgId && o.role === "admin",
      ),
    );
    assert.deepEqual(await invitationState(t, inv.id), { status: "accepted", uses: 1, useRows: 1 });
    const actions = await t.db
      .selectFrom("audit_events")
      .select(["action", "actor_id"])
      .where("org_id", "=", org.orgId)
      .where("target_id", "in", [bob.userId, inv.id])
      .execute();
    assert.deepEqual(actions.map((a) => a.action).sort(), [
      "invitation.accepted",
      "member.added",
      "workspace_member.added",
    ]);
    assert.ok(
      actions.every((a) => a.actor_id === bob.userId),
      "the new member is the actor",
    );
    // Accepting again is the same answer and uses nothing more.
    const again = await accept(bob, inv.token);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(await invitationState(t, inv.id), { status: "accepted", uses: 1, useRows: 1 });
  });

  test("a link used twice by the same person counts one use", async () => {
    const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), maxUses: 3 });
    const u = await buildUser(t);
    assert.equal((await accept(u, inv.token)).status, 200);
    assert.equal((await accept(u, inv.token)).status, 200);
    assert.deepEqual(await invitationState(t, inv.id), { status: "pending", uses: 1, useRows: 1 });
  });

  test("an e-mail invitation refuses another address with 403 and the masked invited address", async () => {
    const inv = await buildInvitation(t, {
      orgId: org.orgId,
      invitedBy: by(),
      email: `carol.${Date.now()}@example.org`,
    });
    const mallory = await buildUser(t);
    const res = await accept(mallory, inv.token);
    assert.equal(res.status, 403);
    assert.equal(res.json.code, "invitation_email_mismatch");
    assert.equal(res.json.emailHint, "c***@example.org");
    assert.match(res.json.detail, /c\*\*\*@example\.org/);
    assert.ok(!res.text.includes("carol."), "never the address itself");
    assert.equal(await orgRoleOf(t, org.orgId, mallory.userId), null);
    assert.deepEqual(await invitationState(t, inv.id), { status: "pending", uses: 0, useRows: 0 });
    const declined = await decline(mallory, inv.token);
    assert.equal(declined.status, 403);
    assert.equal(declined.json.code, "invitation_email_mismatch");
    assert.equal((await invitationState(t, inv.id)).status, "pending");
  });

  test("without a session, accept answers 401", async () => {
    const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), maxUses: 2 });
    const res = await t.request("POST", "/api/v1/invitations/accept", { body: { token: inv.token } });
    assert.equal(res.status, 401);
  });
});

describe("merging (rule 8): raised, never lowered", () => {
  test("a member invited as admin becomes admin", async () => {
    const m = await joinOrg(t, org.orgId, "member");
    const inv = await buildInvitation(t, {
      orgId: org.orgId,
      invitedBy: by(),
      email: m.email,
      role: "admin",
    });
    const res = await accept(m, inv.token);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.role, "admin");
    assert.equal(await orgRoleOf(t, org.orgId, m.userId), "admin");
  });

  test("an admin invited as member stays admin", async () => {
    const a = await joinOrg(t, org.orgId, "admin");
    const inv = await buildInvitation(t, {
      orgId: org.orgId,
      invitedBy: by(),
      email: a.email,
      role: "member",
    });
    const res = await accept(a, inv.token);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.role, "admin");
    assert.equal(await orgRoleOf(t, org.orgId, a.userId), "admin");
  });

  test("a workspace viewer invited as editor becomes editor; an editor invited as viewer stays editor", async () => {
    const v = await joinOrg(t, org.orgId, "member");
    await grantWorkspaceRole(t, org.orgId, org.workspaceId, v.userId, "viewer");
    const e = await joinOrg(t, org.orgId, "member");
    await grantWorkspaceRole(t, org.orgId, org.workspaceId, e.userId, "editor");
    const raise = await buildInvitation(t, {
      orgId: org.orgId,
      invitedBy: by(),
      email: v.email,
      workspaces: [{ workspaceId: org.workspaceId, role: "editor" }],
    });
    const lower = await buildInvitation(t, {
      orgId: org.orgId,
      invitedBy: by(),
      email: e.email,
      workspaces: [{ workspaceId: org.workspaceId, role: "viewer" }],
    });
    const r1 = await accept(v, raise.token);
    assert.equal(r1.status, 200, r1.text);
    assert.deepEqual(r1.json.workspaces, [{ id: org.workspaceId, name: "General", role: "editor" }]);
    assert.equal(await workspaceRoleOf(t, org.workspaceId, v.userId), "editor");
    const r2 = await accept(e, lower.token);
    assert.equal(r2.status, 200, r2.text);
    assert.deepEqual(r2.json.workspaces, [{ id: org.workspaceId, name: "General", role: "editor" }]);
    assert.equal(await workspaceRoleOf(t, org.workspaceId, e.userId), "editor");
  });
});

describe("ended invitations (rule 5)", () => {
  const endings: [string, string, (id: string) => Promise<unknown>][] = [
    [
      "cancelled",
      "invitation_cancelled",
      (id) => t.db.updateTable("invitations").set({ status: "cancelled" }).where("id", "=", id).execute(),
    ],
    [
      "declined",
      "invitation_declined",
      (id) => t.db.updateTable("invitations").set({ status: "declined" }).where("id", "=", id).execute(),
    ],
    [
      "expired",
      "invitation_expired",
      (id) =>
        t.db
          .updateTable("invitations")
          .set({ expires_at: new Date(Date.now() - 1000) })
          .where("id", "=", id)
          .execute(),
    ],
    [
      "used",
      "invitation_used",
      (id) =>
        t.db.updateTable("invitations").set({ status: "accepted", uses: 1 }).where("id", "=", id).execute(),
    ],
  ];
  for (const [name, code, end] of endings) {
    test(`accept after ${name} answers 410 ${code} and joins no one`, async () => {
      const u = await buildUser(t);
      const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), email: u.email });
      await end(inv.id);
      const res = await accept(u, inv.token);
      assert.equal(res.status, 410, res.text);
      assert.equal(res.json.code, code);
      assert.equal(await orgRoleOf(t, org.orgId, u.userId), null);
    });
  }

  test("after a resend replaced the token, the old one answers 404", async () => {
    const u = await buildUser(t);
    const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), email: u.email });
    await t.db
      .updateTable("invitations")
      .set({ token_hash: newInvitationToken().hash })
      .where("id", "=", inv.id)
      .execute();
    const res = await accept(u, inv.token);
    assert.equal(res.status, 404);
    assert.equal(res.json.code, "invitation_not_found");
  });
});

describe("declining", () => {
  test("the invitee declines: 204, status declined, audited, and it can no longer be accepted", async () => {
    const u = await buildUser(t);
    const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), email: u.email });
    const res = await decline(u, inv.token);
    assert.equal(res.status, 204, res.text);
    assert.equal((await invitationState(t, inv.id)).status, "declined");
    const event = await t.db
      .selectFrom("audit_events")
      .select("actor_id")
      .where("action", "=", "invitation.declined")
      .where("target_id", "=", inv.id)
      .executeTakeFirst();
    assert.equal(event?.actor_id, u.userId);
    const late = await accept(u, inv.token);
    assert.equal(late.status, 410);
    assert.equal(late.json.code, "invitation_declined");
    assert.equal((await decline(u, inv.token)).status, 410);
  });

  test("declining a link changes nothing", async () => {
    const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), maxUses: 2 });
    const u = await buildUser(t);
    assert.equal((await decline(u, inv.token)).status, 204);
    assert.deepEqual(await invitationState(t, inv.id), { status: "pending", uses: 0, useRows: 0 });
    assert.equal((await accept(u, inv.token)).status, 200);
  });

  test("an unknown token answers 404", async () => {
    const u = await buildUser(t);
    const res = await decline(u, newInvitationToken().token);
    assert.equal(res.status, 404);
    assert.equal(res.json.code, "invitation_not_found");
  });
});
