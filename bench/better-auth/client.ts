// What the benchmark does to Better Auth over HTTP, as a browser client would: sign up and log in
// the measuring user, the request shapes autocannon replays (W1 session check, W2 permission
// check, W3 member list), a check that each answers what it should, and W5's invitation pair.
// Every POST carries the Origin header a browser sends: Better Auth checks it (CSRF) on requests
// with cookies, and that check stays on, as in production.
import pg from "pg";
import type { LoadRequest } from "../load.js";
import { orgId } from "./seed.js";

export const BENCH_EMAIL = "bench@example.org";
export const BENCH_PASSWORD = "a long bench passphrase";
export const BENCH_NAME = "Bench Owner";
/** The big organisation every seeded user is a member of. */
export const BIG_ORG_ID = orgId(0);

export interface BetterAuthLogin {
  /** The Cookie header value to send. */
  cookie: string;
  userId: string;
  bigOrgId: string;
}

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: Better Auth's JSON answers; the callers check the few fields they read
  body: any;
  cookie: string;
}

async function call(
  baseUrl: string,
  path: string,
  options: { method?: "GET" | "POST"; cookie?: string; body?: unknown } = {},
): Promise<Answer> {
  const method = options.method ?? (options.body === undefined ? "GET" : "POST");
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (method === "POST") {
    headers["content-type"] = "application/json";
    headers.origin = new URL(baseUrl).origin;
  }
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  // Only the name=value part of each Set-Cookie goes back in a Cookie header.
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  return { status: res.status, body: text ? JSON.parse(text) : null, cookie };
}

/** Signs a new user up with e-mail and password; Better Auth signs them in: returns the cookie. */
async function signUp(
  baseUrl: string,
  email: string,
  name: string,
): Promise<{ cookie: string; userId: string }> {
  const res = await call(baseUrl, "/api/auth/sign-up/email", {
    body: { email, password: BENCH_PASSWORD, name },
  });
  if (!res.cookie.includes("session_token=")) throw new Error(`sign-up of ${email} set no session cookie`);
  return { cookie: res.cookie, userId: res.body.user.id };
}

/**
 * Signs the measuring user up through Better Auth's API, makes them an owner of the big
 * organisation and sets it as the session's active organisation. The membership is inserted
 * directly into `member` (Better Auth's add-member is a server-side call with no HTTP route; the
 * seeded organisation has no owner who could invite them), so this needs the database too.
 */
export async function loginBetterAuth(baseUrl: string, databaseUrl: string): Promise<BetterAuthLogin> {
  const { cookie, userId } = await signUp(baseUrl, BENCH_EMAIL, BENCH_NAME);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO "member" ("id", "organizationId", "userId", "role", "createdAt") VALUES ($1, $2, $3, 'owner', now())`,
      [`m-bench-${userId}`, BIG_ORG_ID, userId],
    );
  } finally {
    await client.end();
  }
  await call(baseUrl, "/api/auth/organization/set-active", {
    cookie,
    body: { organizationId: BIG_ORG_ID },
  });
  return { cookie, userId, bigOrgId: BIG_ORG_ID };
}

export interface BetterAuthRequests {
  /** W1: the session check. */
  session: LoadRequest;
  /** W2: a permission check the owner passes. */
  permission: LoadRequest;
  /** W3: the first page of 50 members of the big organisation, with the total. */
  members: LoadRequest;
}

export function betterAuthRequests(baseUrl: string, login: BetterAuthLogin): BetterAuthRequests {
  const post = {
    cookie: login.cookie,
    "content-type": "application/json",
    origin: new URL(baseUrl).origin,
  };
  return {
    session: { url: `${baseUrl}/api/auth/get-session`, headers: { cookie: login.cookie } },
    permission: {
      url: `${baseUrl}/api/auth/organization/has-permission`,
      method: "POST",
      headers: post,
      body: JSON.stringify({ organizationId: login.bigOrgId, permissions: { member: ["create"] } }),
    },
    members: {
      url: `${baseUrl}/api/auth/organization/list-members?limit=50&organizationId=${encodeURIComponent(login.bigOrgId)}`,
      headers: { cookie: login.cookie },
    },
  };
}

async function replay(request: LoadRequest): Promise<Answer> {
  const url = new URL(request.url);
  const headers = request.headers ?? {};
  return call(`${url.protocol}//${url.host}`, `${url.pathname}${url.search}`, {
    method: request.method ?? "GET",
    ...(headers.cookie ? { cookie: headers.cookie } : {}),
    ...(request.body !== undefined ? { body: JSON.parse(request.body) } : {}),
  });
}

