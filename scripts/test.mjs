// `npm test`: every *.test.ts under src/ and test/, through node's test runner and tsx, first on
// embedded PGlite, then, when TEST_DATABASE_URL is set, on that PostgreSQL server.
//
//   npm test                      all test files
//   npm test -- sessions mail     only files whose path contains "sessions" or "mail"
//
// Environment: TEST_DATABASE_URL (postgres://… of a server where the user may CREATE DATABASE)
// adds the PostgreSQL pass; TEST_CONCURRENCY (default 2) files run at once; TEST_TIMEOUT (ms,
// default 600000) per test file. Test processes get TEST_TARGET (pglite | postgres) and
// PGLITE_SNAPSHOT (a migrated PGlite data directory, built once per run); DATABASE_URL is
// removed so that no test reaches a developer's real database.
//
// Server-fleet tests (test/postgres/: several server processes on one database, a PostgreSQL
// server stopped and started under a running Rollcall) need PostgreSQL and run in its pass only;
// without TEST_DATABASE_URL the runner says which did not run.
//
// Browser tests (test/e2e/, real Chromium through playwright-core) run in the PGlite pass only —
// they drive the server on a fresh embedded database, as `npm start` does — and only when Chromium
// is installed (CHROMIUM_PATH, default /usr/bin/chromium); without it the runner says so and lists
// what did not run. The console is built once per run into .tmp/console-<pid> (CONSOLE_DIR).
//
// The last line printed is `N passed, N failed` over all passes; the exit code is non-zero when
// a pass failed or ran no test.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const tmp = path.join(root, ".tmp");
const snapshotPath = path.join(tmp, "pglite-snapshot.tar");

// Internal: `node --import tsx scripts/test.mjs --build-snapshot FILE` (run by the set-up below in
// its own process, so that PGlite's memory and timers do not stay in the runner).
if (process.argv[2] === "--build-snapshot") {
  await buildSnapshot(process.argv[3]);
  process.exit(0);
}

const filters = process.argv.slice(2);
const concurrency = Number(process.env.TEST_CONCURRENCY) || 2;
const timeout = Number(process.env.TEST_TIMEOUT) || 600_000;

const chromium = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
// Per run, so that two runs at once (or a build in progress) never swap a console under a test.
const consoleDir = path.join(tmp, `console-${process.pid}`);
let files = (await findTests(["src", "test", "packages"])).filter(
  (f) => filters.length === 0 || filters.some((s) => f.includes(s)),
);
const browserFiles = files.filter(isBrowserTest);
let notRun = [];
if (browserFiles.length > 0 && !existsSync(chromium)) {
  notRun = browserFiles;
  console.log(
    `\n!! Chromium is not installed (looked for ${chromium}): ${browserFiles.length} browser test file(s) will NOT run:\n` +
      browserFiles.map((f) => `   ${f}`).join("\n") +
      "\n   Install it (Debian: apt-get install chromium) or set CHROMIUM_PATH; `bash .ci/run` installs it.\n",
  );
  files = files.filter((f) => !isBrowserTest(f));
}
if (files.length === 0) {
  console.error(`No test files${filters.length ? ` matching ${filters.join(", ")}` : ""}.`);
  await finish(0, 0, false);
}
console.log(`${files.length} test file(s)`);

await mkdir(tmp, { recursive: true });
header("set-up: migrated PGlite snapshot");
let started = Date.now();
const built = await run(process.execPath, [
  "--import",
  "tsx",
  "scripts/test.mjs",
  "--build-snapshot",
  snapshotPath,
]);
if (built.code !== 0) {
  console.error(`Building the PGlite snapshot failed (exit ${built.code}).`);
  await finish(0, 1, false);
}
console.log(`snapshot ${path.relative(root, snapshotPath)} built in ${seconds(started)}`);

