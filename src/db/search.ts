// "q matches name or e-mail, case-insensitive, anywhere in the string" (README.md#http-api), written so
// that the trigram indexes of migration 0002 (lower(name), lower(email) with gin_trgm_ops) serve it,
// and so that no search reads more than SEARCH_ROW_LIMIT rows or another organisation's members.
import { type RawBuilder, type SqlBool, sql } from "kysely";
import { encodeCursor, page } from "../core/paging.js";
import { foldEmail } from "../email.js";
import type { Queryable } from "./index.js";

/**
 * `%q%` for LIKE, with LIKE's own wildcards in `q` taken literally. The term is folded as an
 * address is (src/email.ts: NFKC and lower-case, in JavaScript): stored addresses are in that
 * form, so "ｋｉｍ" or "\u212Aim" finds kim@example.org.
 */
export function containsPattern(q: string): string {
  return `%${foldEmail(q).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A search among the members of an organisation (or of one of its workspaces), in two steps, so
 * that no term — rare, common, one letter or only punctuation — reads every member, let alone
 * every user of the installation. PostgreSQL cannot estimate how many people `%q%` matches, and a
 * wrong guess costs seconds at a million members. So:
 *
 * 1. `searchPlan`: if pg_trgm can look the term up (trigramsServe), up to CANDIDATE_LIMIT + 1 of
 *    these members among the first SEARCH_ROW_LIMIT users the trigram indexes find.
 * 2. At most CANDIDATE_LIMIT: the page is cut from exactly those (`{ userIds }`), a small sort.
 *    More, or a term the indexes cannot serve, or one matching more than SEARCH_ROW_LIMIT users:
 *    the members are walked in their page order (`"walk"`), SEARCH_ROW_LIMIT of them at most per
 *    request (walkedPage: the answer then says so, and its cursor goes on from where it stopped).
 */
export const CANDIDATE_LIMIT = 1000;

/**
 * The most rows one search request examines in either step: users found through the trigram
 * indexes, or members walked. Tens of milliseconds (measured in the review 13.6 tests): a request
 * cannot hold the embedded database for long, and an organisation of up to this many members is
 * searched whole in one request.
 */
export const SEARCH_ROW_LIMIT = 10_000;

/** The people a search looks among. */
export type SearchScope = { orgId: string; workspaceId?: string | undefined };

export type SearchPlan = { userIds: string[] } | "walk";

/**
 * Whether pg_trgm finds anything to look up in `q`: it takes trigrams from runs of letters and
 * digits, so a term with no run of three (`bo`, `%`, `---`, `a.b`) would make its indexes return
 * every row, and PostgreSQL reads the whole users table instead.
 */
export function trigramsServe(q: string): boolean {
  return /[\p{L}\p{N}]{3}/u.test(q.trim());
}

/** `EXISTS`: the user `u.id` is one of the people of `scope`. */
function inScope(scope: SearchScope): RawBuilder<SqlBool> {
  return scope.workspaceId === undefined
    ? sql<SqlBool>`EXISTS (SELECT 1 FROM org_memberships s WHERE s.org_id = ${scope.orgId} AND s.user_id = u.id OFFSET 0)`
    : sql<SqlBool>`EXISTS (SELECT 1 FROM workspace_memberships s WHERE s.org_id = ${scope.orgId} AND s.workspace_id = ${scope.workspaceId} AND s.user_id = u.id OFFSET 0)`;
}

/**
 * Step 1's query: among the first SEARCH_ROW_LIMIT + 1 users matching `q` (trigram indexes), those
 * in `scope`, up to CANDIDATE_LIMIT + 1; and the (SEARCH_ROW_LIMIT + 1)-th match whoever it is,
 * with `beyond` true, to say that the users were not all read.
 */
export function candidatesQuery(db: Queryable, q: string, scope: SearchScope) {
  const matches = db
    .selectFrom("users as u")
    .select(["u.id", sql<string>`row_number() OVER ()`.as("n"), inScope(scope).as("member")])
    .where(personMatches(q))
    .limit(SEARCH_ROW_LIMIT + 1)
    .as("c");
  return db
    .selectFrom(matches)
    .select(["c.id", "c.member", sql<boolean>`c.n > ${SEARCH_ROW_LIMIT}`.as("beyond")])
    .where(sql<SqlBool>`c.member OR c.n > ${SEARCH_ROW_LIMIT}`)
    .limit(CANDIDATE_LIMIT + 1);
}

/** Step 1: how to find the page of `scope`'s people matching `q` (a non-blank term). */
export async function searchPlan(db: Queryable, q: string, scope: SearchScope): Promise<SearchPlan> {
  if (!trigramsServe(q)) return "walk";
  const rows = await candidatesQuery(db, q, scope).execute();
  const userIds = rows.filter((r) => r.member && !r.beyond).map((r) => r.id);
  return userIds.length > CANDIDATE_LIMIT || rows.some((r) => r.beyond) ? "walk" : { userIds };
}

/**
 * A page of a walk that may examine members up to `end` only (the SEARCH_ROW_LIMIT-th after the
 * cursor; undefined when fewer remain). A full page pages as usual; otherwise, when the walk
 * stopped at `end` rather than at the last member, the answer says so and goes on from there.
 */
export function walkedPage<T>(
  rows: T[],
  limit: number,
  key: (row: T) => string,
  end: string | undefined,
): { items: T[]; nextCursor: string | null; searchLimitReached?: true } {
  const result = page(rows, limit, key);
  if (result.nextCursor !== null || end === undefined) return result;
  return { ...result, nextCursor: encodeCursor(end), searchLimitReached: true };
}

/** A WHERE condition: the user row under `alias` (default `u`) matches `q`. Use as `.where(personMatches(q))`. */
export function personMatches(q: string, alias = "u"): RawBuilder<SqlBool> {
  const pattern = containsPattern(q);
  return sql<SqlBool>`(lower(${sql.ref(`${alias}.name`)}) LIKE ${pattern} OR lower(${sql.ref(`${alias}.email`)}) LIKE ${pattern})`;
}
