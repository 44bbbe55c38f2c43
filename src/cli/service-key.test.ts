// `rollcall service-key create|list|revoke`, run as real processes against a real database; the
// token it prints is then used against the server on that database.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { inject } from "../../test/helpers/app.js";
import { rollcall } from "../../test/helpers/cli.js";
import { type TestDatabase, testDatabase } from "../../test/helpers/database.js";
import { buildApp } from "../app.js";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/index.js";
import { createLogger } from "../http/logging.js";

let dir: string;
let pg: TestDatabase | undefined;
let env: Record<string, string>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rollcall-service-key-"));
  if (process.env.TEST_TARGET === "postgres") {
    pg = await testDatabase({ migrated: false });
    await pg.database.close();
    env = { DATABASE_URL: pg.url ?? "", PUBLIC_URL: "http://rollcall.test" };
  } else {
    env = { DATA_DIR: join(dir, "data"), PUBLIC_URL: "http://rollcall.test" };
  }
  assert.equal((await rollcall(["migrate"], env)).code, 0);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  if (pg) await pg.drop().catch(() => {});
});

/** The server on the CLI's database, for one call. */
async function verify(serviceKey: string): Promise<number> {
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR });
  const config = loadConfig({ ...env, MAIL_WORKER: "false" });
  const app = await buildApp({ config, database, logger: createLogger("warn") });
  try {
    const res = await inject(app, config, "POST", "/api/v1/sessions/verify", {
      token: serviceKey,
      body: { token: "not a session" },
    });
    return res.status;
  } finally {
    await app.close();
    await database.close();
  }
}

test("create prints the token alone on stdout; list shows the key without it; revoke ends it", async () => {
  const made = await rollcall(["service-key", "create", "--name", "web backend"], env);
  assert.equal(made.code, 0, made.stderr);
  const token = made.stdout.trim();
  assert.match(token, /^rsk_[A-Za-z0-9_-]{43}$/);
  assert.match(made.stderr, /shown this once/);
  // The token works: a junk session is then 401 invalid_session, not invalid_api_key.
  assert.equal(await verify(token), 401);

  const listed = await rollcall(["service-key", "list"], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /web backend/);
  assert.ok(!listed.stdout.includes(token), "the list never prints a token");
  const id = /^(svc_[0-9a-z]{26})\t/m.exec(listed.stdout)?.[1];
  assert.ok(id, listed.stdout);
  assert.match(listed.stdout, new RegExp(`${token.slice(0, 10)}…`));

  const revoked = await rollcall(["service-key", "revoke", id], env);
  assert.equal(revoked.code, 0, revoked.stderr);
  const again = await rollcall(["service-key", "revoke", id], env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no service key/);
  const empty = await rollcall(["service-key", "list"], env);
  assert.doesNotMatch(empty.stdout, /web backend/);
});

test("help and mistakes: --help, no name, an unknown action", async () => {
  const help = await rollcall(["service-key", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /rollcall service-key create --name NAME/);
  const noName = await rollcall(["service-key", "create"], env);
  assert.equal(noName.code, 2);
  assert.match(noName.stderr, /--name is required/);
  const unknown = await rollcall(["service-key", "rotate"], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown action "rotate"/);
});
