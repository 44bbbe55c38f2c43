// The environment, parsed and validated once. Every knob Rollcall has is here, with its default.

export interface RateLimit {
  /** How many events the window allows. */
  max: number;
  /** The window, in seconds. */
  windowSeconds: number;
}

export interface RateLimits {
  loginAccount: RateLimit;
  loginIp: RateLimit;
  signupIp: RateLimit;
  passwordResetAccount: RateLimit;
  invitationsOrg: RateLimit;
  invitationLookupIp: RateLimit;
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
  /** A JSON file extending the role and permission catalogue. */
  rolesFile: string | undefined;
  /** The built web console (index.html and assets/); unset → the one built beside the server. */
  consoleDir: string | undefined;
  logLevel: string;
  trustProxy: boolean;
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
  };
  rateLimits: RateLimits;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

type Env = Record<string, string | undefined>;

const DURATION = /^(\d+)\s*(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

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

  const idleDays = int("SESSION_IDLE_DAYS", 14, 1, 3650);
  const lifetimeDays = int("SESSION_LIFETIME_DAYS", 90, 1, 3650);
  if (idleDays > lifetimeDays) problems.push("SESSION_IDLE_DAYS cannot exceed SESSION_LIFETIME_DAYS");

  const config: Config = {
    port,
    host,
    databaseUrl,
    dataDir: env.DATA_DIR || "./data",
    publicUrl,
    smtpUrl,
    mailFrom: env.MAIL_FROM || "Rollcall <no-reply@localhost>",
    signup: signup === "invite-only" ? "invite-only" : "open",
    rolesFile: env.ROLES_FILE || undefined,
    consoleDir: env.CONSOLE_DIR || undefined,
    logLevel: env.LOG_LEVEL || "info",
    trustProxy: bool("TRUST_PROXY", false),
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
    },
    rateLimits: {
      loginAccount: limit("RATE_LIMIT_LOGIN_ACCOUNT", "10/15m"),
      loginIp: limit("RATE_LIMIT_LOGIN_IP", "100/15m"),
      signupIp: limit("RATE_LIMIT_SIGNUP_IP", "30/1h"),
      passwordResetAccount: limit("RATE_LIMIT_PASSWORD_RESET_ACCOUNT", "5/1h"),
      invitationsOrg: limit("RATE_LIMIT_INVITATIONS_ORG", "200/1h"),
      invitationLookupIp: limit("RATE_LIMIT_INVITATION_LOOKUP_IP", "60/10m"),
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
