// Bulk loading for the benchmark's seeders: rows streamed into a table with PostgreSQL's
// `COPY … FROM STDIN` (text format), in chunks so that a million rows never sit in memory.
import { once } from "node:events";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

/** One value in COPY's text format: NULL as \N; the seeded values hold no tab, newline or backslash. */
function field(value: string | number | null): string {
  return value === null ? "\\N" : String(value);
}

/**
 * Streams `rows` into `table (columns)`; calls `onRows(n)` with the running count. Resolves when
 * PostgreSQL has committed the COPY (it is one statement: all rows or none).
 */
export async function copyRows(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly (string | number | null)[]>,
  onRows?: (done: number) => void,
): Promise<number> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(", ")}) FROM STDIN`));
  const finished = new Promise<void>((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  let done = 0;
  let chunk: string[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const text = chunk.join("");
    chunk = [];
    if (!stream.write(text)) await once(stream, "drain");
  };
  for (const row of rows) {
    chunk.push(`${row.map(field).join("\t")}\n`);
    done++;
    if (chunk.length >= 5_000) {
      await flush();
      onRows?.(done);
    }
  }
  await flush();
  stream.end();
  await finished;
  onRows?.(done);
  return done;
}
