// The installation's service keys (`rsk_…`): made by the operator for a host product's backend
// and the client library. They read across every organisation and change nothing; the only
// way to make, list or revoke one is the CLI (`rollcall service-key`), run where the database is.
import { recordAudit } from "../audit/operations.js";
import { fieldError } from "../core/errors.js";
import { newId } from "../db/ids.js";
import type { Queryable, Tx } from "../db/index.js";
import { newKeyToken, SERVICE_KEY_PREFIX } from "./model.js";

const OPERATOR = { id: null, name: "rollcall service-key", ip: null, type: "system" } as const;

export interface ServiceKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export async function createServiceKey(tx: Tx, rawName: string): Promise<{ key: ServiceKey; token: string }> {
  const name = rawName.trim();
  if (name.length < 1 || name.length > 100) throw fieldError("name", "must be 1 to 100 characters");
  const { token, hash, prefix } = newKeyToken(SERVICE_KEY_PREFIX);
  const row = await tx
    .insertInto("service_keys")
    .values({ id: newId("svc"), name, prefix, token_hash: hash })
    .returning(["id", "name", "prefix", "created_at", "last_used_at"])
    .executeTakeFirstOrThrow();
  await recordAudit(tx, OPERATOR, {
    orgId: null,
    action: "service_key.created",
    targetType: "service_key",
    targetId: row.id,
    data: { name },
  });
  return { key: present(row), token };
}

export async function listServiceKeys(db: Queryable): Promise<ServiceKey[]> {
  const rows = await db
    .selectFrom("service_keys")
    .select(["id", "name", "prefix", "created_at", "last_used_at"])
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map(present);
}

/** Revokes a key (its next request answers 401 on every server); false when there is none. */
export async function revokeServiceKey(tx: Tx, id: string): Promise<boolean> {
  const row = await tx
    .deleteFrom("service_keys")
    .where("id", "=", id)
    .returning(["id", "name"])
    .executeTakeFirst();
  if (!row) return false;
  await recordAudit(tx, OPERATOR, {
    orgId: null,
    action: "service_key.revoked",
    targetType: "service_key",
    targetId: row.id,
    data: { name: row.name },
  });
  return true;
}

function present(r: {
  id: string;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
}) {
  return { id: r.id, name: r.name, prefix: r.prefix, createdAt: r.created_at, lastUsedAt: r.last_used_at };
}
