// docs/rules.md#rule-16 — bad input gets a problem answer, never a 500, and changes nothing — with rules 3
// (tenant isolation) and 13 (CSRF) in the mix: issue 7, deliverable 5, the property-based part.
//
// Every operation of the OpenAPI document the app serves is sent generated requests in which at
// least one part must be refused: no session or a garbage token, a cross-site browser request,
// another tenant's id or an id of the wrong kind or a malformed one in the path, an absurd query
// parameter, a body of the wrong shape (wrong types, huge strings, deep nesting, NUL and lone
// surrogates, SQL and path fragments where ids belong), or a raw body that is not UTF-8 JSON. The
// other parts are plausible, often hostile-looking, values. For each request:
//   - never a 5xx;
//   - every 4xx is a problem body (type, title, status, detail, code);
//   - a request with a part that must be refused is refused (a 4xx);
//   - the database is the same afterwards, except what MAY_CHANGE (fuzz/snapshot.ts) lists, with
//     its reason.
// A few generated parts are valid yet inert (a piece's `harmless`: a cursor of a valid shape on a
// read-only list, another tenant's user in the permission question): a request whose only odd
// parts are those may succeed, and must still change nothing.
//
// This file holds the properties and the tests. How the requests are made lives in fuzz/:
//   world.ts       the people, organisations, sessions and invitations the junk is aimed at
//   operations.ts  the operations, read from the OpenAPI document
//   requests.ts    a whole request (a Plan): which of its parts are junk, and the parts put together
//   paths.ts, queries.ts, bodies.ts (with fields.ts), callers.ts: each part, good or junk
//   pieces.ts      a generated part with its reasons, and the small value generators all share
//   snapshot.ts    the database before and after, and what a refused request may still write
//
// Reproduce: FUZZ_SEED=<the seed printed on failure> (the same seed drives every operation);
// FUZZ_RUNS=<requests per operation> (default 30).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { ERROR_CODES } from "../../src/core/errors.js";
import { checkerOf } from "../helpers/answers.js";
import { randomIp, type TestApp, testApp, uniqueEmail } from "../helpers/app.js";
import { type Operation, readOperations } from "./fuzz/operations.js";
import { type Plan, requestFor, show } from "./fuzz/requests.js";
import { changes, type Snapshot, snapshotsOf } from "./fuzz/snapshot.js";
import { buildWorld, type World } from "./fuzz/world.js";

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS) || 30;

let t: TestApp;
let w: World;
let operations: Operation[];
let snapshot: () => Promise<Snapshot>;

before(async () => {
  t = await testApp();
  w = await buildWorld(t);
  operations = await readOperations(t);
  snapshot = snapshotsOf(t.db);
});
after(async () => {
  await t.close();
});

// ---- the properties --------------------------------------------------------------------------
/** Answers seen, by status, over the whole run: to show (and check) the junk reached every layer. */
const statuses = new Map<number, number>();

async function send(plan: Plan) {
  const res = await t.app.fastify.inject({
    method: plan.method as "GET",
    url: plan.url,
    headers: plan.headers,
    ...(plan.payload !== undefined ? { payload: plan.payload } : {}),
    remoteAddress: plan.ip,
  });
  // Junk too is answered as the OpenAPI document says: a status it lists, in the shape it gives.
  checkerOf(t.app.fastify).check(plan.method, plan.url, {
    status: res.statusCode,
    headers: res.headers,
    text: res.body,
  });
  return res;
}

function checkProblem(plan: Plan, status: number, contentType: unknown, body: string): void {
  const where = show(plan);
  assert.match(
    String(contentType),
    /^application\/problem\+json/,
    `${status} without a problem body: ${where}`,
  );
  const problem = JSON.parse(body) as Record<string, unknown>;
  for (const field of ["type", "title", "detail", "code"]) {
    assert.equal(typeof problem[field], "string", `problem.${field} is missing: ${body}\n${where}`);
  }
  assert.equal(problem.status, status, `problem.status is not the answer's: ${body}\n${where}`);
  assert.ok(
    (ERROR_CODES as readonly string[]).includes(String(problem.code)),
    `problem.code "${problem.code}" is not in the registry: ${where}`,
  );
  if (problem.errors !== undefined) {
    assert.ok(Array.isArray(problem.errors), `problem.errors is not a list: ${body}`);
    for (const e of problem.errors as { field?: unknown; message?: unknown }[]) {
      assert.ok(typeof e.field === "string" && typeof e.message === "string", `a bad field error: ${body}`);
    }
  }
}

