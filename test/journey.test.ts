// The "done when", as a person would do it through the HTTP API: an owner builds an
// organisation with several workspaces and places people with different roles; every role sees
// and does exactly what docs/roles.md says — no more — also across organisations; afterwards the
// audit log tells the whole story. (People join by invitation once that exists; here they are
// placed in the organisation directly, as an accepted invitation would.)
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildUser, type SignedUp, type TestApp, testApp } from "./helpers/app.js";

// docs/roles.md, written out by hand: the test fails if the catalogue drifts from the document.
const ORG = {
  owner: [
    "org.apikeys",
    "org.billing",
    "org.integrations",
    "org.owners",
    "org.read",
    "org.settings",
    "org.users",
    "org.workspaces",
  ],
  admin: ["org.apikeys", "org.read", "org.settings", "org.users", "org.workspaces"],
  member: ["org.read"],
};
const WS = {
  admin: [
    "contacts.read",
    "contacts.write",
    "exports.create",
    "flows.read",
    "flows.start",
    "flows.write",
    "imports.create",
    "messages.send",
    "tickets.read",
    "tickets.respond",
    "workspace.integrations",
    "workspace.settings",
    "workspace.users",
  ],
  editor: [
    "contacts.read",
    "contacts.write",
    "exports.create",
    "flows.read",
    "flows.start",
    "flows.write",
    "imports.create",
    "messages.send",
    "tickets.read",
    "tickets.respond",
  ],
  agent: ["tickets.read", "tickets.respond"],
  viewer: ["contacts.read", "flows.read", "tickets.read"],
};

let t: TestApp;
let owner: SignedUp;
let orgId: string;
const people: Record<string, SignedUp> = {};
const ws: Record<string, string> = {};

const as = (who: SignedUp) => ({
  get: (path: string) => t.request("GET", path, { token: who.token }),
  post: (path: string, body: unknown) => t.request("POST", path, { token: who.token, body }),
  patch: (path: string, body: unknown) => t.request("PATCH", path, { token: who.token, body }),
  put: (path: string, body: unknown) => t.request("PUT", path, { token: who.token, body }),
  del: (path: string) => t.request("DELETE", path, { token: who.token }),
});

before(async () => {
  t = await testApp();
  owner = await buildUser(t, { name: "Olive Owner", organizationName: "Field Ops" });
  orgId = (await as(owner).get("/api/v1/me")).json.organizations[0].id;
  for (const name of ["Support", "Sales"]) {
    const res = await as(owner).post(`/api/v1/orgs/${orgId}/workspaces`, {
      name,
      timezone: "Europe/London",
      language: "en-GB",
    });
    assert.equal(res.status, 201, res.text);
    ws[name] = res.json.workspace.id;
  }
  for (const name of ["Ada Admin", "Ed Editor", "Agnes Agent", "Vic Viewer", "Nora Nobody"]) {
    const person = await buildUser(t, { name });
    people[name.split(" ")[0] as string] = person;
    // What an accepted invitation as org member does.
    await t.db
      .insertInto("org_memberships")
      .values({ org_id: orgId, user_id: person.userId, role: "member" })
      .execute();
  }
  const o = as(owner);
  assert.equal(
    (await o.patch(`/api/v1/orgs/${orgId}/members/${people.Ada?.userId}`, { role: "admin" })).status,
    200,
  );
  const grants: [string, string, string][] = [
    ["Ed", "Support", "editor"],
    ["Agnes", "Support", "agent"],
    ["Agnes", "Sales", "viewer"],
    ["Vic", "Sales", "viewer"],
  ];
  for (const [who, where, role] of grants) {
    const res = await o.put(`/api/v1/workspaces/${ws[where]}/members/${people[who]?.userId}`, { role });
    assert.ok([200, 201].includes(res.status), res.text);
  }
});
after(async () => {
  await t.close();
});

const person = (name: string) => {
  const p = people[name];
  if (!p) throw new Error(name);
  return p;
};

