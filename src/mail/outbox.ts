// Writing mail: a row in mail_outbox, inserted with the caller's transaction so that the mail
// exists if and only if the change that causes it commits (rule 14). The worker sends it later.
import { type Kysely, sql } from "kysely";
import { newId } from "../db/ids.js";
import type { Tx } from "../db/index.js";
import type { DB } from "../db/schema.js";
import { noteMailQueued } from "../db/transaction.js";
import { type MailTemplate, renderMail } from "./templates.js";

/**
 * A mail's state in the outbox: waiting (or retrying), handed to SMTP, or given up on. The one
 * list: the type, the API's enum, the database's CHECK (a test compares them) follow it.
 */
export const MAIL_STATUSES = ["queued", "sent", "failed"] as const;
export type MailStatus = (typeof MAIL_STATUSES)[number];

export interface EnqueueMailInput {
  to: string;
  /** The organisation the mail is about, if any (null for account mail). */
  orgId?: string | null;
  template: MailTemplate;
}

export interface EnqueuedMail {
  id: string;
  messageId: string;
}

/**
 * Queues one mail. Pass the transaction of the change that causes it, never the bare database
 * while a transaction is open: on the embedded database (one connection) that would wait for
 * ever, and on PostgreSQL it would break rule 14.
 */
export async function enqueueMail(tx: Tx, input: EnqueueMailInput, publicUrl: string): Promise<EnqueuedMail> {
  const id = newId("mail");
  const messageId = messageIdFor(id, publicUrl);
  const rendered = renderMail(input.template);
  await tx
    .insertInto("mail_outbox")
    .values({
      id,
      org_id: input.orgId ?? null,
      kind: input.template.kind,
      to_address: input.to,
      subject: rendered.subject,
      text_body: rendered.text,
      html_body: rendered.html,
      message_id: messageId,
    })
    .execute();
  noteMailQueued(tx);
  return { id, messageId };
}

/**
 * `<id@host>`: fixed when the row is written, so every retry carries the same Message-ID and a
 * receiver can recognise a mail delivered twice (a worker that dies between sending and
 * recording the send). The hostname, not host: a port's colon is not allowed there.
 */
export function messageIdFor(id: string, publicUrl: string): string {
  return `<${id}@${new URL(publicUrl).hostname}>`;
}

/**
 * Gives up on a mail that has not gone out because what it says no longer holds: an invitation
 * resent (its link is now dead) or cancelled. Pass the transaction of that change, so that the
 * mail is withdrawn only if the change commits. The mail ends `failed` with the reason as its
 * error and its bodies (one-time links) cleared. A send under way at this moment may still be
 * accepted, and the worker then records the mail as sent: it did arrive. Resolves to whether a
 * mail was withdrawn.
 */
export async function withdrawMail(tx: Tx, mailId: string, reason: string): Promise<boolean> {
  const result = await tx
    .updateTable("mail_outbox")
    .set({ status: "failed", last_error: `withdrawn: ${reason}`, text_body: null, html_body: null })
    .where("id", "=", mailId)
    .where("status", "=", "queued")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** How many rows one prune statement deletes: each batch is a short transaction of its own. */
const PRUNE_BATCH = 1000;

/**
 * Deletes mail sent or given up on more than `days` ago, in batches; queued mail is never touched.
 * An invitation whose mail is pruned shows `mail: null`. Resolves to how many were deleted.
 */
export async function pruneOutbox(db: Kysely<DB>, days: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const result = await sql`
      DELETE FROM mail_outbox WHERE id IN (
        SELECT id FROM mail_outbox
        WHERE status <> 'queued' AND created_at < now() - make_interval(days => ${days})
        LIMIT ${PRUNE_BATCH})`.execute(db);
    const n = Number(result.numAffectedRows ?? 0);
    deleted += n;
    if (n < PRUNE_BATCH) return deleted;
  }
}
