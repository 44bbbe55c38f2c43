// Workspace → Settings in a real browser: Users & Invitations (search, role change, removal, adding
// an organisation member, e-mail and link invitations with their delivery status, resend, cancel,
// the status filter), General (name, timezone, language), what each role is offered (an Agent sees
// no settings, an Editor reads the member list), and a demotion or removal taking effect in the
// other person's browser.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import type { SignedUp } from "../helpers/app.js";
import { grantWorkspaceRole, joinOrg } from "../helpers/org.js";
import { type ConsoleServer, consoleServer, copyFrom } from "./harness.js";

let s: ConsoleServer;
before(async () => {
  // Two attempts per mail, so that a refused mail is marked failed within the test.
  s = await consoleServer(import.meta.filename, { MAIL_MAX_ATTEMPTS: "2" });
});
after(() => s.close());

interface Team {
  orgId: string;
  wsId: string;
  owner: SignedUp;
  admin: SignedUp;
  editor: SignedUp;
  agent: SignedUp;
  base: string;
}

let teams = 0;
/** An owner's organisation with the workspace "Field Ops": an admin, an editor and an agent in it. */
async function buildTeam(tag: string): Promise<Team> {
  teams += 1;
  const owner = await s.user({ name: `Olive Owner ${tag}`, organizationName: `Acme ${tag} ${teams}` });
  const me = await s.t.request("GET", "/api/v1/me", { token: owner.token });
  const orgId: string = me.json.organizations[0].id;
  const list = await s.t.request("GET", `/api/v1/orgs/${orgId}/workspaces`, { token: owner.token });
  const wsId: string = list.json.items[0].id;
  const renamed = await s.t.request("PATCH", `/api/v1/workspaces/${wsId}`, {
    token: owner.token,
    body: { name: "Field Ops", timezone: "UTC", language: "en" },
  });
  assert.equal(renamed.status, 200);
  const admin = await joinOrg(s.t, orgId, "member", "Ada Admin");
  const editor = await joinOrg(s.t, orgId, "member", "Eddie Editor");
  const agent = await joinOrg(s.t, orgId, "member", "Aggie Agent");
  await grantWorkspaceRole(s.t, orgId, wsId, admin.userId, "admin");
  await grantWorkspaceRole(s.t, orgId, wsId, editor.userId, "editor");
  await grantWorkspaceRole(s.t, orgId, wsId, agent.userId, "agent");
  return { orgId, wsId, owner, admin, editor, agent, base: `/orgs/${orgId}/workspaces/${wsId}` };
}

async function members(team: Team, token: string): Promise<{ name: string; role: string }[]> {
  const res = await s.t.request("GET", `/api/v1/workspaces/${team.wsId}/members?limit=200`, { token });
  assert.equal(res.status, 200);
  return res.json.items.map((m: { name: string; role: string }) => ({ name: m.name, role: m.role }));
}

function dialog(page: Page) {
  return page.getByRole("dialog");
}

function toast(page: Page, text: string | RegExp) {
  return page.locator(".toast").filter({ hasText: text });
}

