// Every event the audit trail records, typed: its action, what it is about (target), and the
// shape of its data. recordAudit() takes only these, so an event cannot be written with a
// misspelt action or a data field its readers (the console, exports, a host product) do not
// expect. This is the public vocabulary of what happens in Rollcall; docs/concepts.md describes it.
//
// The list of actions is actions.ts; this gives each its shape.
//
// Data copies names and addresses at the moment of the change, so that the trail still reads
// after the person or the workspace is gone.

import type { AuditAction } from "./actions.js";

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

  "api_key.created": {
    target: "api_key";
    data: {
      name: string;
      role: string;
      workspaces: { workspaceId: string; role: string }[];
      expiresAt: string | null;
    };
  };
  "api_key.revoked": { target: "api_key"; data: { name: string; role: string } };
  "webhook.created": {
    target: "webhook";
    data: { url: string; types: string[]; description: string | null };
  };
  /** `changes` names each field that changed; `reason` when the server turned it off (a 410). */
  "webhook.updated": {
    target: "webhook";
    data: { url: string; changes: Record<string, Change<unknown>>; reason?: string };
  };
  "webhook.deleted": { target: "webhook"; data: { url: string } };
  "webhook.secret_rotated": { target: "webhook"; data: { url: string; previousSecretExpiresAt: string } };
  "session.revoked": { target: "session"; data: { userId: string } };
  "user.sessions_revoked": { target: "user"; data: { exceptSessionId: string | null; count: number } };
  "service_key.created": { target: "service_key"; data: { name: string } };
  "service_key.revoked": { target: "service_key"; data: { name: string } };
}

// Both ways: every action of the list (actions.ts) has its type here, and every type here is listed.
type Untyped = Exclude<AuditAction, keyof AuditEventTypes>;
type Unlisted = Exclude<keyof AuditEventTypes, AuditAction>;
const everyActionTyped: [Untyped | Unlisted] extends [never] ? true : Untyped | Unlisted = true;
void everyActionTyped;

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
