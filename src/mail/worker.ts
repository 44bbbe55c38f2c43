// Delivers the outbox. Any number of servers may run a worker on the same database.
//
// A batch is claimed in ONE statement that takes a lease: attempts + 1 and next_attempt_at pushed
// the lease (MAIL_LEASE_MS, default LEASE_MS) into the future, picking rows with FOR UPDATE SKIP
// LOCKED so that two workers never pick the same row. The statement commits at once; the mail is
// then sent with no transaction open (the embedded database has a single connection, and an SMTP
// server may take seconds), and the outcome is recorded with a second statement.
//
// At-least-once, never silently lost: a worker killed between the SMTP server accepting a mail
// and the "sent" update leaves the row queued with its lease. When the lease runs out another
// worker (or this one, restarted) claims it again and sends it again, with the same Message-ID
// (fixed in the row), so that a receiver can recognise the duplicate.
import { type Kysely, sql } from "kysely";
import type { Config } from "../config.js";
import type { DB, MailRow } from "../db/schema.js";
import type { MailLogger, MailTransport } from "./transport.js";

/** The mail settings; leaseMs may be left out (LEASE_MS) by callers that build their own. */
export type MailWorkerConfig = Omit<Config["mail"], "leaseMs" | "retentionDays"> &
  Partial<Pick<Config["mail"], "leaseMs">>;

export interface MailWorkerOptions {
  db: Kysely<DB>;
  transport: MailTransport;
  config: MailWorkerConfig;
  /** The From header (MAIL_FROM). */
  from: string;
  logger: MailLogger;
  onSent?: (mail: MailRow) => void;
  /** `final`: the mail has used its last attempt and is now `failed`. */
  onFailure?: (mail: MailRow, error: Error, final: boolean) => void;
  /** Rows claimed per statement. */
  batchSize?: number;
  /**
   * How long a claim keeps other workers away; must exceed the longest possible send. Default:
   * config.leaseMs (MAIL_LEASE_MS), else LEASE_MS.
   */
  leaseMs?: number;
}

/**
 * The default lease (MAIL_LEASE_MS). Far longer than one send can take with the SMTP timeouts in
 * transport.ts (10 s to connect, 10 s for the greeting, 10 s per silent read), so that a slow send
 * is not claimed twice.
 */
export const LEASE_MS = 120_000;
export const BATCH_SIZE = 10;
const MAX_ERROR_LENGTH = 500;

/**
 * The wait before attempt `attempts + 1`, given that `attempts` (≥ 1) have failed:
 * retryBaseMs · 2^(attempts−1), ±20% jitter so that mails that failed together do not retry in
 * lock-step, never more than retryMaxMs.
 */
export function retryDelayMs(
  attempts: number,
  config: Pick<MailWorkerConfig, "retryBaseMs" | "retryMaxMs">,
  random: () => number = Math.random,
): number {
  const exponential = config.retryBaseMs * 2 ** Math.max(0, attempts - 1);
  const capped = Math.min(config.retryMaxMs, exponential);
  const jittered = capped * (0.8 + 0.4 * random());
  return Math.round(Math.min(config.retryMaxMs, jittered));
}

export class MailWorker {
  readonly #db: Kysely<DB>;
  readonly #transport: MailTransport;
  readonly #config: MailWorkerConfig;
  readonly #from: string;
  readonly #logger: MailLogger;
  readonly #onSent: MailWorkerOptions["onSent"];
  readonly #onFailure: MailWorkerOptions["onFailure"];
  readonly #batchSize: number;
  readonly #leaseMs: number;

  #running = false;
  #timer: NodeJS.Timeout | undefined;
  /** The poll loop's current pass, if one is under way. */
  #pass: Promise<void> | undefined;
  /** wake() during a pass: the mail may have committed after that pass's claim; look again. */
  #wokenDuringPass = false;
  /** The last claim failed (the database is away): said once, not at every poll of the outage. */
  #claimFailing = false;
  /** Every runOnce under way (the loop's and direct callers'), so that stop() can wait for them. */
  readonly #inFlight = new Set<Promise<number>>();

  constructor(options: MailWorkerOptions) {
    this.#db = options.db;
    this.#transport = options.transport;
    this.#config = options.config;
    this.#from = options.from;
    this.#logger = options.logger;
    this.#onSent = options.onSent;
    this.#onFailure = options.onFailure;
    this.#batchSize = options.batchSize ?? BATCH_SIZE;
    this.#leaseMs = options.leaseMs ?? options.config.leaseMs ?? LEASE_MS;
  }

