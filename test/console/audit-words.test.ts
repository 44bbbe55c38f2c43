// The audit log's plain words (web/src/lib/audit-words.ts): one sentence for every action the
// server records (src/audit/actions.ts), with the `data` each operation writes (src/orgs/operations.ts,
// src/workspaces/operations.ts, src/invitations/*.ts, src/accounts/operations.ts, src/cli,
// src/db/migrations/0005).
import assert from "node:assert/strict";
import { test } from "node:test";
import { AUDIT_ACTIONS } from "../../src/audit/actions.js";
import {
  ACTION_GROUPS,
  type AuditContext,
  type AuditEventLike,
  actorLabel,
  describe,
  readableAction,
} from "../../web/src/lib/audit-words.js";

const ALICE = "usr_alice";
const BOB = "usr_bob";
const DAN = "usr_dan";
const FIELD_OPS = "wsp_field";
const SALES = "wsp_sales";

const context: AuditContext = {
  organizationName: "Acme",
  workspaceName: (id) => ({ [FIELD_OPS]: "Field Ops", [SALES]: "Sales" })[id],
  personName: (id) => ({ [ALICE]: "Alice Example", [BOB]: "Bob Stone", [DAN]: "Dan Joiner" })[id],
};

function event(
  action: string,
  data: Record<string, unknown> = {},
  extra: Partial<AuditEventLike> = {},
): AuditEventLike {
  return {
    actorId: ALICE,
    actorName: "Alice Example",
    action,
    targetType: "user",
    targetId: BOB,
    data,
    ...extra,
  };
}

/** Dan acting on himself, as joining through an invitation records it. */
const dan = { actorId: DAN, actorName: "Dan Joiner", targetId: DAN };

