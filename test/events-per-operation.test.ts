// One change, one event (docs/events.md): every operation of the OpenAPI document that is not a
// read is carried out here once, and the events it wrote are compared with the list it must
// write — in its own transaction, nothing more, nothing less; then the same request refused (no
// credentials, another tenant's caller, or a bad body) must write nothing. An operation added to
// the API without a recipe here fails the first test.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openApiDocument } from "../scripts/openapi.js";
import { INSTALLATION_EVENT_TYPES, publicType } from "../src/events/public.js";
import {
  type Answer,
  buildUser,
  linkIn,
  PUBLIC_URL,
  type RequestOptions,
  resetTokenFor,
  type SignedUp,
  type TestApp,
  testApp,
  uniqueEmail,
} from "./helpers/app.js";

let t: TestApp;
/** A second installation where sign-up waits for the e-mailed confirmation. */
let confirming: TestApp;
before(async () => {
  // Leases the recipes open are never acknowledged: short, so that later removals barely wait.
  t = await testApp({ REPLICA_LEASE_MS: "200" });
  confirming = await testApp({ SIGNUP_CONFIRM: "email" });
});
after(async () => {
  await confirming.close();
  await t.close();
});

interface Call {
  method: string;
  path: string;
  options?: RequestOptions;
}

interface Recipe {
  /** Sets up what the operation needs; answers the call that carries it out. */
  arrange(): Promise<Call>;
  /** The public event types it writes, in order. */
  writes: string[];
  /** The same operation refused: it must write nothing. */
  refuse(call: Call): Call;
  app?: () => TestApp;
}

async function owner(x: TestApp = t): Promise<SignedUp & { orgId: string; workspaceId: string }> {
  const u = await buildUser(x, { name: "Olive Owner", organizationName: "Events Inc" });
  const me = await x.request("GET", "/api/v1/me", { token: u.token });
  const orgId: string = me.json.organizations[0].id;
  const ws = await x.request("GET", `/api/v1/orgs/${orgId}/workspaces`, { token: u.token });
  return { ...u, orgId, workspaceId: ws.json.items[0].id };
}

async function member(orgId: string): Promise<SignedUp> {
  const u = await buildUser(t, { name: "Mia Member" });
  await t.db
    .insertInto("org_memberships")
    .values({ org_id: orgId, user_id: u.userId, role: "member" })
    .execute();
  return u;
}

async function linkInvitation(o: { token: string; orgId: string }): Promise<{ id: string; token: string }> {
  const res = await t.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, {
    token: o.token,
    body: { delivery: "link", role: "member" },
  });
  assert.equal(res.status, 201, res.text);
  return { id: res.json.invitation.id, token: String(res.json.url).split("/invite/")[1] ?? "" };
}

/** A webhook of the organisation (to a public name: the worker's attempts fail, and write nothing). */
async function webhook(o: { token: string; orgId: string }): Promise<string> {
  const res = await t.request("POST", `/api/v1/orgs/${o.orgId}/webhooks`, {
    token: o.token,
    body: { url: "https://hooks.example.com/rollcall", types: ["workspace.created"] },
  });
  assert.equal(res.status, 201, res.text);
  return res.json.webhook.id;
}

async function serviceKey(name: string) {
  const { createServiceKey } = await import("../src/apikeys/service-keys.js");
  return t.db.transaction().execute((tx) => createServiceKey(tx, name));
}

/** A service key holding a replica lease. */
async function replicaLease(): Promise<{ token: string; lease: string }> {
  const { token } = await serviceKey("replica");
  const res = await t.request("POST", "/api/v1/replica/leases", {
    token,
    body: { name: "host", applied: "1.1" },
  });
  assert.equal(res.status, 201, res.text);
  return { token, lease: res.json.id };
}

/** Another tenant: a person with an organisation of their own and no place in the one acted on. */
let outsider: SignedUp;
const asOutsider = (call: Call): Call => ({ ...call, options: { ...call.options, token: outsider.token } });
const anonymous = (call: Call): Call => ({ ...call, options: { ...call.options, token: undefined } });
const badBody = (call: Call): Call => ({ ...call, options: { ...call.options, body: { unexpected: true } } });

