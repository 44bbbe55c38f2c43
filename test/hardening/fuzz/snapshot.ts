// The database before and after a junk request, and the one list of what such a request may still
// write. A snapshot is every row of every table as text (one SELECT, built from the schema, so a
// new table is covered without a change here), minus what MAY_CHANGE lists; `changes` says, row by
// row, how two snapshots differ, so that a failure shows what the request wrote.
import assert from "node:assert/strict";
import { sql } from "kysely";
import type { Db } from "../../../src/db/index.js";

/**
 * What a refused request may still write, and why. Everything else in the database must be
 * byte-for-byte the same after a junk request.
 */
export const MAY_CHANGE: Record<string, { columns: "all" | string[]; why: string }> = {
  rate_limits: {
    columns: "all",
    why:
      "rule 12 counts attempts whether or not they succeed: failed log-ins, sign-ups, password-reset " +
      "requests, invitation lookups and accepts are counted before (or because) they are refused",
  },
  sessions: {
    columns: ["last_seen_at", "ip"],
    why:
      "sliding idle expiry: a request carrying a live session, even one then refused, refreshes " +
      "last_seen_at (and the address it came from) at most once a minute",
  },
};

/** Rows as text by table, each table's rows sorted. */
export type Snapshot = Map<string, string[]>;

/** One SELECT over every table: each row as text, without what MAY_CHANGE lists. */
async function buildSnapshotSql(db: Db): Promise<string> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    SELECT c.table_name, c.column_name
    FROM information_schema.columns c
    JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
    WHERE c.table_schema = current_schema() AND tb.table_type = 'BASE TABLE'
    ORDER BY c.table_name, c.ordinal_position`.execute(db);
  const tables = new Map<string, string[]>();
  for (const r of rows) tables.set(r.table_name, [...(tables.get(r.table_name) ?? []), r.column_name]);
  assert.ok(tables.has("users") && tables.has("audit_events"), "the snapshot sees the schema");
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const selects: string[] = [];
  for (const [table, columns] of tables) {
    const skip = MAY_CHANGE[table]?.columns;
    if (skip === "all") continue;
    const kept = columns.filter((c) => !skip?.includes(c));
    selects.push(
      `SELECT '${table.replaceAll("'", "''")}' AS t, ROW(${kept.map(quote).join(", ")})::text AS r FROM ${quote(table)}`,
    );
  }
  return selects.join("\nUNION ALL\n");
}

/** A function that snapshots `db`; the SELECT is built on the first call and kept. */
export function snapshotsOf(db: Db): () => Promise<Snapshot> {
  let snapshotSql: string | undefined;
  return async () => {
    snapshotSql ??= await buildSnapshotSql(db);
    const { rows } = await sql<{ t: string; r: string }>`${sql.raw(snapshotSql)}`.execute(db);
    const out: Snapshot = new Map();
    for (const { t: table, r } of rows) out.set(table, [...(out.get(table) ?? []), r]);
    for (const list of out.values()) list.sort();
    return out;
  };
}

/** What differs, as "table: + row" and "table: - row" lines. */
export function changes(before: Snapshot, after: Snapshot): string[] {
  const lines: string[] = [];
  for (const table of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(table) ?? [];
    const now = after.get(table) ?? [];
    if (was.join("\n") === now.join("\n")) continue;
    const kept = new Set(now);
    const had = new Set(was);
    for (const r of was) if (!kept.has(r)) lines.push(`${table}: - ${r.slice(0, 240)}`);
    for (const r of now) if (!had.has(r)) lines.push(`${table}: + ${r.slice(0, 240)}`);
  }
  return lines;
}
