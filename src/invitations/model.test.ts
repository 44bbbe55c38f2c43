// The invitation core: tokens, derived status, masking, the 410 codes, and the schema's own
// guarantees (one pending e-mail invitation per address, uses never past max_uses, grants only
// inside the invitation's organisation, no token kept in clear).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TestDatabase, testDatabase } from "../../test/helpers/database.js";
import { sha256 } from "../tokens.js";
import { effectiveStatus, goneError, maskEmail, newInvitationToken } from "./model.js";
import { findByToken } from "./queries.js";

let t: TestDatabase;
before(async () => {
  t = await testDatabase();
  const db = t.database.db;
  await db
    .insertInto("users")
    .values({ id: "usr_o", email: "o@example.org", name: "O", password_hash: null })
    .execute();
  for (const org of ["org_a", "org_b"]) {
    await db.insertInto("organizations").values({ id: org, name: org }).execute();
    await db
      .insertInto("workspaces")
      .values({ id: `wsp_${org}`, org_id: org, name: "W" })
      .execute();
  }
});
after(async () => {
  await t.drop();
});

const base = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  org_id: "org_a",
  delivery: "email" as const,
  email: `${id}@example.org`,
  role: "member" as const,
  token_hash: newInvitationToken().hash,
  max_uses: 1,
  invited_by: "usr_o",
  invited_by_name: "O",
  expires_at: new Date(Date.now() + 3600_000),
  ...over,
});

test("tokens are 256 random bits, kept only as SHA-256, and found by hash", async () => {
  const a = newInvitationToken();
  const b = newInvitationToken();
  assert.match(a.token, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.token, b.token);
  assert.deepEqual(a.hash, sha256(a.token));
  await t.database.db
    .insertInto("invitations")
    .values(base("inv_find", { token_hash: a.hash }))
    .execute();
  assert.equal((await findByToken(t.database.db, a.token)).id, "inv_find");
  await assert.rejects(findByToken(t.database.db, b.token), /not valid/);
  await assert.rejects(findByToken(t.database.db, "short"), /not valid/);
});

test("a pending invitation past its expiry reads as expired", () => {
  const past = new Date(Date.now() - 1000);
  const future = new Date(Date.now() + 1000);
  assert.equal(effectiveStatus({ status: "pending", expires_at: past }), "expired");
  assert.equal(effectiveStatus({ status: "pending", expires_at: future }), "pending");
  assert.equal(effectiveStatus({ status: "cancelled", expires_at: past }), "cancelled");
});

test("addresses are masked as b***@example.org", () => {
  assert.equal(maskEmail("bob@example.org"), "b***@example.org");
  assert.equal(maskEmail("x@y.z"), "x***@y.z");
});

test("each ended status has its 410 code", () => {
  assert.equal(goneError("accepted")?.code, "invitation_used");
  assert.equal(goneError("exhausted")?.code, "invitation_used");
  assert.equal(goneError("cancelled")?.code, "invitation_cancelled");
  assert.equal(goneError("declined")?.code, "invitation_declined");
  assert.equal(goneError("expired")?.code, "invitation_expired");
  for (const s of ["accepted", "cancelled", "declined", "expired"] as const)
    assert.equal(goneError(s)?.status, 410);
  assert.equal(goneError("pending"), null);
});

test("the schema allows one pending e-mail invitation per address per organisation", async () => {
  const db = t.database.db;
  // Addresses are stored canonical (src/email.ts); the index compares them as stored.
  await db
    .insertInto("invitations")
    .values(base("inv_1", { email: "same@example.org" }))
    .execute();
  await assert.rejects(
    db
      .insertInto("invitations")
      .values(base("inv_2", { email: "same@example.org" }))
      .execute(),
    /invitations_pending_email_key/,
  );
  await db
    .insertInto("invitations")
    .values(base("inv_3", { email: "same@example.org", org_id: "org_b" }))
    .execute();
  await db.updateTable("invitations").set({ status: "cancelled" }).where("id", "=", "inv_1").execute();
  await db
    .insertInto("invitations")
    .values(base("inv_4", { email: "same@example.org" }))
    .execute();
});

test("the schema keeps uses within max_uses, e-mail invitations single-use, and grants inside the organisation", async () => {
  const db = t.database.db;
  await db
    .insertInto("invitations")
    .values(base("inv_link", { delivery: "link", email: null, max_uses: 2 }))
    .execute();
  await db
    .updateTable("invitations")
    .set({ uses: 2, status: "exhausted" })
    .where("id", "=", "inv_link")
    .execute();
  await assert.rejects(
    db.updateTable("invitations").set({ uses: 3 }).where("id", "=", "inv_link").execute(),
    /check/i,
  );
  await assert.rejects(
    db
      .insertInto("invitations")
      .values(base("inv_e2", { max_uses: 2 }))
      .execute(),
    /check/i,
  );
  await assert.rejects(
    db
      .insertInto("invitations")
      .values(base("inv_nomail", { email: null }))
      .execute(),
    /check/i,
  );
  await assert.rejects(
    db
      .insertInto("invitation_workspaces")
      .values({ org_id: "org_a", invitation_id: "inv_link", workspace_id: "wsp_org_b", role: "viewer" })
      .execute(),
    /foreign key/i,
    "a workspace of another organisation cannot be granted",
  );
  await db
    .insertInto("invitation_workspaces")
    .values({ org_id: "org_a", invitation_id: "inv_link", workspace_id: "wsp_org_a", role: "viewer" })
    .execute();
});
