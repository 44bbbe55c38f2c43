// Role names and the one-line descriptions the console shows beside them (docs/roles.md).
export type OrgRole = "owner" | "admin" | "member";
export type WorkspaceRole = "admin" | "editor" | "agent" | "viewer";

export const ORG_ROLES: { value: OrgRole; label: string; description: string }[] = [
  {
    value: "owner",
    label: "Owner",
    description: "Everything an admin can do, plus billing, owners and deleting the organisation.",
  },
  {
    value: "admin",
    label: "Admin",
    description: "Manages members, invitations, workspaces and settings; admin in every workspace.",
  },
  {
    value: "member",
    label: "Member",
    description: "Sees the organisation and works in the workspaces they are given.",
  },
];

export const WORKSPACE_ROLES: { value: WorkspaceRole; label: string; description: string }[] = [
  {
    value: "admin",
    label: "Admin",
    description: "Everything in the workspace, including its settings and its users.",
  },
  {
    value: "editor",
    label: "Editor",
    description: "Builds and starts flows, sends messages, manages contacts, imports and exports.",
  },
  { value: "agent", label: "Agent", description: "Reads and answers tickets and live chats." },
  { value: "viewer", label: "Viewer", description: "Reads flows, contacts and tickets; changes nothing." },
];

const LABELS: Record<string, string> = {
  owner: "Owner",
  admin: "Admin",
  member: "Member",
  editor: "Editor",
  agent: "Agent",
  viewer: "Viewer",
};

/** "editor" → "Editor"; a role a host added through ROLES_FILE keeps its own name, capitalised. */
export function roleLabel(role: string): string {
  return LABELS[role] ?? role.charAt(0).toUpperCase() + role.slice(1);
}
