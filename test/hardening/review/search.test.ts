// Review 13.6, outside in: member search reads only the organisation's (or workspace's) own
// members, a term the trigram indexes cannot serve (`%`, `---`, one or two letters) examines
// SEARCH_ROW_LIMIT of them at most per request and says when it stopped, and searches are
// rate-limited per user. Our organisation has SEARCH_ROW_LIMIT + 2,000 members (all of them in its
// first workspace too); another has 3,000 people called Bob, and a "Bob Small" of its own.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { SEARCH_ROW_LIMIT } from "../../../src/db/search.js";
import { type Answer, type TestApp, testApp } from "../../helpers/app.js";
import { buildOrg, joinOrg, type Org } from "../../helpers/org.js";

const EXTRA = 2_000;
const OTHERS = 3_000;

let t: TestApp;
let ours: Org;
let theirs: Org;
let bob: string;
let last: string;

before(async () => {
  t = await testApp({ RATE_LIMIT_SEARCH_USER: "1000/1m" });
  ours = await buildOrg(t, "Olive Owner");
  theirs = await buildOrg(t, "Theo Theirs");
  bob = (await joinOrg(t, ours.orgId, "member", "Bob Small")).userId;
  await joinOrg(t, theirs.orgId, "member", "Bob Small");
  // Hex names and addresses: no "%", no "-", no "b" followed by "o", nothing "small".
  await sql`
    INSERT INTO users (id, email, name)
    SELECT 'usr_ours' || lpad(i::text, 8, '0'), 'o' || md5(i::text) || '@ours.example', 'Member ' || md5('n' || i)
    FROM generate_series(1, ${SEARCH_ROW_LIMIT + EXTRA}::int) AS i
  `.execute(t.db);
  await sql`
    INSERT INTO org_memberships (org_id, user_id, role)
    SELECT ${ours.orgId}, 'usr_ours' || lpad(i::text, 8, '0'), 'member'
    FROM generate_series(1, ${SEARCH_ROW_LIMIT + EXTRA}::int) AS i
  `.execute(t.db);
  await sql`
    INSERT INTO workspace_memberships (org_id, workspace_id, user_id, role)
    SELECT ${ours.orgId}, ${ours.workspaceId}, 'usr_ours' || lpad(i::text, 8, '0'), 'viewer'
    FROM generate_series(1, ${SEARCH_ROW_LIMIT + EXTRA}::int) AS i
  `.execute(t.db);
  await sql`
    INSERT INTO users (id, email, name)
    SELECT 'usr_them' || lpad(i::text, 8, '0'), 'bob' || i || '@theirs.example', 'Bob Other ' || i
    FROM generate_series(1, ${OTHERS}::int) AS i
  `.execute(t.db);
  await sql`
    INSERT INTO org_memberships (org_id, user_id, role)
    SELECT ${theirs.orgId}, 'usr_them' || lpad(i::text, 8, '0'), 'member' FROM generate_series(1, ${OTHERS}::int) AS i
  `.execute(t.db);
  // The last to join, after every bulk member: only a walk that goes on from where it stopped finds them.
  last = (await joinOrg(t, ours.orgId, "member", "Zed --- 100%")).userId;
  await sql`VACUUM ANALYZE users`.execute(t.db);
  await sql`ANALYZE org_memberships`.execute(t.db);
  await sql`ANALYZE workspace_memberships`.execute(t.db);
});
after(async () => {
  await t.close();
});

const members = (org: Org, query: string, token = org.owner.token) =>
  t.request("GET", `/api/v1/orgs/${org.orgId}/members?${query}`, { token });
const ids = (res: Answer): string[] => res.json.items.map((m: { userId: string }) => m.userId);

/** Follows nextCursor to the end; every page's answer. */
async function walkAll(path: (cursor: string) => string, token: string): Promise<Answer[]> {
  const pages: Answer[] = [];
  let cursor = "";
  do {
    const res = await t.request("GET", path(cursor), { token });
    assert.equal(res.status, 200, res.text);
    pages.push(res);
    cursor = res.json.nextCursor ? `&cursor=${res.json.nextCursor}` : "";
  } while (cursor && pages.length < 10);
  return pages;
}

