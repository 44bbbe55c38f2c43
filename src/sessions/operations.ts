// DESIGN rule 10. A session token is `<session id>.<secret>`: the row is found by id and the
// secret's SHA-256 compared in constant time, so neither the token nor anything that could
// stand in for it is stored. Idle timeout counts from last_seen_at, which is written at most once
// a minute; the absolute lifetime counts from creation.
import { sql } from "kysely";
import type { Config } from "../config.js";
import { newId } from "../db/ids.js";
import type { Queryable } from "../db/index.js";
import type { SessionRow, UserRow } from "../db/schema.js";
import { newSecret, SECRET_PATTERN, safeEqual, sha256 } from "../tokens.js";

export type SessionPolicy = Config["session"];

/** How stale last_seen_at may get before a request refreshes it. */
export const LAST_SEEN_INTERVAL_MS = 60_000;

export interface NewSession {
  id: string;
  token: string;
  expiresAt: Date;
}

export interface Device {
  userAgent: string | null;
  ip: string | null;
}

export interface ResolvedSession {
  session: SessionRow & { expiresAt: Date };
  user: UserRow;
}

export function sessionExpiry(
  s: Pick<SessionRow, "last_seen_at" | "absolute_expires_at">,
  policy: SessionPolicy,
): Date {
  const idle = s.last_seen_at.getTime() + policy.idleSeconds * 1000;
  return new Date(Math.min(idle, s.absolute_expires_at.getTime()));
}

export async function createSession(
  db: Queryable,
  userId: string,
  device: Device,
  policy: SessionPolicy,
): Promise<NewSession> {
  const id = newId("ses");
  const secret = newSecret();
  const now = new Date();
  const absolute = new Date(now.getTime() + policy.absoluteSeconds * 1000);
  await db
    .insertInto("sessions")
    .values({
      id,
      user_id: userId,
      secret_hash: sha256(secret),
      created_at: now,
      last_seen_at: now,
      absolute_expires_at: absolute,
      user_agent: device.userAgent?.slice(0, 512) ?? null,
      ip: device.ip?.slice(0, 64) ?? null,
    })
    .execute();
  return {
    id,
    token: `${id}.${secret}`,
    expiresAt: sessionExpiry({ last_seen_at: now, absolute_expires_at: absolute }, policy),
  };
}

function parseToken(token: string): { id: string; secret: string } | null {
  const dot = token.indexOf(".");
  if (dot < 0) return null;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!/^ses_[0-9a-z]{26}$/.test(id) || !SECRET_PATTERN.test(secret)) return null;
  return { id, secret };
}

/** The live session a token names, with its user; null for anything else. */
export async function resolveSession(
  db: Queryable,
  token: string,
  policy: SessionPolicy,
  device: Device,
): Promise<ResolvedSession | null> {
  const parsed = parseToken(token);
  if (!parsed) return null;
  const row = await db
    .selectFrom("sessions as s")
    .innerJoin("users as u", "u.id", "s.user_id")
    .select([
      "s.id",
      "s.user_id",
      "s.secret_hash",
      "s.created_at",
      "s.last_seen_at",
      "s.absolute_expires_at",
      "s.user_agent",
      "s.ip",
      "u.email",
      "u.name",
      "u.password_hash",
      "u.created_at as user_created_at",
      "u.updated_at as user_updated_at",
    ])
    .where("s.id", "=", parsed.id)
    .executeTakeFirst();
  if (!row || !safeEqual(row.secret_hash, sha256(parsed.secret))) return null;
  const now = Date.now();
  let expiresAt = sessionExpiry(row, policy);
  if (expiresAt.getTime() <= now) return null;

  if (now - row.last_seen_at.getTime() >= LAST_SEEN_INTERVAL_MS) {
    // The conditional update keeps concurrent requests from writing more than once a minute.
    const seen = new Date(now);
    await db
      .updateTable("sessions")
      .set({ last_seen_at: seen, ip: device.ip?.slice(0, 64) ?? row.ip })
      .where("id", "=", row.id)
      .where("last_seen_at", "<", new Date(now - LAST_SEEN_INTERVAL_MS))
      .execute();
    row.last_seen_at = seen;
    expiresAt = sessionExpiry(row, policy);
  }
  return {
    session: {
      id: row.id,
      user_id: row.user_id,
      secret_hash: row.secret_hash,
      created_at: row.created_at,
      last_seen_at: row.last_seen_at,
      absolute_expires_at: row.absolute_expires_at,
      user_agent: row.user_agent,
      ip: row.ip,
      expiresAt,
    },
    user: {
      id: row.user_id,
      email: row.email,
      name: row.name,
      password_hash: row.password_hash,
      created_at: row.user_created_at,
      updated_at: row.user_updated_at,
    },
  };
}

export async function listSessions(
  db: Queryable,
  userId: string,
  page: { limit: number; after?: string | undefined },
): Promise<SessionRow[]> {
  let q = db.selectFrom("sessions").selectAll().where("user_id", "=", userId);
  if (page.after) q = q.where("id", "<", page.after);
  return q
    .orderBy("id", "desc")
    .limit(page.limit + 1)
    .execute();
}

/** Ends one of the user's sessions; false when the user has no such session. */
export async function revokeSession(db: Queryable, userId: string, sessionId: string): Promise<boolean> {
  const res = await db
    .deleteFrom("sessions")
    .where("id", "=", sessionId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return res.numDeletedRows > 0n;
}

/** Ends every session of the user, or every one but `exceptId`. */
export async function revokeSessions(db: Queryable, userId: string, exceptId?: string): Promise<number> {
  let q = db.deleteFrom("sessions").where("user_id", "=", userId);
  if (exceptId) q = q.where("id", "<>", exceptId);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows);
}

export async function pruneExpiredSessions(db: Queryable, policy: SessionPolicy): Promise<number> {
  const res = await db
    .deleteFrom("sessions")
    .where((eb) =>
      eb.or([
        eb("absolute_expires_at", "<=", sql<Date>`now()`),
        eb("last_seen_at", "<=", sql<Date>`now() - make_interval(secs => ${policy.idleSeconds})`),
      ]),
    )
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
