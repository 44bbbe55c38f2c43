// An organisation's API keys: made, listed and revoked by those with org.apikeys (owners and
// admins). A key acts with an org role (admin or member) and workspace grants, never more than
// its maker could give at that moment (rule 1); it belongs to the organisation and outlives its
// maker. Each change runs under the organisation's lock, with the maker's standing read again
// there (rule 9), and writes its audit event in the same transaction (rule 14).
import { admitAgain } from "../access/admit.js";
import { workspaceRole } from "../access/can.js";
import type { Catalogue } from "../access/catalogue.js";
import { type Actor, actorType, recordAudit } from "../audit/operations.js";
import { AppError, fieldError } from "../core/errors.js";
import { newId } from "../db/ids.js";
import type { Queryable, Tx } from "../db/index.js";
import type { ApiKeyRow } from "../db/schema.js";
import { refuseEscalation } from "../invitations/authority.js";
import { API_KEY_PREFIX, API_KEY_ROLES, type ApiKeyRole, newKeyToken } from "./model.js";

/** The most keys one organisation holds: each is a standing credential to watch over. */
export const MAX_KEYS_PER_ORG = 100;
export const MAX_LIFETIME_DAYS = 730;

export interface CreateApiKeyInput {
  name: string;
  role: string;
  workspaces?: { workspaceId: string; role: string }[] | undefined;
  expiresInDays?: number | undefined;
}

export interface ApiKey extends ApiKeyRow {
  workspaces: { id: string; name: string; role: string }[];
}

function validate(catalogue: Catalogue, input: CreateApiKeyInput) {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) throw fieldError("name", "must be 1 to 100 characters");
  if (!(API_KEY_ROLES as readonly string[]).includes(input.role)) {
    throw fieldError("role", `an API key acts as ${API_KEY_ROLES.join(" or ")}, never as owner`);
  }
  const days = input.expiresInDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > MAX_LIFETIME_DAYS)) {
    throw fieldError("expiresInDays", `must be a whole number from 1 to ${MAX_LIFETIME_DAYS}`);
  }
  const workspaces = input.workspaces ?? [];
  const seen = new Set<string>();
  workspaces.forEach((w, i) => {
    if (seen.has(w.workspaceId))
      throw fieldError(`workspaces/${i}/workspaceId`, "names a workspace already in the list");
    seen.add(w.workspaceId);
    if (!workspaceRole(catalogue, w.role))
      throw fieldError(`workspaces/${i}/role`, `there is no workspace role "${w.role}"`);
  });
  return { name, role: input.role as ApiKeyRole, days: days ?? null, workspaces };
}

/** Makes a key; answers it with its token, which is never shown again. */
export async function createApiKey(
  tx: Tx,
  catalogue: Catalogue,
  actor: Actor & { id: string },
  orgId: string,
  input: CreateApiKeyInput,
): Promise<{ apiKey: ApiKey; token: string }> {
  const standing = await admitAgain(
    tx,
    catalogue,
    "org.apikeys",
    { orgId, workspaceId: null },
    actor.id,
    "share",
  );
  const v = validate(catalogue, input);
  const ids = v.workspaces.map((w) => w.workspaceId);
  const names = new Map<string, string>();
  if (ids.length > 0) {
    const found = await tx
      .selectFrom("workspaces")
      .select(["id", "name"])
      .where("org_id", "=", orgId)
      .where("id", "in", ids)
      .execute();
    // A workspace of another organisation answers exactly like one that does not exist (rule 3).
    if (found.length !== ids.length) throw new AppError("workspace_not_found");
    for (const w of found) names.set(w.id, w.name);
  }
  // Rule 1: nothing above what the maker could give a person they invited now.
  await refuseEscalation(
    tx,
    catalogue,
    { userId: actor.id, orgRole: standing.orgRole },
    orgId,
    v.role,
    v.workspaces,
  );

  const { count } = await tx
    .selectFrom("api_keys")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .where("org_id", "=", orgId)
    .executeTakeFirstOrThrow();
  if (Number(count) >= MAX_KEYS_PER_ORG) {
    throw new AppError(
      "too_many_api_keys",
      `This organisation already has ${MAX_KEYS_PER_ORG} API keys; revoke some first.`,
    );
  }

  const { token, hash, prefix } = newKeyToken(API_KEY_PREFIX);
  const expiresAt = v.days === null ? null : new Date(Date.now() + v.days * 86_400_000);
  const row = await tx
    .insertInto("api_keys")
    .values({
      id: newId("key"),
      org_id: orgId,
      name: v.name,
      role: v.role,
      prefix,
      token_hash: hash,
      // A key made by a key has no person behind it; its name is kept as the maker's.
      created_by: actorType(actor) === "user" ? actor.id : null,
      created_by_name: actor.name ?? "",
      expires_at: expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (v.workspaces.length > 0) {
    await tx
      .insertInto("api_key_workspaces")
      .values(
        v.workspaces.map((w) => ({
          org_id: orgId,
          api_key_id: row.id,
          workspace_id: w.workspaceId,
          role: w.role,
        })),
      )
      .execute();
  }
  await recordAudit(tx, actor, {
    orgId,
    action: "api_key.created",
    targetType: "api_key",
    targetId: row.id,
    data: {
      name: row.name,
      role: row.role,
      workspaces: v.workspaces.map((w) => ({ workspaceId: w.workspaceId, role: w.role })),
      expiresAt: expiresAt?.toISOString() ?? null,
    },
  });
  const workspaces = v.workspaces.map((w) => ({
    id: w.workspaceId,
    name: names.get(w.workspaceId) ?? "",
    role: w.role,
  }));
  return { apiKey: { ...row, workspaces }, token };
}

/** The organisation's keys, oldest first, with their workspace grants. */
export async function listApiKeys(db: Queryable, orgId: string): Promise<ApiKey[]> {
  const rows = await db
    .selectFrom("api_keys")
    .selectAll()
    .where("org_id", "=", orgId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  if (rows.length === 0) return [];
  const grants = await db
    .selectFrom("api_key_workspaces as g")
    .innerJoin("workspaces as w", (join) =>
      join.onRef("w.org_id", "=", "g.org_id").onRef("w.id", "=", "g.workspace_id"),
    )
    .select(["g.api_key_id", "g.workspace_id", "g.role", "w.name"])
    .where("g.org_id", "=", orgId)
    .orderBy("w.id")
    .execute();
  return rows.map((row) => ({
    ...row,
    workspaces: grants
      .filter((g) => g.api_key_id === row.id)
      .map((g) => ({ id: g.workspace_id, name: g.name, role: g.role })),
  }));
}

/** Revokes a key: its row goes, and with it every request it would have made from now on. */
export async function revokeApiKey(
  tx: Tx,
  catalogue: Catalogue,
  actor: Actor & { id: string },
  orgId: string,
  keyId: string,
): Promise<void> {
  // The organisation's lock, as for a membership change: a request the key is making under the
  // same lock finishes first, and none starts after this commits.
  await admitAgain(tx, catalogue, "org.apikeys", { orgId, workspaceId: null }, actor.id, "update");
  const row = await tx
    .deleteFrom("api_keys")
    .where("org_id", "=", orgId)
    .where("id", "=", keyId)
    .returning(["id", "name", "role"])
    .executeTakeFirst();
  if (!row) throw new AppError("api_key_not_found");
  await recordAudit(tx, actor, {
    orgId,
    action: "api_key.revoked",
    targetType: "api_key",
    targetId: row.id,
    data: { name: row.name, role: row.role },
  });
}
