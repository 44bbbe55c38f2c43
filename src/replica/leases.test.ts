// The freshness protocol's leases (docs/replica.md#freshness), driven by hand as a client would:
// a change that takes access away answers only once every live lease has acknowledged it or run
// out; a lease is not renewed while such a change lies beyond what its client applied; changes
// that take nothing away never wait. With real client processes: test/client/freshness.test.ts.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TestApp, testApp } from "../../test/helpers/app.js";
import { buildServiceKey } from "../../test/helpers/keys.js";
import { buildOrg, joinOrg, type Org } from "../../test/helpers/org.js";
import { fetchSnapshot } from "../../test/helpers/replica.js";

const LEASE_MS = 1500;
const METRICS_TOKEN = "leases-metrics-token-0123456789";
let t: TestApp;
let key: string;
before(async () => {
  t = await testApp({ REPLICA_LEASE_MS: String(LEASE_MS), METRICS_TOKEN });
  key = (await buildServiceKey(t, "leases")).token;
});
after(async () => {
  await t.close();
});

const open = (applied: string, name = "host-1", token = key) =>
  t.request("POST", "/api/v1/replica/leases", { token, body: { name, applied } });
const renew = (id: string, applied: string, token = key) =>
  t.request("PUT", `/api/v1/replica/leases/${id}`, { token, body: { applied } });
const end = (id: string, token = key) => t.request("DELETE", `/api/v1/replica/leases/${id}`, { token });

