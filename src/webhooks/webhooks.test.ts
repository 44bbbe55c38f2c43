// An organisation's webhooks end to end (docs/webhooks.md, DESIGN §8): the routes, a delivery
// written in the event's transaction, posted by the worker to receivers on 127.0.0.1 that verify
// every delivery with the Standard Webhooks library, retries, a 410, rotation and the address
// rules. How the worker shares its posts: worker.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { buildUser, type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import { eventually } from "../../test/helpers/eventually.js";
import { buildInvitation } from "../../test/helpers/invitations.js";
import { buildOrg, joinOrg, type Org } from "../../test/helpers/org.js";
import { WEBHOOK_TEST_ENV, webhookKit } from "../../test/helpers/webhooks.js";
import { MAX_WEBHOOKS_PER_ORG } from "./model.js";

let t: TestApp;
const { receiver, closeReceivers, makeWebhook, deliveries, newWorkspace } = webhookKit(() => t);
before(async () => {
  t = await testApp(WEBHOOK_TEST_ENV);
});
after(async () => {
  await t.close();
  await closeReceivers();
});

/** Someone joins through an invite link: member.added (and nothing else at org level). */
async function joinThroughLink(org: Org): Promise<SignedUp> {
  const invitation = await buildInvitation(t, {
    orgId: org.orgId,
    invitedBy: { userId: org.owner.userId, name: org.owner.name },
  });
  const joiner = await buildUser(t, { name: "Jo Joiner" });
  const res = await t.request("POST", "/api/v1/invitations/accept", {
    token: joiner.token,
    body: { token: invitation.token },
  });
  assert.equal(res.status, 200, res.text);
  return joiner;
}

