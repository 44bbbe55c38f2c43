// HTTP only for an organisation's webhooks (docs/webhooks.md); the rules live in operations.ts.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { AppError, fieldError } from "../core/errors.js";
import { decodeCursor, encodeCursor, parseTimeKey } from "../core/paging.js";
import { transact } from "../db/transaction.js";
import { ORGANIZATION_EVENT_TYPES, type OrganizationEventType } from "../events/public.js";
import { actorOf, requireAccess } from "../http/guard.js";
import { Empty, Page, PageQuery, problems, ref, sendEmpty, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { type Delivery, listDeliveries } from "./deliveries.js";
import { DELIVERY_STATUSES, MAX_DESCRIPTION_LENGTH } from "./model.js";
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  retryDelivery,
  rotateWebhookSecret,
  sendTestEvent,
  updateWebhook,
  type Webhook,
} from "./operations.js";
import { MAX_WEBHOOK_URL_LENGTH } from "./target.js";

const Id = Type.String({ minLength: 1, maxLength: 100 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const EventTypeSchema = Type.Enum(ORGANIZATION_EVENT_TYPES, {
  $id: "OrganizationEventType",
  description: "A type of an organisation's events: what a webhook may ask for",
});
const DeliveryStatusSchema = Type.Enum(DELIVERY_STATUSES, {
  $id: "DeliveryStatus",
  description:
    "pending (waiting for an attempt or a retry), delivered (answered 2xx) or failed (given up on)",
});
const Url = Type.String({
  minLength: 1,
  maxLength: MAX_WEBHOOK_URL_LENGTH,
  description: "https:// (http:// with WEBHOOK_ALLOW_HTTP), to a public address",
});
// Request schemas inline their enums: the validator resolves no $ref (http/validation.ts).
const Types = Type.Array(Type.Enum(ORGANIZATION_EVENT_TYPES), {
  maxItems: ORGANIZATION_EVENT_TYPES.length,
  uniqueItems: true,
  description: "The event types sent to it; empty: every type",
});
const Description = Type.String({ maxLength: MAX_DESCRIPTION_LENGTH });

export const WebhookSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    types: Type.Array(ref(EventTypeSchema), { description: "The event types sent to it; empty: every type" }),
    description: Nullable(Type.String()),
    enabled: Type.Boolean(),
    disabledReason: Nullable(
      Type.String({ description: "Why the server turned it off (an answer 410); null otherwise" }),
    ),
    createdAt: Timestamp,
    lastDelivery: Nullable(
      Type.Object(
        {
          at: Timestamp,
          status: ref(DeliveryStatusSchema),
          responseStatus: Nullable(Type.Integer()),
        },
        { description: "The newest delivery: its last attempt (or when it was written), its state" },
      ),
    ),
  },
  { $id: "Webhook", description: "An endpoint the organisation's events are posted to; never its secret" },
);
const WebhookSecret = Type.String({
  description: "`whsec_…`, shown this once: the receiver verifies each delivery with it",
});
const CreatedWebhook = Type.Object(
  { webhook: ref(WebhookSchema), secret: WebhookSecret },
  { $id: "CreatedWebhook" },
);
const WebhookList = Type.Object({ items: Type.Array(ref(WebhookSchema)) }, { $id: "WebhookList" });
const WebhookAnswer = Type.Object({ webhook: ref(WebhookSchema) }, { $id: "WebhookAnswer" });
const RotatedSecret = Type.Object({ secret: WebhookSecret }, { $id: "RotatedWebhookSecret" });

const DeliverySchema = Type.Object(
  {
    id: Type.String(),
    eventId: Type.String({ description: "The event's id: the webhook-id header of every attempt" }),
    type: Type.String(),
    status: ref(DeliveryStatusSchema),
    attempts: Type.Integer(),
    createdAt: Timestamp,
    lastAttemptAt: Nullable(Timestamp),
    nextAttemptAt: Nullable(Timestamp),
    responseStatus: Nullable(Type.Integer({ description: "The status of the last answer" })),
    error: Nullable(Type.String({ description: "Why the last attempt failed" })),
  },
  { $id: "WebhookDelivery", description: "One event sent to one webhook, and how its attempts went" },
);
const DeliveryPage = Page(DeliverySchema);

/** The components of this module, for addSchema (app.ts). */
export const webhookSchemas = [
  EventTypeSchema,
  DeliveryStatusSchema,
  WebhookSchema,
  CreatedWebhook,
  WebhookList,
  WebhookAnswer,
  RotatedSecret,
  DeliverySchema,
  DeliveryPage,
];

export function presentWebhook(w: Webhook) {
  return {
    id: w.id,
    url: w.url,
    // Checked against ORGANIZATION_EVENT_TYPES when they were written.
    types: w.types as OrganizationEventType[],
    description: w.description,
    enabled: w.enabled,
    disabledReason: w.disabledReason,
    createdAt: w.createdAt.toISOString(),
    lastDelivery: w.lastDelivery && {
      at: w.lastDelivery.at.toISOString(),
      status: w.lastDelivery.status,
      responseStatus: w.lastDelivery.responseStatus,
    },
  };
}

function presentDelivery(d: Delivery) {
  return {
    id: d.id,
    eventId: d.eventId,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    createdAt: d.createdAt.toISOString(),
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
    responseStatus: d.responseStatus,
    error: d.error,
  };
}

