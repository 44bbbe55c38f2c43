// Organisations: the organisation routes (README.md#organisations-workspaces-and-members), rules 3, 14, 16.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildUser, type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import { joinOrg } from "../../test/helpers/org.js";
import type { OrgRole } from "../access/catalogue.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

const NONE = "org_00000000000000000000000000";

async function owner(name = "Olive Owner"): Promise<SignedUp & { orgId: string }> {
  const u = await buildUser(t, { name, organizationName: `${name}'s Org` });
  const me = await t.request("GET", "/api/v1/me", { token: u.token });
  return { ...u, orgId: me.json.organizations[0].id };
}

const join = (orgId: string, role: OrgRole, name = "Someone"): Promise<SignedUp> =>
  joinOrg(t, orgId, role, name);

const audit = (orgId: string, action: string) =>
  t.db
    .selectFrom("audit_events")
    .selectAll()
    .where("org_id", "=", orgId)
    .where("action", "=", action)
    .execute();

describe("creating and listing", () => {
  test("POST /orgs makes an organisation with one workspace, owned by the caller, and audits it", async () => {
    const u = await owner();
    const res = await t.request("POST", "/api/v1/orgs", { token: u.token, body: { name: "  Second Org " } });
    assert.equal(res.status, 201, res.text);
    const org = res.json.organization;
    assert.deepEqual(Object.keys(org).sort(), ["createdAt", "id", "name"]);
    assert.equal(org.name, "Second Org");
    assert.ok(!Number.isNaN(Date.parse(org.createdAt)));
    const got = await t.request("GET", `/api/v1/orgs/${org.id}`, { token: u.token });
    assert.equal(got.status, 200, got.text);
    assert.equal(got.json.role, "owner");
    const workspaces = await t.db
      .selectFrom("workspaces")
      .select("id")
      .where("org_id", "=", org.id)
      .execute();
    assert.equal(workspaces.length, 1);
    const [created] = await audit(org.id, "organization.created");
    assert.equal(created?.actor_id, u.userId);
    assert.equal(created?.actor_name, u.name);
  });

  test("GET /orgs lists my organisations with my role, oldest first, page by page", async () => {
    const u = await owner();
    const other = await owner("Other Owner");
    await join(other.orgId, "admin").then(() => undefined);
    await t.db
      .insertInto("org_memberships")
      .values({ org_id: other.orgId, user_id: u.userId, role: "member" })
      .execute();
    for (const name of ["B", "C", "D"]) {
      assert.equal((await t.request("POST", "/api/v1/orgs", { token: u.token, body: { name } })).status, 201);
    }
    const seen: { id: string; name: string; role: string }[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const res = await t.request("GET", `/api/v1/orgs${q}`, { token: u.token });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.items.length <= 2);
      for (const item of res.json.items) assert.deepEqual(Object.keys(item).sort(), ["id", "name", "role"]);
      seen.push(...res.json.items);
      cursor = res.json.nextCursor;
    } while (cursor);
    assert.deepEqual(
      seen.map((o) => [o.name, o.role]),
      [
        ["Olive Owner's Org", "owner"],
        ["Other Owner's Org", "member"],
        ["B", "owner"],
        ["C", "owner"],
        ["D", "owner"],
      ],
    );
    const all = await t.request("GET", "/api/v1/orgs", { token: u.token });
    assert.equal(all.json.items.length, 5);
    assert.equal(all.json.nextCursor, null);
    assert.equal((await t.request("GET", "/api/v1/orgs")).status, 401);
  });

  test("GET /orgs/:org answers the organisation, my role and my permissions", async () => {
    const o = await owner();
    const admin = await join(o.orgId, "admin");
    const member = await join(o.orgId, "member");
    const expected: Record<string, string[]> = {
      [o.token]: [
        "org.apikeys",
        "org.billing",
        "org.integrations",
        "org.owners",
        "org.read",
        "org.settings",
        "org.users",
        "org.workspaces",
      ],
      [admin.token]: ["org.apikeys", "org.read", "org.settings", "org.users", "org.workspaces"],
      [member.token]: ["org.read"],
    };
    for (const [token, permissions] of Object.entries(expected)) {
      const res = await t.request("GET", `/api/v1/orgs/${o.orgId}`, { token });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.json).sort(), ["actsAs", "organization", "permissions", "role"]);
      assert.deepEqual(res.json.permissions, permissions);
    }
  });
});

