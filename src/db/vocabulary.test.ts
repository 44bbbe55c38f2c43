// The fixed word lists (an invitation's status and delivery, org roles, a mail's status) are
// spelled once in the code; the database checks them too (0008). These tests read each CHECK back
// from pg_constraint, so that a list changed on one side only fails here, and show that the
// database itself refuses a word outside its list, on PGlite and on PostgreSQL alike.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { type TestDatabase, testDatabase } from "../../test/helpers/database.js";
import { ORG_ROLES } from "../access/catalogue.js";
import { API_KEY_ROLES } from "../apikeys/model.js";
import { ACTOR_TYPES } from "../audit/actions.js";
import { DELIVERIES, INVITATION_STATUSES } from "../invitations/model.js";
import { MAIL_STATUSES } from "../mail/outbox.js";
import { DELIVERY_STATUSES } from "../webhooks/model.js";
import { loadMigrations, migrate } from "./migrate.js";

const VOCABULARIES: { table: string; column: string; words: readonly string[] }[] = [
  { table: "invitations", column: "status", words: INVITATION_STATUSES },
  { table: "invitations", column: "delivery", words: DELIVERIES },
  { table: "invitations", column: "role", words: ORG_ROLES },
  { table: "org_memberships", column: "role", words: ORG_ROLES },
  { table: "mail_outbox", column: "status", words: MAIL_STATUSES },
  // 0009
  { table: "api_keys", column: "role", words: API_KEY_ROLES },
  { table: "audit_events", column: "actor_type", words: ACTOR_TYPES },
  // 0011
  { table: "webhook_deliveries", column: "status", words: DELIVERY_STATUSES },
];

interface Check {
  name: string;
  columns: string[];
  definition: string;
}

/** Every CHECK constraint on the table, with the columns it reads and its definition as stored. */
async function checksOf(t: TestDatabase, table: string): Promise<Check[]> {
  const { rows } = await t.database.pool.query<Check>(
    `SELECT c.conname AS name, pg_get_constraintdef(c.oid) AS definition,
            array(SELECT a.attname::text FROM pg_attribute a
                  WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) ORDER BY a.attnum) AS columns
     FROM pg_constraint c
     WHERE c.contype = 'c' AND c.conrelid = $1::regclass`,
    [table],
  );
  return rows;
}

/** The words a stored `col = ANY (ARRAY['a'::text, …])` (PostgreSQL's form of `col IN (…)`) lists. */
function wordsOf(definition: string): string[] {
  return [...definition.matchAll(/'([^']*)'::text/g)].map((m) => m[1] ?? "");
}

