// The two steps that make and use invitations. `invite` sends an org or workspace invitation by
// e-mail or link, to a person of the world (now and then with their address in capitals) or to a
// new address, and remembers its token, from the answer or, for an e-mail, from its mail. `accept`
// uses one as someone of the world (the invited address's holder, or anyone) or as a newcomer
// signing up with its token (with the invited address, or another), now and then with a token
// that a resend has since replaced; each answer is held to rules 5 and 6 (a dead token 404, an
// ended invitation its 410, another address's e-mail invitation 403).
import assert from "node:assert/strict";
import { PASSWORD, randomIp, type TestApp, uniqueEmail } from "../../helpers/app.js";
import type { Op } from "./ops.js";
import { orgRoleOf } from "./oracle.js";
import { type StepResult, step } from "./step.js";
import {
  holderOf,
  type KnownInvitation,
  latestMailOf,
  type Person,
  pick,
  readTokens,
  someWorkspace,
  tokenOf,
  type World,
} from "./world.js";

/** `actor` invites as `op` says; an invitation made is remembered with its token. */
export async function invite(
  world: World,
  op: Extract<Op, { kind: "invite" }>,
  actor: Person | undefined,
  orgId: string | undefined,
  ws: { id: string; orgId: string } | undefined,
): Promise<void> {
  if (!actor || !orgId) return;
  const { t } = world.suite;
  let email: string | undefined;
  if (op.delivery === "email") {
    const holder = op.address.kind === "person" ? pick(world.people, op.address.index) : undefined;
    email = holder
      ? op.address.kind === "person" && op.address.shout
        ? holder.email.toUpperCase()
        : holder.email
      : uniqueEmail("invitee");
  }
  const common = {
    delivery: op.delivery,
    ...(email !== undefined ? { email } : {}),
    // maxUses is for links; now and then an e-mail invitation asks for 3 by mistake.
    ...(op.maxUses !== undefined && (op.delivery === "link" || op.maxUses === 3)
      ? { maxUses: op.maxUses }
      : {}),
  };
  const viaWs = op.via === "ws" && ws;
  const grants = op.grants.flatMap((g) => {
    const w = someWorkspace(world, g.ws, orgId);
    return w ? [{ workspaceId: w.id, role: g.role }] : [];
  });
  const path = viaWs ? `/api/v1/workspaces/${ws.id}/invitations` : `/api/v1/orgs/${orgId}/invitations`;
  const body = viaWs ? { ...common, role: op.wsRole } : { ...common, role: op.role, workspaces: grants };
  const where = viaWs
    ? `ws${world.workspaces.indexOf(ws)} as ${op.wsRole}`
    : `${orgId === world.orgs[0] ? "A" : "B"} as ${op.role}`;
  const { answer, after } = await step(
    world,
    op.kind,
    `${actor.label} invites ${email ?? "by link"} to ${where}` +
      `${viaWs ? "" : ` with ${JSON.stringify(grants.map((g) => `ws${world.workspaces.findIndex((w) => w.id === g.workspaceId)}:${g.role}`))}`}` +
      `${"maxUses" in common ? `, maxUses ${common.maxUses}` : ""}`,
    { kind: "actor", actorId: actor.userId },
    () => t.request("POST", path, { token: actor.token, body }),
    ({ answer, after }) => {
      if (answer.status !== 201) return [];
      const made = after.invitations.get(answer.json?.invitation?.id);
      const bad: string[] = [];
      if (!made) return ["answered 201 but there is no such invitation"];
      if (made.role !== (viaWs ? "member" : op.role))
        bad.push(`answered 201 but the invitation is as ${made.role}`);
      if ((op.delivery === "link") !== (typeof answer.json.url === "string"))
        bad.push("a link invitation's answer lacks its url, or an e-mail invitation's shows one");
      return bad;
    },
  );
  if (answer.status !== 201) return;
  const id: string = answer.json.invitation.id;
  const made = after.invitations.get(id);
  assert.ok(made);
  world.invitations.push({
    id,
    orgId: made.org,
    email: made.email,
    tokens: answer.json.url ? [tokenOf(answer.json.url)] : [],
    unread: answer.json.url ? [] : [await latestMailOf(t, id)],
  });
}

