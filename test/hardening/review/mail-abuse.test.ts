// Issue 13, finding 4: mail to anyone, unlimited, with the sender's text. Resending an invitation
// counted against no limit, nothing capped the invitation mails one address receives, creating
// organisations had no limit, and a name such as "Billing suspended — verify your card at https://…"
// went as typed into the subject and body of mail sent from the operator's domain. Driven from
// outside, through the whole app.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { emailKey } from "../../../src/core/rate-limit.js";
import {
  buildUser,
  PASSWORD,
  PUBLIC_URL,
  randomIp,
  type TestApp,
  testApp,
  uniqueEmail,
} from "../../helpers/app.js";
import { buildOrg, type Org } from "../../helpers/org.js";

const LURE = "Billing suspended — verify your card at https://evil.example/pay";

async function counts(t: TestApp) {
  const n = async (table: "invitations" | "mail_outbox" | "audit_events" | "organizations") =>
    Number(
      (
        await t.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    invitations: await n("invitations"),
    mails: await n("mail_outbox"),
    audit: await n("audit_events"),
    organizations: await n("organizations"),
  };
}

function assertRateLimited(res: {
  status: number;
  json: { code?: string };
  headers: Record<string, unknown>;
}) {
  assert.equal(res.status, 429, JSON.stringify(res.json));
  assert.equal(res.json.code, "rate_limited");
  assert.ok(Number(res.headers["retry-after"]) > 0, "Retry-After");
}

describe("review 13.4: invitation mails are limited", () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ RATE_LIMIT_INVITATIONS_ORG: "3/1h", RATE_LIMIT_INVITATION_MAILS_RECIPIENT: "3/1d" });
  });
  after(async () => {
    await t.close();
  });
  const invite = (o: Org, email: string) =>
    t.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, {
      token: o.owner.token,
      body: { email, role: "member" },
    });
  const resend = (o: Org, id: string) =>
    t.request("POST", `/api/v1/invitations/${id}/resend`, { token: o.owner.token });

  test("review 13.4: resends count against RATE_LIMIT_INVITATIONS_ORG; the refused resend changes nothing", async () => {
    const o = await buildOrg(t, "Rhea Resender");
    // Three addresses, so that only the organisation's limit is in play.
    const created = await invite(o, uniqueEmail("r1"));
    assert.equal(created.status, 201, created.text);
    const id: string = created.json.invitation.id;
    assert.equal((await resend(o, id)).status, 200);
    assert.equal((await invite(o, uniqueEmail("r2"))).status, 201);
    const tokenBefore = (
      await t.db.selectFrom("invitations").select("token_hash").where("id", "=", id).executeTakeFirstOrThrow()
    ).token_hash;
    const before = await counts(t);
    // The fourth send within the hour: before the fix, resends were never counted (8 went out).
    assertRateLimited(await resend(o, id));
    assertRateLimited(await invite(o, uniqueEmail("r3")));
    assert.deepEqual(await counts(t), before, "no invitation, no mail, no audit event");
    const tokenAfter = (
      await t.db.selectFrom("invitations").select("token_hash").where("id", "=", id).executeTakeFirstOrThrow()
    ).token_hash;
    assert.deepEqual(tokenAfter, tokenBefore, "the refused resend left the link as it was");
  });

  test("review 13.4: one address gets at most RATE_LIMIT_INVITATION_MAILS_RECIPIENT invitation mails, across organisations", async () => {
    const a = await buildOrg(t, "Ann Alpha");
    const b = await buildOrg(t, "Ben Beta");
    const c = await buildOrg(t, "Cid Gamma");
    const target = uniqueEmail("Target");
    const first = await invite(a, target);
    assert.equal(first.status, 201, first.text);
    assert.equal((await resend(a, first.json.invitation.id)).status, 200);
    // Another organisation, the address spelt in capitals: the same person.
    const other = await invite(b, target.toUpperCase());
    assert.equal(other.status, 201, other.text);
    const before = await counts(t);
    assertRateLimited(await resend(b, other.json.invitation.id));
    assertRateLimited(await invite(c, target));
    assert.deepEqual(await counts(t), before, "no invitation, no mail, no audit event");
    // The cap is the recipient's: those organisations still invite other people.
    assert.equal((await invite(c, uniqueEmail("someone-else"))).status, 201);
    assert.equal((await invite(b, uniqueEmail("someone-else"))).status, 201);
    // Counted under a hash of the address, never the address itself.
    const keys = (
      await t.db.selectFrom("rate_limits").select("key").where("key", "like", "invitation-mails:%").execute()
    ).map((r) => r.key);
    assert.ok(keys.includes(`invitation-mails:recipient:${emailKey(target)}`), keys.join(", "));
    const local = target.split("@")[0] ?? target;
    assert.ok(!keys.some((k) => k.toLowerCase().includes(local.toLowerCase())), keys.join(", "));
  });

  test("review 13.4: a link invitation's resend counts against the organisation but mails nobody", async () => {
    const o = await buildOrg(t, "Lia Link");
    const link = await t.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, {
      token: o.owner.token,
      body: { delivery: "link", role: "member" },
    });
    assert.equal(link.status, 201, link.text);
    assert.equal((await resend(o, link.json.invitation.id)).status, 200);
    assert.equal((await resend(o, link.json.invitation.id)).status, 200);
    assertRateLimited(await resend(o, link.json.invitation.id));
  });
});

