// The installation's service keys: POST /api/v1/sessions/verify answers whose a session token is,
// for a service key only; a service key changes nothing and reaches no organisation's routes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildUser, type TestApp, testApp } from "../../test/helpers/app.js";
import { createServiceKey, listServiceKeys, revokeServiceKey } from "./service-keys.js";

let t: TestApp;
let token: string;
let keyId: string;
before(async () => {
  t = await testApp();
  const made = await t.db.transaction().execute((tx) => createServiceKey(tx, "web backend"));
  token = made.token;
  keyId = made.key.id;
});
after(async () => {
  await t.close();
});

test("verify answers the person, the session and their organisations, read now", async () => {
  assert.match(token, /^rsk_[A-Za-z0-9_-]{43}$/);
  const person = await buildUser(t, { name: "Vera Verified", organizationName: "Vera's" });
  const res = await t.request("POST", "/api/v1/sessions/verify", { token, body: { token: person.token } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.user, { id: person.userId, email: person.email, name: "Vera Verified" });
  assert.equal(res.json.session.id, person.sessionId);
  assert.ok(Date.parse(res.json.session.expiresAt) > Date.now());
  assert.equal(res.json.organizations.length, 1);
  assert.equal(res.json.organizations[0].role, "owner");

  // Logged out: the same token is no session any more.
  await t.request("POST", "/api/v1/auth/logout", { token: person.token });
  const ended = await t.request("POST", "/api/v1/sessions/verify", { token, body: { token: person.token } });
  assert.equal(ended.status, 401);
  assert.equal(ended.json.code, "invalid_session");
});

test("junk tokens answer 401 invalid_session; a missing one 400", async () => {
  for (const junk of ["nonsense", `ses_${"0".repeat(26)}.${"A".repeat(43)}`, token]) {
    const res = await t.request("POST", "/api/v1/sessions/verify", { token, body: { token: junk } });
    assert.equal(res.status, 401, junk);
    assert.equal(res.json.code, "invalid_session");
  }
  const missing = await t.request("POST", "/api/v1/sessions/verify", { token, body: {} });
  assert.equal(missing.status, 400);
});

test("only a service key may verify: a session 403, an API key 403, nothing 401", async () => {
  const person = await buildUser(t);
  const asPerson = await t.request("POST", "/api/v1/sessions/verify", {
    token: person.token,
    body: { token: person.token },
  });
  assert.equal(asPerson.status, 403);
  assert.equal(asPerson.json.code, "forbidden");
  const me = await t.request("GET", "/api/v1/me", { token: person.token });
  const orgId = me.json.organizations[0].id;
  const key = await t.request("POST", `/api/v1/orgs/${orgId}/api-keys`, {
    token: person.token,
    body: { name: "k", role: "admin" },
  });
  const asKey = await t.request("POST", "/api/v1/sessions/verify", {
    token: key.json.token,
    body: { token: person.token },
  });
  assert.equal(asKey.status, 403);
  const anonymous = await t.request("POST", "/api/v1/sessions/verify", { body: { token: person.token } });
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.json.code, "unauthenticated");
});

test("a service key reaches no person's route and changes nothing in an organisation", async () => {
  const person = await buildUser(t);
  const me = await t.request("GET", "/api/v1/me", { token: person.token });
  const orgId = me.json.organizations[0].id;
  const mine = await t.request("GET", "/api/v1/me", { token });
  assert.equal(mine.status, 403);
  assert.equal(mine.json.code, "api_key_not_allowed");
  const rename = await t.request("PATCH", `/api/v1/orgs/${orgId}`, { token, body: { name: "Taken" } });
  assert.equal(rename.status, 403);
  const after = await t.request("GET", `/api/v1/orgs/${orgId}`, { token: person.token });
  assert.notEqual(after.json.organization?.name ?? after.json.name, "Taken");
});

test("lastUsedAt is kept; a revoked key answers 401 invalid_api_key", async () => {
  const keys = await listServiceKeys(t.db);
  assert.ok(keys.find((k) => k.id === keyId)?.lastUsedAt, "used above");
  const other = await t.db.transaction().execute((tx) => createServiceKey(tx, "to revoke"));
  assert.equal(await t.db.transaction().execute((tx) => revokeServiceKey(tx, other.key.id)), true);
  assert.equal(await t.db.transaction().execute((tx) => revokeServiceKey(tx, other.key.id)), false);
  const res = await t.request("POST", "/api/v1/sessions/verify", {
    token: other.token,
    body: { token: "x" },
  });
  assert.equal(res.status, 401);
  assert.equal(res.json.code, "invalid_api_key");
  const audit = await t.db
    .selectFrom("audit_events")
    .select(["action", "actor_type", "org_id"])
    .where("target_id", "=", other.key.id)
    .orderBy("at")
    .execute();
  assert.deepEqual(audit, [
    { action: "service_key.created", actor_type: "system", org_id: null },
    { action: "service_key.revoked", actor_type: "system", org_id: null },
  ]);
});
