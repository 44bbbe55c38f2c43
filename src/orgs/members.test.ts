// Org members: listing and search, role changes and removal. README.md#http-api and rules 1, 3, 14, 16.
// The last-owner rule and removal taking effect at once live in members-rules.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildUser, type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import type { OrgRole } from "../access/catalogue.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

const NO_USER = "usr_00000000000000000000000000";

async function owner(name = "Olive Owner"): Promise<SignedUp & { orgId: string; workspaceId: string }> {
  const u = await buildUser(t, { name, organizationName: `${name}'s Org` });
  const me = await t.request("GET", "/api/v1/me", { token: u.token });
  const orgId: string = me.json.organizations[0].id;
  const ws = await t.db
    .selectFrom("workspaces")
    .select("id")
    .where("org_id", "=", orgId)
    .executeTakeFirstOrThrow();
  return { ...u, orgId, workspaceId: ws.id };
}

async function join(orgId: string, role: OrgRole, over: { name?: string; email?: string } = {}) {
  const u = await buildUser(t, over);
  await t.db.insertInto("org_memberships").values({ org_id: orgId, user_id: u.userId, role }).execute();
  return u;
}

const members = (orgId: string, token: string, query = "") =>
  t.request("GET", `/api/v1/orgs/${orgId}/members${query}`, { token });

const setRole = (orgId: string, token: string, userId: string, role: unknown) =>
  t.request("PATCH", `/api/v1/orgs/${orgId}/members/${userId}`, { token, body: { role } });

const remove = (orgId: string, token: string, userId: string) =>
  t.request("DELETE", `/api/v1/orgs/${orgId}/members/${userId}`, { token });