describe("renaming and deleting", () => {
  test("PATCH /orgs/:org renames (org.settings) and audits from → to with the actor's current name", async () => {
    const o = await owner("Ren Owner");
    const admin = await join(o.orgId, "admin", "Ada Admin");
    const member = await join(o.orgId, "member");
    const refused = await t.request("PATCH", `/api/v1/orgs/${o.orgId}`, {
      token: member.token,
      body: { name: "Nope" },
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.code, "forbidden");
    await t.request("PATCH", "/api/v1/me", { token: admin.token, body: { name: "Ada Renamed" } });
    const res = await t.request("PATCH", `/api/v1/orgs/${o.orgId}`, {
      token: admin.token,
      body: { name: " New Name " },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.organization.name, "New Name");
    const [event, ...more] = await audit(o.orgId, "organization.renamed");
    assert.equal(more.length, 0);
    assert.deepEqual(event?.data, { from: "Ren Owner's Org", to: "New Name" });
    assert.equal(event?.actor_name, "Ada Renamed");
    assert.equal(event?.actor_id, admin.userId);
  });

  test("DELETE /orgs/:org (org.owners) removes it with its workspaces, memberships, audit and queued mail", async () => {
    const o = await owner();
    const keep = await owner("Bystander");
    const admin = await join(o.orgId, "admin");
    const ws = await t.db
      .selectFrom("workspaces")
      .select("id")
      .where("org_id", "=", o.orgId)
      .executeTakeFirstOrThrow();
    await t.db
      .insertInto("workspace_memberships")
      .values({ org_id: o.orgId, workspace_id: ws.id, user_id: admin.userId, role: "editor" })
      .execute();
    const mail = (orgId: string, status: "queued" | "sent", n: number) => ({
      id: `mail_${orgId}_${status}_${n}`,
      org_id: orgId,
      kind: "test",
      to_address: "x@example.org",
      subject: "s",
      text_body: "b",
      message_id: `<${orgId}.${status}.${n}@rollcall.test>`,
      status,
    });
    await t.db
      .insertInto("mail_outbox")
      .values([mail(o.orgId, "queued", 1), mail(o.orgId, "sent", 2), mail(keep.orgId, "queued", 3)])
      .execute();

    for (const who of [admin]) {
      const res = await t.request("DELETE", `/api/v1/orgs/${o.orgId}`, { token: who.token });
      assert.equal(res.status, 403, "an admin lacks org.owners");
    }
    const res = await t.request("DELETE", `/api/v1/orgs/${o.orgId}`, { token: o.token });
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, "");

    const count = async (
      table: "organizations" | "workspaces" | "org_memberships" | "workspace_memberships",
    ) =>
      (
        await t.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .where(table === "organizations" ? "id" : "org_id", "=", o.orgId)
          .executeTakeFirstOrThrow()
      ).n;
    for (const table of [
      "organizations",
      "workspaces",
      "org_memberships",
      "workspace_memberships",
    ] as const) {
      assert.equal(Number(await count(table)), 0, table);
    }
    const events = await t.db.selectFrom("audit_events").selectAll().where("org_id", "=", o.orgId).execute();
    assert.deepEqual(
      events.map((e) => e.action),
      ["organization.deleted"],
      "the old trail is gone; the deletion itself is recorded",
    );
    assert.equal(events[0]?.actor_id, o.userId);
    assert.deepEqual(events[0]?.data, { name: "Olive Owner's Org" });
    const outbox = await t.db.selectFrom("mail_outbox").select(["org_id", "status"]).execute();
    assert.ok(!outbox.some((m) => m.org_id === o.orgId && m.status === "queued"));
    assert.ok(
      outbox.some((m) => m.org_id === o.orgId && m.status === "sent"),
      "sent mail is history",
    );
    assert.ok(
      outbox.some((m) => m.org_id === keep.orgId),
      "another organisation's mail stays",
    );

    assert.equal((await t.request("GET", `/api/v1/orgs/${o.orgId}`, { token: o.token })).status, 404);
    assert.equal((await t.request("GET", `/api/v1/orgs/${keep.orgId}`, { token: keep.token })).status, 200);
    const mine = await t.request("GET", "/api/v1/orgs", { token: admin.token });
    assert.deepEqual(mine.json.items.map((i: { id: string }) => i.id).includes(o.orgId), false);
  });
});

describe("rule 3: another tenant's organisation answers exactly like one that does not exist", () => {
  test("on every organisation route", async () => {
    const a = await owner("Alice");
    const b = await owner("Bob");
    const bMember = await join(b.orgId, "member", "Bea");
    const routes: [string, string, unknown?][] = [
      ["GET", "/api/v1/orgs/:org"],
      ["PATCH", "/api/v1/orgs/:org", { name: "Taken over" }],
      ["DELETE", "/api/v1/orgs/:org"],
      ["GET", "/api/v1/orgs/:org/members"],
      ["GET", "/api/v1/orgs/:org/members?q=bea&role=member"],
      ["PATCH", `/api/v1/orgs/:org/members/${bMember.userId}`, { role: "owner" }],
      ["DELETE", `/api/v1/orgs/:org/members/${bMember.userId}`],
      ["DELETE", `/api/v1/orgs/:org/members/${a.userId}`],
    ];
    for (const [method, path, body] of routes) {
      const theirs = await t.request(method, path.replace(":org", b.orgId), { token: a.token, body });
      const none = await t.request(method, path.replace(":org", NONE), { token: a.token, body });
      assert.equal(theirs.status, 404, `${method} ${path}: ${theirs.text}`);
      assert.equal(theirs.json.code, "organization_not_found");
      assert.deepEqual(theirs.json, none.json, `${method} ${path}`);
      assert.deepEqual(theirs.headers["content-type"], none.headers["content-type"]);
    }
    const still = await t.request("GET", `/api/v1/orgs/${b.orgId}/members`, { token: b.token });
    assert.equal(still.json.items.length, 2);
    const org = await t.request("GET", `/api/v1/orgs/${b.orgId}`, { token: b.token });
    assert.equal(org.json.organization.name, "Bob's Org");
  });
});

describe("rule 16: bad input is a 400 naming the field, and changes nothing", () => {
  test("organisation names", async () => {
    const o = await owner("Val Owner");
    const before = await t.request("GET", "/api/v1/orgs", { token: o.token });
    const bad: [unknown, string][] = [
      [{ name: "" }, "name"],
      [{ name: "   " }, "name"],
      [{ name: "x".repeat(300) }, "name"],
      [{ name: 42 }, "name"],
      [{ name: null }, "name"],
      [{}, "name"],
    ];
    for (const [body, field] of bad) {
      for (const [method, path] of [
        ["POST", "/api/v1/orgs"],
        ["PATCH", `/api/v1/orgs/${o.orgId}`],
      ] as const) {
        const res = await t.request(method, path, { token: o.token, body });
        assert.equal(res.status, 400, `${method} ${JSON.stringify(body)} → ${res.text}`);
        assert.equal(res.json.code, "validation_failed");
        assert.ok(
          res.json.errors.some((e: { field: string }) => e.field === field),
          JSON.stringify(res.json),
        );
      }
    }
    const array = await t.request("POST", "/api/v1/orgs", { token: o.token, body: [] });
    assert.equal(array.status, 400);
    const after = await t.request("GET", "/api/v1/orgs", { token: o.token });
    assert.deepEqual(after.json, before.json, "no organisation made, none renamed");
    assert.equal((await audit(o.orgId, "organization.renamed")).length, 0);
  });

  test("pagination parameters", async () => {
    const o = await owner();
    for (const path of ["/api/v1/orgs", `/api/v1/orgs/${o.orgId}/members`]) {
      for (const [q, field] of [
        ["?limit=0", "limit"],
        ["?limit=201", "limit"],
        ["?limit=abc", "limit"],
        ["?cursor=%%%", "cursor"],
        ["?cursor=bm90IGEgY3Vyc29y", "cursor"],
        [`?cursor=${Buffer.from("123:abc:def").toString("base64url")}`, "cursor"],
      ] as const) {
        const res = await t.request("GET", `${path}${q}`, { token: o.token });
        assert.equal(res.status, 400, `${path}${q} → ${res.text}`);
        assert.ok(
          res.json.errors.some((e: { field: string }) => e.field === field),
          res.text,
        );
      }
    }
  });
});

test("the OpenAPI document describes every organisation route, its inputs and its answers", async () => {
  const doc = (await t.request("GET", "/api/v1/openapi.json")).json;
  const routes: [string, string, number][] = [
    ["/api/v1/orgs", "post", 201],
    ["/api/v1/orgs", "get", 200],
    ["/api/v1/orgs/{org}", "get", 200],
    ["/api/v1/orgs/{org}", "patch", 200],
    ["/api/v1/orgs/{org}", "delete", 204],
    ["/api/v1/orgs/{org}/members", "get", 200],
    ["/api/v1/orgs/{org}/members/{user}", "patch", 200],
    ["/api/v1/orgs/{org}/members/{user}", "delete", 204],
  ];
  for (const [path, method, ok] of routes) {
    const op = doc.paths[path]?.[method];
    assert.ok(op, `${method} ${path} is documented`);
    assert.deepEqual(op.tags, ["organizations"]);
    assert.ok(op.responses[ok], `${method} ${path} answers ${ok}`);
    assert.ok(op.responses[400], `${method} ${path} documents its problems`);
  }
  const list = doc.paths["/api/v1/orgs/{org}/members"].get;
  const names = list.parameters.map((p: { name: string }) => p.name).sort();
  assert.deepEqual(names, ["cursor", "limit", "org", "q", "role"]);
  // Shared shapes are components, named by $ref.
  const named = (schema: { $ref?: string }) =>
    schema.$ref ? doc.components.schemas[schema.$ref.replace("#/components/schemas/", "")] : schema;
  const page = named(list.responses[200].content["application/json"].schema);
  const item = named(page.properties.items.items);
  assert.deepEqual(Object.keys(item.properties).sort(), [
    "abilities",
    "actsAs",
    "email",
    "joinedAt",
    "name",
    "role",
    "userId",
    "workspaces",
  ]);
});
