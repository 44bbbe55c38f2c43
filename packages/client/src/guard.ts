// Guarding a host product's routes: the person's session from Rollcall's cookie or a bearer
// header, the route's declared permission checked in a workspace or an organisation, and — when
// the answer is no — the same problem documents (RFC 9457) Rollcall answers. The Fastify plugin
// and the Express middleware below are thin: both call guard(). Neither framework is imported;
// the shapes they need are written out here.
import type { Decision } from "./catalogue.js";
import type { VerifiedSession } from "./sessions.js";

/** Rollcall's session cookie. */
export const SESSION_COOKIE = "rollcall_session";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

function problem(code: string, status: number, title: string, detail: string): Problem {
  return { type: `https://rollcall.dev/problems/${code.replaceAll("_", "-")}`, title, status, detail, code };
}

/** What a route needs: a permission, and where (a workspace, or an organisation). */
export interface Requirement {
  permission: string;
  workspaceId?: string | undefined;
  orgId?: string | undefined;
}

export type Guarded =
  | { ok: true; session: VerifiedSession; decision: Decision }
  | { ok: false; problem: Problem };

/** What guard() needs of the client (the Rollcall class provides it). */
export interface Checker {
  readonly live: boolean;
  verifySession(token: string): Promise<VerifiedSession | null>;
  check(input: { userId: string; workspaceId: string; permission: string }): Promise<Decision>;
  canInOrg(input: { userId: string; orgId: string; permission: string }): Decision;
  decideInOrg(permission: string, orgRole: string | null): Decision;
}

type Header = string | string[] | undefined;

/** The session token of a request: `Authorization: Bearer …`, else Rollcall's session cookie. */
export function tokenFrom(headers: { authorization?: Header; cookie?: Header }): string | null {
  const auth = first(headers.authorization);
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1] ?? null;
  }
  const cookie = first(headers.cookie);
  if (!cookie) return null;
  for (const part of cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value) || null;
      } catch {
        return null;
      }
    }
  }
  return null;
}

function first(h: Header): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** The session of the request, and whether it may do what the route needs. */
export async function guard(
  rc: Checker,
  headers: { authorization?: Header; cookie?: Header },
  need: Requirement,
): Promise<Guarded> {
  const token = tokenFrom(headers);
  if (!token) {
    return {
      ok: false,
      problem: problem(
        "unauthenticated",
        401,
        "Log in first",
        "This needs a Rollcall session (cookie or bearer token).",
      ),
    };
  }
  const session = await rc.verifySession(token);
  if (!session) {
    return {
      ok: false,
      problem: problem(
        "invalid_session",
        401,
        "The session token is unknown or has ended",
        "Log in again: this session has ended.",
      ),
    };
  }
  const userId = session.user.id;
  let decision: Decision;
  if (need.workspaceId !== undefined) {
    decision = await rc.check({ userId, workspaceId: need.workspaceId, permission: need.permission });
  } else if (need.orgId !== undefined) {
    const orgId = need.orgId;
    // While the lease is not live, verifySession asked the server: its organisations are current.
    decision = rc.live
      ? rc.canInOrg({ userId, orgId, permission: need.permission })
      : rc.decideInOrg(need.permission, session.organizations.find((o) => o.id === orgId)?.role ?? null);
  } else {
    return {
      ok: true,
      session,
      decision: { allowed: true, role: null, reason: "a session is all this needs" },
    };
  }
  if (!decision.allowed) {
    return {
      ok: false,
      problem: problem("forbidden", 403, "You do not have the permission for this", decision.reason),
    };
  }
  return { ok: true, session, decision };
}

/** A route's declaration: the permission, and where it is read from the request. */
export interface RouteRule<Req> {
  permission: string;
  workspace?: (request: Req) => string | undefined;
  org?: (request: Req) => string | undefined;
}

function requirementOf<Req>(rule: RouteRule<Req>, request: Req): Requirement {
  return { permission: rule.permission, workspaceId: rule.workspace?.(request), orgId: rule.org?.(request) };
}

// Fastify, as much of it as the plugin uses.
export interface FastifyLikeRequest {
  headers: { authorization?: Header; cookie?: Header };
  routeOptions: { config?: unknown };
  rollcall?: Guarded | null;
}
export interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  type(contentType: string): FastifyLikeReply;
  send(payload: string): unknown;
}
export interface FastifyLike {
  decorateRequest(name: string, value: null): unknown;
  addHook(
    name: "preHandler",
    hook: (request: FastifyLikeRequest, reply: FastifyLikeReply) => Promise<unknown>,
  ): unknown;
}

/**
 * A Fastify plugin: a route that says `config: { rollcall: { permission, workspace?, org? } }`
 * answers 401 or 403 problems unless its caller may; `request.rollcall` holds the session and the
 * decision. Registered on the root instance, it guards every route (it does not encapsulate).
 */
export function fastifyGuard(rc: Checker) {
  const plugin = async (fastify: FastifyLike) => {
    fastify.decorateRequest("rollcall", null);
    fastify.addHook("preHandler", async (request, reply) => {
      const rule = (request.routeOptions.config as { rollcall?: RouteRule<FastifyLikeRequest> } | undefined)
        ?.rollcall;
      if (!rule) return;
      const guarded = await guard(rc, request.headers, requirementOf(rule, request));
      if (!guarded.ok) {
        return reply
          .code(guarded.problem.status)
          .type("application/problem+json; charset=utf-8")
          .send(JSON.stringify(guarded.problem));
      }
      request.rollcall = guarded;
    });
  };
  // fastify-plugin's mark, without the dependency: the hook applies outside this plugin too.
  Object.assign(plugin, {
    [Symbol.for("skip-override")]: true,
    [Symbol.for("fastify.display-name")]: "rollcall",
  });
  return plugin;
}

// Express, as much of it as the middleware uses.
export interface ExpressLikeRequest {
  headers: { authorization?: Header; cookie?: Header };
  params: Record<string, string>;
  rollcall?: Guarded;
}
export interface ExpressLikeResponse {
  status(code: number): ExpressLikeResponse;
  type(contentType: string): ExpressLikeResponse;
  send(body: string): unknown;
}

/**
 * An Express middleware for one route's permission:
 * `app.post("/w/:ws/flows", rc.express({ permission: "flows.write", workspace: (req) => req.params.ws }), handler)`.
 * Sets `req.rollcall` (the session and the decision); answers 401 or 403 problems otherwise.
 */
export function expressGuard<Req extends ExpressLikeRequest>(rc: Checker, rule: RouteRule<Req>) {
  return <Res extends ExpressLikeResponse>(req: Req, res: Res, next: (err?: unknown) => void): void => {
    guard(rc, req.headers, requirementOf(rule, req)).then((guarded) => {
      if (!guarded.ok) {
        res
          .status(guarded.problem.status)
          .type("application/problem+json; charset=utf-8")
          .send(JSON.stringify(guarded.problem));
        return;
      }
      req.rollcall = guarded;
      next();
    }, next);
  };
}
