// `rollcall invite`, run as a real process against a real database (an on-disk PGlite directory,
// or a fresh database on the PostgreSQL server when TEST_TARGET=postgres): the operator's way to
// invite by e-mail or link, through the same createInvitation as the API.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { rollcall } from "../../test/helpers/cli.js";
import { type TestDatabase, testDatabase } from "../../test/helpers/database.js";
import { openDatabase } from "../db/index.js";
import { findByToken } from "../invitations/queries.js";

let dir: string;
let pg: TestDatabase | undefined;
let env: Record<string, string>;
let orgId: string;
let workspaceId: string;

async function withDb<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>["db"]) => Promise<T>): Promise<T> {
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR });
  try {
    return await fn(database.db);
  } finally {
    await database.close();
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rollcall-invite-"));
  if (process.env.TEST_TARGET === "postgres") {
    pg = await testDatabase({ migrated: false });
    await pg.database.close();
    env = { DATABASE_URL: pg.url ?? "", PUBLIC_URL: "http://rollcall.test" };
  } else {
    env = { DATA_DIR: join(dir, "data"), PUBLIC_URL: "http://rollcall.test" };
  }
  const owner = await rollcall(
    [
      "create-owner",
      "--email",
      `op.${Date.now()}@example.org`,
      "--name",
      "Opal",
      "--organization",
      "Field Ops",
    ],
    env,
  );
  assert.equal(owner.code, 0, owner.stderr);
  orgId = owner.stdout.match(/\((org_\w+)\)/)?.[1] ?? "";
  assert.ok(orgId, owner.stdout);
  workspaceId = await withDb(async (db) => {
    const ws = await db
      .selectFrom("workspaces")
      .select("id")
      .where("org_id", "=", orgId)
      .executeTakeFirstOrThrow();
    return ws.id;
  });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  if (pg) await pg.drop().catch(() => {});
});

describe("rollcall invite", () => {
  test("--help shows both forms", async () => {
    const run = await rollcall(["invite", "--help"]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /Usage: rollcall invite --org ORG_ID --email ADDRESS --role ROLE/);
    assert.match(run.stdout, /--link --role ROLE \[--max-uses N\]/);
    const main = await rollcall(["--help"]);
    assert.match(main.stdout, /\binvite\b/);
  });

  test("bad flags say what is wrong and exit 2", async () => {
    const run = await rollcall(["invite", "--role", "member", "--max-uses", "0"], env);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--org is required/);
    assert.match(run.stderr, /give either --email ADDRESS or --link/);
    assert.match(run.stderr, /--max-uses must be a whole number from 1 to 1000/);
    const role = await rollcall(["invite", "--org", orgId, "--link", "--role", "boss"], env);
    assert.equal(role.code, 2, role.stderr);
    assert.match(role.stderr, /role/);
  });

  test("--link prints the id and the link, whose token is stored only hashed", async () => {
    const run = await rollcall(
      [
        "invite",
        "--org",
        orgId,
        "--link",
        "--role",
        "member",
        "--max-uses",
        "4",
        "--workspace",
        `${workspaceId}:editor`,
      ],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.match(/invitation (inv_\w+)/)?.[1];
    const url = run.stdout.match(/http:\/\/rollcall\.test\/invite\/([A-Za-z0-9_-]{43})\b/);
    assert.ok(id && url, run.stdout);
    await withDb(async (db) => {
      const found = await findByToken(db, url[1] ?? "");
      assert.equal(found.id, id);
      assert.equal(found.max_uses, 4);
      assert.equal(found.invited_by_name, "rollcall invite");
      const grants = await db
        .selectFrom("invitation_workspaces")
        .selectAll()
        .where("invitation_id", "=", id)
        .execute();
      assert.deepEqual(
        grants.map((g) => [g.workspace_id, g.role]),
        [[workspaceId, "editor"]],
      );
      const audit = await db
        .selectFrom("audit_events")
        .selectAll()
        .where("target_id", "=", id)
        .executeTakeFirstOrThrow();
      assert.equal(audit.action, "invitation.created");
      assert.equal(audit.actor_name, "rollcall invite");
    });
  });

  test("--email queues the invitation mail and prints no link", async () => {
    const email = `cli.${Date.now()}@example.org`;
    const run = await rollcall(
      ["invite", "--org", orgId, "--email", email, "--role", "admin", "--expires-hours", "48"],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`Mail queued to ${email.replace(/\./g, "\\.")}`));
    assert.doesNotMatch(run.stdout, /\/invite\//);
    const id = run.stdout.match(/invitation (inv_\w+)/)?.[1] ?? "";
    await withDb(async (db) => {
      const inv = await db
        .selectFrom("invitations")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      assert.equal(inv.email, email);
      assert.equal(inv.role, "admin");
      const hours = (inv.expires_at.getTime() - inv.created_at.getTime()) / 3_600_000;
      assert.ok(Math.abs(hours - 48) < 0.01);
      const mail = await db
        .selectFrom("mail_outbox")
        .selectAll()
        .where("id", "=", inv.mail_id ?? "")
        .executeTakeFirstOrThrow();
      assert.equal(mail.kind, "invitation");
      assert.equal(mail.to_address, email);
      assert.equal(mail.status, "queued");
      assert.equal(mail.subject, "“The Field Ops administrator” invited you to join “Field Ops”");
      assert.match(mail.text_body ?? "", /http:\/\/rollcall\.test\/invite\/[A-Za-z0-9_-]{43}/);
    });
    // The same address again: the rules of the API hold for the operator too.
    const again = await rollcall(["invite", "--org", orgId, "--email", email, "--role", "member"], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /invitation_pending/);
  });

  test("an unknown organisation or workspace exits 1", async () => {
    const org = await rollcall(
      ["invite", "--org", "org_00000000000000000000000000", "--link", "--role", "member"],
      env,
    );
    assert.equal(org.code, 1);
    assert.match(org.stderr, /no organisation/);
    const ws = await rollcall(
      [
        "invite",
        "--org",
        orgId,
        "--link",
        "--role",
        "member",
        "--workspace",
        "wsp_00000000000000000000000000:viewer",
      ],
      env,
    );
    assert.equal(ws.code, 1);
    assert.match(ws.stderr, /workspace_not_found/);
  });
});
