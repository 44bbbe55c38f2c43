// Every event the audit trail records, typed: its action, what it is about (target), and the
// shape of its data. recordAudit() takes only these, so an event cannot be written with a
// misspelt action or a data field its readers (the console, exports, a host product) do not
// expect. This is the public vocabulary of what happens in Rollcall; docs/concepts.md describes it.
//
// Data copies names and addresses at the moment of the change, so that the trail still reads
// after the person or the workspace is gone.

/** Who a membership event is about, and the invitation that caused it (when one did). */
interface About {
  email?: string;
  name?: string;
  invitationId?: string;
}

interface Change<T = string> {
  from: T;
  to: T;
}

/** Each action: the kind of thing its target is, and its data. */
export interface AuditEventTypes {
  "user.signed_up": { target: "user"; data: Record<string, never> };
  "user.updated": { target: "user"; data: { name: string } };
  "user.password_changed": { target: "user"; data: Record<string, never> };
  "user.password_reset_requested": { target: "user"; data: Record<string, never> };
  "user.password_reset": { target: "user"; data: Record<string, never> };
  /** Written by migration 0005: two accounts were one address in canonical form; one was kept. */
  "user.address_conflict": { target: "user"; data: { email: string; address: string; keptBy: string } };

  "organization.created": { target: "organization"; data: { name: string } };
  "organization.renamed": { target: "organization"; data: Change };
  "organization.deleted": { target: "organization"; data: { name: string } };

  "member.added": { target: "user"; data: About & { role: string } };
  "member.role_changed": { target: "user"; data: About & Change };
  "member.removed": { target: "user"; data: About & { role: string } };
  "member.left": { target: "user"; data: { role: string } };

  "workspace.created": { target: "workspace"; data: { name: string; timezone: string; language: string } };
  "workspace.updated": { target: "workspace"; data: { changes: Record<string, Change> } };
  "workspace.deleted": { target: "workspace"; data: { name: string } };

  "workspace_member.added": { target: "user"; data: About & { workspaceId: string; role: string } };
  "workspace_member.role_changed": { target: "user"; data: About & Change & { workspaceId: string } };
  "workspace_member.removed": { target: "user"; data: About & { workspaceId: string; role: string } };

  "invitation.created": {
    target: "invitation";
    data: {
      delivery: string;
      email: string | null;
      role: string;
      workspaces: { workspaceId: string; role: string }[];
      maxUses: number;
      expiresInHours: number;
    };
  };
  "invitation.resent": {
    target: "invitation";
    data: { delivery: string; email: string | null; expiresInHours: number };
  };
  "invitation.cancelled": {
    target: "invitation";
    data: {
      delivery?: string;
      email: string | null;
      role?: string;
      /** Cancelled because its inviter could no longer make it (rules 1 and 9); `reason` says why. */
      withdrawn?: true;
      reason?: string;
      /** Migration 0005: the canonical address another pending invitation kept. */
      address?: string;
      keptBy?: string;
    };
  };
  "invitation.accepted": {
    target: "invitation";
    data: { delivery: string; role: string; uses: number; email: string; name: string };
  };
  "invitation.declined": { target: "invitation"; data: { email: string | null } };
}

export type AuditAction = keyof AuditEventTypes;

/** Every action, in the order the console lists them. A test checks it names each type once. */
export const AUDIT_ACTIONS = [
  "user.signed_up",
  "user.updated",
  "user.password_changed",
  "user.password_reset_requested",
  "user.password_reset",
  "user.address_conflict",
  "organization.created",
  "organization.renamed",
  "organization.deleted",
  "member.added",
  "member.role_changed",
  "member.removed",
  "member.left",
  "workspace.created",
  "workspace.updated",
  "workspace.deleted",
  "workspace_member.added",
  "workspace_member.role_changed",
  "workspace_member.removed",
  "invitation.created",
  "invitation.resent",
  "invitation.cancelled",
  "invitation.accepted",
  "invitation.declined",
] as const satisfies readonly AuditAction[];

// Both ways: every listed action is a type (above), and every type is listed (here).
type Unlisted = Exclude<AuditAction, (typeof AUDIT_ACTIONS)[number]>;
const everyActionListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyActionListed;

/** One event, as recordAudit() takes it: the action decides the target's kind and the data. */
export type AuditEvent = {
  [A in AuditAction]: {
    orgId: string | null;
    action: A;
    targetType: AuditEventTypes[A]["target"];
    targetId: string | null;
  } & (AuditEventTypes[A]["data"] extends Record<string, never>
    ? { data?: AuditEventTypes[A]["data"] }
    : { data: AuditEventTypes[A]["data"] });
}[AuditAction];
