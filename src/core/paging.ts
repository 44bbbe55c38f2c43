// Keyset pagination: a page is the rows after a cursor, plus one more fetched to learn whether
// another page exists. The cursor is the last item's sort key, base64url-encoded.
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
