// The audit log in plain words: each action the server records (src/audit/actions.ts, which the
// API's types name) as one sentence, e.g. "Alice Example changed Bob Stone's role from Editor to
// Agent in Field Ops". Pure functions, no DOM: unit-tested under Node.
import type { components } from "../api/schema.js";
import { roleLabel } from "./roles.js";

/** The fields of an audit event (GET /api/v1/orgs/{org}/audit) that the words are made of. */
export interface AuditEventLike {
  actorId: string | null;
  /** The actor's name when it happened (kept after they are gone); the CLI's command name. */
  actorName: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  data: Record<string, unknown>;
}

/** What the page knows around the events: names for the ids the events carry. */
export interface AuditContext {
  organizationName: string;
  /** A workspace's name by id, or undefined when it is gone (or unknown). */
  workspaceName?: (id: string) => string | undefined;
  /** A person's current name by user id, for events that did not record one. */
  personName?: (id: string) => string | undefined;
}

/** Every action this server records (src/audit/actions.ts), as the API's types name them. */
export type AuditAction = components["schemas"]["AuditAction"];

/**
 * The actions an organisation's log can show, as the filter names them. Not user.* events, which
 * belong to no organisation, nor organization.deleted, after which there is no log to look at.
 */
type FilteredAction = Exclude<
  AuditAction,
  `user.${string}` | `service_key.${string}` | `session.${string}` | "organization.deleted"
>;

const FILTER_LABELS: Record<FilteredAction, string> = {
  "member.added": "Members joined or added",
  "member.role_changed": "Organisation roles changed",
  "member.removed": "Members removed",
  "member.left": "Members who left",
  "workspace_member.added": "Added to a workspace",
  "workspace_member.role_changed": "Workspace roles changed",
  "workspace_member.removed": "Removed from a workspace",
  "invitation.created": "Invitations sent and links created",
  "invitation.resent": "Invitations resent",
  "invitation.cancelled": "Invitations cancelled",
  "invitation.accepted": "Invitations accepted",
  "invitation.declined": "Invitations declined",
  "workspace.created": "Workspaces created",
  "workspace.updated": "Workspace settings changed",
  "workspace.deleted": "Workspaces deleted",
  "organization.created": "Organisation created",
  "organization.renamed": "Organisation renamed",
  "api_key.created": "API keys created",
  "api_key.revoked": "API keys revoked",
  "webhook.created": "Webhooks added",
  "webhook.updated": "Webhooks changed or turned off",
  "webhook.deleted": "Webhooks deleted",
  "webhook.secret_rotated": "Webhook secrets rotated",
};

/** The filter's groups: every action of a prefix, then each of them. */
const GROUPS: { label: string; prefix: string; every: string }[] = [
  { label: "Members", prefix: "member", every: "Every member change" },
  { label: "Workspace access", prefix: "workspace_member", every: "Every workspace access change" },
  { label: "Invitations", prefix: "invitation", every: "Every invitation change" },
  { label: "Workspaces", prefix: "workspace", every: "Every workspace change" },
  { label: "Organisation", prefix: "organization", every: "Every organisation change" },
  { label: "API keys", prefix: "api_key", every: "Every API key change" },
  { label: "Webhooks", prefix: "webhook", every: "Every webhook change" },
];

/** The known actions, grouped as the filter offers them. `value` is the API's `action` query. */
export const ACTION_GROUPS: { label: string; options: { value: string; label: string }[] }[] = GROUPS.map(
  (g) => ({
    label: g.label,
    options: [
      { value: `${g.prefix}.*`, label: g.every },
      ...Object.entries(FILTER_LABELS)
        .filter(([action]) => action.startsWith(`${g.prefix}.`))
        .map(([value, label]) => ({ value, label })),
    ],
  }),
);

