// The world of one run, and choosing from it. `buildSuite` makes the standing people every run
// shares (P0…P6); `buildWorld` gives each run fresh organisations A and B — B there to tempt
// cross-tenant mistakes — seats those people in them as the generated layout says, and makes a few
// invitations so that short sequences reach accepts too. The world keeps what a client could know:
// the people, every workspace made (deleted ones too), every invitation with the tokens learnt
// for it, from the answer of a link or from the mail of an e-mail invitation, as its invitee would.
// `someone` and `someWorkspace` read a descriptor's numbers against the live world.
import assert from "node:assert/strict";
import { buildUser, linkIn, PUBLIC_URL, type TestApp, uniqueEmail } from "../../helpers/app.js";
import { type Snapshot, snapshot } from "./checks.js";
import { POOL_SIZE, type Seat, type Target } from "./ops.js";
import { type OrgRole, orgRoleOf, type WsRole } from "./oracle.js";

export interface Person {
  label: string;
  userId: string;
  email: string;
  name: string;
  token: string;
}

export interface KnownInvitation {
  id: string;
  orgId: string;
  email: string | null;
  /** Every token it has had that we know, oldest first: the last one is live. */
  tokens: string[];
  /** Message-IDs of its mails not yet read for their token, oldest first. */
  unread: string[];
}

export interface World {
  /** What every run shares. */
  suite: Suite;
  orgs: [string, string];
  people: Person[];
  /** Every workspace made in the run, deleted ones included (their ids must answer 404). */
  workspaces: { id: string; orgId: string }[];
  invitations: KnownInvitation[];
  log: string[];
  /** The world after the latest step, for choosing actors. */
  now: Snapshot;
}

/** What every run shares: the app, the standing people (P0…P6), and the counts the test reports. */
export interface Suite {
  t: TestApp;
  pool: Person[];
  stats: Stats;
}

/** Runs and steps done over all runs, for the test's diagnostic and its "not vacuous" check. */
export interface Stats {
  runs: number;
  steps: number;
  refused: number;
  /** Per operation, how many steps succeeded and how many were refused. */
  tally: Map<string, { ok: number; refused: number }>;
}

export const pick = <T>(list: readonly T[], i: number): T | undefined => list[i % Math.max(1, list.length)];

export const tokenOf = (url: string) => url.slice(`${PUBLIC_URL}/invite/`.length);

export async function buildSuite(t: TestApp): Promise<Suite> {
  const pool: Person[] = [];
  for (let i = 0; i < POOL_SIZE; i++) {
    const u = await buildUser(t, { name: `P${i}` });
    pool.push({ label: `P${i}`, userId: u.userId, email: u.email, name: u.name, token: u.token });
  }
  return { t, pool, stats: { runs: 0, steps: 0, refused: 0, tally: new Map() } };
}

/** Fresh organisations A (owned by P0) and B (owned by P1), seated as `layout` says. */
export async function buildWorld(suite: Suite, layout: Seat[]): Promise<World> {
  const { t, pool } = suite;
  const [p0, p1] = pool;
  assert.ok(p0 && p1);
  const makeOrg = async (owner: Person, name: string) => {
    const res = await t.request("POST", "/api/v1/orgs", { token: owner.token, body: { name } });
    assert.equal(res.status, 201, res.text);
    return res.json.organization.id as string;
  };
  const a = await makeOrg(p0, "Org A");
  const b = await makeOrg(p1, "Org B");
  const second = await t.request("POST", `/api/v1/orgs/${a}/workspaces`, {
    token: p0.token,
    body: { name: "Second" },
  });
  assert.equal(second.status, 201, second.text);
  const rows = await t.db
    .selectFrom("workspaces")
    .select(["id", "org_id"])
    .where("org_id", "in", [a, b])
    .orderBy("id")
    .execute();
  const wsA = rows.filter((w) => w.org_id === a).map((w) => w.id);
  const wsB = rows.filter((w) => w.org_id === b).map((w) => w.id);
  for (const [i, seat] of layout.entries()) {
    const person = pool[i];
    if (!person) continue;
    const seats: [string, OrgRole | null, string[], (WsRole | null)[]][] = [
      [a, i === 0 ? "owner" : seat.a, wsA, seat.wsA],
      [b, i === 1 ? "owner" : seat.b, wsB, [seat.wsB]],
    ];
    for (const [orgId, role, workspaces, wsRoles] of seats) {
      if (!role) continue;
      if (!(i === 0 && orgId === a) && !(i === 1 && orgId === b)) {
        await t.db
          .insertInto("org_memberships")
          .values({ org_id: orgId, user_id: person.userId, role })
          .execute();
      }
      for (const [k, wsId] of workspaces.entries()) {
        const r = wsRoles[k];
        if (!r) continue;
        await t.db
          .insertInto("workspace_memberships")
          .values({ org_id: orgId, workspace_id: wsId, user_id: person.userId, role: r })
          .execute();
      }
    }
  }
  // A few invitations to start with, so that short sequences reach accepts too.
  const invitations: KnownInvitation[] = [];
  const seeds: [Person, string, object][] = [
    [
      p0,
      a,
      { delivery: "link", role: "member", workspaces: [{ workspaceId: wsA[0], role: "editor" }], maxUses: 2 },
    ],
    [p0, a, { delivery: "email", email: uniqueEmail("invitee"), role: "owner" }],
    [p1, b, { delivery: "link", role: "admin", maxUses: 3 }],
  ];
  for (const [by, orgId, body] of seeds) {
    const res = await t.request("POST", `/api/v1/orgs/${orgId}/invitations`, { token: by.token, body });
    assert.equal(res.status, 201, res.text);
    const id: string = res.json.invitation.id;
    invitations.push({
      id,
      orgId,
      email: res.json.invitation.email,
      tokens: res.json.url ? [tokenOf(res.json.url)] : [],
      unread: res.json.url ? [] : [await latestMailOf(t, id)],
    });
  }
  return {
    suite,
    orgs: [a, b],
    people: [...pool],
    workspaces: rows.map((w) => ({ id: w.id, orgId: w.org_id })),
    invitations,
    log: [],
    now: await snapshot(t, [a, b]),
  };
}

