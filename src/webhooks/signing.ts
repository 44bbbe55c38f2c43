// Signing a webhook delivery the Standard Webhooks way (https://www.standardwebhooks.com), so that
// any receiver can verify it with the reference libraries. The contract is docs/webhooks.md.
//
// A secret is `whsec_` + base64 of the key bytes. The signed content is
// `${msgId}.${timestamp}.${body}`; each secret gives one `v1,<base64 HMAC-SHA256>` and the header
// carries them all, space-separated: during a rotation the old and the new secret both sign, so a
// receiver holding either one accepts the delivery.
import { createHmac, randomBytes } from "node:crypto";

const PREFIX = "whsec_";
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// The Standard Webhooks specification asks for keys of 24 to 64 bytes; ours are 32.
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

export const WEBHOOK_USER_AGENT = "Rollcall-Webhooks/1";

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes. Shown once, at creation or rotation. */
export function newWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString("base64");
}

// The key bytes of a secret. The message never repeats the secret: it ends up in logs.
function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : null;
  if (encoded === null || !CANONICAL_BASE64.test(encoded)) {
    throw new TypeError("Malformed webhook secret: expected whsec_ followed by base64");
  }
  const key = Buffer.from(encoded, "base64");
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw new TypeError(
      `Malformed webhook secret: the key is ${key.length} bytes, not ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES}`,
    );
  }
  return key;
}

/**
 * The `webhook-signature` header: `v1,<signature>` for each secret, space-separated.
 * `timestamp` is in Unix seconds and must be the one sent in `webhook-timestamp`; `body` is the
 * exact string sent.
 */
export function signatureHeader(
  secrets: readonly string[],
  msgId: string,
  timestamp: number,
  body: string,
): string {
  if (secrets.length === 0) throw new TypeError("A webhook needs at least one secret to sign with");
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError("The webhook timestamp must be a whole number of Unix seconds");
  }
  // The id is part of the signed content and of a header: a dot would make the content ambiguous,
  // a line break would split the header.
  if (msgId === "" || /[.\s]/.test(msgId)) {
    throw new TypeError("The webhook message id must be non-empty, without dots or white space");
  }
  const content = `${msgId}.${timestamp}.${body}`;
  return secrets
    .map((secret) => `v1,${createHmac("sha256", secretKey(secret)).update(content, "utf8").digest("base64")}`)
    .join(" ");
}

/** Every header of a delivery: the three Standard Webhooks ones, the content type and the user agent. */
export function webhookHeaders(
  secrets: readonly string[],
  msgId: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    "content-type": "application/json",
    "webhook-id": msgId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatureHeader(secrets, msgId, timestamp, body),
    "user-agent": WEBHOOK_USER_AGENT,
  };
}
