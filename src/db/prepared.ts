// Hot reads as named prepared statements: PostgreSQL parses and plans the statement once per
// connection, and each later run sends only Bind and Execute. Planning a join over the member
// tables costs more than running it, so for the reads every page view makes this halves the
// database's work. The name is derived from the SQL, so a builder that makes several shapes
// (with and without a search, say) prepares one statement per shape.
//
// Only for reads whose select list names its columns (no `select *`): a prepared statement whose
// result type a migration changes fails with "cached plan must not change result type".
import { createHash } from "node:crypto";
import type { CompiledQuery } from "kysely";
import type pg from "pg";

export async function runPrepared<R>(pool: pg.Pool, query: CompiledQuery<R>): Promise<R[]> {
  const name = `rollcall_${createHash("sha256").update(query.sql).digest("base64url").slice(0, 22)}`;
  const { rows } = await pool.query({ name, text: query.sql, values: [...query.parameters] });
  return rows as R[];
}
