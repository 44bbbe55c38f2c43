// Workspaces and workspace memberships: the rules (1, 3, 14, 16). Each operation runs inside the
// caller's transaction and writes its audit event there, so the change and its record commit
// together or not at all. Who may call which operation is the guard's business (the route's one
// permission); what a caller may grant is checked here (rule 1).

import { admitAgain } from "../access/admit.js";
import { type Asker, type Authorization, authorize } from "../access/authorize.js";
import { effectiveWorkspaceRole, workspaceGrantRefusal } from "../access/can.js";
import type { Catalogue } from "../access/catalogue.js";
import { workspaceStanding } from "../access/queries.js";
import type { Actor } from "../audit/operations.js";
import { recordAudit } from "../audit/operations.js";
import { AppError, assert, fieldError } from "../core/errors.js";
import { page } from "../core/paging.js";
import { newId } from "../db/ids.js";
import type { Queryable, Tx } from "../db/index.js";
import type { WorkspaceRow } from "../db/schema.js";
import { searchPlan, walkedPage } from "../db/search.js";
import { withdrawUnbacked } from "../invitations/authority.js";
import { refuseLinkInName } from "../mail/names.js";
import {
  addWorkspaceMembership,
  changeWorkspaceMembership,
  removeWorkspaceMembership,
} from "./memberships.js";
import {
  findMember,
  findWorkspace,
  listMemberRows,
  listWorkspaceRows,
  lockCandidate,
  type WorkspaceMember,
  type WorkspaceMemberFilter,
  type WorkspacePlace,
  workspaceWalkEnd,
} from "./queries.js";
import { canonicalLanguage, canonicalTimezone } from "./validation.js";

export type { WorkspaceMember, WorkspacePlace } from "./queries.js";

/**
 * A page of the workspace's members, by user id. A search (db/search.ts) never reads another
 * workspace's or organisation's members, and examines SEARCH_ROW_LIMIT of this one's at most:
 * `searchLimitReached` then says the page may be short, and `nextCursor` goes on from there.
 */
export async function listWorkspaceMembers(
  db: Queryable,
  place: WorkspacePlace,
  filter: WorkspaceMemberFilter,
): Promise<{ items: WorkspaceMember[]; nextCursor: string | null; searchLimitReached?: true }> {
  const key = (m: WorkspaceMember) => m.userId;
  if (!filter.q?.trim()) return page(await listMemberRows(db, place, filter), filter.limit, key);
  const plan = await searchPlan(db, filter.q, place);
  const end = plan === "walk" ? await workspaceWalkEnd(db, place, filter.after) : undefined;
  const matching = plan === "walk" ? { walkUpTo: end } : plan;
  const rows = await listMemberRows(db, place, { ...filter, matching });
  return walkedPage(rows, filter.limit, key, end);
}

const notFound = () => new AppError("workspace_not_found", "This workspace does not exist.");
const memberNotFound = () =>
  new AppError("member_not_found", "No member of this organisation has this id.", undefined);

function refused(reason: string): AppError {
  return new AppError("forbidden", `You cannot do this: ${reason}.`, undefined, { fields: { reason } });
}

