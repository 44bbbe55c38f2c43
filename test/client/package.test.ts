// @rollcall/client as it is published: built to JavaScript (packages/client/dist, with types) and
// imported by its name with plain Node — no TypeScript loader — exposing its API, and importing
// nothing but Node's own modules and its one dependency.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const ROOT = path.resolve(import.meta.dirname, "../..");
const DIST = path.join(ROOT, "packages/client/dist");

test("built, the package is imported by name with plain Node and imports only node: modules and eventsource", () => {
  execFileSync(
    process.execPath,
    ["node_modules/typescript/bin/tsc", "-p", "packages/client/tsconfig.build.json"],
    {
      cwd: ROOT,
      stdio: "inherit",
    },
  );
  const files = readdirSync(DIST);
  for (const name of [
    "index.js",
    "index.d.ts",
    "guard.js",
    "lease.js",
    "replica.js",
    "sessions.js",
    "catalogue.js",
  ]) {
    assert.ok(files.includes(name), `dist has ${name}`);
  }
  assert.ok(!files.some((f) => f.includes(".test.")), "no tests in the package");
  for (const file of files.filter((f) => f.endsWith(".js"))) {
    const text = readFileSync(path.join(DIST, file), "utf8");
    for (const [, spec] of text.matchAll(/from\s+"([^"]+)"/g)) {
      assert.ok(
        spec?.startsWith("node:") || spec?.startsWith("./") || spec === "eventsource",
        `${file} imports ${spec}`,
      );
    }
  }
  const exported = execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      'const m = await import("@rollcall/client"); console.log(Object.keys(m).sort().join(","))',
    ],
    { cwd: ROOT, encoding: "utf8" },
  ).trim();
  assert.equal(exported, "Rollcall,SESSION_COOKIE,STALE,guard,tokenFrom");
});
