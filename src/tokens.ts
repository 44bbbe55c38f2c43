// Secrets handed to people (session tokens, reset links, invitation links): 256 bits from the
// CSPRNG, kept only as SHA-256, compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** 32 random bytes, base64url: 43 characters, 256 bits. */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

export function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A secret's shape: exactly what newSecret() makes. Anything else is not worth a query. */
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
