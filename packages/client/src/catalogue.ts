// The catalogue as the server sends it (GET /api/v1/replica/snapshot), and the one answer to
// "may this standing do this?" with the reason in words — the same rules and the same sentences
// as the server's authorize (docs/roles.md): the effective workspace role is the higher of the
// role granted in the workspace and the one the org role acts as.

export interface CatalogueRole {
  name: string;
  rank: number;
  description: string;
  permissions: string[];
}

export interface CatalogueData {
  orgRoles: CatalogueRole[];
  workspaceRoles: CatalogueRole[];
  orgRoleActsAs: Record<string, string | null>;
  orgPermissions: Record<string, string>;
  workspacePermissions: Record<string, string>;
}

/** An answer of can() and canInOrg(). */
export interface Decision {
  allowed: boolean;
  /** The role that decided: the effective workspace role, or the org role; null when none. */
  role: string | null;
  reason: string;
}

interface Role {
  name: string;
  rank: number;
  permissions: ReadonlySet<string>;
}

export class Catalogue {
  readonly #orgRoles: Map<string, Role>;
  readonly #workspaceRoles: Map<string, Role>;
  readonly #actsAs: Record<string, string | null>;
  readonly #orgPermissions: ReadonlySet<string>;
  readonly #workspacePermissions: ReadonlySet<string>;
  /** Answers already worked out: org role → workspace role → permission → the decision. */
  readonly #decided = new Map<string, Map<string, Map<string, Decision>>>();

  constructor(data: CatalogueData) {
    const roles = (list: CatalogueRole[]) =>
      new Map(list.map((r) => [r.name, { name: r.name, rank: r.rank, permissions: new Set(r.permissions) }]));
    this.#orgRoles = roles(data.orgRoles);
    this.#workspaceRoles = roles(data.workspaceRoles);
    this.#actsAs = data.orgRoleActsAs;
    this.#orgPermissions = new Set(Object.keys(data.orgPermissions));
    this.#workspacePermissions = new Set(Object.keys(data.workspacePermissions));
  }

  /** The workspace role a standing acts with there, or null. */
  effectiveWorkspaceRole(orgRole: string | null, workspaceRole: string | null): string | null {
    if (!orgRole) return null;
    const acted = this.#workspaceRoles.get(this.#actsAs[orgRole] ?? "");
    const direct = this.#workspaceRoles.get(workspaceRole ?? "");
    if (acted && direct) return acted.rank >= direct.rank ? acted.name : direct.name;
    return (acted ?? direct)?.name ?? null;
  }

  /** Whether the server knows the permission: an organisation's, or (workspace) either kind. */
  knows(permission: string, scope: "org" | "workspace"): boolean {
    return (
      this.#orgPermissions.has(permission) ||
      (scope === "workspace" && this.#workspacePermissions.has(permission))
    );
  }

  /**
   * May someone with these roles use a workspace permission there? Each combination is worked out
   * once and kept (frozen): a check is then three map lookups, with nothing allocated.
   */
  inWorkspace(permission: string, orgRole: string | null, workspaceRole: string | null): Decision {
    const byWorkspaceRole = this.#decided.get(orgRole ?? "") ?? new Map<string, Map<string, Decision>>();
    if (byWorkspaceRole.size === 0) this.#decided.set(orgRole ?? "", byWorkspaceRole);
    const byPermission = byWorkspaceRole.get(workspaceRole ?? "") ?? new Map<string, Decision>();
    if (byPermission.size === 0) byWorkspaceRole.set(workspaceRole ?? "", byPermission);
    let decision = byPermission.get(permission);
    if (decision === undefined) {
      decision = Object.freeze(this.#workOut(permission, orgRole, workspaceRole));
      // Only the catalogue's own permissions are kept: a caller's typos must not fill memory.
      if (this.#workspacePermissions.has(permission) || this.#orgPermissions.has(permission)) {
        byPermission.set(permission, decision);
      }
    }
    return decision;
  }

  #workOut(permission: string, orgRole: string | null, workspaceRole: string | null): Decision {
    if (!this.#workspacePermissions.has(permission)) {
      if (!this.#orgPermissions.has(permission)) {
        return { allowed: false, role: null, reason: `${permission} is not a permission this server knows` };
      }
      // An organisation permission asked in a workspace: decided by the org role, as the server does.
      const { allowed, reason } = this.inOrg(permission, orgRole);
      return { allowed, role: this.effectiveWorkspaceRole(orgRole, workspaceRole), reason };
    }
    if (!orgRole) return { allowed: false, role: null, reason: "not a member of this organisation" };
    const effective = this.effectiveWorkspaceRole(orgRole, workspaceRole);
    if (!effective) return { allowed: false, role: null, reason: "no role in this workspace" };
    const allowed = this.#workspaceRoles.get(effective)?.permissions.has(permission) ?? false;
    const viaOrg = effective !== workspaceRole ? ` (as organisation ${orgRole})` : "";
    const reason = allowed
      ? `${effective}${viaOrg} has ${permission}`
      : `${effective} lacks ${permission}; ${holders(this.#workspaceRoles, permission)}`;
    return { allowed, role: effective, reason };
  }

  /** May someone with this org role use an organisation permission? */
  inOrg(permission: string, orgRole: string | null): Decision {
    if (!this.#orgPermissions.has(permission)) {
      return { allowed: false, role: orgRole, reason: `${permission} is not a permission this server knows` };
    }
    if (!orgRole) return { allowed: false, role: null, reason: "not a member of this organisation" };
    const allowed = this.#orgRoles.get(orgRole)?.permissions.has(permission) ?? false;
    const reason = allowed
      ? `organisation ${orgRole} has ${permission}`
      : `organisation ${orgRole} lacks ${permission}; ${holders(this.#orgRoles, permission)}`;
    return { allowed, role: orgRole, reason };
  }
}

/** "editor or admin has it": the roles holding a permission, the least powerful first. */
function holders(roles: Map<string, Role>, permission: string): string {
  const names = [...roles.values()]
    .filter((r) => r.permissions.has(permission))
    .sort((a, b) => a.rank - b.rank)
    .map((r) => r.name);
  if (names.length === 0) return "no role has it";
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
  return `${list} has it`;
}
