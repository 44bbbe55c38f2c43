// Audit rows of any shape, straight into the table, for tests of reading the trail (paging,
// filters, export): they need many events and odd ones, not the typed events of a real change,
// which recordAudit() (src/audit/events.ts) restricts to what Rollcall writes.
import type { AuditAction } from "../../src/audit/actions.js";
import type { Actor } from "../../src/audit/operations.js";
import { newId } from "../../src/db/ids.js";
import type { Queryable } from "../../src/db/index.js";

export async function insertAuditRow(
  db: Queryable,
  actor: Actor,
  event: { orgId: string | null; action: string; targetType: string; targetId: string | null; data?: object },
): Promise<void> {
  await db
    .insertInto("audit_events")
    .values({
      id: newId("evt"),
      org_id: event.orgId,
      actor_id: actor.id,
      actor_name: actor.name,
      // Any word: the column is typed for what the server writes, the table keeps any action.
      action: event.action as AuditAction,
      target_type: event.targetType,
      target_id: event.targetId,
      data: JSON.stringify(event.data ?? {}),
      ip: actor.ip,
    })
    .execute();
}
