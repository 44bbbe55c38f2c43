// Deliveries are signed the Standard Webhooks way (docs/webhooks.md): checked here with the
// project's reference verifier, never with Rollcall's own code, so that a receiver using any
// Standard Webhooks library accepts them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { newWebhookSecret, signatureHeader, webhookHeaders } from "./signing.js";

const now = () => Math.floor(Date.now() / 1000);
const body = JSON.stringify({
  type: "member.added",
  timestamp: "2026-01-02T03:04:05.000Z",
  data: { userId: "usr_1", email: "ada@example.com", note: "naïve ✓" },
});

describe("newWebhookSecret", () => {
  test("is whsec_ and the base64 of 32 random bytes, a new one each time", () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(a.slice("whsec_".length), "base64").length, 32);
    assert.notEqual(a, b);
  });
});

describe("webhookHeaders", () => {
  test("carry the Standard Webhooks headers, the content type and the user agent", () => {
    const secret = newWebhookSecret();
    const ts = now();
    const headers = webhookHeaders([secret], "evt_01JABCDEF", ts, body);
    assert.deepEqual(Object.keys(headers).sort(), [
      "content-type",
      "user-agent",
      "webhook-id",
      "webhook-signature",
      "webhook-timestamp",
    ]);
    assert.equal(headers["content-type"], "application/json");
    assert.equal(headers["user-agent"], "Rollcall-Webhooks/1");
    assert.equal(headers["webhook-id"], "evt_01JABCDEF");
    assert.equal(headers["webhook-timestamp"], String(ts));
    assert.match(headers["webhook-signature"]!, /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
  });
});

describe("the reference verifier", () => {
  test("accepts a delivery signed with one secret, and refuses it with another secret", () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders([secret], "evt_1", now(), body);
    assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    assert.throws(() => new Webhook(newWebhookSecret()).verify(body, headers), WebhookVerificationError);
  });

  test("during a rotation the header carries two signatures, and each secret alone verifies it", () => {
    const oldSecret = newWebhookSecret();
    const newSecret = newWebhookSecret();
    const headers = webhookHeaders([newSecret, oldSecret], "evt_2", now(), body);
    const signatures = headers["webhook-signature"]!.split(" ");
    assert.equal(signatures.length, 2);
    for (const s of signatures) assert.match(s, /^v1,/);
    assert.notEqual(signatures[0], signatures[1]);
    assert.deepEqual(new Webhook(oldSecret).verify(body, headers), JSON.parse(body));
    assert.deepEqual(new Webhook(newSecret).verify(body, headers), JSON.parse(body));
    assert.throws(() => new Webhook(newWebhookSecret()).verify(body, headers), WebhookVerificationError);
  });

  test("refuses a tampered body", () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders([secret], "evt_3", now(), body);
    const tampered = body.replace("ada@example.com", "eve@example.com");
    assert.notEqual(tampered, body);
    assert.throws(() => new Webhook(secret).verify(tampered, headers), WebhookVerificationError);
  });

  test("refuses a timestamp other than the signed one, and a different message id", () => {
    const secret = newWebhookSecret();
    const ts = now();
    const headers = webhookHeaders([secret], "evt_4", ts, body);
    const verifier = new Webhook(secret);
    assert.throws(
      () => verifier.verify(body, { ...headers, "webhook-timestamp": String(ts + 1) }),
      WebhookVerificationError,
    );
    assert.throws(
      () => verifier.verify(body, { ...headers, "webhook-id": "evt_5" }),
      WebhookVerificationError,
    );
  });

  test("refuses a delivery signed too long ago (replay), though its signature is right", () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders([secret], "evt_6", now() - 3600, body);
    assert.throws(() => new Webhook(secret).verify(body, headers), /too old/);
  });

  test("a signature matches the Standard Webhooks test vector", () => {
    // The vector the Standard Webhooks libraries test with (secret, id, timestamp, payload, signature).
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const payload = '{"test": 2432232314}';
    assert.equal(
      signatureHeader([secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, payload),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    );
  });
});

describe("signatureHeader refuses what it cannot sign", () => {
  const good = newWebhookSecret();
  for (const [name, secret] of [
    ["no whsec_ prefix", good.slice("whsec_".length)],
    ["not base64", "whsec_not*base64*at*all*not*base64*at*all*aaa="],
    ["a key too short", `whsec_${Buffer.alloc(8).toString("base64")}`],
    ["an empty key", "whsec_"],
  ] as const) {
    test(`a secret with ${name}, without repeating the secret`, () => {
      assert.throws(
        () => signatureHeader([good, secret], "evt_1", now(), body),
        (e: Error) =>
          e instanceof TypeError && /Malformed webhook secret/.test(e.message) && !e.message.includes(secret),
      );
    });
  }

  test("no secret, a fractional timestamp, an id with a dot or a line break", () => {
    assert.throws(() => signatureHeader([], "evt_1", now(), body), TypeError);
    assert.throws(() => signatureHeader([good], "evt_1", now() + 0.5, body), TypeError);
    assert.throws(() => signatureHeader([good], "evt.1", now(), body), TypeError);
    assert.throws(() => signatureHeader([good], "evt_1\r\nx-injected: 1", now(), body), TypeError);
  });
});
