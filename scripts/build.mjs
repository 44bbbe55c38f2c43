#!/usr/bin/env node
// Compiles src/ to dist/ and copies the SQL migrations beside the compiled migrator.
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
  stdio: "inherit",
});
cpSync("src/db/migrations", "dist/db/migrations", { recursive: true });
chmodSync("dist/main.js", 0o755);
