// One SQL dialect, PostgreSQL, reached two ways: a `pg` pool to a PostgreSQL server, or PGlite
// (PostgreSQL compiled to WebAssembly, in this process) through its node-postgres adapter. Both
// give a pg.Pool, so Kysely, the migrator and every query run the same code on both.
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import { Kysely, PostgresDialect, type Transaction } from "kysely";
import pg from "pg";
import type { DB } from "./schema.js";

export type Db = Kysely<DB>;
export type Tx = Transaction<DB>;
/** Either the database or a transaction on it: read-only helpers accept both. */
export type Queryable = Kysely<DB>;

export interface Database {
  kind: "pglite" | "postgres";
  db: Db;
  pool: pg.Pool;
  /** Present for the embedded database. */
  pglite?: PGlite;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** `postgres://…`: a PostgreSQL server. Otherwise PGlite. */
  url?: string | undefined;
  /** PGlite's data directory; `memory://` keeps it in memory. */
  dataDir?: string;
  /** PGlite only: start from this data-directory snapshot (a tar made by dumpDataDir). */
  snapshot?: Blob;
  poolSize?: number;
  onPoolError?: (err: Error) => void;
}

/**
 * PGlite's defaults include `-F` (fsync off). The embedded database holds real accounts, so it
 * runs with fsync on: a crash or power loss must not lose a committed change.
 */
export const PGLITE_START_PARAMS = PGlite.defaultStartParams.filter((p) => p !== "-F");

export async function openPglite(dataDir: string, snapshot?: Blob): Promise<PGlite> {
  const lite = new PGlite(dataDir, {
    extensions: { pg_trgm },
    startParams: PGLITE_START_PARAMS,
    ...(snapshot ? { loadDataDir: snapshot } : {}),
  });
  await lite.waitReady;
  return lite;
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  let pool: pg.Pool;
  let pglite: PGlite | undefined;
  if (options.url) {
    pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      // A query that hangs must not hold a request for ever.
      statement_timeout: 30_000,
      application_name: "rollcall",
    });
  } else {
    pglite = await openPglite(options.dataDir ?? "./data", options.snapshot);
    pool = new pg.Pool(createPgConfig(pglite));
  }
  // An idle connection that breaks (server restart) must not crash the process.
  pool.on("error", (err) => options.onPoolError?.(err));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: pglite ? "pglite" : "postgres",
    db,
    pool,
    ...(pglite ? { pglite } : {}),
    async close() {
      await db.destroy();
      // Kysely ends the pool only if it used it; the migrator and /readyz use it directly.
      if (!pool.ending) await pool.end();
      if (pglite && !pglite.closed) await pglite.close();
    },
  };
}
