// Review 13.1, from outside: one address, one spelling. An address is stored and compared in its
// canonical form (src/email.ts), so a look-alike spelling — the Kelvin sign K, the long s ſ,
// fullwidth letters — is the same address as the ASCII one (it neither squats nor shadows it), and
// Turkish İ/ı, letters of their own, are other addresses.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  buildUser,
  linkIn,
  PASSWORD,
  PUBLIC_URL,
  randomIp,
  type TestApp,
  testApp,
} from "../../helpers/app.js";
import { buildOrg, type Org } from "../../helpers/org.js";

let t: TestApp;
let org: Org;
before(async () => {
  t = await testApp();
  org = await buildOrg(t);
});
after(async () => {
  await t.close();
});

let counter = 0;
/** A fresh ASCII address with a k and an s in it: `kis<n>.<time>@example.org`. */
function freshAddress(): string {
  counter += 1;
  return `kis${counter}.${Date.now().toString(36)}@example.org`;
}

/** Spellings of `ascii` that are the same address. */
function lookAlikes(ascii: string) {
  return {
    "the Kelvin sign": ascii.replace("k", "\u212A"),
    "the long s": ascii.replace("s", "\u017F"),
    "fullwidth letters": ascii.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
  };
}

/** Spellings of `ascii` that are other addresses: Turkish dotted İ and dotless ı for the i. */
function turkish(ascii: string) {
  return { "dotted İ": ascii.replace("i", "İ"), "dotless ı": ascii.replace("i", "ı") };
}

const signup = (email: string, password = "another fine passphrase") =>
  t.request("POST", "/api/v1/auth/signup", {
    body: { email, password, name: "Mallory" },
    remoteAddress: randomIp(),
  });
const login = (email: string, password: string, ip = randomIp()) =>
  t.request("POST", "/api/v1/auth/login", { body: { email, password }, remoteAddress: ip });

async function usersAt(email: string): Promise<string[]> {
  const rows = await t.db.selectFrom("users").select("id").where("email", "=", email).execute();
  return rows.map((r) => r.id);
}

describe("sign-up", () => {
  test("review 13.1: a look-alike of an existing address gets the decoy, and no second account", async () => {
    const kim = await buildUser(t, { email: freshAddress(), name: "Kim" });
    for (const [what, spelling] of Object.entries(lookAlikes(kim.email))) {
      const res = await signup(spelling);
      assert.equal(res.status, 201, `${what}: ${res.text}`);
      assert.deepEqual(await usersAt(kim.email), [kim.userId], `${what}: still one account, Kim's`);
      assert.deepEqual(await usersAt(spelling), [], `${what}: the look-alike spelling is stored nowhere`);
      assert.equal((await t.request("GET", "/api/v1/me", { token: res.json.session.token })).status, 401);
    }
    // The "already has an account" mails go to Kim's address itself.
    const mails = await t.db
      .selectFrom("mail_outbox")
      .select("to_address")
      .where("kind", "=", "account_exists")
      .where("to_address", "=", kim.email)
      .execute();
    assert.deepEqual(
      mails.map((m) => m.to_address),
      [kim.email, kim.email, kim.email],
    );
  });

  test("review 13.1: a look-alike signing up first holds the ASCII address, which its owner can reset", async () => {
    const address = freshAddress();
    const squatter = await buildUser(t, { email: lookAlikes(address)["the Kelvin sign"], name: "Mallory" });
    const row = await t.db
      .selectFrom("users")
      .select("email")
      .where("id", "=", squatter.userId)
      .executeTakeFirstOrThrow();
    assert.equal(row.email, address, "stored canonical: the ASCII address");
    // The real owner's sign-up is "an existing account" (the decoy), and the reset reaches her mailbox.
    assert.equal((await signup(address)).status, 201);
    assert.deepEqual(await usersAt(address), [squatter.userId]);
    const reset = await t.request("POST", "/api/v1/auth/password-reset", { body: { email: address } });
    assert.equal(reset.status, 202);
    const mail = await t.smtp.waitFor((m) => m.envelopeTo.includes(address) && /password/i.test(m.subject));
    assert.equal(mail.to.includes(address), true);
  });

  test("review 13.1: Turkish dotted İ and dotless ı make other addresses, not i's", async () => {
    const kim = await buildUser(t, { email: freshAddress(), name: "Kim" });
    for (const [what, spelling] of Object.entries(turkish(kim.email))) {
      const res = await signup(spelling);
      assert.equal(res.status, 201, `${what}: ${res.text}`);
      assert.notEqual(res.json.user.id, kim.userId);
      assert.equal(
        (await t.request("GET", "/api/v1/me", { token: res.json.session.token })).status,
        200,
        `${what}: a real account of its own`,
      );
      assert.notEqual(res.json.user.email, kim.email);
      assert.deepEqual(await usersAt(kim.email), [kim.userId]);
    }
  });
});

