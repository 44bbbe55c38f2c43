// The audit trail: append-only, written in the transaction of the change it records (rule 14).
// The actor's name is copied at that moment so the event keeps it after the person is gone.
import { newId } from "../db/ids.js";
import type { Queryable } from "../db/index.js";
import type { AuditAction } from "./actions.js";

export interface Actor {
  id: string | null;
  name: string | null;
  ip: string | null;
}

export interface AuditInput {
  orgId: string | null;
  action: AuditAction;
  targetType: string;
  targetId: string | null;
  data?: Record<string, unknown>;
}

export async function recordAudit(db: Queryable, actor: Actor, event: AuditInput): Promise<void> {
  await db
    .insertInto("audit_events")
    .values({
      id: newId("evt"),
      org_id: event.orgId,
      actor_id: actor.id,
      actor_name: actor.name,
      action: event.action,
      target_type: event.targetType,
      target_id: event.targetId,
      data: JSON.stringify(event.data ?? {}),
      ip: actor.ip,
    })
    .execute();
}
