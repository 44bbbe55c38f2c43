// The organisation a crash test runs on, the people in it, and the requests of a round: who the
// test signs up, which invitations it makes (e-mail ones read from the mail, as an invitee would),
// and, for each request, the place its target held before and will hold after. The test compares
// the data after each crash against these; nothing here reads the database.
import assert from "node:assert/strict";
import { type Answer, PASSWORD, uniqueEmail } from "../../helpers/app.js";
import { SERVER_PUBLIC_URL, type ServerProcess } from "../../helpers/server.js";
import { type SmtpCapture, urlsIn } from "../../helpers/smtp.js";

/** A person's place in the organisation: org role and direct workspace roles. null: not a member. */
export interface Place {
  role: string;
  workspaces: Record<string, string>;
}

export const placeKey = (place: Place | null | undefined): string =>
  place
    ? `${place.role} [${Object.entries(place.workspaces)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([ws, role]) => `${ws}:${role}`)
        .join(" ")}]`
    : "not a member";

export interface Person {
  email: string;
  name: string;
  /** Known once they have an account that the test has seen. */
  userId?: string;
  /** A session, for people who accept as existing users and for the owner. */
  token?: string;
}

export interface Invitation {
  id: string;
  token: string;
  delivery: "email" | "link";
  maxUses: number;
  /** Uses the test has seen succeed. */
  uses: number;
}

export interface World {
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

export type OpKind = "accept" | "signup" | "role" | "remove";

export interface Op {
  kind: OpKind;
  person: Person;
  invitation?: Invitation;
  /** A link with fewer uses than people racing for it: losing (410 invitation_used) is an answer too. */
  contended?: boolean;
  before: Place | null;
  after: Place | null;
  send(server: ServerProcess): Promise<Answer>;
}

/** What became of a request: answered with its change, refused (a raced link used up), or cut off. */
export type Result = "done" | "refused" | "interrupted";

// Every request gives up after a minute: a hang is a failure, not a wait for the test runner.
export const request = (server: ServerProcess, method: string, url: string, token?: string, body?: unknown) =>
  server.request(method, url, { token, body, signal: AbortSignal.timeout(60_000) });

export async function expectStatus(answer: Promise<Answer>, status: number, what: string): Promise<Answer> {
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

export const place = (role: string, workspaces: Record<string, string>): Place => ({ role, workspaces });

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
export async function setUp(server: ServerProcess): Promise<World> {
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
export async function prepareRound(server: ServerProcess, smtp: SmtpCapture, world: World, round: number) {
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