async function roleOf(orgId: string, userId: string): Promise<string | undefined> {
  const row = await t.db
    .selectFrom("org_memberships")
    .select("role")
    .where("org_id", "=", orgId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return row?.role;
}

const events = (orgId: string, action: string) =>
  t.db
    .selectFrom("audit_events")
    .selectAll()
    .where("org_id", "=", orgId)
    .where("action", "=", action)
    .orderBy("at")
    .execute();

describe("listing members", () => {
  test("items carry exactly the documented fields, with the workspace roles granted directly", async () => {
    const o = await owner("Zoe Owner");
    const ed = await join(o.orgId, "member", { name: "Ed Editor" });
    const second = await t.db
      .insertInto("workspaces")
      .values({ id: `wsp_${ed.userId.slice(4)}`, org_id: o.orgId, name: "Alpha" })
      .returning(["id", "name"])
      .executeTakeFirstOrThrow();
    await t.db
      .insertInto("workspace_memberships")
      .values([
        { org_id: o.orgId, workspace_id: o.workspaceId, user_id: ed.userId, role: "editor" },
        { org_id: o.orgId, workspace_id: second.id, user_id: ed.userId, role: "viewer" },
      ])
      .execute();
    const res = await members(o.orgId, o.token);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.nextCursor, null);
    assert.deepEqual(
      res.json.items.map((m: { userId: string }) => m.userId),
      [o.userId, ed.userId],
      "by join date",
    );
    const [first, edItem] = res.json.items;
    assert.deepEqual(Object.keys(first).sort(), [
      "abilities",
      "actsAs",
      "email",
      "joinedAt",
      "name",
      "role",
      "userId",
      "workspaces",
    ]);
    assert.equal(first.role, "owner");
    assert.deepEqual(first.workspaces, [], "an owner acts as admin everywhere, but was granted nothing");
    assert.equal(first.actsAs, "admin");
    assert.equal(edItem.actsAs, null);
    assert.equal(edItem.name, "Ed Editor");
    assert.equal(edItem.email, ed.email);
    assert.ok(!Number.isNaN(Date.parse(edItem.joinedAt)));
    assert.deepEqual(edItem.workspaces, [
      { id: second.id, name: "Alpha", role: "viewer" },
      { id: o.workspaceId, name: "General", role: "editor" },
    ]);
  });

  test("org.users is needed: a member gets 403", async () => {
    const o = await owner();
    const m = await join(o.orgId, "member");
    const res = await members(o.orgId, m.token);
    assert.equal(res.status, 403);
    assert.equal(res.json.code, "forbidden");
    assert.equal((await members(o.orgId, (await join(o.orgId, "admin")).token)).status, 200);
  });

  test("pages with limit and cursor, each member once", async () => {
    const o = await owner();
    for (let i = 0; i < 6; i++) await join(o.orgId, "member", { name: `Pager ${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=3&cursor=${cursor}` : "?limit=3";
      const res = await members(o.orgId, o.token, query);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.items.length <= 3);
      seen.push(...res.json.items.map((m: { userId: string }) => m.userId));
      cursor = res.json.nextCursor;
    } while (cursor);
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen).size, 7);
  });

  test("members who joined in the same microsecond still page exactly once each", async () => {
    const o = await owner();
    const users = [];
    for (let i = 0; i < 5; i++) users.push(await buildUser(t, { name: `Same ${i}` }));
    const at = new Date("2024-01-02T03:04:05.678Z");
    await t.db
      .insertInto("org_memberships")
      .values(users.map((u) => ({ org_id: o.orgId, user_id: u.userId, role: "member", created_at: at })))
      .execute();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const res = await members(o.orgId, o.token, query);
      seen.push(...res.json.items.map((m: { userId: string }) => m.userId));
      cursor = res.json.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [...users.map((u) => u.userId).sort(), o.userId]);
  });

  test("q matches name or e-mail anywhere, case-insensitively; role filters by org role", async () => {
    const o = await owner("Quinn Owner");
    const tag = Date.now().toString(36);
    const anna = await join(o.orgId, "admin", { name: "Anna Łukasiewicz", email: `anna.${tag}@Example.org` });
    const bert = await join(o.orgId, "member", { name: "Bert 100% Sure", email: `b.${tag}@other.test` });
    const cara = await join(o.orgId, "member", { name: "Cara", email: `cara_x.${tag}@example.org` });
    const ids = async (query: string) => {
      const res = await members(o.orgId, o.token, query);
      assert.equal(res.status, 200, `${query} → ${res.text}`);
      return res.json.items.map((m: { userId: string }) => m.userId);
    };
    assert.deepEqual(await ids("?q=ŁUKASIE"), [anna.userId], "name, any case, anywhere");
    assert.deepEqual(await ids(`?q=${tag}%40OTHER`), [bert.userId], "e-mail, any case");
    assert.deepEqual(await ids("?q=100%25"), [bert.userId], "% is taken literally");
    assert.deepEqual(await ids("?q=a_x"), [cara.userId], "_ is taken literally");
    assert.deepEqual(await ids("?q=nobody-has-this"), []);
    assert.deepEqual(await ids("?role=member"), [bert.userId, cara.userId]);
    assert.deepEqual(await ids("?role=admin&q=anna"), [anna.userId]);
    assert.deepEqual(await ids("?role=owner"), [o.userId]);
    assert.deepEqual((await ids("?q=")).length, 4, "an empty q filters nothing");
    const bad = await members(o.orgId, o.token, "?role=boss");
    assert.equal(bad.status, 400);
    assert.deepEqual(
      bad.json.errors.map((e: { field: string }) => e.field),
      ["role"],
    );
    const long = await members(o.orgId, o.token, `?q=${"x".repeat(201)}`);
    assert.equal(long.status, 400);
    assert.equal(long.json.errors[0].field, "q");
  });
});

