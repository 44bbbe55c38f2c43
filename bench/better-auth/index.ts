// The Better Auth side of the benchmark, for bench/run.ts: create its schema, start its server in
// a process of its own, seed it with bench/dataset.ts, log the measuring user in, and the request
// shapes to measure. Better Auth's tables (`user`, `session`, `account`, `verification`,
// `organization`, `member`, `invitation`) share the benchmark's database with Rollcall's
// (`users`, `sessions`, `organizations`, `org_memberships`, …): no name is the same.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { getMigrations } from "better-auth/db/migration";
import { freePort } from "../../test/helpers/postgres-server.js";
import type { Server } from "../processes.js";
import { betterAuthOptions, createPool } from "./auth.js";

export {
  type BetterAuthInvitee,
  type BetterAuthLogin,
  type BetterAuthRequests,
  betterAuthInvitationPair,
  betterAuthRequests,
  loginBetterAuth,
  signUpBetterAuthInvitee,
  verifyBetterAuthRequests,
} from "./client.js";
export { seedBetterAuth } from "./seed.js";

/**
 * Creates Better Auth's tables and indexes with its own migration code: `getMigrations` is what
 * its CLI's `migrate` command runs. (The CLI itself, npm package `auth` 1.7.7, needs Node 22: on
 * Node 20 it stops at start-up with "Object.groupBy is not a function".)
 */
export async function migrateBetterAuth(databaseUrl: string): Promise<void> {
  const pool = createPool(databaseUrl);
  try {
    // The base URL plays no part in the schema.
    const { runMigrations } = await getMigrations(betterAuthOptions(pool, "http://127.0.0.1"));
    await runMigrations();
  } finally {
    await pool.end();
  }
}

/** Starts bench/better-auth/server.ts on a free port and waits until it listens. */
export async function startBetterAuth(databaseUrl: string): Promise<Server> {
  const port = await freePort();
  const child = fork(fileURLToPath(new URL("./server.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port) },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("the Better Auth server did not start within 60 s"));
    }, 60_000);
    child.once("message", (message) => {
      clearTimeout(timer);
      if (message === "ready") resolve();
      else reject(new Error(`the Better Auth server said ${JSON.stringify(message)}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the Better Auth server exited (${code}) before it was ready`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
