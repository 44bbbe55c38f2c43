// Member search at scale: `q` is served by the trigram indexes of migration 0002, not by reading
// every user, and a term that matches many walks the members in join order instead of sorting
// every match (db/search.ts). 20,000 members stand in for a million: enough for the planner to
// prefer an index when one applies, and quick to make with generate_series.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "kysely";
import { buildUser, type TestApp, testApp } from "../../test/helpers/app.js";
import {
  CANDIDATE_LIMIT,
  candidatesQuery,
  SEARCH_ROW_LIMIT,
  searchPlan,
  trigramsServe,
} from "../db/search.js";
import { memberPage, orgWalkEndQuery } from "./queries.js";

const MEMBERS = 20_000;

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.close();
});

test("a member search for 3+ characters runs on a trigram index, not a scan of users", async () => {
  const o = await buildUser(t, { name: "Big Owner" });
  const me = await t.request("GET", "/api/v1/me", { token: o.token });
  const orgId: string = me.json.organizations[0].id;
  // Hex names and addresses: no "z" or "l", so only the three people below match "zelda".
  await sql`
    INSERT INTO users (id, email, name)
    SELECT 'usr_bulk' || lpad(i::text, 8, '0'), 'p' || md5(i::text) || '@bulk.example', 'Person ' || md5('n' || i)
    FROM generate_series(1, ${MEMBERS}::int) AS i
  `.execute(t.db);
  await sql`
    INSERT INTO org_memberships (org_id, user_id, role)
    SELECT ${orgId}, 'usr_bulk' || lpad(i::text, 8, '0'), CASE WHEN i % 50 = 0 THEN 'admin' ELSE 'member' END
    FROM generate_series(1, ${MEMBERS}::int) AS i
  `.execute(t.db);
  const zeldas = [];
  for (const name of ["Zelda Fitzgerald", "zelda ramos", "Griselda"]) {
    const u = await buildUser(t, { name });
    await t.db
      .insertInto("org_memberships")
      .values({ org_id: orgId, user_id: u.userId, role: "member" })
      .execute();
    if (/zelda/i.test(name)) zeldas.push(u.userId);
  }
  // What autovacuum does in a running system: statistics, and the GIN indexes' pending lists
  // (fastupdate) merged into the index proper. Left pending, 20,000 fresh rows make every index
  // scan read the list too, which at this small size costs more than reading the table.
  await sql`VACUUM ANALYZE users`.execute(t.db);
  await sql`ANALYZE org_memberships`.execute(t.db);

  // The queries the route runs for ?q=zelda: the candidates through the trigram indexes, then the
  // page cut from those few.
  const explained = await candidatesQuery(t.db, "zelda", { orgId }).explain();
  const plan = explained.map((row) => String(row["QUERY PLAN"])).join("\n");
  console.log(`EXPLAIN of the member search for q=zelda among ${MEMBERS} members:\n${plan}`);
  assert.match(plan, /Bitmap Index Scan on users_(name|email)_trgm_idx/);
  assert.doesNotMatch(plan, /Seq Scan on users/);
  const candidates = await searchPlan(t.db, "zelda", { orgId });
  assert.ok(candidates !== "walk");
  assert.equal(candidates.userIds.length, 2);
  const pagePlan = await memberPage(t.db, orgId, { q: "zelda", limit: 50, matching: candidates }).explain();
  assert.doesNotMatch(pagePlan.map((row) => String(row["QUERY PLAN"])).join("\n"), /Seq Scan on users/);

  const started = performance.now();
  const res = await t.request("GET", `/api/v1/orgs/${orgId}/members?q=ZELDA`, { token: o.token });
  const ms = performance.now() - started;
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.items.map((m: { userId: string }) => m.userId).sort(), zeldas.sort());
  console.log(`GET …/members?q=ZELDA answered in ${ms.toFixed(1)} ms`);

  const page = await t.request("GET", `/api/v1/orgs/${orgId}/members?role=admin&limit=200`, {
    token: o.token,
  });
  assert.equal(page.status, 200);
  assert.equal(page.json.items.length, 200);
  assert.ok(page.json.nextCursor);
});

