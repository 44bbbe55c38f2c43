import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { escapeHtml, type MailTemplate, renderMail } from "./templates.js";

const RESET_URL = "https://rollcall.example/reset/abc123?x=1&y=2";

const EXAMPLES: MailTemplate[] = [
  { kind: "password_reset", name: "Ada", url: RESET_URL, expiresInMinutes: 60 },
  {
    kind: "set_password",
    name: "Ada",
    organizationName: "Acme",
    url: "https://rollcall.example/set-password/t0k3n",
    expiresInHours: 72,
  },
  {
    kind: "account_exists",
    name: "Ada",
    loginUrl: "https://rollcall.example/login",
    resetUrl: "https://rollcall.example/reset",
  },
  {
    kind: "confirm_signup",
    name: "Ada",
    url: "https://rollcall.example/confirm-signup?token=abc&x=1",
    expiresInHours: 24,
  },
  {
    kind: "invitation",
    inviterName: "Olive",
    organizationName: "Field Ops",
    role: "admin",
    workspaces: [{ name: "North", role: "member" }],
    url: "https://rollcall.example/invite/abc?x=1&y=2",
    expiresAt: "2026-11-29T20:15:00.000Z",
    recipientEmail: "ada@example.org",
  },
  {
    kind: "member_joined",
    recipientName: "Ada",
    memberName: "Bob",
    memberEmail: "bob@example.org",
    organizationName: "Field Ops",
    role: "member",
    workspaces: [],
    joinedAt: "2026-11-22T08:05:00.000Z",
    membersUrl: "https://rollcall.example/orgs/field-ops/members",
  },
];

/** The URLs a template is about, which each body must carry. */
function urlsOf(t: MailTemplate): string[] {
  switch (t.kind) {
    case "password_reset":
    case "set_password":
    case "confirm_signup":
      return [t.url];
    case "account_exists":
      return [t.loginUrl, t.resetUrl];
    case "invitation":
      return [t.url];
    case "member_joined":
      return [t.membersUrl];
  }
}

