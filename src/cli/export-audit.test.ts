// `rollcall export-audit`, run as a real process against a real database (an on-disk PGlite
// directory, or a fresh database on the PostgreSQL server when TEST_TARGET=postgres).
import assert from "node:assert/strict";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { insertAuditRow } from "../../test/helpers/audit.js";
import { rollcall } from "../../test/helpers/cli.js";
import { type TestDatabase, testDatabase } from "../../test/helpers/database.js";
import { newId } from "../db/ids.js";
import { type Database, openDatabase } from "../db/index.js";
import { migrate } from "../db/migrate.js";

/** RFC 4180, written out independently of the exporter: quoted fields may hold , " and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') {
      assert.equal(field, "", `a quote inside an unquoted field at ${i}`);
      quoted = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else {
      assert.notEqual(c, "\n", `a bare line break outside quotes at ${i}`);
      field += c;
    }
  }
  assert.equal(quoted, false, "the file ends inside a quoted field");
  assert.equal(field, "", "the last row ends with CRLF");
  assert.equal(row.length, 0);
  return rows;
}

const FIELDS = ["id", "at", "actorId", "actorName", "action", "targetType", "targetId", "data"];
const COUNT = 2345; // more than two batches of 1,000
const BASE = Date.parse("2024-03-01T10:00:00Z");
const TRICKY_NAME = 'Smith, "Jo"\nJr.';
const TRICKY_DATA = { note: 'a,b "c"\r\nd', nested: { list: [1, "x,y"] } };

let dir: string;
let pg: TestDatabase | undefined;
let env: Record<string, string>;
let orgId: string;
let otherOrgId: string;
/** Org A's event ids, oldest first, as the database orders them (at, then id). */
let expected: string[];
let otherIds: Set<string>;
/** The other organisation's event ids, oldest first. */
let otherExpected: string[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rollcall-export-"));
  let database: Database;
  if (process.env.TEST_TARGET === "postgres") {
    pg = await testDatabase();
    database = pg.database;
    env = { DATABASE_URL: pg.url ?? "" };
  } else {
    env = { DATA_DIR: join(dir, "data") };
    database = await openDatabase({ dataDir: env.DATA_DIR });
    await migrate(database.pool);
  }
  try {
    const { db } = database;
    orgId = newId("org");
    otherOrgId = newId("org");
    await db
      .insertInto("organizations")
      .values([
        { id: orgId, name: "Exported" },
        { id: otherOrgId, name: "Other" },
      ])
      .execute();
    await db.transaction().execute(async (tx) => {
      for (let n = 0; n < COUNT; n++) {
        const tricky = n === 7;
        await insertAuditRow(
          tx,
          { id: `usr_${n % 5}`, name: tricky ? TRICKY_NAME : `Person ${n % 5}`, ip: null },
          {
            orgId,
            // A made-up action too: an export carries whatever the trail holds.
            action: n % 2 ? "member.added" : "workspace.renamed",
            targetType: "thing",
            targetId: n % 3 ? String(n) : null,
            data: tricky ? { n, ...TRICKY_DATA } : { n },
          },
        );
      }
      for (let n = 0; n < 5; n++) {
        await insertAuditRow(
          tx,
          { id: "usr_other", name: "Other Person", ip: null },
          { orgId: otherOrgId, action: "member.added", targetType: "thing", targetId: null, data: { n } },
        );
      }
    });
    // Two events at each microsecond, four per millisecond: the export's keyset must keep the
    // microseconds and break ties by id, or it skips or repeats events at batch boundaries.
    await sql`
      UPDATE audit_events
      SET at = ${new Date(BASE).toISOString()}::timestamptz + ((data->>'n')::int / 2) * interval '250 microseconds'
      WHERE org_id = ${orgId}
    `.execute(db);
    const { rows } = await sql<{ id: string }>`
      SELECT id FROM audit_events WHERE org_id = ${orgId} ORDER BY at, id
    `.execute(db);
    expected = rows.map((r) => r.id);
    const other = await sql<{ id: string }>`
      SELECT id FROM audit_events WHERE org_id = ${otherOrgId} ORDER BY at, id
    `.execute(db);
    otherExpected = other.rows.map((r) => r.id);
    otherIds = new Set(otherExpected);
  } finally {
    // The export runs in another process: PGlite's directory must be closed first.
    await database.close();
  }
  assert.equal(expected.length, COUNT);
  assert.equal(otherIds.size, 5);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
  if (pg) await pg.drop().catch(() => {});
});

