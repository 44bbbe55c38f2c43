// Workspace members and the rules on changing them: 1 (no escalation: a workspace admin grants in
// that workspace only, nothing above their own role) and 9 (a removal or demotion holds at the next
// request, on every device and every server). The everyday API is in members.test.ts.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { randomIp, type TestApp, testApp } from "../../test/helpers/app.js";
import { buildOrg, grantWorkspaceRole, joinOrg as joinOrgAs, type Org } from "../../test/helpers/org.js";
import type { OrgRole } from "../access/catalogue.js";
import type { AppError } from "../core/errors.js";
import { putWorkspaceMember, removeWorkspaceMember } from "./operations.js";

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

async function newWorkspace(o: Org, name: string): Promise<string> {
  const res = await t.request("POST", `/api/v1/orgs/${o.orgId}/workspaces`, {
    token: o.owner.token,
    body: { name },
  });
  assert.equal(res.status, 201, res.text);
  return res.json.workspace.id;
}

describe("rule 1: a workspace admin grants in that workspace only, nothing above their own role", () => {
  test("an admin of W1 cannot grant in W2: 404 without a role there, 403 with a lesser one", async () => {
    const o = await newOrg();
    const w2 = await newWorkspace(o, "W2");
    const admin = await joinOrg(o.orgId);
    await grant(o.orgId, o.workspaceId, admin.userId, "admin");
    const target = await joinOrg(o.orgId);

    const unseen = await put(admin.token, w2, target.userId, "viewer");
    assert.equal(unseen.status, 404, unseen.text);
    assert.equal(unseen.json.code, "workspace_not_found");
    const self = await put(admin.token, w2, admin.userId, "admin");
    assert.equal(self.status, 404, self.text);

    await grant(o.orgId, w2, admin.userId, "editor");
    const lesser = await put(admin.token, w2, target.userId, "viewer");
    assert.equal(lesser.status, 403, lesser.text);
    assert.equal(lesser.json.code, "forbidden");
    const selfUp = await put(admin.token, w2, admin.userId, "admin");
    assert.equal(selfUp.status, 403, selfUp.text);
    assert.equal(await directRole(w2, target.userId), undefined);
    assert.equal(await directRole(w2, admin.userId), "editor");

    assert.equal((await put(admin.token, o.workspaceId, target.userId, "admin")).status, 201);
  });

  test("with a role that holds workspace.users below admin (ROLES_FILE), nothing above it is granted or changed", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "rollcall-roles-"));
    const file = path.join(dir, "roles.json");
    await writeFile(
      file,
      JSON.stringify({
        workspaceRoles: {
          manager: {
            rank: 35,
            description: "Manages people",
            permissions: ["workspace.users", "tickets.read"],
          },
        },
      }),
    );
    const x = await testApp({ ROLES_FILE: file });
    try {
      const o = await newOrg(x);
      const manager = await joinOrg(o.orgId, "member", "Max Manager", x);
      await grant(o.orgId, o.workspaceId, manager.userId, "manager", x);
      const target = await joinOrg(o.orgId, "member", "Tess Target", x);
      const anAdmin = await joinOrg(o.orgId, "member", "Ada Admin", x);
      await grant(o.orgId, o.workspaceId, anAdmin.userId, "admin", x);

      const up = await put(manager.token, o.workspaceId, target.userId, "admin", x);
      assert.equal(up.status, 403, up.text);
      assert.equal(up.json.code, "forbidden");
      assert.match(up.json.detail, /a workspace manager cannot grant admin/);
      assert.equal(await directRole(o.workspaceId, target.userId, x), undefined);

      const down = await put(manager.token, o.workspaceId, anAdmin.userId, "viewer", x);
      assert.equal(down.status, 403, down.text);
      assert.match(down.json.detail, /cannot change a admin|cannot change an admin/);
      const rm1 = await x.request("DELETE", `/api/v1/workspaces/${o.workspaceId}/members/${anAdmin.userId}`, {
        token: manager.token,
      });
      assert.equal(rm1.status, 403, rm1.text);
      assert.equal(await directRole(o.workspaceId, anAdmin.userId, x), "admin");

      for (const role of ["editor", "manager", "viewer"]) {
        const ok = await put(manager.token, o.workspaceId, target.userId, role, x);
        assert.ok([200, 201].includes(ok.status), `${role}: ${ok.text}`);
      }
      assert.equal(await directRole(o.workspaceId, target.userId, x), "viewer");
    } finally {
      await x.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("rule 9: a removal or demotion holds at the very next request, on every device and server", () => {
  test("removal from the workspace", async () => {
    const o = await newOrg();
    const u = await joinOrg(o.orgId);
    await grant(o.orgId, o.workspaceId, u.userId, "editor");
    const second = await t.request("POST", "/api/v1/auth/login", {
      body: { email: u.email, password: u.password },
      remoteAddress: randomIp(),
    });
    const otherDevice: string = second.json.session.token;
    const sibling = await t.sibling();
    try {
      const path = `/api/v1/workspaces/${o.workspaceId}`;
      assert.equal((await sibling.request("GET", path, { token: otherDevice })).status, 200);
      assert.equal((await t.request("GET", path, { token: u.token })).status, 200);

      assert.equal((await remove(o.owner.token, o.workspaceId, u.userId)).status, 204);
      for (const [server, token] of [
        [t, u.token],
        [t, otherDevice],
        [sibling, u.token],
        [sibling, otherDevice],
      ] as const) {
        const res = await server.request("GET", path, { token });
        assert.equal(res.status, 404, res.text);
        const a = await server.request("POST", `${path}/authorize`, {
          token,
          body: { permission: "flows.read" },
        });
        assert.equal(a.status, 404, a.text);
      }
      const list = await sibling.request("GET", `/api/v1/orgs/${o.orgId}/workspaces`, { token: otherDevice });
      assert.deepEqual(list.json.items, []);
    } finally {
      await sibling.close();
    }
  });

  test("a demotion from admin stops the admin's powers at once", async () => {
    const o = await newOrg();
    const u = await joinOrg(o.orgId);
    await grant(o.orgId, o.workspaceId, u.userId, "admin");
    const target = await joinOrg(o.orgId);
    const sibling = await t.sibling();
    try {
      assert.equal((await put(u.token, o.workspaceId, target.userId, "viewer", t)).status, 201);
      assert.equal((await put(o.owner.token, o.workspaceId, u.userId, "viewer")).status, 200);
      const res = await sibling.request(
        "PUT",
        `/api/v1/workspaces/${o.workspaceId}/members/${target.userId}`,
        {
          token: u.token,
          body: { role: "editor" },
        },
      );
      assert.equal(res.status, 403, res.text);
      const patch = await sibling.request("PATCH", `/api/v1/workspaces/${o.workspaceId}`, {
        token: u.token,
        body: { name: "Still mine?" },
      });
      assert.equal(patch.status, 403, patch.text);
      const me = await sibling.request("GET", `/api/v1/workspaces/${o.workspaceId}`, { token: u.token });
      assert.equal(me.json.role, "viewer");
      assert.equal(await directRole(o.workspaceId, target.userId), "viewer");
    } finally {
      await sibling.close();
    }
  });

  test("review 13.7c: PUT and DELETE read the actor's standing again in their transaction, not the guard's", async () => {
    const o = await newOrg();
    const u = await joinOrg(o.orgId, "member", "Wes Wsadmin");
    const target = await joinOrg(o.orgId);
    await grant(o.orgId, o.workspaceId, target.userId, "viewer");
    const { catalogue } = t.app.services;
    const actor = { id: u.userId, name: "Wes Wsadmin", ip: null };
    const place = { orgId: o.orgId, workspaceId: o.workspaceId };
    const code = (expected: string) => (err: unknown) => (err as AppError).code === expected;
    // The guard saw an admin; by the time the operation runs, they have no role here: 404.
    await assert.rejects(
      t.db
        .transaction()
        .execute((tx) =>
          putWorkspaceMember(tx, catalogue, actor, place, { userId: target.userId, role: "admin" }),
        ),
      code("workspace_not_found"),
    );
    await assert.rejects(
      t.db.transaction().execute((tx) => removeWorkspaceMember(tx, catalogue, actor, place, target.userId)),
      code("workspace_not_found"),
    );
    // A role there without workspace.users: 403.
    await grant(o.orgId, o.workspaceId, u.userId, "editor");
    await assert.rejects(
      t.db
        .transaction()
        .execute((tx) =>
          putWorkspaceMember(tx, catalogue, actor, place, { userId: target.userId, role: "admin" }),
        ),
      code("forbidden"),
    );
    await assert.rejects(
      t.db.transaction().execute((tx) => removeWorkspaceMember(tx, catalogue, actor, place, target.userId)),
      code("forbidden"),
    );
    assert.equal(await directRole(o.workspaceId, target.userId), "viewer");
  });
});
