// Log-in, password change and password reset: DESIGN rules 10–12 and 14 (sign-up: signup.ts).
// Every change commits together with its audit event and its mail, or not at all.
import { recordAudit } from "../audit/operations.js";
import type { Queryable } from "../db/index.js";
import type { UserRow } from "../db/schema.js";
import { AppError, fieldError } from "../http/errors.js";
import { emailKey } from "../http/rate-limit.js";
import { enqueueMail } from "../mail/outbox.js";
import type { Services } from "../services.js";
import { createSession, type Device, type NewSession, revokeSessions } from "../sessions/operations.js";
import { newSecret, sha256 } from "../tokens.js";
import { burnPasswordCheck, hashPassword, passwordWeakness, verifyPassword } from "./passwords.js";

export const RESET_TOKEN_MINUTES = 60;

export function normalizeEmail(email: string): string {
  return email.trim();
}

export async function findUserByEmail(db: Queryable, email: string): Promise<UserRow | undefined> {
  return db
    .selectFrom("users")
    .selectAll()
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", normalizeEmail(email).toLowerCase()))
    .executeTakeFirst();
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
 * DESIGN rules 10–12. The same answer, after the same work, for an unknown address and a wrong
 * password; failures count per address and per IP; every log-in makes a new session (no fixation).
 */
export async function login(
  services: Services,
  input: { email: string; password: string },
  device: Device,
): Promise<{ user: UserRow; session: NewSession }> {
  const { config, db, limiter } = services;
  const accountKey = `login:account:${emailKey(input.email)}`;
  const ipKey = `login:ip:${device.ip ?? "unknown"}`;
  // Every attempt is counted before the password is checked: guesses sent at the same moment (to
  // one server or to many) must not all pass a check made before any of them was counted.
  await limiter.hit(accountKey, config.rateLimits.loginAccount);
  await limiter.hit(ipKey, config.rateLimits.loginIp);

  const user = await findUserByEmail(db, input.email);
  let ok = false;
  if (user?.password_hash) ok = await verifyPassword(user.password_hash, input.password);
  else await burnPasswordCheck(input.password);
  if (!user || !ok) throw new AppError("invalid_credentials", "The e-mail address or the password is wrong.");
  // Only failures are limited: a success clears the account's window and gives the IP its attempt back.
  await limiter.reset(accountKey);
  await limiter.release(ipKey);
  const session = await createSession(db, user.id, device, config.session);
  return { user, session };
}

/** Changing the password ends every other session (rule 10). */
export async function changePassword(
  services: Services,
  actor: { user: UserRow; sessionId: string; ip: string | null },
  input: { currentPassword: string; newPassword: string },
): Promise<void> {
  const { config, db, limiter } = services;
  const accountKey = `login:account:${emailKey(actor.user.email)}`;
  // Counted before checking, as for log-in; a right password gives the attempt back.
  await limiter.hit(accountKey, config.rateLimits.loginAccount);
  const current = actor.user.password_hash
    ? await verifyPassword(actor.user.password_hash, input.currentPassword)
    : false;
  if (!current) {
    throw fieldError("currentPassword", "The current password is wrong.", "invalid_current_password");
  }
  await limiter.release(accountKey);
  checkPassword("newPassword", input.newPassword, { email: actor.user.email, name: actor.user.name });
  const passwordHash = await hashPassword(input.newPassword);
  await db.transaction().execute(async (tx) => {
    await tx
      .updateTable("users")
      .set({ password_hash: passwordHash, updated_at: new Date() })
      .where("id", "=", actor.user.id)
      .execute();
    await revokeSessions(tx, actor.user.id, actor.sessionId);
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
  const { config, db, limiter } = services;
  await limiter.hit(`reset:account:${emailKey(email)}`, config.rateLimits.passwordResetAccount);
  const queued = await db.transaction().execute(async (tx) => {
    const user = await findUserByEmail(tx, email);
    if (!user) return false;
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
    return true;
  });
  if (queued) services.wakeMail();
}

/**
 * Uses a reset token once: sets the password and ends every session. It does not log in; the
 * person logs in with the new password.
 */
export async function confirmPasswordReset(
  services: Services,
  input: { token: string; password: string },
  device: Device,
): Promise<void> {
  const { db } = services;
  checkPassword("password", input.password, {});
  const passwordHash = await hashPassword(input.password);
  const invalid = () =>
    fieldError(
      "token",
      "This link is invalid, already used or expired; ask for a new one.",
      "invalid_reset_token",
    );
  await db.transaction().execute(async (tx) => {
    const hash = sha256(input.token);
    const found = await tx
      .selectFrom("password_reset_tokens")
      .select("user_id")
      .where("token_hash", "=", hash)
      .where("used_at", "is", null)
      .where("expires_at", ">", new Date())
      .executeTakeFirst();
    if (!found) throw invalid();
    // The account is locked before its token is marked used: two links of one account confirmed
    // at once then wait for each other here, instead of each holding its own token row and
    // waiting for the other's (a deadlock, when marking the account's other links used below).
    const user = await tx
      .selectFrom("users")
      .selectAll()
      .where("id", "=", found.user_id)
      .forNoKeyUpdate()
      .executeTakeFirst();
    if (!user) throw invalid();
    // Read again under the lock: a concurrent confirmation may have used it since.
    const used = await tx
      .updateTable("password_reset_tokens")
      .set({ used_at: new Date() })
      .where("token_hash", "=", hash)
      .where("used_at", "is", null)
      .where("expires_at", ">", new Date())
      .executeTakeFirst();
    if (used.numUpdatedRows === 0n) throw invalid();
    // Checked inside the transaction, against the account: a refusal rolls the token back unused.
    checkPassword("password", input.password, { email: user.email, name: user.name });
    await tx
      .updateTable("users")
      .set({ password_hash: passwordHash, updated_at: new Date() })
      .where("id", "=", user.id)
      .execute();
    // Every other outstanding link for this account dies with this one.
    await tx
      .updateTable("password_reset_tokens")
      .set({ used_at: new Date() })
      .where("user_id", "=", user.id)
      .where("used_at", "is", null)
      .execute();
    await revokeSessions(tx, user.id);
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

export async function updateProfile(
  services: Services,
  actor: { user: UserRow; ip: string | null },
  input: { name?: string | undefined },
): Promise<UserRow> {
  if (input.name === undefined) return actor.user;
  const name = input.name.trim();
  return services.db.transaction().execute(async (tx) => {
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
