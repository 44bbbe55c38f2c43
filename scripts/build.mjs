#!/usr/bin/env node
// Compiles src/ to dist/, copies the SQL migrations beside the compiled migrator, compiles the
// client library (packages/client/dist), and builds the web console (web/ → dist/console) with Vite.
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
  stdio: "inherit",
});
cpSync("src/db/migrations", "dist/db/migrations", { recursive: true });
// The client library, as it is published: packages/client/dist.
rmSync("packages/client/dist", { recursive: true, force: true });
execFileSync(
  process.execPath,
  ["node_modules/typescript/bin/tsc", "-p", "packages/client/tsconfig.build.json"],
  {
    stdio: "inherit",
  },
);
chmodSync("dist/main.js", 0o755);
execFileSync(
  process.execPath,
  ["node_modules/vite/bin/vite.js", "build", "--config", "web/vite.config.ts", "--logLevel", "warn"],
  {
    stdio: "inherit",
  },
);