describe("review 13.4: creating organisations is limited per user", () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ RATE_LIMIT_ORGS_USER: "2/1d" });
  });
  after(async () => {
    await t.close();
  });
  const create = (token: string, name: string) =>
    t.request("POST", "/api/v1/orgs", { token, body: { name } });

  test("review 13.4: the third POST /orgs within the day answers 429 and creates nothing", async () => {
    // Sign-up's own organisation is not counted (sign-ups are limited per IP).
    const u = await buildUser(t, { name: "Orla Orgmaker" });
    assert.equal((await create(u.token, "One")).status, 201);
    assert.equal((await create(u.token, "Two")).status, 201);
    const before = await counts(t);
    assertRateLimited(await create(u.token, "Three"));
    assert.deepEqual(await counts(t), before, "no organisation, no workspace event, no audit event");
    const me = await t.request("GET", "/api/v1/me", { token: u.token });
    assert.equal(me.json.organizations.length, 3);
    // Someone else is not held back by Orla's count.
    const v = await buildUser(t, { name: "Vic Other" });
    assert.equal((await create(v.token, "Vic's second")).status, 201);
  });
});

describe("review 13.4: names with a web address are refused; names in mails are quoted, never links", () => {
  let t: TestApp;
  let o: Org;
  before(async () => {
    t = await testApp();
    o = await buildOrg(t, "Nora Namer");
  });
  after(async () => {
    await t.close();
  });

  const URL_NAMES = [LURE, "www.evil.example", "evil.example/path", "paypal-verify.com support", "ftp://x.y"];
  const ORDINARY = ["Acme Inc.", "St. John's", "Node.js Guild", "Dr.Oetker", "A.B. Dick Company"];

  function assertNamesField(
    res: { status: number; json: { code?: string; errors?: { field: string }[] } },
    field: string,
  ) {
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.json.code, "validation_failed");
    assert.deepEqual(
      res.json.errors?.map((e) => e.field),
      [field],
    );
  }

  test("review 13.4: organisation names with a URL are refused at create and rename; ordinary names pass", async () => {
    const before = await counts(t);
    for (const name of URL_NAMES) {
      assertNamesField(
        await t.request("POST", "/api/v1/orgs", { token: o.owner.token, body: { name } }),
        "name",
      );
      assertNamesField(
        await t.request("PATCH", `/api/v1/orgs/${o.orgId}`, { token: o.owner.token, body: { name } }),
        "name",
      );
    }
    assert.deepEqual(await counts(t), before, "a refused name changes nothing");
    for (const name of ORDINARY) {
      const res = await t.request("PATCH", `/api/v1/orgs/${o.orgId}`, {
        token: o.owner.token,
        body: { name },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.organization.name, name);
    }
    const made = await t.request("POST", "/api/v1/orgs", {
      token: o.owner.token,
      body: { name: "St. John's" },
    });
    assert.equal(made.status, 201, made.text);
  });

  test("review 13.4: workspace names with a URL are refused at create and rename; ordinary names pass", async () => {
    for (const name of URL_NAMES) {
      assertNamesField(
        await t.request("POST", `/api/v1/orgs/${o.orgId}/workspaces`, {
          token: o.owner.token,
          body: { name },
        }),
        "name",
      );
      assertNamesField(
        await t.request("PATCH", `/api/v1/workspaces/${o.workspaceId}`, {
          token: o.owner.token,
          body: { name },
        }),
        "name",
      );
    }
    for (const name of ORDINARY) {
      const res = await t.request("PATCH", `/api/v1/workspaces/${o.workspaceId}`, {
        token: o.owner.token,
        body: { name },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.workspace.name, name);
    }
    const made = await t.request("POST", `/api/v1/orgs/${o.orgId}/workspaces`, {
      token: o.owner.token,
      body: { name: "Acme Inc." },
    });
    assert.equal(made.status, 201, made.text);
  });

  test("review 13.4: sign-up refuses a URL in organizationName or name, and creates nothing", async () => {
    const signup = (body: Record<string, string>) =>
      t.request("POST", "/api/v1/auth/signup", {
        body: { email: uniqueEmail("namer"), password: PASSWORD, name: "Sam Signer", ...body },
        remoteAddress: randomIp(),
      });
    const before = await counts(t);
    assertNamesField(await signup({ organizationName: LURE }), "organizationName");
    assertNamesField(await signup({ name: "Support at www.evil.example" }), "name");
    assert.deepEqual(await counts(t), before);
    const ok = await signup({ organizationName: "St. John's", name: "Sam O'Signer Jr." });
    assert.equal(ok.status, 201, ok.text);
    // A display name goes into invitation mails ("Sam invited you…"): the same rule on change.
    assertNamesField(
      await t.request("PATCH", "/api/v1/me", { token: ok.json.session.token, body: { name: LURE } }),
      "name",
    );
  });

  test("review 13.4: invitation mails quote the names and link nothing but the invitation", async () => {
    // A name stored before the rule existed still cannot turn into a link in a mail.
    await t.db.updateTable("organizations").set({ name: LURE }).where("id", "=", o.orgId).execute();
    const email = uniqueEmail("quoted");
    const res = await t.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, {
      token: o.owner.token,
      body: { email, role: "member", workspaces: [{ workspaceId: o.workspaceId, role: "viewer" }] },
    });
    assert.equal(res.status, 201, res.text);
    const mail = await t.smtp.waitFor((m) => m.to.includes(email));
    assert.ok(mail.subject.startsWith("“Nora Namer” invited you to join “Billing suspended"), mail.subject);
    assert.ok(mail.subject.endsWith("”"), mail.subject);
    for (const body of [mail.text ?? "", mail.html ?? ""]) {
      assert.ok(
        body.includes("https\u2060:\u2060/\u2060/evil\u2060.example\u2060/pay”"),
        "the lure is quoted and broken",
      );
      assert.ok(!body.includes("https://evil.example"), "no URL of the name survives whole");
    }
    const hrefs = [...(mail.html ?? "").matchAll(/href="([^"]*)"/g)].map((m) => m[1] ?? "");
    assert.ok(hrefs.length > 0);
    assert.ok(
      hrefs.every((h) => h.startsWith(`${PUBLIC_URL}/invite/`)),
      hrefs.join(", "),
    );
  });
});
