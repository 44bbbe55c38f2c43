// Crash safety (issue 7, rules 5, 8 and 14 of docs/rules.md): a real `rollcall serve` is killed with SIGKILL
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
//
// The parts: crash/store.ts (the data on each pass, read while the server is dead), crash/world.ts
// (the organisation, the people and the requests of a round), crash/checks.ts (reading and judging
// the data after a crash), crash/retry.ts (the round sent again to the restarted server). Here: the
// crash itself and the rounds.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { Answer } from "../helpers/app.js";
import { TEST_TARGET } from "../helpers/database.js";
import { type ServerProcess, startServer } from "../helpers/server.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import { checkAfterCrash, readWorld } from "./crash/checks.js";
import { checkNewcomers, retryAll } from "./crash/retry.js";
import { pgliteStore, postgresStore, type Store } from "./crash/store.js";
import {
  type Op,
  type OpKind,
  placeKey,
  prepareRound,
  type Result,
  setUp,
  type World,
} from "./crash/world.js";

/** When to pull the plug in each round: after this share of the round's requests has answered. */
const ROUNDS = [0.2, 0.5, 0.35];

// ---- the crash --------------------------------------------------------------------------------

type Outcome = { answer: Answer } | { interrupted: string };

/** The status that answers each kind of request done. */
const SUCCESS: Record<OpKind, number> = { accept: 200, signup: 201, role: 200, remove: 204 };

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
  // Rule 14 ("a crash at any point leaves no half-made membership"), rule 5 (uses never
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
