// My devices: list my sessions, end one, end all or all others.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { AppError } from "../core/errors.js";
import { decodeCursor, page } from "../core/paging.js";
import { transact } from "../db/transaction.js";
import { actorOf, clearSessionCookie, requireAuth, requireServiceKey } from "../http/guard.js";
import { Empty, Page, PageQuery, problems, ref, sendEmpty, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { listSessions, revokeSession, revokeSessions, sessionExpiry } from "./operations.js";
import { resolveRequest } from "./resolve.js";

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

const VerifiedSession = Type.Object(
  {
    user: Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() }),
    session: Type.Object({ id: Type.String(), expiresAt: Timestamp }),
    organizations: Type.Array(Type.Object({ id: Type.String(), role: Type.String() }), {
      description: "Every organisation of the user with their role, oldest membership first",
    }),
  },
  { $id: "VerifiedSession", description: "Whose a session token is, read now (a service key's question)" },
);

/** The components of this module, for addSchema (app.ts). */
export const sessionSchemas = [Session, SessionPage, VerifiedSession];

export async function sessionRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { config } = services;
  const tags = ["sessions"];

  app.post(
    "/api/v1/sessions/verify",
    {
      config: { permission: "service" },
      schema: {
        tags,
        operationId: "verifySession",
        summary: "A host product's backend asks whose a session token is (service key)",
        description:
          "Takes a person's session token (the console's cookie value, or their Bearer token) and answers " +
          "who they are and their organisations, read now. Counts as the person's activity for the idle timeout.",
        body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: ref(VerifiedSession), ...problems(401, 403) },
      },
    },
    async (request) => {
      requireServiceKey(request);
      const device = { userAgent: null, ip: null };
      const resolved = await resolveRequest(
        services,
        request.body.token,
        { kind: "organizations" },
        config.session,
        device,
      );
      if (!resolved) throw new AppError("invalid_session");
      const { user, session, organizations = [] } = resolved.auth;
      return {
        user: { id: user.id, email: user.email, name: user.name },
        session: { id: session.id, expiresAt: session.expiresAt.toISOString() },
        organizations: organizations.map((o) => ({ id: o.id, role: o.role })),
      };
    },
  );

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
      const revoked = await transact(services, (tx) =>
        revokeSession(tx, actorOf(request), auth.user.id, request.params.id),
      );
      // Another person's session answers exactly like one that does not exist.
      if (!revoked) {
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
      await transact(services, (tx) => revokeSessions(tx, actorOf(request), auth.user.id, keep));
      if (!keep) clearSessionCookie(reply, config);
      return sendEmpty(reply, 204);
    },
  );
}
