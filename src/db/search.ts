// "q matches name or e-mail, case-insensitive, anywhere in the string" (DESIGN §4), written so
// that the trigram indexes of migration 0002 (lower(name), lower(email) with gin_trgm_ops) serve it.
import { type RawBuilder, type SqlBool, sql } from "kysely";
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
 * A search in a large organisation, in two steps, so that neither a rare nor a common term reads
 * every member. PostgreSQL cannot estimate how many people `%q%` matches, and a wrong guess costs
 * seconds at a million members: walking the join-order index for a rare term reads them all;
 * sorting every match of a common term reads tens of thousands. So:
 *
 * 1. `searchCandidates`: up to CANDIDATE_LIMIT + 1 matching users, through the trigram indexes.
 * 2. At most CANDIDATE_LIMIT: the page is cut from exactly those (`matching: { userIds }`), a small sort.
 *    More: the term is common, so walking the organisation's members in join order finds a page
 *    of matches quickly (orgs/queries.ts memberSearch, `matching: "scan"`).
 */
export const CANDIDATE_LIMIT = 1000;

/** Step 1's query: up to CANDIDATE_LIMIT + 1 users matching `q`. */
export function candidatesQuery(db: Queryable, q: string) {
  return db
    .selectFrom("users as u")
    .select("u.id")
    .where(personMatches(q))
    .limit(CANDIDATE_LIMIT + 1);
}

export async function searchCandidates(db: Queryable, q: string): Promise<string[]> {
  const rows = await candidatesQuery(db, q).execute();
  return rows.map((r) => r.id);
}

/** A WHERE condition: the user row under `alias` (default `u`) matches `q`. Use as `.where(personMatches(q))`. */
export function personMatches(q: string, alias = "u"): RawBuilder<SqlBool> {
  const pattern = containsPattern(q);
  return sql<SqlBool>`(lower(${sql.ref(`${alias}.name`)}) LIKE ${pattern} OR lower(${sql.ref(`${alias}.email`)}) LIKE ${pattern})`;
}
