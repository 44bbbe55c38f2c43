// The writes that every way of ending or (re)issuing an invitation shares, written once:
// - sendOut: after an invitation row is made or given a new token, its mail queued (e-mail
//   invitations; a mail not yet sent for the old token withdrawn) and the answer put together;
// - cancelPending: cancelled, its mail withdrawn if SMTP has not taken it, and the audit event —
//   by someone who manages it (manage.ts) or because its inviter can no longer make it
//   (authority.ts withdrawUnbacked, with the reason).
import { sql } from "kysely";
import { type Actor, recordAudit } from "../audit/operations.js";
import type { Tx } from "../db/index.js";
import { enqueueMail, withdrawMail } from "../mail/outbox.js";
import type { ManagedInvitation } from "./create.js";
import { type Grant, type InvitationRow, invitationUrl } from "./model.js";
import { loadRow } from "./queries.js";

export async function queueInvitationMail(
  tx: Tx,
  publicUrl: string,
  row: InvitationRow,
  grants: Grant[],
  inviterName: string,
  url: string,
): Promise<string> {
  if (!row.email) throw new Error("only an e-mail invitation has a mail");
  const org = await tx
    .selectFrom("organizations")
    .select("name")
    .where("id", "=", row.org_id)
    .executeTakeFirstOrThrow();
  const mail = await enqueueMail(
    tx,
    {
      to: row.email,
      orgId: row.org_id,
      template: {
        kind: "invitation",
        inviterName,
        organizationName: org.name,
        role: row.role,
        workspaces: grants.map((g) => ({ name: g.name, role: g.role })),
        url,
        expiresAt: row.expires_at.toISOString(),
        recipientEmail: row.email,
      },
    },
    publicUrl,
  );
  await tx
    .updateTable("invitations")
    .set({ mail_id: mail.id })
    .where("org_id", "=", row.org_id)
    .where("id", "=", row.id)
    .execute();
  return mail.id;
}

/**
 * The invitation `id` as it now stands, with its e-mail queued (for the e-mail kind) and the
 * answer a creator or resender gets: the link itself only for a link invitation (an e-mail
 * invitation's link is in its mail only).
 */
export async function sendOut(
  tx: Tx,
  publicUrl: string,
  issued: {
    orgId: string;
    id: string;
    token: string;
    grants: Grant[];
    inviterName: (row: InvitationRow) => string;
    /** A mail of the invitation's previous token, withdrawn if it has not gone out yet. */
    replaces?: { mailId: string | null; reason: string };
  },
): Promise<ManagedInvitation> {
  const { orgId, id, grants } = issued;
  const url = invitationUrl(publicUrl, issued.token);
  let row = await loadRow(tx, orgId, id);
  if (row.delivery === "link") return { row, grants, mail: undefined, url };
  if (issued.replaces?.mailId) await withdrawMail(tx, issued.replaces.mailId, issued.replaces.reason);
  await queueInvitationMail(tx, publicUrl, row, grants, issued.inviterName(row), url);
  row = await loadRow(tx, orgId, id);
  return { row, grants, mail: { status: "queued", lastError: null }, url: null };
}

/**
 * Pending (or expired) → cancelled, with its mail withdrawn and its audit event. `withdrawnFor`:
 * cancelled not by a person but because its inviter could no longer make it, and why.
 */
export async function cancelPending(
  tx: Tx,
  actor: Actor,
  row: InvitationRow,
  withdrawnFor?: string,
): Promise<void> {
  await tx
    .updateTable("invitations")
    .set({ status: "cancelled", updated_at: sql<Date>`now()` })
    .where("org_id", "=", row.org_id)
    .where("id", "=", row.id)
    .execute();
  // Its mail, if SMTP has not taken it yet, would invite someone to a cancelled invitation.
  if (row.mail_id) {
    const why = withdrawnFor
      ? "the invitation was cancelled: its inviter could no longer make it"
      : "the invitation was cancelled";
    await withdrawMail(tx, row.mail_id, why);
  }
  const about = { delivery: row.delivery, email: row.email, role: row.role };
  await recordAudit(tx, actor, {
    orgId: row.org_id,
    action: "invitation.cancelled",
    targetType: "invitation",
    targetId: row.id,
    // `withdrawn`: cancelled because its inviter could no longer make it; `reason` says why.
    data: withdrawnFor ? { ...about, withdrawn: true, reason: withdrawnFor } : about,
  });
}
