// Creating invitations (README.md#invitations; rules 1, 4, 5, 12, 14). The HTTP routes and
// `rollcall invite` both call createInvitation, so an operator's invitation follows the same
// rules except rule 1 (the operator holds the database; there is nobody to escalate above).
import { sql } from "kysely";
import { admitAgain } from "../access/admit.js";
import {
  effectiveWorkspaceRole,
  orgRole as orgRoleDef,
  workspaceRole as workspaceRoleDef,
} from "../access/can.js";
import type { Catalogue, OrgRole } from "../access/catalogue.js";
import { orgStanding } from "../access/queries.js";
import { addressOf, findUserByEmail } from "../accounts/operations.js";
import { type Actor, actorType, recordAudit } from "../audit/operations.js";
import type { RateLimit } from "../config.js";
import { AppError, fieldError } from "../core/errors.js";
import { emailKey, type RateLimiter } from "../core/rate-limit.js";
import { newId } from "../db/ids.js";
import type { Queryable, Tx } from "../db/index.js";
import { directWorkspaceRoles, refuseEscalation } from "./authority.js";
import { sendOut } from "./lifecycle.js";
import {
  DEFAULT_LIFETIME_HOURS,
  type Delivery,
  type Grant,
  type InvitationRow,
  MAX_LIFETIME_HOURS,
  MAX_LINK_USES,
  MAX_PENDING_PER_ORG,
  type MailState,
  newInvitationToken,
} from "./model.js";
import { grantsOf } from "./queries.js";

/** Who asks: a member acting through the API (rule 1 applies), or the operator (`rollcall invite`). */
export type Inviter =
  | {
      kind: "member";
      userId: string;
      /** The workspace the path names (a workspace's invitation route), or null for the organisation's. */
      workspaceId: string | null;
    }
  /** `displayName`: who the invitation mail says invites ("The Acme administrator"). */
  | { kind: "operator"; displayName: string };

export interface CreateInvitationInput {
  orgId: string;
  delivery?: Delivery | undefined;
  email?: string | undefined;
  role: OrgRole;
  workspaces?: { workspaceId: string; role: string }[] | undefined;
  expiresInHours?: number | undefined;
  maxUses?: number | undefined;
}

export interface ManageContext {
  catalogue: Catalogue;
  publicUrl: string;
  /**
   * Counts each creation and resend against the organisation's limit (rule 12), and each mail
   * against its recipient's limit, whatever the organisation; absent for the operator.
   */
  rateLimit?: { limiter: RateLimiter; limit: RateLimit; recipientLimit: RateLimit };
}

export interface ManagedInvitation {
  row: InvitationRow;
  grants: Grant[];
  mail: MailState | undefined;
  /** `${PUBLIC_URL}/invite/{token}` for a link invitation, once; null for e-mail (it is in the mail). */
  url: string | null;
}

export function validate(catalogue: Catalogue, input: CreateInvitationInput) {
  const delivery = input.delivery ?? "email";
  if (delivery === "email" && !input.email?.trim())
    throw fieldError("email", "An e-mail invitation needs the address to send it to.");
  if (delivery === "link" && input.email !== undefined)
    throw fieldError("email", "A link invitation is not bound to an address; leave email out.");
  // Stored in its canonical form (src/email.ts): the mail goes to it, and acceptance, the pending
  // duplicate check and the partial unique index all compare it by plain equality.
  const email = input.email === undefined ? undefined : addressOf(input.email);
  if (!orgRoleDef(catalogue, input.role))
    throw fieldError("role", `there is no organisation role "${input.role}"`);
  const hours = input.expiresInHours ?? DEFAULT_LIFETIME_HOURS;
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_LIFETIME_HOURS)
    throw fieldError("expiresInHours", `must be a whole number from 1 to ${MAX_LIFETIME_HOURS}`);
  const maxUses = input.maxUses ?? 1;
  if (delivery === "email" && maxUses !== 1)
    throw fieldError("maxUses", "An e-mail invitation is used once; maxUses is for link invitations.");
  if (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > MAX_LINK_USES)
    throw fieldError("maxUses", `must be a whole number from 1 to ${MAX_LINK_USES}`);
  const workspaces = input.workspaces ?? [];
  const seen = new Set<string>();
  workspaces.forEach((w, i) => {
    if (seen.has(w.workspaceId))
      throw fieldError(`workspaces/${i}/workspaceId`, "names a workspace already in the list");
    seen.add(w.workspaceId);
    if (!workspaceRoleDef(catalogue, w.role))
      throw fieldError(`workspaces/${i}/role`, `there is no workspace role "${w.role}"`);
  });
  return { delivery, email: email ?? null, role: input.role, hours, maxUses, workspaces };
}

/** Whether the person at `email` already has the org role and every workspace role offered, or more. */
export async function hasEveryPlace(
  db: Queryable,
  catalogue: Catalogue,
  orgId: string,
  email: string,
  role: string,
  grants: { workspaceId: string; role: string }[],
): Promise<boolean> {
  const user = await findUserByEmail(db, email);
  if (!user) return false;
  const standing = await orgStanding(db, orgId, user.id);
  if (!standing) return false;
  const rank = (r: string | null | undefined) => orgRoleDef(catalogue, r)?.rank ?? -1;
  if (rank(standing.orgRole) < rank(role)) return false;
  const direct = await directWorkspaceRoles(
    db,
    orgId,
    user.id,
    grants.map((g) => g.workspaceId),
  );
  return grants.every((g) => {
    const effective = effectiveWorkspaceRole(catalogue, {
      orgRole: standing.orgRole,
      workspaceRole: direct.get(g.workspaceId) ?? null,
    });
    return (
      (workspaceRoleDef(catalogue, effective)?.rank ?? -1) >= (workspaceRoleDef(catalogue, g.role)?.rank ?? 0)
    );
  });
}

