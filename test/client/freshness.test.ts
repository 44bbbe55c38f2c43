// The freshness protocol end to end (docs/replica.md#freshness), with real client processes:
// three host processes each run @rollcall/client; a loop of demotions and removals, each
// followed at once by the same check in every process — not one "allowed" after the changing
// request has answered. A process paused with SIGSTOP: the removal answers within the lease, the
// paused process refuses when it wakes, then catches up and serves again. A process whose event
// stream alone is held back (a proxy between it and the server) while it runs: the same, and
// meanwhile check()/checkInOrg() get the server's answer.
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Decision } from "../../packages/client/src/index.js";
import { revokeServiceKey } from "../../src/apikeys/service-keys.js";
import { transact } from "../../src/db/transaction.js";
import { buildUser, type SignedUp, type TestApp, testApp } from "../helpers/app.js";
import { eventually } from "../helpers/eventually.js";
import { buildServiceKey } from "../helpers/keys.js";
import { buildOrg, grantWorkspaceRole, joinOrg, type Org } from "../helpers/org.js";
import { type StreamGate, startStreamGate } from "../helpers/stream-gate.js";

const LEASE_MS = 1500;
const CHECKER = fileURLToPath(new URL("./fixtures/checker.ts", import.meta.url));

let t: TestApp;
let org: Org;
const people: string[] = [];
let bystander: string;
const hosts: Host[] = [];
const extraHosts: Host[] = [];

/** One host process and its questions in flight. */
class Host {
  readonly #waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  #next = 0;
  readonly ready: Promise<void>;

  constructor(readonly child: ChildProcess) {
    this.ready = new Promise((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`a host process exited (${code}) before it was ready`)));
      child.on("message", (m: { id?: number; ready?: boolean }) => {
        if (m.ready) resolve();
        else if (m.id !== undefined) this.#waiting.get(m.id)?.(m);
      });
    });
  }

  ask(question: Record<string, string>): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.child.send({ id, ...question });
    });
  }

  async can(userId: string, permission: string): Promise<Decision> {
    return (await this.ask({ ask: "can", userId, workspaceId: org.workspaceId, permission }))
      .decision as Decision;
  }

  async canInOrg(userId: string, permission: string): Promise<Decision> {
    return (await this.ask({ ask: "canInOrg", userId, orgId: org.orgId, permission })).decision as Decision;
  }

  /** check() or checkInOrg(): from the replica while the lease is live, else the server's answer. */
  async check(userId: string, permission: string, inOrg = false): Promise<Decision> {
    const answer = inOrg
      ? await this.ask({ ask: "checkInOrg", userId, orgId: org.orgId, permission })
      : await this.ask({ ask: "check", userId, workspaceId: org.workspaceId, permission });
    if (answer.error) throw new Error(String(answer.error));
    return answer.decision as Decision;
  }

  /** Whose the session token is, by this host's verifySession(): a user id, or null. */
  async verify(token: string): Promise<string | null> {
    const answer = await this.ask({ ask: "verify", token });
    if (answer.error) throw new Error(String(answer.error));
    return answer.userId as string | null;
  }

  async live(): Promise<boolean> {
    return (await this.ask({ ask: "live" })).live as boolean;
  }
}

let url: string;
let key: string;
let gate: StreamGate | undefined;

