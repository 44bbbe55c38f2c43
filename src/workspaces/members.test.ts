// Workspace members: list, add or change (PUT), remove (DELETE), with rule 3 (tenant isolation of
// :user) and 14 (audit). Rules 1 and 9 are in member-rules.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildUser, type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import { buildOrg, grantWorkspaceRole, joinOrg as joinOrgAs, type Org } from "../../test/helpers/org.js";
import type { OrgRole } from "../access/catalogue.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

const newOrg = (app: TestApp = t, name?: string): Promise<Org> => buildOrg(app, name);
const joinOrg = (orgId: string, orgRole?: OrgRole, name?: string, app: TestApp = t) =>
  joinOrgAs(app, orgId, orgRole, name);
const grant = (orgId: string, workspaceId: string, userId: string, role: string, app: TestApp = t) =>
  grantWorkspaceRole(app, orgId, workspaceId, userId, role);

const put = (token: string, ws: string, user: string, role: unknown, app = t) =>
  app.request("PUT", `/api/v1/workspaces/${ws}/members/${user}`, { token, body: { role } });
const remove = (token: string, ws: string, user: string) =>
  t.request("DELETE", `/api/v1/workspaces/${ws}/members/${user}`, { token });

async function directRole(ws: string, user: string, app = t): Promise<string | undefined> {
  const row = await app.db
    .selectFrom("workspace_memberships")
    .select("role")
    .where("workspace_id", "=", ws)
    .where("user_id", "=", user)
    .executeTakeFirst();
  return row?.role;
}

