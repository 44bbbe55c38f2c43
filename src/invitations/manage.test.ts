// Creating and listing invitations (README.md#invitations, rules 1, 4, 16): the e-mail really
// reaches an SMTP listener with its link, the token is never in an answer or at rest, a link
// invitation shows its URL once, and nobody grants above their own role.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { linkIn, PUBLIC_URL, type TestApp, testApp, uniqueEmail } from "../../test/helpers/app.js";
import { buildOrg, grantWorkspaceRole, joinOrg, type Org } from "../../test/helpers/org.js";
import { sha256 } from "../tokens.js";
import { findByToken } from "./queries.js";

let t: TestApp;
let org: Org;

before(async () => {
  t = await testApp();
  org = await buildOrg(t, "Olive Owner");
});
after(async () => {
  await t.close();
});

const invite = (token: string, orgId: string, body: unknown) =>
  t.request("POST", `/api/v1/orgs/${orgId}/invitations`, { token, body });

async function invitationCount(orgId: string): Promise<number> {
  const { n } = await t.db
    .selectFrom("invitations")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("org_id", "=", orgId)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** Waits until the worker (this test's or the app's own) has recorded the mail's outcome. */
async function mailSettled(mailId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await t.app.mailWorker.runUntilIdle();
    const row = await t.db
      .selectFrom("mail_outbox")
      .select("status")
      .where("id", "=", mailId)
      .executeTakeFirstOrThrow();
    if (row.status !== "queued") return;
    if (Date.now() > deadline) throw new Error(`mail ${mailId} still queued`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("e-mail invitations", () => {
  test("the mail arrives over SMTP with the link; the token is in no answer and only hashed at rest", async () => {
    const email = uniqueEmail("ada");
    const res = await invite(org.owner.token, org.orgId, {
      email,
      role: "admin",
      workspaces: [{ workspaceId: org.workspaceId, role: "editor" }],
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.url, undefined, "an e-mail invitation's link goes only to the address");
    const inv = res.json.invitation;
    assert.equal(inv.delivery, "email");
    assert.equal(inv.email, email);
    assert.equal(inv.role, "admin");
    assert.equal(inv.status, "pending");
    assert.equal(inv.uses, 0);
    assert.equal(inv.maxUses, 1);
    assert.deepEqual(inv.invitedBy, { id: org.owner.userId, name: "Olive Owner" });
    assert.equal(inv.workspaces.length, 1);
    assert.equal(inv.workspaces[0].id, org.workspaceId);
    assert.equal(inv.workspaces[0].role, "editor");
    assert.deepEqual(inv.mail, { status: "queued", lastError: null });
    const hours = (Date.parse(inv.expiresAt) - Date.parse(inv.createdAt)) / 3_600_000;
    assert.ok(Math.abs(hours - 168) < 0.01, `default lifetime 168 h, got ${hours}`);

    const mail = await t.smtp.waitFor((m) => m.to.includes(email));
    const { name: orgName } = await t.db
      .selectFrom("organizations")
      .select("name")
      .where("id", "=", org.orgId)
      .executeTakeFirstOrThrow();
    assert.equal(mail.subject, `“Olive Owner” invited you to join “${orgName}”`);
    const url = linkIn(mail.text, `${PUBLIC_URL}/invite/`);
    const token = url.slice(`${PUBLIC_URL}/invite/`.length);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(mail.html?.includes(url), "the HTML body carries the same link");
    assert.match(mail.text ?? "", /admin/);
    assert.match(mail.text ?? "", /\(editor\)/);

    // The token resolves to this invitation, by its hash.
    const found = await findByToken(t.db, token);
    assert.equal(found.id, inv.id);
    const row = await t.db
      .selectFrom("invitations")
      .selectAll()
      .where("id", "=", inv.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row.token_hash, sha256(token));
    assert.equal(row.mail_id !== null, true);

    // Once sent, the token is nowhere at rest: not in the invitation, the audit trail or the outbox.
    await mailSettled(row.mail_id ?? "");
    for (const table of ["invitations", "audit_events", "mail_outbox", "invitation_workspaces"] as const) {
      const rows = await t.db.selectFrom(table).selectAll().execute();
      assert.ok(!JSON.stringify(rows).includes(token), `the token is stored in ${table}`);
    }
    const list = await t.request("GET", `/api/v1/orgs/${org.orgId}/invitations`, { token: org.owner.token });
    assert.ok(!list.text.includes(token));
    assert.ok(!res.text.includes(token));
    const listed = list.json.items.find((i: { id: string }) => i.id === inv.id);
    assert.deepEqual(listed.mail, { status: "sent", lastError: null });
    assert.ok(!("tokenHash" in listed) && !("token" in listed));

    const audit = await t.db
      .selectFrom("audit_events")
      .selectAll()
      .where("action", "=", "invitation.created")
      .where("target_id", "=", inv.id)
      .executeTakeFirstOrThrow();
    assert.equal(audit.actor_id, org.owner.userId);
    assert.equal(audit.actor_name, "Olive Owner");
    const data = typeof audit.data === "string" ? JSON.parse(audit.data) : audit.data;
    assert.equal(data.delivery, "email");
    assert.equal(data.email, email);
    assert.equal(data.role, "admin");
    assert.equal(data.maxUses, 1);
    assert.deepEqual(data.workspaces, [{ workspaceId: org.workspaceId, role: "editor" }]);
  });

  test("a workspace admin invites into their workspace: org member with that workspace role", async () => {
    const wsAdmin = await joinOrg(t, org.orgId, "member", "Wanda Wsadmin");
    await grantWorkspaceRole(t, org.orgId, org.workspaceId, wsAdmin.userId, "admin");
    const email = uniqueEmail("ws");
    const res = await t.request("POST", `/api/v1/workspaces/${org.workspaceId}/invitations`, {
      token: wsAdmin.token,
      body: { email, role: "agent" },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.invitation.role, "member");
    assert.deepEqual(
      res.json.invitation.workspaces.map((w: { id: string; role: string }) => [w.id, w.role]),
      [[org.workspaceId, "agent"]],
    );
    await t.smtp.waitFor((m) => m.to.includes(email));

    const list = await t.request("GET", `/api/v1/workspaces/${org.workspaceId}/invitations`, {
      token: wsAdmin.token,
    });
    assert.equal(list.status, 200, list.text);
    assert.ok(list.json.items.some((i: { id: string }) => i.id === res.json.invitation.id));
    // Only invitations that grant this workspace.
    assert.ok(
      list.json.items.every((i: { workspaces: { id: string }[] }) =>
        i.workspaces.some((w) => w.id === org.workspaceId),
      ),
    );
    // A plain member may not.
    const member = await joinOrg(t, org.orgId, "member", "Mo Member");
    await grantWorkspaceRole(t, org.orgId, org.workspaceId, member.userId, "editor");
    const refused = await t.request("POST", `/api/v1/workspaces/${org.workspaceId}/invitations`, {
      token: member.token,
      body: { email: uniqueEmail(), role: "viewer" },
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.code, "forbidden");
  });
});

describe("the workspace's invitation list", () => {
  test("review 13.7b: a workspace admin sees only what concerns the workspace; an org admin sees all", async () => {
    const o = await buildOrg(t, "Olive Owner");
    const other = await t.request("POST", `/api/v1/orgs/${o.orgId}/workspaces`, {
      token: o.owner.token,
      body: { name: "Secret Project" },
    });
    assert.equal(other.status, 201, other.text);
    const w2 = other.json.workspace.id as string;
    const both = uniqueEmail("both");
    const admin = uniqueEmail("future-admin");
    const made = [
      {
        email: both,
        role: "member",
        workspaces: [
          { workspaceId: o.workspaceId, role: "editor" },
          { workspaceId: w2, role: "viewer" },
        ],
      },
      { email: admin, role: "admin", workspaces: [{ workspaceId: o.workspaceId, role: "viewer" }] },
      { delivery: "link", role: "member", workspaces: [{ workspaceId: w2, role: "agent" }] },
    ];
    const ids: string[] = [];
    for (const body of made) {
      const res = await invite(o.owner.token, o.orgId, body);
      assert.equal(res.status, 201, res.text);
      ids.push(res.json.invitation.id);
    }
    const [bothId, adminId] = ids;

    const wsAdmin = await joinOrg(t, o.orgId, "member", "Wanda Wsadmin");
    await grantWorkspaceRole(t, o.orgId, o.workspaceId, wsAdmin.userId, "admin");
    const narrow = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}/invitations`, {
      token: wsAdmin.token,
    });
    assert.equal(narrow.status, 200, narrow.text);
    assert.deepEqual(
      narrow.json.items.map((i: { id: string; email: string; workspaces: unknown }) => [
        i.id,
        i.email,
        i.workspaces,
      ]),
      [[bothId, both, [{ id: o.workspaceId, name: "General", role: "editor" }]]],
    );
    assert.ok(!narrow.text.includes(admin), "an org-admin invitation's address");
    assert.ok(!narrow.text.includes("Secret Project") && !narrow.text.includes(w2), "another workspace");

    const orgAdmin = await joinOrg(t, o.orgId, "admin", "Adam Admin");
    const whole = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}/invitations`, {
      token: orgAdmin.token,
    });
    assert.equal(whole.status, 200, whole.text);
    assert.deepEqual(
      whole.json.items.map((i: { id: string; email: string; workspaces: { id: string; role: string }[] }) => [
        i.id,
        i.email,
        i.workspaces.map((w) => [w.id, w.role]),
      ]),
      [
        [adminId, admin, [[o.workspaceId, "viewer"]]],
        // Grants come by workspace name: General, then Secret Project.
        [
          bothId,
          both,
          [
            [o.workspaceId, "editor"],
            [w2, "viewer"],
          ],
        ],
      ],
    );
  });
});

describe("link invitations", () => {
  test("the URL is answered once, at creation, and never listed", async () => {
    const res = await invite(org.owner.token, org.orgId, { delivery: "link", role: "member", maxUses: 5 });
    assert.equal(res.status, 201, res.text);
    const url: string = res.json.url;
    assert.match(url, new RegExp(`^${PUBLIC_URL}/invite/[A-Za-z0-9_-]{43}$`));
    const token = url.split("/").at(-1) ?? "";
    assert.equal(res.json.invitation.delivery, "link");
    assert.equal(res.json.invitation.email, null);
    assert.equal(res.json.invitation.maxUses, 5);
    assert.equal(res.json.invitation.mail, null);
    assert.equal((await findByToken(t.db, token)).id, res.json.invitation.id);

    const list = await t.request("GET", `/api/v1/orgs/${org.orgId}/invitations`, { token: org.owner.token });
    assert.equal(list.status, 200);
    assert.ok(list.json.items.some((i: { id: string }) => i.id === res.json.invitation.id));
    assert.ok(!list.text.includes(token));
    assert.ok(!list.text.includes("/invite/"));
  });

  test("maxUses defaults to 1", async () => {
    const res = await invite(org.owner.token, org.orgId, { delivery: "link", role: "member" });
    assert.equal(res.status, 201);
    assert.equal(res.json.invitation.maxUses, 1);
  });
});

describe("rule 1: nobody grants above their own role", () => {
  test("an org admin cannot invite an owner; may invite an admin", async () => {
    const admin = await joinOrg(t, org.orgId, "admin", "Adam Admin");
    const owner = await invite(admin.token, org.orgId, { email: uniqueEmail(), role: "owner" });
    assert.equal(owner.status, 403, owner.text);
    assert.equal(owner.json.code, "forbidden");
    const link = await invite(admin.token, org.orgId, { delivery: "link", role: "owner" });
    assert.equal(link.status, 403);
    assert.equal((await invite(admin.token, org.orgId, { email: uniqueEmail(), role: "admin" })).status, 201);
  });

  test("a workspace admin cannot grant a workspace they do not administer", async () => {
    const other = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
      token: org.owner.token,
      body: { name: "Elsewhere" },
    });
    assert.equal(other.status, 201, other.text);
    const wsAdmin = await joinOrg(t, org.orgId, "member", "Wes Wsadmin");
    await grantWorkspaceRole(t, org.orgId, org.workspaceId, wsAdmin.userId, "admin");
    await grantWorkspaceRole(t, org.orgId, other.json.workspace.id, wsAdmin.userId, "viewer");
    // Through the other workspace's route: no workspace.users there.
    const res = await t.request("POST", `/api/v1/workspaces/${other.json.workspace.id}/invitations`, {
      token: wsAdmin.token,
      body: { email: uniqueEmail(), role: "viewer" },
    });
    assert.equal(res.status, 403, res.text);
    // An org admin with a workspace grant naming it is fine, but an org member with org.users
    // cannot exist; an admin granting a role above theirs in a workspace is covered by the
    // catalogue: org admins act as workspace admins everywhere.
    const before = await invitationCount(org.orgId);
    const admin = await joinOrg(t, org.orgId, "admin", "Ann Admin");
    const ok = await invite(admin.token, org.orgId, {
      email: uniqueEmail(),
      role: "member",
      workspaces: [{ workspaceId: other.json.workspace.id, role: "admin" }],
    });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(await invitationCount(org.orgId), before + 1);
  });

  test("a workspace of another organisation answers 404 workspace_not_found, like one that does not exist", async () => {
    const elsewhere = await buildOrg(t, "Other Owner");
    const theirs = await invite(org.owner.token, org.orgId, {
      email: uniqueEmail(),
      role: "member",
      workspaces: [{ workspaceId: elsewhere.workspaceId, role: "viewer" }],
    });
    const none = await invite(org.owner.token, org.orgId, {
      email: uniqueEmail(),
      role: "member",
      workspaces: [{ workspaceId: "wsp_00000000000000000000000000", role: "viewer" }],
    });
    assert.equal(theirs.status, 404, theirs.text);
    assert.equal(theirs.json.code, "workspace_not_found");
    assert.equal(none.status, theirs.status);
    assert.equal(none.json.code, theirs.json.code);
    assert.equal(none.json.detail, theirs.json.detail);
    assert.equal(await invitationCount(elsewhere.orgId), 0);
  });
});

describe("rule 16: bad input answers 400 naming the field and creates nothing", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["e-mail delivery without an address", { role: "member" }, "email"],
    ["not an address", { email: "nope", role: "member" }, "email"],
    ["an unknown org role", { email: "x@example.org", role: "boss" }, "role"],
    ["maxUses on an e-mail invitation", { email: "x@example.org", role: "member", maxUses: 3 }, "maxUses"],
    [
      "a lifetime over 720 hours",
      { delivery: "link", role: "member", expiresInHours: 721 },
      "expiresInHours",
    ],
    ["a lifetime of 0 hours", { delivery: "link", role: "member", expiresInHours: 0 }, "expiresInHours"],
    ["over 1000 uses", { delivery: "link", role: "member", maxUses: 1001 }, "maxUses"],
    ["an unknown delivery", { delivery: "pigeon", role: "member" }, "delivery"],
    [
      "an unknown workspace role",
      { delivery: "link", role: "member", workspaces: [{ workspaceId: "wsp_x", role: "boss" }] },
      "workspaces",
    ],
  ];
  for (const [what, body, field] of cases) {
    test(what, async () => {
      const before = await invitationCount(org.orgId);
      const res = await invite(org.owner.token, org.orgId, body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.code, "validation_failed");
      assert.ok(
        res.json.errors?.some((e: { field: string }) => e.field.includes(field)),
        `${res.text} should name ${field}`,
      );
      assert.equal(await invitationCount(org.orgId), before);
    });
  }

  test("a lifetime given is kept", async () => {
    const res = await invite(org.owner.token, org.orgId, {
      delivery: "link",
      role: "member",
      expiresInHours: 2,
    });
    assert.equal(res.status, 201);
    const { expiresAt, createdAt } = res.json.invitation;
    assert.ok(Math.abs((Date.parse(expiresAt) - Date.parse(createdAt)) / 3_600_000 - 2) < 0.01);
  });
});
