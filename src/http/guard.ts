// Every route under /api/v1 declares the one permission it needs (`config.permission`); the app
// refuses to start otherwise. Before the handler runs, this guard checks CSRF and resolves the
// session. Nothing is allowed by default: a route is public only if it says "public".
export type { Access } from "../access/admit.js";

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type Access, admit, admitReader, type Where } from "../access/admit.js";
import { scopeOf } from "../access/can.js";
import type { Catalogue } from "../access/catalogue.js";
import { looksLikeKey, parseKeyToken } from "../apikeys/model.js";
import { type ResolvedServiceKey, resolveApiKey, resolveServiceKey } from "../apikeys/resolve.js";
import type { Actor } from "../audit/operations.js";
import { type Config, isHttps } from "../config.js";
import { AppError } from "../core/errors.js";
import type { Database } from "../db/index.js";
import type { Device } from "../sessions/operations.js";
import { type Place, type PlaceStanding, type ResolvedSession, resolveRequest } from "../sessions/resolve.js";
import { csrfCheck } from "./csrf.js";

/**
 * `public`: anyone; `session`: any logged-in person (what they may touch is then decided by the
 * operation from their own id) — never an API key; `service`: the installation's service keys
 * only; `workspace.member`: any role in the workspace of the path; otherwise a permission of the
 * catalogue, checked in the organisation (`:org`) or workspace (`:ws`) that the path names, for a
 * person or an API key of that organisation alike.
 */
export type RoutePermission = "public" | "session" | "service" | "workspace.member" | (string & {});

/**
 * Who is calling a route with a place: a person, an API key of the organisation, or the
 * installation's service key on a route that lets it read (`serviceKeyReads`).
 */
export interface Caller {
  type: "user" | "api_key" | "service_key";
  id: string;
  name: string;
}

