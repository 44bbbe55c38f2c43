// /api/docs: the API reference, rendered in the browser by Swagger UI from the document this server
// serves at /api/v1/openapi.json. Swagger UI's files come from the swagger-ui-dist package and are
// served by this server: the page loads nothing from anywhere else, and its policy says so.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { FastifyInstance } from "fastify";

/**
 * Only this server's own scripts and styles, no inline ones, no frames, no forms. Swagger UI's
 * requests go to the document (connect-src); its "try it out" is off (see INIT), so the reference
 * never sends requests carrying the reader's session.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const require = createRequire(import.meta.url);
const DIST = path.dirname(require.resolve("swagger-ui-dist/package.json"));
const VERSION = (require("swagger-ui-dist/package.json") as { version: string }).version;

/** Swagger UI's start: an external script (the policy allows no inline one). */
const INIT = `window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#reference",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  displayOperationId: true,
  // A reference, not a client: no request is sent from here, and no other document is loaded.
  supportedSubmitMethods: [],
  queryConfigEnabled: false,
  validatorUrl: null,
});
`;

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Rollcall API reference</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/api/docs/swagger-ui.css?v=${VERSION}">
  </head>
  <body>
    <main id="reference"></main>
    <script src="/api/docs/swagger-ui-bundle.js?v=${VERSION}"></script>
    <script src="/api/docs/init.js?v=${VERSION}"></script>
  </body>
</html>
`;

const ASSETS: Record<string, { file?: string; body?: string; type: string }> = {
  "swagger-ui-bundle.js": { file: "swagger-ui-bundle.js", type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { file: "swagger-ui.css", type: "text/css; charset=utf-8" },
  "init.js": { body: INIT, type: "text/javascript; charset=utf-8" },
};

/** The files, read once on first use and shared by every app in the process. */
const loaded = new Map<string, Buffer | string>();
function contentOf(name: string): Buffer | string {
  let content = loaded.get(name);
  if (content === undefined) {
    const asset = ASSETS[name];
    content = asset?.body ?? readFileSync(path.join(DIST, asset?.file ?? name));
    loaded.set(name, content);
  }
  return content;
}

export async function registerApiDocs(fastify: FastifyInstance): Promise<void> {
  const route = { config: { permission: "public" as const }, schema: { hide: true } };
  fastify.get("/api/docs", route, async (_request, reply) =>
    reply
      .header("content-security-policy", DOCS_CSP)
      .header("cache-control", "no-cache")
      .type("text/html; charset=utf-8")
      .send(PAGE),
  );
  for (const [name, asset] of Object.entries(ASSETS)) {
    fastify.get(`/api/docs/${name}`, route, async (_request, reply) =>
      // The page names the version in each URL: a new swagger-ui-dist is a new URL.
      reply.header("cache-control", "public, max-age=86400").type(asset.type).send(contentOf(name)),
    );
  }
}
