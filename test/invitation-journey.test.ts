// Issue 4's two journeys, end to end through the API, with the mails really delivered over SMTP
// and their links followed:
//  1. "Invite People to the Organisation → Member → Generate Invite Link → copy it and share it";
//  2. "Invitations → New → e-mail + role → Send invitation → pending in the list → … accepted:
//     gone from the pending list, present in Users", with a cancelled one along the way.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  buildUser,
  linkIn,
  PUBLIC_URL,
  randomIp,
  type SignedUp,
  type TestApp,
  testApp,
  uniqueEmail,
} from "./helpers/app.js";

let t: TestApp;
let owner: SignedUp;
let orgId: string;
let support: string;

before(async () => {
  t = await testApp();
  owner = await buildUser(t, { name: "Olive Owner", organizationName: "Field Ops" });
  orgId = (await t.request("GET", "/api/v1/me", { token: owner.token })).json.organizations[0].id;
  const ws = await t.request("POST", `/api/v1/orgs/${orgId}/workspaces`, {
    token: owner.token,
    body: { name: "Support" },
  });
  support = ws.json.workspace.id;
});
after(async () => {
  await t.close();
});

const tokenOf = (url: string) => decodeURIComponent(url.split("/invite/")[1] ?? "");

test("a shareable link: generated, looked up without logging in, used by a new person, admins told", async () => {
  const created = await t.request("POST", `/api/v1/orgs/${orgId}/invitations`, {
    token: owner.token,
    body: {
      delivery: "link",
      role: "member",
      workspaces: [{ workspaceId: support, role: "agent" }],
      maxUses: 2,
    },
  });
  assert.equal(created.status, 201, created.text);
  assert.match(created.json.url, new RegExp(`^${PUBLIC_URL}/invite/[A-Za-z0-9_-]{43}$`));
  const token = tokenOf(created.json.url);

  const lookup = await t.request("GET", `/api/v1/invitations/lookup?token=${token}`, {
    remoteAddress: randomIp(),
  });
  assert.equal(lookup.status, 200, lookup.text);
  assert.equal(lookup.json.organization.name, "Field Ops");
  assert.equal(lookup.json.inviterName, "Olive Owner");
  assert.deepEqual(
    lookup.json.workspaces.map((w: { name: string; role: string }) => [w.name, w.role]),
    [["Support", "agent"]],
  );

  const email = uniqueEmail("bob");
  const signup = await t.request("POST", "/api/v1/auth/signup", {
    body: { email, password: "bob's long passphrase", name: "Bob", invitationToken: token },
    remoteAddress: randomIp(),
  });
  assert.equal(signup.status, 201, signup.text);
  const me = await t.request("GET", "/api/v1/me", { token: signup.json.session.token });
  assert.deepEqual(
    me.json.organizations.map((o: { name: string; role: string }) => [o.name, o.role]),
    [["Field Ops", "member"]],
  );
  const ws = await t.request("GET", `/api/v1/workspaces/${support}`, { token: signup.json.session.token });
  assert.equal(ws.json.role, "agent");

  const notice = await t.smtp.waitFor((m) => m.subject === "“Bob” joined “Field Ops”");
  assert.ok(notice.to.includes(owner.email), "the owner is told");
  assert.ok(notice.text?.includes(`${PUBLIC_URL}/orgs/${orgId}/members`));
  await t.app.mailWorker.runUntilIdle(5000);
  assert.ok(
    !t.smtp.messages.some((m) => m.to.includes(email) && /joined/.test(m.subject)),
    "not the newcomer",
  );

  const list = await t.request("GET", `/api/v1/orgs/${orgId}/invitations`, { token: owner.token });
  const item = list.json.items.find((i: { id: string }) => i.id === created.json.invitation.id);
  assert.equal(item.uses, 1);
  assert.equal(item.status, "pending", "one use of two left");
  assert.equal(JSON.stringify(list.json).includes(token), false, "the link is shown once, never listed");
});

