// The lease's requests on their own, against a small HTTP server on loopback that holds each
// request until the test lets it answer: news (a cursor no request on its way says) goes out at
// once even while a renewal is on its way; what is already on its way is not sent twice; at most
// two requests at a time; a lease the server forgot is taken again once, however many requests
// learnt it.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { Lease } from "./lease.js";

interface Held {
  method: string;
  url: string;
  body: { applied?: string };
  answer(status: number, body?: object): void;
}

const held: Held[] = [];
let arrived: (() => void) | null = null;
let url: string;
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let text = "";
  req.on("data", (chunk) => {
    text += chunk;
  });
  req.on("end", () => {
    held.push({
      method: req.method ?? "",
      url: req.url ?? "",
      body: text ? JSON.parse(text) : {},
      answer(status, body) {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(body ? JSON.stringify(body) : undefined);
      },
    });
    arrived?.();
  });
});
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** Waits until `n` requests are held. */
async function holding(n: number): Promise<Held[]> {
  while (held.length < n) await new Promise<void>((resolve) => (arrived = resolve));
  return held.splice(0, n);
}

const granted = (id: string, applied: string) => ({
  id,
  live: true,
  remainingMs: 10_000,
  renewMs: 60_000,
  acknowledged: applied,
});

/** A lease the server granted as `id`, whose client has applied what `client.applied` says. */
async function taken(id: string, applied: string) {
  const client = { applied };
  const lease = new Lease({
    url,
    serviceKey: "svc",
    name: "t",
    applied: () => client.applied,
    onError: () => undefined,
  });
  const opening = lease.open();
  const [open] = await holding(1);
  assert.equal(open?.method, "POST");
  open?.answer(201, granted(id, applied));
  await opening;
  assert.equal(lease.live, true);
  return { lease, client };
}

/** Closes the lease, answering its DELETE once `meanwhile` has run; answers the DELETE. */
async function ended(lease: Lease, meanwhile: () => Promise<void> = async () => undefined): Promise<Held> {
  const closing = lease.close();
  const [end] = await holding(1);
  assert.equal(end?.method, "DELETE");
  await meanwhile();
  end?.answer(204);
  await closing;
  assert.equal(lease.live, false);
  return end as Held;
}

test("news goes out at once beside a renewal on its way; the same cursor is not sent twice; two at most", async () => {
  const { lease, client } = await taken("rls_1", "10.1");

  const tick = lease.acknowledge();
  const [renewal] = await holding(1);
  assert.deepEqual(
    [renewal?.method, renewal?.url, renewal?.body.applied],
    ["PUT", "/api/v1/replica/leases/rls_1", "10.1"],
  );
  // The same cursor again while it is on its way: nothing new is sent.
  const same = lease.acknowledge();
  // An event that takes access away was applied: its acknowledgement does not wait for the renewal.
  client.applied = "11.1";
  const news = lease.acknowledge();
  const [ack] = await holding(1);
  assert.equal(ack?.body.applied, "11.1");
  // A third cursor with two on their way waits for one of them, then says the newest.
  client.applied = "12.1";
  const third = lease.acknowledge();
  client.applied = "13.1";
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(held.length, 0, "no third request at once");
  ack?.answer(200, granted("rls_1", "11.1"));
  await news;
  const [later] = await holding(1);
  assert.equal(later?.body.applied, "13.1");
  renewal?.answer(200, granted("rls_1", "10.1"));
  await Promise.all([tick, same, third]);
  assert.equal(lease.live, true);
  // Closed while a renewal is on its way: its answer, arriving after, does not make it live again.
  await ended(lease, async () => {
    later?.answer(200, granted("rls_1", "13.1"));
    await new Promise((r) => setTimeout(r, 50));
  });
});

test("an answer that the lease is not live ends the replica's answers at once, whatever came before", async () => {
  const { lease, client } = await taken("rls_2", "20.1");
  client.applied = "21.1";
  const renewing = lease.acknowledge();
  (await holding(1))[0]?.answer(200, { ...granted("rls_2", "21.1"), live: false, remainingMs: 0 });
  await renewing;
  assert.equal(lease.live, false);
  await ended(lease);
});

test("a lease the server no longer knows is taken again once, however many requests learnt it", async () => {
  const { lease, client } = await taken("rls_3", "30.1");
  const first = lease.acknowledge();
  client.applied = "31.1";
  const second = lease.acknowledge();
  const both = await holding(2);
  for (const request of both) request.answer(404, { code: "lease_not_found" });
  const [retaken] = await holding(1);
  assert.deepEqual([retaken?.method, retaken?.body.applied], ["POST", "31.1"]);
  retaken?.answer(201, granted("rls_4", "31.1"));
  await Promise.all([first, second]);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(held.length, 0, "taken once");
  assert.equal(lease.live, true);
  assert.equal((await ended(lease)).url, "/api/v1/replica/leases/rls_4");
});
