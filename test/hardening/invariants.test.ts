// Issue 7, deliverable 5b: random sequences of operations by random actors, sent through the HTTP
// API, keep Rollcall's invariants after every single step (rules 1, 2, 5, 6, 8, 9, 14, 16: docs/rules.md).
//
// How it is built — fc.array of operation descriptors run in order, not fc.commands. A descriptor
// names its actor, target, workspace and invitation by a number that is read modulo the lists of
// the live world when the step runs, so every generated sequence can run, and a shrunk one still
// can. There is no model predicting which steps should succeed (it would restate the code under
// test): the server decides, and the oracle is what must hold whatever it decides.
//   - A refused step answers a 4xx problem, never a 5xx, and changes nothing.
//   - A step that succeeded changed only what its actor's standing just before it allowed (rule 1,
//     judged by the rank table in invariants/oracle.ts, not by src/access/can.ts), each change with
//     its audit event (rule 14). A join changed only the joiner, raising and never lowering (rule 8),
//     through an invitation that was usable, for their address (rules 5, 6), and that its inviter
//     could still give at that moment (rules 1 and 9).
//   - After every step, in SQL over the whole database: every organisation has an owner (rule 2);
//     uses ≤ maxUses, equal to the uses recorded and agreeing with the status (rule 5); one pending
//     e-mail invitation per address per organisation (rule 5); every workspace member is a member
//     of the workspace's organisation; every grant names a workspace of its invitation's organisation.
//
// Each run builds two organisations — A, and B to tempt cross-tenant mistakes — whose people hold
// random org and workspace roles (some belong to both). INVARIANTS_SEED fixes the seed (default:
// a constant, so CI is repeatable); a failure report names the seed and the path to replay it
// with INVARIANTS_SEED and INVARIANTS_PATH. INVARIANTS_RUNS sets the number of runs (default 40);
// INVARIANTS_TIME_LIMIT_MS (default 60 s) stops starting new ones, so a loaded machine runs fewer
// rather than overrunning the file's budget.
//
// The parts: invariants/ops.ts (the operation descriptors and their arbitraries), world.ts (the
// standing people, the world of one run, and choosing from it), run.ts and invite-and-accept.ts
// (each descriptor sent as a request), step.ts (one step: before, request, after, judgement),
// checks.ts (snapshots, their diff, and the SQL invariants), oracle.ts (the rank table and what a
// successful step may have changed). Here: the property, and the defects it found, pinned.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { buildUser, PASSWORD, randomIp, type TestApp, testApp, uniqueEmail } from "../helpers/app.js";
import { buildInvitation, orgRoleOf as storedOrgRole } from "../helpers/invitations.js";
import { buildOrg, grantWorkspaceRole, joinOrg } from "../helpers/org.js";
import { layoutArb, opArb } from "./invariants/ops.js";
import { runOp } from "./invariants/run.js";
import { buildSuite, buildWorld, type Suite, tokenOf } from "./invariants/world.js";

const SEED = Number(process.env.INVARIANTS_SEED ?? 20_240_707);
const PATH = process.env.INVARIANTS_PATH;
const RUNS = Number(process.env.INVARIANTS_RUNS ?? 40);
const TIME_LIMIT_MS = Number(process.env.INVARIANTS_TIME_LIMIT_MS ?? 60_000);

let t: TestApp;
/** The standing people and the counts, shared by every run of the property. */
let suite: Suite;

before(async () => {
  // The same people are invited, and make organisations, run after run: the limits on mail to one
  // address and on organisations per user have tests of their own.
  t = await testApp({
    RATE_LIMIT_INVITATION_MAILS_RECIPIENT: "100000/1d",
    RATE_LIMIT_ORGS_USER: "100000/1d",
  });
  suite = await buildSuite(t);
});

after(async () => {
  await t.close();
});

