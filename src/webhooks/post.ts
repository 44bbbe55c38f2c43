// The one HTTP request that delivers a webhook (docs/webhooks.md), to the address target.ts
// checked. It uses node's own http/https: a webhook needs one POST with no redirects, no pool and
// a pinned address, which node gives through `agent: false` and `lookup`; a client library would
// add following redirects and connection reuse that have to be turned off again.
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";

export interface PostWebhookInput {
  url: URL;
  /** The address resolveTarget checked: the connection goes there, DNS is not asked again. */
  address: string;
  family: 4 | 6;
  headers: Record<string, string>;
  body: string;
  /** One deadline for connecting, sending and reading the answer. */
  timeoutMs?: number;
  /** At most this much of the answer's body is read; then the connection is closed. */
  maxResponseBytes?: number;
}

export interface PostWebhookResult {
  /** The answer's status, or null when none came. A 3xx is a status like any other. */
  status: number | null;
  /** The answer's body as UTF-8, cut at maxResponseBytes. */
  body: string;
  /** Why the request failed or the answer did not finish, in a short sentence; null otherwise. */
  error: string | null;
  durationMs: number;
}

/** A delivery counts as delivered when a 2xx answer came in full (or up to the size limit) in time. */
export function isDelivered(result: PostWebhookResult): boolean {
  return result.error === null && result.status !== null && result.status >= 200 && result.status < 300;
}

// A `lookup` for net.connect that answers the checked address whatever the name: the defence
// against DNS rebinding. Node calls it with `all: true` when it may try several addresses.
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

const ERROR_SENTENCES: Record<string, string> = {
  ECONNREFUSED: "The connection was refused",
  ECONNRESET: "The connection was reset",
  EHOSTUNREACH: "The host is unreachable",
  ENETUNREACH: "The network is unreachable",
  ETIMEDOUT: "The connection timed out",
  EPIPE: "The connection closed while sending",
  HPE_HEADER_OVERFLOW: "The answer's headers are too large",
};

// A short sentence for a request error. Node's own messages name the address connected to,
// which came from DNS; the code says enough and names nothing.
function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string") {
    const sentence =
      ERROR_SENTENCES[code] ??
      (/CERT|TLS|SSL/.test(code)
        ? "The TLS handshake failed"
        : code.startsWith("HPE_")
          ? "The answer is not valid HTTP"
          : "The request failed");
    return `${sentence} (${code}).`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `The request failed: ${message.slice(0, 200)}`;
}

/**
 * POSTs one delivery and reports what came back. Never throws: every failure is in `error`.
 * Redirects are not followed; the socket is never reused (`agent: false`).
 */
export function postWebhook(input: PostWebhookInput): Promise<PostWebhookResult> {
  const { url, address, family, headers, body, timeoutMs = 15_000, maxResponseBytes = 65_536 } = input;
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let status: number | null = null;
    let received = 0;
    const chunks: Buffer[] = [];
    let request: http.ClientRequest | undefined;

    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      // Closes the socket whatever state it is in: a receiver that keeps sending or never
      // answers holds nothing of ours once this delivery is decided.
      request?.destroy();
      resolve({
        status,
        body: Buffer.concat(chunks).toString("utf8"),
        error,
        durationMs: Math.round(performance.now() - started),
      });
    };

    const deadline = setTimeout(() => {
      finish(
        status === null
          ? `No answer within ${timeoutMs} ms.`
          : `The answer did not finish within ${timeoutMs} ms.`,
      );
    }, timeoutMs);

    try {
      const transport = url.protocol === "https:" ? https : url.protocol === "http:" ? http : null;
      if (transport === null) {
        finish(`The URL's protocol ${url.protocol} cannot be posted to.`);
        return;
      }
      const payload = Buffer.from(body, "utf8");
      request = transport.request(url, {
        method: "POST",
        headers: { ...headers, "content-length": String(payload.length) },
        agent: false,
        lookup: pinnedLookup(address, family),
      });
      request.on("error", (error) => finish(describeError(error)));
      request.on("response", (response) => {
        status = response.statusCode ?? null;
        response.on("data", (chunk: Buffer) => {
          const room = maxResponseBytes - received;
          if (chunk.length >= room) {
            chunks.push(chunk.subarray(0, room));
            received = maxResponseBytes;
            finish(null);
            return;
          }
          chunks.push(chunk);
          received += chunk.length;
        });
        response.on("end", () => finish(null));
        response.on("error", (error) => finish(describeError(error)));
        response.on("close", () => {
          finish(response.complete ? null : "The connection closed before the answer finished.");
        });
      });
      request.end(payload);
    } catch (error) {
      // request() throws at once on, for example, a header value with a line break.
      finish(describeError(error));
    }
  });
}