test("each org role sees the organisation with exactly its permissions in docs/roles.md", async () => {
  const expected: [SignedUp, keyof typeof ORG][] = [
    [owner, "owner"],
    [person("Ada"), "admin"],
    [person("Ed"), "member"],
    [person("Nora"), "member"],
  ];
  for (const [who, role] of expected) {
    const res = await as(who).get(`/api/v1/orgs/${orgId}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.role, role);
    assert.deepEqual([...res.json.permissions].sort(), ORG[role], `${who.name}`);
  }
});

test("each person lists exactly the workspaces they can enter, with their effective role", async () => {
  const expected: [SignedUp, Record<string, string>][] = [
    [owner, { General: "admin", Support: "admin", Sales: "admin" }],
    [person("Ada"), { General: "admin", Support: "admin", Sales: "admin" }],
    [person("Ed"), { Support: "editor" }],
    [person("Agnes"), { Support: "agent", Sales: "viewer" }],
    [person("Vic"), { Sales: "viewer" }],
    [person("Nora"), {}],
  ];
  for (const [who, roles] of expected) {
    const res = await as(who).get(`/api/v1/orgs/${orgId}/workspaces`);
    assert.equal(res.status, 200, res.text);
    const seen = Object.fromEntries(
      res.json.items.map((w: { name: string; role: string }) => [w.name, w.role]),
    );
    assert.deepEqual(seen, roles, who.name);
  }
});

test("in each workspace, each role holds exactly its permissions in docs/roles.md, and authorize agrees", async () => {
  const cases: [SignedUp, string, keyof typeof WS][] = [
    [owner, "Support", "admin"],
    [person("Ada"), "Sales", "admin"],
    [person("Ed"), "Support", "editor"],
    [person("Agnes"), "Support", "agent"],
    [person("Agnes"), "Sales", "viewer"],
    [person("Vic"), "Sales", "viewer"],
  ];
  for (const [who, where, role] of cases) {
    const res = await as(who).get(`/api/v1/workspaces/${ws[where]}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.role, role, `${who.name} in ${where}`);
    assert.deepEqual([...res.json.permissions].sort(), WS[role], `${who.name} in ${where}`);
    for (const permission of WS.admin) {
      const answer = await as(who).post(`/api/v1/workspaces/${ws[where]}/authorize`, { permission });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(
        answer.json.allowed,
        WS[role].includes(permission),
        `${who.name} ${permission} in ${where}`,
      );
      assert.equal(answer.json.role, role);
      assert.match(answer.json.reason, new RegExp(role));
    }
  }
  const agent = await as(person("Agnes")).post(`/api/v1/workspaces/${ws.Support}/authorize`, {
    permission: "flows.write",
  });
  assert.equal(agent.json.reason, "agent lacks flows.write; editor or admin has it");
});

test("no one does more than their role allows", async () => {
  const support = ws.Support as string;
  // Settings: workspace admins only.
  for (const who of [person("Ed"), person("Agnes")]) {
    const res = await as(who).patch(`/api/v1/workspaces/${support}`, { name: "Renamed" });
    assert.equal(res.status, 403, `${who.name}: ${res.text}`);
    assert.equal(res.json.code, "forbidden");
  }
  assert.equal(
    (await as(person("Ada")).patch(`/api/v1/workspaces/${support}`, { name: "Support Desk" })).status,
    200,
  );
  // Workspace users: admins only.
  const put = await as(person("Ed")).put(`/api/v1/workspaces/${support}/members/${person("Nora").userId}`, {
    role: "viewer",
  });
  assert.equal(put.status, 403);
  // Organisation: members read, nothing more.
  for (const [method, path, body] of [
    ["GET", `/api/v1/orgs/${orgId}/members`, undefined],
    ["PATCH", `/api/v1/orgs/${orgId}`, { name: "Taken over" }],
    ["POST", `/api/v1/orgs/${orgId}/workspaces`, { name: "Shadow" }],
    ["GET", `/api/v1/orgs/${orgId}/audit`, undefined],
    ["DELETE", `/api/v1/orgs/${orgId}`, undefined],
  ] as const) {
    const res = await t.request(method, path, { token: person("Ed").token, body });
    assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
  }
  // Admins manage but do not own: no owner grants, no deleting the organisation.
  const ada = as(person("Ada"));
  assert.equal(
    (await ada.patch(`/api/v1/orgs/${orgId}/members/${person("Vic").userId}`, { role: "owner" })).status,
    403,
  );
  assert.equal(
    (await ada.patch(`/api/v1/orgs/${orgId}/members/${person("Ada").userId}`, { role: "owner" })).status,
    403,
  );
  assert.equal((await ada.del(`/api/v1/orgs/${orgId}`)).status, 403);
  // Someone with no workspace role cannot see a workspace at all.
  const nora = await as(person("Nora")).get(`/api/v1/workspaces/${support}`);
  assert.equal(nora.status, 404);
});

