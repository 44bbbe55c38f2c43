// My devices, My account and the audit log in a real browser (issue 5, journeys 7 and 8): every
// session listed with its browser and system, "This device" on the right one, logging out another
// browser from here (its next page is the log-in page), "Log out everywhere else"; renaming myself
// and a wrong current password; the audit log's plain sentences, its filters and its pages, and
// the friendly refusal a member gets.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Locator, Page } from "playwright-core";
import type { SignedUp } from "../helpers/app.js";
import { type ConsoleServer, consoleServer } from "./harness.js";

const IPHONE_SAFARI =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1";

let s: ConsoleServer;
before(async () => {
  s = await consoleServer(import.meta.filename);
});
after(() => s.close());

/** Logs in through the API as another device would, with its own User-Agent; answers the token. */
async function apiLogIn(user: SignedUp, userAgent: string): Promise<string> {
  const res = await s.t.request("POST", "/api/v1/auth/login", {
    body: { email: user.email, password: user.password },
    headers: { "user-agent": userAgent },
  });
  assert.equal(res.status, 200, res.text);
  return res.json.session.token;
}

/** The sign-up session of a test user (made by the API helper, not a device anyone uses) ends. */
async function endSignUpSession(user: SignedUp): Promise<void> {
  const res = await s.t.request("POST", "/api/v1/auth/logout", { token: user.token });
  assert.equal(res.status, 204);
}

/** A locator's text ("" when it has none). */
async function text(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? "";
}

/** Waits until the audit table shows exactly `n` events. */
async function eventRows(page: Page, n: number): Promise<void> {
  const rows = page.locator("table.audit-table tbody tr");
  await rows.nth(n - 1).waitFor();
  await rows.nth(n).waitFor({ state: "detached" });
}

function devices(page: Page) {
  return page.getByRole("region", { name: "Logged-in devices" }).getByRole("listitem");
}

test("My devices: every session with browser and system, log out another browser, then everywhere else", async () => {
  const alice = await s.user({ name: "Alice Example", organizationName: "Acme" });
  await endSignUpSession(alice);
  const phoneToken = await apiLogIn(alice, IPHONE_SAFARI);
  const a = await s.page("desktop");
  const b = await s.page("desktop");
  await s.logIn(a, alice);
  await s.logIn(b, alice);

  await a.goto("/devices");
  await a.getByRole("heading", { name: "My devices" }).waitFor();
  await devices(a).nth(2).waitFor();
  assert.equal(await devices(a).count(), 3);
  // This browser first, marked, read from headless Chromium's User-Agent.
  const mine = devices(a).first();
  assert.match(await text(mine), /This device/);
  assert.match(await text(mine), /Chrome \d+ on Linux/);
  assert.match(await text(mine), /127\.0\.0\.1/);
  assert.equal(await devices(a).filter({ hasText: "This device" }).count(), 1);
  await devices(a).filter({ hasText: "Safari 17 on iPhone" }).waitFor();
  await s.shot(a, "devices-three-sessions");
  await s.checkA11y(a, "my devices");

  // Context B's session: the other Chrome on Linux, not this device.
  const other = devices(a)
    .filter({ hasText: /Chrome \d+ on Linux/ })
    .filter({ hasNotText: "This device" });
  assert.equal(await other.count(), 1);
  await other.getByRole("button", { name: "Log out" }).click();
  await a.getByText(/Logged out Chrome \d+ on Linux/).waitFor();
  await devices(a).nth(1).waitFor();
  assert.equal(await devices(a).count(), 2);
  const fromPhone = await s.t.request("GET", "/api/v1/me/sessions", { token: phoneToken });
  assert.equal(fromPhone.json.items.length, 2, "the API lists two sessions left");

  // Browser B's next page is the log-in page.
  await b.reload();
  await b.waitForURL(/\/login/);
  await b.getByRole("button", { name: "Log in" }).waitFor();
  await s.shot(b, "devices-revoked-context-lands-on-login");

  // Log out everywhere else, with a confirmation.
  await a.getByRole("button", { name: "Log out everywhere else" }).click();
  const dialog = a.getByRole("dialog", { name: "Log out everywhere else?" });
  await dialog.waitFor();
  assert.match(await text(dialog), /The other device will have to log in again/);
  await s.shot(a, "devices-confirm-everywhere-else");
  await s.checkA11y(a, "log out everywhere else dialog");
  await dialog.getByRole("button", { name: "Log out other devices" }).click();
  await a.getByText("Logged out 1 other device").waitFor();
  await a.getByText("No other device is logged in.").waitFor();
  assert.equal(await devices(a).count(), 1);
  assert.equal(await a.getByRole("button", { name: "Log out everywhere else" }).count(), 0);
  await s.shot(a, "devices-only-this-one");

  const gone = await s.t.request("GET", "/api/v1/me", { token: phoneToken });
  assert.equal(gone.status, 401, "the iPhone's session has ended");
  const left = await a.request.get("/api/v1/me/sessions");
  const sessions = (await left.json()).items as { current: boolean }[];
  assert.deepEqual(
    sessions.map((x) => x.current),
    [true],
    "only this browser's session remains",
  );

  // Logging out this device from the list ends it and opens the log-in page.
  await devices(a).first().getByRole("button", { name: "Log out" }).click();
  await a.waitForURL(/\/login/);
  const loggedOut = await a.request.get("/api/v1/me");
  assert.equal(loggedOut.status(), 401);
});

