// The `rollcall` command, run as a real process against a real database (an on-disk PGlite
// directory, or a fresh database on the PostgreSQL server when TEST_TARGET=postgres).
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { inject } from "../../test/helpers/app.js";
import { freePort, MAIN, rollcall, waitFor } from "../../test/helpers/cli.js";
import { type TestDatabase, testDatabase } from "../../test/helpers/database.js";
import { buildApp } from "../app.js";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/index.js";
import { createLogger } from "../http/logging.js";

let dir: string;
let pg: TestDatabase | undefined;
let env: Record<string, string>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rollcall-cli-"));
  if (process.env.TEST_TARGET === "postgres") {
    pg = await testDatabase({ migrated: false });
    await pg.database.close();
    env = { DATABASE_URL: pg.url ?? "", PUBLIC_URL: "http://rollcall.test" };
  } else {
    env = { DATA_DIR: join(dir, "data"), PUBLIC_URL: "http://rollcall.test" };
  }
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  if (pg) await pg.drop().catch(() => {});
});

describe("help", () => {
  test("rollcall --help lists every command", async () => {
    const run = await rollcall(["--help"]);
    assert.equal(run.code, 0);
    for (const c of ["serve", "migrate", "create-owner"]) assert.match(run.stdout, new RegExp(`\\b${c}\\b`));
  });

  test("every command answers --help", async () => {
    for (const c of ["serve", "migrate", "create-owner"]) {
      const run = await rollcall([c, "--help"]);
      assert.equal(run.code, 0, c);
      assert.match(run.stdout, new RegExp(`Usage: rollcall ${c}`));
    }
  });

  test("an unknown command or flag says so and exits 2", async () => {
    const unknown = await rollcall(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const flag = await rollcall(["migrate", "--wat"]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--wat/);
  });
});

describe("migrate and create-owner", () => {
  test("migrate applies the migrations once", async () => {
    const first = await rollcall(["migrate"], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied 0001 foundation/);
    const second = await rollcall(["migrate"], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /Already up to date/);
  });

  test("create-owner refuses bad flags with a message", async () => {
    const run = await rollcall(["create-owner", "--email", "not-an-address"], env);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--email must be an e-mail address/);
    assert.match(run.stderr, /--name is required/);
  });

  test("review 13.1: create-owner stores the canonical address of a look-alike spelling", async () => {
    const email = `kelvin.${Date.now()}@example.org`;
    // The Kelvin sign K (U+212A) and a fullwidth @: the same address as the ASCII one.
    const spelling = email.replace("k", "\u212A").replace("@", "\uFF20");
    const run = await rollcall(["create-owner", "--email", spelling, "--name", "Kelvin"], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`owned by ${email.replaceAll(".", "\\.")}\\.`));
  });

  test("create-owner makes an owner whose one-time link sets the password", async () => {
    const email = `founder.${Date.now()}@example.org`;
    const run = await rollcall(
      ["create-owner", "--email", email, "--name", "Frida Founder", "--organization", "Founders"],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Created organisation "Founders"/);
    const link = run.stdout.match(/http:\/\/rollcall\.test\/reset-password\?token=\S+/)?.[0];
    assert.ok(link, run.stdout);
    const token = new URL(link).searchParams.get("token");

    const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR });
    const config = loadConfig({ ...env, MAIL_WORKER: "false" });
    const app = await buildApp({ config, database, logger: createLogger("warn") });
    try {
      const call = (method: string, path: string, o = {}) => inject(app, config, method, path, o);
      const before = await call("POST", "/api/v1/auth/login", {
        body: { email, password: "chosen by frida!" },
      });
      assert.equal(before.status, 401, "no password until the link is used");
      assert.equal(
        (
          await call("POST", "/api/v1/auth/password-reset/confirm", {
            body: { token, password: "chosen by frida!" },
          })
        ).status,
        204,
      );
      const login = await call("POST", "/api/v1/auth/login", {
        body: { email, password: "chosen by frida!" },
      });
      assert.equal(login.status, 200, login.text);
      const me = await call("GET", "/api/v1/me", { token: login.json.session.token });
      assert.deepEqual(
        me.json.organizations.map((o: { name: string; role: string }) => [o.name, o.role]),
        [["Founders", "owner"]],
      );
      assert.equal(
        (
          await call("POST", "/api/v1/auth/password-reset/confirm", {
            body: { token, password: "again by frida!" },
          })
        ).status,
        400,
        "single use",
      );
    } finally {
      await app.close();
      await database.close();
    }
  });
});

describe("serve", () => {
  let child: ChildProcess | undefined;
  after(() => {
    child?.kill("SIGKILL");
  });

  test("serves HTTP on PORT and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    child = spawn(process.execPath, ["--import", "tsx", MAIN, "serve"], {
      env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (d) => {
      output += d;
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 60_000);
    const signup = await fetch(`${base}/api/v1/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        email: `served.${Date.now()}@example.org`,
        password: "served passphrase",
        name: "Served",
      }),
    });
    assert.equal(signup.status, 201);
    const exited = new Promise<number | null>((resolve) => child?.on("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.match(output, /shutting down/);
    assert.match(output, /"level":30/, "JSON logs");
  });
});
