import { can, orgGrantRefusal, workspaceGrantRefusal } from "../access/can.js";
import type { Catalogue } from "../access/catalogue.js";
import { orgStanding } from "../access/queries.js";
import type { Actor } from "../audit/operations.js";
import { AppError } from "../core/errors.js";
import type { Queryable, Tx } from "../db/index.js";
import { cancelPending } from "./lifecycle.js";
import { effectiveStatus, type Grant, type InvitationRow } from "./model.js";
import { COLUMNS, grantsOf } from "./queries.js";

/** The caller's (a person's or an API key's) direct role in each of the workspaces, in one query. */
export async function directWorkspaceRoles(
  db: Queryable,
  orgId: string,
  callerId: string,
  workspaceIds: string[],
): Promise<Map<string, string>> {
  if (workspaceIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("caller_workspace_roles")
    .select(["workspace_id", "role"])
    .where("org_id", "=", orgId)
    .where("caller_id", "=", callerId)
    .where("workspace_id", "in", workspaceIds)
    .execute();
  return new Map(rows.map((r) => [r.workspace_id, r.role]));
}

/**
 * Rule 1 for every field of an invitation: why this inviter cannot make it ("as admin: …"), or
 * null when they can. Someone with org.users grants org roles up to their own; someone without it may still
 * invite as `member` into workspaces where they hold workspace.users (a workspace admin inviting
 * from outside). Each workspace grant is checked against the inviter's standing in that workspace.
 */
export async function escalationRefusal(
  db: Queryable,
  catalogue: Catalogue,
  inviter: { userId: string; orgRole: string },
  orgId: string,
  role: string,
  grants: { workspaceId: string; role: string }[],
): Promise<string | null> {
  const direct = await directWorkspaceRoles(
    db,
    orgId,
    inviter.userId,
    grants.map((g) => g.workspaceId),
  );
  return refusalGiven(catalogue, inviter.orgRole, role, grants, direct);
}

/** escalationRefusal once the inviter's direct roles in the workspaces granted are known. */
function refusalGiven(
  catalogue: Catalogue,
  inviterOrgRole: string,
  role: string,
  grants: { workspaceId: string; role: string }[],
  /** The inviter's direct role by workspace id (at least those the grants name). */
  direct: ReadonlyMap<string, string>,
): string | null {
  const orgWide = can(catalogue, "org.users", { orgRole: inviterOrgRole });
  if (orgWide || role !== "member" || grants.length === 0) {
    const refusal = orgGrantRefusal(catalogue, inviterOrgRole, null, role);
    if (refusal) return `as ${role}: ${refusal}`;
  }
  for (const g of grants) {
    const standing = { orgRole: inviterOrgRole, workspaceRole: direct.get(g.workspaceId) ?? null };
    const refusal = workspaceGrantRefusal(catalogue, standing, null, g.role);
    if (refusal) return `${g.role} in that workspace: ${refusal}`;
  }
  return null;
}

/** What the caller may do with an invitation, as an answer says it. */
export interface InvitationAbilities {
  resend: boolean;
  cancel: boolean;
}

/**
 * What `caller` may do with each invitation, decided as resend and cancel decide it
 * (loadForManagement): "as for creating it" — escalationRefusal over everything the invitation
 * gives, whatever part of it a list shows — and only while it is open (pending or expired; an
 * ended one answers 410). Two queries for any number of invitations: their grants, and the
 * caller's direct roles in the workspaces those name.
 */
export async function invitationAbilities(
  db: Queryable,
  catalogue: Catalogue,
  caller: { userId: string; orgRole: string },
  orgId: string,
  rows: readonly Pick<InvitationRow, "id" | "role" | "status" | "expires_at">[],
): Promise<Map<string, InvitationAbilities>> {
  const grants = await grantsOf(
    db,
    orgId,
    rows.map((r) => r.id),
  );
  const workspaceIds = new Set([...grants.values()].flatMap((gs) => gs.map((g) => g.workspaceId)));
  const direct = await directWorkspaceRoles(db, orgId, caller.userId, [...workspaceIds]);
  const now = new Date();
  return new Map(
    rows.map((row) => {
      const status = effectiveStatus(row, now);
      const open = status === "pending" || status === "expired";
      const given = (grants.get(row.id) ?? []).map((g) => ({ workspaceId: g.workspaceId, role: g.role }));
      const may = open && refusalGiven(catalogue, caller.orgRole, row.role, given, direct) === null;
      return [row.id, { resend: may, cancel: may }];
    }),
  );
}

/** escalationRefusal as a 403. */
export async function refuseEscalation(
  db: Queryable,
  catalogue: Catalogue,
  inviter: { userId: string; orgRole: string },
  orgId: string,
  role: string,
  grants: { workspaceId: string; role: string }[],
): Promise<void> {
  const refusal = await escalationRefusal(db, catalogue, inviter, orgId, role, grants);
  if (refusal) throw new AppError("forbidden", `You cannot invite ${refusal}.`);
}

/**
 * Rules 1 and 9 for an invitation already made: it gives only what its inviter could give now.
 * Answers why not (they were demoted, removed, lost a workspace role, or a workspace it granted is
 * gone), or null when they still could. The operator's invitations (no inviter) are not bound.
 */
export async function inviterRefusal(
  db: Queryable,
  catalogue: Catalogue,
  row: Pick<InvitationRow, "org_id" | "invited_by" | "role">,
  grants: readonly Grant[],
): Promise<string | null> {
  if (!row.invited_by) return null;
  const standing = await orgStanding(db, row.org_id, row.invited_by);
  if (!standing) return "its inviter is no longer in the organisation";
  const refusal = await escalationRefusal(
    db,
    catalogue,
    { userId: row.invited_by, orgRole: standing.orgRole },
    row.org_id,
    row.role,
    grants.map((g) => ({ workspaceId: g.workspaceId, role: g.role })),
  );
  return refusal && `its inviter can no longer invite ${refusal}`;
}

/**
 * After a change that can lower what someone may give — a demotion, a removal or leaving, a
 * workspace role lowered or taken away, a workspace deleted — the pending invitations that their
 * inviters could no longer make are cancelled, in the change's transaction, each with its audit
 * event (rules 1, 9, 14). Otherwise a removed admin's link would go on making admins.
 * `which`: the invitations these people made, or these invitations.
 */
export async function withdrawUnbacked(
  tx: Tx,
  catalogue: Catalogue,
  actor: Actor,
  orgId: string,
  which: { invitedBy: string } | { ids: string[] },
): Promise<void> {
  if ("ids" in which && which.ids.length === 0) return;
  let q = tx
    .selectFrom("invitations as i")
    .select([...COLUMNS])
    .where("i.org_id", "=", orgId)
    .where("i.status", "=", "pending");
  q = "ids" in which ? q.where("i.id", "in", which.ids) : q.where("i.invited_by", "=", which.invitedBy);
  const rows = (await q.forUpdate().execute()) as InvitationRow[];
  if (rows.length === 0) return;
  const grants = await grantsOf(
    tx,
    orgId,
    rows.map((r) => r.id),
  );
  for (const row of rows) {
    const reason = await inviterRefusal(tx, catalogue, row, grants.get(row.id) ?? []);
    if (!reason) continue;
    await cancelPending(tx, actor, row, reason);
  }
}
