// Issue 5's two joining journeys, end to end in the browser, each person in their own browser
// context: an admin invites through the console, the invited person joins through the console,
// and each side sees the result. Mail goes through a real SMTP listener; links are followed as a
// person would follow them.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { linkIn, uniqueEmail } from "../helpers/app.js";
import { type ConsoleServer, consoleServer, copyFrom } from "./harness.js";

let s: ConsoleServer;
before(async () => {
  s = await consoleServer(import.meta.filename);
});
after(() => s.close());

/** An owner with an organisation named `name` holding a workspace "Field Ops". */
async function acme(name: string) {
  const owner = await s.user({ name: "Olivia Owner", organizationName: name });
  const me = await s.t.request("GET", "/api/v1/me", { token: owner.token });
  const orgId: string = me.json.organizations[0].id;
  const ws = await s.t.request("POST", `/api/v1/orgs/${orgId}/workspaces`, {
    token: owner.token,
    body: { name: "Field Ops", timezone: "Africa/Nairobi", language: "en" },
  });
  assert.equal(ws.status, 201);
  return { owner, orgId, workspaceId: ws.json.workspace.id as string };
}

test("link invitation: generate and copy it, open it in another browser, sign up, land in the organisation", async () => {
  const { owner, orgId, workspaceId } = await acme("Acme Link");

  // The owner generates a 3-use link for Members who edit in Field Ops.
  const admin = await s.page("desktop");
  await s.logIn(admin, owner);
  await admin.goto(`/orgs/${orgId}/members`);
  await admin.getByRole("button", { name: "Invite People to the Organisation" }).click();
  const dialog = admin.getByRole("dialog");
  await dialog.getByRole("radio", { name: /Member/ }).check();
  await dialog.getByRole("button", { name: "Add a workspace" }).click();
  await dialog.getByLabel("Workspace", { exact: true }).selectOption({ label: "Field Ops" });
  await dialog.getByLabel("Role in workspace").selectOption("editor");
  await dialog.getByLabel("Maximum uses").fill("3");
  await s.shot(admin, "link-1-invite-dialog");
  await dialog.getByRole("button", { name: "Generate Invite Link" }).click();
  const linkField = dialog.getByRole("textbox", { name: "Invite link" });
  await linkField.waitFor();
  const link = await linkField.inputValue();
  assert.match(link, new RegExp(`^${s.url}/invite/`));
  await dialog.getByText("Rollcall does not send this link: share it yourself.").waitFor();
  await copyFrom(admin, dialog, link);
  await s.shot(admin, "link-2-generated");

  // Someone new opens it on their phone, signs up, and lands in Acme Link.
  const joiner = await s.page("phone");
  await joiner.goto(link);
  await joiner.getByText("Olivia Owner invited you to join Acme Link").waitFor();
  await s.checkA11y(joiner, "accept invitation (logged out)");
  await s.shot(joiner, "link-3-invitation");
  await joiner.getByRole("link", { name: "Create account" }).click();
  const email = uniqueEmail("lena");
  await joiner.getByLabel("Your name").fill("Lena Link");
  await joiner.getByLabel("E-mail").fill(email);
  await joiner.getByLabel("Password", { exact: true }).fill("a long and unusual passphrase");
  await joiner.getByRole("button", { name: "Create account" }).click();
  await joiner.waitForURL(`**/orgs/${orgId}`);
  const switcher = joiner.getByRole("button", { name: "Switch organisation" });
  await switcher.filter({ hasText: "Acme Link" }).waitFor();
  await switcher.click();
  const item = joiner.getByRole("menuitem", { name: /Acme Link/ });
  await item.waitFor();
  assert.match((await item.textContent()) ?? "", /Member/);
  await s.shot(joiner, "link-4-switcher");
  await joiner.keyboard.press("Escape");
  await joiner
    .getByRole("link", { name: /Field Ops/ })
    .first()
    .waitFor();

  // The API agrees: a member of Acme Link, editor in Field Ops; the link has one use of three.
  const members = await s.t.request("GET", `/api/v1/orgs/${orgId}/members?q=${encodeURIComponent(email)}`, {
    token: owner.token,
  });
  assert.equal(members.json.items.length, 1);
  assert.equal(members.json.items[0].role, "member");
  assert.deepEqual(
    members.json.items[0].workspaces.map((w: { id: string; role: string }) => [w.id, w.role]),
    [[workspaceId, "editor"]],
  );
  await admin.goto(`/orgs/${orgId}/members`);
  await admin
    .getByRole("cell", { name: /Lena Link/ })
    .first()
    .waitFor();
  await admin.getByText(/1 of 3 uses/).waitFor();
  await s.shot(admin, "link-5-members");
});

test("e-mail invitation: send it from the workspace, follow the mail's link, sign up, appear in Users; the admin hears of it", async () => {
  const { owner, orgId, workspaceId } = await acme("Acme Mail");

  const admin = await s.page("desktop");
  await s.logIn(admin, owner);
  await admin.goto(`/orgs/${orgId}/workspaces/${workspaceId}/users?tab=invitations`);
  await admin.getByRole("button", { name: "New invitation" }).click();
  const dialog = admin.getByRole("dialog");
  const email = uniqueEmail("mo");
  await dialog.getByLabel("E-mail").fill(email);
  await dialog.getByRole("radio", { name: /Agent/ }).check();
  await dialog.getByRole("button", { name: "Send invitation" }).click();
  await admin
    .getByRole("cell", { name: new RegExp(email.replace(/[.]/g, "\\.")) })
    .first()
    .waitFor();

  // The mail arrives over SMTP; its link opens the invitation in the invited person's browser.
  const mail = await s.mailTo(email, /invited you to join “Acme Mail”/);
  const link = linkIn(mail.text, `${s.url}/invite/`);
  const joiner = await s.page("desktop");
  await joiner.goto(link);
  await joiner.getByText(/invited you to join Acme Mail as Member/).waitFor();
  await joiner.getByRole("link", { name: "Create account" }).click();
  await joiner.getByLabel("Your name").fill("Mo Mail");
  await joiner.getByLabel("E-mail").fill(email);
  await joiner.getByLabel("Password", { exact: true }).fill("a long and unusual passphrase");
  await s.shot(joiner, "mail-1-signup");
  await joiner.getByRole("button", { name: "Create account" }).click();
  await joiner.waitForURL(`**/orgs/${orgId}`);
  await joiner
    .getByRole("button", { name: "Switch organisation" })
    .filter({ hasText: "Acme Mail" })
    .waitFor();

  // The admin sees them in Users with the invited role, and receives the join mail.
  await admin.goto(`/orgs/${orgId}/workspaces/${workspaceId}/users`);
  const row = admin.getByRole("row", { name: /Mo Mail/ });
  await row.waitFor();
  assert.match((await row.textContent()) ?? "", /Agent/);
  await s.shot(admin, "mail-2-users");
  const joined = await s.mailTo(owner.email, /“Mo Mail” joined “Acme Mail”/);
  assert.match(joined.text ?? "", /Field Ops/);
  assert.ok(linkIn(joined.text, `${s.url}/orgs/${orgId}/members`));

  // The invitation now reads accepted.
  const list = await s.t.request("GET", `/api/v1/workspaces/${workspaceId}/invitations?status=accepted`, {
    token: owner.token,
  });
  assert.deepEqual(
    list.json.items.map((i: { email: string }) => i.email),
    [email],
  );
});
