// An organisation's API keys (docs/api-keys.md): made, listed and revoked with org.apikeys; a key
// acts in its organisation exactly as a member with its role and grants would (rules 1, 3, 9),
// never on a person's routes, and its token is kept only as a hash.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type Answer, buildUser, type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import { joinOrg } from "../../test/helpers/org.js";
import type { OrgRole } from "../access/catalogue.js";
import { sha256 } from "../tokens.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

interface Org {
  owner: SignedUp;
  orgId: string;
  /** Two workspaces: Sales and Support. */
  sales: string;
  support: string;
}

async function newOrg(x: TestApp = t): Promise<Org> {
  const owner = await buildUser(x, { name: "Olive Owner", organizationName: "Keys Inc" });
  const me = await x.request("GET", "/api/v1/me", { token: owner.token });
  const orgId: string = me.json.organizations[0].id;
  const ws = async (name: string) => {
    const res = await x.request("POST", `/api/v1/orgs/${orgId}/workspaces`, {
      token: owner.token,
      body: { name },
    });
    assert.equal(res.status, 201, res.text);
    return res.json.workspace.id as string;
  };
  return { owner, orgId, sales: await ws("Sales"), support: await ws("Support") };
}

const join = (orgId: string, role: OrgRole, x: TestApp = t): Promise<SignedUp> =>
  joinOrg(x, orgId, role, `A ${role}`);

async function makeKey(
  org: Org,
  body: Record<string, unknown>,
  token = org.owner.token,
  x: TestApp = t,
): Promise<{ id: string; token: string; json: Answer["json"] }> {
  const res = await x.request("POST", `/api/v1/orgs/${org.orgId}/api-keys`, { token, body });
  assert.equal(res.status, 201, res.text);
  return { id: res.json.apiKey.id, token: res.json.token, json: res.json };
}

