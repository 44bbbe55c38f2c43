// /healthz, /readyz, /metrics and the OpenAPI document.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Registry } from "prom-client";
import { AppError } from "../core/errors.js";
import type { Database } from "../db/index.js";
import { currentVersion, latestVersion } from "../db/migrate.js";
import { safeEqual, sha256 } from "../tokens.js";
import { sendProblem, toProblem } from "./problem.js";

/** How long /readyz waits for the database before it says no. */
const READY_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout exceeded when trying to connect")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Whether the request carries `Authorization: Bearer <METRICS_TOKEN>`. The digests are compared,
 * in constant time, so that neither the token's length nor its bytes leak through timing.
 */
function carriesToken(request: FastifyRequest, expected: Buffer): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
  return m?.[1] !== undefined && safeEqual(sha256(m[1]), expected);
}

export async function operationsRoutes(
  app: FastifyInstance,
  database: Database,
  registry: Registry,
  metricsToken: string | undefined,
): Promise<void> {
  const hide = { hide: true };

  app.get("/healthz", { config: { permission: "public" }, schema: hide }, async () => ({ status: "ok" }));

  app.get("/readyz", { config: { permission: "public" }, schema: hide }, async (_request, reply) => {
    let current: number;
    try {
      current = await withTimeout(currentVersion(database.pool), READY_TIMEOUT_MS);
    } catch {
      // The same Retry-After as the API's own 503s (http/problem.ts) while the database is away.
      const { problem, headers } = toProblem(
        new AppError("database_unavailable", undefined, undefined, { headers: { "retry-after": "5" } }),
      );
      return sendProblem(reply, problem, headers);
    }
    const latest = await latestVersion();
    if (current < latest) {
      const { problem } = toProblem(
        new AppError(
          "not_ready",
          `The database is at migration ${current}; this server needs ${latest}. Run \`rollcall migrate\`.`,
        ),
      );
      return sendProblem(reply, problem);
    }
    return { status: "ready", database: database.kind, migration: current };
  });

  // The metrics are not for the public: how often mail is sent, for one, tells who has an account
  // (a reset request for a known address sends one, for an unknown one not). Without a token the
  // route does not exist, as on any server where nobody set one.
  if (metricsToken !== undefined) {
    const expected = sha256(metricsToken);
    app.get("/metrics", { config: { permission: "public" }, schema: hide }, async (request, reply) => {
      if (!carriesToken(request, expected)) {
        throw new AppError(
          "metrics_token_required",
          "Send Authorization: Bearer <METRICS_TOKEN>.",
          undefined,
          {
            headers: { "www-authenticate": 'Bearer realm="metrics"' },
          },
        );
      }
      const body = await registry.metrics();
      return reply.type(registry.contentType).send(body);
    });
  }

  app.get("/api/v1/openapi.json", { config: { permission: "public" }, schema: hide }, async () =>
    app.swagger(),
  );
}
