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
  /** PostgreSQL only: how long to wait for the server (tests shorten these). */
  timeouts?: Partial<DatabaseTimeouts>;
}

export interface DatabaseTimeouts {
  /** A new connection must be ready within this, or the request answers 503. */
  connectMs: number;
  /** The server cancels a statement that runs longer (statement_timeout). */
  statementMs: number;
  /**
   * The client cuts a connection whose server has not answered a query within this. Longer than
   * statementMs, so that a server that is merely slow answers with its own cancellation first.
   */
  answerMs: number;
}

export const DEFAULT_TIMEOUTS: DatabaseTimeouts = {
  connectMs: 5000,
  // A query that hangs must not hold a request for ever.
  statementMs: 30_000,
  answerMs: 35_000,
};

/** Thrown into every query of a connection that was cut because its server stopped answering. */
export class DatabaseTimeoutError extends Error {
  // A network error code: http/problem.ts answers it with 503 database_unavailable.
  readonly code = "ETIMEDOUT";
  constructor(ms: number) {
    super(`The database did not answer within ${ms} ms; the connection was closed`);
  }
}

/**
 * A pg client that closes its connection when the server has not answered a query within
 * `answerMs`. statement_timeout cannot help when the server itself is stuck (a stopped process, a
 * network that swallows packets after the handshake): the request would wait until it came back.
 * pg's own query_timeout is no better: it gives up on the query but leaves it, and the open
 * transaction, on the connection for the next request to inherit. Destroying the socket fails
 * every query on it at once, the pool drops the client, and the server rolls back.
 */
class BoundedClient extends pg.Client {
  readonly #answerMs: number;

  /** The pool hands its own options to each client it makes: `answerMs` rides along with them. */
  constructor(config: pg.ClientConfig & { answerMs?: number } = {}) {
    super(config);
    this.#answerMs = config.answerMs ?? DEFAULT_TIMEOUTS.answerMs;
  }

  // biome-ignore lint/suspicious/noExplicitAny: query() has a dozen overloads; every form passes through unchanged
  override query(...args: any[]): any {
    const [first] = args;
    // Cursors and streams (not used on the request path) report completion in their own way.
    if (typeof first?.submit === "function" || typeof first?.callback === "function") {
      return Reflect.apply(super.query, this, args);
    }
    const ms = this.#answerMs;
    const timer = setTimeout(() => this.connection.stream.destroy(new DatabaseTimeoutError(ms)), ms);
    const done = () => clearTimeout(timer);
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === "function") {
      args[last] = (err: unknown, result: unknown) => {
        done();
        callback(err, result);
      };
      return Reflect.apply(super.query, this, args);
    }
    const result = Reflect.apply(super.query, this, args);
    result.then(done, done);
    return result;
  }
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
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    const config: pg.PoolConfig & { answerMs: number } = {
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: timeouts.connectMs,
      idleTimeoutMillis: 30_000,
      statement_timeout: timeouts.statementMs,
      Client: BoundedClient,
      answerMs: timeouts.answerMs,
      // Notices a peer that vanished (a host gone, not a process stopped) on an idle connection.
      keepAlive: true,
      application_name: "rollcall",
    };
    pool = new pg.Pool(config);
  } else {
    pglite = await openPglite(options.dataDir ?? "./data", options.snapshot);
    pool = new pg.Pool(createPgConfig(pglite));
  }
  // An idle connection that breaks (server restart) must not crash the process.
  pool.on("error", (err) => options.onPoolError?.(err));
  // Nor may one that breaks while a request holds it: the pool listens only to idle clients, and
  // an 'error' event nobody listens to is thrown. The query under way fails with the same error
  // and its request answers 503; the pool drops the broken client when it is released.
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
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
