// How the server serves the web console: index.html for the console's own paths (deep links),
// never for the API; hashed assets cached for a year; a CSP that allows only the bundle's own
// scripts and styles; and an instruction instead of a blank page when the console is not built.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { type TestApp, testApp } from "../../test/helpers/app.js";
import { CONSOLE_CSP } from "./console.js";

let dir: string;
let t: TestApp;
const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head></html>';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rollcall-console-"));
  await mkdir(path.join(dir, "assets"));
  await writeFile(path.join(dir, "index.html"), INDEX);
  await writeFile(path.join(dir, "assets", "index-abc123.js"), "console.log('rollcall')");
  await writeFile(path.join(dir, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  t = await testApp({ CONSOLE_DIR: dir });
});
after(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

const html = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };

test("the console's paths answer index.html with the CSP, no-cache and no referrer", async () => {
  for (const url of [
    "/",
    "/login",
    "/invite/abc.def",
    "/reset-password?token=x",
    "/orgs/o1/workspaces/w1/users",
  ]) {
    const res = await t.request("GET", url, { headers: html });
    assert.equal(res.status, 200, url);
    assert.equal(res.text, INDEX, url);
    assert.match(String(res.headers["content-type"]), /^text\/html/);
    assert.equal(res.headers["content-security-policy"], CONSOLE_CSP);
    assert.equal(res.headers["cache-control"], "no-cache");
    assert.equal(res.headers["referrer-policy"], "no-referrer");
    assert.equal(res.headers["x-frame-options"], "DENY");
  }
  assert.match(CONSOLE_CSP, /script-src 'self'(;|$)/);
  assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval/);
});

test("API paths never fall back to the console, even when asked for HTML", async () => {
  // "/metrics" too: without METRICS_TOKEN it is not served (review 13.2).
  for (const url of ["/api/v1/nothing-here", "/api/v2/x", "/api", "/metrics", "/metrics/x"]) {
    const res = await t.request("GET", url, { headers: html });
    assert.equal(res.status, 404, url);
    assert.equal(res.json.code, "route_not_found", url);
  }
  // A path part longer than any id is refused as it is without a console (the catch-all route
  // would otherwise take what the router refuses), and the path is not echoed.
  const long = await t.request("GET", `/api/v1/workspaces/${"z".repeat(300)}`, { headers: html });
  assert.equal(long.status, 414);
  assert.equal(long.json.code, "uri_too_long");
  assert.doesNotMatch(long.text, /zzzz/);
  // A script's fetch of an unknown path gets a problem, not a page.
  const res = await t.request("GET", "/orgs/o1", { headers: { accept: "application/json" } });
  assert.equal(res.status, 404);
  assert.equal(res.json.code, "route_not_found");
});

test("hashed assets are cached for a year; an unknown asset is a 404, not the console", async () => {
  const res = await t.request("GET", "/assets/index-abc123.js");
  assert.equal(res.status, 200);
  assert.equal(res.text, "console.log('rollcall')");
  assert.match(String(res.headers["cache-control"]), /max-age=31536000/);
  assert.match(String(res.headers["cache-control"]), /immutable/);
  const missing = await t.request("GET", "/assets/index-zzz.js", { headers: html });
  assert.equal(missing.status, 404);
  const traversal = await t.request("GET", "/assets/../index.html", { headers: html });
  assert.notEqual(traversal.text, "console.log('rollcall')");
  const icon = await t.request("GET", "/favicon.svg");
  assert.equal(icon.status, 200);
  assert.match(String(icon.headers["content-type"]), /image\/svg\+xml/);
});

test("without a built console, / says how to build it", async () => {
  const bare = await testApp({ CONSOLE_DIR: path.join(dir, "missing") });
  try {
    const res = await bare.request("GET", "/", { headers: html });
    assert.equal(res.status, 200);
    assert.match(res.text, /npm run build/);
    const deep = await bare.request("GET", "/login", { headers: html });
    assert.equal(deep.status, 404);
  } finally {
    await bare.close();
  }
});
