// HTTP only: schemas in, schemas out. The rules live in join.ts.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { requireAuth } from "../http/guard.js";
import { Empty, problems, sendEmpty, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { acceptInvitation, declineInvitation, lookupInvitation } from "./join.js";
import { INVITATION_STATUSES } from "./model.js";

const Token = Type.String({ minLength: 1, maxLength: 200, description: "The token of the invitation link" });
const Place = Type.Object({ id: Type.String(), name: Type.String(), role: Type.String() });
const Status = Type.Enum(INVITATION_STATUSES);

export async function invitationJoinRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { config, limiter } = services;
  const tags = ["invitations"];
  // Lookups, accepts and declines all try tokens: one budget per IP (rule 12).
  const limit = (ip: string | undefined) =>
    limiter.hit(`invitation-lookup:ip:${ip ?? "unknown"}`, config.rateLimits.invitationLookupIp);

  app.get(
    "/api/v1/invitations/lookup",
    {
      config: { permission: "public" },
      schema: {
        tags,
        operationId: "lookupInvitation",
        summary: "What an invitation offers, for the accept page; uses nothing and never shows the address",
        querystring: Type.Object({ token: Token }),
        response: {
          200: Type.Object({
            organization: Type.Object({ name: Type.String() }),
            inviterName: Type.String(),
            role: Type.String(),
            workspaces: Type.Array(Place),
            emailHint: Type.Union([Type.String(), Type.Null()]),
            status: Status,
            expiresAt: Timestamp,
          }),
          ...problems(404),
        },
      },
    },
    async (request) => {
      await limit(request.ip);
      return lookupInvitation(services.db, request.query.token, services.catalogue);
    },
  );

  app.post(
    "/api/v1/invitations/accept",
    {
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "acceptInvitation",
        summary: "Join the organisation through an invitation (roles are raised, never lowered)",
        body: Type.Object({ token: Token }),
        response: {
          200: Type.Object({
            organization: Type.Object({ id: Type.String(), name: Type.String() }),
            role: Type.String(),
            workspaces: Type.Array(Place),
          }),
          ...problems(401, 403, 404, 410),
        },
      },
    },
    async (request) => {
      const { user } = requireAuth(request);
      await limit(request.ip);
      return acceptInvitation(services, user, request.body.token, request.ip ?? null);
    },
  );

  app.post(
    "/api/v1/invitations/decline",
    {
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "declineInvitation",
        summary: "Decline an e-mail invitation (its invitee only)",
        description: "Declining a link invitation changes nothing: not accepting it is enough.",
        body: Type.Object({ token: Token }),
        response: { 204: Empty, ...problems(401, 403, 404, 410) },
      },
    },
    async (request, reply) => {
      const { user } = requireAuth(request);
      await limit(request.ip);
      await declineInvitation(services, user, request.body.token, request.ip ?? null);
      return sendEmpty(reply, 204);
    },
  );
}
