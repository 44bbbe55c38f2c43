#!/usr/bin/env node
// The `rollcall` command.
import { runCli } from "./cli/commands.js";

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`rollcall: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
