// Passwords: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane); 8–256 characters and
// no composition rules (NIST 800-63B), but not one of the ~18,000 most common passwords of that
// length, nor the account's own e-mail address or name.
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { hash, verify } from "@node-rs/argon2";
import { foldEmail } from "../email.js";

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

let hashesMade = 0;

export function hashPassword(password: string): Promise<string> {
  hashesMade += 1;
  return hash(password, ARGON2);
}

/**
 * How many argon2 hashes this process has started: each costs ~19 MiB and tens of milliseconds of a
 * worker thread, so a route that hashes before it has checked anything cheap is a way to stall the
 * server (`rollcall_password_hashes_total`).
 */
export function passwordHashesMade(): number {
  return hashesMade;
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// A hash of a random password, verified against when there is no account, so that an unknown
// address costs the same time as a wrong password (docs/rules.md#rule-11). Made as the module loads, not
// at the first unknown address: made then, that first log-in would cost a hash and a verify, twice
// a wrong password's time.
export const dummyHash: Promise<string> = hashPassword(`no-account-${randomBytes(16).toString("hex")}`);
export async function burnPasswordCheck(password: string): Promise<void> {
  await verifyPassword(await dummyHash, password);
}

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  if (!common) {
    // zxcvbn-ts's frequency-ordered list of leaked passwords (MIT).
    const list = createRequire(import.meta.url)("@zxcvbn-ts/language-common/src/passwords.json") as string[];
    common = new Set(list.filter((p) => p.length >= PASSWORD_MIN).map((p) => p.toLowerCase()));
  }
  return common;
}

/** Why this password may not be used, in words for the person choosing it; null when it may. */
export function passwordWeakness(
  password: string,
  context: { email?: string; name?: string } = {},
): string | null {
  const chars = [...password].length;
  if (chars < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (chars > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) {
    return "is one of the most common passwords and easy to guess; choose a longer or less usual one";
  }
  // The address in any spelling of it (src/email.ts): "ｋｉｍ@example.org" is kim@example.org.
  const email = context.email === undefined ? undefined : foldEmail(context.email);
  const folded = foldEmail(password);
  if (email && (folded === email || folded === email.split("@")[0])) return "must not be your e-mail address";
  if (context.name && lower === context.name.trim().toLowerCase()) return "must not be your name";
  return null;
}