test("an admin searches users, changes a role and removes someone", async () => {
  const team = await buildTeam("roles");
  const rita = await joinOrg(s.t, team.orgId, "member", "Rita Remove");
  await grantWorkspaceRole(s.t, team.orgId, team.wsId, rita.userId, "viewer");
  const page = await s.page("desktop");
  await s.logIn(page, team.admin);

  await page.goto(team.base);
  await page.getByRole("heading", { name: "Field Ops", level: 1 }).waitFor();
  await page.getByText("What you can do here").waitFor();
  assert.ok(await page.getByText("Flows: read, write, start").isVisible());
  await s.shot(page, "overview-admin");
  await s.checkA11y(page, "workspace overview");

  await page.getByRole("link", { name: "Users & Invitations" }).first().click();
  await page.getByRole("heading", { name: "Users & Invitations" }).waitFor();
  const table = page.getByRole("table");
  await table.getByRole("row", { name: /Rita Remove/ }).waitFor();
  await s.shot(page, "users");
  await s.checkA11y(page, "users tab");

  // Search by part of an e-mail address or a name: the list narrows and ?q= remembers it.
  await page.getByLabel("Search users").fill("eddie");
  await page.waitForURL(/[?&]q=eddie/);
  await table.getByRole("row", { name: /Eddie Editor/ }).waitFor();
  await table.getByRole("row", { name: /Rita Remove/ }).waitFor({ state: "detached" });
  assert.equal(await table.locator("tbody tr").count(), 1);
  await s.shot(page, "users-search");

  // Open Eddie, Editor → Agent, Save.
  await page.getByRole("button", { name: "Eddie Editor", exact: true }).click();
  const details = dialog(page);
  await details.getByRole("heading", { name: "Eddie Editor" }).waitFor();
  assert.equal(await details.getByRole("radio", { name: /Editor/ }).isChecked(), true);
  await s.shot(page, "user-details");
  await s.checkA11y(page, "user details dialog");
  await details.getByRole("radio", { name: /Agent/ }).check();
  await details.getByRole("button", { name: "Save" }).click();
  await toast(page, "Eddie Editor is now Agent in Field Ops").waitFor();
  await details.waitFor({ state: "hidden" });
  await table
    .getByRole("row", { name: /Eddie Editor/ })
    .getByText("Agent")
    .waitFor();
  assert.deepEqual(
    (await members(team, team.owner.token)).find((m) => m.name === "Eddie Editor"),
    { name: "Eddie Editor", role: "agent" },
  );

  // Remove Rita: trash → confirm → gone, here and in the API.
  await page.getByLabel("Search users").fill("");
  await page.waitForURL((u) => !u.searchParams.has("q"));
  await page.getByRole("button", { name: "Remove Rita Remove" }).click();
  const confirm = dialog(page);
  await confirm.getByRole("heading", { name: "Remove Rita Remove from Field Ops?" }).waitFor();
  await s.shot(page, "remove-confirm");
  await s.checkA11y(page, "remove confirmation");
  await confirm.getByRole("button", { name: "Remove", exact: true }).click();
  await toast(page, "Rita Remove was removed from Field Ops").waitFor();
  await table.getByRole("row", { name: /Rita Remove/ }).waitFor({ state: "detached" });
  const after = await members(team, team.owner.token);
  assert.equal(
    after.some((m) => m.name === "Rita Remove"),
    false,
  );
  // She is still in the organisation.
  const orgMembers = await s.t.request("GET", `/api/v1/orgs/${team.orgId}/members?q=Rita`, {
    token: team.owner.token,
  });
  assert.equal(orgMembers.json.items.length, 1);
  await s.shot(page, "users-after-removal");
});

test("Add organisation member lists the organisation, disables those already here, adds at once", async () => {
  const team = await buildTeam("add");
  await joinOrg(s.t, team.orgId, "member", "Noor Newcomer");
  const page = await s.page("desktop");
  await s.logIn(page, team.owner);
  await page.goto(`${team.base}/users`);
  await page.getByRole("button", { name: "Add organisation member" }).click();
  const picker = dialog(page);
  await picker.getByRole("heading", { name: "Add organisation member" }).waitFor();
  await picker.getByText("Noor Newcomer").waitFor();
  // Those already in the workspace (and the owner, admin everywhere) are shown but disabled.
  assert.equal(await picker.getByRole("button", { name: "Add Eddie Editor" }).isDisabled(), true);
  assert.ok(await picker.getByText("In this workspace as Editor").isVisible());
  assert.equal(await picker.getByRole("button", { name: "Add Ada Admin" }).isDisabled(), true);
  assert.equal(await picker.getByRole("button", { name: `Add ${team.owner.name}` }).isDisabled(), true);
  assert.equal(await picker.getByRole("button", { name: "Add Noor Newcomer" }).isEnabled(), true);
  await s.shot(page, "add-member");
  await s.checkA11y(page, "add organisation member dialog");

  await picker.getByLabel("Role for the people you add").selectOption("editor");
  await picker.getByRole("button", { name: "Add Noor Newcomer" }).click();
  await toast(page, "Noor Newcomer was added to Field Ops as Editor").waitFor();
  await picker.getByText("Added as Editor").waitFor();
  assert.equal(await picker.getByRole("button", { name: "Add Noor Newcomer" }).isDisabled(), true);
  await s.shot(page, "add-member-added");
  await picker.getByRole("button", { name: "Done" }).click();
  await page
    .getByRole("table")
    .getByRole("row", { name: /Noor Newcomer/ })
    .getByText("Editor")
    .waitFor();
  assert.deepEqual(
    (await members(team, team.owner.token)).find((m) => m.name === "Noor Newcomer"),
    { name: "Noor Newcomer", role: "editor" },
  );

  // A workspace admin who cannot list the organisation is offered the people of their other
  // workspaces, and told why.
  const support = await s.t.request("POST", `/api/v1/orgs/${team.orgId}/workspaces`, {
    token: team.owner.token,
    body: { name: "Support" },
  });
  const sam = await joinOrg(s.t, team.orgId, "member", "Sam Shared");
  await grantWorkspaceRole(s.t, team.orgId, support.json.workspace.id, sam.userId, "viewer");
  await grantWorkspaceRole(s.t, team.orgId, support.json.workspace.id, team.admin.userId, "admin");
  const adminPage = await s.page("desktop");
  await s.logIn(adminPage, team.admin);
  await adminPage.goto(`${team.base}/users`);
  await adminPage.getByRole("button", { name: "Add organisation member" }).click();
  const limited = dialog(adminPage);
  await limited.getByText("Only organisation owners and admins can see everyone").waitFor();
  await limited.getByRole("button", { name: "Add Sam Shared" }).waitFor();
  assert.equal(await limited.getByRole("button", { name: "Add Ada Admin" }).isDisabled(), true);
  await s.shot(adminPage, "add-member-shared-workspaces");
  await s.checkA11y(adminPage, "add member without org.users");
  await limited.getByRole("button", { name: "Add Sam Shared" }).click();
  await toast(adminPage, "Sam Shared was added to Field Ops as Viewer").waitFor();
  assert.ok((await members(team, team.owner.token)).some((m) => m.name === "Sam Shared"));
});

