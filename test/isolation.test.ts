// docs/rules.md#rule-3, tenant isolation, for every route with an id — found by walking the app's route
// table, so a route added later is covered without anyone remembering to. The most powerful
// caller in tenant A (its owner) names tenant B's organisation, workspace, member or session:
// the answer must be exactly the answer for an id that does not exist, and B must be unchanged.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildUser, type SignedUp, type TestApp, testApp } from "./helpers/app.js";
import { buildServiceKey } from "./helpers/keys.js";

let t: TestApp;
let a: SignedUp & { orgId: string; workspaceId: string };
let b: SignedUp & { orgId: string; workspaceId: string };
let bMember: SignedUp;
/** An invitation of B's, pending, for the :id of /api/v1/invitations/... routes. */
let bInvitationId: string;
let bApiKeyId: string;
let aApiKeyId: string;
/** Two service keys (the replica's tenants), each holding a lease of its own. */
const replica: Record<"a" | "b", { token: string; lease: string }> = {
  a: { token: "", lease: "" },
  b: { token: "", lease: "" },
};
/** Each tenant's webhook, and a delivery to it. */
const hooks: Record<"a" | "b", { id: string; delivery: string }> = {
  a: { id: "", delivery: "" },
  b: { id: "", delivery: "" },
};

async function hookWithDelivery(
  owner: SignedUp & { orgId: string },
): Promise<{ id: string; delivery: string }> {
  const made = await t.request("POST", `/api/v1/orgs/${owner.orgId}/webhooks`, {
    token: owner.token,
    body: { url: "https://hooks.example.com/rollcall", types: ["workspace.created"] },
  });
  assert.equal(made.status, 201, made.text);
  const id: string = made.json.webhook.id;
  const ws = await t.request("POST", `/api/v1/orgs/${owner.orgId}/workspaces`, {
    token: owner.token,
    body: { name: "Hooked" },
  });
  assert.equal(ws.status, 201, ws.text);
  const log = await t.request("GET", `/api/v1/orgs/${owner.orgId}/webhooks/${id}/deliveries`, {
    token: owner.token,
  });
  return { id, delivery: log.json.items[0].id };
}

async function tenant(name: string) {
  const u = await buildUser(t, { name, organizationName: `${name} Org` });
  const me = await t.request("GET", "/api/v1/me", { token: u.token });
  const orgId: string = me.json.organizations[0].id;
  const ws = await t.db
    .selectFrom("workspaces")
    .select("id")
    .where("org_id", "=", orgId)
    .executeTakeFirstOrThrow();
  return { ...u, orgId, workspaceId: ws.id };
}

before(async () => {
  t = await testApp();
  a = await tenant("Alice");
  b = await tenant("Bob");
  // A second person in B, with a workspace role, so that B's members are real targets.
  bMember = await buildUser(t, { name: "Bea" });
  await t.db
    .insertInto("org_memberships")
    .values({ org_id: b.orgId, user_id: bMember.userId, role: "admin" })
    .execute();
  await t.db
    .insertInto("workspace_memberships")
    .values({ org_id: b.orgId, workspace_id: b.workspaceId, user_id: bMember.userId, role: "editor" })
    .execute();
  const invitation = await t.request("POST", `/api/v1/orgs/${b.orgId}/invitations`, {
    token: b.token,
    body: { delivery: "link", role: "member", workspaces: [{ workspaceId: b.workspaceId, role: "viewer" }] },
  });
  assert.equal(invitation.status, 201, invitation.text);
  bInvitationId = invitation.json.invitation.id;
  const key = await t.request("POST", `/api/v1/orgs/${b.orgId}/api-keys`, {
    token: b.token,
    body: { name: "B's key", role: "member" },
  });
  assert.equal(key.status, 201, key.text);
  bApiKeyId = key.json.apiKey.id;
  const own = await t.request("POST", `/api/v1/orgs/${a.orgId}/api-keys`, {
    token: a.token,
    body: { name: "A's key", role: "member" },
  });
  assert.equal(own.status, 201, own.text);
  aApiKeyId = own.json.apiKey.id;
  hooks.a = await hookWithDelivery(a);
  hooks.b = await hookWithDelivery(b);
  for (const side of ["a", "b"] as const) {
    const { token } = await buildServiceKey(t, `replica ${side}`);
    const lease = await t.request("POST", "/api/v1/replica/leases", {
      token,
      body: { name: side, applied: "1.1" },
    });
    assert.equal(lease.status, 201, lease.text);
    replica[side] = { token, lease: lease.json.id };
  }
});
after(async () => {
  await t.close();
});

