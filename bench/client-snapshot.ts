// C4 of the client benchmark (bench/client.ts), in a process of its own so that its heap is the
// replica's: the time ready() takes (snapshot read and parsed, stream open, lease live) and the
// heap it adds. `node --expose-gc --import tsx bench/client-snapshot.ts`; env ROLLCALL_URL,
// ROLLCALL_SERVICE_KEY. Prints one JSON line.
import { Rollcall } from "../packages/client/src/index.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
gc();
const before = process.memoryUsage().heapUsed;
const rc = new Rollcall({
  url: process.env.ROLLCALL_URL ?? "",
  serviceKey: process.env.ROLLCALL_SERVICE_KEY ?? "",
});
const started = performance.now();
await rc.ready();
const ms = performance.now() - started;
gc();
const heapBytes = process.memoryUsage().heapUsed - before;
const { orgMembers, workspaceMembers } = rc.size;
process.stdout.write(
  `${JSON.stringify({ ms, heapBytes, memberships: orgMembers + workspaceMembers, rssBytes: process.memoryUsage().rss })}\n`,
);
await rc.close();