function startHost(serviceKey: string, through = url): Host {
  const child = fork(CHECKER, {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, ROLLCALL_URL: through, ROLLCALL_SERVICE_KEY: serviceKey },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Host(child);
}

before(async () => {
  t = await testApp({ REPLICA_LEASE_MS: String(LEASE_MS) });
  key = (await buildServiceKey(t, "freshness")).token;
  url = await t.app.fastify.listen({ port: 0, host: "127.0.0.1" });
  org = await buildOrg(t);
  // Org admins and workspace editors, placed before the hosts read their snapshots.
  for (let i = 0; i < 6; i++) {
    const p = await joinOrg(t, org.orgId, "admin", `Person ${i}`);
    await grantWorkspaceRole(t, org.orgId, org.workspaceId, p.userId, "editor");
    people.push(p.userId);
  }
  bystander = (await joinOrg(t, org.orgId, "member", "Bea Bystander")).userId;
  await grantWorkspaceRole(t, org.orgId, org.workspaceId, bystander, "viewer");
  for (let i = 0; i < 3; i++) hosts.push(startHost(key));
  await Promise.all(hosts.map((h) => h.ready));
});
after(async () => {
  for (const h of [...hosts, ...extraHosts]) {
    h.child.kill("SIGCONT");
    h.child.kill("SIGTERM");
  }
  await gate?.close();
  await t.close();
});

const owner = () => org.owner.token;

/** What every host answers at once; "allowed" from any of them is counted. */
async function everyHost(check: (h: Host) => Promise<Decision>): Promise<Decision[]> {
  return Promise.all(hosts.map(check));
}

interface Step {
  name: string;
  /** The check the change takes away. */
  check: (h: Host) => Promise<Decision>;
  change: () => Promise<{ status: number; text: string }>;
}

function steps(userId: string): Step[] {
  const ws = org.workspaceId;
  return [
    {
      name: "org admin → member",
      check: (h) => h.canInOrg(userId, "org.users"),
      change: () =>
        t.request("PATCH", `/api/v1/orgs/${org.orgId}/members/${userId}`, {
          token: owner(),
          body: { role: "member" },
        }),
    },
    {
      name: "workspace editor → viewer",
      check: (h) => h.can(userId, "flows.write"),
      change: () =>
        t.request("PUT", `/api/v1/workspaces/${ws}/members/${userId}`, {
          token: owner(),
          body: { role: "viewer" },
        }),
    },
    {
      name: "removed from the workspace",
      check: (h) => h.can(userId, "flows.read"),
      change: () => t.request("DELETE", `/api/v1/workspaces/${ws}/members/${userId}`, { token: owner() }),
    },
    {
      name: "removed from the organisation",
      check: (h) => h.canInOrg(userId, "org.read"),
      change: () => t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${userId}`, { token: owner() }),
    },
  ];
}

test("after a demotion or removal answers, no host process allows what it took away", async () => {
  let changes = 0;
  const stale: string[] = [];
  for (const userId of people.slice(0, 5)) {
    for (const step of steps(userId)) {
      // Allowed before the change in every host (a host whose lease lapsed under load refuses
      // until it renews: safe, and waited for here).
      await eventually(
        async () => {
          const before = await everyHost(step.check);
          assert.ok(
            before.every((d) => d.allowed),
            `${step.name}: ${JSON.stringify(before)}`,
          );
        },
        5000,
        "allowed before the change",
      );
      const res = await step.change();
      assert.ok(res.status < 300, `${step.name}: ${res.status} ${res.text}`);
      changes++;
      const afterwards = await everyHost(step.check);
      afterwards.forEach((d, i) => {
        if (d.allowed) stale.push(`${step.name}, host ${i}: ${JSON.stringify(d)}`);
      });
    }
  }
  assert.equal(changes, 20);
  assert.deepEqual(stale, [], "a host allowed what a change had taken away after it answered");
});

test("a paused host: the removal answers within the lease; woken, it refuses, then catches up and serves", async () => {
  const userId = people[5] as string;
  const paused = hosts[2] as Host;
  const others = hosts.slice(0, 2);
  assert.equal((await paused.canInOrg(userId, "org.read")).allowed, true);
  paused.child.kill("SIGSTOP");
  try {
    const started = performance.now();
    const res = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${userId}`, { token: owner() });
    const took = performance.now() - started;
    assert.equal(res.status, 204, res.text);
    assert.ok(took < LEASE_MS + 1000, `the removal answered after ${Math.round(took)} ms`);
    for (const h of others) assert.equal((await h.canInOrg(userId, "org.read")).allowed, false);
    // Paused past its lease.
    await new Promise((r) => setTimeout(r, LEASE_MS));
  } finally {
    paused.child.kill("SIGCONT");
  }
  const woken = await paused.canInOrg(userId, "org.read");
  assert.equal(woken.allowed, false, `woken, it answered ${JSON.stringify(woken)}`);
  // It catches up from the stream, acknowledges, and its lease is live again.
  await eventually(async () => assert.ok(await paused.live()), 10_000, "the woken host's lease comes back");
  assert.deepEqual(await paused.canInOrg(userId, "org.read"), {
    allowed: false,
    role: null,
    reason: "not a member of this organisation",
  });
  assert.equal((await paused.can(bystander, "flows.read")).allowed, true, "it serves again");
});

