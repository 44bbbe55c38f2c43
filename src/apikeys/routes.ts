// HTTP only for an organisation's API keys (docs/api-keys.md); the rules live in operations.ts.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { transact } from "../db/transaction.js";
import { actorOf, requireAccess } from "../http/guard.js";
import { Empty, problems, ref, sendEmpty, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { API_KEY_ROLES } from "./model.js";
import { type ApiKey, createApiKey, listApiKeys, MAX_LIFETIME_DAYS, revokeApiKey } from "./operations.js";

const Id = Type.String({ minLength: 1, maxLength: 100 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const ApiKeySchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: Type.Enum(API_KEY_ROLES, { description: "The org role the key acts as" }),
    workspaces: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), role: Type.String() }), {
      description: "Workspace roles granted to the key",
    }),
    prefix: Type.String({ description: "The token's first characters, to tell keys apart; never the token" }),
    createdAt: Timestamp,
    createdBy: Type.Object(
      { id: Nullable(Type.String()), name: Type.String() },
      { description: "Who made it (id null once they are gone, or when another key made it)" },
    ),
    lastUsedAt: Nullable(Timestamp),
    expiresAt: Nullable(Timestamp),
  },
  { $id: "ApiKey", description: "An organisation's API key; never its token" },
);
const CreatedApiKey = Type.Object(
  {
    apiKey: ref(ApiKeySchema),
    token: Type.String({ description: "`rk_…`, shown this once: use it as `Authorization: Bearer <token>`" }),
  },
  { $id: "CreatedApiKey" },
);
const ApiKeyList = Type.Object({ items: Type.Array(ref(ApiKeySchema)) }, { $id: "ApiKeyList" });

/** The components of this module, for addSchema (app.ts). */
export const apiKeySchemas = [ApiKeySchema, CreatedApiKey, ApiKeyList];

export function presentApiKey(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    workspaces: k.workspaces,
    prefix: k.prefix,
    createdAt: k.created_at.toISOString(),
    createdBy: { id: k.created_by, name: k.created_by_name },
    lastUsedAt: k.last_used_at?.toISOString() ?? null,
    expiresAt: k.expires_at?.toISOString() ?? null,
  };
}

export async function apiKeyRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { catalogue, db } = services;
  const tags = ["api-keys"];
  const WorkspaceRole = Type.Enum(
    catalogue.workspaceRoles.map((r) => r.name),
    { description: "A workspace role of the catalogue" },
  );

  app.post(
    "/api/v1/orgs/:org/api-keys",
    {
      config: { permission: "org.apikeys" },
      schema: {
        tags,
        operationId: "createApiKey",
        summary: "Make an API key for the organisation; its token is shown once",
        params: Type.Object({ org: Id }),
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 100, pattern: "\\S" }),
          role: Type.Enum(API_KEY_ROLES, {
            description: "admin or member; never above the maker's own role",
          }),
          workspaces: Type.Optional(
            Type.Array(Type.Object({ workspaceId: Id, role: WorkspaceRole }), { maxItems: 100 }),
          ),
          expiresInDays: Type.Optional(
            Type.Integer({ minimum: 1, maximum: MAX_LIFETIME_DAYS, description: "Default: never expires" }),
          ),
        }),
        response: { 201: ref(CreatedApiKey), ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      const { apiKey, token } = await transact(services, (tx) =>
        createApiKey(tx, catalogue, actorOf(request), orgId, request.body),
      );
      return reply.status(201).send({ apiKey: presentApiKey(apiKey), token });
    },
  );

  app.get(
    "/api/v1/orgs/:org/api-keys",
    {
      config: { permission: "org.apikeys" },
      schema: {
        tags,
        operationId: "listApiKeys",
        summary: "The organisation's API keys, oldest first, with their last use",
        params: Type.Object({ org: Id }),
        response: { 200: ref(ApiKeyList), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      const { orgId } = requireAccess(request);
      return { items: (await listApiKeys(db, orgId)).map(presentApiKey) };
    },
  );

  app.delete(
    "/api/v1/orgs/:org/api-keys/:id",
    {
      config: { permission: "org.apikeys" },
      schema: {
        tags,
        operationId: "revokeApiKey",
        summary: "Revoke an API key: its next request, on any server, answers 401",
        params: Type.Object({ org: Id, id: Id }),
        response: { 204: Empty, ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      await transact(services, (tx) =>
        revokeApiKey(tx, catalogue, actorOf(request), orgId, request.params.id),
      );
      return sendEmpty(reply, 204);
    },
  );
}
