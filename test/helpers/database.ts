// A fresh, migrated database for one test: PGlite in memory by default, or a new database on the
// PostgreSQL server named by TEST_DATABASE_URL when TEST_TARGET=postgres.
//
// PGlite: `npm test` (scripts/test.mjs) builds a migrated data-directory snapshot once per run and
// names it in PGLITE_SNAPSHOT; loading it (~0.6 s) is much cheaper than booting and migrating
// (~4 s). A file run directly (`node --import tsx --test file`) boots and migrates once, then
// loads a snapshot of that for its next databases.
//
// PostgreSQL: each database is a copy (CREATE DATABASE … TEMPLATE) of a migrated template named
// after a hash of the migrations, built once per server under an advisory lock and reused by later
// processes and runs; a change to the migrations gives a new name, so a new template.
//
// testDatabase({ migrated: false }) gives an empty database instead, for tests of migrating.
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import pg from "pg";
import { type Database, openDatabase } from "../../src/db/index.js";
import { loadMigrations, migrate } from "../../src/db/migrate.js";

export interface TestDatabase {
  database: Database;
  /** The connection URL (PostgreSQL only), for a second server process on the same data. */
  url: string | undefined;
  /** Closes and, on PostgreSQL, drops the database. */
  drop(): Promise<void>;
}

export const TEST_TARGET = process.env.TEST_TARGET === "postgres" ? "postgres" : "pglite";

export interface TestDatabaseOptions {
  /** false: an empty database with no migration applied (to test migrating itself). */
  migrated?: boolean;
}

export async function testDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  return TEST_TARGET === "postgres" ? postgresDatabase(migrated) : pgliteDatabase(migrated);
}

/**
 * Closes the database and its pool. Kysely ends the pool only if it ever used it, so a database
 * reached only through `pool` (as `migrate` does) would keep an idle connection open: the pool's
 * idle timer then holds the process for 10 s, and a PostgreSQL session keeps the database busy.
 */
async function closeDatabase(database: Database): Promise<void> {
  await database.close();
  if (!database.pool.ending) await database.pool.end();
}

// ---- PGlite ----------------------------------------------------------------------------------

let snapshot: Promise<Blob | undefined> | undefined;

async function readSnapshot(): Promise<Blob | undefined> {
  const path = process.env.PGLITE_SNAPSHOT;
  if (!path) return undefined;
  try {
    return new Blob([await readFile(path)]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    console.warn(`PGLITE_SNAPSHOT=${path} does not exist: booting PGlite instead`);
    return undefined;
  }
}

async function pgliteDatabase(migrated: boolean): Promise<TestDatabase> {
  if (!migrated) {
    const database = await openDatabase({ dataDir: "memory://" });
    return { database, url: undefined, drop: () => closeDatabase(database) };
  }
  snapshot ??= readSnapshot();
  const blob = await snapshot;
  const database = await openDatabase({ dataDir: "memory://", ...(blob ? { snapshot: blob } : {}) });
  try {
    // A no-op on a current snapshot; applies any migration newer than it.
    await migrate(database.pool);
    if (!blob && database.pglite) {
      // Keep the freshly migrated state for this process's next databases ("none": gzip hangs).
      snapshot = Promise.resolve(await database.pglite.dumpDataDir("none"));
    }
  } catch (err) {
    await closeDatabase(database);
    throw err;
  }
  return { database, url: undefined, drop: () => closeDatabase(database) };
}

// ---- PostgreSQL ------------------------------------------------------------------------------

/** Any fixed 64-bit number: "the lock for building a test template" on the server. */
const TEMPLATE_LOCK = 727_001_0002;
const TEMPLATE_PREFIX = "rollcall_tpl_";

let admin: pg.Pool | undefined;
let template: Promise<string> | undefined;

function adminUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error("TEST_TARGET=postgres needs TEST_DATABASE_URL (postgres://user@host:port/db)");
  return url;
}

function adminPool(): pg.Pool {
  // allowExitOnIdle: an idle admin connection does not keep a test process alive.
  admin ??= new pg.Pool({ connectionString: adminUrl(), max: 4, allowExitOnIdle: true });
  return admin;
}

function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Retries `sql` while PostgreSQL answers 55006 (a database is still in use: a closing session). */
async function whileInUse(client: pg.Pool | pg.PoolClient, sql: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.query(sql);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== "55006" || attempt >= 100) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function templateName(): Promise<string> {
  const hash = createHash("sha256");
  for (const m of await loadMigrations()) hash.update(`${m.version}\0${m.name}\0${m.sql}\0`);
  return TEMPLATE_PREFIX + hash.digest("hex").slice(0, 16);
}

/** The migrated template's name, building it if this server does not have it yet. */
async function buildTemplate(): Promise<string> {
  const name = await templateName();
  const exists = async (c: pg.PoolClient) =>
    (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1;
  const client = await adminPool().connect();
  try {
    if (await exists(client)) return name;
    await client.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK]);
    try {
      if (await exists(client)) return name;
      // Build under another name and rename when complete: the template's name only ever
      // names a complete, migrated database.
      const building = `${name}_build`;
      await client.query(`DROP DATABASE IF EXISTS ${quote(building)} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${quote(building)}`);
      const database = await openDatabase({ url: databaseUrl(building), poolSize: 1 });
      try {
        await migrate(database.pool);
      } finally {
        await closeDatabase(database);
      }
      await whileInUse(client, `ALTER DATABASE ${quote(building)} RENAME TO ${quote(name)}`);
      // Nobody connects to it again, so copying it never meets "being accessed by other users".
      await client.query(`ALTER DATABASE ${quote(name)} WITH ALLOW_CONNECTIONS false`);
      // Best effort: drop templates of older migrations (one may be in use by another run).
      const stale = await client.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2",
        [TEMPLATE_PREFIX, name],
      );
      for (const { datname } of stale.rows) {
        await client.query(`DROP DATABASE IF EXISTS ${quote(datname)}`).catch(() => {});
      }
      return name;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK]);
    }
  } finally {
    client.release();
  }
}

async function createFromTemplate(name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    template ??= buildTemplate();
    const source = await template;
    try {
      await whileInUse(adminPool(), `CREATE DATABASE ${quote(name)} TEMPLATE ${quote(source)}`);
      return;
    } catch (err) {
      // 3D000: the template was dropped meanwhile (another checkout's run with other migrations).
      if ((err as { code?: string }).code !== "3D000" || attempt >= 2) throw err;
      template = undefined;
    }
  }
}

/**
 * Drops a database. Its closed sessions take a moment to end on the server, and DROP waits for
 * them in steps of 100 ms, so first wait (briefly, in smaller steps) for them to be gone.
 */
async function dropDatabase(name: string): Promise<void> {
  const pool = adminPool();
  for (let i = 0; i < 100; i++) {
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1",
      [name],
    );
    if (rows[0]?.n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await pool.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`);
}

async function postgresDatabase(migrated: boolean): Promise<TestDatabase> {
  const name = `rollcall_t_${randomBytes(8).toString("hex")}`;
  if (migrated) await createFromTemplate(name);
  else await adminPool().query(`CREATE DATABASE ${quote(name)}`);
  const url = databaseUrl(name);
  const database = await openDatabase({ url });
  const drop = async () => {
    await closeDatabase(database);
    await dropDatabase(name);
  };
  try {
    if (migrated) await migrate(database.pool);
  } catch (err) {
    await drop();
    throw err;
  }
  return { database, url, drop };
}
