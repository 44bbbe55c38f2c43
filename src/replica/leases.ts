// The freshness protocol (docs/replica.md#freshness): replica clients hold leases and say how far
// into the feed they have applied; a change that takes access away answers only once every live
// lease has acknowledged its event or run out. So once such a request has answered, no client
// answers a check from a replica that still holds the old role.
//
// Why it holds, in three steps:
// 1. A client answers from its replica only until (when it sent its last granted renewal) + the
//    lease; the server grants until (its transaction's start) + the lease, which is later. So the
//    client stops trusting itself no later than the server thinks it does.
// 2. A renewal is granted only when no fencing event lies beyond what the client has applied, and
//    the grant and the fencing change are ordered by one advisory lock (FENCE_LOCK): the change
//    takes it shared as its last statement, after its event, and holds it until it commits
//    (db/transaction.ts); a grant holds it alone. A grant either committed before the change took
//    the lock (and the waiter below sees its expiry), or reads the table after the change
//    committed (and sees its event, so grants nothing until the client has applied it).
// 3. After committing, the change waits until every lease that is live is acknowledged past its
//    event. A lease not acknowledged is waited for until it runs out; no grant can extend it.
import { type SqlBool, sql } from "kysely";
import type { AuditAction } from "../audit/actions.js";
import { AppError } from "../core/errors.js";
import { newId } from "../db/ids.js";
import type { Queryable, Tx } from "../db/index.js";
import { FENCE_LOCK } from "../db/transaction.js";
import type { Cursor } from "../events/feed.js";

/**
 * The changes that take access away, and so wait for acknowledgements: a removal, any role change
 * (a host's ROLES_FILE roles need not nest, so a "promotion" may take a permission away too), a
 * deletion, a session ended, a key revoked.
 */
export const FENCING_ACTIONS: ReadonlySet<AuditAction> = new Set<AuditAction>([
  "organization.deleted",
  "member.role_changed",
  "member.removed",
  "member.left",
  "workspace.deleted",
  "workspace_member.role_changed",
  "workspace_member.removed",
  "session.revoked",
  "user.sessions_revoked",
  "api_key.revoked",
  "service_key.revoked",
]);
const FENCING = [...FENCING_ACTIONS];

/**
 * At most this many leases per service key, live or run out within the last minute: each live
 * one is waited for by every removal, and a client restarting in a loop must not fill the table.
 */
export const MAX_LEASES = 100;

export interface Lease {
  id: string;
  name: string;
  /** Whether the client may answer from its replica until `expiresAt`. */
  live: boolean;
  expiresAt: string;
  /** How long the lease has left, as the server measured it when it granted it (0 when run out). */
  remainingMs: number;
  acknowledged: string;
}

/** Whether an event that takes access away lies beyond `applied` (any event that committed). */
const fenceBeyond = (applied: Cursor) => sql<SqlBool>`EXISTS (
  SELECT 1 FROM audit_events e
   WHERE (e.xid, e.seq) > (${applied.xid}::xid8, ${applied.seq}::bigint)
     AND e.action = ANY(${FENCING}::text[]))`;

const RETURNING = sql`id, name, expires_at, expires_at > now() AS live,
  greatest(0, extract(epoch from expires_at - now()) * 1000)::float8 AS remaining_ms,
  acked_xid::text || '.' || acked_seq::text AS acknowledged`;

interface LeaseRow {
  id: string;
  name: string;
  expires_at: Date;
  live: boolean;
  remaining_ms: number;
  acknowledged: string;
}

function present(row: LeaseRow): Lease {
  return {
    id: row.id,
    name: row.name,
    live: row.live,
    expiresAt: row.expires_at.toISOString(),
    remainingMs: Math.floor(row.remaining_ms),
    acknowledged: row.acknowledged,
  };
}

/**
 * A new lease for a client that has applied the feed up to `applied` (its snapshot's cursor):
 * live at once unless a fencing event lies beyond it. Leases over an hour past their end are
 * cleared on the way.
 */
export async function openLease(
  tx: Tx,
  keyId: string,
  name: string,
  applied: Cursor,
  leaseMs: number,
): Promise<Lease> {
  await sql`SELECT pg_advisory_xact_lock(${FENCE_LOCK})`.execute(tx);
  await tx
    .deleteFrom("replica_leases")
    .where("expires_at", "<", sql<Date>`now() - interval '1 hour'`)
    .execute();
  const held = await tx
    .selectFrom("replica_leases")
    .select(sql<number>`count(*)::int`.as("n"))
    .where("key_id", "=", keyId)
    .where("expires_at", ">", sql<Date>`now() - interval '1 minute'`)
    .executeTakeFirstOrThrow();
  if (held.n >= MAX_LEASES) {
    throw new AppError(
      "conflict",
      `This service key holds ${MAX_LEASES} leases live or run out within the last minute; end those of clients that have stopped (DELETE).`,
    );
  }
  const { rows } = await sql<LeaseRow>`
    INSERT INTO replica_leases (id, key_id, name, acked_xid, acked_seq, expires_at)
    VALUES (${newId("rls")}, ${keyId}, ${name}, ${applied.xid}::xid8, ${applied.seq}::bigint,
            CASE WHEN ${fenceBeyond(applied)} THEN now() ELSE now() + make_interval(secs => ${leaseMs / 1000}) END)
    RETURNING ${RETURNING}`.execute(tx);
  return present(rows[0] as LeaseRow);
}

