// Where a webhook may be sent (docs/webhooks.md#targets); post.ts makes the request.
//
// A webhook URL is chosen by an organisation's admin, and the server posts to it: without care
// that is a server-side request forgery, a way to reach the server's own loopback, the private
// network behind it or the cloud metadata service (169.254.169.254). Three defences, in order:
//
// 1. At registration, `checkWebhookUrl` refuses what is wrong on its face: not https, a user name
//    or password, a fragment, and hosts that are IP literals of a non-public address (including
//    the odd spellings WHATWG URL normalises: `http://2130706433/`, `http://0x7f.1/`, `[::ffff:…]`).
// 2. At each delivery, `resolveTarget` asks DNS once and refuses when ANY address the name has is
//    not public unicast — a name may change what it resolves to after registration.
// 3. `postWebhook` connects to the address that was checked, never asking DNS again, so a name
//    that answers a public address to the check and 127.0.0.1 to the connection (DNS rebinding)
//    still reaches the public one. TLS still checks the certificate against the name.
import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, isIPv4 } from "node:net";
import ipaddr from "ipaddr.js";
import { AppError } from "../core/errors.js";

export interface TargetPolicy {
  /** `WEBHOOK_ALLOW_HTTP`: accept `http:` URLs as well as `https:`. */
  allowHttp: boolean;
  /** `WEBHOOK_ALLOW_PRIVATE`: accept loopback, private, link-local… addresses (development, tests). */
  allowPrivate: boolean;
}

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** `dns.promises.lookup` as resolveTarget calls it; tests inject their own. */
export type LookupAll = (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;

/** The target was refused: `reason` is `url`, or the class of a resolved address (`loopback`, `private`…). */
export class TargetRefused extends Error {
  override readonly name = "TargetRefused";
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The target's name could not be resolved; `code` is the resolver's (`ENOTFOUND`, `EAI_AGAIN`…). */
export class TargetUnresolved extends Error {
  override readonly name = "TargetUnresolved";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// --- Addresses -----------------------------------------------------------------------------------

export interface AddressVerdict {
  /** `unicast` for a public address; otherwise the ipaddr.js range that refuses it (`loopback`…). */
  range: string;
  /** For an IPv6 form that carries an IPv4 address (`ipv4Mapped`, `6to4`…), that form. */
  carrier: string | null;
}

/**
 * The class of an address, as ipaddr.js's `range()` names them. IPv6 forms that carry an IPv4
 * address — mapped `::ffff:a.b.c.d`, translated `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`,
 * 6to4 `2002:aabb:ccdd::`, Teredo, and the deprecated compatible `::a.b.c.d` — are judged by the
 * IPv4 address inside, because that is where a packet to them ends up.
 */
export function classifyAddress(address: string): AddressVerdict {
  if (isIP(address) === 0) return { range: "invalid", carrier: null };
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv4") return { range: parsed.range(), carrier: null };
  const v6 = parsed as ipaddr.IPv6;
  const range = v6.range();
  const carried = embeddedIPv4(v6, range);
  if (carried === null) return { range, carrier: null };
  const refused = carried.map((a) => a.range()).find((r) => r !== "unicast");
  return { range: refused ?? "unicast", carrier: range === "unicast" ? "ipv4Compatible" : range };
}

// The IPv4 addresses an IPv6 address carries, or null when it carries none.
function embeddedIPv4(a: ipaddr.IPv6, range: string): ipaddr.IPv4[] | null {
  const p = a.parts as [number, number, number, number, number, number, number, number];
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  switch (range) {
    case "ipv4Mapped":
    case "rfc6145":
      return [v4(p[6], p[7])];
    case "rfc6052":
      // 64:ff9b::/96 carries it in the last 32 bits. The local-use 64:ff9b:1::/48 (RFC 8215) may
      // place it elsewhere and only ever leads into a local network: it is refused as it is.
      return p[2] === 0 ? [v4(p[6], p[7])] : null;
    case "6to4":
      return [v4(p[1], p[2])];
    case "teredo":
      // 2001:0:<server>:<flags>:<port>:<client, inverted>: both ends must be public.
      return [v4(p[2], p[3]), v4(p[6] ^ 0xffff, p[7] ^ 0xffff)];
    case "unicast":
      // ::a.b.c.d, the deprecated IPv4-compatible form (:: and ::1 have their own ranges).
      return p.slice(0, 6).every((x) => x === 0) ? [v4(p[6], p[7])] : null;
    default:
      return null;
  }
}

const RANGE_NAMES: Record<string, string> = {
  loopback: "a loopback address",
  private: "a private address",
  linkLocal: "a link-local address",
  uniqueLocal: "a unique local (private IPv6) address",
  carrierGradeNat: "a carrier-grade NAT address",
  unspecified: "an unspecified address",
  multicast: "a multicast address",
  broadcast: "the broadcast address",
  reserved: "a reserved address",
  invalid: "an address that cannot be read",
};

function describeRange(range: string): string {
  return RANGE_NAMES[range] ?? "a special-purpose address";
}

// "a private address" or "a private address (in an IPv4-mapped IPv6 address)" — a class, never
// the address: the message reaches an admin who named the host, not the addresses behind it.
function describeVerdict(v: AddressVerdict): string {
  return v.carrier === null ? describeRange(v.range) : `${describeRange(v.range)} (inside an IPv6 address)`;
}

// --- URLs ----------------------------------------------------------------------------------------

// What is wrong with a parsed URL, in a sentence, or null.
function urlProblem(url: URL, policy: TargetPolicy): string | null {
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) {
    return `The URL must be at most ${MAX_WEBHOOK_URL_LENGTH} characters long.`;
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowHttp)) {
    return policy.allowHttp
      ? "The URL must start with https:// or http://."
      : "The URL must start with https://.";
  }
  if (url.username !== "" || url.password !== "") {
    return "The URL must not contain a user name or password (user:password@).";
  }
  if (url.href.includes("#")) return "The URL must not have a #fragment: receivers never see it.";
  if (url.hostname === "") return "The URL must name a host.";
  return null;
}

// The bare address when the URL's host is an IP literal. WHATWG URL has already turned every
// IPv4 spelling (decimal, hex, octal, short forms) into dotted decimal and bracketed IPv6.
function literalAddress(url: URL): string | null {
  const host = url.hostname;
  if (host.startsWith("[") && host.endsWith("]")) return host.slice(1, -1);
  return isIPv4(host) ? host : null;
}

// `localhost` and `*.localhost` are the machine itself (RFC 6761), whatever DNS would say.
function isLocalhostName(host: string): boolean {
  const name = host.replace(/\.$/, "").toLowerCase();
  return name === "localhost" || name.endsWith(".localhost");
}

// Why the host itself, before any DNS, is refused; or null.
function hostProblem(url: URL, policy: TargetPolicy): { reason: string; message: string } | null {
  if (policy.allowPrivate) return null;
  const host = url.hostname;
  if (isLocalhostName(host)) {
    return {
      reason: "loopback",
      message: `${host} is this server itself; webhooks go to public addresses only.`,
    };
  }
  const literal = literalAddress(url);
  if (literal === null) return null;
  const verdict = classifyAddress(literal);
  if (verdict.range === "unicast") return null;
  return {
    reason: verdict.range,
    message: `${host} is ${describeVerdict(verdict)}; webhooks go to public addresses only.`,
  };
}

/**
 * The URL of a webhook as registered, checked on its face: absolute, `https:` (or `http:` when
 * allowed), no user name or password, no fragment, at most 2048 characters, and, when the host is
 * an IP literal, a public address. Store the returned URL's `href`: it is the normalised form.
 * Throws `validation_failed` naming the field `url`.
 */
export function checkWebhookUrl(raw: string, policy: TargetPolicy): URL {
  const refuse = (message: string) => new AppError("validation_failed", message, [{ field: "url", message }]);
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    throw refuse(`The URL must be at most ${MAX_WEBHOOK_URL_LENGTH} characters long.`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse("The URL is not a valid absolute URL, such as https://example.com/webhooks.");
  }
  const problem = urlProblem(url, policy) ?? hostProblem(url, policy)?.message;
  if (problem) throw refuse(problem);
  return url;
}

/**
 * Resolves the URL's host once, with every address it has, and picks the first one to connect
 * to. Refuses (TargetRefused) when the URL breaks the policy or when any address is not public
 * unicast, unless `allowPrivate`; throws TargetUnresolved when the name does not resolve.
 */
export async function resolveTarget(
  url: URL,
  policy: TargetPolicy,
  lookup: LookupAll = dnsLookup,
): Promise<{ url: URL; address: string; family: 4 | 6 }> {
  const problem = urlProblem(url, policy);
  if (problem) throw new TargetRefused("url", problem);
  const refusedHost = hostProblem(url, policy);
  if (refusedHost) throw new TargetRefused(refusedHost.reason, refusedHost.message);

  const host = url.hostname;
  const literal = literalAddress(url);
  let addresses: string[];
  if (literal !== null) {
    addresses = [literal];
  } else {
    let answers: LookupAddress[];
    try {
      answers = await lookup(host, { all: true });
    } catch (error) {
      const code = String((error as NodeJS.ErrnoException).code ?? "ENOTFOUND");
      throw new TargetUnresolved(code, `${host} could not be resolved (${code}).`);
    }
    if (answers.length === 0) throw new TargetUnresolved("ENOTFOUND", `${host} has no address.`);
    addresses = answers.map((a) => a.address);
  }

  for (const address of addresses) {
    const verdict = classifyAddress(address);
    // An unreadable address is refused even when private ones are allowed: nothing to connect to.
    if (verdict.range === "unicast" || (policy.allowPrivate && verdict.range !== "invalid")) continue;
    const what = literal !== null ? `${host} is` : `${host} resolves to`;
    throw new TargetRefused(
      verdict.range,
      `${what} ${describeVerdict(verdict)}; webhooks go to public addresses only.`,
    );
  }
  const address = addresses[0]!;
  return { url, address, family: isIP(address) === 6 ? 6 : 4 };
}
