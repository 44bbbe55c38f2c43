// The list of audit actions (actions.ts) is the server's whole vocabulary: recordAudit takes no
// other (the compiler sees to that), and this sees that each one is still written somewhere, so
// the list, the API's enum and the console's sentences do not keep actions nothing records.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { AUDIT_ACTIONS } from "./actions.js";

const SRC = fileURLToPath(new URL("..", import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sources(full)));
    else if (
      entry.name.endsWith(".ts") &&
      !entry.name.endsWith(".test.ts") &&
      full !== fileURLToPath(new URL("./actions.ts", import.meta.url))
    )
      found.push(full);
  }
  return found;
}

test("every listed audit action is written by some operation", async () => {
  const text = (await Promise.all((await sources(SRC)).map((f) => readFile(f, "utf8")))).join("\n");
  const unwritten = AUDIT_ACTIONS.filter((action) => !text.includes(`"${action}"`));
  assert.deepEqual(unwritten, [], "actions listed in src/audit/actions.ts that no source file writes");
  assert.equal(new Set(AUDIT_ACTIONS).size, AUDIT_ACTIONS.length, "no action listed twice");
});
