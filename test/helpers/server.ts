// A Rollcall server in a process of its own (`rollcall serve` through tsx), for the tests that kill,
// stop or multiply servers: SIGKILL mid-request, SIGTERM, several servers on one database. Driven
// over real HTTP on loopback.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { checkerAt } from "./answers.js";
import type { Answer } from "./app.js";
import { freePort } from "./postgres-server.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface ServerOptions {
  /** PostgreSQL to serve from; otherwise the embedded database in dataDir. */
  databaseUrl?: string | undefined;
  /** The embedded database's directory (when no databaseUrl). */
  dataDir?: string;
  /** A fixed port (to restart "the same server"); a free one by default. */
  port?: number;
  /** More environment: SMTP_URL, limits, LOG_LEVEL… */
  env?: Record<string, string>;
  /** How long to wait for /readyz (default 60 s). */
  readyTimeoutMs?: number;
}

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** stdout and stderr so far (the JSON log lines). */
  output(): string;
  request(method: string, path: string, options?: CallOptions): Promise<Answer>;
  /** Sends the signal and resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface CallOptions {
  body?: unknown;
  token?: string | undefined;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export const SERVER_PUBLIC_URL = "http://rollcall.test";

/** Starts `rollcall serve` and waits until /readyz answers 200. */
export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: SERVER_PUBLIC_URL,
    LOG_LEVEL: "info",
    MAIL_POLL_MS: "50",
    MAIL_RETRY_BASE_MS: "50",
    // Tests drive many requests from one address; the limits have tests of their own.
    RATE_LIMIT_LOGIN_IP: "100000/15m",
    RATE_LIMIT_SIGNUP_IP: "100000/1h",
    RATE_LIMIT_INVITATION_LOOKUP_IP: "100000/10m",
    RATE_LIMIT_INVITATIONS_ORG: "100000/1h",
    RATE_LIMIT_INVITATION_MAILS_RECIPIENT: "100000/1d",
    RATE_LIMIT_ORGS_USER: "100000/1d",
    ...options.env,
  };
  delete env.DATABASE_URL;
  delete env.NODE_OPTIONS;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  else env.DATA_DIR = options.dataDir ?? "./data";
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "serve"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    url,
    port,
    child,
    output: () => output,
    request: (method, path, callOptions) => call(url, method, path, callOptions),
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    exited,
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `rollcall serve exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`,
      );
    }
    try {
      if ((await fetch(`${url}/readyz`)).ok) {
        // The document its answers are checked against, read while the server is surely up.
        await checkerAt(url);
        return server;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.kill("SIGKILL");
      throw new Error(
        `rollcall serve was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${output}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One HTTP request over fetch, answered as the in-process helper answers. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  const responseHeaders: Record<string, string> = {};
  res.headers.forEach((value, key) => {
    responseHeaders[key] = value;
  });
  const answer = { status: res.status, json, text, headers: responseHeaders };
  // Every answer is as the OpenAPI document says (test/helpers/answers.ts), or the test fails.
  (await checkerAt(base)).check(method, path, answer);
  return answer;
}