/**
 * Records that the client has applied the feed up to `applied` (never moving back) and wakes the
 * waiting changes on every server: one statement, without the fence lock — an acknowledgement
 * grants nothing, so the changes waiting for it need not wait for the lease's renewal behind
 * other clients' (renewLease). False when the key holds no such lease.
 */
export async function acknowledge(
  db: Queryable,
  keyId: string,
  id: string,
  applied: Cursor,
): Promise<boolean> {
  const { rows } = await sql<{ known: boolean }>`
    WITH moved AS (
      UPDATE replica_leases SET acked_xid = ${applied.xid}::xid8, acked_seq = ${applied.seq}::bigint
       WHERE id = ${id} AND key_id = ${keyId}
         AND (${applied.xid}::xid8, ${applied.seq}::bigint) > (acked_xid, acked_seq)
      RETURNING id)
    SELECT EXISTS (SELECT 1 FROM replica_leases WHERE id = ${id} AND key_id = ${keyId}) AS known,
           pg_notify(${ACKS_CHANNEL}, '') AS notified`.execute(db);
  return rows[0]?.known === true;
}

/**
 * Renews the lease of a client that has applied the feed up to `applied` (acknowledge() has
 * recorded that first), when no fencing event lies beyond it. A lease that ran out is renewed the
 * same way: a client that has caught up serves again. Null when the key holds no such lease.
 */
export async function renewLease(
  tx: Tx,
  keyId: string,
  id: string,
  applied: Cursor,
  leaseMs: number,
): Promise<Lease | null> {
  await sql`SELECT pg_advisory_xact_lock(${FENCE_LOCK})`.execute(tx);
  const { rows } = await sql<LeaseRow>`
    UPDATE replica_leases SET
      expires_at = CASE WHEN ${fenceBeyond(applied)} THEN expires_at
                        ELSE greatest(expires_at, now() + make_interval(secs => ${leaseMs / 1000})) END
     WHERE id = ${id} AND key_id = ${keyId}
    RETURNING ${RETURNING}`.execute(tx);
  const row = rows[0];
  return row ? present(row) : null;
}

/** Ends a lease at once (a client closing): no change waits for it any more. */
export async function endLease(tx: Tx, keyId: string, id: string): Promise<boolean> {
  const res = await tx
    .deleteFrom("replica_leases")
    .where("id", "=", id)
    .where("key_id", "=", keyId)
    .executeTakeFirst();
  return res.numDeletedRows > 0n;
}

/** The NOTIFY channel of acknowledgements. */
export const ACKS_CHANNEL = "rollcall_acks";

/**
 * Wakes the changes waiting for acknowledgements on this server: an acknowledgement arrived here
 * or (NOTIFY) at another server. A waiter notes the count before it reads the table, so that one
 * arriving between its read and its sleep is not missed.
 */
export class AckSignal {
  #count = 0;
  readonly #waiters = new Set<() => void>();

  get count(): number {
    return this.#count;
  }

  notify(): void {
    this.#count++;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Resolves at the first acknowledgement after `seen`, or after `ms`. */
  after(seen: number, ms: number): Promise<void> {
    if (this.#count !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const waiters = this.#waiters;
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }
}

export interface Waited {
  /** How long the change waited after its commit. */
  ms: number;
  /** Whether any live lease had yet to acknowledge it when it first looked. */
  leased: boolean;
  /** Whether it gave up at `limitMs` (never expected: no lease outlives a fence by more than its length). */
  gaveUp: boolean;
}

/**
 * Waits until every live lease has acknowledged `fence` (or runs out). Looks again at each
 * acknowledgement (`signal`, when there is one) and when the first waited-for lease runs out;
 * at least every 100 ms whatever happens.
 */
export async function awaitAcknowledgements(
  db: Queryable,
  fence: Cursor,
  options: { signal?: AckSignal; limitMs: number },
): Promise<Waited> {
  const started = performance.now();
  let leased = false;
  for (;;) {
    const seen = options.signal?.count ?? 0;
    const row = await db
      .selectFrom("replica_leases")
      .select([
        sql<number>`count(*)::int`.as("waiting"),
        sql<number | null>`(extract(epoch from min(expires_at) - clock_timestamp()) * 1000)::float8`.as(
          "nextMs",
        ),
      ])
      .where("expires_at", ">", sql<Date>`clock_timestamp()`)
      .where(sql<SqlBool>`(acked_xid, acked_seq) < (${fence.xid}::xid8, ${fence.seq}::bigint)`)
      .executeTakeFirstOrThrow();
    const ms = performance.now() - started;
    if (row.waiting === 0) return { ms, leased, gaveUp: false };
    leased = true;
    if (ms >= options.limitMs) return { ms, leased, gaveUp: true };
    const sleep = Math.max(1, Math.min(row.nextMs ?? 100, 100, options.limitMs - ms));
    if (options.signal) await options.signal.after(seen, sleep);
    else await new Promise((resolve) => setTimeout(resolve, Math.min(sleep, 25)));
  }
}
