// The web console: the Vite build of web/ served at `/`. Hashed assets are cached for a year;
// every other GET that asks for HTML gets index.html, so that the console's own router can answer
// deep links (/invite/…, /reset-password?token=…, /orgs/…). API paths never fall back to HTML.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";
import { AppError } from "../core/errors.js";

/**
 * The console's pages run only the bundle's own scripts and styles. Links in the console carry
 * secrets in their paths (/invite/<token>, ?token=…): no referrer leaves, no frame may hold them.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const NOT_CONSOLE = /^\/(api|healthz|readyz|metrics)(\/|$|\?)/;

/** Where the built console is: CONSOLE_DIR, else dist/console beside the compiled or source server. */
export function findConsoleDir(configured: string | undefined): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = configured
    ? [path.resolve(configured)]
    : [path.resolve(here, "../console"), path.resolve(here, "../../dist/console")];
  return candidates.find((dir) => existsSync(path.join(dir, "index.html")));
}

/**
 * Serves the console from `dir`. `maxParamLength` is the router's: the console's catch-all route
 * matches what the router would otherwise refuse as too long, so it refuses it the same way.
 */
export async function registerConsole(
  fastify: FastifyInstance,
  dir: string | undefined,
  maxParamLength: number,
): Promise<void> {
  if (!dir) {
    fastify.log.warn("the web console is not built (npm run build): / answers with instructions");
    fastify.get("/", { config: { permission: "public" }, schema: { hide: true } }, async (_request, reply) =>
      reply
        .type("text/plain; charset=utf-8")
        .send("Rollcall is running. The web console is not built: run `npm run build`, then restart.\n"),
    );
    return;
  }
  const index = readFileSync(path.join(dir, "index.html"));
  const sendIndex = (reply: FastifyReply) =>
    reply
      .header("content-security-policy", CONSOLE_CSP)
      .header("cache-control", "no-cache")
      .type("text/html; charset=utf-8")
      .send(index);

  await fastify.register(fastifyStatic, {
    root: path.join(dir, "assets"),
    prefix: "/assets/",
    // Only the files that exist at start-up get routes; anything else under /assets/ is a 404.
    wildcard: false,
    index: false,
    immutable: true,
    maxAge: "365d",
    decorateReply: false,
  });
  for (const file of ["favicon.svg"]) {
    if (!existsSync(path.join(dir, file))) continue;
    const body = readFileSync(path.join(dir, file));
    fastify.get(`/${file}`, { config: { permission: "public" }, schema: { hide: true } }, async (_r, reply) =>
      reply.header("cache-control", "public, max-age=86400").type("image/svg+xml").send(body),
    );
  }
  fastify.get("/", { config: { permission: "public" }, schema: { hide: true } }, async (_request, reply) =>
    sendIndex(reply),
  );
  fastify.get("/*", { config: { permission: "public" }, schema: { hide: true } }, async (request, reply) => {
    const wantsHtml = (request.headers.accept ?? "").includes("text/html");
    const path = request.url.split("?", 1)[0] ?? "";
    if (NOT_CONSOLE.test(request.url) && path.split("/").some((part) => part.length > maxParamLength)) {
      throw new AppError("uri_too_long");
    }
    if (!wantsHtml || NOT_CONSOLE.test(request.url) || request.url.startsWith("/assets/")) {
      return reply.callNotFound();
    }
    return sendIndex(reply);
  });
}
