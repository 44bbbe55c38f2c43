// The one module that writes org_memberships: joining, a role changed, leaving or being removed,
// each with its audit event, shaped the same whoever causes it (a member's admin, an invitation,
// sign-up). The rules that decide whether a change may happen (rank, last owner, standing under
// the organisation's lock) are the callers': orgs/operations.ts, invitations/join.ts. Removing a
// member from the organisation removes their workspace memberships too (foreign key, cascade).
import type { OrgRole } from "../access/catalogue.js";
import type { Actor } from "../audit/operations.js";
import { recordAudit } from "../audit/operations.js";
import type { Tx } from "../db/index.js";

/** The person an event is about, copied into it so that it reads the same after they are gone. */
export interface Person {
  email: string;
  name: string;
}

interface OrgMembership {
  orgId: string;
  userId: string;
  /** Known to the caller, it goes into the event; a new organisation's owner is the actor. */
  person?: Person | undefined;
  /** The invitation that made the change, when one did. */
  invitationId?: string | undefined;
}

function about(m: OrgMembership) {
  return { ...(m.invitationId ? { invitationId: m.invitationId } : {}), ...m.person };
}

export async function addOrgMembership(tx: Tx, actor: Actor, m: OrgMembership & { role: OrgRole }) {
  await tx
    .insertInto("org_memberships")
    .values({ org_id: m.orgId, user_id: m.userId, role: m.role })
    .execute();
  await recordAudit(tx, actor, {
    orgId: m.orgId,
    action: "member.added",
    targetType: "user",
    targetId: m.userId,
    data: { role: m.role, ...about(m) },
  });
}

export async function changeOrgMembership(
  tx: Tx,
  actor: Actor,
  m: OrgMembership & { from: OrgRole; to: OrgRole },
) {
  await tx
    .updateTable("org_memberships")
    .set({ role: m.to })
    .where("org_id", "=", m.orgId)
    .where("user_id", "=", m.userId)
    .execute();
  await recordAudit(tx, actor, {
    orgId: m.orgId,
    action: "member.role_changed",
    targetType: "user",
    targetId: m.userId,
    data: { from: m.from, to: m.to, ...about(m) },
  });
}

/** `leaving`: the member removes themselves (member.left), else an admin removes them. */
export async function removeOrgMembership(
  tx: Tx,
  actor: Actor,
  m: OrgMembership & { role: string; leaving: boolean },
) {
  await tx
    .deleteFrom("org_memberships")
    .where("org_id", "=", m.orgId)
    .where("user_id", "=", m.userId)
    .execute();
  await recordAudit(tx, actor, {
    orgId: m.orgId,
    action: m.leaving ? "member.left" : "member.removed",
    targetType: "user",
    targetId: m.userId,
    data: m.leaving ? { role: m.role } : { role: m.role, ...about(m) },
  });
}
