// docs/rules.md#rule-10. A session token is `<session id>.<secret>`: only the secret's SHA-256 is stored,
// so neither the token nor anything that could stand in for it is kept. Idle timeout counts from
// last_seen_at, which is written at most once a minute; the absolute lifetime counts from
// creation. Checking a token on each request is resolve.ts.
import { sql } from "kysely";
import { type Actor, recordAudit } from "../audit/operations.js";
import type { Config } from "../config.js";
import { newId } from "../db/ids.js";
import type { Queryable, Tx } from "../db/index.js";
import type { SessionRow } from "../db/schema.js";
import { newSecret, sha256 } from "../tokens.js";

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

/**
 * Ends one of the user's sessions, with its event (`session.revoked`, for the host products that
 * verify sessions: docs/events.md); false when the user has no such session.
 */
export async function revokeSession(
  tx: Tx,
  actor: Actor,
  userId: string,
  sessionId: string,
): Promise<boolean> {
  const res = await tx
    .deleteFrom("sessions")
    .where("id", "=", sessionId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (res.numDeletedRows === 0n) return false;
  await recordAudit(tx, actor, {
    orgId: null,
    action: "session.revoked",
    targetType: "session",
    targetId: sessionId,
    data: { userId },
  });
  return true;
}

/** Ends every session of the user, or every one but `exceptId`, with one `user.sessions_revoked`. */
export async function revokeSessions(
  tx: Tx,
  actor: Actor,
  userId: string,
  exceptId?: string,
): Promise<number> {
  let q = tx.deleteFrom("sessions").where("user_id", "=", userId);
  if (exceptId) q = q.where("id", "<>", exceptId);
  const res = await q.executeTakeFirst();
  const count = Number(res.numDeletedRows);
  if (count > 0) {
    await recordAudit(tx, actor, {
      orgId: null,
      action: "user.sessions_revoked",
      targetType: "user",
      targetId: userId,
      data: { exceptSessionId: exceptId ?? null, count },
    });
  }
  return count;
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