describe("deliveries", () => {
  test("a member added: one delivery, signed, with the type, the timestamp and the whole public event", async () => {
    const org = await buildOrg(t);
    const r = await receiver();
    const hook = await makeWebhook(org, r);
    // An endpoint with every type hears of its own creation first.
    await r.waitFor((d) => d.payload?.type === "webhook.created");

    const joiner = await joinThroughLink(org);
    const got = await r.waitFor((d) => d.payload?.type === "member.added");
    assert.equal(got.verifiedWith.get(hook.secret), true);
    assert.equal(got.headers["content-type"], "application/json");
    assert.equal(got.headers["user-agent"], "Rollcall-Webhooks/1");

    // The same event as the feed shows it (less its place in the feed).
    const event = await eventually(
      async () => {
        const feed = await t.request("GET", `/api/v1/orgs/${org.orgId}/events?types=member.added`, {
          token: org.owner.token,
        });
        const found = feed.json.items.find(
          (e: { data: { userId?: string } }) => e.data.userId === joiner.userId,
        );
        assert.ok(found, feed.text);
        const { cursor: _, ...shown } = found;
        return shown;
      },
      5000,
      "member.added in the feed",
    );
    assert.equal(got.headers["webhook-id"], event.id, "webhook-id is the event id");
    assert.deepEqual(got.payload, { type: "member.added", timestamp: event.at, data: event });
    assert.equal(got.payload.data.data.userId, joiner.userId);
    assert.equal(got.payload.data.data.toRole, "member");
    assert.equal(got.payload.data.orgId, org.orgId);
    assert.equal(r.received.filter((d) => d.payload?.type === "member.added").length, 1);

    const log = await eventually(
      async () => {
        // webhook.created, then invitation.accepted and member.added, in the join's transaction.
        const page = await deliveries(org, hook.id, "?status=delivered");
        assert.equal(page.items.length, 3);
        return page;
      },
      5000,
      "every delivery recorded",
    );
    // The join wrote member.added, then invitation.accepted.
    assert.deepEqual(
      log.items.map((d: { type: string }) => d.type),
      ["invitation.accepted", "member.added", "webhook.created"],
    );
    const memberAdded = log.items[1];
    assert.equal(memberAdded.eventId, event.id);
    assert.equal(memberAdded.type, "member.added");
    assert.equal(memberAdded.attempts, 1);
    assert.equal(memberAdded.responseStatus, 204);
    assert.equal(memberAdded.nextAttemptAt, null);
    assert.equal(memberAdded.error, null);

    const list = await t.request("GET", `/api/v1/orgs/${org.orgId}/webhooks`, { token: org.owner.token });
    assert.equal(list.json.items[0].lastDelivery.status, "delivered");
    assert.equal(list.json.items[0].lastDelivery.responseStatus, 204);
    assert.ok(!list.text.includes(hook.secret), "the list never shows a secret");
  });

  test("types: an endpoint gets only the types it chose; a rolled-back change sends nothing", async () => {
    const org = await buildOrg(t);
    const ws = await receiver();
    const members = await receiver();
    const wsHook = await makeWebhook(org, ws, { types: ["workspace.created"] });
    const membersHook = await makeWebhook(org, members, { types: ["member.added", "member.removed"] });
    await newWorkspace(org, "Field Ops");
    const got = await ws.waitFor((d) => d.payload?.type === "workspace.created");
    assert.equal(got.payload.data.data.name, "Field Ops");
    // Written in the event's transaction: what is not in the table now never will be.
    const rows = await t.db
      .selectFrom("webhook_deliveries")
      .select(["endpoint_id", "type"])
      .where("org_id", "=", org.orgId)
      .execute();
    assert.deepEqual(rows, [{ endpoint_id: wsHook.id, type: "workspace.created" }]);
    assert.equal((await deliveries(org, membersHook.id)).items.length, 0);
    // A change refused (a duplicate workspace name is fine, so: a bad one) writes no event and no delivery.
    const bad = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
      token: org.owner.token,
      body: { name: "" },
    });
    assert.equal(bad.status, 400);
    assert.equal((await deliveries(org, wsHook.id)).items.length, 1);
  });

  test("the test event: sent to this endpoint whatever its types, verified, and only to it", async () => {
    const org = await buildOrg(t);
    const r = await receiver();
    const other = await receiver();
    const hook = await makeWebhook(org, r, { types: ["member.removed"] });
    await makeWebhook(org, other);
    const res = await t.request("POST", `/api/v1/orgs/${org.orgId}/webhooks/${hook.id}/test`, {
      token: org.owner.token,
    });
    assert.equal(res.status, 202, res.text);
    const got = await r.waitFor((d) => d.payload?.type === "webhook.test");
    assert.equal(got.verifiedWith.get(hook.secret), true);
    assert.equal(got.payload.data.data.webhookId, hook.id);
    assert.equal(got.payload.data.actor.id, org.owner.userId);
    assert.equal(got.headers["webhook-id"], got.payload.data.id);
    await sleep(200);
    assert.ok(!other.received.some((d) => d.payload?.type === "webhook.test"), "no other endpoint gets it");
  });

  test("rotation: both secrets sign for 24 h, each one alone verifies; then only the new one", async () => {
    const org = await buildOrg(t);
    const r = await receiver();
    const hook = await makeWebhook(org, r, { types: ["workspace.created"] });
    const rotated = await t.request("POST", `/api/v1/orgs/${org.orgId}/webhooks/${hook.id}/rotate-secret`, {
      token: org.owner.token,
    });
    assert.equal(rotated.status, 200, rotated.text);
    const fresh: string = rotated.json.secret;
    assert.notEqual(fresh, hook.secret);
    r.secrets.push(fresh);

    await newWorkspace(org, "During the overlap");
    const during = await r.waitFor((d) => d.payload?.data.data.name === "During the overlap");
    assert.equal(String(during.headers["webhook-signature"]).split(" ").length, 2);
    assert.equal(during.verifiedWith.get(hook.secret), true, "the old secret alone verifies");
    assert.equal(during.verifiedWith.get(fresh), true, "the new secret alone verifies");

    const row = await t.db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("id", "=", hook.id)
      .executeTakeFirstOrThrow();
    const hours = (row.previous_secret_expires_at!.getTime() - Date.now()) / 3_600_000;
    assert.ok(hours > 23.9 && hours <= 24, String(hours));
    await t.db
      .updateTable("webhook_endpoints")
      .set({ previous_secret_expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", hook.id)
      .execute();
    await newWorkspace(org, "After the overlap");
    const later = await r.waitFor((d) => d.payload?.data.data.name === "After the overlap");
    assert.equal(String(later.headers["webhook-signature"]).split(" ").length, 1);
    assert.equal(later.verifiedWith.get(hook.secret), false);
    assert.equal(later.verifiedWith.get(fresh), true);

    const audit = await t.db
      .selectFrom("audit_events")
      .selectAll()
      .where("action", "=", "webhook.secret_rotated")
      .where("target_id", "=", hook.id)
      .executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(audit).includes(fresh.slice(6)), "no secret in the trail");
  });

  test("a 500 then a 200: delivered on the retry, with the same webhook-id and a fresh signature", async () => {
    console.time("b");
    const org = await buildOrg(t);
    console.timeLog("b");
    console.time("a");
    const r = await receiver((n) => (n === 0 ? 500 : 200));
    console.timeLog("a");
    const hook = await makeWebhook(org, r, { types: ["workspace.created"] });
    console.timeLog("a");
    await newWorkspace(org, "Retried");
    console.timeLog("a");
    await eventually(async () => assert.ok(r.received.length >= 2), 5000, "a second attempt");
    const [first, second] = r.received;
    assert.ok(first && second);
    assert.equal(first.status, 500);
    assert.equal(second.status, 200);
    assert.equal(second.headers["webhook-id"], first.headers["webhook-id"]);
    assert.equal(second.body, first.body, "the same content on every attempt");
    assert.equal(second.verifiedWith.get(hook.secret), true);
    const [delivery] = (
      await eventually(
        async () => {
          const page = await deliveries(org, hook.id, "?status=delivered");
          assert.equal(page.items.length, 1);
          return page;
        },
        5000,
        "the retry recorded",
      )
    ).items;
    assert.equal(delivery.attempts, 2);
    assert.equal(delivery.responseStatus, 200);
  });

  test("a 410 turns the endpoint off and fails what it had pending; turned on again, a failed delivery is retried by hand", async () => {
    const org = await buildOrg(t);
    let gone = true;
    const r = await receiver(() => (gone ? 410 : 204));
    const hook = await makeWebhook(org, r, { types: ["workspace.created"] });
    await newWorkspace(org, "Gone");
    const webhook = await eventually(
      async () => {
        const list = await t.request("GET", `/api/v1/orgs/${org.orgId}/webhooks`, { token: org.owner.token });
        assert.equal(list.json.items[0].enabled, false);
        return list.json.items[0];
      },
      5000,
      "turned off",
    );
    assert.match(webhook.disabledReason, /410/);
    assert.deepEqual(
      { status: webhook.lastDelivery.status, responseStatus: webhook.lastDelivery.responseStatus },
      { status: "failed", responseStatus: 410 },
    );
    const audit = await t.db
      .selectFrom("audit_events")
      .selectAll()
      .where("action", "=", "webhook.updated")
      .where("target_id", "=", hook.id)
      .executeTakeFirstOrThrow();
    assert.equal(audit.actor_type, "system");
    assert.deepEqual(audit.data.changes, { enabled: { from: true, to: false } });

    // Turned off: nothing more is written for it.
    await newWorkspace(org, "While off");
    assert.equal((await deliveries(org, hook.id)).items.length, 1);

    gone = false;
    const on = await t.request("PATCH", `/api/v1/orgs/${org.orgId}/webhooks/${hook.id}`, {
      token: org.owner.token,
      body: { enabled: true },
    });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.json.webhook.enabled, true);
    assert.equal(on.json.webhook.disabledReason, null);

    const [failed] = (await deliveries(org, hook.id, "?status=failed")).items;
    assert.equal(failed.error, "The endpoint answered 410 Gone.");
    const retry = await t.request(
      "POST",
      `/api/v1/orgs/${org.orgId}/webhooks/${hook.id}/deliveries/${failed.id}/retry`,
      {
        token: org.owner.token,
      },
    );
    assert.equal(retry.status, 202, retry.text);
    const again = await r.waitFor((d) => d.status === 204);
    assert.equal(again.headers["webhook-id"], failed.eventId);
    await eventually(
      async () => {
        const [d] = (await deliveries(org, hook.id)).items;
        assert.equal(d.status, "delivered");
        assert.equal(d.attempts, 2);
      },
      5000,
      "the retry recorded",
    );
  });

  test("the delivery log: newest first, by status, a page at a time; a retry by hand comes before the schedule's", async () => {
    const org = await buildOrg(t);
    let failing = true;
    const r = await receiver(() => (failing ? 503 : 204));
    const hook = await makeWebhook(org, r, { types: ["workspace.created"] });
    await newWorkspace(org, "One");
    await newWorkspace(org, "Two");
    await newWorkspace(org, "Three");
    // Four attempts each (5 ms, 300 ms, 1.8 s apart): the next waits 7.2 s, beyond this test.
    const stuck = await eventually(
      async () => {
        const page = await deliveries(org, hook.id, "?status=pending");
        assert.equal(page.items.length, 3);
        // attempts counts a claim at once; the fourth failure is recorded when the wait is long.
        assert.ok(
          page.items.every(
            (d: { attempts: number; nextAttemptAt: string }) =>
              d.attempts >= 4 && Date.parse(d.nextAttemptAt) > Date.now() + 3000,
          ),
          JSON.stringify(page.items),
        );
        return page.items;
      },
      15_000,
      "four attempts each",
    );
    assert.equal(stuck[0].responseStatus, 503);
    assert.equal(stuck[0].error, "The endpoint answered 503.");

    const first = await deliveries(org, hook.id, "?limit=2");
    assert.equal(first.items.length, 2);
    assert.ok(first.nextCursor);
    const second = await deliveries(org, hook.id, `?limit=2&cursor=${first.nextCursor}`);
    assert.equal(second.items.length, 1);
    assert.equal(second.nextCursor, null);
    const names = [...first.items, ...second.items].map((d: { eventId: string }) => d.eventId);
    const events = await t.db
      .selectFrom("audit_events")
      .select(["id", "data"])
      .where("org_id", "=", org.orgId)
      .where("action", "=", "workspace.created")
      .orderBy("at", "desc")
      .orderBy("id", "desc")
      // Not the organisation's first workspace, made before the webhook.
      .limit(3)
      .execute();
    assert.deepEqual(
      names,
      events.map((e) => e.id),
      "newest first",
    );
    assert.equal((await deliveries(org, hook.id, "?status=delivered")).items.length, 0);
    const badCursor = await t.request(
      "GET",
      `/api/v1/orgs/${org.orgId}/webhooks/${hook.id}/deliveries?cursor=nope`,
      { token: org.owner.token },
    );
    assert.equal(badCursor.status, 400);

    failing = false;
    const target = stuck[1];
    const retry = await t.request(
      "POST",
      `/api/v1/orgs/${org.orgId}/webhooks/${hook.id}/deliveries/${target.id}/retry`,
      {
        token: org.owner.token,
      },
    );
    assert.equal(retry.status, 202);
    const got = await r.waitFor((d) => d.status === 204, 3000);
    assert.equal(got.headers["webhook-id"], target.eventId);
    const missing = await t.request(
      "POST",
      `/api/v1/orgs/${org.orgId}/webhooks/${hook.id}/deliveries/dlv_nope/retry`,
      {
        token: org.owner.token,
      },
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, "delivery_not_found");
  });
});