test("My account on a phone: a new name shows in the profile menu, a wrong password is shown at its field", async () => {
  const bob = await s.user({ name: "Bob Stone", organizationName: "Stone & Co" });
  const page = await s.page("phone");
  await s.logIn(page, bob);
  await page.goto("/account");
  await page.getByRole("heading", { name: "My account" }).waitFor();
  assert.equal(await page.getByLabel("Display name").inputValue(), "Bob Stone");
  assert.equal(await page.getByLabel("E-mail address").inputValue(), bob.email);
  await s.shot(page, "account-phone");
  await s.checkA11y(page, "my account");

  // Rename.
  await page.getByLabel("Display name").fill("Robert Stone");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Name saved").waitFor();
  await page.getByRole("button", { name: "Profile" }).click();
  await page.getByRole("menu", { name: "Profile" }).waitFor();
  assert.match(await text(page.locator(".menu-header")), /Robert Stone/);
  await s.shot(page, "account-phone-renamed-profile-menu");
  await page.keyboard.press("Escape");
  const me = await s.t.request("GET", "/api/v1/me", { token: bob.token });
  assert.equal(me.json.user.name, "Robert Stone");

  // A blank name: said at the field, nothing sent.
  await page.getByLabel("Display name").fill("   ");
  await page.getByRole("button", { name: "Save" }).click();
  const nameField = page.getByLabel("Display name");
  await page.locator('input[name="name"][aria-invalid="true"]').waitFor();
  assert.match(
    await text(page.locator(`[id="${await nameField.getAttribute("aria-describedby")}"]`)),
    /Your name cannot be blank\./,
  );
  await page.getByLabel("Display name").fill("Robert Stone");

  // A wrong current password: the error is next to that field, and described by it.
  await page.getByLabel("Current password").fill("not my password at all");
  await page.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await page.getByLabel("Repeat the new password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText("The current password is wrong.").waitFor();
  const current = page.getByLabel("Current password");
  assert.equal(await current.getAttribute("aria-invalid"), "true");
  const describedBy = (await current.getAttribute("aria-describedby")) ?? "";
  assert.match(await text(page.locator(`[id="${describedBy}"]`)), /The current password is wrong\./);
  await s.shot(page, "account-phone-wrong-password");

  // Two different new passwords: said at the repeat field, nothing sent.
  await page.getByLabel("Current password").fill(bob.password);
  await page.getByLabel("Repeat the new password").fill("a brand new passphrasf");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText("The two new passwords are not the same.").waitFor();

  // The right one: other devices are logged out, this one stays.
  const otherDevice = await apiLogIn(bob, "curl/8.5.0");
  await page.getByLabel("Repeat the new password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText(/Your password is changed\. Every other device was logged out/).waitFor();
  assert.equal(await page.getByLabel("Current password").inputValue(), "");
  await s.shot(page, "account-phone-password-changed");
  assert.equal((await s.t.request("GET", "/api/v1/me", { token: otherDevice })).status, 401);
  assert.equal((await s.t.request("GET", "/api/v1/me", { token: bob.token })).status, 401);
  const still = await page.request.get("/api/v1/me");
  assert.equal(still.status(), 200, "this browser stays logged in");

  // My devices at phone size: only this one is left.
  await page.getByRole("link", { name: "See my devices" }).click();
  await page.getByRole("heading", { name: "My devices" }).waitFor();
  await page.getByText("No other device is logged in.").waitFor();
  assert.equal(await devices(page).count(), 1);
  await s.shot(page, "devices-phone");
  await s.checkA11y(page, "my devices (phone)");
});

test("Audit log: plain sentences, the action filter, the person filter, pages; a member is refused", async () => {
  const alice = await s.user({ name: "Alice Example", organizationName: "Acme" });
  const token = alice.token;
  const me = await s.t.request("GET", "/api/v1/me", { token });
  const orgId: string = me.json.organizations[0].id;
  const ok = (res: { status: number; text: string }, status: number) =>
    assert.equal(res.status, status, res.text);

  const ws = await s.t.request("POST", `/api/v1/orgs/${orgId}/workspaces`, {
    token,
    body: { name: "Field Ops" },
  });
  ok(ws, 201);
  const fieldOps: string = ws.json.workspace.id;
  // Bob joins through an invite link.
  const link = await s.t.request("POST", `/api/v1/orgs/${orgId}/invitations`, {
    token,
    body: { delivery: "link", role: "member", maxUses: 3 },
  });
  ok(link, 201);
  const bob = await s.user({ name: "Bob Stone", organizationName: "Bob's Bikes" });
  const inviteToken = decodeURIComponent(String(link.json.url).split("/invite/")[1] ?? "");
  ok(
    await s.t.request("POST", "/api/v1/invitations/accept", {
      token: bob.token,
      body: { token: inviteToken },
    }),
    200,
  );
  // His role in Field Ops: Editor, then Agent.
  ok(
    await s.t.request("PUT", `/api/v1/workspaces/${fieldOps}/members/${bob.userId}`, {
      token,
      body: { role: "editor" },
    }),
    201,
  );
  ok(
    await s.t.request("PUT", `/api/v1/workspaces/${fieldOps}/members/${bob.userId}`, {
      token,
      body: { role: "agent" },
    }),
    200,
  );
  ok(
    await s.t.request("POST", `/api/v1/orgs/${orgId}/invitations`, {
      token,
      body: { delivery: "email", email: "carol@example.org", role: "member" },
    }),
    201,
  );
  ok(await s.t.request("PATCH", `/api/v1/orgs/${orgId}`, { token, body: { name: "Acme Ltd" } }), 200);
  // Enough renames for more than one page of 25 events.
  for (let i = 1; i <= 20; i++) {
    const to = i === 20 ? "Acme" : `Acme ${i}`;
    ok(await s.t.request("PATCH", `/api/v1/orgs/${orgId}`, { token, body: { name: to } }), 200);
  }
  const all = await s.t.request("GET", `/api/v1/orgs/${orgId}/audit?limit=200`, { token });
  const total: number = all.json.items.length;
  assert.ok(total > 25 && total <= 50, `${total} events`);

  const page = await s.page("desktop");
  await s.logIn(page, alice);
  await page.goto(`/orgs/${orgId}/audit`);
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  const rows = page.locator("table.audit-table tbody tr");
  await rows.first().waitFor();
  assert.equal(await rows.count(), 25, "the first page holds 25 events");
  await page
    .getByText("Alice Example renamed the organisation from Acme 19 to Acme", { exact: true })
    .waitFor();
  assert.match(await text(page.getByRole("navigation", { name: "Pages of events" })), /Page 1/);
  const newer = await text(page.locator("table.audit-table tbody"));
  await s.shot(page, "audit-page-1");
  await s.checkA11y(page, "audit log");

  // Older: the rest. Between them, the two pages tell the set-up in plain words.
  await page.getByRole("button", { name: "Older" }).click();
  await page.getByText(/Page 2/).waitFor();
  await eventRows(page, total - 25);
  const older = await text(page.locator("table.audit-table tbody"));
  const both = `${newer}\n${older}`;
  for (const sentence of [
    "Alice Example changed Bob Stone's role from Editor to Agent in Field Ops",
    "Alice Example added Bob Stone to Field Ops as Editor",
    "Alice Example invited carol@example.org as Member",
    "Alice Example renamed the organisation from Acme to Acme Ltd",
    "Bob Stone joined Acme through an invite link",
    "Bob Stone joined Acme as Member through an invitation",
    "Alice Example created an invite link to join as Member, for up to 3 people",
    "Alice Example created the workspace Field Ops",
    "Alice Example created the organisation Acme",
  ]) {
    assert.ok(both.includes(sentence), `the log says: ${sentence}\n---\n${both}`);
  }
  assert.equal(await page.getByRole("button", { name: "Older" }).isDisabled(), true);
  await s.shot(page, "audit-page-2");
  await page.getByRole("button", { name: "Newer" }).click();
  await page.getByText(/Page 1/).waitFor();
  await eventRows(page, 25);

  // The action filter narrows it to workspace role changes.
  await page.getByLabel("Activity").selectOption("workspace_member.role_changed");
  await page.waitForURL(/action=workspace_member.role_changed/);
  await eventRows(page, 1);
  assert.match(
    await text(rows.first()),
    /Alice Example changed Bob Stone's role from Editor to Agent in Field Ops/,
  );
  assert.equal(await page.getByRole("navigation", { name: "Pages of events" }).count(), 0);
  await s.shot(page, "audit-filtered-role-changes");

  // Every member change, done by Bob.
  await page.getByLabel("Activity").selectOption("member.*");
  await page.getByLabel("Done by").selectOption({ label: `Bob Stone (${bob.email})` });
  await page.waitForURL(/actor=/);
  // The filtered page replaces the last one (which also had one row): wait for its row.
  await rows.first().filter({ hasText: "Bob Stone joined Acme as Member through an invitation" }).waitFor();
  await eventRows(page, 1);
  assert.match(await text(rows.first()), /Bob Stone joined Acme as Member through an invitation/);
  // Nothing matches: said so, with a way back.
  await page.getByLabel("Activity").selectOption("organization.renamed");
  await page.getByText("No events match these filters").waitFor();
  await page.getByRole("button", { name: "Clear filters" }).click();
  await eventRows(page, 25);
  assert.equal(new URL(page.url()).search, "");

  // Bob is a member of Acme: the audit log is not for him, and the page says who may see it.
  const bobPage = await s.page("phone");
  await s.logIn(bobPage, bob);
  await bobPage.goto(`/orgs/${orgId}/audit`);
  await bobPage.getByRole("heading", { name: "You need the Owner or Admin role" }).waitFor();
  assert.match(await text(bobPage.locator(".forbidden")), /Your role there is Member/);
  await s.shot(bobPage, "audit-forbidden-member-phone");
  await s.checkA11y(bobPage, "audit log refused");
  const refused = await s.t.request("GET", `/api/v1/orgs/${orgId}/audit`, { token: bob.token });
  assert.equal(refused.status, 403);

  // The audit log at phone size, for an owner.
  const phone = await s.page("phone");
  await s.logIn(phone, alice);
  await phone.goto(`/orgs/${orgId}/audit?action=workspace_member.*`);
  await phone.locator("table.audit-table tbody tr").nth(1).waitFor();
  await s.shot(phone, "audit-phone");
  await s.checkA11y(phone, "audit log (phone)");
});
