// Keys for machines (docs/api-keys.md): an organisation's API keys (`rk_…`), which act in their
// organisation with a role and workspace grants like a member, and the installation's service
// keys (`rsk_…`), which read everything and change nothing. A token is its kind's prefix and 256
// bits from the CSPRNG (newSecret); only its SHA-256 is kept, and a request's key is found by that
// hash, so there is no secret comparison to time.
import { newSecret, SECRET_PATTERN, sha256 } from "../tokens.js";

/** The org roles an API key may act as: never owner. The one list (0009's CHECK follows it). */
export const API_KEY_ROLES = ["admin", "member"] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export const API_KEY_PREFIX = "rk_";
export const SERVICE_KEY_PREFIX = "rsk_";

/** How many of a token's first characters a list shows, to tell keys apart (prefix + 6). */
const SHOWN = 6;

export interface NewKeyToken {
  token: string;
  hash: Buffer;
  /** The token's first characters, kept to tell keys apart in a list. */
  prefix: string;
}

export function newKeyToken(kind: typeof API_KEY_PREFIX | typeof SERVICE_KEY_PREFIX): NewKeyToken {
  const token = `${kind}${newSecret()}`;
  return { token, hash: sha256(token), prefix: token.slice(0, kind.length + SHOWN) };
}

/** Which kind of key a bearer token claims to be, and its hash; null for anything else. */
export function parseKeyToken(token: string): { kind: "api_key" | "service_key"; hash: Buffer } | null {
  for (const [prefix, kind] of [
    [SERVICE_KEY_PREFIX, "service_key"],
    [API_KEY_PREFIX, "api_key"],
  ] as const) {
    if (token.startsWith(prefix)) {
      return SECRET_PATTERN.test(token.slice(prefix.length)) ? { kind, hash: sha256(token) } : null;
    }
  }
  return null;
}

/** A token that looks like a key at all (so the answer says "API key", not "session"). */
export function looksLikeKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX) || token.startsWith(SERVICE_KEY_PREFIX);
}

/** `lastUsedAt` is written at most this often. */
export const LAST_USED_INTERVAL_MS = 60_000;
