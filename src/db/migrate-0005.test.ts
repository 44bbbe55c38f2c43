// Migration 0005 on a database made before it (review 13.1): every stored address rewritten to its
// canonical form; spellings that collapse to one address neither merge nor fail the migration.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TestDatabase, testDatabase } from "../../test/helpers/database.js";
import { findUserByEmail } from "../accounts/operations.js";
import { loadMigrations, migrate } from "./migrate.js";
import { unreachableAddress } from "./migrations/0005_canonical_addresses.js";

let t: TestDatabase;
before(async () => {
  t = await testDatabase({ migrated: false });
});
after(async () => {
  await t.drop();
});

const token = (n: number) => Buffer.alloc(32, n);

test("review 13.1: migration 0005 makes stored addresses canonical, and keeps look-alikes apart without a merge", async () => {
  const { pool, db } = t.database;
  await pool.query(
    "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
  );
  for (const m of (await loadMigrations()).filter((m) => m.version < 5)) {
    await pool.query(m.sql);
    await pool.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
  }
  const users: [string, string][] = [
    ["usr_1", "\u017Fam@example.org"], // the long s, first: a look-alike of Sam's address
    ["usr_2", "Sam@Example.org"], // the plain spelling, later: keeps the address
    ["usr_3", "ｊｏ@example.org"], // two look-alikes of jo@: the earlier keeps it
    ["usr_4", "ｊo@example.org"],
    ["usr_5", "Lee@Example.org"],
    ["usr_6", "kim\u2474@example.org"], // "(1)" once folded: no address; left as it was
    ["usr_7", "kım@example.org"], // dotless ı: already canonical, another address than kim@
  ];
  for (const [i, [id, email]] of users.entries()) {
    await pool.query(
      `INSERT INTO users (id, email, name, created_at) VALUES ($1, $2, 'P', now() - make_interval(mins => $3))`,
      [id, email, 100 - i],
    );
  }
  for (const [id, user] of [
    ["ses_1", "usr_1"],
    ["ses_2", "usr_2"],
  ]) {
    await pool.query(
      `INSERT INTO sessions (id, user_id, secret_hash, absolute_expires_at) VALUES ($1, $2, $3, now() + interval '1 day')`,
      [id, user, token(1)],
    );
  }
  await pool.query(
    `INSERT INTO password_reset_tokens (token_hash, user_id, expires_at) VALUES ($1, 'usr_1', now() + interval '1 hour')`,
    [token(2)],
  );
  await pool.query(`INSERT INTO organizations (id, name) VALUES ('org_1', 'O')`);
  const invitations: [string, string, string | null][] = [
    ["inv_1", "pending", "\u017Fam@example.org"],
    ["inv_2", "pending", "SAM@example.org"],
    ["inv_3", "accepted", "Lee@Example.org"],
    ["inv_4", "pending", null],
  ];
  for (const [i, [id, status, email]] of invitations.entries()) {
    await pool.query(
      `INSERT INTO invitations (id, org_id, delivery, email, role, token_hash, status, uses, max_uses,
                                invited_by_name, expires_at, created_at)
       VALUES ($1, 'org_1', $2, $3, 'member', $4, $5, $6, 1, 'O', now() + interval '1 day',
               now() - make_interval(mins => $7))`,
      [id, email ? "email" : "link", email, token(10 + i), status, status === "accepted" ? 1 : 0, 100 - i],
    );
  }

  await migrate(pool);

  const stored = Object.fromEntries(
    (await db.selectFrom("users").select(["id", "email"]).execute()).map((u) => [u.id, u.email]),
  );
  assert.deepEqual(stored, {
    usr_1: unreachableAddress("usr_1"),
    usr_2: "sam@example.org",
    usr_3: "jo@example.org",
    usr_4: unreachableAddress("usr_4"),
    usr_5: "lee@example.org",
    usr_6: "kim\u2474@example.org",
    usr_7: "kım@example.org",
  });
  // Every spelling of an address finds the account that kept it; the other is out of reach.
  assert.equal((await findUserByEmail(db, "\u017Fam@example.org"))?.id, "usr_2");
  assert.equal((await findUserByEmail(db, unreachableAddress("usr_1")))?.id, undefined);
  assert.equal((await findUserByEmail(db, "kim@example.org"))?.id, undefined);
  // The look-alike that lost the address is logged out, its reset link dead, and the change recorded.
  const sessions = await db.selectFrom("sessions").select("user_id").execute();
  assert.deepEqual(
    sessions.map((s) => s.user_id),
    ["usr_2"],
  );
  const reset = await db.selectFrom("password_reset_tokens").select("used_at").executeTakeFirstOrThrow();
  assert.ok(reset.used_at);
  const conflicts = await db
    .selectFrom("audit_events")
    .select(["target_id", "data"])
    .where("action", "=", "user.address_conflict")
    .orderBy("target_id")
    .execute();
  assert.deepEqual(
    conflicts.map((c) => [c.target_id, c.data]),
    [
      ["usr_1", { email: "\u017Fam@example.org", address: "sam@example.org", keptBy: "usr_2" }],
      ["usr_4", { email: "ｊo@example.org", address: "jo@example.org", keptBy: "usr_3" }],
    ],
  );

  const invited = await db
    .selectFrom("invitations")
    .select(["id", "status", "email"])
    .orderBy("id")
    .execute();
  assert.deepEqual(
    invited.map((i) => [i.id, i.status, i.email]),
    [
      ["inv_1", "cancelled", "sam@example.org"],
      ["inv_2", "pending", "sam@example.org"],
      ["inv_3", "accepted", "lee@example.org"],
      ["inv_4", "pending", null],
    ],
  );
  const cancelled = await db
    .selectFrom("audit_events")
    .select(["org_id", "target_id"])
    .where("action", "=", "invitation.cancelled")
    .execute();
  assert.deepEqual(cancelled, [{ org_id: "org_1", target_id: "inv_1" }]);

  // The unique indexes are on the stored canonical value.
  await assert.rejects(
    pool.query(`INSERT INTO users (id, email, name) VALUES ('usr_8', 'lee@example.org', 'P')`),
    /users_email_key/,
  );
  await assert.rejects(
    pool.query(
      `INSERT INTO invitations (id, org_id, delivery, email, role, token_hash, invited_by_name, expires_at)
       VALUES ('inv_5', 'org_1', 'email', 'sam@example.org', 'member', $1, 'O', now() + interval '1 day')`,
      [token(20)],
    ),
    /invitations_pending_email_key/,
  );
});
