// Organisations and org memberships: the rules (rules 1, 2, 3, 9, 14: docs/rules.md). Each operation that
// changes something runs in one transaction with its audit event; changes to memberships first
// lock the organisation's row, so that the owners they count cannot change under them.
import { type Asker, type Authorization, authorize } from "../access/authorize.js";
import { orgGrantRefusal } from "../access/can.js";
import type { Catalogue, OrgRole } from "../access/catalogue.js";
import { orgStanding } from "../access/queries.js";
import type { Actor } from "../audit/operations.js";
import { recordAudit } from "../audit/operations.js";
import type { RateLimit } from "../config.js";
import { AppError, assert } from "../core/errors.js";
import { page } from "../core/paging.js";
import type { RateLimiter } from "../core/rate-limit.js";
import { newId } from "../db/ids.js";
import type { Database, Queryable, Tx } from "../db/index.js";
import { runPrepared } from "../db/prepared.js";
import type { OrganizationRow, WorkspaceRow } from "../db/schema.js";
import { searchPlan, walkedPage } from "../db/search.js";
import { withdrawUnbacked } from "../invitations/authority.js";
import { refuseLinkInName } from "../mail/names.js";
import { createWorkspace } from "../workspaces/operations.js";
import { addOrgMembership, changeOrgMembership, removeOrgMembership } from "./memberships.js";
import {
  countOwners,
  findMember,
  findOrganization,
  lockOrganization,
  type MemberFilter,
  type MemberRow,
  memberPage,
  orgWalkEndQuery,
  type TimeKey,
  timeKeyString,
  userOrganizationsPage,
  workspaceGrants,
} from "./queries.js";

export const DEFAULT_WORKSPACE_NAME = "General";

/**
 * A new organisation owned by `ownerId`, with its first workspace. Runs inside the caller's
 * transaction, with its audit events.
 */
