// Using an invitation: look it up (no login, consumes nothing), join through it (accept, or
// sign-up with a token: the same step inside the caller's transaction), decline it.
// Rules 5–8, 14 and 15 (docs/rules.md).
import { orgRole, workspaceRole } from "../access/can.js";
import type { Catalogue } from "../access/catalogue.js";
import type { Actor } from "../audit/operations.js";
import { recordAudit } from "../audit/operations.js";
import { AppError } from "../core/errors.js";
import type { Queryable, Tx } from "../db/index.js";
import { transact } from "../db/transaction.js";
import { canonicalEmail } from "../email.js";
import { addOrgMembership, changeOrgMembership } from "../orgs/memberships.js";
import { lockOrganization } from "../orgs/queries.js";
import type { Services } from "../services.js";
import { addWorkspaceMembership, changeWorkspaceMembership } from "../workspaces/memberships.js";
import { inviterRefusal } from "./authority.js";
import {
  effectiveStatus,
  type Grant,
  goneError,
  type InvitationRow,
  type InvitationStatus,
  maskEmail,
} from "./model.js";
import { notifyJoined } from "./notify.js";
import { findByToken, grantsOf } from "./queries.js";

export interface LookupAnswer {
  organization: { name: string };
  inviterName: string;
  role: string;
  workspaces: { id: string; name: string; role: string }[];
  emailHint: string | null;
  status: InvitationStatus;
  expiresAt: string;
}

/** What an invitation offers, for the accept page. Reads only: a mail scanner's prefetch uses nothing. */
export async function lookupInvitation(
  db: Queryable,
  token: string,
  /** A pending invitation its inviter can no longer back shows as cancelled. */
  catalogue: Catalogue,
): Promise<LookupAnswer> {
  const row = await findByToken(db, token);
  const org = await db
    .selectFrom("organizations")
    .select("name")
    .where("id", "=", row.org_id)
    .executeTakeFirstOrThrow();
  const grants = (await grantsOf(db, row.org_id, [row.id])).get(row.id) ?? [];
  return {
    organization: { name: org.name },
    inviterName: row.invited_by_name,
    role: row.role,
    workspaces: grants.map((g) => ({ id: g.workspaceId, name: g.name, role: g.role })),
    emailHint: row.email ? maskEmail(row.email) : null,
    status: await statusNow(db, catalogue, row, grants),
    expiresAt: row.expires_at.toISOString(),
  };
}

export interface Joiner {
  id: string;
  name: string;
  email: string;
}

export interface JoinResult {
  organization: { id: string; name: string };
  role: string;
  workspaces: { id: string; name: string; role: string }[];
  /** Whether any membership was made or raised (and so whether mail was queued). */
  changed: boolean;
}

/**
 * Rule 6: an e-mail invitation is for its address only; the refusal names it, masked. Both sides
 * are compared in their canonical form (src/email.ts; both are stored so), so a look-alike
 * spelling is either the same address or not the invited one.
 */
export function assertInvitedAddress(row: Pick<InvitationRow, "delivery" | "email">, email: string): void {
  if (row.delivery !== "email" || !row.email) return;
  const invited = canonicalEmail(row.email);
  if (invited !== undefined && invited === canonicalEmail(email)) return;
  const emailHint = maskEmail(row.email);
  throw new AppError(
    "invitation_email_mismatch",
    `This invitation was sent to ${emailHint}. Log in with that address to accept it.`,
    undefined,
    { fields: { emailHint } },
  );
}

/** The 410 of an invitation that cannot be used any more (rule 5). */
export function assertUsable(row: InvitationRow): void {
  const gone = goneError(effectiveStatus(row));
  if (gone) throw gone;
}

/**
 * Rules 1 and 9: a pending invitation whose inviter could no longer make it (demoted, removed, a
 * workspace role lost) is withdrawn. Such invitations are cancelled when that happens
 * (withdrawUnbacked); this is the net for one made while its inviter was being demoted.
 */