/** The cursor of the organisation's newest event, once it can be read. */
async function lastCursor(org: Org): Promise<string> {
  for (let i = 0; ; i++) {
    const res = await t.request("GET", `/api/v1/orgs/${org.orgId}/events?limit=200`, { token: key });
    assert.equal(res.status, 200, res.text);
    const last = res.json.items.at(-1);
    if (last?.type === "member.removed" || i > 100) return last.cursor;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The changes that waited for leases so far (rollcall_replica_fence_wait_seconds), and how long in all. */
async function ackWaits(): Promise<{ count: number; seconds: number }> {
  const res = await t.request("GET", "/metrics", { token: METRICS_TOKEN });
  assert.equal(res.status, 200);
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(res.text)?.[1]);
  return {
    count: value("rollcall_replica_fence_wait_seconds_count"),
    seconds: value("rollcall_replica_fence_wait_seconds_sum"),
  };
}

async function removeTimed(org: Org, userId: string): Promise<number> {
  const started = performance.now();
  const res = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${userId}`, {
    token: org.owner.token,
  });
  assert.equal(res.status, 204, res.text);
  return performance.now() - started;
}

test("a lease that does not acknowledge holds a removal until it runs out, and is not renewed past it", async () => {
  const org = await buildOrg(t);
  const pat = await joinOrg(t, org.orgId);
  const { cursor } = await fetchSnapshot(t, key);
  const opened = await open(cursor);
  assert.equal(opened.status, 201, opened.text);
  const lease = opened.json;
  assert.equal(lease.live, true);
  assert.equal(lease.acknowledged, cursor);
  assert.ok(
    lease.remainingMs > LEASE_MS / 2 && lease.remainingMs <= LEASE_MS,
    `${lease.remainingMs} ms left`,
  );
  assert.equal(lease.leaseMs, LEASE_MS);
  assert.ok(lease.renewMs > 0 && lease.renewMs < LEASE_MS);

  const metered = await ackWaits();
  const left = Date.parse(lease.expiresAt) - Date.now();
  const waited = await removeTimed(org, pat.userId);
  assert.ok(waited >= left - 100, `answered after ${Math.round(waited)} ms, the lease had ${left} ms left`);
  assert.ok(waited < LEASE_MS + 800, `answered after ${Math.round(waited)} ms`);
  // The metric counts the wait: a real one (the lease had most of its 1.5 s left), within the request's time.
  const now = await ackWaits();
  assert.equal(now.count, metered.count + 1);
  const ms = (now.seconds - metered.seconds) * 1000;
  assert.ok(ms >= 200 && ms <= waited, `the metric says ${Math.round(ms)} ms of ${Math.round(waited)}`);

  // Its client has not applied the removal: the lease stays run out however often it renews.
  const stale = await renew(lease.id, cursor);
  assert.equal(stale.status, 200, stale.text);
  assert.equal(stale.json.live, false);
  assert.equal(stale.json.remainingMs, 0);
  // Once it has, it serves again.
  const caughtUp = await renew(lease.id, await lastCursor(org));
  assert.equal(caughtUp.json.live, true);
  assert.equal((await end(lease.id)).status, 204);
});

test("an acknowledgement lets the waiting removal answer at once", async () => {
  const org = await buildOrg(t);
  const pat = await joinOrg(t, org.orgId);
  const { cursor } = await fetchSnapshot(t, key);
  const lease = (await open(cursor)).json;
  assert.equal(lease.live, true);
  let answered = false;
  const started = performance.now();
  const removal = removeTimed(org, pat.userId).then((ms) => {
    answered = true;
    return ms;
  });
  const removed = await lastCursor(org);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(answered, false, "the removal waits for the live lease");
  const acked = await renew(lease.id, removed);
  assert.equal(acked.json.live, true);
  assert.equal(acked.json.acknowledged, removed);
  const waited = await removal;
  assert.ok(waited < LEASE_MS - 300, `answered ${Math.round(waited)} ms after it began`);
  assert.ok(performance.now() - started < LEASE_MS, "well before the lease ran out");
  assert.equal((await end(lease.id)).status, 204);
});

test("changes that take nothing away never wait; an ended lease is not waited for", async () => {
  const org = await buildOrg(t);
  const pat = await joinOrg(t, org.orgId);
  const { cursor } = await fetchSnapshot(t, key);
  const lease = (await open(cursor)).json;
  const metered = await ackWaits();
  const started = performance.now();
  const made = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
    token: org.owner.token,
    body: { name: "Growth" },
  });
  assert.equal(made.status, 201, made.text);
  assert.ok(performance.now() - started < LEASE_MS / 2, "a new workspace does not wait for the lease");
  // Still live: nothing that takes access away lies beyond what it applied.
  assert.equal((await renew(lease.id, cursor)).json.live, true);
  assert.equal((await end(lease.id)).status, 204);
  const waited = await removeTimed(org, pat.userId);
  assert.ok(waited < LEASE_MS / 2, `the removal took ${Math.round(waited)} ms with the lease ended`);
  assert.equal((await ackWaits()).count, metered.count, "no change found a live lease to wait for");
});

test("a lease is its key's own; bad input answers 4xx and changes nothing; at most 100 per key", async () => {
  const { cursor } = await fetchSnapshot(t, key);
  const lease = (await open(cursor)).json;
  const other = (await buildServiceKey(t, "another")).token;
  assert.equal((await renew(lease.id, cursor, other)).status, 404);
  assert.equal((await renew(lease.id, cursor, other)).json.code, "lease_not_found");
  assert.equal((await end(lease.id, other)).status, 404);
  assert.equal((await renew("rls_nothing", cursor)).status, 404);

  const bad = await renew(lease.id, "not-a-cursor");
  assert.equal(bad.status, 400);
  assert.equal(bad.json.errors[0].field, "applied");
  assert.equal((await open(cursor, " ")).status, 400);
  assert.equal((await open("1.2.3")).status, 400);
  const unchanged = await renew(lease.id, cursor);
  assert.equal(unchanged.json.acknowledged, cursor);
  // Acknowledgements never move back.
  assert.equal((await renew(lease.id, "1.1")).json.acknowledged, cursor);

  const org = await buildOrg(t);
  assert.equal(
    (
      await t.request("POST", "/api/v1/replica/leases", {
        token: org.owner.token,
        body: { name: "x", applied: cursor },
      })
    ).status,
    403,
  );
  assert.equal(
    (await t.request("POST", "/api/v1/replica/leases", { body: { name: "x", applied: cursor } })).status,
    401,
  );

  assert.equal((await end(lease.id)).status, 204);

  // The limit, with a key of its own (the leases other tests leave do not count).
  const limited = (await buildServiceKey(t, "limited")).token;
  const many: string[] = [];
  for (let i = 0; i < 100; i++) {
    const res = await open(cursor, `host-${i}`, limited);
    assert.equal(res.status, 201, res.text);
    many.push(res.json.id);
  }
  const over = await open(cursor, "one too many", limited);
  assert.equal(over.status, 409);
  assert.equal(over.json.code, "conflict");
  assert.equal((await open(cursor, "the other key's", other)).status, 201, "another key has its own 100");
  for (const id of many) assert.equal((await end(id, limited)).status, 204);
  assert.equal((await open(cursor, "room again", limited)).status, 201);
  await t.db.deleteFrom("replica_leases").execute();
});