export async function createOrganization(
  tx: Tx,
  actor: Actor,
  input: { name: string; ownerId: string; workspaceName?: string },
): Promise<{ organization: OrganizationRow; workspace: WorkspaceRow }> {
  refuseLinkInName("name", input.name);
  const organization = await tx
    .insertInto("organizations")
    .values({ id: newId("org"), name: input.name.trim() })
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordAudit(tx, actor, {
    orgId: organization.id,
    action: "organization.created",
    targetType: "organization",
    targetId: organization.id,
    data: { name: organization.name },
  });
  await addOrgMembership(tx, actor, { orgId: organization.id, userId: input.ownerId, role: "owner" });
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

// ---- organisations ----------------------------------------------------------------------------

/**
 * The actor (a logged-in user) makes a new organisation, with one workspace; they own it. Each
 * counts against the user's limit, in the same transaction: a refusal (429) creates nothing, and
 * a creation that fails gives its count back.
 */
export async function createOwnedOrganization(
  tx: Tx,
  actor: Actor & { id: string },
  name: string,
  rateLimit?: { limiter: RateLimiter; limit: RateLimit },
): Promise<{ organization: OrganizationRow; workspace: WorkspaceRow }> {
  if (rateLimit) await rateLimit.limiter.hit(`orgs:user:${actor.id}`, rateLimit.limit, tx);
  return createOrganization(tx, actor, { name, ownerId: actor.id });
}

/** One page of the user's organisations with their role, oldest membership first. */
export async function listUserOrganizationsPage(
  db: Queryable,
  userId: string,
  options: { limit: number; after?: TimeKey | undefined },
): Promise<{ items: { id: string; name: string; role: string }[]; nextCursor: string | null }> {
  const rows = await userOrganizationsPage(db, userId, options);
  const result = page(rows, options.limit, timeKeyString);
  return {
    items: result.items.map(({ id, name, role }) => ({ id, name, role })),
    nextCursor: result.nextCursor,
  };
}

export async function getOrganization(db: Queryable, orgId: string): Promise<OrganizationRow> {
  const organization = await findOrganization(db, orgId);
  assert(organization, () => new AppError("organization_not_found"));
  return organization;
}

export async function renameOrganization(
  tx: Tx,
  actor: Actor,
  orgId: string,
  name: string,
): Promise<OrganizationRow> {
  const current = await lockOrganization(tx, orgId);
  assert(current, () => new AppError("organization_not_found"));
  const to = name.trim();
  refuseLinkInName("name", to);
  if (to === current.name) return current;
  const renamed = await tx
    .updateTable("organizations")
    .set({ name: to, updated_at: new Date() })
    .where("id", "=", orgId)
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordAudit(tx, actor, {
    orgId,
    action: "organization.renamed",
    targetType: "organization",
    targetId: orgId,
    data: { from: current.name, to },
  });
  return renamed;
}

/**
 * Deletes the organisation and everything of it: workspaces and memberships cascade; its audit
 * trail and its mail not yet sent go too. One event stays, saying who deleted it and when.
 */
export async function deleteOrganization(tx: Tx, actor: Actor, orgId: string): Promise<void> {
  const org = await lockOrganization(tx, orgId);
  assert(org, () => new AppError("organization_not_found"));
  await tx.deleteFrom("audit_events").where("org_id", "=", orgId).execute();
  await tx.deleteFrom("mail_outbox").where("org_id", "=", orgId).where("status", "=", "queued").execute();
  await tx.deleteFrom("organizations").where("id", "=", orgId).execute();
  await recordAudit(tx, actor, {
    orgId,
    action: "organization.deleted",
    targetType: "organization",
    targetId: orgId,
    data: { name: org.name },
  });
}

// ---- members ----------------------------------------------------------------------------------

export interface Member extends MemberRow {
  /** Workspace roles granted directly (an org owner or admin acts as admin everywhere anyway). */
  workspaces: { id: string; name: string; role: string }[];
}

/** Who acts, and their org role as the guard resolved it for this request. */
export interface Caller {
  actor: Actor & { id: string };
  orgRole: string;
}

const memberNotFound = () =>
  // The same answer for a user in another organisation and for no user at all (rule 3).
  new AppError("member_not_found", "There is no such member in this organisation.");

function refuse(reason: string | null): void {
  if (reason) throw new AppError("forbidden", `You cannot do this: ${reason}.`);
}

async function withWorkspaces(db: Queryable, orgId: string, rows: MemberRow[]): Promise<Member[]> {
  const grants = await workspaceGrants(
    db,
    orgId,
    rows.map((r) => r.user_id),
  );
  return rows.map((r) => ({
    ...r,
    workspaces: grants
      .filter((g) => g.user_id === r.user_id)
      .map(({ id, name, role }) => ({ id, name, role })),
  }));
}

/**
 * One page of members with their workspace roles: one prepared statement (and, with `q`, one or
 * two small ones before it: db/search.ts). A search never reads another organisation's members,
 * and examines SEARCH_ROW_LIMIT of this one's at most: `searchLimitReached` then says the page
 * may be short, and `nextCursor` goes on from where it stopped.
 */
export async function listMembers(
  database: Pick<Database, "db" | "pool">,
  orgId: string,
  filter: MemberFilter,
): Promise<{ items: Member[]; nextCursor: string | null; searchLimitReached?: true }> {
  if (!filter.q?.trim()) {
    const rows = await runPrepared(database.pool, memberPage(database.db, orgId, filter).compile());
    return page(rows, filter.limit, timeKeyString);
  }
  const plan = await searchPlan(database.db, filter.q, { orgId });
  const end =
    plan === "walk" ? await orgWalkEndQuery(database.db, orgId, filter.after).executeTakeFirst() : undefined;
  const matching = plan === "walk" ? { walkUpTo: end && { micros: end.key_micros, id: end.key_id } } : plan;
  const rows = await runPrepared(
    database.pool,
    memberPage(database.db, orgId, { ...filter, matching }).compile(),
  );
  return walkedPage(rows, filter.limit, timeKeyString, end && timeKeyString(end));
}

/**
 * Rule 2 under the organisation's lock: the owners are counted after any concurrent change to
 * them has committed, so two owners demoting each other cannot leave none.
 */
async function keepAnOwner(
  tx: Queryable,
  orgId: string,
  target: MemberRow,
  to: string | null,
  leaving: boolean,
) {
  if (target.role !== "owner" || to === "owner") return;
  if ((await countOwners(tx, orgId)) > 1) return;
  throw new AppError(
    "last_owner",
    leaving
      ? "You are the last owner: make someone else an owner before you leave."
      : `${target.name} is the last owner: make someone else an owner first.`,
  );
}

/**
 * Rule 9 for the actor: their role read again under the lock. Someone demoted or removed while
 * this request was on its way no longer acts with the role they had when it arrived.
 */
async function stillAllowed(
  tx: Queryable,
  catalogue: Catalogue,
  orgId: string,
  caller: Caller,
  from: string,
  to: string | null,
): Promise<void> {
  const now = await orgStanding(tx, orgId, caller.actor.id);
  assert(now, () => new AppError("organization_not_found"));
  refuse(orgGrantRefusal(catalogue, now.orgRole, from, to));
}

/** Rule 1 and rule 2: changes a member's org role. */
export async function changeMemberRole(
  tx: Tx,
  catalogue: Catalogue,
  caller: Caller,
  orgId: string,
  userId: string,
  role: OrgRole,
): Promise<Member> {
  assert(await lockOrganization(tx, orgId), () => new AppError("organization_not_found"));
  const target = await findMember(tx, orgId, userId);
  assert(target, memberNotFound);
  refuse(orgGrantRefusal(catalogue, caller.orgRole, target.role, role));
  if (target.role !== role) {
    await keepAnOwner(tx, orgId, target, role, false);
    await stillAllowed(tx, catalogue, orgId, caller, target.role, role);
    await changeOrgMembership(tx, caller.actor, {
      orgId,
      userId,
      from: target.role,
      to: role,
      person: { email: target.email, name: target.name },
    });
    // Their invitations give no more than they now could (rules 1 and 9).
    await withdrawUnbacked(tx, catalogue, caller.actor, orgId, { invitedBy: userId });
  }
  const [member] = await withWorkspaces(tx, orgId, [{ ...target, role }]);
  assert(member, memberNotFound);
  return member;
}

/**
 * Removes a member from the organisation and, through the foreign key, from each of its
 * workspaces. A member removing themselves is leaving: any role may, but the last owner.
 */
export async function removeMember(
  tx: Tx,
  catalogue: Catalogue,
  caller: Caller,
  orgId: string,
  userId: string,
): Promise<void> {
  assert(await lockOrganization(tx, orgId), () => new AppError("organization_not_found"));
  const target = await findMember(tx, orgId, userId);
  assert(target, memberNotFound);
  const leaving = userId === caller.actor.id;
  if (!leaving) refuse(orgGrantRefusal(catalogue, caller.orgRole, target.role, null));
  await keepAnOwner(tx, orgId, target, null, leaving);
  if (!leaving) await stillAllowed(tx, catalogue, orgId, caller, target.role, null);
  await removeOrgMembership(tx, caller.actor, {
    orgId,
    userId,
    role: target.role,
    leaving,
    person: { email: target.email, name: target.name },
  });
  // Whoever leaves takes their pending invitations' backing with them (rules 1 and 9).
  await withdrawUnbacked(tx, catalogue, caller.actor, orgId, { invitedBy: userId });
}

/**
 * The host product's question about the organisation: may `userId` (default: the caller) use an
 * org permission here? Asking about someone else needs org.users.
 */
export function authorizeInOrg(
  db: Queryable,
  catalogue: Catalogue,
  caller: Asker,
  orgId: string,
  input: { permission: string; userId?: string | undefined },
): Promise<Authorization> {
  return authorize(
    catalogue,
    caller,
    { scope: "org", aboutOthers: "org.users", standingOf: (userId) => orgStanding(db, orgId, userId) },
    input,
  );
}
