// The organisation event types a webhook can ask for (the API's OrganizationEventType), in plain
// words and grouped as the create dialog offers them. Pure data and functions: unit-tested under Node.
import type { components } from "../api/schema.js";

export type EventType = components["schemas"]["OrganizationEventType"];
/** What an admin chooses from: webhook.test reaches every endpoint whatever it asked for. */
export type ChoosableEventType = Exclude<EventType, "webhook.test">;
export type DeliveryStatus = components["schemas"]["DeliveryStatus"];

// A Record over the generated union: a type the server adds or drops fails the console's build.
const LABELS: Record<ChoosableEventType, string> = {
  "organization.created": "Organisation created",
  "organization.updated": "Organisation renamed",
  "organization.deleted": "Organisation deleted",
  "member.added": "Member joined or added",
  "member.role_changed": "Member's role changed",
  "member.removed": "Member removed",
  "member.left": "Member left",
  "workspace.created": "Workspace created",
  "workspace.updated": "Workspace settings changed",
  "workspace.deleted": "Workspace deleted",
  "workspace_member.added": "Added to a workspace",
  "workspace_member.role_changed": "Workspace role changed",
  "workspace_member.removed": "Removed from a workspace",
  "invitation.created": "Invitation sent or link created",
  "invitation.resent": "Invitation resent",
  "invitation.cancelled": "Invitation cancelled",
  "invitation.withdrawn": "Invitation withdrawn",
  "invitation.accepted": "Invitation accepted",
  "invitation.declined": "Invitation declined",
  "api_key.created": "API key created",
  "api_key.revoked": "API key revoked",
  "webhook.created": "Webhook added",
  "webhook.updated": "Webhook changed or turned off",
  "webhook.deleted": "Webhook deleted",
  "webhook.secret_rotated": "Webhook secret rotated",
};

/** The groups, by the part of the type before its dot, in the order the dialog shows them. */
const GROUPS: { prefix: string; label: string }[] = [
  { prefix: "member", label: "Members" },
  { prefix: "workspace_member", label: "Workspace access" },
  { prefix: "invitation", label: "Invitations" },
  { prefix: "workspace", label: "Workspaces" },
  { prefix: "organization", label: "Organisation" },
  { prefix: "api_key", label: "API keys" },
  { prefix: "webhook", label: "Webhooks" },
];

export interface EventTypeGroup {
  label: string;
  types: { value: ChoosableEventType; label: string }[];
}

export const EVENT_TYPE_GROUPS: EventTypeGroup[] = GROUPS.map((g) => ({
  label: g.label,
  types: (Object.entries(LABELS) as [ChoosableEventType, string][])
    .filter(([type]) => type.slice(0, type.indexOf(".")) === g.prefix)
    .map(([value, label]) => ({ value, label })),
}));

/** A type in words; the test event and a type this console does not know by their own name. */
export function eventTypeLabel(type: string): string {
  if (type === "webhook.test") return "Test event";
  return LABELS[type as ChoosableEventType] ?? type;
}

/** What an endpoint receives, in a few words: an empty list is every type. */
export function typesSummary(types: readonly EventType[]): string {
  if (types.length === 0) return "All events";
  if (types.length <= 2) return types.map(eventTypeLabel).join(", ");
  return `${types.length} event types`;
}

export const STATUS_LABELS: Record<DeliveryStatus, string> = {
  pending: "Pending",
  delivered: "Delivered",
  failed: "Failed",
};
