// An event as the outside sees it — the feed, the streams and the webhooks (docs/events.md):
// `{id, type, at, orgId, actor: {type, id, name}, data}`. The audit trail is the store: each
// change writes one row (recordAudit, in its transaction) and this is that row's public face.
//
// `type` is the row's action, except two that the public vocabulary names otherwise
// (organization.renamed → organization.updated; an invitation cancelled because its inviter could
// no longer make it → invitation.withdrawn). `data` keeps what the row recorded and adds the ids
// its readers key on — `userId`, `workspaceId`, `invitationId`, `apiKeyId` — and, for a change of
// role, `fromRole` and `toRole` (null where there was none or is none now).
import type { ActorType } from "../audit/actions.js";

export interface PublicEvent {
  id: string;
  type: string;
  at: string;
  orgId: string | null;
  actor: { type: ActorType; id: string | null; name: string | null };
  data: Record<string, unknown>;
}

/**
 * The public event types of an organisation: each audit action as publicType names it
 * (organization.renamed is organization.updated; invitation.withdrawn is a cancelled invitation its
 * inviter could no longer make), and `webhook.test`, which only POST …/webhooks/{id}/test sends.
 * A webhook's `types` are chosen from this list. events/public.test.ts keeps it and
 * INSTALLATION_EVENT_TYPES together whole; test/events-per-operation.test.ts checks that each
 * event is written with an organisation exactly when its type is listed here.
 */
export const ORGANIZATION_EVENT_TYPES = [
  "organization.created",
  "organization.updated",
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
  "invitation.withdrawn",
  "invitation.accepted",
  "invitation.declined",
  "api_key.created",
  "api_key.revoked",
  "webhook.created",
  "webhook.updated",
  "webhook.deleted",
  "webhook.secret_rotated",
  "webhook.test",
] as const;

/** The types of events with no organisation: only the installation-wide stream carries them. */
export const INSTALLATION_EVENT_TYPES = [
  "service_key.created",
  "service_key.revoked",
  "session.revoked",
  "user.sessions_revoked",
  "user.signed_up",
  "user.updated",
  "user.password_changed",
  "user.password_reset_requested",
  "user.password_reset",
  "user.address_conflict",
] as const;

export const EVENT_TYPES = [...ORGANIZATION_EVENT_TYPES, ...INSTALLATION_EVENT_TYPES] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type OrganizationEventType = (typeof ORGANIZATION_EVENT_TYPES)[number];

/** The columns of an audit row that make its public event. */
export interface EventRow {
  id: string;
  org_id: string | null;
  at: Date;
  actor_type: ActorType;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  data: Record<string, unknown>;
}

/** The public type of an action as recorded (the SQL twin is typeCondition in feed.ts). */
export function publicType(action: string, data: Record<string, unknown>): string {
  if (action === "organization.renamed") return "organization.updated";
  if (action === "invitation.cancelled" && data.withdrawn === true) return "invitation.withdrawn";
  return action;
}

const ID_OF_TARGET: Record<string, string> = {
  user: "userId",
  workspace: "workspaceId",
  invitation: "invitationId",
  api_key: "apiKeyId",
  webhook: "webhookId",
  service_key: "serviceKeyId",
  session: "sessionId",
};

/** Roles before and after, by the membership actions' data (role, or from and to). */
function roles(action: string, data: Record<string, unknown>): { fromRole: unknown; toRole: unknown } | null {
  const [subject, verb] = action.split(".");
  if (subject !== "member" && subject !== "workspace_member") return null;
  switch (verb) {
    case "added":
      return { fromRole: null, toRole: data.role ?? null };
    case "role_changed":
      return { fromRole: data.from ?? null, toRole: data.to ?? null };
    case "removed":
    case "left":
      return { fromRole: data.role ?? null, toRole: null };
    default:
      return null;
  }
}

export function publicEvent(row: EventRow): PublicEvent {
  const data: Record<string, unknown> = { ...row.data };
  const idField = ID_OF_TARGET[row.target_type];
  if (idField && row.target_id !== null && data[idField] === undefined) data[idField] = row.target_id;
  if (row.action === "organization.renamed" && "from" in data) {
    data.changes = { name: { from: data.from, to: data.to } };
    delete data.from;
    delete data.to;
  }
  const change = roles(row.action, row.data);
  if (change) Object.assign(data, change);
  return {
    id: row.id,
    type: publicType(row.action, row.data),
    at: row.at.toISOString(),
    orgId: row.org_id,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    data,
  };
}
