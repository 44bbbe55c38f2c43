// The oracle: what a step may do, judged from the world just before it and never from the code
// under test. Its own rank table (a reading of docs/roles.md, not src/access/can.ts) says who may
// give which role (rule 1); `unbacked` holds every pending invitation to what its inviter could
// give now (rules 1 and 9); `judgeSuccess` checks that a step the server let through changed only
// what its actor's standing allowed, each change with its audit event (rule 14), and that a join
// changed only the joiner, raising and never lowering (rule 8), through a usable invitation for
// their address (rules 5, 6). There is no model of which steps should succeed: the server decides,
// and this is what must hold whatever it decides.
import type { Change, Snapshot } from "./checks.js";

// ---- the rank table: the oracle's own reading of docs/roles.md ------------------------------

export const ORG_ROLES = ["owner", "admin", "member"] as const;
export const WS_ROLES = ["admin", "editor", "agent", "viewer"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];
export type WsRole = (typeof WS_ROLES)[number];
const ORG_RANK: Record<string, number> = { member: 1, admin: 2, owner: 3 };
const WS_RANK: Record<string, number> = { viewer: 1, agent: 2, editor: 3, admin: 4 };

const higherOf = (rank: Record<string, number>, a: string | null, b: string | null) =>
  a === null ? b : b === null ? a : (rank[b] ?? 0) > (rank[a] ?? 0) ? b : a;

// ---- the oracle's view of standing ---------------------------------------------------------

/** The org role `user` holds in `s`; null when they hold none, or there is no user. */
export function orgRoleOf(s: Snapshot, org: string, user: string | null): string | null {
  return user ? (s.tables.org.get(`${org} ${user}`) ?? null) : null;
}

/** The workspace role one acts with: owners and admins act as admin; else the direct role. */
function effectiveWsRole(s: Snapshot, org: string, ws: string, user: string): string | null {
  const role = orgRoleOf(s, org, user);
  if (!role || !s.tables.workspace.has(`${org} ${ws}`)) return null;
  const acted = role === "owner" || role === "admin" ? "admin" : null;
  return higherOf(WS_RANK, acted, s.tables.ws.get(`${org} ${ws} ${user}`) ?? null);
}

/** Rule 1 for org roles; `to` null is a removal by someone else. */
function mayChangeOrgRole(actor: string | null, from: string | null, to: string | null): boolean {
  if (actor !== "owner" && actor !== "admin") return false;
  if ((from === "owner" || to === "owner") && actor !== "owner") return false;
  const top = ORG_RANK[actor] ?? 0;
  return (ORG_RANK[from ?? ""] ?? 0) <= top && (ORG_RANK[to ?? ""] ?? 0) <= top;
}

/** Rule 1 for invitations, "as for creating it" for managing them. */
function mayInvite(
  s: Snapshot,
  inviter: string,
  org: string,
  role: string,
  grants: { ws: string; role: string }[],
): boolean {
  const own = orgRoleOf(s, org, inviter);
  if (!own) return false;
  if (own === "owner" || own === "admin") {
    if (role === "owner" && own !== "owner") return false;
    if ((ORG_RANK[role] ?? 9) > (ORG_RANK[own] ?? 0)) return false;
  } else if (role !== "member" || grants.length === 0) {
    return false;
  }
  return grants.every((g) => {
    const mine = effectiveWsRole(s, org, g.ws, inviter);
    return mine === "admin" && (WS_RANK[g.role] ?? 9) <= (WS_RANK[mine] ?? 0);
  });
}

/**
 * Rules 1 and 9 as a standing invariant: every pending invitation gives no more than its inviter
 * could give now (the operator's, with no inviter, aside).
 */
export function unbacked(s: Snapshot): string[] {
  return [...s.invitations.values()]
    .filter((i) => i.status === "pending" && i.invitedBy)
    .filter((i) => !mayInvite(s, i.invitedBy ?? "", i.org, i.role, s.grants.get(i.id) ?? []))
    .map(
      (i) =>
        `pending ${i.id} (${i.role}, grants ${JSON.stringify(s.grants.get(i.id) ?? [])}) gives more than ` +
        `its inviter, org ${orgRoleOf(s, i.org, i.invitedBy) ?? "nobody"}, could give now`,
    );
}

// ---- judging a step that succeeded ---------------------------------------------------------

/** Who acted in a step, and how; what the judgement of its success depends on. */
export type StepKind =
  /** An actor changes memberships, workspaces or invitations. */
  | { kind: "actor"; actorId: string }
  /** Someone joins through an invitation (accept, or a sign-up with its token). */
  | { kind: "join"; invitationId: string; email: string; stale: boolean }
  | { kind: "decline"; invitationId: string; email: string }
  /** Time passes: an invitation's expiry is moved into the past. */
  | { kind: "clock" };

/**
 * What a step that succeeded may have changed. Answers the violations found (empty: none).
 * `kind` says who acted and how; `before` is the world just before the step.
 */
