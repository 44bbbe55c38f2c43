// Every e-mail Rollcall sends, as data → {subject, text, html}. A template describes its content
// once (paragraphs, one call to action); layout() turns that into both bodies, so the plain-text
// and HTML versions cannot drift apart and HTML escaping happens in exactly one place.
//
// To add a kind: add its fields to MailTemplateData and its render function to RENDERERS. The
// compiler then insists the two stay in step.

import { inertName, oneLine, unlinked } from "./names.js";

export interface MailTemplateData {
  password_reset: { name: string; url: string; expiresInMinutes: number };
  /** An operator created the account (`rollcall create-owner`); the owner chooses a password. */
  set_password: { name: string; organizationName: string; url: string; expiresInHours: number };
  /** Someone tried to sign up with an address that already has an account (rule 11). */
  account_exists: { name: string; loginUrl: string; resetUrl: string };
  /** SIGNUP_CONFIRM=email: a sign-up for an address without an account; the link makes it. */
  confirm_signup: { name: string; url: string; expiresInHours: number };
  /** An invitation sent to an address (delivery "email", docs/concepts.md#invitations). */
  invitation: {
    inviterName: string;
    organizationName: string;
    role: string;
    workspaces: { name: string; role: string }[];
    url: string;
    /** ISO 8601. */
    expiresAt: string;
    recipientEmail: string;
  };
  /** Someone accepted an invitation; sent to the people who manage the organisation's members. */
  member_joined: {
    recipientName: string;
    memberName: string;
    memberEmail: string;
    organizationName: string;
    role: string;
    workspaces: { name: string; role: string }[];
    /** ISO 8601. */
    joinedAt: string;
    membersUrl: string;
  };
}

export type MailKind = keyof MailTemplateData;

/** One template: `{kind, ...its fields}`, discriminated on `kind`. */
export type MailTemplate<K extends MailKind = MailKind> = { [P in K]: { kind: P } & MailTemplateData[P] }[K];

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** What a template says, independent of the format it is rendered in. */
interface MailContent {
  subject: string;
  greeting: string;
  /** Paragraphs of plain text (escaped for HTML by layout). */
  intro: string[];
  action?: { label: string; url: string };
  /** A second, quieter link under the call to action. */
  secondary?: { label: string; url: string };
  /** Paragraphs after the call to action: expiry, "if this was not you". */
  outro: string[];
}

const RENDERERS: { [K in MailKind]: (data: MailTemplate<K>) => MailContent } = {
  password_reset: (d) => ({
    subject: "Reset your Rollcall password",
    greeting: greet(d.name),
    intro: ["Someone (we hope you) asked to reset the password of your Rollcall account."],
    action: { label: "Choose a new password", url: d.url },
    outro: [
      `This link works once and expires in ${plural(d.expiresInMinutes, "minute")}.`,
      "If you did not ask for this, you can ignore this e-mail: your password stays as it is.",
    ],
  }),
  set_password: (d) => ({
    subject: `Your Rollcall account for ${inertName(d.organizationName)}`,
    greeting: greet(d.name),
    intro: [
      `An operator created a Rollcall account for you as the owner of ${inertName(d.organizationName)}.`,
      "Choose your password to sign in.",
    ],
    action: { label: "Choose your password", url: d.url },
    outro: [
      `This link works once and expires in ${plural(d.expiresInHours, "hour")}.`,
      "If you did not expect this, you can ignore this e-mail.",
    ],
  }),
  account_exists: (d) => ({
    subject: "You already have a Rollcall account",
    greeting: greet(d.name),
    intro: [
      "Someone tried to sign up for Rollcall with this e-mail address, which already has an account.",
      "If it was you, log in instead:",
    ],
    action: { label: "Log in", url: d.loginUrl },
    secondary: { label: "Forgot your password? Reset it here:", url: d.resetUrl },
    outro: ["If it was not you, you can ignore this e-mail: nothing has changed on your account."],
  }),
  confirm_signup: (d) => ({
    subject: "Confirm your Rollcall account",
    greeting: greet(d.name),
    intro: ["Someone (we hope you) signed up for Rollcall with this e-mail address."],
    action: { label: "Confirm and open your account", url: d.url },
    outro: [
      `This link works once and expires in ${plural(d.expiresInHours, "hour")}.`,
      "If it was not you, you can ignore this e-mail: no account is made unless the link is used.",
    ],
  }),
  invitation: (d) => ({
    subject: `${someone(d.inviterName)} invited you to join ${inertName(d.organizationName)}`,
    greeting: "Hello,",
    intro: [
      `${someone(d.inviterName)} invited you (${d.recipientEmail}) to join ${inertName(d.organizationName)} on Rollcall as ${article(d.role)} ${d.role}.`,
      ...workspaceLines(d.workspaces, "You will also get access to these workspaces:"),
    ],
    action: { label: "Accept the invitation", url: d.url },
    outro: [
      `This invitation expires on ${utcDate(d.expiresAt)}.`,
      "If you were not expecting this, ignore this mail: nothing happens unless you accept.",
    ],
  }),
  member_joined: (d) => ({
    subject: `${someone(d.memberName)} joined ${inertName(d.organizationName)}`,
    greeting: greet(d.recipientName),
    intro: [
      `${someone(d.memberName)} (${d.memberEmail}) joined ${inertName(d.organizationName)} as ${article(d.role)} ${d.role} on ${utcDate(d.joinedAt)}.`,
      ...workspaceLines(d.workspaces, "They have access to these workspaces:"),
    ],
    action: { label: "See the members", url: d.membersUrl },
    outro: ["You receive this because you manage the members of this organisation."],
  }),
};

