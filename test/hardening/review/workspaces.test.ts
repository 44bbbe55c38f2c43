// Issue 13, finding 7, from outside: (a) a workspace of one's organisation that one cannot enter
// answers every workspace route exactly like one that does not exist; (b) a workspace admin's
// invitation list shows what concerns their workspace and no more; (c) a workspace membership
// change or an invitation in flight while its caller is removed or demoted acts on the standing
// read under the organisation's lock, not on the one the guard read when it arrived (rule 9).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Answer, type TestApp, testApp, uniqueEmail } from "../../helpers/app.js";
import { buildOrg, grantWorkspaceRole, joinOrg } from "../../helpers/org.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

const MISSING = "wsp_00000000000000000000000000";

/** What a problem answer shows: status, code, detail and the whole body, for byte comparison. */
function shown(a: Answer) {
  return { status: a.status, code: a.json?.code, detail: a.json?.detail, body: a.text };
}

/**
 * Runs `meanwhile` after the guard has read the caller's standing and before the request's one
 * transaction begins: a deterministic "removed while the request was on its way", on PGlite and
 * PostgreSQL alike. The next call of db.transaction() is the paused one; `meanwhile` and
 * everything after it use the real method again.
 */
function pauseBeforeTransaction(meanwhile: () => Promise<void>): void {
  const db = t.app.services.db;
  const patched: typeof db.transaction = () => {
    Reflect.deleteProperty(db, "transaction");
    const builder = db.transaction();
    const execute = builder.execute.bind(builder);
    builder.execute = (async (fn: Parameters<typeof execute>[0]) => {
      await meanwhile();
      return execute(fn);
    }) as typeof builder.execute;
    return builder;
  };
  Object.defineProperty(db, "transaction", { value: patched, configurable: true, writable: true });
}

const auditCount = async (orgId: string) =>
  Number(
    (
      await t.db
        .selectFrom("audit_events")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("org_id", "=", orgId)
        .executeTakeFirstOrThrow()
    ).n,
  );

const invitationCount = async (orgId: string) =>
  Number(
    (
      await t.db
        .selectFrom("invitations")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("org_id", "=", orgId)
        .executeTakeFirstOrThrow()
    ).n,
  );

const workspaceRole = async (workspaceId: string, userId: string) =>
  (
    await t.db
      .selectFrom("workspace_memberships")
      .select("role")
      .where("workspace_id", "=", workspaceId)
      .where("user_id", "=", userId)
      .executeTakeFirst()
  )?.role ?? null;

