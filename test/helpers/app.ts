// testApp(): the whole Rollcall stack on a fresh database, with a real SMTP listener on loopback
// and the logs kept in memory, driven in-process with fastify.inject().
import { Writable } from "node:stream";
import { syncWorkspaceRoles } from "../../src/access/queries.js";
import { type App, type BuildOptions, buildApp } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config.js";
import { type Db, openDatabase } from "../../src/db/index.js";
import { createLogger } from "../../src/http/logging.js";
import { checkerOf } from "./answers.js";
import { type TestDatabase, testDatabase } from "./database.js";
import { type SmtpCapture, startSmtpCapture, urlsIn } from "./smtp.js";

export const PASSWORD = "correct horse battery staple";
export const PUBLIC_URL = "http://rollcall.test";

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever shape the API answers
  json: any;
  text: string;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as `Authorization: Bearer`. */
  token?: string | undefined;
  headers?: Record<string, string>;
  /** Sent as the session cookie instead of a bearer token. */
  cookie?: string;
  /** Sent as the raw body, with the content type in headers. */
  payload?: string;
  remoteAddress?: string;
}

export interface TestApp {
  app: App;
  config: Config;
  db: Db;
  database: TestDatabase;
  smtp: SmtpCapture;
  /** Every log line written so far, raw. */
  logs: string[];
  request(method: string, path: string, options?: RequestOptions): Promise<Answer>;
  /**
   * Another server on the same database, as behind a load balancer: on PostgreSQL with a pool of
   * its own; on PGlite (one process, one database) sharing the connection.
   */
  sibling(): Promise<Sibling>;
  close(): Promise<void>;
}

export interface Sibling {
  app: App;
  request(method: string, path: string, options?: RequestOptions): Promise<Answer>;
  close(): Promise<void>;
}

export async function testApp(
  env: Record<string, string> = {},
  /** Seams of the app a test replaces (how webhook hosts resolve). */
  build: Pick<BuildOptions, "webhookLookup"> = {},
): Promise<TestApp> {
  const database = await testDatabase();
  const smtp = await startSmtpCapture();
  const config = loadConfig({
    PUBLIC_URL,
    SMTP_URL: smtp.url,
    MAIL_POLL_MS: "25",
    MAIL_RETRY_BASE_MS: "25",
    LOG_LEVEL: "info",
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = await buildApp({
    ...build,
    config,
    database: database.database,
    logger: createLogger(config.logLevel, sink),
  });
  await syncWorkspaceRoles(database.database.db, app.services.catalogue);
  return {
    app,
    config,
    db: database.database.db,
    database,
    smtp,
    logs,
    request: (method, path, options) => inject(app, config, method, path, options),
    async sibling() {
      const own = database.url ? await openDatabase({ url: database.url, poolSize: 4 }) : undefined;
      const other = await buildApp({
        ...build,
        config,
        database: own ?? database.database,
        logger: createLogger(config.logLevel, sink),
      });
      return {
        app: other,
        request: (method, path, options) => inject(other, config, method, path, options),
        async close() {
          await other.close();
          await own?.close();
        },
      };
    },
    async close() {
      await app.close();
      await smtp.close();
      await database.drop();
    },
  };
}

export async function inject(
  app: App,
  config: Config,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) {
    const name = config.publicUrl.startsWith("https:") ? "__Host-rollcall_session" : "rollcall_session";
    headers.cookie = `${name}=${options.cookie}`;
  }
  let payload: string | undefined = options.payload;
  if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await app.fastify.inject({
    method: method as "GET",
    url: path,
    headers,
    ...(payload !== undefined ? { payload } : {}),
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  });
  let json: unknown = null;
  try {
    json = res.body ? JSON.parse(res.body) : null;
  } catch {
    json = null;
  }
  const answer = { status: res.statusCode, json, text: res.body, headers: res.headers };
  // Every answer is as the OpenAPI document says (test/helpers/answers.ts), or the test fails.
  checkerOf(app.fastify).check(method, path, answer);
  return answer;
}

let counter = 0;
/** A unique address for this test run. */
export function uniqueEmail(label = "user"): string {
  counter += 1;
  return `${label}.${process.pid}.${counter}.${Date.now().toString(36)}@example.org`;
}

export interface SignedUp {
  email: string;
  password: string;
  name: string;
  userId: string;
  token: string;
  sessionId: string;
}

/** Signs a new user up through the API (and so makes their organisation). */
export async function buildUser(
  t: Pick<TestApp, "request">,
  overrides: {
    email?: string;
    name?: string;
    password?: string;
    organizationName?: string;
    ip?: string;
  } = {},
): Promise<SignedUp> {
  const email = overrides.email ?? uniqueEmail();
  const name = overrides.name ?? "Test Person";
  const password = overrides.password ?? PASSWORD;
  const res = await t.request("POST", "/api/v1/auth/signup", {
    body: {
      email,
      password,
      name,
      ...(overrides.organizationName ? { organizationName: overrides.organizationName } : {}),
    },
    remoteAddress: overrides.ip ?? randomIp(),
  });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${res.text}`);
  return {
    email,
    password,
    name,
    userId: res.json.user.id,
    token: res.json.session.token,
    sessionId: res.json.session.id,
  };
}

/** A random address in 10.0.0.0/8 so that per-IP limits of one test do not touch another's. */
export function randomIp(): string {
  const b = () => Math.floor(Math.random() * 256);
  return `10.${b()}.${b()}.${b()}`;
}

/** The link a mail carries, beginning with `prefix`. */
export function linkIn(text: string | undefined, prefix: string): string {
  const url = urlsIn(text ?? "").find((u) => u.startsWith(prefix));
  if (!url) throw new Error(`no link starting ${prefix} in:\n${text}`);
  return url;
}

/** The value of a Set-Cookie header for `name`, or undefined. */
export function setCookie(answer: Answer, name: string): string | undefined {
  const raw = answer.headers["set-cookie"];
  const all = Array.isArray(raw) ? raw : raw ? [String(raw)] : [];
  return all.find((c) => c.startsWith(`${name}=`));
}

/** Asks for a password reset for `email` and answers the token of the link that is mailed. */
export async function resetTokenFor(t: Pick<TestApp, "request" | "smtp">, email: string): Promise<string> {
  const res = await t.request("POST", "/api/v1/auth/password-reset", { body: { email } });
  if (res.status !== 202) throw new Error(`password-reset request failed: ${res.status} ${res.text}`);
  const mail = await t.smtp.waitFor((m) => m.to.includes(email) && /password/i.test(m.subject));
  const token = new URL(linkIn(mail.text, `${PUBLIC_URL}/reset-password?token=`)).searchParams.get("token");
  if (!token) throw new Error("the reset link carries no token");
  return token;
}
