// Sessions and devices: rule 10 (docs/rules.md#rule-10) and the session routes of README.md#http-api.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type Answer,
  buildUser,
  randomIp,
  setCookie,
  type TestApp,
  testApp,
} from "../../test/helpers/app.js";
import { sha256 } from "../tokens.js";
import { LAST_SEEN_INTERVAL_MS } from "./operations.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

async function loginFrom(
  email: string,
  password: string,
  userAgent: string,
  ip = randomIp(),
): Promise<Answer> {
  const res = await t.request("POST", "/api/v1/auth/login", {
    body: { email, password },
    headers: { "user-agent": userAgent },
    remoteAddress: ip,
  });
  assert.equal(res.status, 200, res.text);
  return res;
}

const me = (token: string) => t.request("GET", "/api/v1/me", { token });

describe("tokens and cookies", () => {
  test("the cookie is HttpOnly, SameSite=Lax, Path=/ and carries the session token", async () => {
    const u = await buildUser(t);
    const res = await loginFrom(u.email, u.password, "curl/8");
    const cookie = setCookie(res, "rollcall_session");
    assert.ok(cookie, JSON.stringify(res.headers["set-cookie"]));
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.match(cookie, /Path=\//);
    assert.doesNotMatch(cookie, /Secure/i, "not Secure when served over http");
    const value = cookie.split(";")[0]?.split("=")[1] ?? "";
    assert.equal(decodeURIComponent(value), res.json.session.token);
    const viaCookie = await t.request("GET", "/api/v1/me", { cookie: res.json.session.token });
    assert.equal(viaCookie.status, 200);
  });

  test("over https the cookie is Secure and named __Host-rollcall_session", async () => {
    const https = await testApp({ PUBLIC_URL: "https://rollcall.example" });
    try {
      const u = await buildUser(https);
      const res = await https.request("POST", "/api/v1/auth/login", {
        body: { email: u.email, password: u.password },
        remoteAddress: randomIp(),
      });
      const cookie = setCookie(res, "__Host-rollcall_session");
      assert.ok(cookie, JSON.stringify(res.headers["set-cookie"]));
      assert.match(cookie, /; Secure/i);
      assert.match(cookie, /Path=\//);
      assert.doesNotMatch(cookie, /Domain=/i, "__Host- cookies carry no Domain");
      assert.equal(
        (await https.request("GET", "/api/v1/me", { cookie: res.json.session.token })).status,
        200,
      );
    } finally {
      await https.close();
    }
  });

  test("only SHA-256 of the secret is stored", async () => {
    const u = await buildUser(t);
    const [id, secret] = u.token.split(".") as [string, string];
    const row = await t.db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    assert.deepEqual(row.secret_hash, sha256(secret));
    const all = JSON.stringify(await t.db.selectFrom("sessions").selectAll().execute());
    assert.ok(!all.includes(secret));
  });

  test("forged, altered and malformed tokens are refused", async () => {
    const u = await buildUser(t);
    const [id, secret] = u.token.split(".") as [string, string];
    const flipped = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    for (const token of [
      `${id}.${flipped}`,
      `${id}.`,
      id,
      `ses_00000000000000000000000000.${secret}`,
      "x".repeat(80),
      `${u.token}x`,
    ]) {
      const res = await me(token);
      assert.equal(res.status, 401, token);
      assert.equal(res.json.code, "unauthenticated");
    }
    const cookie = await t.request("GET", "/api/v1/me", { cookie: `${id}.${flipped}` });
    assert.equal(cookie.status, 401);
    assert.match(
      setCookie(cookie, "rollcall_session") ?? "",
      /Expires=Thu, 01 Jan 1970|Max-Age=0/i,
      "a dead cookie is cleared",
    );
    assert.equal((await me(u.token)).status, 200);
  });
});

describe("devices", () => {
  test("many devices: each log-in is listed with its user agent and IP; the calling one is current", async () => {
    const u = await buildUser(t);
    const phone = await loginFrom(u.email, u.password, "Mozilla/5.0 (iPhone)", "10.1.1.1");
    const laptop = await loginFrom(u.email, u.password, "Mozilla/5.0 (Macintosh)", "10.2.2.2");
    const res = await t.request("GET", "/api/v1/me/sessions", { token: laptop.json.session.token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.items.length, 3);
    assert.equal(res.json.nextCursor, null);
    const byId = new Map(res.json.items.map((s: { id: string }) => [s.id, s]));
    const p = byId.get(phone.json.session.id) as Record<string, unknown>;
    assert.equal(p.userAgent, "Mozilla/5.0 (iPhone)");
    assert.equal(p.ip, "10.1.1.1");
    assert.equal(p.current, false);
    assert.equal((byId.get(laptop.json.session.id) as Record<string, unknown>).current, true);
    for (const s of res.json.items) {
      assert.ok(Date.parse(s.createdAt) <= Date.parse(s.lastSeenAt) + 1);
      assert.ok(Date.parse(s.expiresAt) > Date.now());
      assert.equal(s.token, undefined);
    }
  });

  test("the list pages with limit and cursor", async () => {
    const u = await buildUser(t);
    for (let i = 0; i < 4; i++) await loginFrom(u.email, u.password, `agent ${i}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const res = await t.request("GET", `/api/v1/me/sessions${q}`, { token: u.token });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.items.length <= 2);
      seen.push(...res.json.items.map((s: { id: string }) => s.id));
      cursor = res.json.nextCursor;
    } while (cursor);
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5);
    for (const bad of ["?limit=0", "?limit=201", "?limit=abc", "?cursor=%%%", "?cursor=bm90IGFuIGlk%21"]) {
      const res = await t.request("GET", `/api/v1/me/sessions${bad}`, { token: u.token });
      assert.equal(res.status, 400, `${bad} → ${res.text}`);
    }
  });

  test("revoking one device ends that session only, at its next request", async () => {
    const u = await buildUser(t);
    const phone = await loginFrom(u.email, u.password, "phone");
    const res = await t.request("DELETE", `/api/v1/me/sessions/${phone.json.session.id}`, { token: u.token });
    assert.equal(res.status, 204);
    assert.equal((await me(phone.json.session.token)).status, 401);
    assert.equal((await me(u.token)).status, 200);
  });

  test("another person's session answers 404, exactly like one that does not exist, and survives", async () => {
    const a = await buildUser(t);
    const b = await buildUser(t);
    const theirs = await t.request("DELETE", `/api/v1/me/sessions/${b.sessionId}`, { token: a.token });
    const none = await t.request("DELETE", "/api/v1/me/sessions/ses_00000000000000000000000000", {
      token: a.token,
    });
    assert.equal(theirs.status, 404);
    assert.deepEqual(theirs.json, { ...none.json, detail: theirs.json.detail });
    assert.equal(theirs.json.code, none.json.code);
    assert.equal((await me(b.token)).status, 200);
    const list = await t.request("GET", "/api/v1/me/sessions", { token: a.token });
    assert.ok(!list.json.items.some((s: { id: string }) => s.id === b.sessionId), "never listed either");
  });

  test("log out everywhere else keeps this device; log out everywhere ends all", async () => {
    const u = await buildUser(t);
    const other = await loginFrom(u.email, u.password, "other");
    const third = await loginFrom(u.email, u.password, "third");
    assert.equal(
      (await t.request("DELETE", "/api/v1/me/sessions?except=current", { token: u.token })).status,
      204,
    );
    assert.equal((await me(u.token)).status, 200);
    assert.equal((await me(other.json.session.token)).status, 401);
    assert.equal((await me(third.json.session.token)).status, 401);
    const fourth = await loginFrom(u.email, u.password, "fourth");
    assert.equal((await t.request("DELETE", "/api/v1/me/sessions", { token: u.token })).status, 204);
    assert.equal((await me(u.token)).status, 401);
    assert.equal((await me(fourth.json.session.token)).status, 401);
    const bad = await t.request("DELETE", "/api/v1/me/sessions?except=everything", {
      token: fourth.json.session.token,
    });
    assert.equal(bad.status, 401, "checked after authentication");
  });
});

describe("lifetimes", () => {
  test("idle timeout: 14 days without a request ends the session", async () => {
    const u = await buildUser(t);
    const id = u.sessionId;
    const day = 86_400_000;
    await t.db
      .updateTable("sessions")
      .set({ last_seen_at: new Date(Date.now() - 13.9 * day) })
      .where("id", "=", id)
      .execute();
    assert.equal((await me(u.token)).status, 200, "still inside the idle window");
    await t.db
      .updateTable("sessions")
      .set({ last_seen_at: new Date(Date.now() - 14.1 * day) })
      .where("id", "=", id)
      .execute();
    assert.equal((await me(u.token)).status, 401);
  });

  test("a request slides the idle window forward", async () => {
    const u = await buildUser(t);
    const day = 86_400_000;
    await t.db
      .updateTable("sessions")
      .set({ last_seen_at: new Date(Date.now() - 10 * day) })
      .where("id", "=", u.sessionId)
      .execute();
    assert.equal((await me(u.token)).status, 200);
    const row = await t.db
      .selectFrom("sessions")
      .selectAll()
      .where("id", "=", u.sessionId)
      .executeTakeFirstOrThrow();
    assert.ok(Date.now() - row.last_seen_at.getTime() < 10_000);
  });

  test("absolute lifetime: 90 days after creation the session ends, however active", async () => {
    const u = await buildUser(t);
    const row = await t.db
      .selectFrom("sessions")
      .selectAll()
      .where("id", "=", u.sessionId)
      .executeTakeFirstOrThrow();
    const days = (row.absolute_expires_at.getTime() - row.created_at.getTime()) / 86_400_000;
    assert.ok(Math.abs(days - 90) < 0.01, `${days} days`);
    await t.db
      .updateTable("sessions")
      .set({ absolute_expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", u.sessionId)
      .execute();
    assert.equal((await me(u.token)).status, 401);
  });

  test("both lifetimes are configurable", async () => {
    const short = await testApp({ SESSION_IDLE_DAYS: "1", SESSION_LIFETIME_DAYS: "2" });
    try {
      const u = await buildUser(short);
      const row = await short.db
        .selectFrom("sessions")
        .selectAll()
        .where("id", "=", u.sessionId)
        .executeTakeFirstOrThrow();
      assert.ok(
        Math.abs((row.absolute_expires_at.getTime() - row.created_at.getTime()) / 86_400_000 - 2) < 0.01,
      );
      await short.db
        .updateTable("sessions")
        .set({ last_seen_at: new Date(Date.now() - 1.1 * 86_400_000) })
        .where("id", "=", u.sessionId)
        .execute();
      assert.equal((await short.request("GET", "/api/v1/me", { token: u.token })).status, 401);
    } finally {
      await short.close();
    }
  });

  test("last seen is written at most once a minute, not on every request", async () => {
    const u = await buildUser(t);
    const read = async () =>
      (
        await t.db
          .selectFrom("sessions")
          .select("last_seen_at")
          .where("id", "=", u.sessionId)
          .executeTakeFirstOrThrow()
      ).last_seen_at.getTime();
    const first = await read();
    for (let i = 0; i < 5; i++) assert.equal((await me(u.token)).status, 200);
    assert.equal(await read(), first, "five requests inside a minute wrote nothing");
    const old = new Date(Date.now() - LAST_SEEN_INTERVAL_MS - 1000);
    await t.db.updateTable("sessions").set({ last_seen_at: old }).where("id", "=", u.sessionId).execute();
    await me(u.token);
    const refreshed = await read();
    assert.ok(refreshed > old.getTime() + 1000);
    await me(u.token);
    assert.equal(await read(), refreshed);
  });
});
