// Rule 5 under load: concurrent accepts of one link make at most max_uses memberships, the rest
// answer 410 invitation_used, and uses never passes max_uses — on one server and across two.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildUser, type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
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
type Requester = Pick<TestApp, "request">;

async function users(n: number): Promise<SignedUp[]> {
  const out: SignedUp[] = [];
  for (let i = 0; i < n; i++) out.push(await buildUser(t));
  return out;
}

async function race(inv: { token: string }, people: SignedUp[], servers: Requester[]) {
  const answers = await Promise.all(
    people.map((p, i) =>
      (servers[i % servers.length] ?? t).request("POST", "/api/v1/invitations/accept", {
        token: p.token,
        body: { token: inv.token },
      }),
    ),
  );
  const won = answers.filter((a) => a.status === 200);
  const lost = answers.filter((a) => a.status !== 200);
  for (const a of lost) {
    assert.equal(a.status, 410, a.text);
    assert.equal(a.json.code, "invitation_used");
  }
  return won.length;
}

async function membersJoined(people: SignedUp[]): Promise<number> {
  const rows = await t.db
    .selectFrom("org_memberships")
    .select("user_id")
    .where("org_id", "=", org.orgId)
    .where(
      "user_id",
      "in",
      people.map((p) => p.userId),
    )
    .execute();
  return rows.length;
}

test("five people accept one single-use link at once: exactly one joins", async () => {
  const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by() });
  const people = await users(5);
  assert.equal(await race(inv, people, [t]), 1);
  assert.equal(await membersJoined(people), 1);
  assert.deepEqual(await invitationState(t, inv.id), { status: "exhausted", uses: 1, useRows: 1 });
});

test("six people accept a link of three uses at once: exactly three join", async () => {
  const inv = await buildInvitation(t, {
    orgId: org.orgId,
    invitedBy: by(),
    maxUses: 3,
    workspaces: [{ workspaceId: org.workspaceId, role: "agent" }],
  });
  const people = await users(6);
  assert.equal(await race(inv, people, [t]), 3);
  assert.equal(await membersJoined(people), 3);
  assert.deepEqual(await invitationState(t, inv.id), { status: "exhausted", uses: 3, useRows: 3 });
});

test("through two servers on one database, a single-use link still makes one membership", async () => {
  const sibling = await t.sibling();
  try {
    const inv = await buildInvitation(t, { orgId: org.orgId, invitedBy: by() });
    const people = await users(6);
    assert.equal(await race(inv, people, [t, sibling]), 1);
    assert.equal(await membersJoined(people), 1);
    assert.deepEqual(await invitationState(t, inv.id), { status: "exhausted", uses: 1, useRows: 1 });
  } finally {
    await sibling.close();
  }
});