if (files.some(isBrowserTest)) {
  header("set-up: the web console for the browser tests");
  started = Date.now();
  const vite = await run(
    process.execPath,
    ["node_modules/vite/bin/vite.js", "build", "--config", "web/vite.config.ts", "--logLevel", "warn"],
    { ...process.env, CONSOLE_OUT_DIR: consoleDir },
  );
  if (vite.code !== 0) {
    console.error(`Building the console failed (exit ${vite.code}).`);
    await finish(0, 1, false);
  }
  console.log(`console ${path.relative(root, consoleDir)} built in ${seconds(started)}`);
}

const passes = [{ target: "pglite" }];
const postgresFiles = files.filter(isPostgresTest);
if (process.env.TEST_DATABASE_URL) passes.push({ target: "postgres" });
else {
  console.log("TEST_DATABASE_URL is not set: PostgreSQL pass skipped.");
  if (postgresFiles.length > 0) {
    console.log(
      `!! ${postgresFiles.length} PostgreSQL-only test file(s) will NOT run:\n` +
        postgresFiles.map((f) => `   ${f}`).join("\n"),
    );
  }
}

const results = [];
for (const { target } of passes) {
  // The browser tests drive the server on its embedded database: once, in the PGlite pass.
  const passFiles =
    target === "pglite" ? files.filter((f) => !isPostgresTest(f)) : files.filter((f) => !isBrowserTest(f));
  if (passFiles.length === 0) continue;
  header(`pass: ${target} (${passFiles.length} files, concurrency ${concurrency})`);
  const env = {
    ...process.env,
    TEST_TARGET: target,
    PGLITE_SNAPSHOT: snapshotPath,
    CONSOLE_DIR: consoleDir,
    CHROMIUM_PATH: chromium,
  };
  delete env.DATABASE_URL;
  // The spec reporter writes to a pipe here: keep its colours when the runner's own output has them.
  if (process.stdout.isTTY && !("NO_COLOR" in env)) env.FORCE_COLOR ??= "1";
  started = Date.now();
  const { code, tail } = await run(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      `--test-concurrency=${concurrency}`,
      `--test-timeout=${timeout}`,
      // A file whose tests are done but that leaves a timer or socket open must not hang the run.
      // (It also cuts short a reporter writing to a file, so the summary is read from stdout.)
      "--test-force-exit",
      "--test-reporter=spec",
      ...passFiles,
    ],
    env,
  );
  results.push({ target, code, time: seconds(started), failures: failingTests(tail), ...summary(tail) });
}

header("results");
if (notRun.length > 0) {
  console.log(
    `!! ${notRun.length} browser test file(s) did NOT run: Chromium is not installed at ${chromium}.`,
  );
}
if (!process.env.TEST_DATABASE_URL && postgresFiles.length > 0) {
  console.log(
    `!! ${postgresFiles.length} PostgreSQL-only test file(s) did NOT run: TEST_DATABASE_URL is not set.`,
  );
}
let passed = 0;
let failed = 0;
let ok = true;
for (const r of results) {
  const problems = [];
  if (!r.counted) problems.push("no summary from the test runner");
  else if (r.pass + r.fail + r.cancelled === 0) problems.push("no test ran");
  if (r.code !== 0) problems.push(`exit code ${r.code}`);
  // A skipped or todo test is a defect here: it claims coverage that does not run.
  if (r.skipped + r.todo > 0) problems.push(`${r.skipped + r.todo} skipped or todo test(s)`);
  // Cancelled tests (a file that timed out or crashed) count as failed.
  const passFailed = r.counted ? r.fail + r.cancelled : 1;
  if (passFailed > 0 || problems.length > 0) ok = false;
  passed += r.pass;
  failed += passFailed;
  console.log(
    `${r.target.padEnd(8)} ${r.pass} passed, ${passFailed} failed, ${r.skipped} skipped, ${r.todo} todo` +
      ` in ${r.time}${problems.length ? ` — FAILED: ${problems.join(", ")}` : ""}`,
  );
}
await finish(passed, failed, ok, results);

// ---------------------------------------------------------------------------------------------