const cases: [string, AuditEventLike, string][] = [
  [
    "organization.created",
    event("organization.created", { name: "Acme" }, { targetType: "organization", targetId: "org_1" }),
    "Alice Example created the organisation Acme",
  ],
  [
    "organization.renamed",
    event("organization.renamed", { from: "Acme", to: "Acme Ltd" }, { targetType: "organization" }),
    "Alice Example renamed the organisation from Acme to Acme Ltd",
  ],
  [
    "organization.deleted",
    event("organization.deleted", { name: "Acme" }, { targetType: "organization" }),
    "Alice Example deleted the organisation Acme",
  ],
  [
    "member.added (the owner, on creating the organisation)",
    event("member.added", { role: "owner" }, { targetId: ALICE }),
    "Alice Example joined Acme as Owner",
  ],
  [
    "member.added (by an operator's create-owner, no name recorded)",
    event("member.added", { role: "owner" }, { actorId: null, actorName: "rollcall create-owner" }),
    "An operator (rollcall create-owner) added Bob Stone to Acme as Owner",
  ],
  [
    "member.added (joining through an invitation)",
    event(
      "member.added",
      { role: "member", invitationId: "inv_1", name: "Dan Joiner", email: "d@x.org" },
      dan,
    ),
    "Dan Joiner joined Acme as Member through an invitation",
  ],
  [
    "member.role_changed",
    event("member.role_changed", { from: "member", to: "admin", name: "Bob Stone", email: "b@x.org" }),
    "Alice Example changed Bob Stone's organisation role from Member to Admin",
  ],
  [
    "member.role_changed (raised by an invitation)",
    event(
      "member.role_changed",
      { from: "member", to: "admin", invitationId: "inv_1", name: "Dan Joiner" },
      dan,
    ),
    "Dan Joiner became Admin in Acme through an invitation (was Member)",
  ],
  [
    "member.removed",
    event("member.removed", { role: "member", name: "Bob Stone", email: "b@x.org" }),
    "Alice Example removed Bob Stone (Member) from Acme",
  ],
  [
    "member.left",
    event("member.left", { role: "admin" }, { actorId: BOB, actorName: "Bob Stone", targetId: BOB }),
    "Bob Stone left Acme (was Admin)",
  ],
  [
    "workspace.created",
    event(
      "workspace.created",
      { name: "Field Ops", timezone: "UTC", language: "en" },
      { targetType: "workspace", targetId: FIELD_OPS },
    ),
    "Alice Example created the workspace Field Ops",
  ],
  [
    "workspace.updated (renamed)",
    event(
      "workspace.updated",
      { changes: { name: { from: "Field", to: "Field Ops" } } },
      { targetType: "workspace", targetId: FIELD_OPS },
    ),
    "Alice Example renamed the workspace Field to Field Ops",
  ],
  [
    "workspace.updated (timezone and language)",
    event(
      "workspace.updated",
      { changes: { timezone: { from: "UTC", to: "Europe/Paris" }, language: { from: "en", to: "fr" } } },
      { targetType: "workspace", targetId: FIELD_OPS },
    ),
    "Alice Example changed the timezone from UTC to Europe/Paris and language from en to fr of Field Ops",
  ],
  [
    "workspace.deleted",
    event("workspace.deleted", { name: "Old Ops" }, { targetType: "workspace", targetId: "wsp_gone" }),
    "Alice Example deleted the workspace Old Ops",
  ],
  [
    "workspace_member.added",
    event("workspace_member.added", { workspaceId: FIELD_OPS, role: "editor", name: "Bob Stone" }),
    "Alice Example added Bob Stone to Field Ops as Editor",
  ],
  [
    "workspace_member.added (through an invitation)",
    event("workspace_member.added", { workspaceId: SALES, role: "viewer", invitationId: "inv_1" }, dan),
    "Dan Joiner joined Sales as Viewer through an invitation",
  ],
  [
    "workspace_member.role_changed",
    event("workspace_member.role_changed", {
      workspaceId: FIELD_OPS,
      from: "editor",
      to: "agent",
      name: "Bob Stone",
      email: "b@x.org",
    }),
    "Alice Example changed Bob Stone's role from Editor to Agent in Field Ops",
  ],
  [
    "workspace_member.role_changed (raised by an invitation)",
    event(
      "workspace_member.role_changed",
      { workspaceId: FIELD_OPS, from: "viewer", to: "editor", invitationId: "inv_1" },
      dan,
    ),
    "Dan Joiner became Editor in Field Ops through an invitation (was Viewer)",
  ],
  [
    "workspace_member.removed (in a workspace deleted since)",
    event("workspace_member.removed", { workspaceId: "wsp_gone", role: "agent", name: "Bob Stone" }),
    "Alice Example removed Bob Stone (Agent) from a deleted workspace",
  ],
  [
    "invitation.created (e-mail)",
    event(
      "invitation.created",
      {
        delivery: "email",
        email: "carol@example.org",
        role: "member",
        workspaces: [],
        maxUses: 1,
        expiresInHours: 168,
      },
      { targetType: "invitation", targetId: "inv_2" },
    ),
    "Alice Example invited carol@example.org as Member",
  ],
  [
    "invitation.created (a link with workspaces)",
    event(
      "invitation.created",
      {
        delivery: "link",
        email: null,
        role: "member",
        workspaces: [
          { workspaceId: FIELD_OPS, role: "editor" },
          { workspaceId: SALES, role: "viewer" },
        ],
        maxUses: 5,
        expiresInHours: 72,
      },
      { targetType: "invitation", targetId: "inv_3" },
    ),
    "Alice Example created an invite link to join as Member, with Editor in Field Ops and Viewer in Sales, for up to 5 people",
  ],
  [
    "invitation.resent",
    event(
      "invitation.resent",
      { delivery: "email", email: "carol@example.org", expiresInHours: 168 },
      { targetType: "invitation" },
    ),
    "Alice Example resent the invitation to carol@example.org",
  ],
  [
    "invitation.cancelled",
    event(
      "invitation.cancelled",
      { delivery: "email", email: "carol@example.org", role: "member" },
      { targetType: "invitation" },
    ),
    "Alice Example cancelled the invitation to carol@example.org",
  ],
  [
    "invitation.cancelled (a link)",
    event(
      "invitation.cancelled",
      { delivery: "link", email: null, role: "admin" },
      { targetType: "invitation" },
    ),
    "Alice Example cancelled an invite link for Admin",
  ],
  [
    "invitation.cancelled (withdrawn: its inviter was demoted)",
    event(
      "invitation.cancelled",
      {
        delivery: "link",
        email: null,
        role: "admin",
        withdrawn: true,
        reason: "its inviter can no longer invite admin",
      },
      { targetType: "invitation" },
    ),
    "Alice Example's change cancelled an invite link for Admin: its inviter could no longer make it",
  ],
  [
    "invitation.accepted (a link)",
    event(
      "invitation.accepted",
      { delivery: "link", role: "member", uses: 1, name: "Dan Joiner" },
      { ...dan, targetType: "invitation", targetId: "inv_3" },
    ),
    "Dan Joiner joined Acme through an invite link",
  ],
  [
    "invitation.accepted (e-mail)",
    event(
      "invitation.accepted",
      { delivery: "email", role: "member", uses: 1 },
      { ...dan, targetType: "invitation", targetId: "inv_2" },
    ),
    "Dan Joiner accepted the e-mail invitation to Acme",
  ],
  [
    "invitation.declined",
    event("invitation.declined", { email: "dan@example.org" }, { ...dan, targetType: "invitation" }),
    "Dan Joiner declined the invitation sent to dan@example.org",
  ],
  ["user.signed_up", event("user.signed_up", {}, dan), "Dan Joiner signed up"],
  ["user.updated", event("user.updated", { name: "Dan J." }, dan), "Dan Joiner changed their name to Dan J."],
  ["user.password_changed", event("user.password_changed", {}, dan), "Dan Joiner changed their password"],
  [
    "user.password_reset_requested",
    event("user.password_reset_requested", {}, { actorId: null, actorName: null, targetId: DAN }),
    "Someone asked for a password reset link for Dan Joiner",
  ],
  [
    "user.password_reset",
    event("user.password_reset", {}, dan),
    "Dan Joiner chose a new password through a reset link",
  ],
  [
    "user.address_conflict (migration 0005: another spelling kept the address)",
    event(
      "user.address_conflict",
      { email: "\u212Aim@example.org", address: "kim@example.org", keptBy: "usr_kim" },
      { actorId: null, actorName: "rollcall migrate", targetId: DAN },
    ),
    "An operator (rollcall migrate) took kim@example.org from Dan Joiner: another account has the same address",
  ],
  [
    "api_key.created",
    event(
      "api_key.created",
      { name: "CI deploys", role: "member", workspaces: [], expiresAt: null },
      { targetType: "api_key" },
    ),
    "Alice Example created the API key CI deploys acting as Member",
  ],
  [
    "api_key.revoked",
    event("api_key.revoked", { name: "CI deploys", role: "member" }, { targetType: "api_key" }),
    "Alice Example revoked the API key CI deploys",
  ],
  [
    "service_key.created (the operator)",
    event(
      "service_key.created",
      { name: "web" },
      { actorId: null, actorName: "rollcall service-key", targetType: "service_key" },
    ),
    "An operator (rollcall service-key) created the service key web",
  ],
  [
    "an action this console does not know",
    event("billing.plan_changed", { plan: "pro" }),
    "Alice Example: billing plan changed",
  ],
];

