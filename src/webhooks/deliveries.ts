// The deliveries of an organisation's events to its webhooks (docs/webhooks.md): written in the
// event's own transaction (recordAudit calls enqueueDeliveries), so that an event that commits
// has its deliveries and one that rolls back has none, whatever crashes in between; read and
// retried through the routes; posted by the worker (worker.ts).
import { sql } from "kysely";
import { parseTimeKey, timeKeyOf } from "../core/paging.js";
import type { Queryable, Tx } from "../db/index.js";
import type { WebhookDeliveryRow } from "../db/schema.js";
import type { PublicEvent } from "../events/public.js";
import type { DeliveryStatus } from "./model.js";

/** What is posted: `{type, timestamp, data}`, `data` being the whole public event. */
export function deliveryBody(event: PublicEvent): { type: string; timestamp: string; data: PublicEvent } {
  return { type: event.type, timestamp: event.at, data: event };
}

/**
 * One delivery of `event` to each enabled endpoint of its organisation whose types are empty or
 * name the event's type: ONE statement, an index probe on webhook_endpoints (org_id …) that finds
 * nothing for an organisation without webhooks. Pass the event's own transaction. `endpointId`
 * sends it to that endpoint alone, whatever its types and even when it is turned off (the test
 * event). Resolves to how many deliveries were written.
 */
export async function enqueueDeliveries(
  tx: Tx,
  event: PublicEvent,
  endpointId: string | null = null,
): Promise<number> {
  if (event.orgId === null) return 0;
  const body = JSON.stringify(deliveryBody(event));
  const chosen =
    endpointId === null
      ? sql`e.enabled AND (cardinality(e.types) = 0 OR ${event.type} = ANY (e.types))`
      : sql`e.id = ${endpointId}`;
  const result = await sql`
    INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, type, body)
    SELECT rollcall_new_id('dlv'), e.org_id, e.id, ${event.id}, ${event.type}, ${body}::jsonb
    FROM webhook_endpoints e
    WHERE e.org_id = ${event.orgId} AND ${chosen}
    ON CONFLICT (endpoint_id, event_id) DO NOTHING`.execute(tx);
  return Number(result.numAffectedRows ?? 0);
}

/** A delivery as the API shows it. */
export interface Delivery {
  id: string;
  eventId: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: Date;
  lastAttemptAt: Date | null;
  /** When the next attempt is due; null unless pending. */
  nextAttemptAt: Date | null;
  responseStatus: number | null;
  error: string | null;
}

export function toDelivery(row: Omit<WebhookDeliveryRow, "body">): Delivery {
  return {
    id: row.id,
    eventId: row.event_id,
    type: row.type,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: row.status === "pending" ? row.next_attempt_at : null,
    responseStatus: row.response_status,
    error: row.error,
  };
}

/**
 * One page of an endpoint's deliveries, newest first, by keyset on (created_at, id) — the order
 * of webhook_deliveries_endpoint_idx. `after` is a key parseTimeKey accepts (checked first).
 */
export async function listDeliveries(
  db: Queryable,
  orgId: string,
  endpointId: string,
  query: { status?: DeliveryStatus | undefined; limit: number; after?: string | undefined },
): Promise<{ items: Delivery[]; next: string | null }> {
  let q = db
    .selectFrom("webhook_deliveries")
    .select([
      "id",
      "org_id",
      "endpoint_id",
      "event_id",
      "type",
      "status",
      "attempts",
      "next_attempt_at",
      "lease_expires_at",
      "last_attempt_at",
      "response_status",
      "error",
      "created_at",
      timeKeyOf("created_at").as("at_key"),
    ])
    .where("org_id", "=", orgId)
    .where("endpoint_id", "=", endpointId);
  if (query.status !== undefined) q = q.where("status", "=", query.status);
  if (query.after !== undefined) {
    const after = parseTimeKey(query.after);
    if (!after) throw new RangeError(`not a delivery position: ${query.after}`);
    q = q.where(sql<boolean>`(created_at, id) < (${after.at}::timestamptz, ${after.id})`);
  }
  const rows = await q
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(toDelivery),
    next: rows.length > query.limit && last ? `${last.at_key}.${last.id}` : null,
  };
}
