// GET /api/v1/replica/snapshot: where a replica of memberships and roles starts (docs/replica.md),
// for the installation's service keys — the client library (@rollcall/client) reads it, then
// follows GET /api/v1/events/stream from its cursor.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { fieldError } from "../core/errors.js";
import { requireServiceKey } from "../http/guard.js";
import { problems, ref } from "../http/schemas.js";
import type { Services } from "../services.js";
import { readSnapshot } from "./snapshot.js";

const Role = Type.Object({
  name: Type.String(),
  rank: Type.Integer({ description: "Higher outranks lower" }),
  description: Type.String(),
  permissions: Type.Array(Type.String()),
});
// Rows as short arrays of strings, not objects: a snapshot may hold a million memberships.
const Pair = Type.Array(Type.String(), { minItems: 2, maxItems: 2 });
const Triple = Type.Array(Type.String(), { minItems: 3, maxItems: 3 });

const ReplicaSnapshot = Type.Object(
  {
    cursor: Type.String({
      description:
        "Where the installation's event stream resumes (GET /api/v1/events/stream, Last-Event-ID): the changes after this moment",
    }),
    catalogue: Type.Object({
      orgRoles: Type.Array(Role),
      workspaceRoles: Type.Array(Role),
      orgRoleActsAs: Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
        description: "The workspace role an org role acts as in every workspace of its organisation",
      }),
      orgPermissions: Type.Record(Type.String(), Type.String(), {
        description: "permission → what it allows",
      }),
      workspacePermissions: Type.Record(Type.String(), Type.String()),
    }),
    eventTypes: Type.Array(Type.String(), {
      description: "The event types the installation's stream carries: SSE listeners are by name",
    }),
    organizations: Type.Array(Type.String(), { description: "Organisation ids" }),
    workspaces: Type.Array(Pair, { description: "[workspaceId, orgId]" }),
    orgMembers: Type.Array(Triple, { description: "[orgId, userId, role]" }),
    workspaceMembers: Type.Array(Triple, { description: "[workspaceId, userId, role], granted directly" }),
  },
  {
    $id: "ReplicaSnapshot",
    description: "Every membership and role at one moment, and the feed's place then",
  },
);

/** The components of this module, for addSchema (app.ts). */
export const replicaSchemas = [ReplicaSnapshot];

const MAX_NAMED_ORGS = 1000;

export async function replicaRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db, catalogue } = services;

  app.get(
    "/api/v1/replica/snapshot",
    {
      config: { permission: "service" },
      schema: {
        tags: ["replica"],
        operationId: "getReplicaSnapshot",
        summary:
          "Every membership and role, the catalogue, and the event feed's place at that moment (service key)",
        description:
          "Read at one moment (REPEATABLE READ). Follow the installation's event stream from `cursor` to keep it " +
          "current; an event may repeat a change the snapshot already holds, so apply each as the state it sets.",
        querystring: Type.Object({
          orgs: Type.Optional(
            Type.String({
              maxLength: 40_000,
              description: `Only these organisations, comma-separated (at most ${MAX_NAMED_ORGS}); ids that name none are left out`,
            }),
          ),
        }),
        response: { 200: ref(ReplicaSnapshot), ...problems(401, 403) },
      },
    },
    async (request) => {
      requireServiceKey(request);
      return readSnapshot(db, catalogue, parseOrgIds(request.query.orgs));
    },
  );
}

function parseOrgIds(raw: string | undefined): string[] | null {
  if (raw === undefined) return null;
  const ids = [...new Set(raw.split(",").map((s) => s.trim()))].filter(Boolean);
  if (ids.length > MAX_NAMED_ORGS) throw fieldError("orgs", `name at most ${MAX_NAMED_ORGS} organisations`);
  for (const id of ids) {
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(id))
      throw fieldError("orgs", `"${id.slice(0, 40)}" is not an organisation id`);
  }
  return ids;
}
