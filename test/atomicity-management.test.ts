// Rule 14 (docs/rules.md#rule-14) for managing an organisation: creating, resending and cancelling
// invitations, workspace memberships, workspaces and organisations, and the invitations a change
// withdraws (invitations/authority.ts, withdrawUnbacked). As in atomicity.test.ts, a trigger makes
// the database refuse one write — the operation's last one where there is a choice, so that
// everything before it has been written — and nothing of the operation may remain: every row of
// every table it may touch is compared, not counted. Each case then runs the same request with
// nothing refused, which must succeed and make the refused write. A trigger that never fired fails
// the case (the request succeeds), and so does one that fired at another write (the log says which).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "kysely";
import { type Answer, PUBLIC_URL, randomIp, type TestApp, testApp, uniqueEmail } from "./helpers/app.js";
import { type FaultTable, failing, installFaults } from "./helpers/faults.js";
import { orgRoleOf, workspaceRoleOf } from "./helpers/invitations.js";
import { buildOrg, grantWorkspaceRole, joinOrg, type Org } from "./helpers/org.js";

let t: TestApp;
before(async () => {
  // No mail worker: queued mail stays queued, so that a mail withdrawn (resend, cancel) and one
  // left alone differ in the rows compared, and nothing changes them behind a test's back.
  t = await testApp({ MAIL_WORKER: "false" });
  await installFaults(t.db);
});
after(async () => {
  await t.close();
});

// What the server answers for an error it does not expect (http/problem.ts): a bare 500.
const INTERNAL_ERROR = {
  type: "https://rollcall.dev/problems/internal-error",
  title: "Something went wrong on our side",
  status: 500,
  detail: "Something went wrong on our side",
  code: "internal_error",
};

// Every table these operations write. Not `sessions`: the guard refreshes a session's
// last_seen_at outside any operation, once a minute.
const TABLES = [
  "users",
  "organizations",
  "org_memberships",
  "workspaces",
  "workspace_memberships",
  "invitations",
  "invitation_workspaces",
  "invitation_uses",
  "audit_events",
  "mail_outbox",
  "rate_limits",
] as const;

/** Every row of every table in TABLES, whole, each table's rows in a fixed order. */
async function state(): Promise<Record<string, unknown[]>> {
  const all: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)}`.execute(t.db);
    all[table] = rows
      .map((row) => ({ key: JSON.stringify(row), row }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ row }) => row);
  }
  return all;
}

interface Fault {
  table: FaultTable;
  match: string;
}
const auditOf = (action: string): Fault => ({ table: "audit_events", match: action });
const mailOf = (kind: string): Fault => ({ table: "mail_outbox", match: kind });

/** How many rows the fault's write has made so far. */
async function written(fault: Fault): Promise<number> {
  const column = fault.table === "audit_events" ? "action" : "kind";
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM ${sql.table(fault.table)} WHERE ${sql.ref(column)} = ${fault.match}`.execute(
    t.db,
  );
  return Number(rows[0]?.n);
}

/**
 * Sends `call` with `fault`'s write refused: it must answer the bare 500, log the injected failure
 * (so the 500 is ours, not another defect's), and leave every row as it was. `meanwhile` then
 * checks what the case is about in words of its own. Sent again with nothing refused, `call`
 * must answer `ok` and make the write that was refused. Answers that second answer.
 */
async function allOrNothing(
  fault: Fault,
  call: () => Promise<Answer>,
  ok: number,
  meanwhile?: () => Promise<void>,
): Promise<Answer> {
  const before = await state();
  const logged = t.logs.length;
  const refused = await failing(t.db, fault.table, fault.match, call);
  assert.equal(refused.status, 500, `refusing ${fault.match} must fail the request: ${refused.text}`);
  assert.deepEqual(refused.json, INTERNAL_ERROR);
  assert.match(String(refused.headers["content-type"]), /^application\/problem\+json/);
  assert.ok(
    t.logs.slice(logged).some((line) => line.includes(`injected failure at ${fault.match}`)),
    "the 500 comes from the injected failure",
  );
  assert.deepEqual(await state(), before, `nothing of the request refused at ${fault.match} remains`);
  await meanwhile?.();

  const writes = await written(fault);
  const done = await call();
  assert.equal(done.status, ok, `with nothing refused the request succeeds: ${done.text}`);
  assert.equal(await written(fault), writes + 1, `the request writes ${fault.match}`);
  return done;
}

