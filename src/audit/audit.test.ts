// The audit log (docs/concepts.md#the-audit-trail), `GET /api/v1/orgs/{org}/audit`, rules 3 and 9.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { buildUser, type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import { insertAuditRow } from "../../test/helpers/audit.js";
import { encodeCursor, parseTimeKey } from "../core/paging.js";
import type { Actor } from "./operations.js";
import { listAuditEvents } from "./queries.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

interface Item {
  id: string;
  at: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  data: Record<string, unknown>;
}

/** A new user and the organisation their sign-up made. */
async function owner(name = "Olive Owner"): Promise<SignedUp & { orgId: string }> {
  const u = await buildUser(t, { name });
  const me = await t.request("GET", "/api/v1/me", { token: u.token });
  assert.equal(me.status, 200, me.text);
  const orgId: string | undefined = me.json.organizations[0]?.id;
  assert.ok(orgId, me.text);
  return { ...u, orgId };
}

function audit(token: string, orgId: string, query: Record<string, string | number> = {}) {
  const qs = new URLSearchParams(
    Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
  return t.request("GET", `/api/v1/orgs/${orgId}/audit${qs ? `?${qs}` : ""}`, { token });
}

async function items(token: string, orgId: string, query: Record<string, string | number> = {}) {
  const res = await audit(token, orgId, { limit: 200, ...query });
  assert.equal(res.status, 200, res.text);
  return res.json.items as Item[];
}

/** Every page from the first, following nextCursor; answers the items in order and the page count. */
async function allPages(token: string, orgId: string, query: Record<string, string | number>) {
  const seen: Item[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await audit(token, orgId, { ...query, ...(cursor ? { cursor } : {}) });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.items.length <= Number(query.limit ?? 50));
    seen.push(...res.json.items);
    cursor = res.json.nextCursor;
    pages += 1;
    assert.ok(pages < 1000, "pagination ends");
  } while (cursor !== null);
  return { seen, pages };
}

const system: Actor = { id: null, name: "test", ip: null };

async function record(orgId: string, actor: Actor, action: string, data: Record<string, unknown> = {}) {
  await insertAuditRow(t.db, actor, { orgId, action, targetType: "thing", targetId: null, data });
}

