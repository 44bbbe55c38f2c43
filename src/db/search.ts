// "q matches name or e-mail, case-insensitive, anywhere in the string" (DESIGN §4), written so
// that the trigram indexes of migration 0002 (lower(name), lower(email) with gin_trgm_ops) serve it.
import { type RawBuilder, type SqlBool, sql } from "kysely";

/** `%q%` for LIKE, lower-cased, with LIKE's own wildcards in `q` taken literally. */
export function containsPattern(q: string): string {
  return `%${q
    .trim()
    .toLowerCase()
    .replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A WHERE condition: the user row under `alias` (default `u`) matches `q`. Use as `.where(personMatches(q))`. */
export function personMatches(q: string, alias = "u"): RawBuilder<SqlBool> {
  const pattern = containsPattern(q);
  return sql<SqlBool>`(lower(${sql.ref(`${alias}.name`)}) LIKE ${pattern} OR lower(${sql.ref(`${alias}.email`)}) LIKE ${pattern})`;
}