export async function webhookRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { catalogue, db, config } = services;
  const policy = { allowHttp: config.webhooks.allowHttp, allowPrivate: config.webhooks.allowPrivate };
  const tags = ["webhooks"];
  const permission = { permission: "org.apikeys" };
  const OrgParams = Type.Object({ org: Id });
  const WebhookParams = Type.Object({ org: Id, id: Id });

  app.post(
    "/api/v1/orgs/:org/webhooks",
    {
      config: permission,
      schema: {
        tags,
        operationId: "createWebhook",
        summary: "Register a webhook endpoint; its secret is shown once",
        params: OrgParams,
        body: Type.Object({
          url: Url,
          types: Type.Optional(Types),
          description: Type.Optional(Nullable(Description)),
        }),
        response: { 201: ref(CreatedWebhook), ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      const { webhook, secret } = await transact(services, (tx) =>
        createWebhook(tx, catalogue, policy, actorOf(request), orgId, request.body),
      );
      return reply.status(201).send({ webhook: presentWebhook(webhook), secret });
    },
  );

  app.get(
    "/api/v1/orgs/:org/webhooks",
    {
      config: permission,
      schema: {
        tags,
        operationId: "listWebhooks",
        summary: "The organisation's webhooks, oldest first, each with its newest delivery",
        params: OrgParams,
        response: { 200: ref(WebhookList), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      const { orgId } = requireAccess(request);
      return { items: (await listWebhooks(db, orgId)).map(presentWebhook) };
    },
  );

  app.patch(
    "/api/v1/orgs/:org/webhooks/:id",
    {
      config: permission,
      schema: {
        tags,
        operationId: "updateWebhook",
        summary: "Change a webhook's URL, types, description, or turn it off and on",
        params: WebhookParams,
        body: Type.Object({
          url: Type.Optional(Url),
          types: Type.Optional(Types),
          description: Type.Optional(Nullable(Description)),
          enabled: Type.Optional(Type.Boolean({ description: "false: nothing more is sent to it" })),
        }),
        response: { 200: ref(WebhookAnswer), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      const { orgId } = requireAccess(request);
      const webhook = await transact(services, (tx) =>
        updateWebhook(tx, catalogue, policy, actorOf(request), orgId, request.params.id, request.body),
      );
      return { webhook: presentWebhook(webhook) };
    },
  );

  app.delete(
    "/api/v1/orgs/:org/webhooks/:id",
    {
      config: permission,
      schema: {
        tags,
        operationId: "deleteWebhook",
        summary: "Delete a webhook and its deliveries",
        params: WebhookParams,
        response: { 204: Empty, ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      await transact(services, (tx) =>
        deleteWebhook(tx, catalogue, actorOf(request), orgId, request.params.id),
      );
      return sendEmpty(reply, 204);
    },
  );

  app.post(
    "/api/v1/orgs/:org/webhooks/:id/rotate-secret",
    {
      config: permission,
      schema: {
        tags,
        operationId: "rotateWebhookSecret",
        summary: "A new secret, shown once; the old one also signs for 24 hours",
        params: WebhookParams,
        response: { 200: ref(RotatedSecret), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      const { orgId } = requireAccess(request);
      const secret = await transact(services, (tx) =>
        rotateWebhookSecret(tx, catalogue, actorOf(request), orgId, request.params.id),
      );
      return { secret };
    },
  );

  app.post(
    "/api/v1/orgs/:org/webhooks/:id/test",
    {
      config: permission,
      schema: {
        tags,
        operationId: "testWebhook",
        summary: "Send a webhook.test event to this endpoint, whatever its types",
        params: WebhookParams,
        response: { 202: Empty, ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      await transact(services, (tx) =>
        sendTestEvent(tx, catalogue, actorOf(request), orgId, request.params.id),
      );
      return sendEmpty(reply, 202);
    },
  );

  app.get(
    "/api/v1/orgs/:org/webhooks/:id/deliveries",
    {
      config: permission,
      schema: {
        tags,
        operationId: "listWebhookDeliveries",
        summary: "A webhook's deliveries, newest first",
        params: WebhookParams,
        querystring: Type.Object({
          ...PageQuery.properties,
          status: Type.Optional(Type.Enum(DELIVERY_STATUSES)),
        }),
        response: { 200: ref(DeliveryPage), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      const { orgId } = requireAccess(request);
      const { limit, cursor, status } = request.query;
      const after = decodeCursor(cursor);
      if (after !== undefined && !parseTimeKey(after)) {
        throw fieldError("cursor", "is not a cursor from a previous page");
      }
      // The endpoint first: another organisation's (or none) answers 404, not an empty page.
      const [webhook] = await listWebhooks(db, orgId, request.params.id);
      if (!webhook) throw new AppError("webhook_not_found");
      const result = await listDeliveries(db, orgId, webhook.id, { status, limit, after });
      return {
        items: result.items.map(presentDelivery),
        nextCursor: result.next === null ? null : encodeCursor(result.next),
      };
    },
  );

  app.post(
    "/api/v1/orgs/:org/webhooks/:id/deliveries/:delivery/retry",
    {
      config: permission,
      schema: {
        tags,
        operationId: "retryWebhookDelivery",
        summary: "Send a delivery again now",
        params: Type.Object({ org: Id, id: Id, delivery: Id }),
        response: { 202: Empty, ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      await transact(services, (tx) =>
        retryDelivery(tx, catalogue, actorOf(request), orgId, request.params.id, request.params.delivery),
      );
      return sendEmpty(reply, 202);
    },
  );
}
