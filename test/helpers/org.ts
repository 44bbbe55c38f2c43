// Organisations for tests: an owner with their organisation and its first workspace, people
// placed in it (as an accepted invitation would place them), and workspace grants.
import type { OrgRole } from "../../src/access/catalogue.js";
import { buildUser, type SignedUp, type TestApp } from "./app.js";

export interface Org {
  owner: SignedUp;
  orgId: string;
  workspaceId: string;
}

/** Signs an owner up; their sign-up made the organisation and its first workspace. */
export async function buildOrg(t: TestApp, ownerName = "Olive Owner"): Promise<Org> {
  const owner = await buildUser(t, { name: ownerName });
  const me = await t.request("GET", "/api/v1/me", { token: owner.token });
  const orgId: string = me.json.organizations[0].id;
  const ws = await t.db
    .selectFrom("workspaces")
    .select("id")
    .where("org_id", "=", orgId)
    .executeTakeFirstOrThrow();
  return { owner, orgId, workspaceId: ws.id };
}

/** A new person who belongs to the organisation with `orgRole`. */
export async function joinOrg(
  t: TestApp,
  orgId: string,
  orgRole: OrgRole = "member",
  name = "Pat Person",
): Promise<SignedUp> {
  const u = await buildUser(t, { name });
  await t.db
    .insertInto("org_memberships")
    .values({ org_id: orgId, user_id: u.userId, role: orgRole })
    .execute();
  return u;
}

/** Gives an org member a role in a workspace directly. */
export async function grantWorkspaceRole(
  t: TestApp,
  orgId: string,
  workspaceId: string,
  userId: string,
  role: string,
): Promise<void> {
  await t.db
    .insertInto("workspace_memberships")
    .values({ org_id: orgId, workspace_id: workspaceId, user_id: userId, role })
    .execute();
}
