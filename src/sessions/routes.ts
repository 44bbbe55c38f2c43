// My devices: list my sessions, end one, end all or all others.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { AppError } from "../core/errors.js";
import { decodeCursor, page } from "../core/paging.js";
import { clearSessionCookie, requireAuth } from "../http/guard.js";
import { Empty, Page, PageQuery, problems, ref, sendEmpty, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { listSessions, revokeSession, revokeSessions, sessionExpiry } from "./operations.js";

const Session = Type.Object(
  {
    id: Type.String(),
    createdAt: Timestamp,
    lastSeenAt: Timestamp,
    expiresAt: Timestamp,
    userAgent: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean({ description: "Whether this is the session of the request" }),
  },
  { $id: "Session", description: "A logged-in device" },
);
const SessionPage = Page(Session);

/** The components of this module, for addSchema (app.ts). */
export const sessionSchemas = [Session, SessionPage];

export async function sessionRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { config } = services;
  const tags = ["sessions"];

  app.get(
    "/api/v1/me/sessions",
    {
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "listSessions",
        summary: "My logged-in devices, newest first",
        querystring: PageQuery,
        response: { 200: ref(SessionPage), ...problems(401) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const { limit, cursor } = request.query;
      const rows = await listSessions(services.db, auth.user.id, { limit, after: decodeCursor(cursor) });
      const result = page(rows, limit, (s) => s.id);
      return {
        items: result.items.map((s) => ({
          id: s.id,
          createdAt: s.created_at.toISOString(),
          lastSeenAt: s.last_seen_at.toISOString(),
          expiresAt: sessionExpiry(s, config.session).toISOString(),
          userAgent: s.user_agent,
          ip: s.ip,
          current: s.id === auth.session.id,
        })),
        nextCursor: result.nextCursor,
      };
    },
  );

  app.delete(
    "/api/v1/me/sessions/:id",
    {
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "revokeSession",
        summary: "Log out one of my devices",
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: { 204: Empty, ...problems(401, 404) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      // Another person's session answers exactly like one that does not exist.
      if (!(await revokeSession(services.db, auth.user.id, request.params.id))) {
        throw new AppError("session_not_found", "You have no session with this id.");
      }
      if (request.params.id === auth.session.id) clearSessionCookie(reply, config);
      return sendEmpty(reply, 204);
    },
  );

  app.delete(
    "/api/v1/me/sessions",
    {
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "revokeSessions",
        summary: "Log out all my devices, or all but this one with ?except=current",
        querystring: Type.Object({ except: Type.Optional(Type.Literal("current")) }),
        response: { 204: Empty, ...problems(401) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const keep = request.query.except === "current" ? auth.session.id : undefined;
      await revokeSessions(services.db, auth.user.id, keep);
      if (!keep) clearSessionCookie(reply, config);
      return sendEmpty(reply, 204);
    },
  );
}
