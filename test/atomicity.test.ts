// Rule 14 (docs/rules.md#rule-14): a change, its audit event and its mail commit together or not at all. A
// trigger makes the database refuse one write in the middle of an operation; nothing of that
// operation may remain.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  buildUser,
  PASSWORD,
  randomIp,
  resetTokenFor,
  type TestApp,
  testApp,
  uniqueEmail,
} from "./helpers/app.js";
import { failing, installFaults } from "./helpers/faults.js";

let t: TestApp;
before(async () => {
  t = await testApp();
  await installFaults(t.db);
});
after(async () => {
  await t.close();
});

const counts = async () => {
  const n = async (
    table:
      | "users"
      | "organizations"
      | "org_memberships"
      | "workspaces"
      | "sessions"
      | "audit_events"
      | "mail_outbox"
      | "password_reset_tokens",
  ) =>
    Number(
      (
        await t.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    users: await n("users"),
    organizations: await n("organizations"),
    memberships: await n("org_memberships"),
    workspaces: await n("workspaces"),
    sessions: await n("sessions"),
    audit: await n("audit_events"),
    mail: await n("mail_outbox"),
    resetTokens: await n("password_reset_tokens"),
  };
};

test("sign-up failing at its last audit event leaves no user, organisation, membership or session", async () => {
  const before = await counts();
  const email = uniqueEmail("half");
  const res = await failing(t.db, "audit_events", "workspace.created", () =>
    t.request("POST", "/api/v1/auth/signup", {
      body: { email, password: PASSWORD, name: "Half" },
      remoteAddress: randomIp(),
    }),
  );
  assert.equal(res.status, 500);
  assert.deepEqual(await counts(), before);
  // And the same sign-up succeeds once the fault is gone: nothing half-made blocks it.
  const again = await t.request("POST", "/api/v1/auth/signup", {
    body: { email, password: PASSWORD, name: "Half" },
    remoteAddress: randomIp(),
  });
  assert.equal(again.status, 201);
  const me = await t.request("GET", "/api/v1/me", { token: again.json.session.token });
  assert.equal(me.json.organizations.length, 1);
});

test("a password-reset request whose mail cannot be written leaves no token", async () => {
  const u = await buildUser(t);
  const before = await counts();
  const res = await failing(t.db, "mail_outbox", "password_reset", () =>
    t.request("POST", "/api/v1/auth/password-reset", { body: { email: u.email } }),
  );
  assert.equal(res.status, 500);
  assert.deepEqual(await counts(), before);
});

test("a password change whose audit event fails keeps the old password and every session", async () => {
  const u = await buildUser(t);
  const other = await t.request("POST", "/api/v1/auth/login", {
    body: { email: u.email, password: u.password },
    remoteAddress: randomIp(),
  });
  const res = await failing(t.db, "audit_events", "user.password_changed", () =>
    t.request("POST", "/api/v1/me/password", {
      token: u.token,
      body: { currentPassword: u.password, newPassword: "never stored passphrase" },
    }),
  );
  assert.equal(res.status, 500);
  assert.equal((await t.request("GET", "/api/v1/me", { token: other.json.session.token })).status, 200);
  const login = await t.request("POST", "/api/v1/auth/login", {
    body: { email: u.email, password: u.password },
    remoteAddress: randomIp(),
  });
  assert.equal(login.status, 200);
});

test("a password reset whose audit event fails leaves the token usable and sessions alive", async () => {
  const u = await buildUser(t);
  const token = await resetTokenFor(t, u.email);
  const res = await failing(t.db, "audit_events", "user.password_reset", () =>
    t.request("POST", "/api/v1/auth/password-reset/confirm", {
      body: { token, password: "first try passphrase" },
    }),
  );
  assert.equal(res.status, 500);
  assert.equal((await t.request("GET", "/api/v1/me", { token: u.token })).status, 200);
  const retry = await t.request("POST", "/api/v1/auth/password-reset/confirm", {
    body: { token, password: "second try passphrase" },
  });
  assert.equal(retry.status, 204);
});