test("an e-mail invitation: sent, pending, accepted by following the mail; a cancelled one is dead", async () => {
  const email = uniqueEmail("carol");
  const sent = await t.request("POST", `/api/v1/workspaces/${support}/invitations`, {
    token: owner.token,
    body: { email, role: "editor" },
  });
  assert.equal(sent.status, 201, sent.text);
  assert.equal(sent.json.url, undefined, "an e-mail invitation's link goes only to the invitee");
  const pending = await t.request("GET", `/api/v1/workspaces/${support}/invitations?status=pending`, {
    token: owner.token,
  });
  assert.ok(pending.json.items.some((i: { id: string }) => i.id === sent.json.invitation.id));

  const mail = await t.smtp.waitFor((m) => m.to.includes(email));
  assert.match(mail.subject, /“Olive Owner” invited you to join “Field Ops”/);
  const url = linkIn(mail.text, `${PUBLIC_URL}/invite/`);
  assert.ok(mail.html?.includes(url), "the same link in the HTML body");

  // A second invitation, cancelled with the trash icon before it is used.
  const other = uniqueEmail("dave");
  const second = await t.request("POST", `/api/v1/workspaces/${support}/invitations`, {
    token: owner.token,
    body: { email: other, role: "viewer" },
  });
  const secondMail = await t.smtp.waitFor((m) => m.to.includes(other));
  assert.equal(
    (await t.request("DELETE", `/api/v1/invitations/${second.json.invitation.id}`, { token: owner.token }))
      .status,
    204,
  );
  const dave = await t.request("POST", "/api/v1/auth/signup", {
    body: {
      email: other,
      password: "dave's long passphrase",
      name: "Dave",
      invitationToken: tokenOf(linkIn(secondMail.text, `${PUBLIC_URL}/invite/`)),
    },
    remoteAddress: randomIp(),
  });
  assert.equal(dave.status, 410);
  assert.equal(dave.json.code, "invitation_cancelled");

  // Someone else, logged in, follows Carol's link: the invitation is bound to her address.
  const wrong = await t.request("POST", "/api/v1/invitations/accept", {
    token: owner.token,
    body: { token: tokenOf(url) },
    remoteAddress: randomIp(),
  });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.json.code, "invitation_email_mismatch");
  assert.equal(wrong.json.emailHint, `c***@${email.split("@")[1]}`);

  // Carol already has an account: she logs in and joins.
  const carol = await buildUser(t, { email, name: "Carol" });
  const accepted = await t.request("POST", "/api/v1/invitations/accept", {
    token: carol.token,
    body: { token: tokenOf(url) },
    remoteAddress: randomIp(),
  });
  assert.equal(accepted.status, 200, accepted.text);
  assert.equal(accepted.json.organization.name, "Field Ops");
  const again = await t.request("POST", "/api/v1/invitations/accept", {
    token: carol.token,
    body: { token: tokenOf(url) },
    remoteAddress: randomIp(),
  });
  assert.equal(again.status, 200, "accepting again uses nothing and changes nothing");

  const stillPending = await t.request("GET", `/api/v1/workspaces/${support}/invitations?status=pending`, {
    token: owner.token,
  });
  assert.ok(
    !stillPending.json.items.some((i: { id: string }) => i.id === sent.json.invitation.id),
    "gone from Invitations",
  );
  const users = await t.request("GET", `/api/v1/workspaces/${support}/members?q=carol`, {
    token: owner.token,
  });
  assert.deepEqual(
    users.json.items.map((m: { name: string; role: string }) => [m.name, m.role]),
    [["Carol", "editor"]],
  );
  const cancelled = await t.request("GET", `/api/v1/orgs/${orgId}/invitations?status=cancelled`, {
    token: owner.token,
  });
  assert.ok(cancelled.json.items.some((i: { id: string }) => i.id === second.json.invitation.id));
});