// ---- set-up through the API -------------------------------------------------------------------

interface Invited {
  id: string;
  /** The link, for a link invitation. */
  url: string | undefined;
}

async function invite(token: string, path: string, body: Record<string, unknown>): Promise<Invited> {
  const res = await t.request("POST", path, { token, body });
  assert.equal(res.status, 201, res.text);
  return { id: res.json.invitation.id, url: res.json.url };
}

const orgInvitation = (org: Org, body: Record<string, unknown>, token = org.owner.token) =>
  invite(token, `/api/v1/orgs/${org.orgId}/invitations`, body);

const workspaceInvitation = (token: string, workspaceId: string, body: Record<string, unknown>) =>
  invite(token, `/api/v1/workspaces/${workspaceId}/invitations`, body);

async function invitationRow(id: string) {
  return t.db
    .selectFrom("invitations")
    .select(["status", "token_hash", "expires_at", "invited_by", "mail_id"])
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
}

async function mailRow(id: string | null) {
  assert.ok(id, "the invitation has a mail");
  return t.db
    .selectFrom("mail_outbox")
    .select(["status", "last_error"])
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
}

/** What the accept page's lookup answers for the link (its status code). */
async function lookup(url: string | undefined): Promise<number> {
  const prefix = `${PUBLIC_URL}/invite/`;
  if (!url?.startsWith(prefix)) assert.fail(`not an invitation link: ${url}`);
  const token = url.slice(prefix.length);
  const res = await t.request("GET", `/api/v1/invitations/lookup?token=${encodeURIComponent(token)}`, {
    remoteAddress: randomIp(),
  });
  return res.status;
}

/** A member of the organisation who is admin of the workspace, and nothing more. */
async function workspaceAdmin(org: Org, workspaceId = org.workspaceId) {
  const person = await joinOrg(t, org.orgId, "member", "Wanda Workspace-Admin");
  await grantWorkspaceRole(t, org.orgId, workspaceId, person.userId, "admin");
  return person;
}

async function newWorkspace(org: Org, name: string): Promise<string> {
  const res = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
    token: org.owner.token,
    body: { name },
  });
  assert.equal(res.status, 201, res.text);
  return res.json.workspace.id;
}

// ---- invitations ------------------------------------------------------------------------------

test("creating an e-mail invitation whose audit event fails leaves no invitation, grant, mail or count", async () => {
  const org = await buildOrg(t);
  const created = await allOrNothing(
    auditOf("invitation.created"),
    () =>
      t.request("POST", `/api/v1/orgs/${org.orgId}/invitations`, {
        token: org.owner.token,
        body: {
          email: uniqueEmail("invitee"),
          role: "member",
          workspaces: [{ workspaceId: org.workspaceId, role: "editor" }],
        },
      }),
    201,
  );
  assert.equal(created.json.invitation.mail.status, "queued");
  assert.equal(created.json.invitation.workspaces.length, 1);
});

test("creating an e-mail invitation whose mail cannot be written leaves no invitation", async () => {
  const org = await buildOrg(t);
  await allOrNothing(
    mailOf("invitation"),
    () =>
      t.request("POST", `/api/v1/workspaces/${org.workspaceId}/invitations`, {
        token: org.owner.token,
        body: { email: uniqueEmail("invitee"), role: "editor" },
      }),
    201,
  );
});

test("creating a link invitation whose audit event fails leaves no invitation and no working link", async () => {
  const org = await buildOrg(t);
  const created = await allOrNothing(
    auditOf("invitation.created"),
    () =>
      t.request("POST", `/api/v1/orgs/${org.orgId}/invitations`, {
        token: org.owner.token,
        body: {
          delivery: "link",
          role: "member",
          maxUses: 5,
          workspaces: [{ workspaceId: org.workspaceId, role: "viewer" }],
        },
      }),
    201,
  );
  assert.equal(await lookup(created.json.url), 200);
});

