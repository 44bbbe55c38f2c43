// /api/docs: the API reference, rendered by the Swagger UI bundle this server serves itself (no
// CDN), under a policy that allows no inline script or style. The page must load in Chromium with
// no refusal in its console (the harness fails on any) and show the operations.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ConsoleServer, consoleServer } from "./harness.js";

let s: ConsoleServer;
before(async () => {
  s = await consoleServer(import.meta.filename);
});
after(() => s.close());

test("/api/docs serves the reference and its scripts from this server, and Chromium renders it", async () => {
  const html = await fetch(`${s.url}/api/docs`);
  assert.equal(html.status, 200);
  assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
  const csp = html.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  const scripts = [...(await html.text()).matchAll(/<script src="([^"]+)"/g)].map((m) => m[1] ?? "");
  assert.ok(scripts.length > 0 && scripts.every((src) => src.startsWith("/api/docs/")), scripts.join(" "));
  for (const src of scripts) {
    const script = await fetch(`${s.url}${src}`);
    assert.equal(script.status, 200, src);
    assert.match(script.headers.get("content-type") ?? "", /^text\/javascript/, src);
  }

  const page = await s.page();
  const outside: string[] = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(s.url) && !r.url().startsWith("data:")) outside.push(r.url());
  });
  await page.goto("/api/docs");
  await page.getByText("listOrganizationMembers").first().waitFor();
  await page.getByRole("heading", { name: /Rollcall/ }).waitFor();
  assert.deepEqual(outside, [], "the reference loaded something from elsewhere");
});
