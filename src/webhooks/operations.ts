// An organisation's webhook endpoints (docs/webhooks.md): registered, changed, deleted, their
// secret rotated, a test event sent and a delivery retried by those with org.apikeys (owners,
// admins and admin API keys). Each change runs under the organisation's lock with the caller's
// standing read again there (rule 9) and writes its audit event in the same transaction (rule 14).
import { sql } from "kysely";
import { admitAgain } from "../access/admit.js";
import type { Catalogue } from "../access/catalogue.js";
import { type Actor, actorType, recordAudit } from "../audit/operations.js";
import { AppError, fieldError } from "../core/errors.js";
import { newId } from "../db/ids.js";
import type { Queryable, Tx } from "../db/index.js";
import type { WebhookEndpointRow } from "../db/schema.js";
import { noteEventWritten } from "../db/transaction.js";
import { ORGANIZATION_EVENT_TYPES, type PublicEvent } from "../events/public.js";
import { enqueueDeliveries } from "./deliveries.js";
import {
  type DeliveryStatus,
  MAX_DESCRIPTION_LENGTH,
  MAX_WEBHOOKS_PER_ORG,
  PREVIOUS_SECRET_MS,
} from "./model.js";
import { newWebhookSecret } from "./signing.js";
import { checkWebhookUrl, type TargetPolicy } from "./target.js";

