// Journey 6 in a real browser: the accept page /invite/{token}. Logged out it says who invites
// whom to what, as what, until when, and leads to an invited sign-up that lands in the
// organisation; logged in as the wrong address it names the invited one (masked) and switches
// account; logged in as the right one it joins or declines; a cancelled, expired, used or unknown
// invitation explains what happened and whom to ask.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Locator, Page } from "playwright-core";
import { linkIn, type SignedUp, uniqueEmail } from "../helpers/app.js";
import { type ConsoleServer, consoleServer } from "./harness.js";

let s: ConsoleServer;
let olive: SignedUp;
let orgId: string;
let workspaceId: string;

before(async () => {
  s = await consoleServer(import.meta.filename);
  olive = await s.user({ name: "Olive Owner", organizationName: "Acme" });
  const me = await s.t.request("GET", "/api/v1/me", { token: olive.token });
  orgId = me.json.organizations[0].id;
  const workspaces = await s.t.request("GET", `/api/v1/orgs/${orgId}/workspaces`, { token: olive.token });
  workspaceId = workspaces.json.items[0].id;
  const renamed = await s.t.request("PATCH", `/api/v1/workspaces/${workspaceId}`, {
    token: olive.token,
    body: { name: "Field Ops" },
  });
  assert.equal(renamed.status, 200);
});
after(() => s.close());

const PASSWORD = "a quiet lake at dawn";
/** Evaluated in the page: nothing makes it scroll sideways. */
const FITS = "document.documentElement.scrollWidth <= window.innerWidth";

interface Made {
  id: string;
  /** The accept page's path: /invite/<token>. */
  path: string;
  token: string;
}

async function linkInvitation(body: Record<string, unknown> = {}): Promise<Made> {
  const res = await s.t.request("POST", `/api/v1/orgs/${orgId}/invitations`, {
    token: olive.token,
    body: { delivery: "link", role: "member", ...body },
  });
  assert.equal(res.status, 201, res.text);
  const url = new URL(res.json.url);
  return { id: res.json.invitation.id, path: url.pathname, token: url.pathname.split("/").at(-1) ?? "" };
}

/** An e-mail invitation, its link read from the mail caught over SMTP. */
async function emailInvitation(email: string, body: Record<string, unknown> = {}): Promise<Made> {
  const res = await s.t.request("POST", `/api/v1/orgs/${orgId}/invitations`, {
    token: olive.token,
    body: { delivery: "email", email, role: "member", ...body },
  });
  assert.equal(res.status, 201, res.text);
  const mail = await s.mailTo(email, /“Olive Owner” invited you to join “Acme/);
  const url = new URL(linkIn(mail.text, `${s.url}/invite/`));
  return { id: res.json.invitation.id, path: url.pathname, token: url.pathname.split("/").at(-1) ?? "" };
}

async function describedBy(input: Locator): Promise<string> {
  return input.evaluate((el) =>
    (el.getAttribute("aria-describedby") ?? "")
      .split(/\s+/)
      .map((id: string) => (id ? (el.ownerDocument.getElementById(id)?.textContent ?? "") : ""))
      .join(" "),
  );
}

function switcher(page: Page): Locator {
  return page.getByRole("button", { name: "Switch organisation" });
}

async function memberRole(email: string): Promise<string | undefined> {
  const res = await s.t.request("GET", `/api/v1/orgs/${orgId}/members?limit=200`, { token: olive.token });
  assert.equal(res.status, 200);
  return res.json.items.find((m: { email: string }) => m.email.toLowerCase() === email.toLowerCase())?.role;
}

async function statusOf(id: string): Promise<string> {
  const res = await s.t.request("GET", `/api/v1/orgs/${orgId}/invitations?limit=200`, { token: olive.token });
  const found = res.json.items.find((i: { id: string }) => i.id === id);
  assert.ok(found, `invitation ${id} is listed`);
  return found.status;
}