/** `at` of every event of the org, to the microsecond, with its id, newest first (as the index orders them). */
async function storedOrder(orgId: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    SELECT id FROM audit_events WHERE org_id = ${orgId} ORDER BY at DESC, id DESC
  `.execute(t.db);
  return rows.map((r) => r.id);
}

describe("what is recorded", () => {
  test("sign-up records organization.created, member.added and workspace.created in the new organisation", async () => {
    const o = await owner("Olive Owner");
    const list = await items(o.token, o.orgId);
    assert.deepEqual(list.map((e) => e.action).sort(), [
      "member.added",
      "organization.created",
      "workspace.created",
    ]);
    for (const e of list) {
      assert.deepEqual(Object.keys(e).sort(), [
        "action",
        "actorId",
        "actorName",
        "at",
        "data",
        "id",
        "targetId",
        "targetType",
      ]);
      assert.equal(e.actorId, o.userId);
      assert.equal(e.actorName, "Olive Owner");
      assert.match(e.id, /^evt_/);
      assert.ok(Math.abs(Date.parse(e.at) - Date.now()) < 60_000, e.at);
      assert.match(e.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    const created = list.find((e) => e.action === "organization.created");
    assert.equal(created?.targetType, "organization");
    assert.equal(created?.targetId, o.orgId);
    const added = list.find((e) => e.action === "member.added");
    assert.equal(added?.targetType, "user");
    assert.equal(added?.targetId, o.userId);
    assert.deepEqual(added?.data, { role: "owner" });
    const workspace = list.find((e) => e.action === "workspace.created");
    assert.equal(workspace?.targetType, "workspace");
    assert.match(workspace?.targetId ?? "", /^wsp_/);
  });

  test("an event's data comes back as it was recorded, nested values included", async () => {
    const o = await owner();
    const data = { role: "admin", from: null, grants: [{ workspaceId: "wsp_1", role: "editor" }], n: 3 };
    await record(o.orgId, { id: o.userId, name: "Olive", ip: "10.0.0.1" }, "member.role_changed", data);
    const [newest] = await items(o.token, o.orgId);
    assert.equal(newest?.action, "member.role_changed");
    assert.deepEqual(newest?.data, data);
    assert.equal(newest?.targetType, "thing");
    assert.equal(newest?.targetId, null);
  });

  test("newest first: a later change comes before an earlier one, and the whole list runs down (at, id)", async () => {
    const o = await owner();
    await record(o.orgId, system, "workspace.renamed", { step: 1 });
    await record(o.orgId, system, "workspace.renamed", { step: 2 });
    const list = await items(o.token, o.orgId);
    assert.equal(list.length, 5);
    assert.deepEqual(
      list.slice(0, 2).map((e) => e.data.step),
      [2, 1],
    );
    assert.deepEqual(
      list.map((e) => e.id),
      await storedOrder(o.orgId),
    );
    for (let i = 1; i < list.length; i++) {
      const [a, b] = [list[i - 1], list[i]] as [Item, Item];
      assert.ok(a.at > b.at || (a.at === b.at && a.id > b.id), `${a.at} ${a.id} before ${b.at} ${b.id}`);
    }
  });

  test("events without an organisation (user.signed_up) are not in any organisation's log", async () => {
    const o = await owner();
    const signedUp = await t.db
      .selectFrom("audit_events")
      .select("id")
      .where("action", "=", "user.signed_up")
      .where("actor_id", "=", o.userId)
      .execute();
    assert.equal(signedUp.length, 1, "the sign-up itself is recorded");
    const list = await items(o.token, o.orgId);
    assert.ok(!list.some((e) => e.action === "user.signed_up"));
  });
});

describe("filters", () => {
  test("action filters exactly, or by prefix when it ends in .* or .; actor filters by actor id", async () => {
    const o = await owner();
    const ann: Actor = { id: "usr_ann", name: "Ann", ip: null };
    const bob: Actor = { id: "usr_bob", name: "Bob", ip: null };
    await record(o.orgId, ann, "member.role_changed");
    await record(o.orgId, bob, "member.removed");
    await record(o.orgId, ann, "workspace.renamed");
    await record(o.orgId, bob, "memberz.added");
    await record(o.orgId, ann, "member.invited.resent");

    const actions = async (query: Record<string, string>) =>
      (await items(o.token, o.orgId, query)).map((e) => e.action).sort();

    assert.deepEqual(await actions({ action: "member.added" }), ["member.added"]);
    assert.deepEqual(await actions({ action: "member.removed" }), ["member.removed"]);
    const members = ["member.added", "member.invited.resent", "member.removed", "member.role_changed"];
    assert.deepEqual(await actions({ action: "member.*" }), members);
    assert.deepEqual(await actions({ action: "member." }), members);
    assert.deepEqual(await actions({ action: "member.invited.*" }), ["member.invited.resent"]);
    assert.deepEqual(await actions({ action: "member" }), [], "without .* or . the match is exact");
    // `_` is literal, not a LIKE wildcard.
    assert.deepEqual(await actions({ action: "member_.*" }), []);
    assert.deepEqual(await actions({ action: "nothing.here" }), []);

    assert.deepEqual(await actions({ actor: "usr_ann" }), [
      "member.invited.resent",
      "member.role_changed",
      "workspace.renamed",
    ]);
    assert.deepEqual(await actions({ actor: "usr_bob" }), ["member.removed", "memberz.added"]);
    assert.deepEqual(await actions({ actor: o.userId, action: "member.*" }), ["member.added"]);
    assert.deepEqual(await actions({ actor: "usr_ann", action: "member.*" }), [
      "member.invited.resent",
      "member.role_changed",
    ]);
    assert.deepEqual(await actions({ actor: "usr_nobody" }), []);
  });

  test("a malformed action filter is a 400 naming the field", async () => {
    const o = await owner();
    for (const action of ["Member.added", "member.*.x", "member added", "*", "", "a".repeat(101)]) {
      const res = await audit(o.token, o.orgId, { action });
      assert.equal(res.status, 400, `${action}: ${res.text}`);
      assert.equal(res.json.code, "validation_failed");
      assert.equal(res.json.errors?.[0]?.field, "action", res.text);
    }
  });
});

describe("pagination", () => {
  test("limit and cursor walk every event once, newest first, even many to the microsecond and tied", async () => {
    const o = await owner();
    await t.db.transaction().execute(async (tx) => {
      for (let n = 0; n < 120; n++) {
        await insertAuditRow(
          tx,
          { id: n % 2 ? "usr_odd" : "usr_even", name: "Bulk", ip: null },
          {
            orgId: o.orgId,
            action: n % 3 ? "bulk.made" : "bulk.other",
            targetType: "thing",
            targetId: String(n),
            data: { n },
          },
        );
      }
    });
    // Four events per millisecond, two at each microsecond: a cursor cut to milliseconds (or
    // one that ignored the id) would skip or repeat some of them at page boundaries.
    await sql`
      UPDATE audit_events
      SET at = timestamptz '2024-03-01T10:00:00Z' + ((data->>'n')::int / 2) * interval '250 microseconds'
      WHERE org_id = ${o.orgId} AND data ? 'n'
    `.execute(t.db);

    const expected = await storedOrder(o.orgId);
    assert.equal(expected.length, 123);
    const single = await items(o.token, o.orgId);
    assert.deepEqual(
      single.map((e) => e.id),
      expected,
    );

    for (const limit of [1, 7, 50, 122, 123]) {
      const { seen, pages } = await allPages(o.token, o.orgId, { limit });
      assert.deepEqual(
        seen.map((e) => e.id),
        expected,
        `limit ${limit}`,
      );
      assert.equal(pages, Math.max(1, Math.ceil(123 / limit)), `limit ${limit}`);
    }

    const bulk = expected.filter((id) => single.find((e) => e.id === id)?.action === "bulk.made");
    const filtered = await allPages(o.token, o.orgId, { limit: 9, action: "bulk.made" });
    assert.deepEqual(
      filtered.seen.map((e) => e.id),
      bulk,
    );
    const odd = await allPages(o.token, o.orgId, { limit: 11, actor: "usr_odd" });
    assert.equal(odd.seen.length, 60);
    assert.equal(new Set(odd.seen.map((e) => e.id)).size, 60);
  });

  test("the default page is 50 events; the last page's nextCursor is null", async () => {
    const o = await owner();
    await t.db.transaction().execute(async (tx) => {
      for (let n = 0; n < 60; n++)
        await insertAuditRow(tx, system, {
          orgId: o.orgId,
          action: "bulk.made",
          targetType: "x",
          targetId: null,
        });
    });
    const first = await audit(o.token, o.orgId);
    assert.equal(first.status, 200);
    assert.equal(first.json.items.length, 50);
    assert.equal(typeof first.json.nextCursor, "string");
    const second = await audit(o.token, o.orgId, { cursor: first.json.nextCursor });
    assert.equal(second.json.items.length, 13);
    assert.equal(second.json.nextCursor, null);
  });

  test("a bad limit or cursor is a 400 naming the field", async () => {
    const o = await owner();
    for (const limit of ["0", "201", "-1", "abc", "1.5"]) {
      const res = await audit(o.token, o.orgId, { limit });
      assert.equal(res.status, 400, `limit=${limit}: ${res.text}`);
      assert.equal(res.json.code, "validation_failed");
      assert.equal(res.json.errors?.[0]?.field, "limit", res.text);
    }
    for (const cursor of [
      "!!!",
      encodeCursor("hello"),
      encodeCursor("2024-13-01T00:00:00.000000Z.evt_x"),
      encodeCursor("2024-02-30T00:00:00.000000Z.evt_x"),
      encodeCursor("2024-01-01T00:00:00.000Z.evt_x"),
      encodeCursor("1709287200000.evt_x"),
      "x".repeat(201),
    ]) {
      const res = await audit(o.token, o.orgId, { cursor });
      assert.equal(res.status, 400, `cursor=${cursor}: ${res.text}`);
      assert.equal(res.json.code, "validation_failed");
      assert.equal(res.json.errors?.[0]?.field, "cursor", res.text);
    }
  });

  test("listAuditEvents reads oldest first from a position and within [since, until)", async () => {
    const o = await owner();
    const newest = await listAuditEvents(t.db, o.orgId, { limit: 2 });
    assert.equal(newest.events.length, 2);
    assert.ok(newest.next);
    const oldest = await listAuditEvents(t.db, o.orgId, { limit: 10, order: "oldest" });
    assert.deepEqual(
      oldest.events.map((e) => e.id),
      [...(await storedOrder(o.orgId))].reverse(),
    );
    assert.equal(oldest.next, null);
    const [first, second] = oldest.events;
    assert.ok(first && second && parseTimeKey(first.key));
    const rest = await listAuditEvents(t.db, o.orgId, { limit: 10, order: "oldest", after: first.key });
    assert.deepEqual(
      rest.events.map((e) => e.id),
      oldest.events.slice(1).map((e) => e.id),
    );
    const future = new Date(Date.now() + 3_600_000);
    assert.equal((await listAuditEvents(t.db, o.orgId, { limit: 10, since: future })).events.length, 0);
    assert.equal((await listAuditEvents(t.db, o.orgId, { limit: 10, until: future })).events.length, 3);
    await assert.rejects(listAuditEvents(t.db, o.orgId, { limit: 1, after: "nope" }), RangeError);
  });
});

describe("who may read it", () => {
  test("another tenant's organisation answers 404 organization_not_found, exactly like a missing one", async () => {
    const a = await owner("Alice");
    const b = await owner("Bob");
    const theirs = await audit(b.token, a.orgId);
    const missing = await audit(b.token, "org_00000000000000000000000000");
    assert.equal(theirs.status, 404);
    assert.equal(theirs.json.code, "organization_not_found");
    assert.deepEqual(theirs.json, missing.json);
    assert.equal(theirs.headers["content-type"], missing.headers["content-type"]);
    // Nor does a filter reach across: Bob's own log has none of Alice's events.
    assert.deepEqual(await items(b.token, b.orgId, { actor: a.userId }), []);
    assert.equal((await items(a.token, a.orgId)).length, 3);
  });

  test("an org member without org.users gets 403; an org admin reads it", async () => {
    const o = await owner();
    const member = await owner("Mia Member");
    const admin = await owner("Adam Admin");
    await t.db
      .insertInto("org_memberships")
      .values([
        { org_id: o.orgId, user_id: member.userId, role: "member" },
        { org_id: o.orgId, user_id: admin.userId, role: "admin" },
      ])
      .execute();
    const refused = await audit(member.token, o.orgId);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json.code, "forbidden");
    assert.match(refused.json.detail, /organisation member lacks org\.users/);
    const allowed = await audit(admin.token, o.orgId);
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.json.items.length, 3);
  });

  test("without a session: 401", async () => {
    const o = await owner();
    const res = await t.request("GET", `/api/v1/orgs/${o.orgId}/audit`);
    assert.equal(res.status, 401);
    assert.equal(res.json.code, "unauthenticated");
  });

  test("a removed user's events keep their name (rule 9)", async () => {
    const o = await owner();
    const x = await owner("Xavier Gone");
    await t.db
      .insertInto("org_memberships")
      .values({ org_id: o.orgId, user_id: x.userId, role: "admin" })
      .execute();
    await insertAuditRow(
      t.db,
      { id: x.userId, name: "Xavier Gone", ip: "10.9.9.9" },
      {
        orgId: o.orgId,
        action: "workspace.renamed",
        targetType: "workspace",
        targetId: null,
        data: { name: "New" },
      },
    );
    await t.db
      .deleteFrom("org_memberships")
      .where("org_id", "=", o.orgId)
      .where("user_id", "=", x.userId)
      .execute();
    await t.db.deleteFrom("users").where("id", "=", x.userId).execute();
    assert.equal(
      (await t.db.selectFrom("users").select("id").where("id", "=", x.userId).execute()).length,
      0,
    );

    const theirs = await items(o.token, o.orgId, { actor: x.userId });
    assert.equal(theirs.length, 1);
    assert.equal(theirs[0]?.actorId, x.userId);
    assert.equal(theirs[0]?.actorName, "Xavier Gone");
    assert.equal(theirs[0]?.action, "workspace.renamed");
  });
});