describe("rule 1: changing org roles", () => {
  test("a member cannot change roles", async () => {
    const o = await owner();
    const m = await join(o.orgId, "member");
    const other = await join(o.orgId, "member");
    for (const [target, role] of [
      [other.userId, "admin"],
      [m.userId, "admin"],
      [o.userId, "member"],
    ] as const) {
      const res = await setRole(o.orgId, m.token, target, role);
      assert.equal(res.status, 403, res.text);
      assert.equal(res.json.code, "forbidden");
    }
    assert.equal(await roleOf(o.orgId, m.userId), "member");
    assert.equal(await roleOf(o.orgId, other.userId), "member");
  });

  test("an admin grants admin and member, but neither grants owner nor touches an owner", async () => {
    const o = await owner();
    const admin = await join(o.orgId, "admin");
    const m = await join(o.orgId, "member");
    const up = await setRole(o.orgId, admin.token, m.userId, "admin");
    assert.equal(up.status, 200, up.text);
    assert.equal(up.json.member.role, "admin");
    assert.deepEqual(Object.keys(up.json.member).sort(), [
      "abilities",
      "actsAs",
      "email",
      "joinedAt",
      "name",
      "role",
      "userId",
      "workspaces",
    ]);
    assert.equal((await setRole(o.orgId, admin.token, m.userId, "member")).status, 200);

    const grantOwner = await setRole(o.orgId, admin.token, m.userId, "owner");
    assert.equal(grantOwner.status, 403);
    assert.equal(grantOwner.json.code, "forbidden");
    assert.match(grantOwner.json.detail, /only owners grant or revoke owner/);
    const demoteOwner = await setRole(o.orgId, admin.token, o.userId, "member");
    assert.equal(demoteOwner.status, 403);
    const removeOwner = await remove(o.orgId, admin.token, o.userId);
    assert.equal(removeOwner.status, 403);
    assert.equal(removeOwner.json.code, "forbidden");
    assert.equal(await roleOf(o.orgId, m.userId), "member");
    assert.equal(await roleOf(o.orgId, o.userId), "owner");
  });

  test("nobody escalates themselves: an admin making themselves owner gets 403", async () => {
    const o = await owner();
    const admin = await join(o.orgId, "admin");
    const res = await setRole(o.orgId, admin.token, admin.userId, "owner");
    assert.equal(res.status, 403, res.text);
    assert.equal(res.json.code, "forbidden");
    assert.equal(await roleOf(o.orgId, admin.userId), "admin");
  });

  test("an owner does all: grants owner, demotes another owner", async () => {
    const o = await owner();
    const m = await join(o.orgId, "member");
    assert.equal((await setRole(o.orgId, o.token, m.userId, "owner")).status, 200);
    assert.equal(await roleOf(o.orgId, m.userId), "owner");
    assert.equal((await setRole(o.orgId, o.token, m.userId, "admin")).status, 200);
    assert.equal(await roleOf(o.orgId, m.userId), "admin");
  });

  test("a role change is audited with from, to and the target's name and e-mail; a no-op is not", async () => {
    const o = await owner("Audit Owner");
    const m = await join(o.orgId, "member", { name: "Mia Member" });
    assert.equal((await setRole(o.orgId, o.token, m.userId, "admin")).status, 200);
    assert.equal((await setRole(o.orgId, o.token, m.userId, "admin")).status, 200);
    const changed = await events(o.orgId, "member.role_changed");
    assert.equal(changed.length, 1);
    assert.deepEqual(changed[0]?.data, { from: "member", to: "admin", email: m.email, name: "Mia Member" });
    assert.equal(changed[0]?.actor_id, o.userId);
    assert.equal(changed[0]?.actor_name, "Audit Owner");
    assert.equal(changed[0]?.target_id, m.userId);
  });

  test("bad roles are a 400 naming role, and change nothing", async () => {
    const o = await owner();
    const m = await join(o.orgId, "member");
    for (const body of [{ role: "boss" }, { role: 1 }, { role: "" }, {}, { role: "Owner" }]) {
      const res = await t.request("PATCH", `/api/v1/orgs/${o.orgId}/members/${m.userId}`, {
        token: o.token,
        body,
      });
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.text}`);
      assert.deepEqual(
        res.json.errors.map((e: { field: string }) => e.field),
        ["role"],
      );
    }
    assert.equal(await roleOf(o.orgId, m.userId), "member");
    assert.equal((await events(o.orgId, "member.role_changed")).length, 0);
  });
});

describe("removing members", () => {
  test("an admin removes a member from the organisation and every workspace of it; audited", async () => {
    const o = await owner();
    const admin = await join(o.orgId, "admin", { name: "Ada" });
    const m = await join(o.orgId, "member", { name: "Gone Soon" });
    await t.db
      .insertInto("workspace_memberships")
      .values({ org_id: o.orgId, workspace_id: o.workspaceId, user_id: m.userId, role: "agent" })
      .execute();
    const res = await remove(o.orgId, admin.token, m.userId);
    assert.equal(res.status, 204, res.text);
    assert.equal(await roleOf(o.orgId, m.userId), undefined);
    const left = await t.db
      .selectFrom("workspace_memberships")
      .select("user_id")
      .where("org_id", "=", o.orgId)
      .where("user_id", "=", m.userId)
      .execute();
    assert.deepEqual(left, []);
    const [event] = await events(o.orgId, "member.removed");
    assert.deepEqual(event?.data, { role: "member", email: m.email, name: "Gone Soon" });
    assert.equal(event?.actor_name, "Ada");
    assert.equal(event?.target_id, m.userId);
    assert.equal((await remove(o.orgId, admin.token, m.userId)).status, 404, "already gone");
  });

  test("a member may leave (their own id), but may not remove anyone else", async () => {
    const o = await owner();
    const m = await join(o.orgId, "member", { name: "Lee" });
    const other = await join(o.orgId, "member");
    const refused = await remove(o.orgId, m.token, other.userId);
    assert.equal(refused.status, 403);
    assert.equal(await roleOf(o.orgId, other.userId), "member");
    const res = await remove(o.orgId, m.token, m.userId);
    assert.equal(res.status, 204, res.text);
    assert.equal(await roleOf(o.orgId, m.userId), undefined);
    const [event] = await events(o.orgId, "member.left");
    assert.deepEqual(event?.data, { role: "member" });
    assert.equal(event?.actor_id, m.userId);
    assert.equal(event?.actor_name, "Lee");
  });

  test("an admin can remove a fellow admin", async () => {
    const o = await owner();
    const a1 = await join(o.orgId, "admin");
    const a2 = await join(o.orgId, "admin");
    assert.equal((await remove(o.orgId, a1.token, a2.userId)).status, 204);
  });
});

describe("rule 3: members of other organisations answer like ids that do not exist", () => {
  test("PATCH and DELETE with another tenant's user id: 404 member_not_found, same body", async () => {
    const a = await owner("Alice");
    const b = await owner("Bob");
    const bea = await join(b.orgId, "member", { name: "Bea" });
    const stranger = await buildUser(t, { name: "Stranger" });
    for (const target of [bea.userId, b.userId, stranger.userId]) {
      for (const [method, body] of [
        ["PATCH", { role: "admin" }],
        ["DELETE", undefined],
      ] as const) {
        const theirs = await t.request(method, `/api/v1/orgs/${a.orgId}/members/${target}`, {
          token: a.token,
          body,
        });
        const none = await t.request(method, `/api/v1/orgs/${a.orgId}/members/${NO_USER}`, {
          token: a.token,
          body,
        });
        assert.equal(theirs.status, 404, theirs.text);
        assert.equal(theirs.json.code, "member_not_found");
        assert.deepEqual(theirs.json, none.json);
      }
    }
    assert.equal(await roleOf(b.orgId, bea.userId), "member");
    assert.equal(await roleOf(b.orgId, b.userId), "owner");
    assert.equal(await roleOf(a.orgId, bea.userId), undefined);
  });
});
