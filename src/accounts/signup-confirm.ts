// SIGNUP_CONFIRM=email (review 13.2): a sign-up makes no account and no session. It answers 202
// whether or not the address has an account, and mails the address: a link that makes the account
// when it has none, the "you already have an account" mail when it has one. Nothing the caller
// can see — the answer, the next request — then tells the two apart; only the mailbox's owner
// learns which it was. The default (SIGNUP_CONFIRM=off) keeps the API's documented 201 with a session.

import { fieldError } from "../core/errors.js";
import type { Queryable } from "../db/index.js";
import { transact } from "../db/transaction.js";
import { enqueueMail } from "../mail/outbox.js";
import type { Services } from "../services.js";
import type { Device } from "../sessions/operations.js";
import { newSecret, SECRET_PATTERN, sha256 } from "../tokens.js";
import { findUserByEmail } from "./operations.js";
import {
  checkSignupInvitation,
  createAccount,
  mailAccountExists,
  maySignupMail,
  nullOnTakenAddress,
  prepareSignup,
  type SignupInput,
  type SignupResult,
} from "./signup.js";

export const SIGNUP_CONFIRM_HOURS = 24;

export function confirmSignupUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/confirm-signup?token=${encodeURIComponent(token)}`;
}

/** The sign-up of SIGNUP_CONFIRM=email: checks what `signup` checks, then mails the address. */
export async function requestSignup(services: Services, input: SignupInput, device: Device): Promise<void> {
  const { config } = services;
  const account = await prepareSignup(services, input, device);
  const { email } = account;
  await transact(services, async (tx) => {
    await checkSignupInvitation(tx, account.invitationToken, email);
    const existing = await findUserByEmail(tx, email);
    if (existing) {
      await mailAccountExists(tx, services, existing);
      return;
    }
    if (!(await maySignupMail(tx, services, email))) return;
    const token = newSecret();
    await tx
      .insertInto("signup_confirmations")
      .values({
        token_hash: sha256(token),
        email,
        name: account.name,
        password_hash: account.passwordHash,
        organization_name: account.organizationName || null,
        invitation_token_hash: account.invitationToken === undefined ? null : sha256(account.invitationToken),
        expires_at: new Date(Date.now() + SIGNUP_CONFIRM_HOURS * 3600_000),
      })
      .execute();
    await enqueueMail(
      tx,
      {
        to: email,
        template: {
          kind: "confirm_signup",
          name: account.name,
          url: confirmSignupUrl(config.publicUrl, token),
          expiresInHours: SIGNUP_CONFIRM_HOURS,
        },
      },
      config.publicUrl,
    );
  });
}

/**
 * The link from the mail: makes the account as `signup` would have (with its organisation, or
 * through its invitation, checked again now) and its first session. Used once; a link whose
 * address has meanwhile got an account (another confirmed sign-up) is spent without effect.
 */
export async function confirmSignup(
  services: Services,
  token: string,
  device: Device,
): Promise<SignupResult> {
  const invalid = () =>
    fieldError(
      "token",
      "This link is invalid, already used or expired; sign up again.",
      "invalid_signup_token",
    );
  if (!SECRET_PATTERN.test(token)) throw invalid();
  const created = await transact(services, async (tx) => {
    const pending = await tx
      .deleteFrom("signup_confirmations")
      .where("token_hash", "=", sha256(token))
      .returningAll()
      .executeTakeFirst();
    if (!pending || pending.expires_at <= new Date()) return null;
    if (await findUserByEmail(tx, pending.email)) return null;
    return createAccount(
      tx,
      services,
      {
        email: pending.email,
        name: pending.name,
        passwordHash: pending.password_hash,
        invitationToken: pending.invitation_token_hash ?? undefined,
        organizationName: pending.organization_name,
      },
      device,
    );
  }).catch(nullOnTakenAddress);
  if (!created) {
    // Spent or expired, the row went with the transaction that found it so; after a race lost to
    // another sign-up of the address, that transaction rolled back: it goes now.
    await services.db.deleteFrom("signup_confirmations").where("token_hash", "=", sha256(token)).execute();
    throw invalid();
  }
  return { user: created.user, session: created.session };
}

/** Housekeeping: sign-ups nobody confirmed in time. */
export async function pruneSignupConfirmations(db: Queryable): Promise<void> {
  await db.deleteFrom("signup_confirmations").where("expires_at", "<=", new Date()).execute();
}