describe("the member list", () => {
  test("lists direct members with q, role filter and cursor pages", async () => {
    const o = await newOrg();
    const people = [
      ["Alice Archer", "editor"],
      ["Bob Baker", "viewer"],
      ["Carol Carter", "viewer"],
      ["Dan Dyer", "agent"],
    ] as const;
    const byName = new Map<string, SignedUp>();
    for (const [name, role] of people) {
      const u = await joinOrg(o.orgId, "member", name);
      byName.set(name, u);
      await grant(o.orgId, o.workspaceId, u.userId, role);
    }
    await joinOrg(o.orgId, "member", "Nobody Here");
    const viewer = byName.get("Bob Baker") as SignedUp;

    const all = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}/members`, {
      token: viewer.token,
    });
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(
      all.json.items.map((m: { name: string }) => m.name).sort(),
      people.map((p) => p[0]).sort(),
    );
    const alice = all.json.items.find((m: { name: string }) => m.name === "Alice Archer");
    assert.deepEqual(Object.keys(alice).sort(), ["abilities", "email", "joinedAt", "name", "role", "userId"]);
    assert.equal(alice.role, "editor");
    assert.equal(alice.email, byName.get("Alice Archer")?.email);

    const viewers = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}/members?role=viewer`, {
      token: viewer.token,
    });
    assert.deepEqual(viewers.json.items.map((m: { name: string }) => m.name).sort(), [
      "Bob Baker",
      "Carol Carter",
    ]);

    const q = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}/members?q=CART`, {
      token: viewer.token,
    });
    assert.deepEqual(
      q.json.items.map((m: { name: string }) => m.name),
      ["Carol Carter"],
    );
    const byEmail = (byName.get("Dan Dyer") as SignedUp).email.split("@")[0] ?? "";
    const q2 = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}/members?q=${byEmail}`, {
      token: viewer.token,
    });
    assert.deepEqual(
      q2.json.items.map((m: { name: string }) => m.name),
      ["Dan Dyer"],
    );
    const pct = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}/members?q=%25`, {
      token: viewer.token,
    });
    assert.deepEqual(pct.json.items, [], "% is taken literally");

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const qs: string = cursor ? `?limit=3&cursor=${cursor}` : "?limit=3";
      const res = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}/members${qs}`, {
        token: viewer.token,
      });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.items.length <= 3);
      seen.push(...res.json.items.map((m: { userId: string }) => m.userId));
      cursor = res.json.nextCursor;
    } while (cursor);
    assert.equal(seen.length, 4);
    assert.equal(new Set(seen).size, 4);
  });

  test("an unknown role filter is a 400 naming role", async () => {
    const o = await newOrg();
    for (const role of ["owner", "superuser", ""]) {
      const res = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}/members?role=${role}`, {
        token: o.owner.token,
      });
      assert.equal(res.status, 400, `${role}: ${res.text}`);
      assert.equal(res.json.errors[0].field, "role");
    }
  });
});

describe("adding and changing (PUT)", () => {
  test("201 when added, 200 when changed, audit events with names; org membership untouched", async () => {
    const o = await newOrg();
    const u = await joinOrg(o.orgId, "member", "Nora New");
    const added = await put(o.owner.token, o.workspaceId, u.userId, "agent");
    assert.equal(added.status, 201, added.text);
    assert.deepEqual(
      { ...added.json.member, joinedAt: undefined },
      {
        userId: u.userId,
        name: "Nora New",
        email: u.email,
        role: "agent",
        joinedAt: undefined,
        abilities: { changeRole: true, remove: true },
      },
    );
    const changed = await put(o.owner.token, o.workspaceId, u.userId, "editor");
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.member.role, "editor");
    assert.equal(changed.json.member.joinedAt, added.json.member.joinedAt);
    const same = await put(o.owner.token, o.workspaceId, u.userId, "editor");
    assert.equal(same.status, 200);
    assert.equal(await directRole(o.workspaceId, u.userId), "editor");

    const gone = await remove(o.owner.token, o.workspaceId, u.userId);
    assert.equal(gone.status, 204, gone.text);
    assert.equal(await directRole(o.workspaceId, u.userId), undefined);
    const om = await t.db
      .selectFrom("org_memberships")
      .select("role")
      .where("org_id", "=", o.orgId)
      .where("user_id", "=", u.userId)
      .executeTakeFirst();
    assert.equal(om?.role, "member");
    const again = await remove(o.owner.token, o.workspaceId, u.userId);
    assert.equal(again.status, 404);
    assert.equal(again.json.code, "member_not_found");

    const events = await t.db
      .selectFrom("audit_events")
      .selectAll()
      .where("org_id", "=", o.orgId)
      .where("action", "like", "workspace_member.%")
      .orderBy("at")
      .orderBy("id")
      .execute();
    assert.deepEqual(
      events.map((e) => [e.action, e.actor_name, e.target_id, e.data]),
      [
        [
          "workspace_member.added",
          "Olive Owner",
          u.userId,
          { workspaceId: o.workspaceId, role: "agent", name: "Nora New", email: u.email },
        ],
        [
          "workspace_member.role_changed",
          "Olive Owner",
          u.userId,
          { workspaceId: o.workspaceId, from: "agent", to: "editor", name: "Nora New", email: u.email },
        ],
        [
          "workspace_member.removed",
          "Olive Owner",
          u.userId,
          { workspaceId: o.workspaceId, role: "editor", name: "Nora New", email: u.email },
        ],
      ],
    );
    assert.ok(events.every((e) => e.actor_id === o.owner.userId && e.ip));
  });

  test("a user outside the organisation, another tenant's or no one: 404 member_not_found, identically", async () => {
    const o = await newOrg();
    const other = await newOrg(t, "Other Tenant");
    const outsider = await buildUser(t);
    const answers = new Set<string>();
    for (const userId of [other.owner.userId, outsider.userId, "usr_00000000000000000000000000"]) {
      for (const res of [
        await put(o.owner.token, o.workspaceId, userId, "viewer"),
        await remove(o.owner.token, o.workspaceId, userId),
      ]) {
        assert.equal(res.status, 404, res.text);
        assert.equal(res.json.code, "member_not_found");
      }
      const p = await put(o.owner.token, o.workspaceId, userId, "viewer");
      answers.add(JSON.stringify([p.status, p.json.code, p.json.detail]));
    }
    assert.equal(answers.size, 1, [...answers].join("\n"));
    const rows = await t.db
      .selectFrom("workspace_memberships")
      .select("user_id")
      .where("workspace_id", "=", o.workspaceId)
      .execute();
    assert.deepEqual(rows, []);
  });

  test("only holders of workspace.users add, change or remove", async () => {
    const o = await newOrg();
    const target = await joinOrg(o.orgId);
    await grant(o.orgId, o.workspaceId, target.userId, "viewer");
    for (const role of ["editor", "agent", "viewer"]) {
      const u = await joinOrg(o.orgId);
      await grant(o.orgId, o.workspaceId, u.userId, role);
      const p = await put(u.token, o.workspaceId, target.userId, "editor");
      assert.equal(p.status, 403, `${role}: ${p.text}`);
      assert.match(p.json.detail, new RegExp(`${role} lacks workspace\\.users`));
      const self = await put(u.token, o.workspaceId, u.userId, "admin");
      assert.equal(self.status, 403, `${role} promoting themself: ${self.text}`);
      const d = await remove(u.token, o.workspaceId, target.userId);
      assert.equal(d.status, 403, `${role}: ${d.text}`);
    }
    assert.equal(await directRole(o.workspaceId, target.userId), "viewer");

    const admin = await joinOrg(o.orgId);
    await grant(o.orgId, o.workspaceId, admin.userId, "admin");
    for (const role of ["admin", "editor", "agent", "viewer"]) {
      const res = await put(admin.token, o.workspaceId, target.userId, role);
      assert.equal(res.status, 200, `${role}: ${res.text}`);
      assert.equal(await directRole(o.workspaceId, target.userId), role);
    }
    assert.equal((await remove(admin.token, o.workspaceId, target.userId)).status, 204);
  });

  test("two concurrent PUTs for the same person: one adds (201), the other changes (200); never a 409 or 500", async () => {
    const o = await newOrg();
    const sibling = await t.sibling();
    try {
      for (let i = 0; i < 3; i++) {
        const u = await joinOrg(o.orgId);
        const answers = await Promise.all([
          put(o.owner.token, o.workspaceId, u.userId, "viewer"),
          sibling.request("PUT", `/api/v1/workspaces/${o.workspaceId}/members/${u.userId}`, {
            token: o.owner.token,
            body: { role: "editor" },
          }),
        ]);
        assert.deepEqual(
          answers.map((a) => a.status).sort(),
          [200, 201],
          answers.map((a) => a.text).join("\n"),
        );
        const events = await t.db
          .selectFrom("audit_events")
          .select("action")
          .where("target_id", "=", u.userId)
          .where("action", "like", "workspace_member.%")
          .execute();
        assert.equal(events.filter((e) => e.action === "workspace_member.added").length, 1);
      }
    } finally {
      await sibling.close();
    }
  });

  test("bad roles and bodies are 400 naming role, and change nothing", async () => {
    const o = await newOrg();
    const u = await joinOrg(o.orgId);
    for (const role of ["owner", "god", "", 3, null]) {
      const res = await put(o.owner.token, o.workspaceId, u.userId, role);
      assert.equal(res.status, 400, `${role}: ${res.text}`);
      assert.equal(res.json.errors[0].field, "role");
    }
    const empty = await t.request("PUT", `/api/v1/workspaces/${o.workspaceId}/members/${u.userId}`, {
      token: o.owner.token,
      body: {},
    });
    assert.equal(empty.status, 400);
    assert.equal(empty.json.errors[0].field, "role");
    assert.equal(await directRole(o.workspaceId, u.userId), undefined);
  });
});
