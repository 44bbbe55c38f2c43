// The audit trail: append-only, written in the transaction of the change it records (rule 14).
// The actor's name is copied at that moment so the event keeps it after the person is gone.
import { sql } from "kysely";
import { newId } from "../db/ids.js";
import type { Tx } from "../db/index.js";
import { noteEventWritten, noteFence } from "../db/transaction.js";
import { EVENTS_CHANNEL } from "../events/bus.js";
import { type PublicEvent, publicEvent } from "../events/public.js";
import { FENCING_ACTIONS } from "../replica/leases.js";
import { enqueueDeliveries } from "../webhooks/deliveries.js";
import type { ActorType } from "./actions.js";
import type { AuditEvent } from "./events.js";

export interface Actor {
  id: string | null;
  name: string | null;
  ip: string | null;
  /** A person unless said otherwise; with no id, the system (the operator's CLI, the clock). */
  type?: ActorType;
}

/** An actor's kind as the trail records it. */
export function actorType(actor: Actor): ActorType {
  return actor.type ?? (actor.id ? "user" : "system");
}

/**
 * Writes the change's event (rule 14; docs/events.md): the audit row, which is also the feed's
 * and the webhooks' event. The first event of a transaction also sends the feed's NOTIFY, which
 * PostgreSQL delivers to every server's listener when — and only if — the transaction commits.
 * An organisation's event is also written, in the same transaction, as one delivery to each of its
 * webhooks that asks for its type (webhooks/deliveries.ts). A change that takes access away
 * (replica/leases.ts: FENCING_ACTIONS) marks its transaction, so that `transact` takes the fence
 * lock before it commits and answers only once the replica clients have acknowledged it.
 * Answers the event as the outside sees it.
 */
export async function recordAudit(tx: Tx, actor: Actor, event: AuditEvent): Promise<PublicEvent> {
  if (noteEventWritten(tx)) await sql`SELECT pg_notify(${EVENTS_CHANNEL}, '')`.execute(tx);
  const fencing = FENCING_ACTIONS.has(event.action);
  const row = await tx
    .insertInto("audit_events")
    .values({
      id: newId("evt"),
      org_id: event.orgId,
      actor_id: actor.id,
      actor_name: actor.name,
      actor_type: actorType(actor),
      action: event.action,
      target_type: event.targetType,
      target_id: event.targetId,
      data: JSON.stringify(event.data ?? {}),
      ip: actor.ip,
    })
    .returning([
      "id",
      "org_id",
      "at",
      "actor_type",
      "actor_id",
      "actor_name",
      "action",
      "target_type",
      "target_id",
      "data",
      sql<string>`xid::text`.as("xid_text"),
      sql<string>`seq::text`.as("seq_text"),
    ])
    .executeTakeFirstOrThrow();
  if (fencing) noteFence(tx, { xid: row.xid_text, seq: row.seq_text });
  const written = publicEvent(row);
  if (written.orgId !== null) await enqueueDeliveries(tx, written);
  return written;
}