/** Someone uses `inv`, by accepting it or by signing up with its token, as `op` says. */
export async function accept(
  world: World,
  op: Extract<Op, { kind: "accept" }>,
  inv: KnownInvitation | undefined,
  invName: string,
): Promise<void> {
  if (!inv) return;
  const { t } = world.suite;
  await readTokens(t, inv);
  const live = inv.tokens.at(-1);
  if (!live) return;
  const stale = op.stale !== null && inv.tokens.length > 1;
  const token = stale ? (inv.tokens[(op.stale ?? 0) % (inv.tokens.length - 1)] ?? live) : live;
  const tokenName = stale ? "an old token of " : "";
  let by = op.by.kind === "person" ? pick(world.people, op.by.index) : undefined;
  if (op.by.kind === "invitee") {
    // The invited address's holder; for a link, someone not yet in the organisation.
    by = inv.email
      ? holderOf(world, inv.email)
      : world.people.find((p) => !orgRoleOf(world.now, inv.orgId, p.userId));
  }
  // Rule 5 and 6's answers: a dead token 404; an ended invitation its 410 (unless this very
  // person used it: that answers as before); another address's e-mail invitation 403.
  const expectAnswer = ({ answer, before }: StepResult, joiner: { userId?: string; email: string }) => {
    if (stale) return answer.status === 404 ? [] : [`a dead token answered ${answer.status}, not 404`];
    const was = before.invitations.get(inv.id);
    if (!was || (joiner.userId && before.tables.use.has(`${inv.id} ${joiner.userId}`))) return [];
    const status = was.status === "pending" && was.expired ? "expired" : was.status;
    const gone: Record<string, string> = {
      accepted: "invitation_used",
      exhausted: "invitation_used",
      cancelled: "invitation_cancelled",
      declined: "invitation_declined",
      expired: "invitation_expired",
    };
    const want = gone[status]
      ? { status: 410, code: gone[status] }
      : was.email && was.email.toLowerCase() !== joiner.email.toLowerCase()
        ? { status: 403, code: "invitation_email_mismatch" }
        : undefined;
    return want && (answer.status !== want.status || answer.json?.code !== want.code)
      ? [
          `an invitation that was ${status} answered ${answer.status} ${answer.json?.code ?? ""}, not ${want.status} ${want.code}`,
        ]
      : [];
  };

  if (by) {
    const joiner = by;
    await step(
      world,
      op.kind,
      `${joiner.label} accepts ${tokenName}${invName}`,
      { kind: "join", invitationId: inv.id, email: joiner.email, stale },
      () =>
        t.request("POST", "/api/v1/invitations/accept", {
          token: joiner.token,
          body: { token },
          remoteAddress: randomIp(),
        }),
      (r) => {
        const bad = expectAnswer(r, joiner);
        if (r.answer.status === 200) {
          if (r.answer.json?.organization?.id !== inv.orgId)
            bad.push("the answer names another organisation");
          const role = orgRoleOf(r.after, inv.orgId, joiner.userId);
          if (r.answer.json?.role !== role) bad.push(`answered role ${r.answer.json?.role}; stored: ${role}`);
        }
        return bad;
      },
    );
    return;
  }
  // An invited sign-up: with the invited address, or (for a link, or on purpose) another.
  const sameAddress = op.by.kind === "invitee" || (op.by.kind === "signup" && op.by.sameAddress);
  const email = sameAddress && inv.email ? inv.email : uniqueEmail("joiner");
  const label = `S${world.people.length - world.suite.pool.length}`;
  const { answer, after } = await step(
    world,
    "signup",
    `${label} <${email}> signs up with ${tokenName}${invName}`,
    { kind: "join", invitationId: inv.id, email, stale },
    () =>
      t.request("POST", "/api/v1/auth/signup", {
        body: { email, password: PASSWORD, name: label, invitationToken: token },
        remoteAddress: randomIp(),
      }),
    (r) => expectAnswer(r, { email }),
  );
  if (answer.status !== 201) return;
  const userId: string = answer.json.user.id;
  // A sign-up for an address that has an account answers alike with a user that does not exist.
  if (orgRoleOf(after, inv.orgId, userId) !== null || (await userExists(t, userId)))
    world.people.push({ label, userId, email, name: label, token: answer.json.session.token });
}

async function userExists(t: TestApp, id: string): Promise<boolean> {
  return !!(await t.db.selectFrom("users").select("id").where("id", "=", id).executeTakeFirst());
}
