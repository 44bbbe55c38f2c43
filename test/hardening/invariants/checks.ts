// What the database holds, read after every step. `snapshot` reads the two organisations of a run
// (memberships, workspaces, invitations with their grants and uses, audit events) and a few counts
// over the whole database, each table as key → value text; `diff` says what a step changed, and
// an empty diff is "nothing changed". `checkInvariants` searches the whole database in SQL for
// what must never exist after any step (rules 2 and 5 of docs/rules.md, tenancy of workspace members and
// grants), each finding a sentence.
import assert from "node:assert/strict";
import { sql } from "kysely";
import type { TestApp } from "../../helpers/app.js";

export interface InvitationState {
  id: string;
  org: string;
  delivery: string;
  email: string | null;
  role: string;
  status: string;
  uses: number;
  maxUses: number;
  invitedBy: string | null;
  tokenHash: string;
  expiresAt: string;
  expired: boolean;
}

export type Table = "org" | "ws" | "workspace" | "invitation" | "grant" | "use" | "audit" | "count";

export interface Snapshot {
  /** Each table as key → value text; what diffs and equality compare. */
  tables: Record<Table, Map<string, string>>;
  invitations: Map<string, InvitationState>;
  grants: Map<string, { ws: string; role: string }[]>;
}

type Row = (string | null)[];

export async function snapshot(t: TestApp, orgs: readonly string[]): Promise<Snapshot> {
  const list = [...orgs];
  const { rows } = await sql<{
    org: Row[];
    ws: Row[];
    workspace: Row[];
    invitation: InvitationState[];
    grant: Row[];
    use: Row[];
    audit: Row[];
    users: number;
    organizations: number;
    audit_count: number;
    mail_count: number;
  }>`
    SELECT
      (SELECT coalesce(json_agg(json_build_array(org_id, user_id, role)), '[]'::json)
         FROM org_memberships WHERE org_id = ANY(${list}::text[])) AS org,
      (SELECT coalesce(json_agg(json_build_array(org_id, workspace_id, user_id, role)), '[]'::json)
         FROM workspace_memberships WHERE org_id = ANY(${list}::text[])) AS ws,
      (SELECT coalesce(json_agg(json_build_array(org_id, id)), '[]'::json)
         FROM workspaces WHERE org_id = ANY(${list}::text[])) AS workspace,
      (SELECT coalesce(json_agg(json_build_object(
           'id', id, 'org', org_id, 'delivery', delivery, 'email', email, 'role', role,
           'status', status, 'uses', uses, 'maxUses', max_uses, 'invitedBy', invited_by,
           'tokenHash', encode(token_hash, 'hex'), 'expiresAt', expires_at::text,
           'expired', expires_at <= now())), '[]'::json)
         FROM invitations WHERE org_id = ANY(${list}::text[])) AS invitation,
      (SELECT coalesce(json_agg(json_build_array(invitation_id, workspace_id, role)), '[]'::json)
         FROM invitation_workspaces WHERE org_id = ANY(${list}::text[])) AS grant,
      (SELECT coalesce(json_agg(json_build_array(invitation_id, user_id)), '[]'::json)
         FROM invitation_uses WHERE org_id = ANY(${list}::text[])) AS use,
      (SELECT coalesce(json_agg(json_build_array(id, org_id, action, target_id)), '[]'::json)
         FROM audit_events WHERE org_id = ANY(${list}::text[])) AS audit,
      (SELECT count(*) FROM users)::int AS users,
      (SELECT count(*) FROM organizations)::int AS organizations,
      (SELECT count(*) FROM audit_events)::int AS audit_count,
      (SELECT count(*) FROM mail_outbox)::int AS mail_count
  `.execute(t.db);
  const r = rows[0];
  assert.ok(r);
  const keyed = (items: Row[], keyLength: number) =>
    new Map(items.map((x) => [x.slice(0, keyLength).join(" "), x.slice(keyLength).join(" ")]));
  const invitations = new Map(r.invitation.map((i) => [i.id, i]));
  const grants = new Map<string, { ws: string; role: string }[]>();
  for (const [inv, ws, role] of r.grant) {
    if (!inv || !ws || !role) continue;
    grants.set(inv, [...(grants.get(inv) ?? []), { ws, role }]);
  }
  return {
    tables: {
      org: keyed(r.org, 2),
      ws: keyed(r.ws, 3),
      workspace: keyed(r.workspace, 2),
      // "expired" is left out: it is the clock's doing, not a step's.
      invitation: new Map(r.invitation.map(({ expired: _, ...i }) => [i.id, JSON.stringify(i)])),
      grant: keyed(r.grant, 2),
      use: keyed(r.use, 2),
      audit: keyed(r.audit, 1),
      count: new Map([
        ["users", String(r.users)],
        ["organizations", String(r.organizations)],
        ["audit events", String(r.audit_count)],
        ["mails", String(r.mail_count)],
      ]),
    },
    invitations,
    grants,
  };
}