test("a link invitation, opened logged out on a phone, leads to an invited sign-up in the organisation", async () => {
  const invite = await linkInvitation({ workspaces: [{ workspaceId, role: "editor" }], expiresInHours: 144 });
  const page = await s.page("phone");
  await page.goto(invite.path);
  await page.getByRole("heading", { name: "Join Acme" }).waitFor();
  await page.getByText("Olive Owner invited you to join Acme as Member.").waitFor();
  await page.getByText(/^Expires in (6 days|144 hours)$/).waitFor();
  const facts = page.locator(".invite-facts");
  assert.match((await facts.textContent()) ?? "", /Field Ops\s*Editor/);
  await s.shot(page, "invite-logged-out-phone");
  await s.checkA11y(page, "accept page, logged out");

  await page.getByRole("link", { name: "Create account" }).click();
  await page.waitForURL(/\/signup\?invitation=/);
  await page.getByRole("heading", { name: "Join Acme" }).waitFor();
  assert.equal(
    await page.getByLabel("Organisation name").count(),
    0,
    "an invited sign-up makes no organisation",
  );
  await s.shot(page, "invited-signup-phone");
  await s.checkA11y(page, "invited sign-up");

  const email = uniqueEmail("lena");
  await page.getByLabel("Your name").fill("Lena Link");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(new RegExp(`/orgs/${orgId}$`));
  await switcher(page).filter({ hasText: "Acme" }).waitFor();
  await s.shot(page, "invited-signup-landed-phone");

  assert.equal(await memberRole(email), "member");
  const join = await s.mailTo(olive.email, /“Lena Link” joined “Acme/);
  assert.match(join.text ?? "", /Lena Link/);
});

test("an e-mail invitation opened as another account names the invited address and switches account", async () => {
  const carol = `carol.${Date.now().toString(36)}@example.org`;
  const invite = await emailInvitation(carol, { role: "admin" });
  const mallory = await s.user({ name: "Mallory Mix", email: uniqueEmail("mallory") });
  const page = await s.page("desktop");
  await s.logIn(page, mallory);

  await page.goto(invite.path);
  const warning = page.getByRole("alert");
  await warning.filter({ hasText: "This invitation was sent to c***@example.org." }).waitFor();
  assert.match(
    (await warning.textContent()) ?? "",
    new RegExp(`You're logged in as ${mallory.email.replace(/\./g, "\\.")}`),
  );
  assert.equal(
    await page.getByRole("button", { name: "Join" }).count(),
    0,
    "the wrong account is offered no Join",
  );
  await s.shot(page, "invite-wrong-account");
  await s.checkA11y(page, "accept page, wrong account");
  // The same on a phone: the long address wraps inside the card.
  const phone = await s.page("phone");
  await s.logIn(phone, mallory);
  await phone.goto(invite.path);
  await phone.getByRole("button", { name: "Log out and switch account" }).waitFor();
  assert.equal(await phone.evaluate(FITS), true, "nothing is wider than the phone");
  await s.shot(phone, "invite-wrong-account-phone");

  await page.getByRole("button", { name: "Log out and switch account" }).click();
  await page.waitForURL((u) => u.pathname === "/login" && u.searchParams.get("next") === invite.path);
  await page.getByText("Log in to accept your invitation.").waitFor();
  // This browser is logged out: its session cookie is gone.
  const cookies = await page.context().cookies();
  assert.equal(cookies.filter((c) => c.name === "rollcall_session" && c.value).length, 0);

  // Carol has no account yet: the log-in page leads to the invited sign-up.
  await page.getByRole("link", { name: "Create account" }).click();
  await page.waitForURL(/\/signup\?invitation=/);
  await page.getByText("Use the address this invitation was sent to (c***@example.org).").waitFor();
  await page.getByLabel("Your name").fill("Carol Case");
  const emailField = page.getByLabel("E-mail");
  await emailField.fill("someone@elsewhere.test");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.locator(".field-error").filter({ hasText: "c***@example.org" }).waitFor();
  assert.match(
    await describedBy(emailField),
    /Use the address this invitation was sent to \(c\*\*\*@example\.org\)/,
  );
  await s.shot(page, "invited-signup-wrong-address");

  await emailField.fill(carol.toUpperCase());
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(new RegExp(`/orgs/${orgId}$`));
  await switcher(page).filter({ hasText: "Acme" }).waitFor();
  assert.equal(await memberRole(carol), "admin");
  assert.equal(await statusOf(invite.id), "accepted");
});

