// Posts the deliveries (docs/webhooks.md). Any number of servers may run a worker on the same
// database; each claims due rows with FOR UPDATE SKIP LOCKED, so no two take the same delivery.
//
// Unlike the mail worker's batches, this one keeps up to `concurrency` posts in flight and claims
// again each time posts end, within two shares: at most PER_ENDPOINT posts to one endpoint and
// PER_ORG to one organisation's endpoints together. A receiver that takes 15 s to answer holds
// only its own share, and an organisation with many slow endpoints holds only its own: the other
// organisations' deliveries keep the rest of the slots.
//
// A claim takes a lease (attempts + 1, lease_expires_at in the future) in ONE statement that
// commits at once; the post is made with no transaction open. A delivered outcome waits a moment
// for others and is recorded with them in one statement; a failure is recorded at once. A worker
// that dies mid-post (or before its record) leaves its claim to run out; the delivery is then
// claimed again and posted again with the same webhook-id, for the receiver to recognise.
import type { Config } from "../config.js";
import type { Db } from "../db/index.js";
import { type TransactionServices, transact } from "../db/transaction.js";
import { type ClaimedDelivery, claimDeliveries, recordDelivered, recordFailure } from "./deliveries.js";
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

/** Posts in flight at once on one server; of them, to one endpoint; to one organisation's endpoints. */
export const CONCURRENCY = 64;
export const PER_ENDPOINT = 4;
export const PER_ORG = 16;
const MAX_ERROR_LENGTH = 500;

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
  /** What this server is posting now, by endpoint and by organisation. */
  readonly #endpointsInFlight = new Map<string, number>();
  readonly #orgsInFlight = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Delivered, to be recorded together; the record under way, if any. */
  #delivered: { row: ClaimedDelivery; status: number | null }[] = [];
  #recording: Promise<void> | undefined;

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
    while (this.#recording) await this.#recording;
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
        const rows = await claimDeliveries(this.#db, {
          total: room,
          perEndpoint: PER_ENDPOINT,
          perOrg: PER_ORG,
          endpointsInFlight: this.#endpointsInFlight,
          orgsInFlight: this.#orgsInFlight,
          leaseMs: this.#leaseMs,
        });
        if (this.#claimFailing) {
          this.#claimFailing = false;
          this.#logger.info({}, "webhook worker: claiming deliveries again");
        }
        for (const row of rows) this.#start(row);
        // A claim counts shares over a window of candidates and may take fewer than there is
        // room for: claim again until one finds nothing.
        if (rows.length === 0) return;
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

  #start(row: ClaimedDelivery): void {
    count(this.#endpointsInFlight, row.endpoint_id, 1);
    count(this.#orgsInFlight, row.org_id, 1);
    const post: Promise<void> = this.#deliver(row)
      .catch((err: unknown) =>
        this.#logger.error({ err, deliveryId: row.id }, "webhook worker: delivery failed"),
      )
      .finally(() => {
        count(this.#endpointsInFlight, row.endpoint_id, -1);
        count(this.#orgsInFlight, row.org_id, -1);
        this.#inFlight.delete(post);
        this.wake();
      });
    this.#inFlight.add(post);
  }

  async #deliver(row: ClaimedDelivery): Promise<void> {
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
      this.#delivered.push({ row, status: result.status });
      this.#record();
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

  /**
   * Records what was delivered: the outcomes that ended while the last record was being written
   * go together in the next, so that a busy worker writes one statement for many deliveries.
   */
  #record(): void {
    if (this.#recording) return;
    this.#recording = (async () => {
      // Let the posts ending in the same moment join this record.
      await new Promise((resolve) => setImmediate(resolve));
      while (this.#delivered.length > 0) {
        const batch = this.#delivered;
        this.#delivered = [];
        try {
          await recordDelivered(
            this.#db,
            batch.map(({ row, status }) => ({ id: row.id, status })),
          );
        } catch (err) {
          // Unrecorded, the rows are posted again when their leases run out (same webhook-id).
          this.#logger.error(
            { err, deliveries: batch.length },
            "webhook worker: could not record deliveries",
          );
          continue;
        }
        for (const { row } of batch) {
          this.#logger.info(
            { deliveryId: row.id, webhookId: row.endpoint_id, eventId: row.event_id, attempts: row.attempts },
            "webhook delivered",
          );
        }
      }
    })().finally(() => {
      this.#recording = undefined;
    });
  }

  async #recordFailure(row: ClaimedDelivery, status: number | null, reason: string): Promise<void> {
    const error = reason.slice(0, MAX_ERROR_LENGTH);
    // No more after a 410: the endpoint is turned off.
    const delay = status === 410 ? null : nextAttemptDelay(row.attempts, this.#config.retryScale);
    const recorded = await recordFailure(this.#db, row, { status, error, delayMs: delay });
    const fields = { deliveryId: row.id, webhookId: row.endpoint_id, attempts: row.attempts, status, error };
    if (!recorded) {
      this.#logger.warn(fields, "webhook worker: the delivery changed before its failure was recorded");
    } else if (delay === null) {
      this.#logger.warn(fields, "webhook delivery failed; giving up");
    } else {
      this.#logger.info({ ...fields, retryInMs: delay }, "webhook delivery failed; will retry");
    }
  }
}

/** Adds `by` to a count, forgetting it at zero. */
function count(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}
