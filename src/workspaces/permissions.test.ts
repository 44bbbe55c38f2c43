// docs/roles.md (the workspace permission table, effective roles) through GET /workspaces/{ws},
// GET /orgs/{org}/workspaces and POST /workspaces/{ws}/authorize.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildUser, type TestApp, testApp } from "../../test/helpers/app.js";
import { buildOrg, grantWorkspaceRole, joinOrg as joinOrgAs, type Org } from "../../test/helpers/org.js";
import type { OrgRole } from "../access/catalogue.js";

// The columns of docs/roles.md, written out here rather than read from the catalogue, so that a catalogue
// that drifts from the document fails.
const ALL = [
  "flows.read",
  "flows.write",
  "flows.start",
  "messages.send",
  "contacts.read",
  "contacts.write",
  "exports.create",
  "imports.create",
  "tickets.read",
  "tickets.respond",
  "workspace.settings",
  "workspace.integrations",
  "workspace.users",
];
const COLUMNS: Record<string, string[]> = {
  admin: ALL,
  editor: ALL.filter((p) => !p.startsWith("workspace.")),
  agent: ["tickets.read", "tickets.respond"],
  viewer: ["flows.read", "contacts.read", "tickets.read"],
};

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

const newOrg = (name?: string): Promise<Org> => buildOrg(t, name);
const joinOrg = (orgId: string, orgRole?: OrgRole, name?: string, app: TestApp = t) =>
  joinOrgAs(app, orgId, orgRole, name);
const grant = (orgId: string, workspaceId: string, userId: string, role: string, app: TestApp = t) =>
  grantWorkspaceRole(app, orgId, workspaceId, userId, role);

/** A signed-up owner, their organisation and its first workspace. */
const authorize = (token: string, ws: string, body: object) =>
  t.request("POST", `/api/v1/workspaces/${ws}/authorize`, { token, body });

describe("each role holds exactly its column (docs/roles.md)", () => {
  for (const role of Object.keys(COLUMNS)) {
    test(`workspace ${role}: permissions, and authorize for every permission`, async () => {
      const o = await newOrg();
      const u = await joinOrg(o.orgId, "member");
      await grant(o.orgId, o.workspaceId, u.userId, role);
      const res = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}`, { token: u.token });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.role, role);
      assert.deepEqual(res.json.permissions, [...(COLUMNS[role] ?? [])].sort());
      assert.equal(res.json.workspace.id, o.workspaceId);
      assert.equal(res.json.workspace.organizationId, o.orgId);

      for (const permission of ALL) {
        const a = await authorize(u.token, o.workspaceId, { permission });
        assert.equal(a.status, 200, a.text);
        assert.equal(a.json.allowed, COLUMNS[role]?.includes(permission), `${role} ${permission}`);
        assert.equal(a.json.role, role);
        assert.ok(a.json.reason.startsWith(`${role} `), a.json.reason);
        assert.ok(a.json.reason.includes(permission), a.json.reason);
      }
    });
  }

  for (const orgRole of ["owner", "admin"] as const) {
    test(`org ${orgRole} without a workspace role acts as workspace admin`, async () => {
      const o = await newOrg();
      const u = orgRole === "owner" ? o.owner : await joinOrg(o.orgId, orgRole);
      const res = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}`, { token: u.token });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.role, "admin");
      assert.deepEqual(res.json.permissions, [...ALL].sort());
      for (const permission of ALL) {
        const a = await authorize(u.token, o.workspaceId, { permission });
        assert.equal(a.json.allowed, true, permission);
        assert.equal(a.json.role, "admin");
        assert.equal(a.json.reason, `admin (as organisation ${orgRole}) has ${permission}`);
      }
    });
  }

  test("an org admin with a lesser direct role still acts as admin (the higher of the two)", async () => {
    const o = await newOrg();
    const u = await joinOrg(o.orgId, "admin");
    await grant(o.orgId, o.workspaceId, u.userId, "viewer");
    const res = await t.request("GET", `/api/v1/workspaces/${o.workspaceId}`, { token: u.token });
    assert.equal(res.json.role, "admin");
    assert.deepEqual(res.json.permissions, [...ALL].sort());
  });

  test("a denial says which roles have the permission", async () => {
    const o = await newOrg();
    const u = await joinOrg(o.orgId, "member");
    await grant(o.orgId, o.workspaceId, u.userId, "agent");
    const a = await authorize(u.token, o.workspaceId, { permission: "flows.write" });
    assert.deepEqual(a.json, {
      allowed: false,
      role: "agent",
      reason: "agent lacks flows.write; editor or admin has it", // the README's example, word for word
    });
  });
});

