// What the invitation lists say the caller may do with each invitation (`abilities`), against what
// resend and cancel then really do: the same rule decides both ("as for creating it", over every
// workspace an invitation grants, while it is open), for an org owner and admin, a workspace admin,
// and a host's role (ROLES_FILE) that holds workspace.users below admin — so the console can offer
// exactly what will work, without re-deriving the rule from role names.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { KyselyPlugin } from "kysely";
import { type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import { buildInvitation } from "../../test/helpers/invitations.js";
import { buildOrg, grantWorkspaceRole, joinOrg, type Org } from "../../test/helpers/org.js";
import { invitationAbilities } from "./authority.js";
import type { InvitationRow } from "./model.js";
import { COLUMNS } from "./queries.js";

let t: TestApp;
let rolesDir: string;
let o: Org;
let w2: string;
let ada: SignedUp; // org admin
let wendy: SignedUp; // org member, workspace admin of W1
let max: SignedUp; // org member, "manager" of W1: workspace.users at rank 35, below admin (40)

before(async () => {
  rolesDir = await mkdtemp(path.join(tmpdir(), "rollcall-roles-"));
  const file = path.join(rolesDir, "roles.json");
  await writeFile(
    file,
    JSON.stringify({
      workspaceRoles: {
        manager: {
          rank: 35,
          description: "Manages people",
          permissions: ["workspace.users", "tickets.read"],
        },
      },
    }),
  );
  t = await testApp({ ROLES_FILE: file });
  o = await buildOrg(t, "Olive Owner");
  const ws = await t.request("POST", `/api/v1/orgs/${o.orgId}/workspaces`, {
    token: o.owner.token,
    body: { name: "W2" },
  });
  assert.equal(ws.status, 201, ws.text);
  w2 = ws.json.workspace.id;
  ada = await joinOrg(t, o.orgId, "admin", "Ada Admin");
  wendy = await joinOrg(t, o.orgId, "member", "Wendy Wsadmin");
  await grantWorkspaceRole(t, o.orgId, o.workspaceId, wendy.userId, "admin");
  max = await joinOrg(t, o.orgId, "member", "Max Manager");
  await grantWorkspaceRole(t, o.orgId, o.workspaceId, max.userId, "manager");
});
after(async () => {
  await t.close();
  await rm(rolesDir, { recursive: true, force: true });
});

/** A fresh set of link invitations made by the owner, one of each kind these tests need. */
async function invitations(): Promise<Record<string, string>> {
  const make = async (role: string, workspaces: { workspaceId: string; role: string }[]) => {
    const res = await t.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, {
      token: o.owner.token,
      body: { delivery: "link", role, workspaces },
    });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(
      res.json.invitation.abilities,
      { resend: true, cancel: true },
      "its maker may manage it",
    );
    return res.json.invitation.id as string;
  };
  const w1 = o.workspaceId;
  const made = {
    asOwner: await make("owner", []),
    editorInW1: await make("member", [{ workspaceId: w1, role: "editor" }]),
    alsoInW2: await make("member", [
      { workspaceId: w1, role: "editor" },
      { workspaceId: w2, role: "viewer" },
    ]),
    adminInW1: await make("member", [{ workspaceId: w1, role: "admin" }]),
    expired: await make("member", [{ workspaceId: w1, role: "viewer" }]),
    cancelled: await make("member", [{ workspaceId: w1, role: "viewer" }]),
  };
  await t.db
    .updateTable("invitations")
    .set({ expires_at: new Date(Date.now() - 60_000) })
    .where("id", "=", made.expired)
    .execute();
  const gone = await t.request("DELETE", `/api/v1/invitations/${made.cancelled}`, { token: o.owner.token });
  assert.equal(gone.status, 204, gone.text);
  return made;
}

type Abilities = { resend: boolean; cancel: boolean };

/** The abilities a list shows, by invitation id (every status: no filter). */
async function listed(token: string, list: string): Promise<Map<string, Abilities>> {
  const res = await t.request("GET", `${list}?limit=200`, { token });
  assert.equal(res.status, 200, res.text);
  return new Map(res.json.items.map((i: { id: string; abilities: Abilities }) => [i.id, i.abilities]));
}

