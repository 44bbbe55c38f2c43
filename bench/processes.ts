// The servers a benchmark drives, each in a process of its own: Rollcall's production build on the
// benchmark's PostgreSQL, and the bare-Fastify ceiling.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { freePort } from "../test/helpers/postgres-server.js";

export interface Server {
  url: string;
  /** The METRICS_TOKEN the server was started with (`Authorization: Bearer` for /metrics). */
  metricsToken?: string;
  /** The server's process id (for its memory, read from /proc). */
  pid: number | undefined;
  stop(): Promise<void>;
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
}

/**
 * Rollcall's production build on `databaseUrl` (or, when it is null, on PGlite in `env.DATA_DIR`),
 * its mail going to `smtpUrl` (the bench's listener); `env` adds to or overrides its environment.
 */
export async function startRollcall(
  databaseUrl: string | null,
  smtpUrl: string,
  env: Record<string, string> = {},
): Promise<Server> {
  if (!existsSync("dist/main.js")) throw new Error("no production build: run npm run build first");
  const port = await freePort();
  const metricsToken = randomBytes(32).toString("hex");
  const child = spawn(process.execPath, ["dist/main.js", "serve"], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl ?? "",
      SMTP_URL: smtpUrl,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      METRICS_TOKEN: metricsToken,
      // The load generator is one IP making many requests; the limits are not what is measured.
      RATE_LIMIT_LOGIN_IP: "1000000/15m",
      RATE_LIMIT_SIGNUP_IP: "1000000/1h",
      RATE_LIMIT_INVITATION_LOOKUP_IP: "1000000/10m",
      RATE_LIMIT_INVITATIONS_ORG: "1000000/1h",
      RATE_LIMIT_INVITATION_MAILS_RECIPIENT: "1000000/1d",
      RATE_LIMIT_ORGS_USER: "1000000/1d",
      RATE_LIMIT_SEARCH_USER: "1000000/1m",
      ...env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/readyz`, 60_000);
  return { url, pid: child.pid, metricsToken, stop: stopper(child) };
}

export async function startCeiling(): Promise<Server> {
  const port = await freePort();
  const child = fork("bench/ceiling.ts", [String(port)], { execArgv: ["--import", "tsx"], stdio: "inherit" });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/ceiling`, 30_000);
  return { url, pid: child.pid, stop: stopper(child) };
}