declare module "fastify" {
  interface FastifyContextConfig {
    permission?: RoutePermission;
    /** A path parameter that, when it is the caller's own id, lets them through with org.read (leaving). */
    selfParam?: string;
    /** A `session` route that answers with the caller's organisations: read with the session. */
    withOrganizations?: boolean;
    /**
     * A route that reads (members, roles, workspaces, events, authorize) and that the
     * installation's service keys may call in every organisation, without a role (DESIGN §7).
     */
    serviceKeyReads?: boolean;
  }
  interface FastifyRequest {
    /** A person's session (null for a key). */
    auth: ResolvedSession | null;
    /** The person or API key acting, on every route but `public` and `service` ones. */
    caller: Caller | null;
    /** The service key of a `service` route. */
    serviceKey: ResolvedServiceKey | null;
    access: Access | null;
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

/** The standing the guard resolved for a route with `:org` or `:ws`. */
export function requireAccess(request: FastifyRequest): Access {
  if (!request.access) throw new Error(`${request.routeOptions.url} resolved no organisation or workspace`);
  return request.access;
}

/** Who is calling a route with a place (a person, an API key, a service key that reads). */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new AppError("unauthenticated");
  return request.caller;
}

/** The person or API key acting, as the audit trail records them; a service key acts on nothing. */
export function actorOf(request: FastifyRequest): Actor & { id: string; type: "user" | "api_key" } {
  const { type, id, name } = callerOf(request);
  if (type === "service_key") throw new AppError("forbidden", "A service key reads; it changes nothing.");
  return { type, id, name, ip: request.ip ?? null };
}

/** The service key of a route declared `service`. */
export function requireServiceKey(request: FastifyRequest): ResolvedServiceKey {
  if (!request.serviceKey) throw new AppError("invalid_api_key");
  return request.serviceKey;
}

/** The resolved session of a route declared `session`. */
export function requireAuth(request: FastifyRequest): ResolvedSession {
  if (!request.auth) throw new AppError("unauthenticated");
  return request.auth;
}

const SPECIAL: ReadonlySet<string> = new Set(["public", "session", "service", "workspace.member"]);

export function registerGuard(
  app: FastifyInstance,
  config: Config,
  database: Pick<Database, "db" | "pool">,
  catalogue: Catalogue,
): void {
  const publicOrigin = new URL(config.publicUrl).origin;
  app.decorateRequest("auth", null);
  app.decorateRequest("caller", null);
  app.decorateRequest("serviceKey", null);
  app.decorateRequest("access", null);

  app.addHook("onRoute", (route) => {
    const permission = route.config?.permission;
    if (!route.url.startsWith("/api/v1")) return;
    if (!permission) throw new Error(`Route ${String(route.method)} ${route.url} declares no permission`);
    if (!SPECIAL.has(permission) && !scopeOf(catalogue, permission)) {
      throw new Error(
        `Route ${String(route.method)} ${route.url} declares an unknown permission "${permission}"`,
      );
    }
    const placed = route.url.includes(":org") || route.url.includes(":ws");
    // A service key reads: only GET routes of a place, and the authorize question, admit it.
    if (route.config?.serviceKeyReads) {
      const asks = route.method === "POST" && route.url.endsWith("/authorize");
      const reads = route.method === "GET" || route.method === "HEAD";
      if (!placed || (!reads && !asks)) {
        throw new Error(
          `Route ${String(route.method)} ${route.url} changes something: no service key reads it`,
        );
      }
    }
    if (!SPECIAL.has(permission) || permission === "workspace.member") {
      if (!placed) throw new Error(`Route ${route.url} needs :org or :ws for its permission "${permission}"`);
    }
  });

  app.addHook("onRequest", async (request, reply) => {
    const permission = request.routeOptions.config?.permission;
    if (!permission) return;
    csrfCheck(request, publicOrigin);
    if (permission === "public") return;
    const token = requestToken(request, config);
    if (token && looksLikeKey(token)) return admitKey(request, token, permission);
    if (permission === "service") {
      throw new AppError(
        token ? "forbidden" : "unauthenticated",
        "This route takes the installation's service key (rollcall service-key create).",
      );
    }
    const place = placeOf(request, permission);
    // The session, its user and the standing where the path points: one round trip.
    const resolved = token
      ? await resolveRequest(database, token, place, config.session, device(request))
      : null;
    if (!resolved) {
      if (request.cookies[sessionCookieName(config)]) clearSessionCookie(reply, config);
      throw new AppError(
        "unauthenticated",
        token ? "Your session has ended; log in again." : "Log in first.",
      );
    }
    request.auth = resolved.auth;
    const { user } = resolved.auth;
    request.caller = { type: "user", id: user.id, name: user.name };
    if (permission === "session") return;
    request.access = authorize(request, user.id, permission, resolved.standing);
  });

  /**
   * A request carrying a key: a service key on a `service` route; an API key on a route of its
   * organisation, admitted from its own role and grants exactly as a member would be. Routes that
   * belong to a person (`session`) refuse keys whatever they are.
   */
  async function admitKey(
    request: FastifyRequest,
    token: string,
    permission: RoutePermission,
  ): Promise<void> {
    const kind = parseKeyToken(token)?.kind ?? (token.startsWith("rsk_") ? "service_key" : "api_key");
    if (permission === "session") {
      throw new AppError(
        "api_key_not_allowed",
        "This route acts for a person (their account, sessions and invitations): log in as one.",
      );
    }
    if (kind === "service_key") {
      const reads = request.routeOptions.config?.serviceKeyReads === true;
      const place = reads ? placeOf(request, permission) : ({ kind: "none" } as const);
      const resolved = await resolveServiceKey(database, token, place);
      if (!resolved) throw new AppError("invalid_api_key");
      request.serviceKey = resolved.key;
      if (permission === "service") return;
      if (!reads) {
        throw new AppError(
          "forbidden",
          "A service key reads members, roles, workspaces and events and verifies sessions; it changes nothing.",
        );
      }
      const { id, name } = resolved.key;
      request.caller = { type: "service_key", id, name };
      request.access = admitReader(whereOf(request), resolved.placeOrgId);
      return;
    }
    if (permission === "service") {
      throw new AppError(
        "forbidden",
        "This route takes the installation's service key, not an organisation's API key.",
      );
    }
    const resolved = await resolveApiKey(database, token, placeOf(request, permission));
    if (!resolved) throw new AppError("invalid_api_key");
    const { key, standing } = resolved;
    request.caller = { type: "api_key", id: key.id, name: key.name };
    request.access = authorize(request, key.id, permission, standing);
  }

  /** Where a route acts, from its `:org` or `:ws` parameter. */
  function placeOf(request: FastifyRequest, permission: RoutePermission): Place {
    const config = request.routeOptions.config;
    if (permission === "service") return { kind: "none" };
    if (permission === "session")
      return config?.withOrganizations ? { kind: "organizations" } : { kind: "none" };
    const params = request.params as Record<string, string | undefined>;
    if (params.org !== undefined) return { kind: "org", orgId: params.org };
    if (params.ws !== undefined) return { kind: "workspace", workspaceId: params.ws };
    throw new Error(`${request.routeOptions.url} has no :org or :ws parameter`);
  }

  /** The place a route with `:org` or `:ws` names. */
  function whereOf(request: FastifyRequest): Where {
    const params = request.params as Record<string, string | undefined>;
    if (params.org !== undefined) return { orgId: params.org };
    if (params.ws !== undefined) return { workspaceId: params.ws };
    throw new Error(`${request.routeOptions.url} has no :org or :ws parameter`);
  }

  /** Checks the permission against the caller's standing in the place the path names. */
  function authorize(
    request: FastifyRequest,
    userId: string,
    permission: string,
    found: PlaceStanding | null,
  ): Access {
    const params = request.params as Record<string, string | undefined>;
    const where = whereOf(request);
    const selfParam = request.routeOptions.config?.selfParam;
    return admit(catalogue, permission, where, found, !!selfParam && params[selfParam] === userId);
  }
}