describe("renderMail", () => {
  for (const template of EXAMPLES) {
    test(`${template.kind}: every URL is in the text body and, escaped, in an href of the HTML body`, () => {
      const mail = renderMail(template);
      assert.ok(mail.subject.length > 0);
      // An invitation goes to an address, not yet to a person with a name.
      assert.ok(mail.text.startsWith(template.kind === "invitation" ? "Hello," : "Hello Ada,"));
      for (const url of urlsOf(template)) {
        assert.ok(mail.text.includes(url), `text body lacks ${url}`);
        assert.ok(mail.html.includes(`href="${escapeHtml(url)}"`), `html body lacks a link to ${url}`);
      }
      assert.ok(!/<(script|img|link)\b|src=|url\(/i.test(mail.html), "html must load nothing external");
    });
  }

  test("escapes every interpolated value in the HTML body", () => {
    const mail = renderMail({
      kind: "set_password",
      name: '<script>alert("x")</script>',
      organizationName: "Tom & Jerry's <b>Co</b>",
      url: 'https://rollcall.example/set?a=1&b="2"',
      expiresInHours: 1,
    });
    assert.ok(!mail.html.includes("<script>"));
    assert.ok(mail.html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;\u2060/script&gt;"));
    assert.ok(mail.html.includes("Tom &amp; Jerry&#39;s &lt;b&gt;Co&lt;\u2060/b&gt;"));
    assert.ok(mail.html.includes('href="https://rollcall.example/set?a=1&amp;b=&quot;2&quot;"'));
    // The plain-text body is not HTML: it shows the name as typed (but for the word joiner that
    // keeps any part of a name from becoming a link).
    assert.ok(mail.text.includes('Hello <script>alert("x")<\u2060/script>,'));
    assert.ok(mail.text.includes("expires in 1 hour."));
  });

  test("a URL typed into a name does not become a link", () => {
    const mail = renderMail({
      kind: "password_reset",
      name: "https://evil.example",
      url: RESET_URL,
      expiresInMinutes: 30,
    });
    assert.ok(!mail.html.includes('href="https://evil.example"'));
    assert.ok(mail.html.includes("Hello https\u2060:\u2060/\u2060/evil\u2060.example,"));
  });

  test("a newline in a value cannot break the subject into a second header", () => {
    const mail = renderMail({
      kind: "set_password",
      name: "Ada",
      organizationName: "Acme\r\nBcc: victim@example.org",
      url: RESET_URL,
      expiresInHours: 24,
    });
    assert.equal(mail.subject, "Your Rollcall account for “Acme Bcc: victim\u2060@example\u2060.org”");
  });

  test("refuses a link that is not http(s)", () => {
    assert.throws(
      () =>
        renderMail({ kind: "password_reset", name: "Ada", url: "javascript:alert(1)", expiresInMinutes: 5 }),
      /javascript:/,
    );
  });

  test("says how long the link lasts", () => {
    const reset = renderMail({ kind: "password_reset", name: "Ada", url: RESET_URL, expiresInMinutes: 30 });
    assert.ok(reset.text.includes("expires in 30 minutes"));
    assert.ok(reset.html.includes("expires in 30 minutes"));
  });
});

describe("invitation mails", () => {
  const invitation: MailTemplate<"invitation"> = {
    kind: "invitation",
    inviterName: "Olive",
    organizationName: "Field Ops",
    role: "admin",
    workspaces: [
      { name: "North", role: "member" },
      { name: "South & <East>", role: "admin" },
    ],
    url: "https://rollcall.example/invite/t0k3n",
    expiresAt: "2026-11-29T20:15:00.000Z",
    recipientEmail: "ada@example.org",
  };

  test("invitation: who, to what, as what, the link, the expiry, and what to do if unexpected", () => {
    const mail = renderMail(invitation);
    assert.equal(mail.subject, "“Olive” invited you to join “Field Ops”");
    for (const body of [mail.text, mail.html]) {
      assert.ok(body.includes("“Olive” invited you"));
      assert.ok(body.includes("ada@example.org"));
      assert.ok(body.includes("“Field Ops” on Rollcall as an admin"));
      assert.ok(body.includes("“North” (member)"));
      assert.ok(body.includes("Sunday 29 November 2026, 20:15 UTC"));
      assert.ok(body.includes("If you were not expecting this, ignore this mail"));
    }
    assert.ok(mail.text.includes("“South & <East>” (admin)"));
    assert.ok(mail.html.includes("“South &amp; &lt;East&gt;” (admin)"));
    assert.ok(mail.text.includes(invitation.url));
  });

  test("invitation: an inviter name cannot inject a header", () => {
    const mail = renderMail({ ...invitation, inviterName: "Olive\r\nBcc: x@example.org" });
    assert.equal(mail.subject, "“Olive Bcc: x\u2060@example\u2060.org” invited you to join “Field Ops”");
  });

  test("member_joined: subject, who, role, workspaces, when, link to the members", () => {
    const mail = renderMail({
      kind: "member_joined",
      recipientName: "Olive",
      memberName: "Bob",
      memberEmail: "bob@example.org",
      organizationName: "Field Ops",
      role: "member",
      workspaces: [{ name: "North", role: "viewer" }],
      joinedAt: "2026-11-22T08:05:00.000Z",
      membersUrl: "https://rollcall.example/orgs/field-ops/members",
    });
    assert.equal(mail.subject, "“Bob” joined “Field Ops”");
    for (const body of [mail.text, mail.html]) {
      assert.ok(body.includes("Hello Olive,"));
      assert.ok(body.includes("“Bob” (bob@example.org) joined “Field Ops” as a member"));
      assert.ok(body.includes("“North” (viewer)"));
      assert.ok(body.includes("22 November 2026, 08:05 UTC"));
      assert.ok(body.includes("https://rollcall.example/orgs/field-ops/members"));
    }
  });
});

describe("review 13.4: names in mails are quoted and never links", () => {
  const lure = "Billing suspended — verify your card at https://evil.example/pay";
  const URLISH = /(https?:\/\/|www\.|[a-z0-9-]+\.[a-z]{2,}(\/|\b))/i;

  /** Everything in the HTML body outside the template's own <a> elements. */
  function textOutsideLinks(html: string): string {
    return html.replace(/<a\b[^>]*>[\s\S]*?<\/a>/g, "").replace(/<[^>]+>/g, "");
  }

  test("review 13.4: an organisation name that is a lure is quoted, and no part of it reads as a link", () => {
    const mail = renderMail({
      kind: "invitation",
      inviterName: "evil.example Support",
      organizationName: lure,
      role: "member",
      workspaces: [{ name: "pay.evil.example/now", role: "viewer" }],
      url: "https://rollcall.example/invite/t0k3n",
      expiresAt: "2026-11-29T20:15:00.000Z",
      recipientEmail: "ada@example.org",
    });
    // Quoted: the reader sees a name someone typed, not the sender's words.
    assert.match(mail.subject, /^“evil\u2060\.example Support” invited you to join “Billing suspended/);
    assert.ok(mail.subject.endsWith("/pay”"));
    for (const body of [mail.text, textOutsideLinks(mail.html)]) {
      assert.ok(
        body.includes(
          "“Billing suspended — verify your card at https\u2060:\u2060/\u2060/evil\u2060.example\u2060/pay”",
        ),
      );
      assert.ok(body.includes("“pay\u2060.evil\u2060.example\u2060/now” (viewer)"));
      // What a mail client's linkifier sees: with the word joiners, nothing URL-like is left.
      const names = body.split("\n").filter((l) => l.includes("Billing") || l.includes("invited you"));
      for (const line of names) assert.ok(!URLISH.test(line.replace(/ada@example\.org/g, "")), line);
    }
    // The only <a> elements are the template's own, to the invitation.
    const hrefs = [...mail.html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(hrefs)], ["https://rollcall.example/invite/t0k3n"]);
  });

  test("review 13.4: ordinary names read as typed, in quotation marks", () => {
    const mail = renderMail({
      kind: "member_joined",
      recipientName: "Ada",
      memberName: "Bob O'Brien",
      memberEmail: "bob@example.org",
      organizationName: "Acme Inc.",
      role: "member",
      workspaces: [{ name: "St. John's", role: "viewer" }],
      joinedAt: "2026-11-22T08:05:00.000Z",
      membersUrl: "https://rollcall.example/orgs/acme/members",
    });
    assert.equal(mail.subject, "“Bob O'Brien” joined “Acme Inc.”");
    assert.ok(mail.text.includes("“St. John's” (viewer)"));
    assert.ok(mail.html.includes("“St. John&#39;s” (viewer)"));
  });
});
