// Reading the audit trail of one organisation, newest or oldest first, by keyset on (at, id) —
// the order of audit_events_org_at_idx — so that a page costs the same however deep it is.
//
// The position key carries `at` to the microsecond, as PostgreSQL stores it: a JavaScript Date
// keeps only milliseconds, and events of one transaction (or one busy millisecond) would be
// skipped or repeated at a page boundary if the key were cut to them.
import { sql } from "kysely";
import { parseTimeKey, timeKeyOf } from "../core/paging.js";
import type { Queryable } from "../db/index.js";

export interface AuditEvent {
  id: string;
  at: Date;
  actorId: string | null;
  /** The actor's name when the event happened; kept after the person is gone. */
  actorName: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  data: Record<string, unknown>;
  /** The event's place in the order: give it as `after` to continue behind it. */
  key: string;
}

export interface AuditQuery {
  /** An exact action (`member.added`), or a prefix ending in `.*` or `.` (`member.*`). */
  action?: string | undefined;
  actorId?: string | undefined;
  /** At most this many events (the page size). */
  limit: number;
  /** The `key` of the last event already seen: continue after it. */
  after?: string | undefined;
  /** `newest` first (the default, the API's order) or `oldest` first (exports). */
  order?: "newest" | "oldest";
  /** Only events at or after this moment. */
  since?: Date | undefined;
  /** Only events before this moment. */
  until?: Date | undefined;
}

export interface AuditPage {
  events: AuditEvent[];
  /** The key to continue from, or null when there is nothing after the last event. */
  next: string | null;
}

/** Whether `action` asks for a prefix (`member.*` or `member.`), and which. */
export function actionPrefix(action: string): string | null {
  if (action.endsWith(".*")) return action.slice(0, -1);
  if (action.endsWith(".")) return action;
  return null;
}

/**
 * One page of an organisation's events. Always filtered by `orgId` (rule 3). Throws a
 * RangeError for an `after` that parseTimeKey refuses; callers check it first.
 */
export async function listAuditEvents(db: Queryable, orgId: string, query: AuditQuery): Promise<AuditPage> {
  const newest = (query.order ?? "newest") === "newest";
  let q = db
    .selectFrom("audit_events")
    .select([
      "id",
      "at",
      "actor_id",
      "actor_name",
      "action",
      "target_type",
      "target_id",
      "data",
      timeKeyOf("at").as("at_key"),
    ])
    .where("org_id", "=", orgId);
  if (query.action !== undefined) {
    const prefix = actionPrefix(query.action);
    q = prefix ? q.where(sql<boolean>`starts_with(action, ${prefix})`) : q.where("action", "=", query.action);
  }
  if (query.actorId !== undefined) q = q.where("actor_id", "=", query.actorId);
  if (query.since) q = q.where("at", ">=", query.since);
  if (query.until) q = q.where("at", "<", query.until);
  if (query.after !== undefined) {
    const after = parseTimeKey(query.after);
    if (!after) throw new RangeError(`not an audit position: ${query.after}`);
    // A row comparison, which PostgreSQL answers from the (org_id, at, id) index.
    q = newest
      ? q.where(sql<boolean>`(at, id) < (${after.at}::timestamptz, ${after.id})`)
      : q.where(sql<boolean>`(at, id) > (${after.at}::timestamptz, ${after.id})`);
  }
  const direction = newest ? "desc" : "asc";
  const rows = await q
    .orderBy("at", direction)
    .orderBy("id", direction)
    .limit(query.limit + 1)
    .execute();

  const events = rows.slice(0, query.limit).map(
    (r): AuditEvent => ({
      id: r.id,
      at: r.at,
      actorId: r.actor_id,
      actorName: r.actor_name,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      data: r.data,
      key: `${r.at_key}.${r.id}`,
    }),
  );
  const last = events.at(-1);
  return { events, next: rows.length > query.limit && last ? last.key : null };
}

/** An event as the API and the exports show it. */
export function presentAuditEvent(e: AuditEvent) {
  return {
    id: e.id,
    at: e.at.toISOString(),
    actorId: e.actorId,
    actorName: e.actorName,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    data: e.data,
  };
}

export type PresentedAuditEvent = ReturnType<typeof presentAuditEvent>;

/** Whether the organisation exists (for the CLI, which has no guard to ask). */
export async function organizationExists(db: Queryable, orgId: string): Promise<boolean> {
  const row = await db.selectFrom("organizations").select("id").where("id", "=", orgId).executeTakeFirst();
  return row !== undefined;
}
