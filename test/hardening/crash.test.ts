// Crash safety (issue 7, DESIGN rules 5, 8 and 14): a real `rollcall serve` is killed with SIGKILL
// while invitation accepts, invited sign-ups, role changes and removals are in flight, and is
// restarted on the same data — the embedded data directory on the PGlite pass, a PostgreSQL
// database on the PostgreSQL pass. Each time, the data as the crash left it is read directly
// (PGlite: a copy of the directory taken while the server is dead, so that the restarted server
// still does its own recovery):
//   - every request answered with success is there;
//   - nothing is half-made: the invariants in `halfMade` hold over the whole database;
//   - each interrupted request happened whole or not at all;
//   - every request of the round, sent again to the restarted server as a client that lost its
//     answer would, answers exactly what the contract gives: an interrupted one that had not
//     happened succeeds; one that had happened gives the answer for "already done".
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { type RawBuilder, sql } from "kysely";
import { type Db, openDatabase, openPglite } from "../../src/db/index.js";
import { type Answer, PASSWORD, uniqueEmail } from "../helpers/app.js";
import { TEST_TARGET, type TestDatabase, testDatabase } from "../helpers/database.js";
import { SERVER_PUBLIC_URL, type ServerProcess, startServer } from "../helpers/server.js";
import { type SmtpCapture, startSmtpCapture, urlsIn } from "../helpers/smtp.js";

/** When to pull the plug in each round: after this share of the round's requests has answered. */
const ROUNDS = [0.2, 0.5, 0.35];

// ---- the data the server runs on, and reading it while the server is dead ----------------------

