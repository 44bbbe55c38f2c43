// The snapshot of GET /api/v1/replica/snapshot as maps, and the feed's events applied to it as the
// state each sets (docs/replica.md): what a replica does, written plainly for the tests to compare
// a snapshot plus the events after its cursor with a later snapshot.
import assert from "node:assert/strict";
import type { Db } from "../../src/db/index.js";
import { decodeCursor, readFeed } from "../../src/events/feed.js";
import type { PublicEvent } from "../../src/events/public.js";
import type { TestApp } from "./app.js";

export interface Memberships {
  organizations: Set<string>;
  /** workspace → org */
  workspaces: Map<string, string>;
  /** "org user" → role */
  orgMembers: Map<string, string>;
  /** "workspace user" → role */
  workspaceMembers: Map<string, string>;
}

export function memberships(snapshot: {
  organizations: string[];
  workspaces: [string, string][];
  orgMembers: [string, string, string][];
  workspaceMembers: [string, string, string][];
}): Memberships {
  return {
    organizations: new Set(snapshot.organizations),
    workspaces: new Map(snapshot.workspaces),
    orgMembers: new Map(snapshot.orgMembers.map(([o, u, r]) => [`${o} ${u}`, r])),
    workspaceMembers: new Map(snapshot.workspaceMembers.map(([w, u, r]) => [`${w} ${u}`, r])),
  };
}

/** Applies one event as the state it sets; an event repeated changes nothing. */
export function apply(m: Memberships, e: PublicEvent): void {
  const d = e.data as { userId?: string; workspaceId?: string; toRole?: string | null };
  const org = e.orgId ?? "";
  const dropWorkspaceMembers = (keep: (ws: string, user: string) => boolean) => {
    for (const key of [...m.workspaceMembers.keys()]) {
      const [ws, user] = key.split(" ") as [string, string];
      if (!keep(ws, user)) m.workspaceMembers.delete(key);
    }
  };
  switch (e.type) {
    case "organization.created":
      m.organizations.add(org);
      break;
    case "organization.deleted":
      m.organizations.delete(org);
      for (const key of [...m.orgMembers.keys()]) if (key.startsWith(`${org} `)) m.orgMembers.delete(key);
      dropWorkspaceMembers((ws) => m.workspaces.get(ws) !== org);
      for (const [ws, o] of [...m.workspaces]) if (o === org) m.workspaces.delete(ws);
      break;
    case "workspace.created":
      m.workspaces.set(String(d.workspaceId), org);
      break;
    case "workspace.deleted":
      dropWorkspaceMembers((ws) => ws !== d.workspaceId);
      m.workspaces.delete(String(d.workspaceId));
      break;
    case "member.added":
    case "member.role_changed":
      m.orgMembers.set(`${org} ${d.userId}`, String(d.toRole));
      break;
    case "member.removed":
    case "member.left":
      m.orgMembers.delete(`${org} ${d.userId}`);
      dropWorkspaceMembers((ws, user) => user !== d.userId || m.workspaces.get(ws) !== org);
      break;
    case "workspace_member.added":
    case "workspace_member.role_changed":
      m.workspaceMembers.set(`${d.workspaceId} ${d.userId}`, String(d.toRole));
      break;
    case "workspace_member.removed":
      m.workspaceMembers.delete(`${d.workspaceId} ${d.userId}`);
      break;
  }
}

/** Every event of the installation after `cursor`, oldest first. */
export async function eventsAfter(db: Db, cursor: string): Promise<PublicEvent[]> {
  const events: PublicEvent[] = [];
  let after = decodeCursor(cursor);
  for (;;) {
    const { items, next } = await readFeed(db, { orgId: null, types: [] }, after, 500, 30);
    events.push(...items);
    if (items.length < 500 || !next) return events;
    after = next;
  }
}

/** The two states hold the same memberships (as sorted lists, for a readable difference). */
export function assertSameMemberships(actual: Memberships, expected: Memberships, message?: string): void {
  const plain = (m: Memberships) => ({
    organizations: [...m.organizations].sort(),
    workspaces: [...m.workspaces].sort(),
    orgMembers: [...m.orgMembers].sort(),
    workspaceMembers: [...m.workspaceMembers].sort(),
  });
  assert.deepEqual(plain(actual), plain(expected), message);
}

/** GET /api/v1/replica/snapshot with a service key's token (`query`: e.g. "?orgs=…"). */
export async function fetchSnapshot(t: Pick<TestApp, "request">, token: string, query = "") {
  const res = await t.request("GET", `/api/v1/replica/snapshot${query}`, { token });
  assert.equal(res.status, 200, res.text);
  return res.json;
}
