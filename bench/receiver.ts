// The webhook benchmarks' receiver: a plain node:http server on 127.0.0.1 that answers 204 at once
// and notes when each delivery arrived. Each endpoint posts to a path of its own (/hook/<name>),
// so the receiver knows which secret signed it; every `verifyEvery`-th delivery (and any the
// caller asks for) is checked with the Standard Webhooks reference library, so that what is timed
// are real, signed deliveries and not just requests.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Arrival {
  /** performance.now() when the body had arrived. */
  at: number;
  endpoint: string;
  /** The webhook-id header: the event's id. */
  eventId: string;
  type: string;
}

export interface BenchReceiver {
  url: string;
  /** Registers an endpoint's secret; its deliveries are posted to `${url}/hook/${name}`. */
  secret(name: string, secret: string): void;
  arrivals: Arrival[];
  /** Deliveries checked with standardwebhooks, and how many of them failed the check. */
  verified: number;
  unverified: number;
  /** Resolves once `count` deliveries have arrived in all, or throws after timeoutMs. */
  waitForCount(count: number, timeoutMs: number): Promise<void>;
  /** Resolves with the first arrival (from index `from` on) that `match` accepts. */
  waitFor(match: (a: Arrival) => boolean, timeoutMs: number, from?: number): Promise<Arrival>;
  close(): Promise<void>;
}

export async function startReceiver(verifyEvery = 10): Promise<BenchReceiver> {
  const secrets = new Map<string, Webhook>();
  const arrivals: Arrival[] = [];
  let waiters: (() => void)[] = [];
  const receiver = {
    url: "",
    arrivals,
    verified: 0,
    unverified: 0,
  } as BenchReceiver;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = performance.now();
      res.writeHead(204).end();
      const endpoint = (req.url ?? "").replace(/^\/hook\//, "");
      const body = Buffer.concat(chunks).toString("utf8");
      const eventId = String(req.headers["webhook-id"] ?? "");
      const n = arrivals.length;
      let type = "";
      if (n % verifyEvery === 0) {
        try {
          const webhook = secrets.get(endpoint);
          if (!webhook) throw new Error(`no secret for ${endpoint}`);
          type = (webhook.verify(body, req.headers as Record<string, string>) as { type: string }).type;
          receiver.verified++;
        } catch {
          receiver.unverified++;
        }
      } else {
        type = (JSON.parse(body) as { type: string }).type;
      }
      arrivals.push({ at, endpoint, eventId, type });
      const woken = waiters;
      waiters = [];
      for (const w of woken) w();
    });
  });
  // Connections are not kept open between deliveries (docs/webhooks.md): many short ones.
  server.maxConnections = 1000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const next = (left: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(left, 250));
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  receiver.secret = (name, secret) => secrets.set(name, new Webhook(secret));
  receiver.waitForCount = async (count, timeoutMs) => {
    const deadline = performance.now() + timeoutMs;
    while (arrivals.length < count) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${arrivals.length} of ${count} deliveries within ${timeoutMs} ms`);
      await next(left);
    }
  };
  receiver.waitFor = async (match, timeoutMs, from = 0) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = arrivals.slice(from).find(match);
      if (found) return found;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no matching delivery within ${timeoutMs} ms`);
      await next(left);
    }
  };
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
