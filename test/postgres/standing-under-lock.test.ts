// Issue 13, finding 7c, as it happens on a PostgreSQL server with many connections: a request that
// has passed the guard while its caller was still admin, and a removal or demotion of that caller,
// both under way at once. The organisation's lock orders them: the removal, first in line, commits;
// the request, next, reads the caller's standing again and is refused, having changed nothing
// (rule 9). The interleaving is made deterministic by holding the organisation's row in a
// transaction of the test's own until both are seen waiting for it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import type { Answer, TestApp } from "../helpers/app.js";
import { testApp, uniqueEmail } from "../helpers/app.js";
import { buildOrg, grantWorkspaceRole, joinOrg } from "../helpers/org.js";

let t: TestApp;
let holder: pg.Client;

before(async () => {
  t = await testApp();
  assert.ok(t.database.url, "this file runs on PostgreSQL only");
  holder = new pg.Client({ connectionString: t.database.url });
  await holder.connect();
});
after(async () => {
  await holder.end();
  await t.close();
});

/** Waits until `n` other sessions of this database wait for a lock (10 s at most). */
async function waiters(n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await holder.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
    );
    if ((rows[0]?.n ?? 0) >= n) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]?.n ?? 0} session(s) wait for a lock, not ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Holds the organisation's row, starts `removal`, waits until it waits for the row, starts `late`
 * (whose guard has read the caller's standing by then), waits until it waits too, then lets go.
 */
async function interleave(
  orgId: string,
  removal: () => Promise<Answer>,
  late: () => Promise<Answer>,
): Promise<{ removed: Answer; answered: Answer }> {
  await holder.query("BEGIN");
  await holder.query("SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE", [orgId]);
  try {
    const removing = removal();
    await waiters(1);
    const answering = late();
    await waiters(2);
    await holder.query("COMMIT");
    return { removed: await removing, answered: await answering };
  } catch (err) {
    await holder.query("ROLLBACK").catch(() => {});
    throw err;
  }
}

describe("review 13.7c: the organisation's lock orders a removal and a request in flight", () => {
  test("review 13.7c: a workspace admin removed while their PUT waits: the removal goes first, the PUT answers 404", async () => {
    const o = await buildOrg(t);
    const wsAdmin = await joinOrg(t, o.orgId, "member", "Wes Wsadmin");
    const target = await joinOrg(t, o.orgId, "member", "Tia Target");
    await grantWorkspaceRole(t, o.orgId, o.workspaceId, wsAdmin.userId, "admin");
    await grantWorkspaceRole(t, o.orgId, o.workspaceId, target.userId, "viewer");
    const { removed, answered } = await interleave(
      o.orgId,
      () =>
        t.request("DELETE", `/api/v1/workspaces/${o.workspaceId}/members/${wsAdmin.userId}`, {
          token: o.owner.token,
        }),
      () =>
        t.request("PUT", `/api/v1/workspaces/${o.workspaceId}/members/${target.userId}`, {
          token: wsAdmin.token,
          body: { role: "admin" },
        }),
    );
    assert.equal(removed.status, 204, removed.text);
    assert.equal(answered.status, 404, answered.text);
    assert.equal(answered.json.code, "workspace_not_found");
    const row = await t.db
      .selectFrom("workspace_memberships")
      .select("role")
      .where("workspace_id", "=", o.workspaceId)
      .where("user_id", "=", target.userId)
      .executeTakeFirst();
    assert.equal(row?.role, "viewer");
  });

  test("review 13.7c: an org admin demoted while their invitation waits: the demotion goes first, the invitation answers 403", async () => {
    const o = await buildOrg(t);
    const orgAdmin = await joinOrg(t, o.orgId, "admin", "Ada Admin");
    const { removed, answered } = await interleave(
      o.orgId,
      () =>
        t.request("PATCH", `/api/v1/orgs/${o.orgId}/members/${orgAdmin.userId}`, {
          token: o.owner.token,
          body: { role: "member" },
        }),
      () =>
        t.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, {
          token: orgAdmin.token,
          body: { email: uniqueEmail("late"), role: "admin" },
        }),
    );
    assert.equal(removed.status, 200, removed.text);
    assert.equal(answered.status, 403, answered.text);
    assert.match(answered.json.detail, /member lacks org\.users/);
    const invitations = await t.db
      .selectFrom("invitations")
      .select("id")
      .where("org_id", "=", o.orgId)
      .execute();
    assert.deepEqual(invitations, []);
  });
});
