// The audit trail: append-only, written in the transaction of the change it records (rule 14).
// The actor's name is copied at that moment so the event keeps it after the person is gone.
import { newId } from "../db/ids.js";
import type { Tx } from "../db/index.js";
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

export async function recordAudit(tx: Tx, actor: Actor, event: AuditEvent): Promise<void> {
  await tx
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
    .execute();
}
