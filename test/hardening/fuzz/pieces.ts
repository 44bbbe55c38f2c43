// A generated part of a request, which carries with it why it must be refused or why it is valid yet
// changes nothing: the test judges a request by the reasons of its parts, so every generator
// returns Pieces. Also the small value generators the path, query, body and caller generators all
// draw on: hostile-looking but valid text, made-up tokens, unknown addresses, strong passwords.
import fc from "fast-check";
import type { Schema } from "./operations.js";

/**
 * A generated part of a request, with why it must be refused (`junk`) or why it is valid yet
 * changes nothing (`harmless`).
 */
export interface Piece<T> {
  value: T;
  junk: string[];
  harmless: string[];
}

export function piece<T>(value: T, junk: string[] = [], harmless: string[] = []): Piece<T> {
  return { value, junk, harmless };
}

export function merged<T>(value: T, parts: Piece<unknown>[]): Piece<T> {
  return piece(
    value,
    parts.flatMap((p) => p.junk),
    parts.flatMap((p) => p.harmless),
  );
}

/** Hostile-looking text that is still valid text: it may be accepted where free text is. */
const HOSTILE_TEXT = [
  "'; DROP TABLE users; --",
  "' OR '1'='1",
  "1; SELECT pg_sleep(5)",
  "$$; DELETE FROM sessions; $$",
  "%_\\",
  "../../etc/passwd",
  "..\\..\\windows\\win.ini",
  "<script>alert(1)</script>",
  "{{7*7}}<%= 7*7 %>",
  "%s%s%n",
  "\u202etxt.exe",
  "e\u0301\u0301",
  "👩‍👩‍👧‍👦",
  "zero\u200bwidth",
  "Ω≈ç√∫",
  "null",
  "[]",
  "-1",
];

export const hostileText = fc.oneof(
  fc.constantFrom(...HOSTILE_TEXT),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 24 }).filter((s) => !s.includes("\u0000")),
);

/** Text within a schema's length bounds (noise: whether it is then accepted does not matter). */
export function textWithin(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 200;
  return hostileText.map((s) => {
    const fitted = [...s].slice(0, max).join("");
    return fitted.length >= min ? fitted : fitted.padEnd(min, "x");
  });
}

const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString("hex"));
/** A token of the shape the server gives, which no invitation, reset or session has. */
export const madeUpToken = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString("base64url"));
export const unknownAddress = fc
  .tuple(fc.constantFrom("fuzz", "o'brien", "a+b", "x.y"), hex(6))
  .map(([local, h]) => `${local}.${h}@example.net`);
export const strongPassword = hex(12).map((h) => `fz ${h} staple`);

export function deepArray(depth: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

export const enc = encodeURIComponent;