/** A new workspace in the organisation. Sign-up calls it inside its own transaction. */
export async function createWorkspace(
  tx: Tx,
  actor: Actor,
  input: { orgId: string; name: string; timezone?: string; language?: string },
): Promise<WorkspaceRow> {
  refuseLinkInName("name", input.name);
  const timezone = input.timezone === undefined ? undefined : canonicalTimezone(input.timezone);
  const language = input.language === undefined ? undefined : canonicalLanguage(input.language);
  const workspace = await tx
    .insertInto("workspaces")
    .values({
      id: newId("wsp"),
      org_id: input.orgId,
      name: input.name.trim(),
      ...(timezone ? { timezone } : {}),
      ...(language ? { language } : {}),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordAudit(tx, actor, {
    orgId: input.orgId,
    action: "workspace.created",
    targetType: "workspace",
    targetId: workspace.id,
    data: { name: workspace.name, timezone: workspace.timezone, language: workspace.language },
  });
  return workspace;
}

export interface WorkspaceEntry {
  workspace: WorkspaceRow;
  /** The caller's effective role there; null for a service key. */
  role: string | null;
}

/**
 * A page of the workspaces `user` can enter, with their effective role in each: every workspace of
 * the organisation for an org role that acts as a workspace role (owner, admin), else only those
 * granted. Fetches one row more than `limit`, for the next cursor.
 */
export async function listWorkspacesFor(
  db: Queryable,
  catalogue: Catalogue,
  user: { userId: string; orgId: string; orgRole: string | null },
  page: { limit: number; after?: string | undefined },
): Promise<WorkspaceEntry[]> {
  const { orgRole } = user;
  // No org role: a service key, which reads every workspace and has a role in none.
  if (orgRole === null) {
    const rows = await listWorkspaceRows(db, { orgId: user.orgId, userId: "", onlyGranted: false, ...page });
    return rows.map(({ direct_role: _, ...workspace }) => ({ workspace, role: null }));
  }
  const rows = await listWorkspaceRows(db, {
    orgId: user.orgId,
    userId: user.userId,
    onlyGranted: !catalogue.orgRoleActsAs[orgRole],
    ...page,
  });
  return rows.flatMap(({ direct_role, ...workspace }) => {
    const role = effectiveWorkspaceRole(catalogue, { orgRole, workspaceRole: direct_role });
    return role ? [{ workspace, role }] : [];
  });
}

export async function getWorkspace(db: Queryable, place: WorkspacePlace): Promise<WorkspaceRow> {
  const workspace = await findWorkspace(db, place);
  assert(workspace, notFound);
  return workspace;
}

export interface WorkspaceChanges {
  name?: string | undefined;
  timezone?: string | undefined;
  language?: string | undefined;
}

/** Changes name, timezone or language; records what changed as `{field: {from, to}}`. */
export async function updateWorkspace(
  tx: Tx,
  actor: Actor,
  place: WorkspacePlace,
  input: WorkspaceChanges,
): Promise<WorkspaceRow> {
  // Validate everything before touching anything (rule 16).
  const wanted: Partial<Record<"name" | "timezone" | "language", string>> = {};
  if (input.name !== undefined) wanted.name = input.name.trim();
  if (input.timezone !== undefined) wanted.timezone = canonicalTimezone(input.timezone);
  if (input.language !== undefined) wanted.language = canonicalLanguage(input.language);
  if (wanted.name === "") throw fieldError("name", "The name cannot be blank.");
  if (wanted.name !== undefined) refuseLinkInName("name", wanted.name);

  const before = await tx
    .selectFrom("workspaces")
    .selectAll()
    .where("org_id", "=", place.orgId)
    .where("id", "=", place.workspaceId)
    .forUpdate()
    .executeTakeFirst();
  assert(before, notFound);
  const changes: Record<string, { from: string; to: string }> = {};
  for (const [field, to] of Object.entries(wanted) as ["name" | "timezone" | "language", string][]) {
    if (before[field] !== to) changes[field] = { from: before[field], to };
  }
  if (Object.keys(changes).length === 0) return before;

  const updated = await tx
    .updateTable("workspaces")
    .set({
      ...Object.fromEntries(Object.entries(changes).map(([f, c]) => [f, c.to])),
      updated_at: new Date(),
    })
    .where("org_id", "=", place.orgId)
    .where("id", "=", place.workspaceId)
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordAudit(tx, actor, {
    orgId: place.orgId,
    action: "workspace.updated",
    targetType: "workspace",
    targetId: place.workspaceId,
    data: { changes },
  });
  return updated;
}

/**
 * Deletes the workspace; its memberships and the invitations' grants of it go with it (foreign
 * keys, ON DELETE CASCADE). A pending invitation that granted it and that its inviter could not
 * make without it (a workspace admin's, left granting nothing) is withdrawn (rules 1 and 9).
 */
export async function deleteWorkspace(
  tx: Tx,
  actor: Actor,
  place: WorkspacePlace,
  catalogue: Catalogue,
): Promise<void> {
  const granting = await tx
    .selectFrom("invitation_workspaces")
    .select("invitation_id")
    .where("org_id", "=", place.orgId)
    .where("workspace_id", "=", place.workspaceId)
    .execute();
  const deleted = await tx
    .deleteFrom("workspaces")
    .where("org_id", "=", place.orgId)
    .where("id", "=", place.workspaceId)
    .returning(["name"])
    .executeTakeFirst();
  assert(deleted, notFound);
  await recordAudit(tx, actor, {
    orgId: place.orgId,
    action: "workspace.deleted",
    targetType: "workspace",
    targetId: place.workspaceId,
    data: { name: deleted.name },
  });
  await withdrawUnbacked(tx, catalogue, actor, place.orgId, { ids: granting.map((g) => g.invitation_id) });
}

/**
 * Rule 9 for the actor of a workspace membership change: under the organisation's lock (which
 * every membership change, org or workspace, takes first), their standing in the workspace read
 * again. Someone removed or demoted while this request was on its way is refused as the guard
 * would refuse them now (404 where they can no longer enter the workspace, else 403).
 */
function standingNow(tx: Queryable, catalogue: Catalogue, actor: { id: string }, place: WorkspacePlace) {
  return admitAgain(tx, catalogue, "workspace.users", place, actor.id, "update");
}

/**
 * Gives an org member a workspace role, or changes theirs. Rule 1: the actor (their standing in
 * this workspace, read under the lock) grants nothing above their own effective role and changes
 * nobody ranked above them. A user who is not in this organisation — including one of another
 * tenant, or no one — answers member_not_found, identically (rule 3).
 */
export async function putWorkspaceMember(
  tx: Tx,
  catalogue: Catalogue,
  actor: Actor & { id: string },
  place: WorkspacePlace,
  input: { userId: string; role: string },
): Promise<{ member: WorkspaceMember; added: boolean }> {
  const standing = await standingNow(tx, catalogue, actor, place);
  const candidate = await lockCandidate(tx, place, input.userId);
  assert(candidate, memberNotFound);
  const from = candidate.current?.role ?? null;
  const refusal = workspaceGrantRefusal(catalogue, standing, from, input.role);
  if (refusal) throw refused(refusal);
  const person = { name: candidate.name, email: candidate.email };

  if (candidate.current) {
    if (from === input.role) return { member: candidate.current, added: false };
    await changeWorkspaceMembership(tx, actor, {
      ...place,
      userId: input.userId,
      person,
      from: candidate.current.role,
      to: input.role,
    });
    // Lowered, their invitations into this workspace may now give more than they could.
    await withdrawUnbacked(tx, catalogue, actor, place.orgId, { invitedBy: input.userId });
    return { member: { ...candidate.current, role: input.role }, added: false };
  }

  const joinedAt = await addWorkspaceMembership(tx, actor, {
    ...place,
    userId: input.userId,
    person,
    role: input.role,
  });
  return {
    member: { userId: input.userId, ...person, role: input.role, joinedAt },
    added: true,
  };
}

/** Takes the user's direct role in this workspace away; their org membership stays. */
export async function removeWorkspaceMember(
  tx: Tx,
  catalogue: Catalogue,
  actor: Actor & { id: string },
  place: WorkspacePlace,
  userId: string,
): Promise<void> {
  const standing = await standingNow(tx, catalogue, actor, place);
  const member = await findMember(tx, place, userId, true);
  assert(member, () => new AppError("member_not_found", "This person has no role in this workspace."));
  const refusal = workspaceGrantRefusal(catalogue, standing, member.role, null);
  if (refusal) throw refused(refusal);
  await removeWorkspaceMembership(tx, actor, {
    ...place,
    userId,
    role: member.role,
    person: { name: member.name, email: member.email },
  });
  await withdrawUnbacked(tx, catalogue, actor, place.orgId, { invitedBy: userId });
}

/**
 * The host product's question: may `userId` (default: the caller) do `permission` in this
 * workspace? Asking about someone else needs workspace.users.
 */
export function authorizeInWorkspace(
  db: Queryable,
  catalogue: Catalogue,
  caller: Asker,
  workspaceId: string,
  input: { permission: string; userId?: string | undefined },
): Promise<Authorization> {
  return authorize(
    catalogue,
    caller,
    {
      scope: "workspace",
      aboutOthers: "workspace.users",
      standingOf: (userId) => workspaceStanding(db, workspaceId, userId),
    },
    input,
  );
}
