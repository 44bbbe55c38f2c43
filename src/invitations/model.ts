// Invitations: what both their management (create, list, cancel, resend) and their use (lookup,
// accept, decline, sign-up) need — the token, the status as people see it, and the shape that
// leaves the server.
import { sql } from "kysely";
import type { OrgRole } from "../access/catalogue.js";
import { AppError } from "../core/errors.js";
import type { MailStatus } from "../mail/outbox.js";
import { newSecret, sha256 } from "../tokens.js";

/**
 * How an invitation reaches its invitee: a mail to one address, or a link the inviter shares.
 * The one list: the type, the API's enum, the database's CHECK (a test compares them) follow it.
 */
export const DELIVERIES = ["email", "link"] as const;
export type Delivery = (typeof DELIVERIES)[number];

/**
 * An invitation's status (DESIGN §1): `accepted` ends an e-mail invitation, `exhausted` a link
 * whose every use is taken. The one list, as for DELIVERIES.
 */
export const INVITATION_STATUSES = [
  "pending",
  "accepted",
  "exhausted",
  "cancelled",
  "declined",
  "expired",
] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

export const DEFAULT_LIFETIME_HOURS = 168;
export const MAX_LIFETIME_HOURS = 720;
export const MAX_LINK_USES = 1000;
export const MAX_PENDING_PER_ORG = 1000;

export interface InvitationRow {
  id: string;
  org_id: string;
  delivery: Delivery;
  email: string | null;
  role: OrgRole;
  status: InvitationStatus;
  uses: number;
  max_uses: number;
  invited_by: string | null;
  invited_by_name: string;
  mail_id: string | null;
  created_at: Date;
  expires_at: Date;
}

export interface Grant {
  workspaceId: string;
  name: string;
  role: string;
}

/** A new token (256 bits, docs/rules.md#rule-4) and the hash that is all the database keeps. */
export function newInvitationToken(): { token: string; hash: Buffer } {
  const token = newSecret();
  return { token, hash: sha256(token) };
}

export function invitationUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/invite/${token}`;
}

/** The status people see: a pending invitation past its expiry is expired, with no job to run. */
export function effectiveStatus(
  row: Pick<InvitationRow, "status" | "expires_at">,
  now = new Date(),
): InvitationStatus {
  return row.status === "pending" && row.expires_at.getTime() <= now.getTime() ? "expired" : row.status;
}

/** The same, in SQL, for filtering lists by status. */
export const STATUS_SQL = sql<InvitationStatus>`CASE WHEN i.status = 'pending' AND i.expires_at <= now() THEN 'expired' ELSE i.status END`;

/** `b***@example.org`: enough for the invitee to recognise, too little to learn the address. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 1) return "***";
  return `${email[0]}***${email.slice(at)}`;
}

/** The 410 that a used-up, cancelled, declined or expired invitation answers (docs/rules.md#rule-5). */
export function goneError(status: InvitationStatus): AppError | null {
  switch (status) {
    case "accepted":
    case "exhausted":
      return new AppError(
        "invitation_used",
        "This invitation has already been used. Ask whoever invited you for a new one.",
      );
    case "cancelled":
      return new AppError(
        "invitation_cancelled",
        "This invitation was cancelled. Ask whoever invited you for a new one.",
      );
    case "declined":
      return new AppError("invitation_declined", "This invitation was declined.");
    case "expired":
      return new AppError(
        "invitation_expired",
        "This invitation has expired. Ask whoever invited you to send it again.",
      );
    default:
      return null;
  }
}

export interface MailState {
  status: MailStatus;
  lastError: string | null;
}

/** An invitation as it leaves the server (README.md#invitations): never the token or its hash. */
export function presentInvitation(row: InvitationRow, grants: Grant[], mail: MailState | undefined) {
  return {
    id: row.id,
    delivery: row.delivery,
    email: row.email,
    role: row.role,
    workspaces: grants.map((g) => ({ id: g.workspaceId, name: g.name, role: g.role })),
    status: effectiveStatus(row),
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    invitedBy: { id: row.invited_by, name: row.invited_by_name },
    uses: row.uses,
    maxUses: row.max_uses,
    mail: row.delivery === "email" ? (mail ?? null) : null,
  };
}
