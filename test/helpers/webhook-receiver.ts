// A webhook receiver on 127.0.0.1 for the webhook tests: it records every delivery and checks its
// signature with the Standard Webhooks reference library (never Rollcall's own code), against
// each secret it has been given, one at a time.
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

export interface ReceivedDelivery {
  /** The path posted to: several endpoints can share one receiver at different paths. */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body exactly as received. */
  body: string;
  /** For each secret the receiver held: did the delivery verify with it alone? */
  verifiedWith: Map<string, boolean>;
  /** What `Webhook.verify` answered (the parsed body), when some secret verified it. */
  // biome-ignore lint/suspicious/noExplicitAny: the body's shape is what the tests check
  payload: any;
  /** The status answered. */
  status: number;
  at: number;
}

export interface Receiver {
  url: string;
  /** The secrets deliveries are verified with; set after the endpoint is made. */
  secrets: string[];
  received: ReceivedDelivery[];
  /** Resolves with the first delivery `match` accepts, or throws after timeoutMs. */
  waitFor(match: (d: ReceivedDelivery) => boolean, timeoutMs?: number): Promise<ReceivedDelivery>;
  close(): Promise<void>;
}

/**
 * `answer` decides each status, given how many deliveries came before (and may take its time:
 * a slow receiver). Default: 204. `port`: listen there (a receiver coming back where it was);
 * a free one by default.
 */
export async function webhookReceiver(
  answer: (n: number, delivery: ReceivedDelivery) => number | Promise<number> = () => 204,
  options: { port?: number } = {},
): Promise<Receiver> {
  const received: ReceivedDelivery[] = [];
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  const receiver: Receiver = {
    url: "",
    secrets: [],
    received,
    async waitFor(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(match);
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(
            `no matching delivery within ${timeoutMs} ms; received: ${received.map((d) => d.payload?.type ?? d.body.slice(0, 80)).join(", ")}`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 200));
          waiters.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", async () => {
      res.on("error", () => {});
      const verifiedWith = new Map<string, boolean>();
      let payload: unknown;
      for (const secret of receiver.secrets) {
        try {
          payload = new Webhook(secret).verify(body, req.headers as Record<string, string>);
          verifiedWith.set(secret, true);
        } catch {
          verifiedWith.set(secret, false);
        }
      }
      const delivery: ReceivedDelivery = {
        path: req.url ?? "",
        headers: req.headers,
        body,
        verifiedWith,
        payload,
        status: 0,
        at: Date.now(),
      };
      delivery.status = await answer(received.length, delivery);
      received.push(delivery);
      for (const wake of waiters) wake();
      waiters.clear();
      res.writeHead(delivery.status).end();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