export interface Change {
  table: Table;
  key: string;
  before: string | undefined;
  after: string | undefined;
}

export function diff(a: Snapshot, b: Snapshot): Change[] {
  const changes: Change[] = [];
  for (const table of Object.keys(a.tables) as Table[]) {
    const x = a.tables[table];
    const y = b.tables[table];
    for (const key of new Set([...x.keys(), ...y.keys()])) {
      if (x.get(key) !== y.get(key)) changes.push({ table, key, before: x.get(key), after: y.get(key) });
    }
  }
  return changes;
}

/** The SQL invariants, over the whole database. */
export async function checkInvariants(t: TestApp): Promise<string[]> {
  const { rows } = await sql<Record<string, unknown[]>>`
    SELECT
      (SELECT coalesce(json_agg(o.id), '[]'::json) FROM organizations o
        WHERE NOT EXISTS (SELECT 1 FROM org_memberships m WHERE m.org_id = o.id AND m.role = 'owner'))
        AS "organisations without an owner",
      (SELECT coalesce(json_agg(json_build_array(i.id, i.uses, i.max_uses)), '[]'::json) FROM invitations i
        WHERE i.uses > i.max_uses OR i.uses < 0
           OR i.uses <> (SELECT count(*) FROM invitation_uses u
                          WHERE u.org_id = i.org_id AND u.invitation_id = i.id))
        AS "invitations whose uses pass maxUses or disagree with the uses recorded",
      (SELECT coalesce(json_agg(json_build_array(i.id, i.delivery, i.status, i.uses, i.max_uses)), '[]'::json)
         FROM invitations i
        WHERE (i.status IN ('accepted', 'exhausted')) <> (i.uses = i.max_uses AND i.status <> 'cancelled')
           OR (i.status = 'accepted' AND i.delivery <> 'email')
           OR (i.status = 'exhausted' AND i.delivery <> 'link')
           OR (i.delivery = 'email' AND i.max_uses <> 1))
        AS "invitations whose status disagrees with their uses",
      (SELECT coalesce(json_agg(k), '[]'::json) FROM (
          SELECT org_id || ' ' || lower(email) AS k FROM invitations
           WHERE delivery = 'email' AND status = 'pending'
           GROUP BY org_id, lower(email) HAVING count(*) > 1) d)
        AS "addresses with two pending e-mail invitations in one organisation",
      (SELECT coalesce(json_agg(json_build_array(wm.org_id, wm.workspace_id, wm.user_id)), '[]'::json)
         FROM workspace_memberships wm
        WHERE NOT EXISTS (SELECT 1 FROM org_memberships om
                           WHERE om.org_id = wm.org_id AND om.user_id = wm.user_id)
           OR NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.org_id = wm.org_id AND w.id = wm.workspace_id))
        AS "workspace members who are not members of the workspace's organisation",
      (SELECT coalesce(json_agg(json_build_array(g.invitation_id, g.workspace_id)), '[]'::json)
         FROM invitation_workspaces g
        WHERE NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.org_id = g.org_id AND w.id = g.workspace_id)
           OR NOT EXISTS (SELECT 1 FROM invitations i WHERE i.org_id = g.org_id AND i.id = g.invitation_id))
        AS "invitation grants outside their invitation's organisation"
  `.execute(t.db);
  const row = rows[0] ?? {};
  return Object.entries(row)
    .filter(([, found]) => Array.isArray(found) && found.length > 0)
    .map(([what, found]) => `${what}: ${JSON.stringify(found)}`);
}
