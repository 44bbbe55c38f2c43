// Journey 1 in a real browser: sign up (with the errors shown next to the field the API names),
// log out, log in (a wrong password, a rate limit, the organisation used last), forgot and reset
// password through a mail caught over SMTP, and a sign-up with an address that already has an
// account, which must look like any other sign-up and open nothing.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Locator, Page } from "playwright-core";
import { linkIn, uniqueEmail } from "../helpers/app.js";
import { type ConsoleServer, consoleServer } from "./harness.js";

let s: ConsoleServer;
before(async () => {
  // A low per-account log-in limit, so that the page's answer to it can be seen.
  s = await consoleServer(import.meta.filename, { RATE_LIMIT_LOGIN_ACCOUNT: "3/15m" });
});
after(() => s.close());

const NEW_PASSWORD = "a quiet lake at dawn";
/** Evaluated in the page: nothing makes it scroll sideways. */
const FITS = "document.documentElement.scrollWidth <= window.innerWidth";

/** The texts an input is described by (its hint or its error), as a screen reader reads them. */
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

async function logOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Profile" }).click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await page.waitForURL(/\/login$/);
}

async function myOrganizations(email: string, password: string): Promise<{ name: string; role: string }[]> {
  const login = await s.t.request("POST", "/api/v1/auth/login", { body: { email, password } });
  assert.equal(login.status, 200);
  const me = await s.t.request("GET", "/api/v1/me", { token: login.json.session.token });
  return me.json.organizations.map((o: { name: string; role: string }) => ({ name: o.name, role: o.role }));
}

test("sign up through the form: errors next to the password field, then the new organisation opens", async () => {
  const page = await s.page("desktop");
  await page.goto("/signup");
  await page.getByRole("heading", { name: "Create your account" }).waitFor();
  await s.shot(page, "signup");
  await s.checkA11y(page, "sign-up page");

  const email = uniqueEmail("nadia");
  const password = page.getByLabel("Password", { exact: true });
  await page.getByLabel("Your name").fill("Nadia Novak");
  // The organisation's name suggests itself from the person's.
  assert.equal(
    await page.getByLabel("Organisation name").getAttribute("placeholder"),
    "Nadia Novak's organisation",
  );
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Organisation name").fill("Northwind");

  // Too short: said next to the field before anything is sent.
  await password.fill("seven77");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByText("The password must be at least 8 characters.").waitFor();
  assert.match(await describedBy(password), /at least 8 characters/);
  assert.equal(await password.getAttribute("aria-invalid"), "true");

  // Long enough but one the server refuses as too common: its message, next to the same field.
  await password.fill("iloveyou");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByText(/one of the most common passwords/).waitFor();
  assert.match(await describedBy(password), /most common passwords/);
  await s.shot(page, "signup-password-refused");
  await s.checkA11y(page, "sign-up page with a field error");
  const none = await s.t.db.selectFrom("users").select("id").where("email", "=", email).execute();
  assert.equal(none.length, 0, "a refused sign-up creates no account");

  await password.fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/orgs\/[^/]+$/);
  await switcher(page).filter({ hasText: "Northwind" }).waitFor();
  await s.shot(page, "signup-landed");
  assert.deepEqual(await myOrganizations(email, NEW_PASSWORD), [{ name: "Northwind", role: "owner" }]);

  await logOut(page);
  await page.getByRole("heading", { name: "Log in to Rollcall" }).waitFor();
  // Logged out for real: a page inside sends back to the log-in page.
  await page.goto("/devices");
  await page.waitForURL(/\/login\?next=%2Fdevices$/);
});

test("log in: a wrong password is refused, then the organisation used last opens", async () => {
  const olga = await s.user({ name: "Olga Ortiz", organizationName: "First Org" });
  const second = await s.t.request("POST", "/api/v1/orgs", {
    token: olga.token,
    body: { name: "Second Org" },
  });
  assert.equal(second.status, 201);
  const secondId: string = second.json.organization.id;

  const page = await s.page("desktop");
  await page.goto("/login");
  await s.checkA11y(page, "log-in page");
  await page.getByLabel("E-mail").fill(olga.email);
  await page.getByLabel("Password", { exact: true }).fill("not my password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").filter({ hasText: "E-mail or password is wrong." }).waitFor();
  assert.ok(page.url().endsWith("/login"), "a refused log-in stays on the page");
  await s.shot(page, "login-wrong-password");
  await s.checkA11y(page, "log-in page with an error");

  await s.logIn(page, olga);
  await page.waitForURL(/\/orgs\/[^/]+$/);
  // Logged in, the log-in page is not where one stays.
  await page.goto("/login");
  await page.waitForURL(/\/orgs\/[^/]+$/);

  await page.goto(`/orgs/${secondId}`);
  await switcher(page).filter({ hasText: "Second Org" }).waitFor();
  await logOut(page);
  await s.logIn(page, olga);
  await page.waitForURL(new RegExp(`/orgs/${secondId}$`));
  await switcher(page).filter({ hasText: "Second Org" }).waitFor();
  await s.shot(page, "login-last-organisation");
});

