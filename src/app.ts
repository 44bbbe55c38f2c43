// Builds the Fastify app: plugins, the guard, error mapping, the modules' routes, the mail and
// webhook workers.
import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { type Catalogue, loadCatalogue } from "./access/catalogue.js";
import { registerPasswordMetrics } from "./accounts/metrics.js";
import { accountRoutes, accountSchemas } from "./accounts/routes.js";
import { pruneSignupConfirmations } from "./accounts/signup-confirm.js";
import { apiKeyRoutes, apiKeySchemas } from "./apikeys/routes.js";
import { auditRoutes, auditSchemas } from "./audit/routes.js";
import { type Config, isHttps, type TrustProxy } from "./config.js";
import { RateLimiter } from "./core/rate-limit.js";
import type { Database } from "./db/index.js";
import { EventBus } from "./events/bus.js";
import { heldBack } from "./events/feed.js";
import { eventRoutes, eventSchemas } from "./events/routes.js";
import { registerApiDocs } from "./http/api-docs.js";
import { findConsoleDir, registerConsole } from "./http/console.js";
import { registerGuard } from "./http/guard.js";
import { createRegistry, registerHttpMetrics } from "./http/metrics.js";
import { operationsRoutes } from "./http/operations-routes.js";
import { frameworkErrors, registerProblemHandlers } from "./http/problem.js";
import { frameworkProblems, sharedSchemas } from "./http/schemas.js";
import { registerJsonBodyParser, validatorCompiler } from "./http/validation.js";
import { invitationJoinRoutes } from "./invitations/join-routes.js";
import { invitationManagementRoutes, invitationSchemas } from "./invitations/manage-routes.js";
import { registerMailMetrics } from "./mail/metrics.js";
import { pruneOutbox } from "./mail/outbox.js";
import { createMailTransport, type MailTransport } from "./mail/transport.js";
import { MailWorker } from "./mail/worker.js";
import { orgSchemas } from "./orgs/presenters.js";
import { orgRoutes } from "./orgs/routes.js";
import { awaitAcknowledgements } from "./replica/leases.js";
import { registerReplicaMetrics } from "./replica/metrics.js";
import { replicaRoutes, replicaSchemas } from "./replica/routes.js";
import type { Services } from "./services.js";
import { pruneExpiredSessions } from "./sessions/operations.js";
import { sessionRoutes, sessionSchemas } from "./sessions/routes.js";
import { webhookRoutes, webhookSchemas } from "./webhooks/routes.js";
import type { LookupAll } from "./webhooks/target.js";
import { WebhookWorker } from "./webhooks/worker.js";
import { workspaceRoutes, workspaceSchemas } from "./workspaces/routes.js";

export interface BuildOptions {
  config: Config;
  database: Database;
  logger: Logger;
  /** Defaults to SMTP from config.smtpUrl, or the log. */
  mailTransport?: MailTransport;
  /** Start the mail and webhook workers and housekeeping timers (default: config.mail.worker). */
  background?: boolean;
  /** Defaults to the built-in catalogue extended by config.rolesFile. */
  catalogue?: Catalogue;
  /** How the webhook worker resolves hosts (default: DNS); tests answer names of their own. */
  webhookLookup?: LookupAll;
}

export interface RouteInfo {
  method: string;
  url: string;
  permission: string | undefined;
}

export interface App {
  fastify: FastifyInstance;
  /** Every route with the permission it declares: for tests and documentation. */
  routes: RouteInfo[];
  services: Services;
  mailWorker: MailWorker;
  webhookWorker: WebhookWorker;
  registry: Registry;
  /** Stops accepting, finishes what is in flight, stops the worker. Does not close the database. */
  close(): Promise<void>;
}

const HOUSEKEEPING_MS = 10 * 60_000;
/** For every answer that is not a console page: load nothing, run nothing, be framed by nobody. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/**
 * Sent only when PUBLIC_URL is https: once a browser has seen it, it never again sends the session
 * cookie (or a link's token) over plain http to this host, for a year.
 */
export const HSTS = "max-age=31536000; includeSubDomains";
const MAX_PARAM_LENGTH = 200;

const API_DESCRIPTION = [
  "Rollcall is a self-hostable team and access server. This API does everything its web console",
  "does: accounts and sessions, organisations and their members, workspaces and the roles people",
  "hold in them, invitations, and the audit log; and it answers a host product's question, may",
  "this person do this here (`authorizeInWorkspace`).",
  "",
  "Authenticate with `Authorization: Bearer <token>` (the session token that sign-up and log-in",
  "answer) or with the `rollcall_session` cookie. Errors are RFC 9457 problem details",
  "(`application/problem+json`) with a stable `code`. Lists are pages: `?limit=` (1–200) and",
  "`?cursor=`, answered with `{items, nextCursor}`.",
].join("\n");

