// Turning a descriptor into a step: `runOp` reads the descriptor's numbers against the live world
// (the organisation, workspace and invitation it names, and an actor, three times in four one of
// that organisation's members so that most steps may succeed), sends the request through the HTTP
// API as that actor, and has `step` judge it. Each case adds what its own answer promises (the role
// it says was set is the role stored, …). Making and using invitations, the two longest, are in
// invite-and-accept.ts.
import { sql } from "kysely";
import { randomIp } from "../../helpers/app.js";
import { accept, invite } from "./invite-and-accept.js";
import type { Op } from "./ops.js";
import { orgRoleOf, type StepKind } from "./oracle.js";
import { NO_ANSWER, step } from "./step.js";
import {
  holderOf,
  latestMailOf,
  type Person,
  person,
  pick,
  readTokens,
  someone,
  someWorkspace,
  tokenOf,
  type World,
} from "./world.js";

export async function runOp(world: World, op: Op): Promise<void> {
  const { t } = world.suite;
  const orgId = "org" in op ? world.orgs[op.org % 2] : undefined;
  const orgName = orgId === world.orgs[0] ? "A" : "B";
  const ws = "ws" in op ? someWorkspace(world, op.ws, "org" in op ? orgId : undefined) : undefined;
  const wsName = ws ? `ws${world.workspaces.indexOf(ws)}` : "";
  const inv = "invitation" in op ? pick(world.invitations, op.invitation) : undefined;
  const invName = inv ? `inv${world.invitations.indexOf(inv)}` : "";
  // The organisation the step acts in, whose members are the likelier actors.
  const where = orgId ?? (op.kind === "invite" ? undefined : ws?.orgId) ?? inv?.orgId;
  const actor =
    "actor" in op
      ? someone(world, op.actor, op.kind === "invite" && op.via === "ws" ? ws?.orgId : where)
      : undefined;
  const as = (p: Person): StepKind => ({ kind: "actor", actorId: p.userId });

  switch (op.kind) {
    case "orgRole": {
      if (!actor || !orgId) return;
      const target = person(world, op.target, actor, where ?? "");
      await step(
        world,
        op.kind,
        `${actor.label} sets ${target.label}'s role in ${orgName} to ${op.role}`,
        as(actor),
        () =>
          t.request("PATCH", `/api/v1/orgs/${orgId}/members/${target.userId}`, {
            token: actor.token,
            body: { role: op.role },
          }),
        ({ answer, after }) =>
          answer.status === 200 &&
          (answer.json?.member?.role !== op.role || orgRoleOf(after, orgId, target.userId) !== op.role)
            ? [`answered 200 but the role stored is ${orgRoleOf(after, orgId, target.userId)}`]
            : [],
      );
      return;
    }
    case "removeMember":
    case "leave": {
      if (!actor || !orgId) return;
      const target = op.kind === "leave" ? actor : person(world, op.target, actor, orgId);
      await step(
        world,
        op.kind,
        op.kind === "leave"
          ? `${actor.label} leaves ${orgName}`
          : `${actor.label} removes ${target.label} from ${orgName}`,
        as(actor),
        () => t.request("DELETE", `/api/v1/orgs/${orgId}/members/${target.userId}`, { token: actor.token }),
        ({ answer, after }) =>
          answer.status === 204 && orgRoleOf(after, orgId, target.userId) !== null
            ? ["answered 204 but the member is still there"]
            : [],
      );
      return;
    }
    case "transfer": {
      // Hand ownership over: make the target an owner, then step down to admin.
      if (!actor || !orgId) return;
      const target = person(world, op.target, actor, where ?? "");
      for (const [who, role] of [
        [target, "owner"],
        [actor, "admin"],
      ] as const) {
        await step(
          world,
          op.kind,
          `${actor.label} (transfer) sets ${who.label}'s role in ${orgName} to ${role}`,
          as(actor),
          () =>
            t.request("PATCH", `/api/v1/orgs/${orgId}/members/${who.userId}`, {
              token: actor.token,
              body: { role },
            }),
        );
      }
      return;
    }
    case "putWs": {
      if (!actor || !ws) return;
      const target = person(world, op.target, actor, where ?? "");
      const key = `${ws.orgId} ${ws.id} ${target.userId}`;
      await step(
        world,
        op.kind,
        `${actor.label} gives ${target.label} ${op.role} in ${wsName}`,
        as(actor),
        () =>
          t.request("PUT", `/api/v1/workspaces/${ws.id}/members/${target.userId}`, {
            token: actor.token,
            body: { role: op.role },
          }),
        ({ answer, before, after }) => {
          if (answer.status !== 200 && answer.status !== 201) return [];
          const bad: string[] = [];
          if (after.tables.ws.get(key) !== op.role)
            bad.push(`answered ${answer.status} but the role is ${after.tables.ws.get(key)}`);
          if ((answer.status === 201) !== !before.tables.ws.has(key))
            bad.push(`answered ${answer.status} for ${before.tables.ws.get(key) ?? "a newcomer"}`);
          return bad;
        },
      );
      return;
    }
    case "removeWs": {
      if (!actor || !ws) return;
      const target = person(world, op.target, actor, where ?? "");
      await step(
        world,
        op.kind,
        `${actor.label} takes ${target.label} out of ${wsName}`,
        as(actor),
        () =>
          t.request("DELETE", `/api/v1/workspaces/${ws.id}/members/${target.userId}`, { token: actor.token }),
        ({ answer, after }) =>
          answer.status === 204 && after.tables.ws.has(`${ws.orgId} ${ws.id} ${target.userId}`)
            ? ["answered 204 but the workspace member is still there"]
            : [],
      );
      return;
    }
    case "createWs": {
      if (!actor || !orgId) return;
      const { answer } = await step(
        world,
        op.kind,
        `${actor.label} creates a workspace in ${orgName}`,
        as(actor),
        () =>
          t.request("POST", `/api/v1/orgs/${orgId}/workspaces`, {
            token: actor.token,
            body: { name: "More" },
          }),
        ({ answer, after }) =>
          answer.status === 201 && !after.tables.workspace.has(`${orgId} ${answer.json?.workspace?.id}`)
            ? ["answered 201 but there is no such workspace"]
            : [],
      );
      if (answer.status === 201) world.workspaces.push({ id: answer.json.workspace.id, orgId });
      return;
    }
    case "deleteWs": {
      if (!actor || !ws) return;
      await step(
        world,
        op.kind,
        `${actor.label} deletes ${wsName}`,
        as(actor),
        () => t.request("DELETE", `/api/v1/workspaces/${ws.id}`, { token: actor.token }),
        ({ answer, after }) =>
          answer.status === 204 && after.tables.workspace.has(`${ws.orgId} ${ws.id}`)
            ? ["answered 204 but the workspace is still there"]
            : [],
      );
      return;
    }
    case "invite":
      return invite(world, op, actor, orgId, ws);
    case "accept":
      return accept(world, op, inv, invName);
    case "decline": {
      if (!inv) return;
      await readTokens(t, inv);
      const by =
        (op.by.kind === "person" ? pick(world.people, op.by.index) : holderOf(world, inv.email)) ??
        world.people[0];
      const token = inv.tokens.at(-1);
      if (!by || !token) return;
      await step(
        world,
        op.kind,
        `${by.label} declines ${invName}`,
        { kind: "decline", invitationId: inv.id, email: by.email },
        () =>
          t.request("POST", "/api/v1/invitations/decline", {
            token: by.token,
            body: { token },
            remoteAddress: randomIp(),
          }),
      );
      return;
    }
    case "cancel": {
      if (!actor || !inv) return;
      await step(
        world,
        op.kind,
        `${actor.label} cancels ${invName}`,
        as(actor),
        () => t.request("DELETE", `/api/v1/invitations/${inv.id}`, { token: actor.token }),
        ({ answer, after }) =>
          answer.status === 204 && after.invitations.get(inv.id)?.status !== "cancelled"
            ? ["answered 204 but the invitation is not cancelled"]
            : [],
      );
      return;
    }
    case "resend": {
      if (!actor || !inv) return;
      const { answer } = await step(
        world,
        op.kind,
        `${actor.label} resends ${invName}`,
        as(actor),
        () => t.request("POST", `/api/v1/invitations/${inv.id}/resend`, { token: actor.token }),
        ({ answer, before, after }) => {
          const was = before.invitations.get(inv.id);
          const now = after.invitations.get(inv.id);
          return answer.status === 200 && (now?.status !== "pending" || now.tokenHash === was?.tokenHash)
            ? [
                `answered 200 but the invitation is ${now?.status} with ${now?.tokenHash === was?.tokenHash ? "the same" : "a new"} token`,
              ]
            : [];
        },
      );
      if (answer.status === 200) {
        if (answer.json?.url) inv.tokens.push(tokenOf(answer.json.url));
        else inv.unread.push(await latestMailOf(t, inv.id));
      }
      return;
    }
    case "expire": {
      if (!inv) return;
      await step(world, op.kind, `time passes: ${invName} expires`, { kind: "clock" }, async () => {
        await sql`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = ${inv.id}`.execute(
          t.db,
        );
        return NO_ANSWER;
      });
      return;
    }
  }
}