async function statusNow(
  db: Queryable,
  catalogue: Catalogue,
  row: InvitationRow,
  grants: Grant[],
): Promise<InvitationStatus> {
  const status = effectiveStatus(row);
  if (status !== "pending") return status;
  return (await inviterRefusal(db, catalogue, row, grants)) ? "cancelled" : status;
}

async function assertBacked(db: Queryable, catalogue: Catalogue, row: InvitationRow, grants: Grant[]) {
  if ((await statusNow(db, catalogue, row, grants)) === "cancelled") {
    throw new AppError(
      "invitation_cancelled",
      "This invitation was withdrawn: whoever sent it can no longer grant what it offers. Ask for a new one.",
    );
  }
}

/**
 * The invitation a token names, its organisation locked and then the invitation itself: always
 * in that order, the order every membership change takes, so that they cannot deadlock.
 */
async function lockInvitation(
  tx: Queryable,
  token: string | Buffer,
): Promise<{ row: InvitationRow; orgName: string }> {
  const peek = await findByToken(tx, token);
  const org = await lockOrganization(tx, peek.org_id);
  const row = await findByToken(tx, token, { lock: true });
  if (!org || row.org_id !== peek.org_id) throw new AppError("invitation_not_found");
  return { row, orgName: org.name };
}

const higher = (rank: (name: string) => number, current: string, invited: string) =>
  rank(invited) > rank(current);

/**
 * Joins `user` to the organisation through the invitation `token`, inside the caller's
 * transaction (rule 5: the invitation row stays locked until it commits). Makes or raises the
 * org membership and the workspace memberships (rule 8: never lowers), records the use, the
 * audit events and the notification mail (rules 14, 15). A second use by the same person answers
 * the same and consumes nothing.
 */
export async function joinThroughInvitation(
  tx: Tx,
  services: Pick<Services, "catalogue" | "config">,
  user: Joiner,
  /** The token, or its SHA-256 (see findByToken). */
  token: string | Buffer,
  ip: string | null,
): Promise<JoinResult> {
  const { catalogue } = services;
  const { row, orgName } = await lockInvitation(tx, token);
  const orgId = row.org_id;
  const grants = (await grantsOf(tx, orgId, [row.id])).get(row.id) ?? [];
  const organization = { id: orgId, name: orgName };

  const usedBefore = await tx
    .selectFrom("invitation_uses")
    .select("user_id")
    .where("org_id", "=", orgId)
    .where("invitation_id", "=", row.id)
    .where("user_id", "=", user.id)
    .executeTakeFirst();
  if (usedBefore)
    return { organization, ...(await currentPlaces(tx, orgId, user.id, grants)), changed: false };

  assertUsable(row);
  assertInvitedAddress(row, user.email);
  await assertBacked(tx, catalogue, row, grants);

  const actor: Actor = { id: user.id, name: user.name, ip };
  const person = { email: user.email, name: user.name };
  let changed = false;

  // The organisation: join, or raise to the invited role.
  const orgRank = (name: string) => orgRole(catalogue, name)?.rank ?? 0;
  const member = await tx
    .selectFrom("org_memberships")
    .select("role")
    .where("org_id", "=", orgId)
    .where("user_id", "=", user.id)
    .executeTakeFirst();
  let role = row.role;
  const membershipIn = { orgId, userId: user.id, person, invitationId: row.id };
  if (!member) {
    await addOrgMembership(tx, actor, { ...membershipIn, role });
    changed = true;
  } else if (higher(orgRank, member.role, row.role)) {
    await changeOrgMembership(tx, actor, { ...membershipIn, from: member.role, to: role });
    changed = true;
  } else {
    role = member.role;
  }

  // Each workspace granted: join, or raise to the invited role.
  const wsRank = (name: string) => workspaceRole(catalogue, name)?.rank ?? 0;
  const workspaces: JoinResult["workspaces"] = [];
  const joined: JoinResult["workspaces"] = [];
  for (const grant of grants) {
    const current = await tx
      .selectFrom("workspace_memberships")
      .select("role")
      .where("org_id", "=", orgId)
      .where("workspace_id", "=", grant.workspaceId)
      .where("user_id", "=", user.id)
      .executeTakeFirst();
    const place = { id: grant.workspaceId, name: grant.name, role: grant.role };
    const membership = { ...membershipIn, workspaceId: grant.workspaceId };
    if (!current) {
      await addWorkspaceMembership(tx, actor, { ...membership, role: grant.role });
      joined.push(place);
    } else if (higher(wsRank, current.role, grant.role)) {
      await changeWorkspaceMembership(tx, actor, { ...membership, from: current.role, to: grant.role });
      joined.push(place);
    } else {
      place.role = current.role;
    }
    workspaces.push(place);
  }
  if (joined.length > 0) changed = true;

  // The use: uses never pass max_uses (the lock above, and the CHECK as a second net).
  await tx
    .insertInto("invitation_uses")
    .values({ org_id: orgId, invitation_id: row.id, user_id: user.id })
    .execute();
  const uses = row.uses + 1;
  const status = row.delivery === "email" ? "accepted" : uses >= row.max_uses ? "exhausted" : "pending";
  await tx
    .updateTable("invitations")
    .set({ uses, status, updated_at: new Date() })
    .where("org_id", "=", orgId)
    .where("id", "=", row.id)
    .execute();
  await recordAudit(tx, actor, {
    orgId,
    action: "invitation.accepted",
    targetType: "invitation",
    targetId: row.id,
    data: { delivery: row.delivery, role, uses, ...person },
  });

  if (changed) {
    await notifyJoined(tx, services, {
      orgId,
      organizationName: orgName,
      member: user,
      role,
      workspaces: joined,
      joinedAt: new Date(),
    });
  }
  return { organization, role, workspaces, changed };
}

