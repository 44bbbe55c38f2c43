// SQL for organisations and org memberships. Every query on a membership filters by org_id.
import { type RawBuilder, type SqlBool, sql } from "kysely";
import { jsonArrayFrom } from "kysely/helpers/postgres";
import type { OrgRole } from "../access/catalogue.js";
import { AppError } from "../core/errors.js";
import { decodeCursor } from "../core/paging.js";
import type { Queryable } from "../db/index.js";
import type { OrganizationRow } from "../db/schema.js";
import { personMatches, SEARCH_ROW_LIMIT } from "../db/search.js";

/**
 * Keyset position after a row ordered by (time, id). The time travels as whole microseconds since
 * the epoch, so that paging is exact at PostgreSQL's precision (a JS Date keeps only milliseconds).
 */
export interface TimeKey {
  micros: string;
  id: string;
}

const TIME_KEY = /^(\d{1,19}):([\w-]{1,100})$/;

/** `?cursor=` as a TimeKey, or a 400 naming the field. */
export function decodeTimeCursor(cursor: string | undefined): TimeKey | undefined {
  const key = decodeCursor(cursor);
  if (key === undefined) return undefined;
  const m = TIME_KEY.exec(key);
  if (!m?.[1] || !m[2]) {
    throw new AppError("validation_failed", "The cursor is not one this server gave", [
      { field: "cursor", message: "is not a cursor from a previous page" },
    ]);
  }
  return { micros: m[1], id: m[2] };
}

export const timeKeyString = (k: { key_micros: string; key_id: string }) => `${k.key_micros}:${k.key_id}`;

/** The column's value in whole microseconds since the epoch, as text. */
function micros(column: string): RawBuilder<string> {
  return sql<string>`(extract(epoch from ${sql.ref(column)}) * 1000000)::bigint::text`;
}

/** `(timeColumn, idColumn) > key`, exactly. */
function after(timeColumn: string, idColumn: string, key: TimeKey): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.ref(timeColumn)}, ${sql.ref(idColumn)}) > (timestamptz 'epoch' + ${key.micros}::bigint * interval '1 microsecond', ${key.id})`;
}

/** `(timeColumn, idColumn) <= key`, exactly. */
function upTo(timeColumn: string, idColumn: string, key: TimeKey): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.ref(timeColumn)}, ${sql.ref(idColumn)}) <= (timestamptz 'epoch' + ${key.micros}::bigint * interval '1 microsecond', ${key.id})`;
}

/** The organisations a user belongs to, oldest membership first, one page (plus one row). */
export function userOrganizationsPage(
  db: Queryable,
  userId: string,
  page: { limit: number; after?: TimeKey | undefined },
) {
  let q = db
    .selectFrom("org_memberships as m")
    .innerJoin("organizations as o", "o.id", "m.org_id")
    .select(["o.id", "o.name", "m.role", micros("m.created_at").as("key_micros"), "o.id as key_id"])
    .where("m.user_id", "=", userId);
  if (page.after) q = q.where(after("m.created_at", "o.id", page.after));
  return q
    .orderBy("m.created_at")
    .orderBy("o.id")
    .limit(page.limit + 1)
    .execute();
}

export function findOrganization(db: Queryable, orgId: string): Promise<OrganizationRow | undefined> {
  return db.selectFrom("organizations").selectAll().where("id", "=", orgId).executeTakeFirst();
}

/**
 * Locks the organisation's row until the transaction ends. Every change to memberships (org or
 * workspace, rules 2 and 9) takes this lock first, so two such changes run one after the other.
 * `share`: for a change that needs the memberships to hold still (creating an invitation) — it
 * waits for the changes under way, they wait for it, and other holders of `share` do not.
 */
export function lockOrganization(
  tx: Queryable,
  orgId: string,
  mode: "update" | "share" = "update",
): Promise<OrganizationRow | undefined> {
  const q = tx.selectFrom("organizations").selectAll().where("id", "=", orgId);
  return (mode === "share" ? q.forShare() : q.forUpdate()).executeTakeFirst();
}

