// Posts the deliveries (docs/webhooks.md). Any number of servers may run a worker on the same
// database; each claims due rows with FOR UPDATE SKIP LOCKED, so no two take the same delivery.
//
// Unlike the mail worker's batches, this one keeps up to `concurrency` posts in flight and claims
// again each time one ends, at most one delivery per endpoint at a time (per server): a receiver
// that takes 15 s to answer holds one slot, and only its own queue waits behind it, never another
// endpoint's deliveries.
//
// A claim takes a lease (attempts + 1, lease_expires_at in the future) in ONE statement that
// commits at once; the post is made with no transaction open, and its outcome recorded with a
// second statement. A worker that dies mid-post leaves its claim to run out; the delivery is then
// claimed again and posted again with the same webhook-id, for the receiver to recognise.
import { sql } from "kysely";
import type { Config } from "../config.js";
import type { Db } from "../db/index.js";
import { type TransactionServices, transact } from "../db/transaction.js";
import { disableEndpoint } from "./operations.js";
import { isDelivered, type PostWebhookResult, postWebhook } from "./post.js";
import { nextAttemptDelay } from "./schedule.js";
import { webhookHeaders } from "./signing.js";
import {
  type LookupAll,
  resolveTarget,
  type TargetPolicy,
  TargetRefused,
  TargetUnresolved,
} from "./target.js";

export interface WebhookLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WebhookWorkerOptions {
  /** The database, and the wake-ups a transaction that disables an endpoint sends. */
  services: TransactionServices;
  config: Config["webhooks"];
  logger: WebhookLogger;
  /** Looks again at least this often (the event bus wakes it at once after a commit). */
  pollMs: number;
  /** Posts in flight at once on this server. */
  concurrency?: number;
  /** How webhook hosts are resolved; tests inject their own. */
  lookup?: LookupAll;
}

export const CONCURRENCY = 8;
const MAX_ERROR_LENGTH = 500;

/** A claimed delivery, with what posting it needs from its endpoint. */
interface Claimed {
  id: string;
  org_id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  body: unknown;
  attempts: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

export class WebhookWorker {
  readonly #db: Db;
  readonly #services: TransactionServices;
  readonly #config: Config["webhooks"];
  readonly #policy: TargetPolicy;
  readonly #logger: WebhookLogger;
  readonly #pollMs: number;
  readonly #concurrency: number;
  readonly #lookup: LookupAll | undefined;
  /** Longer than the slowest attempt (DNS, then one deadline for the post), so none is claimed twice. */
  readonly #leaseMs: number;

  #running = false;
  #timer: NodeJS.Timeout | undefined;
  /** A claim is under way; a wake meanwhile asks for another after it. */
  #claiming: Promise<void> | undefined;
  #wokenDuringClaim = false;
  #claimFailing = false;
  /** The endpoints this server is posting to now: one delivery each at a time. */
  readonly #busy = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: WebhookWorkerOptions) {
    this.#services = options.services;
    this.#db = options.services.db;
    this.#config = options.config;
    this.#policy = { allowHttp: options.config.allowHttp, allowPrivate: options.config.allowPrivate };
    this.#logger = options.logger;
    this.#pollMs = options.pollMs;
    this.#concurrency = options.concurrency ?? CONCURRENCY;
    this.#lookup = options.lookup;
    this.#leaseMs = options.config.leaseMs;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#timer = setInterval(() => this.wake(), this.#pollMs);
    this.#timer.unref();
    this.wake();
  }

  /** Stops claiming and waits for the posts under way to finish and be recorded. */
  async stop(): Promise<void> {
    this.#running = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#claiming;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Deliveries may be due (an event committed, a post ended, the poll): claim what there is room for. */
  wake(): void {
    if (!this.#running) return;
    if (this.#claiming) {
      this.#wokenDuringClaim = true;
      return;
    }
    this.#claiming = this.#fill().finally(() => {
      this.#claiming = undefined;
      if (this.#wokenDuringClaim) {
        this.#wokenDuringClaim = false;
        this.wake();
      }
    });
  }

