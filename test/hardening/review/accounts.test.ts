// Issue 13 (security review), findings 5 and 7: costly unauthenticated requests, reset links that
// outlive a password change, lock-outs by strangers, and the outbox that was never pruned. Each
// test names the defect and tries it from outside, against the whole app.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "kysely";
import { passwordHashesMade, verifyPassword } from "../../../src/accounts/passwords.js";
import { newId } from "../../../src/db/ids.js";
import { pruneOutbox } from "../../../src/mail/outbox.js";
import {
  buildUser,
  PASSWORD,
  randomIp,
  resetTokenFor,
  type TestApp,
  testApp,
  uniqueEmail,
} from "../../helpers/app.js";
import { buildOrg } from "../../helpers/org.js";

let t: TestApp;
before(async () => {
  t = await testApp({ RATE_LIMIT_PASSWORD_RESET_CONFIRM_IP: "5/15m" });
});
after(async () => {
  await t.close();
});

const NEW_PASSWORD = "a brand new passphrase";
const confirm = (token: string, password = NEW_PASSWORD, ip = randomIp()) =>
  t.request("POST", "/api/v1/auth/password-reset/confirm", { body: { token, password }, remoteAddress: ip });

async function passwordHashOf(userId: string): Promise<string | null> {
  const row = await t.db
    .selectFrom("users")
    .select("password_hash")
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
  return row.password_hash;
}

test("review 13.5: junk reset tokens are refused without hashing the password (argon2 on demand)", async () => {
  // Defect: confirm hashed the new password before it looked the token up, with no limit, so a
  // stream of junk tokens kept the hashing pool busy and stalled everyone's log-in. Now the token
  // is looked up first: junk costs a lookup and no hash (counted by rollcall_password_hashes_total).
  const before = passwordHashesMade();
  const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => confirm(`junk-${i}`)));
  for (const a of answers) {
    assert.equal(a.status, 400, a.text);
    assert.equal(a.json.code, "invalid_reset_token");
  }
  assert.equal(passwordHashesMade() - before, 0, "no hash for a token that does not exist");
  const metrics = await t.app.registry.getSingleMetricAsString("rollcall_password_hashes_total");
  assert.match(metrics, new RegExp(`rollcall_password_hashes_total ${passwordHashesMade()}\\b`));
});

test("review 13.5: an invited sign-up with a junk invitation token is refused before hashing", async () => {
  const before = passwordHashesMade();
  const answer = await t.request("POST", "/api/v1/auth/signup", {
    body: { email: uniqueEmail(), password: NEW_PASSWORD, name: "Junk", invitationToken: "junk" },
    remoteAddress: randomIp(),
  });
  assert.equal(answer.status, 404, answer.text);
  assert.equal(passwordHashesMade() - before, 0);
  // A good sign-up still hashes exactly once.
  await buildUser(t);
  assert.equal(passwordHashesMade() - before, 1);
});

test("review 13.5: reset confirmations are limited per client (here 5 per 15 minutes), and a refusal changes nothing", async () => {
  const u = await buildUser(t);
  const token = await resetTokenFor(t, u.email);
  const before = await passwordHashOf(u.userId);
  const ip = randomIp();
  for (let i = 0; i < 5; i++) assert.equal((await confirm(`junk-${i}`, NEW_PASSWORD, ip)).status, 400);
  const limited = await confirm(token, NEW_PASSWORD, ip);
  assert.equal(limited.status, 429, limited.text);
  assert.equal(limited.json.code, "rate_limited");
  assert.ok(Number(limited.headers["retry-after"]) > 0);
  assert.equal(await passwordHashOf(u.userId), before, "the refused confirmation set nothing");
  // The same link still works from another client: the limit did not spend it.
  assert.equal((await confirm(token)).status, 204);
  assert.ok(await verifyPassword((await passwordHashOf(u.userId)) ?? "", NEW_PASSWORD));
});

test("review 13.5: a weak password with a live token is refused and leaves the token usable", async () => {
  const u = await buildUser(t);
  const token = await resetTokenFor(t, u.email);
  const weak = await confirm(token, "password123");
  assert.equal(weak.status, 400, weak.text);
  assert.equal(weak.json.code, "password_too_common");
  assert.equal((await confirm(token)).status, 204);
});

test("review 13.7: a password change voids the reset links mailed before it", async () => {
  // Defect: a reset link asked for before a password change still worked after it — whoever
  // read the old mail could undo the change.
  const u = await buildUser(t);
  const token = await resetTokenFor(t, u.email);
  const changed = await t.request("POST", "/api/v1/me/password", {
    token: u.token,
    body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
  });
  assert.equal(changed.status, 204, changed.text);
  const replay = await confirm(token, "yet another passphrase");
  assert.equal(replay.status, 400, replay.text);
  assert.equal(replay.json.code, "invalid_reset_token");
  assert.ok(await verifyPassword((await passwordHashOf(u.userId)) ?? "", NEW_PASSWORD), "the change stands");
});

test("review 13.7: a stranger cannot lock an account by failing to log in to it", async () => {
  // Defect: ten failures from anywhere locked the account for 15 minutes, renewable for ever.
  const u = await buildUser(t);
  const stranger = randomIp();
  const login = (password: string, ip: string) =>
    t.request("POST", "/api/v1/auth/login", { body: { email: u.email, password }, remoteAddress: ip });
  for (let i = 0; i < 12; i++) await login("not the password", stranger);
  assert.equal((await login(PASSWORD, stranger)).status, 429);
  assert.equal((await login(PASSWORD, randomIp())).status, 200);
});

