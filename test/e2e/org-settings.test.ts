// The organisation pages in a real browser: the org home (workspace tiles, "New workspace"),
// User Settings (members table, search, role filter, a member's role and workspaces, removal),
// "Invite People to the Organisation" (link and e-mail), the pending invitations, the
// organisation's settings (rename, delete) and what a member without the right role sees.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Locator, Page } from "playwright-core";
import { uniqueEmail } from "../helpers/app.js";
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
 * An owner (Olive) with an organisation of two workspaces, Field Ops and Sales, and three more
 * people: Bob (member, Editor in Field Ops), Carol (admin) and Dan (member, Viewer in Sales).
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
  const bob = await joinOrg(s.t, orgId, "member", "Bob Builder");
  await grantWorkspaceRole(s.t, orgId, fieldOps, bob.userId, "editor");
  const carol = await joinOrg(s.t, orgId, "admin", "Carol Admin");
  const dan = await joinOrg(s.t, orgId, "member", "Dan Viewer");
  await grantWorkspaceRole(s.t, orgId, sales, dan.userId, "viewer");
  return { owner, orgId, orgName, fieldOps, sales, bob, carol, dan };
}

async function members(token: string, orgId: string) {
  const answer = await s.t.request("GET", `/api/v1/orgs/${orgId}/members?limit=200`, { token });
  assert.equal(answer.status, 200);
  return answer.json.items as {
    userId: string;
    name: string;
    role: string;
    workspaces: { id: string; role: string }[];
  }[];
}

async function openMembers(page: Page, orgId: string) {
  await page.goto(`/orgs/${orgId}/members`);
  await page.getByRole("heading", { name: "User Settings", level: 1 }).waitFor();
  await page.getByRole("row", { name: /Olive Owner/ }).waitFor();
}

/** The text of what a locator finds (its DOM text, as a person reads it). */
async function text(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? "";
}

/** The text of one column of a table row, by the header's data-label. */
function cell(row: Locator, label: string): Locator {
  return row.locator(`td[data-label="${label}"]`);
}

const memberRows = (page: Page) => page.locator("table.org-members tbody tr");

test("the members table shows each person with their role and workspaces; search and the role filter narrow it", async () => {
  const { owner, orgId } = await team("Acme Logistics");
  const page = await s.page("desktop");
  await s.logIn(page, owner);
  await openMembers(page, orgId);
  await eventually(async () => assert.equal(await memberRows(page).count(), 4));

  const bob = page.getByRole("row", { name: /Bob Builder/ });
  assert.equal(await text(cell(bob, "Role")), "Member");
  assert.equal(await text(cell(bob, "Workspaces")), "Field Ops · Editor");
  const carol = page.getByRole("row", { name: /Carol Admin/ });
  assert.equal(await text(cell(carol, "Role")), "Admin");
  assert.equal(await text(cell(carol, "Workspaces")), "Admin in every workspace");
  const olive = page.getByRole("row", { name: /Olive Owner/ });
  assert.equal(await text(cell(olive, "Role")), "Owner");
  assert.match(await text(cell(olive, "Member")), /You/);
  assert.equal(
    await text(cell(page.getByRole("row", { name: /Dan Viewer/ }), "Workspaces")),
    "Sales · Viewer",
  );
  // Nobody removes themselves from here; everyone else has a trash icon.
  assert.equal(await page.getByRole("button", { name: "Remove Olive Owner" }).count(), 0);
  assert.equal(await page.getByRole("button", { name: "Remove Bob Builder" }).count(), 1);
  await s.shot(page, "members-desktop");
  await s.checkA11y(page, "members page");

  await page.getByLabel("Search members").fill("caro");
  await eventually(async () => {
    assert.equal(await memberRows(page).count(), 1);
    assert.match(await text(memberRows(page).first()), /Carol Admin/);
  });
  await page.getByLabel("Search members").fill("nobody-by-this-name");
  await page.getByText("Nobody matches").waitFor();
  await s.shot(page, "members-search-empty");

  await page.getByLabel("Search members").fill("");
  await page.getByLabel("Role", { exact: true }).selectOption("member");
  await eventually(async () => {
    const names = await page.locator("table.org-members .person-name").allInnerTexts();
    assert.deepEqual(names.map((n) => n.trim()).sort(), ["Bob Builder", "Dan Viewer"]);
  });
  await s.shot(page, "members-filter-members");
});