/** For each path parameter: A's own value, B's value, and a well-formed id that names nothing. */
function values(url: string): Record<string, { own: string; theirs: string; none: string }> {
  return {
    org: { own: a.orgId, theirs: b.orgId, none: "org_00000000000000000000000000" },
    ws: { own: a.workspaceId, theirs: b.workspaceId, none: "wsp_00000000000000000000000000" },
    user: { own: a.userId, theirs: bMember.userId, none: "usr_00000000000000000000000000" },
    id: url.startsWith("/api/v1/me/sessions")
      ? { own: a.sessionId, theirs: bMember.sessionId, none: "ses_00000000000000000000000000" }
      : url.startsWith("/api/v1/invitations/")
        ? { own: "", theirs: bInvitationId, none: "inv_00000000000000000000000000" }
        : url.includes("/api-keys/")
          ? { own: aApiKeyId, theirs: bApiKeyId, none: "key_00000000000000000000000000" }
          : url.includes("/webhooks/")
            ? { own: hooks.a.id, theirs: hooks.b.id, none: "whk_00000000000000000000000000" }
            : { own: "", theirs: "", none: "" },
    delivery: { own: hooks.a.delivery, theirs: hooks.b.delivery, none: "dlv_00000000000000000000000000" },
    lease: { own: replica.a.lease, theirs: replica.b.lease, none: "rls_00000000000000000000000000" },
  };
}

/** A body that passes validation for any of the routes, so the answer is about the id. */
function bodyFor(method: string, url: string): unknown {
  if (method === "GET" || method === "DELETE") return undefined;
  if (url.includes("/webhooks/")) return method === "PATCH" ? { description: "Changed by A" } : undefined;
  if (url.includes("/replica/leases/")) return { applied: "1.2" };
  const workspaceRole = url.includes("/workspaces/:ws/");
  return { name: "Renamed by A", role: workspaceRole ? "viewer" : "member", permission: "flows.read" };
}

function fill(url: string, choice: Record<string, string>): string {
  return url.replace(/:(\w+)/g, (_, p: string) => choice[p] ?? `:${p}`);
}

test("another tenant's ids answer exactly like ids that do not exist, on every route with an id", async () => {
  const routes = t.app.routes.filter(
    (r) => r.url.startsWith("/api/v1") && r.url.includes(":") && r.method !== "HEAD",
  );
  assert.ok(routes.length >= 3, `${routes.length} routes with ids`);
  let checked = 0;
  for (const route of routes) {
    const params = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
    const table = values(route.url);
    for (const p of params) {
      assert.ok(
        table[p]?.none,
        `the isolation walk does not know parameter :${p} of ${route.method} ${route.url}: teach it`,
      );
    }
    // One parameter at a time is B's (or nothing); the others are A's own.
    for (const target of params) {
      const own = Object.fromEntries(params.map((p) => [p, table[p]?.own ?? ""]));
      const theirs = fill(route.url, { ...own, [target]: table[target]?.theirs ?? "" });
      const none = fill(route.url, { ...own, [target]: table[target]?.none ?? "" });
      const body = bodyFor(route.method, route.url);
      // The replica's routes are a service key's: tenant A is then A's key.
      const token = route.url.startsWith("/api/v1/replica/") ? replica.a.token : a.token;
      const x = await t.request(route.method, theirs, { token, body });
      const y = await t.request(route.method, none, { token, body });
      const where = `${route.method} ${route.url} with :${target} of another tenant`;
      assert.equal(x.status, 404, `${where} → ${x.status} ${x.text}`);
      assert.equal(x.status, y.status, where);
      assert.equal(x.json?.code, y.json?.code, where);
      assert.equal(x.json?.detail, y.json?.detail, `${where}: the detail must not tell them apart either`);
      checked++;
    }
  }
  assert.ok(checked >= routes.length);

  // Nothing of B changed.
  const org = await t.db
    .selectFrom("organizations")
    .selectAll()
    .where("id", "=", b.orgId)
    .executeTakeFirstOrThrow();
  assert.equal(org.name, "Bob Org");
  const ws = await t.db
    .selectFrom("workspaces")
    .selectAll()
    .where("id", "=", b.workspaceId)
    .executeTakeFirstOrThrow();
  assert.notEqual(ws.name, "Renamed by A");
  const members = await t.db
    .selectFrom("org_memberships")
    .selectAll()
    .where("org_id", "=", b.orgId)
    .execute();
  assert.deepEqual(members.map((m) => m.role).sort(), ["admin", "owner"]);
  const wsMember = await t.db
    .selectFrom("workspace_memberships")
    .selectAll()
    .where("workspace_id", "=", b.workspaceId)
    .where("user_id", "=", bMember.userId)
    .executeTakeFirstOrThrow();
  assert.equal(wsMember.role, "editor");
  assert.equal(
    (await t.request("GET", "/api/v1/me", { token: bMember.token })).status,
    200,
    "B's session lives",
  );
  const bLease = await t.db
    .selectFrom("replica_leases")
    .select(["acked_seq"])
    .where("id", "=", replica.b.lease)
    .executeTakeFirst();
  assert.equal(String(bLease?.acked_seq), "1", "B's lease is there, acknowledged where it was");
});

test("lists never show another tenant's rows", async () => {
  const orgs = await t.request("GET", "/api/v1/orgs", { token: a.token });
  if (orgs.status === 200) {
    assert.deepEqual(
      orgs.json.items.map((o: { id: string }) => o.id),
      [a.orgId],
    );
  }
  const me = await t.request("GET", "/api/v1/me", { token: a.token });
  assert.deepEqual(
    me.json.organizations.map((o: { id: string }) => o.id),
    [a.orgId],
  );
  const sessions = await t.request("GET", "/api/v1/me/sessions", { token: a.token });
  assert.ok(
    sessions.json.items.every((s: { id: string }) => s.id !== b.sessionId && s.id !== bMember.sessionId),
  );
});