test("resending an e-mail invitation whose audit event fails keeps its token, expiry, backer and first mail", async () => {
  const org = await buildOrg(t);
  const admin = await joinOrg(t, org.orgId, "admin", "Ada Admin");
  const inv = await orgInvitation(org, { email: uniqueEmail("invitee"), role: "member" });
  const first = await invitationRow(inv.id);
  await allOrNothing(
    auditOf("invitation.resent"),
    () => t.request("POST", `/api/v1/invitations/${inv.id}/resend`, { token: admin.token }),
    200,
    async () => {
      assert.deepEqual(await invitationRow(inv.id), first);
      assert.deepEqual(await mailRow(first.mail_id), { status: "queued", last_error: null });
    },
  );
  // What the refused resend would have changed, had it been kept.
  const resent = await invitationRow(inv.id);
  assert.notDeepEqual(resent.token_hash, first.token_hash);
  assert.equal(resent.invited_by, admin.userId);
  assert.notEqual(resent.mail_id, first.mail_id);
  assert.deepEqual(await mailRow(first.mail_id), {
    status: "failed",
    last_error: "withdrawn: the invitation was resent",
  });
});

test("resending an e-mail invitation whose new mail cannot be written keeps the old link and its mail", async () => {
  const org = await buildOrg(t);
  const inv = await orgInvitation(org, {
    email: uniqueEmail("invitee"),
    role: "member",
    workspaces: [{ workspaceId: org.workspaceId, role: "agent" }],
  });
  const first = await invitationRow(inv.id);
  await allOrNothing(
    mailOf("invitation"),
    () => t.request("POST", `/api/v1/invitations/${inv.id}/resend`, { token: org.owner.token }),
    200,
  );
  assert.equal((await mailRow(first.mail_id)).status, "failed");
});

test("resending a link invitation whose audit event fails leaves the old link working", async () => {
  const org = await buildOrg(t);
  const inv = await orgInvitation(org, { delivery: "link", role: "member", maxUses: 3 });
  const resent = await allOrNothing(
    auditOf("invitation.resent"),
    () => t.request("POST", `/api/v1/invitations/${inv.id}/resend`, { token: org.owner.token }),
    200,
    async () => assert.equal(await lookup(inv.url), 200),
  );
  assert.equal(await lookup(inv.url), 404, "a kept resend kills the old link");
  assert.equal(await lookup(resent.json.url), 200);
});

test("cancelling an e-mail invitation whose audit event fails leaves it pending with its mail queued", async () => {
  const org = await buildOrg(t);
  const inv = await orgInvitation(org, { email: uniqueEmail("invitee"), role: "admin" });
  const { mail_id } = await invitationRow(inv.id);
  await allOrNothing(
    auditOf("invitation.cancelled"),
    () => t.request("DELETE", `/api/v1/invitations/${inv.id}`, { token: org.owner.token }),
    204,
    async () => assert.equal((await invitationRow(inv.id)).status, "pending"),
  );
  assert.equal((await invitationRow(inv.id)).status, "cancelled");
  assert.deepEqual(await mailRow(mail_id), {
    status: "failed",
    last_error: "withdrawn: the invitation was cancelled",
  });
});

test("cancelling a link invitation whose audit event fails leaves the link working", async () => {
  const org = await buildOrg(t);
  const inv = await orgInvitation(org, { delivery: "link", role: "member", maxUses: 2 });
  await allOrNothing(
    auditOf("invitation.cancelled"),
    () => t.request("DELETE", `/api/v1/invitations/${inv.id}`, { token: org.owner.token }),
    204,
    async () => assert.equal(await lookup(inv.url), 200),
  );
  assert.equal((await invitationRow(inv.id)).status, "cancelled");
});

// ---- workspace memberships --------------------------------------------------------------------

test("adding someone to a workspace whose audit event fails gives them no role", async () => {
  const org = await buildOrg(t);
  const member = await joinOrg(t, org.orgId);
  await allOrNothing(
    auditOf("workspace_member.added"),
    () =>
      t.request("PUT", `/api/v1/workspaces/${org.workspaceId}/members/${member.userId}`, {
        token: org.owner.token,
        body: { role: "editor" },
      }),
    201,
    async () => assert.equal(await workspaceRoleOf(t, org.workspaceId, member.userId), null),
  );
  assert.equal(await workspaceRoleOf(t, org.workspaceId, member.userId), "editor");
});

