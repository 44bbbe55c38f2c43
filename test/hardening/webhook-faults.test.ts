// Webhook deliveries through faults (issue 15, part 6; docs/webhooks.md).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("WEBHOOK_LEASE_MS", () => {
  test("defaults to twice the deadline plus a minute, is read from the environment, and must outlast the deadline", () => {
    // Promise: the lease a dead server's deliveries wait out is a validated setting, so that a
    // test (or an operator) can shorten it, but never below one attempt's deadline, which would
    // let a second server post a delivery that is still being posted.
    assert.equal(loadConfig({}).webhooks.leaseMs, 90_000);
    assert.equal(loadConfig({ WEBHOOK_TIMEOUT_MS: "1000" }).webhooks.leaseMs, 62_000);
    assert.equal(loadConfig({ WEBHOOK_LEASE_MS: "3000", WEBHOOK_TIMEOUT_MS: "2000" }).webhooks.leaseMs, 3000);
    for (const [lease, timeout] of [
      ["999", "500"],
      ["2000", "2000"],
      ["5000", "15000"],
      ["soon", "1000"],
    ]) {
      assert.throws(
        () => loadConfig({ WEBHOOK_LEASE_MS: lease, WEBHOOK_TIMEOUT_MS: timeout }),
        (err: unknown) => err instanceof ConfigError && /WEBHOOK_LEASE_MS/.test(err.message),
        `WEBHOOK_LEASE_MS=${lease} with WEBHOOK_TIMEOUT_MS=${timeout} must be refused`,
      );
    }
  });
});
