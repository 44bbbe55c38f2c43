// What a benchmark run found, as tables (Markdown, so that BENCHMARKS.md can take them as they
// are) and as bench/results/<time>.json. The targets are issue 6's.
import { mkdirSync, writeFileSync } from "node:fs";
import type { EventRow, EventsReport } from "./events.js";
import type { LoadResult } from "./load.js";

export interface Row {
  /** Seeded users when measured. */
  stage: number;
  workload: string;
  system: string;
  connections: number;
  runs: LoadResult[];
  median: LoadResult;
}

export interface SizeRow {
  system: string;
  bytes: number;
}

export interface Report {
  at: string;
  quick: boolean;
  command: string;
  durationSeconds: number;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  versions: Record<string, string>;
  settings: Record<string, unknown>;
  seeding: { users: number; from: number; rollcallMs: number; betterAuthMs: number; sizes: SizeRow[] }[];
  rows: Row[];
  invitationPairs: Record<string, { pairs: number; medianMs: number; meanMs: number }>;
  /** W4's terms one at a time, sequentially: matches on the first page, median and slowest of 7. */
  searchTerms: { q: string; matches: number; medianMs: number; maxMs: number }[];
  /** E1–E5: events and webhooks (events.ts); issue 15's targets. */
  events?: EventsReport;
}

const TITLES: Record<string, string> = {
  W0: "ceiling: bare Fastify route",
  W1: "session check",
  W2: "permission check",
  W3: "member page of 50",
  W4: "member search (10 terms)",
};

const n = (x: number) => Math.round(x).toLocaleString("en");
const ms = (x: number) => x.toFixed(1);
const mb = (bytes: number) => `${n(bytes / 2 ** 20)} MB`;

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(head), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...body.map(line)].join("\n");
}

function find(r: Report, stage: number, workload: string, system: string, connections: number) {
  return r.rows.find(
    (x) =>
      x.stage === stage && x.workload === workload && x.system === system && x.connections === connections,
  )?.median;
}

interface Check {
  target: string;
  measured: string;
  met: boolean | null;
}

/** Each of the targets with what this run measured. */
export function checks(r: Report): Check[] {
  const stages = [...new Set(r.rows.map((x) => x.stage))].sort((a, b) => a - b);
  const [small, middle, large] = stages as [number, number, number];
  const out: Check[] = [];
  const connections = [...new Set(r.rows.filter((x) => x.stage === middle).map((x) => x.connections))];
  for (const c of connections) {
    for (const [w, factor] of [
      ["W1", 20],
      ["W2", 20],
      ["W3", 5],
    ] as const) {
      const a = find(r, middle, w, "rollcall", c);
      const b = find(r, middle, w, "better-auth", c);
      if (!a || !b) continue;
      const ratio = a.requestsPerSecond / b.requestsPerSecond;
      out.push({
        target: `${w} ≥ ${factor}× Better Auth (c=${c})`,
        measured: `${ratio.toFixed(1)}×`,
        met: ratio >= factor,
      });
    }
    const w1 = find(r, middle, "W1", "rollcall", c);
    const w0 = find(r, middle, "W0", "fastify", c);
    if (w1 && w0) {
      const share = w1.requestsPerSecond / w0.requestsPerSecond;
      out.push({
        target: `W1 ≥ 25 % of W0 (c=${c})`,
        measured: `${(share * 100).toFixed(0)} %`,
        met: share >= 0.25,
      });
    }
  }
  const a = r.invitationPairs.rollcall;
  const b = r.invitationPairs["better-auth"];
  if (a && b) {
    const ratio = a.medianMs / b.medianMs;
    out.push({
      target: "W5 pair ≤ ½ of Better Auth's time",
      measured: `${ms(a.medianMs)} ms vs ${ms(b.medianMs)} ms = ${ratio.toFixed(2)}`,
      met: ratio <= 0.5,
    });
  }
  const search = r.rows.find((x) => x.workload === "W4");
  if (search) {
    out.push({
      target: `W4 p99 ≤ 20 ms (${n(search.stage)} members)`,
      measured: `${ms(search.median.p99Ms)} ms (p50 ${ms(search.median.p50Ms)} ms)`,
      met: search.median.p99Ms <= 20,
    });
  }
  for (const w of ["W1", "W2", "W3"]) {
    const before = r.rows.find((x) => x.stage === small && x.workload === w && x.system === "rollcall");
    const after = r.rows.find(
      (x) =>
        x.stage === large &&
        x.workload === w &&
        x.system === "rollcall" &&
        x.connections === before?.connections,
    );
    if (!before || !after) continue;
    // p99 in whole milliseconds: below 1 ms a ratio says nothing, so 1 ms is the floor.
    const ratio = Math.max(after.median.p99Ms, 1) / Math.max(before.median.p99Ms, 1);
    out.push({
      target: `${w} flatness: p99 at ${n(large)} ÷ at ${n(small)} ≤ 1.5`,
      measured: `${ms(after.median.p99Ms)} / ${ms(before.median.p99Ms)} ms = ${ratio.toFixed(2)}`,
      met: ratio <= 1.5,
    });
  }
  out.push(...eventChecks(r.events?.rows ?? []));
  return out;
}

