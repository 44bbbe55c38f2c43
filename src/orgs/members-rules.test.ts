// Rule 2 (an organisation keeps an owner, also under concurrent demotions) and rule 9 (removal and
// demotion hold from the next request, on every device and every server).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  buildUser,
  randomIp,
  type Sibling,
  type SignedUp,
  type TestApp,
  testApp,
} from "../../test/helpers/app.js";
import { joinOrg } from "../../test/helpers/org.js";
import type { OrgRole } from "../access/catalogue.js";

let t: TestApp;
let s: Sibling;
before(async () => {
  t = await testApp();
  s = await t.sibling();
});
after(async () => {
  await s.close();
  await t.close();
});

async function owner(name = "Olive Owner"): Promise<SignedUp & { orgId: string }> {
  const u = await buildUser(t, { name, organizationName: `${name}'s Org` });
  const me = await t.request("GET", "/api/v1/me", { token: u.token });
  return { ...u, orgId: me.json.organizations[0].id };
}

const join = (orgId: string, role: OrgRole, name = "Someone"): Promise<SignedUp> =>
  joinOrg(t, orgId, role, name);

async function owners(orgId: string): Promise<string[]> {
  const rows = await t.db
    .selectFrom("org_memberships")
    .select("user_id")
    .where("org_id", "=", orgId)
    .where("role", "=", "owner")
    .execute();
  return rows.map((r) => r.user_id);
}

/** Another device of the same person: a new session. */
async function login(u: SignedUp): Promise<string> {
  const res = await t.request("POST", "/api/v1/auth/login", {
    body: { email: u.email, password: u.password },
    remoteAddress: randomIp(),
  });
  assert.equal(res.status, 200, res.text);
  return res.json.session.token;
}

describe("rule 2: the last owner", () => {
  test("the only owner cannot demote themselves or leave: 409 last_owner, nothing changes", async () => {
    const o = await owner();
    const admin = await join(o.orgId, "admin");
    for (const role of ["admin", "member"]) {
      const res = await t.request("PATCH", `/api/v1/orgs/${o.orgId}/members/${o.userId}`, {
        token: o.token,
        body: { role },
      });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.json.code, "last_owner");
    }
    const leave = await t.request("DELETE", `/api/v1/orgs/${o.orgId}/members/${o.userId}`, {
      token: o.token,
    });
    assert.equal(leave.status, 409, leave.text);
    assert.equal(leave.json.code, "last_owner");
    assert.deepEqual(await owners(o.orgId), [o.userId]);
    const audited = await t.db
      .selectFrom("audit_events")
      .select("action")
      .where("org_id", "=", o.orgId)
      .where("action", "in", ["member.role_changed", "member.left"])
      .execute();
    assert.deepEqual(audited, []);
    // With a second owner the first may go.
    assert.equal(
      (
        await t.request("PATCH", `/api/v1/orgs/${o.orgId}/members/${admin.userId}`, {
          token: o.token,
          body: { role: "owner" },
        })
      ).status,
      200,
    );
    const left = await t.request("DELETE", `/api/v1/orgs/${o.orgId}/members/${o.userId}`, { token: o.token });
    assert.equal(left.status, 204, left.text);
    assert.deepEqual(await owners(o.orgId), [admin.userId]);
    const last = await t.request("PATCH", `/api/v1/orgs/${o.orgId}/members/${admin.userId}`, {
      token: admin.token,
      body: { role: "member" },
    });
    assert.equal(last.status, 409);
  });

  test("two owners demoting each other at the same moment, on two servers: exactly one wins", async () => {
    for (let round = 0; round < 6; round++) {
      const a = await owner(`A${round}`);
      const b = await join(a.orgId, "owner", `B${round}`);
      const results = await Promise.all([
        t.request("PATCH", `/api/v1/orgs/${a.orgId}/members/${b.userId}`, {
          token: a.token,
          body: { role: "admin" },
        }),
        s.request("PATCH", `/api/v1/orgs/${a.orgId}/members/${a.userId}`, {
          token: b.token,
          body: { role: "member" },
        }),
      ]);
      const texts = results.map((r) => r.text).join("\n");
      assert.equal(results.filter((r) => r.status === 200).length, 1, texts);
      // The loser's standing is read again under the organisation's lock (rule 9): demoted by the
      // winner, it may no longer touch an owner (403); or it is refused for the last owner (409).
      const loser = results.find((r) => r.status !== 200);
      assert.ok(
        (loser?.status === 403 && loser.json.code === "forbidden") ||
          (loser?.status === 409 && loser.json.code === "last_owner"),
        texts,
      );
      assert.equal((await owners(a.orgId)).length, 1, `round ${round}`);
    }
  });

  test("two owners leaving at the same moment, on two servers: exactly one goes", async () => {
    for (let round = 0; round < 4; round++) {
      const a = await owner(`L${round}`);
      const b = await join(a.orgId, "owner");
      const results = await Promise.all([
        t.request("DELETE", `/api/v1/orgs/${a.orgId}/members/${a.userId}`, { token: a.token }),
        s.request("DELETE", `/api/v1/orgs/${a.orgId}/members/${b.userId}`, { token: b.token }),
      ]);
      assert.deepEqual(
        results.map((r) => r.status).sort(),
        [204, 409],
        results.map((r) => r.text).join("\n"),
      );
      assert.equal((await owners(a.orgId)).length, 1);
    }
  });
});

