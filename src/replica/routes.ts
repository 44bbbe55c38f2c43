// The replica's routes (docs/replica.md), for the installation's service keys: the snapshot where a
// replica of memberships and roles starts — the client library (@rollcall/client) reads it, then
// follows GET /api/v1/events/stream from its cursor — and the leases of the freshness protocol
// (leases.ts), by which changes that take access away wait for the replicas to have applied them.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { AppError, fieldError } from "../core/errors.js";
import { transact } from "../db/transaction.js";
import { decodeCursor } from "../events/feed.js";
import { requireServiceKey } from "../http/guard.js";
import { Empty, problems, ref, sendEmpty, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { acknowledge, endLease, type Lease, openLease, renewLease } from "./leases.js";
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
    fencingTypes: Type.Array(Type.String(), {
      description:
        "The event types that take access away: changes of these types wait for each live lease to acknowledge them",
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

const ReplicaLease = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    live: Type.Boolean({
      description:
        "Whether the client may answer from its replica: false while an event that takes access away lies beyond what it has applied",
    }),
    expiresAt: Timestamp,
    remainingMs: Type.Integer({
      description:
        "How long the lease has left, measured by the server: answer from the replica until (when you sent this request) + remainingMs, never longer",
    }),
    acknowledged: Type.String({ description: "The feed cursor the client has applied up to" }),
    leaseMs: Type.Integer({ description: "The lease's length" }),
    renewMs: Type.Integer({ description: "How often to renew" }),
  },
  { $id: "ReplicaLease", description: "A replica client's lease (the freshness protocol)" },
);

const Applied = Type.String({
  maxLength: 50,
  description: "The cursor of the last event of the installation's stream the client has applied",
});
const LeaseParams = Type.Object({ lease: Type.String({ maxLength: 100 }) });

/** The components of this module, for addSchema (app.ts). */
export const replicaSchemas = [ReplicaSnapshot, ReplicaLease];

const MAX_NAMED_ORGS = 1000;

export async function replicaRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db, catalogue, config } = services;
  const { leaseMs } = config.replica;
  const answer = (lease: Lease) => ({ ...lease, leaseMs, renewMs: Math.max(50, Math.round(leaseMs / 4)) });

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

  app.post(
    "/api/v1/replica/leases",
    {
      config: { permission: "service" },
      schema: {
        tags: ["replica"],
        operationId: "openReplicaLease",
        summary: "Take a lease: from now, changes that take access away wait for this client (service key)",
        description:
          "Give the snapshot's cursor (or the last event applied) as `applied`. The lease is live unless an event " +
          "that takes access away lies beyond it. Renew it every `renewMs`; end it when the client stops.",
        body: Type.Object({
          name: Type.String({
            minLength: 1,
            maxLength: 100,
            pattern: "\\S",
            description: "The client, for the operator (a host name, a process)",
          }),
          applied: Applied,
        }),
        response: { 201: ref(ReplicaLease), ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const key = requireServiceKey(request);
      const applied = decodeCursor(request.body.applied, "applied");
      const lease = await transact(services, (tx) =>
        openLease(tx, key.id, request.body.name, applied, leaseMs),
      );
      return reply.status(201).send(answer(lease));
    },
  );

  app.put(
    "/api/v1/replica/leases/:lease",
    {
      config: { permission: "service" },
      schema: {
        tags: ["replica"],
        operationId: "renewReplicaLease",
        summary: "Acknowledge what the client has applied, and renew its lease (service key)",
        description:
          "Send it every `renewMs`, and at once after applying an event that takes access away (those changes wait for it). " +
          "`live` false: do not answer from the replica; it becomes live again once the client has applied what it was missing.",
        params: LeaseParams,
        body: Type.Object({ applied: Applied }),
        response: { 200: ref(ReplicaLease), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const key = requireServiceKey(request);
      const applied = decodeCursor(request.body.applied, "applied");
      // First the acknowledgement, on its own: the changes waiting for it answer now, not after
      // this lease's renewal has waited its turn behind other clients' (leases.ts).
      if (!(await acknowledge(db, key.id, request.params.lease, applied)))
        throw new AppError("lease_not_found");
      // It wakes this server's waiting changes at once (the others hear the NOTIFY).
      services.events.acks.notify();
      const lease = await transact(services, (tx) =>
        renewLease(tx, key.id, request.params.lease, applied, leaseMs),
      );
      if (!lease) throw new AppError("lease_not_found");
      return answer(lease);
    },
  );

  app.delete(
    "/api/v1/replica/leases/:lease",
    {
      config: { permission: "service" },
      schema: {
        tags: ["replica"],
        operationId: "endReplicaLease",
        summary: "End a lease: no change waits for this client any more (service key)",
        params: LeaseParams,
        response: { 204: Empty, ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const key = requireServiceKey(request);
      const ended = await transact(services, (tx) => endLease(tx, key.id, request.params.lease));
      if (!ended) throw new AppError("lease_not_found");
      services.events.acks.notify();
      return sendEmpty(reply, 204);
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
