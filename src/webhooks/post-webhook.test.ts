// One delivery over real HTTP (docs/webhooks.md#delivery, DESIGN §8): posted to the checked
// address without asking DNS again, redirects not followed, at most 64 KB of the answer read,
// one deadline, and never a throw.
import assert from "node:assert/strict";
import dns, { type LookupAddress } from "node:dns";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";
import { isDelivered, postWebhook } from "./post.js";
import { newWebhookSecret, webhookHeaders } from "./signing.js";
import { resolveTarget } from "./target.js";

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

// A receiver on 127.0.0.1 that records what it receives and answers with `handler`.
async function receiver(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = okHandler) {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      // A client that hangs up mid-answer makes the answer fail: expected here.
      res.on("error", () => {});
      handler(req, res);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    connections += 1;
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const close = async () => {
    for (const s of sockets) s.destroy();
    server.close();
  };
  servers.push(close);
  return { port, received, sockets, close, connections: () => connections };
}

function okHandler(_req: http.IncomingMessage, res: http.ServerResponse) {
  res.writeHead(204).end();
}

const servers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of servers) await close();
});

const body = JSON.stringify({
  type: "member.added",
  timestamp: new Date().toISOString(),
  data: { userId: "usr_1" },
});

function delivery(port: number, init: { host?: string; path?: string; secret?: string } = {}) {
  const secret = init.secret ?? newWebhookSecret();
  const url = new URL(`http://${init.host ?? "hooks.example.test"}:${port}${init.path ?? "/in"}`);
  const headers = webhookHeaders([secret], "evt_01jabc", Math.floor(Date.now() / 1000), body);
  return { url, address: "127.0.0.1", family: 4 as const, headers, body, secret };
}

