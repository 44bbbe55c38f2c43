// Reads of workspaces and workspace memberships. Every query names the organisation (org_id) as
// well as the workspace, so that an id from another tenant finds nothing (rule 3).
import { type SqlBool, sql } from "kysely";
import type { Queryable } from "../db/index.js";
import type { WorkspaceRow } from "../db/schema.js";
import { personMatches, SEARCH_ROW_LIMIT } from "../db/search.js";

/** Where a workspace operation acts: the organisation is the one the guard resolved for the path. */
export interface WorkspacePlace {
  orgId: string;
  workspaceId: string;
}

export interface WorkspaceMember {
  userId: string;
  name: string;
  email: string;
  role: string;
  joinedAt: Date;
}

export async function findWorkspace(db: Queryable, place: WorkspacePlace): Promise<WorkspaceRow | undefined> {
  return db
    .selectFrom("workspaces")
    .selectAll()
    .where("org_id", "=", place.orgId)
    .where("id", "=", place.workspaceId)
    .executeTakeFirst();
}

/**
 * A page of the organisation's workspaces with the user's direct role in each (null when none),
 * in creation order (ids are time-ordered). `onlyGranted`: just those with a direct role.
 */
export async function listWorkspaceRows(
  db: Queryable,
  input: { orgId: string; userId: string; onlyGranted: boolean; limit: number; after?: string | undefined },
): Promise<(WorkspaceRow & { direct_role: string | null })[]> {
  let q = db
    .selectFrom("workspaces as w")
    // The caller's grants: a person's memberships or an API key's (0009's view).
    .leftJoin("caller_workspace_roles as wm", (join) =>
      join
        .onRef("wm.org_id", "=", "w.org_id")
        .onRef("wm.workspace_id", "=", "w.id")
        .on("wm.caller_id", "=", input.userId),
    )
    .selectAll("w")
    .select("wm.role as direct_role")
    .where("w.org_id", "=", input.orgId);
  if (input.onlyGranted) q = q.where("wm.role", "is not", null);
  if (input.after) q = q.where("w.id", ">", input.after);
  return q
    .orderBy("w.id")
    .limit(input.limit + 1)
    .execute();
}

export interface WorkspaceMemberFilter {
  q?: string | undefined;
  /**
   * How to match `q` (db/search.ts): among these users only, or by walking the members in user id
   * order up to `walkUpTo` (workspaceWalkEnd; undefined: to the last); default: the plain condition.
   */
  matching?: { userIds: string[] } | { walkUpTo: string | undefined } | undefined;
  role?: string | undefined;
  limit: number;
  after?: string | undefined;
}

/**
 * A page of the people with a direct role in the workspace, by user id. A walk reads each one's
 * user in a lateral subquery fenced by OFFSET 0, so that PostgreSQL cannot choose to read the
 * users table whole (or through a trigram index that finds nothing to look up) to join it.
 */
export async function listMemberRows(
  db: Queryable,
  place: WorkspacePlace,
  filter: WorkspaceMemberFilter,
): Promise<WorkspaceMember[]> {
  const term = filter.q?.trim() ? filter.q : undefined;
  const how = term === undefined ? undefined : filter.matching;
  const walk = how && "walkUpTo" in how ? how : undefined;
  let q = db
    .selectFrom("workspace_memberships as wm")
    .innerJoinLateral(
      (eb) => {
        const user = eb
          .selectFrom("users as u")
          .select(["u.id", "u.name", "u.email"])
          .whereRef("u.id", "=", "wm.user_id");
        return (term !== undefined && walk ? user.where(personMatches(term)).offset(0) : user).as("u");
      },
      (join) => join.onTrue(),
    )
    .select(["u.id as userId", "u.name", "u.email", "wm.role", "wm.created_at as joinedAt"])
    .where("wm.org_id", "=", place.orgId)
    .where("wm.workspace_id", "=", place.workspaceId);
  if (filter.role) q = q.where("wm.role", "=", filter.role);
  if (term !== undefined && !walk) {
    q = q.where(
      how && "userIds" in how ? sql<SqlBool>`wm.user_id = ANY(${how.userIds}::text[])` : personMatches(term),
    );
  }
  if (walk?.walkUpTo) q = q.where("wm.user_id", "<=", walk.walkUpTo);
  if (filter.after) q = q.where("wm.user_id", ">", filter.after);
  return q
    .orderBy("wm.user_id")
    .limit(filter.limit + 1)
    .execute();
}

/**
 * The last member a search's walk may examine: the SEARCH_ROW_LIMIT-th after `from` by user id
 * (whatever their role), or undefined when fewer remain. Read from the primary key's index alone.
 */
export async function workspaceWalkEnd(
  db: Queryable,
  place: WorkspacePlace,
  from: string | undefined,
): Promise<string | undefined> {
  let q = db
    .selectFrom("workspace_memberships as wm")
    .select("wm.user_id")
    .where("wm.org_id", "=", place.orgId)
    .where("wm.workspace_id", "=", place.workspaceId);
  if (from) q = q.where("wm.user_id", ">", from);
  const row = await q
    .orderBy("wm.user_id")
    .offset(SEARCH_ROW_LIMIT - 1)
    .limit(1)
    .executeTakeFirst();
  return row?.user_id;
}

/**
 * An org member about to be given a workspace role, with their org membership row locked (and the
 * workspace held against deletion) until the transaction ends; undefined when the user is not a
 * member of this organisation or the workspace is gone. Their current workspace role is read
 * after the lock, in its own statement, so that it sees a change committed while we waited.
 */
export async function lockCandidate(
  tx: Queryable,
  place: WorkspacePlace,
  userId: string,
): Promise<
  { userId: string; name: string; email: string; current: WorkspaceMember | undefined } | undefined
> {
  const { rows } = await sql<{ id: string; name: string; email: string }>`
    SELECT u.id, u.name, u.email
    FROM org_memberships om
    JOIN users u ON u.id = om.user_id
    JOIN workspaces w ON w.org_id = om.org_id AND w.id = ${place.workspaceId}
    WHERE om.org_id = ${place.orgId} AND om.user_id = ${userId}
    FOR NO KEY UPDATE OF om FOR KEY SHARE OF w
  `.execute(tx);
  const person = rows[0];
  if (!person) return undefined;
  const current = await findMember(tx, place, userId);
  return { userId: person.id, name: person.name, email: person.email, current };
}

/** A direct member of the workspace, or undefined. `lock`: hold their membership row until commit. */
export async function findMember(
  db: Queryable,
  place: WorkspacePlace,
  userId: string,
  lock = false,
): Promise<WorkspaceMember | undefined> {
  let q = db
    .selectFrom("workspace_memberships as wm")
    .innerJoin("users as u", "u.id", "wm.user_id")
    .select(["u.id as userId", "u.name", "u.email", "wm.role", "wm.created_at as joinedAt"])
    .where("wm.org_id", "=", place.orgId)
    .where("wm.workspace_id", "=", place.workspaceId)
    .where("wm.user_id", "=", userId);
  if (lock) q = q.forUpdate("wm");
  return q.executeTakeFirst();
}