test("across organisations: each person's own organisation is invisible to the others", async () => {
  const edsOwnOrg = (await as(person("Ed")).get("/api/v1/me")).json.organizations.find(
    (o: { id: string }) => o.id !== orgId,
  );
  assert.ok(edsOwnOrg, "Ed also owns the organisation his sign-up made");
  assert.equal((await as(owner).get(`/api/v1/orgs/${edsOwnOrg.id}`)).status, 404);
  assert.equal((await as(person("Ada")).get(`/api/v1/orgs/${edsOwnOrg.id}/members`)).status, 404);
  const mine = (await as(owner).get(`/api/v1/orgs/${edsOwnOrg.id}`)).json.code;
  const none = (await as(owner).get("/api/v1/orgs/org_00000000000000000000000000")).json.code;
  assert.equal(mine, none);
});

test("removal and demotion hold at the very next request", async () => {
  const vic = person("Vic");
  assert.equal((await as(vic).get(`/api/v1/workspaces/${ws.Sales}`)).status, 200);
  assert.equal((await as(owner).del(`/api/v1/orgs/${orgId}/members/${vic.userId}`)).status, 204);
  assert.equal((await as(vic).get(`/api/v1/workspaces/${ws.Sales}`)).status, 404);
  assert.equal((await as(vic).get(`/api/v1/orgs/${orgId}`)).status, 404);

  const ada = person("Ada");
  assert.equal((await as(ada).get(`/api/v1/orgs/${orgId}/members`)).status, 200);
  assert.equal(
    (await as(owner).patch(`/api/v1/orgs/${orgId}/members/${ada.userId}`, { role: "member" })).status,
    200,
  );
  assert.equal((await as(ada).get(`/api/v1/orgs/${orgId}/members`)).status, 403);
});

test("the audit log tells the whole story, names included after removal", async () => {
  const res = await as(owner).get(`/api/v1/orgs/${orgId}/audit?limit=200`);
  assert.equal(res.status, 200, res.text);
  const actions = res.json.items.map((e: { action: string }) => e.action);
  for (const action of [
    "organization.created",
    "workspace.created",
    "member.role_changed",
    "workspace_member.added",
    "workspace.updated",
    "member.removed",
  ]) {
    assert.ok(actions.includes(action), `${action} missing from ${actions.join(", ")}`);
  }
  const removal = res.json.items.find((e: { action: string }) => e.action === "member.removed");
  assert.equal(removal.actorName, "Olive Owner");
  assert.equal(removal.targetId, person("Vic").userId);
  const rename = res.json.items.find((e: { action: string }) => e.action === "workspace.updated");
  assert.equal(rename.actorName, "Ada Admin");
  // Newest first.
  const times = res.json.items.map((e: { at: string }) => Date.parse(e.at));
  assert.deepEqual(
    times,
    [...times].sort((x: number, y: number) => y - x),
  );
});