test("a term matching more people than CANDIDATE_LIMIT walks the members in join order, and pages exactly", async () => {
  const o = await buildUser(t, { name: "Walk Owner" });
  const me = await t.request("GET", "/api/v1/me", { token: o.token });
  const orgId: string = me.json.organizations[0].id;
  // Everyone is "Walker …", a few of them "Walker … Rare": the common term and a rare one.
  const n = CANDIDATE_LIMIT * 3;
  await sql`
    INSERT INTO users (id, email, name)
    SELECT 'usr_walk' || lpad(i::text, 8, '0'), 'w' || i || '@walk.example',
           'Walker ' || i || CASE WHEN i % 997 = 0 THEN ' Rare' ELSE '' END
    FROM generate_series(1, ${n}::int) AS i
  `.execute(t.db);
  // Join order is the reverse of the user numbers: the first page is not the first rows inserted.
  await sql`
    INSERT INTO org_memberships (org_id, user_id, role, created_at)
    SELECT ${orgId}, 'usr_walk' || lpad(i::text, 8, '0'), 'member', now() - i * interval '1 second'
    FROM generate_series(1, ${n}::int) AS i
  `.execute(t.db);
  await sql`VACUUM ANALYZE users`.execute(t.db);
  await sql`ANALYZE org_memberships`.execute(t.db);

  assert.equal(await searchPlan(t.db, "walker", { orgId }), "walk");
  const explained = await memberPage(t.db, orgId, {
    q: "walker",
    limit: 50,
    matching: { walkUpTo: undefined },
  }).explain();
  const plan = explained.map((row) => String(row["QUERY PLAN"])).join("\n");
  assert.match(plan, /Index Scan using org_memberships_joined_idx/);
  assert.doesNotMatch(plan, /Sort Key: m\.created_at/);

  const expected = async (like: string, limit: number) =>
    (
      await sql<{ user_id: string }>`
        SELECT m.user_id FROM org_memberships m JOIN users u ON u.id = m.user_id
        WHERE m.org_id = ${orgId} AND (lower(u.name) LIKE ${like} OR lower(u.email) LIKE ${like})
        ORDER BY m.created_at, m.user_id LIMIT ${limit}`.execute(t.db)
    ).rows.map((r) => r.user_id);
  const ids = (res: { json: { items: { userId: string }[] } }) => res.json.items.map((m) => m.userId);

  // Common: two pages by cursor are exactly the first 100 matches in join order.
  const first = await t.request("GET", `/api/v1/orgs/${orgId}/members?q=WALKER&limit=50`, { token: o.token });
  assert.equal(first.status, 200, first.text);
  const second = await t.request(
    "GET",
    `/api/v1/orgs/${orgId}/members?q=WALKER&limit=50&cursor=${first.json.nextCursor}`,
    { token: o.token },
  );
  assert.deepEqual([...ids(first), ...ids(second)], await expected("%walker%", 100));
  // Rare: every match, in join order, through the candidates.
  const rare = await t.request("GET", `/api/v1/orgs/${orgId}/members?q=rare&limit=50`, { token: o.token });
  assert.equal(rare.status, 200);
  assert.equal(rare.json.items.length, Math.floor(n / 997));
  assert.deepEqual(ids(rare), await expected("%rare%", 50));
});

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Index Cond"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Filter"?: number;
  Plans?: PlanNode[];
}

