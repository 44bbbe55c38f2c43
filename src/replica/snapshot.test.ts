// GET /api/v1/replica/snapshot (docs/replica.md): a service key reads every membership and role
// with the catalogue, at one moment; the events after its cursor, applied to it, make the state a
// later snapshot reads. Across concurrent transactions (PostgreSQL): test/postgres/replica-snapshot.test.ts.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TestApp, testApp } from "../../test/helpers/app.js";
import { buildServiceKey } from "../../test/helpers/keys.js";
import { buildOrg, grantWorkspaceRole, joinOrg } from "../../test/helpers/org.js";
import {
  apply,
  assertSameMemberships,
  eventsAfter,
  fetchSnapshot,
  memberships,
} from "../../test/helpers/replica.js";
import { DEFAULT_CATALOGUE } from "../access/catalogue.js";
import { EVENT_TYPES } from "../events/public.js";

let t: TestApp;
let key: string;
before(async () => {
  t = await testApp();
  key = (await buildServiceKey(t, "replica")).token;
});
after(async () => {
  await t.close();
});

const snapshot = (query = "") => fetchSnapshot(t, key, query);

test("a service key reads every organisation's memberships, workspaces and the catalogue", async () => {
  const org = await buildOrg(t);
  const agent = await joinOrg(t, org.orgId, "member", "Ada Agent");
  await grantWorkspaceRole(t, org.orgId, org.workspaceId, agent.userId, "agent");
  const other = await buildOrg(t, "Otto Other");

  const all = await snapshot();
  assert.match(all.cursor, /^\d+\.\d+$/);
  assert.ok(all.organizations.includes(org.orgId) && all.organizations.includes(other.orgId));
  assert.deepEqual(
    all.orgMembers.filter(([o]: string[]) => o === org.orgId).sort(),
    [
      [org.orgId, org.owner.userId, "owner"],
      [org.orgId, agent.userId, "member"],
    ].sort(),
  );
  assert.deepEqual(
    all.workspaceMembers.filter(([w]: string[]) => w === org.workspaceId),
    [[org.workspaceId, agent.userId, "agent"]],
  );
  assert.deepEqual(
    all.workspaces.filter(([, o]: string[]) => o === org.orgId),
    [[org.workspaceId, org.orgId]],
  );
  const { catalogue } = all;
  assert.deepEqual(
    catalogue.orgRoles.map((r: { name: string }) => r.name),
    ["owner", "admin", "member"],
  );
  assert.deepEqual(catalogue.orgRoleActsAs, { owner: "admin", admin: "admin", member: null });
  const agentRole = catalogue.workspaceRoles.find((r: { name: string }) => r.name === "agent");
  const builtIn = DEFAULT_CATALOGUE.workspaceRoles.find((r) => r.name === "agent");
  assert.deepEqual(agentRole.permissions, [...(builtIn?.permissions ?? [])].sort());
  assert.equal(catalogue.orgPermissions["org.apikeys"], DEFAULT_CATALOGUE.orgPermissions.get("org.apikeys"));

  assert.deepEqual(all.eventTypes, [...EVENT_TYPES]);

  const one = await snapshot(`?orgs=${other.orgId},org_nobody`);
  assert.deepEqual(one.organizations, [other.orgId]);
  assert.ok(one.orgMembers.every(([o]: string[]) => o === other.orgId));
  assert.ok(one.workspaces.every(([, o]: string[]) => o === other.orgId));
  assert.equal((await snapshot("?orgs=")).organizations.length, 0);
});

test("only a service key reads it; bad org lists are 400", async () => {
  const org = await buildOrg(t);
  const asPerson = await t.request("GET", "/api/v1/replica/snapshot", { token: org.owner.token });
  assert.equal(asPerson.status, 403);
  const made = await t.request("POST", `/api/v1/orgs/${org.orgId}/api-keys`, {
    token: org.owner.token,
    body: { name: "k", role: "admin" },
  });
  const asKey = await t.request("GET", "/api/v1/replica/snapshot", { token: made.json.token });
  assert.equal(asKey.status, 403);
  assert.equal((await t.request("GET", "/api/v1/replica/snapshot")).status, 401);
  for (const orgs of ["a b", "x'; --", Array.from({ length: 1001 }, (_, i) => `o${i}`).join(",")]) {
    const res = await t.request("GET", `/api/v1/replica/snapshot?orgs=${encodeURIComponent(orgs)}`, {
      token: key,
    });
    assert.equal(res.status, 400, orgs.slice(0, 20));
    assert.equal(res.json.code, "validation_failed");
  }
});

test("the snapshot and the events after its cursor make what a later snapshot reads", async () => {
  const org = await buildOrg(t);
  const stays = await joinOrg(t, org.orgId, "member", "Sam Stays");
  const goes = await joinOrg(t, org.orgId, "admin", "Gus Goes");
  const first = await snapshot();
  const state = memberships(first);

  // Changes through the API, each writing its events.
  const api = (method: string, path: string, body?: unknown) =>
    t.request(method, path, { token: org.owner.token, body });
  const ws = await api("POST", `/api/v1/orgs/${org.orgId}/workspaces`, { name: "Replicated" });
  assert.equal(ws.status, 201, ws.text);
  const wsId = ws.json.workspace.id;
  for (const [method, path, body] of [
    ["PUT", `/api/v1/workspaces/${wsId}/members/${stays.userId}`, { role: "editor" }],
    ["PUT", `/api/v1/workspaces/${wsId}/members/${stays.userId}`, { role: "viewer" }],
    ["PUT", `/api/v1/workspaces/${wsId}/members/${goes.userId}`, { role: "agent" }],
    ["PATCH", `/api/v1/orgs/${org.orgId}/members/${stays.userId}`, { role: "admin" }],
    ["DELETE", `/api/v1/orgs/${org.orgId}/members/${goes.userId}`, undefined],
    ["DELETE", `/api/v1/workspaces/${org.workspaceId}`, undefined],
  ] as const) {
    const res = await api(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.text}`);
  }
  const later = await snapshot();
  const events = await eventsAfter(t.db, first.cursor);
  assert.ok(events.length >= 6, "the changes' events follow the cursor");
  for (const e of events) apply(state, e);
  assertSameMemberships(state, memberships(later));
  // Applying them all again changes nothing: a replica may read an event it already holds.
  for (const e of events) apply(state, e);
  assertSameMemberships(state, memberships(later));
  assert.equal(state.orgMembers.get(`${org.orgId} ${stays.userId}`), "admin");
  assert.equal(state.workspaceMembers.get(`${wsId} ${stays.userId}`), "viewer");
  assert.equal(state.workspaceMembers.has(`${wsId} ${goes.userId}`), false, "removal takes workspace roles");
});
