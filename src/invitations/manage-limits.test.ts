// Rule 5 and 12 at creation: one pending e-mail invitation per address per organisation, nobody
// invited to places they already have, at most 1,000 pending per organisation, 200 creations
// per organisation per hour — and what the lists show: derived expiry, mail delivery state.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { type TestApp, testApp, uniqueEmail } from "../../test/helpers/app.js";
import { buildOrg, grantWorkspaceRole, joinOrg, type Org } from "../../test/helpers/org.js";
import { newId } from "../db/ids.js";
import { newInvitationToken } from "./model.js";

let t: TestApp;
let org: Org;

before(async () => {
  t = await testApp({ MAIL_MAX_ATTEMPTS: "1" });
  org = await buildOrg(t, "Olive Owner");
});
after(async () => {
  await t.close();
});

const invite = (body: unknown, o: Org = org) =>
  t.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, { token: o.owner.token, body });

const list = async (query = "", o: Org = org) => {
  const res = await t.request("GET", `/api/v1/orgs/${o.orgId}/invitations${query}`, { token: o.owner.token });
  assert.equal(res.status, 200, res.text);
  return res.json as { items: { id: string; status: string; mail: unknown }[]; nextCursor: string | null };
};

async function expire(id: string): Promise<void> {
  await t.db
    .updateTable("invitations")
    .set({ expires_at: sql<Date>`now() - interval '1 minute'` })
    .where("id", "=", id)
    .execute();
}

describe("rule 5 at creation", () => {
  test("a second pending e-mail invitation to the same address answers 409 invitation_pending", async () => {
    const email = uniqueEmail("twice");
    assert.equal((await invite({ email, role: "member" })).status, 201);
    const again = await invite({ email: email.toUpperCase(), role: "admin" });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.json.code, "invitation_pending");
    // Another organisation may invite the same address.
    const other = await buildOrg(t, "Other Owner");
    assert.equal((await invite({ email, role: "member" }, other)).status, 201);
  });

  test("an expired invitation does not block a new one, and is marked expired", async () => {
    const email = uniqueEmail("expired");
    const first = await invite({ email, role: "member" });
    await expire(first.json.invitation.id);
    const second = await invite({ email, role: "member" });
    assert.equal(second.status, 201, second.text);
    const row = await t.db
      .selectFrom("invitations")
      .select("status")
      .where("id", "=", first.json.invitation.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, "expired");
  });

  test("the unique index answers invitation_pending when two invitations race", async () => {
    const email = uniqueEmail("race");
    const answers = await Promise.all([invite({ email, role: "member" }), invite({ email, role: "member" })]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409]);
    assert.equal(answers.find((a) => a.status === 409)?.json.code, "invitation_pending");
  });

  test("someone who already has every place offered answers 409 already_member", async () => {
    const member = await joinOrg(t, org.orgId, "member", "Mia Member");
    await grantWorkspaceRole(t, org.orgId, org.workspaceId, member.userId, "editor");
    const same = await invite({
      email: member.email,
      role: "member",
      workspaces: [{ workspaceId: org.workspaceId, role: "viewer" }],
    });
    assert.equal(same.status, 409, same.text);
    assert.equal(same.json.code, "already_member");
    // A higher place is a real offer.
    const higher = await invite({
      email: member.email,
      role: "member",
      workspaces: [{ workspaceId: org.workspaceId, role: "admin" }],
    });
    assert.equal(higher.status, 201, higher.text);
    // An org admin acts as workspace admin everywhere: nothing to offer.
    const admin = await joinOrg(t, org.orgId, "admin", "Abe Admin");
    const none = await invite({
      email: admin.email.toUpperCase(),
      role: "member",
      workspaces: [{ workspaceId: org.workspaceId, role: "admin" }],
    });
    assert.equal(none.json.code, "already_member");
  });

  test("at most 1,000 pending invitations per organisation: 409 too_many_invitations", async () => {
    const capped = await buildOrg(t, "Cap Owner");
    const values = Array.from({ length: 1000 }, () => ({
      id: newId("inv"),
      org_id: capped.orgId,
      delivery: "link" as const,
      email: null,
      role: "member" as const,
      token_hash: newInvitationToken().hash,
      max_uses: 1,
      invited_by: capped.owner.userId,
      invited_by_name: "Cap Owner",
      expires_at: new Date(Date.now() + 3_600_000),
    }));
    await t.db.insertInto("invitations").values(values).execute();
    const res = await invite({ delivery: "link", role: "member" }, capped);
    assert.equal(res.status, 409, res.text);
    assert.equal(res.json.code, "too_many_invitations");
    // Expired ones do not count.
    await t.db
      .updateTable("invitations")
      .set({ expires_at: sql<Date>`now() - interval '1 minute'` })
      .where("id", "=", values[0]?.id ?? "")
      .execute();
    assert.equal((await invite({ delivery: "link", role: "member" }, capped)).status, 201);
  });
});

