// Reading the feed: an organisation's events, or every event of the installation, oldest first,
// from a cursor (docs/events.md). The order is (xid, seq) — the writing transaction's id, then the
// order within it — and a read takes only events of transactions that have ended: those whose xid
// is below every transaction of this database still running (SETTLED). Below that line nothing can
// appear later, so a reader that resumes from its cursor never misses an event that committed
// after it passed by (a sequence or a timestamp alone would: transactions commit out of order).
import { type SqlBool, sql } from "kysely";
import { AppError, fieldError } from "../core/errors.js";
import type { Queryable } from "../db/index.js";
import { type EventRow, type PublicEvent, publicEvent } from "./public.js";

/**
 * The line below which every transaction that could write this database's events has ended, as
 * the reading statement's snapshot sees it: its first in-progress xid, or its xmax when none is.
 * An in-progress xid that pg_stat_activity shows running in another database is passed over — it
 * cannot write here — so a long transaction elsewhere on a shared server does not hold the feed
 * back (pg_snapshot_xmin would: it is the oldest transaction of the whole cluster). An xid whose
 * database is unknown, because it ended after the snapshot or its columns are hidden, still counts.
 * pg_current_snapshot() lists only top-level xids, which is what events store.
 */
const SETTLED = sql<SqlBool>`xid < coalesce(
  (select x from pg_snapshot_xip(pg_current_snapshot()) x
    where x::xid not in (select backend_xid from pg_stat_activity
                          where backend_xid is not null and datname is distinct from current_database())
    order by x limit 1),
  pg_snapshot_xmax(pg_current_snapshot()))`;

/**
 * Whether an event has committed that readers cannot take yet, because a transaction of this
 * database that began before it is still running. The bus then wakes its readers again shortly:
 * that transaction may end without writing an event, and so without a wake of its own.
 */
