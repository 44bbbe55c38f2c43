// Workspaces and workspace memberships.
import type { Actor } from "../audit/operations.js";
import { recordAudit } from "../audit/operations.js";
import { newId } from "../db/ids.js";
import type { Queryable } from "../db/index.js";
import type { WorkspaceRow } from "../db/schema.js";

export async function createWorkspace(
  tx: Queryable,
  actor: Actor,
  input: { orgId: string; name: string; timezone?: string; language?: string },
): Promise<WorkspaceRow> {
  const workspace = await tx
    .insertInto("workspaces")
    .values({
      id: newId("wsp"),
      org_id: input.orgId,
      name: input.name.trim(),
      ...(input.timezone ? { timezone: input.timezone } : {}),
      ...(input.language ? { language: input.language } : {}),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordAudit(tx, actor, {
    orgId: input.orgId,
    action: "workspace.created",
    targetType: "workspace",
    targetId: workspace.id,
    data: { name: workspace.name },
  });
  return workspace;
}
