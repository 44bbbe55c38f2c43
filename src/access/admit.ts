// The one decision "may this caller use this route here?", from their standing where the path
// points: the guard makes it before the handler runs, and an operation that changes who may do
// what makes it again inside its transaction, under the organisation's lock (rule 9), so that a
// role removed while the request was on its way no longer acts. Both answer alike: 404 where the
// caller may not see the place (rule 3), 403 where they may see it but lack the permission.
import { AppError } from "../core/errors.js";
import { lockOrganization } from "../orgs/queries.js";
import { can, effectiveWorkspaceRole, scopeOf, why } from "./can.js";
import type { Catalogue } from "./catalogue.js";
import { orgStanding, workspaceStanding } from "./queries.js";

/** Where the request acts and as what: set by the guard for routes with `:org` or `:ws`. */
export interface Access {
  orgId: string;
  /** The caller's org role; '' for a reader, who holds none. */
  orgRole: string;
  workspaceId: string | null;
  /** Granted directly in the workspace of the path. */
  workspaceRole: string | null;
  /** What the caller acts as there: the higher of the direct role and what the org role gives. */
  effectiveRole: string | null;
  /**
   * The installation's service key on one of the routes that admit it (`serviceKeyReads`): it
   * reads the place, holds no role in it and may change nothing there.
   */
  reader?: true;
}

/** The place a path names: an organisation, or a workspace. */
export type Where = { orgId: string } | { workspaceId: string };

/** The caller's roles there; null (or null roles) when they are not in its organisation or it does not exist. */
export interface Found {
  orgId: string | null;
  orgRole: string | null;
  workspaceRole: string | null;
}

/**
 * The caller's access for `permission` at `where`, or the error the request answers.
 * `permission` may also be "workspace.member" (any role in the workspace). `self`: the route lets
 * the caller through on their own id once they are in the place (leaving an organisation).
 */
export function admit(
  catalogue: Catalogue,
  permission: string,
  where: Where,
  found: Found | null,
  self = false,
): Access {
  let access: Access;
  if ("orgId" in where) {
    // Another tenant's organisation answers exactly like one that does not exist (rule 3).
    if (!found?.orgId || !found.orgRole) throw new AppError("organization_not_found");
    access = {
      orgId: found.orgId,
      orgRole: found.orgRole,
      workspaceId: null,
      workspaceRole: null,
      effectiveRole: null,
    };
  } else {
    if (!found?.orgId || !found.orgRole) throw new AppError("workspace_not_found");
    const standing = {
      orgId: found.orgId,
      workspaceId: where.workspaceId,
      orgRole: found.orgRole,
      workspaceRole: found.workspaceRole,
    };
    const effectiveRole = effectiveWorkspaceRole(catalogue, standing);
    // A workspace one cannot enter is not shown to exist, even inside one's organisation — unless
    // the route needs an organisation permission that the caller holds (deleting a workspace):
    // without it, a workspace one has no role in answers exactly like none (rule 3).
    const byOrg = scopeOf(catalogue, permission) === "org" && can(catalogue, permission, standing);
    if (!effectiveRole && !byOrg) throw new AppError("workspace_not_found");
    access = { ...standing, effectiveRole };
  }
  if (permission === "workspace.member" || self) return access;
  const standing = { orgRole: access.orgRole, workspaceRole: access.workspaceRole };
  if (!can(catalogue, permission, standing)) {
    throw new AppError(
      "forbidden",
      `You cannot do this: ${why(catalogue, permission, standing)}.`,
      undefined,
      {
        fields: { permission },
      },
    );
  }
  return access;
}

/**
 * A service key's access to the place a path names: the place must exist (`orgId`: the
 * organisation holding it, or null); the key reads it without a role (DESIGN §7).
 */
export function admitReader(where: Where, orgId: string | null): Access {
  if (!orgId) throw new AppError("orgId" in where ? "organization_not_found" : "workspace_not_found");
  const workspaceId = "workspaceId" in where ? where.workspaceId : null;
  return { orgId, orgRole: "", workspaceId, workspaceRole: null, effectiveRole: null, reader: true };
}

/**
 * admit() again inside a transaction: the organisation's row locked first (`update` for a change
 * to memberships, which every other such change then waits for; `share` for one that only needs
 * them to hold still), then the caller's standing read afresh. Whatever demoted or removed them
 * and committed before this lock was granted is seen; whatever comes after waits for this
 * transaction to end.
 */
export async function admitAgain(
  tx: Parameters<typeof lockOrganization>[0],
  catalogue: Catalogue,
  permission: string,
  place: { orgId: string; workspaceId: string | null },
  userId: string,
  lock: "update" | "share",
): Promise<Access> {
  const where: Where = place.workspaceId ? { workspaceId: place.workspaceId } : { orgId: place.orgId };
  const org = await lockOrganization(tx, place.orgId, lock);
  if (!org) return admit(catalogue, permission, where, null);
  let found: Found | null;
  if (place.workspaceId) {
    const standing = await workspaceStanding(tx, place.workspaceId, userId);
    // The workspace of another organisation than the one locked: as if it did not exist.
    found = standing?.orgId === place.orgId ? standing : null;
  } else {
    const standing = await orgStanding(tx, place.orgId, userId);
    found = standing ? { ...standing, workspaceRole: null } : null;
  }
  return admit(catalogue, permission, where, found);
}
