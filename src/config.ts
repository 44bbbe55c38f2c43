// The environment, parsed and validated once. Every knob Rollcall has is here, with its default.
import { isIP } from "node:net";

export interface RateLimit {
  /** How many events the window allows. */
  max: number;
  /** The window, in seconds. */
  windowSeconds: number;
}

export interface RateLimits {
  /** Failed log-ins per account from one client (accounts/throttle.ts). */
  loginAccount: RateLimit;
  /** Failed log-ins per account from every client together; past it, only known clients may try. */
  loginAccountTotal: RateLimit;
  loginIp: RateLimit;
  signupIp: RateLimit;
  passwordResetAccount: RateLimit;
  passwordResetConfirmIp: RateLimit;
  invitationsOrg: RateLimit;
  /** Invitation mails (created or resent) to one address, whatever the organisation. */
  invitationMailsRecipient: RateLimit;
  /** Sign-up mails ("account exists", confirmation links) per address; past it they are left out. */
  signupMailsRecipient: RateLimit;
  invitationLookupIp: RateLimit;
  /** Organisations one user creates through POST /orgs (sign-up's own is bounded per IP). */
  orgsUser: RateLimit;
  searchUser: RateLimit;
}

export interface Config {
  port: number;
  host: string;
  /** `postgres://…`; unset → embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  publicUrl: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  signup: "open" | "invite-only";
  /**
   * `email`: a sign-up answers 202 and mails the address; the account is made by the mailed link,
   * so sign-up tells nobody which addresses have accounts. `off`: the documented 201 with a session.
   */
  signupConfirm: "off" | "email";
  /** A JSON file extending the role and permission catalogue. */
  rolesFile: string | undefined;
  /** The built web console (index.html and assets/); unset → the one built beside the server. */
  consoleDir: string | undefined;
  logLevel: string;
  /** Whose `X-Forwarded-For` entries to believe; `false`: none, the client is the socket's peer. */
  trustProxy: TrustProxy;
  /** The bearer token `/metrics` asks for; unset → `/metrics` is not served. */
  metricsToken: string | undefined;
  bodyLimitBytes: number;
  session: { idleSeconds: number; absoluteSeconds: number };
  mail: {
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    pollMs: number;
    /** How long a worker's claim on a mail keeps other workers away (see mail/worker.ts). */
    leaseMs: number;
    worker: boolean;
    /** Sent and failed mail is deleted this many days after it was written. */
    retentionDays: number;
  };
  events: {
    /** The feed and the streams resume from a cursor this many days old at most (docs/events.md). */
    retentionDays: number;
    /** The floor under LISTEN/NOTIFY: readers look again at least this often. */
    pollMs: number;
    /** A stream sends a comment line at least this often. */
    heartbeatMs: number;
    /** A stream whose reader has not taken a batch for this long is cut off (it resumes from its cursor). */
    stallMs: number;
  };
  webhooks: {
    /** `WEBHOOK_ALLOW_HTTP`: endpoints may be http://, not only https://. */
    allowHttp: boolean;
    /** `WEBHOOK_ALLOW_PRIVATE`: endpoints may be loopback, private, link-local… addresses. */
    allowPrivate: boolean;
    /** Multiplies the retry waits (webhooks/schedule.ts); tests make it small. */
    retryScale: number;
    /** One deadline per attempt: connect, send, answer. */
    timeoutMs: number;
    /** How long a worker's claim on a delivery keeps other workers away (see webhooks/worker.ts). */
    leaseMs: number;
  };
  replica: {
    /**
     * How long a replica client may answer from memory without renewing (docs/replica.md): also
     * the longest a change that takes access away waits for a client that has gone quiet.
     */
    leaseMs: number;
  };
  rateLimits: RateLimits;
}

/**
 * `hops`: the last N entries of `X-Forwarded-For` were added by proxies of ours (only right when
 * nothing can reach the server except through them); `addresses`: the proxies' own addresses or
 * CIDR ranges (or proxy-addr's `loopback`, `linklocal`, `uniquelocal`), believed only when the
 * request comes from one of them.
 */
export type TrustProxy = false | { hops: number } | { addresses: string[] };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

type Env = Record<string, string | undefined>;

const DURATION = /^(\d+)\s*(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

const NAMED_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);
const MAX_PROXY_HOPS = 10;

