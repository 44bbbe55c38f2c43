// The per-request read of resolve.ts: lookups that arrive together share one statement, and each
// still gets its own session, user and standing — never a neighbour's, never a stale one.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildUser, type TestApp, testApp } from "../../test/helpers/app.js";
import { resolveRequest } from "./resolve.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

const device = { userAgent: null, ip: null };

test("lookups made together answer each for its own token and place", async () => {
  const people = await Promise.all(Array.from({ length: 6 }, (_, i) => buildUser(t, { name: `Batch ${i}` })));
  const orgOf = new Map<string, string>();
  for (const p of people) {
    const me = await t.request("GET", "/api/v1/me", { token: p.token });
    orgOf.set(p.userId, me.json.organizations[0].id);
  }
  const database = t.database.database;
  const [first, second] = people as [(typeof people)[0], (typeof people)[0]];
  // In one turn of the event loop: each person in their own organisation and in someone else's,
  // a session-only check, a forged secret and an unknown session — mixed kinds, one batch each.
  const asked = [
    ...people.map((p) => ({ token: p.token, orgId: orgOf.get(p.userId) ?? "" })),
    ...people.map((p, i) => ({
      token: p.token,
      orgId: orgOf.get(people[(i + 1) % people.length]?.userId ?? "") ?? "",
    })),
  ];
  const [own, foreign, plain, forged, unknown] = await Promise.all([
    Promise.all(
      asked
        .slice(0, people.length)
        .map((a) =>
          resolveRequest(database, a.token, { kind: "org", orgId: a.orgId }, t.config.session, device),
        ),
    ),
    Promise.all(
      asked
        .slice(people.length)
        .map((a) =>
          resolveRequest(database, a.token, { kind: "org", orgId: a.orgId }, t.config.session, device),
        ),
    ),
    resolveRequest(database, second.token, { kind: "none" }, t.config.session, device),
    resolveRequest(
      database,
      `${first.sessionId}.${"A".repeat(43)}`,
      { kind: "none" },
      t.config.session,
      device,
    ),
    resolveRequest(
      database,
      `ses_${"0".repeat(26)}.${"A".repeat(43)}`,
      { kind: "organizations" },
      t.config.session,
      device,
    ),
  ]);
  own.forEach((r, i) => {
    assert.equal(r?.auth.user.id, people[i]?.userId);
    assert.equal(r?.standing?.orgRole, "owner");
    assert.equal(r?.standing?.orgId, orgOf.get(people[i]?.userId ?? ""));
  });
  foreign.forEach((r, i) => {
    assert.equal(r?.auth.user.id, people[i]?.userId);
    assert.equal(r?.standing?.orgRole, null, "nobody stands in another's organisation");
  });
  assert.equal(plain?.auth.user.id, second.userId);
  assert.equal(plain?.standing, null);
  assert.equal(forged, null);
  assert.equal(unknown, null);
});

test("junk in one request's path does not touch the others batched with it", async () => {
  const person = await buildUser(t, { name: "Batch Neighbour" });
  const me = await t.request("GET", "/api/v1/me", { token: person.token });
  const orgId: string = me.json.organizations[0].id;
  const database = t.database.database;
  // A NUL is refused by PostgreSQL in any text: it must never reach the shared statement.
  const [good, junk] = await Promise.all([
    resolveRequest(database, person.token, { kind: "org", orgId }, t.config.session, device),
    resolveRequest(
      database,
      person.token,
      { kind: "org", orgId: `${orgId}\u0000` },
      t.config.session,
      device,
    ),
  ]);
  assert.equal(good?.standing?.orgRole, "owner");
  assert.equal(junk?.auth.user.id, person.userId);
  assert.equal(junk?.standing?.orgRole, null);
  const [ok, bad] = await Promise.all([
    t.request("GET", `/api/v1/orgs/${orgId}/members`, { token: person.token }),
    t.request("GET", `/api/v1/orgs/${encodeURIComponent(`${orgId}\u0000`)}/members`, { token: person.token }),
  ]);
  assert.equal(ok.status, 200);
  assert.equal(bad.status, 404);
  assert.equal(bad.json.code, "organization_not_found");
});

test("a removal that has answered holds for every lookup after it, batched or not", async () => {
  const owner = await buildUser(t, { name: "Batch Owner" });
  const member = await buildUser(t, { name: "Batch Member" });
  const me = await t.request("GET", "/api/v1/me", { token: owner.token });
  const orgId: string = me.json.organizations[0].id;
  await t.db
    .insertInto("org_memberships")
    .values({ org_id: orgId, user_id: member.userId, role: "admin" })
    .execute();
  const members = () =>
    Promise.all(
      Array.from({ length: 8 }, () =>
        t.request("GET", `/api/v1/orgs/${orgId}/members`, { token: member.token }),
      ),
    );
  assert.deepEqual(
    (await members()).map((r) => r.status),
    Array(8).fill(200),
  );
  const removed = await t.request("DELETE", `/api/v1/orgs/${orgId}/members/${member.userId}`, {
    token: owner.token,
  });
  assert.equal(removed.status, 204, removed.text);
  assert.deepEqual(
    (await members()).map((r) => r.status),
    Array(8).fill(404),
  );
});