describe("review 13.6: member search stays within the organisation and bounded", () => {
  test("review 13.6: q=% and q=--- stop after SEARCH_ROW_LIMIT members, say so, and go on from there", async () => {
    for (const q of ["%", "---"]) {
      const pages = await walkAll(
        (cursor) => `/api/v1/orgs/${ours.orgId}/members?limit=50&q=${encodeURIComponent(q)}${cursor}`,
        ours.owner.token,
      );
      // The first SEARCH_ROW_LIMIT members hold no match: an empty page that says it stopped early.
      const [first, second] = pages;
      assert.ok(first && second, q);
      assert.deepEqual(first.json.items, [], q);
      assert.equal(first.json.searchLimitReached, true, q);
      assert.equal(typeof first.json.nextCursor, "string", q);
      // The rest: the match, and the end of the list (no flag, no cursor).
      assert.equal(pages.length, 2, q);
      assert.deepEqual(ids(second), [last], q);
      assert.equal(second.json.nextCursor, null, q);
      assert.equal("searchLimitReached" in second.json, false, q);
    }
  });

  test('review 13.6: "Bo" still finds Bob anywhere in the name, and no Bob of another organisation', async () => {
    const res = await members(ours, "q=Bo");
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(ids(res), [bob]);
    // A page that filled up says nothing about limits, whatever the term.
    const full = await members(theirs, "q=bo&limit=20");
    assert.equal(full.json.items.length, 20);
    assert.equal("searchLimitReached" in full.json, false);
    assert.ok(full.json.nextCursor);
  });

  test("review 13.6: a rare term finds only this organisation's people, never a namesake of another", async () => {
    for (const q of ["small", "bob small", "SMALL"]) {
      const res = await members(ours, `q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(ids(res), [bob], q);
      assert.equal("searchLimitReached" in res.json, false, q);
    }
  });

  test("review 13.6: an organisation's list without q is not a search: no flag, no limit", async () => {
    const res = await members(ours, "limit=200");
    assert.equal(res.status, 200);
    assert.equal(res.json.items.length, 200);
    assert.equal("searchLimitReached" in res.json, false);
  });

  test("review 13.6: workspace member search is bounded the same way, by user id", async () => {
    const pages = await walkAll(
      (cursor) => `/api/v1/workspaces/${ours.workspaceId}/members?limit=50&q=%25${cursor}`,
      ours.owner.token,
    );
    assert.equal(pages[0]?.json.searchLimitReached, true);
    assert.equal(pages.at(-1)?.json.nextCursor, null);
    assert.deepEqual(pages.flatMap(ids), []);
    const bo = await t.request("GET", `/api/v1/workspaces/${ours.workspaceId}/members?q=Bo`, {
      token: ours.owner.token,
    });
    assert.equal(bo.status, 200, bo.text);
    assert.deepEqual(ids(bo), []);
    const member = await t.request("GET", `/api/v1/workspaces/${ours.workspaceId}/members?q=member&limit=5`, {
      token: ours.owner.token,
    });
    assert.equal(member.json.items.length, 5);
  });
});

describe("review 13.6: searches are rate-limited per user", () => {
  let limited: TestApp;
  before(async () => {
    limited = await testApp({ RATE_LIMIT_SEARCH_USER: "3/1m" });
  });
  after(async () => {
    await limited.close();
  });

  test("review 13.6: the fourth search in a minute answers 429 rate_limited with Retry-After; lists without q and other users are not counted", async () => {
    const org = await buildOrg(limited, "Rita Ratelimit");
    const get = (path: string, token = org.owner.token) => limited.request("GET", path, { token });
    const orgPath = `/api/v1/orgs/${org.orgId}/members`;
    const wsPath = `/api/v1/workspaces/${org.workspaceId}/members`;
    for (let i = 0; i < 5; i++) assert.equal((await get(`${orgPath}?limit=5`)).status, 200);
    assert.equal((await get(`${orgPath}?q=rita`)).status, 200);
    assert.equal((await get(`${wsPath}?q=ri`)).status, 200);
    assert.equal((await get(`${orgPath}?q=%25`)).status, 200);
    // Both member routes count against the same per-user limit.
    for (const path of [`${orgPath}?q=rita`, `${wsPath}?q=rita`]) {
      const blocked = await get(path);
      assert.equal(blocked.status, 429, blocked.text);
      assert.equal(blocked.json.code, "rate_limited");
      const retry = Number(blocked.headers["retry-after"]);
      assert.ok(retry > 0 && retry <= 60, `Retry-After ${retry}`);
    }
    // A blank q is no search; another user of the same organisation has a window of their own.
    assert.equal((await get(`${orgPath}?q=%20`)).status, 200);
    const admin = await joinOrg(limited, org.orgId, "admin", "Ada Admin");
    assert.equal((await get(`${orgPath}?q=rita`, admin.token)).status, 200);
  });
});