describe("each word list and its CHECK", () => {
  let t: TestDatabase;
  before(async () => {
    t = await testDatabase();
  });
  after(async () => {
    await t.drop();
  });

  for (const { table, column, words } of VOCABULARIES) {
    test(`${table}.${column}: the CHECK lists exactly the code's list`, async () => {
      const checks = await checksOf(t, table);
      const named = checks.find((c) => c.name === `${table}_${column}_vocabulary`);
      assert.ok(named, `${table}_${column}_vocabulary exists (0008)`);
      assert.deepEqual(named.columns, [column]);
      assert.match(named.definition, new RegExp(`^CHECK \\(\\(${column} = ANY \\(ARRAY\\[`));
      assert.deepEqual(wordsOf(named.definition), [...words]);
      // And no second list of words for the column (0001's and 0004's went in 0008).
      const others = checks.filter(
        (c) =>
          c !== named && c.columns.length === 1 && c.columns[0] === column && c.definition.includes("ANY"),
      );
      assert.deepEqual(others, []);
    });
  }

  test("the database refuses a word outside the list, and takes every word of it", async () => {
    // Through Kysely, as the server writes (pg's pool.query ends the connection on an error, which
    // PGlite's adapter does not survive twice in a row).
    const { db } = t.database;
    await sql`INSERT INTO users (id, email, name) VALUES ('usr_v', 'v@example.org', 'V')`.execute(db);
    await sql`INSERT INTO organizations (id, name) VALUES ('org_v', 'V')`.execute(db);
    const invite = (id: string, status: string, delivery = "link", role = "member") =>
      sql`INSERT INTO invitations (id, org_id, delivery, email, role, token_hash, status, invited_by_name, expires_at)
          VALUES (${id}, 'org_v', ${delivery}, ${delivery === "email" ? `${id}@example.org` : null}, ${role},
                  ${Buffer.alloc(32, id)}, ${status}, 'V', now() + interval '1 day')`.execute(db);
    const refused = (constraint: string) => (err: unknown) => {
      const e = err as { code?: string; constraint?: string };
      assert.equal(e.code, "23514", `a check violation: ${String(err)}`);
      assert.equal(e.constraint, constraint);
      return true;
    };

    await assert.rejects(invite("inv_bad", "lost"), refused("invitations_status_vocabulary"));
    await assert.rejects(invite("inv_bad", "pending", "fax"), refused("invitations_delivery_vocabulary"));
    await assert.rejects(
      invite("inv_bad", "pending", "link", "boss"),
      refused("invitations_role_vocabulary"),
    );
    await assert.rejects(
      sql`INSERT INTO org_memberships (org_id, user_id, role) VALUES ('org_v', 'usr_v', 'boss')`.execute(db),
      refused("org_memberships_role_vocabulary"),
    );
    await assert.rejects(
      sql`INSERT INTO mail_outbox (id, kind, to_address, subject, message_id, status)
          VALUES ('mail_v', 'k', 'v@example.org', 's', '<v@x>', 'lost')`.execute(db),
      refused("mail_outbox_status_vocabulary"),
    );

    for (const [i, status] of INVITATION_STATUSES.entries()) await invite(`inv_s${i}`, status);
    await invite("inv_email", "pending", "email", "owner");
    for (const role of ORG_ROLES) await invite(`inv_${role}`, "pending", "link", role);
    await sql`INSERT INTO org_memberships (org_id, user_id, role) VALUES ('org_v', 'usr_v', 'admin')`.execute(
      db,
    );
    const stored = await db.selectFrom("invitations").select("id").where("org_id", "=", "org_v").execute();
    assert.equal(stored.length, INVITATION_STATUSES.length + 1 + ORG_ROLES.length);
  });
});

test("0008 applies to a database holding every word of each list, and keeps its rows", async () => {
  const t = await testDatabase({ migrated: false });
  try {
    const { pool } = t.database;
    await pool.query(
      "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const migrations = await loadMigrations();
    const before0008 = migrations.filter((m) => m.version < 8);
    assert.equal(before0008.length, 7);
    // 0005's data step rewrites addresses; an empty database has none, so its SQL alone is it.
    for (const m of before0008) {
      await pool.query(m.sql);
      await pool.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
    }
    await pool.query(`INSERT INTO organizations (id, name) VALUES ('org_o', 'O')`);
    for (const [i, role] of ORG_ROLES.entries()) {
      await pool.query(`INSERT INTO users (id, email, name) VALUES ($1, $2, 'U')`, [
        `usr_${i}`,
        `u${i}@example.org`,
      ]);
      await pool.query(`INSERT INTO org_memberships (org_id, user_id, role) VALUES ('org_o', $1, $2)`, [
        `usr_${i}`,
        role,
      ]);
    }
    let n = 0;
    for (const status of INVITATION_STATUSES)
      for (const delivery of DELIVERIES)
        for (const role of ORG_ROLES) {
          n++;
          await pool.query(
            `INSERT INTO invitations (id, org_id, delivery, email, role, token_hash, status, invited_by_name, expires_at)
             VALUES ($1, 'org_o', $2, $3, $4, $5, $6, 'O', now())`,
            [
              `inv_${n}`,
              delivery,
              // One pending e-mail invitation per address (0004's unique index).
              delivery === "email" ? `i${n}@example.org` : null,
              role,
              Buffer.alloc(32, n),
              status,
            ],
          );
        }
    for (const [i, status] of MAIL_STATUSES.entries())
      await pool.query(
        `INSERT INTO mail_outbox (id, kind, to_address, subject, message_id, status)
         VALUES ($1, 'k', 'm@example.org', 's', $2, $3)`,
        [`mail_${i}`, `<${i}@x>`, status],
      );

    const applied = await migrate(pool);
    assert.deepEqual(
      applied.map((m) => m.version),
      migrations.filter((m) => m.version >= 8).map((m) => m.version),
    );
    const count = async (table: string) =>
      (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n;
    assert.equal(await count("invitations"), n);
    assert.equal(await count("org_memberships"), ORG_ROLES.length);
    assert.equal(await count("mail_outbox"), MAIL_STATUSES.length);
  } finally {
    await t.drop();
  }
});