export async function heldBack(db: Queryable): Promise<boolean> {
  const row = await db
    .selectFrom("audit_events")
    .select(sql<number>`1`.as("one"))
    .where(sql<SqlBool>`not (${SETTLED})`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** A place in the feed: just after the event written as `seq` by transaction `xid`. */
export interface Cursor {
  xid: string;
  seq: string;
}

/** The place before every event, for a stream of a scope that has none yet (never shown). */
const START: Cursor = { xid: "0", seq: "0" };

const CURSOR = /^(\d{1,20})\.(\d{1,19})$/;
const XID8_MAX = 2n ** 64n - 1n;
const BIGINT_MAX = 2n ** 63n - 1n;

export function encodeCursor(c: Cursor): string {
  return `${c.xid}.${c.seq}`;
}

/** The cursor a client gave, or a 400 naming `field`. */
export function decodeCursor(raw: string, field = "after"): Cursor {
  const m = CURSOR.exec(raw);
  // Within xid8's and bigint's ranges, so that no cursor reaches PostgreSQL as an error.
  if (!m?.[1] || !m[2] || BigInt(m[1]) > XID8_MAX || BigInt(m[2]) > BIGINT_MAX) {
    throw fieldError(field, "is not a cursor this feed gave");
  }
  return { xid: m[1], seq: m[2] };
}

export interface FeedScope {
  /** One organisation's events, or (null) every event of the installation, org-less ones too. */
  orgId: string | null;
  /** Public event types to keep (empty: all). */
  types: readonly string[];
}

export interface FeedEvent extends PublicEvent {
  cursor: string;
}

const TYPE = /^[a-z_]+(\.[a-z_]+)+$/;

/** `?types=a,b` as a list, each a well-formed type name; at most 50. */
export function parseTypes(raw: string | undefined): string[] {
  if (!raw?.trim()) return [];
  const types = [...new Set(raw.split(",").map((t) => t.trim()))].filter(Boolean);
  if (types.length > 50) throw fieldError("types", "name at most 50 types");
  for (const t of types) if (!TYPE.test(t)) throw fieldError("types", `"${t}" is not an event type`);
  return types;
}

/** The rows whose public type (public.ts: publicType) is one of `types`. */
function typeCondition(types: readonly string[]) {
  const plain = types.filter((t) => t !== "organization.updated" && !t.startsWith("invitation."));
  const parts = [];
  if (plain.length > 0) parts.push(sql<SqlBool>`action = ANY(${plain}::text[])`);
  if (types.includes("organization.updated")) {
    parts.push(sql<SqlBool>`action IN ('organization.renamed', 'organization.updated')`);
  }
  const withdrawn = sql<SqlBool>`coalesce(data->>'withdrawn', '') = 'true'`;
  for (const t of types.filter((x) => x.startsWith("invitation."))) {
    if (t === "invitation.withdrawn")
      parts.push(sql<SqlBool>`(action = 'invitation.cancelled' AND ${withdrawn})`);
    else if (t === "invitation.cancelled") parts.push(sql<SqlBool>`(action = ${t} AND NOT ${withdrawn})`);
    else parts.push(sql<SqlBool>`action = ${t}`);
  }
  return sql<SqlBool>`(${sql.join(parts, sql` OR `)})`;
}

const COLUMNS = [
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
] as const;

/** A page of the feed, and the cursor after its last event (null when nothing was ever read). */
export interface FeedPage {
  items: FeedEvent[];
  next: Cursor | null;
}

/**
 * Up to `limit` events after `after` (or, without it, from the start of the retention window),
 * and the cursor to continue from: the last event's, else `after` again, else null.
 */
export async function readFeed(
  db: Queryable,
  scope: FeedScope,
  after: Cursor | null,
  limit: number,
  retentionDays: number,
): Promise<FeedPage> {
  let q = db
    .selectFrom("audit_events")
    .select([...COLUMNS, sql<string>`xid::text`.as("xid_text"), sql<string>`seq::text`.as("seq_text")])
    .where(SETTLED);
  if (scope.orgId !== null) q = q.where("org_id", "=", scope.orgId);
  if (scope.types.length > 0) q = q.where(typeCondition(scope.types));
  if (after) q = q.where(sql<SqlBool>`(xid, seq) > (${after.xid}::xid8, ${after.seq}::bigint)`);
  else q = q.where(sql<SqlBool>`at >= now() - make_interval(days => ${retentionDays})`);
  const rows = await q.orderBy(sql`xid`).orderBy("seq").limit(limit).execute();
  const items = rows.map(({ xid_text, seq_text, ...row }) => ({
    ...publicEvent(row as EventRow),
    cursor: encodeCursor({ xid: xid_text, seq: seq_text }),
  }));
  const last = rows.at(-1);
  return { items, next: last ? { xid: last.xid_text, seq: last.seq_text } : after };
}

/**
 * A cursor a client resumes from: 410 cursor_expired when its event is older than the retention
 * window, or is not there (its organisation deleted, or never an event of this feed).
 */
export async function checkResumable(db: Queryable, cursor: Cursor, retentionDays: number): Promise<void> {
  const row = await db
    .selectFrom("audit_events")
    .select(sql<boolean>`at >= now() - make_interval(days => ${retentionDays})`.as("fresh"))
    .where(sql<SqlBool>`xid = ${cursor.xid}::xid8`)
    .where("seq", "=", cursor.seq as never)
    .executeTakeFirst();
  if (!row?.fresh) {
    throw new AppError(
      "cursor_expired",
      `Events are kept for resuming ${retentionDays} days; read the current state again, then follow the feed from now.`,
    );
  }
}

/** Where a live stream without a cursor starts: after the last event that has settled. */
export async function feedEnd(db: Queryable, scope: FeedScope): Promise<Cursor> {
  let q = db
    .selectFrom("audit_events")
    .select([sql<string>`xid::text`.as("xid"), sql<string>`seq::text`.as("seq")])
    .where(SETTLED);
  if (scope.orgId !== null) q = q.where("org_id", "=", scope.orgId);
  const row = await q.orderBy(sql`xid`, "desc").orderBy("seq", "desc").limit(1).executeTakeFirst();
  return row ?? START;
}
