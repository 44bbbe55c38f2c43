// Log-in, password change and password reset: rules 10–12 and 14, docs/rules.md (sign-up: signup.ts).
// Every change commits together with its audit event and its mail, or not at all.
import { type Actor, recordAudit } from "../audit/operations.js";
import { AppError, fieldError } from "../core/errors.js";
import { emailKey } from "../core/rate-limit.js";
import type { Queryable, Tx } from "../db/index.js";
import type { UserRow } from "../db/schema.js";
import { transact } from "../db/transaction.js";
import { canonicalEmail } from "../email.js";
import { refuseLinkInName } from "../mail/names.js";
import { enqueueMail } from "../mail/outbox.js";
import type { Services } from "../services.js";
import { createSession, type Device, type NewSession, revokeSessions } from "../sessions/operations.js";
import { newSecret, sha256 } from "../tokens.js";
import { burnPasswordCheck, hashPassword, passwordWeakness, verifyPassword } from "./passwords.js";
import { countGuess, forgiveGuess, hasSessionFrom } from "./throttle.js";

export const RESET_TOKEN_MINUTES = 60;

/** The canonical address (src/email.ts) to store for `raw`; 400 naming `field` when it has none. */
export function addressOf(raw: string, field = "email"): string {
  const email = canonicalEmail(raw);
  if (email === undefined) throw fieldError(field, "must be an e-mail address");
  return email;
}

/** The account of `email`, in any spelling: users.email holds the canonical form, compared by equality. */
export async function findUserByEmail(db: Queryable, email: string): Promise<UserRow | undefined> {
  const canonical = canonicalEmail(email);
  if (canonical === undefined) return undefined;
  return db.selectFrom("users").selectAll().where("email", "=", canonical).executeTakeFirst();
}

export function checkPassword(
  field: string,
  password: string,
  context: { email?: string; name?: string },
): void {
  const weakness = passwordWeakness(password, context);
  if (weakness) {
    const code = weakness.includes("common") ? "password_too_common" : "validation_failed";
    throw fieldError(field, `The password ${weakness}.`, code);
  }
}

