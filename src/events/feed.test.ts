// The event feed (docs/events.md): one event per change in its public shape, oldest first from a
// cursor, filtered by type, for org.apikeys holders and the organisation's API keys; 410 for a
// cursor past retention. The live streams, over real HTTP with a real EventSource client.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { connect } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { EventSource } from "eventsource";
import { buildUser, type SignedUp, type TestApp, testApp } from "../../test/helpers/app.js";
import { createServiceKey, revokeServiceKey } from "../apikeys/service-keys.js";
import { SingleFlight } from "../core/single-flight.js";
import { heldBack } from "./feed.js";
import { EventStream } from "./stream.js";

let t: TestApp;
let base: string;
before(async () => {
  t = await testApp({ EVENTS_HEARTBEAT_MS: "200", EVENTS_STALL_MS: "1500", EVENTS_POLL_MS: "200" });
  base = await t.app.fastify.listen({ port: 0, host: "127.0.0.1" });
});
after(async () => {
  await t.close();
});

interface Org {
  owner: SignedUp;
  orgId: string;
}

async function newOrg(name = "Feed Co"): Promise<Org> {
  const owner = await buildUser(t, { name: "Olive Owner", organizationName: name });
  const me = await t.request("GET", "/api/v1/me", { token: owner.token });
  return { owner, orgId: me.json.organizations[0].id };
}

async function addMember(org: Org, name = "Mia Member"): Promise<SignedUp> {
  const u = await buildUser(t, { name });
  const link = await t.request("POST", `/api/v1/orgs/${org.orgId}/invitations`, {
    token: org.owner.token,
    body: { delivery: "link", role: "member" },
  });
  assert.equal(link.status, 201, link.text);
  const token = String(link.json.url).split("/invite/")[1];
  const accepted = await t.request("POST", "/api/v1/invitations/accept", { token: u.token, body: { token } });
  assert.equal(accepted.status, 200, accepted.text);
  return u;
}

/**
 * The feed once every event written so far can be read: on PostgreSQL a transaction of another
 * connection (the mail worker's, say) can hold the newest back for a moment (docs/events.md).
 */
async function feed(org: Org, query = "", token = org.owner.token) {
  for (let i = 0; i < 100 && (await heldBack(t.db)); i++) await new Promise((r) => setTimeout(r, 50));
  return t.request("GET", `/api/v1/orgs/${org.orgId}/events${query}`, { token });
}

