// Accounts: sign-up, log-in, profile, password change and reset (README.md#http-api, rules 10, 11, 16).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  buildUser,
  linkIn,
  PASSWORD,
  PUBLIC_URL,
  randomIp,
  resetTokenFor,
  type TestApp,
  testApp,
  uniqueEmail,
} from "../../test/helpers/app.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

const count = async (table: "users" | "organizations" | "sessions" | "workspaces") =>
  Number(
    (
      await t.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("sign-up", () => {
  test("creates the user, their organisation (owner) with one workspace, and a session", async () => {
    const email = uniqueEmail("olive");
    const res = await t.request("POST", "/api/v1/auth/signup", {
      body: { email: `  ${email} `, password: PASSWORD, name: "Olive Owner", organizationName: "Olive Co" },
      remoteAddress: randomIp(),
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.user.email, email, "the address is stored trimmed");
    assert.equal(res.json.user.name, "Olive Owner");
    assert.match(res.json.session.token, /^ses_[0-9a-z]{26}\.[A-Za-z0-9_-]{43}$/);
    assert.ok(Date.parse(res.json.session.expiresAt) > Date.now());
    assert.equal(res.json.user.password_hash, undefined);

    const me = await t.request("GET", "/api/v1/me", { token: res.json.session.token });
    assert.equal(me.status, 200);
    assert.deepEqual(
      me.json.organizations.map((o: { name: string; role: string }) => [o.name, o.role]),
      [["Olive Co", "owner"]],
    );
    assert.equal(me.json.session.id, res.json.session.id);
    const workspaces = await t.db
      .selectFrom("workspaces")
      .selectAll()
      .where("org_id", "=", me.json.organizations[0].id)
      .execute();
    assert.equal(workspaces.length, 1);
  });

  test("stores an argon2id hash with OWASP parameters, never the password", async () => {
    const u = await buildUser(t);
    const row = await t.db
      .selectFrom("users")
      .selectAll()
      .where("id", "=", u.userId)
      .executeTakeFirstOrThrow();
    assert.match(row.password_hash ?? "", /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok(!row.password_hash?.includes(PASSWORD));
  });

  test("names the organisation after the person when no name is given", async () => {
    const u = await buildUser(t, { name: "Pat Doe" });
    const me = await t.request("GET", "/api/v1/me", { token: u.token });
    assert.equal(me.json.organizations[0].name, "Pat Doe's organisation");
  });

  test("rule 11: an address that has an account gets the same answer, no session, and its owner a mail", async () => {
    const existing = await buildUser(t, { name: "Erin Exists" });
    const users = await count("users");
    const again = await t.request("POST", "/api/v1/auth/signup", {
      body: { email: existing.email.toUpperCase(), password: "another fine passphrase", name: "Mallory" },
      remoteAddress: randomIp(),
    });
    const fresh = await t.request("POST", "/api/v1/auth/signup", {
      body: { email: uniqueEmail(), password: "another fine passphrase", name: "Mallory" },
      remoteAddress: randomIp(),
    });
    assert.equal(again.status, fresh.status);
    assert.deepEqual(Object.keys(again.json).sort(), Object.keys(fresh.json).sort());
    assert.deepEqual(Object.keys(again.json.user).sort(), Object.keys(fresh.json.user).sort());
    assert.deepEqual(Object.keys(again.json.session).sort(), Object.keys(fresh.json.session).sort());
    assert.match(again.json.session.token, /^ses_[0-9a-z]{26}\.[A-Za-z0-9_-]{43}$/);
    assert.ok(again.headers["set-cookie"], "a cookie is set either way");
    assert.equal(await count("users"), users + 1, "only the fresh sign-up made a user");
    // The decoy session opens nothing, and the real account is untouched.
    assert.equal((await t.request("GET", "/api/v1/me", { token: again.json.session.token })).status, 401);
    const login = await t.request("POST", "/api/v1/auth/login", {
      body: { email: existing.email, password: existing.password },
      remoteAddress: randomIp(),
    });
    assert.equal(login.status, 200);
    const mail = await t.smtp.waitFor(
      (m) => m.envelopeTo.includes(existing.email.toLowerCase()) || m.to.includes(existing.email),
    );
    assert.match(mail.subject, /account/i);
    assert.ok(mail.text?.includes(`${PUBLIC_URL}/forgot-password`));
  });

  test("rule 16: bad input answers 400 naming each field and creates nothing", async () => {
    const before = await count("users");
    const cases: [unknown, string[]][] = [
      [{ email: "nope", password: PASSWORD, name: "X" }, ["email"]],
      [{ email: uniqueEmail(), password: "short", name: "X" }, ["password"]],
      [{ email: uniqueEmail(), password: PASSWORD }, ["name"]],
      [{ email: uniqueEmail(), password: PASSWORD, name: "   " }, ["name"]],
      [{ email: 42, password: ["x"], name: { a: 1 } }, ["email", "password", "name"]],
      [{ email: uniqueEmail(), password: "x".repeat(300), name: "X" }, ["password"]],
      [{}, ["email", "password", "name"]],
      [[], ["body"]],
      ["a string", ["body"]],
    ];
    for (const [body, fields] of cases) {
      const res = await t.request("POST", "/api/v1/auth/signup", { body, remoteAddress: randomIp() });
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.text}`);
      assert.match(String(res.headers["content-type"]), /^application\/problem\+json/);
      assert.equal(res.json.status, 400);
      assert.ok(res.json.code && res.json.title && res.json.detail && res.json.type, res.text);
      assert.deepEqual(
        res.json.errors.map((e: { field: string }) => e.field).sort(),
        [...fields].sort(),
        `${JSON.stringify(body)} → ${res.text}`,
      );
      for (const e of res.json.errors) assert.ok(e.message.length > 3);
    }
    assert.equal(await count("users"), before);
  });

  test("the most common passwords are refused with a clear message", async () => {
    for (const password of ["password123", "qwertyuiop", "iloveyou", "PASSWORD1"]) {
      const res = await t.request("POST", "/api/v1/auth/signup", {
        body: { email: uniqueEmail(), password, name: "Weak" },
        remoteAddress: randomIp(),
      });
      assert.equal(res.status, 400, password);
      assert.equal(res.json.code, "password_too_common");
      assert.equal(res.json.errors[0].field, "password");
      assert.match(res.json.errors[0].message, /common/);
    }
    const own = uniqueEmail("same");
    const res = await t.request("POST", "/api/v1/auth/signup", {
      body: { email: own, password: own, name: "Same" },
      remoteAddress: randomIp(),
    });
    assert.equal(res.status, 400);
    assert.match(res.json.errors[0].message, /e-mail/);
  });

  test("accepts 8 and 256 characters, any characters, no composition rule", async () => {
    for (const password of ["zq8!kd0p", "ünïcödé🙂 pass", `${"y".repeat(255)}z`]) {
      const res = await t.request("POST", "/api/v1/auth/signup", {
        body: { email: uniqueEmail(), password, name: "Len" },
        remoteAddress: randomIp(),
      });
      assert.equal(res.status, 201, `${password.length}: ${res.text}`);
    }
  });

  test("an invitation token that names no invitation fails and creates nothing", async () => {
    const before = await count("users");
    const res = await t.request("POST", "/api/v1/auth/signup", {
      body: { email: uniqueEmail(), password: PASSWORD, name: "Invited", invitationToken: "x".repeat(43) },
      remoteAddress: randomIp(),
    });
    assert.equal(res.status, 404);
    assert.equal(res.json.code, "invitation_not_found");
    assert.equal(await count("users"), before);
  });
});

describe("log-in and log-out", () => {
  test("log-in answers the user and a new session; e-mail is case-insensitive", async () => {
    const u = await buildUser(t);
    const res = await t.request("POST", "/api/v1/auth/login", {
      body: { email: ` ${u.email.toUpperCase()} `, password: u.password },
      remoteAddress: randomIp(),
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.user.id, u.userId);
    assert.notEqual(res.json.session.token, u.token, "every log-in is a new session");
  });

  test("rule 11: unknown address and wrong password give the same answer", async () => {
    const u = await buildUser(t);
    const wrong = await t.request("POST", "/api/v1/auth/login", {
      body: { email: u.email, password: "not the password at all" },
      remoteAddress: randomIp(),
    });
    const unknown = await t.request("POST", "/api/v1/auth/login", {
      body: { email: uniqueEmail("nobody"), password: "not the password at all" },
      remoteAddress: randomIp(),
    });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.json.code, "invalid_credentials");
    assert.deepEqual(wrong.json, unknown.json);
  });

  test("log-out ends only this device's session", async () => {
    const u = await buildUser(t);
    const other = await t.request("POST", "/api/v1/auth/login", {
      body: { email: u.email, password: u.password },
      remoteAddress: randomIp(),
    });
    const out = await t.request("POST", "/api/v1/auth/logout", { token: u.token });
    assert.equal(out.status, 204);
    assert.equal((await t.request("GET", "/api/v1/me", { token: u.token })).status, 401);
    assert.equal((await t.request("GET", "/api/v1/me", { token: other.json.session.token })).status, 200);
  });
});

describe("profile", () => {
  test("PATCH /me changes the name and nothing else", async () => {
    const u = await buildUser(t);
    const res = await t.request("PATCH", "/api/v1/me", { token: u.token, body: { name: "  New Name " } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.user.name, "New Name");
    assert.equal(res.json.user.email, u.email);
    const ignored = await t.request("PATCH", "/api/v1/me", {
      token: u.token,
      body: { email: "evil@example.org" },
    });
    assert.equal(ignored.status, 200);
    assert.equal(ignored.json.user.email, u.email);
    const bad = await t.request("PATCH", "/api/v1/me", { token: u.token, body: { name: "" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.errors[0].field, "name");
  });

  test("GET /me without a session is 401", async () => {
    const res = await t.request("GET", "/api/v1/me");
    assert.equal(res.status, 401);
    assert.equal(res.json.code, "unauthenticated");
  });
});

describe("password change", () => {
  test("rule 10: changing the password ends every other session, keeps this one", async () => {
    const u = await buildUser(t);
    const second = await t.request("POST", "/api/v1/auth/login", {
      body: { email: u.email, password: u.password },
      remoteAddress: randomIp(),
    });
    const res = await t.request("POST", "/api/v1/me/password", {
      token: u.token,
      body: { currentPassword: u.password, newPassword: "a brand new passphrase" },
    });
    assert.equal(res.status, 204, res.text);
    assert.equal((await t.request("GET", "/api/v1/me", { token: u.token })).status, 200);
    assert.equal((await t.request("GET", "/api/v1/me", { token: second.json.session.token })).status, 401);
    const oldLogin = await t.request("POST", "/api/v1/auth/login", {
      body: { email: u.email, password: u.password },
      remoteAddress: randomIp(),
    });
    assert.equal(oldLogin.status, 401);
    const newLogin = await t.request("POST", "/api/v1/auth/login", {
      body: { email: u.email, password: "a brand new passphrase" },
      remoteAddress: randomIp(),
    });
    assert.equal(newLogin.status, 200);
  });

  test("a wrong current password changes nothing", async () => {
    const u = await buildUser(t);
    const res = await t.request("POST", "/api/v1/me/password", {
      token: u.token,
      body: { currentPassword: "wrong wrong wrong", newPassword: "a brand new passphrase" },
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.code, "invalid_current_password");
    assert.equal(res.json.errors[0].field, "currentPassword");
    const login = await t.request("POST", "/api/v1/auth/login", {
      body: { email: u.email, password: u.password },
      remoteAddress: randomIp(),
    });
    assert.equal(login.status, 200);
  });
});

describe("password reset", () => {
  test("mails a single-use link; following it sets the password and ends every session", async () => {
    const u = await buildUser(t, { name: "Rita Reset" });
    const res = await t.request("POST", "/api/v1/auth/password-reset", { body: { email: u.email } });
    assert.equal(res.status, 202);
    const mail = await t.smtp.waitFor((m) => m.to.includes(u.email) && /password/i.test(m.subject));
    assert.ok(mail.html?.includes("Rita Reset"));
    const link = linkIn(mail.text, `${PUBLIC_URL}/reset-password?token=`);
    const token = new URL(link).searchParams.get("token") ?? "";
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, "256 bits, base64url");

    const stored = await t.db.selectFrom("password_reset_tokens").selectAll().execute();
    assert.ok(
      stored.every((r) => !r.token_hash.toString("utf8").includes(token) && r.token_hash.length === 32),
    );
    const outbox = await t.db
      .selectFrom("mail_outbox")
      .select(["text_body", "html_body", "status"])
      .where("to_address", "=", u.email)
      .execute();
    assert.ok(
      outbox.every((m) => m.status !== "sent" || (m.text_body === null && m.html_body === null)),
      "a sent mail's body, which held the link, is not kept",
    );

    const confirm = await t.request("POST", "/api/v1/auth/password-reset/confirm", {
      body: { token, password: "the reset passphrase" },
    });
    assert.equal(confirm.status, 204, confirm.text);
    assert.equal(confirm.headers["set-cookie"], undefined, "a reset does not log in");
    assert.equal(
      (await t.request("GET", "/api/v1/me", { token: u.token })).status,
      401,
      "every session ended",
    );
    const login = await t.request("POST", "/api/v1/auth/login", {
      body: { email: u.email, password: "the reset passphrase" },
      remoteAddress: randomIp(),
    });
    assert.equal(login.status, 200);

    const replay = await t.request("POST", "/api/v1/auth/password-reset/confirm", {
      body: { token, password: "yet another passphrase" },
    });
    assert.equal(replay.status, 400);
    assert.equal(replay.json.code, "invalid_reset_token");
  });

  test("a token used concurrently works exactly once", async () => {
    const u = await buildUser(t);
    const token = await resetTokenFor(t, u.email);
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        t.request("POST", "/api/v1/auth/password-reset/confirm", {
          body: { token, password: `parallel passphrase ${i}` },
        }),
      ),
    );
    assert.deepEqual(answers.map((a) => a.status).sort(), [204, 400, 400, 400, 400]);
  });

  test("an expired token is refused", async () => {
    const u = await buildUser(t);
    const token = await resetTokenFor(t, u.email);
    await t.db
      .updateTable("password_reset_tokens")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("user_id", "=", u.userId)
      .execute();
    const res = await t.request("POST", "/api/v1/auth/password-reset/confirm", {
      body: { token, password: "too late passphrase" },
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.code, "invalid_reset_token");
  });

  test("lives one hour", async () => {
    const u = await buildUser(t);
    await t.request("POST", "/api/v1/auth/password-reset", { body: { email: u.email } });
    const row = await t.db
      .selectFrom("password_reset_tokens")
      .selectAll()
      .where("user_id", "=", u.userId)
      .executeTakeFirstOrThrow();
    const minutes = (row.expires_at.getTime() - row.created_at.getTime()) / 60_000;
    assert.ok(Math.abs(minutes - 60) < 1, `${minutes} minutes`);
  });

  test("rule 11: an unknown address gets the same 202 and no mail", async () => {
    const before = t.smtp.messages.length;
    const email = uniqueEmail("ghost");
    const res = await t.request("POST", "/api/v1/auth/password-reset", { body: { email } });
    assert.equal(res.status, 202);
    assert.equal(res.text, "");
    await t.app.mailWorker.runUntilIdle(2000);
    assert.ok(!t.smtp.messages.slice(before).some((m) => m.to.includes(email)));
  });

  test("a weak new password is refused and the token stays usable", async () => {
    const u = await buildUser(t);
    const token = await resetTokenFor(t, u.email);
    const weak = await t.request("POST", "/api/v1/auth/password-reset/confirm", {
      body: { token, password: u.email },
    });
    assert.equal(weak.status, 400);
    const good = await t.request("POST", "/api/v1/auth/password-reset/confirm", {
      body: { token, password: "a fine new passphrase" },
    });
    assert.equal(good.status, 204);
  });
});