/** The person's places now, for a repeated accept that changes nothing. */
async function currentPlaces(
  tx: Queryable,
  orgId: string,
  userId: string,
  grants: { workspaceId: string; name: string; role: string }[],
): Promise<Pick<JoinResult, "role" | "workspaces">> {
  const member = await tx
    .selectFrom("org_memberships")
    .select("role")
    .where("org_id", "=", orgId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  // Someone removed since their use: the invitation is spent for them; ask for a new one.
  if (!member) throw goneError("accepted") ?? new AppError("invitation_used");
  const direct = await tx
    .selectFrom("workspace_memberships")
    .select(["workspace_id", "role"])
    .where("org_id", "=", orgId)
    .where("user_id", "=", userId)
    .execute();
  const roles = new Map(direct.map((d) => [d.workspace_id, d.role]));
  return {
    role: member.role,
    workspaces: grants.flatMap((g) => {
      const r = roles.get(g.workspaceId);
      return r ? [{ id: g.workspaceId, name: g.name, role: r }] : [];
    }),
  };
}

/** Accept (README.md#invitations): one transaction; the mail worker is woken once it has committed (transact). */
export async function acceptInvitation(
  services: Services,
  user: Joiner,
  token: string,
  ip: string | null,
): Promise<Omit<JoinResult, "changed">> {
  const { changed: _, ...answer } = await transact(services, (tx) =>
    joinThroughInvitation(tx, services, user, token, ip),
  );
  return answer;
}

/**
 * Decline: an e-mail invitation, by its invitee only, becomes `declined`. A link is bound to
 * nobody, so declining it is just not accepting it: it answers the same and changes nothing.
 */
export async function declineInvitation(
  services: Pick<Services, "db" | "wakeMail">,
  user: Joiner,
  token: string,
  ip: string | null,
): Promise<void> {
  await transact(services, async (tx) => {
    const { row } = await lockInvitation(tx, token);
    if (row.delivery === "link") return;
    assertInvitedAddress(row, user.email);
    assertUsable(row);
    await tx
      .updateTable("invitations")
      .set({ status: "declined", updated_at: new Date() })
      .where("org_id", "=", row.org_id)
      .where("id", "=", row.id)
      .execute();
    await recordAudit(
      tx,
      { id: user.id, name: user.name, ip },
      {
        orgId: row.org_id,
        action: "invitation.declined",
        targetType: "invitation",
        targetId: row.id,
        data: { email: row.email },
      },
    );
  });
}
