// can(): the one answer to "may this person do this here?", and why(): the same answer in words.
// A person's standing in a place is their org role and, in a workspace, their direct workspace
// role; org owners and admins act as workspace admins everywhere in their organisation, and the
// effective workspace role is the higher of the two.
import type { Catalogue, RoleDef } from "./catalogue.js";

export interface Standing {
  /** The org role, or null for someone outside the organisation. */
  orgRole: string | null;
  /** The workspace role granted directly, when the question is about a workspace. */
  workspaceRole?: string | null;
}

export type Scope = "org" | "workspace";

export function scopeOf(catalogue: Catalogue, permission: string): Scope | null {
  if (catalogue.orgPermissions.has(permission)) return "org";
  if (catalogue.workspacePermissions.has(permission)) return "workspace";
  return null;
}

export function orgRole(catalogue: Catalogue, name: string | null | undefined): RoleDef | undefined {
  return name ? catalogue.orgRoles.find((r) => r.name === name) : undefined;
}

export function workspaceRole(catalogue: Catalogue, name: string | null | undefined): RoleDef | undefined {
  return name ? catalogue.workspaceRoles.find((r) => r.name === name) : undefined;
}

/** The workspace role someone acts with: the higher of what their org role gives and what was granted. */
export function effectiveWorkspaceRole(catalogue: Catalogue, standing: Standing): string | null {
  if (!standing.orgRole) return null;
  const acted = workspaceRole(catalogue, catalogue.orgRoleActsAs[standing.orgRole] ?? null);
  const direct = workspaceRole(catalogue, standing.workspaceRole ?? null);
  const best = [acted, direct].filter((r): r is RoleDef => !!r).sort((a, b) => b.rank - a.rank)[0];
  return best?.name ?? null;
}

/** Every permission the standing holds in that scope, sorted. */
export function permissionsOf(catalogue: Catalogue, standing: Standing, scope: Scope): string[] {
  const role =
    scope === "org"
      ? orgRole(catalogue, standing.orgRole)
      : workspaceRole(catalogue, effectiveWorkspaceRole(catalogue, standing));
  return role ? [...role.permissions].sort() : [];
}

export function can(catalogue: Catalogue, permission: string, standing: Standing): boolean {
  const scope = scopeOf(catalogue, permission);
  if (!scope) return false;
  return permissionsOf(catalogue, standing, scope).includes(permission);
}

/** "an admin", "a member". */
function article(role: string): string {
  return `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;
}

/** "editor or admin has it": the roles holding a permission, the least powerful first. */
function holders(roles: readonly RoleDef[], permission: string): string {
  const names = roles
    .filter((r) => r.permissions.has(permission))
    .sort((x, y) => x.rank - y.rank)
    .map((r) => r.name);
  if (names.length === 0) return "no role has it";
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
  return `${list} has it`;
}

/** Why can() answers as it does, in a sentence for a person ("agent lacks flows.write; editor or admin has it"). */
export function why(catalogue: Catalogue, permission: string, standing: Standing): string {
  const scope = scopeOf(catalogue, permission);
  if (!scope) return `${permission} is not a permission this server knows`;
  if (!standing.orgRole) return "not a member of this organisation";
  if (scope === "org") {
    const role = standing.orgRole;
    return can(catalogue, permission, standing)
      ? `organisation ${role} has ${permission}`
      : `organisation ${role} lacks ${permission}; ${holders(catalogue.orgRoles, permission)}`;
  }
  const effective = effectiveWorkspaceRole(catalogue, standing);
  if (!effective) return "no role in this workspace";
  const viaOrg = effective !== standing.workspaceRole ? ` (as organisation ${standing.orgRole})` : "";
  return can(catalogue, permission, standing)
    ? `${effective}${viaOrg} has ${permission}`
    : `${effective} lacks ${permission}; ${holders(catalogue.workspaceRoles, permission)}`;
}

/**
 * Rule 1 for org roles: only owners grant or revoke owner; otherwise one needs org.users and may
 * neither grant a role above their own nor change someone ranked above them. `to` null = removal.
 * Answers why not, or null when allowed.
 */
export function orgGrantRefusal(
  catalogue: Catalogue,
  actorRole: string | null,
  from: string | null,
  to: string | null,
): string | null {
  const actor = orgRole(catalogue, actorRole);
  if (!actor) return "not a member of this organisation";
  const touchesOwner = from === "owner" || to === "owner";
  if (touchesOwner && !actor.permissions.has("org.owners")) return "only owners grant or revoke owner";
  if (!actor.permissions.has("org.users")) return `organisation ${actor.name} lacks org.users`;
  const target = orgRole(catalogue, to);
  if (to !== null && !target) return `there is no organisation role "${to}"`;
  if (target && target.rank > actor.rank) return `${article(actor.name)} cannot grant ${target.name}`;
  const current = orgRole(catalogue, from);
  if (current && current.rank > actor.rank)
    return `${article(actor.name)} cannot change ${article(current.name)}`;
  return null;
}

/**
 * Rule 1 for workspace roles: one needs workspace.users in that workspace and grants nothing
 * above their own effective role there. `to` null = removal.
 */
export function workspaceGrantRefusal(
  catalogue: Catalogue,
  actor: Standing,
  from: string | null,
  to: string | null,
): string | null {
  if (!can(catalogue, "workspace.users", actor)) return why(catalogue, "workspace.users", actor);
  const mine = workspaceRole(catalogue, effectiveWorkspaceRole(catalogue, actor));
  const target = workspaceRole(catalogue, to);
  if (to !== null && !target) return `there is no workspace role "${to}"`;
  if (mine && target && target.rank > mine.rank)
    return `a workspace ${mine.name} cannot grant ${target.name}`;
  const current = workspaceRole(catalogue, from);
  if (mine && current && current.rank > mine.rank)
    return `a workspace ${mine.name} cannot change ${article(current.name)}`;
  return null;
}
