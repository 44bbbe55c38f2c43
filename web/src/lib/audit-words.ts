// The audit log in plain words: each event the server records (src/**/operations.ts and
// src/invitations/*.ts, `recordAudit`) as one sentence, e.g. "Alice Example changed Bob Stone's
// role from Editor to Agent in Field Ops". Pure functions, no DOM: unit-tested under Node.
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

/** The known actions, grouped as the filter offers them. `value` is the API's `action` query. */
export const ACTION_GROUPS: { label: string; options: { value: string; label: string }[] }[] = [
  {
    label: "Members",
    options: [
      { value: "member.*", label: "Every member change" },
      { value: "member.added", label: "Members joined or added" },
      { value: "member.role_changed", label: "Organisation roles changed" },
      { value: "member.removed", label: "Members removed" },
      { value: "member.left", label: "Members who left" },
    ],
  },
  {
    label: "Workspace access",
    options: [
      { value: "workspace_member.*", label: "Every workspace access change" },
      { value: "workspace_member.added", label: "Added to a workspace" },
      { value: "workspace_member.role_changed", label: "Workspace roles changed" },
      { value: "workspace_member.removed", label: "Removed from a workspace" },
    ],
  },
  {
    label: "Invitations",
    options: [
      { value: "invitation.*", label: "Every invitation change" },
      { value: "invitation.created", label: "Invitations sent and links created" },
      { value: "invitation.resent", label: "Invitations resent" },
      { value: "invitation.cancelled", label: "Invitations cancelled" },
      { value: "invitation.accepted", label: "Invitations accepted" },
      { value: "invitation.declined", label: "Invitations declined" },
    ],
  },
  {
    label: "Workspaces",
    options: [
      { value: "workspace.*", label: "Every workspace change" },
      { value: "workspace.created", label: "Workspaces created" },
      { value: "workspace.updated", label: "Workspace settings changed" },
      { value: "workspace.deleted", label: "Workspaces deleted" },
    ],
  },
  {
    label: "Organisation",
    options: [
      { value: "organization.*", label: "Every organisation change" },
      { value: "organization.created", label: "Organisation created" },
      { value: "organization.renamed", label: "Organisation renamed" },
    ],
  },
];

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

/** "Editor", "Editor in Field Ops and Viewer in Sales". */
function list(items: string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** "member.role_changed" → "member role changed", for actions this console does not know. */
export function readableAction(action: string): string {
  return action.replace(/[._]+/g, " ").trim();
}

/** The event as one sentence. */
export function describe(event: AuditEventLike, context: AuditContext): string {
  const { data } = event;
  const actor = actorLabel(event);
  const org = context.organizationName;
  const self = event.actorId !== null && event.targetId === event.actorId;
  const viaInvitation = text(data, "invitationId") !== undefined;

  const workspace = (id: unknown): string => {
    if (typeof id !== "string") return "a workspace";
    return context.workspaceName?.(id) ?? "a deleted workspace";
  };
  /** The person the event is about: the name recorded, else their current name, else the e-mail. */
  const target = (): string => {
    if (self) return actor;
    return (
      text(data, "name") ??
      (event.targetId ? context.personName?.(event.targetId) : undefined) ??
      text(data, "email") ??
      "a former member"
    );
  };
  const role = (key: string): string => {
    const value = text(data, key);
    return value ? roleLabel(value) : "an unknown role";
  };

  switch (event.action) {
    case "organization.created":
      return `${actor} created the organisation ${text(data, "name") ?? org}`;
    case "organization.renamed":
      return `${actor} renamed the organisation from ${text(data, "from") ?? "its old name"} to ${text(data, "to") ?? org}`;
    case "organization.deleted":
      return `${actor} deleted the organisation ${text(data, "name") ?? org}`;

    case "member.added":
      if (self)
        return `${actor} joined ${org} as ${role("role")}${viaInvitation ? " through an invitation" : ""}`;
      return `${actor} added ${target()} to ${org} as ${role("role")}`;
    case "member.role_changed":
      if (self && viaInvitation) {
        return `${actor} became ${role("to")} in ${org} through an invitation (was ${role("from")})`;
      }
      return `${actor} changed ${possessive(target())} organisation role from ${role("from")} to ${role("to")}`;
    case "member.removed":
      return `${actor} removed ${target()} (${role("role")}) from ${org}`;
    case "member.left":
      return `${actor} left ${org} (was ${role("role")})`;

    case "workspace.created":
      return `${actor} created the workspace ${text(data, "name") ?? workspace(event.targetId)}`;
    case "workspace.updated":
      return describeWorkspaceUpdate(actor, data, workspace(event.targetId));
    case "workspace.deleted":
      return text(data, "name")
        ? `${actor} deleted the workspace ${text(data, "name")}`
        : `${actor} deleted a workspace`;

    case "workspace_member.added": {
      const ws = workspace(data.workspaceId);
      if (self && viaInvitation) return `${actor} joined ${ws} as ${role("role")} through an invitation`;
      return `${actor} added ${target()} to ${ws} as ${role("role")}`;
    }
    case "workspace_member.role_changed": {
      const ws = workspace(data.workspaceId);
      if (self && viaInvitation) {
        return `${actor} became ${role("to")} in ${ws} through an invitation (was ${role("from")})`;
      }
      return `${actor} changed ${possessive(target())} role from ${role("from")} to ${role("to")} in ${ws}`;
    }
    case "workspace_member.removed":
      return `${actor} removed ${target()} (${role("role")}) from ${workspace(data.workspaceId)}`;

    case "invitation.created":
      return describeInvitation(actor, data, workspace);
    case "invitation.resent":
      return text(data, "delivery") === "link"
        ? `${actor} renewed an invite link`
        : `${actor} resent the invitation to ${text(data, "email") ?? "an e-mail address"}`;
    case "invitation.cancelled": {
      const what =
        text(data, "delivery") === "link"
          ? `an invite link for ${role("role")}`
          : `the invitation to ${text(data, "email") ?? "an e-mail address"}`;
      // Withdrawn: cancelled by the change that left its inviter unable to make it.
      return data.withdrawn === true
        ? `${actor}'s change cancelled ${what}: its inviter could no longer make it`
        : `${actor} cancelled ${what}`;
    }
    case "invitation.accepted": {
      if (text(data, "delivery") === "link") {
        const uses = count(data, "uses");
        return `${actor} joined ${org} through an invite link${uses && uses > 1 ? ` (used ${uses} times so far)` : ""}`;
      }
      return `${actor} accepted the e-mail invitation to ${org}`;
    }
    case "invitation.declined":
      return `${actor} declined the invitation sent to ${text(data, "email") ?? "them"}`;

    case "user.signed_up":
      return `${actor} signed up`;
    case "user.updated":
      return `${actor} changed their name${text(data, "name") ? ` to ${text(data, "name")}` : ""}`;
    case "user.password_changed":
      return `${actor} changed their password`;
    case "user.password_reset_requested": {
      const who = event.actorId === null ? "Someone" : actor;
      const whose = event.targetId ? context.personName?.(event.targetId) : undefined;
      return `${who} asked for a password reset link${whose ? ` for ${whose}` : ""}`;
    }
    case "user.password_reset":
      return `${actor} chose a new password through a reset link`;

    default:
      return `${actor}: ${readableAction(event.action)}`;
  }
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