test("an owner changes a member's org role and their workspaces, and sees why the last owner cannot step down", async () => {
  const { owner, orgId, fieldOps, sales, bob } = await team("Acme Roles");
  const page = await s.page("desktop");
  await s.logIn(page, owner);
  await openMembers(page, orgId);

  await page.getByRole("button", { name: "Manage Bob Builder" }).click();
  const dialog = page.getByRole("dialog", { name: "Bob Builder" });
  await dialog.waitFor();
  await s.shot(page, "member-dialog");
  await s.checkA11y(page, "member dialog");

  // Org role: Member → Admin.
  await dialog.getByRole("radio", { name: /^Admin/ }).check();
  await dialog.getByRole("button", { name: "Save role" }).click();
  await page.getByText("Bob Builder is now Admin").waitFor();
  let bobNow = (await members(owner.token, orgId)).find((m) => m.userId === bob.userId);
  assert.equal(bobNow?.role, "admin");

  // Workspaces: add to Sales as Viewer, Field Ops Editor → Agent, then remove from Field Ops.
  await dialog.getByLabel("Add to workspace").selectOption({ label: "Sales" });
  await dialog.getByLabel("Workspace role").selectOption("viewer");
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  await dialog.getByLabel("Role in Sales").waitFor();
  assert.equal(await dialog.getByLabel("Role in Sales").inputValue(), "viewer");
  const salesMembers = await s.t.request("GET", `/api/v1/workspaces/${sales}/members`, {
    token: owner.token,
  });
  assert.equal(
    salesMembers.json.items.find((m: { userId: string }) => m.userId === bob.userId)?.role,
    "viewer",
  );

  await dialog.getByLabel("Role in Field Ops").selectOption("agent");
  await page.getByText("Bob Builder is Agent in Field Ops").waitFor();
  bobNow = (await members(owner.token, orgId)).find((m) => m.userId === bob.userId);
  assert.equal(bobNow?.workspaces.find((w) => w.id === fieldOps)?.role, "agent");

  await dialog.getByRole("button", { name: "Remove from Field Ops" }).click();
  await dialog.getByLabel("Role in Field Ops").waitFor({ state: "detached" });
  const fieldOpsMembers = await s.t.request("GET", `/api/v1/workspaces/${fieldOps}/members`, {
    token: owner.token,
  });
  assert.ok(!fieldOpsMembers.json.items.some((m: { userId: string }) => m.userId === bob.userId));
  await s.shot(page, "member-dialog-after-changes");
  await dialog.getByRole("button", { name: "Done" }).click();
  await dialog.waitFor({ state: "hidden" });

  const row = page.getByRole("row", { name: /Bob Builder/ });
  await eventually(async () => {
    assert.equal(await text(cell(row, "Role")), "Admin");
    const spaces = await text(cell(row, "Workspaces"));
    assert.match(spaces, /Sales · Viewer/);
    assert.doesNotMatch(spaces, /Field Ops/);
  });

  // The last owner cannot become an admin: the API's reason is shown in the dialog.
  await page.getByRole("button", { name: "Manage Olive Owner" }).click();
  const self = page.getByRole("dialog", { name: "Olive Owner" });
  await self.getByRole("radio", { name: /^Admin/ }).check();
  await self.getByRole("button", { name: "Save role" }).click();
  await self.getByRole("alert").filter({ hasText: "last owner" }).waitFor();
  await s.shot(page, "member-dialog-last-owner");
  assert.equal((await members(owner.token, orgId)).find((m) => m.userId === owner.userId)?.role, "owner");
});