export function resetUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/reset-password?token=${encodeURIComponent(token)}`;
}

/**
 * Rules 10–12 (docs/rules.md). The same answer, after the same work, for an unknown address and a wrong
 * password; failures count per address and per IP; every log-in makes a new session (no fixation).
 */
export async function login(
  services: Services,
  input: { email: string; password: string },
  device: Device,
): Promise<{ user: UserRow; session: NewSession }> {
  const { config, db } = services;
  // Found before counting, so that a client the account knows can be told apart; the same work
  // for an unknown address (rule 11).
  const user = await findUserByEmail(db, input.email);
  const keys = await countGuess(services, input.email, device.ip, () =>
    user ? hasSessionFrom(db, user.id, device.ip) : Promise.resolve(false),
  );
  let ok = false;
  if (user?.password_hash) ok = await verifyPassword(user.password_hash, input.password);
  else await burnPasswordCheck(input.password);
  if (!user || !ok) throw new AppError("invalid_credentials", "The e-mail address or the password is wrong.");
  // Only failures are limited (accounts/throttle.ts).
  await forgiveGuess(services, keys);
  const session = await createSession(db, user.id, device, config.session);
  return { user, session };
}

/** Changing the password ends every other session (rule 10). */
export async function changePassword(
  services: Services,
  actor: { user: UserRow; sessionId: string; ip: string | null },
  input: { currentPassword: string; newPassword: string },
): Promise<void> {
  const { db } = services;
  // Counted as a log-in guess (a stolen session must not guess faster than a log-in could); a
  // right password gives the attempt back.
  const keys = await countGuess(services, actor.user.email, actor.ip, () =>
    hasSessionFrom(db, actor.user.id, actor.ip),
  );
  const current = actor.user.password_hash
    ? await verifyPassword(actor.user.password_hash, input.currentPassword)
    : false;
  if (!current) {
    throw fieldError("currentPassword", "The current password is wrong.", "invalid_current_password");
  }
  await forgiveGuess(services, keys);
  checkPassword("newPassword", input.newPassword, { email: actor.user.email, name: actor.user.name });
  const passwordHash = await hashPassword(input.newPassword);
  await transact(services, async (tx) => {
    // Locked as a reset confirmation locks it, so that the two never interleave.
    await tx.selectFrom("users").select("id").where("id", "=", actor.user.id).forNoKeyUpdate().execute();
    await replacePassword(
      tx,
      { id: actor.user.id, name: actor.user.name, ip: actor.ip },
      actor.user.id,
      passwordHash,
      actor.sessionId,
    );
    await recordAudit(
      tx,
      { id: actor.user.id, name: actor.user.name, ip: actor.ip },
      {
        orgId: null,
        action: "user.password_changed",
        targetType: "user",
        targetId: actor.user.id,
      },
    );
  });
}

/** Makes a single-use reset token for a user, in the caller's transaction; answers the secret. */
export async function issueResetToken(tx: Queryable, userId: string, minutes: number): Promise<string> {
  const secret = newSecret();
  await tx
    .insertInto("password_reset_tokens")
    .values({
      token_hash: sha256(secret),
      user_id: userId,
      expires_at: new Date(Date.now() + minutes * 60_000),
    })
    .execute();
  return secret;
}

/**
 * Always "accepted" (rule 11). At most a few mails per address per hour (rule 12), counted
 * whether or not the address has an account.
 */
export async function requestPasswordReset(services: Services, email: string, device: Device): Promise<void> {
  const { config, limiter } = services;
  await limiter.hit(`reset:account:${emailKey(email)}`, config.rateLimits.passwordResetAccount);
  await transact(services, async (tx) => {
    const user = await findUserByEmail(tx, email);
    if (!user) return;
    const token = await issueResetToken(tx, user.id, RESET_TOKEN_MINUTES);
    await enqueueMail(
      tx,
      {
        to: user.email,
        template: {
          kind: "password_reset",
          name: user.name,
          url: resetUrl(config.publicUrl, token),
          expiresInMinutes: RESET_TOKEN_MINUTES,
        },
      },
      config.publicUrl,
    );
    await recordAudit(
      tx,
      { id: null, name: null, ip: device.ip },
      {
        orgId: null,
        action: "user.password_reset_requested",
        targetType: "user",
        targetId: user.id,
      },
    );
  });
}

/**
 * Uses a reset token once: sets the password and ends every session. It does not log in; the
 * person logs in with the new password. The token is looked up before the password is hashed, and
 * attempts are limited per client: junk tokens cost a lookup, never an argon2 hash, so they cannot
 * keep the hashing pool busy and stall everyone's log-in.
 */
export async function confirmPasswordReset(
  services: Services,
  input: { token: string; password: string },
  device: Device,
): Promise<void> {
  const { config, db, limiter } = services;
  await limiter.hit(`reset-confirm:ip:${device.ip ?? "unknown"}`, config.rateLimits.passwordResetConfirmIp);
  const invalid = () =>
    fieldError(
      "token",
      "This link is invalid, already used or expired; ask for a new one.",
      "invalid_reset_token",
    );
  const hash = sha256(input.token);
  const found = await db
    .selectFrom("password_reset_tokens as t")
    .innerJoin("users as u", "u.id", "t.user_id")
    .select(["u.id", "u.email", "u.name"])
    .where("t.token_hash", "=", hash)
    .where("t.used_at", "is", null)
    .where("t.expires_at", ">", new Date())
    .executeTakeFirst();
  if (!found) throw invalid();
  checkPassword("password", input.password, { email: found.email, name: found.name });
  const passwordHash = await hashPassword(input.password);
  await transact(services, async (tx) => {
    // The account is locked before its token is marked used: two links of one account confirmed
    // at once then wait for each other here, instead of each holding its own token row and
    // waiting for the other's (a deadlock, when marking the account's other links used below).
    const user = await tx
      .selectFrom("users")
      .selectAll()
      .where("id", "=", found.id)
      .forNoKeyUpdate()
      .executeTakeFirst();
    if (!user) throw invalid();
    // Used here, under the lock: a concurrent confirmation (or a password change) may have used it
    // since it was looked up.
    const used = await tx
      .updateTable("password_reset_tokens")
      .set({ used_at: new Date() })
      .where("token_hash", "=", hash)
      .where("user_id", "=", user.id)
      .where("used_at", "is", null)
      .where("expires_at", ">", new Date())
      .executeTakeFirst();
    if (used.numUpdatedRows === 0n) throw invalid();
    await replacePassword(tx, { id: user.id, name: user.name, ip: device.ip }, user.id, passwordHash);
    await recordAudit(
      tx,
      { id: user.id, name: user.name, ip: device.ip },
      {
        orgId: null,
        action: "user.password_reset",
        targetType: "user",
        targetId: user.id,
      },
    );
  });
}

/**
 * Sets a new password hash, voids every outstanding reset link of the account (a link mailed
 * before the change must not undo it), and ends every session but `keepSessionId` (rule 10).
 */
async function replacePassword(
  tx: Tx,
  actor: Actor,
  userId: string,
  passwordHash: string,
  keepSessionId?: string,
): Promise<void> {
  const now = new Date();
  await tx
    .updateTable("users")
    .set({ password_hash: passwordHash, updated_at: now })
    .where("id", "=", userId)
    .execute();
  await tx
    .updateTable("password_reset_tokens")
    .set({ used_at: now })
    .where("user_id", "=", userId)
    .where("used_at", "is", null)
    .execute();
  await revokeSessions(tx, actor, userId, keepSessionId);
}

export async function updateProfile(
  services: Services,
  actor: { user: UserRow; ip: string | null },
  input: { name?: string | undefined },
): Promise<UserRow> {
  if (input.name === undefined) return actor.user;
  const name = input.name.trim();
  refuseLinkInName("name", name);
  return transact(services, async (tx) => {
    const user = await tx
      .updateTable("users")
      .set({ name, updated_at: new Date() })
      .where("id", "=", actor.user.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(
      tx,
      { id: user.id, name: actor.user.name, ip: actor.ip },
      {
        orgId: null,
        action: "user.updated",
        targetType: "user",
        targetId: user.id,
        data: { name },
      },
    );
    return user;
  });
}
