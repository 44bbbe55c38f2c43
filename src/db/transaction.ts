// The one way a change opens its transaction. Routes and the CLI call `transact` with the
// operation; operations take the transaction and never open their own, so a change and
// everything it causes (memberships, audit events, mail in the outbox) commit or roll back as
// one (rule 14).
//
// Mail written in the transaction (mail/outbox.ts marks it) wakes this server's mail worker
// once the transaction has committed — never before, when the worker could not see the row yet,
// and never after a rollback, when there is nothing to send.
//
// A change that takes access away (replica/leases.ts: FENCING_ACTIONS) answers only once the
// replica clients have acknowledged it: its last statement takes the fence lock, shared (grants
// of replica leases take it alone, so each grant is ordered before or after the change), and
// `transact` waits for the acknowledgements after the commit. Last, so that a change holding the
// lock waits for nothing else before it commits: no lock cycle can form through it.
import { sql } from "kysely";
import type { Cursor } from "../events/feed.js";
import type { Db, Tx } from "./index.js";

/** The advisory lock between fencing changes and replica lease grants (replica/leases.ts). */
export const FENCE_LOCK = 0x726c6c01;

const queuedMail = new WeakSet<object>();
const wroteEvents = new WeakSet<object>();
/** The last fencing event a transaction wrote: its place in the feed. */
const fences = new WeakMap<object, Cursor>();

/** Marks `tx` as holding new mail: the worker is woken when it commits. Called by the outbox. */
export function noteMailQueued(tx: object): void {
  queuedMail.add(tx);
}

/**
 * Marks `tx` as holding events: this server's event streams are woken when it commits (other
 * servers hear the NOTIFY that recordAudit sends). True the first time for a transaction.
 */
export function noteEventWritten(tx: object): boolean {
  if (wroteEvents.has(tx)) return false;
  wroteEvents.add(tx);
  return true;
}

/** Marks `tx` as taking access away: its commit waits for the replicas (recordAudit calls it). */
export function noteFence(tx: object, place: Cursor): void {
  const known = fences.get(tx);
  if (!known || BigInt(place.seq) > BigInt(known.seq)) fences.set(tx, place);
}

export interface TransactionServices {
  db: Db;
  /** Tells this server's mail worker that mail has just been committed. */
  wakeMail(): void;
  /** Tells this server's event streams (and webhook worker) that events have just been committed. */
  wakeEvents?(): void;
  /**
   * Waits until every live replica lease has acknowledged this event, or run out. `lockedMs`: how
   * long the fence lock took before the commit (what the protocol added there).
   */
  awaitAcks?(fence: Cursor, lockedMs: number): Promise<void>;
}

export async function transact<T>(services: TransactionServices, work: (tx: Tx) => Promise<T>): Promise<T> {
  let mailCommitted = false;
  let eventsCommitted = false;
  let fence: Cursor | undefined;
  let lockedMs = 0;
  const result = await services.db.transaction().execute(async (tx) => {
    const value = await work(tx);
    mailCommitted = queuedMail.has(tx);
    eventsCommitted = wroteEvents.has(tx);
    fence = fences.get(tx);
    if (fence) {
      const asked = performance.now();
      await sql`SELECT pg_advisory_xact_lock_shared(${FENCE_LOCK})`.execute(tx);
      lockedMs = performance.now() - asked;
    }
    return value;
  });
  if (mailCommitted) services.wakeMail();
  if (eventsCommitted) services.wakeEvents?.();
  if (fence) await services.awaitAcks?.(fence, lockedMs);
  return result;
}

/**
 * A read that must see one moment whole (a snapshot of memberships and the feed's position at
 * that moment): one REPEATABLE READ, READ ONLY transaction. It writes nothing and wakes nothing.
 */
export function readAtOneMoment<T>(db: Db, read: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel("repeatable read").setAccessMode("read only").execute(read);
}
