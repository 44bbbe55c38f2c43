// Rule 13 (docs/rules.md#rule-13): a state-changing request a browser made from another site is refused.
// Browsers send Sec-Fetch-Site (and Origin) on such requests; API clients using a Bearer token
// are not exposed to CSRF and are not checked. Requests made by browsers without a session
// cookie (log-in, sign-up) are checked too: that closes log-in CSRF.
import type { FastifyRequest } from "fastify";
import { AppError } from "../core/errors.js";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function csrfCheck(request: FastifyRequest, publicOrigin: string): void {
  if (SAFE_METHODS.has(request.method)) return;
  if (/^bearer\s/i.test(request.headers.authorization ?? "")) return;
  const site = request.headers["sec-fetch-site"];
  if (site === "cross-site") {
    throw new AppError("csrf_rejected", "This request came from another site and was refused.");
  }
  const origin = request.headers.origin;
  if (origin === undefined || site === "same-origin" || site === "none") return;
  if (origin === "null" || !sameOrigin(origin, publicOrigin, request)) {
    throw new AppError("csrf_rejected", `Requests from ${origin} are not accepted.`);
  }
}

function sameOrigin(origin: string, publicOrigin: string, request: FastifyRequest): boolean {
  if (origin === publicOrigin) return true;
  // Also accept the origin the request was addressed to (a server reached by another name).
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