describe("rule 12: creations per organisation per hour", () => {
  test("the fourth creation within the window answers 429 with Retry-After", async () => {
    const limited = await testApp({ RATE_LIMIT_INVITATIONS_ORG: "3/1h" });
    try {
      const o = await buildOrg(limited, "Rita Ratelimit");
      const make = () =>
        limited.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, {
          token: o.owner.token,
          body: { delivery: "link", role: "member" },
        });
      for (let i = 0; i < 3; i++) assert.equal((await make()).status, 201);
      const res = await make();
      assert.equal(res.status, 429, res.text);
      assert.equal(res.json.code, "rate_limited");
      assert.ok(Number(res.headers["retry-after"]) > 0);
      const { n } = await limited.db
        .selectFrom("invitations")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("org_id", "=", o.orgId)
        .executeTakeFirstOrThrow();
      assert.equal(Number(n), 3);
    } finally {
      await limited.close();
    }
  });
});

describe("review 13.4: resends are creations for the limit", () => {
  test("review 13.4: a resend counts against RATE_LIMIT_INVITATIONS_ORG and, refused, keeps the old link", async () => {
    const limited = await testApp({ RATE_LIMIT_INVITATIONS_ORG: "2/1h" });
    try {
      const o = await buildOrg(limited, "Rex Resend");
      const made = await limited.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, {
        token: o.owner.token,
        body: { email: uniqueEmail("resent"), role: "member" },
      });
      assert.equal(made.status, 201, made.text);
      const id: string = made.json.invitation.id;
      const resend = () =>
        limited.request("POST", `/api/v1/invitations/${id}/resend`, { token: o.owner.token });
      assert.equal((await resend()).status, 200);
      const before = await limited.db
        .selectFrom("invitations")
        .select(["token_hash", "mail_id"])
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      const res = await resend();
      assert.equal(res.status, 429, res.text);
      assert.equal(res.json.code, "rate_limited");
      assert.ok(Number(res.headers["retry-after"]) > 0);
      const afterRow = await limited.db
        .selectFrom("invitations")
        .select(["token_hash", "mail_id"])
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(afterRow, before);
    } finally {
      await limited.close();
    }
  });
});

describe("the lists", () => {
  test("an invitation past its expiry lists as expired, with no job having run", async () => {
    const res = await invite({ delivery: "link", role: "member" });
    const id: string = res.json.invitation.id;
    assert.ok((await list("?status=pending")).items.some((i) => i.id === id));
    await expire(id);
    const expired = await list("?status=expired");
    assert.equal(expired.items.find((i) => i.id === id)?.status, "expired");
    assert.ok(!(await list("?status=pending")).items.some((i) => i.id === id));
  });

  test("pages with limit and cursor, newest first, without repeats", async () => {
    const o = await buildOrg(t, "Page Owner");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await invite({ delivery: "link", role: "member" }, o)).json.invitation.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`, o);
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [...ids].reverse());
  });

  test("a status that does not exist answers 400 naming status", async () => {
    const res = await t.request("GET", `/api/v1/orgs/${org.orgId}/invitations?status=lost`, {
      token: org.owner.token,
    });
    assert.equal(res.status, 400);
    assert.ok(res.json.errors?.some((e: { field: string }) => e.field.includes("status")));
  });

  test("the mail's delivery state and last error appear in the list", async () => {
    t.smtp.setFailure({ code: 550, message: "No such mailbox here", stage: "rcpt" });
    try {
      const res = await invite({ email: uniqueEmail("bounce"), role: "member" });
      assert.equal(res.status, 201);
      const id: string = res.json.invitation.id;
      const deadline = Date.now() + 10_000;
      let mail: { status: string; lastError: string | null } | undefined;
      for (;;) {
        await t.app.mailWorker.runUntilIdle();
        mail = (await list()).items.find((i) => i.id === id)?.mail as typeof mail;
        if (mail?.status === "failed" || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(mail?.status, "failed");
      assert.match(mail?.lastError ?? "", /550|No such mailbox/);
    } finally {
      t.smtp.setFailure(null);
    }
  });

  test("a plain member may not list: 403", async () => {
    const member = await joinOrg(t, org.orgId, "member", "Lee Member");
    const res = await t.request("GET", `/api/v1/orgs/${org.orgId}/invitations`, { token: member.token });
    assert.equal(res.status, 403);
  });
});