/**
 * Each invitation's abilities as `list` shows them to `who`, then the routes tried: resend, then
 * cancel. What the list said is exactly what succeeded.
 */
async function expectAsListed(
  who: SignedUp,
  list: string,
  made: Record<string, string>,
  expected: Record<string, boolean | "not listed">,
): Promise<void> {
  const shown = await listed(who.token, list);
  for (const [name, id] of Object.entries(made)) {
    const want = expected[name];
    assert.ok(want !== undefined, `an expectation for ${name}`);
    if (want === "not listed") {
      assert.equal(shown.has(id), false, `${name} is not in ${list}`);
      continue;
    }
    assert.deepEqual(shown.get(id), { resend: want, cancel: want }, `${name} as listed`);
    const resend = await t.request("POST", `/api/v1/invitations/${id}/resend`, { token: who.token });
    assert.equal(resend.status < 300, want, `${name}: resend answered ${resend.status} ${resend.text}`);
    if (want) assert.deepEqual(resend.json.invitation.abilities, { resend: true, cancel: true });
    const cancel = await t.request("DELETE", `/api/v1/invitations/${id}`, { token: who.token });
    assert.equal(cancel.status < 300, want, `${name}: cancel answered ${cancel.status} ${cancel.text}`);
  }
}

describe("invitation abilities are what resend and cancel allow", () => {
  test("the owner may manage every open invitation; an ended one, nobody", async () => {
    await expectAsListed(o.owner, `/api/v1/orgs/${o.orgId}/invitations`, await invitations(), {
      asOwner: true,
      editorInW1: true,
      alsoInW2: true,
      adminInW1: true,
      expired: true,
      cancelled: false,
    });
  });

  test("an org admin may not manage an invitation as owner (rule 1), the rest as the owner", async () => {
    await expectAsListed(ada, `/api/v1/orgs/${o.orgId}/invitations`, await invitations(), {
      asOwner: false,
      editorInW1: true,
      alsoInW2: true,
      adminInW1: true,
      expired: true,
      cancelled: false,
    });
  });

  test("a workspace admin may not manage one that also grants a workspace they do not administer", async () => {
    // Their list shows only W1's grant of it; the rule weighs every grant.
    await expectAsListed(wendy, `/api/v1/workspaces/${o.workspaceId}/invitations`, await invitations(), {
      asOwner: "not listed",
      editorInW1: true,
      alsoInW2: false,
      adminInW1: true,
      expired: true,
      cancelled: false,
    });
  });

  test("a host's role with workspace.users below admin manages what it could give, and no more", async () => {
    await expectAsListed(max, `/api/v1/workspaces/${o.workspaceId}/invitations`, await invitations(), {
      asOwner: "not listed",
      editorInW1: true,
      alsoInW2: false,
      adminInW1: false,
      expired: true,
      cancelled: false,
    });
  });

  test("a page of 50 invitations is decided in two queries, not one per invitation", async () => {
    const ids: string[] = [];
    for (let n = 0; n < 50; n++) {
      const grants = [{ workspaceId: o.workspaceId, role: "editor" }];
      if (n % 2) grants.push({ workspaceId: w2, role: "viewer" });
      const built = await buildInvitation(t, {
        orgId: o.orgId,
        invitedBy: { userId: o.owner.userId, name: "Olive Owner" },
        workspaces: grants,
      });
      ids.push(built.id);
    }
    const rows = (await t.db
      .selectFrom("invitations as i")
      .select([...COLUMNS])
      .where("i.id", "in", ids)
      .execute()) as InvitationRow[];
    let queries = 0;
    const counter: KyselyPlugin = {
      transformQuery: (args) => {
        queries++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const abilities = await invitationAbilities(
      t.db.withPlugin(counter),
      t.app.services.catalogue,
      { userId: wendy.userId, orgRole: "member" },
      o.orgId,
      rows,
    );
    assert.equal(queries, 2);
    assert.equal(abilities.size, 50);
    for (const [n, id] of ids.entries()) {
      assert.deepEqual(abilities.get(id), { resend: n % 2 === 0, cancel: n % 2 === 0 }, `invitation ${n}`);
    }
  });
});
