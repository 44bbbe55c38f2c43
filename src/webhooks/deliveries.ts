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

/** A claimed delivery, with what posting it needs from its endpoint. */
export interface ClaimedDelivery {
  id: string;
  org_id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  body: unknown;
  attempts: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

/** How much a claim may take, given what this server is posting already. */
export interface ClaimRoom {
  /** Deliveries to claim at most. */
  total: number;
  /** Posts in flight at once to one endpoint, and to one organisation's endpoints together. */
  perEndpoint: number;
  perOrg: number;
  /** What this server has in flight now, by endpoint and by organisation. */
  endpointsInFlight: ReadonlyMap<string, number>;
  orgsInFlight: ReadonlyMap<string, number>;
  leaseMs: number;
}

/** The ids with no room left, and the room of those that have some: the claim's parameters. */
function split(inFlight: ReadonlyMap<string, number>, cap: number) {
  const full: string[] = [];
  const ids: string[] = [];
  const room: number[] = [];
  for (const [id, n] of inFlight) {
    if (n >= cap) full.push(id);
    else {
      ids.push(id);
      room.push(cap - n);
    }
  }
  return { full, ids, room };
}

/**
 * Claims up to `room.total` due deliveries, the oldest due first, within the per-endpoint and
 * per-organisation room: ONE statement that takes a lease on each (attempts + 1) and commits at
 * once. The candidates are read from the oldest due rows (webhook_deliveries_due_idx) without
 * locking, and counted per endpoint and organisation; the claim locks them with SKIP LOCKED and
 * checks again that each is still due and unleased, so a row another worker took meanwhile is
 * left to it. Counting over a window of candidates can take fewer than there is room for (never
 * more); the caller claims again while claims find something.
 */
export async function claimDeliveries(db: Queryable, room: ClaimRoom): Promise<ClaimedDelivery[]> {
  const endpoints = split(room.endpointsInFlight, room.perEndpoint);
  const orgs = split(room.orgsInFlight, room.perOrg);
  const scan = Math.max(100, room.total * room.perEndpoint);
  const due = sql`d.status = 'pending' AND d.next_attempt_at <= now()
    AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= now())`;
  const result = await sql<ClaimedDelivery>`
    UPDATE webhook_deliveries AS w
    SET attempts = w.attempts + 1,
        last_attempt_at = now(),
        lease_expires_at = now() + make_interval(secs => ${room.leaseMs / 1000})
    FROM webhook_endpoints AS e
    WHERE e.id = w.endpoint_id AND w.id IN (
      SELECT d.id FROM webhook_deliveries AS d
      WHERE ${due} AND d.id IN (
        SELECT c.id FROM (
          SELECT s.id, s.endpoint_id, s.org_id, s.next_attempt_at,
            row_number() OVER (PARTITION BY s.endpoint_id ORDER BY s.next_attempt_at, s.id) AS nth_of_endpoint,
            row_number() OVER (PARTITION BY s.org_id ORDER BY s.next_attempt_at, s.id) AS nth_of_org
          FROM (
            SELECT d.id, d.endpoint_id, d.org_id, d.next_attempt_at
            FROM webhook_deliveries AS d
            WHERE ${due}
              AND NOT (d.endpoint_id = ANY (${endpoints.full}::text[]))
              AND NOT (d.org_id = ANY (${orgs.full}::text[]))
            ORDER BY d.next_attempt_at
            LIMIT ${scan}) AS s) AS c
        LEFT JOIN unnest(${endpoints.ids}::text[], ${endpoints.room}::int[]) AS er (endpoint_id, room)
          ON er.endpoint_id = c.endpoint_id
        LEFT JOIN unnest(${orgs.ids}::text[], ${orgs.room}::int[]) AS orr (org_id, room)
          ON orr.org_id = c.org_id
        WHERE c.nth_of_endpoint <= coalesce(er.room, ${room.perEndpoint})
          AND c.nth_of_org <= coalesce(orr.room, ${room.perOrg})
        ORDER BY c.next_attempt_at, c.id
        LIMIT ${room.total})
      FOR UPDATE OF d SKIP LOCKED)
    RETURNING w.id, w.org_id, w.endpoint_id, w.event_id, w.type, w.body, w.attempts,
              e.url, e.secret, e.previous_secret, e.previous_secret_expires_at`.execute(db);
  return result.rows;
}

/**
 * Records deliveries as delivered, with the status each answered: ONE statement for all of them.
 * Whatever happened to a row meanwhile (its lease run out, the endpoint turned off), the record
 * says what the receiver has.
 */
export async function recordDelivered(
  db: Queryable,
  outcomes: readonly { id: string; status: number | null }[],
): Promise<void> {
  if (outcomes.length === 0) return;
  const ids = outcomes.map((o) => o.id);
  const statuses = outcomes.map((o) => o.status);
  await sql`
    UPDATE webhook_deliveries AS w
    SET status = 'delivered', response_status = o.status, error = NULL, lease_expires_at = NULL
    FROM unnest(${ids}::text[], ${statuses}::int[]) AS o (id, status)
    WHERE w.id = o.id`.execute(db);
}

/**
 * Records a failed attempt: another due after `delayMs`, or none (null: the delivery failed).
 * Only while the claim is still the latest (`attempts`): if the lease ran out and another worker
 * claimed the row, the outcome is that worker's to record. Resolves to whether it was recorded.
 */
export async function recordFailure(
  db: Queryable,
  claim: { id: string; attempts: number },
  outcome: { status: number | null; error: string; delayMs: number | null },
): Promise<boolean> {
  const { status, error, delayMs } = outcome;
  const result = await db
    .updateTable("webhook_deliveries")
    .set(
      delayMs === null
        ? { status: "failed", response_status: status, error, lease_expires_at: null }
        : {
            response_status: status,
            error,
            lease_expires_at: null,
            next_attempt_at: sql<Date>`now() + make_interval(secs => ${delayMs / 1000})`,
          },
    )
    .where("id", "=", claim.id)
    .where("status", "=", "pending")
    .where("attempts", "=", claim.attempts)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
