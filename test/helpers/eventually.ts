// Waiting for what happens on its own (a mail worker, a server coming back): retry a check until
// it stops throwing, and fail with its last error, named, when the time is up.
import { setTimeout as sleep } from "node:timers/promises";

export async function eventually<T>(check: () => Promise<T>, timeoutMs: number, label: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`${label}: not so within ${timeoutMs} ms: ${(err as Error).message}`);
      }
      await sleep(100);
    }
  }
}
