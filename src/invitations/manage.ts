// Managing invitations after creation: resend (new token, old link dead), cancel, and the lists
// with their derived status. Who may do so is decided here, "as for creating it" (README.md#invitations).
import { sql } from "kysely";
import { can } from "../access/can.js";
import type { Catalogue, OrgRole } from "../access/catalogue.js";
import { orgStanding } from "../access/queries.js";
import { type Actor, actorType, recordAudit } from "../audit/operations.js";
import { AppError } from "../core/errors.js";
import type { Queryable, Tx } from "../db/index.js";
import { escalationRefusal } from "./authority.js";
import { countInvitation, type ManageContext, type ManagedInvitation } from "./create.js";
import { cancelPending, sendOut } from "./lifecycle.js";
import {
  type Grant,
  goneError,
  type InvitationRow,
  type InvitationStatus,
  MAX_LIFETIME_HOURS,
  type MailState,
  newInvitationToken,
  STATUS_SQL,
} from "./model.js";
import { COLUMNS, grantsOf, loadRow, mailStates } from "./queries.js";

export {
  type CreateInvitationInput,
  createInvitation,
  type Inviter,
  type ManageContext,
  type ManagedInvitation,
} from "./create.js";

/**
 * The invitation `id` for someone who manages it "as for creating it": someone who could create
 * this very invitation now — org.users and a role at least the one it offers (owner for owner), or
 * (for an invitation as member) workspace.users in every workspace it grants. Outside its
 * organisation, or no such id: 404 invitation_not_found, alike (rule 3).
 */
export async function loadForManagement(
  tx: Queryable,
  catalogue: Catalogue,
  userId: string,
  id: string,
): Promise<{ row: InvitationRow; grants: Grant[] }> {
  const found = await tx
    .selectFrom("invitations as i")
    .select(["i.org_id"])
    .where("i.id", "=", id)
    .executeTakeFirst();
  const standing = found ? await orgStanding(tx, found.org_id, userId) : null;
  if (!found || !standing) throw new AppError("invitation_not_found");
  const row = await loadRow(tx, found.org_id, id, true);
  const grants = (await grantsOf(tx, row.org_id, [id])).get(id) ?? [];
  // Exactly the rule for creating it (rule 1): org.users alone does not let an admin resend or
  // cancel an invitation as owner.
  const refusal = await escalationRefusal(
    tx,
    catalogue,
    { userId, orgRole: standing.orgRole },
    row.org_id,
    row.role,
    grants.map((g) => ({ workspaceId: g.workspaceId, role: g.role })),
  );
  if (!refusal) return { row, grants };
  throw new AppError(
    "forbidden",
    `You cannot manage this invitation: you could not create it (you cannot invite ${refusal}).`,
  );
}

/** Ended invitations answer their 410; pending and expired ones may be resent or cancelled. */
function assertNotEnded(row: InvitationRow, now = new Date()): void {
  const status: InvitationStatus =
    row.status === "pending" && row.expires_at.getTime() <= now.getTime() ? "expired" : row.status;
  if (status === "pending" || status === "expired") return;
  const gone = goneError(status);
  if (gone) throw gone;
}

/** How long the invitation was meant to last: from its latest send (audit), else its creation. */
async function lifetimeHours(tx: Queryable, row: InvitationRow): Promise<number> {
  const event = await tx
    .selectFrom("audit_events")
    .select("data")
    .where("org_id", "=", row.org_id)
    .where("target_type", "=", "invitation")
    .where("target_id", "=", row.id)
    .where("action", "in", ["invitation.created", "invitation.resent"])
    .orderBy("at", "desc")
    .limit(1)
    .executeTakeFirst();
  const data = (typeof event?.data === "string" ? JSON.parse(event.data) : event?.data) as
    | { expiresInHours?: unknown }
    | undefined;
  const recorded = Number(data?.expiresInHours);
  if (Number.isInteger(recorded) && recorded >= 1 && recorded <= MAX_LIFETIME_HOURS) return recorded;
  const hours = Math.round((row.expires_at.getTime() - row.created_at.getTime()) / 3_600_000);
  return Math.min(MAX_LIFETIME_HOURS, Math.max(1, hours));
}

