// The organisation's API keys page in a real browser: an owner makes a key with a workspace grant,
// copies its token from the one view that shows it, and the token works (and reaches only what it
// was given) until it is revoked; the list's columns, last use and empty state; an admin's page,
// a server's refusal shown in the dialog; a member without the link or the page; the phone layout.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Locator, Page } from "playwright-core";
import { grantWorkspaceRole, joinOrg } from "../helpers/org.js";
import { type ConsoleServer, consoleServer, copyFrom } from "./harness.js";

let s: ConsoleServer;
before(async () => {
  s = await consoleServer(import.meta.filename);
});
after(() => s.close());

/** Polls `check` until it stops throwing (or the time is up, and its error fails the test). */
async function eventually(check: () => Promise<void> | void, timeout = 8000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() - start > timeout) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * An owner (Olive) with two workspaces, Field Ops and Sales, an admin (Carol) and a member (Bob,
 * Editor in Field Ops).
 */
async function team(orgName: string) {
  const owner = await s.user({ name: "Olive Owner", organizationName: orgName });
  const me = await s.t.request("GET", "/api/v1/me", { token: owner.token });
  const orgId: string = me.json.organizations[0].id;
  const first = await s.t.request("GET", `/api/v1/orgs/${orgId}/workspaces`, { token: owner.token });
  const fieldOps: string = first.json.items[0].id;
  const renamed = await s.t.request("PATCH", `/api/v1/workspaces/${fieldOps}`, {
    token: owner.token,
    body: { name: "Field Ops" },
  });
  assert.equal(renamed.status, 200);
  const created = await s.t.request("POST", `/api/v1/orgs/${orgId}/workspaces`, {
    token: owner.token,
    body: { name: "Sales", timezone: "Europe/Paris", language: "fr" },
  });
  assert.equal(created.status, 201);
  const sales: string = created.json.workspace.id;
  const carol = await joinOrg(s.t, orgId, "admin", "Carol Admin");
  const bob = await joinOrg(s.t, orgId, "member", "Bob Builder");
  await grantWorkspaceRole(s.t, orgId, fieldOps, bob.userId, "editor");
  return { owner, orgId, orgName, fieldOps, sales, carol, bob };
}

async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? "").trim();
}

/** The text of one column of a table row, by the header's data-label. */
function cell(row: Locator, label: string): Locator {
  return row.locator(`td[data-label="${label}"]`);
}

const keyRows = (page: Page) => page.locator("table.org-api-keys tbody tr");
const nav = (page: Page) => page.getByRole("navigation", { name: "Organisation and workspace" });

async function openApiKeys(page: Page, orgId: string) {
  await page.goto(`/orgs/${orgId}/api-keys`);
  await page.getByRole("heading", { name: "API keys", level: 1 }).waitFor();
}

/** "14 Mar 2026", as the console (en-GB, dateStyle medium) writes a date. */
function shownDate(iso: string): string {
  return new Intl.DateTimeFormat("en-GB", { dateStyle: "medium" }).format(new Date(iso));
}

