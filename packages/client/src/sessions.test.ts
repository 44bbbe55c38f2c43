// The session cache on its own: kept by token hash until the session expires, maxAgeMs passes, or
// an event ends it (one session, or every session of a person but one); bounded in size.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SessionCache, tokenHash, type VerifiedSession } from "./sessions.js";

function verified(userId: string, sessionId: string, expiresInMs = 60_000): VerifiedSession {
  return {
    user: { id: userId, email: `${userId}@example.org`, name: userId },
    session: { id: sessionId, expiresAt: new Date(Date.now() + expiresInMs).toISOString() },
    organizations: [{ id: "org_a", role: "member" }],
  };
}

test("a token is kept by its hash, never by itself", () => {
  const hash = tokenHash("ses_secret.value");
  assert.match(hash, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(!hash.includes("secret"));
  const cache = new SessionCache(60_000, 10);
  cache.set(hash, verified("usr_a", "ses_1"));
  assert.equal(cache.get(hash)?.user.id, "usr_a");
  assert.equal(cache.get(tokenHash("another")), null);
});

test("session.revoked ends one session; user.sessions_revoked every one but the one kept", () => {
  const cache = new SessionCache(60_000, 10);
  cache.set("h1", verified("usr_a", "ses_1"));
  cache.set("h2", verified("usr_a", "ses_2"));
  cache.set("h3", verified("usr_a", "ses_3"));
  cache.set("h4", verified("usr_b", "ses_4"));
  cache.apply("session.revoked", { userId: "usr_a", sessionId: "ses_1" });
  assert.equal(cache.get("h1"), null);
  assert.equal(cache.get("h2")?.session.id, "ses_2");
  cache.apply("user.sessions_revoked", { userId: "usr_a", exceptSessionId: "ses_3", count: 1 });
  assert.equal(cache.get("h2"), null);
  assert.equal(cache.get("h3")?.session.id, "ses_3", "the session that asked is kept");
  assert.equal(cache.get("h4")?.session.id, "ses_4", "another person's is untouched");
  cache.apply("user.sessions_revoked", { userId: "usr_a", exceptSessionId: null, count: 1 });
  assert.equal(cache.get("h3"), null);
  cache.apply("user.updated", { userId: "usr_b" });
  assert.equal(cache.get("h4"), null, "a changed name or address is asked again");
  assert.equal(cache.size, 0);
});

test("kept until the session expires or maxAgeMs passes; an expired answer is not kept", () => {
  // A clock of the test's own: what is asserted does not depend on how busy the machine is.
  let now = 1_000;
  const cache = new SessionCache(40_000, 10, () => now);
  cache.set("h1", verified("usr_a", "ses_1", 3_600_000));
  cache.set("h2", verified("usr_a", "ses_2", 20_000));
  cache.set("h3", verified("usr_a", "ses_3", -1));
  assert.equal(cache.get("h3"), null);
  assert.ok(cache.get("h1") && cache.get("h2"));
  now += 25_000;
  assert.equal(cache.get("h2"), null, "past the session's expiry");
  assert.ok(cache.get("h1"));
  now += 25_000;
  assert.equal(cache.get("h1"), null, "past maxAgeMs: the server is asked again");
});

test("full, the oldest goes first", () => {
  const cache = new SessionCache(60_000, 2);
  cache.set("h1", verified("usr_a", "ses_1"));
  cache.set("h2", verified("usr_b", "ses_2"));
  cache.set("h3", verified("usr_c", "ses_3"));
  assert.equal(cache.size, 2);
  assert.equal(cache.get("h1"), null);
  assert.ok(cache.get("h2") && cache.get("h3"));
  cache.apply("session.revoked", { sessionId: "ses_1" });
  assert.equal(cache.size, 2, "an entry already gone leaves the others alone");
});
