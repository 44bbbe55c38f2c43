// Join notifications (docs/rules.md#rule-15): when someone joins, one mail to each person whose
// effective role is admin in a workspace they joined — that workspace's direct admins and the
// organisation's owners and admins — one per person however many workspaces; without workspaces,
// the organisation's owners and admins. Never the new member. Written in the joining
// transaction, so the mail exists if and only if the membership does (rule 14).
import { effectiveWorkspaceRole } from "../access/can.js";
import type { Queryable, Tx } from "../db/index.js";
import { enqueueMail } from "../mail/outbox.js";
import type { Services } from "../services.js";

export interface Joined {
  orgId: string;
  organizationName: string;
  member: { id: string; name: string; email: string };
  /** The member's org role after joining. */
  role: string;
  /** The workspaces they joined or were raised in, with their role there now. */
  workspaces: { id: string; name: string; role: string }[];
  joinedAt: Date;
}

export function membersUrl(publicUrl: string, orgId: string): string {
  return `${publicUrl}/orgs/${orgId}/members`;
}

/**
 * Who is told: every person acting as workspace admin in one of the workspaces, once each. Read
 * through the role indexes — the organisation's members whose org role makes them admin, and the
 * direct admins of the joined workspaces — never the whole membership, which may be a million.
 */
export async function joinRecipients(
  tx: Queryable,
  services: Pick<Services, "catalogue">,
  joined: Pick<Joined, "orgId" | "member" | "workspaces">,
): Promise<{ id: string; name: string; email: string }[]> {
  const { catalogue } = services;
  const isAdmin = (orgRole: string, workspaceRole: string | null) =>
    effectiveWorkspaceRole(catalogue, { orgRole, workspaceRole }) === "admin";
  // The effective role is the higher of the two, by name: admin comes from the org role or a direct admin grant.
  const adminOrgRoles = catalogue.orgRoles.map((r) => r.name).filter((role) => isAdmin(role, null));
  const wsIds = joined.workspaces.map((w) => w.id);
  const people = () =>
    tx
      .selectFrom("org_memberships as m")
      .innerJoin("users as u", "u.id", "m.user_id")
      .select(["u.id", "u.name", "u.email", "m.role"])
      .where("m.org_id", "=", joined.orgId)
      .where("m.user_id", "<>", joined.member.id);
  const byOrgRole =
    adminOrgRoles.length === 0 ? [] : await people().where("m.role", "in", adminOrgRoles).execute();
  const direct =
    wsIds.length === 0
      ? []
      : await tx
          .selectFrom("workspace_memberships")
          .select(["user_id", "workspace_id", "role"])
          .where("org_id", "=", joined.orgId)
          .where("workspace_id", "in", wsIds)
          .where("role", "=", "admin")
          .where("user_id", "<>", joined.member.id)
          .execute();
  const known = new Set(byOrgRole.map((p) => p.id));
  const directIds = [...new Set(direct.map((d) => d.user_id))].filter((id) => !known.has(id));
  const byGrant = directIds.length === 0 ? [] : await people().where("m.user_id", "in", directIds).execute();
  const directOf = (userId: string, workspaceId: string) =>
    direct.find((d) => d.user_id === userId && d.workspace_id === workspaceId)?.role ?? null;

  return [...byOrgRole, ...byGrant]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .filter((p) =>
      wsIds.length === 0 ? isAdmin(p.role, null) : wsIds.some((ws) => isAdmin(p.role, directOf(p.id, ws))),
    )
    .map(({ id, name, email }) => ({ id, name, email }));
}

/** Queues the notifications; answers how many. The caller wakes the mail worker after commit. */
export async function notifyJoined(
  tx: Tx,
  services: Pick<Services, "catalogue" | "config">,
  joined: Joined,
): Promise<number> {
  const recipients = await joinRecipients(tx, services, joined);
  for (const r of recipients) {
    await enqueueMail(
      tx,
      {
        to: r.email,
        orgId: joined.orgId,
        template: {
          kind: "member_joined",
          recipientName: r.name,
          memberName: joined.member.name,
          memberEmail: joined.member.email,
          organizationName: joined.organizationName,
          role: joined.role,
          workspaces: joined.workspaces.map((w) => ({ name: w.name, role: w.role })),
          joinedAt: joined.joinedAt.toISOString(),
          membersUrl: membersUrl(services.config.publicUrl, joined.orgId),
        },
      },
      services.config.publicUrl,
    );
  }
  return recipients.length;
}
