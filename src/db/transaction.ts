// The one way a change opens its transaction. Routes and the CLI call `transact` with the
// operation; operations take the transaction and never open their own, so a change and
// everything it causes (memberships, audit events, mail in the outbox) commit or roll back as
// one (rule 14).
//
// Mail written in the transaction (mail/outbox.ts marks it) wakes this server's mail worker
// once the transaction has committed — never before, when the worker could not see the row yet,
// and never after a rollback, when there is nothing to send.
import type { Db, Tx } from "./index.js";

const queuedMail = new WeakSet<object>();

/** Marks `tx` as holding new mail: the worker is woken when it commits. Called by the outbox. */
export function noteMailQueued(tx: object): void {
  queuedMail.add(tx);
}

export interface TransactionServices {
  db: Db;
  /** Tells this server's mail worker that mail has just been committed. */
  wakeMail(): void;
}

export async function transact<T>(services: TransactionServices, work: (tx: Tx) => Promise<T>): Promise<T> {
  let mailCommitted = false;
  const result = await services.db.transaction().execute(async (tx) => {
    const value = await work(tx);
    mailCommitted = queuedMail.has(tx);
    return value;
  });
  if (mailCommitted) services.wakeMail();
  return result;
}