describe("postWebhook", () => {
  test("a 2xx: the receiver gets the POST at the pinned address under the URL's name, and it verifies", async () => {
    const r = await receiver((_req, res) =>
      res.writeHead(200, { "content-type": "text/plain" }).end("thanks"),
    );
    const d = delivery(r.port);
    const result = await postWebhook(d);
    assert.equal(result.status, 200);
    assert.equal(result.body, "thanks");
    assert.equal(result.error, null);
    assert.ok(result.durationMs >= 0 && result.durationMs < 5000);
    assert.equal(isDelivered(result), true);

    assert.equal(r.received.length, 1);
    const got = r.received[0]!;
    assert.equal(got.method, "POST");
    assert.equal(got.url, "/in");
    // hooks.example.test resolves nowhere: the request reached 127.0.0.1 because the checked
    // address was used, and the Host header still names the URL's host.
    assert.equal(got.headers.host, `hooks.example.test:${r.port}`);
    assert.equal(got.headers["content-type"], "application/json");
    assert.equal(got.headers["user-agent"], "Rollcall-Webhooks/1");
    assert.equal(got.headers["content-length"], String(Buffer.byteLength(body)));
    assert.equal(got.body, body);
    const wh = new Webhook(d.secret);
    assert.deepEqual(wh.verify(got.body, got.headers as Record<string, string>), JSON.parse(body));
  });

  test("the socket is not kept alive once the delivery is decided", async () => {
    const r = await receiver();
    const result = await postWebhook(delivery(r.port));
    assert.equal(result.status, 204);
    for (let i = 0; i < 100 && r.sockets.size > 0; i++) await sleep(10);
    assert.equal(r.sockets.size, 0, "the connection was closed");
  });

  test("a 500 and a 410 are statuses, not errors, and not delivered", async () => {
    const r500 = await receiver((_req, res) => res.writeHead(500).end("boom"));
    const failed = await postWebhook(delivery(r500.port));
    assert.deepEqual([failed.status, failed.body, failed.error], [500, "boom", null]);
    assert.equal(isDelivered(failed), false);

    const r410 = await receiver((_req, res) => res.writeHead(410).end());
    const gone = await postWebhook(delivery(r410.port));
    assert.deepEqual([gone.status, gone.error], [410, null]);
    assert.equal(isDelivered(gone), false);
  });

  test("a 302 is not followed: the receiver it points at gets nothing", async () => {
    const elsewhere = await receiver();
    const r = await receiver((_req, res) =>
      res.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/stolen` }).end(),
    );
    const result = await postWebhook(delivery(r.port));
    assert.equal(result.status, 302);
    assert.equal(result.error, null);
    assert.equal(isDelivered(result), false);
    await sleep(100);
    assert.equal(r.received.length, 1);
    assert.equal(elsewhere.received.length, 0);
  });

  test("of a 1 MB answer only the first 64 KB are read, and the connection is closed", async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("x".repeat(1024 * 1024));
    });
    const started = Date.now();
    const result = await postWebhook({ ...delivery(r.port), timeoutMs: 5000 });
    assert.ok(Date.now() - started < 4000, "no hang");
    assert.equal(result.status, 200);
    assert.equal(result.body.length, 65_536);
    assert.equal(result.error, null);
    for (let i = 0; i < 100 && r.sockets.size > 0; i++) await sleep(10);
    assert.equal(r.sockets.size, 0);
  });

  test("an answer that streams forever is cut at the limit too", async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write("y".repeat(1024)), 1);
      res.on("close", () => clearInterval(timer));
    });
    const result = await postWebhook({ ...delivery(r.port), timeoutMs: 5000, maxResponseBytes: 4096 });
    assert.deepEqual([result.status, result.body.length, result.error], [200, 4096, null]);
  });

  test("a receiver that never answers: the deadline is honoured", { timeout: 5000 }, async () => {
    const r = await receiver(() => {});
    const result = await postWebhook({ ...delivery(r.port), timeoutMs: 300 });
    assert.equal(result.status, null);
    assert.equal(result.error, "No answer within 300 ms.");
    assert.ok(result.durationMs >= 290 && result.durationMs < 2000, `${result.durationMs} ms`);
    assert.equal(isDelivered(result), false);
  });

  test("a 2xx whose body never finishes within the deadline is not delivered", {
    timeout: 5000,
  }, async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
    });
    const result = await postWebhook({ ...delivery(r.port), timeoutMs: 300 });
    assert.equal(result.status, 200);
    assert.equal(result.body, "partial");
    assert.equal(result.error, "The answer did not finish within 300 ms.");
    assert.equal(isDelivered(result), false);
  });

  test("a refused connection is an error, not a throw", async () => {
    const r = await receiver();
    await r.close();
    const result = await postWebhook({ ...delivery(r.port), timeoutMs: 2000 });
    assert.equal(result.status, null);
    assert.equal(result.error, "The connection was refused (ECONNREFUSED).");
    // Node's own message names the address; ours does not.
    assert.ok(!result.error?.includes("127.0.0.1"));
  });

  test("headers node will not send are an error, not a throw", async () => {
    const r = await receiver();
    const d = delivery(r.port);
    const result = await postWebhook({ ...d, headers: { ...d.headers, "x-bad": "a\r\nx-injected: 1" } });
    assert.equal(result.status, null);
    assert.match(result.error ?? "", /^The request failed/);
    assert.equal(r.received.length, 0);
  });
});

describe("DNS rebinding", () => {
  test("the name is resolved once; the connection goes to the checked address, not to the rebound loopback", {
    timeout: 10_000,
  }, async () => {
    const loopback = await receiver();
    let calls = 0;
    // Public the first time (the check), loopback every time after (the connection, if it asked).
    const answer = () => {
      calls += 1;
      return calls === 1 ? "93.184.216.34" : "127.0.0.1";
    };
    const lookup = async (_host: string, _options: { all: true }): Promise<LookupAddress[]> => [
      { address: answer(), family: 4 },
    ];
    const url = new URL(`http://rebind.example.test:${loopback.port}/in`);
    const target = await resolveTarget(url, { allowHttp: true, allowPrivate: false }, lookup);
    assert.equal(target.address, "93.184.216.34");

    // Were the request to ask the system resolver, the rebound answer would take it to the
    // loopback receiver: node's connection code calls dns.lookup, replaced here for the test.
    const systemLookup = dns.lookup;
    (dns as { lookup: unknown }).lookup = (
      _host: string,
      options: dns.LookupOptions,
      callback: (error: null, address: string | LookupAddress[], family?: number) => void,
    ) => {
      const address = answer();
      if (options.all) callback(null, [{ address, family: 4 }]);
      else callback(null, address, 4);
    };
    let result: Awaited<ReturnType<typeof postWebhook>>;
    try {
      const headers = webhookHeaders([newWebhookSecret()], "evt_1", Math.floor(Date.now() / 1000), body);
      // 93.184.216.34 is not reachable from the test machine (or answers nothing on this port):
      // the attempt fails within the short deadline instead of reaching the loopback receiver.
      result = await postWebhook({ ...target, headers, body, timeoutMs: 500 });
    } finally {
      (dns as { lookup: unknown }).lookup = systemLookup;
    }
    assert.equal(result.status, null);
    assert.notEqual(result.error, null);
    assert.equal(calls, 1, "DNS asked exactly once");
    await sleep(50);
    assert.equal(loopback.received.length, 0, "the loopback receiver got nothing");
    assert.equal(loopback.connections(), 0, "nor a connection");
  });
});