test("review 13.7: sent and failed mail is pruned after MAIL_RETENTION_DAYS; queued mail never", async () => {
  // Defect: the outbox was never pruned (and its failed count, read on every /metrics scrape, had
  // no index). Invitations whose mail is pruned show `mail: null`.
  const { owner, orgId } = await buildOrg(t);
  const invited = await t.request("POST", `/api/v1/orgs/${orgId}/invitations`, {
    token: owner.token,
    body: { email: uniqueEmail("invitee"), role: "member" },
  });
  assert.equal(invited.status, 201, invited.text);
  const invitationId: string = invited.json.invitation.id;
  const invitationMail = await t.db
    .selectFrom("invitations")
    .select("mail_id")
    .where("id", "=", invitationId)
    .executeTakeFirstOrThrow();
  assert.ok(invitationMail.mail_id);
  const old = new Date(Date.now() - 91 * 86_400_000);
  const outbox = (status: "queued" | "sent" | "failed", createdAt: Date) => ({
    id: newId("mail"),
    kind: "test",
    to_address: "someone@example.org",
    subject: "s",
    message_id: `<${newId("mail")}@rollcall.test>`,
    status,
    created_at: createdAt,
    // Far in the future: the worker must not pick the queued one up during the test.
    next_attempt_at: new Date(Date.now() + 86_400_000),
  });
  const rows = [
    outbox("sent", old),
    outbox("failed", old),
    outbox("queued", old),
    outbox("sent", new Date()),
  ];
  await t.db.insertInto("mail_outbox").values(rows).execute();
  // The invitation's own mail, sent long ago (whether or not the worker has sent it yet).
  await sql`UPDATE mail_outbox SET status = 'sent', created_at = ${old} WHERE id = ${invitationMail.mail_id}`.execute(
    t.db,
  );

  const deleted = await pruneOutbox(t.db, 90);
  assert.ok(deleted >= 3, `deleted ${deleted}`);
  const left = new Set(
    (
      await t.db
        .selectFrom("mail_outbox")
        .select("id")
        .where(
          "id",
          "in",
          rows.map((r) => r.id),
        )
        .execute()
    ).map((r) => r.id),
  );
  assert.deepEqual(
    rows.map((r) => left.has(r.id)),
    [false, false, true, true],
    "old sent and failed go; old queued and recent stay",
  );
  const listed = await t.request("GET", `/api/v1/orgs/${orgId}/invitations`, { token: owner.token });
  const shown = listed.json.items.find((i: { id: string }) => i.id === invitationId);
  assert.equal(shown?.mail, null, "the invitation whose mail was pruned shows no mail");
  await t.db
    .deleteFrom("mail_outbox")
    .where("id", "=", rows[2]?.id ?? "")
    .execute();
});

test("review 13.7: the failed-mail count that /metrics reads can be answered from an index", async () => {
  await sql`SET enable_seqscan = off`.execute(t.db);
  try {
    const { rows } = await sql<{ "QUERY PLAN": string }>`
      EXPLAIN SELECT count(*) FROM mail_outbox WHERE status = 'failed'`.execute(t.db);
    const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
    assert.match(plan, /mail_outbox_done_idx/, plan);
  } finally {
    await sql`SET enable_seqscan = on`.execute(t.db);
  }
});

test("review 13.7: a token under a percent-encoded parameter name never reaches the logs", async () => {
  // Defect: `?%74oken=` (which the server reads as `?token=`) was logged whole.
  const secret = `secret${Date.now().toString(36)}`;
  const before = t.logs.length;
  const answer = await t.request("GET", `/api/v1/invitations/lookup?%74oken=${secret}`);
  assert.equal(answer.status, 404, "the server did read it as the token");
  const written = t.logs.slice(before).join("");
  assert.ok(written.includes("[redacted]"), "the request was logged, masked");
  assert.ok(!written.includes(secret), written);
});

test("review 13.4: sign-ups with someone's address mail them at most RATE_LIMIT_SIGNUP_MAILS_RECIPIENT times, answering alike", async () => {
  // Defect: each sign-up with an address that has an account mailed its owner ("someone tried to
  // sign up"), limited only per IP: from many IPs, anyone could fill anyone's mailbox from the
  // operator's domain. Past the cap (default 5 a day) the mail is left out and the answer is the same.
  const u = await buildUser(t);
  const signUpAs = () =>
    t.request("POST", "/api/v1/auth/signup", {
      body: { email: u.email, password: NEW_PASSWORD, name: "Somebody" },
      remoteAddress: randomIp(),
    });
  const answers = [];
  for (let i = 0; i < 7; i++) answers.push(await signUpAs());
  for (const a of answers) {
    assert.equal(a.status, 201, a.text);
    assert.deepEqual(Object.keys(a.json).sort(), ["session", "user"]);
  }
  const mails = await t.db
    .selectFrom("mail_outbox")
    .select("id")
    .where("to_address", "=", u.email)
    .where("kind", "=", "account_exists")
    .execute();
  assert.equal(mails.length, 5);
});