describe("making, listing and revoking", () => {
  test("an owner makes a key: the token is shown once, kept as its SHA-256, and the list shows the rest", async () => {
    const org = await newOrg();
    const key = await makeKey(org, {
      name: "CI deploys",
      role: "member",
      workspaces: [{ workspaceId: org.sales, role: "editor" }],
      expiresInDays: 30,
    });
    assert.match(key.token, /^rk_[A-Za-z0-9_-]{43}$/);
    const apiKey = key.json.apiKey;
    assert.equal(apiKey.name, "CI deploys");
    assert.equal(apiKey.role, "member");
    assert.deepEqual(apiKey.workspaces, [{ id: org.sales, name: "Sales", role: "editor" }]);
    assert.ok(key.token.startsWith(apiKey.prefix) && apiKey.prefix.length === 9, apiKey.prefix);
    assert.deepEqual(apiKey.createdBy, { id: org.owner.userId, name: "Olive Owner" });
    assert.equal(apiKey.lastUsedAt, null);
    const days = (Date.parse(apiKey.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, String(days));

    const row = await t.db
      .selectFrom("api_keys")
      .selectAll()
      .where("id", "=", key.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row.token_hash, sha256(key.token));
    assert.ok(!JSON.stringify(row).includes(key.token.slice(3)), "the token itself is stored nowhere");

    const list = await t.request("GET", `/api/v1/orgs/${org.orgId}/api-keys`, { token: org.owner.token });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.json.items.map((k: { id: string }) => k.id),
      [key.id],
    );
    assert.ok(!list.text.includes(key.token), "the list never shows a token");

    const audit = await t.db
      .selectFrom("audit_events")
      .selectAll()
      .where("target_id", "=", key.id)
      .executeTakeFirstOrThrow();
    assert.equal(audit.action, "api_key.created");
    assert.equal(audit.actor_type, "user");
    assert.equal(audit.actor_id, org.owner.userId);
    assert.ok(!JSON.stringify(audit).includes(key.token));
  });

  test("a member may not make, list or revoke keys (org.apikeys: owners and admins)", async () => {
    const org = await newOrg();
    const member = await join(org.orgId, "member");
    const made = await t.request("POST", `/api/v1/orgs/${org.orgId}/api-keys`, {
      token: member.token,
      body: { name: "mine", role: "member" },
    });
    assert.equal(made.status, 403);
    assert.equal(made.json.code, "forbidden");
    const list = await t.request("GET", `/api/v1/orgs/${org.orgId}/api-keys`, { token: member.token });
    assert.equal(list.status, 403);
    const admin = await join(org.orgId, "admin");
    await makeKey(org, { name: "by an admin", role: "admin" }, admin.token);
  });

  test("bad input is a 400 that makes nothing: an owner key, a foreign workspace, a duplicate, a long life", async () => {
    const org = await newOrg();
    const other = await newOrg();
    const cases: [Record<string, unknown>, number, string][] = [
      [{ name: "x", role: "owner" }, 400, "validation_failed"],
      [{ name: "   ", role: "member" }, 400, "validation_failed"],
      [{ name: "x", role: "member", expiresInDays: 731 }, 400, "validation_failed"],
      [
        { name: "x", role: "member", workspaces: [{ workspaceId: other.sales, role: "viewer" }] },
        404,
        "workspace_not_found",
      ],
      [
        {
          name: "x",
          role: "member",
          workspaces: [
            { workspaceId: org.sales, role: "viewer" },
            { workspaceId: org.sales, role: "editor" },
          ],
        },
        400,
        "validation_failed",
      ],
      [
        { name: "x", role: "member", workspaces: [{ workspaceId: org.sales, role: "emperor" }] },
        400,
        "validation_failed",
      ],
    ];
    for (const [body, status, code] of cases) {
      const res = await t.request("POST", `/api/v1/orgs/${org.orgId}/api-keys`, {
        token: org.owner.token,
        body,
      });
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.json.code, code);
    }
    const count = await t.db.selectFrom("api_keys").select("id").where("org_id", "=", org.orgId).execute();
    assert.equal(count.length, 0);
  });

  test("revoking: 204, then the key answers 401 invalid_api_key at its next request, on another server too", async () => {
    const org = await newOrg();
    const key = await makeKey(org, { name: "short-lived", role: "admin" });
    const s = await t.sibling();
    try {
      assert.equal((await s.request("GET", `/api/v1/orgs/${org.orgId}`, { token: key.token })).status, 200);
      const revoked = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/api-keys/${key.id}`, {
        token: org.owner.token,
      });
      assert.equal(revoked.status, 204);
      for (const server of [t, s]) {
        const res = await server.request("GET", `/api/v1/orgs/${org.orgId}`, { token: key.token });
        assert.equal(res.status, 401);
        assert.equal(res.json.code, "invalid_api_key");
      }
    } finally {
      await s.close();
    }
    const again = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/api-keys/${key.id}`, {
      token: org.owner.token,
    });
    assert.equal(again.status, 404);
    assert.equal(again.json.code, "api_key_not_found");
    const actions = await t.db
      .selectFrom("audit_events")
      .select("action")
      .where("target_id", "=", key.id)
      .execute();
    assert.deepEqual(actions.map((a) => a.action).sort(), ["api_key.created", "api_key.revoked"]);
  });

  test("another organisation's key cannot be revoked through this one: 404, and it keeps working", async () => {
    const org = await newOrg();
    const other = await newOrg();
    const key = await makeKey(other, { name: "theirs", role: "member" });
    const res = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/api-keys/${key.id}`, {
      token: org.owner.token,
    });
    assert.equal(res.status, 404);
    assert.equal((await t.request("GET", `/api/v1/orgs/${other.orgId}`, { token: key.token })).status, 200);
  });
});

describe("a key acts as its role and grants, in its organisation only", () => {
  test("an admin key lists members; a member key may see the organisation but not its members (403)", async () => {
    const org = await newOrg();
    const admin = await makeKey(org, { name: "admin key", role: "admin" });
    const member = await makeKey(org, { name: "member key", role: "member" });
    const listed = await t.request("GET", `/api/v1/orgs/${org.orgId}/members`, { token: admin.token });
    assert.equal(listed.status, 200);
    assert.ok(listed.json.items.some((m: { userId: string }) => m.userId === org.owner.userId));
    assert.ok(
      !listed.json.items.some((m: { userId: string }) => m.userId.startsWith("key_")),
      "keys are not members",
    );
    assert.equal((await t.request("GET", `/api/v1/orgs/${org.orgId}`, { token: member.token })).status, 200);
    const refused = await t.request("GET", `/api/v1/orgs/${org.orgId}/members`, { token: member.token });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.code, "forbidden");
  });

  test("another organisation answers as if it did not exist (rule 3)", async () => {
    const org = await newOrg();
    const other = await newOrg();
    const key = await makeKey(org, { name: "k", role: "admin" });
    const res = await t.request("GET", `/api/v1/orgs/${other.orgId}`, { token: key.token });
    assert.equal(res.status, 404);
    assert.equal(res.json.code, "organization_not_found");
    const ws = await t.request("GET", `/api/v1/workspaces/${other.sales}`, { token: key.token });
    assert.equal(ws.status, 404);
    assert.equal(ws.json.code, "workspace_not_found");
  });

  test("a member key enters only the workspaces granted to it, with their role", async () => {
    const org = await newOrg();
    const key = await makeKey(org, {
      name: "k",
      role: "member",
      workspaces: [{ workspaceId: org.sales, role: "viewer" }],
    });
    assert.equal(
      (await t.request("GET", `/api/v1/workspaces/${org.sales}`, { token: key.token })).status,
      200,
    );
    const hidden = await t.request("GET", `/api/v1/workspaces/${org.support}`, { token: key.token });
    assert.equal(hidden.status, 404);
    assert.equal(hidden.json.code, "workspace_not_found");
    const list = await t.request("GET", `/api/v1/orgs/${org.orgId}/workspaces`, { token: key.token });
    assert.deepEqual(
      list.json.items.map((w: { id: string; role: string }) => [w.id, w.role]),
      [[org.sales, "viewer"]],
    );
    const renamed = await t.request("PATCH", `/api/v1/workspaces/${org.sales}`, {
      token: key.token,
      body: { name: "Mine now" },
    });
    assert.equal(renamed.status, 403, "a viewer cannot change the workspace's settings");
  });

  test("what a key changes is recorded with the key as its actor", async () => {
    const org = await newOrg();
    const key = await makeKey(org, { name: "Provisioner", role: "admin" });
    const made = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
      token: key.token,
      body: { name: "Made by a machine" },
    });
    assert.equal(made.status, 201, made.text);
    const audit = await t.db
      .selectFrom("audit_events")
      .selectAll()
      .where("target_id", "=", made.json.workspace.id)
      .executeTakeFirstOrThrow();
    assert.equal(audit.action, "workspace.created");
    assert.equal(audit.actor_type, "api_key");
    assert.equal(audit.actor_id, key.id);
    assert.equal(audit.actor_name, "Provisioner");
  });

  test("a key invites: the invitation names the key, and no person backs it", async () => {
    const org = await newOrg();
    const key = await makeKey(org, { name: "HR sync", role: "admin" });
    const res = await t.request("POST", `/api/v1/orgs/${org.orgId}/invitations`, {
      token: key.token,
      body: {
        email: "new.hire@example.org",
        role: "member",
        workspaces: [{ workspaceId: org.sales, role: "agent" }],
      },
    });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.json.invitation.invitedBy, { id: null, name: "HR sync" });
  });

  test("rule 1: a key is made with nothing above its maker's standing — a host's role ranked above admin", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "rollcall-roles-"));
    const file = path.join(dir, "roles.json");
    await writeFile(
      file,
      JSON.stringify({
        workspaceRoles: { director: { rank: 90, description: "Above admin", permissions: ["flows.read"] } },
      }),
    );
    const x = await testApp({ ROLES_FILE: file });
    try {
      const org = await newOrg(x);
      const admin = await join(org.orgId, "admin", x);
      const res = await x.request("POST", `/api/v1/orgs/${org.orgId}/api-keys`, {
        token: admin.token,
        body: {
          name: "too high",
          role: "member",
          workspaces: [{ workspaceId: org.sales, role: "director" }],
        },
      });
      assert.equal(res.status, 403, res.text);
      assert.equal(res.json.code, "forbidden");
      // What the admin may give, they may give a key.
      await makeKey(
        org,
        { name: "fine", role: "admin", workspaces: [{ workspaceId: org.sales, role: "admin" }] },
        admin.token,
        x,
      );
      // And a key cannot make a key above itself either.
      const adminKey = await makeKey(org, { name: "admin key", role: "admin" }, admin.token, x);
      const byKey = await x.request("POST", `/api/v1/orgs/${org.orgId}/api-keys`, {
        token: adminKey.token,
        body: { name: "higher", role: "member", workspaces: [{ workspaceId: org.sales, role: "director" }] },
      });
      assert.equal(byKey.status, 403);
      const count = await x.db.selectFrom("api_keys").select("id").where("org_id", "=", org.orgId).execute();
      assert.equal(count.length, 2);
    } finally {
      await x.close();
    }
  });

  test("the key belongs to the organisation: it works after its maker is removed", async () => {
    const org = await newOrg();
    const admin = await join(org.orgId, "admin");
    const key = await makeKey(org, { name: "outlives", role: "admin" }, admin.token);
    const removed = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, {
      token: org.owner.token,
    });
    assert.equal(removed.status, 204, removed.text);
    assert.equal(
      (await t.request("GET", `/api/v1/orgs/${org.orgId}/members`, { token: key.token })).status,
      200,
    );
    const list = await t.request("GET", `/api/v1/orgs/${org.orgId}/api-keys`, { token: org.owner.token });
    assert.equal(list.json.items[0].createdBy.name, "A admin");
  });
});

describe("credentials", () => {
  test("a person's routes refuse keys: 403 api_key_not_allowed", async () => {
    const org = await newOrg();
    const key = await makeKey(org, { name: "k", role: "admin" });
    for (const [method, url, body] of [
      ["GET", "/api/v1/me", undefined],
      ["GET", "/api/v1/me/sessions", undefined],
      ["GET", "/api/v1/orgs", undefined],
      ["POST", "/api/v1/orgs", { name: "Machine Org" }],
      ["POST", "/api/v1/auth/logout", undefined],
    ] as const) {
      const res = await t.request(method, url, { token: key.token, ...(body ? { body } : {}) });
      assert.equal(res.status, 403, `${method} ${url}: ${res.text}`);
      assert.equal(res.json.code, "api_key_not_allowed", `${method} ${url}`);
    }
  });

  test("an unknown, malformed or expired key answers 401 invalid_api_key", async () => {
    const org = await newOrg();
    const key = await makeKey(org, { name: "k", role: "admin", expiresInDays: 1 });
    const unknown = `rk_${"A".repeat(43)}`;
    for (const token of [unknown, "rk_short", `${key.token}x`]) {
      const res = await t.request("GET", `/api/v1/orgs/${org.orgId}`, { token });
      assert.equal(res.status, 401, token);
      assert.equal(res.json.code, "invalid_api_key");
    }
    await t.db
      .updateTable("api_keys")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", key.id)
      .execute();
    const expired = await t.request("GET", `/api/v1/orgs/${org.orgId}`, { token: key.token });
    assert.equal(expired.status, 401);
    assert.equal(expired.json.code, "invalid_api_key");
  });

  test("lastUsedAt is written at most once a minute", async () => {
    const org = await newOrg();
    const key = await makeKey(org, { name: "k", role: "member" });
    const lastUsed = async () =>
      (
        await t.db
          .selectFrom("api_keys")
          .select("last_used_at")
          .where("id", "=", key.id)
          .executeTakeFirstOrThrow()
      ).last_used_at;
    await t.request("GET", `/api/v1/orgs/${org.orgId}`, { token: key.token });
    assert.ok(await lastUsed(), "written at the first use");
    const recent = new Date(Date.now() - 30_000);
    await t.db.updateTable("api_keys").set({ last_used_at: recent }).where("id", "=", key.id).execute();
    await t.request("GET", `/api/v1/orgs/${org.orgId}`, { token: key.token });
    assert.equal((await lastUsed())?.getTime(), recent.getTime(), "not again within the minute");
    await t.db
      .updateTable("api_keys")
      .set({ last_used_at: new Date(Date.now() - 61_000) })
      .where("id", "=", key.id)
      .execute();
    await t.request("GET", `/api/v1/orgs/${org.orgId}`, { token: key.token });
    const now = await lastUsed();
    assert.ok(now && Date.now() - now.getTime() < 5_000, "written again after a minute");
  });

  test("a key never reaches the log", async () => {
    const org = await newOrg();
    const key = await makeKey(org, { name: "k", role: "admin" });
    await t.request("GET", `/api/v1/orgs/${org.orgId}/members?q=${encodeURIComponent("x")}`, {
      token: key.token,
    });
    await t.request("GET", `/api/v1/orgs/${org.orgId}`, { token: `${key.token}junk` });
    assert.ok(t.logs.length > 0);
    assert.ok(!t.logs.some((line) => line.includes(key.token.slice(3))), "no log line holds the token");
  });
});
