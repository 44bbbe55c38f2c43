// Fixed-window counters in PostgreSQL (table rate_limits), so that a limit holds however many
// servers answer. Keys that name a person use a hash of the canonical e-mail address (src/email.ts:
// every spelling of one address shares one counter), and are counted whether or not an account
// exists, so a 429 says nothing about who has one.
import { createHash } from "node:crypto";
import { sql } from "kysely";
import type { RateLimit } from "../config.js";
import type { Queryable } from "../db/index.js";
import { foldEmail } from "../email.js";
import { AppError } from "./errors.js";

export function emailKey(email: string): string {
  return createHash("sha256").update(foldEmail(email)).digest("base64url").slice(0, 32);
}

export function tooMany(retryAfterSeconds: number): AppError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new AppError(
    "rate_limited",
    `Too many attempts. Try again in ${humanSeconds(seconds)}.`,
    undefined,
    {
      headers: { "retry-after": String(seconds) },
      fields: { retryAfter: seconds },
    },
  );
}

function humanSeconds(s: number): string {
  if (s < 90) return `${s} seconds`;
  if (s < 5400) return `${Math.ceil(s / 60)} minutes`;
  return `${Math.ceil(s / 3600)} hours`;
}

/**
 * One member search with a term, counted per user (RATE_LIMIT_SEARCH_USER): each may examine
 * thousands of rows (db/search.ts), so one account cannot keep the database busy with them.
 */
export function limitSearch(limiter: RateLimiter, limit: RateLimit, userId: string): Promise<void> {
  return limiter.hit(`search:user:${userId}`, limit);
}

export class RateLimiter {
  constructor(private readonly db: Queryable) {}

  /**
   * Counts one event under `key`; throws 429 once the window holds more than `limit.max`. Count
   * first, then act: a check made before counting lets requests that arrive together all pass it
   * (a burst of guesses sent to many servers at once). What turns out not to count is given back
   * with release().
   */
  async hit(key: string, limit: RateLimit, db: Queryable = this.db): Promise<void> {
    const row = await this.count(key, limit, db);
    if (row.count > limit.max) throw tooMany(row.retry_after);
  }

  /**
   * Counts one event under `key` like hit(), but answers instead of throwing: whether the window
   * now holds more than `limit.max`, and when it ends. For limits that only some callers obey.
   */
  async tally(
    key: string,
    limit: RateLimit,
    db: Queryable = this.db,
  ): Promise<{ over: boolean; retryAfter: number }> {
    const row = await this.count(key, limit, db);
    return { over: row.count > limit.max, retryAfter: row.retry_after };
  }

  /** Gives back one event counted by hit() that turned out not to count (a successful log-in). */
  async release(key: string, db: Queryable = this.db): Promise<void> {
    await db
      .updateTable("rate_limits")
      .set((eb) => ({ count: eb("count", "-", 1) }))
      .where("key", "=", key)
      .where("count", ">", 0)
      .execute();
  }

  /** Starts `key`'s window afresh (a successful log-in clears the account's failures). */
  async reset(key: string, db: Queryable = this.db): Promise<void> {
    await db.deleteFrom("rate_limits").where("key", "=", key).execute();
  }

  private async count(
    key: string,
    limit: RateLimit,
    db: Queryable,
  ): Promise<{ count: number; retry_after: number }> {
    if (db.isTransaction) return this.upsert(key, limit, db);
    // On its own, a count is not worth waiting for the disk: with synchronous_commit off its
    // commit returns before the WAL is flushed (a crash of PostgreSQL can forget the last fraction
    // of a second of counts — never anything else). This takes an fsync off every log-in,
    // sign-up and invitation lookup or accept.
    return db.transaction().execute(async (tx) => {
      await sql`SET LOCAL synchronous_commit = off`.execute(tx);
      return this.upsert(key, limit, tx);
    });
  }

  private async upsert(
    key: string,
    limit: RateLimit,
    db: Queryable,
  ): Promise<{ count: number; retry_after: number }> {
    const { rows } = await sql<{ count: number; retry_after: number }>`
      INSERT INTO rate_limits AS r (key, window_start, count) VALUES (${key}, now(), 1)
      ON CONFLICT (key) DO UPDATE SET
        window_start = CASE WHEN r.window_start <= now() - make_interval(secs => ${limit.windowSeconds})
                            THEN now() ELSE r.window_start END,
        count = CASE WHEN r.window_start <= now() - make_interval(secs => ${limit.windowSeconds})
                     THEN 1 ELSE r.count + 1 END
      RETURNING count,
        extract(epoch FROM window_start + make_interval(secs => ${limit.windowSeconds}) - now())::float8 AS retry_after
    `.execute(db);
    const row = rows[0];
    if (!row) throw new Error("rate-limit upsert returned no row");
    return row;
  }

  /** Forgets windows that ended long ago. */
  async prune(db: Queryable = this.db): Promise<number> {
    const res = await sql`DELETE FROM rate_limits WHERE window_start < now() - interval '2 days'`.execute(db);
    return Number(res.numAffectedRows ?? 0);
  }
}