/** The database as the last request left it: nothing else writes between two requests. */
let lastSnapshot: Snapshot | undefined;

async function fuzz(op: Operation): Promise<void> {
  await fc.assert(
    fc.asyncProperty(requestFor(w, op, t.config.bodyLimitBytes), async (plan) => {
      const before = lastSnapshot ?? (await snapshot());
      const res = await send(plan);
      const after = await snapshot();
      lastSnapshot = after;
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const where = show(plan);
      assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body.slice(0, 300)}\n${where}`);
      if (res.statusCode >= 400) checkProblem(plan, res.statusCode, res.headers["content-type"], res.body);
      if (plan.junk.length > 0) {
        assert.ok(
          res.statusCode >= 400,
          `junk was accepted: ${res.statusCode} ${res.body.slice(0, 300)}\n${where}`,
        );
      }
      const changed = changes(before, after);
      assert.deepEqual(changed, [], `the request changed the database:\n${changed.join("\n")}\n${where}`);
    }),
    { seed: SEED, numRuns: RUNS },
  );
}

test("the OpenAPI document names every operation of the API, so the fuzz reaches them all", () => {
  // The fuzz below takes its operations from the document: a route missing there would go untested.
  const documented = new Set(
    operations.map((op) => `${op.method} ${op.template.replace(/\{(\w+)\}/g, ":$1")}`),
  );
  const routes = t.app.routes
    .filter((r) => r.url.startsWith("/api/v1") && r.method !== "HEAD" && r.url !== "/api/v1/openapi.json")
    .map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(
    routes.filter((r) => !documented.has(r)),
    [],
  );
  assert.ok(operations.length >= 30, `${operations.length} operations`);
});

test("junk to every operation, with and without a session: never a 5xx, always a problem, never a change", async (ctx) => {
  // Rule 16 over the whole API surface; see the head of this file for the properties.
  ctx.diagnostic(`FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
  for (const op of operations) {
    await ctx.test(op.key, () => fuzz(op));
  }
  ctx.diagnostic(
    `answers: ${[...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(" ")}`,
  );
  // The junk reached every layer: the session guard, the permission check, validation, the
  // lookups of the operations and the body parser.
  for (const status of [400, 401, 403, 404]) assert.ok(statuses.has(status), `no ${status} was answered`);
  assert.ok(statuses.has(413) || statuses.has(415), "no body was refused by the parser");
});

test("defect: text that is not text was accepted — NUL, lone surrogates, and bodies that are not UTF-8", async () => {
  // Found by the fuzz above. A lone surrogate in a JSON string (\ud800) passed the schema: a
  // password-reset request answered 202, and on PostgreSQL a name was stored as U+FFFD. Bytes that
  // are not UTF-8 (an overlong "/", C0 AF) were decoded with replacement: PATCH /me with such a
  // name answered 200 and renamed the user "a\ufffd\ufffdb", and POST /auth/logout with such a body
  // logged out; a NUL in a password (which never reaches a text column) made an account. Each is
  // now a 400 problem naming the field (or the body), and changes nothing.
  const cases: { method: string; url: string; payload: string | Buffer; field: string }[] = [
    { method: "PATCH", url: "/api/v1/me", payload: '{"name":"Mallory\\ud800"}', field: "name" },
    { method: "PATCH", url: "/api/v1/me", payload: '{"name":"\\udc00"}', field: "name" },
    { method: "PATCH", url: "/api/v1/me", payload: '{"name":"a\\u0000b"}', field: "name" },
    {
      method: "POST",
      url: "/api/v1/auth/password-reset",
      payload: '{"email":"a@b.org\\ud800"}',
      field: "email",
    },
    {
      method: "POST",
      url: "/api/v1/auth/signup",
      payload: JSON.stringify({
        email: uniqueEmail("nul"),
        password: "fz strong pass\u0000word",
        name: "Nul",
      }),
      field: "password",
    },
    {
      method: "PATCH",
      url: "/api/v1/me",
      payload: Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('b"}')]),
      field: "body",
    },
    {
      method: "POST",
      url: "/api/v1/auth/logout",
      payload: Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
      field: "body",
    },
    { method: "GET", url: `/api/v1/orgs/${w.orgId}/members?q=a%00b`, payload: "", field: "q" },
  ];
  for (const c of cases) {
    const before = await snapshot();
    const res = await t.app.fastify.inject({
      method: c.method as "GET",
      url: c.url,
      headers: {
        authorization: `Bearer ${w.owner.token}`,
        ...(c.payload ? { "content-type": "application/json" } : {}),
      },
      ...(c.payload ? { payload: c.payload } : {}),
      remoteAddress: randomIp(),
    });
    const where = `${c.method} ${c.url} ${Buffer.isBuffer(c.payload) ? c.payload.toString("latin1") : c.payload}`;
    assert.equal(res.statusCode, 400, `${where}: ${res.body}`);
    const problem = JSON.parse(res.body) as { code: string; errors?: { field: string }[] };
    assert.ok(["validation_failed", "malformed_json"].includes(problem.code), where);
    assert.equal(problem.errors?.[0]?.field, c.field, `${where}: ${res.body}`);
    assert.deepEqual(changes(before, await snapshot()), [], where);
  }
  lastSnapshot = undefined;
});

