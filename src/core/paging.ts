// Keyset pagination: a page is the rows after a cursor, plus one more fetched to learn whether
// another page exists. The cursor is the last item's sort key, base64url-encoded.
import { type RawBuilder, sql } from "kysely";
import { AppError } from "./errors.js";

/** Cursors are opaque to clients: base64url of the last item's sort key. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const key = Buffer.from(cursor, "base64url").toString("utf8");
  if (!key || !/^[\w.:-]{1,150}$/.test(key)) {
    throw new AppError("validation_failed", "The cursor is not one this server gave", [
      { field: "cursor", message: "is not a cursor from a previous page" },
    ]);
  }
  return key;
}

/** Cuts the extra row a query fetched to learn whether another page exists. */
export function page<T>(
  rows: T[],
  limit: number,
  key: (row: T) => string,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(key(last)) : null };
}

/**
 * A key for rows ordered by a timestamp, then their id: `2024-05-01T12:00:00.123456Z.<id>`, the
 * time in UTC to the microsecond (PostgreSQL's precision, so that no two rows of one page share a
 * key they do not share in the table). `timeKeyOf` selects the time part; `parseTimeKey` reads a
 * key back, or answers null for one this server did not make.
 */
export function timeKeyOf(column: string): RawBuilder<string> {
  return sql<string>`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

const TIME_KEY = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\.([\w-]{1,100})$/;

export function parseTimeKey(key: string): { at: string; id: string } | null {
  const m = TIME_KEY.exec(key);
  if (!m?.[1] || !m[2]) return null;
  // The pattern admits month 13 or 25 o'clock; PostgreSQL would refuse them with a 500.
  const ms = `${m[1].slice(0, 23)}Z`;
  const date = new Date(ms);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== ms) return null;
  return { at: m[1], id: m[2] };
}