/**
 * Sends each request shape once and throws unless it answers as the benchmark expects: W1 the
 * measuring user, W2 success, W3 fifty members and a total of at least `members`.
 */
export async function verifyBetterAuthRequests(
  baseUrl: string,
  login: BetterAuthLogin,
  members: number,
): Promise<{ total: number }> {
  const requests = betterAuthRequests(baseUrl, login);
  const session = (await replay(requests.session)).body;
  if (session?.user?.id !== login.userId || session.user.email !== BENCH_EMAIL) {
    throw new Error(`W1 get-session answered ${JSON.stringify(session)}`);
  }
  if (session.session?.activeOrganizationId !== login.bigOrgId) {
    throw new Error(`W1: the active organisation is ${session.session?.activeOrganizationId}`);
  }
  const permission = (await replay(requests.permission)).body;
  if (permission?.success !== true)
    throw new Error(`W2 has-permission answered ${JSON.stringify(permission)}`);
  const list = (await replay(requests.members)).body;
  const total = Number(list?.total);
  if (!Array.isArray(list?.members) || list.members.length !== 50 || !(total >= members)) {
    throw new Error(
      `W3 list-members answered ${list?.members?.length} members, total ${list?.total} (expected 50, ≥ ${members})`,
    );
  }
  if (
    !list.members.every(
      (m: { organizationId?: string; user?: { email?: string } }) =>
        m.organizationId === login.bigOrgId && m.user?.email,
    )
  ) {
    throw new Error("W3: a listed member is not of the big organisation or has no user");
  }
  return { total };
}

/** A W5 invitee: signed up (and so logged in) before the timed pair, as Rollcall's are. */
export interface BetterAuthInvitee {
  email: string;
  cookie: string;
  userId: string;
}

export async function signUpBetterAuthInvitee(baseUrl: string, n: number): Promise<BetterAuthInvitee> {
  const email = `invitee${n}@bench.example`;
  return { email, ...(await signUp(baseUrl, email, `Invitee ${n}`)) };
}

/**
 * W5, one invitation pair as clients do it through Better Auth's API: the owner invites the
 * invitee's address to the big organisation as a member, and the invitee — an existing user,
 * logged in — accepts it with their own session. Sign-up is not part of the pair on either side:
 * it measures password hashing (scrypt here, argon2id in Rollcall), not invitations.
 */
export async function betterAuthInvitationPair(
  baseUrl: string,
  login: BetterAuthLogin,
  invitee: BetterAuthInvitee,
): Promise<void> {
  const invitation = (
    await call(baseUrl, "/api/auth/organization/invite-member", {
      cookie: login.cookie,
      body: { email: invitee.email, role: "member", organizationId: login.bigOrgId },
    })
  ).body;
  if (typeof invitation?.id !== "string")
    throw new Error(`invite-member answered ${JSON.stringify(invitation)}`);
  const accepted = (
    await call(baseUrl, "/api/auth/organization/accept-invitation", {
      cookie: invitee.cookie,
      body: { invitationId: invitation.id },
    })
  ).body;
  if (accepted?.member?.userId !== invitee.userId || accepted.member.organizationId !== login.bigOrgId) {
    throw new Error(`accept-invitation answered ${JSON.stringify(accepted)}`);
  }
}
