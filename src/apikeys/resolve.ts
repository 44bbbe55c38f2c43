// The read a request with a key makes, in one round trip (as sessions/resolve.ts does for a
// session): the key its token's hash names, and in the same statement the key's standing where
// the path points — its own organisation's role and its grant in the workspace of the path.
// Nothing is cached: a revoked key (its row deleted) or an expired one answers 401 from the next
// request on, on every server; `lastUsedAt` is written at most once a minute.
import type pg from "pg";
import type { Queryable } from "../db/index.js";
import type { Place, PlaceStanding } from "../sessions/resolve.js";
import { LAST_USED_INTERVAL_MS, parseKeyToken } from "./model.js";

/** An organisation's API key acting on a request. */
export interface ResolvedApiKey {
  kind: "api_key";
  id: string;
  orgId: string;
  name: string;
  role: string;
}

/** The installation's service key acting on a request. */
export interface ResolvedServiceKey {
  kind: "service_key";
  id: string;
  name: string;
}

const KEY_COLUMNS = "k.id, k.org_id, k.name, k.role, k.expires_at, k.last_used_at";

// A route without a place (none) uses the org statement with '' as the place: it matches nothing.
const STATEMENTS = {
  org: {
    name: "rollcall_resolve_api_key_org",
    text: `SELECT ${KEY_COLUMNS}, CASE WHEN k.org_id = $2 THEN k.org_id END AS place_org_id,
        NULL::text AS workspace_role
      FROM api_keys k WHERE k.token_hash = $1`,
  },
  workspace: {
    name: "rollcall_resolve_api_key_workspace",
    text: `SELECT ${KEY_COLUMNS}, w.org_id AS place_org_id, g.role AS workspace_role
      FROM api_keys k
      LEFT JOIN workspaces w ON w.id = $2 AND w.org_id = k.org_id
      LEFT JOIN api_key_workspaces g
        ON g.org_id = k.org_id AND g.api_key_id = k.id AND g.workspace_id = w.id
      WHERE k.token_hash = $1`,
  },
} as const;

interface Row {
  id: string;
  org_id: string;
  name: string;
  role: string;
  expires_at: Date | null;
  last_used_at: Date | null;
  place_org_id: string | null;
  workspace_role: string | null;
}

/** The live API key a token names, with its standing where `place` points; null for anything else. */
export async function resolveApiKey(
  database: { db: Queryable; pool: pg.Pool },
  token: string,
  place: Place,
): Promise<{ key: ResolvedApiKey; standing: PlaceStanding | null } | null> {
  const parsed = parseKeyToken(token);
  if (parsed?.kind !== "api_key") return null;
  const statement = STATEMENTS[place.kind === "workspace" ? "workspace" : "org"];
  const { rows } = await database.pool.query<Row>({ ...statement, values: [parsed.hash, placeId(place)] });
  const row = rows[0];
  const now = Date.now();
  if (!row || (row.expires_at && row.expires_at.getTime() <= now)) return null;
  await touch(database.db, "api_keys", row, now);
  const key: ResolvedApiKey = {
    kind: "api_key",
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    role: row.role,
  };
  const standing =
    place.kind !== "org" && place.kind !== "workspace"
      ? null
      : {
          orgId: row.place_org_id,
          orgRole: row.place_org_id ? row.role : null,
          workspaceRole: row.workspace_role,
        };
  return { key, standing };
}

// A service key reads every organisation: what it needs of the place is only that it exists, and
// which organisation holds it — read in the same statement as the key.
const SERVICE_STATEMENTS = {
  org: {
    name: "rollcall_resolve_service_key_org",
    text: `SELECT k.id, k.name, k.last_used_at,
        (SELECT o.id FROM organizations o WHERE o.id = $2) AS place_org_id
      FROM service_keys k WHERE k.token_hash = $1`,
  },
  workspace: {
    name: "rollcall_resolve_service_key_workspace",
    text: `SELECT k.id, k.name, k.last_used_at,
        (SELECT w.org_id FROM workspaces w WHERE w.id = $2) AS place_org_id
      FROM service_keys k WHERE k.token_hash = $1`,
  },
} as const;

/**
 * The service key a token names, with the organisation holding the place the path names (null
 * when there is no such place, or the route names none); null for anything but a live service key.
 */
export async function resolveServiceKey(
  database: { db: Queryable; pool: pg.Pool },
  token: string,
  place: Place,
): Promise<{ key: ResolvedServiceKey; placeOrgId: string | null } | null> {
  const parsed = parseKeyToken(token);
  if (parsed?.kind !== "service_key") return null;
  const named = placeId(place);
  const { rows } = await database.pool.query<{
    id: string;
    name: string;
    last_used_at: Date | null;
    place_org_id: string | null;
  }>({
    ...SERVICE_STATEMENTS[place.kind === "workspace" ? "workspace" : "org"],
    values: [parsed.hash, named],
  });
  const row = rows[0];
  if (!row) return null;
  await touch(database.db, "service_keys", row, Date.now());
  return { key: { kind: "service_key", id: row.id, name: row.name }, placeOrgId: row.place_org_id };
}

/** The id a place names, for a statement's parameter ('' for none, or for one no id can be). */
function placeId(place: Place): string {
  const named = place.kind === "org" ? place.orgId : place.kind === "workspace" ? place.workspaceId : "";
  // PostgreSQL refuses a NUL in text, and no id holds one: such a place is simply not found.
  return named.includes("\u0000") ? "" : named;
}

/** Writes a key's last use when the one written is over a minute old. */
async function touch(
  db: Queryable,
  table: "api_keys" | "service_keys",
  row: { id: string; last_used_at: Date | null },
  now: number,
): Promise<void> {
  if (row.last_used_at && now - row.last_used_at.getTime() < LAST_USED_INTERVAL_MS) return;
  // Conditional, so that the requests of one minute on every server write it once between them.
  await db
    .updateTable(table)
    .set({ last_used_at: new Date(now) })
    .where("id", "=", row.id)
    .where((eb) =>
      eb.or([eb("last_used_at", "is", null), eb("last_used_at", "<", new Date(now - LAST_USED_INTERVAL_MS))]),
    )
    .execute();
}