export interface Webhook {
  id: string;
  url: string;
  types: string[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: Date;
  /** The newest delivery: when it was last tried (or written), how it stands, the last answer. */
  lastDelivery: { at: Date; status: DeliveryStatus; responseStatus: number | null } | null;
}

export interface WebhookInput {
  url?: string | undefined;
  types?: string[] | undefined;
  description?: string | null | undefined;
  enabled?: boolean | undefined;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(ORGANIZATION_EVENT_TYPES);

function checkTypes(types: string[]): string[] {
  const seen = new Set<string>();
  types.forEach((type, i) => {
    if (!KNOWN_TYPES.has(type)) {
      throw fieldError(`types/${i}`, `"${type}" is not an event type of an organisation`);
    }
    if (seen.has(type)) throw fieldError(`types/${i}`, `"${type}" is listed twice`);
    seen.add(type);
  });
  return types;
}

function checkDescription(description: string | null): string | null {
  const text = description?.trim() ?? "";
  if (text.length > MAX_DESCRIPTION_LENGTH) {
    throw fieldError("description", `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  return text === "" ? null : text;
}

function toWebhook(
  row: WebhookEndpointRow,
  last: { at: Date; status: DeliveryStatus; responseStatus: number | null } | null,
): Webhook {
  return {
    id: row.id,
    url: row.url,
    types: row.types,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at,
    lastDelivery: last,
  };
}

/** The organisation's webhooks, oldest first, each with its newest delivery. */
export async function listWebhooks(db: Queryable, orgId: string, id?: string): Promise<Webhook[]> {
  let q = db
    .selectFrom("webhook_endpoints as e")
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom("webhook_deliveries as d")
          .select([
            sql<Date>`coalesce(d.last_attempt_at, d.created_at)`.as("last_at"),
            "d.status as last_status",
            "d.response_status as last_response_status",
          ])
          .whereRef("d.org_id", "=", "e.org_id")
          .whereRef("d.endpoint_id", "=", "e.id")
          .orderBy("d.created_at", "desc")
          .orderBy("d.id", "desc")
          .limit(1)
          .as("d"),
      (join) => join.onTrue(),
    )
    .selectAll("e")
    .select(["d.last_at", "d.last_status", "d.last_response_status"])
    .where("e.org_id", "=", orgId);
  if (id !== undefined) q = q.where("e.id", "=", id);
  const rows = await q.orderBy("e.created_at").orderBy("e.id").execute();
  return rows.map(({ last_at, last_status, last_response_status, ...row }) =>
    toWebhook(
      row,
      last_at === null || last_status === null
        ? null
        : { at: last_at, status: last_status, responseStatus: last_response_status },
    ),
  );
}

async function findWebhook(db: Queryable, orgId: string, id: string): Promise<Webhook> {
  const [webhook] = await listWebhooks(db, orgId, id);
  if (!webhook) throw new AppError("webhook_not_found");
  return webhook;
}

/** The endpoint row, locked for this transaction; another organisation's answers 404 (rule 3). */
async function lockEndpoint(tx: Tx, orgId: string, id: string): Promise<WebhookEndpointRow> {
  const row = await tx
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("org_id", "=", orgId)
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AppError("webhook_not_found");
  return row;
}

/** Registers an endpoint; answers it with its secret, which is never shown again. */
export async function createWebhook(
  tx: Tx,
  catalogue: Catalogue,
  policy: TargetPolicy,
  actor: Actor & { id: string },
  orgId: string,
  input: { url: string; types?: string[] | undefined; description?: string | null | undefined },
): Promise<{ webhook: Webhook; secret: string }> {
  // `update`: two registrations at once are counted one after the other, so the limit holds.
  await admitAgain(tx, catalogue, "org.apikeys", { orgId, workspaceId: null }, actor.id, "update");
  const url = checkWebhookUrl(input.url, policy).href;
  const types = checkTypes(input.types ?? []);
  const description = checkDescription(input.description ?? null);

  const { count } = await tx
    .selectFrom("webhook_endpoints")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .where("org_id", "=", orgId)
    .executeTakeFirstOrThrow();
  if (Number(count) >= MAX_WEBHOOKS_PER_ORG) {
    throw new AppError(
      "too_many_webhooks",
      `This organisation already has ${MAX_WEBHOOKS_PER_ORG} webhooks; delete one first.`,
    );
  }

  const secret = newWebhookSecret();
  const row = await tx
    .insertInto("webhook_endpoints")
    .values({
      id: newId("whk"),
      org_id: orgId,
      url,
      types,
      description,
      secret,
      created_by: actorType(actor) === "user" ? actor.id : null,
      created_by_name: actor.name ?? "",
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordAudit(tx, actor, {
    orgId,
    action: "webhook.created",
    targetType: "webhook",
    targetId: row.id,
    data: { url, types, description },
  });
  return { webhook: await findWebhook(tx, orgId, row.id), secret };
}

/**
 * Fails the endpoint's pending deliveries with `error`: it was turned off, and nothing more is
 * sent to it. A delivery being posted at this moment may still arrive; its outcome is recorded.
 */
async function failPending(tx: Tx, endpointId: string, error: string): Promise<void> {
  await tx
    .updateTable("webhook_deliveries")
    .set({ status: "failed", error, lease_expires_at: null })
    .where("endpoint_id", "=", endpointId)
    .where("status", "=", "pending")
    .execute();
}

/** Changes url, types, description or enabled; turning it on again clears why it was turned off. */
export async function updateWebhook(
  tx: Tx,
  catalogue: Catalogue,
  policy: TargetPolicy,
  actor: Actor & { id: string },
  orgId: string,
  id: string,
  input: WebhookInput,
): Promise<Webhook> {
  await admitAgain(tx, catalogue, "org.apikeys", { orgId, workspaceId: null }, actor.id, "share");
  const before = await lockEndpoint(tx, orgId, id);
  const after = {
    url: input.url === undefined ? before.url : checkWebhookUrl(input.url, policy).href,
    types: input.types === undefined ? before.types : checkTypes(input.types),
    description: input.description === undefined ? before.description : checkDescription(input.description),
    enabled: input.enabled ?? before.enabled,
  };
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of ["url", "types", "description", "enabled"] as const) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changes[key] = { from: before[key], to: after[key] };
    }
  }
  if (Object.keys(changes).length === 0) return findWebhook(tx, orgId, id);

  await tx
    .updateTable("webhook_endpoints")
    .set({
      ...after,
      disabled_reason: after.enabled ? null : before.disabled_reason,
      updated_at: sql<Date>`now()`,
    })
    .where("id", "=", id)
    .execute();
  if (before.enabled && !after.enabled) await failPending(tx, id, "The webhook was turned off.");
  await recordAudit(tx, actor, {
    orgId,
    action: "webhook.updated",
    targetType: "webhook",
    targetId: id,
    data: { url: after.url, changes },
  });
  return findWebhook(tx, orgId, id);
}

/** Deletes an endpoint and, with it, its deliveries (pending ones are never sent). */
export async function deleteWebhook(
  tx: Tx,
  catalogue: Catalogue,
  actor: Actor & { id: string },
  orgId: string,
  id: string,
): Promise<void> {
  await admitAgain(tx, catalogue, "org.apikeys", { orgId, workspaceId: null }, actor.id, "share");
  const row = await tx
    .deleteFrom("webhook_endpoints")
    .where("org_id", "=", orgId)
    .where("id", "=", id)
    .returning(["id", "url"])
    .executeTakeFirst();
  if (!row) throw new AppError("webhook_not_found");
  await recordAudit(tx, actor, {
    orgId,
    action: "webhook.deleted",
    targetType: "webhook",
    targetId: row.id,
    data: { url: row.url },
  });
}

/**
 * A new secret; the one it replaces keeps signing beside it for 24 hours (a secret rotated out
 * before then is dropped at once: two sign at most). Answers the new secret, shown this once.
 */
export async function rotateWebhookSecret(
  tx: Tx,
  catalogue: Catalogue,
  actor: Actor & { id: string },
  orgId: string,
  id: string,
): Promise<string> {
  await admitAgain(tx, catalogue, "org.apikeys", { orgId, workspaceId: null }, actor.id, "share");
  const row = await lockEndpoint(tx, orgId, id);
  const secret = newWebhookSecret();
  const expires = new Date(Date.now() + PREVIOUS_SECRET_MS);
  await tx
    .updateTable("webhook_endpoints")
    .set({
      secret,
      previous_secret: row.secret,
      previous_secret_expires_at: expires,
      updated_at: sql<Date>`now()`,
    })
    .where("id", "=", id)
    .execute();
  await recordAudit(tx, actor, {
    orgId,
    action: "webhook.secret_rotated",
    targetType: "webhook",
    targetId: id,
    data: { url: row.url, previousSecretExpiresAt: expires.toISOString() },
  });
  return secret;
}

/**
 * Sends a `webhook.test` event to this endpoint alone, whatever its types and even when it is
 * turned off. The event is not a change, so it is not in the audit trail or the feed: it exists
 * only as this delivery.
 */
export async function sendTestEvent(
  tx: Tx,
  catalogue: Catalogue,
  actor: Actor & { id: string },
  orgId: string,
  id: string,
): Promise<void> {
  await admitAgain(tx, catalogue, "org.apikeys", { orgId, workspaceId: null }, actor.id, "share");
  await lockEndpoint(tx, orgId, id);
  const event: PublicEvent = {
    id: newId("evt"),
    type: "webhook.test",
    at: new Date().toISOString(),
    orgId,
    actor: { type: actorType(actor), id: actor.id, name: actor.name },
    data: { webhookId: id },
  };
  await enqueueDeliveries(tx, event, id);
  // Wakes this server's worker once the transaction commits.
  noteEventWritten(tx);
}

/**
 * Makes a delivery due now, whatever its state (a failed one gets one more attempt; a delivered
 * one is sent again, with the same webhook-id). One being posted at this moment is left to finish.
 */
export async function retryDelivery(
  tx: Tx,
  catalogue: Catalogue,
  actor: Actor & { id: string },
  orgId: string,
  endpointId: string,
  deliveryId: string,
): Promise<void> {
  await admitAgain(tx, catalogue, "org.apikeys", { orgId, workspaceId: null }, actor.id, "share");
  const row = await tx
    .selectFrom("webhook_deliveries")
    .select(["id", "lease_expires_at"])
    .where("org_id", "=", orgId)
    .where("endpoint_id", "=", endpointId)
    .where("id", "=", deliveryId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AppError("delivery_not_found");
  await tx
    .updateTable("webhook_deliveries")
    .set({ status: "pending", next_attempt_at: sql<Date>`now()` })
    .where("id", "=", deliveryId)
    .where((eb) =>
      eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<=", sql<Date>`now()`)]),
    )
    .execute();
  noteEventWritten(tx);
}

/**
 * Turns an endpoint off because of what it answered (a 410): its pending deliveries fail, and the
 * change is recorded as the system's. Called by the worker, in a transaction of its own.
 */
export async function disableEndpoint(tx: Tx, endpointId: string, reason: string): Promise<boolean> {
  const row = await tx
    .updateTable("webhook_endpoints")
    .set({ enabled: false, disabled_reason: reason, updated_at: sql<Date>`now()` })
    .where("id", "=", endpointId)
    .where("enabled", "=", true)
    .returning(["id", "org_id", "url"])
    .executeTakeFirst();
  if (!row) return false;
  await failPending(tx, endpointId, `The webhook was turned off: ${reason}`);
  await recordAudit(
    tx,
    { id: null, name: null, ip: null, type: "system" },
    {
      orgId: row.org_id,
      action: "webhook.updated",
      targetType: "webhook",
      targetId: row.id,
      data: { url: row.url, changes: { enabled: { from: true, to: false } }, reason },
    },
  );
  return true;
}
