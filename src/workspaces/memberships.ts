// The one module that writes workspace_memberships: a workspace role given, changed or taken away,
// each with its audit event, shaped the same whoever causes it (a workspace admin, an
// invitation). Whether the change may happen (rank, standing under the organisation's lock) is
// the callers' to decide: workspaces/operations.ts, invitations/join.ts.
import type { Actor } from "../audit/operations.js";
import { recordAudit } from "../audit/operations.js";
import type { Tx } from "../db/index.js";
import type { Person } from "../orgs/memberships.js";

interface WorkspaceMembership {
  orgId: string;
  workspaceId: string;
  userId: string;
  person: Person;
  /** The invitation that made the change, when one did. */
  invitationId?: string | undefined;
}

function about(m: WorkspaceMembership) {
  return {
    workspaceId: m.workspaceId,
    ...(m.invitationId ? { invitationId: m.invitationId } : {}),
    ...m.person,
  };
}

/** Answers when the membership began. */
export async function addWorkspaceMembership(
  tx: Tx,
  actor: Actor,
  m: WorkspaceMembership & { role: string },
): Promise<Date> {
  const row = await tx
    .insertInto("workspace_memberships")
    .values({ org_id: m.orgId, workspace_id: m.workspaceId, user_id: m.userId, role: m.role })
    .returning(["created_at"])
    .executeTakeFirstOrThrow();
  await recordAudit(tx, actor, {
    orgId: m.orgId,
    action: "workspace_member.added",
    targetType: "user",
    targetId: m.userId,
    data: { role: m.role, ...about(m) },
  });
  return row.created_at;
}

export async function changeWorkspaceMembership(
  tx: Tx,
  actor: Actor,
  m: WorkspaceMembership & { from: string; to: string },
): Promise<void> {
  await tx
    .updateTable("workspace_memberships")
    .set({ role: m.to })
    .where("org_id", "=", m.orgId)
    .where("workspace_id", "=", m.workspaceId)
    .where("user_id", "=", m.userId)
    .execute();
  await recordAudit(tx, actor, {
    orgId: m.orgId,
    action: "workspace_member.role_changed",
    targetType: "user",
    targetId: m.userId,
    data: { from: m.from, to: m.to, ...about(m) },
  });
}

export async function removeWorkspaceMembership(
  tx: Tx,
  actor: Actor,
  m: WorkspaceMembership & { role: string },
): Promise<void> {
  await tx
    .deleteFrom("workspace_memberships")
    .where("org_id", "=", m.orgId)
    .where("workspace_id", "=", m.workspaceId)
    .where("user_id", "=", m.userId)
    .execute();
  await recordAudit(tx, actor, {
    orgId: m.orgId,
    action: "workspace_member.removed",
    targetType: "user",
    targetId: m.userId,
    data: { role: m.role, ...about(m) },
  });
}
