// The test database helper: every testDatabase() is migrated, empty, and isolated from the others.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { latestVersion } from "../../src/db/migrate.js";
import { TEST_TARGET, type TestDatabase, testDatabase } from "./database.js";

describe(`testDatabase (${TEST_TARGET})`, () => {
  let a: TestDatabase;
  let b: TestDatabase;

  before(async () => {
    a = await testDatabase();
    b = await testDatabase();
  });
  after(async () => {
    await a?.drop();
    await b?.drop();
  });

  test("is migrated to the latest version", async () => {
    const { rows } = await a.database.pool.query<{ v: number }>(
      "SELECT max(version) AS v FROM schema_migrations",
    );
    assert.equal(rows[0]?.v, await latestVersion());
    assert.equal(a.database.kind, TEST_TARGET);
  });

  test("is empty but for the reference data the migrations seed", async () => {
    const roles = await a.database.pool.query<{ name: string }>(
      "SELECT name FROM workspace_roles ORDER BY name",
    );
    assert.deepEqual(
      roles.rows.map((r) => r.name),
      ["admin", "agent", "editor", "viewer"],
    );
    const tables = await a.database.pool.query<{ name: string }>(
      `SELECT quote_ident(table_name) AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
          AND table_name NOT IN ('schema_migrations', 'workspace_roles')`,
    );
    assert.ok(tables.rows.length > 0, "the migrations create tables");
    for (const { name } of tables.rows) {
      const { rows } = await a.database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`);
      assert.equal(rows[0]?.n, 0, `${name} is empty`);
    }
  });

  test("two databases are isolated from each other", async () => {
    await a.database.pool.query("INSERT INTO schema_migrations (version, name) VALUES (999999, 'probe')");
    const inA = await a.database.pool.query("SELECT 1 FROM schema_migrations WHERE version = 999999");
    const inB = await b.database.pool.query("SELECT 1 FROM schema_migrations WHERE version = 999999");
    assert.equal(inA.rowCount, 1);
    assert.equal(inB.rowCount, 0);
  });

  test("{ migrated: false } gives an empty database with no migration applied", async () => {
    const bare = await testDatabase({ migrated: false });
    try {
      const { rows } = await bare.database.pool.query<{ t: string | null }>(
        "SELECT to_regclass('schema_migrations')::text AS t",
      );
      assert.equal(rows[0]?.t, null);
    } finally {
      await bare.drop();
    }
  });

  // Each target has its own last test (registered only there, so neither pass reports a skip).
  if (TEST_TARGET === "pglite") {
    test("the embedded database runs with fsync on", async () => {
      const { rows } = await a.database.pool.query<{ fsync: string }>("SHOW fsync");
      assert.equal(rows[0]?.fsync, "on");
      assert.equal(a.url, undefined);
    });
    return;
  }

  test("a PostgreSQL database has its own URL and is gone after drop()", async () => {
    assert.ok(a.url && b.url && a.url !== b.url);
    const c = await testDatabase();
    const name = new URL(c.url!).pathname.slice(1);
    const other = new pg.Client({ connectionString: c.url });
    await other.connect();
    try {
      const { rows } = await other.query<{ db: string }>("SELECT current_database() AS db");
      assert.equal(rows[0]?.db, name);
    } finally {
      await other.end();
    }
    await c.drop();
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    try {
      const left = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      assert.equal(left.rowCount, 0);
    } finally {
      await admin.end();
    }
  });
});
