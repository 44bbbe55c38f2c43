// A throwaway PostgreSQL server that a test or a benchmark owns: its own data directory, loopback
// only, a free port. It can be stopped and started again on the same data and port (the database
// outage tests), or killed as a crash would. As root, initdb and postgres run as the `postgres`
// user (they refuse root).
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  version: string;
  /** Stops the server; `immediate` is a crash (no checkpoint, recovery at the next start). */
  stop(mode?: "fast" | "immediate"): void;
  /** Starts it again on the same data directory and port. */
  start(): void;
  /** Stops it and deletes its data directory. */
  destroy(): void;
}

export interface PostgresOptions {
  /** fsync and synchronous commits (default true: durable, as production has them). */
  durable?: boolean;
  maxConnections?: number;
  sharedBuffers?: string;
}

/** The directory holding initdb, pg_ctl and postgres, or undefined. */
export function postgresBinDir(): string | undefined {
  const candidates = [process.env.PG_BINDIR, "/usr/lib/postgresql/15/bin"];
  try {
    candidates.unshift(execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim());
  } catch {
    // no pg_config on PATH
  }
  return candidates.find(
    (d) => d && existsSync(path.join(d, "initdb")) && existsSync(path.join(d, "pg_ctl")),
  ) as string | undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL server binaries not found (install postgresql-15 or set PG_BINDIR)");
  const root = process.getuid?.() === 0;
  const asPostgres = (cmd: string, args: string[]) =>
    root
      ? spawnSync("runuser", ["-u", "postgres", "--", cmd, ...args], { encoding: "utf8" })
      : spawnSync(cmd, args, { encoding: "utf8" });
  const dir = mkdtempSync(path.join(tmpdir(), "rollcall-pg-"));
  if (root) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" })), 0);
  const data = path.join(dir, "data");
  const init = asPostgres(path.join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "--locale=C.UTF-8",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const settings = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${dir}'`,
    `max_connections = ${options.maxConnections ?? 300}`,
    `shared_buffers = ${options.sharedBuffers ?? "128MB"}`,
  ];
  if (options.durable === false)
    settings.push("fsync = off", "synchronous_commit = off", "full_page_writes = off");
  writeFileSync(path.join(data, "postgresql.auto.conf"), `${settings.join("\n")}\n`);
  if (root) execFileSync("chown", ["postgres", path.join(data, "postgresql.auto.conf")]);

  const pgCtl = (args: string[]) => asPostgres(path.join(bin, "pg_ctl"), ["-D", data, ...args]);
  const start = () => {
    const started = pgCtl(["-l", path.join(dir, "server.log"), "-w", "-t", "60", "start"]);
    if (started.status !== 0) throw new Error(`PostgreSQL did not start: ${started.stderr}`);
  };
  start();
  const version = execFileSync(path.join(bin, "postgres"), ["--version"], { encoding: "utf8" }).trim();
  let destroyed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    version,
    stop(mode = "fast") {
      pgCtl(["-m", mode, "-w", "stop"]);
    },
    start,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      pgCtl(["-m", "immediate", "-w", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
