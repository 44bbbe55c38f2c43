// The retry schedule of a webhook delivery (docs/webhooks.md#retries, DESIGN §8).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MAX_ATTEMPTS, nextAttemptDelay, RETRY_DELAYS_MS } from "./schedule.js";

const exact = () => 0.5;
const s = 1000;
const min = 60 * s;
const h = 60 * min;

describe("nextAttemptDelay", () => {
  test("walks 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then gives up after the 8th attempt", () => {
    const schedule = [5 * s, 5 * min, 30 * min, 2 * h, 5 * h, 10 * h, 10 * h];
    assert.deepEqual(RETRY_DELAYS_MS, schedule);
    assert.equal(MAX_ATTEMPTS, 8);
    schedule.forEach((delay, i) => {
      assert.equal(nextAttemptDelay(i + 1, 1, exact), delay, `after attempt ${i + 1}`);
    });
    assert.equal(nextAttemptDelay(8, 1, exact), null);
    assert.equal(nextAttemptDelay(9, 1, exact), null);
    assert.equal(nextAttemptDelay(8), null);
  });

  test("the scale shrinks every delay, and 0 retries at once", () => {
    assert.equal(nextAttemptDelay(1, 0.001, exact), 5);
    assert.equal(nextAttemptDelay(7, 0.001, exact), 36_000);
    assert.equal(nextAttemptDelay(3, 0, exact), 0);
    assert.equal(nextAttemptDelay(8, 0.001, exact), null);
  });

  test("the jitter stays within ±10 %, and reaches both ends", () => {
    assert.equal(
      nextAttemptDelay(2, 1, () => 0),
      270_000,
    );
    assert.equal(
      nextAttemptDelay(2, 1, () => 1),
      330_000,
    );
    // Out-of-range randomness is clamped, not trusted.
    assert.equal(
      nextAttemptDelay(2, 1, () => 7),
      330_000,
    );
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = nextAttemptDelay(4, 1)!;
      assert.ok(d >= 0.9 * 2 * h && d <= 1.1 * 2 * h, `${d}`);
      seen.add(d);
    }
    assert.ok(seen.size > 100, "Math.random spreads the delays");
  });

  test("refuses an attempt count below 1 or fractional, and a negative scale", () => {
    assert.throws(() => nextAttemptDelay(0), RangeError);
    assert.throws(() => nextAttemptDelay(1.5), RangeError);
    assert.throws(() => nextAttemptDelay(1, -1), RangeError);
    assert.throws(() => nextAttemptDelay(1, Number.NaN), RangeError);
  });
});