test("invitations: send by e-mail, generate a link, resend, cancel, filter, and a failed delivery", async () => {
  const team = await buildTeam("invite");
  const page = await s.page("desktop");
  await s.logIn(page, team.admin);
  await page.goto(`${team.base}/users`);
  await page.getByRole("tab", { name: "Invitations" }).click();
  await page.waitForURL(/tab=invitations/);
  await page.getByText("No pending invitations").waitFor();
  await s.shot(page, "invitations-empty");
  await s.checkA11y(page, "invitations tab");

  // New invitation by e-mail: the mail arrives over SMTP, the row says it was sent.
  const invitee = `ina.${Date.now()}@example.org`;
  await page.getByRole("button", { name: "New invitation" }).click();
  const form = dialog(page);
  await form.getByLabel("E-mail").fill(invitee);
  await form.getByRole("radio", { name: /Agent/ }).check();
  await s.shot(page, "new-invitation");
  await s.checkA11y(page, "new invitation dialog");
  await form.getByRole("button", { name: "Send invitation" }).click();
  await toast(page, `Invitation sent to ${invitee}`).waitFor();
  const mail = await s.mailTo(invitee, /invited you/);
  assert.match(mail.text ?? "", /\/invite\//);
  const row = page.getByRole("row", { name: new RegExp(invitee.replace(/\./g, "\\.")) });
  await row.getByText("Pending").waitFor();
  await row.getByText("Agent").waitFor();
  await row.getByText("Sent", { exact: true }).waitFor({ timeout: 15_000 });

  // The same address again: the API's refusal shows next to the field.
  await page.getByRole("button", { name: "New invitation" }).click();
  await form.getByLabel("E-mail").fill(invitee);
  await form.getByRole("button", { name: "Send invitation" }).click();
  await form.getByText("already has a pending invitation").waitFor();
  assert.equal(await form.getByLabel("E-mail").getAttribute("aria-invalid"), "true");
  await form.getByRole("button", { name: "Cancel" }).click();

  // Resend: a new mail with a new link.
  const firstLink = /https?:\S+\/invite\/\S+/.exec(mail.text ?? "")?.[0];
  await row.getByRole("button", { name: /^Resend/ }).click();
  await toast(page, `Invitation sent again to ${invitee}`).waitFor();
  const again = await s.t.smtp.waitFor(
    (m) => m.to.includes(invitee) && !(m.text ?? "").includes(firstLink ?? "none"),
    15_000,
  );
  assert.match(again.text ?? "", /\/invite\//);

  // Generate an invite link: the link with Copy, and the note that Rollcall does not send it.
  await page.getByRole("button", { name: "Generate invite link" }).click();
  const linkForm = dialog(page);
  await linkForm.getByRole("radio", { name: /Viewer/ }).check();
  await linkForm.getByLabel("Expires after").selectOption("72");
  // The API's refusal of a field shows next to that field.
  await linkForm.getByLabel("Maximum uses").fill("0");
  await linkForm.getByRole("button", { name: "Generate invite link" }).click();
  await linkForm.getByText("Maximum uses must be at least 1.").waitFor();
  assert.equal(await linkForm.getByLabel("Maximum uses").getAttribute("aria-invalid"), "true");
  await linkForm.getByLabel("Maximum uses").fill("5");
  await s.shot(page, "invite-link-form");
  await s.checkA11y(page, "invite link dialog");
  await linkForm.getByRole("button", { name: "Generate invite link" }).click();
  const link = linkForm.getByRole("textbox", { name: "Invite link" });
  await link.waitFor();
  const url = await link.inputValue();
  assert.ok(url.startsWith(`${s.url}/invite/`), url);
  await linkForm.getByText("Rollcall does not send this link: share it yourself").waitFor();
  await copyFrom(page, linkForm, url);
  await s.shot(page, "invite-link-ready");
  await linkForm.getByRole("button", { name: "Done" }).click();
  const linkRow = page.getByRole("row", { name: /Invite link \(0 of 5 uses\)/ });
  await linkRow.getByText("Viewer").waitFor();
  const lookup = await s.t.request(
    "GET",
    `/api/v1/invitations/lookup?token=${encodeURIComponent(url.split("/invite/")[1] ?? "")}`,
  );
  assert.equal(lookup.json.status, "pending");

  // Resend a link: after a confirmation, a new link; the old one is dead.
  await linkRow.getByRole("button", { name: /^Resend/ }).click();
  await dialog(page).getByRole("button", { name: "Make a new link" }).click();
  const fresh = dialog(page).getByRole("textbox", { name: "Invite link" });
  await fresh.waitFor();
  const newUrl = await fresh.inputValue();
  assert.notEqual(newUrl, url);
  await s.shot(page, "invite-link-renewed");
  await dialog(page).getByRole("button", { name: "Done" }).click();
  const oldLookup = await s.t.request(
    "GET",
    `/api/v1/invitations/lookup?token=${encodeURIComponent(url.split("/invite/")[1] ?? "")}`,
  );
  assert.equal(oldLookup.status, 404);

  // Cancel the link: trash → confirm → gone from Pending, listed under Cancelled.
  await linkRow.getByRole("button", { name: "Cancel this invite link" }).click();
  await s.shot(page, "cancel-confirm");
  await dialog(page).getByRole("button", { name: "Cancel invitation" }).click();
  await toast(page, "The invite link was cancelled").waitFor();
  await linkRow.waitFor({ state: "detached" });
  await page.getByLabel("Show").selectOption("cancelled");
  await page.waitForURL(/status=cancelled/);
  const cancelledRow = page.getByRole("row", { name: /Invite link \(0 of 5 uses\)/ });
  await cancelledRow.getByText("Cancelled").waitFor();
  assert.equal(await cancelledRow.getByRole("button", { name: /^Resend/ }).count(), 0);
  await s.shot(page, "invitations-cancelled");
  await page.getByLabel("Show").selectOption("all");
  await page.getByRole("row", { name: new RegExp(invitee.replace(/\./g, "\\.")) }).waitFor();
  await page.getByRole("row", { name: /Invite link/ }).waitFor();

  // A mail the SMTP server refuses: the row shows the failure and the server's words.
  s.t.smtp.setFailure({ code: 550, message: "mailbox unavailable" });
  try {
    const bounced = `bounce.${Date.now()}@example.org`;
    await page.getByLabel("Show").selectOption("pending");
    await page.getByRole("button", { name: "New invitation" }).click();
    await form.getByLabel("E-mail").fill(bounced);
    await form.getByRole("button", { name: "Send invitation" }).click();
    await toast(page, `Invitation sent to ${bounced}`).waitFor();
    const failedRow = page.getByRole("row", { name: new RegExp(bounced.replace(/\./g, "\\.")) });
    await failedRow.getByText("Failed", { exact: true }).waitFor({ timeout: 20_000 });
    await failedRow.getByText(/mailbox unavailable/).waitFor();
    const listed = await s.t.request("GET", `/api/v1/workspaces/${team.wsId}/invitations?status=pending`, {
      token: team.admin.token,
    });
    const failed = listed.json.items.find((i: { email: string | null }) => i.email === bounced);
    assert.equal(failed.mail.status, "failed");
    assert.match(failed.mail.lastError, /mailbox unavailable/);
    await s.shot(page, "invitations-failed-delivery");
    await s.checkA11y(page, "invitations with a failed delivery");
  } finally {
    s.t.smtp.setFailure(null);
  }
});

test("General: rename, timezone and language are saved; a blank name is refused at the field", async () => {
  const team = await buildTeam("general");
  const page = await s.page("desktop");
  await s.logIn(page, team.admin);
  await page.goto(team.base);
  await page.getByRole("link", { name: "General" }).first().click();
  await page.getByRole("heading", { name: "General", level: 1 }).waitFor();
  await s.shot(page, "general");
  await s.checkA11y(page, "general settings");

  const name = page.getByLabel("Workspace name");
  await name.fill("   ");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Give the workspace a name.").waitFor();
  assert.equal(await name.getAttribute("aria-invalid"), "true");
  await s.shot(page, "general-error");

  await name.fill("Field Operations");
  await page.getByLabel("Timezone").selectOption("Europe/Paris");
  await page.getByLabel("Language").selectOption("fr");
  await page.getByRole("button", { name: "Save" }).click();
  await toast(page, "Workspace settings saved").waitFor();
  assert.equal(await name.getAttribute("aria-invalid"), null);
  const ws = await s.t.request("GET", `/api/v1/workspaces/${team.wsId}`, { token: team.admin.token });
  assert.equal(ws.json.workspace.name, "Field Operations");
  assert.equal(ws.json.workspace.timezone, "Europe/Paris");
  assert.equal(ws.json.workspace.language, "fr");
  // The navigation shows the new name, and a reload keeps the values.
  await page.getByRole("navigation").getByText("Field Operations").waitFor();
  await page.reload();
  assert.equal(await page.getByLabel("Workspace name").inputValue(), "Field Operations");
  assert.equal(await page.getByLabel("Timezone").inputValue(), "Europe/Paris");
  assert.equal(await page.getByLabel("Language").inputValue(), "fr");
  await s.shot(page, "general-saved");
});

test("on a phone: an agent sees no settings and is refused politely; an editor reads the list", async () => {
  const team = await buildTeam("roles-aware");
  const agent = await s.page("phone");
  await s.logIn(agent, team.agent);
  await agent.goto(team.base);
  await agent.getByRole("heading", { name: "Field Ops", level: 1 }).waitFor();
  await agent.getByText("Tickets: read, respond").first().waitFor();
  const nav = agent.getByRole("navigation", { name: "Organisation and workspace" });
  await nav.getByRole("link", { name: "Overview" }).waitFor();
  assert.equal(await nav.getByRole("link", { name: "Users & Invitations" }).count(), 0);
  assert.equal(await nav.getByRole("link", { name: "General" }).count(), 0);
  assert.equal(await agent.getByRole("link", { name: /Users & Invitations|General/ }).count(), 0);
  await s.shot(agent, "phone-overview-agent");
  await s.checkA11y(agent, "overview as agent (phone)");

  await agent.goto(`${team.base}/settings`);
  await agent.getByRole("heading", { name: "You need the Admin role" }).waitFor();
  await agent.getByText("Ada Admin").waitFor();
  await agent.locator(".forbidden").getByText("Agent", { exact: true }).waitFor();
  await s.shot(agent, "phone-forbidden-general");
  await s.checkA11y(agent, "forbidden general (phone)");
  await agent.goto(`${team.base}/users`);
  await agent.getByRole("heading", { name: "You need the Editor or Admin role" }).waitFor();
  await agent.getByRole("link", { name: "Back to the workspace" }).click();
  await agent.waitForURL((u) => u.pathname === team.base);

  const editor = await s.page("phone");
  await s.logIn(editor, team.editor);
  await editor.goto(team.base);
  await editor.getByRole("link", { name: "Users & Invitations" }).first().click();
  await editor.getByRole("heading", { name: "Users & Invitations" }).waitFor();
  await editor.getByText("Aggie Agent").waitFor();
  assert.equal(await editor.getByRole("button", { name: "Add organisation member" }).count(), 0);
  assert.equal(await editor.getByRole("button", { name: "New invitation" }).count(), 0);
  assert.equal(await editor.getByRole("button", { name: /^Remove / }).count(), 0);
  assert.equal(await editor.getByRole("tab", { name: "Invitations" }).count(), 0);
  assert.equal(await editor.getByRole("button", { name: "Aggie Agent" }).count(), 0);
  await s.shot(editor, "phone-users-editor");
  await s.checkA11y(editor, "users as editor (phone)");
  await editor.goto(`${team.base}/settings`);
  await editor.getByRole("heading", { name: "You need the Admin role" }).waitFor();

  // The admin's invitations on a phone: rows become stacked cards.
  await s.t.request("POST", `/api/v1/workspaces/${team.wsId}/invitations`, {
    token: team.admin.token,
    body: { delivery: "email", email: `phone.${Date.now()}@example.org`, role: "editor" },
  });
  await s.t.request("POST", `/api/v1/workspaces/${team.wsId}/invitations`, {
    token: team.admin.token,
    body: { delivery: "link", role: "viewer", maxUses: 3 },
  });
  const admin = await s.page("phone");
  await s.logIn(admin, team.admin);
  await admin.goto(`${team.base}/users?tab=invitations`);
  await admin.getByText("Invite link (0 of 3 uses)").waitFor();
  await admin.locator("tbody").getByText("Sent", { exact: true }).waitFor({ timeout: 15_000 });
  await s.shot(admin, "phone-invitations");
  await s.checkA11y(admin, "invitations (phone)");
  await admin.getByRole("tab", { name: "Users" }).click();
  await admin.getByRole("button", { name: "Aggie Agent", exact: true }).waitFor();
  await s.shot(admin, "phone-users-admin");
  await admin.getByRole("button", { name: "Aggie Agent", exact: true }).click();
  await dialog(admin)
    .getByRole("radio", { name: /Viewer/ })
    .waitFor();
  await s.shot(admin, "phone-user-details");
  await s.checkA11y(admin, "user details (phone)");
});

test("a demotion and a removal take effect in the member's own browser", async () => {
  const team = await buildTeam("effect");
  const maya = await joinOrg(s.t, team.orgId, "member", "Maya Member");
  await grantWorkspaceRole(s.t, team.orgId, team.wsId, maya.userId, "admin");

  const member = await s.page("desktop");
  await s.logIn(member, maya);
  await member.goto(`${team.base}/settings`);
  await member.getByRole("heading", { name: "General", level: 1 }).waitFor();
  const memberNav = member.getByRole("navigation", { name: "Organisation and workspace" });
  await memberNav.getByRole("link", { name: "General" }).waitFor();

  // The admin demotes Maya to Viewer in another browser.
  const admin = await s.page("desktop");
  await s.logIn(admin, team.admin);
  await admin.goto(`${team.base}/users`);
  await admin.getByRole("button", { name: "Maya Member", exact: true }).click();
  await dialog(admin)
    .getByRole("radio", { name: /Viewer/ })
    .check();
  await dialog(admin).getByRole("button", { name: "Save" }).click();
  await toast(admin, "Maya Member is now Viewer in Field Ops").waitFor();

  await member.reload();
  await member.getByRole("heading", { name: "You need the Admin role" }).waitFor();
  await member.locator(".forbidden").getByText("Viewer", { exact: true }).waitFor();
  assert.equal(await memberNav.getByRole("link", { name: "General" }).count(), 0);
  assert.equal(await memberNav.getByRole("link", { name: "Users & Invitations" }).count(), 0);
  await s.shot(member, "demoted-forbidden");

  // The admin removes Maya from the workspace: her workspace URL is no longer there for her.
  await admin.getByRole("button", { name: "Remove Maya Member" }).click();
  await dialog(admin).getByRole("button", { name: "Remove", exact: true }).click();
  await toast(admin, "Maya Member was removed from Field Ops").waitFor();

  await member.goto(team.base);
  await member.getByRole("heading", { name: "This workspace is not here" }).waitFor();
  await member.getByRole("link", { name: "Back to workspaces" }).waitFor();
  await s.shot(member, "removed-not-found");
  await s.checkA11y(member, "workspace not found");
  const check = await s.t.request("GET", `/api/v1/workspaces/${team.wsId}`, { token: maya.token });
  assert.equal(check.status, 404);
});
