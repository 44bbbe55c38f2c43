// The operation descriptors the property generates, and their fast-check arbitraries. A descriptor
// names its actor, target, workspace and invitation by a number, read modulo the lists of the live
// world when the step runs (world.ts chooses, run.ts sends), so that every generated sequence can
// run and a shrunk one still can. The weights say how often each operation comes up; `layoutArb`
// seats the standing people of a run in its two organisations before the first step.
import fc from "fast-check";
import { ORG_ROLES, type OrgRole, WS_ROLES, type WsRole } from "./oracle.js";

/** A person, read modulo the people of the world; "self" is the actor. */
export type Target = "self" | number;
type Address = { kind: "person"; index: number; shout: boolean } | { kind: "new" };
type Joiner =
  | { kind: "invitee" }
  | { kind: "person"; index: number }
  | { kind: "signup"; sameAddress: boolean };

export type Op =
  | { kind: "orgRole"; actor: number; org: number; target: Target; role: OrgRole }
  | { kind: "removeMember"; actor: number; org: number; target: Target }
  | { kind: "leave"; actor: number; org: number }
  | { kind: "transfer"; actor: number; org: number; target: number }
  | { kind: "putWs"; actor: number; ws: number; target: Target; role: WsRole }
  | { kind: "removeWs"; actor: number; ws: number; target: Target }
  | { kind: "createWs"; actor: number; org: number }
  | { kind: "deleteWs"; actor: number; ws: number }
  | {
      kind: "invite";
      actor: number;
      via: "org" | "ws";
      org: number;
      ws: number;
      delivery: "email" | "link";
      address: Address;
      role: OrgRole;
      wsRole: WsRole;
      grants: { ws: number; role: WsRole }[];
      maxUses: number | undefined;
    }
  | { kind: "accept"; invitation: number; by: Joiner; stale: number | null }
  | { kind: "decline"; invitation: number; by: Joiner }
  | { kind: "cancel"; actor: number; invitation: number }
  | { kind: "resend"; actor: number; invitation: number }
  | { kind: "expire"; invitation: number };

const idx = fc.nat({ max: 63 });
const orgPick = fc.constantFrom(0, 0, 0, 1); // mostly A; B for cross-tenant attempts
const target: fc.Arbitrary<Target> = fc.oneof(
  { weight: 1, arbitrary: fc.constant("self" as const) },
  { weight: 4, arbitrary: idx },
);
const orgRole = fc.constantFrom<OrgRole>(...ORG_ROLES);
const wsRole = fc.constantFrom<WsRole>(...WS_ROLES);
const joiner: fc.Arbitrary<Joiner> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "invitee" as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("person" as const), index: idx }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("signup" as const), sameAddress: fc.boolean() }),
  },
);

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("orgRole" as const),
      actor: idx,
      org: orgPick,
      target,
      role: orgRole,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("removeMember" as const), actor: idx, org: orgPick, target }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("leave" as const), actor: idx, org: orgPick }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("transfer" as const), actor: idx, org: orgPick, target: idx }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("putWs" as const), actor: idx, ws: idx, target, role: wsRole }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("removeWs" as const), actor: idx, ws: idx, target }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("createWs" as const), actor: idx, org: orgPick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("deleteWs" as const), actor: idx, ws: idx }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("invite" as const),
      actor: idx,
      via: fc.constantFrom("org" as const, "org" as const, "ws" as const),
      org: orgPick,
      ws: idx,
      delivery: fc.constantFrom("email" as const, "link" as const),
      address: fc.oneof(
        fc.record({ kind: fc.constant("person" as const), index: idx, shout: fc.boolean() }),
        fc.constant({ kind: "new" as const }),
      ),
      role: orgRole,
      wsRole,
      grants: fc.array(fc.record({ ws: idx, role: wsRole }), { maxLength: 2 }),
      maxUses: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("accept" as const),
      invitation: idx,
      by: joiner,
      stale: fc.option(idx, { nil: null, freq: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("decline" as const), invitation: idx, by: joiner }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cancel" as const), actor: idx, invitation: idx }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("resend" as const), actor: idx, invitation: idx }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("expire" as const), invitation: idx }) },
);

/** Each pool person's roles when a run begins: org A, org B, A's two workspaces, B's one. */
const seatArb = fc.record({
  a: fc.constantFrom<OrgRole | null>(null, "owner", "admin", "member", "member"),
  b: fc.constantFrom<OrgRole | null>(null, null, "admin", "member"),
  wsA: fc.tuple(fc.option(wsRole, { nil: null }), fc.option(wsRole, { nil: null })),
  wsB: fc.option(wsRole, { nil: null }),
});
export const POOL_SIZE = 7;
export type Seat = typeof seatArb extends fc.Arbitrary<infer S> ? S : never;
export const layoutArb = fc.array(seatArb, { minLength: POOL_SIZE, maxLength: POOL_SIZE });