/** Issue 15's targets for events and webhooks. */
function eventChecks(rows: EventRow[]): Check[] {
  const out: Check[] = [];
  for (const row of rows) {
    const where = row.database === "postgres" ? "PostgreSQL" : "PGlite";
    const l = row.latency;
    if (row.id === "E1" && l) {
      out.push({
        target: `E1 event → delivery p99 ≤ 1 s, ${where}: ${row.what}`,
        measured: `${ms(l.p99Ms)} ms (p50 ${ms(l.p50Ms)} ms)`,
        met: l.p99Ms <= 1000,
      });
    }
    if (row.id === "E2" && row.throughput) {
      out.push({
        target: `E2 ≥ 500 deliveries/s, one server, ${where}`,
        measured: `${n(row.throughput.perSecond)}/s`,
        met: row.throughput.perSecond >= 500,
      });
    }
    if (row.id === "E3" && row.cost) {
      const added = row.cost.with.p50Ms / row.cost.without.p50Ms - 1;
      out.push({
        target: `E3 3 endpoints add ≤ 10 % to a role change (p50), ${where}, ${row.what.replace("PATCH member role, ", "")}`,
        measured: `${ms(row.cost.without.p50Ms)} → ${ms(row.cost.with.p50Ms)} ms = ${added >= 0 ? "+" : ""}${(added * 100).toFixed(0)} %`,
        met: added <= 0.1,
      });
    }
    if (row.id === "E4" && l) {
      out.push({
        target: `E4 ${row.what}, ${where}`,
        measured: `p50 ${ms(l.p50Ms)} ms, p99 ${ms(l.p99Ms)} ms`,
        met: null,
      });
    }
    if (row.id === "E5" && l) {
      out.push({
        target: `E5 write on A → stream on B ≤ 100 ms (median), ${where}`,
        measured: `${ms(l.p50Ms)} ms (p99 ${ms(l.p99Ms)} ms)`,
        met: l.p50Ms <= 100,
      });
    }
  }
  return out;
}

