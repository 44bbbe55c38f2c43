// The freshness protocol across servers (docs/replica.md#freshness): a client follows the stream
// and holds its lease on server B; a removal made through server A answers only once the client,
// acknowledging to B, has applied it — B's acknowledgement reaches A's waiting removal through the
// table and NOTIFY — and well before the lease would have run out. The event itself reaches B's
// stream through NOTIFY too (the poll is set to a minute).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Rollcall } from "../../packages/client/src/index.js";
import { type Sibling, type TestApp, testApp } from "../helpers/app.js";
import { buildServiceKey } from "../helpers/keys.js";
import { buildOrg, joinOrg, type Org } from "../helpers/org.js";

const LEASE_MS = 5000;
let t: TestApp;
let b: Sibling;
let org: Org;
let client: Rollcall;
const people: string[] = [];

before(async () => {
  t = await testApp({ REPLICA_LEASE_MS: String(LEASE_MS), EVENTS_POLL_MS: "60000" });
  b = await t.sibling();
  const onB = await b.app.fastify.listen({ port: 0, host: "127.0.0.1" });
  org = await buildOrg(t);
  for (let i = 0; i < 5; i++) people.push((await joinOrg(t, org.orgId, "member", `Person ${i}`)).userId);
  client = new Rollcall({ url: onB, serviceKey: (await buildServiceKey(t, "on B")).token });
  await client.ready();
});
after(async () => {
  await client.close();
  await b.close();
  await t.close();
});

test("a removal through one server waits for the acknowledgement sent to the other, and no longer", async () => {
  for (const userId of people) {
    assert.equal(client.canInOrg({ userId, orgId: org.orgId, permission: "org.read" }).allowed, true);
    const started = performance.now();
    const res = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${userId}`, {
      token: org.owner.token,
    });
    const took = performance.now() - started;
    assert.equal(res.status, 204, res.text);
    // Answered: the client on the other server has applied it.
    assert.deepEqual(client.canInOrg({ userId, orgId: org.orgId, permission: "org.read" }), {
      allowed: false,
      role: null,
      reason: "not a member of this organisation",
    });
    assert.ok(
      took < LEASE_MS / 2,
      `answered after ${Math.round(took)} ms: it waited for the lease, not the acknowledgement`,
    );
  }
  assert.equal(client.live, true);
});
