// When a failed delivery is tried again (docs/webhooks.md#retries): after about 5 s, 5 min,
// 30 min, 2 h, 5 h, 10 h and 10 h — eight attempts over about 28 hours — then it is `failed`.
// The jitter spreads the retries of many deliveries that failed together (a receiver that was
// down) so that they do not all come back at the same instant.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The wait before attempt n + 2 after attempt n + 1 failed. */
export const RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
]);

/** The first attempt and one per retry delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** How far the jitter moves a delay either way: ±10 %. */
export const JITTER = 0.1;

/**
 * How long to wait, in ms, before the next attempt once `attemptsMade` attempts have failed;
 * `null` when there is none left (the delivery is `failed`). `scale` shrinks the schedule
 * (`WEBHOOK_RETRY_SCALE`, for tests); `random` (in [0, 1)) places the delay within ±10 %:
 * `() => 0.5` gives the exact delay.
 */
export function nextAttemptDelay(
  attemptsMade: number,
  scale = 1,
  random: () => number = Math.random,
): number | null {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) {
    throw new RangeError(`attemptsMade must be a whole number from 1, not ${attemptsMade}`);
  }
  if (!Number.isFinite(scale) || scale < 0) {
    throw new RangeError(`The retry scale must be a number from 0, not ${scale}`);
  }
  const base = RETRY_DELAYS_MS[attemptsMade - 1];
  if (base === undefined) return null;
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(base * scale * (1 - JITTER + 2 * JITTER * r));
}
