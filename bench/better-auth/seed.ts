// Bulk-loads bench/dataset.ts into Better Auth's tables (as its migration created them) with
// PostgreSQL's COPY: users [from, to), the organisations they need and their memberships, in one
// transaction, then ANALYZE. Seeded users have no `account` row (no password): they are never
// logged in, they only have to exist, as members, for the measured requests to find.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import {
  memberships,
  organizationCount,
  orgName,
  orgSlug,
  progress,
  userEmail,
  userName,
} from "../dataset.js";

/** Deterministic text ids (Better Auth's ids are text; its own are random). */
export const userId = (i: number) => `u${i}`;
export const orgId = (k: number) => `o${k}`;

/** Lines handed to COPY at a time. */
const BATCH = 5_000;
/** One timestamp for every seeded row: COPY's text format reads it as timestamptz. */
const CREATED = new Date("2025-01-01T00:00:00Z").toISOString();

/**
 * COPY's text format: tab-separated columns, one row a line, \N for NULL. The dataset's values
 * hold no tab, newline or backslash, so they need no escaping; this checks rather than trusts.
 */
function line(values: (string | null)[]): string {
  return `${values
    .map((v) => {
      if (v === null) return "\\N";
      if (/[\t\n\r\\]/.test(v)) throw new Error(`unexpected character in seeded value ${JSON.stringify(v)}`);
      return v;
    })
    .join("\t")}\n`;
}

/** Streams `count` rows made by `row(n)` into `COPY table (columns) FROM STDIN`. */
async function copyRows(
  client: pg.ClientBase,
  table: string,
  columns: string[],
  count: number,
  row: (n: number) => (string | null)[],
  label: string,
): Promise<void> {
  const report = progress(label, count);
  report(0);
  function* chunks(): Generator<string> {
    for (let start = 0; start < count; start += BATCH) {
      const end = Math.min(count, start + BATCH);
      let text = "";
      for (let n = start; n < end; n++) text += line(row(n));
      yield text;
      report(end);
    }
  }
  const sql = `COPY "${table}" (${columns.map((c) => `"${c}"`).join(", ")}) FROM STDIN`;
  await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)));
}

export async function seedBetterAuth(databaseUrl: string, from: number, to: number): Promise<void> {
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to)) {
    throw new Error(`bad user range [${from}, ${to})`);
  }
  // Organisations 0 … organizationCount(from) - 1 exist once users [0, from) are seeded.
  const firstOrg = from === 0 ? 0 : organizationCount(from);
  const lastOrg = organizationCount(to); // exclusive
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("BEGIN");
    await copyRows(
      client,
      "organization",
      ["id", "name", "slug", "createdAt"],
      lastOrg - firstOrg,
      (n) => {
        const k = firstOrg + n;
        return [orgId(k), orgName(k), orgSlug(k), CREATED];
      },
      "Better Auth organisations",
    );
    await copyRows(
      client,
      "user",
      ["id", "name", "email", "emailVerified", "createdAt", "updatedAt"],
      to - from,
      (n) => {
        const i = from + n;
        return [userId(i), userName(i), userEmail(i), "t", CREATED, CREATED];
      },
      "Better Auth users",
    );
    const members = memberships(from, to);
    await copyRows(
      client,
      "member",
      ["id", "organizationId", "userId", "role", "createdAt"],
      2 * (to - from),
      () => {
        const m = members.next();
        if (m.done) throw new Error("the dataset has fewer memberships than expected");
        const { user, org, role } = m.value;
        return [`m${user}-${org}`, orgId(org), userId(user), role, CREATED];
      },
      "Better Auth memberships",
    );
    await client.query("COMMIT");
    await client.query('ANALYZE "user", "organization", "member"');
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    await client.end();
  }
}