test("defect: a property no schema names reached the operation — a stray orgId chose another tenant", async () => {
  // Found while building the fuzz's stray fields (rule 3). The routes spread the body into the
  // operation's input after the organisation of the path, and the validator dropped only what a
  // schema marked additionalProperties: false (none does): {"orgId": <another tenant>} made a
  // workspace, or an owner link invitation, in that other organisation. Every property a schema
  // does not name is now dropped before the route sees the body.
  const stray = { orgId: w.other.orgId, org_id: w.other.orgId };
  const otherBefore = await t.db
    .selectFrom("invitations")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("org_id", "=", w.other.orgId)
    .executeTakeFirstOrThrow();
  const ws = await t.request("POST", `/api/v1/orgs/${w.orgId}/workspaces`, {
    token: w.owner.token,
    body: { name: "Stray fields", ...stray },
  });
  assert.equal(ws.status, 201, ws.text);
  assert.equal(ws.json.workspace.organizationId, w.orgId);
  const invitation = await t.request("POST", `/api/v1/orgs/${w.orgId}/invitations`, {
    token: w.owner.token,
    body: { delivery: "link", role: "owner", ...stray },
  });
  assert.equal(invitation.status, 201, invitation.text);
  const viaWorkspace = await t.request("POST", `/api/v1/workspaces/${w.workspaceId}/invitations`, {
    token: w.owner.token,
    body: { delivery: "link", role: "viewer", ...stray },
  });
  assert.equal(viaWorkspace.status, 201, viaWorkspace.text);
  for (const id of [invitation.json.invitation.id, viaWorkspace.json.invitation.id]) {
    const row = await t.db
      .selectFrom("invitations")
      .select("org_id")
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    assert.equal(row.org_id, w.orgId, "the invitation is in the organisation of the path");
  }
  const otherWorkspaces = await t.db
    .selectFrom("workspaces")
    .select("id")
    .where("org_id", "=", w.other.orgId)
    .execute();
  assert.deepEqual(
    otherWorkspaces.map((r) => r.id),
    [w.other.workspaceId],
  );
  const otherAfter = await t.db
    .selectFrom("invitations")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("org_id", "=", w.other.orgId)
    .executeTakeFirstOrThrow();
  assert.equal(otherAfter.n, otherBefore.n, "the other tenant has no new invitation");
  lastSnapshot = undefined;
});
