import { AppError } from "../core/errors.js";
import type { Queryable } from "../db/index.js";
import { SECRET_PATTERN, sha256 } from "../tokens.js";
import type { Grant, InvitationRow, MailState } from "./model.js";

/** An invitation's columns under the alias `i`, as InvitationRow reads them. */
export const COLUMNS = [
  "i.id",
  "i.org_id",
  "i.delivery",
  "i.email",
  "i.role",
  "i.status",
  "i.uses",
  "i.max_uses",
  "i.invited_by",
  "i.invited_by_name",
  "i.mail_id",
  "i.created_at",
  "i.expires_at",
] as const;

/**
 * The invitation a token names, or 404 invitation_not_found. With `lock`, the row is locked for
 * the caller's transaction, so that concurrent accepts take turns (docs/rules.md#rule-5).
 */
export async function findByToken(
  db: Queryable,
  /** The token, or its SHA-256 as kept by a sign-up waiting for confirmation. */
  token: string | Buffer,
  options: { lock?: boolean } = {},
): Promise<InvitationRow> {
  if (typeof token === "string" && !SECRET_PATTERN.test(token))
    throw new AppError("invitation_not_found", "This invitation link is not valid.");
  let q = db
    .selectFrom("invitations as i")
    .select([...COLUMNS])
    .where("i.token_hash", "=", typeof token === "string" ? sha256(token) : token);
  if (options.lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw new AppError("invitation_not_found", "This invitation link is not valid.");
  return row as InvitationRow;
}

/** The workspaces each invitation grants, with their names, in one query. */
export async function grantsOf(
  db: Queryable,
  orgId: string,
  invitationIds: string[],
): Promise<Map<string, Grant[]>> {
  const map = new Map<string, Grant[]>(invitationIds.map((id) => [id, []]));
  if (invitationIds.length === 0) return map;
  const rows = await db
    .selectFrom("invitation_workspaces as g")
    .innerJoin("workspaces as w", (j) =>
      j.onRef("w.org_id", "=", "g.org_id").onRef("w.id", "=", "g.workspace_id"),
    )
    .select(["g.invitation_id", "g.workspace_id", "w.name", "g.role"])
    .where("g.org_id", "=", orgId)
    .where("g.invitation_id", "in", invitationIds)
    .orderBy("w.name")
    .execute();
  for (const r of rows)
    map.get(r.invitation_id)?.push({ workspaceId: r.workspace_id, name: r.name, role: r.role });
  return map;
}

/** The delivery state of each invitation's latest mail, in one query. */
export async function mailStates(db: Queryable, mailIds: string[]): Promise<Map<string, MailState>> {
  const map = new Map<string, MailState>();
  if (mailIds.length === 0) return map;
  const rows = await db
    .selectFrom("mail_outbox")
    .select(["id", "status", "last_error"])
    .where("id", "in", mailIds)
    .execute();
  for (const r of rows) map.set(r.id, { status: r.status, lastError: r.last_error });
  return map;
}

/** One invitation of the organisation, optionally locked for the transaction. */
export async function loadRow(
  db: Queryable,
  orgId: string,
  id: string,
  lock = false,
): Promise<InvitationRow> {
  let q = db
    .selectFrom("invitations as i")
    .select([...COLUMNS])
    .where("i.org_id", "=", orgId)
    .where("i.id", "=", id);
  if (lock) q = q.forUpdate();
  return (await q.executeTakeFirstOrThrow()) as InvitationRow;
}
