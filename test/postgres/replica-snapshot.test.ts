// The replica snapshot against transactions in flight, on PostgreSQL (docs/replica.md): a change
// still uncommitted when the snapshot is read is not in it and its event follows the cursor; a
// change committed while an older transaction still runs is in the snapshot AND its event follows
// the cursor — applied again, it changes nothing. Either way, snapshot + events after its cursor
// = a later snapshot.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "kysely";
import { recordAudit } from "../../src/audit/operations.js";
import { type TestApp, testApp } from "../helpers/app.js";
import { buildServiceKey } from "../helpers/keys.js";
import { buildOrg, joinOrg } from "../helpers/org.js";
import { apply, assertSameMemberships, eventsAfter, fetchSnapshot, memberships } from "../helpers/replica.js";

let t: TestApp;
let key: string;
before(async () => {
  t = await testApp();
  key = (await buildServiceKey(t, "replica")).token;
});
after(async () => {
  await t.close();
});

const snapshot = () => fetchSnapshot(t, key);

test("a change still running when the snapshot is read comes after its cursor", async () => {
  const org = await buildOrg(t);
  const newcomer = await joinOrg(t, org.orgId, "member", "Nell Newcomer");
  await sql`DELETE FROM org_memberships WHERE user_id = ${newcomer.userId}`.execute(t.db);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => {
    wrote = resolve;
  });
  const running = t.db.transaction().execute(async (tx) => {
    await tx
      .insertInto("org_memberships")
      .values({ org_id: org.orgId, user_id: newcomer.userId, role: "admin" })
      .execute();
    await recordAudit(
      tx,
      { id: null, name: "test", ip: null },
      {
        orgId: org.orgId,
        action: "member.added",
        targetType: "user",
        targetId: newcomer.userId,
        data: { email: newcomer.email, name: newcomer.name, role: "admin" },
      },
    );
    wrote();
    await gate;
  });
  await written;
  // A later transaction commits meanwhile: a cursor at "the newest committed event" would pass
  // the running one's event, which commits below it, and lose it.
  // (Another organisation's: this one's row is held by the running transaction's foreign key.)
  const elsewhere = await buildOrg(t, "Elsa Elsewhere");
  const renamed = await t.request("PATCH", `/api/v1/orgs/${elsewhere.orgId}`, {
    token: elsewhere.owner.token,
    body: { name: "Renamed meanwhile" },
  });
  assert.equal(renamed.status, 200, renamed.text);
  const first = await snapshot();
  assert.ok(
    !first.orgMembers.some(([, u]: string[]) => u === newcomer.userId),
    "not in the snapshot while uncommitted",
  );
  release();
  await running;
  const later = await snapshot();
  const state = memberships(first);
  const events = await eventsAfter(t.db, first.cursor);
  assert.ok(events.some((e) => e.type === "member.added" && e.data.userId === newcomer.userId));
  for (const e of events) apply(state, e);
  assertSameMemberships(state, memberships(later));
  assert.equal(state.orgMembers.get(`${org.orgId} ${newcomer.userId}`), "admin");
});

test("a change committed behind an older running transaction is in the snapshot and after its cursor", async () => {
  const org = await buildOrg(t);
  const mover = await joinOrg(t, org.orgId, "member", "Moe Mover");
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let began!: () => void;
  const begun = new Promise<void>((resolve) => {
    began = resolve;
  });
  // An older transaction with an id, in another organisation: the feed's settled end stays below it.
  const other = await buildOrg(t, "Olga Older");
  const older = t.db.transaction().execute(async (tx) => {
    await sql`UPDATE organizations SET name = name WHERE id = ${other.orgId}`.execute(tx);
    began();
    await gate;
  });
  await begun;
  const res = await t.request("PATCH", `/api/v1/orgs/${org.orgId}/members/${mover.userId}`, {
    token: org.owner.token,
    body: { role: "admin" },
  });
  assert.equal(res.status, 200, res.text);
  const first = await snapshot();
  assert.ok(
    first.orgMembers.some(([o, u, r]: string[]) => o === org.orgId && u === mover.userId && r === "admin"),
    "the committed change is in the snapshot",
  );
  release();
  await older;
  const events = await eventsAfter(t.db, first.cursor);
  assert.ok(
    events.some((e) => e.type === "member.role_changed" && e.data.userId === mover.userId),
    "and its event follows the cursor: the snapshot's end could not pass the older transaction",
  );
  const state = memberships(first);
  for (const e of events) apply(state, e);
  assertSameMemberships(state, memberships(await snapshot()));
});