describe("flags", () => {
  test("--help explains the command; rollcall --help lists it", async () => {
    const help = await rollcall(["export-audit", "--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: rollcall export-audit --org ORG_ID --format jsonl\|csv/);
    for (const flag of ["--out", "--since", "--until"]) assert.ok(help.stdout.includes(flag), flag);
    const all = await rollcall(["--help"]);
    assert.equal(all.code, 0);
    assert.match(all.stdout, /\bexport-audit\b/);
  });

  test("bad flags exit 2 with a message, before touching the database", async () => {
    const cases: [string[], RegExp][] = [
      [[], /--org is required[\s\S]*--format must be jsonl or csv/],
      [["--org", orgId, "--format", "xml"], /--format must be jsonl or csv/],
      [["--org", orgId, "--format", "csv", "--since", "yesterday"], /--since must be an ISO 8601/],
      [["--org", orgId, "--format", "csv", "--until", "2024-02-30"], /--until must be an ISO 8601/],
      [
        ["--org", orgId, "--format", "csv", "--since", "2024-03-02", "--until", "2024-03-01"],
        /--since must be before --until/,
      ],
      [["--org", orgId, "--format", "csv", "--wat"], /--wat/],
      [["--org", orgId, "--format", "csv", "stray"], /stray/],
      [["--org", "--format", "csv"], /--org/],
    ];
    // No database configured at all: flags are refused before one is opened.
    const noDatabase = { DATA_DIR: join(dir, "never-created") };
    const runs = await Promise.all(cases.map(([args]) => rollcall(["export-audit", ...args], noDatabase)));
    for (const [i, [args, message]] of cases.entries()) {
      const run = runs[i];
      assert.equal(run?.code, 2, `${args.join(" ")}: ${run?.stderr}`);
      assert.match(run.stderr, message, args.join(" "));
      assert.equal(run.stdout, "");
    }
    await assert.rejects(access(noDatabase.DATA_DIR), { code: "ENOENT" });
  });

  test("an unknown organisation is an error, exit 1, and no file is written", async () => {
    const out = join(dir, "unknown.csv");
    const run = await rollcall(
      ["export-audit", "--org", "org_00000000000000000000000000", "--format", "csv", "--out", out],
      env,
    );
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /no organisation with id "org_00000000000000000000000000"/);
    assert.equal(run.stdout, "");
    await assert.rejects(access(out), { code: "ENOENT" });
  });
});

describe("export", () => {
  test("jsonl to standard output: every event of the organisation, oldest first, with the API's fields", async () => {
    const run = await rollcall(["export-audit", "--org", orgId, "--format", "jsonl"], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "", "no progress when writing to standard output");
    assert.ok(run.stdout.endsWith("\n"));
    const lines = run.stdout.slice(0, -1).split("\n");
    assert.equal(lines.length, COUNT);
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      events.map((e) => e.id),
      expected,
    );
    for (const e of events) assert.deepEqual(Object.keys(e), FIELDS);
    assert.ok(!events.some((e) => otherIds.has(String(e.id))), "no event of another organisation");

    const [first, tricky] = [events[0], events.find((e) => (e.data as { n: number }).n === 7)];
    assert.equal(first?.at, "2024-03-01T10:00:00.000Z");
    assert.equal(tricky?.actorName, TRICKY_NAME);
    assert.deepEqual(tricky?.data, { n: 7, ...TRICKY_DATA });
    assert.equal(tricky?.action, "member.added");
    assert.equal(tricky?.actorId, "usr_2");
    assert.equal(tricky?.targetType, "thing");
    assert.equal(tricky?.targetId, "7");
    assert.equal(events.find((e) => (e.data as { n: number }).n === 3)?.targetId, null);
    assert.equal(events.at(-1)?.at, new Date(BASE + Math.floor((COUNT - 1) / 2) * 0.25).toISOString());
  });

  test("csv to a file: a header, RFC 4180 quoting, data as JSON, progress and a final count on stderr", async () => {
    const out = join(dir, "audit.csv");
    const run = await rollcall(["export-audit", "--org", orgId, "--format", "csv", "--out", out], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "", "the export goes to the file only");
    assert.match(run.stderr, new RegExp(`exported 2,345 events to ${out.replaceAll(".", "\\.")}\\n$`));
    for (const line of run.stderr.trim().split("\n").slice(0, -1)) {
      assert.match(line, /^exported [\d,]+ events…$/);
    }

    const text = await readFile(out, "utf8");
    // The value with a comma, quotes and a line break, exactly as RFC 4180 writes it.
    assert.ok(text.includes(`,"Smith, ""Jo""\nJr.",`), "the tricky name is quoted, its quotes doubled");
    const [header, ...rows] = parseCsv(text);
    assert.deepEqual(header, FIELDS);
    assert.equal(rows.length, COUNT);
    assert.deepEqual(
      rows.map((r) => r[0]),
      expected,
    );
    for (const r of rows) assert.equal(r.length, FIELDS.length);
    assert.ok(!rows.some((r) => otherIds.has(r[0] ?? "")));

    const tricky = rows.find((r) => (JSON.parse(r[7] ?? "{}") as { n: number }).n === 7);
    assert.ok(tricky);
    assert.equal(tricky[3], TRICKY_NAME);
    assert.deepEqual(JSON.parse(tricky[7] ?? ""), { n: 7, ...TRICKY_DATA });
    assert.deepEqual(tricky.slice(2, 7), ["usr_2", TRICKY_NAME, "member.added", "thing", "7"]);
    const nullTarget = rows.find((r) => (JSON.parse(r[7] ?? "{}") as { n: number }).n === 3);
    assert.equal(nullTarget?.[6], "", "null is an empty field");
    assert.equal(rows[0]?.[1], "2024-03-01T10:00:00.000Z");
  });

  test("--since (inclusive) and --until (exclusive) bound the export", async () => {
    const since = new Date(BASE + 100).toISOString(); // n >= 800
    const until = new Date(BASE + 200).toISOString(); // n < 1600
    const run = await rollcall(
      ["export-audit", "--org", orgId, "--format", "jsonl", "--since", since, "--until", until],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    const ns = run.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { data: { n: number } }).data.n);
    assert.equal(ns.length, 800);
    assert.equal(Math.min(...ns), 800);
    assert.equal(Math.max(...ns), 1599);
  });

  test("another organisation's export holds only its own events", async () => {
    const run = await rollcall(["export-audit", "--org", otherOrgId, "--format", "csv"], env);
    assert.equal(run.code, 0, run.stderr);
    const [header, ...rows] = parseCsv(run.stdout);
    assert.deepEqual(header, FIELDS);
    assert.deepEqual(
      rows.map((r) => r[0]),
      otherExpected,
    );
    assert.deepEqual(rows.map((r) => (JSON.parse(r[7] ?? "") as { n: number }).n).sort(), [0, 1, 2, 3, 4]);
    assert.ok(rows.every((r) => r[3] === "Other Person"));
  });
});
