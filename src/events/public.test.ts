// The list of public event types (EVENT_TYPES) is every type publicEvent can give, and no other
// but webhook.test: a webhook's `types` are checked against it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AUDIT_ACTIONS } from "../audit/actions.js";
import { EVENT_TYPES, INSTALLATION_EVENT_TYPES, ORGANIZATION_EVENT_TYPES, publicType } from "./public.js";

test("EVENT_TYPES: the public type of every audit action, the withdrawn invitation and webhook.test", () => {
  const produced = new Set<string>(AUDIT_ACTIONS.map((action) => publicType(action, {})));
  produced.add(publicType("invitation.cancelled", { withdrawn: true }));
  produced.add("webhook.test");
  assert.deepEqual([...EVENT_TYPES].sort(), [...produced].sort());
  assert.equal(new Set(EVENT_TYPES).size, EVENT_TYPES.length, "no type listed twice");
  assert.equal(EVENT_TYPES.length, ORGANIZATION_EVENT_TYPES.length + INSTALLATION_EVENT_TYPES.length);
});