test("log in: too many wrong passwords show the server's wait", async () => {
  const rita = await s.user({ name: "Rita Rate" });
  const page = await s.page("phone");
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(rita.email);
  for (let i = 0; i < 3; i++) {
    await page.getByLabel("Password", { exact: true }).fill(`wrong guess ${i}`);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").filter({ hasText: "E-mail or password is wrong." }).waitFor();
  }
  await page.getByLabel("Password", { exact: true }).fill(rita.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page
    .getByRole("alert")
    .filter({ hasText: /Too many attempts\. Try again in/ })
    .waitFor();
  await s.shot(page, "login-rate-limited-phone");
  assert.ok(page.url().endsWith("/login"));
});

test("forgot password: the mailed link sets a new password, which then logs in (phone)", async () => {
  const fay = await s.user({ name: "Fay Forget", organizationName: "Fay's Florist" });
  const page = await s.page("phone");
  await page.goto("/login");
  await s.shot(page, "login-phone");
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await page.waitForURL(/\/forgot-password$/);
  await page.getByRole("heading", { name: "Reset your password" }).waitFor();
  await s.checkA11y(page, "forgot-password page");
  await s.shot(page, "forgot-password-phone");
  await page.getByLabel("E-mail").fill(fay.email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await page.getByText(`If an account exists for ${fay.email}, we've sent a link`).waitFor();
  await s.shot(page, "forgot-password-sent-phone");
  assert.equal(await page.evaluate(FITS), true, "a long address wraps on a phone");
  await s.checkA11y(page, "forgot-password sent");

  const mail = await s.mailTo(fay.email, /Reset your Rollcall password/);
  const link = linkIn(mail.text, `${s.url}/reset-password?token=`);
  await page.goto(link);
  await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
  await s.checkA11y(page, "reset-password page");
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("Confirm new password", { exact: true }).fill("a quiet lake at dusk");
  await page.getByRole("button", { name: "Set new password" }).click();
  await page.getByText("The two passwords are not the same.").waitFor();
  assert.match(await describedBy(page.getByLabel("Confirm new password", { exact: true })), /not the same/);
  await s.shot(page, "reset-password-mismatch-phone");

  await page.getByLabel("Confirm new password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set new password" }).click();
  await page.getByRole("heading", { name: "Password changed" }).waitFor();
  await s.shot(page, "reset-password-done-phone");
  await s.checkA11y(page, "password changed");
  // Every session ended, the one the test set-up made included.
  assert.equal((await s.t.request("GET", "/api/v1/me", { token: fay.token })).status, 401);
  const old = await s.t.request("POST", "/api/v1/auth/login", {
    body: { email: fay.email, password: fay.password },
  });
  assert.equal(old.status, 401, "the old password no longer works");

  await page.getByRole("link", { name: "Log in" }).click();
  await page.waitForURL(/\/login$/);
  await s.logIn(page, { email: fay.email, password: NEW_PASSWORD });
  await switcher(page).filter({ hasText: "Fay's Florist" }).waitFor();

  // The link worked once: a second use explains itself and offers a new one.
  await logOut(page);
  await page.goto(link);
  await page.getByLabel("New password", { exact: true }).fill("another quiet lake");
  await page.getByLabel("Confirm new password", { exact: true }).fill("another quiet lake");
  await page.getByRole("button", { name: "Set new password" }).click();
  await page.getByRole("heading", { name: "This link no longer works" }).waitFor();
  await page.getByRole("link", { name: "Ask for a new link" }).waitFor();
  await s.shot(page, "reset-password-used-link-phone");
  await s.checkA11y(page, "used reset link");

  await page.goto("/reset-password");
  await page.getByRole("heading", { name: "This link is incomplete" }).waitFor();
});

test("signing up with an address that has an account says to check the inbox and mails its owner", async () => {
  const owner = await s.user({ name: "Ezra Exists" });
  const page = await s.page("desktop");
  await page.goto("/signup");
  await page.getByLabel("Your name").fill("Someone Else");
  await page.getByLabel("E-mail").fill(owner.email);
  await page.getByLabel("Password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Check your inbox" }).waitFor();
  await page.getByText("If this address can be used, we have sent a message to it").waitFor();
  await s.shot(page, "signup-check-inbox");
  await s.checkA11y(page, "check your inbox");

  const mail = await s.mailTo(owner.email, /already have a Rollcall account/);
  assert.match(mail.text ?? "", /Someone tried to sign up/);
  // The decoy opened nothing: the app is still behind the log-in page.
  await page.goto("/");
  await page.waitForURL(/\/login$/);
  // And the account is untouched: its own password still works.
  assert.equal(
    (
      await s.t.request("POST", "/api/v1/auth/login", {
        body: { email: owner.email, password: owner.password },
      })
    ).status,
    200,
  );
});

test("on an invite-only server, sign-up explains that it needs an invitation", async () => {
  const closed = await consoleServer(import.meta.filename, { SIGNUP: "invite-only" });
  try {
    const page = await closed.page("desktop");
    await page.goto("/signup");
    await page.getByLabel("Your name").fill("Ivy Invite");
    await page.getByLabel("E-mail").fill(uniqueEmail("ivy"));
    await page.getByLabel("Password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: "Sign-up on this server needs an invitation." })
      .waitFor();
    await closed.shot(page, "signup-invite-only");
    await closed.checkA11y(page, "invite-only sign-up");
    assert.ok(page.url().endsWith("/signup"));
  } finally {
    await closed.close();
  }
});
