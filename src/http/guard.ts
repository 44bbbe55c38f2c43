// Every route under /api/v1 declares the one permission it needs (`config.permission`); the app
// refuses to start otherwise. Before the handler runs, this guard checks CSRF and resolves the
// session. Nothing is allowed by default: a route is public only if it says "public".
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type Config, isHttps } from "../config.js";
import type { Queryable } from "../db/index.js";
import { type Device, type ResolvedSession, resolveSession } from "../sessions/operations.js";
import { csrfCheck } from "./csrf.js";
import { AppError } from "./errors.js";

/**
 * `public`: anyone; `session`: any logged-in user (what they may touch is then decided by the
 * operation from their own id). Organisation and workspace permissions join this list with the
 * catalogue.
 */
export type RoutePermission = "public" | "session";

declare module "fastify" {
  interface FastifyContextConfig {
    permission?: RoutePermission;
  }
  interface FastifyRequest {
    auth: ResolvedSession | null;
  }
}

export function sessionCookieName(config: Pick<Config, "publicUrl">): string {
  return isHttps(config) ? "__Host-rollcall_session" : "rollcall_session";
}

export function setSessionCookie(reply: FastifyReply, config: Config, token: string): void {
  reply.setCookie(sessionCookieName(config), token, {
    httpOnly: true,
    sameSite: "lax",
    path: "/",
    secure: isHttps(config),
    maxAge: config.session.absoluteSeconds,
  });
}

export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(sessionCookieName(config), {
    httpOnly: true,
    sameSite: "lax",
    path: "/",
    secure: isHttps(config),
  });
}

export function device(request: FastifyRequest): Device {
  return { userAgent: request.headers["user-agent"] ?? null, ip: request.ip ?? null };
}

/** The token a request carries: `Authorization: Bearer` first, then the cookie. */
export function requestToken(request: FastifyRequest, config: Config): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m?.[1];
  }
  return request.cookies[sessionCookieName(config)];
}

/** The resolved session of a route declared `session`. */
export function requireAuth(request: FastifyRequest): ResolvedSession {
  if (!request.auth) throw new AppError("unauthenticated");
  return request.auth;
}

export function registerGuard(app: FastifyInstance, config: Config, db: Queryable): void {
  const publicOrigin = new URL(config.publicUrl).origin;
  app.decorateRequest("auth", null);

  app.addHook("onRoute", (route) => {
    if (route.url.startsWith("/api/v1") && !route.config?.permission) {
      throw new Error(`Route ${String(route.method)} ${route.url} declares no permission`);
    }
  });

  app.addHook("onRequest", async (request, reply) => {
    const permission = request.routeOptions.config?.permission;
    if (!permission) return;
    csrfCheck(request, publicOrigin);
    if (permission === "public") return;
    const token = requestToken(request, config);
    const resolved = token ? await resolveSession(db, token, config.session, device(request)) : null;
    if (!resolved) {
      if (request.cookies[sessionCookieName(config)]) clearSessionCookie(reply, config);
      throw new AppError(
        "unauthenticated",
        token ? "Your session has ended; log in again." : "Log in first.",
      );
    }
    request.auth = resolved;
  });
}