const RECIPES: Record<string, Recipe> = {
  signUp: {
    arrange: async () => ({
      method: "POST",
      path: "/api/v1/auth/signup",
      options: { body: { email: uniqueEmail(), password: "a long unusual passphrase", name: "Sam" } },
    }),
    writes: ["user.signed_up", "organization.created", "member.added", "workspace.created"],
    refuse: badBody,
  },
  confirmSignUp: {
    app: () => confirming,
    arrange: async () => {
      const email = uniqueEmail();
      const res = await confirming.request("POST", "/api/v1/auth/signup", {
        body: { email, password: "a long unusual passphrase", name: "Cora" },
      });
      assert.equal(res.status, 202, res.text);
      const mail = await confirming.smtp.waitFor((m) => m.to.includes(email));
      const token = new URL(linkIn(mail.text, `${PUBLIC_URL}/confirm-signup?token=`)).searchParams.get(
        "token",
      );
      return { method: "POST", path: "/api/v1/auth/signup/confirm", options: { body: { token } } };
    },
    writes: ["user.signed_up", "organization.created", "member.added", "workspace.created"],
    refuse: (call) => ({ ...call, options: { body: { token: "A".repeat(43) } } }),
  },
  logIn: {
    // A session begun is not an event (its end is): log-ins would drown the feed.
    arrange: async () => {
      const u = await buildUser(t);
      return {
        method: "POST",
        path: "/api/v1/auth/login",
        options: { body: { email: u.email, password: u.password } },
      };
    },
    writes: [],
    refuse: (call) => ({
      ...call,
      options: { body: { email: uniqueEmail(), password: "wrong wrong wrong" } },
    }),
  },
  logOut: {
    arrange: async () => ({
      method: "POST",
      path: "/api/v1/auth/logout",
      options: { token: (await buildUser(t)).token },
    }),
    writes: ["session.revoked"],
    refuse: anonymous,
  },
  requestPasswordReset: {
    arrange: async () => ({
      method: "POST",
      path: "/api/v1/auth/password-reset",
      options: { body: { email: (await buildUser(t)).email } },
    }),
    writes: ["user.password_reset_requested"],
    refuse: badBody,
  },
  confirmPasswordReset: {
    arrange: async () => {
      const u = await buildUser(t);
      const token = await resetTokenFor(t, u.email);
      return {
        method: "POST",
        path: "/api/v1/auth/password-reset/confirm",
        options: { body: { token, password: "another long passphrase" } },
      };
    },
    writes: ["user.sessions_revoked", "user.password_reset"],
    refuse: (call) => ({
      ...call,
      options: { body: { token: "A".repeat(43), password: "another long passphrase" } },
    }),
  },
  updateCurrentUser: {
    arrange: async () => ({
      method: "PATCH",
      path: "/api/v1/me",
      options: { token: (await buildUser(t)).token, body: { name: "New Name" } },
    }),
    writes: ["user.updated"],
    refuse: anonymous,
  },
  changePassword: {
    arrange: async () => {
      const u = await buildUser(t);
      // A second device, which the change logs out.
      await t.request("POST", "/api/v1/auth/login", { body: { email: u.email, password: u.password } });
      return {
        method: "POST",
        path: "/api/v1/me/password",
        options: {
          token: u.token,
          body: { currentPassword: u.password, newPassword: "a brand new passphrase" },
        },
      };
    },
    writes: ["user.sessions_revoked", "user.password_changed"],
    refuse: anonymous,
  },
  verifySession: {
    // A question a service key asks: it changes nothing (beyond the session's last-seen time).
    arrange: async () => {
      const key = await serviceKey("verifier");
      const u = await buildUser(t);
      return {
        method: "POST",
        path: "/api/v1/sessions/verify",
        options: { token: key.token, body: { token: u.token } },
      };
    },
    writes: [],
    refuse: asOutsider,
  },
  // A replica client's lease is the freshness protocol's bookkeeping, not a change of anyone's
  // access: no event (docs/replica.md).
  openReplicaLease: {
    arrange: async () => ({
      method: "POST",
      path: "/api/v1/replica/leases",
      options: { token: (await serviceKey("replica")).token, body: { name: "host", applied: "1.1" } },
    }),
    writes: [],
    refuse: asOutsider,
  },
  renewReplicaLease: {
    arrange: async () => {
      const { token, lease } = await replicaLease();
      return {
        method: "PUT",
        path: `/api/v1/replica/leases/${lease}`,
        options: { token, body: { applied: "1.2" } },
      };
    },
    writes: [],
    refuse: asOutsider,
  },
  endReplicaLease: {
    arrange: async () => {
      const { token, lease } = await replicaLease();
      return { method: "DELETE", path: `/api/v1/replica/leases/${lease}`, options: { token } };
    },
    writes: [],
    refuse: asOutsider,
  },
  revokeSessions: {
    arrange: async () => {
      const u = await buildUser(t);
      await t.request("POST", "/api/v1/auth/login", { body: { email: u.email, password: u.password } });
      return { method: "DELETE", path: "/api/v1/me/sessions?except=current", options: { token: u.token } };
    },
    writes: ["user.sessions_revoked"],
    refuse: anonymous,
  },
  revokeSession: {
    arrange: async () => {
      const u = await buildUser(t);
      return { method: "DELETE", path: `/api/v1/me/sessions/${u.sessionId}`, options: { token: u.token } };
    },
    writes: ["session.revoked"],
    refuse: asOutsider,
  },
  createOrganization: {
    arrange: async () => ({
      method: "POST",
      path: "/api/v1/orgs",
      options: { token: (await buildUser(t)).token, body: { name: "Second Org" } },
    }),
    writes: ["organization.created", "member.added", "workspace.created"],
    refuse: anonymous,
  },
  updateOrganization: {
    arrange: async () => {
      const o = await owner();
      return {
        method: "PATCH",
        path: `/api/v1/orgs/${o.orgId}`,
        options: { token: o.token, body: { name: "Renamed" } },
      };
    },
    writes: ["organization.updated"],
    refuse: asOutsider,
  },
  deleteOrganization: {
    arrange: async () => {
      const o = await owner();
      return { method: "DELETE", path: `/api/v1/orgs/${o.orgId}`, options: { token: o.token } };
    },
    writes: ["organization.deleted"],
    refuse: asOutsider,
  },
  updateOrganizationMember: {
    arrange: async () => {
      const o = await owner();
      const m = await member(o.orgId);
      return {
        method: "PATCH",
        path: `/api/v1/orgs/${o.orgId}/members/${m.userId}`,
        options: { token: o.token, body: { role: "admin" } },
      };
    },
    writes: ["member.role_changed"],
    refuse: asOutsider,
  },
  removeOrganizationMember: {
    arrange: async () => {
      const o = await owner();
      const m = await member(o.orgId);
      return {
        method: "DELETE",
        path: `/api/v1/orgs/${o.orgId}/members/${m.userId}`,
        options: { token: o.token },
      };
    },
    writes: ["member.removed"],
    refuse: asOutsider,
  },
  createWorkspace: {
    arrange: async () => {
      const o = await owner();
      return {
        method: "POST",
        path: `/api/v1/orgs/${o.orgId}/workspaces`,
        options: { token: o.token, body: { name: "New" } },
      };
    },
    writes: ["workspace.created"],
    refuse: asOutsider,
  },
  updateWorkspace: {
    arrange: async () => {
      const o = await owner();
      return {
        method: "PATCH",
        path: `/api/v1/workspaces/${o.workspaceId}`,
        options: { token: o.token, body: { name: "Renamed" } },
      };
    },
    writes: ["workspace.updated"],
    refuse: asOutsider,
  },
  deleteWorkspace: {
    arrange: async () => {
      const o = await owner();
      return { method: "DELETE", path: `/api/v1/workspaces/${o.workspaceId}`, options: { token: o.token } };
    },
    writes: ["workspace.deleted"],
    refuse: asOutsider,
  },
  setWorkspaceMember: {
    arrange: async () => {
      const o = await owner();
      const m = await member(o.orgId);
      return {
        method: "PUT",
        path: `/api/v1/workspaces/${o.workspaceId}/members/${m.userId}`,
        options: { token: o.token, body: { role: "editor" } },
      };
    },
    writes: ["workspace_member.added"],
    refuse: asOutsider,
  },
  removeWorkspaceMember: {
    arrange: async () => {
      const o = await owner();
      const m = await member(o.orgId);
      const path = `/api/v1/workspaces/${o.workspaceId}/members/${m.userId}`;
      await t.request("PUT", path, { token: o.token, body: { role: "editor" } });
      return { method: "DELETE", path, options: { token: o.token } };
    },
    writes: ["workspace_member.removed"],
    refuse: asOutsider,
  },
  authorizeInWorkspace: {
    // A question: changes nothing.
    arrange: async () => {
      const o = await owner();
      return {
        method: "POST",
        path: `/api/v1/workspaces/${o.workspaceId}/authorize`,
        options: { token: o.token, body: { permission: "flows.read" } },
      };
    },
    writes: [],
    refuse: asOutsider,
  },
  authorizeInOrganization: {
    // A question: changes nothing.
    arrange: async () => {
      const o = await owner();
      return {
        method: "POST",
        path: `/api/v1/orgs/${o.orgId}/authorize`,
        options: { token: o.token, body: { permission: "org.users" } },
      };
    },
    writes: [],
    refuse: asOutsider,
  },
  createInvitation: {
    arrange: async () => {
      const o = await owner();
      return {
        method: "POST",
        path: `/api/v1/orgs/${o.orgId}/invitations`,
        options: { token: o.token, body: { email: uniqueEmail(), role: "member" } },
      };
    },
    writes: ["invitation.created"],
    refuse: asOutsider,
  },
  createWorkspaceInvitation: {
    arrange: async () => {
      const o = await owner();
      return {
        method: "POST",
        path: `/api/v1/workspaces/${o.workspaceId}/invitations`,
        options: { token: o.token, body: { email: uniqueEmail(), role: "viewer" } },
      };
    },
    writes: ["invitation.created"],
    refuse: asOutsider,
  },
  resendInvitation: {
    arrange: async () => {
      const o = await owner();
      const inv = await linkInvitation(o);
      return { method: "POST", path: `/api/v1/invitations/${inv.id}/resend`, options: { token: o.token } };
    },
    writes: ["invitation.resent"],
    refuse: asOutsider,
  },
  cancelInvitation: {
    arrange: async () => {
      const o = await owner();
      const inv = await linkInvitation(o);
      return { method: "DELETE", path: `/api/v1/invitations/${inv.id}`, options: { token: o.token } };
    },
    writes: ["invitation.cancelled"],
    refuse: asOutsider,
  },
  acceptInvitation: {
    arrange: async () => {
      const inv = await linkInvitation(await owner());
      const joiner = await buildUser(t);
      return {
        method: "POST",
        path: "/api/v1/invitations/accept",
        options: { token: joiner.token, body: { token: inv.token } },
      };
    },
    writes: ["member.added", "invitation.accepted"],
    refuse: anonymous,
  },
  declineInvitation: {
    // An e-mail invitation (a link one is not one person's to decline: declining it changes nothing).
    arrange: async () => {
      const o = await owner();
      const joiner = await buildUser(t);
      const made = await t.request("POST", `/api/v1/orgs/${o.orgId}/invitations`, {
        token: o.token,
        body: { email: joiner.email, role: "member" },
      });
      assert.equal(made.status, 201, made.text);
      const mail = await t.smtp.waitFor((m) => m.to.includes(joiner.email));
      const inv = { token: linkIn(mail.text, `${PUBLIC_URL}/invite/`).split("/invite/")[1] ?? "" };
      return {
        method: "POST",
        path: "/api/v1/invitations/decline",
        options: { token: joiner.token, body: { token: inv.token } },
      };
    },
    writes: ["invitation.declined"],
    refuse: anonymous,
  },
  createApiKey: {
    arrange: async () => {
      const o = await owner();
      return {
        method: "POST",
        path: `/api/v1/orgs/${o.orgId}/api-keys`,
        options: { token: o.token, body: { name: "k", role: "member" } },
      };
    },
    writes: ["api_key.created"],
    refuse: asOutsider,
  },
  revokeApiKey: {
    arrange: async () => {
      const o = await owner();
      const key = await t.request("POST", `/api/v1/orgs/${o.orgId}/api-keys`, {
        token: o.token,
        body: { name: "k", role: "member" },
      });
      return {
        method: "DELETE",
        path: `/api/v1/orgs/${o.orgId}/api-keys/${key.json.apiKey.id}`,
        options: { token: o.token },
      };
    },
    writes: ["api_key.revoked"],
    refuse: asOutsider,
  },

  createWebhook: {
    arrange: async () => {
      const o = await owner();
      return {
        method: "POST",
        path: `/api/v1/orgs/${o.orgId}/webhooks`,
        options: { token: o.token, body: { url: "https://hooks.example.com/new" } },
      };
    },
    writes: ["webhook.created"],
    refuse: asOutsider,
  },
  updateWebhook: {
    arrange: async () => {
      const o = await owner();
      const id = await webhook(o);
      return {
        method: "PATCH",
        path: `/api/v1/orgs/${o.orgId}/webhooks/${id}`,
        options: { token: o.token, body: { description: "CRM sync" } },
      };
    },
    writes: ["webhook.updated"],
    // Every field is optional (an unknown one is dropped): a URL it may not post to.
    refuse: (call) => ({ ...call, options: { ...call.options, body: { url: "https://127.0.0.1/hook" } } }),
  },
  deleteWebhook: {
    arrange: async () => {
      const o = await owner();
      const id = await webhook(o);
      return {
        method: "DELETE",
        path: `/api/v1/orgs/${o.orgId}/webhooks/${id}`,
        options: { token: o.token },
      };
    },
    writes: ["webhook.deleted"],
    refuse: asOutsider,
  },
  rotateWebhookSecret: {
    arrange: async () => {
      const o = await owner();
      const id = await webhook(o);
      return {
        method: "POST",
        path: `/api/v1/orgs/${o.orgId}/webhooks/${id}/rotate-secret`,
        options: { token: o.token },
      };
    },
    writes: ["webhook.secret_rotated"],
    refuse: asOutsider,
  },
  // The test event exists only as its delivery: nothing in the trail or the feed.
  testWebhook: {
    arrange: async () => {
      const o = await owner();
      const id = await webhook(o);
      return {
        method: "POST",
        path: `/api/v1/orgs/${o.orgId}/webhooks/${id}/test`,
        options: { token: o.token },
      };
    },
    writes: [],
    refuse: asOutsider,
  },
  retryWebhookDelivery: {
    arrange: async () => {
      const o = await owner();
      const id = await webhook(o);
      await t.request("POST", `/api/v1/orgs/${o.orgId}/workspaces`, {
        token: o.token,
        body: { name: "Hooked" },
      });
      const log = await t.request("GET", `/api/v1/orgs/${o.orgId}/webhooks/${id}/deliveries`, {
        token: o.token,
      });
      const delivery: string = log.json.items[0].id;
      return {
        method: "POST",
        path: `/api/v1/orgs/${o.orgId}/webhooks/${id}/deliveries/${delivery}/retry`,
        options: { token: o.token },
      };
    },
    writes: [],
    refuse: asOutsider,
  },
};

