// Invitations for the join tests, written straight into the database (as creating one through the
// API would write them), so that these tests depend on nothing but the tables.

import type { OrgRole } from "../../src/access/catalogue.js";
import { newId } from "../../src/db/ids.js";
import { canonicalEmail } from "../../src/email.js";
import { newInvitationToken } from "../../src/invitations/model.js";
import type { TestApp } from "./app.js";

export interface BuiltInvitation {
  id: string;
  token: string;
}

export async function buildInvitation(
  t: Pick<TestApp, "db">,
  input: {
    orgId: string;
    invitedBy: { userId: string; name: string };
    /** An address makes an e-mail invitation; none, a link. */
    email?: string;
    role?: OrgRole;
    workspaces?: { workspaceId: string; role: string }[];
    maxUses?: number;
    expiresAt?: Date;
  },
): Promise<BuiltInvitation> {
  const { token, hash } = newInvitationToken();
  const id = newId("inv");
  await t.db
    .insertInto("invitations")
    .values({
      id,
      org_id: input.orgId,
      delivery: input.email ? "email" : "link",
      // Canonical, as createInvitation stores it.
      email: input.email === undefined ? null : (canonicalEmail(input.email) ?? input.email),
      role: input.role ?? "member",
      token_hash: hash,
      max_uses: input.maxUses ?? 1,
      invited_by: input.invitedBy.userId,
      invited_by_name: input.invitedBy.name,
      mail_id: null,
      expires_at: input.expiresAt ?? new Date(Date.now() + 7 * 24 * 3600_000),
    })
    .execute();
  for (const g of input.workspaces ?? []) {
    await t.db
      .insertInto("invitation_workspaces")
      .values({ org_id: input.orgId, invitation_id: id, workspace_id: g.workspaceId, role: g.role })
      .execute();
  }
  return { id, token };
}

export async function invitationState(
  t: Pick<TestApp, "db">,
  id: string,
): Promise<{ status: string; uses: number; useRows: number }> {
  const row = await t.db
    .selectFrom("invitations")
    .select(["status", "uses"])
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  const n = await t.db
    .selectFrom("invitation_uses")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("invitation_id", "=", id)
    .executeTakeFirstOrThrow();
  return { status: row.status, uses: row.uses, useRows: Number(n.n) };
}

export async function orgRoleOf(
  t: Pick<TestApp, "db">,
  orgId: string,
  userId: string,
): Promise<string | null> {
  const row = await t.db
    .selectFrom("org_memberships")
    .select("role")
    .where("org_id", "=", orgId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return row?.role ?? null;
}

export async function workspaceRoleOf(
  t: Pick<TestApp, "db">,
  workspaceId: string,
  userId: string,
): Promise<string | null> {
  const row = await t.db
    .selectFrom("workspace_memberships")
    .select("role")
    .where("workspace_id", "=", workspaceId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return row?.role ?? null;
}
