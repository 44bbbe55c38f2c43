// Workspaces themselves: create, list, read, change settings, delete (the workspace routes of
// README.md#organisations-workspaces-and-members), who may do which (docs/roles.md), bad input
// (rule 16), tenant isolation (rule 3), audit (rule 14).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type TestApp, testApp } from "../../test/helpers/app.js";
import { buildOrg, grantWorkspaceRole, joinOrg as joinOrgAs, type Org } from "../../test/helpers/org.js";
import type { OrgRole } from "../access/catalogue.js";

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

const create = (token: string, orgId: string, body: unknown) =>
  t.request("POST", `/api/v1/orgs/${orgId}/workspaces`, { token, body });

const workspaceRow = (id: string) =>
  t.db.selectFrom("workspaces").selectAll().where("id", "=", id).executeTakeFirst();

const auditOf = (orgId: string, action: string) =>
  t.db
    .selectFrom("audit_events")
    .selectAll()
    .where("org_id", "=", orgId)
    .where("action", "=", action)
    .orderBy("at")
    .execute();

describe("create, read, change, delete", () => {
  test("an owner creates a workspace: 201 {workspace} with canonical timezone and language", async () => {
    const o = await newOrg();
    const res = await create(o.owner.token, o.orgId, {
      name: "  Support  ",
      timezone: "europe/paris",
      language: "en-gb",
    });
    assert.equal(res.status, 201, res.text);
    const w = res.json.workspace;
    assert.deepEqual(Object.keys(w).sort(), [
      "createdAt",
      "id",
      "language",
      "name",
      "organizationId",
      "timezone",
    ]);
    assert.equal(w.organizationId, o.orgId);
    assert.equal(w.name, "Support");
    assert.equal(w.timezone, "Europe/Paris");
    assert.equal(w.language, "en-GB");
    assert.match(w.id, /^wsp_/);
    assert.ok(Date.parse(w.createdAt) <= Date.now());

    const defaults = await create(o.owner.token, o.orgId, { name: "Plain" });
    assert.equal(defaults.json.workspace.timezone, "UTC");
    assert.equal(defaults.json.workspace.language, "en");

    const got = await t.request("GET", `/api/v1/workspaces/${w.id}`, { token: o.owner.token });
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.json.workspace, w);
  });

  test("PATCH changes only the fields given, and records what changed", async () => {
    const o = await newOrg();
    const res = await t.request("PATCH", `/api/v1/workspaces/${o.workspaceId}`, {
      token: o.owner.token,
      body: { timezone: "America/Sao_Paulo", language: "pt-br" },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.workspace.name, "General");
    assert.equal(res.json.workspace.timezone, "America/Sao_Paulo");
    assert.equal(res.json.workspace.language, "pt-BR");
    const [event] = await auditOf(o.orgId, "workspace.updated");
    assert.ok(event);
    assert.deepEqual(event.data, {
      changes: {
        timezone: { from: "UTC", to: "America/Sao_Paulo" },
        language: { from: "en", to: "pt-BR" },
      },
    });
    assert.equal(event.actor_id, o.owner.userId);
    assert.equal(event.actor_name, "Olive Owner");
    assert.equal(event.target_id, o.workspaceId);

    const same = await t.request("PATCH", `/api/v1/workspaces/${o.workspaceId}`, {
      token: o.owner.token,
      body: { language: "pt-BR" },
    });
    assert.equal(same.status, 200);
    assert.equal((await auditOf(o.orgId, "workspace.updated")).length, 1, "no change, no event");
  });

  test("DELETE answers 204, and its memberships go with it; org memberships stay", async () => {
    const o = await newOrg();
    const extra = await create(o.owner.token, o.orgId, { name: "Doomed" });
    const wsId: string = extra.json.workspace.id;
    const u = await joinOrg(o.orgId, "member");
    await grant(o.orgId, wsId, u.userId, "editor");
    const res = await t.request("DELETE", `/api/v1/workspaces/${wsId}`, { token: o.owner.token });
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, "");
    assert.equal(await workspaceRow(wsId), undefined);
    const left = await t.db
      .selectFrom("workspace_memberships")
      .select("user_id")
      .where("workspace_id", "=", wsId)
      .execute();
    assert.deepEqual(left, []);
    const om = await t.db
      .selectFrom("org_memberships")
      .select("role")
      .where("org_id", "=", o.orgId)
      .where("user_id", "=", u.userId)
      .executeTakeFirst();
    assert.equal(om?.role, "member");
    const again = await t.request("DELETE", `/api/v1/workspaces/${wsId}`, { token: o.owner.token });
    assert.equal(again.status, 404);
    assert.equal(again.json.code, "workspace_not_found");
    const [event] = await auditOf(o.orgId, "workspace.deleted");
    assert.deepEqual(event?.data, { name: "Doomed" });
    assert.equal(event?.actor_name, "Olive Owner");
  });

  test("creating records workspace.created with the actor's name and IP", async () => {
    const o = await newOrg();
    const res = await t.request("POST", `/api/v1/orgs/${o.orgId}/workspaces`, {
      token: o.owner.token,
      body: { name: "Audited" },
      remoteAddress: "10.9.8.7",
    });
    const events = await auditOf(o.orgId, "workspace.created");
    const event = events.find((e) => e.target_id === res.json.workspace.id);
    assert.ok(event);
    assert.equal(event.actor_name, "Olive Owner");
    assert.equal(event.ip, "10.9.8.7");
    assert.equal((event.data as { name: string }).name, "Audited");
  });

  test("the list pages with limit and cursor", async () => {
    const o = await newOrg();
    for (let i = 0; i < 4; i++) await create(o.owner.token, o.orgId, { name: `W${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const res = await t.request("GET", `/api/v1/orgs/${o.orgId}/workspaces${q}`, { token: o.owner.token });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.items.length <= 2);
      seen.push(...res.json.items.map((w: { name: string }) => w.name));
      cursor = res.json.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, ["General", "W0", "W1", "W2", "W3"]);
    for (const q of ["?limit=0", "?limit=201", "?cursor=%25%25", "?limit=x"]) {
      const res = await t.request("GET", `/api/v1/orgs/${o.orgId}/workspaces${q}`, { token: o.owner.token });
      assert.equal(res.status, 400, q);
    }
  });
});

describe("who may do what", () => {
  for (const role of ["viewer", "agent", "editor"]) {
    test(`a workspace ${role} cannot change settings (403 with the reason)`, async () => {
      const o = await newOrg();
      const u = await joinOrg(o.orgId, "member");
      await grant(o.orgId, o.workspaceId, u.userId, role);
      const res = await t.request("PATCH", `/api/v1/workspaces/${o.workspaceId}`, {
        token: u.token,
        body: { name: "Hijacked" },
      });
      assert.equal(res.status, 403, res.text);
      assert.equal(res.json.code, "forbidden");
      assert.match(res.json.detail, new RegExp(`${role} lacks workspace\\.settings`));
      assert.equal((await workspaceRow(o.workspaceId))?.name, "General");
    });
  }

  test("a workspace admin (an org member) can change settings", async () => {
    const o = await newOrg();
    const u = await joinOrg(o.orgId, "member", "Ada Admin");
    await grant(o.orgId, o.workspaceId, u.userId, "admin");
    const res = await t.request("PATCH", `/api/v1/workspaces/${o.workspaceId}`, {
      token: u.token,
      body: { name: "Renamed" },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.workspace.name, "Renamed");
    const [event] = await auditOf(o.orgId, "workspace.updated");
    assert.equal(event?.actor_name, "Ada Admin");
  });

  test("an org member without org.workspaces cannot create or delete workspaces, even as workspace admin", async () => {
    const o = await newOrg();
    const u = await joinOrg(o.orgId, "member");
    await grant(o.orgId, o.workspaceId, u.userId, "admin");
    const made = await create(u.token, o.orgId, { name: "Mine" });
    assert.equal(made.status, 403, made.text);
    assert.equal(made.json.code, "forbidden");
    assert.match(made.json.detail, /org\.workspaces/);
    const gone = await t.request("DELETE", `/api/v1/workspaces/${o.workspaceId}`, { token: u.token });
    assert.equal(gone.status, 403, gone.text);
    assert.ok(await workspaceRow(o.workspaceId));
    const count = await t.db
      .selectFrom("workspaces")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("org_id", "=", o.orgId)
      .executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 1);
  });

  test("review 13.7a: DELETE of a workspace one has no role in answers 404 exactly like one that does not exist", async () => {
    const o = await newOrg();
    const u = await joinOrg(o.orgId, "member");
    const hidden = await t.request("DELETE", `/api/v1/workspaces/${o.workspaceId}`, { token: u.token });
    const missing = await t.request("DELETE", "/api/v1/workspaces/wsp_00000000000000000000000000", {
      token: u.token,
    });
    assert.equal(hidden.status, 404, hidden.text);
    assert.deepEqual(
      { status: hidden.status, code: hidden.json.code, detail: hidden.json.detail, body: hidden.text },
      { status: missing.status, code: missing.json.code, detail: missing.json.detail, body: missing.text },
    );
    assert.ok(await workspaceRow(o.workspaceId));
    // With a role there, the workspace is theirs to see: the refusal says why (403).
    await grant(o.orgId, o.workspaceId, u.userId, "viewer");
    const seen = await t.request("DELETE", `/api/v1/workspaces/${o.workspaceId}`, { token: u.token });
    assert.equal(seen.status, 403, seen.text);
    assert.match(seen.json.detail, /org\.workspaces/);
  });

  test("an org admin creates and deletes workspaces", async () => {
    const o = await newOrg();
    const u = await joinOrg(o.orgId, "admin");
    const made = await create(u.token, o.orgId, { name: "Theirs" });
    assert.equal(made.status, 201, made.text);
    const gone = await t.request("DELETE", `/api/v1/workspaces/${made.json.workspace.id}`, {
      token: u.token,
    });
    assert.equal(gone.status, 204, gone.text);
  });
});

describe("rule 16: bad input is a 400 naming the field, and changes nothing", () => {
  const bad: [string, Record<string, unknown>][] = [
    ["name", { name: "" }],
    ["name", { name: "   " }],
    ["name", { name: "x".repeat(201) }],
    ["name", { name: 42 }],
    ["name", { name: null }],
    ["timezone", { timezone: "Mars/Olympus" }],
    ["timezone", { timezone: "+02:00" }],
    ["timezone", { timezone: "UTC+2" }],
    ["timezone", { timezone: "" }],
    ["timezone", { timezone: 2 }],
    ["language", { language: "not a tag!!" }],
    ["language", { language: "en_GB" }],
    ["language", { language: "x" }],
    ["language", { language: ["en"] }],
  ];

  test("on PATCH", async () => {
    const o = await newOrg();
    const before = await workspaceRow(o.workspaceId);
    for (const [field, body] of bad) {
      // A good change alongside the bad one must not slip through either.
      const withGood = field === "name" ? { ...body, language: "fr" } : { ...body, name: "Changed" };
      const res = await t.request("PATCH", `/api/v1/workspaces/${o.workspaceId}`, {
        token: o.owner.token,
        body: withGood,
      });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.json.code, "validation_failed");
      assert.deepEqual(
        res.json.errors.map((e: { field: string }) => e.field),
        [field],
        JSON.stringify(body),
      );
    }
    assert.deepEqual(await workspaceRow(o.workspaceId), before);
    assert.deepEqual(await auditOf(o.orgId, "workspace.updated"), []);
  });

  test("on create", async () => {
    const o = await newOrg();
    for (const [field, body] of bad) {
      const res = await create(o.owner.token, o.orgId, { name: "Fine", ...body });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.json.code, "validation_failed");
      assert.deepEqual(
        res.json.errors.map((e: { field: string }) => e.field),
        [field],
        JSON.stringify(body),
      );
    }
    const missing = await create(o.owner.token, o.orgId, {});
    assert.equal(missing.status, 400);
    assert.equal(missing.json.errors[0].field, "name");
    const list = await t.db.selectFrom("workspaces").select("name").where("org_id", "=", o.orgId).execute();
    assert.deepEqual(list, [{ name: "General" }]);
    assert.equal((await auditOf(o.orgId, "workspace.created")).length, 1, "only sign-up's");
  });

  test("IANA aliases are accepted", async () => {
    const o = await newOrg();
    for (const [timezone, stored] of [
      ["UTC", "UTC"],
      ["Etc/UTC", "UTC"],
      ["asia/tokyo", "Asia/Tokyo"],
    ]) {
      const res = await create(o.owner.token, o.orgId, { name: "Zone", timezone });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.workspace.timezone, stored);
    }
  });
});

describe("rule 3: another tenant's workspace answers exactly like one that does not exist", () => {
  test("every route with :ws or :org", async () => {
    const mine = await newOrg();
    const theirs = await newOrg("Other Tenant");
    const missingWs = "wsp_00000000000000000000000000";
    const missingOrg = "org_00000000000000000000000000";
    const routes = (org: string, ws: string): [string, string, unknown][] => [
      ["POST", `/api/v1/orgs/${org}/workspaces`, { name: "Sneaky" }],
      ["GET", `/api/v1/orgs/${org}/workspaces`, undefined],
      ["GET", `/api/v1/workspaces/${ws}`, undefined],
      ["PATCH", `/api/v1/workspaces/${ws}`, { name: "Sneaky" }],
      ["DELETE", `/api/v1/workspaces/${ws}`, undefined],
      ["GET", `/api/v1/workspaces/${ws}/members`, undefined],
      ["PUT", `/api/v1/workspaces/${ws}/members/${theirs.owner.userId}`, { role: "viewer" }],
      ["DELETE", `/api/v1/workspaces/${ws}/members/${theirs.owner.userId}`, undefined],
      ["POST", `/api/v1/workspaces/${ws}/authorize`, { permission: "flows.read" }],
    ];
    const other = routes(theirs.orgId, theirs.workspaceId);
    const missing = routes(missingOrg, missingWs);
    for (const [i, [method, path, body]] of other.entries()) {
      const a = await t.request(method, path, { token: mine.owner.token, ...(body ? { body } : {}) });
      const [m2, p2, b2] = missing[i] ?? [];
      const b = await t.request(m2 ?? "", p2 ?? "", { token: mine.owner.token, ...(b2 ? { body: b2 } : {}) });
      assert.equal(a.status, 404, `${method} ${path}: ${a.text}`);
      assert.deepEqual(
        { status: a.status, code: a.json.code, detail: a.json.detail },
        { status: b.status, code: b.json.code, detail: b.json.detail },
        `${method} ${path}`,
      );
    }
    const row = await workspaceRow(theirs.workspaceId);
    assert.equal(row?.name, "General");
    const names = await t.db
      .selectFrom("workspaces")
      .select("name")
      .where("org_id", "=", theirs.orgId)
      .execute();
    assert.deepEqual(names, [{ name: "General" }]);
  });
});
