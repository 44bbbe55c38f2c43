// Every action this server records in the audit trail, by module. The one list: recordAudit
// accepts only these (a new action is added here first), the audit API's answer names them, and
// the console has a sentence for each (web/src/lib/audit-words.ts, keyed by this list through the
// API's types, so that a missing one does not compile).
//
// The database checks only their shape (0001: `word.word`), not this list: the trail is history,
// and keeps what an older or newer version of the server wrote.
export const AUDIT_ACTIONS = [
  // orgs/
  "organization.created",
  "organization.renamed",
  "organization.deleted",
  "member.added",
  "member.role_changed",
  "member.removed",
  "member.left",
  // workspaces/
  "workspace.created",
  "workspace.updated",
  "workspace.deleted",
  "workspace_member.added",
  "workspace_member.role_changed",
  "workspace_member.removed",
  // invitations/
  "invitation.created",
  "invitation.resent",
  "invitation.cancelled",
  "invitation.accepted",
  "invitation.declined",
  // apikeys/
  "api_key.created",
  "api_key.revoked",
  // webhooks/
  "webhook.created",
  "webhook.updated",
  "webhook.deleted",
  "webhook.secret_rotated",
  // sessions/ (no organisation)
  "session.revoked",
  "user.sessions_revoked",
  // apikeys/service-keys.ts (no organisation)
  "service_key.created",
  "service_key.revoked",
  // accounts/ (no organisation)
  "user.signed_up",
  "user.updated",
  "user.password_changed",
  "user.password_reset_requested",
  "user.password_reset",
  // db/migrations/0005 (no organisation): an account whose address another spelling kept
  "user.address_conflict",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acted: a person, an organisation's API key, or the system (the operator's CLI, the clock). */
export const ACTOR_TYPES = ["user", "api_key", "system"] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];