test("changing a workspace role whose audit event fails keeps the old role", async () => {
  const org = await buildOrg(t);
  const member = await joinOrg(t, org.orgId);
  await grantWorkspaceRole(t, org.orgId, org.workspaceId, member.userId, "editor");
  await allOrNothing(
    auditOf("workspace_member.role_changed"),
    () =>
      t.request("PUT", `/api/v1/workspaces/${org.workspaceId}/members/${member.userId}`, {
        token: org.owner.token,
        body: { role: "viewer" },
      }),
    200,
    async () => assert.equal(await workspaceRoleOf(t, org.workspaceId, member.userId), "editor"),
  );
  assert.equal(await workspaceRoleOf(t, org.workspaceId, member.userId), "viewer");
});

test("a workspace demotion whose withdrawal of the demoted admin's invitation fails keeps role, invitation and mail", async () => {
  const org = await buildOrg(t);
  const wsAdmin = await workspaceAdmin(org);
  const inv = await workspaceInvitation(wsAdmin.token, org.workspaceId, {
    email: uniqueEmail("invitee"),
    role: "admin",
  });
  const { mail_id } = await invitationRow(inv.id);
  await allOrNothing(
    auditOf("invitation.cancelled"),
    () =>
      t.request("PUT", `/api/v1/workspaces/${org.workspaceId}/members/${wsAdmin.userId}`, {
        token: org.owner.token,
        body: { role: "editor" },
      }),
    200,
    async () => {
      assert.equal(await workspaceRoleOf(t, org.workspaceId, wsAdmin.userId), "admin");
      assert.equal((await invitationRow(inv.id)).status, "pending");
      assert.equal((await mailRow(mail_id)).status, "queued");
    },
  );
  assert.equal(await workspaceRoleOf(t, org.workspaceId, wsAdmin.userId), "editor");
  assert.equal((await invitationRow(inv.id)).status, "cancelled");
  assert.equal((await mailRow(mail_id)).status, "failed");
});

test("taking a workspace role away whose audit event fails keeps the role", async () => {
  const org = await buildOrg(t);
  const member = await joinOrg(t, org.orgId);
  await grantWorkspaceRole(t, org.orgId, org.workspaceId, member.userId, "agent");
  await allOrNothing(
    auditOf("workspace_member.removed"),
    () =>
      t.request("DELETE", `/api/v1/workspaces/${org.workspaceId}/members/${member.userId}`, {
        token: org.owner.token,
      }),
    204,
    async () => assert.equal(await workspaceRoleOf(t, org.workspaceId, member.userId), "agent"),
  );
  assert.equal(await workspaceRoleOf(t, org.workspaceId, member.userId), null);
});

test("taking a workspace admin's role away, failing at the withdrawal of their invitation, keeps both", async () => {
  const org = await buildOrg(t);
  const wsAdmin = await workspaceAdmin(org);
  const inv = await workspaceInvitation(wsAdmin.token, org.workspaceId, {
    delivery: "link",
    role: "admin",
    maxUses: 4,
  });
  await allOrNothing(
    auditOf("invitation.cancelled"),
    () =>
      t.request("DELETE", `/api/v1/workspaces/${org.workspaceId}/members/${wsAdmin.userId}`, {
        token: org.owner.token,
      }),
    204,
    async () => {
      assert.equal(await workspaceRoleOf(t, org.workspaceId, wsAdmin.userId), "admin");
      assert.equal(await lookup(inv.url), 200);
    },
  );
  assert.equal(await workspaceRoleOf(t, org.workspaceId, wsAdmin.userId), null);
  assert.equal((await invitationRow(inv.id)).status, "cancelled");
});

// ---- workspaces -------------------------------------------------------------------------------

test("creating a workspace whose audit event fails leaves no workspace", async () => {
  const org = await buildOrg(t);
  const created = await allOrNothing(
    auditOf("workspace.created"),
    () =>
      t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
        token: org.owner.token,
        body: { name: "Support", timezone: "Europe/Paris", language: "fr" },
      }),
    201,
  );
  assert.equal(created.json.workspace.name, "Support");
});