/** From `query.explain("json", sql`analyze`)`: every node of the plan, with what it really read. */
async function analyzed(explained: Promise<Record<string, unknown>[]>): Promise<PlanNode[]> {
  const [row] = await explained;
  const raw = row?.["QUERY PLAN"];
  const doc = (typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
  const nodes: PlanNode[] = [];
  const visit = (n: PlanNode) => {
    nodes.push(n);
    for (const c of n.Plans ?? []) visit(c);
  };
  for (const d of doc) visit(d.Plan);
  return nodes;
}

/** Rows a node examined: those it returned and those its filter dropped, over all its loops. */
const examined = (n: PlanNode) => (n["Actual Rows"] + (n["Rows Removed by Filter"] ?? 0)) * n["Actual Loops"];

test("review 13.6: a short term walks this organisation's members only, SEARCH_ROW_LIMIT at most, and reads no other organisation's rows", async () => {
  const ours = await buildUser(t, { name: "Small Owner" });
  const orgId: string = (await t.request("GET", "/api/v1/me", { token: ours.token })).json.organizations[0]
    .id;
  const bob = await buildUser(t, { name: "Bob Small" });
  await t.db
    .insertInto("org_memberships")
    .values({ org_id: orgId, user_id: bob.userId, role: "member" })
    .execute();
  const theirs = await buildUser(t, { name: "Big Other" });
  const otherId: string = (await t.request("GET", "/api/v1/me", { token: theirs.token })).json
    .organizations[0].id;
  const namesake = await buildUser(t, { name: "Bob Small" });
  await t.db
    .insertInto("org_memberships")
    .values({ org_id: otherId, user_id: namesake.userId, role: "member" })
    .execute();
  // Ours: SEARCH_ROW_LIMIT + 500 more members, none a "bo". Theirs: 20,000 people, every one a "Bo".
  await sql`
    INSERT INTO users (id, email, name)
    SELECT 'usr_ours' || lpad(i::text, 8, '0'), 'o' || md5(i::text) || '@ours.example', 'Member ' || md5('n' || i)
    FROM generate_series(1, ${SEARCH_ROW_LIMIT + 500}::int) AS i
  `.execute(t.db);
  await sql`
    INSERT INTO org_memberships (org_id, user_id, role)
    SELECT ${orgId}, 'usr_ours' || lpad(i::text, 8, '0'), 'member' FROM generate_series(1, ${SEARCH_ROW_LIMIT + 500}::int) AS i
  `.execute(t.db);
  await sql`
    INSERT INTO users (id, email, name)
    SELECT 'usr_them' || lpad(i::text, 8, '0'), 'bo' || i || '@theirs.example', 'Bo Other ' || i
    FROM generate_series(1, 20000) AS i
  `.execute(t.db);
  await sql`
    INSERT INTO org_memberships (org_id, user_id, role)
    SELECT ${otherId}, 'usr_them' || lpad(i::text, 8, '0'), 'member' FROM generate_series(1, 20000) AS i
  `.execute(t.db);
  // As autovacuum would: statistics, and the visibility map that lets the walk's end be read
  // from the join-order index alone.
  await sql`VACUUM ANALYZE users`.execute(t.db);
  await sql`VACUUM ANALYZE org_memberships`.execute(t.db);

  for (const q of ["bo", "Bo", "%", "---", "a.b", "  x "]) assert.equal(trigramsServe(q), false, q);
  assert.equal(trigramsServe("bob"), true);
  assert.equal(await searchPlan(t.db, "bo", { orgId }), "walk");
  const end = await orgWalkEndQuery(t.db, orgId, undefined).executeTakeFirst();
  assert.ok(end, "ours has more than SEARCH_ROW_LIMIT members");

  // What the walk's two statements read: the SEARCH_ROW_LIMIT-th member, then the page up to it.
  const walkUpTo = { micros: end.key_micros, id: end.key_id };
  for (const [what, explained] of [
    ["the walk's end", orgWalkEndQuery(t.db, orgId, undefined).explain("json", sql`analyze`)],
    [
      "the page",
      memberPage(t.db, orgId, { q: "bo", limit: 50, matching: { walkUpTo } }).explain("json", sql`analyze`),
    ],
  ] as const) {
    const nodes = await analyzed(explained);
    const plan = JSON.stringify(
      nodes.map((n) => [n["Node Type"], n["Relation Name"], n["Index Name"], examined(n)]),
    );
    for (const n of nodes.filter((n) => n["Relation Name"] === "org_memberships")) {
      assert.match(n["Node Type"], /^Index (Only )?Scan$/, `${what}: ${plan}`);
      assert.ok(
        n["Index Cond"]?.includes(orgId),
        `${what} reads org_memberships by our org_id only: ${plan}`,
      );
      assert.ok(examined(n) <= SEARCH_ROW_LIMIT, `${what} examines ${examined(n)} memberships: ${plan}`);
    }
    for (const n of nodes.filter((n) => n["Relation Name"] === "users")) {
      assert.equal(n["Index Name"], "users_pkey", `${what} looks users up by id only: ${plan}`);
      assert.ok(n["Actual Loops"] <= SEARCH_ROW_LIMIT, `${what}: ${plan}`);
    }
    assert.ok(!nodes.some((n) => n["Node Type"] === "Seq Scan"), `${what}: no sequential scan: ${plan}`);
  }
  const res = await t.request("GET", `/api/v1/orgs/${orgId}/members?q=bo`, { token: ours.token });
  assert.deepEqual(
    res.json.items.map((m: { userId: string }) => m.userId),
    [bob.userId],
  );
  assert.equal(res.json.searchLimitReached, true);

  // A rare term through the trigram indexes: the candidates are our members only, never the namesake.
  assert.deepEqual(await searchPlan(t.db, "bob small", { orgId }), { userIds: [bob.userId] });
  assert.deepEqual(await searchPlan(t.db, "bob small", { orgId: otherId }), { userIds: [namesake.userId] });
});
