// Seeds Rollcall's tables with the data of dataset.ts, by COPY, and logs the measuring user in
// through the API. Seeded people have no password (as accounts made by `rollcall create-owner`
// before their owner sets one): they are never logged in. Every organisation gets one workspace,
// as Rollcall's own sign-up makes.
import pg from "pg";
import type { SmtpCapture } from "../test/helpers/smtp.js";
import { copyRows } from "./copy.js";
import { memberships, organizationCount, orgName, progress, userEmail, userName } from "./dataset.js";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
/** Membership i joined at BASE + i seconds: the member list pages in a real join order. */
const BASE = Date.parse("2026-01-01T00:00:00Z");

/** A deterministic id in Rollcall's shape: prefix, `_`, 26 Crockford base-32 characters. */
function benchId(prefix: string, n: number): string {
  let out = "";
  for (let v = n; v > 0; v = Math.floor(v / 32)) out = ALPHABET[v % 32] + out;
  return `${prefix}_0b${out.padStart(24, "0")}`;
}

export const rollcallUserId = (i: number) => benchId("usr", i);
export const rollcallOrgId = (k: number) => benchId("org", k);
export const rollcallWorkspaceId = (k: number) => benchId("wsp", k);

const at = (seconds: number) => new Date(BASE + seconds * 1000).toISOString();

/** Adds users [from, to) with their organisations, workspaces and memberships. */
export async function seedRollcall(databaseUrl: string, from: number, to: number): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const client = await pool.connect();
  try {
    const firstOrg = from === 0 ? 0 : organizationCount(from);
    const lastOrg = organizationCount(to);
    const orgs = function* () {
      for (let k = firstOrg; k < lastOrg; k++) yield k;
    };
    await copyRows(
      client,
      "organizations",
      ["id", "name", "created_at", "updated_at"],
      (function* () {
        for (const k of orgs()) yield [rollcallOrgId(k), orgName(k), at(k), at(k)];
      })(),
      progress("rollcall organisations", lastOrg - firstOrg),
    );
    await copyRows(
      client,
      "workspaces",
      ["id", "org_id", "name", "created_at", "updated_at"],
      (function* () {
        for (const k of orgs()) yield [rollcallWorkspaceId(k), rollcallOrgId(k), "General", at(k), at(k)];
      })(),
      progress("rollcall workspaces", lastOrg - firstOrg),
    );
    await copyRows(
      client,
      "users",
      ["id", "email", "name", "password_hash", "created_at", "updated_at"],
      (function* () {
        for (let i = from; i < to; i++)
          yield [rollcallUserId(i), userEmail(i), userName(i), null, at(i), at(i)];
      })(),
      progress("rollcall users", to - from),
    );
    await copyRows(
      client,
      "org_memberships",
      ["org_id", "user_id", "role", "created_at"],
      (function* () {
        for (const m of memberships(from, to)) {
          // The big organisation's members joined in user order; small ones' at their user's time.
          yield [rollcallOrgId(m.org), rollcallUserId(m.user), m.role, at(m.user)];
        }
      })(),
      progress("rollcall memberships", (to - from) * 2),
    );
    await client.query("ANALYZE users, organizations, workspaces, org_memberships");
  } finally {
    client.release();
    await pool.end();
  }
}

export interface RollcallLogin {
  token: string;
  userId: string;
  bigOrgId: string;
  bigWorkspaceId: string;
}

export async function api(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads a few known fields of the API's answers
): Promise<any> {
  const res = await fetch(url, {
    method: init.method ?? "GET",
    headers: { ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

/**
 * Signs the measuring user up through the API and makes them an owner of the big organisation
 * (a direct insert: inviting them would need the organisation's owner, who is seeded without a
 * password). Returns their bearer token.
 */
export async function loginRollcall(baseUrl: string, databaseUrl: string): Promise<RollcallLogin> {
  const signup = await api(`${baseUrl}/api/v1/auth/signup`, {
    method: "POST",
    body: {
      email: "bench@example.org",
      password: "a long bench passphrase",
      name: "Bench Owner",
      organizationName: "Bench",
    },
  });
  const userId: string = signup.user.id;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    await pool.query("INSERT INTO org_memberships (org_id, user_id, role) VALUES ($1, $2, 'owner')", [
      rollcallOrgId(0),
      userId,
    ]);
  } finally {
    await pool.end();
  }
  return {
    token: signup.session.token,
    userId,
    bigOrgId: rollcallOrgId(0),
    bigWorkspaceId: rollcallWorkspaceId(0),
  };
}

/** The request shapes autocannon replays against Rollcall. */
export function rollcallRequests(baseUrl: string, login: RollcallLogin) {
  const auth = { authorization: `Bearer ${login.token}` };
  return {
    session: { url: `${baseUrl}/api/v1/me`, headers: auth },
    permission: {
      url: `${baseUrl}/api/v1/workspaces/${login.bigWorkspaceId}/authorize`,
      method: "POST" as const,
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ permission: "flows.write" }),
    },
    members: { url: `${baseUrl}/api/v1/orgs/${login.bigOrgId}/members?limit=50`, headers: auth },
  };
}

/** A W5 invitee: signed up (and so logged in) before the timed pair. */
export interface RollcallInvitee {
  email: string;
  token: string;
}

export async function signUpRollcallInvitee(baseUrl: string, n: number): Promise<RollcallInvitee> {
  const email = `invitee${n}@bench.example`;
  const signup = await api(`${baseUrl}/api/v1/auth/signup`, {
    method: "POST",
    body: { email, password: "a long bench passphrase", name: `Invitee ${n}`, organizationName: "Own" },
  });
  return { email, token: signup.session.token };
}

/**
 * W5, one pair: the owner invites the invitee's address to the big organisation as a member
 * (Rollcall writes the invitation, its audit event and the e-mail to the outbox in one
 * transaction), then the invitee accepts with the token from that e-mail, received by the
 * bench's SMTP listener. Waiting for the mail is the invitee's mailbox, not the API: it is not
 * part of the measured time. Returns the milliseconds of the two API calls.
 */
export async function rollcallInvitationPair(
  baseUrl: string,
  login: RollcallLogin,
  invitee: RollcallInvitee,
  mailbox: SmtpCapture,
): Promise<number> {
  const started = performance.now();
  const created = await api(`${baseUrl}/api/v1/orgs/${login.bigOrgId}/invitations`, {
    method: "POST",
    headers: { authorization: `Bearer ${login.token}` },
    body: { delivery: "email", email: invitee.email, role: "member" },
  });
  const invited = performance.now() - started;
  const mail = await mailbox.waitFor((m) => m.envelopeTo.includes(invitee.email), 10_000);
  const token = /\/invite\/([A-Za-z0-9_-]+)/.exec(mail.text ?? "")?.[1];
  if (!token)
    throw new Error(`no invitation e-mail for ${invitee.email} (invitation ${created.invitation.id})`);
  const accepting = performance.now();
  const accepted = await api(`${baseUrl}/api/v1/invitations/accept`, {
    method: "POST",
    headers: { authorization: `Bearer ${invitee.token}` },
    body: { token },
  });
  if (accepted.organization?.id !== login.bigOrgId || accepted.role !== "member") {
    throw new Error(`accept answered ${JSON.stringify(accepted)}`);
  }
  return invited + (performance.now() - accepting);
}
