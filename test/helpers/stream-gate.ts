// A TCP proxy on loopback between a replica client and the server that can hold back the event
// streams alone: while blocked, what the server sends on a connection that asked for an event
// stream (GET …/events/stream) is kept, not forwarded — its heartbeats too — while every other
// request (lease renewals, authorize) goes through. Unblocked, what was kept is sent on.

import type { AddressInfo } from "node:net";
import net from "node:net";

export interface StreamGate {
  /** The proxy's URL: give it to the client instead of the server's. */
  url: string;
  block(): void;
  unblock(): void;
  close(): Promise<void>;
}

const STREAM_REQUEST = /^GET [^ ]*\/events\/stream[ ?]/;

export async function startStreamGate(target: string): Promise<StreamGate> {
  const { hostname, port } = new URL(target);
  let blocked = false;
  const flushes = new Set<() => void>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    let stream = false;
    let kept: Buffer[] = [];
    const flush = () => {
      for (const chunk of kept) client.write(chunk);
      kept = [];
    };
    flushes.add(flush);
    client.on("data", (chunk: Buffer) => {
      if (STREAM_REQUEST.test(chunk.toString("latin1", 0, 300))) stream = true;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (stream && blocked) kept.push(chunk);
      else client.write(chunk);
    });
    const end = () => {
      flushes.delete(flush);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    block() {
      blocked = true;
    },
    unblock() {
      blocked = false;
      for (const flush of flushes) flush();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
