// The memberships and roles of the installation, kept in memory: loaded from a snapshot, then
// changed by the installation's events (docs/replica.md in the Rollcall repository).
//
// Each event is applied as the state it sets, and only if it is newer than what already decided
// that membership: the feed delivers events in commit-safe order across transactions, but two
// changes of one membership are told apart by their sequence number (assigned under the
// organisation's lock, so in the order they committed). A removal is remembered by its number,
// so that an older grant read after it is not brought back; an event the snapshot already holds
// changes nothing.

/** An event of the installation stream, with its place in the feed. */
export interface StreamEvent {
  id: string;
  type: string;
  at: string;
  orgId: string | null;
  actor: { type: string; id: string | null; name: string | null };
  data: Record<string, unknown>;
}

export interface SnapshotData {
  cursor: string;
  organizations: string[];
  workspaces: [string, string][];
  orgMembers: [string, string, string][];
  workspaceMembers: [string, string, string][];
}

/** The sequence number in a feed cursor ("xid.seq"). */
export function sequenceOf(cursor: string): number {
  const seq = Number(cursor.slice(cursor.indexOf(".") + 1));
  if (!Number.isSafeInteger(seq)) throw new Error(`not a feed cursor: ${cursor}`);
  return seq;
}

export class Replica {
  readonly #organizations = new Set<string>();
  /** workspace → its organisation */
  readonly #workspaceOrg = new Map<string, string>();
  /** org → user → role (nested, so that a lookup builds no key) */
  readonly #orgMembers = new Map<string, Map<string, string>>();
  /** workspace → user → role */
  readonly #workspaceMembers = new Map<string, Map<string, string>>();
  /** org → user → the workspaces of that organisation where the person holds a role */
  readonly #workspacesOf = new Map<string, Map<string, Set<string>>>();
  /** user → the organisations where that person holds a role */
  readonly #orgsOfUser = new Map<string, Set<string>>();
  #orgMemberCount = 0;
  #workspaceMemberCount = 0;
  /** The sequence of the last event that set or removed each membership key. */
  readonly #decided = new Map<string, number>();
  /** The sequence of the last removal of a membership, workspace or organisation. */
  readonly #removed = new Map<string, number>();

  constructor(snapshot: SnapshotData) {
    for (const id of snapshot.organizations) this.#organizations.add(id);
    for (const [ws, org] of snapshot.workspaces) this.#workspaceOrg.set(ws, org);
    for (const [org, user, role] of snapshot.orgMembers) this.#setOrgRole(org, user, role);
    for (const [ws, user, role] of snapshot.workspaceMembers) this.#setWorkspaceRole(ws, user, role);
  }

  get size(): { organizations: number; orgMembers: number; workspaceMembers: number } {
    return {
      organizations: this.#organizations.size,
      orgMembers: this.#orgMemberCount,
      workspaceMembers: this.#workspaceMemberCount,
    };
  }

  orgRole(orgId: string, userId: string): string | null {
    return this.#orgMembers.get(orgId)?.get(userId) ?? null;
  }