const API_TAGS = [
  { name: "accounts", description: "Sign-up, log-in and log-out, password resets, my profile" },
  { name: "sessions", description: "My logged-in devices" },
  { name: "organizations", description: "Organisations and their members" },
  { name: "workspaces", description: "Workspaces, their members, and the permission check" },
  { name: "invitations", description: "Inviting people, and accepting or declining an invitation" },
  { name: "audit", description: "What happened in an organisation, and who did it" },
  { name: "webhooks", description: "Posting an organisation's events to its own systems" },
  { name: "events", description: "The event feed and its live streams" },
  { name: "replica", description: "A copy of memberships and roles for a host product's own checks" },
];

/**
 * Fastify's `trustProxy` for TRUST_PROXY. A hop count is a function, because this Fastify takes a
 * bare number as "trust no peer" (a hop count cannot tell a proxy from a client that reached the
 * server directly: the README says so). proxy-addr asks about the socket's peer (hop 0), then the
 * `X-Forwarded-For` entries from the right; the first `hops` are believed, so the client IP is the
 * entry the outermost proxy added, never one the client wrote.
 */
export function fastifyTrustProxy(
  trust: TrustProxy,
): false | string[] | ((address: string, hop: number) => boolean) {
  if (trust === false) return false;
  if ("hops" in trust) {
    const { hops } = trust;
    return (_address, hop) => hop < hops;
  }
  return trust.addresses;
}

