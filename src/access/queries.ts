// A caller's standing in an organisation or a workspace: one indexed query, read on every
// request (no cache), so that a removal or role change holds from the very next request (rule 9).
// A caller is a person (a user id) or an organisation's API key (a key id): both are read through
// the views caller_org_roles and caller_workspace_roles (0009), so a key is checked exactly like a
// member.
import { sql } from "kysely";
import type { Queryable } from "../db/index.js";
import type { Catalogue } from "./catalogue.js";

export interface OrgStanding {
  orgId: string;
  orgRole: string;
}

export interface WorkspaceStanding {
  orgId: string;
  workspaceId: string;
  orgRole: string;
  workspaceRole: string | null;
}

/** The caller's role in the organisation, or null when they are not in it (or it does not exist). */
export async function orgStanding(
  db: Queryable,
  orgId: string,
  callerId: string,
): Promise<OrgStanding | null> {
  const row = await db
    .selectFrom("caller_org_roles")
    .select(["org_id", "role"])
    .where("org_id", "=", orgId)
    .where("caller_id", "=", callerId)
    .executeTakeFirst();
  return row ? { orgId: row.org_id, orgRole: row.role } : null;
}

/** The caller's org and workspace roles for a workspace, or null when they are not in its organisation. */
export async function workspaceStanding(
  db: Queryable,
  workspaceId: string,
  callerId: string,
): Promise<WorkspaceStanding | null> {
  const { rows } = await sql<{ org_id: string; org_role: string; workspace_role: string | null }>`
    SELECT w.org_id, om.role AS org_role, wm.role AS workspace_role
    FROM workspaces w
    JOIN caller_org_roles om ON om.org_id = w.org_id AND om.caller_id = ${callerId}
    LEFT JOIN caller_workspace_roles wm
      ON wm.org_id = w.org_id AND wm.workspace_id = w.id AND wm.caller_id = ${callerId}
    WHERE w.id = ${workspaceId}
  `.execute(db);
  const row = rows[0];
  return row
    ? { orgId: row.org_id, workspaceId, orgRole: row.org_role, workspaceRole: row.workspace_role }
    : null;
}

/**
 * Memberships refer to workspace_roles: every role the catalogue defines must have its row. Run
 * after migrating, before serving (a role a host adds in ROLES_FILE appears here).
 */
export async function syncWorkspaceRoles(db: Queryable, catalogue: Catalogue): Promise<void> {
  await db
    .insertInto("workspace_roles")
    .values(catalogue.workspaceRoles.map((r) => ({ name: r.name })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}