/** Every operation of the document that may change something: all but GET. */
async function writingOperations(): Promise<string[]> {
  const doc = (await openApiDocument()) as { paths: Record<string, Record<string, { operationId: string }>> };
  return Object.values(doc.paths).flatMap((ops) =>
    Object.entries(ops)
      .filter(([method]) => method !== "get" && method !== "head")
      .map(([, op]) => op.operationId),
  );
}

/** The public types of the events written after `seq`, in the order written. */
async function eventsAfter(x: TestApp, seq: string): Promise<{ types: string[]; seq: string }> {
  const rows = await x.db
    .selectFrom("audit_events")
    .select(["action", "data", "seq", "org_id"])
    .where("seq", ">", seq as never)
    .orderBy("seq")
    .execute();
  const types = rows.map((r) => publicType(r.action, r.data));
  // An organisation's event has its organisation; only the installation's types have none.
  const installation: readonly string[] = INSTALLATION_EVENT_TYPES;
  rows.forEach((r, i) => {
    assert.equal(r.org_id === null, installation.includes(types[i] ?? ""), `${types[i]} and its org_id`);
  });
  return { types, seq: rows.at(-1)?.seq ?? seq };
}

async function lastSeq(x: TestApp): Promise<string> {
  const row = await x.db
    .selectFrom("audit_events")
    .select("seq")
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
  return row?.seq ?? "0";
}

