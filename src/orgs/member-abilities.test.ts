// What the member list says the caller may do to each member (`abilities`), against what PATCH
// and DELETE …/members/{user} then really do (rule 1: owners only by owners, nothing above one's
// own role), and what each member's org role acts as in every workspace (`actsAs`) — so the
// console offers exactly what will work, without re-deriving the rules from role names.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import { buildOrg, joinOrg } from "../../test/helpers/org.js";
import type { OrgRole } from "../access/catalogue.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

type Abilities = { changeRole: boolean; remove: boolean };
interface Listed {
  role: string;
  actsAs: string | null;
  abilities: Abilities;
}

async function listed(token: string, orgId: string): Promise<Map<string, Listed>> {
  const res = await t.request("GET", `/api/v1/orgs/${orgId}/members?limit=200`, { token });
  assert.equal(res.status, 200, res.text);
  return new Map(res.json.items.map((m: Listed & { userId: string }) => [m.userId, m]));
}

/**
 * An organisation with an owner, a second owner, two admins and a member; `viewer` names who
 * looks. Each member's abilities as listed, then the routes tried on them (another role, then
 * removal; the viewer themselves last, leaving): what the list said is exactly what succeeded.
 */
async function expectAsListed(viewer: "owner" | "admin", expected: Record<string, Abilities>) {
  const o = await buildOrg(t, "Olive Owner");
  const people: Record<string, SignedUp & { role: OrgRole }> = {
    olive: { ...o.owner, role: "owner" },
  };
  for (const [name, role] of [
    ["oscar", "owner"],
    ["ada", "admin"],
    ["abe", "admin"],
    ["mia", "member"],
  ] as const) {
    people[name] = { ...(await joinOrg(t, o.orgId, role, name)), role };
  }
  const me = viewer === "owner" ? "olive" : "ada";
  const token = people[me]?.token ?? "";
  const shown = await listed(token, o.orgId);
  const order = Object.keys(people)
    .filter((n) => n !== me)
    .concat(me);
  for (const name of order) {
    const person = people[name];
    const want = expected[name];
    assert.ok(person && want, `${name} is expected`);
    const member = shown.get(person.userId);
    assert.ok(member, `${name} is listed`);
    assert.deepEqual(member.abilities, want, `${name} as listed to ${me}`);
    assert.equal(member.actsAs, person.role === "member" ? null : "admin", `${name} acts as`);
    if (name === me) {
      // Leaving (their own id); changing one's own role is tried in its own test. The owner, by
      // now the only one, may leave as far as rule 1 goes, and meets rule 2: a conflict (409),
      // which abilities do not foretell.
      const left = await t.request("DELETE", `/api/v1/orgs/${o.orgId}/members/${person.userId}`, { token });
      if (viewer === "owner") assert.equal(left.json.code, "last_owner", left.text);
      else assert.equal(left.status < 300, want.remove, `${name} leaves: ${left.status} ${left.text}`);
      continue;
    }
    const to = person.role === "member" ? "admin" : "member";
    const changed = await t.request("PATCH", `/api/v1/orgs/${o.orgId}/members/${person.userId}`, {
      token,
      body: { role: to },
    });
    assert.equal(changed.status < 300, want.changeRole, `${name} → ${to}: ${changed.status} ${changed.text}`);
    const removed = await t.request("DELETE", `/api/v1/orgs/${o.orgId}/members/${person.userId}`, { token });
    assert.equal(removed.status < 300, want.remove, `${name} removed: ${removed.status} ${removed.text}`);
  }
}

const all = { changeRole: true, remove: true };
const none = { changeRole: false, remove: false };

describe("member abilities are what PATCH and DELETE allow", () => {
  test("an owner may change and remove anyone, another owner included", async () => {
    await expectAsListed("owner", { olive: all, oscar: all, ada: all, abe: all, mia: all });
  });

  test("an admin may not touch an owner; admins and members, yes; and may leave", async () => {
    await expectAsListed("admin", { olive: none, oscar: none, ada: all, abe: all, mia: all });
  });

  test("after changing one's own role, the answer shows the member as the lower role now sees them", async () => {
    const o = await buildOrg(t, "Olive Owner");
    const ada = await joinOrg(t, o.orgId, "admin", "Ada");
    const res = await t.request("PATCH", `/api/v1/orgs/${o.orgId}/members/${ada.userId}`, {
      token: ada.token,
      body: { role: "member" },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.member.actsAs, null);
    // A member has no org.users: they change nobody's role, and may only leave.
    assert.deepEqual(res.json.member.abilities, { changeRole: false, remove: true });
  });

  test("the organisation's answer says what the caller's own org role acts as in every workspace", async () => {
    const o = await buildOrg(t, "Olive Owner");
    const mia = await joinOrg(t, o.orgId, "member", "Mia");
    const mine = await t.request("GET", `/api/v1/orgs/${o.orgId}`, { token: o.owner.token });
    assert.equal(mine.json.actsAs, "admin");
    const hers = await t.request("GET", `/api/v1/orgs/${o.orgId}`, { token: mia.token });
    assert.equal(hers.json.actsAs, null);
  });
});