test("removing a member asks first, names what they lose, and takes them out of the organisation", async () => {
  const { owner, orgId, dan } = await team("Acme Removal");
  const page = await s.page("desktop");
  await s.logIn(page, owner);
  await openMembers(page, orgId);

  await page.getByRole("button", { name: "Remove Dan Viewer" }).click();
  const confirm = page.getByRole("dialog", { name: "Remove Dan Viewer?" });
  await confirm.waitFor();
  assert.match(await text(confirm), /every workspace in it \(Sales\)/);
  await s.shot(page, "remove-member-confirm");
  await s.checkA11y(page, "remove member dialog");
  await confirm.getByRole("button", { name: "Remove from organisation" }).click();
  await page.getByRole("row", { name: /Dan Viewer/ }).waitFor({ state: "detached" });
  await page.getByText("Dan Viewer was removed from Acme Removal").waitFor();
  assert.ok(!(await members(owner.token, orgId)).some((m) => m.userId === dan.userId));
  // Their session no longer opens the organisation.
  const gone = await s.t.request("GET", `/api/v1/orgs/${orgId}`, { token: dan.token });
  assert.equal(gone.status, 404);
});

test("an invite link for a Member with Field Ops as Editor and 3 uses: shown, copied, and the link offers exactly that", async () => {
  const { owner, orgId, fieldOps } = await team("Acme Links");
  const page = await s.page("desktop");
  await s.logIn(page, owner);
  await openMembers(page, orgId);

  await page.getByRole("button", { name: "Invite People to the Organisation" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite People to the Organisation" });
  await dialog.waitFor();
  // An owner is offered all three levels, each described.
  for (const level of ["Owner", "Admin", "Member"]) {
    assert.equal(await dialog.getByRole("radio", { name: new RegExp(`^${level}`) }).count(), 1);
  }
  assert.ok(await dialog.getByRole("radio", { name: /^Member/ }).isChecked());
  await dialog.getByRole("button", { name: "Add a workspace" }).click();
  await dialog.getByLabel("Workspace", { exact: true }).selectOption({ label: "Field Ops" });
  await dialog.getByLabel("Role in workspace").selectOption("editor");
  await dialog.getByLabel("Maximum uses").fill("3");
  await s.shot(page, "invite-dialog-link");
  await s.checkA11y(page, "invite dialog");

  await dialog.getByRole("button", { name: "Generate Invite Link" }).click();
  const field = dialog.getByRole("textbox", { name: "Invite link" });
  await field.waitFor();
  const url = await field.inputValue();
  assert.match(url, new RegExp(`^${s.url}/invite/[A-Za-z0-9_-]{40,}$`));
  await dialog.getByText("Rollcall does not send this link: share it yourself.").waitFor();
  assert.match(await text(dialog), /Up to 3 people can join with it as Member; Field Ops as Editor/);
  await copyFrom(page, dialog, url);
  await s.shot(page, "invite-link-ready");

  const token = url.split("/invite/")[1] ?? "";
  const lookup = await s.t.request("GET", `/api/v1/invitations/lookup?token=${encodeURIComponent(token)}`);
  assert.equal(lookup.status, 200);
  assert.equal(lookup.json.role, "member");
  assert.deepEqual(
    lookup.json.workspaces.map((w: { id: string; name: string; role: string }) => [w.id, w.name, w.role]),
    [[fieldOps, "Field Ops", "editor"]],
  );
  assert.equal(lookup.json.organization.name, "Acme Links");

  // The pending list shows the link with its uses; "New link" replaces it, and the old one dies.
  await dialog.getByRole("button", { name: "Done" }).click();
  const row = page.getByRole("row", { name: /Invite link/ });
  await row.waitFor();
  assert.match(await text(row), /0 of 3 uses/);
  assert.match(await text(row), /Field Ops · Editor/);
  await row.getByRole("button", { name: "New link" }).click();
  await page
    .getByRole("dialog", { name: "Make a new invite link?" })
    .getByRole("button", { name: "Make new link" })
    .click();
  const fresh = page.getByRole("dialog", { name: "New invite link" });
  await fresh.waitFor();
  const newUrl = await fresh.getByRole("textbox", { name: "Invite link" }).inputValue();
  assert.notEqual(newUrl, url);
  await s.shot(page, "invite-link-renewed");
  const old = await s.t.request("GET", `/api/v1/invitations/lookup?token=${encodeURIComponent(token)}`);
  assert.notEqual(old.status, 200);
  const renewed = await s.t.request(
    "GET",
    `/api/v1/invitations/lookup?token=${encodeURIComponent(newUrl.split("/invite/")[1] ?? "")}`,
  );
  assert.equal(renewed.json.status, "pending");
});

test("an admin is not offered Owner, cannot change or remove an owner, and cannot delete the organisation", async () => {
  const { carol, orgId, orgName } = await team("Acme Admins");
  const page = await s.page("desktop");
  await s.logIn(page, carol);
  await openMembers(page, orgId);

  await page.getByRole("button", { name: "Invite People to the Organisation" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite People to the Organisation" });
  await dialog.waitFor();
  assert.equal(await dialog.getByRole("radio", { name: /^Owner/ }).count(), 0);
  assert.equal(await dialog.getByRole("radio", { name: /^Admin/ }).count(), 1);
  assert.equal(await dialog.getByRole("radio", { name: /^Member/ }).count(), 1);
  // Admins are admin everywhere: no workspaces to choose for them.
  await dialog.getByRole("radio", { name: /^Admin/ }).check();
  await dialog.getByText("Owners and admins are admin in every workspace").waitFor();
  await s.shot(page, "invite-dialog-as-admin");
  await dialog.getByRole("button", { name: "Close" }).click();

  assert.equal(await page.getByRole("button", { name: "Remove Olive Owner" }).count(), 0);
  await page.getByRole("button", { name: "Manage Olive Owner" }).click();
  const olive = page.getByRole("dialog", { name: "Olive Owner" });
  await olive.getByText("Only an owner can change the role of an owner.").waitFor();
  assert.ok(await olive.getByRole("radio", { name: /^Admin/ }).isDisabled());
  assert.ok(await olive.getByRole("button", { name: "Save role" }).isDisabled());
  await olive.getByRole("button", { name: "Done" }).click();

  await page.getByRole("link", { name: "Settings", exact: true }).click();
  await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
  await page.getByText(`Only an owner of ${orgName} can delete it.`).waitFor();
  assert.equal(await page.getByRole("button", { name: "Delete organisation" }).count(), 0);
});

test("an e-mail invitation arrives over SMTP, shows its delivery in the pending list, can be resent and revoked", async () => {
  const { owner, orgId, sales } = await team("Acme Mail");
  const page = await s.page("desktop");
  await s.logIn(page, owner);
  await openMembers(page, orgId);
  const address = uniqueEmail("invitee");

  await page.getByRole("button", { name: "Invite People to the Organisation" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite People to the Organisation" });
  await dialog.getByText("Invite by e-mail").click();
  // A bad address is refused next to the field.
  await dialog.getByLabel("E-mail address").fill("not-an-address");
  await dialog.getByRole("button", { name: "Send invitation" }).click();
  await dialog.locator(".field-error").filter({ hasText: "e-mail address" }).waitFor();
  assert.equal(await dialog.getByLabel("E-mail address").getAttribute("aria-invalid"), "true");
  await s.shot(page, "invite-email-field-error");

  await dialog.getByLabel("E-mail address").fill(address);
  await dialog.getByRole("button", { name: "Add a workspace" }).click();
  await dialog.getByLabel("Workspace", { exact: true }).selectOption({ label: "Sales" });
  await dialog.getByLabel("Role in workspace").selectOption("agent");
  await dialog.getByLabel("Expires after").selectOption({ label: "3 days" });
  await s.shot(page, "invite-dialog-email");
  await dialog.getByRole("button", { name: "Send invitation" }).click();
  await dialog.getByText(`Invitation sent to ${address}.`).waitFor();
  await s.shot(page, "invite-email-sent");

  const mail = await s.mailTo(address);
  assert.match(mail.text ?? "", new RegExp(`${s.url}/invite/`));
  await dialog.getByRole("button", { name: "Done" }).click();

  const row = page.getByRole("row", { name: new RegExp(address.replace(/[.+]/g, "\\$&")) });
  await row.waitFor();
  await row.getByText("Sent", { exact: true }).waitFor();
  assert.match(await text(row), /Sales · Agent/);
  await s.shot(page, "pending-invitations");
  await s.checkA11y(page, "members page with pending invitations");

  const list = await s.t.request("GET", `/api/v1/orgs/${orgId}/invitations?status=pending`, {
    token: owner.token,
  });
  const invitation = list.json.items.find((i: { email: string }) => i.email === address);
  assert.equal(invitation.mail.status, "sent");
  assert.deepEqual(
    invitation.workspaces.map((w: { id: string }) => w.id),
    [sales],
  );
  assert.ok(new Date(invitation.expiresAt).getTime() - Date.now() < 73 * 3600_000);

  // Resend: a second mail.
  await row.getByRole("button", { name: `Resend to ${address}` }).click();
  await page.getByText(`Invitation sent again to ${address}`).waitFor();
  await s.t.smtp.waitFor((m) => m.to.includes(address) && m.text !== mail.text, 15_000);

  // Revoke.
  await row.getByRole("button", { name: `Revoke invitation for ${address}` }).click();
  const confirm = page.getByRole("dialog", { name: "Revoke this invitation?" });
  await confirm.getByRole("button", { name: "Revoke invitation" }).click();
  await row.waitFor({ state: "detached" });
  const cancelled = await s.t.request("GET", `/api/v1/orgs/${orgId}/invitations?status=cancelled`, {
    token: owner.token,
  });
  assert.ok(cancelled.json.items.some((i: { id: string }) => i.id === invitation.id));
  await page.getByText("No pending invitations").waitFor();
});

test("an owner renames the organisation, and deletes another one after typing its name", async () => {
  const { owner, orgId } = await team("Acme Naming");
  const doomed = await s.t.request("POST", "/api/v1/orgs", {
    token: owner.token,
    body: { name: "Doomed Ltd" },
  });
  assert.equal(doomed.status, 201);
  const doomedId: string = doomed.json.organization.id;
  const page = await s.page("desktop");
  await s.logIn(page, owner);

  await page.goto(`/orgs/${orgId}/settings`);
  await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
  const name = page.getByLabel("Name", { exact: true });
  assert.equal(await name.inputValue(), "Acme Naming");
  assert.ok(await page.getByRole("button", { name: "Save" }).isDisabled());
  await name.fill("Acme Renamed");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Organisation renamed to Acme Renamed").waitFor();
  const org = await s.t.request("GET", `/api/v1/orgs/${orgId}`, { token: owner.token });
  assert.equal(org.json.organization.name, "Acme Renamed");
  // The switcher in the header follows.
  await page.locator(".topbar .place-name").filter({ hasText: "Acme Renamed" }).waitFor();
  await s.shot(page, "settings-renamed");
  await s.checkA11y(page, "settings page");

  await page.goto(`/orgs/${doomedId}/settings`);
  await page.getByRole("heading", { name: "Danger zone" }).waitFor();
  await page.getByRole("button", { name: "Delete organisation" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete Doomed Ltd?" });
  await dialog.waitFor();
  const confirm = dialog.getByRole("button", { name: "Delete organisation" });
  assert.ok(await confirm.isDisabled());
  await dialog.getByLabel("Type Doomed Ltd to confirm").fill("Doomed");
  assert.ok(await confirm.isDisabled());
  await dialog.getByLabel("Type Doomed Ltd to confirm").fill("Doomed Ltd");
  await s.shot(page, "settings-delete-confirm");
  await s.checkA11y(page, "delete organisation dialog");
  await confirm.click();
  await page.waitForURL((u) => !u.pathname.includes(doomedId));
  await page.getByText("Doomed Ltd was deleted").waitFor();
  const gone = await s.t.request("GET", `/api/v1/orgs/${doomedId}`, { token: owner.token });
  assert.equal(gone.status, 404);
  const me = await s.t.request("GET", "/api/v1/me", { token: owner.token });
  assert.deepEqual(
    me.json.organizations.map((o: { name: string }) => o.name),
    ["Acme Renamed"],
  );
});

test("a member sees their workspaces, no settings in the navigation, and a friendly page on a direct URL", async () => {
  const { bob, orgId, orgName } = await team("Acme Members");
  const page = await s.page("desktop");
  await s.logIn(page, bob);

  await page.goto(`/orgs/${orgId}`);
  await page.getByRole("heading", { name: orgName, level: 1 }).waitFor();
  const tile = page.getByRole("link", { name: /Field Ops/ });
  await tile.waitFor();
  assert.match(await text(tile), /Editor/);
  assert.equal(await page.getByRole("link", { name: /Sales/ }).count(), 0);
  assert.equal(await page.getByRole("button", { name: "New workspace" }).count(), 0);
  const nav = page.getByRole("navigation", { name: "Organisation and workspace" });
  assert.equal(await nav.getByRole("link", { name: "User Settings" }).count(), 0);
  assert.equal(await nav.getByRole("link", { name: "Settings", exact: true }).count(), 0);
  assert.equal(await nav.getByRole("link", { name: "Workspaces", exact: true }).count(), 1);
  await s.shot(page, "org-home-member");
  await s.checkA11y(page, "org home as member");

  for (const [path, shot] of [
    ["members", "forbidden-members"],
    ["settings", "forbidden-settings"],
  ] as const) {
    await page.goto(`/orgs/${orgId}/${path}`);
    await page.getByRole("heading", { name: "You need the Owner or Admin role" }).waitFor();
    const said = await text(page.locator(".forbidden"));
    assert.match(said, new RegExp(`in ${orgName}`));
    assert.match(said, /Your role there is Member/);
    await s.shot(page, shot);
  }
  await s.checkA11y(page, "forbidden page");
  await page.getByRole("link", { name: "Back to workspaces" }).click();
  await page.waitForURL(new RegExp(`/orgs/${orgId}$`));

  // Bob leaves the organisation; the console takes him to the organisation he still has.
  await page.getByRole("button", { name: "Leave organisation" }).click();
  const leave = page.getByRole("dialog", { name: `Leave ${orgName}?` });
  await s.shot(page, "leave-organisation-confirm");
  await leave.getByRole("button", { name: "Leave organisation" }).click();
  await page.waitForURL((u) => /^\/orgs\/[^/]+$/.test(u.pathname) && !u.pathname.includes(orgId));
  const mine = await s.t.request("GET", "/api/v1/me", { token: bob.token });
  assert.ok(!mine.json.organizations.some((o: { id: string }) => o.id === orgId));
  await page.getByRole("button", { name: "Switch organisation" }).click();
  await page.getByRole("menuitem", { name: "Create organisation" }).waitFor();
  assert.equal(await page.getByRole("menuitem", { name: new RegExp(orgName) }).count(), 0);
  await page.keyboard.press("Escape");

  // A member with no workspace is told whom to ask.
  const eve = await joinOrg(s.t, orgId, "member", "Eve Newcomer");
  const other = await s.page("desktop");
  await s.logIn(other, eve);
  await other.goto(`/orgs/${orgId}`);
  await other.getByText(`You're not in any workspace of ${orgName} yet.`).waitFor();
  await other.getByText("Ask an admin to add you.").waitFor();
  await s.shot(other, "org-home-no-workspace");
});

test("an owner creates a workspace from the organisation's home and lands in it", async () => {
  const { owner, orgId } = await team("Acme Spaces");
  const page = await s.page("desktop");
  await s.logIn(page, owner);
  await page.goto(`/orgs/${orgId}`);
  await page.getByRole("link", { name: /Field Ops/ }).waitFor();
  assert.match(await text(page.getByRole("link", { name: /Sales/ })), /Admin/);
  await s.shot(page, "org-home-owner");
  await s.checkA11y(page, "org home as owner");

  await page.getByRole("button", { name: "New workspace" }).click();
  const dialog = page.getByRole("dialog", { name: "New workspace" });
  await dialog.waitFor();
  await dialog.getByRole("button", { name: "Create workspace" }).click();
  await dialog.getByText("Give the workspace a name.").waitFor();
  await dialog.getByLabel("Workspace name").fill("Night Shift");
  await dialog.getByLabel("Time zone").selectOption("Asia/Tokyo");
  await dialog.getByLabel("Language").selectOption("ja");
  await s.shot(page, "new-workspace-dialog");
  await s.checkA11y(page, "new workspace dialog");
  await dialog.getByRole("button", { name: "Create workspace" }).click();
  await page.waitForURL(new RegExp(`/orgs/${orgId}/workspaces/[^/]+$`));
  const wsId = new URL(page.url()).pathname.split("/").at(-1) ?? "";
  const ws = await s.t.request("GET", `/api/v1/workspaces/${wsId}`, { token: owner.token });
  assert.equal(ws.json.workspace.name, "Night Shift");
  assert.equal(ws.json.workspace.timezone, "Asia/Tokyo");
  assert.equal(ws.json.workspace.language, "ja");

  await page.goto(`/orgs/${orgId}`);
  assert.match(await text(page.getByRole("link", { name: /Night Shift/ })), /Asia\/Tokyo/);
});

test("on a phone the members table becomes stacked cards and the invite dialog works", async () => {
  const { owner, orgId } = await team("Acme Mobile");
  const page = await s.page("phone");
  await s.logIn(page, owner);
  await openMembers(page, orgId);
  // Each member is a card: their name and address, then one line per column, labelled.
  const td = (label: string) => `document.querySelector('table.org-members tbody td[data-label="${label}"]')`;
  assert.equal(await page.evaluate<string>(`getComputedStyle(${td("Role")}).display`), "flex");
  assert.equal(await page.evaluate<string>(`getComputedStyle(${td("Role")}, "::before").content`), '"Role"');
  assert.equal(await page.evaluate<string>(`getComputedStyle(${td("Member")}).display`), "block");
  assert.equal(
    await page
      .locator("table.org-members thead")
      .boundingBox()
      .then((b) => b?.height),
    1,
  );
  const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await s.shot(page, "members-phone");
  await s.checkA11y(page, "members page on a phone");

  await page.getByRole("button", { name: "Invite People to the Organisation" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite People to the Organisation" });
  await dialog.waitFor();
  await dialog.getByRole("button", { name: "Add a workspace" }).click();
  await dialog.getByLabel("Workspace", { exact: true }).selectOption({ label: "Sales" });
  const box = await dialog.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 390, "the dialog fits the screen");
  await s.shot(page, "invite-dialog-phone");
  await s.checkA11y(page, "invite dialog on a phone");
  await dialog.getByRole("button", { name: "Generate Invite Link" }).click();
  const link = dialog.getByRole("textbox", { name: "Invite link" });
  await link.waitFor();
  assert.match(await link.inputValue(), /\/invite\//);
  await copyFrom(page, dialog, await link.inputValue());
  await s.shot(page, "invite-link-phone");
  await dialog.getByRole("button", { name: "Done" }).click();
  await page.getByRole("row", { name: /Invite link/ }).waitFor();
  await s.shot(page, "members-phone-with-invitation");
});