export async function buildApp(options: BuildOptions): Promise<App> {
  const { config, database, logger } = options;
  const https = isHttps(config);
  function securityHeaders(reply: FastifyReply): void {
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    reply.header("x-frame-options", "DENY");
    reply.header("cache-control", reply.getHeader("cache-control") ?? "no-store");
    // The console's pages set their own policy; every other answer (JSON, problems, assets) is
    // never a document that should run or load anything.
    reply.header("content-security-policy", reply.getHeader("content-security-policy") ?? API_CSP);
    if (https) reply.header("strict-transport-security", HSTS);
  }
  const fastify = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: fastifyTrustProxy(config.trustProxy),
    // Ids in the path are short; anything longer is not one of ours.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH, ignoreTrailingSlash: true },
    ajv: { customOptions: { allErrors: true } },
    // While draining at shutdown, a request that arrives on a connection already open is served
    // (and the connection closed after it) rather than answered with Fastify's own 503, which is
    // not a problem document; the shutdown deadline in `serve` still bounds the drain.
    return503OnClosing: false,
    // The router's own errors (a malformed URL) are answered before any hook runs.
    frameworkErrors: (err, request, reply) => {
      securityHeaders(reply);
      frameworkErrors(err, request, reply);
    },
  });
  fastify.setValidatorCompiler(validatorCompiler);
  registerJsonBodyParser(fastify);

  const catalogue = options.catalogue ?? loadCatalogue(config.rolesFile);

  const registry = createRegistry();
  registerPasswordMetrics(registry);
  const transport = options.mailTransport ?? createMailTransport(config, logger);
  const mailMetrics = registerMailMetrics(registry, database.db, {
    onCollectError: (err) => logger.warn({ err }, "mail metrics could not be read"),
  });
  const mailWorker = new MailWorker({
    db: database.db,
    transport,
    config: config.mail,
    from: config.mailFrom,
    logger,
    onSent: () => mailMetrics.sent.inc(),
    onFailure: () => mailMetrics.failures.inc(),
  });
  const replicaMetrics = registerReplicaMetrics(registry);
  const events = new EventBus(database, config.events.pollMs, logger, () => heldBack(database.db));
  await events.start();
  const services: Services = {
    config,
    catalogue,
    db: database.db,
    pool: database.pool,
    limiter: new RateLimiter(database.db),
    wakeMail: () => mailWorker.wake(),
    events,
    wakeEvents: () => events.wake(),
    awaitAcks: async (fence, lockedMs) => {
      const limitMs = config.replica.leaseMs + 1000;
      const waited = await awaitAcknowledgements(database.db, fence, { signal: events.acks, limitMs });
      if (waited.leased) replicaMetrics.fenceWait.observe((lockedMs + waited.ms) / 1000);
      // Never expected: no lease can outlive a fence by more than its own length (replica/leases.ts).
      if (waited.gaveUp) {
        replicaMetrics.gaveUp.inc();
        logger.warn({ ms: Math.round(waited.ms) }, "replica acknowledgements still missing");
      }
    },
  };
  const webhookWorker = new WebhookWorker({
    services,
    config: config.webhooks,
    logger,
    pollMs: config.events.pollMs,
    ...(options.webhookLookup ? { lookup: options.webhookLookup } : {}),
  });

  await fastify.register(cookie);
  await fastify.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Rollcall",
        version: "1",
        description: API_DESCRIPTION,
        license: { name: "MIT", identifier: "MIT" },
      },
      servers: [{ url: config.publicUrl, description: "This server (its PUBLIC_URL)" }],
      tags: API_TAGS,
      components: {
        securitySchemes: {
          bearer: {
            type: "http",
            scheme: "bearer",
            description:
              "A session token from sign-up or log-in, an organisation's API key (rk_…) or the installation's service key (rsk_…)",
          },
          cookie: { type: "apiKey", in: "cookie", name: "rollcall_session" },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
    // Components keep their own names ($id), not def-0, def-1…
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === "string" ? json.$id : `def-${i}`,
    },
    // Each operation names the permission its guard checks (x-permission), and whether the
    // installation's service keys may read it (x-service-key-reads). A public route asks for no
    // credentials: the guard lets it through without any.
    transform: ({ schema, url, route }) => {
      const permission = route.config?.permission;
      const documented: Record<string, unknown> = { ...schema, "x-permission": permission };
      if (route.config?.serviceKeyReads) documented["x-service-key-reads"] = true;
      if (permission === "public") documented.security = [];
      return { schema: documented, url };
    },
  });
  // The shapes the routes share by $ref (http/schemas.ts): one component each in the document.
  for (const schema of [
    ...sharedSchemas,
    ...accountSchemas,
    ...sessionSchemas,
    ...orgSchemas,
    ...workspaceSchemas,
    ...auditSchemas,
    ...invitationSchemas,
    ...apiKeySchemas,
    ...webhookSchemas,
    ...eventSchemas,
    ...replicaSchemas,
  ]) {
    fastify.addSchema(schema);
  }
  registerProblemHandlers(fastify);
  // Each API route's answers include the problems the framework and the guard give any route of
  // its kind (http/schemas.ts), so the document lists every status a client can get.
  fastify.addHook("onRoute", (route) => {
    const response = route.schema?.response as Record<string, unknown> | undefined;
    if (!route.url.startsWith("/api/v1") || !response) return;
    const kind = { method: route.method, url: route.url, permission: route.config?.permission };
    route.schema = { ...route.schema, response: { ...frameworkProblems(kind), ...response } };
  });
  const routes: RouteInfo[] = [];
  fastify.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, permission: route.config?.permission });
    }
  });
  registerGuard(fastify, config, database, catalogue);
  registerHttpMetrics(fastify, registry);
  fastify.addHook("onSend", async (_request, reply) => {
    securityHeaders(reply);
  });

  await fastify.register(async (scope) => {
    await operationsRoutes(scope, database, registry, config.metricsToken);
    await accountRoutes(scope, services);
    await sessionRoutes(scope, services);
    await orgRoutes(scope, services);
    await workspaceRoutes(scope, services);
    await auditRoutes(scope, services);
    await invitationManagementRoutes(scope, services);
    await invitationJoinRoutes(scope, services);
    await apiKeyRoutes(scope, services);
    await webhookRoutes(scope, services);
    await eventRoutes(scope, services);
    await replicaRoutes(scope, services);
    await registerApiDocs(scope);
    await registerConsole(scope, findConsoleDir(config.consoleDir), MAX_PARAM_LENGTH);
  });
  await fastify.ready();

  const timers: NodeJS.Timeout[] = [];
  const stopping: (() => Promise<void>)[] = [];
  const background = options.background ?? config.mail.worker;
  if (background) {
    mailWorker.start();
    // A commit anywhere (this server at once, the others through NOTIFY) may have written
    // deliveries; the worker's own poll catches retries coming due.
    const unsubscribe = events.subscribe(() => webhookWorker.wake());
    stopping.push(async () => {
      unsubscribe();
      await webhookWorker.stop();
    });
    webhookWorker.start();
    const housekeeping = setInterval(() => {
      Promise.all([
        services.limiter.prune(),
        pruneExpiredSessions(database.db, config.session),
        pruneOutbox(database.db, config.mail.retentionDays),
        pruneSignupConfirmations(database.db),
      ]).catch((err: unknown) => logger.warn({ err }, "housekeeping failed"));
    }, HOUSEKEEPING_MS);
    housekeeping.unref();
    timers.push(housekeeping);
  }

  return {
    fastify,
    routes,
    services,
    mailWorker,
    webhookWorker,
    registry,
    async close() {
      for (const t of timers) clearInterval(t);
      await Promise.all([fastify.close(), mailWorker.stop(), ...stopping.map((stop) => stop())]);
      await events.stop();
      await transport.close();
    },
  };
}
