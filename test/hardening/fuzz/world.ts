// The world the fuzz throws its junk at, built once through the API as users would build it: an
// owner and a member in one organisation (with a workspace and a pending invitation), a stranger
// with an organisation, workspace and invitation of their own (the other tenant, rule 3), spare
// sessions to end, and the token of a session that logged out. The generators aim at these ids:
// the valid ones so that a request reaches the layer that must refuse its junk, the others as junk.
import assert from "node:assert/strict";
import { sql } from "kysely";
import { createSession } from "../../../src/sessions/operations.js";
import { buildUser, randomIp, type TestApp, uniqueEmail } from "../../helpers/app.js";
import { grantWorkspaceRole, joinOrg } from "../../helpers/org.js";

export interface Person {
  userId: string;
  email: string;
  token: string;
  sessionId: string;
  /** A second session of this person: the valid target of DELETE /me/sessions/{id}. */
  spareSessionId: string;
}

export interface World {
  owner: Person;
  /** A member of the owner's organisation, viewer in its workspace. */
  member: Person;
  orgId: string;
  workspaceId: string;
  invitationId: string;
  /** Another tenant's ids. */
  other: { userId: string; orgId: string; workspaceId: string; sessionId: string; invitationId: string };
  /** The token of a session that logged out. */
  revokedToken: string;
}

/** Another session for the user, as a log-in makes it (without paying for a password hash). */
async function newSession(t: TestApp, userId: string): Promise<{ token: string; sessionId: string }> {
  const session = await createSession(t.db, userId, { userAgent: "fuzz", ip: randomIp() }, t.config.session);
  return { token: session.token, sessionId: session.id };
}

async function invite(t: TestApp, token: string, orgId: string, workspaceId: string): Promise<string> {
  const res = await t.request("POST", `/api/v1/orgs/${orgId}/invitations`, {
    token,
    body: { email: uniqueEmail("invitee"), role: "member", workspaces: [{ workspaceId, role: "viewer" }] },
  });
  assert.equal(res.status, 201, res.text);
  return res.json.invitation.id;
}

export async function buildWorld(t: TestApp): Promise<World> {
  const owner = await buildUser(t, { name: "Olive Owner" });
  const orgId: string = (await t.request("GET", "/api/v1/me", { token: owner.token })).json.organizations[0]
    .id;
  const workspaces = await t.request("GET", `/api/v1/orgs/${orgId}/workspaces`, { token: owner.token });
  const workspaceId: string = workspaces.json.items[0].id;
  const member = await joinOrg(t, orgId, "member", "Mia Member");
  await grantWorkspaceRole(t, orgId, workspaceId, member.userId, "viewer");
  const invitationId = await invite(t, owner.token, orgId, workspaceId);

  const stranger = await buildUser(t, { name: "Otto Other" });
  const otherOrgId: string = (await t.request("GET", "/api/v1/me", { token: stranger.token })).json
    .organizations[0].id;
  const otherWorkspaces = await t.request("GET", `/api/v1/orgs/${otherOrgId}/workspaces`, {
    token: stranger.token,
  });
  const otherWorkspaceId: string = otherWorkspaces.json.items[0].id;
  const otherInvitationId = await invite(t, stranger.token, otherOrgId, otherWorkspaceId);

  const revoked = await newSession(t, owner.userId);
  assert.equal((await t.request("POST", "/api/v1/auth/logout", { token: revoked.token })).status, 204);

  const person = async (u: typeof owner): Promise<Person> => ({
    userId: u.userId,
    email: u.email,
    token: u.token,
    sessionId: u.sessionId,
    spareSessionId: (await newSession(t, u.userId)).sessionId,
  });
  const world: World = {
    owner: await person(owner),
    member: await person(member),
    orgId,
    workspaceId,
    invitationId,
    other: {
      userId: stranger.userId,
      orgId: otherOrgId,
      workspaceId: otherWorkspaceId,
      sessionId: stranger.sessionId,
      invitationId: otherInvitationId,
    },
    revokedToken: revoked.token,
  };
  // The invitation mails must be delivered before the first snapshot: the worker's writes to
  // the outbox are not the junk's.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM mail_outbox WHERE status <> 'sent'`.execute(t.db);
    if (Number(rows[0]?.n) === 0) break;
    assert.ok(Date.now() < deadline, "the set-up mails were not delivered");
    await new Promise((r) => setTimeout(r, 50));
  }
  return world;
}