test("renaming a workspace whose audit event fails keeps its name and timezone", async () => {
  const org = await buildOrg(t);
  const updated = await allOrNothing(
    auditOf("workspace.updated"),
    () =>
      t.request("PATCH", `/api/v1/workspaces/${org.workspaceId}`, {
        token: org.owner.token,
        body: { name: "Renamed", timezone: "Asia/Tokyo" },
      }),
    200,
    async () => {
      const ws = await t.db
        .selectFrom("workspaces")
        .select("name")
        .where("id", "=", org.workspaceId)
        .executeTakeFirstOrThrow();
      assert.equal(ws.name, "General");
    },
  );
  assert.equal(updated.json.workspace.name, "Renamed");
});

test("deleting a workspace whose audit event fails keeps it, its memberships and the invitations' grants of it", async () => {
  const org = await buildOrg(t);
  const doomed = await newWorkspace(org, "Doomed");
  const member = await joinOrg(t, org.orgId);
  await grantWorkspaceRole(t, org.orgId, doomed, member.userId, "editor");
  const inv = await orgInvitation(org, {
    email: uniqueEmail("invitee"),
    role: "member",
    workspaces: [{ workspaceId: doomed, role: "viewer" }],
  });
  const grants = () =>
    t.db
      .selectFrom("invitation_workspaces")
      .select("workspace_id")
      .where("invitation_id", "=", inv.id)
      .execute();
  await allOrNothing(
    auditOf("workspace.deleted"),
    () => t.request("DELETE", `/api/v1/workspaces/${doomed}`, { token: org.owner.token }),
    204,
    async () => {
      assert.equal(await workspaceRoleOf(t, doomed, member.userId), "editor");
      assert.deepEqual(await grants(), [{ workspace_id: doomed }]);
    },
  );
  assert.equal(await workspaceRoleOf(t, doomed, member.userId), null);
  assert.deepEqual(await grants(), []);
  // The owner could make it without that workspace: it stays.
  assert.equal((await invitationRow(inv.id)).status, "pending");
});

test("deleting a workspace, failing at the withdrawal of a workspace admin's invitation into it, keeps both", async () => {
  const org = await buildOrg(t);
  const doomed = await newWorkspace(org, "Doomed");
  const wsAdmin = await workspaceAdmin(org, doomed);
  const inv = await workspaceInvitation(wsAdmin.token, doomed, {
    email: uniqueEmail("invitee"),
    role: "editor",
  });
  const { mail_id } = await invitationRow(inv.id);
  await allOrNothing(
    auditOf("invitation.cancelled"),
    () => t.request("DELETE", `/api/v1/workspaces/${doomed}`, { token: org.owner.token }),
    204,
    async () => {
      assert.equal(await workspaceRoleOf(t, doomed, wsAdmin.userId), "admin");
      assert.equal((await invitationRow(inv.id)).status, "pending");
      assert.equal((await mailRow(mail_id)).status, "queued");
    },
  );
  assert.equal((await invitationRow(inv.id)).status, "cancelled");
  assert.equal((await mailRow(mail_id)).status, "failed");
});

// ---- organisations ----------------------------------------------------------------------------

test("creating an organisation failing at its last audit event leaves no organisation, membership, workspace or count", async () => {
  const org = await buildOrg(t);
  const created = await allOrNothing(
    auditOf("workspace.created"),
    () => t.request("POST", "/api/v1/orgs", { token: org.owner.token, body: { name: "Second Company" } }),
    201,
    async () => {
      const me = await t.request("GET", "/api/v1/me", { token: org.owner.token });
      assert.equal(me.json.organizations.length, 1);
    },
  );
  assert.equal(await orgRoleOf(t, created.json.organization.id, org.owner.userId), "owner");
});

test("renaming an organisation whose audit event fails keeps its name", async () => {
  const org = await buildOrg(t);
  const { name } = await t.db
    .selectFrom("organizations")
    .select("name")
    .where("id", "=", org.orgId)
    .executeTakeFirstOrThrow();
  const renamed = await allOrNothing(
    auditOf("organization.renamed"),
    () =>
      t.request("PATCH", `/api/v1/orgs/${org.orgId}`, {
        token: org.owner.token,
        body: { name: "Renamed Co" },
      }),
    200,
    async () => {
      const res = await t.request("GET", `/api/v1/orgs/${org.orgId}`, { token: org.owner.token });
      assert.equal(res.json.organization.name, name);
    },
  );
  assert.equal(renamed.json.organization.name, "Renamed Co");
});