describe("managing webhooks", () => {
  test("create, list, change and delete, each with its audit event; an admin API key may too", async () => {
    const org = await buildOrg(t);
    const r = await receiver();
    const made = await t.request("POST", `/api/v1/orgs/${org.orgId}/webhooks`, {
      token: org.owner.token,
      body: { url: r.url, types: ["member.added"], description: "  CRM sync  " },
    });
    assert.equal(made.status, 201, made.text);
    const webhook = made.json.webhook;
    assert.deepEqual(
      { ...webhook, id: undefined, createdAt: undefined },
      {
        id: undefined,
        url: r.url,
        types: ["member.added"],
        description: "CRM sync",
        enabled: true,
        disabledReason: null,
        createdAt: undefined,
        lastDelivery: null,
      },
    );
    const stored = await t.db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("id", "=", webhook.id)
      .executeTakeFirstOrThrow();
    assert.equal(stored.secret, made.json.secret, "kept as it is, to sign with (docs/webhooks.md)");

    const patched = await t.request("PATCH", `/api/v1/orgs/${org.orgId}/webhooks/${webhook.id}`, {
      token: org.owner.token,
      body: { types: [], description: null, enabled: false },
    });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(
      [patched.json.webhook.types, patched.json.webhook.description, patched.json.webhook.enabled],
      [[], null, false],
    );

    const key = await t.request("POST", `/api/v1/orgs/${org.orgId}/api-keys`, {
      token: org.owner.token,
      body: { name: "ops", role: "admin" },
    });
    assert.equal(key.status, 201, key.text);
    const byKey = await t.request("POST", `/api/v1/orgs/${org.orgId}/webhooks`, {
      token: key.json.token,
      body: { url: `${r.url}/by-key` },
    });
    assert.equal(byKey.status, 201, byKey.text);

    const removed = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/webhooks/${webhook.id}`, {
      token: org.owner.token,
    });
    assert.equal(removed.status, 204);
    const list = await t.request("GET", `/api/v1/orgs/${org.orgId}/webhooks`, { token: org.owner.token });
    assert.deepEqual(
      list.json.items.map((w: { id: string }) => w.id),
      [byKey.json.webhook.id],
    );
    const actions = await t.db
      .selectFrom("audit_events")
      .select(["action", "actor_type", "data"])
      .where("org_id", "=", org.orgId)
      .where("action", "like", "webhook.%")
      .orderBy("seq")
      .execute();
    assert.deepEqual(
      actions.map((a) => [a.action, a.actor_type]),
      [
        ["webhook.created", "user"],
        ["webhook.updated", "user"],
        ["webhook.created", "api_key"],
        ["webhook.deleted", "user"],
      ],
    );
    assert.deepEqual(actions[1]?.data.changes, {
      types: { from: ["member.added"], to: [] },
      description: { from: "CRM sync", to: null },
      enabled: { from: true, to: false },
    });
  });

  test("permission: a member gets 403, another organisation 404 on every route", async () => {
    const org = await buildOrg(t);
    const r = await receiver();
    const hook = await makeWebhook(org, r, { types: ["member.added"] });
    const member = await joinOrg(t, org.orgId, "member");
    const stranger = await buildOrg(t, "Sam Stranger");
    const base = `/api/v1/orgs/${org.orgId}/webhooks`;
    const routes: [string, string, unknown?][] = [
      ["POST", base, { url: r.url }],
      ["GET", base],
      ["PATCH", `${base}/${hook.id}`, { enabled: false }],
      ["DELETE", `${base}/${hook.id}`],
      ["POST", `${base}/${hook.id}/rotate-secret`],
      ["POST", `${base}/${hook.id}/test`],
      ["GET", `${base}/${hook.id}/deliveries`],
      ["POST", `${base}/${hook.id}/deliveries/dlv_x/retry`],
    ];
    for (const [method, path, body] of routes) {
      const asMember = await t.request(method, path, { token: member.token, body });
      assert.equal(asMember.status, 403, `${method} ${path}: ${asMember.text}`);
      assert.equal(asMember.json.code, "forbidden");
      const asStranger = await t.request(method, path, { token: stranger.owner.token, body });
      assert.equal(asStranger.status, 404, `${method} ${path}: ${asStranger.text}`);
      assert.equal(asStranger.json.code, "organization_not_found");
    }
    // The webhook's id through the stranger's own organisation: as if it did not exist.
    const strangerBase = `/api/v1/orgs/${stranger.orgId}/webhooks/${hook.id}`;
    for (const [method, path, body] of [
      ["PATCH", strangerBase, { enabled: false }],
      ["DELETE", strangerBase],
      ["POST", `${strangerBase}/rotate-secret`],
      ["POST", `${strangerBase}/test`],
      ["GET", `${strangerBase}/deliveries`],
    ] as [string, string, unknown?][]) {
      const res = await t.request(method, path, { token: stranger.owner.token, body });
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
      assert.equal(res.json.code, "webhook_not_found");
    }
    const row = await t.db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("id", "=", hook.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.enabled, true);
    assert.equal(row.secret, hook.secret);
    assert.equal(
      (await t.db.selectFrom("webhook_deliveries").select("id").where("endpoint_id", "=", hook.id).execute())
        .length,
      0,
    );
  });

  test("bad input is a 400 that changes nothing; the 21st endpoint is a 409", async () => {
    const org = await buildOrg(t);
    const r = await receiver();
    const hook = await makeWebhook(org, r, { types: ["member.added"] });
    const base = `/api/v1/orgs/${org.orgId}/webhooks`;
    const bad: Record<string, unknown>[] = [
      {},
      { url: "not a url" },
      { url: "ftp://example.com/in" },
      { url: "https://user:pass@example.com/in" },
      { url: "https://example.com/in#frag" },
      { url: `https://example.com/${"a".repeat(2100)}` },
      { url: r.url, types: ["member.exploded"] },
      { url: r.url, types: ["member.added", "member.added"] },
      { url: r.url, description: "d".repeat(501) },
    ];
    for (const body of bad) {
      const res = await t.request("POST", base, { token: org.owner.token, body });
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
      assert.equal(res.json.code, "validation_failed");
    }
    for (const body of [
      { url: "gopher://x" },
      { types: ["nope"] },
      { enabled: "yes" },
      { description: "d".repeat(501) },
    ]) {
      const res = await t.request("PATCH", `${base}/${hook.id}`, { token: org.owner.token, body });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
    }
    const rows = await t.db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("org_id", "=", org.orgId)
      .execute();
    assert.equal(rows.length, 1);
    assert.deepEqual([rows[0]?.url, rows[0]?.types, rows[0]?.enabled], [r.url, ["member.added"], true]);

    for (let i = 1; i < MAX_WEBHOOKS_PER_ORG; i++) await makeWebhook(org, r, { types: ["member.left"] });
    const over = await t.request("POST", base, { token: org.owner.token, body: { url: r.url } });
    assert.equal(over.status, 409, over.text);
    assert.equal(over.json.code, "too_many_webhooks");
  });
});