export function renderMail<K extends MailKind>(template: MailTemplate<K>): RenderedMail {
  const render: (data: MailTemplate<K>) => MailContent = RENDERERS[template.kind];
  return layout(render(template));
}

// Every name in a mail was typed by someone, and invitation mails go to anyone: names are shown
// in quotation marks and can never become links (mail/names.ts) — the recipient's own name in
// the greeting unquoted, but no more linkable.
function greet(name: string): string {
  const trimmed = unlinked(name);
  return trimmed ? `Hello ${trimmed},` : "Hello,";
}

/** Another person's name, quoted; "Someone" when they have none. */
function someone(name: string): string {
  return oneLine(name) ? inertName(name) : "Someone";
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

/** One paragraph listing workspace grants ("Ops (admin), Field (member)"), or none. */
function workspaceLines(workspaces: { name: string; role: string }[], lead: string): string[] {
  if (workspaces.length === 0) return [];
  return [`${lead} ${workspaces.map((w) => `${inertName(w.name)} (${w.role})`).join(", ")}.`];
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** "Sunday 29 November 2026, 20:15 UTC": unambiguous for every reader, whatever the locale. */
function utcDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`Not a date: ${iso}`);
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mm = String(d.getUTCMinutes()).padStart(2, "0");
  const weekday = WEEKDAYS[d.getUTCDay()] ?? "";
  const month = MONTHS[d.getUTCMonth()] ?? "";
  return `${weekday} ${d.getUTCDate()} ${month} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** Links in mail come from PUBLIC_URL; anything else (javascript:, data:) is a bug, not a link. */
function safeUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new Error(`Refusing to put a ${parsed.protocol} link in an e-mail`);
  }
  return url;
}

const FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif";
const PARAGRAPH = `margin:0 0 16px;${FONT};font-size:15px;line-height:1.5;color:#1f2328`;

function layout(content: MailContent): RenderedMail {
  const subject = oneLine(content.subject);
  const action = content.action
    ? { label: content.action.label, url: safeUrl(content.action.url) }
    : undefined;
  const secondary = content.secondary
    ? { label: content.secondary.label, url: safeUrl(content.secondary.url) }
    : undefined;

  const text = [
    content.greeting,
    ...content.intro,
    ...(action ? [`${action.label}:\n${action.url}`] : []),
    ...(secondary ? [`${secondary.label}\n${secondary.url}`] : []),
    ...content.outro,
    "— Rollcall",
  ].join("\n\n");

  // Only the template's own links become <a>: a URL typed into a user's name stays inert text.
  const p = (t: string) => `<p style="${PARAGRAPH}">${escapeHtml(t)}</p>`;
  const link = (url: string) =>
    `<a href="${escapeHtml(url)}" style="color:#1f6feb;word-break:break-all">${escapeHtml(url)}</a>`;
  const button = action
    ? `<p style="margin:24px 0"><a href="${escapeHtml(action.url)}" style="display:inline-block;padding:10px 18px;` +
      `background:#1f6feb;color:#ffffff;border-radius:6px;text-decoration:none;${FONT};font-size:15px;` +
      `font-weight:600">${escapeHtml(action.label)}</a></p>` +
      `<p style="${PARAGRAPH};font-size:13px;color:#59636e">If the button does not work, copy this link ` +
      `into your browser:<br>${link(action.url)}</p>`
    : "";
  const secondaryHtml = secondary
    ? `<p style="${PARAGRAPH}">${escapeHtml(secondary.label)}<br>${link(secondary.url)}</p>`
    : "";

  const html = [
    "<!doctype html>",
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f6f8fa">',
    '<div style="max-width:560px;margin:0 auto;padding:32px;background:#ffffff;border-radius:8px">',
    p(content.greeting),
    ...content.intro.map(p),
    button,
    secondaryHtml,
    ...content.outro.map(p),
    `<p style="${PARAGRAPH};color:#59636e">— Rollcall</p>`,
    "</div></body></html>",
  ].join("\n");

  return { subject, text, html };
}