function eventTables(e: EventsReport): string[] {
  const db = (row: EventRow) => (row.database === "postgres" ? "PostgreSQL" : "PGlite");
  const latencies = e.rows.filter((x) => x.latency);
  const tables = [
    table(
      [
        "events",
        "database",
        "measured",
        "n",
        "p50 from answer",
        "p99 from answer",
        "p50 from request",
        "p99 from request",
      ],
      latencies.map((x) => {
        const l = x.latency as NonNullable<EventRow["latency"]>;
        return [
          x.id,
          db(x),
          x.what,
          String(l.samples),
          `${ms(l.p50Ms)} ms`,
          `${ms(l.p99Ms)} ms`,
          `${ms(l.sentP50Ms)} ms`,
          `${ms(l.sentP99Ms)} ms`,
        ];
      }),
    ),
  ];
  const throughput = e.rows.filter((x) => x.throughput);
  if (throughput.length > 0) {
    tables.push(
      table(
        ["E2 deliveries", "database", "endpoints", "deliveries", "timed from", "seconds", "per second"],
        throughput.map((x) => {
          const t = x.throughput as NonNullable<EventRow["throughput"]>;
          return [
            x.what,
            db(x),
            String(t.endpoints),
            n(t.deliveries),
            t.from,
            t.seconds.toFixed(2),
            n(t.perSecond),
          ];
        }),
      ),
    );
  }
  const cost = e.rows.filter((x) => x.cost);
  if (cost.length > 0) {
    tables.push(
      table(
        [
          "E3 role change",
          "database",
          "changes each",
          "p50, 0 endpoints",
          "p99, 0 endpoints",
          "p50, 3 endpoints",
          "p99, 3 endpoints",
        ],
        cost.map((x) => {
          const c = x.cost as NonNullable<EventRow["cost"]>;
          return [
            x.what,
            db(x),
            String(c.changes),
            `${ms(c.without.p50Ms)} ms`,
            `${ms(c.without.p99Ms)} ms`,
            `${ms(c.with.p50Ms)} ms`,
            `${ms(c.with.p99Ms)} ms`,
          ];
        }),
      ),
    );
  }
  tables.push(
    `Deliveries checked with standardwebhooks: ${n(e.verified)}, all valid. E1–E5 took ` +
      Object.entries(e.seconds ?? {})
        .map(([db, s]) => `${s.toFixed(0)} s on ${db}`)
        .join(", ") +
      ", set-up included.",
  );
  return tables;
}

export function report(r: Report): string {
  const parts: string[] = [];
  parts.push(
    `${r.command} — ${r.at}\n${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ` +
      Object.entries(r.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
  );
  parts.push(
    table(
      ["users", "workload", "system", "conn", "req/s", "p50 ms", "p99 ms"],
      r.rows.map((x) => [
        n(x.stage),
        `${x.workload} ${TITLES[x.workload] ?? ""}`,
        x.system,
        String(x.connections),
        n(x.median.requestsPerSecond),
        ms(x.median.p50Ms),
        ms(x.median.p99Ms),
      ]),
    ),
  );
  parts.push(
    table(
      ["W5 invitation create + accept", "pairs", "median ms", "mean ms"],
      Object.entries(r.invitationPairs).map(([system, p]) => [
        system,
        String(p.pairs),
        ms(p.medianMs),
        ms(p.meanMs),
      ]),
    ),
  );
  parts.push(
    table(
      ["W4 term, alone", "on page 1", "median ms", "max ms"],
      r.searchTerms.map((s) => [`"${s.q}"`, String(s.matches), ms(s.medianMs), ms(s.maxMs)]),
    ),
  );
  parts.push(
    table(
      ["W6 seeding", "rollcall", "better-auth", "rollcall tables", "better-auth tables", "database"],
      r.seeding.map((s) => {
        const size = (system: string) => s.sizes.find((x) => x.system === system)?.bytes ?? 0;
        return [
          `users ${n(s.from)} … ${n(s.users)}`,
          `${(s.rollcallMs / 1000).toFixed(1)} s`,
          `${(s.betterAuthMs / 1000).toFixed(1)} s`,
          mb(size("rollcall")),
          mb(size("better-auth")),
          mb(size("database")),
        ];
      }),
    ),
  );
  if (r.events) parts.push(...eventTables(r.events));
  parts.push(
    table(
      ["target", "measured", "met"],
      checks(r).map((c) => [c.target, c.measured, c.met === null ? "—" : c.met ? "yes" : "**no**"]),
    ),
  );
  return `\n${parts.join("\n\n")}`;
}

export function writeResults(r: Report): string {
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/${r.at.replaceAll(":", "-")}${r.quick ? "-quick" : ""}.json`;
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