/**
 * Reads the mails of an e-mail invitation not yet read, for their tokens. A mail withdrawn before
 * it went out (its invitation was resent, cancelled or lost its inviter's backing while it was
 * queued) never arrives: its token stays unknown, as for the invitee.
 */
export async function readTokens(t: TestApp, inv: KnownInvitation): Promise<void> {
  while (inv.unread.length > 0) {
    const messageId = inv.unread[0];
    const outbox = await t.db
      .selectFrom("mail_outbox")
      .select(["status", "last_error"])
      .where("message_id", "=", messageId as string)
      .executeTakeFirstOrThrow();
    if (outbox.status === "failed" && outbox.last_error?.startsWith("withdrawn:")) {
      inv.unread.shift();
      continue;
    }
    const mail = await t.smtp.waitFor((m) => m.messageId === messageId, 15_000);
    const url = linkIn(mail.text, `${PUBLIC_URL}/invite/`);
    inv.tokens.push(url.slice(`${PUBLIC_URL}/invite/`.length));
    inv.unread.shift();
  }
}

/** The Message-ID of the mail an e-mail invitation last queued. */
export async function latestMailOf(t: TestApp, invitationId: string): Promise<string> {
  const row = await t.db
    .selectFrom("invitations as i")
    .innerJoin("mail_outbox as m", "m.id", "i.mail_id")
    .select("m.message_id")
    .where("i.id", "=", invitationId)
    .executeTakeFirstOrThrow();
  return row.message_id;
}

// ---- choosing from the live world ----------------------------------------------------------

/** The person `target` names: the actor themself, or `someone`. */
export function person(world: World, target: Target, actor: Person, orgId: string): Person {
  return target === "self" ? actor : (someone(world, target, orgId) ?? actor);
}

/**
 * Three times in four a member of the organisation (so that most steps are ones that may
 * succeed), else anyone at all: an outsider, someone of the other organisation, a newcomer.
 */
export function someone(world: World, index: number, orgId: string | undefined): Person | undefined {
  const members = world.people.filter((p) => orgId && orgRoleOf(world.now, orgId, p.userId));
  return index % 4 !== 3 && members.length > 0
    ? pick(members, Math.floor(index / 4))
    : pick(world.people, index);
}

/** Three times in four a live workspace (of `orgId`, if given), else any: deleted, the other tenant's. */
export function someWorkspace(world: World, index: number, orgId: string | undefined) {
  const live = world.workspaces.filter(
    (w) => (!orgId || w.orgId === orgId) && world.now.tables.workspace.has(`${w.orgId} ${w.id}`),
  );
  return index % 4 !== 3 && live.length > 0
    ? pick(live, Math.floor(index / 4))
    : pick(world.workspaces, index);
}

/** The person with this address, if any. */
export function holderOf(world: World, email: string | null): Person | undefined {
  return email ? world.people.find((p) => p.email.toLowerCase() === email.toLowerCase()) : undefined;
}
