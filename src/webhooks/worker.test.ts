// How the worker shares its posts (docs/webhooks.md, "How deliveries are made"): two servers on
// one database post each delivery once; a slow receiver holds up only its own share (at most
// PER_ENDPOINT posts at once), and an organisation with many slow endpoints only its own
// (PER_ORG): another organisation's deliveries go at once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type TestApp, testApp } from "../../test/helpers/app.js";
import { eventually } from "../../test/helpers/eventually.js";
import { buildOrg } from "../../test/helpers/org.js";
import { WEBHOOK_TEST_ENV, webhookKit } from "../../test/helpers/webhooks.js";
import { PER_ENDPOINT, PER_ORG } from "./worker.js";

let t: TestApp;
const { receiver, closeReceivers, makeWebhook, deliveries, newWorkspace } = webhookKit(() => t);
before(async () => {
  t = await testApp(WEBHOOK_TEST_ENV);
});
after(async () => {
  await t.close();
  await closeReceivers();
});

/** A receiver that keeps each post open `holdMs`, counting how many are open at once, in all and per path. */
async function slowReceiver(holdMs: number) {
  const open = { now: 0, most: 0, byPath: new Map<string, number>(), mostOnOnePath: 0 };
  const r = await receiver(async (_n, d) => {
    open.now++;
    open.most = Math.max(open.most, open.now);
    const onPath = (open.byPath.get(d.path) ?? 0) + 1;
    open.byPath.set(d.path, onPath);
    open.mostOnOnePath = Math.max(open.mostOnOnePath, onPath);
    await sleep(holdMs);
    open.now--;
    open.byPath.set(d.path, (open.byPath.get(d.path) ?? 1) - 1);
    return 204;
  });
  return { r, open };
}

describe("the worker", () => {
  test("two servers on one database: each delivery is posted once", async () => {
    const sibling = await t.sibling();
    try {
      const org = await buildOrg(t);
      const r = await receiver();
      await makeWebhook(org, r, { types: ["workspace.created"] });
      const names = Array.from({ length: 12 }, (_, i) => `Parallel ${i}`);
      // Half the changes through each server: each server's commits wake its own worker first.
      await Promise.all(names.map((name, i) => newWorkspace(org, name, i % 2 === 0 ? t : sibling)));
      await eventually(
        async () => assert.equal(new Set(r.received.map((d) => d.headers["webhook-id"])).size, names.length),
        10_000,
        "every event delivered",
      );
      await sleep(500);
      const ids = r.received.map((d) => String(d.headers["webhook-id"]));
      assert.equal(ids.length, new Set(ids).size, "none posted twice");
      const rows = await t.db
        .selectFrom("webhook_deliveries")
        .select(["status", "attempts"])
        .where("org_id", "=", org.orgId)
        .execute();
      assert.ok(
        rows.every((row) => row.status === "delivered" && row.attempts === 1),
        JSON.stringify(rows),
      );
    } finally {
      await sibling.close();
    }
  });

  test("a slow receiver holds up only its own deliveries, at most PER_ENDPOINT at once", async () => {
    const org = await buildOrg(t);
    // The slow receiver holds each post 4 s — long beside what the fast one needs even on a busy
    // machine running tests side by side, and within the tests' 5 s delivery timeout.
    const slow = await slowReceiver(4000);
    const fast = await receiver();
    const slowHook = await makeWebhook(org, slow.r, { types: ["workspace.created"] });
    await makeWebhook(org, fast, { types: ["workspace.created"] });
    const names = Array.from({ length: PER_ENDPOINT + 2 }, (_, i) => `Slow ${i}`);
    const started = Date.now();
    for (const name of names) await newWorkspace(org, name);
    for (const name of names) await fast.waitFor((d) => d.payload?.data.data.name === name, 3800);
    const fastDone = Date.now() - started;
    assert.ok(fastDone < 3800, `the fast endpoint had them all within ${fastDone} ms`);
    assert.equal(slow.r.received.length, 0, "the slow one has answered none yet");
    await eventually(
      async () => assert.equal(slow.r.received.length, names.length),
      25_000,
      "the slow endpoint gets them all",
    );
    assert.equal(slow.open.most, PER_ENDPOINT, "never more than its share open at once, and its share used");
    // The receiver counts a post before its answer reaches the worker: the last one is recorded a moment later.
    await eventually(
      async () => assert.equal((await deliveries(org, slowHook.id, "?status=pending")).items.length, 0),
      5000,
      "every delivery recorded",
    );
  });

  test("an organisation's slow endpoints hold at most PER_ORG posts: another organisation's go at once", async () => {
    const greedy = await buildOrg(t, "Greedy Owner");
    const slow = await slowReceiver(3000);
    // More slow endpoints than the organisation's share can keep busy.
    const endpoints = Math.ceil(PER_ORG / PER_ENDPOINT) + 1;
    for (let i = 0; i < endpoints; i++) {
      await makeWebhook(greedy, { ...slow.r, url: `${slow.r.url}/e${i}` }, { types: ["workspace.created"] });
    }
    for (let i = 0; i < PER_ENDPOINT; i++) await newWorkspace(greedy, `Greedy ${i}`);
    await eventually(async () => assert.equal(slow.open.now, PER_ORG), 2000, "the share in flight");

    const other = await buildOrg(t, "Other Owner");
    const fast = await receiver();
    await makeWebhook(other, fast, { types: ["workspace.created"] });
    const asked = Date.now();
    await newWorkspace(other, "Not held up");
    const got = await fast.waitFor((d) => d.payload?.data.data.name === "Not held up", 1500);
    assert.ok(got.at - asked < 1000, `delivered ${got.at - asked} ms after the change`);
    assert.equal(slow.open.now, PER_ORG, "the slow organisation still holds only its share");
    assert.equal(slow.open.most, PER_ORG);
    assert.ok(slow.open.mostOnOnePath <= PER_ENDPOINT);
    await eventually(
      async () => assert.equal(slow.r.received.length, endpoints * PER_ENDPOINT),
      20_000,
      "the slow organisation's deliveries all made in the end",
    );
  });
});
