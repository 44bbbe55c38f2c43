// The environment knobs whose parsing is a security decision: TRUST_PROXY and METRICS_TOKEN.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, loadConfig, parseTrustProxy } from "./config.js";

function refused(env: Record<string, string>, pattern: RegExp): string {
  let message = "";
  assert.throws(
    () => loadConfig(env),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      message = e.message;
      return pattern.test(e.message);
    },
  );
  return message;
}

describe("TRUST_PROXY", () => {
  test("review 13.3: true (believe every hop) is refused at start with what to set instead", () => {
    for (const value of ["true", "TRUE", "yes", "on"]) {
      const message = refused({ TRUST_PROXY: value }, /TRUST_PROXY/);
      assert.match(message, /choose its own IP/);
      assert.match(message, /"1"/, "names a hop count to set");
      assert.match(message, /10\.0\.0\.0\/8/, "names an address range to set");
    }
  });

  test("unset or false means no proxy: X-Forwarded-For is ignored", () => {
    assert.equal(loadConfig({}).trustProxy, false);
    for (const value of ["", "false", "0", "no", "off", "FALSE"]) {
      assert.equal(loadConfig({ TRUST_PROXY: value }).trustProxy, false, value);
    }
  });

  test("a whole number is that many proxy hops", () => {
    assert.deepEqual(loadConfig({ TRUST_PROXY: "1" }).trustProxy, { hops: 1 });
    assert.deepEqual(loadConfig({ TRUST_PROXY: " 2 " }).trustProxy, { hops: 2 });
    refused({ TRUST_PROXY: "11" }, /at most 10 hops/);
  });

  test("a list of proxy addresses, CIDR ranges and proxy-addr's named ranges", () => {
    assert.deepEqual(loadConfig({ TRUST_PROXY: "192.0.2.10, 10.0.0.0/8,fd00::/8,::1,loopback" }).trustProxy, {
      addresses: ["192.0.2.10", "10.0.0.0/8", "fd00::/8", "::1", "loopback"],
    });
    for (const bad of [
      "10.0.0.0/33",
      "fd00::/129",
      "10.0.0.0/8/1",
      "10.0.0",
      "lb.internal",
      "10.0.0.1,",
      "10.0.0.0/x",
      "*",
    ]) {
      const message = refused({ TRUST_PROXY: bad }, /TRUST_PROXY must be a number of proxy hops or/);
      assert.match(message, /not an address/, bad);
    }
    assert.equal(typeof parseTrustProxy("10.0.0.1, nope"), "string");
  });
});

describe("METRICS_TOKEN", () => {
  test("unset means no /metrics; a short token is refused without echoing it", () => {
    assert.equal(loadConfig({}).metricsToken, undefined);
    assert.equal(loadConfig({ METRICS_TOKEN: "a".repeat(32) }).metricsToken, "a".repeat(32));
    const message = refused({ METRICS_TOKEN: "hunter2" }, /METRICS_TOKEN must be at least 16/);
    assert.doesNotMatch(message, /hunter2/);
    refused({ METRICS_TOKEN: "sixteen chars or more" }, /without spaces/);
  });
});
