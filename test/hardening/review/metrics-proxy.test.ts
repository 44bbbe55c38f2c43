// Review 13, findings 2 and 3, from outside: who the server believes the client is behind a proxy,
// and who may read /metrics.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildUser, PASSWORD, type TestApp, testApp, uniqueEmail } from "../../helpers/app.js";
import { rollcall } from "../../helpers/cli.js";

/** What an appending proxy at 10.0.0.5 sends for a client at 192.0.2.55 that forged its own entry. */
function throughProxy(forged: string, client = "192.0.2.55") {
  return { remoteAddress: "10.0.0.5", headers: { "x-forwarded-for": `${forged}, ${client}` } };
}

async function signup(t: TestApp, via: { remoteAddress: string; headers: Record<string, string> }) {
  return t.request("POST", "/api/v1/auth/signup", {
    body: { email: uniqueEmail("proxied"), password: PASSWORD, name: "Proxied" },
    ...via,
  });
}

/** The IP the server recorded for a session, as its owner sees it. */
async function sessionIp(t: TestApp, token: string): Promise<string> {
  const res = await t.request("GET", "/api/v1/me/sessions", { token });
  assert.equal(res.status, 200, res.text);
  return res.json.items.find((s: { current: boolean }) => s.current).ip;
}

for (const [label, trustProxy] of [
  ["one proxy hop (TRUST_PROXY=1)", "1"],
  ["the proxy's range (TRUST_PROXY=10.0.0.0/8)", "10.0.0.0/8"],
] as const) {
  describe(`review 13.3: behind ${label}, the client cannot choose its IP`, () => {
    let t: TestApp;
    before(async () => {
      t = await testApp({
        TRUST_PROXY: trustProxy,
        RATE_LIMIT_SIGNUP_IP: "2/1h",
        RATE_LIMIT_LOGIN_IP: "2/15m",
      });
    });
    after(() => t.close());

    test("the IP is the one the proxy saw, not the leftmost entry the client wrote", async () => {
      const res = await signup(t, throughProxy("6.6.6.6"));
      assert.equal(res.status, 201, res.text);
      assert.equal(await sessionIp(t, res.json.session.token), "192.0.2.55");
    });

    test("the per-IP sign-up limit bites though each request forges another leftmost entry", async () => {
      const client = "192.0.2.77";
      const statuses: number[] = [];
      for (let i = 1; i <= 4; i++)
        statuses.push((await signup(t, throughProxy(`6.6.6.${i}`, client))).status);
      assert.deepEqual(statuses, [201, 201, 429, 429]);
      // Another client behind the same proxy is counted on its own.
      assert.equal((await signup(t, throughProxy("6.6.6.9", "192.0.2.78"))).status, 201);
    });

    test("the per-IP log-in limit bites though each request forges another leftmost entry", async () => {
      const statuses: number[] = [];
      for (let i = 1; i <= 4; i++) {
        const res = await t.request("POST", "/api/v1/auth/login", {
          body: { email: uniqueEmail("nobody"), password: "wrong password here" },
          ...throughProxy(`6.6.7.${i}`, "192.0.2.99"),
        });
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [401, 401, 429, 429]);
    });
  });
}

describe("review 13.3: with an address list, a client reaching the server directly is not believed", () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ TRUST_PROXY: "10.0.0.5" });
  });
  after(() => t.close());

  test("X-Forwarded-For from a peer that is not a listed proxy is ignored", async () => {
    const res = await signup(t, { remoteAddress: "203.0.113.9", headers: { "x-forwarded-for": "6.6.6.6" } });
    assert.equal(res.status, 201, res.text);
    assert.equal(await sessionIp(t, res.json.session.token), "203.0.113.9");
  });
});

describe("review 13.3: without TRUST_PROXY, X-Forwarded-For is ignored", () => {
  let t: TestApp;
  before(async () => {
    t = await testApp();
  });
  after(() => t.close());

  test("the IP is the socket's peer", async () => {
    const res = await signup(t, throughProxy("6.6.6.6"));
    assert.equal(res.status, 201, res.text);
    assert.equal(await sessionIp(t, res.json.session.token), "10.0.0.5");
  });
});

test("review 13.3: `rollcall serve` with TRUST_PROXY=true refuses to start and says what to set", async () => {
  const run = await rollcall(["serve"], { TRUST_PROXY: "true", PORT: "0" });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /TRUST_PROXY=true would believe every X-Forwarded-For entry/);
  assert.match(run.stderr, /set the number of proxies/);
});

/** A reset request for `email`, and its mail (if any) sent: what moved rollcall_mail_sent_total. */
async function resetAndDeliver(t: TestApp, email: string): Promise<void> {
  const res = await t.request("POST", "/api/v1/auth/password-reset", { body: { email } });
  assert.equal(res.status, 202);
  await t.app.mailWorker.runUntilIdle(5000);
}

describe("review 13.2: without METRICS_TOKEN, /metrics is not served", () => {
  let t: TestApp;
  before(async () => {
    t = await testApp();
  });
  after(() => t.close());

  test("a stranger cannot watch the mail counter to learn which addresses have accounts", async () => {
    const known = await buildUser(t);
    await resetAndDeliver(t, known.email);
    await resetAndDeliver(t, uniqueEmail("unknown"));
    for (const token of [undefined, known.token]) {
      const res = await t.request("GET", "/metrics", { token });
      assert.equal(res.status, 404, res.text);
      assert.equal(res.json.code, "route_not_found");
      assert.doesNotMatch(res.text, /rollcall_mail_sent_total/);
    }
  });
});

describe("review 13.2: with METRICS_TOKEN, /metrics answers that token only", () => {
  const METRICS_TOKEN = "0123456789abcdef0123456789abcdef";
  let t: TestApp;
  before(async () => {
    t = await testApp({ METRICS_TOKEN });
  });
  after(() => t.close());

  test("anyone else, a logged-in user included, gets 401 and no metrics", async () => {
    const user = await buildUser(t);
    await resetAndDeliver(t, user.email);
    for (const token of [undefined, user.token, "0123456789abcdef0123456789abcdeF"]) {
      const res = await t.request("GET", "/metrics", { token });
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json.code, "metrics_token_required");
      assert.doesNotMatch(res.text, /rollcall_/);
    }
  });

  test("the scraper with the token reads them, and the token is in no log", async () => {
    const res = await t.request("GET", "/metrics", { token: METRICS_TOKEN });
    assert.equal(res.status, 200);
    assert.match(res.text, /^rollcall_mail_sent_total \d+/m);
    assert.ok(!t.logs.some((line) => line.includes(METRICS_TOKEN)), "the token is never logged");
  });
});
