// Opaque, time-ordered ids: a type prefix and 26 Crockford base-32 characters (48 bits of
// milliseconds, 80 random bits), so that ids sort by creation and cursors can page by id.
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export type IdPrefix =
  | "usr"
  | "ses"
  | "org"
  | "wsp"
  | "evt"
  | "mail"
  | "inv"
  | "key"
  | "svc"
  | "whk"
  | "dlv"
  | "rls";

export function newId(prefix: IdPrefix, now = Date.now()): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(now, 0, 6);
  randomBytes(10).copy(bytes, 6);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = "";
  for (let i = 0; i < 26; i++) {
    out = ALPHABET[Number(bits & 31n)] + out;
    bits >>= 5n;
  }
  return `${prefix}_${out}`;
}
