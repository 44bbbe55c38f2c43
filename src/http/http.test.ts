// HTTP conventions: problem answers (rule 16), CSRF (rule 13), logs without secrets,
// operations routes, the OpenAPI document, and the permission every route declares.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  buildUser,
  PASSWORD,
  PUBLIC_URL,
  randomIp,
  resetTokenFor,
  type TestApp,
  testApp,
  uniqueEmail,
} from "../../test/helpers/app.js";
import { ERROR_CODES } from "../core/errors.js";
import { redactUrl } from "./logging.js";

const METRICS_TOKEN = "metrics-token-for-the-http-tests";
let t: TestApp;
before(async () => {
  t = await testApp({ METRICS_TOKEN });
});
after(async () => {
  await t.close();
});

describe("problem answers (rule 16)", () => {
  test("malformed JSON is a 400 problem, not a 500", async () => {
    const res = await t.request("POST", "/api/v1/auth/login", {
      payload: '{"email": "a@b.c", "password": ',
      headers: { "content-type": "application/json" },
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.code, "malformed_json");
    assert.match(String(res.headers["content-type"]), /^application\/problem\+json/);
  });

  test("a body over the limit is 413; a non-JSON body is 415", async () => {
    const big = await t.request("POST", "/api/v1/auth/login", {
      payload: JSON.stringify({ email: "a@b.c", password: "x".repeat(t.config.bodyLimitBytes) }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(big.status, 413);
    assert.equal(big.json.code, "payload_too_large");
    const form = await t.request("POST", "/api/v1/auth/login", {
      payload: "email=a@b.c&password=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(form.status, 415);
    assert.equal(form.json.code, "unsupported_media_type");
  });

  test("router errors are problems too, and do not echo the path", async () => {
    const long = await t.request("GET", `/api/v1/workspaces/${"z".repeat(300)}`);
    assert.equal(long.status, 414);
    assert.equal(long.json.code, "uri_too_long");
    assert.match(String(long.headers["content-type"]), /^application\/problem\+json/);
    assert.doesNotMatch(long.text, /zzzz/);
    const bad = await t.request("GET", "/api/v1/workspaces/%E0%A4%A");
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, "malformed_url");
    assert.doesNotMatch(bad.text, /%E0/);
  });

  test("an unknown route is a 404 problem", async () => {
    const res = await t.request("GET", "/api/v1/nothing-here");
    assert.equal(res.status, 404);
    assert.equal(res.json.code, "route_not_found");
  });

  test("every problem has type, title, status, detail and a code from the registry", async () => {
    const answers = await Promise.all([
      t.request("GET", "/api/v1/me"),
      t.request("POST", "/api/v1/auth/signup", { body: { email: "x" }, remoteAddress: randomIp() }),
      t.request("POST", "/api/v1/auth/login", {
        body: { email: uniqueEmail(), password: "whatever123" },
        remoteAddress: randomIp(),
      }),
    ]);
    for (const res of answers) {
      assert.deepEqual(
        Object.keys(res.json)
          .filter((k) => k !== "errors")
          .sort(),
        ["code", "detail", "status", "title", "type"],
      );
      assert.equal(res.json.status, res.status);
      assert.ok(ERROR_CODES.includes(res.json.code), res.json.code);
    }
  });

  test("an unexpected failure answers a bare 500 and is logged", async () => {
    const probe = await testApp();
    try {
      // Break the database under the running app: every query now fails with an unknown error.
      await probe.db.schema.dropTable("sessions").cascade().execute();
      const res = await probe.request("GET", "/api/v1/me", {
        token: `ses_00000000000000000000000000.${"a".repeat(43)}`,
      });
      assert.equal(res.status, 500);
      assert.equal(res.json.code, "internal_error");
      assert.doesNotMatch(res.text, /sessions|relation|SELECT|stack/i, "no internals leak");
      assert.ok(probe.logs.some((l) => l.includes('"level":50') && l.includes("request failed")));
    } finally {
      await probe.close();
    }
  });
});

describe("CSRF (rule 13)", () => {
  test("a cookie-authenticated change from another site is refused, from our own origin allowed", async () => {
    const u = await buildUser(t);
    const crossSite = await t.request("PATCH", "/api/v1/me", {
      cookie: u.token,
      body: { name: "Hacked" },
      headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    });
    assert.equal(crossSite.status, 403);
    assert.equal(crossSite.json.code, "csrf_rejected");
    const originOnly = await t.request("PATCH", "/api/v1/me", {
      cookie: u.token,
      body: { name: "Hacked" },
      headers: { origin: "https://evil.example" },
    });
    assert.equal(originOnly.status, 403);
    const nullOrigin = await t.request("PATCH", "/api/v1/me", {
      cookie: u.token,
      body: { name: "Hacked" },
      headers: { origin: "null" },
    });
    assert.equal(nullOrigin.status, 403);
    const me = await t.request("GET", "/api/v1/me", { token: u.token });
    assert.equal(me.json.user.name, u.name, "nothing changed");

    const sameOrigin = await t.request("PATCH", "/api/v1/me", {
      cookie: u.token,
      body: { name: "Fine" },
      headers: { origin: PUBLIC_URL, "sec-fetch-site": "same-origin" },
    });
    assert.equal(sameOrigin.status, 200, sameOrigin.text);
  });

  test("log-out and revocation from another site are refused too; reads are not affected", async () => {
    const u = await buildUser(t);
    const out = await t.request("POST", "/api/v1/auth/logout", {
      cookie: u.token,
      headers: { "sec-fetch-site": "cross-site" },
    });
    assert.equal(out.status, 403);
    const del = await t.request("DELETE", "/api/v1/me/sessions", {
      cookie: u.token,
      headers: { origin: "https://evil.example" },
    });
    assert.equal(del.status, 403);
    const read = await t.request("GET", "/api/v1/me", {
      cookie: u.token,
      headers: { "sec-fetch-site": "cross-site" },
    });
    assert.equal(read.status, 200);
  });

  test("log-in CSRF: a cross-site log-in form is refused", async () => {
    const u = await buildUser(t);
    const res = await t.request("POST", "/api/v1/auth/login", {
      body: { email: u.email, password: u.password },
      headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    });
    assert.equal(res.status, 403);
  });

  test("Bearer clients are not subject to it (no ambient credential to abuse)", async () => {
    const u = await buildUser(t);
    const res = await t.request("PATCH", "/api/v1/me", {
      token: u.token,
      body: { name: "Script" },
      headers: { origin: "https://tooling.example" },
    });
    assert.equal(res.status, 200);
  });
});

describe("logs", () => {
  test("never contain a password, token or token hash", async () => {
    const probe = await testApp();
    try {
      const email = uniqueEmail("logged");
      const signup = await probe.request("POST", "/api/v1/auth/signup", {
        body: { email, password: PASSWORD, name: "Logged" },
        remoteAddress: randomIp(),
      });
      const token: string = signup.json.session.token;
      await probe.request("GET", "/api/v1/me", { token });
      await probe.request("GET", "/api/v1/me", { cookie: token });
      await probe.request("POST", "/api/v1/auth/login", {
        body: { email, password: "wrong password!" },
        remoteAddress: randomIp(),
      });
      const resetToken = await resetTokenFor(probe, email);
      await probe.request("GET", `/api/v1/nowhere?token=${resetToken}`);
      await probe.request("POST", "/api/v1/auth/password-reset/confirm", {
        body: { token: resetToken, password: "new passphrase here" },
      });
      const rows = await probe.db.selectFrom("sessions").select("secret_hash").execute();

      const all = probe.logs.join("\n");
      assert.ok(probe.logs.length > 5, "requests were logged");
      const secret = token.split(".")[1] ?? "";
      for (const needle of [PASSWORD, "new passphrase here", "wrong password!", secret, resetToken]) {
        assert.ok(!all.includes(needle), `log contains ${needle.slice(0, 8)}…`);
      }
      for (const r of rows) {
        assert.ok(
          !all.includes(r.secret_hash.toString("hex")) && !all.includes(r.secret_hash.toString("base64")),
        );
      }
      assert.ok(all.includes("[redacted]"), "the URL token was masked, not dropped silently");
    } finally {
      await probe.close();
    }
  });

  test("URL redaction covers query tokens and invitation paths", () => {
    assert.equal(
      redactUrl("/api/v1/invitations/lookup?token=abc&x=1"),
      "/api/v1/invitations/lookup?token=[redacted]&x=1",
    );
    assert.equal(redactUrl("/invite/SECRET?x=1"), "/invite/[redacted]?x=1");
    assert.equal(redactUrl("/reset-password?token=abc"), "/reset-password?token=[redacted]");
  });

  test("review 13.7: URL redaction decodes parameter names and path parts (`?%74oken=` was logged whole)", () => {
    assert.equal(
      redactUrl("/api/v1/invitations/lookup?%74oken=abc"),
      "/api/v1/invitations/lookup?%74oken=[redacted]",
    );
    assert.equal(redactUrl("/reset-password?x=1&%54OKEN=abc"), "/reset-password?x=1&%54OKEN=[redacted]");
    assert.equal(redactUrl("/x?invitation%54oken=abc"), "/x?invitation%54oken=[redacted]");
    assert.equal(redactUrl("/x?+token=abc"), "/x?+token=[redacted]");
    assert.equal(
      redactUrl("/x?%E0%A4%A=abc&y=2"),
      "/x?%E0%A4%A=[redacted]&y=2",
      "an undecodable name is masked",
    );
    assert.equal(redactUrl("/%69nvite/SECRET"), "/%69nvite/[redacted]");
    assert.equal(redactUrl("/api/v1/orgs?limit=5"), "/api/v1/orgs?limit=5", "other parameters stay readable");
  });
});

describe("operations routes", () => {
  test("/healthz and /readyz", async () => {
    assert.equal((await t.request("GET", "/healthz")).status, 200);
    const ready = await t.request("GET", "/readyz");
    assert.equal(ready.status, 200, ready.text);
    assert.equal(ready.json.status, "ready");
  });

  test("/readyz is 503 when migrations are behind", async () => {
    const probe = await testApp();
    try {
      await probe.db.deleteFrom("schema_migrations").execute();
      const res = await probe.request("GET", "/readyz");
      assert.equal(res.status, 503);
      assert.equal(res.json.code, "not_ready");
      assert.match(res.json.detail, /rollcall migrate/);
    } finally {
      await probe.close();
    }
  });

  test("/readyz is 503 when the database is unreachable", async () => {
    const probe = await testApp();
    try {
      await probe.database.database.close();
      const res = await probe.request("GET", "/readyz");
      assert.equal(res.status, 503);
      assert.equal(res.json.code, "database_unavailable");
      assert.equal((await probe.request("GET", "/healthz")).status, 200, "the process is still up");
    } finally {
      await probe.app.close();
      await probe.smtp.close();
    }
  });

  test("requests answer 503 with a problem, quickly, when the database cannot be reached", async () => {
    const { buildApp } = await import("../app.js");
    const { openDatabase } = await import("../db/index.js");
    const { createLogger } = await import("./logging.js");
    const { inject } = await import("../../test/helpers/app.js");
    // A PostgreSQL URL where nothing listens: connections are refused at once.
    const database = await openDatabase({ url: "postgres://rollcall@127.0.0.1:9/none" });
    const config = { ...t.config, mail: { ...t.config.mail, worker: false } };
    const app = await buildApp({ config, database, logger: createLogger("fatal") });
    try {
      const started = Date.now();
      const me = await inject(app, config, "GET", "/api/v1/me", {
        token: `ses_00000000000000000000000000.${"a".repeat(43)}`,
      });
      const signup = await inject(app, config, "POST", "/api/v1/auth/signup", {
        body: { email: uniqueEmail(), password: PASSWORD, name: "Down" },
      });
      assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
      for (const res of [me, signup]) {
        assert.equal(res.status, 503, res.text);
        assert.equal(res.json.code, "database_unavailable");
        assert.ok(Number(res.headers["retry-after"]) > 0);
      }
      assert.equal((await inject(app, config, "GET", "/readyz")).status, 503);
    } finally {
      await app.close();
      await database.close();
    }
  });

  test("/metrics counts requests by route pattern and status, and the outbox", async () => {
    const u = await buildUser(t);
    await t.request("GET", "/api/v1/me", { token: u.token });
    await t.request("DELETE", "/api/v1/me/sessions/ses_nothing", { token: u.token });
    const res = await t.request("GET", "/metrics", { token: METRICS_TOKEN });
    assert.equal(res.status, 200);
    assert.match(
      res.text,
      /rollcall_http_requests_total\{method="GET",route="\/api\/v1\/me",status="200"\} \d+/,
    );
    assert.match(
      res.text,
      /rollcall_http_requests_total\{method="DELETE",route="\/api\/v1\/me\/sessions\/:id",status="404"\}/,
    );
    assert.match(res.text, /rollcall_http_request_duration_seconds_bucket/);
    assert.match(res.text, /rollcall_mail_outbox_depth \d+/);
    assert.match(res.text, /rollcall_mail_send_failures_total \d+/);
    assert.doesNotMatch(res.text, /ses_nothing/, "raw ids never become labels");
  });

  test("review 13.2: /metrics answers only the METRICS_TOKEN, compared whole", async () => {
    const u = await buildUser(t);
    for (const authorization of [
      undefined,
      `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
      `Bearer ${METRICS_TOKEN}x`,
      `Basic ${METRICS_TOKEN}`,
      `Bearer ${u.token}`,
    ]) {
      const res = await t.request("GET", "/metrics", authorization ? { headers: { authorization } } : {});
      assert.equal(res.status, 401, authorization);
      assert.equal(res.json.code, "metrics_token_required");
      assert.equal(res.headers["www-authenticate"], 'Bearer realm="metrics"');
      assert.doesNotMatch(res.text, /rollcall_/);
    }
    const ok = await t.request("GET", "/metrics", {
      headers: { authorization: `bearer  ${METRICS_TOKEN} ` },
    });
    assert.equal(ok.status, 200);
    assert.ok(t.logs.length > 0);
    assert.ok(!t.logs.some((line) => line.includes(METRICS_TOKEN)), "the token is never logged");
  });

  test("security headers are set on every answer", async () => {
    const res = await t.request("GET", "/healthz");
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    assert.equal(res.headers["x-frame-options"], "DENY");
    assert.equal(res.headers["cache-control"], "no-store");
  });
});

describe("the route table", () => {
  test("every /api/v1 route declares its permission, and only the listed ones are public", () => {
    // The guard's onRoute hook already refuses a route without a permission at start-up (next
    // test); here the declared table is checked against the public routes of README.md#http-api.
    const api = t.app.routes.filter((r) => r.url.startsWith("/api/v1") && r.method !== "HEAD");
    assert.ok(api.length >= 12, `${api.length} routes`);
    for (const r of api) assert.ok(r.permission, `${r.method} ${r.url} declares no permission`);
    const publicRoutes = api
      .filter((r) => r.permission === "public")
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    assert.deepEqual(publicRoutes, [
      "GET /api/v1/invitations/lookup",
      "GET /api/v1/openapi.json",
      "POST /api/v1/auth/login",
      "POST /api/v1/auth/password-reset",
      "POST /api/v1/auth/password-reset/confirm",
      "POST /api/v1/auth/signup",
      "POST /api/v1/auth/signup/confirm",
    ]);
  });

  test("a route without a permission cannot be registered", async () => {
    const Fastify = (await import("fastify")).default;
    const { registerGuard } = await import("./guard.js");
    const app = Fastify();
    registerGuard(app, t.config, t.database.database, t.app.services.catalogue);
    assert.throws(() => app.get("/api/v1/forgotten", async () => "open"), /declares no permission/);
    await app.close();
  });

  test("the OpenAPI 3.1 document lists every API route", async () => {
    const res = await t.request("GET", "/api/v1/openapi.json");
    assert.equal(res.status, 200);
    assert.equal(res.json.openapi, "3.1.0");
    for (const path of [
      "/api/v1/auth/signup",
      "/api/v1/auth/login",
      "/api/v1/me",
      "/api/v1/me/sessions",
      "/api/v1/me/sessions/{id}",
    ]) {
      assert.ok(res.json.paths[path], `${path} missing from OpenAPI`);
    }
    const signup = res.json.paths["/api/v1/auth/signup"].post;
    assert.ok(signup.requestBody.content["application/json"].schema.properties.email);
    assert.ok(signup.responses["201"]);
    assert.doesNotMatch(res.text, /password_hash|secret_hash/);
  });
});
