// The one canonical spelling of an e-mail address (review 13.1). Every path that takes an address
// from outside — sign-up, log-in, password reset, invitations, their acceptance, the CLI, rate-limit
// keys, member search — goes through canonicalEmail(); users.email and invitations.email store its
// result, and SQL compares stored values by plain equality. PostgreSQL's lower() is never used on
// an address: it depends on the database's locale (it folds the Kelvin sign to "k" on one server
// and leaves "É" alone on another), so it could disagree with what the application computed.
//
// The form: trim, Unicode NFKC, lower-case (JavaScript's toLowerCase: the locale-independent
// Unicode mapping), NFKC again. Compatibility spellings of ASCII letters thus become the ASCII
// address itself — the Kelvin sign K (U+212A) is "k", the long s ſ (U+017F) is "s", fullwidth
// ｋｉｍ is "kim" — so a look-alike is the same address, not a second account that squats it.
// Letters that are letters of their own stay distinct: Turkish dotless ı is not i, and dotted
// İ lower-cases to i + U+0307, not i. Non-ASCII addresses (SMTPUTF8) are kept, folded the same way.

/** Surrounding white space aside, one address without a display name: `local@domain.tld`. */
const ADDRESS = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:".]+$/;
export const EMAIL_MIN_LENGTH = 3;
export const EMAIL_MAX_LENGTH = 254;

/** The canonical spelling of `raw`, whether or not it is an address (for search terms and keys). */
export function foldEmail(raw: string): string {
  return raw.trim().normalize("NFKC").toLowerCase().normalize("NFKC");
}

/** The canonical spelling of `raw`, or undefined when that spelling is not an address. */
export function canonicalEmail(raw: string): string | undefined {
  const email = foldEmail(raw);
  if (email.length < EMAIL_MIN_LENGTH || email.length > EMAIL_MAX_LENGTH) return undefined;
  return ADDRESS.test(email) ? email : undefined;
}