export function judgeSuccess(kind: StepKind, before: Snapshot, after: Snapshot, changes: Change[]): string[] {
  const bad: string[] = [];
  const events = [...after.tables.audit.entries()]
    .filter(([id]) => !before.tables.audit.has(id))
    .map(([, value]) => value);
  const audited = (org: string, targetId: string) =>
    events.some((v) => v.startsWith(`${org} `) && v.endsWith(` ${targetId}`));

  const removedWorkspaces = new Set(
    changes.filter((c) => c.table === "workspace" && c.after === undefined).map((c) => c.key),
  );
  const leftOrg = new Set(
    changes.filter((c) => c.table === "org" && c.after === undefined).map((c) => c.key),
  );

  if (changes.some((c) => c.table === "count" && c.key === "organizations"))
    bad.push("the number of organisations changed");

  if (kind.kind === "clock") return bad;

  if (kind.kind === "decline") {
    for (const c of changes) {
      if (c.table === "audit" || c.table === "count") continue;
      if (c.table === "invitation" && c.key === kind.invitationId) {
        const was = before.invitations.get(c.key);
        const now = after.invitations.get(c.key);
        if (!was || !now || now.status !== "declined" || was.status !== "pending" || was.expired)
          bad.push(`decline turned ${JSON.stringify(was)} into ${JSON.stringify(now)}`);
        else if (was.email?.toLowerCase() !== kind.email.toLowerCase())
          bad.push(`${kind.email} declined an invitation for ${was.email}`);
        else if (!audited(was.org, c.key)) bad.push(`decline of ${c.key} has no audit event`);
      } else bad.push(`decline changed ${c.table} ${c.key}`);
    }
    return bad;
  }

  if (kind.kind === "join") {
    const inv = before.invitations.get(kind.invitationId);
    const used = changes.find((c) => c.table === "use" && c.after !== undefined);
    if (!used) {
      // A repeated accept, or a sign-up for an address that has an account (its holder is mailed,
      // rule 11): nothing made, nothing granted.
      for (const c of changes) {
        if (c.table === "count" && c.key === "mails") continue;
        bad.push(`a join that used nothing changed ${c.table} ${c.key}: ${c.before} → ${c.after}`);
      }
      return bad;
    }
    const joinerId = used.key.split(" ")[1] ?? "";
    if (!inv) return [`${joinerId} used an invitation we never saw: ${used.key}`];
    if (kind.stale) bad.push(`a dead token (resent since) let ${joinerId} join`);
    if (inv.status !== "pending" || inv.expired || inv.uses >= inv.maxUses)
      bad.push(
        `an invitation that was ${inv.expired ? "expired" : inv.status} (${inv.uses}/${inv.maxUses}) was used`,
      );
    if (inv.delivery === "email" && inv.email?.toLowerCase() !== kind.email.toLowerCase())
      bad.push(`${kind.email} used the e-mail invitation for ${inv.email} (rule 6)`);
    if (
      inv.invitedBy &&
      !mayInvite(before, inv.invitedBy, inv.org, inv.role, before.grants.get(inv.id) ?? [])
    )
      bad.push(
        `${inv.id} (${inv.role}, grants ${JSON.stringify(before.grants.get(inv.id) ?? [])}) was used although ` +
          `its inviter, now org ${orgRoleOf(before, inv.org, inv.invitedBy) ?? "nobody"}, could no longer give it`,
      );
    const grants = new Map((before.grants.get(inv.id) ?? []).map((g) => [g.ws, g.role]));
    for (const c of changes) {
      if (c.table === "audit" || c.table === "count") continue;
      const [org, a, b] = c.key.split(" ");
      if (c.table === "use") {
        if (c.key !== `${inv.id} ${joinerId}` || c.before !== undefined)
          bad.push(`a join changed use ${c.key}`);
      } else if (c.table === "invitation") {
        const now = after.invitations.get(c.key);
        const expected =
          inv.delivery === "email" ? "accepted" : inv.uses + 1 >= inv.maxUses ? "exhausted" : "pending";
        if (c.key !== inv.id || !now || now.uses !== inv.uses + 1 || now.status !== expected)
          bad.push(`a join changed invitation ${c.key}: ${c.before} → ${c.after}`);
      } else if (c.table === "org") {
        const want = higherOf(ORG_RANK, c.before ?? null, inv.role);
        if (org !== inv.org || a !== joinerId || c.after !== want)
          bad.push(`a join through ${inv.role} set org role ${c.key}: ${c.before} → ${c.after} (rule 8)`);
        else if (!audited(inv.org, joinerId)) bad.push(`the join of ${joinerId} has no audit event`);
      } else if (c.table === "ws") {
        const granted = a ? grants.get(a) : undefined;
        const want = higherOf(WS_RANK, c.before ?? null, granted ?? null);
        if (org !== inv.org || b !== joinerId || !granted || c.after !== want)
          bad.push(
            `a join set workspace role ${c.key}: ${c.before} → ${c.after} (grants ${JSON.stringify([...grants])})`,
          );
      } else bad.push(`a join changed ${c.table} ${c.key}`);
    }
    if (changes.some((c) => c.table === "count" && c.key === "organizations"))
      bad.push("an invited sign-up made an organisation (rule 7)");
    return bad;
  }

  // An actor's step: each change must be one their standing just before allowed.
  const actor = kind.actorId;
  for (const c of changes) {
    if (c.table === "audit" || c.table === "count") continue;
    const [org = "", a = "", b = ""] = c.key.split(" ");
    if (c.table === "org") {
      const mine = orgRoleOf(before, org, actor);
      if (c.before === undefined) bad.push(`org member ${c.key} added by an actor's step`);
      else if (c.after === undefined && a === actor) {
        // Leaving: anyone may, but the last owner (checked by the invariants).
      } else if (!mayChangeOrgRole(mine, c.before, c.after ?? null))
        bad.push(
          `org ${mine ?? "outsider"} ${actor} changed ${c.key}: ${c.before} → ${c.after ?? "removed"} (rule 1)`,
        );
      if (!audited(org, a)) bad.push(`org membership change ${c.key} has no audit event (rule 14)`);
    } else if (c.table === "ws") {
      if (removedWorkspaces.has(`${org} ${a}`) || leftOrg.has(`${org} ${b}`)) continue; // cascades
      const mine = effectiveWsRole(before, org, a, actor);
      const top = WS_RANK[mine ?? ""] ?? 0;
      if (mine !== "admin" || (WS_RANK[c.before ?? ""] ?? 0) > top || (WS_RANK[c.after ?? ""] ?? 0) > top)
        bad.push(
          `workspace ${mine ?? "outsider"} ${actor} changed ${c.key}: ${c.before} → ${c.after} (rule 1)`,
        );
      if (orgRoleOf(after, org, b) === null && c.after !== undefined)
        bad.push(`workspace member ${c.key} is not in the organisation`);
      if (!audited(org, b)) bad.push(`workspace membership change ${c.key} has no audit event (rule 14)`);
    } else if (c.table === "workspace") {
      const mine = orgRoleOf(before, org, actor);
      if (mine !== "owner" && mine !== "admin")
        bad.push(
          `org ${mine ?? "outsider"} ${actor} ${c.after === undefined ? "deleted" : "made"} workspace ${c.key}`,
        );
      if (!audited(org, a)) bad.push(`workspace ${c.key} change has no audit event (rule 14)`);
    } else if (c.table === "invitation") {
      const was = before.invitations.get(c.key);
      const now = after.invitations.get(c.key);
      if (!now) {
        bad.push(`invitation ${c.key} disappeared`);
        continue;
      }
      if (!was) {
        const grants = after.grants.get(c.key) ?? [];
        if (now.invitedBy !== actor) bad.push(`invitation ${c.key} names ${now.invitedBy}, made by ${actor}`);
        if (!mayInvite(before, actor, now.org, now.role, grants))
          bad.push(
            `org ${orgRoleOf(before, now.org, actor) ?? "outsider"} ${actor} created an invitation as ${now.role} ` +
              `with grants ${JSON.stringify(grants)} (rule 1)`,
          );
      } else {
        // Housekeeping: an invitation past its expiry stored as what it already was.
        const housekeeping =
          was.expired &&
          was.status === "pending" &&
          now.status === "expired" &&
          was.tokenHash === now.tokenHash;
        if (housekeeping) continue;
        if (now.uses !== was.uses || now.role !== was.role || now.maxUses !== was.maxUses)
          bad.push(`an actor's step changed ${c.key}: ${c.before} → ${c.after}`);
        if (!mayInvite(before, actor, was.org, was.role, before.grants.get(c.key) ?? []))
          bad.push(
            `org ${orgRoleOf(before, was.org, actor) ?? "outsider"} ${actor} managed (${was.status} → ${now.status}) ` +
              `an invitation as ${was.role} with grants ${JSON.stringify(before.grants.get(c.key) ?? [])}, ` +
              `which they could not create (rule 1, "as for creating it")`,
          );
      }
      if (!audited(now.org, c.key)) bad.push(`invitation change ${c.key} has no audit event (rule 14)`);
    } else if (c.table === "grant") {
      // The key is "invitation workspace".
      const wsGone = [...removedWorkspaces].some((w) => w.endsWith(` ${a}`));
      const isNew = !before.invitations.has(org);
      if (!(c.after === undefined && wsGone) && !(c.before === undefined && isNew))
        bad.push(`an actor's step changed grant ${c.key}: ${c.before} → ${c.after}`);
    } else {
      bad.push(`an actor's step changed ${c.table} ${c.key}`);
    }
  }
  return bad;
}