test("random sequences of operations by random actors keep every invariant after each step", async (ctx) => {
  // Promise: whoever acts and in whatever order, a refused step changes nothing, a successful one
  // only what its actor may (rules 1, 8, 9, 14), and the invariants hold after each (rules 2, 5).
  await fc.assert(
    fc.asyncProperty(
      layoutArb,
      fc.array(opArb, { minLength: 5, maxLength: 40, size: "max" }),
      async (layout, ops) => {
        const world = await buildWorld(suite, layout);
        for (const op of ops) await runOp(world, op);
        suite.stats.runs++;
      },
    ),
    {
      seed: SEED,
      numRuns: RUNS,
      interruptAfterTimeLimit: TIME_LIMIT_MS,
      includeErrorInReport: true,
      ...(PATH ? { path: PATH } : {}),
    },
  );
  const { runs, steps, refused, tally } = suite.stats;
  const summary = [...tally].map(([k, v]) => `${k} ${v.ok}/${v.ok + v.refused}`).join(", ");
  ctx.diagnostic(
    `seed ${SEED}: ${runs} runs, ${steps} steps (${refused} refused); succeeded/tried: ${summary}`,
  );
  // Not vacuous: the sequences reached the operations that matter, and both ways.
  assert.ok(steps >= 50, `only ${steps} steps in ${runs} runs`);
  for (const kind of ["orgRole", "putWs", "invite", "accept", "cancel", "resend"]) {
    const c = tally.get(kind);
    assert.ok(
      c && c.ok > 0 && c.refused > 0,
      `${kind} should both succeed and be refused: ${JSON.stringify(c)}`,
    );
  }
});

// ---- the defects the property found, pinned -------------------------------------------------