function text(data: Record<string, unknown>, key: string): string | undefined {
  const value = data[key];
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

function count(data: Record<string, unknown>, key: string): number | undefined {
  const value = data[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Who did it: their name; the CLI as "An operator (rollcall invite)"; nobody as "Rollcall". */
export function actorLabel(event: Pick<AuditEventLike, "actorId" | "actorName">): string {
  if (event.actorId === null) {
    if (event.actorName) {
      return event.actorName.startsWith("rollcall ") ? `An operator (${event.actorName})` : event.actorName;
    }
    return "Rollcall";
  }
  return event.actorName ?? "Someone (deleted account)";
}

/** "Bob Stone's", "James'" stays "James's": plain and always right. */
function possessive(name: string): string {
  return `${name}'s`;
}

/** " for https://…", or nothing when the event recorded no URL. */
function forUrl(url: string | undefined): string {
  return url ? ` for ${url}` : "";
}

/** "Editor", "Editor in Field Ops and Viewer in Sales". */
function list(items: string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** "member.role_changed" → "member role changed", for actions this console does not know. */
export function readableAction(action: string): string {
  return action.replace(/[._]+/g, " ").trim();
}

/** What a sentence is made of: the event, and names for what it mentions. */
interface Parts {
  event: AuditEventLike;
  data: Record<string, unknown>;
  actor: string;
  org: string;
  /** The actor acted on themselves (joined, left, accepted). */
  self: boolean;
  viaInvitation: boolean;
  workspace: (id: unknown) => string;
  /** The person the event is about: the name recorded, else their current name, else the e-mail. */
  target: () => string;
  role: (key: string) => string;
  text: (key: string) => string | undefined;
  context: AuditContext;
}

/** One sentence for each action the server records: a missing one does not compile. */
/** "the API key CI deploys", or "an API key" when the event kept no name. */
function keyName(kind: string, name: string | undefined): string {
  return name ? `the ${kind} ${name}` : `an ${kind}`;
}

const SENTENCES: Record<AuditAction, (p: Parts) => string> = {
  "organization.created": ({ actor, text, org }) =>
    `${actor} created the organisation ${text("name") ?? org}`,
  "organization.renamed": ({ actor, text, org }) =>
    `${actor} renamed the organisation from ${text("from") ?? "its old name"} to ${text("to") ?? org}`,
  "organization.deleted": ({ actor, text, org }) =>
    `${actor} deleted the organisation ${text("name") ?? org}`,

  "member.added": ({ actor, org, self, viaInvitation, target, role }) =>
    self
      ? `${actor} joined ${org} as ${role("role")}${viaInvitation ? " through an invitation" : ""}`
      : `${actor} added ${target()} to ${org} as ${role("role")}`,
  "member.role_changed": ({ actor, org, self, viaInvitation, target, role }) =>
    self && viaInvitation
      ? `${actor} became ${role("to")} in ${org} through an invitation (was ${role("from")})`
      : `${actor} changed ${possessive(target())} organisation role from ${role("from")} to ${role("to")}`,
  "member.removed": ({ actor, org, target, role }) =>
    `${actor} removed ${target()} (${role("role")}) from ${org}`,
  "member.left": ({ actor, org, role }) => `${actor} left ${org} (was ${role("role")})`,

  "workspace.created": ({ actor, text, workspace, event }) =>
    `${actor} created the workspace ${text("name") ?? workspace(event.targetId)}`,
  "workspace.updated": ({ actor, data, workspace, event }) =>
    describeWorkspaceUpdate(actor, data, workspace(event.targetId)),
  "workspace.deleted": ({ actor, text }) =>
    text("name") ? `${actor} deleted the workspace ${text("name")}` : `${actor} deleted a workspace`,

  "workspace_member.added": ({ actor, data, self, viaInvitation, workspace, target, role }) => {
    const ws = workspace(data.workspaceId);
    if (self && viaInvitation) return `${actor} joined ${ws} as ${role("role")} through an invitation`;
    return `${actor} added ${target()} to ${ws} as ${role("role")}`;
  },
  "workspace_member.role_changed": ({ actor, data, self, viaInvitation, workspace, target, role }) => {
    const ws = workspace(data.workspaceId);
    if (self && viaInvitation) {
      return `${actor} became ${role("to")} in ${ws} through an invitation (was ${role("from")})`;
    }
    return `${actor} changed ${possessive(target())} role from ${role("from")} to ${role("to")} in ${ws}`;
  },
  "workspace_member.removed": ({ actor, data, workspace, target, role }) =>
    `${actor} removed ${target()} (${role("role")}) from ${workspace(data.workspaceId)}`,

  "invitation.created": ({ actor, data, workspace }) => describeInvitation(actor, data, workspace),
  "api_key.created": ({ actor, text, role }) =>
    `${actor} created ${keyName("API key", text("name"))} acting as ${role("role")}`,
  "api_key.revoked": ({ actor, text }) => `${actor} revoked ${keyName("API key", text("name"))}`,
  "webhook.created": ({ actor, text }) => `${actor} added a webhook${forUrl(text("url"))}`,
  "webhook.updated": ({ actor, text }) =>
    text("reason")
      ? `${actor} turned off the webhook${forUrl(text("url"))}: ${text("reason")}`
      : `${actor} changed the webhook${forUrl(text("url"))}`,
  "webhook.deleted": ({ actor, text }) => `${actor} deleted the webhook${forUrl(text("url"))}`,
  "webhook.secret_rotated": ({ actor, text }) =>
    `${actor} rotated the secret of the webhook${forUrl(text("url"))}`,
  "session.revoked": ({ actor }) => `${actor} logged out a device`,
  "user.sessions_revoked": ({ actor, data }) =>
    data.exceptSessionId ? `${actor} logged out their other devices` : `${actor} logged out every device`,
  "service_key.created": ({ actor, text }) => `${actor} created ${keyName("service key", text("name"))}`,
  "service_key.revoked": ({ actor, text }) => `${actor} revoked ${keyName("service key", text("name"))}`,
  "invitation.resent": ({ actor, text }) =>
    text("delivery") === "link"
      ? `${actor} renewed an invite link`
      : `${actor} resent the invitation to ${text("email") ?? "an e-mail address"}`,
  "invitation.cancelled": ({ actor, data, text, role }) => {
    const what =
      text("delivery") === "link"
        ? `an invite link for ${role("role")}`
        : `the invitation to ${text("email") ?? "an e-mail address"}`;
    // Withdrawn: cancelled by the change that left its inviter unable to make it.
    return data.withdrawn === true
      ? `${actor}'s change cancelled ${what}: its inviter could no longer make it`
      : `${actor} cancelled ${what}`;
  },
  "invitation.accepted": ({ actor, data, text, org }) => {
    if (text("delivery") === "link") {
      const uses = count(data, "uses");
      return `${actor} joined ${org} through an invite link${uses && uses > 1 ? ` (used ${uses} times so far)` : ""}`;
    }
    return `${actor} accepted the e-mail invitation to ${org}`;
  },
  "invitation.declined": ({ actor, text }) =>
    `${actor} declined the invitation sent to ${text("email") ?? "them"}`,

  "user.signed_up": ({ actor }) => `${actor} signed up`,
  "user.updated": ({ actor, text }) =>
    `${actor} changed their name${text("name") ? ` to ${text("name")}` : ""}`,
  "user.password_changed": ({ actor }) => `${actor} changed their password`,
  "user.password_reset_requested": ({ actor, event, context }) => {
    const who = event.actorId === null ? "Someone" : actor;
    const whose = event.targetId ? context.personName?.(event.targetId) : undefined;
    return `${who} asked for a password reset link${whose ? ` for ${whose}` : ""}`;
  },
  "user.password_reset": ({ actor }) => `${actor} chose a new password through a reset link`,
  // Written by migration 0005 to the account that lost an address to another spelling of it.
  "user.address_conflict": ({ actor, text, target }) =>
    `${actor} took ${text("address") ?? "an address"} from ${target()}: another account has the same address`,
};

function isKnown(action: string): action is AuditAction {
  return Object.hasOwn(SENTENCES, action);
}

/** The event as one sentence. */
export function describe(event: AuditEventLike, context: AuditContext): string {
  const { data } = event;
  const actor = actorLabel(event);
  if (!isKnown(event.action)) return `${actor}: ${readableAction(event.action)}`;
  const self = event.actorId !== null && event.targetId === event.actorId;
  const get = (key: string) => text(data, key);
  return SENTENCES[event.action]({
    event,
    data,
    actor,
    org: context.organizationName,
    self,
    viaInvitation: get("invitationId") !== undefined,
    workspace: (id) => {
      if (typeof id !== "string") return "a workspace";
      return context.workspaceName?.(id) ?? "a deleted workspace";
    },
    target: () => {
      if (self) return actor;
      return (
        get("name") ??
        (event.targetId ? context.personName?.(event.targetId) : undefined) ??
        get("email") ??
        "a former member"
      );
    },
    role: (key) => {
      const value = get(key);
      return value ? roleLabel(value) : "an unknown role";
    },
    text: get,
    context,
  });
}

const SETTING_NAMES: Record<string, string> = { name: "name", timezone: "timezone", language: "language" };

function describeWorkspaceUpdate(actor: string, data: Record<string, unknown>, current: string): string {
  const changes = (typeof data.changes === "object" && data.changes !== null ? data.changes : {}) as Record<
    string,
    unknown
  >;
  const parts: { field: string; from: string; to: string }[] = [];
  for (const [field, change] of Object.entries(changes)) {
    if (typeof change !== "object" || change === null) continue;
    const { from, to } = change as { from?: unknown; to?: unknown };
    parts.push({ field, from: String(from ?? "nothing"), to: String(to ?? "nothing") });
  }
  const renamed = parts.find((p) => p.field === "name");
  const others = parts.filter((p) => p.field !== "name");
  const settings = others.map(
    (p) => `${SETTING_NAMES[p.field] ?? readableAction(p.field)} from ${p.from} to ${p.to}`,
  );
  if (renamed && others.length === 0)
    return `${actor} renamed the workspace ${renamed.from} to ${renamed.to}`;
  if (renamed)
    return `${actor} renamed the workspace ${renamed.from} to ${renamed.to} and changed its ${list(settings)}`;
  if (settings.length > 0) return `${actor} changed the ${list(settings)} of ${current}`;
  return `${actor} changed the settings of ${current}`;
}

function describeInvitation(
  actor: string,
  data: Record<string, unknown>,
  workspace: (id: unknown) => string,
): string {
  const role = roleLabel(text(data, "role") ?? "member");
  const grants = Array.isArray(data.workspaces) ? data.workspaces : [];
  const places = grants.flatMap((g: unknown) => {
    if (typeof g !== "object" || g === null) return [];
    const { workspaceId, role: wsRole } = g as { workspaceId?: unknown; role?: unknown };
    return [`${typeof wsRole === "string" ? roleLabel(wsRole) : "a role"} in ${workspace(workspaceId)}`];
  });
  const where = places.length > 0 ? `, with ${list(places)}` : "";
  if (text(data, "delivery") === "link") {
    const uses = count(data, "maxUses") ?? 1;
    const people = uses === 1 ? "one person" : `up to ${uses} people`;
    return `${actor} created an invite link to join as ${role}${where}, for ${people}`;
  }
  return `${actor} invited ${text(data, "email") ?? "someone"} as ${role}${where}`;
}