  /** Polls every pollMs, and at once on wake(). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    // A pass left over from before a stop() that was not awaited reschedules when it ends.
    if (this.#pass) this.#wokenDuringPass = true;
    else this.#schedule(0);
  }

  /** Stops polling and waits for the sends under way to finish and be recorded. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#pass;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Something was just enqueued (and committed): look now rather than at the next poll. */
  wake(): void {
    if (!this.#running) return;
    if (this.#pass) {
      this.#wokenDuringPass = true;
      return;
    }
    this.#schedule(0);
  }

  /** Claims one batch of due mail and sends it. Resolves to the number of mails tried. */
  runOnce(): Promise<number> {
    const run = this.#runOnce();
    this.#inFlight.add(run);
    const forget = () => this.#inFlight.delete(run);
    run.then(forget, forget);
    return run;
  }

  /** For tests: runs batches until nothing is due. Resolves to the number of mails tried. */
  async runUntilIdle(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let total = 0;
    for (;;) {
      const n = await this.runOnce();
      total += n;
      if (n === 0) return total;
      if (Date.now() > deadline) throw new Error(`Mail still due after ${timeoutMs} ms`);
    }
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pass = this.#poll().finally(() => {
        this.#pass = undefined;
        if (!this.#running) return;
        const again = this.#wokenDuringPass;
        this.#wokenDuringPass = false;
        this.#schedule(again ? 0 : this.#config.pollMs);
      });
    }, delayMs);
  }

  /** One pass of the loop: batches until a short one. Never rejects: the loop must outlive a DB outage. */
  async #poll(): Promise<void> {
    try {
      while (this.#running) {
        const n = await this.runOnce();
        if (this.#claimFailing) {
          this.#claimFailing = false;
          this.#logger.info({}, "mail worker: claiming mail again");
        }
        if (n < this.#batchSize) return;
      }
    } catch (err) {
      // Once per outage at error level; the polls after it at debug, not a stack trace a second.
      if (this.#claimFailing) {
        this.#logger.debug({ error: (err as Error).message }, "mail worker: still cannot claim mail");
        return;
      }
      this.#claimFailing = true;
      this.#logger.error({ err }, "mail worker: could not claim mail; retrying at every poll until it can");
    }
  }

  async #runOnce(): Promise<number> {
    const rows = await this.#claim();
    // Each send records its own outcome and never rejects, so one bad mail cannot stop the rest.
    await Promise.all(rows.map((row) => this.#deliver(row)));
    return rows.length;
  }

  #claim(): Promise<MailRow[]> {
    const db = this.#db;
    return db
      .updateTable("mail_outbox")
      .set((eb) => ({
        attempts: eb("attempts", "+", 1),
        next_attempt_at: sql<Date>`now() + make_interval(secs => ${this.#leaseMs / 1000})`,
      }))
      .where("id", "in", (eb) =>
        eb
          .selectFrom("mail_outbox")
          .select("id")
          .where("status", "=", "queued")
          .where("next_attempt_at", "<=", sql<Date>`now()`)
          .orderBy("next_attempt_at")
          .limit(this.#batchSize)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .execute();
  }

  async #deliver(row: MailRow): Promise<void> {
    try {
      if (row.text_body === null || row.html_body === null) throw new Error("mail body is missing");
      await this.#transport.send({
        to: row.to_address,
        from: this.#from,
        subject: row.subject,
        text: row.text_body,
        html: row.html_body,
        messageId: row.message_id,
      });
    } catch (err) {
      await this.#recordFailure(row, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    await this.#recordSent(row);
  }

  async #recordSent(row: MailRow): Promise<void> {
    try {
      // The mail was accepted, so it is sent even if our lease ran out and another worker has
      // since given up on it; a row already `sent` (by a duplicate send) keeps its first sent_at.
      await this.#db
        .updateTable("mail_outbox")
        .set({
          status: "sent",
          sent_at: sql<Date>`now()`,
          last_error: null,
          // The bodies may carry one-time links: they do not stay at rest once delivered.
          text_body: null,
          html_body: null,
        })
        .where("id", "=", row.id)
        .where("status", "<>", "sent")
        .execute();
    } catch (err) {
      // The lease runs out and the mail is sent again with the same Message-ID (see the top).
      this.#logger.error({ err, mailId: row.id }, "mail worker: sent, but could not record it");
      return;
    }
    this.#logger.info({ mailId: row.id, kind: row.kind, messageId: row.message_id }, "mail sent");
    this.#notify(() => this.#onSent?.(row));
  }

  async #recordFailure(row: MailRow, error: Error): Promise<void> {
    const final = row.attempts >= this.#config.maxAttempts;
    const lastError = error.message.slice(0, MAX_ERROR_LENGTH);
    try {
      const update = final
        ? { status: "failed" as const, last_error: lastError, text_body: null, html_body: null }
        : {
            last_error: lastError,
            next_attempt_at: sql<Date>`now() + make_interval(secs => ${retryDelayMs(row.attempts, this.#config) / 1000})`,
          };
      const result = await this.#db
        .updateTable("mail_outbox")
        .set(update)
        .where("id", "=", row.id)
        .where("status", "=", "queued")
        // Our claim is still the latest one: if the lease ran out and another worker claimed the
        // row, attempts has moved on and the outcome is that worker's to record.
        .where("attempts", "=", row.attempts)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) {
        this.#logger.warn({ mailId: row.id }, "mail worker: lease lost before the failure was recorded");
      }
    } catch (err) {
      this.#logger.error({ err, mailId: row.id }, "mail worker: could not record a failed send");
    }
    const fields = { mailId: row.id, kind: row.kind, attempts: row.attempts, error: lastError };
    if (final) this.#logger.error(fields, "mail failed; giving up");
    else this.#logger.warn(fields, "mail send failed; will retry");
    this.#notify(() => this.#onFailure?.(row, error, final));
  }

  /** A throwing callback (metrics) must not undo or repeat a recorded outcome. */
  #notify(callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.#logger.error({ err }, "mail worker: callback failed");
    }
  }
}
