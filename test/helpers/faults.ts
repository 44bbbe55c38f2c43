// Injected failures for rule 14 (docs/rules.md#rule-14): a trigger makes the database refuse one
// write in the middle of an operation — the audit event of one action, or the mail of one kind —
// so that a test can check nothing of that operation remains.
import { sql } from "kysely";
import type { Db } from "../../src/db/index.js";

/** The tables whose inserts a fault can refuse, each matched on its own column. */
export type FaultTable = "audit_events" | "mail_outbox";

/**
 * Creates the trigger function `failing` installs: it refuses an audit event whose action, or a
 * mail whose kind, is the trigger's argument, and lets every other row through. Once per database.
 *
 * The table is tested before the column is read, in a separate IF: PL/pgSQL does not stop at the
 * first false operand of AND, and `NEW.kind` on an audit event (or `NEW.action` on a mail) is an
 * error — "record new has no field" — that would fail the first row of the table, not the one
 * meant.
 */
export async function installFaults(db: Db): Promise<void> {
  await sql`
    CREATE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'audit_events' THEN
        IF NEW.action = TG_ARGV[0] THEN
          RAISE EXCEPTION 'injected failure at %', TG_ARGV[0];
        END IF;
      ELSIF TG_TABLE_NAME = 'mail_outbox' THEN
        IF NEW.kind = TG_ARGV[0] THEN
          RAISE EXCEPTION 'injected failure at %', TG_ARGV[0];
        END IF;
      END IF;
      RETURN NEW;
    END $$`.execute(db);
}

/**
 * Runs `body` while every insert into `table` matching `match` (audit_events: action;
 * mail_outbox: kind) fails with "injected failure at {match}"; the trigger is gone afterwards.
 */
export async function failing<T>(
  db: Db,
  table: FaultTable,
  match: string,
  body: () => Promise<T>,
): Promise<T> {
  await sql`CREATE TRIGGER inject BEFORE INSERT ON ${sql.table(table)} FOR EACH ROW EXECUTE FUNCTION refuse_write(${sql.lit(match)})`.execute(
    db,
  );
  try {
    return await body();
  } finally {
    await sql`DROP TRIGGER inject ON ${sql.table(table)}`.execute(db);
  }
}
