// GET /api/v1/invitations/lookup: what the accept page shows, with no login. It never shows the
// invited address and never consumes the invitation (a mail scanner's prefetch).
// README.md#invitations, rules 4, 12.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildUser, randomIp, type TestApp, testApp, uniqueEmail } from "../../test/helpers/app.js";
import { buildInvitation, invitationState } from "../../test/helpers/invitations.js";
import { buildOrg, type Org } from "../../test/helpers/org.js";

let t: TestApp;
let org: Org;
before(async () => {
  t = await testApp();
  org = await buildOrg(t, "Olive Owner");
});
after(async () => {
  await t.close();
});

const by = () => ({ userId: org.owner.userId, name: "Olive Owner" });
const lookup = (token: string, ip = randomIp()) =>
  t.request("GET", `/api/v1/invitations/lookup?token=${encodeURIComponent(token)}`, { remoteAddress: ip });

test("a lookup shows the organisation, inviter, role, workspaces, a masked hint and the expiry", async () => {
  const email = uniqueEmail("bob");
  const expiresAt = new Date(Date.now() + 3600_000);
  const inv = await buildInvitation(t, {
    orgId: org.orgId,
    invitedBy: by(),
    email,
    role: "admin",
    workspaces: [{ workspaceId: org.workspaceId, role: "editor" }],
    expiresAt,
  });
  const res = await lookup(inv.token);
  assert.equal(res.status, 200, res.text);
  const orgName = (
    await t.db
      .selectFrom("organizations")
      .select("name")
      .where("id", "=", org.orgId)
      .executeTakeFirstOrThrow()
  ).name;
  assert.deepEqual(res.json, {
    organization: { name: orgName },
    inviterName: "Olive Owner",
    role: "admin",
    workspaces: [{ id: org.workspaceId, name: "General", role: "editor" }],
    emailHint: `b***@example.org`,
    status: "pending",
    expiresAt: expiresAt.toISOString(),
  });
  assert.ok(!res.text.toLowerCase().includes(email.toLowerCase()), "the address itself never leaves");
  assert.ok(!res.text.includes(email.split("@")[0] ?? "-"), "nor its local part");
});

test("a link has no e-mail hint", async () => {
  const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), maxUses: 5 });
  const res = await lookup(inv.token);
  assert.equal(res.status, 200);
  assert.equal(res.json.emailHint, null);
  assert.deepEqual(res.json.workspaces, []);
});

test("lookups consume nothing: after three, the invitation is unused and still accepted", async () => {
  const email = uniqueEmail("scan");
  const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), email });
  for (let i = 0; i < 3; i++) assert.equal((await lookup(inv.token)).status, 200);
  assert.deepEqual(await invitationState(t, inv.id), { status: "pending", uses: 0, useRows: 0 });
  const invitee = await buildUser(t, { email });
  const accepted = await t.request("POST", "/api/v1/invitations/accept", {
    token: invitee.token,
    body: { token: inv.token },
  });
  assert.equal(accepted.status, 200, accepted.text);
});

test("an ended invitation still answers 200 with its status", async () => {
  const cases: [string, (id: string) => Promise<unknown>][] = [
    [
      "cancelled",
      (id) => t.db.updateTable("invitations").set({ status: "cancelled" }).where("id", "=", id).execute(),
    ],
    [
      "declined",
      (id) => t.db.updateTable("invitations").set({ status: "declined" }).where("id", "=", id).execute(),
    ],
    [
      "accepted",
      (id) =>
        t.db.updateTable("invitations").set({ status: "accepted", uses: 1 }).where("id", "=", id).execute(),
    ],
    [
      "expired",
      (id) =>
        t.db
          .updateTable("invitations")
          .set({ expires_at: new Date(Date.now() - 1000) })
          .where("id", "=", id)
          .execute(),
    ],
  ];
  for (const [status, end] of cases) {
    const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), email: uniqueEmail() });
    await end(inv.id);
    const res = await lookup(inv.token);
    assert.equal(res.status, 200, `${status}: ${res.text}`);
    assert.equal(res.json.status, status);
  }
});

test("an unknown, malformed or replaced token answers 404 invitation_not_found", async () => {
  const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), email: uniqueEmail() });
  const other = await buildInvitation(t, { orgId: org.orgId, invitedBy: by(), email: uniqueEmail() });
  await t.db.deleteFrom("invitations").where("id", "=", other.id).execute();
  for (const token of [other.token, "not-a-token", `${inv.token.slice(0, -2)}xx`]) {
    const res = await lookup(token);
    assert.equal(res.status, 404, token);
    assert.equal(res.json.code, "invitation_not_found");
  }
  const missing = await t.request("GET", "/api/v1/invitations/lookup");
  assert.equal(missing.status, 400);
});

test("lookups and accepts share one limit per IP, answering 429 with Retry-After", async () => {
  const limited = await testApp({ RATE_LIMIT_INVITATION_LOOKUP_IP: "3/10m" });
  try {
    const o = await buildOrg(limited);
    const inv = await buildInvitation(limited, {
      orgId: o.orgId,
      invitedBy: { userId: o.owner.userId, name: "Olive" },
      maxUses: 10,
    });
    const ip = randomIp();
    const path = `/api/v1/invitations/lookup?token=${inv.token}`;
    for (let i = 0; i < 2; i++)
      assert.equal((await limited.request("GET", path, { remoteAddress: ip })).status, 200);
    const user = await buildUser(limited);
    const accept = await limited.request("POST", "/api/v1/invitations/accept", {
      token: user.token,
      body: { token: inv.token },
      remoteAddress: ip,
    });
    assert.equal(accept.status, 200, accept.text);
    const refused = await limited.request("GET", path, { remoteAddress: ip });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers["retry-after"]) > 0);
    const refusedAccept = await limited.request("POST", "/api/v1/invitations/accept", {
      token: user.token,
      body: { token: inv.token },
      remoteAddress: ip,
    });
    assert.equal(refusedAccept.status, 429);
    assert.equal((await limited.request("GET", path, { remoteAddress: randomIp() })).status, 200);
  } finally {
    await limited.close();
  }
});