/** An IP address, or a CIDR range `address/prefix` with a prefix that fits its family. */
function isAddressOrRange(text: string): boolean {
  const [address = "", prefix, ...rest] = text.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * `TRUST_PROXY`: unset or false → no proxy; a whole number → that many proxy hops; otherwise a
 * comma-separated list of proxy addresses and ranges. `true` (believe every hop) is refused: the
 * client writes the leftmost entries of `X-Forwarded-For` itself and would choose its own IP,
 * escaping every per-IP rate limit. Answers the problem as text when the value is refused.
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy | string {
  const value = raw?.trim() ?? "";
  if (value === "" || ["0", "false", "no", "off"].includes(value.toLowerCase())) return false;
  if (["true", "yes", "on"].includes(value.toLowerCase())) {
    return (
      `TRUST_PROXY=${value} would believe every X-Forwarded-For entry, so any client could choose its own IP; ` +
      'set the number of proxies in front of Rollcall (e.g. "1" for one load balancer) or their addresses ' +
      '(e.g. "10.0.0.0/8" or "192.0.2.10,192.0.2.11")'
    );
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > MAX_PROXY_HOPS) return `TRUST_PROXY must be at most ${MAX_PROXY_HOPS} hops (got "${value}")`;
    return { hops };
  }
  const addresses = value.split(",").map((a) => a.trim());
  const bad = addresses.filter((a) => !NAMED_RANGES.has(a) && !isAddressOrRange(a));
  if (bad.length > 0) {
    return (
      `TRUST_PROXY must be a number of proxy hops or a comma-separated list of proxy addresses or CIDR ranges ` +
      `(not an address: ${bad.map((b) => `"${b}"`).join(", ")})`
    );
  }
  return { addresses };
}