for (const [what, e, sentence] of cases) {
  test(`audit words: ${what}`, () => {
    assert.equal(describe(e, context), sentence);
  });
}

test("audit words: every action the server records has its own sentence", () => {
  // The server's list (recordAudit takes no other); the console's table is keyed by it through
  // the API's types, so a missing sentence does not compile. This checks each one reads well.
  for (const action of AUDIT_ACTIONS) {
    const e = event(action);
    const sentence = describe(e, context);
    const fallback = `${actorLabel(e)}: ${readableAction(action)}`;
    assert.notEqual(sentence, fallback, `${action} falls back to the readable action`);
    assert.ok(!sentence.includes("undefined") && !sentence.includes("null"), `${action}: ${sentence}`);
  }
  // Every organisation-level action is offered by the filter (user.* and service_key.* events
  // belong to no organisation).
  const offered = new Set(ACTION_GROUPS.flatMap((g) => g.options.map((o) => o.value)));
  const orgLevel = (a: string) =>
    !a.startsWith("user.") &&
    !a.startsWith("service_key.") &&
    !a.startsWith("session.") &&
    a !== "organization.deleted";
  for (const action of AUDIT_ACTIONS.filter(orgLevel)) {
    assert.ok(offered.has(action), `the action filter offers ${action}`);
  }
  // And nothing else, but the prefixes.
  for (const value of offered) {
    assert.ok(value.endsWith(".*") || (AUDIT_ACTIONS as readonly string[]).includes(value), value);
  }
});

test("audit words: who acted, when nobody or a command did", () => {
  assert.equal(actorLabel({ actorId: ALICE, actorName: "Alice Example" }), "Alice Example");
  assert.equal(actorLabel({ actorId: null, actorName: "rollcall invite" }), "An operator (rollcall invite)");
  assert.equal(actorLabel({ actorId: null, actorName: null }), "Rollcall");
  assert.equal(actorLabel({ actorId: "usr_gone", actorName: null }), "Someone (deleted account)");
  assert.equal(readableAction("workspace_member.role_changed"), "workspace member role changed");
});

test("audit words: names missing from the event come from the context, else a fallback", () => {
  const bare: AuditContext = { organizationName: "Acme" };
  assert.equal(
    describe(event("member.added", { role: "member" }), bare),
    "Alice Example added a former member to Acme as Member",
  );
  assert.equal(
    describe(
      event("workspace_member.added", { workspaceId: FIELD_OPS, role: "viewer", email: "b@x.org" }),
      bare,
    ),
    "Alice Example added b@x.org to a deleted workspace as Viewer",
  );
});
