// Numbered, hand-written SQL migrations (migrations/NNNN_name.sql), applied in order, each in its
// own transaction, under a PostgreSQL advisory lock so that servers starting together take
// turns and each migration runs once. A migration whose data cannot be rewritten in SQL alone has a
// data step (migrations/NNNN_name.ts), run after its SQL in the same transaction.
import { readdir, readFile } from "node:fs/promises";
import type pg from "pg";
import { canonicaliseAddresses } from "./migrations/0005_canonical_addresses.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);
/** Data steps by migration version: they receive the migration's connection, inside its transaction. */
const DATA_STEPS: ReadonlyMap<number, (client: pg.PoolClient) => Promise<void>> = new Map([
  [5, canonicaliseAddresses],
]);
/** Any fixed 64-bit number; it names "the migration lock" for every Rollcall server. */
const MIGRATION_LOCK = 727_001_0001;

let cached: Migration[] | undefined;

export async function loadMigrations(): Promise<Migration[]> {
  if (cached) return cached;
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const version = Number(file.slice(0, 4));
    if (migrations.some((m) => m.version === version)) throw new Error(`Two migrations numbered ${version}`);
    migrations.push({
      version,
      name: file.slice(5, -4),
      sql: await readFile(new URL(file, MIGRATIONS_DIR), "utf8"),
    });
  }
  cached = migrations;
  return migrations;
}

export async function latestVersion(): Promise<number> {
  const all = await loadMigrations();
  return all.at(-1)?.version ?? 0;
}

const CREATE_LEDGER = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

/** Applies every pending migration; answers the ones it applied. */
export async function migrate(
  pool: pg.Pool,
  onApplied: (m: Migration) => void = () => {},
): Promise<Migration[]> {
  const migrations = await loadMigrations();
  const client = await pool.connect();
  const applied: Migration[] = [];
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await client.query(CREATE_LEDGER);
      const done = new Set(
        (await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map(
          (r) => r.version,
        ),
      );
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await client.query("BEGIN");
        try {
          await client.query(m.sql);
          await DATA_STEPS.get(m.version)?.(client);
          await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
            m.version,
            m.name,
          ]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK");
          throw new Error(`Migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, {
            cause: err,
          });
        }
        applied.push(m);
        onApplied(m);
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
  return applied;
}

/** The highest applied version, or 0 on an empty database. */
export async function currentVersion(pool: pg.Pool): Promise<number> {
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (!exists.rows[0]?.t) return 0;
  const { rows } = await pool.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations");
  return rows[0]?.v ?? 0;
}
