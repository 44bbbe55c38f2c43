// Reading the data a crash left behind, and judging it. `readWorld` reads the organisation the test
// built (members, workspace roles, invitation uses) and `halfMade` searches the whole database for
// what must never exist at any moment (docs/rules.md#rule-14): each finding is a sentence, so that a
// failure says what was half-made. `checkAfterCrash` holds the data against what the requests of
// the round were answered.
import assert from "node:assert/strict";
import { type RawBuilder, sql } from "kysely";
import type { Db } from "../../../src/db/index.js";
import { type Op, type Person, type Place, place, placeKey, type Result, type World } from "./world.js";

export interface Seen {
  /** The organisation's members by e-mail. */
  places: Map<string, Place>;
  /** Account ids by e-mail, for every person the test knows. */
  userIds: Map<string, string>;
  /** `invitationId userId` of every use. */
  uses: Set<string>;
  invitations: Map<string, { uses: number; maxUses: number; status: string }>;
  /** Half-made things found, in words. */
  halfMade: string[];
}

/** The organisation as the data has it, the accounts of `extra` and of everyone in the ledger, and what is half-made. */
export async function readWorld(db: Db, world: World, extra: Person[]): Promise<Seen> {
  const places = new Map<string, Place>();
  const members = await db
    .selectFrom("org_memberships as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select(["u.email", "m.role"])
    .where("m.org_id", "=", world.orgId)
    .execute();
  for (const m of members) places.set(m.email.toLowerCase(), place(m.role, {}));
  const grants = await db
    .selectFrom("workspace_memberships as w")
    .innerJoin("users as u", "u.id", "w.user_id")
    .select(["u.email", "w.workspace_id", "w.role"])
    .where("w.org_id", "=", world.orgId)
    .execute();
  for (const g of grants) {
    const member = places.get(g.email.toLowerCase());
    // A workspace member who is no org member is half-made; halfMade() names it.
    if (member) member.workspaces[g.workspace_id] = g.role;
  }
  const emails = [...world.ledger.keys(), ...extra.map((p) => p.email)].map((e) => e.toLowerCase());
  const users = await db
    .selectFrom("users")
    .select(["id", "email"])
    .where(sql<string>`lower(email)`, "in", emails)
    .execute();
  const uses = await db
    .selectFrom("invitation_uses")
    .select(["invitation_id", "user_id"])
    .where("org_id", "=", world.orgId)
    .execute();
  const invitations = await db
    .selectFrom("invitations")
    .select(["id", "uses", "max_uses", "status"])
    .where("org_id", "=", world.orgId)
    .execute();
  return {
    places,
    userIds: new Map(users.map((u) => [u.email.toLowerCase(), u.id])),
    uses: new Set(uses.map((u) => `${u.invitation_id} ${u.user_id}`)),
    invitations: new Map(
      invitations.map((i) => [i.id, { uses: i.uses, maxUses: i.max_uses, status: i.status }]),
    ),
    halfMade: await halfMade(db),
  };
}

/**
 * What must never exist, in any organisation, at any moment a crash can leave behind (rule 14),
 * each as a query that finds the offending rows.
 */
async function halfMade(db: Db): Promise<string[]> {
  const checks: [string, RawBuilder<Record<string, unknown>>][] = [
    [
      "an invitation whose uses pass maxUses, or do not match its use rows and accepted events, or its status",
      sql`SELECT i.id, i.uses, i.max_uses, i.status FROM invitations i
          WHERE i.uses > i.max_uses
             OR i.uses <> (SELECT count(*) FROM invitation_uses u
                           WHERE u.org_id = i.org_id AND u.invitation_id = i.id)
             OR i.uses <> (SELECT count(*) FROM audit_events e
                           WHERE e.org_id = i.org_id AND e.action = 'invitation.accepted' AND e.target_id = i.id)
             OR (i.status NOT IN ('cancelled', 'declined', 'expired') AND
                 (i.status IN ('accepted', 'exhausted')) <> (i.uses = i.max_uses))`,
    ],
    [
      "an invitation use without its accepted event by that person",
      sql`SELECT u.invitation_id, u.user_id FROM invitation_uses u
          WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.org_id = u.org_id
                              AND e.action = 'invitation.accepted' AND e.target_id = u.invitation_id
                              AND e.actor_id = u.user_id)`,
    ],
    [
      // Everyone joining in this test is new to the organisation, so each use made a membership.
      "an invitation use without the membership it made (and its event), and no removal since",
      sql`SELECT u.invitation_id, u.user_id FROM invitation_uses u
          WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.org_id = u.org_id
                              AND e.action = 'member.added' AND e.target_id = u.user_id
                              AND e.data->>'invitationId' = u.invitation_id)
             OR (NOT EXISTS (SELECT 1 FROM org_memberships m WHERE m.org_id = u.org_id AND m.user_id = u.user_id)
                 AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.org_id = u.org_id
                                   AND e.action IN ('member.removed', 'member.left') AND e.target_id = u.user_id))`,
    ],
    [
      "an invitation use without the workspace membership event of each workspace it grants",
      sql`SELECT u.invitation_id, u.user_id, g.workspace_id FROM invitation_uses u
          JOIN invitation_workspaces g ON g.org_id = u.org_id AND g.invitation_id = u.invitation_id
          WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.org_id = u.org_id
                              AND e.action = 'workspace_member.added' AND e.target_id = u.user_id
                              AND e.data->>'invitationId' = u.invitation_id
                              AND e.data->>'workspaceId' = g.workspace_id)`,
    ],
    [
      "a membership event of an invitation without its use",
      sql`SELECT e.id, e.action, e.target_id FROM audit_events e
          WHERE e.action IN ('member.added', 'workspace_member.added') AND e.data->>'invitationId' IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM invitation_uses u WHERE u.org_id = e.org_id
                              AND u.invitation_id = e.data->>'invitationId' AND u.user_id = e.target_id)`,
    ],
    [
      // Rule 15's mail is written in the joining transaction: same transaction, same now().
      "a join through an invitation without its notification mail",
      sql`SELECT e.id, e.target_id FROM audit_events e
          WHERE e.action = 'member.added' AND e.data->>'invitationId' IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM mail_outbox m WHERE m.org_id = e.org_id
                              AND m.kind = 'member_joined' AND m.created_at = e.at)`,
    ],
    [
      "a join notification without the join",
      sql`SELECT m.id, m.to_address FROM mail_outbox m
          WHERE m.kind = 'member_joined'
            AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.org_id = m.org_id AND e.at = m.created_at
                              AND e.action IN ('member.added', 'member.role_changed',
                                               'workspace_member.added', 'workspace_member.role_changed'))`,
    ],
    [
      "a workspace member who is not a member of the organisation",
      sql`SELECT w.org_id, w.workspace_id, w.user_id FROM workspace_memberships w
          WHERE NOT EXISTS (SELECT 1 FROM org_memberships m WHERE m.org_id = w.org_id AND m.user_id = w.user_id)`,
    ],
    [
      "an organisation without an owner",
      sql`SELECT o.id FROM organizations o
          WHERE NOT EXISTS (SELECT 1 FROM org_memberships m WHERE m.org_id = o.id AND m.role = 'owner')`,
    ],
    [
      // Sign-up makes the account with its organisation (or its invited membership) in one go.
      "an account without its sign-up event, or belonging nowhere without having been removed",
      sql`SELECT u.id, u.email FROM users u
          WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.action = 'user.signed_up' AND e.target_id = u.id)
             OR (NOT EXISTS (SELECT 1 FROM org_memberships m WHERE m.user_id = u.id)
                 AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.target_id = u.id
                                   AND e.action IN ('member.removed', 'member.left')))`,
    ],
  ];
  const found: string[] = [];
  for (const [what, query] of checks) {
    const { rows } = await query.execute(db);
    for (const row of rows) found.push(`${what}: ${JSON.stringify(row)}`);
  }
  return [...found, ...(await unrecordedChanges(db))];
}

/**
 * Every membership, role and removal has its audit event: replaying the membership events in
 * order must give exactly the memberships there are.
 */
async function unrecordedChanges(db: Db): Promise<string[]> {
  const events = await db
    .selectFrom("audit_events")
    .select(["org_id", "action", "target_id", "data"])
    .where("action", "in", [
      "member.added",
      "member.role_changed",
      "member.removed",
      "member.left",
      "workspace_member.added",
      "workspace_member.role_changed",
      "workspace_member.removed",
    ])
    .orderBy("id")
    .execute();
  const orgRoles = new Map<string, string>();
  const workspaceRoles = new Map<string, string>();
  for (const e of events) {
    const data = (typeof e.data === "string" ? JSON.parse(e.data) : e.data) as Record<string, string>;
    const member = `${e.org_id} ${e.target_id}`;
    const seat = `${e.org_id} ${data.workspaceId} ${e.target_id}`;
    if (e.action === "member.added") orgRoles.set(member, data.role as string);
    else if (e.action === "member.role_changed") orgRoles.set(member, data.to as string);
    else if (e.action === "member.removed" || e.action === "member.left") {
      orgRoles.delete(member);
      // Leaving the organisation leaves its workspaces (the foreign key cascades).
      for (const key of [...workspaceRoles.keys()]) {
        const [org, , user] = key.split(" ");
        if (org === e.org_id && user === e.target_id) workspaceRoles.delete(key);
      }
    } else if (e.action === "workspace_member.added") workspaceRoles.set(seat, data.role as string);
    else if (e.action === "workspace_member.role_changed") workspaceRoles.set(seat, data.to as string);
    else workspaceRoles.delete(seat);
  }
  const found: string[] = [];
  const compare = (kind: string, recorded: Map<string, string>, actual: Map<string, string>) => {
    for (const key of new Set([...recorded.keys(), ...actual.keys()])) {
      if (recorded.get(key) !== actual.get(key)) {
        found.push(
          `${kind} ${key} is ${actual.get(key) ?? "absent"}, its events say ${recorded.get(key) ?? "absent"}`,
        );
      }
    }
  };
  const orgRows = await db.selectFrom("org_memberships").select(["org_id", "user_id", "role"]).execute();
  const wsRows = await db
    .selectFrom("workspace_memberships")
    .select(["org_id", "workspace_id", "user_id", "role"])
    .execute();
  compare("org membership", orgRoles, new Map(orgRows.map((r) => [`${r.org_id} ${r.user_id}`, r.role])));
  compare(
    "workspace membership",
    workspaceRoles,
    new Map(wsRows.map((r) => [`${r.org_id} ${r.workspace_id} ${r.user_id}`, r.role])),
  );
  return found;
}

/**
 * Answered changes are there, refused ones are not, interrupted ones happened whole or not at
 * all, and nobody else moved. Answers, for each request, whether its change is in the data.
 */
export function checkAfterCrash(world: World, ops: Op[], results: Result[], seen: Seen): boolean[] {
  assert.deepEqual(seen.halfMade, [], "nothing half-made");
  const targets = new Set(ops.map((op) => op.person.email));
  for (const [email, entry] of world.ledger) {
    if (targets.has(email)) continue;
    assert.equal(placeKey(seen.places.get(email)), placeKey(entry.place), `${email} is untouched`);
  }
  for (const email of seen.places.keys()) {
    assert.ok(world.ledger.has(email) || targets.has(email), `${email} is a member nobody made`);
  }
  return ops.map((op, i) => {
    const what = `${op.kind} for ${op.person.email} (${results[i]})`;
    const actual = placeKey(seen.places.get(op.person.email));
    const userId = seen.userIds.get(op.person.email);
    const committed = actual === placeKey(op.after);
    if (results[i] === "done") assert.equal(actual, placeKey(op.after), what);
    else if (results[i] === "refused") assert.equal(actual, placeKey(op.before), what);
    else assert.ok(committed || actual === placeKey(op.before), `${what}: half there: ${actual}`);
    if (op.invitation) {
      // The use is counted exactly when the membership exists (and, for a sign-up, the account).
      const used = userId !== undefined && seen.uses.has(`${op.invitation.id} ${userId}`);
      assert.equal(used, committed, `${what}: the use`);
      if (op.kind === "signup") assert.equal(userId !== undefined, committed, `${what}: the account`);
    }
    return committed;
  });
}