/**
 * Prints the closing line (also to .tmp/test-summary.txt, for .ci/run) and exits. The failing
 * tests' errors go to .tmp/test-failures.txt, which .ci/run prints at the end of its output, where
 * a CI log's tail shows them.
 */
async function finish(passed, failed, ok, results = []) {
  if (!ok && failed === 0) failed = 1; // a failed run never reads as all green
  await rm(consoleDir, { recursive: true, force: true });
  const line = `${passed} passed, ${failed} failed`;
  await mkdir(tmp, { recursive: true });
  await writeFile(path.join(tmp, "test-summary.txt"), `${line}\n`);
  const failures = results.filter((r) => r.failures).map((r) => `[${r.target}] ${r.failures}`);
  await writeFile(path.join(tmp, "test-failures.txt"), failures.join("\n"));
  console.log(line);
  process.exit(ok ? 0 : 1);
}

function isBrowserTest(file) {
  return file.split(path.sep).includes("e2e");
}

function isPostgresTest(file) {
  return file.split(path.sep).slice(0, 2).join("/") === "test/postgres";
}

/** Every *.test.ts under `dirs`, sorted, as paths relative to the repository root. */
async function findTests(dirs) {
  const found = [];
  async function walk(dir) {
    let entries;
    try {
      entries = await readdir(path.join(root, dir), { withFileTypes: true });
    } catch (err) {
      if (err.code === "ENOENT") return;
      throw err;
    }
    for (const e of entries) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && !e.name.startsWith(".")) await walk(rel);
      } else if (e.isFile() && e.name.endsWith(".test.ts")) found.push(rel);
    }
  }
  for (const d of dirs) await walk(d);
  return found.sort();
}

/**
 * Runs a command; its stdout streams through live and the end of it is kept (`tail`) to be read.
 * Resolves to { code, tail }.
 */
function run(command, args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
    let tail = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString("utf8")).slice(-65_536);
    });
    child.on("error", (err) => {
      console.error(err);
      resolve({ code: 1, tail });
    });
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), tail }));
  });
}

/** The counts from the spec reporter's closing `ℹ pass N` … lines (the last of each wins). */
function summary(output) {
  const counts = { pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  let counted = false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
  for (const line of output.replace(/\x1b\[[0-9;]*m/g, "").split(/\r?\n/)) {
    const m = /^ℹ (pass|fail|cancelled|skipped|todo) (\d+)\s*$/.exec(line);
    if (m) {
      counts[m[1]] = Number(m[2]);
      counted = true;
    }
  }
  return { counted, ...counts };
}

/** The spec reporter's closing "✖ failing tests:" section, without colours, at most 60 lines. */
function failingTests(output) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const start = plain.lastIndexOf("✖ failing tests:");
  if (start < 0) return "";
  // Stack frames inside node or node_modules say nothing about the test: left out.
  const lines = plain
    .slice(start)
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "" && !/^\s+at (.*\()?(node:|.*node_modules)/.test(l));
  return lines.slice(0, 60).join("\n") + (lines.length > 60 ? `\n… ${lines.length - 60} more lines\n` : "\n");
}

/** Boots PGlite in memory, migrates it and writes its data directory (uncompressed) to `file`. */
async function buildSnapshot(file) {
  const { openDatabase } = await import("../src/db/index.ts");
  const { migrate } = await import("../src/db/migrate.ts");
  const database = await openDatabase({ dataDir: "memory://" });
  const applied = await migrate(database.pool);
  // "none": dumpDataDir("gzip") has been seen to hang.
  const blob = await database.pglite.dumpDataDir("none");
  // Write then rename, so that a concurrent run never reads half a file.
  const partial = `${file}.${process.pid}`;
  await writeFile(partial, Buffer.from(await blob.arrayBuffer()));
  await rename(partial, file);
  console.log(`${applied.length} migration(s), ${(blob.size / 2 ** 20).toFixed(1)} MiB`);
  await database.close();
}

function header(title) {
  console.log(`\n━━━━ ${title} ━━━━`);
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
