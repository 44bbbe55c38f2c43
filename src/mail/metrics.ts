// Prometheus metrics for mail. The counters count what this process did; the gauges read the
// outbox itself on every scrape, so they agree across servers and survive restarts.
import type { Kysely } from "kysely";
import { Counter, Gauge, type Registry } from "prom-client";
import type { DB, MailStatus } from "../db/schema.js";

export interface MailMetrics {
  /** Wire to MailWorker's onSent. */
  sent: Counter;
  /** Wire to MailWorker's onFailure: one per failed attempt, the final one included. */
  failures: Counter;
}

export interface MailMetricsOptions {
  /** Called when the outbox cannot be read on a scrape (the gauges keep their last values). */
  onCollectError?: (err: unknown) => void;
}

export function registerMailMetrics(
  registry: Registry,
  db: Kysely<DB>,
  options: MailMetricsOptions = {},
): MailMetrics {
  const sent = new Counter({
    name: "rollcall_mail_sent_total",
    help: "Mails accepted by the SMTP server (or written to the log).",
    registers: [registry],
  });
  const failures = new Counter({
    name: "rollcall_mail_send_failures_total",
    help: "Failed attempts to send a mail, retried or final.",
    registers: [registry],
  });

  const countByStatus = async (status: MailStatus): Promise<number | undefined> => {
    try {
      const row = await db
        .selectFrom("mail_outbox")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("status", "=", status)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    } catch (err) {
      // A database outage must not turn the whole /metrics answer into an error.
      options.onCollectError?.(err);
      return undefined;
    }
  };

  new Gauge({
    name: "rollcall_mail_outbox_depth",
    help: "Mails queued: waiting to be sent or to be retried.",
    registers: [registry],
    async collect() {
      const n = await countByStatus("queued");
      if (n !== undefined) this.set(n);
    },
  });
  new Gauge({
    name: "rollcall_mail_outbox_failed",
    help: "Mails given up on after their last attempt.",
    registers: [registry],
    async collect() {
      const n = await countByStatus("failed");
      if (n !== undefined) this.set(n);
    },
  });

  return { sent, failures };
}
