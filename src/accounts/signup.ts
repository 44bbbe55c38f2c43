// Sign-up: rules 7 and 11 (docs/rules.md). The account, its organisation (or its invitation's place), its
// audit event and its first session commit together, or none of them does. With SIGNUP_CONFIRM=email
// the account is made later, from the mailed link (signup-confirm.ts).
import type { Actor } from "../audit/operations.js";
import { recordAudit } from "../audit/operations.js";
import { AppError, assert } from "../core/errors.js";
import { emailKey } from "../core/rate-limit.js";
import { newId } from "../db/ids.js";
import type { Queryable, Tx } from "../db/index.js";
import type { UserRow } from "../db/schema.js";
import { transact } from "../db/transaction.js";
import { assertInvitedAddress, assertUsable, joinThroughInvitation } from "../invitations/join.js";
import { findByToken } from "../invitations/queries.js";
import { refuseLinkInName } from "../mail/names.js";
import { enqueueMail } from "../mail/outbox.js";
import { createOrganization } from "../orgs/operations.js";
import type { Services } from "../services.js";
import { createSession, type Device, type NewSession, sessionExpiry } from "../sessions/operations.js";
import { newSecret } from "../tokens.js";
import { addressOf, checkPassword, findUserByEmail } from "./operations.js";
import { hashPassword } from "./passwords.js";

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
  tx: Tx,
  services: Services,
  account: NewAccount,
  device: Device,
): Promise<SignupResult> {
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
  if (invitationToken !== undefined) {
    // Rule 7: the inviting organisation, and no personal one.
    await joinThroughInvitation(tx, services, user, invitationToken, device.ip);
  } else {
    await createOrganization(tx, actor, {
      name: account.organizationName?.trim() || `${name}'s organisation`,
      ownerId: user.id,
    });
  }
  const session = await createSession(tx, user.id, device, services.config.session);
  return { user, session };
}

/** Two sign-ups for one address at once: the loser finds the address taken, as if it had been. */
export function nullOnTakenAddress(err: { code?: string; constraint?: string }): null {
  if (err.code === "23505" && err.constraint === "users_email_key") return null;
  throw err;
}

/**
 * Whether a sign-up may mail `email` (the "account exists" notice, or a confirmation link): at
 * most RATE_LIMIT_SIGNUP_MAILS_RECIPIENT such mails per address, whoever asks and from wherever,
 * so that sign-ups cannot be used to fill someone's mailbox. Past it the mail is silently left
 * out: the answer stays the same (rule 11), and the count is kept whether or not the address has an
 * account.
 */
export async function maySignupMail(tx: Queryable, services: Services, email: string): Promise<boolean> {
  const { limiter, config } = services;
  const { over } = await limiter.tally(
    `signup-mails:recipient:${emailKey(email)}`,
    config.rateLimits.signupMailsRecipient,
    tx,
  );
  return !over;
}

/** The mail to an address that someone tried to sign up with while it has an account (rule 11). */
export async function mailAccountExists(
  tx: Tx,
  services: Services,
  existing: Pick<UserRow, "email" | "name">,
): Promise<void> {
  const { config } = services;
  if (!(await maySignupMail(tx, services, existing.email))) return;
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
 * What every sign-up checks before it looks at the address: the names, the per-IP limit, SIGNUP,
 * the password, the invitation; answers the account to make, its password hashed last.
 */
export async function prepareSignup(
  services: Services,
  input: SignupInput,
  device: Device,
): Promise<NewAccount & { invitationToken: string | undefined }> {
  const { config, db, limiter } = services;
  // Both names go into mails (an invitation names its inviter; the organisation names itself).
  refuseLinkInName("name", input.name);
  if (input.organizationName !== undefined) refuseLinkInName("organizationName", input.organizationName);
  await limiter.hit(`signup:ip:${device.ip ?? "unknown"}`, config.rateLimits.signupIp);
  const invitationToken = input.invitationToken;
  // An invited sign-up is allowed on an invite-only server: the invitation is the permission.
  assert(
    config.signup === "open" || invitationToken !== undefined,
    () => new AppError("signup_disabled", "Ask an administrator for an invitation."),
  );
  const email = addressOf(input.email);
  const name = input.name.trim();
  checkPassword("password", input.password, { email, name });
  // A bad invitation token is refused before the password is hashed (hashing is the expensive
  // part); it is checked again in the transaction that uses it.
  await checkSignupInvitation(db, invitationToken, email);
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

/**
 * Rules 7 and 11 (docs/rules.md). Without an invitation the new user owns a new organisation with one
 * workspace; with one, they join the inviting organisation in the same transaction as the
 * account, and an unusable invitation fails the sign-up with its 404/410/403 and creates nothing. When the address already has an account the answer looks the same (a user and a
 * session that will never work) and the address's owner gets a mail saying so: the sign-up
 * answer does not reveal who has an account. The next request does (GET /me answers 401 with
 * that session): the API promises a working session here; SIGNUP_CONFIRM=email closes the leak.
 */
export async function signup(services: Services, input: SignupInput, device: Device): Promise<SignupResult> {
  const { config } = services;
  const account = await prepareSignup(services, input, device);
  const { email, name } = account;

  const created = await transact(services, async (tx) => {
    await checkSignupInvitation(tx, account.invitationToken, email);
    // An existing account gets the decoy below; its invitation stays unused.
    if (await findUserByEmail(tx, email)) return null;
    return createAccount(tx, services, account, device);
  }).catch(nullOnTakenAddress);
  if (created) return { user: created.user, session: created.session };

  await transact(services, async (tx) => {
    const existing = await findUserByEmail(tx, email);
    if (existing) await mailAccountExists(tx, services, existing);
  });
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