describe("a member without a role in a workspace", () => {
  test("gets 404 on it, and does not see it in the list; sees those granted, with the role", async () => {
    const o = await newOrg();
    const second = await t.request("POST", `/api/v1/orgs/${o.orgId}/workspaces`, {
      token: o.owner.token,
      body: { name: "Second" },
    });
    assert.equal(second.status, 201, second.text);
    const u = await joinOrg(o.orgId, "member");
    await grant(o.orgId, second.json.workspace.id, u.userId, "agent");

    for (const [method, path, body] of [
      ["GET", `/api/v1/workspaces/${o.workspaceId}`, undefined],
      ["GET", `/api/v1/workspaces/${o.workspaceId}/members`, undefined],
      ["POST", `/api/v1/workspaces/${o.workspaceId}/authorize`, { permission: "tickets.read" }],
      ["PATCH", `/api/v1/workspaces/${o.workspaceId}`, { name: "Mine now" }],
    ] as const) {
      const res = await t.request(method, path, { token: u.token, ...(body ? { body } : {}) });
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
      assert.equal(res.json.code, "workspace_not_found");
    }

    const list = await t.request("GET", `/api/v1/orgs/${o.orgId}/workspaces`, { token: u.token });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(
      list.json.items.map((w: { id: string; role: string }) => [w.id, w.role]),
      [[second.json.workspace.id, "agent"]],
    );
    assert.equal(list.json.nextCursor, null);

    const ownerList = await t.request("GET", `/api/v1/orgs/${o.orgId}/workspaces`, { token: o.owner.token });
    assert.deepEqual(
      ownerList.json.items.map((w: { id: string; role: string }) => [w.id, w.role]),
      [
        [o.workspaceId, "admin"],
        [second.json.workspace.id, "admin"],
      ],
    );
    const item = ownerList.json.items[0];
    assert.deepEqual(Object.keys(item).sort(), ["createdAt", "id", "language", "name", "role", "timezone"]);
  });
});

describe("authorize", () => {
  test("an unknown permission is a 400 naming the field", async () => {
    const o = await newOrg();
    for (const permission of ["flows.fly", "", 42]) {
      const res = await authorize(o.owner.token, o.workspaceId, { permission });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.code, "validation_failed");
      assert.equal(res.json.errors[0].field, "permission");
    }
  });

  test("asking about another user needs workspace.users", async () => {
    const o = await newOrg();
    const viewer = await joinOrg(o.orgId, "member");
    const editor = await joinOrg(o.orgId, "member");
    await grant(o.orgId, o.workspaceId, viewer.userId, "viewer");
    await grant(o.orgId, o.workspaceId, editor.userId, "editor");

    const refused = await authorize(viewer.token, o.workspaceId, {
      permission: "flows.write",
      userId: editor.userId,
    });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json.code, "forbidden");
    assert.match(refused.json.detail, /workspace\.users/);

    const self = await authorize(viewer.token, o.workspaceId, {
      permission: "flows.read",
      userId: viewer.userId,
    });
    assert.deepEqual(self.json, { allowed: true, role: "viewer", reason: "viewer has flows.read" });

    const asked = await authorize(o.owner.token, o.workspaceId, {
      permission: "flows.write",
      userId: editor.userId,
    });
    assert.deepEqual(asked.json, { allowed: true, role: "editor", reason: "editor has flows.write" });
    const noRole = await joinOrg(o.orgId, "member");
    const none = await authorize(o.owner.token, o.workspaceId, {
      permission: "tickets.read",
      userId: noRole.userId,
    });
    assert.deepEqual(none.json, { allowed: false, role: null, reason: "no role in this workspace" });
  });

  test("a user outside the organisation: not allowed, the same answer for another tenant's user and for no one", async () => {
    const o = await newOrg();
    const other = await newOrg("Other Tenant");
    const outsider = await buildUser(t);
    const answers = [];
    for (const userId of [other.owner.userId, outsider.userId, "usr_00000000000000000000000000", "nobody"]) {
      const res = await authorize(o.owner.token, o.workspaceId, { permission: "flows.read", userId });
      assert.equal(res.status, 200, res.text);
      answers.push(res.text);
    }
    assert.deepEqual(JSON.parse(answers[0] ?? ""), {
      allowed: false,
      role: null,
      reason: "not a member of this organisation",
    });
    assert.equal(new Set(answers).size, 1, answers.join("\n"));
  });
});