describe("log-in and password reset", () => {
  test("review 13.1: every look-alike spelling logs in to the one account; Turkish spellings do not", async () => {
    const kim = await buildUser(t, { email: freshAddress(), name: "Kim" });
    for (const [what, spelling] of Object.entries(lookAlikes(kim.email))) {
      const res = await login(spelling, kim.password);
      assert.equal(res.status, 200, `${what}: ${res.text}`);
      assert.equal(res.json.user.id, kim.userId);
      assert.equal(res.json.user.email, kim.email);
    }
    for (const [what, spelling] of Object.entries(turkish(kim.email))) {
      const res = await login(spelling, kim.password);
      assert.equal(res.status, 401, `${what}: ${res.text}`);
      assert.equal(res.json.code, "invalid_credentials");
    }
  });

  test("review 13.1: a reset asked for with a look-alike spelling is mailed to the stored address", async () => {
    const kim = await buildUser(t, { email: freshAddress(), name: "Kim" });
    const spelling = lookAlikes(kim.email)["the long s"];
    const res = await t.request("POST", "/api/v1/auth/password-reset", { body: { email: spelling } });
    assert.equal(res.status, 202);
    const mail = await t.smtp.waitFor((m) => m.envelopeTo.includes(kim.email) && /password/i.test(m.subject));
    assert.ok(linkIn(mail.text, `${PUBLIC_URL}/reset-password?token=`));
    const outbox = await t.db
      .selectFrom("mail_outbox")
      .select("to_address")
      .where("kind", "=", "password_reset")
      .where("to_address", "=", kim.email)
      .execute();
    assert.deepEqual(
      outbox.map((m) => m.to_address),
      [kim.email],
    );
  });

  test("review 13.1: failed log-ins in every spelling count against one account", async () => {
    const kim = await buildUser(t, { email: freshAddress(), name: "Kim" });
    const spellings = [kim.email, ...Object.values(lookAlikes(kim.email))];
    // The default: 10 failures per account from one client per 15 minutes.
    const ip = randomIp();
    for (let i = 0; i < 10; i++) {
      const res = await login(spellings[i % spellings.length] ?? kim.email, "not the password at all", ip);
      assert.equal(res.status, 401, res.text);
    }
    const locked = await login(kim.email, kim.password, ip);
    assert.equal(locked.status, 429, locked.text);
  });
});

describe("invitations", () => {
  const invite = (email: string) =>
    t.request("POST", `/api/v1/orgs/${org.orgId}/invitations`, {
      token: org.owner.token,
      body: { delivery: "email", email, role: "member" },
    });

  test("review 13.1: an invitation to a look-alike spelling is bound to, and mailed to, the canonical address", async () => {
    const address = freshAddress();
    const res = await invite(lookAlikes(address)["the Kelvin sign"]);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.invitation.email, address);
    const mail = await t.smtp.waitFor((m) => m.envelopeTo.includes(address) && /invit/i.test(m.subject));
    assert.ok(linkIn(mail.text, `${PUBLIC_URL}/invite/`));
  });

  test("review 13.1: a second invitation in another spelling of the address is 409 invitation_pending", async () => {
    const address = freshAddress();
    const first = await invite(address);
    assert.equal(first.status, 201, first.text);
    for (const [what, spelling] of Object.entries({
      ...lookAlikes(address),
      "upper case": address.toUpperCase(),
    })) {
      const again = await invite(spelling);
      assert.equal(again.status, 409, `${what}: ${again.text}`);
      assert.equal(again.json.code, "invitation_pending");
      assert.equal(again.json.invitationId, first.json.invitation.id);
    }
  });

  test("review 13.1: a Turkish look-alike account cannot accept an invitation to the address; its owner can", async () => {
    const address = freshAddress();
    const created = await invite(address);
    assert.equal(created.status, 201, created.text);
    const mail = await t.smtp.waitFor((m) => m.envelopeTo.includes(address) && /invit/i.test(m.subject));
    const token = linkIn(mail.text, `${PUBLIC_URL}/invite/`).slice(`${PUBLIC_URL}/invite/`.length);
    const accept = (sessionToken: string) =>
      t.request("POST", "/api/v1/invitations/accept", { token: sessionToken, body: { token } });

    const lookAlike = await buildUser(t, { email: turkish(address)["dotless ı"], name: "Mallory" });
    const refused = await accept(lookAlike.token);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json.code, "invitation_email_mismatch");

    // The address's owner, who signed up spelling it with fullwidth letters, is the invitee.
    const kim = await buildUser(t, { email: lookAlikes(address)["fullwidth letters"], name: "Kim" });
    const accepted = await accept(kim.token);
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(accepted.json.organization.id, org.orgId);
  });
});

test("review 13.1: an address whose canonical form is not an address is refused with 400 naming the field", async () => {
  // NFKC makes ⑴ "(1)", which no address may hold.
  const res = await signup("kim\u2474@example.org", PASSWORD);
  assert.equal(res.status, 400, res.text);
  assert.deepEqual(
    res.json.errors.map((e: { field: string }) => e.field),
    ["email"],
  );
});