describe("where webhooks may go", () => {
  test("without the flags: a loopback URL is refused at creation; a name resolving to a private address fails its attempt", async () => {
    const strict = await testApp(
      { WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_RETRY_SCALE: "0.001", EVENTS_POLL_MS: "50" },
      {
        webhookLookup: async (host) => {
          if (host === "inside.example.test") return [{ address: "10.1.2.3", family: 4 }];
          throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
        },
      },
    );
    try {
      const org = await buildOrg(strict);
      for (const url of [
        "http://127.0.0.1:8080/in",
        "https://127.0.0.1/in",
        "http://[::1]/in",
        "http://169.254.169.254/latest",
      ]) {
        const res = await strict.request("POST", `/api/v1/orgs/${org.orgId}/webhooks`, {
          token: org.owner.token,
          body: { url },
        });
        assert.equal(res.status, 400, `${url}: ${res.text}`);
        assert.equal(res.json.errors[0].field, "url");
      }
      const made = await strict.request("POST", `/api/v1/orgs/${org.orgId}/webhooks`, {
        token: org.owner.token,
        body: { url: "http://inside.example.test/in", types: ["member.added"] },
      });
      assert.equal(made.status, 201, made.text);
      const id = made.json.webhook.id;
      const sent = await strict.request("POST", `/api/v1/orgs/${org.orgId}/webhooks/${id}/test`, {
        token: org.owner.token,
      });
      assert.equal(sent.status, 202);
      const delivery = await eventually(
        async () => {
          const page = await strict.request("GET", `/api/v1/orgs/${org.orgId}/webhooks/${id}/deliveries`, {
            token: org.owner.token,
          });
          const [d] = page.json.items;
          assert.ok(d.attempts >= 1 && d.error, JSON.stringify(d));
          return d;
        },
        5000,
        "the attempt recorded",
      );
      assert.equal(
        delivery.error,
        "inside.example.test resolves to a private address; webhooks go to public addresses only.",
      );
      assert.equal(delivery.responseStatus, null);
      assert.notEqual(delivery.status, "delivered");
    } finally {
      await strict.close();
    }
  });
});
