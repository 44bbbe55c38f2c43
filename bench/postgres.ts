// A throwaway PostgreSQL server for one benchmark run: its own data directory, loopback only, a
// free port, the same settings for every system measured against it. As root, initdb and postgres
// run as the `postgres` user (they refuse root).
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export interface BenchPostgres {
  url: string;
  version: string;
  stop(): void;
}

function pgBin(): string {
  const candidates = [process.env.PG_BINDIR, "/usr/lib/postgresql/15/bin"];
  try {
    candidates.unshift(execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim());
  } catch {
    // no pg_config on PATH
  }
  const found = candidates.find(
    (d) => d && existsSync(path.join(d, "initdb")) && existsSync(path.join(d, "pg_ctl")),
  );
  if (!found)
    throw new Error("PostgreSQL server binaries not found (install postgresql-15 or set PG_BINDIR)");
  return found;
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

export async function startPostgres(): Promise<BenchPostgres> {
  const bin = pgBin();
  const root = process.getuid?.() === 0;
  const asPostgres = (cmd: string, args: string[]) =>
    root
      ? spawnSync("runuser", ["-u", "postgres", "--", cmd, ...args], { encoding: "utf8" })
      : spawnSync(cmd, args, { encoding: "utf8" });
  const dir = mkdtempSync(path.join(tmpdir(), "rollcall-bench-pg-"));
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
  // Durable settings as a production server has them (fsync on); enough connections for both systems.
  writeFileSync(
    path.join(data, "postgresql.auto.conf"),
    `${[
      `listen_addresses = '127.0.0.1'`,
      `port = ${port}`,
      `unix_socket_directories = '${dir}'`,
      "max_connections = 300",
      "shared_buffers = 512MB",
    ].join("\n")}\n`,
  );
  if (root) execFileSync("chown", ["postgres", path.join(data, "postgresql.auto.conf")]);
  const start = asPostgres(path.join(bin, "pg_ctl"), [
    "-D",
    data,
    "-l",
    path.join(dir, "server.log"),
    "-w",
    "-t",
    "60",
    "start",
  ]);
  if (start.status !== 0) throw new Error(`PostgreSQL did not start: ${start.stderr}`);
  const version = execFileSync(path.join(bin, "postgres"), ["--version"], { encoding: "utf8" }).trim();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    version,
    stop() {
      asPostgres(path.join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