describe("review 13.7a: a workspace one cannot enter answers like none", () => {
  test("review 13.7a: DELETE /workspaces/{ws} by an org member without a role there: the same 404 as a missing id", async () => {
    const o = await buildOrg(t);
    const member = await joinOrg(t, o.orgId, "member", "Nora Norole");
    const hidden = await t.request("DELETE", `/api/v1/workspaces/${o.workspaceId}`, { token: member.token });
    const missing = await t.request("DELETE", `/api/v1/workspaces/${MISSING}`, { token: member.token });
    assert.equal(hidden.status, 404, hidden.text);
    assert.equal(hidden.json.code, "workspace_not_found");
    assert.deepEqual(shown(hidden), shown(missing));
    const still = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}`, { token: o.owner.token });
    assert.equal(still.status, 200, "the workspace is still there");
  });

  test("review 13.7a: every workspace route answers the no-role caller byte for byte as for a missing workspace", async () => {
    const o = await buildOrg(t);
    const member = await joinOrg(t, o.orgId, "member", "Nora Norole");
    const someone = await joinOrg(t, o.orgId, "member", "Sam Someone");
    const routes: [string, string, unknown?][] = [
      ["GET", ""],
      ["PATCH", "", { name: "Taken" }],
      ["DELETE", ""],
      ["GET", "/members"],
      ["PUT", `/members/${someone.userId}`, { role: "viewer" }],
      ["DELETE", `/members/${someone.userId}`],
      ["POST", "/authorize", { permission: "flows.read" }],
      ["GET", "/invitations"],
      ["POST", "/invitations", { email: uniqueEmail(), role: "viewer" }],
    ];
    for (const [method, tail, body] of routes) {
      const hidden = await t.request(method, `/api/v1/workspaces/${o.workspaceId}${tail}`, {
        token: member.token,
        ...(body ? { body } : {}),
      });
      const missing = await t.request(method, `/api/v1/workspaces/${MISSING}${tail}`, {
        token: member.token,
        ...(body ? { body } : {}),
      });
      assert.equal(hidden.status, 404, `${method} ${tail}: ${hidden.text}`);
      assert.deepEqual(shown(hidden), shown(missing), `${method} ${tail}`);
    }
    // With a role there, a refusal is a 403 that says why.
    await grantWorkspaceRole(t, o.orgId, o.workspaceId, member.userId, "viewer");
    const seen = await t.request("DELETE", `/api/v1/workspaces/${o.workspaceId}`, { token: member.token });
    assert.equal(seen.status, 403, seen.text);
    assert.equal(seen.json.code, "forbidden");
  });
});

describe("review 13.7b: the workspace's invitation list", () => {
  test("review 13.7b: a workspace admin sees this workspace's grant alone and no org-admin invitation; an owner sees all", async () => {
    const o = await buildOrg(t);
    const made = await t.request("POST", `/api/v1/orgs/${o.orgId}/workspaces`, {
      token: o.owner.token,
      body: { name: "Hush Hush" },
    });
    const w2: string = made.json.workspace.id;
    const member = uniqueEmail("member");
    const admin = uniqueEmail("admin");
    const invite = (body: unknown) =>
      t.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, { token: o.owner.token, body });
    const asMember = await invite({
      email: member,
      role: "member",
      workspaces: [
        { workspaceId: o.workspaceId, role: "agent" },
        { workspaceId: w2, role: "editor" },
      ],
    });
    const asAdmin = await invite({
      delivery: "link",
      role: "admin",
      workspaces: [{ workspaceId: o.workspaceId, role: "viewer" }],
    });
    const adminByMail = await invite({
      email: admin,
      role: "admin",
      workspaces: [{ workspaceId: o.workspaceId, role: "viewer" }],
    });
    for (const r of [asMember, asAdmin, adminByMail]) assert.equal(r.status, 201, r.text);

    const wsAdmin = await joinOrg(t, o.orgId, "member", "Wes Wsadmin");
    await grantWorkspaceRole(t, o.orgId, o.workspaceId, wsAdmin.userId, "admin");
    const narrow = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}/invitations`, {
      token: wsAdmin.token,
    });
    assert.equal(narrow.status, 200, narrow.text);
    assert.deepEqual(
      narrow.json.items.map((i: { id: string; workspaces: unknown }) => [i.id, i.workspaces]),
      [[asMember.json.invitation.id, [{ id: o.workspaceId, name: "General", role: "agent" }]]],
    );
    assert.equal(narrow.json.items[0].email, member);
    for (const secret of [admin, w2, "Hush Hush", asAdmin.json.invitation.id, adminByMail.json.invitation.id])
      assert.ok(!narrow.text.includes(secret), `the workspace admin's list shows ${secret}`);

    const whole = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}/invitations`, {
      token: o.owner.token,
    });
    assert.equal(whole.status, 200, whole.text);
    assert.deepEqual(
      whole.json.items.map((i: { id: string; workspaces: { id: string }[] }) => [
        i.id,
        i.workspaces.map((w) => w.id),
      ]),
      [
        [adminByMail.json.invitation.id, [o.workspaceId]],
        [asAdmin.json.invitation.id, [o.workspaceId]],
        [asMember.json.invitation.id, [o.workspaceId, w2]],
      ],
    );
    assert.ok(whole.text.includes(admin));
  });
});

describe("review 13.7c: a request in flight acts on the standing read under the lock", () => {
  test("review 13.7c: a workspace admin removed from the workspace while their PUT was on its way: 404, nothing changed", async () => {
    const o = await buildOrg(t);
    const wsAdmin = await joinOrg(t, o.orgId, "member", "Wes Wsadmin");
    const target = await joinOrg(t, o.orgId, "member", "Tia Target");
    await grantWorkspaceRole(t, o.orgId, o.workspaceId, wsAdmin.userId, "admin");
    await grantWorkspaceRole(t, o.orgId, o.workspaceId, target.userId, "viewer");
    let removal: Answer | undefined;
    pauseBeforeTransaction(async () => {
      removal = await t.request("DELETE", `/api/v1/workspaces/${o.workspaceId}/members/${wsAdmin.userId}`, {
        token: o.owner.token,
      });
    });
    const before = await auditCount(o.orgId);
    const res = await t.request("PUT", `/api/v1/workspaces/${o.workspaceId}/members/${target.userId}`, {
      token: wsAdmin.token,
      body: { role: "admin" },
    });
    assert.equal(removal?.status, 204, removal?.text);
    const missing = await t.request("PUT", `/api/v1/workspaces/${MISSING}/members/${target.userId}`, {
      token: wsAdmin.token,
      body: { role: "admin" },
    });
    assert.equal(res.status, 404, res.text);
    assert.deepEqual(shown(res), shown(missing), "the answer the guard would give now");
    assert.equal(await workspaceRole(o.workspaceId, target.userId), "viewer");
    assert.equal(await auditCount(o.orgId), before + 1, "only the removal's event");
  });

  test("review 13.7c: a workspace admin lowered to editor while their DELETE was on its way: 403, the member stays", async () => {
    const o = await buildOrg(t);
    const wsAdmin = await joinOrg(t, o.orgId, "member", "Wes Wsadmin");
    const target = await joinOrg(t, o.orgId, "member", "Tia Target");
    await grantWorkspaceRole(t, o.orgId, o.workspaceId, wsAdmin.userId, "admin");
    await grantWorkspaceRole(t, o.orgId, o.workspaceId, target.userId, "viewer");
    pauseBeforeTransaction(async () => {
      const lowered = await t.request(
        "PUT",
        `/api/v1/workspaces/${o.workspaceId}/members/${wsAdmin.userId}`,
        { token: o.owner.token, body: { role: "editor" } },
      );
      assert.equal(lowered.status, 200, lowered.text);
    });
    const res = await t.request("DELETE", `/api/v1/workspaces/${o.workspaceId}/members/${target.userId}`, {
      token: wsAdmin.token,
    });
    assert.equal(res.status, 403, res.text);
    assert.equal(res.json.code, "forbidden");
    assert.match(res.json.detail, /editor lacks workspace\.users/);
    assert.equal(await workspaceRole(o.workspaceId, target.userId), "viewer");
  });

  test("review 13.7c: a workspace invitation whose inviter lost the workspace on the way: 404, no invitation, no mail", async () => {
    const o = await buildOrg(t);
    const wsAdmin = await joinOrg(t, o.orgId, "member", "Wes Wsadmin");
    await grantWorkspaceRole(t, o.orgId, o.workspaceId, wsAdmin.userId, "admin");
    pauseBeforeTransaction(async () => {
      const removed = await t.request(
        "DELETE",
        `/api/v1/workspaces/${o.workspaceId}/members/${wsAdmin.userId}`,
        { token: o.owner.token },
      );
      assert.equal(removed.status, 204, removed.text);
    });
    const email = uniqueEmail("late");
    const res = await t.request("POST", `/api/v1/workspaces/${o.workspaceId}/invitations`, {
      token: wsAdmin.token,
      body: { email, role: "editor" },
    });
    assert.equal(res.status, 404, res.text);
    assert.equal(res.json.code, "workspace_not_found");
    assert.equal(await invitationCount(o.orgId), 0);
    const mail = await t.db.selectFrom("mail_outbox").select("id").where("to_address", "=", email).execute();
    assert.deepEqual(mail, []);
  });

  test("review 13.7c: an org admin demoted to member while their org invitation was on its way: 403, no invitation", async () => {
    const o = await buildOrg(t);
    const orgAdmin = await joinOrg(t, o.orgId, "admin", "Ada Admin");
    pauseBeforeTransaction(async () => {
      const demoted = await t.request("PATCH", `/api/v1/orgs/${o.orgId}/members/${orgAdmin.userId}`, {
        token: o.owner.token,
        body: { role: "member" },
      });
      assert.equal(demoted.status, 200, demoted.text);
    });
    const res = await t.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, {
      token: orgAdmin.token,
      body: { delivery: "link", role: "admin" },
    });
    assert.equal(res.status, 403, res.text);
    assert.equal(res.json.code, "forbidden");
    assert.match(res.json.detail, /member lacks org\.users/);
    assert.equal(await invitationCount(o.orgId), 0);
  });
});
