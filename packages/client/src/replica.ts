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
  /** "org user" → role */
  readonly #orgMembers = new Map<string, string>();
  /** "workspace user" → role */
  readonly #workspaceMembers = new Map<string, string>();
  /** "org user" → the workspaces where that person holds a role */
  readonly #workspacesOf = new Map<string, Set<string>>();
  /** workspace → the people holding a role there; org → its members */
  readonly #usersOfWorkspace = new Map<string, Set<string>>();
  readonly #usersOfOrg = new Map<string, Set<string>>();
  /** user → the organisations where that person holds a role */
  readonly #orgsOfUser = new Map<string, Set<string>>();
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
      orgMembers: this.#orgMembers.size,
      workspaceMembers: this.#workspaceMembers.size,
    };
  }

  orgRole(orgId: string, userId: string): string | null {
    return this.#orgMembers.get(`${orgId} ${userId}`) ?? null;
  }

  /** The organisations where a person holds a role, with the role. */
  organizationsOf(userId: string): { id: string; role: string }[] {
    const orgs = [...(this.#orgsOfUser.get(userId) ?? [])];
    return orgs.map((id) => ({ id, role: this.#orgMembers.get(`${id} ${userId}`) ?? "" }));
  }

  workspaceOrg(workspaceId: string): string | null {
    return this.#workspaceOrg.get(workspaceId) ?? null;
  }

  workspaceRole(workspaceId: string, userId: string): string | null {
    return this.#workspaceMembers.get(`${workspaceId} ${userId}`) ?? null;
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
    this.#orgMembers.set(`${org} ${user}`, role);
    members(this.#usersOfOrg, org).add(user);
    members(this.#orgsOfUser, user).add(org);
  }

  #setWorkspaceRole(ws: string, user: string, role: string): void {
    this.#workspaceMembers.set(`${ws} ${user}`, role);
    members(this.#usersOfWorkspace, ws).add(user);
    const org = this.#workspaceOrg.get(ws);
    if (org !== undefined) members(this.#workspacesOf, `${org} ${user}`).add(ws);
  }

  #dropWorkspaceRole(ws: string, user: string): void {
    this.#workspaceMembers.delete(`${ws} ${user}`);
    this.#usersOfWorkspace.get(ws)?.delete(user);
    const org = this.#workspaceOrg.get(ws);
    if (org !== undefined) this.#workspacesOf.get(`${org} ${user}`)?.delete(ws);
  }

  /** A person leaves or is removed: their org role and every workspace role there go. */
  #removeMember(org: string, user: string, seq: number): void {
    const key = `om ${org} ${user}`;
    if (!this.#newer(key, seq)) return;
    this.#removed.set(key, seq);
    this.#orgMembers.delete(`${org} ${user}`);
    this.#usersOfOrg.get(org)?.delete(user);
    this.#orgsOfUser.get(user)?.delete(org);
    for (const ws of [...(this.#workspacesOf.get(`${org} ${user}`) ?? [])]) {
      if (this.#newer(`wm ${ws} ${user}`, seq)) this.#dropWorkspaceRole(ws, user);
    }
  }

  #removeWorkspace(ws: string, seq: number): void {
    if (!this.#newer(`ws ${ws}`, seq)) return;
    this.#removed.set(`ws ${ws}`, seq);
    for (const user of [...(this.#usersOfWorkspace.get(ws) ?? [])]) this.#dropWorkspaceRole(ws, user);
    this.#usersOfWorkspace.delete(ws);
    this.#workspaceOrg.delete(ws);
  }

  #removeOrganization(org: string, seq: number): void {
    if (!this.#newer(`org ${org}`, seq)) return;
    this.#removed.set(`org ${org}`, seq);
    this.#organizations.delete(org);
    for (const [ws, holder] of [...this.#workspaceOrg]) if (holder === org) this.#removeWorkspace(ws, seq);
    for (const user of this.#usersOfOrg.get(org) ?? []) {
      this.#orgMembers.delete(`${org} ${user}`);
      this.#orgsOfUser.get(user)?.delete(org);
      this.#workspacesOf.delete(`${org} ${user}`);
    }
    this.#usersOfOrg.delete(org);
  }
}

/** The set under `key`, made when there is none. */
function members(index: Map<string, Set<string>>, key: string): Set<string> {
  const found = index.get(key);
  if (found) return found;
  const made = new Set<string>();
  index.set(key, made);
  return made;
}