test("deleting an organisation whose audit event fails keeps it whole: members, workspaces, invitations, audit trail, queued mail", async () => {
  const org = await buildOrg(t);
  const member = await joinOrg(t, org.orgId);
  await grantWorkspaceRole(t, org.orgId, org.workspaceId, member.userId, "editor");
  const inv = await orgInvitation(org, { email: uniqueEmail("invitee"), role: "member" });
  const { mail_id } = await invitationRow(inv.id);
  const trail = () =>
    t.db.selectFrom("audit_events").select("action").where("org_id", "=", org.orgId).orderBy("at").execute();
  const history = await trail();
  await allOrNothing(
    auditOf("organization.deleted"),
    () => t.request("DELETE", `/api/v1/orgs/${org.orgId}`, { token: org.owner.token }),
    204,
    async () => {
      assert.equal(await orgRoleOf(t, org.orgId, member.userId), "member");
      assert.deepEqual(await trail(), history);
      assert.equal((await mailRow(mail_id)).status, "queued");
    },
  );
  assert.equal(await orgRoleOf(t, org.orgId, member.userId), null);
  assert.deepEqual(await trail(), [{ action: "organization.deleted" }]);
  const mail = await t.db.selectFrom("mail_outbox").select("id").where("id", "=", mail_id).execute();
  assert.deepEqual(mail, []);
});

// ---- withdrawals caused by org membership changes ----------------------------------------------

test("an org demotion whose withdrawal of the demoted admin's invitation fails keeps role, invitation and mail", async () => {
  const org = await buildOrg(t);
  const admin = await joinOrg(t, org.orgId, "admin", "Ada Admin");
  const inv = await orgInvitation(org, { email: uniqueEmail("invitee"), role: "admin" }, admin.token);
  const { mail_id } = await invitationRow(inv.id);
  await allOrNothing(
    auditOf("invitation.cancelled"),
    () =>
      t.request("PATCH", `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, {
        token: org.owner.token,
        body: { role: "member" },
      }),
    200,
    async () => {
      assert.equal(await orgRoleOf(t, org.orgId, admin.userId), "admin");
      assert.equal((await invitationRow(inv.id)).status, "pending");
      assert.equal((await mailRow(mail_id)).status, "queued");
    },
  );
  assert.equal(await orgRoleOf(t, org.orgId, admin.userId), "member");
  assert.equal((await invitationRow(inv.id)).status, "cancelled");
  assert.equal((await mailRow(mail_id)).status, "failed");
});

test("removing an org admin, failing at the withdrawal of their link invitation, keeps them and the link", async () => {
  const org = await buildOrg(t);
  const admin = await joinOrg(t, org.orgId, "admin", "Ada Admin");
  const inv = await orgInvitation(org, { delivery: "link", role: "admin", maxUses: 2 }, admin.token);
  await allOrNothing(
    auditOf("invitation.cancelled"),
    () =>
      t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, { token: org.owner.token }),
    204,
    async () => {
      assert.equal(await orgRoleOf(t, org.orgId, admin.userId), "admin");
      assert.equal(await lookup(inv.url), 200);
    },
  );
  assert.equal(await orgRoleOf(t, org.orgId, admin.userId), null);
  assert.equal((await invitationRow(inv.id)).status, "cancelled");
});

test("an admin leaving, failing at the withdrawal of their invitation, stays with it", async () => {
  const org = await buildOrg(t);
  const admin = await joinOrg(t, org.orgId, "admin", "Ada Admin");
  const inv = await orgInvitation(org, { email: uniqueEmail("invitee"), role: "member" }, admin.token);
  await allOrNothing(
    auditOf("invitation.cancelled"),
    () => t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, { token: admin.token }),
    204,
    async () => {
      assert.equal(await orgRoleOf(t, org.orgId, admin.userId), "admin");
      assert.equal((await invitationRow(inv.id)).status, "pending");
    },
  );
  assert.equal(await orgRoleOf(t, org.orgId, admin.userId), null);
  assert.equal((await invitationRow(inv.id)).status, "cancelled");
});
