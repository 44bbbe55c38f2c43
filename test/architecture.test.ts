// The shape of the code, checked: the ways of writing a change that docs/architecture.md
// describes ("One way to write a change") hold in every file under src/, not only in those a
// reviewer happened to read.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const src = fileURLToPath(new URL("../src", import.meta.url));

async function sources(): Promise<{ file: string; text: string }[]> {
  const entries = await readdir(src, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => path.relative(src, path.join(e.parentPath, e.name)));
  return Promise.all(
    files.sort().map(async (file) => ({ file, text: await readFile(path.join(src, file), "utf8") })),
  );
}

function offenders(
  files: { file: string; text: string }[],
  pattern: RegExp,
  allowed: (file: string) => boolean,
) {
  return files.filter((f) => !allowed(f.file) && pattern.test(f.text)).map((f) => f.file);
}

test("a transaction is opened in one place: db/transaction.ts (and the rate limiter's own counter)", async () => {
  const found = offenders(
    await sources(),
    /\.transaction\(\)/,
    (f) => f === "db/transaction.ts" || f === "core/rate-limit.ts",
  );
  assert.deepEqual(found, [], "open it with transact() instead");
});

test("each membership table is written by its one module", async () => {
  const files = await sources();
  const writes = (table: string) =>
    new RegExp(
      `(insertInto|updateTable|deleteFrom)\\("${table}"\\)|(INSERT INTO|UPDATE|DELETE FROM) ${table}\\b`,
    );
  assert.deepEqual(
    offenders(files, writes("org_memberships"), (f) => f === "orgs/memberships.ts"),
    [],
    "org_memberships is written by orgs/memberships.ts only",
  );
  assert.deepEqual(
    offenders(files, writes("workspace_memberships"), (f) => f === "workspaces/memberships.ts"),
    [],
    "workspace_memberships is written by workspaces/memberships.ts only",
  );
});

test("domain modules do not import http/: only routes, the app, the CLI and the public index do", async () => {
  const layer = (f: string) =>
    f.startsWith("http/") ||
    f.startsWith("cli/") ||
    /(^|\/)[\w-]*routes\.ts$/.test(f) ||
    f.endsWith("presenters.ts") ||
    ["app.ts", "main.ts", "index.ts"].includes(f);
  const found = offenders(await sources(), /from "(\.\.?\/)+(\.\.\/)*http\//, layer);
  assert.deepEqual(found, [], "errors, paging and rate limits are in src/core/");
});

test("the client library (packages/client) imports nothing of the server, only node and its own dependencies", async () => {
  const dir = fileURLToPath(new URL("../packages/client/src", import.meta.url));
  const { dependencies } = JSON.parse(
    await readFile(fileURLToPath(new URL("../packages/client/package.json", import.meta.url)), "utf8"),
  ) as { dependencies: Record<string, string> };
  const files = (await readdir(dir)).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length > 0);
  for (const file of files) {
    const text = await readFile(path.join(dir, file), "utf8");
    for (const [, from] of text.matchAll(/from "([^"]+)"/g)) {
      const allowed =
        from?.startsWith("./") || from?.startsWith("node:") || Object.hasOwn(dependencies, from ?? "");
      assert.ok(allowed, `${file} imports "${from}"`);
    }
  }
});