describe("rule 9: removal and demotion hold from the next request, everywhere", () => {
  test("a removed member's every session, on every server, gets 404 at once", async () => {
    const o = await owner();
    const m = await join(o.orgId, "member");
    const tokens = [m.token, await login(m), await login(m)];
    for (const token of tokens) {
      for (const server of [t, s]) {
        assert.equal((await server.request("GET", `/api/v1/orgs/${o.orgId}`, { token })).status, 200);
      }
    }
    const res = await t.request("DELETE", `/api/v1/orgs/${o.orgId}/members/${m.userId}`, { token: o.token });
    assert.equal(res.status, 204);
    for (const token of tokens) {
      for (const server of [t, s]) {
        const after = await server.request("GET", `/api/v1/orgs/${o.orgId}`, { token });
        assert.equal(after.status, 404, after.text);
        assert.equal(after.json.code, "organization_not_found");
      }
    }
  });

  test("a member who left is out on every device at once", async () => {
    const o = await owner();
    const m = await join(o.orgId, "admin");
    const other = await login(m);
    assert.equal(
      (await s.request("DELETE", `/api/v1/orgs/${o.orgId}/members/${m.userId}`, { token: m.token })).status,
      204,
    );
    for (const server of [t, s]) {
      assert.equal(
        (await server.request("GET", `/api/v1/orgs/${o.orgId}/members`, { token: other })).status,
        404,
      );
    }
  });

  test("a demoted admin's every session, on every server, gets 403 on the member list at once", async () => {
    const o = await owner();
    const admin = await join(o.orgId, "admin");
    const tokens = [admin.token, await login(admin)];
    for (const token of tokens) {
      for (const server of [t, s]) {
        assert.equal((await server.request("GET", `/api/v1/orgs/${o.orgId}/members`, { token })).status, 200);
      }
    }
    const res = await s.request("PATCH", `/api/v1/orgs/${o.orgId}/members/${admin.userId}`, {
      token: o.token,
      body: { role: "member" },
    });
    assert.equal(res.status, 200, res.text);
    for (const token of tokens) {
      for (const server of [t, s]) {
        const after = await server.request("GET", `/api/v1/orgs/${o.orgId}/members`, { token });
        assert.equal(after.status, 403, after.text);
        assert.equal(after.json.code, "forbidden");
        const rename = await server.request("PATCH", `/api/v1/orgs/${o.orgId}`, {
          token,
          body: { name: "Still admin?" },
        });
        assert.equal(rename.status, 403);
      }
    }
  });
});
