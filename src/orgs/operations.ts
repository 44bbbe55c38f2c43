// Organisations and org memberships.
import type { Actor } from "../audit/operations.js";
import { recordAudit } from "../audit/operations.js";
import { newId } from "../db/ids.js";
import type { Queryable } from "../db/index.js";
import type { OrganizationRow, WorkspaceRow } from "../db/schema.js";
import { createWorkspace } from "../workspaces/operations.js";

export const DEFAULT_WORKSPACE_NAME = "General";

/**
 * A new organisation owned by `ownerId`, with its first workspace. Runs inside the caller's
 * transaction, with its audit events.
 */
export async function createOrganization(
  tx: Queryable,
  actor: Actor,
  input: { name: string; ownerId: string; workspaceName?: string },
): Promise<{ organization: OrganizationRow; workspace: WorkspaceRow }> {
  const organization = await tx
    .insertInto("organizations")
    .values({ id: newId("org"), name: input.name.trim() })
    .returningAll()
    .executeTakeFirstOrThrow();
  await tx
    .insertInto("org_memberships")
    .values({ org_id: organization.id, user_id: input.ownerId, role: "owner" })
    .execute();
  await recordAudit(tx, actor, {
    orgId: organization.id,
    action: "organization.created",
    targetType: "organization",
    targetId: organization.id,
    data: { name: organization.name },
  });
  await recordAudit(tx, actor, {
    orgId: organization.id,
    action: "member.added",
    targetType: "user",
    targetId: input.ownerId,
    data: { role: "owner" },
  });
  const workspace = await createWorkspace(tx, actor, {
    orgId: organization.id,
    name: input.workspaceName ?? DEFAULT_WORKSPACE_NAME,
  });
  return { organization, workspace };
}

/** The organisations a user belongs to, with their role in each, oldest membership first. */
export async function listUserOrganizations(
  db: Queryable,
  userId: string,
): Promise<{ id: string; name: string; role: string }[]> {
  return db
    .selectFrom("org_memberships as m")
    .innerJoin("organizations as o", "o.id", "m.org_id")
    .select(["o.id", "o.name", "m.role"])
    .where("m.user_id", "=", userId)
    .orderBy("m.created_at")
    .orderBy("o.id")
    .execute();
}