/**
 * Counts one invitation made or resent by `orgId`, and (for e-mail) one mail to `email`, or throws
 * 429. Counted in the caller's transaction: a refusal, or any later failure, rolls the counts back
 * with everything else, so a refused request leaves nothing behind. The recipient's key is a hash
 * of the address, never the address: a person is not mailed more than the limit allows however
 * many organisations invite them.
 */
export async function countInvitation(
  tx: Tx,
  ctx: ManageContext,
  orgId: string,
  email: string | null,
): Promise<void> {
  if (!ctx.rateLimit) return;
  const { limiter, limit, recipientLimit } = ctx.rateLimit;
  await limiter.hit(`invitations:org:${orgId}`, limit, tx);
  if (email) await limiter.hit(`invitation-mails:recipient:${emailKey(email)}`, recipientLimit, tx);
}

/** Creates an invitation with its grants, audit event and (for e-mail) its mail, in `tx`. */
export async function createInvitation(
  tx: Tx,
  ctx: ManageContext,
  actor: Actor,
  inviter: Inviter,
  input: CreateInvitationInput,
): Promise<ManagedInvitation> {
  const { catalogue } = ctx;
  const { orgId } = input;
  // Rule 9: the inviter's standing read again under the organisation's lock, as the route's guard
  // would read it now; a demotion or removal either committed before (and is seen) or waits.
  const standing =
    inviter.kind === "member"
      ? await admitAgain(
          tx,
          catalogue,
          inviter.workspaceId ? "workspace.users" : "org.users",
          { orgId, workspaceId: inviter.workspaceId },
          inviter.userId,
          "share",
        )
      : null;
  const v = validate(catalogue, input);

  // A workspace of another organisation answers exactly like one that does not exist (rule 3).
  const ids = v.workspaces.map((w) => w.workspaceId);
  if (ids.length > 0) {
    const found = await tx
      .selectFrom("workspaces")
      .select("id")
      .where("org_id", "=", orgId)
      .where("id", "in", ids)
      .execute();
    if (found.length !== ids.length) throw new AppError("workspace_not_found");
  }
  if (inviter.kind === "member" && standing)
    await refuseEscalation(
      tx,
      catalogue,
      { userId: inviter.userId, orgRole: standing.orgRole },
      orgId,
      v.role,
      v.workspaces,
    );

  if (v.email) {
    // An expired invitation for the address must not block a new one: mark it as what it is.
    await tx
      .updateTable("invitations")
      .set({ status: "expired" })
      .where("org_id", "=", orgId)
      .where("delivery", "=", "email")
      .where("status", "=", "pending")
      .where("email", "=", v.email)
      .where("expires_at", "<=", sql<Date>`now()`)
      .execute();
    const pending = await tx
      .selectFrom("invitations")
      .select("id")
      .where("org_id", "=", orgId)
      .where("delivery", "=", "email")
      .where("status", "=", "pending")
      .where("email", "=", v.email)
      .executeTakeFirst();
    if (pending)
      throw new AppError(
        "invitation_pending",
        `${v.email} already has a pending invitation to this organisation; resend it instead.`,
        undefined,
        { fields: { invitationId: pending.id } },
      );
    if (await hasEveryPlace(tx, catalogue, orgId, v.email, v.role, v.workspaces))
      throw new AppError("already_member", `${v.email} already has every place this invitation offers.`);
  }

  // Counted after the address's invitations are locked above, in the order a resend takes its locks
  // (the invitation, then the counters): the other order could deadlock a create with a resend.
  await countInvitation(tx, ctx, orgId, v.email);

  const { count } = await tx
    .selectFrom("invitations")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .where("org_id", "=", orgId)
    .where("status", "=", "pending")
    .where("expires_at", ">", sql<Date>`now()`)
    .executeTakeFirstOrThrow();
  if (Number(count) >= MAX_PENDING_PER_ORG)
    throw new AppError(
      "too_many_invitations",
      `This organisation already has ${MAX_PENDING_PER_ORG} pending invitations; cancel some first.`,
    );

  const { token, hash } = newInvitationToken();
  const id = newId("inv");
  await tx
    .insertInto("invitations")
    .values({
      id,
      org_id: orgId,
      delivery: v.delivery,
      email: v.email,
      role: v.role,
      token_hash: hash,
      max_uses: v.maxUses,
      // An API key is no person to back it: like the operator's, its invitations stand alone.
      invited_by: actorType(actor) === "user" ? actor.id : null,
      invited_by_name: actor.name ?? "",
      expires_at: sql<Date>`now() + make_interval(hours => ${v.hours})`,
    })
    // Two requests inviting the same address at once: the partial unique index refuses the second,
    // and http/problem.ts answers it 409 invitation_pending.
    .execute();
  if (v.workspaces.length > 0) {
    await tx
      .insertInto("invitation_workspaces")
      .values(
        v.workspaces.map((w) => ({
          org_id: orgId,
          invitation_id: id,
          workspace_id: w.workspaceId,
          role: w.role,
        })),
      )
      .execute();
  }
  const grants = (await grantsOf(tx, orgId, [id])).get(id) ?? [];
  const sent = await sendOut(tx, ctx.publicUrl, {
    orgId,
    id,
    token,
    grants,
    inviterName: (row) => (inviter.kind === "operator" ? inviter.displayName : row.invited_by_name),
  });
  await recordAudit(tx, actor, {
    orgId,
    action: "invitation.created",
    targetType: "invitation",
    targetId: id,
    data: {
      delivery: v.delivery,
      email: v.email,
      role: v.role,
      workspaces: v.workspaces,
      maxUses: v.maxUses,
      expiresInHours: v.hours,
    },
  });
  return sent;
}