/** Parses `N/5m`-style limits: N events per window. */
export function parseRateLimit(text: string): RateLimit | undefined {
  const [count, window] = text.split("/");
  if (!count || !window || !/^\d+$/.test(count)) return undefined;
  const m = DURATION.exec(window.trim());
  if (!m) return undefined;
  const max = Number(count);
  const windowSeconds = Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
  if (max < 1 || windowSeconds < 1) return undefined;
  return { max, windowSeconds };
}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    if (["1", "true", "yes", "on"].includes(raw.toLowerCase())) return true;
    if (["0", "false", "no", "off"].includes(raw.toLowerCase())) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };
  const decimal = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!/^\s*\d*\.?\d+(e-?\d+)?\s*$/i.test(raw) || !Number.isFinite(n) || n < min || n > max) {
      problems.push(`${name} must be a number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const limit = (name: string, fallback: string): RateLimit => {
    const raw = env[name] || fallback;
    const parsed = parseRateLimit(raw);
    if (!parsed) {
      problems.push(`${name} must look like "10/15m" (count / window in s, m, h or d; got "${raw}")`);
      return parseRateLimit(fallback) as RateLimit;
    }
    return parsed;
  };

  const port = int("PORT", 3000, 0, 65535);
  const host = env.HOST || "127.0.0.1";

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push("DATABASE_URL must start with postgres:// or postgresql://");
  }

  const publicUrl = (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, "");
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("protocol");
  } catch {
    problems.push(`PUBLIC_URL must be an http:// or https:// URL (got "${publicUrl}")`);
  }

  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) problems.push("SMTP_URL must start with smtp:// or smtps://");

  const signup = env.SIGNUP || "open";
  if (signup !== "open" && signup !== "invite-only") {
    problems.push(`SIGNUP must be "open" or "invite-only" (got "${signup}")`);
  }

  const signupConfirm = env.SIGNUP_CONFIRM || "off";
  if (signupConfirm !== "off" && signupConfirm !== "email") {
    problems.push(`SIGNUP_CONFIRM must be "off" or "email" (got "${signupConfirm}")`);
  }

  const idleDays = int("SESSION_IDLE_DAYS", 14, 1, 3650);
  const lifetimeDays = int("SESSION_LIFETIME_DAYS", 90, 1, 3650);
  if (idleDays > lifetimeDays) problems.push("SESSION_IDLE_DAYS cannot exceed SESSION_LIFETIME_DAYS");

  const trustProxyOrProblem = parseTrustProxy(env.TRUST_PROXY);
  if (typeof trustProxyOrProblem === "string") problems.push(trustProxyOrProblem);
  const trustProxy = typeof trustProxyOrProblem === "string" ? false : trustProxyOrProblem;

  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && (metricsToken.length < 16 || /\s/.test(metricsToken))) {
    problems.push(
      "METRICS_TOKEN must be at least 16 characters without spaces (e.g. `openssl rand -hex 32`)",
    );
  }

  const webhookTimeoutMs = int("WEBHOOK_TIMEOUT_MS", 15_000, 100, 60_000);
  // After a server dies mid-post, its deliveries wait out the lease and are posted again. The
  // default outlasts the slowest attempt (DNS, then the post's deadline) with room to spare; a
  // lease shorter than the deadline would let a second worker post a delivery still being posted.
  const webhookLeaseMs = int("WEBHOOK_LEASE_MS", 2 * webhookTimeoutMs + 60_000, 1000, 86_400_000);
  if (webhookLeaseMs <= webhookTimeoutMs) {
    problems.push("WEBHOOK_LEASE_MS must be longer than WEBHOOK_TIMEOUT_MS");
  }

  const config: Config = {
    port,
    host,
    databaseUrl,
    dataDir: env.DATA_DIR || "./data",
    publicUrl,
    smtpUrl,
    mailFrom: env.MAIL_FROM || "Rollcall <no-reply@localhost>",
    signup: signup === "invite-only" ? "invite-only" : "open",
    signupConfirm: signupConfirm === "email" ? "email" : "off",
    rolesFile: env.ROLES_FILE || undefined,
    consoleDir: env.CONSOLE_DIR || undefined,
    logLevel: env.LOG_LEVEL || "info",
    trustProxy,
    metricsToken,
    bodyLimitBytes: int("BODY_LIMIT_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024),
    session: { idleSeconds: idleDays * 86400, absoluteSeconds: lifetimeDays * 86400 },
    mail: {
      // 1 s, 2 s, 4 s … capped at 5 min: twenty attempts span about an hour of SMTP outage.
      maxAttempts: int("MAIL_MAX_ATTEMPTS", 20, 1, 100),
      retryBaseMs: int("MAIL_RETRY_BASE_MS", 1000, 10, 3_600_000),
      retryMaxMs: int("MAIL_RETRY_MAX_MS", 300_000, 10, 86_400_000),
      pollMs: int("MAIL_POLL_MS", 1000, 10, 600_000),
      // A claimed mail is not tried again until its lease runs out: after a worker dies mid-send,
      // that is how long its mail waits. It must outlast the slowest send (the SMTP timeouts in
      // mail/transport.ts allow about 30 s), or a slow send is sent twice; 1 s is for tests.
      leaseMs: int("MAIL_LEASE_MS", 120_000, 1000, 86_400_000),
      worker: bool("MAIL_WORKER", true),
      retentionDays: int("MAIL_RETENTION_DAYS", 90, 1, 3650),
    },
    events: {
      retentionDays: int("EVENTS_RETENTION_DAYS", 30, 1, 3650),
      pollMs: int("EVENTS_POLL_MS", 1000, 10, 60_000),
      heartbeatMs: int("EVENTS_HEARTBEAT_MS", 15_000, 100, 60_000),
      stallMs: int("EVENTS_STALL_MS", 30_000, 100, 600_000),
    },
    webhooks: {
      allowHttp: bool("WEBHOOK_ALLOW_HTTP", false),
      allowPrivate: bool("WEBHOOK_ALLOW_PRIVATE", false),
      retryScale: decimal("WEBHOOK_RETRY_SCALE", 1, 0, 100),
      timeoutMs: webhookTimeoutMs,
      leaseMs: webhookLeaseMs,
    },
    replica: {
      leaseMs: int("REPLICA_LEASE_MS", 2000, 200, 60_000),
    },
    rateLimits: {
      loginAccount: limit("RATE_LIMIT_LOGIN_ACCOUNT", "10/15m"),
      loginAccountTotal: limit("RATE_LIMIT_LOGIN_ACCOUNT_TOTAL", "100/15m"),
      loginIp: limit("RATE_LIMIT_LOGIN_IP", "100/15m"),
      signupIp: limit("RATE_LIMIT_SIGNUP_IP", "30/1h"),
      passwordResetAccount: limit("RATE_LIMIT_PASSWORD_RESET_ACCOUNT", "5/1h"),
      passwordResetConfirmIp: limit("RATE_LIMIT_PASSWORD_RESET_CONFIRM_IP", "30/15m"),
      invitationsOrg: limit("RATE_LIMIT_INVITATIONS_ORG", "200/1h"),
      invitationMailsRecipient: limit("RATE_LIMIT_INVITATION_MAILS_RECIPIENT", "5/1d"),
      signupMailsRecipient: limit("RATE_LIMIT_SIGNUP_MAILS_RECIPIENT", "5/1d"),
      invitationLookupIp: limit("RATE_LIMIT_INVITATION_LOOKUP_IP", "60/10m"),
      orgsUser: limit("RATE_LIMIT_ORGS_USER", "10/1d"),
      searchUser: limit("RATE_LIMIT_SEARCH_USER", "120/1m"),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** True when cookies must be `Secure` and carry the `__Host-` prefix. */
export function isHttps(config: Pick<Config, "publicUrl">): boolean {
  return config.publicUrl.startsWith("https://");
}
