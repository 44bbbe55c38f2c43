// The webhook dialog's event types (web/src/lib/webhook-types.ts) against the server's one list
// (src/events/public.ts): every type an endpoint can ask for is offered once, in a group.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ORGANIZATION_EVENT_TYPES } from "../../src/events/public.js";
import { EVENT_TYPE_GROUPS, eventTypeLabel, typesSummary } from "../../web/src/lib/webhook-types.js";

test("every organisation event type but webhook.test is offered exactly once, in a group of its prefix", () => {
  const offered = EVENT_TYPE_GROUPS.flatMap((g) => g.types.map((t) => t.value));
  assert.deepEqual([...offered].sort(), ORGANIZATION_EVENT_TYPES.filter((t) => t !== "webhook.test").sort());
  assert.equal(new Set(offered).size, offered.length, "no type is offered twice");
  for (const group of EVENT_TYPE_GROUPS) {
    assert.ok(group.types.length > 0, `${group.label} has types`);
    const prefixes = new Set(group.types.map((t) => t.value.split(".")[0]));
    assert.equal(prefixes.size, 1, `${group.label} holds one prefix, not ${[...prefixes].join(", ")}`);
  }
  const workspaces = EVENT_TYPE_GROUPS.find((g) => g.label === "Workspaces");
  assert.deepEqual(
    workspaces?.types.map((t) => t.value),
    ["workspace.created", "workspace.updated", "workspace.deleted"],
    "workspace_member.* are not workspace events",
  );
});

test("types read as words, and a list of them as a short summary", () => {
  assert.equal(eventTypeLabel("member.added"), "Member joined or added");
  assert.equal(eventTypeLabel("webhook.test"), "Test event");
  assert.equal(eventTypeLabel("something.new"), "something.new");
  assert.equal(typesSummary([]), "All events");
  assert.equal(typesSummary(["member.added"]), "Member joined or added");
  assert.equal(typesSummary(["member.added", "member.removed"]), "Member joined or added, Member removed");
  assert.equal(typesSummary(["member.added", "member.removed", "workspace.created"]), "3 event types");
});
