// What a workspace's member list says the caller may do to each person (`abilities`), against
// what PUT and DELETE …/members/{user} then really do (rule 1: workspace.users there, nothing above
// one's own effective role) — with a host's roles (ROLES_FILE) ranked above and below admin, which
// role names alone cannot place.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import { buildOrg, grantWorkspaceRole, joinOrg, type Org } from "../../test/helpers/org.js";

let t: TestApp;
let rolesDir: string;
before(async () => {
  rolesDir = await mkdtemp(path.join(tmpdir(), "rollcall-roles-"));
  const file = path.join(rolesDir, "roles.json");
  await writeFile(
    file,
    JSON.stringify({
      workspaceRoles: {
        chief: { rank: 50, description: "Above admin", permissions: ["workspace.users", "tickets.read"] },
        manager: {
          rank: 35,
          description: "Manages people",
          permissions: ["workspace.users", "tickets.read"],
        },
      },
    }),
  );
  t = await testApp({ ROLES_FILE: file });
});
after(async () => {
  await t.close();
  await rm(rolesDir, { recursive: true, force: true });
});

type Abilities = { changeRole: boolean; remove: boolean };

/** One person of each role in a new workspace of `o`. */
async function workspace(
  o: Org,
): Promise<{ ws: string; people: Record<string, SignedUp & { role: string }> }> {
  const res = await t.request("POST", `/api/v1/orgs/${o.orgId}/workspaces`, {
    token: o.owner.token,
    body: { name: "Field Ops" },
  });
  assert.equal(res.status, 201, res.text);
  const ws: string = res.json.workspace.id;
  const people: Record<string, SignedUp & { role: string }> = {};
  for (const role of ["chief", "admin", "manager", "editor", "viewer"]) {
    const person = await joinOrg(t, o.orgId, "member", role);
    await grantWorkspaceRole(t, o.orgId, ws, person.userId, role);
    people[role] = { ...person, role };
  }
  return { ws, people };
}

/**
 * Each person's abilities as the list shows them to `viewer` (a person of the workspace, or the
 * org owner), then the routes tried on them (the lowest other role, then removal; the viewer
 * last, removal only): what the list said is exactly what succeeded.
 */
async function expectAsListed(viewer: string, expected: Record<string, Abilities>) {
  const o = await buildOrg(t, "Olive Owner");
  const { ws, people } = await workspace(o);
  const me = viewer === "owner" ? { ...o.owner, role: "owner" } : people[viewer];
  assert.ok(me);
  const res = await t.request("GET", `/api/v1/workspaces/${ws}/members?limit=200`, { token: me.token });
  assert.equal(res.status, 200, res.text);
  const shown = new Map<string, Abilities>(
    res.json.items.map((m: { userId: string; abilities: Abilities }) => [m.userId, m.abilities]),
  );
  const order = Object.keys(people)
    .filter((n) => n !== viewer)
    .concat(viewer === "owner" ? [] : [viewer]);
  for (const name of order) {
    const person = people[name];
    const want = expected[name];
    assert.ok(person && want, `${name} is expected`);
    assert.deepEqual(shown.get(person.userId), want, `${name} as listed to ${viewer}`);
    if (name === viewer) {
      // Themselves, last: removal only (a lower role would take workspace.users away first).
      const left = await t.request("DELETE", `/api/v1/workspaces/${ws}/members/${person.userId}`, {
        token: me.token,
      });
      assert.equal(left.status < 300, want.remove, `${name} removes themselves: ${left.status} ${left.text}`);
      continue;
    }
    const to = person.role === "viewer" ? "editor" : "viewer";
    const changed = await t.request("PUT", `/api/v1/workspaces/${ws}/members/${person.userId}`, {
      token: me.token,
      body: { role: to },
    });
    assert.equal(changed.status < 300, want.changeRole, `${name} → ${to}: ${changed.status} ${changed.text}`);
    const removed = await t.request("DELETE", `/api/v1/workspaces/${ws}/members/${person.userId}`, {
      token: me.token,
    });
    assert.equal(removed.status < 300, want.remove, `${name} removed: ${removed.status} ${removed.text}`);
  }
}

const all = { changeRole: true, remove: true };
const none = { changeRole: false, remove: false };

describe("workspace member abilities are what PUT and DELETE allow", () => {
  test("an admin changes and removes anyone up to admin, not a host's role ranked above it", async () => {
    await expectAsListed("admin", { chief: none, admin: all, manager: all, editor: all, viewer: all });
  });

  test("the org owner acts as admin: the same, whatever their direct role", async () => {
    await expectAsListed("owner", { chief: none, admin: all, manager: all, editor: all, viewer: all });
  });

  test("a host's role with workspace.users below admin reaches only those at or below it", async () => {
    await expectAsListed("manager", { chief: none, admin: none, manager: all, editor: all, viewer: all });
  });

  test("someone without workspace.users may do nothing to anyone", async () => {
    await expectAsListed("editor", { chief: none, admin: none, manager: none, editor: none, viewer: none });
  });

  test("after lowering one's own role, the answer shows the person as the lower role now sees them", async () => {
    const o = await buildOrg(t, "Olive Owner");
    const { ws, people } = await workspace(o);
    const admin = people.admin;
    assert.ok(admin);
    const res = await t.request("PUT", `/api/v1/workspaces/${ws}/members/${admin.userId}`, {
      token: admin.token,
      body: { role: "editor" },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.member.abilities, none);
  });
});
