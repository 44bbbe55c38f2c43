// What every command shares: the Command shape, output, the configuration help, and opening the
// database for the length of a command.
import type { Config } from "../config.js";
import { type Database, openDatabase } from "../db/index.js";
import type { TransactionServices } from "../db/transaction.js";
import { awaitAcknowledgements } from "../replica/leases.js";

export interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

type Out = (line: string) => void;
export const out: Out = (line) => process.stdout.write(`${line}\n`);
export const err: Out = (line) => process.stderr.write(`${line}\n`);

export const CONFIG_HELP = `
Configuration comes from the environment (see the README): PORT, HOST, DATABASE_URL, DATA_DIR,
PUBLIC_URL, SMTP_URL, MAIL_FROM, SIGNUP, SIGNUP_CONFIRM, SESSION_IDLE_DAYS, SESSION_LIFETIME_DAYS, RATE_LIMIT_*,
TRUST_PROXY, METRICS_TOKEN.`;

export async function withDatabase<T>(config: Config, fn: (db: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

/**
 * How long a SIGTERM may take: requests finish in milliseconds and a mail send in about a second.
 * Under Docker's default 10 s before SIGKILL, so that the reason is logged before that comes.
 */
export function where(config: Config): string {
  return config.databaseUrl
    ? "the PostgreSQL server in DATABASE_URL"
    : `the embedded database in ${config.dataDir}`;
}

/**
 * What a CLI command's transaction needs: the database, and no mail worker to wake — the CLI runs
 * none; mail it queues is sent by a running server's worker on its next poll.
 */
export function cliServices(config: Config, database: Database): TransactionServices {
  return {
    db: database.db,
    wakeMail: () => undefined,
    // The CLI's removals and revocations wait for the replicas like the server's, by polling.
    awaitAcks: async (fence) => {
      await awaitAcknowledgements(database.db, fence, { limitMs: config.replica.leaseMs + 1000 });
    },
  };
}