interface Store {
  server: { dataDir?: string; databaseUrl?: string | undefined };
  /** Reads the data as it is now (the server being dead: as the crash left it). */
  inspect<T>(read: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

async function pgliteStore(): Promise<Store> {
  const dir = await mkdtemp(path.join(tmpdir(), "rollcall-crash-"));
  const dataDir = path.join(dir, "data");
  // Start from the run's migrated snapshot when `npm test` made one: cheaper than the server's
  // first start creating and migrating an empty directory. Without it the server does that.
  const snapshot = process.env.PGLITE_SNAPSHOT;
  if (snapshot && existsSync(snapshot)) {
    const lite = await openPglite(dataDir, new Blob([await readFile(snapshot)]));
    await lite.close();
  }
  let copies = 0;
  return {
    server: { dataDir },
    async inspect(read) {
      // A copy, so that the server restarting on the original meets the crash itself.
      copies += 1;
      const copy = path.join(dir, `inspect-${copies}`);
      await cp(dataDir, copy, { recursive: true });
      const database = await openDatabase({ dataDir: copy });
      try {
        return await read(database.db);
      } finally {
        await database.close();
        await rm(copy, { recursive: true, force: true });
      }
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function postgresStore(): Promise<Store> {
  const database: TestDatabase = await testDatabase();
  return {
    server: { databaseUrl: database.url },
    inspect: (read) => read(database.database.db),
    close: () => database.drop(),
  };
}

// ---- the people, the organisation and what the test believes is in it --------------------------

/** A person's place in the organisation: org role and direct workspace roles. null: not a member. */
interface Place {
  role: string;
  workspaces: Record<string, string>;
}

const placeKey = (place: Place | null | undefined): string =>
  place
    ? `${place.role} [${Object.entries(place.workspaces)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([ws, role]) => `${ws}:${role}`)
        .join(" ")}]`
    : "not a member";

interface Person {
  email: string;
  name: string;
  /** Known once they have an account that the test has seen. */
  userId?: string;
  /** A session, for people who accept as existing users and for the owner. */
  token?: string;
}

interface Invitation {
  id: string;
  token: string;
  delivery: "email" | "link";
  maxUses: number;
  /** Uses the test has seen succeed. */
  uses: number;
}

interface World {
  owner: Person & { userId: string; token: string };
  orgId: string;
  general: string;
  support: string;
  /** A link for many, used in every round. */
  bigLink: Invitation;
  invitations: Invitation[];
  /** Everyone who ever was, or tried to be, in the organisation, by e-mail, with their place now. */
  ledger: Map<string, { person: Person; place: Place | null }>;
}

type OpKind = "accept" | "signup" | "role" | "remove";

interface Op {
  kind: OpKind;
  person: Person;
  invitation?: Invitation;
  /** A link with fewer uses than people racing for it: losing (410 invitation_used) is an answer too. */
  contended?: boolean;
  before: Place | null;
  after: Place | null;
  send(server: ServerProcess): Promise<Answer>;
}

const SUCCESS: Record<OpKind, number> = { accept: 200, signup: 201, role: 200, remove: 204 };

// Every request gives up after a minute: a hang is a failure, not a wait for the test runner.
const request = (server: ServerProcess, method: string, url: string, token?: string, body?: unknown) =>
  server.request(method, url, { token, body, signal: AbortSignal.timeout(60_000) });

async function expectStatus(answer: Promise<Answer>, status: number, what: string): Promise<Answer> {
  const res = await answer;
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`);
  return res;
}

async function signUp(server: ServerProcess, label: string, extra: Record<string, string> = {}) {
  const person: Person = { email: uniqueEmail(label), name: `${label} person` };
  const res = await expectStatus(
    request(server, "POST", "/api/v1/auth/signup", undefined, {
      email: person.email,
      password: PASSWORD,
      name: person.name,
      ...extra,
    }),
    201,
    `sign-up of ${person.email}`,
  );
  person.userId = res.json.user.id;
  person.token = res.json.session.token;
  return person as Person & { userId: string; token: string };
}

/** `count` people with accounts (and so organisations of their own), a few at a time. */
async function signUpMany(server: ServerProcess, count: number, label: string): Promise<Person[]> {
  const people: Person[] = [];
  while (people.length < count) {
    const batch = Math.min(6, count - people.length);
    people.push(...(await Promise.all(Array.from({ length: batch }, () => signUp(server, label)))));
  }
  return people;
}

async function createInvitation(
  server: ServerProcess,
  world: Pick<World, "owner" | "orgId">,
  body: Record<string, unknown>,
): Promise<{ id: string; url?: string }> {
  const res = await expectStatus(
    request(server, "POST", `/api/v1/orgs/${world.orgId}/invitations`, world.owner.token, body),
    201,
    "creating an invitation",
  );
  return { id: res.json.invitation.id, url: res.json.url };
}

const INVITE_PREFIX = `${SERVER_PUBLIC_URL}/invite/`;

const tokenOf = (url: string | undefined): string => {
  assert.ok(url?.startsWith(INVITE_PREFIX), `an invitation URL: ${url}`);
  return decodeURIComponent((url as string).slice(INVITE_PREFIX.length));
};

async function linkInvitation(
  server: ServerProcess,
  world: Pick<World, "owner" | "orgId">,
  role: string,
  maxUses: number,
  workspaces: { workspaceId: string; role: string }[],
): Promise<Invitation> {
  const made = await createInvitation(server, world, { delivery: "link", role, workspaces, maxUses });
  return { id: made.id, token: tokenOf(made.url), delivery: "link", maxUses, uses: 0 };
}

/** An e-mail invitation; its token is read from the mail, as the invitee would. */
async function emailInvitation(
  server: ServerProcess,
  smtp: SmtpCapture,
  world: Pick<World, "owner" | "orgId">,
  email: string,
  role: string,
  workspaces: { workspaceId: string; role: string }[],
): Promise<Invitation> {
  const made = await createInvitation(server, world, { delivery: "email", email, role, workspaces });
  const mail = await smtp.waitFor(
    (m) => m.envelopeTo.includes(email) && (m.text ?? "").includes(INVITE_PREFIX),
    30_000,
  );
  const url = urlsIn(mail.text ?? "").find((u) => u.startsWith(INVITE_PREFIX));
  return { id: made.id, token: tokenOf(url), delivery: "email", maxUses: 1, uses: 0 };
}

const place = (role: string, workspaces: Record<string, string>): Place => ({ role, workspaces });

function acceptOp(person: Person, invitation: Invitation, after: Place, contended = false): Op {
  return {
    kind: "accept",
    person,
    invitation,
    contended,
    before: null,
    after,
    send: (server) =>
      request(server, "POST", "/api/v1/invitations/accept", person.token, { token: invitation.token }),
  };
}

function signupOp(person: Person, invitation: Invitation, after: Place): Op {
  return {
    kind: "signup",
    person,
    invitation,
    before: null,
    after,
    send: (server) =>
      request(server, "POST", "/api/v1/auth/signup", undefined, {
        email: person.email,
        password: PASSWORD,
        name: person.name,
        invitationToken: invitation.token,
      }),
  };
}

function roleOp(world: World, person: Person, before: Place): Op {
  const to = before.role === "admin" ? "member" : "admin";
  return {
    kind: "role",
    person,
    before,
    after: { ...before, role: to },
    send: (server) =>
      request(server, "PATCH", `/api/v1/orgs/${world.orgId}/members/${person.userId}`, world.owner.token, {
        role: to,
      }),
  };
}

function removeOp(world: World, person: Person, before: Place): Op {
  return {
    kind: "remove",
    person,
    before,
    after: null,
    send: (server) =>
      request(server, "DELETE", `/api/v1/orgs/${world.orgId}/members/${person.userId}`, world.owner.token),
  };
}

/** How many requests of each kind one round sends at once: 44 in all. */
const ROUND = {
  /** Existing users accepting the big link. */
  linkAccepts: 8,
  /** Existing users accepting e-mail invitations. */
  emailAccepts: 6,
  /** Existing users racing for a link with fewer uses (RACED_USES). */
  racers: 6,
  /** New people signing up through the big link. */
  linkSignups: 5,
  /** New people signing up through e-mail invitations that grant two workspaces. */
  emailSignups: 6,
  /** Admins made members and members made admins, half each. */
  roleChanges: 8,
  removals: 5,
};
const RACED_USES = 3;

/**
 * The owner's organisation with two workspaces, a link for many, and members for the first
 * round to change: a few admins (every join mails the admins, so the test keeps them few).
 */
async function setUp(server: ServerProcess): Promise<World> {
  const owner = await signUp(server, "owner", { organizationName: "Crash Test Co" });
  const me = await expectStatus(request(server, "GET", "/api/v1/me", owner.token), 200, "me");
  const orgId: string = me.json.organizations[0].id;
  const list = await expectStatus(
    request(server, "GET", `/api/v1/orgs/${orgId}/workspaces`, owner.token),
    200,
    "workspaces",
  );
  const general: string = list.json.items[0].id;
  const made = await expectStatus(
    request(server, "POST", `/api/v1/orgs/${orgId}/workspaces`, owner.token, { name: "Support" }),
    201,
    "a second workspace",
  );
  const support: string = made.json.workspace.id;
  const grants = [{ workspaceId: general, role: "editor" }];
  const bigLink = await linkInvitation(server, { owner, orgId }, "member", 200, grants);
  const admins = ROUND.roleChanges / 2;
  const adminLink = await linkInvitation(server, { owner, orgId }, "admin", admins, grants);
  const world: World = {
    owner,
    orgId,
    general,
    support,
    bigLink,
    invitations: [bigLink, adminLink],
    ledger: new Map([[owner.email, { person: owner, place: place("owner", {}) }]]),
  };
  const members = await signUpMany(server, ROUND.roleChanges + ROUND.removals, "setup");
  for (const [i, person] of members.entries()) {
    const invitation = i < admins ? adminLink : bigLink;
    const joined = place(i < admins ? "admin" : "member", { [general]: "editor" });
    await expectStatus(acceptOp(person, invitation, joined).send(server), 200, "a setup accept");
    invitation.uses += 1;
    world.ledger.set(person.email, { person, place: joined });
  }
  return world;
}

/**
 * One round's requests (ROUND): accepts by existing users, invited sign-ups of new people, role
 * changes and removals of members who joined before. Each person is the target of one request
 * only, so each request's effect can be told apart.
 */
async function prepareRound(server: ServerProcess, smtp: SmtpCapture, world: World, round: number) {
  const label = `r${round}`;
  const existing = await signUpMany(
    server,
    ROUND.linkAccepts + ROUND.emailAccepts + ROUND.racers,
    `${label}-existing`,
  );
  const linkAccepters = existing.slice(0, ROUND.linkAccepts);
  const emailAccepters = existing.slice(ROUND.linkAccepts, ROUND.linkAccepts + ROUND.emailAccepts);
  const racers = existing.slice(ROUND.linkAccepts + ROUND.emailAccepts);
  const newcomers = Array.from(
    { length: ROUND.linkSignups + ROUND.emailSignups },
    (_, i): Person => ({ email: uniqueEmail(`${label}-new`), name: `${label} newcomer ${i}` }),
  );
  const linkNewcomers = newcomers.slice(0, ROUND.linkSignups);
  const emailNewcomers = newcomers.slice(ROUND.linkSignups);

  const racedLink = await linkInvitation(server, world, "member", RACED_USES, [
    { workspaceId: world.support, role: "viewer" },
  ]);
  const acceptGrants = [{ workspaceId: world.support, role: "agent" }];
  const signupGrants = [
    { workspaceId: world.general, role: "viewer" },
    { workspaceId: world.support, role: "editor" },
  ];
  const emailInvitations = await Promise.all([
    ...emailAccepters.map((p) => emailInvitation(server, smtp, world, p.email, "member", acceptGrants)),
    ...emailNewcomers.map((p) => emailInvitation(server, smtp, world, p.email, "member", signupGrants)),
  ]);
  world.invitations.push(racedLink, ...emailInvitations);
  const invitationFor = (i: number) => emailInvitations[i] as Invitation;

  // The most recent first: people who joined in the round before, through every way in.
  const current = [...world.ledger.values()].filter((e) => e.place && e.place.role !== "owner").reverse();
  const admins = current.filter((e) => e.place?.role === "admin").slice(0, ROUND.roleChanges / 2);
  const members = current.filter((e) => e.place?.role === "member");
  const promoted = members.slice(0, ROUND.roleChanges - admins.length);
  const removed = members.slice(promoted.length, promoted.length + ROUND.removals);
  assert.equal(admins.length + promoted.length + removed.length, ROUND.roleChanges + ROUND.removals);

  const bigLinkPlace = place("member", { [world.general]: "editor" });
  const byKind: Op[][] = [
    linkAccepters.map((p) => acceptOp(p, world.bigLink, bigLinkPlace)),
    emailAccepters.map((p, i) =>
      acceptOp(p, invitationFor(i), place("member", { [world.support]: "agent" })),
    ),
    racers.map((p) => acceptOp(p, racedLink, place("member", { [world.support]: "viewer" }), true)),
    linkNewcomers.map((p) => signupOp(p, world.bigLink, bigLinkPlace)),
    emailNewcomers.map((p, i) =>
      signupOp(
        p,
        invitationFor(emailAccepters.length + i),
        place("member", { [world.general]: "viewer", [world.support]: "editor" }),
      ),
    ),
    [...admins, ...promoted].map((m) => roleOp(world, m.person, m.place as Place)),
    removed.map((m) => removeOp(world, m.person, m.place as Place)),
  ];
  // Interleaved, so that every kind has requests answered and requests cut off.
  const ops: Op[] = [];
  for (let i = 0; byKind.some((list) => i < list.length); i++) {
    for (const list of byKind) if (i < list.length) ops.push(list[i] as Op);
  }
  return ops;
}

// ---- the crash --------------------------------------------------------------------------------

type Outcome = { answer: Answer } | { interrupted: string };
type Result = "done" | "refused" | "interrupted";

/** Sends every request at once and kills the server with SIGKILL once `killAfter` have answered. */
async function fireAndKill(server: ServerProcess, ops: Op[], killAfter: number): Promise<Outcome[]> {
  let answered = 0;
  let enough: () => void = () => {};
  const enoughAnswered = new Promise<void>((resolve) => {
    enough = resolve;
  });
  const flights = ops.map(async (op): Promise<Outcome> => {
    try {
      const answer = await op.send(server);
      answered += 1;
      if (answered >= killAfter) enough();
      return { answer };
    } catch (err) {
      return { interrupted: String((err as Error).cause ?? err) };
    }
  });
  await Promise.race([enoughAnswered, Promise.all(flights)]);
  await server.kill("SIGKILL");
  return Promise.all(flights);
}

/** What an answer means for its request; an answer the contract does not give fails the test. */
function resultOf(world: World, op: Op, outcome: Outcome): Result {
  if ("interrupted" in outcome) return "interrupted";
  const { status, json, text } = outcome.answer;
  const what = `${op.kind} for ${op.person.email}`;
  if (op.contended && status === 410) {
    assert.equal(json.code, "invitation_used", what);
    return "refused";
  }
  assert.equal(status, SUCCESS[op.kind], `${what}: ${status} ${text}`);
  if (op.kind === "accept") {
    assert.equal(json.organization.id, world.orgId, what);
    assert.equal(json.role, op.after?.role, what);
  }
  if (op.kind === "signup") op.person.userId = json.user.id;
  if (op.kind === "role") assert.equal(json.member.role, op.after?.role, what);
  return "done";
}

// ---- reading the data -------------------------------------------------------------------------

interface Seen {
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

async function readWorld(db: Db, world: World, extra: Person[]): Promise<Seen> {
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

// ---- the checks after a crash and the retries -------------------------------------------------

/**
 * Answered changes are there, refused ones are not, interrupted ones happened whole or not at
 * all, and nobody else moved. Answers, for each request, whether its change is in the data.
 */
function checkAfterCrash(world: World, ops: Op[], results: Result[], seen: Seen): boolean[] {
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

/**
 * Sends every request of the round again on the restarted server, as a client that never got its
 * answer would, and checks the answer exactly: an interrupted request that had not happened must
 * succeed now; one that had happened (answered, or committed before its answer was lost) must
 * answer what the contract gives for that. The racers for a link go one after another (whether a
 * use is left depends on the ones before), the others all at once.
 */
async function retryAll(
  server: ServerProcess,
  world: World,
  ops: Op[],
  results: Result[],
  committed: boolean[],
  seen: Seen,
): Promise<void> {
  const usesLeft = new Map([...seen.invitations].map(([id, i]) => [id, i.maxUses - i.uses]));
  const retry = async (op: Op, i: number): Promise<Result> => {
    const what = `retried ${op.kind} for ${op.person.email} (${committed[i] ? "it had happened" : "it had not"})`;
    const res = await op.send(server);
    const invitationId = op.invitation?.id ?? "";
    if (op.kind === "accept") {
      // Accepting again after it happened answers the same (join.ts: a second use by the same
      // person consumes nothing); otherwise it is a first accept, which a used-up link refuses.
      if (!committed[i] && usesLeft.get(invitationId) === 0) {
        assert.equal(res.status, 410, `${what}: ${res.text}`);
        assert.equal(res.json.code, "invitation_used", what);
        return "refused";
      }
      assert.equal(res.status, 200, `${what}: ${res.text}`);
      assert.equal(res.json.organization.id, world.orgId, what);
      assert.equal(res.json.role, op.after?.role, what);
      if (!committed[i]) usesLeft.set(invitationId, (usesLeft.get(invitationId) ?? 0) - 1);
    } else if (op.kind === "signup") {
      if (committed[i] && op.invitation?.delivery === "email") {
        // The invitation is checked before the address (rule 11), and it has been used: by them.
        assert.equal(res.status, 410, `${what}: ${res.text}`);
        assert.equal(res.json.code, "invitation_used", what);
      } else {
        // Not yet signed up: the real sign-up. Signed up through a link with uses left: the
        // answer for an address that has an account, the same as a real one (rule 11).
        assert.equal(res.status, 201, `${what}: ${res.text}`);
      }
    } else if (op.kind === "role") {
      assert.equal(res.status, 200, `${what}: ${res.text}`);
      assert.equal(res.json.member.role, op.after?.role, what);
    } else if (committed[i]) {
      assert.equal(res.status, 404, `${what}: ${res.text}`);
      assert.equal(res.json.code, "member_not_found", what);
    } else {
      assert.equal(res.status, 204, `${what}: ${res.text}`);
    }
    return "done";
  };
  const all = [...ops.entries()];
  for (const [i, op] of all) if (op.contended) results[i] = await retry(op, i);
  await Promise.all(
    all.map(async ([i, op]) => {
      if (!op.contended) results[i] = await retry(op, i);
    }),
  );
}

/** Each person who signed up through an invitation can log in, and is in that organisation only (rule 7). */
async function checkNewcomers(server: ServerProcess, world: World, ops: Op[]): Promise<void> {
  const newcomers = ops.filter((op) => op.kind === "signup");
  await Promise.all(
    newcomers.map(async (op) => {
      const { email } = op.person;
      const body = { email, password: PASSWORD };
      const login = await expectStatus(
        request(server, "POST", "/api/v1/auth/login", undefined, body),
        200,
        email,
      );
      op.person.userId = login.json.user.id;
      const me = await expectStatus(
        request(server, "GET", "/api/v1/me", login.json.session.token),
        200,
        email,
      );
      const places = me.json.organizations.map((o: { id: string; role: string }) => ({
        id: o.id,
        role: o.role,
      }));
      assert.deepEqual(
        places,
        [{ id: world.orgId, role: op.after?.role }],
        `${email} is in one organisation`,
      );
    }),
  );
}

// ---- the test ---------------------------------------------------------------------------------

let store: Store | undefined;
let smtp: SmtpCapture | undefined;
/** The server process alive now, for the clean-up of a test that failed half-way. */
let running: ServerProcess | undefined;

after(async () => {
  await running?.kill("SIGKILL");
  await smtp?.close();
  await store?.close();
});

async function crashRounds(): Promise<void> {
  // DESIGN rule 14 ("a crash at any point leaves no half-made membership"), rule 5 (uses never
  // pass maxUses) and rule 2 (an owner always), through real crashes of a real server process.
  const data = TEST_TARGET === "postgres" ? await postgresStore() : await pgliteStore();
  store = data;
  const mail = await startSmtpCapture();
  smtp = mail;
  // The mail worker is woken by each commit; polling less often leaves the database to the requests.
  const options = { ...data.server, env: { SMTP_URL: mail.url, MAIL_POLL_MS: "500" } };
  let server = await startServer(options);
  running = server;
  const world = await setUp(server);

  for (const [round, share] of ROUNDS.entries()) {
    const ops = await prepareRound(server, mail, world, round);
    const killAfter = Math.max(3, Math.floor(ops.length * share));
    const outcomes = await fireAndKill(server, ops, killAfter);
    const results = ops.map((op, i) => resultOf(world, op, outcomes[i] as Outcome));
    const interrupted = results.filter((r) => r === "interrupted").length;
    assert.ok(ops.length - interrupted >= killAfter, `round ${round}: ${killAfter} answered before the kill`);
    assert.ok(interrupted > 0, `round ${round}: the kill landed with requests in flight`);

    // Restart on the same data while reading what the crash left. Both are waited for, so that
    // a failure of one leaves no server running unseen by the clean-up.
    const people = ops.map((op) => op.person);
    const [restarted, read] = await Promise.allSettled([
      startServer(options),
      data.inspect((db) => readWorld(db, world, people)),
    ]);
    if (restarted.status === "fulfilled") running = restarted.value;
    if (restarted.status === "rejected") throw restarted.reason;
    if (read.status === "rejected") throw read.reason;
    server = restarted.value;
    const seen = read.value;
    const committed = checkAfterCrash(world, ops, results, seen);
    await retryAll(server, world, ops, results, committed, seen);
    await checkNewcomers(server, world, ops);

    for (const [i, op] of ops.entries()) {
      const done = results[i] === "done";
      world.ledger.set(op.person.email, { person: op.person, place: done ? op.after : op.before });
      if (done && op.invitation) op.invitation.uses += 1;
    }
  }

  // After the last retries: everything the test was told happened is there, exactly.
  await server.kill("SIGKILL");
  const seen = await data.inspect((db) => readWorld(db, world, []));
  assert.deepEqual(seen.halfMade, [], "nothing half-made at the end");
  const expected = [...world.ledger]
    .filter(([, e]) => e.place)
    .map(([email, e]) => [email, placeKey(e.place)]);
  const actual = [...seen.places].map(([email, p]) => [email, placeKey(p)]);
  assert.deepEqual(
    actual.sort(),
    expected.sort(),
    "the organisation's members are exactly the ones answered",
  );
  for (const invitation of world.invitations) {
    const row = seen.invitations.get(invitation.id);
    assert.equal(row?.uses, invitation.uses, `invitation ${invitation.id}: every accept counted once`);
    const full = invitation.delivery === "email" ? "accepted" : "exhausted";
    assert.equal(row?.status, invitation.uses === invitation.maxUses ? full : "pending", invitation.id);
  }
  // Every link raced for by more people than it allows ended full, and no fuller.
  for (const invitation of world.invitations) {
    if (invitation.delivery === "link" && invitation !== world.bigLink) {
      assert.equal(invitation.uses, invitation.maxUses, `contended link ${invitation.id}`);
    }
  }
}

test(
  `SIGKILL mid-flight, ${ROUNDS.length} times (${TEST_TARGET}): answered changes stay, nothing is half-made, interrupted requests succeed when retried, repeated ones answer as already done`,
  { timeout: 240_000 },
  crashRounds,
);