describe("defect: an invitation outlived its inviter's standing (rules 1 and 9)", () => {
  const invite = (token: string, orgId: string, body: object) =>
    t.request("POST", `/api/v1/orgs/${orgId}/invitations`, { token, body });
  const statusOf = async (id: string) =>
    (await t.db.selectFrom("invitations").select("status").where("id", "=", id).executeTakeFirstOrThrow())
      .status;
  const acceptAsNewcomer = async (url: string) => {
    const newcomer = await buildUser(t);
    const res = await t.request("POST", "/api/v1/invitations/accept", {
      token: newcomer.token,
      body: { token: tokenOf(url) },
      remoteAddress: randomIp(),
    });
    return { res, newcomer };
  };

  test("demoted, an admin's invitations they could no longer make are cancelled, with their audit event", async () => {
    // Found as: an owner demoted to member, and a sign-up through their link still joined.
    const org = await buildOrg(t);
    const admin = await joinOrg(t, org.orgId, "admin", "Ada Admin");
    const asAdmin = await invite(admin.token, org.orgId, { delivery: "link", role: "admin", maxUses: 5 });
    const asMember = await invite(admin.token, org.orgId, {
      delivery: "link",
      role: "member",
      workspaces: [{ workspaceId: org.workspaceId, role: "editor" }],
    });
    const ownersOwn = await invite(org.owner.token, org.orgId, { delivery: "link", role: "admin" });
    for (const r of [asAdmin, asMember, ownersOwn]) assert.equal(r.status, 201, r.text);

    const demoted = await t.request("PATCH", `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, {
      token: org.owner.token,
      body: { role: "member" },
    });
    assert.equal(demoted.status, 200, demoted.text);

    assert.equal(await statusOf(asAdmin.json.invitation.id), "cancelled");
    assert.equal(await statusOf(asMember.json.invitation.id), "cancelled");
    assert.equal(await statusOf(ownersOwn.json.invitation.id), "pending", "the owner's stays");
    const events = await t.db
      .selectFrom("audit_events")
      .select(["actor_id", "target_id"])
      .where("org_id", "=", org.orgId)
      .where("action", "=", "invitation.cancelled")
      .execute();
    assert.deepEqual(
      events.map((e) => e.target_id).sort(),
      [asAdmin.json.invitation.id, asMember.json.invitation.id].sort(),
    );
    assert.ok(
      events.every((e) => e.actor_id === org.owner.userId),
      "the demoting owner cancelled them",
    );

    const { res, newcomer } = await acceptAsNewcomer(asAdmin.json.url);
    assert.equal(res.status, 410, res.text);
    assert.equal(res.json.code, "invitation_cancelled");
    assert.equal(await storedOrgRole(t, org.orgId, newcomer.userId), null);
  });

  test("an owner made admin keeps their admin invitations and loses the owner ones", async () => {
    const org = await buildOrg(t);
    const second = await joinOrg(t, org.orgId, "owner", "Otto Owner");
    const asOwner = await invite(second.token, org.orgId, {
      delivery: "email",
      email: uniqueEmail(),
      role: "owner",
    });
    const asAdmin = await invite(second.token, org.orgId, { delivery: "link", role: "admin" });
    const res = await t.request("PATCH", `/api/v1/orgs/${org.orgId}/members/${second.userId}`, {
      token: org.owner.token,
      body: { role: "admin" },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(await statusOf(asOwner.json.invitation.id), "cancelled");
    assert.equal(await statusOf(asAdmin.json.invitation.id), "pending");
  });

  test("removed, or leaving, an admin's pending invitations are cancelled", async () => {
    const org = await buildOrg(t);
    const removed = await joinOrg(t, org.orgId, "admin", "Rem Oved");
    const leaver = await joinOrg(t, org.orgId, "admin", "Lee Ver");
    const byRemoved = await invite(removed.token, org.orgId, {
      delivery: "link",
      role: "member",
      maxUses: 9,
    });
    const byLeaver = await invite(leaver.token, org.orgId, {
      delivery: "email",
      email: uniqueEmail(),
      role: "member",
    });
    const out = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${removed.userId}`, {
      token: org.owner.token,
    });
    const left = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${leaver.userId}`, {
      token: leaver.token,
    });
    assert.equal(out.status, 204, out.text);
    assert.equal(left.status, 204, left.text);
    assert.equal(await statusOf(byRemoved.json.invitation.id), "cancelled");
    assert.equal(await statusOf(byLeaver.json.invitation.id), "cancelled");
    const { res } = await acceptAsNewcomer(byRemoved.json.url);
    assert.equal(res.json.code, "invitation_cancelled");
  });

  test("a workspace admin's invitations go when their role there is lowered or taken, or the workspace is deleted", async () => {
    const org = await buildOrg(t);
    const second = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
      token: org.owner.token,
      body: { name: "Second" },
    });
    const secondId: string = second.json.workspace.id;
    const lowered = await joinOrg(t, org.orgId, "member", "Low Ered");
    const taken = await joinOrg(t, org.orgId, "member", "Tay Ken");
    const both = await joinOrg(t, org.orgId, "member", "Bo Th");
    for (const u of [lowered, taken, both])
      await grantWorkspaceRole(t, org.orgId, org.workspaceId, u.userId, "admin");
    await grantWorkspaceRole(t, org.orgId, secondId, both.userId, "admin");
    const viaWs = (u: { token: string }, ws: string) =>
      t.request("POST", `/api/v1/workspaces/${ws}/invitations`, {
        token: u.token,
        body: { delivery: "link", role: "editor" },
      });
    const byLowered = await viaWs(lowered, org.workspaceId);
    const byTaken = await viaWs(taken, org.workspaceId);
    const onlyFirst = await viaWs(both, org.workspaceId);
    // Through the API a workspace admin's invitation grants their one workspace; one granting two
    // (as `rollcall invite` or a later API could make) is written directly.
    const twoPlaces = await buildInvitation(t, {
      orgId: org.orgId,
      invitedBy: { userId: both.userId, name: both.name },
      workspaces: [
        { workspaceId: org.workspaceId, role: "viewer" },
        { workspaceId: secondId, role: "viewer" },
      ],
    });
    const bySecondOnly = await viaWs(both, secondId);
    for (const r of [byLowered, byTaken, onlyFirst, bySecondOnly]) assert.equal(r.status, 201, r.text);

    const put = await t.request("PUT", `/api/v1/workspaces/${org.workspaceId}/members/${lowered.userId}`, {
      token: org.owner.token,
      body: { role: "editor" },
    });
    const del = await t.request("DELETE", `/api/v1/workspaces/${org.workspaceId}/members/${taken.userId}`, {
      token: org.owner.token,
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(del.status, 204, del.text);
    assert.equal(await statusOf(byLowered.json.invitation.id), "cancelled");
    assert.equal(await statusOf(byTaken.json.invitation.id), "cancelled");

    // Deleting the first workspace: an invitation left granting nothing would make a member of
    // the organisation on the word of someone who cannot invite to it; one that still grants the
    // second workspace, where its inviter is admin, stands.
    const gone = await t.request("DELETE", `/api/v1/workspaces/${org.workspaceId}`, {
      token: org.owner.token,
    });
    assert.equal(gone.status, 204, gone.text);
    assert.equal(await statusOf(onlyFirst.json.invitation.id), "cancelled");
    assert.equal(await statusOf(twoPlaces.id), "pending");
    assert.equal(await statusOf(bySecondOnly.json.invitation.id), "pending");
  });

  test("at accept and invited sign-up, an invitation its inviter can no longer back answers 410 and changes nothing", async () => {
    // The net under the cancellations above: an inviter demoted while their invitation was
    // being made (here: behind the API's back) leaves one pending that nobody backs.
    const org = await buildOrg(t);
    const admin = await joinOrg(t, org.orgId, "admin", "Ada Admin");
    const link = await invite(admin.token, org.orgId, { delivery: "link", role: "admin", maxUses: 3 });
    assert.equal(link.status, 201, link.text);
    await t.db
      .updateTable("org_memberships")
      .set({ role: "member" })
      .where("org_id", "=", org.orgId)
      .where("user_id", "=", admin.userId)
      .execute();
    const { res, newcomer } = await acceptAsNewcomer(link.json.url);
    assert.equal(res.status, 410, res.text);
    assert.equal(res.json.code, "invitation_cancelled");
    assert.equal(await storedOrgRole(t, org.orgId, newcomer.userId), null);
    const email = uniqueEmail("joiner");
    const signup = await t.request("POST", "/api/v1/auth/signup", {
      body: { email, password: PASSWORD, name: "Jo Iner", invitationToken: tokenOf(link.json.url) },
      remoteAddress: randomIp(),
    });
    assert.equal(signup.status, 410, signup.text);
    assert.equal(
      await t.db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst(),
      undefined,
    );
    const row = await t.db
      .selectFrom("invitations")
      .select(["uses", "status"])
      .where("id", "=", link.json.invitation.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { uses: 0, status: "pending" });
  });
});

describe("defect: an org admin could resend or cancel an invitation as owner (rule 1, 'as for creating it')", () => {
  test("only someone who could create it manages it; whoever resends it backs it from then on", async () => {
    const org = await buildOrg(t);
    const admin = await joinOrg(t, org.orgId, "admin", "Ada Admin");
    const asOwner = await t.request("POST", `/api/v1/orgs/${org.orgId}/invitations`, {
      token: org.owner.token,
      body: { delivery: "email", email: uniqueEmail(), role: "owner" },
    });
    assert.equal(asOwner.status, 201, asOwner.text);
    const id: string = asOwner.json.invitation.id;
    const resend = await t.request("POST", `/api/v1/invitations/${id}/resend`, { token: admin.token });
    const cancel = await t.request("DELETE", `/api/v1/invitations/${id}`, { token: admin.token });
    assert.equal(resend.status, 403, resend.text);
    assert.equal(cancel.status, 403, cancel.text);
    assert.equal(
      (await t.db.selectFrom("invitations").select("status").where("id", "=", id).executeTakeFirstOrThrow())
        .status,
      "pending",
    );

    // The admin's own invitation, resent by the owner, is the owner's to back from then on: the
    // admin's removal does not take it away.
    const adminsOwn = await t.request("POST", `/api/v1/orgs/${org.orgId}/invitations`, {
      token: admin.token,
      body: { delivery: "link", role: "admin" },
    });
    const renewed = await t.request("POST", `/api/v1/invitations/${adminsOwn.json.invitation.id}/resend`, {
      token: org.owner.token,
    });
    assert.equal(renewed.status, 200, renewed.text);
    assert.deepEqual(renewed.json.invitation.invitedBy, { id: org.owner.userId, name: org.owner.name });
    await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, {
      token: org.owner.token,
    });
    const row = await t.db
      .selectFrom("invitations")
      .select("status")
      .where("id", "=", adminsOwn.json.invitation.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, "pending");
  });
});