  /** Claims while there is room and something due. Never rejects: the loop outlives an outage. */
  async #fill(): Promise<void> {
    try {
      while (this.#running) {
        const room = this.#concurrency - this.#inFlight.size;
        if (room <= 0) return;
        const rows = await this.#claim(room);
        if (this.#claimFailing) {
          this.#claimFailing = false;
          this.#logger.info({}, "webhook worker: claiming deliveries again");
        }
        for (const row of rows) this.#start(row);
        if (rows.length < room) return;
      }
    } catch (err) {
      if (this.#claimFailing) {
        this.#logger.debug(
          { error: (err as Error).message },
          "webhook worker: still cannot claim deliveries",
        );
        return;
      }
      this.#claimFailing = true;
      this.#logger.error({ err }, "webhook worker: could not claim deliveries; retrying at every poll");
    }
  }

  #start(row: Claimed): void {
    this.#busy.add(row.endpoint_id);
    const post: Promise<void> = this.#deliver(row)
      .catch((err: unknown) =>
        this.#logger.error({ err, deliveryId: row.id }, "webhook worker: delivery failed"),
      )
      .finally(() => {
        this.#busy.delete(row.endpoint_id);
        this.#inFlight.delete(post);
        this.wake();
      });
    this.#inFlight.add(post);
  }

  /**
   * Up to `room` due deliveries, the oldest due first and at most one per endpoint, none for an
   * endpoint this server is posting to. The inner DISTINCT ON picks candidates without locking;
   * the claim locks them with SKIP LOCKED and checks again that each is still due and unleased,
   * so a row another worker claimed meanwhile is left alone.
   */
  async #claim(room: number): Promise<Claimed[]> {
    const busy = [...this.#busy];
    const due = sql`d.status = 'pending' AND d.next_attempt_at <= now()
      AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= now())`;
    const result = await sql<Claimed>`
      UPDATE webhook_deliveries AS w
      SET attempts = w.attempts + 1,
          last_attempt_at = now(),
          lease_expires_at = now() + make_interval(secs => ${this.#leaseMs / 1000})
      FROM webhook_endpoints AS e
      WHERE e.id = w.endpoint_id AND w.id IN (
        SELECT d.id FROM webhook_deliveries AS d
        WHERE ${due} AND d.id IN (
          SELECT c.id FROM (
            SELECT DISTINCT ON (d.endpoint_id) d.id, d.next_attempt_at
            FROM webhook_deliveries AS d
            WHERE ${due} AND NOT (d.endpoint_id = ANY (${busy}::text[]))
            ORDER BY d.endpoint_id, d.next_attempt_at, d.id) AS c
          ORDER BY c.next_attempt_at
          LIMIT ${room})
        FOR UPDATE OF d SKIP LOCKED)
      RETURNING w.id, w.org_id, w.endpoint_id, w.event_id, w.type, w.body, w.attempts,
                e.url, e.secret, e.previous_secret, e.previous_secret_expires_at`.execute(this.#db);
    return result.rows;
  }

  async #deliver(row: Claimed): Promise<void> {
    const body = JSON.stringify(row.body);
    let result: PostWebhookResult;
    try {
      const secrets = [row.secret];
      if (
        row.previous_secret &&
        row.previous_secret_expires_at &&
        row.previous_secret_expires_at > new Date()
      ) {
        secrets.push(row.previous_secret);
      }
      // The event id on every attempt, so that a receiver sees a retry as the same message.
      const headers = webhookHeaders(secrets, row.event_id, Math.floor(Date.now() / 1000), body);
      const target = await resolveTarget(new URL(row.url), this.#policy, this.#lookup);
      result = await postWebhook({ ...target, headers, body, timeoutMs: this.#config.timeoutMs });
    } catch (err) {
      // A refused or unresolvable target is an attempt that failed, with its reason.
      const reason =
        err instanceof TargetRefused || err instanceof TargetUnresolved
          ? err.message
          : `The delivery could not be made: ${(err as Error).message}`;
      await this.#recordFailure(row, null, reason);
      return;
    }
    if (isDelivered(result)) {
      await this.#recordDelivered(row, result.status);
      return;
    }
    const error =
      result.error ?? `The endpoint answered ${result.status}${result.status === 410 ? " Gone" : ""}.`;
    await this.#recordFailure(row, result.status, error);
    if (result.status === 410) {
      const at = new Date().toISOString();
      const disabled = await transact(this.#services, (tx) =>
        disableEndpoint(tx, row.endpoint_id, `The endpoint answered 410 Gone at ${at}.`),
      );
      if (disabled) {
        this.#logger.warn(
          { webhookId: row.endpoint_id, orgId: row.org_id },
          "webhook turned off: it answered 410",
        );
      }
    }
  }

  async #recordDelivered(row: Claimed, status: number | null): Promise<void> {
    // It was delivered, whatever happened to the row meanwhile (a lease run out, the endpoint
    // turned off): the record says what the receiver has.
    await this.#db
      .updateTable("webhook_deliveries")
      .set({ status: "delivered", response_status: status, error: null, lease_expires_at: null })
      .where("id", "=", row.id)
      .execute();
    this.#logger.info(
      { deliveryId: row.id, webhookId: row.endpoint_id, eventId: row.event_id, attempts: row.attempts },
      "webhook delivered",
    );
  }

  async #recordFailure(row: Claimed, status: number | null, reason: string): Promise<void> {
    const error = reason.slice(0, MAX_ERROR_LENGTH);
    // No more after a 410: the endpoint is turned off.
    const delay = status === 410 ? null : nextAttemptDelay(row.attempts, this.#config.retryScale);
    const result = await this.#db
      .updateTable("webhook_deliveries")
      .set(
        delay === null
          ? { status: "failed", response_status: status, error, lease_expires_at: null }
          : {
              response_status: status,
              error,
              lease_expires_at: null,
              next_attempt_at: sql<Date>`now() + make_interval(secs => ${delay / 1000})`,
            },
      )
      .where("id", "=", row.id)
      .where("status", "=", "pending")
      // Our claim is still the latest: if the lease ran out and another worker claimed the row,
      // attempts has moved on and the outcome is that worker's to record.
      .where("attempts", "=", row.attempts)
      .executeTakeFirst();
    const fields = { deliveryId: row.id, webhookId: row.endpoint_id, attempts: row.attempts, status, error };
    if (result.numUpdatedRows === 0n) {
      this.#logger.warn(fields, "webhook worker: the delivery changed before its failure was recorded");
    } else if (delay === null) {
      this.#logger.warn(fields, "webhook delivery failed; giving up");
    } else {
      this.#logger.info({ ...fields, retryInMs: delay }, "webhook delivery failed; will retry");
    }
  }
}
