// Sign-up, log-in, password change and password reset: DESIGN rules 10–12 and 14.
// Every change commits together with its audit event and its mail, or not at all.
import type { Actor } from "../audit/operations.js";
import { recordAudit } from "../audit/operations.js";
import { newId } from "../db/ids.js";
import type { Queryable } from "../db/index.js";
import type { UserRow } from "../db/schema.js";
import { AppError, assert, fieldError } from "../http/errors.js";
import { emailKey } from "../http/rate-limit.js";
import { assertInvitedAddress, assertUsable, joinThroughInvitation } from "../invitations/join.js";
import { findByToken } from "../invitations/model.js";
import { enqueueMail } from "../mail/outbox.js";
import { createOrganization } from "../orgs/operations.js";
import type { Services } from "../services.js";
import {
  createSession,
  type Device,
  type NewSession,
  revokeSessions,
  sessionExpiry,
} from "../sessions/operations.js";
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

function checkPassword(field: string, password: string, context: { email?: string; name?: string }): void {
  const weakness = passwordWeakness(password, context);
  if (weakness) {
    const code = weakness.includes("common") ? "password_too_common" : "validation_failed";
    throw fieldError(field, `The password ${weakness}.`, code);
  }
}

export function resetUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/reset-password?token=${encodeURIComponent(token)}`;
}

export interface SignupInput {
  email: string;
  password: string;
  name: string;
  invitationToken?: string | undefined;
  organizationName?: string | undefined;
}

export interface SignupResult {
  user: Pick<UserRow, "id" | "email" | "name" | "created_at">;
  session: NewSession;
}

export interface NewAccount {
  email: string;
  name: string;
  passwordHash: string;
  /** The invitation's token, or its SHA-256 (a confirmed sign-up keeps only that). */
  invitationToken?: string | Buffer | undefined;
  organizationName?: string | null | undefined;
}

/**
 * Makes the account, its audit event, its organisation or its place through the invitation (rule
 * 7), and its first session, inside the caller's transaction. The address must be free (a race
 * ends in the unique violation that `nullOnTakenAddress` turns into "taken").
 */
export async function createAccount(
  tx: Queryable,
  services: Services,
  account: NewAccount,
  device: Device,
): Promise<SignupResult & { joined: boolean }> {
  const { email, name, passwordHash, invitationToken } = account;
  const user = await tx
    .insertInto("users")
    .values({ id: newId("usr"), email, name, password_hash: passwordHash })
    .returningAll()
    .executeTakeFirstOrThrow();
  const actor: Actor = { id: user.id, name: user.name, ip: device.ip };
  await recordAudit(tx, actor, {
    orgId: null,
    action: "user.signed_up",
    targetType: "user",
    targetId: user.id,
  });
  let joined = false;
  if (invitationToken !== undefined) {
    // Rule 7: the inviting organisation, and no personal one.
    const result = await joinThroughInvitation(tx, services, user, invitationToken, device.ip);
    joined = result.changed;
  } else {
    await createOrganization(tx, actor, {
      name: account.organizationName?.trim() || `${name}'s organisation`,
      ownerId: user.id,
    });
  }
  const session = await createSession(tx, user.id, device, services.config.session);
  return { user, session, joined };
}

/** Two sign-ups for one address at once: the loser finds the address taken, as if it had been. */
export function nullOnTakenAddress(err: { code?: string; constraint?: string }): null {
  if (err.code === "23505" && err.constraint === "users_email_key") return null;
  throw err;
}

/** The mail to an address that someone tried to sign up with while it has an account (rule 11). */
export async function mailAccountExists(
  tx: Queryable,
  config: Services["config"],
  existing: Pick<UserRow, "email" | "name">,
): Promise<void> {
  await enqueueMail(
    tx,
    {
      to: existing.email,
      template: {
        kind: "account_exists",
        name: existing.name,
        loginUrl: `${config.publicUrl}/login`,
        resetUrl: `${config.publicUrl}/forgot-password`,
      },
    },
    config.publicUrl,
  );
}

/**
 * DESIGN rules 7 and 11. Without an invitation the new user owns a new organisation with one
 * workspace; with one, they join the inviting organisation in the same transaction as the
 * account, and an unusable invitation fails the sign-up with its 404/410/403 and creates nothing. When the address already has an account the answer looks the same (a user and a
 * session that will never work) and the address's owner gets a mail saying so: the sign-up
 * answer does not reveal who has an account.
 */
/**
 * What every sign-up checks before it looks at the address: the per-IP limit, SIGNUP, the password;
 * answers the account to make, its password hashed.
 */
export async function prepareSignup(
  services: Services,
  input: SignupInput,
  device: Device,
): Promise<NewAccount & { invitationToken: string | undefined }> {
  const { config, limiter } = services;
  await limiter.hit(`signup:ip:${device.ip ?? "unknown"}`, config.rateLimits.signupIp);
  const invitationToken = input.invitationToken;
  // An invited sign-up is allowed on an invite-only server: the invitation is the permission.
  assert(
    config.signup === "open" || invitationToken !== undefined,
    () => new AppError("signup_disabled", "Ask an administrator for an invitation."),
  );
  const email = normalizeEmail(input.email);
  const name = input.name.trim();
  checkPassword("password", input.password, { email, name });
  const passwordHash = await hashPassword(input.password);
  return { email, name, passwordHash, invitationToken, organizationName: input.organizationName?.trim() };
}

/**
 * A sign-up's invitation, checked before the address: a bad token fails the same whether or not
 * the address has an account (rule 11), and a failure creates nothing.
 */
export async function checkSignupInvitation(
  tx: Queryable,
  invitationToken: string | undefined,
  email: string,
): Promise<void> {
  if (invitationToken === undefined) return;
  const invitation = await findByToken(tx, invitationToken);
  assertUsable(invitation);
  assertInvitedAddress(invitation, email);
}

export async function signup(services: Services, input: SignupInput, device: Device): Promise<SignupResult> {
  const { config, db } = services;
  const account = await prepareSignup(services, input, device);
  const { email, name } = account;

  const created = await db
    .transaction()
    .execute(async (tx) => {
      await checkSignupInvitation(tx, account.invitationToken, email);
      // An existing account gets the decoy below; its invitation stays unused.
      if (await findUserByEmail(tx, email)) return null;
      return createAccount(tx, services, account, device);
    })
    .catch(nullOnTakenAddress);
  if (created) {
    if (created.joined) services.wakeMail();
    return { user: created.user, session: created.session };
  }

  await db.transaction().execute(async (tx) => {
    const existing = await findUserByEmail(tx, email);
    if (existing) await mailAccountExists(tx, config, existing);
  });
  services.wakeMail();
  const now = new Date();
  const sessionId = newId("ses");
  return {
    user: { id: newId("usr"), email, name, created_at: now },
    session: {
      id: sessionId,
      token: `${sessionId}.${newSecret()}`,
      expiresAt: sessionExpiry(
        {
          last_seen_at: now,
          absolute_expires_at: new Date(now.getTime() + config.session.absoluteSeconds * 1000),
        },
        config.session,
      ),
    },
  };
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
