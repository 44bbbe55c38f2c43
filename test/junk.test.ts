// docs/rules.md#rule-16, broadly: every route of the live route table, given junk — wrong types, huge
// strings, NUL bytes, lone surrogates, SQL and path fragments, absurd ids and query values — with
// and without a session, answers a 4xx problem, never a 5xx. (Issue 7 adds a property-based
// version that also checks that nothing changed.)
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildUser, type SignedUp, type TestApp, testApp } from "./helpers/app.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});

/** A fresh person and their organisation, so that one route's junk (log-out, delete) cannot blunt the next. */
async function caller(): Promise<SignedUp & { orgId: string }> {
  const u = await buildUser(t);
  const orgId: string = (await t.request("GET", "/api/v1/me", { token: u.token })).json.organizations[0].id;
  return { ...u, orgId };
}
after(async () => {
  await t.close();
});

const BODIES: unknown[] = [
  null,
  0,
  "x",
  [],
  {},
  { name: {} },
  { role: ["admin"] },
  { email: "a".repeat(10_000) },
  { token: 5 },
  { permission: "x".repeat(5000) },
  { name: "\u0000bad" },
  { name: "\ud800" },
  { workspaces: [{ workspaceId: 1, role: 2 }] },
  { delivery: "pigeon" },
  { maxUses: -1, expiresInHours: 1e308 },
  { timezone: "../../etc/passwd", language: "' OR 1=1 --" },
];
const RAW = ["{", '"\\ud800"', '{"name": "\\u0000"}', "1e999", '{"a":'.repeat(500)];

test("junk in paths, queries and bodies never gets a 5xx", async () => {
  const ids = ["x", "%00", "..%2F..", `org_${"z".repeat(300)}`, "'; DROP TABLE users; --", "é\u0301"];
  const query = `?limit=abc&cursor=%ZZ&q=${encodeURIComponent("%_\\")}&status=nope&role=x&except=all`;
  const failures: string[] = [];
  let requests = 0;
  for (const route of t.app.routes) {
    if (!route.url.startsWith("/api/v1") || route.method === "HEAD") continue;
    const u = await caller();
    // A stream the caller may open stays open: its junk is the ids that are not theirs (and the
    // cursors, which src/events/feed.test.ts walks).
    const stream = route.url.endsWith("/stream");
    for (const id of stream ? ids : [...ids, u.orgId]) {
      const url = `${route.url.replace(/:(\w+)/g, () => encodeURIComponent(id))}${query}&token=${encodeURIComponent(id)}`;
      const bodies = route.method === "GET" || route.method === "DELETE" ? [undefined] : BODIES;
      for (const body of bodies) {
        for (const token of [u.token, undefined]) {
          const res = await t.request(route.method, url, { token, body });
          requests++;
          if (res.status >= 500)
            failures.push(`${route.method} ${url} ${JSON.stringify(body)?.slice(0, 60)} → ${res.status}`);
          else if (res.status >= 400) {
            assert.match(
              String(res.headers["content-type"]),
              /^application\/problem\+json/,
              `${route.method} ${url}`,
            );
          }
        }
      }
    }
  }
  const u = await caller();
  for (const payload of RAW) {
    const res = await t.request("PATCH", "/api/v1/me", {
      token: u.token,
      payload,
      headers: { "content-type": "application/json" },
    });
    requests++;
    if (res.status >= 500) failures.push(`raw ${payload.slice(0, 40)} → ${res.status}`);
    else assert.equal(res.status, 400);
  }
  assert.ok(requests > 1000, `${requests} requests`);
  assert.deepEqual(failures, []);
  const me = await t.request("GET", "/api/v1/me", { token: u.token });
  assert.equal(me.json.user.name, u.name, "malformed bodies changed nothing");
});
