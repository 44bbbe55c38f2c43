// The replica on its own: events applied as the state each sets, in any order the feed may hand
// two changes of one membership, and repeated events changing nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Replica, type StreamEvent, sequenceOf } from "./replica.js";

const snapshot = () =>
  new Replica({
    cursor: "10.100",
    organizations: ["org_a"],
    workspaces: [["ws_1", "org_a"]],
    orgMembers: [
      ["org_a", "usr_owner", "owner"],
      ["org_a", "usr_m", "member"],
    ],
    workspaceMembers: [["ws_1", "usr_m", "editor"]],
  });

function event(type: string, data: Record<string, unknown>, orgId = "org_a"): StreamEvent {
  return {
    id: `evt_${type}`,
    type,
    at: "2026-12-07T00:00:00Z",
    orgId,
    actor: { type: "user", id: null, name: null },
    data,
  };
}

test("sequenceOf reads a cursor's sequence number", () => {
  assert.equal(sequenceOf("1234.5678"), 5678);
  assert.throws(() => sequenceOf("nonsense"));
});

test("role changes, additions and removals set the state they name", () => {
  const r = snapshot();
  r.apply(event("member.role_changed", { userId: "usr_m", fromRole: "member", toRole: "admin" }), 101);
  assert.equal(r.orgRole("org_a", "usr_m"), "admin");
  r.apply(
    event("workspace_member.role_changed", { userId: "usr_m", workspaceId: "ws_1", toRole: "viewer" }),
    102,
  );
  assert.equal(r.workspaceRole("ws_1", "usr_m"), "viewer");
  r.apply(event("workspace.created", { workspaceId: "ws_2" }), 103);
  r.apply(event("workspace_member.added", { userId: "usr_m", workspaceId: "ws_2", toRole: "agent" }), 104);
  assert.equal(r.workspaceRole("ws_2", "usr_m"), "agent");
  r.apply(event("member.removed", { userId: "usr_m", role: "admin" }), 105);
  assert.equal(r.orgRole("org_a", "usr_m"), null);
  assert.equal(r.workspaceRole("ws_1", "usr_m"), null, "a removal takes every workspace role there");
  assert.equal(r.workspaceRole("ws_2", "usr_m"), null);
  assert.deepEqual(r.size, { organizations: 1, orgMembers: 1, workspaceMembers: 0 });
});

test("two changes of one membership read out of order: the later one stands", () => {
  const r = snapshot();
  r.apply(event("member.role_changed", { userId: "usr_m", toRole: "member" }), 120);
  r.apply(event("member.role_changed", { userId: "usr_m", toRole: "admin" }), 110);
  assert.equal(r.orgRole("org_a", "usr_m"), "member");
});

test("a grant read after the removal that followed it is not brought back", () => {
  const r = snapshot();
  r.apply(event("member.removed", { userId: "usr_m" }), 130);
  r.apply(event("workspace_member.added", { userId: "usr_m", workspaceId: "ws_1", toRole: "admin" }), 125);
  r.apply(event("member.role_changed", { userId: "usr_m", toRole: "admin" }), 126);
  assert.equal(r.workspaceRole("ws_1", "usr_m"), null);
  assert.equal(r.orgRole("org_a", "usr_m"), null);
  // Joining again later counts.
  r.apply(event("member.added", { userId: "usr_m", toRole: "member" }), 140);
  r.apply(event("workspace_member.added", { userId: "usr_m", workspaceId: "ws_1", toRole: "agent" }), 141);
  assert.equal(r.orgRole("org_a", "usr_m"), "member");
  assert.equal(r.workspaceRole("ws_1", "usr_m"), "agent");
});

test("an event applied twice changes nothing; a deleted workspace or organisation takes its roles", () => {
  const r = snapshot();
  const removed = event("workspace_member.removed", { userId: "usr_m", workspaceId: "ws_1" });
  r.apply(removed, 150);
  r.apply(event("workspace_member.added", { userId: "usr_m", workspaceId: "ws_1", toRole: "viewer" }), 151);
  r.apply(removed, 150);
  assert.equal(r.workspaceRole("ws_1", "usr_m"), "viewer", "the repeated older removal changed nothing");
  r.apply(event("workspace.deleted", { workspaceId: "ws_1" }), 160);
  assert.equal(r.workspaceRole("ws_1", "usr_m"), null);
  assert.equal(r.workspaceOrg("ws_1"), null);
  r.apply(event("organization.deleted", {}), 170);
  assert.equal(r.orgRole("org_a", "usr_owner"), null);
  r.apply(event("member.added", { userId: "usr_late", toRole: "member" }), 165);
  assert.equal(r.orgRole("org_a", "usr_late"), null, "nothing older than the deletion comes back");
  assert.deepEqual(r.size, { organizations: 0, orgMembers: 0, workspaceMembers: 0 });
});
