// Password guesses (docs/rules.md#rule-12), limited so that a stranger cannot lock a person out.
//
// Every guess is counted before the password is checked (guesses sent together, to one server or
// to many, must not all pass a check made before any was counted), under three keys:
//
// - the account *from this client* (RATE_LIMIT_LOGIN_ACCOUNT, 10 per 15 minutes): a stranger who
//   types wrong passwords for someone's address shuts out only themselves;
// - the client (RATE_LIMIT_LOGIN_IP): one client trying many addresses;
// - the account from every client together (RATE_LIMIT_LOGIN_ACCOUNT_TOTAL, 100 per 15 minutes,
//   the ceiling NIST SP 800-63B §5.2.2 allows): a guesser spread over many addresses. Past it, only
//   a client the account has a session from may still try — so a botnet stops, and the owner at
//   her usual address still gets in.
//
// The account is named by a hash of its canonical address, whether or not it has an account: the
// answers are the same for both (rule 11).

import { emailKey, tooMany } from "../core/rate-limit.js";
import type { Queryable } from "../db/index.js";
import type { Services } from "../services.js";

export interface GuessKeys {
  accountClient: string;
  client: string;
  account: string;
}

/**
 * Counts one password guess for `email` from `ip`, and throws 429 when a limit is passed. Answers
 * the keys to hand to `forgiveGuess` when the guess turns out right.
 */
export async function countGuess(
  services: Pick<Services, "config" | "limiter">,
  email: string,
  ip: string | null,
  knownClient: () => Promise<boolean>,
): Promise<GuessKeys> {
  const { config, limiter } = services;
  const account = emailKey(email);
  const client = ip ?? "unknown";
  const keys = {
    accountClient: `login:account:${account}:ip:${client}`,
    client: `login:ip:${client}`,
    account: `login:account:${account}`,
  };
  await limiter.hit(keys.accountClient, config.rateLimits.loginAccount);
  await limiter.hit(keys.client, config.rateLimits.loginIp);
  const total = await limiter.tally(keys.account, config.rateLimits.loginAccountTotal);
  if (total.over && !(await knownClient())) throw tooMany(total.retryAfter);
  return keys;
}

/**
 * A right guess: the account starts afresh from this client, and the client and the account's total
 * get this attempt back (the total is not cleared: the owner logging in must not hand a guesser
 * elsewhere a fresh hundred).
 */
export async function forgiveGuess(services: Pick<Services, "limiter">, keys: GuessKeys): Promise<void> {
  await services.limiter.reset(keys.accountClient);
  await services.limiter.release(keys.client);
  await services.limiter.release(keys.account);
}

/** Whether `userId` has a live session that was made from `ip` (a client the account knows). */
export async function hasSessionFrom(db: Queryable, userId: string, ip: string | null): Promise<boolean> {
  if (ip === null) return false;
  const row = await db
    .selectFrom("sessions")
    .select("id")
    .where("user_id", "=", userId)
    .where("ip", "=", ip.slice(0, 64))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
