// Migrations: applied in order, once, even when several servers start together (advisory lock),
// and the same files on PGlite and PostgreSQL.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "kysely";
import { type TestDatabase, testDatabase } from "../../test/helpers/database.js";
import type { OrgRole } from "../access/catalogue.js";
import { type Database, openDatabase } from "./index.js";
import { currentVersion, latestVersion, loadMigrations, migrate } from "./migrate.js";

let t: TestDatabase;
before(async () => {
  t = await testDatabase();
});
after(async () => {
  await t.drop();
});

test("migration files are numbered without gaps and commented", async () => {
  const all = await loadMigrations();
  assert.ok(all.length >= 1);
  all.forEach((m, i) => {
    assert.equal(m.version, i + 1);
    assert.match(m.sql, /^-- /, `${m.name} starts with a comment saying what it is for`);
  });
  assert.equal(await latestVersion(), all.length);
});

test("several servers migrating an empty database at once apply each migration exactly once", async () => {
  await sql`DROP SCHEMA public CASCADE`.execute(t.database.db);
  await sql`CREATE SCHEMA public`.execute(t.database.db);
  assert.equal(await currentVersion(t.database.pool), 0);

  // On PostgreSQL each "server" has its own pool; PGlite is one database in one process.
  const servers: Database[] = t.url
    ? await Promise.all([1, 2, 3].map(() => openDatabase({ url: t.url, poolSize: 2 })))
    : [];
  try {
    const pools = servers.length
      ? servers.map((s) => s.pool)
      : [t.database.pool, t.database.pool, t.database.pool];
    const applied = await Promise.all(pools.map((pool) => migrate(pool)));
    const total = applied.reduce((n, a) => n + a.length, 0);
    assert.equal(total, (await loadMigrations()).length, "each migration applied by exactly one server");
    const ledger = await t.database.db.selectFrom("schema_migrations").select("version").execute();
    assert.equal(ledger.length, total);
    assert.equal(await currentVersion(t.database.pool), await latestVersion());
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
});

test("the schema has its constraints: unique (canonical) e-mail, role checks, cascades", async () => {
  const db = t.database.db;
  // Addresses are stored canonical (src/email.ts) and unique as stored: folding is the application's.
  await db
    .insertInto("users")
    .values({ id: "usr_a", email: "case@example.org", name: "A", password_hash: null })
    .execute();
  await assert.rejects(
    db
      .insertInto("users")
      .values({ id: "usr_b", email: "case@example.org", name: "B", password_hash: null })
      .execute(),
    /users_email_key/,
  );
  await db.insertInto("organizations").values({ id: "org_a", name: "Org" }).execute();
  await assert.rejects(
    db
      .insertInto("org_memberships")
      .values({ org_id: "org_a", user_id: "usr_a", role: "superuser" as OrgRole })
      .execute(),
    /check/i,
  );
  await db
    .insertInto("org_memberships")
    .values({ org_id: "org_a", user_id: "usr_a", role: "member" })
    .execute();
  await db.insertInto("workspaces").values({ id: "wsp_a", org_id: "org_a", name: "W" }).execute();
  await assert.rejects(
    db
      .insertInto("workspace_memberships")
      .values({ org_id: "org_a", workspace_id: "wsp_a", user_id: "usr_a", role: "owner" })
      .execute(),
    /workspace_memberships_role_fkey/,
  );
  await db
    .insertInto("workspace_memberships")
    .values({ org_id: "org_a", workspace_id: "wsp_a", user_id: "usr_a", role: "agent" })
    .execute();
  // A workspace member must be an org member; leaving the organisation leaves its workspaces.
  await db
    .deleteFrom("org_memberships")
    .where("org_id", "=", "org_a")
    .where("user_id", "=", "usr_a")
    .execute();
  const left = await db
    .selectFrom("workspace_memberships")
    .selectAll()
    .where("user_id", "=", "usr_a")
    .execute();
  assert.equal(left.length, 0);
  await db
    .insertInto("users")
    .values({ id: "usr_c", email: "c@example.org", name: "C", password_hash: null })
    .execute();
  await assert.rejects(
    db
      .insertInto("workspace_memberships")
      .values({ org_id: "org_a", workspace_id: "wsp_a", user_id: "usr_c", role: "viewer" })
      .execute(),
    /foreign key/i,
  );
  await assert.rejects(
    db
      .insertInto("users")
      .values({ id: "usr_d", email: "d@example.org", name: "D", password_hash: "plaintext" })
      .execute(),
    /check/i,
    "only argon2id hashes can be stored",
  );
});