test("an owner creates a key for Field Ops, copies its token once, uses it, and revokes it", async () => {
  const { owner, orgId, fieldOps, sales } = await team("Acme Keys");
  const page = await s.page("desktop");
  await s.logIn(page, owner);
  await page.goto(`/orgs/${orgId}`);
  await nav(page).getByRole("link", { name: "API keys" }).click();
  await page.waitForURL(new RegExp(`/orgs/${orgId}/api-keys$`));
  await page.getByRole("heading", { name: "API keys", level: 1 }).waitFor();

  // No key yet: the empty state says what a key is for and offers to make one.
  await page.getByText("No API keys yet").waitFor();
  assert.match(await text(page.locator(".empty")), /lets a program act in Acme Keys without anyone's log-in/);
  await s.shot(page, "api-keys-empty");
  await s.checkA11y(page, "API keys, empty");

  await page.getByRole("button", { name: "Create your first API key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await dialog.waitFor();
  assert.equal(await dialog.getByRole("radio", { name: /^Member/ }).isChecked(), true);
  assert.match(await text(dialog.locator(".choices")), /Admin.*admin in every workspace/);

  // A name of only spaces is refused next to the field, and nothing is made.
  await dialog.getByLabel("Name").fill("   ");
  await dialog.getByRole("button", { name: "Create API key" }).click();
  await dialog.getByText("Give the key a name that says what uses it, e.g. CI deploys.").waitFor();
  assert.equal(await dialog.getByLabel("Name").getAttribute("aria-invalid"), "true");
  await s.shot(page, "api-key-name-refused");
  const none = await s.t.request("GET", `/api/v1/orgs/${orgId}/api-keys`, { token: owner.token });
  assert.deepEqual(none.json.items, []);

  await dialog.getByLabel("Name").fill("CI deploys");
  await dialog.getByRole("button", { name: "Add a workspace" }).click();
  await dialog.getByLabel("Workspace", { exact: true }).selectOption({ label: "Field Ops" });
  await dialog.getByLabel("Role in workspace").selectOption("editor");
  assert.equal(await dialog.getByLabel("Expires").inputValue(), "");
  await s.shot(page, "api-key-create-dialog");
  await s.checkA11y(page, "create API key dialog");
  await dialog.getByRole("button", { name: "Create API key" }).click();

  // The token, once, with the warning that it cannot be shown again.
  const shown = page.getByRole("dialog", { name: "Your new API key" });
  await shown.waitFor();
  await shown.getByText("Copy it now: Rollcall keeps only a hash and cannot show it again.").waitFor();
  const token = await shown.getByLabel("API key").inputValue();
  assert.match(token, /^rk_[A-Za-z0-9_-]{43}$/);
  await copyFrom(page, shown, token);
  await s.shot(page, "api-key-token");
  await s.checkA11y(page, "new API key token view");
  await shown.getByRole("button", { name: "Done" }).click();
  await shown.waitFor({ state: "hidden" });
  assert.equal(await page.locator(`input[value="${token}"]`).count(), 0, "the token left the page");

  // The list: name and prefix, role, grant, maker, never used, never expires.
  const row = page.getByRole("row", { name: /CI deploys/ });
  await row.waitFor();
  assert.equal(await keyRows(page).count(), 1);
  assert.match(await text(cell(row, "Key")), new RegExp(`CI deploys\\s*${token.slice(0, 9)}…$`));
  assert.doesNotMatch(await text(row), new RegExp(token.slice(9)), "only the prefix is shown");
  assert.equal(await text(cell(row, "Role")), "Member");
  assert.equal(await text(cell(row, "Workspaces")), "Field Ops · Editor");
  assert.match(await text(cell(row, "Created")), /by Olive Owner$/);
  assert.equal(await text(cell(row, "Last used")), "Never");
  assert.equal(await text(cell(row, "Expires")), "Never");

  // The token is real: it reads the organisation and Field Ops, and Sales is not its to see.
  const org = await s.t.request("GET", `/api/v1/orgs/${orgId}`, { token });
  assert.equal(org.status, 200);
  assert.equal(org.json.organization.name, "Acme Keys");
  assert.equal((await s.t.request("GET", `/api/v1/workspaces/${fieldOps}`, { token })).status, 200);
  assert.equal((await s.t.request("GET", `/api/v1/workspaces/${sales}`, { token })).status, 404);

  await page.reload();
  const used = page.getByRole("row", { name: /CI deploys/ });
  await used.waitFor();
  const lastUsed = cell(used, "Last used");
  assert.equal(await text(lastUsed), "just now");
  assert.ok(await lastUsed.locator("time").getAttribute("datetime"), "the exact time is kept");
  await s.shot(page, "api-keys-used");
  await s.checkA11y(page, "API keys list");

  // Revoke, after a confirmation that names the key and says what stops.
  await page.getByRole("button", { name: "Revoke CI deploys" }).click();
  const confirm = page.getByRole("dialog", { name: "Revoke CI deploys?" });
  await confirm.getByText("Anything using it stops working at its next request.").waitFor();
  await s.shot(page, "api-key-revoke");
  await s.checkA11y(page, "revoke API key dialog");
  await confirm.getByRole("button", { name: "Revoke key" }).click();
  await page.getByRole("status").filter({ hasText: "CI deploys was revoked" }).waitFor();
  await confirm.waitFor({ state: "hidden" });
  await page.getByText("No API keys yet").waitFor();
  assert.equal(await keyRows(page).count(), 0);
  const refused = await s.t.request("GET", `/api/v1/orgs/${orgId}`, { token });
  assert.equal(refused.status, 401);
  assert.equal(refused.json.code, "invalid_api_key");
});

test("an admin sees the page and makes an admin key that expires; the server's refusal shows in the dialog", async () => {
  const { owner, orgId, carol } = await team("Acme Admins");
  const page = await s.page("desktop");
  await s.logIn(page, carol);
  await page.goto(`/orgs/${orgId}`);
  await nav(page).getByRole("link", { name: "API keys" }).click();
  await page.getByRole("heading", { name: "API keys", level: 1 }).waitFor();

  await page.getByRole("button", { name: "Create API key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await dialog.getByLabel("Name").fill("Nightly export");
  await dialog.getByRole("radio", { name: /^Admin/ }).check();
  await dialog
    .getByText("An admin key is admin in every workspace, so there is no workspace to choose.")
    .waitFor();
  assert.equal(await dialog.getByRole("button", { name: "Add a workspace" }).count(), 0);
  await dialog.getByLabel("Expires").selectOption({ label: "30 days" });
  await dialog.getByRole("button", { name: "Create API key" }).click();
  const shown = page.getByRole("dialog", { name: "Your new API key" });
  await shown.waitFor();
  const token = await shown.getByLabel("API key").inputValue();
  await shown.getByRole("button", { name: "Done" }).click();

  const [made] = (await s.t.request("GET", `/api/v1/orgs/${orgId}/api-keys`, { token: owner.token })).json
    .items;
  assert.equal(made.name, "Nightly export");
  assert.equal(made.role, "admin");
  const days = (new Date(made.expiresAt).getTime() - Date.now()) / 86_400_000;
  assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`);
  const row = page.getByRole("row", { name: /Nightly export/ });
  await row.waitFor();
  assert.equal(await text(cell(row, "Role")), "Admin");
  assert.equal(await text(cell(row, "Workspaces")), "All, as admin");
  assert.equal(await text(cell(row, "Expires")), shownDate(made.expiresAt));
  assert.match(await text(cell(row, "Created")), /by Carol Admin$/);
  assert.equal((await s.t.request("GET", `/api/v1/orgs/${orgId}/api-keys`, { token })).status, 200);

  // Its day comes: the list says so, and the token no longer works.
  await s.t.db
    .updateTable("api_keys")
    .set({ expires_at: new Date(Date.now() - 60_000) })
    .where("id", "=", made.id)
    .execute();
  await page.reload();
  const expired = cell(page.getByRole("row", { name: /Nightly export/ }), "Expires");
  await eventually(async () => assert.match(await text(expired), /Expired$/));
  assert.equal((await s.t.request("GET", `/api/v1/orgs/${orgId}/api-keys`, { token })).status, 401);

  // Carol becomes a member while the dialog is open: the server's 403 is shown there.
  await page.getByRole("button", { name: "Create API key" }).click();
  await dialog.getByLabel("Name").fill("Too late");
  const demoted = await s.t.request("PATCH", `/api/v1/orgs/${orgId}/members/${carol.userId}`, {
    token: owner.token,
    body: { role: "member" },
  });
  assert.equal(demoted.status, 200);
  await dialog.getByRole("button", { name: "Create API key" }).click();
  const alert = dialog.getByRole("alert");
  await alert.waitFor();
  assert.match(await text(alert), /organisation member lacks org\.apikeys/);
  await s.shot(page, "api-key-refused-by-server");
  assert.equal(await dialog.getByRole("heading", { name: "Create API key" }).count(), 1, "the form stays");
});

test("a member has no link to the page and gets the friendly page at its address", async () => {
  const { orgId, orgName, bob } = await team("Acme Members");
  const page = await s.page("desktop");
  await s.logIn(page, bob);
  await page.goto(`/orgs/${orgId}`);
  await nav(page).getByRole("link", { name: "Workspaces", exact: true }).waitFor();
  assert.equal(await nav(page).getByRole("link", { name: "API keys" }).count(), 0);

  await page.goto(`/orgs/${orgId}/api-keys`);
  await page.getByRole("heading", { name: "You need the Owner or Admin role" }).waitFor();
  const said = await text(page.locator(".forbidden"));
  assert.match(said, new RegExp(`in ${orgName}`));
  assert.match(said, /Your role there is Member/);
  assert.equal(await page.getByRole("button", { name: "Create API key" }).count(), 0);
  await s.shot(page, "api-keys-forbidden");
  await s.checkA11y(page, "API keys, forbidden");
});

test("on a phone the keys are stacked cards, with no sideways scroll, and a key can be made", async () => {
  const { owner, orgId, fieldOps, sales } = await team("Acme Pocket");
  const made = await s.t.request("POST", `/api/v1/orgs/${orgId}/api-keys`, {
    token: owner.token,
    body: {
      name: "Warehouse scanner with a rather long name",
      role: "member",
      workspaces: [
        { workspaceId: fieldOps, role: "agent" },
        { workspaceId: sales, role: "viewer" },
      ],
      expiresInDays: 365,
    },
  });
  assert.equal(made.status, 201);
  const page = await s.page("phone");
  await s.logIn(page, owner);
  await openApiKeys(page, orgId);
  await page.getByRole("row", { name: /Warehouse scanner/ }).waitFor();

  const td = (label: string) =>
    `document.querySelector('table.org-api-keys tbody td[data-label="${label}"]')`;
  assert.equal(await page.evaluate<string>(`getComputedStyle(${td("Role")}).display`), "flex");
  assert.equal(
    await page.evaluate<string>(`getComputedStyle(${td("Last used")}, "::before").content`),
    '"Last used"',
  );
  assert.equal(await page.evaluate<string>(`getComputedStyle(${td("Key")}).display`), "block");
  const overflow = () => page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
  assert.ok((await overflow()) <= 0, `the page scrolls sideways by ${await overflow()}px`);
  await s.shot(page, "api-keys-phone");
  await s.checkA11y(page, "API keys on a phone");

  await page.getByRole("button", { name: "Create API key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await dialog.getByLabel("Name").fill("Phone key");
  await dialog.getByRole("button", { name: "Add a workspace" }).click();
  const box = await dialog.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 390, "the dialog fits the screen");
  await s.shot(page, "api-key-create-phone");
  await dialog.getByRole("button", { name: "Create API key" }).click();
  const shown = page.getByRole("dialog", { name: "Your new API key" });
  const token = await shown.getByLabel("API key").inputValue();
  await copyFrom(page, shown, token);
  await s.shot(page, "api-key-token-phone");
  await shown.getByRole("button", { name: "Done" }).click();
  await eventually(async () => assert.equal(await keyRows(page).count(), 2));
  assert.ok((await overflow()) <= 0, "still no sideways scroll");
});