test("logged in as the invited address: Join lands in the organisation; Decline says so", async () => {
  const dan = await s.user({ name: "Dan Joiner", organizationName: "Dan's Deli" });
  const invite = await emailInvitation(dan.email, {
    role: "admin",
    workspaces: [{ workspaceId, role: "viewer" }],
  });
  const page = await s.page("desktop");
  await s.logIn(page, dan);
  await page.goto(invite.path);
  await page.getByText("Olive Owner invited you to join Acme as Admin.").waitFor();
  await page.getByText(/Joining as Dan Joiner/).waitFor();
  await s.shot(page, "invite-join-decline");
  await s.checkA11y(page, "accept page, logged in");
  await page.getByRole("button", { name: "Join" }).click();
  await page.waitForURL(new RegExp(`/orgs/${orgId}$`));
  await switcher(page).filter({ hasText: "Acme" }).waitFor();
  await page.getByRole("status").filter({ hasText: "You joined Acme" }).waitFor();
  await s.shot(page, "invite-joined");
  assert.equal(await memberRole(dan.email), "admin");
  // The organisation switcher now lists both.
  await switcher(page).click();
  await page.getByRole("menuitem", { name: /Dan's Deli/ }).waitFor();
  await page.getByRole("menuitem", { name: /Acme/ }).waitFor();

  const erin = await s.user({ name: "Erin Elsewhere" });
  const declined = await emailInvitation(erin.email);
  const other = await s.page("desktop");
  await s.logIn(other, erin);
  await other.goto(declined.path);
  await other.getByRole("button", { name: "Decline" }).click();
  await other.getByRole("heading", { name: "You declined the invitation" }).waitFor();
  await other.getByText("If you change your mind, ask Olive Owner to invite you again.").waitFor();
  await s.shot(other, "invite-declined");
  await s.checkA11y(other, "declined");
  assert.equal(await statusOf(declined.id), "declined");
  assert.equal(await memberRole(erin.email), undefined);

  // Opened again, the declined invitation explains itself.
  await other.goto(declined.path);
  await other.getByRole("heading", { name: "This invitation was declined" }).waitFor();
  await other.getByText(/Ask Olive Owner to invite you again/).waitFor();
});

test("cancelled, expired, used and unknown invitations explain what happened and whom to ask", async () => {
  const page = await s.page("desktop");

  const cancelled = await linkInvitation();
  const cancel = await s.t.request("DELETE", `/api/v1/invitations/${cancelled.id}`, { token: olive.token });
  assert.equal(cancel.status, 204);
  await page.goto(cancelled.path);
  await page.getByRole("heading", { name: "This invitation was cancelled" }).waitFor();
  await page.getByText(/ask Olive Owner for a new invitation/).waitFor();
  assert.equal(await page.getByRole("link", { name: "Create account" }).count(), 0);
  await s.shot(page, "invite-cancelled");
  await s.checkA11y(page, "cancelled invitation");

  const expired = await linkInvitation({ expiresInHours: 1 });
  await s.t.db
    .updateTable("invitations")
    .set({ expires_at: new Date(Date.now() - 3600_000) })
    .where("id", "=", expired.id)
    .execute();
  await page.goto(expired.path);
  await page.getByRole("heading", { name: "This invitation has expired" }).waitFor();
  await page.getByText(/Ask Olive Owner to send you a new invitation/).waitFor();
  await s.shot(page, "invite-expired");
  await s.checkA11y(page, "expired invitation");

  const used = await linkInvitation({ maxUses: 1 });
  const first = await s.user({ name: "Uma Used" });
  const accept = await s.t.request("POST", "/api/v1/invitations/accept", {
    token: first.token,
    body: { token: used.token },
  });
  assert.equal(accept.status, 200);
  const late = await s.user({ name: "Lou Late" });
  await s.logIn(page, late);
  await page.goto(used.path);
  await page.getByRole("heading", { name: "This invitation has already been used" }).waitFor();
  await page.getByText(/ask Olive Owner for a\s+new invitation/).waitFor();
  assert.equal(await page.getByRole("button", { name: "Join" }).count(), 0);
  await s.shot(page, "invite-used");
  await s.checkA11y(page, "used invitation");

  await page.goto("/invite/not-a-real-token");
  await page.getByRole("heading", { name: "This invitation link does not work" }).waitFor();
  await s.shot(page, "invite-unknown");
});