export async function countOwners(tx: Queryable, orgId: string): Promise<number> {
  const row = await tx
    .selectFrom("org_memberships")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("org_id", "=", orgId)
    .where("role", "=", "owner")
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface MemberFilter {
  /** Matches name or e-mail anywhere, case-insensitively. */
  q?: string | undefined;
  /**
   * How to match `q` (db/search.ts): among these users only, or by walking the members in join
   * order up to `walkUpTo` (orgWalkEndQuery; undefined: to the last); default: the plain condition.
   */
  matching?: { userIds: string[] } | { walkUpTo: TimeKey | undefined } | undefined;
  role?: OrgRole | undefined;
  limit: number;
  after?: TimeKey | undefined;
}

/**
 * The members of an organisation with their user fields, by join date then user id, one page plus
 * one row. With `q`, `matching` says how (see db/search.ts): among candidate users found through
 * the trigram indexes, or by walking the members in join order — no further than `walkUpTo` — and
 * reading each one's user (the lateral subquery, fenced by OFFSET 0, keeps the planner from
 * sorting every match instead, or from reading the users table whole to join it).
 */
export function memberSearch(db: Queryable, orgId: string, filter: MemberFilter) {
  const term = filter.q?.trim() ? filter.q : undefined;
  const how = term === undefined ? undefined : filter.matching;
  const walk = how && "walkUpTo" in how ? how : undefined;
  let q = db
    .selectFrom("org_memberships as m")
    .innerJoinLateral(
      (eb) => {
        const user = eb
          .selectFrom("users as u")
          .select(["u.name", "u.email"])
          .whereRef("u.id", "=", "m.user_id");
        return (term !== undefined && walk ? user.where(personMatches(term)).offset(0) : user).as("u");
      },
      (join) => join.onTrue(),
    )
    .select([
      "m.user_id",
      "u.name",
      "u.email",
      "m.role",
      "m.created_at",
      micros("m.created_at").as("key_micros"),
      "m.user_id as key_id",
    ])
    .where("m.org_id", "=", orgId);
  if (filter.role !== undefined) q = q.where("m.role", "=", filter.role);
  if (term !== undefined && !walk) {
    q = q.where(
      how && "userIds" in how ? sql<SqlBool>`m.user_id = ANY(${how.userIds}::text[])` : personMatches(term),
    );
  }
  if (walk?.walkUpTo) q = q.where(upTo("m.created_at", "m.user_id", walk.walkUpTo));
  if (filter.after) q = q.where(after("m.created_at", "m.user_id", filter.after));
  return q
    .orderBy("m.created_at")
    .orderBy("m.user_id")
    .limit(filter.limit + 1);
}

/**
 * The last member a search's walk may examine: the SEARCH_ROW_LIMIT-th after `from` in join
 * order (whatever their role), or undefined when fewer remain. Read from the join-order index alone.
 */
export function orgWalkEndQuery(db: Queryable, orgId: string, from: TimeKey | undefined) {
  let q = db
    .selectFrom("org_memberships as m")
    .select(["m.created_at", "m.user_id"])
    .where("m.org_id", "=", orgId);
  if (from) q = q.where(after("m.created_at", "m.user_id", from));
  // The key in microseconds of the one row kept, not of every row skipped.
  const end = q
    .orderBy("m.created_at")
    .orderBy("m.user_id")
    .offset(SEARCH_ROW_LIMIT - 1)
    .limit(1)
    .as("e");
  return db.selectFrom(end).select([micros("e.created_at").as("key_micros"), "e.user_id as key_id"]);
}

export type MemberRow = Awaited<ReturnType<ReturnType<typeof memberSearch>["execute"]>>[number];

/**
 * memberSearch with each member's direct workspace roles (by workspace name), in the same
 * statement: the page is cut first, then only its rows get their workspaces.
 */
export function memberPage(db: Queryable, orgId: string, filter: MemberFilter) {
  return db
    .selectFrom(memberSearch(db, orgId, filter).as("p"))
    .select(["p.user_id", "p.name", "p.email", "p.role", "p.created_at", "p.key_micros", "p.key_id"])
    .select((eb) =>
      jsonArrayFrom(
        eb
          .selectFrom("workspace_memberships as wm")
          .innerJoin("workspaces as w", (j) =>
            j.onRef("w.org_id", "=", "wm.org_id").onRef("w.id", "=", "wm.workspace_id"),
          )
          .select(["w.id", "w.name", "wm.role"])
          .where("wm.org_id", "=", orgId)
          .whereRef("wm.user_id", "=", "p.user_id")
          .orderBy("w.name")
          .orderBy("w.id"),
      ).as("workspaces"),
    )
    .orderBy("p.created_at")
    .orderBy("p.user_id");
}

/** One member with their user fields, or undefined when the user is not in this organisation. */
export function findMember(db: Queryable, orgId: string, userId: string): Promise<MemberRow | undefined> {
  return memberSearch(db, orgId, { limit: 1 }).where("m.user_id", "=", userId).executeTakeFirst();
}

export interface WorkspaceGrant {
  user_id: string;
  id: string;
  name: string;
  role: string;
}

/** The workspace roles granted directly to these members, in one query, by workspace name. */
export async function workspaceGrants(
  db: Queryable,
  orgId: string,
  userIds: readonly string[],
): Promise<WorkspaceGrant[]> {
  if (userIds.length === 0) return [];
  return db
    .selectFrom("workspace_memberships as wm")
    .innerJoin("workspaces as w", (j) =>
      j.onRef("w.org_id", "=", "wm.org_id").onRef("w.id", "=", "wm.workspace_id"),
    )
    .select(["wm.user_id", "w.id", "w.name", "wm.role"])
    .where("wm.org_id", "=", orgId)
    .where("wm.user_id", "in", userIds)
    .orderBy("w.name")
    .orderBy("w.id")
    .execute();
}