async function send(x: TestApp, call: Call): Promise<Answer> {
  return x.request(call.method, call.path, call.options);
}

test("every operation that can change something has its recipe here", async () => {
  const operations = await writingOperations();
  assert.deepEqual(
    operations.filter((id) => !RECIPES[id]),
    [],
    "operations with no recipe: add one to RECIPES (what it writes, and how it is refused)",
  );
  assert.deepEqual(
    Object.keys(RECIPES).filter((id) => !operations.includes(id)),
    [],
    "recipes for operations the API no longer has",
  );
});

for (const [operationId, recipe] of Object.entries(RECIPES)) {
  test(`${operationId} writes ${recipe.writes.length ? recipe.writes.join(", ") : "no event"}; refused, nothing`, async () => {
    outsider ??= await buildUser(t, { name: "Otto Outsider" });
    const x = recipe.app?.() ?? t;
    const call = await recipe.arrange();

    // Refused first (the arranged state still intact), then carried out.
    let seq = await lastSeq(x);
    const refused = await send(x, recipe.refuse(call));
    assert.ok(refused.status >= 400 && refused.status < 500, `refused: ${refused.status} ${refused.text}`);
    const none = await eventsAfter(x, seq);
    assert.deepEqual(none.types, [], `refused (${refused.status}) yet wrote events`);

    seq = await lastSeq(x);
    const done = await send(x, call);
    assert.ok(done.status < 300, `${operationId}: ${done.status} ${done.text}`);
    const written = await eventsAfter(x, seq);
    assert.deepEqual(written.types, recipe.writes);
  });
}
