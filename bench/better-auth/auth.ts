// The Better Auth configuration the benchmark measures, shared by the server process and the
// migration so that both see the same tables: a `pg` pool, e-mail and password sign-up, the
// organization plugin, configured as a production deployment would be except for the few
// settings below that the benchmark needs, each said why.
import { type BetterAuthOptions, betterAuth } from "better-auth";
import { organization } from "better-auth/plugins";
import pg from "pg";

/** A fixed secret: the benchmark's database is thrown away after each run. */
export const BENCH_SECRET = "rollcall-bench-better-auth-secret-0123456789abcdef";

/** Rollcall's pool size (src/db/index.ts: `max: 10`), so both systems have as many connections. */
export const POOL_SIZE = 10;

export function createPool(databaseUrl: string): pg.Pool {
  return new pg.Pool({
    connectionString: databaseUrl,
    max: POOL_SIZE,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
}

export function betterAuthOptions(pool: pg.Pool, baseURL: string) {
  return {
    database: pool,
    baseURL,
    secret: BENCH_SECRET,
    emailAndPassword: { enabled: true },
    session: {
      // No cookie cache: every get-session (and every organization call) reads the session from
      // the database, as Rollcall does, so a revoked session or a removed member stops working at
      // the very next request. This is Better Auth's default; it is spelled out because with the
      // cache on, a session would be trusted from the signed cookie for its max age without a
      // query, which is a different promise from Rollcall's.
      cookieCache: { enabled: false },
    },
    // The load generator is one IP making many requests; the limits are not what is measured
    // (Rollcall's are raised as far for the same reason).
    rateLimit: { enabled: false },
    // Offline machine, and nothing should leave it while measuring.
    telemetry: { enabled: false },
    // Errors only: nothing is logged per request.
    logger: { level: "error" },
    plugins: [
      organization({
        // The default limit is 100 members per organisation; the big organisation has up to a
        // million. Rollcall has no such limit.
        membershipLimit: 10_000_000,
        // Better Auth sends no mail of its own: the application does it in this callback. The
        // benchmark sends none (Rollcall's side only queues a mail row in its transaction, which
        // a separate worker delivers), so this does nothing.
        sendInvitationEmail: async () => {},
      }),
    ],
  } satisfies BetterAuthOptions;
}

export function createAuth(pool: pg.Pool, baseURL: string) {
  return betterAuth(betterAuthOptions(pool, baseURL));
}
