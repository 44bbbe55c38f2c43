// `rollcall export-audit`: every event of one organisation, oldest first, as JSON Lines or CSV.
// Reads by keyset in batches and writes each batch before reading the next, waiting for the
// output to drain, so memory stays flat however long the trail is.

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import type { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { loadConfig } from "../config.js";
import { openDatabase, type Queryable } from "../db/index.js";
import {
  type AuditEvent,
  listAuditEvents,
  organizationExists,
  type PresentedAuditEvent,
  presentAuditEvent,
} from "./queries.js";

export type ExportFormat = "jsonl" | "csv";

export const EXPORT_BATCH = 1000;
const PROGRESS_EVERY_MS = 500;

/** The columns of the CSV, in the order of the API's fields. */
export const CSV_COLUMNS = [
  "id",
  "at",
  "actorId",
  "actorName",
  "action",
  "targetType",
  "targetId",
  "data",
] as const satisfies readonly (keyof PresentedAuditEvent)[];

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
/**
 * RFC 4180 quoting. A value a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a
 * leading apostrophe: names in the trail are chosen by users, and an export is opened in Excel.
 */
export function csvField(value: string | null): string {
  if (value === null) return "";
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvLine(fields: (string | null)[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

/** One event as a line of the export. */
export function exportLine(event: AuditEvent, format: ExportFormat): string {
  const e = presentAuditEvent(event);
  if (format === "jsonl") return `${JSON.stringify(e)}\n`;
  return csvLine(CSV_COLUMNS.map((c) => (c === "data" ? JSON.stringify(e.data) : e[c])));
}

export interface ExportOptions {
  format: ExportFormat;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Called after each batch with the count so far. */
  onBatch?: (count: number) => void;
}

/** Writes every event of the organisation to `output`, oldest first; answers how many. */
export async function exportAuditEvents(
  db: Queryable,
  orgId: string,
  output: Writable,
  options: ExportOptions,
): Promise<number> {
  if (options.format === "csv") await write(output, csvLine([...CSV_COLUMNS]));
  let count = 0;
  let after: string | undefined;
  for (;;) {
    const batch = await listAuditEvents(db, orgId, {
      order: "oldest",
      limit: EXPORT_BATCH,
      after,
      since: options.since,
      until: options.until,
    });
    if (batch.events.length) {
      await write(output, batch.events.map((e) => exportLine(e, options.format)).join(""));
    }
    count += batch.events.length;
    options.onBatch?.(count);
    if (batch.next === null) return count;
    after = batch.next;
  }
}

/** Writes and, when the stream's buffer is full, waits for it to drain (or fail). */
async function write(output: Writable, chunk: string): Promise<void> {
  // events.once rejects when the stream emits "error" while waiting.
  if (!output.write(chunk)) await once(output, "drain");
}

type Out = (line: string) => void;
const err: Out = (line) => process.stderr.write(`${line}\n`);

function parseTime(flag: string, raw: string | undefined, problems: string[]): Date | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(raw);
  const date = new Date(raw);
  // Date rolls 2024-02-30 over to March 1st; such a day is a typo, not a time.
  const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  const real = day?.getUTCMonth() === Number(m?.[2]) - 1 && day.getUTCDate() === Number(m?.[3]);
  if (!m || !real || Number.isNaN(date.getTime())) {
    problems.push(`${flag} must be an ISO 8601 date or time (e.g. 2025-01-01T00:00:00Z), got "${raw}"`);
    return undefined;
  }
  return date;
}

/** The command: parses its flags, then exports. Answers the exit code. */
export async function runExportAudit(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      org: { type: "string" },
      format: { type: "string" },
      out: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
    },
  });
  const problems: string[] = [];
  const orgId = values.org?.trim();
  if (!orgId) problems.push("--org is required");
  const format = values.format;
  if (format !== "jsonl" && format !== "csv") problems.push("--format must be jsonl or csv");
  if (values.out !== undefined && !values.out.trim()) problems.push("--out needs a file name");
  const since = parseTime("--since", values.since, problems);
  const until = parseTime("--until", values.until, problems);
  if (since && until && since >= until) problems.push("--since must be before --until");
  if (problems.length || !orgId || (format !== "jsonl" && format !== "csv")) {
    for (const p of problems) err(`error: ${p}`);
    err("Run `rollcall export-audit --help` for usage.");
    return 2;
  }

  const config = loadConfig();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    if (!(await organizationExists(database.db, orgId))) {
      err(`error: there is no organisation with id "${orgId}"`);
      return 1;
    }
    if (values.out === undefined) {
      await exportAuditEvents(database.db, orgId, process.stdout, { format, since, until });
      return 0;
    }
    const file = values.out;
    const output = createWriteStream(file);
    await once(output, "open");
    let shown = Date.now();
    const count = await exportAuditEvents(database.db, orgId, output, {
      format,
      since,
      until,
      onBatch(n) {
        if (Date.now() - shown < PROGRESS_EVERY_MS) return;
        shown = Date.now();
        err(`exported ${n.toLocaleString("en-US")} events…`);
      },
    });
    output.end();
    await once(output, "finish");
    err(`exported ${count.toLocaleString("en-US")} events to ${file}`);
    return 0;
  } finally {
    await database.close();
  }
}