describe("the feed", () => {
  test("one event per change, oldest first, in the public shape with ids and roles before and after", async () => {
    const org = await newOrg();
    const mia = await addMember(org);
    const changed = await t.request("PATCH", `/api/v1/orgs/${org.orgId}/members/${mia.userId}`, {
      token: org.owner.token,
      body: { role: "admin" },
    });
    assert.equal(changed.status, 200, changed.text);
    await t.request("PATCH", `/api/v1/orgs/${org.orgId}`, {
      token: org.owner.token,
      body: { name: "Feed Co 2" },
    });
    await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${mia.userId}`, { token: org.owner.token });

    const res = await feed(org);
    assert.equal(res.status, 200, res.text);
    const types = res.json.items.map((e: { type: string }) => e.type);
    assert.deepEqual(types.slice(-5), [
      "member.added",
      "invitation.accepted",
      "member.role_changed",
      "organization.updated",
      "member.removed",
    ]);
    const byType = (type: string) => res.json.items.find((e: { type: string }) => e.type === type);
    const roleChanged = byType("member.role_changed");
    assert.equal(roleChanged.orgId, org.orgId);
    assert.deepEqual(roleChanged.actor, { type: "user", id: org.owner.userId, name: "Olive Owner" });
    assert.equal(roleChanged.data.userId, mia.userId);
    assert.equal(roleChanged.data.fromRole, "member");
    assert.equal(roleChanged.data.toRole, "admin");
    assert.equal(byType("member.removed").data.fromRole, "admin");
    assert.equal(byType("member.removed").data.toRole, null);
    assert.deepEqual(byType("organization.updated").data.changes, {
      name: { from: "Feed Co", to: "Feed Co 2" },
    });
    // Oldest first, each with the cursor of its place.
    const cursors = res.json.items.map((e: { cursor: string }) => e.cursor);
    assert.equal(new Set(cursors).size, cursors.length);
    assert.equal(res.json.nextCursor, cursors.at(-1));
  });

  test("a cursor walks every event once; types filter; nothing new answers the same cursor", async () => {
    const org = await newOrg();
    for (const name of ["A", "B", "C"]) {
      await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
        token: org.owner.token,
        body: { name },
      });
    }
    const all = (await feed(org, "?limit=500")).json.items.map((e: { id: string }) => e.id);
    const walked: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page = await feed(org, `?limit=2${cursor ? `&after=${cursor}` : ""}`);
      walked.push(...page.json.items.map((e: { id: string }) => e.id));
      if (page.json.items.length === 0) {
        assert.equal(page.json.nextCursor, cursor, "nothing new: the same cursor back");
        break;
      }
      cursor = page.json.nextCursor;
    }
    assert.deepEqual(walked, all);
    const only = await feed(org, "?types=workspace.created");
    assert.deepEqual(
      only.json.items.map((e: { type: string; data: { name: string } }) => [e.type, e.data.name]).slice(-3),
      [
        ["workspace.created", "A"],
        ["workspace.created", "B"],
        ["workspace.created", "C"],
      ],
    );
    assert.ok(only.json.items.every((e: { type: string }) => e.type === "workspace.created"));
  });

  test("a cursor past retention answers 410 cursor_expired; junk 400; another organisation 404; a member 403", async () => {
    const org = await newOrg();
    const first = (await feed(org)).json.items[0];
    await t.db
      .updateTable("audit_events")
      .set({ at: new Date(Date.now() - 31 * 86_400_000) } as never)
      .where("id", "=", first.id)
      .execute();
    const expired = await feed(org, `?after=${first.cursor}`);
    assert.equal(expired.status, 410);
    assert.equal(expired.json.code, "cursor_expired");
    for (const junk of ["abc", "1.2.3", "-1.5", "99999999999999999999.1", "1.9999999999999999999"]) {
      const res = await feed(org, `?after=${encodeURIComponent(junk)}`);
      assert.equal(res.status, 400, junk);
    }
    const badType = await feed(org, "?types=Member%20Added");
    assert.equal(badType.status, 400);
    const other = await newOrg("Other Co");
    const res = await feed(org, "", other.owner.token);
    assert.equal(res.status, 404);
    const mia = await addMember(org);
    const refused = await feed(org, "", mia.token);
    assert.equal(refused.status, 403);
  });

  test("an API key with org.apikeys reads the feed, and its own changes appear with it as the actor", async () => {
    const org = await newOrg();
    const key = await t.request("POST", `/api/v1/orgs/${org.orgId}/api-keys`, {
      token: org.owner.token,
      body: { name: "Sync", role: "admin" },
    });
    const token = key.json.token as string;
    await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, { token, body: { name: "By key" } });
    const res = await feed(org, "?types=workspace.created,api_key.created", token);
    assert.equal(res.status, 200, res.text);
    const made = res.json.items.find((e: { type: string }) => e.type === "api_key.created");
    const created = res.json.items.find((e: { data: { name?: string } }) => e.data.name === "By key");
    assert.ok(made && created, res.text);
    assert.equal(made.data.apiKeyId, key.json.apiKey.id);
    assert.ok(!JSON.stringify(made).includes(token), "an event never carries a token");
    assert.deepEqual(created.actor, { type: "api_key", id: key.json.apiKey.id, name: "Sync" });
    assert.match(created.data.workspaceId, /^wsp_/);
  });
});

/** An EventSource on the server with a bearer token; its events collected in order. */
function listen(path: string, token: string) {
  const received: {
    id: string;
    type: string;
    data: { type: string; id: string; orgId: string | null; data: Record<string, unknown> };
  }[] = [];
  const source = new EventSource(`${base}${path}`, {
    fetch: (input, init) =>
      fetch(input, { ...init, headers: { ...(init?.headers ?? {}), authorization: `Bearer ${token}` } }),
  });
  const onEvent = (e: MessageEvent) => {
    received.push({ id: e.lastEventId, type: e.type, data: JSON.parse(e.data) });
  };
  for (const type of [
    "member.added",
    "workspace.created",
    "workspace.deleted",
    "invitation.created",
    "organization.created",
  ]) {
    source.addEventListener(type, onEvent);
  }
  const opened = new Promise<void>((resolve, reject) => {
    source.onopen = () => resolve();
    source.onerror = (e) =>
      reject(new Error(`stream failed: ${String((e as { message?: string }).message)}`));
  });
  return { source, received, opened };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the streams", () => {
  test("live events arrive in order; a reconnect resumes from Last-Event-ID with what it missed", async () => {
    const org = await newOrg();
    const s = listen(`/api/v1/orgs/${org.orgId}/events/stream`, org.owner.token);
    try {
      await s.opened;
      const made = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
        token: org.owner.token,
        body: { name: "Live" },
      });
      await until(() => s.received.length >= 1);
      assert.equal(s.received[0]?.type, "workspace.created");
      assert.equal(s.received[0]?.data.orgId, org.orgId);
      const lastId = s.received[0]?.id ?? "";
      s.source.close();

      // Missed while away:
      await t.request("DELETE", `/api/v1/workspaces/${made.json.workspace.id}`, { token: org.owner.token });
      const back = await fetch(`${base}/api/v1/orgs/${org.orgId}/events/stream`, {
        headers: { authorization: `Bearer ${org.owner.token}`, "last-event-id": lastId },
      });
      assert.equal(back.status, 200);
      assert.match(back.headers.get("content-type") ?? "", /^text\/event-stream/);
      const reader = back.body?.getReader();
      let text = "";
      while (!text.includes("event: workspace.deleted")) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      assert.match(text, /event: workspace\.deleted/);
      assert.doesNotMatch(text, /event: workspace\.created/, "nothing before the cursor again");
      await reader?.cancel();
    } finally {
      s.source.close();
    }
  });

  test("heartbeats keep an idle stream open; a removed reader's stream ends", async () => {
    const org = await newOrg();
    const admin = await addMember(org, "Ada Admin");
    await t.request("PATCH", `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, {
      token: org.owner.token,
      body: { role: "admin" },
    });
    const res = await fetch(`${base}/api/v1/orgs/${org.orgId}/events/stream`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    const reader = res.body?.getReader();
    let text = "";
    const deadline = Date.now() + 3000;
    while (!text.includes(": heartbeat") && Date.now() < deadline) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    assert.match(text, /: heartbeat/);
    await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, {
      token: org.owner.token,
    });
    // The removal is an event: the stream looks, finds the reader gone, and ends.
    let ended = false;
    const stop = Date.now() + 3000;
    while (Date.now() < stop) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) {
        ended = true;
        break;
      }
      assert.doesNotMatch(
        new TextDecoder().decode(chunk.value),
        /event: member\.removed/,
        "nothing after removal",
      );
    }
    assert.ok(ended, "the stream ended after its reader was removed");
  });

  test("a reader that never reads holds up no writer", async () => {
    const org = await newOrg();
    const url = new URL(`${base}/api/v1/orgs/${org.orgId}/events/stream`);
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(
      `GET ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${org.owner.token}\r\n\r\n`,
    );
    // Read the headers, then stop reading for good.
    await new Promise<void>((resolve) => socket.once("data", () => resolve()));
    socket.pause();
    try {
      const started = Date.now();
      for (let i = 0; i < 60; i++) {
        const res = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
          token: org.owner.token,
          body: { name: `Busy ${i}` },
        });
        assert.equal(res.status, 201, res.text);
      }
      const writing = Date.now() - started;
      assert.ok(writing < 15_000, `60 changes took ${writing} ms beside a stuck reader`);
    } finally {
      socket.destroy();
    }
  });

  test("a stream whose socket stops taking data reads no further and is cut off after EVENTS_STALL_MS", async () => {
    const org = await newOrg();
    for (let i = 0; i < 5; i++) {
      await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
        token: org.owner.token,
        body: { name: `S${i}` },
      });
    }
    // A socket whose buffer is full from the first write on and never drains.
    class Stuck extends Writable {
      destroyedAt = 0;
      writeHead() {
        return this;
      }
      override _write(_chunk: unknown, _enc: string, _callback: () => void) {}
      override _destroy(err: Error | null, callback: (err: Error | null) => void) {
        this.destroyedAt = Date.now();
        callback(err);
      }
    }
    const res = new Stuck({ highWaterMark: 1 });
    let batches = 0;
    const stream = new EventStream(res as unknown as ServerResponse, {
      db: t.db,
      bus: t.app.services.events,
      scope: { orgId: org.orgId, types: [] },
      start: { xid: "0", seq: "0" },
      retentionDays: 30,
      heartbeatMs: 50,
      stallMs: 300,
      batchSize: 2,
      stillAllowed: async () => {
        batches++;
        return true;
      },
      onError: (err) => assert.fail(String(err)),
    });
    const started = Date.now();
    const ran = stream.run();
    t.app.services.events.wake();
    await ran;
    assert.ok(res.destroyedAt - started >= 290, `cut off after ${res.destroyedAt - started} ms`);
    assert.equal(batches, 1, "one batch read, then nothing more until the reader takes it");
  });

  // Rule 9 on a stream: the check comes after the read. A check that began before a removal
  // committed and a read after it would send the batch holding that removal to the removed reader.
  for (const shared of [false, true]) {
    test(`a batch read after the reader's removal is never sent (${shared ? "shared" : "own"} questions)`, async () => {
      const org = await newOrg();
      class Collect extends Writable {
        text = "";
        writeHead() {
          return this;
        }
        override _write(chunk: Buffer, _enc: string, callback: () => void) {
          this.text += chunk.toString();
          callback();
        }
      }
      const res = new Collect();
      let removed = false;
      let asked!: () => void;
      const firstAsk = new Promise<void>((resolve) => {
        asked = resolve;
      });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const stream = new EventStream(res as unknown as ServerResponse, {
        db: t.db,
        bus: t.app.services.events,
        scope: { orgId: org.orgId, types: ["workspace.created"] },
        start: { xid: "0", seq: "0" },
        retentionDays: 30,
        heartbeatMs: 60_000,
        // The answer is taken when asked; the first is held until the removal has committed.
        stillAllowed: async () => {
          const answer = !removed;
          asked();
          await gate;
          return answer;
        },
        shared: shared
          ? { reads: new SingleFlight(), checks: new SingleFlight(), callerKey: "reader" }
          : undefined,
        onError: (err) => assert.fail(String(err)),
      });
      const ran = stream.run();
      await firstAsk;
      const made = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
        token: org.owner.token,
        body: { name: "After removal" },
      });
      assert.equal(made.status, 201, made.text);
      removed = true;
      release();
      await ran;
      assert.match(res.text, /"General"/, "what was read before the removal is sent");
      assert.doesNotMatch(res.text, /After removal/, "nothing read after the removal is sent");
    });
  }

  test("a service key reads an organisation's stream; revoked, its stream ends and sends nothing more", async () => {
    const org = await newOrg("Gamma");
    const made = await t.db.transaction().execute((tx) => createServiceKey(tx, "org reader"));
    const s = listen(`/api/v1/orgs/${org.orgId}/events/stream`, made.token);
    try {
      await s.opened;
      const before = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
        token: org.owner.token,
        body: { name: "Seen" },
      });
      assert.equal(before.status, 201, before.text);
      await until(() => s.received.some((e) => e.type === "workspace.created"));
      assert.equal(await t.db.transaction().execute((tx) => revokeServiceKey(tx, made.key.id)), true);
      await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
        token: org.owner.token,
        body: { name: "Unseen" },
      });
      // The stream looks at the next wake, finds the key gone, and ends; the reconnect is refused.
      await until(() => s.source.readyState === EventSource.CLOSED);
      assert.deepEqual(
        s.received.filter((e) => e.type === "workspace.created").map((e) => e.data.data.name),
        ["Seen"],
      );
    } finally {
      s.source.close();
    }
  });

  test("the installation stream (service key) carries every organisation's events", async () => {
    const made = await t.db.transaction().execute((tx) => createServiceKey(tx, "host backend"));
    const s = listen("/api/v1/events/stream", made.token);
    try {
      await s.opened;
      const a = await newOrg("Alpha");
      const b = await newOrg("Beta");
      await until(() => {
        const orgs = new Set(
          s.received.filter((e) => e.type === "organization.created").map((e) => e.data.orgId),
        );
        return orgs.has(a.orgId) && orgs.has(b.orgId);
      });
      const asPerson = await fetch(`${base}/api/v1/events/stream`, {
        headers: { authorization: `Bearer ${a.owner.token}` },
      });
      assert.equal(asPerson.status, 403);
    } finally {
      s.source.close();
    }
  });
});
