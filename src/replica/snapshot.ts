// The replica's starting point (docs/replica.md): every membership and role of the installation
// (or of the organisations named), the catalogue that gives roles their permissions, and the
// position in the installation's event feed from which the changes since then are read — all
// from one moment, in one REPEATABLE READ transaction.
//
// The cursor is the feed's settled end in that same snapshot (events/feed.ts): every event below
// it belongs to a change the snapshot holds. Some changes the snapshot holds may have events
// above it (committed after a transaction that was still running); a reader applies events as
// the state they set, per membership, so reading those again changes nothing.
import type { Catalogue } from "../access/catalogue.js";
import type { Db } from "../db/index.js";
import { readAtOneMoment } from "../db/transaction.js";
import { encodeCursor, feedEnd } from "../events/feed.js";
import { EVENT_TYPES, publicType } from "../events/public.js";
import { FENCING_ACTIONS } from "./leases.js";

export interface Snapshot {
  cursor: string;
  catalogue: PublicCatalogue;
  /** Every event type the stream carries today (a client listens by name). */
  eventTypes: string[];
  fencingTypes: string[];
  organizations: string[];
  /** [workspaceId, orgId] */
  workspaces: [string, string][];
  /** [orgId, userId, role] */
  orgMembers: [string, string, string][];
  /** [workspaceId, userId, role] */
  workspaceMembers: [string, string, string][];
}

export interface PublicRole {
  name: string;
  rank: number;
  description: string;
  permissions: string[];
}

/** The catalogue as a client reads it: roles with their permissions, and what org roles act as. */
export interface PublicCatalogue {
  orgRoles: PublicRole[];
  workspaceRoles: PublicRole[];
  orgRoleActsAs: Record<string, string | null>;
  orgPermissions: Record<string, string>;
  workspacePermissions: Record<string, string>;
}

export function publicCatalogue(catalogue: Catalogue): PublicCatalogue {
  const role = (r: Catalogue["workspaceRoles"][number]): PublicRole => ({
    name: r.name,
    rank: r.rank,
    description: r.description,
    permissions: [...r.permissions].sort(),
  });
  return {
    orgRoles: catalogue.orgRoles.map(role),
    workspaceRoles: catalogue.workspaceRoles.map(role),
    orgRoleActsAs: { ...catalogue.orgRoleActsAs },
    orgPermissions: Object.fromEntries(catalogue.orgPermissions),
    workspacePermissions: Object.fromEntries(catalogue.workspacePermissions),
  };
}

/** Everything, or only the organisations `orgIds` names (ids that name none are left out). */
export async function readSnapshot(
  db: Db,
  catalogue: Catalogue,
  orgIds: readonly string[] | null,
): Promise<Snapshot> {
  return readAtOneMoment(db, async (tx) => {
    const cursor = encodeCursor(await feedEnd(tx, { orgId: null, types: [] }));
    let orgs = tx.selectFrom("organizations").select("id");
    let workspaces = tx.selectFrom("workspaces").select(["id", "org_id"]);
    let orgMembers = tx.selectFrom("org_memberships").select(["org_id", "user_id", "role"]);
    let workspaceMembers = tx.selectFrom("workspace_memberships").select(["workspace_id", "user_id", "role"]);
    if (orgIds !== null) {
      const ids = orgIds.length > 0 ? [...orgIds] : [""];
      orgs = orgs.where("id", "in", ids);
      workspaces = workspaces.where("org_id", "in", ids);
      orgMembers = orgMembers.where("org_id", "in", ids);
      workspaceMembers = workspaceMembers.where("org_id", "in", ids);
    }
    const [o, w, om, wm] = [
      await orgs.orderBy("id").execute(),
      await workspaces.orderBy("id").execute(),
      await orgMembers.orderBy("org_id").orderBy("user_id").execute(),
      await workspaceMembers.orderBy("workspace_id").orderBy("user_id").execute(),
    ];
    return {
      cursor,
      catalogue: publicCatalogue(catalogue),
      eventTypes: [...EVENT_TYPES],
      fencingTypes: [...FENCING_ACTIONS].map((action) => publicType(action, {})),
      organizations: o.map((r) => r.id),
      workspaces: w.map((r) => [r.id, r.org_id]),
      orgMembers: om.map((r) => [r.org_id, r.user_id, r.role]),
      workspaceMembers: wm.map((r) => [r.workspace_id, r.user_id, r.role]),
    };
  });
}