  /** The organisations where a person holds a role, with the role. */
  organizationsOf(userId: string): { id: string; role: string }[] {
    const orgs = [...(this.#orgsOfUser.get(userId) ?? [])];
    return orgs.map((id) => ({ id, role: this.orgRole(id, userId) ?? "" }));
  }

  workspaceOrg(workspaceId: string): string | null {
    return this.#workspaceOrg.get(workspaceId) ?? null;
  }

  workspaceRole(workspaceId: string, userId: string): string | null {
    return this.#workspaceMembers.get(workspaceId)?.get(userId) ?? null;
  }

  /** Counts the events applied: what was read from the replica before is current while it holds. */
  version = 0;

  /** Applies an event of the stream; `seq` is its cursor's sequence number. */
  apply(event: StreamEvent, seq: number): void {
    this.version++;
    const org = event.orgId;
    if (org === null) return;
    const data = event.data as { userId?: string; workspaceId?: string; toRole?: string | null };
    switch (event.type) {
      case "organization.created":
        if (this.#newer(`org ${org}`, seq)) this.#organizations.add(org);
        break;
      case "organization.deleted":
        this.#removeOrganization(org, seq);
        break;
      case "workspace.created":
        if (data.workspaceId && this.#newer(`ws ${data.workspaceId}`, seq)) {
          this.#workspaceOrg.set(data.workspaceId, org);
        }
        break;
      case "workspace.deleted":
        if (data.workspaceId) this.#removeWorkspace(data.workspaceId, seq);
        break;
      case "member.added":
      case "member.role_changed":
        if (data.userId && data.toRole && this.#newer(`om ${org} ${data.userId}`, seq, `org ${org}`)) {
          this.#setOrgRole(org, data.userId, data.toRole);
        }
        break;
      case "member.removed":
      case "member.left":
        if (data.userId) this.#removeMember(org, data.userId, seq);
        break;
      case "workspace_member.added":
      case "workspace_member.role_changed": {
        const { userId, workspaceId, toRole } = data;
        if (!userId || !workspaceId || !toRole) break;
        const blockers = [`ws ${workspaceId}`, `om ${org} ${userId}`, `org ${org}`];
        if (this.#newer(`wm ${workspaceId} ${userId}`, seq, ...blockers)) {
          this.#setWorkspaceRole(workspaceId, userId, toRole);
        }
        break;
      }
      case "workspace_member.removed":
        if (data.userId && data.workspaceId && this.#newer(`wm ${data.workspaceId} ${data.userId}`, seq)) {
          this.#removed.set(`wm ${data.workspaceId} ${data.userId}`, seq);
          this.#dropWorkspaceRole(data.workspaceId, data.userId);
        }
        break;
    }
  }

  /**
   * Whether an event numbered `seq` is newer than what last decided `key`, and than the last
   * removal of what holds it (`within`); if so, it now decides `key`.
   */
  #newer(key: string, seq: number, ...within: string[]): boolean {
    if (seq <= (this.#decided.get(key) ?? 0) || seq <= (this.#removed.get(key) ?? 0)) return false;
    for (const holder of within) if (seq <= (this.#removed.get(holder) ?? 0)) return false;
    this.#decided.set(key, seq);
    return true;
  }

  #setOrgRole(org: string, user: string, role: string): void {
    const roles = made(this.#orgMembers, org, () => new Map());
    if (!roles.has(user)) this.#orgMemberCount++;
    roles.set(user, role);
    made(this.#orgsOfUser, user, () => new Set()).add(org);
  }

  #setWorkspaceRole(ws: string, user: string, role: string): void {
    const roles = made(this.#workspaceMembers, ws, () => new Map());
    if (!roles.has(user)) this.#workspaceMemberCount++;
    roles.set(user, role);
    const org = this.#workspaceOrg.get(ws);
    if (org !== undefined)
      made(
        made(this.#workspacesOf, org, () => new Map()),
        user,
        () => new Set(),
      ).add(ws);
  }

  #dropWorkspaceRole(ws: string, user: string): void {
    if (this.#workspaceMembers.get(ws)?.delete(user)) this.#workspaceMemberCount--;
    const org = this.#workspaceOrg.get(ws);
    if (org !== undefined) this.#workspacesOf.get(org)?.get(user)?.delete(ws);
  }

  /** A person leaves or is removed: their org role and every workspace role there go. */
  #removeMember(org: string, user: string, seq: number): void {
    const key = `om ${org} ${user}`;
    if (!this.#newer(key, seq)) return;
    this.#removed.set(key, seq);
    if (this.#orgMembers.get(org)?.delete(user)) this.#orgMemberCount--;
    this.#orgsOfUser.get(user)?.delete(org);
    for (const ws of [...(this.#workspacesOf.get(org)?.get(user) ?? [])]) {
      if (this.#newer(`wm ${ws} ${user}`, seq)) this.#dropWorkspaceRole(ws, user);
    }
  }

  #removeWorkspace(ws: string, seq: number): void {
    if (!this.#newer(`ws ${ws}`, seq)) return;
    this.#removed.set(`ws ${ws}`, seq);
    for (const user of [...(this.#workspaceMembers.get(ws)?.keys() ?? [])]) this.#dropWorkspaceRole(ws, user);
    this.#workspaceMembers.delete(ws);
    this.#workspaceOrg.delete(ws);
  }

  #removeOrganization(org: string, seq: number): void {
    if (!this.#newer(`org ${org}`, seq)) return;
    this.#removed.set(`org ${org}`, seq);
    this.#organizations.delete(org);
    for (const [ws, holder] of [...this.#workspaceOrg]) if (holder === org) this.#removeWorkspace(ws, seq);
    const roles = this.#orgMembers.get(org);
    for (const user of roles?.keys() ?? []) this.#orgsOfUser.get(user)?.delete(org);
    this.#orgMemberCount -= roles?.size ?? 0;
    this.#orgMembers.delete(org);
    this.#workspacesOf.delete(org);
  }
}

/** The entry under `key`, made when there is none. */
function made<V>(index: Map<string, V>, key: string, make: () => V): V {
  const found = index.get(key);
  if (found !== undefined) return found;
  const fresh = make();
  index.set(key, fresh);
  return fresh;
}
