// Names people type (organisations, workspaces, people) travel into mails sent from the
// operator's domain, to anyone an invitation names. A name that carries a web address turns
// those mails into the sender's phishing ("Billing suspended — verify your card at …"), so:
// names with a web address are refused where they are typed (linkInName), and every name a mail
// shows is quoted and cannot become a link (inertName), whatever was stored before.
import { fieldError } from "../core/errors.js";

// scheme://… in any scheme, and www. anywhere: what every mail client links.
const SCHEME = /[a-z][a-z0-9+.-]*:\/\/\S*/i;
const WWW = /(?<![\p{L}\p{N}])www\d{0,3}\.\S*/iu;
// host.name followed by a path, a port, a query or a fragment: "evil.example/path".
const HOST_WITH_PATH = /(?<![\p{L}\p{N}@-])(?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*[a-z0-9](?:[/?#]|:\d)\S*/iu;
// A bare host.name; refused only when its last label is a top-level domain that clients link
// (below), so "Acme Inc.", "St. John's", "Node.js" or "Dr.Oetker" stay names. After "@" it is an
// e-mail address, which is not a web address (people use theirs as a name).
const BARE_HOST = /(?<![\p{L}\p{N}@.-])(?:[a-z0-9-]+\.)+([a-z]{2,63})(?![\p{L}\p{N}-])/giu;
// The generic top-level domains linkify-it (markdown-it) links without a scheme, and the newer ones
// most seen in phishing; every two-letter domain that is a country code (Intl knows its region).
const GENERIC_TLDS = new Set(
  (
    "com net org edu gov mil int info biz pro name mobi aero asia coop museum jobs travel tel cat " +
    "xxx web shop store app dev page xyz top site online tech club live link click email cloud " +
    "blog news life world today space website digital network support services security bank " +
    "money finance pay help zip mov icu vip work"
  ).split(" "),
);
const regions = new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });

function isLinkedTld(label: string): boolean {
  const tld = label.toLowerCase();
  if (tld.length === 2) return regions.of(tld.toUpperCase()) !== undefined;
  return GENERIC_TLDS.has(tld);
}

/** The web address in `name`, as found, or undefined. */
export function linkInName(name: string): string | undefined {
  const found = SCHEME.exec(name) ?? WWW.exec(name) ?? HOST_WITH_PATH.exec(name);
  if (found) return found[0];
  for (const m of name.matchAll(BARE_HOST)) {
    if (m[1] && isLinkedTld(m[1])) return m[0];
  }
  return undefined;
}

/** A 400 naming `field` when `name` holds a web address (rule 16: refused before anything changes). */
export function refuseLinkInName(field: string, name: string): void {
  const link = linkInName(name);
  if (link === undefined) return;
  throw fieldError(
    field,
    `must not contain a web address ("${link}"): names appear in e-mails, where a link would look like ours.`,
  );
}

// U+2060 WORD JOINER: invisible, no width, no line break, no effect on shaping. A URL cannot hold
// it, so placed before each "." ":" "/" "@" inside a token it stops Gmail, Outlook, Apple Mail and
// the rest from turning "evil.example" into a link (Samsung Mail aside) — the technique tested in
// https://blog.teknkl.com/stop-email-client-hyperlinking-text-without-consent/. A sign at the end
// of a word ("Acme Inc.", "St. John's") is left alone: it cannot be part of a link.
const JOIN_BEFORE = /[.:/@](?=\S)/g;

/** A name on one line, no part of it a link (the recipient's own name, in "Hello Ada,"). */
export function unlinked(name: string): string {
  return oneLine(name).replace(JOIN_BEFORE, "\u2060$&");
}

/** Someone else's name as mails show it: in quotation marks, no part of it a link. */
export function inertName(name: string): string {
  return `“${unlinked(name)}”`;
}

/** One line: a newline from user data must not start a new header (subjects) or paragraph. */
export function oneLine(value: string): string {
  return value.replace(/\s+/g, " ").trim();
}
