// The role and permission catalogue (docs/roles.md) as data: which role holds which permission.
// Nothing here is an `if`: routes name a permission, and can() looks it up. A host extends the
// catalogue with a JSON file (ROLES_FILE): extra permissions granted to existing roles, and
// extra workspace roles.
import { readFileSync } from "node:fs";

/**
 * The organisation roles, highest first. Fixed: a ROLES_FILE adds permissions and workspace
 * roles, never org roles. The one list: the type, the API's enum and the database's CHECKs on
 * org_memberships and invitations (a test compares them) follow it.
 */
export const ORG_ROLES = ["owner", "admin", "member"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

export function isOrgRole(name: string): name is OrgRole {
  return (ORG_ROLES as readonly string[]).includes(name);
}

/**
 * The workspace roles every catalogue has. A host may add its own (ROLES_FILE), so a workspace
 * role is any string the catalogue defines: the database keeps them in workspace_roles (filled
 * from the catalogue at start-up) and memberships refer to it, rather than a CHECK of this list.
 */
export const BUILT_IN_WORKSPACE_ROLES = ["admin", "editor", "agent", "viewer"] as const;

export interface RoleDef {
  name: string;
  /** Higher outranks lower; nobody grants a role ranked above their own (rule 1). */
  rank: number;
  description: string;
  permissions: ReadonlySet<string>;
}

export interface Catalogue {
  /** Highest rank first: ORG_ROLES, in that order. */
  orgRoles: readonly (RoleDef & { name: OrgRole })[];
  workspaceRoles: readonly RoleDef[];
  /** permission → what it allows, in words. */
  orgPermissions: ReadonlyMap<string, string>;
  workspacePermissions: ReadonlyMap<string, string>;
  /** The workspace role an org role acts as in every workspace of its organisation. */
  orgRoleActsAs: Readonly<Record<string, string | null>>;
}

export const ORG_PERMISSIONS: Record<string, string> = {
  "org.read": "see the organisation and the workspaces one may enter",
  "org.users": "list members and invitations, invite, change org roles, remove, read the audit log",
  "org.workspaces": "create, rename and delete workspaces",
  "org.settings": "change the organisation's name",
  "org.billing": "manage billing",
  "org.integrations": "manage linked services",
  "org.owners": "grant or revoke owner, delete the organisation",
  "org.apikeys":
    "make, list and revoke the organisation's API keys; manage its webhooks and read its event feed",
};

export const WORKSPACE_PERMISSIONS: Record<string, string> = {
  "flows.read": "see flows, campaigns and triggers",
  "flows.write": "create and edit flows, campaigns and triggers",
  "flows.start": "start flows",
  "messages.send": "send messages and broadcasts",
  "contacts.read": "see contacts",
  "contacts.write": "edit contact fields and group membership",
  "exports.create": "export flows, contacts and messages",
  "imports.create": "import flows",
  "tickets.read": "see tickets",
  "tickets.respond": "respond to tickets and live chats",
  "workspace.settings": "change the workspace's name, timezone and language",
  "workspace.integrations": "manage the workspace's integrations",
  "workspace.users": "invite, change roles, remove, cancel invitations in the workspace",
};

const ALL_WORKSPACE = Object.keys(WORKSPACE_PERMISSIONS);

type RoleSeed<Name extends string = string> = Omit<RoleDef, "name" | "permissions"> & {
  name: Name;
  permissions: string[];
};

const DEFAULT_ORG_ROLES: RoleSeed<OrgRole>[] = [
  {
    name: "owner",
    rank: 30,
    description: "Everything, including billing, integrations, owners and deleting the organisation",
    permissions: Object.keys(ORG_PERMISSIONS),
  },
  {
    name: "admin",
    rank: 20,
    description: "Manages members, invitations, workspaces and settings; admin of every workspace",
    permissions: ["org.read", "org.users", "org.workspaces", "org.settings", "org.apikeys"],
  },
  {
    name: "member",
    rank: 10,
    description: "Sees the organisation and works in the workspaces granted to them",
    permissions: ["org.read"],
  },
];

const DEFAULT_WORKSPACE_ROLES: RoleSeed<(typeof BUILT_IN_WORKSPACE_ROLES)[number]>[] = [
  {
    name: "admin",
    rank: 40,
    description: "Everything in the workspace, including its settings and its users",
    permissions: ALL_WORKSPACE,
  },
  {
    name: "editor",
    rank: 30,
    description: "Builds and runs flows, sends messages, manages contacts, imports and exports",
    permissions: ALL_WORKSPACE.filter((p) => !p.startsWith("workspace.")),
  },
  {
    name: "agent",
    rank: 20,
    description: "Handles tickets and live chats",
    permissions: ["tickets.read", "tickets.respond"],
  },
  {
    name: "viewer",
    rank: 10,
    description: "Reads flows, contacts and tickets; changes nothing",
    permissions: ["flows.read", "contacts.read", "tickets.read"],
  },
];

/** The shape of a ROLES_FILE. */
export interface CatalogueExtension {
  /** New org permissions: name → {description, roles that hold it}. */
  orgPermissions?: Record<string, { description: string; roles: string[] }>;
  /** New workspace permissions: name → {description, roles that hold it}. */
  workspacePermissions?: Record<string, { description: string; roles: string[] }>;
  /** New workspace roles, ranked among the others (admin 40, editor 30, agent 20, viewer 10). */
  workspaceRoles?: Record<string, { rank: number; description: string; permissions: string[] }>;
}

const NAME = /^[a-z][a-z0-9_]{0,31}$/;
const PERMISSION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export class CatalogueError extends Error {}

/** The default catalogue, extended by `extension` when given. */
export function buildCatalogue(extension: CatalogueExtension = {}): Catalogue {
  const problems: string[] = [];
  const orgPermissions = new Map(Object.entries(ORG_PERMISSIONS));
  const workspacePermissions = new Map(Object.entries(WORKSPACE_PERMISSIONS));
  const orgRoles = new Map(
    DEFAULT_ORG_ROLES.map((r) => [r.name, { ...r, permissions: new Set(r.permissions) }]),
  );
  const workspaceRoles = new Map<string, RoleDef & { permissions: Set<string> }>(
    DEFAULT_WORKSPACE_ROLES.map((r) => [r.name, { ...r, permissions: new Set(r.permissions) }]),
  );

  for (const [name, def] of Object.entries(extension.workspaceRoles ?? {})) {
    if (!NAME.test(name)) problems.push(`workspace role "${name}": use lower-case letters, digits and _`);
    else if (workspaceRoles.has(name)) problems.push(`workspace role "${name}" already exists`);
    else if (!Number.isInteger(def.rank) || def.rank < 1 || def.rank > 99) {
      problems.push(`workspace role "${name}": rank must be a whole number from 1 to 99`);
    } else {
      const unknown = def.permissions.filter(
        (p) => !workspacePermissions.has(p) && !extension.workspacePermissions?.[p],
      );
      if (unknown.length)
        problems.push(`workspace role "${name}": unknown permissions ${unknown.join(", ")}`);
      workspaceRoles.set(name, {
        name,
        rank: def.rank,
        description: def.description,
        permissions: new Set(def.permissions),
      });
    }
  }
  const addPermissions = (
    scope: string,
    extra: Record<string, { description: string; roles: string[] }> | undefined,
    permissions: Map<string, string>,
    roles: Map<string, { permissions: Set<string> }>,
  ) => {
    for (const [name, def] of Object.entries(extra ?? {})) {
      if (!PERMISSION.test(name)) {
        problems.push(`${scope} permission "${name}": use dotted lower-case names like "reports.read"`);
        continue;
      }
      if (permissions.has(name)) problems.push(`${scope} permission "${name}" already exists`);
      permissions.set(name, def.description);
      for (const role of def.roles) {
        const r = roles.get(role);
        if (!r) problems.push(`${scope} permission "${name}": no ${scope} role "${role}"`);
        else r.permissions.add(name);
      }
    }
  };
  addPermissions("org", extension.orgPermissions, orgPermissions, orgRoles);
  addPermissions("workspace", extension.workspacePermissions, workspacePermissions, workspaceRoles);
  if (problems.length) throw new CatalogueError(`The roles file is not valid:\n  ${problems.join("\n  ")}`);

  const byRank = (a: RoleDef, b: RoleDef) => b.rank - a.rank;
  return {
    orgRoles: [...orgRoles.values()].sort(byRank),
    workspaceRoles: [...workspaceRoles.values()].sort(byRank),
    orgPermissions,
    workspacePermissions,
    orgRoleActsAs: { owner: "admin", admin: "admin", member: null },
  };
}

export function loadCatalogue(file: string | undefined): Catalogue {
  if (!file) return buildCatalogue();
  let extension: CatalogueExtension;
  try {
    extension = JSON.parse(readFileSync(file, "utf8")) as CatalogueExtension;
  } catch (err) {
    throw new CatalogueError(`Cannot read the roles file ${file}: ${(err as Error).message}`);
  }
  return buildCatalogue(extension);
}

export const DEFAULT_CATALOGUE = buildCatalogue();