test("a host whose stream is held back while it runs: the removal answers within the lease; it refuses or asks the server, then catches up", async () => {
  const gus = await joinOrg(t, org.orgId, "admin", "Gus Gated");
  await grantWorkspaceRole(t, org.orgId, org.workspaceId, gus.userId, "editor");
  gate = await startStreamGate(url);
  const gated = startHost(key, gate.url);
  extraHosts.push(gated);
  await gated.ready;
  assert.equal((await gated.canInOrg(gus.userId, "org.users")).allowed, true);
  gate.block();
  try {
    const started = performance.now();
    const res = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${gus.userId}`, {
      token: owner(),
    });
    const took = performance.now() - started;
    assert.equal(res.status, 204, res.text);
    assert.ok(took < LEASE_MS + 1000, `the removal answered after ${Math.round(took)} ms`);
    // Its renewals reach the server, but cannot make the lease live past an event it has not applied.
    assert.equal(await gated.live(), false);
    const notMember = { allowed: false, role: null, reason: "not a member of this organisation" };
    for (const stale of [
      await gated.canInOrg(gus.userId, "org.read"),
      await gated.can(bystander, "flows.read"),
    ]) {
      assert.deepEqual([stale.allowed, stale.role], [false, null]);
      assert.match(stale.reason, /stale/);
    }
    // check() and checkInOrg() ask the server meanwhile: the removed are refused, others allowed.
    assert.deepEqual(await gated.check(gus.userId, "org.read", true), notMember);
    assert.deepEqual(await gated.check(gus.userId, "flows.read"), notMember);
    assert.equal((await gated.check(bystander, "flows.read")).allowed, true);
    assert.equal((await gated.check(bystander, "org.read", true)).allowed, true);
    // A permission the server does not know is answered as can() would, without asking.
    for (const inOrg of [false, true]) {
      const unknown = await gated.check(bystander, "flows.teleport", inOrg);
      assert.deepEqual(unknown, {
        allowed: false,
        role: null,
        reason: "flows.teleport is not a permission this server knows",
      });
    }
    // Still held back a lease later: still refusing.
    await new Promise((r) => setTimeout(r, LEASE_MS));
    assert.equal(await gated.live(), false);
    assert.equal((await gated.canInOrg(gus.userId, "org.read")).allowed, false);
  } finally {
    gate.unblock();
  }
  await eventually(async () => assert.ok(await gated.live()), 10_000, "the released host's lease comes back");
  assert.deepEqual(await gated.canInOrg(gus.userId, "org.read"), {
    allowed: false,
    role: null,
    reason: "not a member of this organisation",
  });
  assert.equal((await gated.can(bystander, "flows.read")).allowed, true, "it serves again");
  assert.equal((await gated.check(bystander, "flows.read")).allowed, true, "from its replica");
});

test("after a log-out, an end of every session or a password change answers, no host takes the session", async () => {
  const ends: { name: string; end: (u: SignedUp) => Promise<{ status: number; text: string }> }[] = [
    { name: "log-out", end: (u) => t.request("POST", "/api/v1/auth/logout", { token: u.token }) },
    {
      name: "every session ended",
      end: async (u) => {
        // From a second device, ending every session (this one's too: the first is the one checked).
        const other = await t.request("POST", "/api/v1/auth/login", {
          body: { email: u.email, password: u.password },
        });
        return t.request("DELETE", "/api/v1/me/sessions?except=current", { token: other.json.session.token });
      },
    },
    {
      name: "password changed",
      end: async (u) => {
        const other = await t.request("POST", "/api/v1/auth/login", {
          body: { email: u.email, password: u.password },
        });
        return t.request("POST", "/api/v1/me/password", {
          token: other.json.session.token,
          body: { currentPassword: u.password, newPassword: "another long unusual passphrase" },
        });
      },
    },
  ];
  const stale: string[] = [];
  for (let round = 0; round < 2; round++) {
    for (const { name, end } of ends) {
      const u = await buildUser(t, { name: `Sid ${name}` });
      // Each host verifies it once (asking the server) and keeps it.
      for (const h of hosts) assert.equal(await h.verify(u.token), u.userId);
      for (const h of hosts) assert.equal(await h.verify(u.token), u.userId);
      const res = await end(u);
      assert.ok(res.status < 300, `${name}: ${res.status} ${res.text}`);
      const answers = await Promise.all(hosts.map((h) => h.verify(u.token)));
      answers.forEach((a, i) => {
        if (a !== null) stale.push(`${name}, host ${i}: still ${a}`);
      });
    }
  }
  assert.deepEqual(stale, [], "a host took a session after its end had answered");
});

test("a revoked service key: its hosts stop answering before the revocation answers", async () => {
  const made = await buildServiceKey(t, "to revoke");
  const host = startHost(made.token);
  extraHosts.push(host);
  await host.ready;
  const userId = bystander;
  assert.equal((await host.can(userId, "flows.read")).allowed, true);
  const started = performance.now();
  assert.equal(await transact(t.app.services, (tx) => revokeServiceKey(tx, made.id)), true);
  const took = performance.now() - started;
  assert.ok(took < LEASE_MS + 1000, `the revocation answered after ${Math.round(took)} ms`);
  assert.equal(await host.live(), false, "its lease can no longer be renewed");
  assert.equal((await host.can(userId, "flows.read")).allowed, false);
  // The other hosts, with their own key, go on.
  assert.equal((await (hosts[0] as Host).can(userId, "flows.read")).allowed, true);
});