/** A new token (the old link dies), a new expiry of the same length, and for e-mail a new mail. */
export async function resendInvitation(
  tx: Tx,
  ctx: ManageContext,
  actor: Actor,
  userId: string,
  id: string,
): Promise<ManagedInvitation> {
  const { row: before, grants } = await loadForManagement(tx, ctx.catalogue, userId, id);
  assertNotEnded(before);
  // A resend is a new invitation and a new mail: it counts as one (rule 12).
  await countInvitation(tx, ctx, before.org_id, before.delivery === "email" ? before.email : null);
  const hours = await lifetimeHours(tx, before);
  const { token, hash } = newInvitationToken();
  await tx
    .updateTable("invitations")
    .set({
      token_hash: hash,
      status: "pending",
      expires_at: sql<Date>`now() + make_interval(hours => ${hours})`,
      updated_at: sql<Date>`now()`,
      // Whoever resends it backs it from now on (the new mail names them): it stays good while
      // they could make it (rules 1 and 9, see withdrawUnbacked).
      // An API key is no person to back it: like the operator's, its invitations stand alone.
      invited_by: actorType(actor) === "user" ? actor.id : null,
      invited_by_name: actor.name ?? before.invited_by_name,
    })
    .where("org_id", "=", before.org_id)
    .where("id", "=", id)
    // An expired invitation whose address has since been invited again: the partial unique index
    // refuses, and http/problem.ts answers 409 invitation_pending.
    .execute();
  const sent = await sendOut(tx, ctx.publicUrl, {
    orgId: before.org_id,
    id,
    token,
    grants,
    inviterName: (row) => actor.name ?? row.invited_by_name,
    // The old link's mail, if it has not gone out yet (SMTP down), must not follow the new one.
    replaces: { mailId: before.mail_id, reason: "the invitation was resent" },
  });
  const { row } = sent;
  await recordAudit(tx, actor, {
    orgId: row.org_id,
    action: "invitation.resent",
    targetType: "invitation",
    targetId: id,
    data: { delivery: row.delivery, email: row.email, expiresInHours: hours },
  });
  return sent;
}

/** Pending (or expired) → cancelled; an ended invitation answers its 410. */
export async function cancelInvitation(
  tx: Tx,
  catalogue: Catalogue,
  actor: Actor,
  userId: string,
  id: string,
) {
  const { row } = await loadForManagement(tx, catalogue, userId, id);
  assertNotEnded(row);
  await cancelPending(tx, actor, row);
}

export interface ListOptions {
  status?: InvitationStatus | undefined;
  /** Only the invitations that grant this workspace. */
  workspaceId?: string | undefined;
  /** Only the invitations as one of these org roles. */
  roles?: OrgRole[] | undefined;
  limit: number;
  /** The id of the last invitation of the previous page (newest first). */
  after?: string | undefined;
}

/** A page of invitations, newest first, with grants and mail states (one query each). */
export async function listInvitations(
  db: Queryable,
  orgId: string,
  options: ListOptions,
): Promise<{ rows: InvitationRow[]; grants: Map<string, Grant[]>; mail: Map<string, MailState> }> {
  let q = db
    .selectFrom("invitations as i")
    .select([...COLUMNS])
    .where("i.org_id", "=", orgId)
    .orderBy("i.id", "desc")
    .limit(options.limit + 1);
  if (options.status) q = q.where(STATUS_SQL, "=", options.status);
  if (options.after) q = q.where("i.id", "<", options.after);
  if (options.roles) q = q.where("i.role", "in", options.roles);
  if (options.workspaceId) {
    const ws = options.workspaceId;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom("invitation_workspaces as g")
          .select("g.invitation_id")
          .whereRef("g.org_id", "=", "i.org_id")
          .whereRef("g.invitation_id", "=", "i.id")
          .where("g.workspace_id", "=", ws),
      ),
    );
  }
  const rows = (await q.execute()) as InvitationRow[];
  const shown = rows.slice(0, options.limit);
  const grants = await grantsOf(
    db,
    orgId,
    shown.map((r) => r.id),
  );
  const mail = await mailStates(
    db,
    shown.flatMap((r) => (r.mail_id ? [r.mail_id] : [])),
  );
  return { rows, grants, mail };
}

/**
 * A page of the invitations that grant this workspace. Someone with org.users (an org owner or
 * admin) sees them as in the organisation's list. A workspace admin sees what concerns the
 * workspace, no more: the invitations as org `member` (the only ones they could make, see
 * escalationRefusal), each with this workspace's grant alone — not the other workspaces an
 * invitation offers, nor who is invited as org admin or owner.
 */
export async function listWorkspaceInvitations(
  db: Queryable,
  catalogue: Catalogue,
  caller: { orgId: string; orgRole: string },
  options: ListOptions & { workspaceId: string },
): Promise<{ rows: InvitationRow[]; grants: Map<string, Grant[]>; mail: Map<string, MailState> }> {
  if (can(catalogue, "org.users", { orgRole: caller.orgRole }))
    return listInvitations(db, caller.orgId, options);
  const listed = await listInvitations(db, caller.orgId, { ...options, roles: ["member"] });
  const grants = new Map(
    [...listed.grants].map(([id, all]) => [id, all.filter((g) => g.workspaceId === options.workspaceId)]),
  );
  return { ...listed, grants };
}
