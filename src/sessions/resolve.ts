// The read every authenticated request makes, in one round trip to PostgreSQL: the session its
// token names, the session's user, and — in the same statement — the caller's standing in the
// place the path names (an organisation or a workspace), or their organisations for GET /me.
//
// Nothing here is cached: the standing is read on every request, so a removal or a role change
// holds from the very next request on every server (docs/rules.md#rule-9). What makes this fast is
// round trips, not memory: one statement instead of two or three, sent as a named prepared
// statement (the server parses and plans it once per connection; each request then sends only
// Bind and Execute), and shared by the requests that arrive together (Lookups). Columns are listed explicitly so that a later migration adding a column
// cannot invalidate a prepared statement's result type on servers still running.
//
// A token is `<session id>.<secret>`: the row is found by id and the secret's SHA-256 compared in
// constant time. Idle timeout counts from last_seen_at, written at most once a minute.
import type pg from "pg";
import type { Queryable } from "../db/index.js";
import type { SessionRow, UserRow } from "../db/schema.js";
import { SECRET_PATTERN, safeEqual, sha256 } from "../tokens.js";
import { type Device, LAST_SEEN_INTERVAL_MS, type SessionPolicy, sessionExpiry } from "./operations.js";

export interface ResolvedSession {
  session: SessionRow & { expiresAt: Date };
  user: UserRow;
  /** Present when the request asked for them (GET /me): every organisation of the user, oldest first. */
  organizations?: { id: string; name: string; role: string }[];
}

/** What else the request needs besides the session. */
export type Place =
  | { kind: "none" }
  | { kind: "org"; orgId: string }
  | { kind: "workspace"; workspaceId: string }
  | { kind: "organizations" };

/** The caller's roles where the path points; null role fields when they are not a member there. */
export interface PlaceStanding {
  /** The organisation (of the workspace); null when the caller is not in it or it does not exist. */
  orgId: string | null;
  orgRole: string | null;
  workspaceRole: string | null;
}

export interface Resolved {
  auth: ResolvedSession;
  /** For `org` and `workspace` places. */
  standing: PlaceStanding | null;
}

const SESSION_COLUMNS = `k.n, s.id, s.user_id, s.secret_hash, s.created_at, s.last_seen_at, s.absolute_expires_at,
  s.user_agent, s.ip, u.email, u.name, u.password_hash,
  u.created_at AS user_created_at, u.updated_at AS user_updated_at`;

// The lookups of one batch: $1 the session ids, $2 the places (org or workspace ids, or '').
const FROM_SESSION = `FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(sid, place, n)
  JOIN sessions s ON s.id = k.sid
  JOIN users u ON u.id = s.user_id`;

const STATEMENTS = {
  none: {
    name: "rollcall_resolve_session",
    text: `SELECT ${SESSION_COLUMNS} ${FROM_SESSION}`,
  },
  org: {
    name: "rollcall_resolve_org",
    text: `SELECT ${SESSION_COLUMNS}, om.org_id AS place_org_id, om.role AS org_role, NULL::text AS workspace_role
      ${FROM_SESSION}
      LEFT JOIN org_memberships om ON om.org_id = k.place AND om.user_id = s.user_id`,
  },
  workspace: {
    name: "rollcall_resolve_workspace",
    text: `SELECT ${SESSION_COLUMNS}, p.org_id AS place_org_id, p.org_role, p.workspace_role
      ${FROM_SESSION}
      LEFT JOIN LATERAL (
        SELECT w.org_id, om.role AS org_role, wm.role AS workspace_role
        FROM workspaces w
        JOIN org_memberships om ON om.org_id = w.org_id AND om.user_id = s.user_id
        LEFT JOIN workspace_memberships wm
          ON wm.org_id = w.org_id AND wm.workspace_id = w.id AND wm.user_id = s.user_id
        WHERE w.id = k.place
      ) p ON true`,
  },
  organizations: {
    name: "rollcall_resolve_organizations",
    text: `SELECT ${SESSION_COLUMNS}, p.organizations
      ${FROM_SESSION}
      CROSS JOIN LATERAL (
        SELECT coalesce(
          json_agg(json_build_object('id', o.id, 'name', o.name, 'role', m.role) ORDER BY m.created_at, o.id),
          '[]'::json
        ) AS organizations
        FROM org_memberships m JOIN organizations o ON o.id = m.org_id
        WHERE m.user_id = s.user_id
      ) p`,
  },
} as const;

/** The most lookups one statement carries. */
const MAX_BATCH = 64;

interface Pending {
  sessionId: string;
  place: string;
  resolve(row: Row | undefined): void;
  reject(err: unknown): void;
}

/**
 * Requests that arrive together are checked together: every lookup asked for in one turn of the
 * event loop goes to PostgreSQL in one statement (per kind of place), at the end of that turn.
 * Each request is still read from the database after it arrived — a batch is sent only after
 * every request in it was received — so nothing is served from memory and rule 9 holds; what is
 * shared is the round trip, the protocol messages and the statement's fixed cost.
 */
class Lookups {
  private queues = new Map<Place["kind"], Pending[]>();
  private scheduled = false;

  constructor(private readonly pool: pg.Pool) {}

  find(kind: Place["kind"], sessionId: string, place: string): Promise<Row | undefined> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(kind) ?? [];
      if (queue.length === 0) this.queues.set(kind, queue);
      queue.push({ sessionId, place, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queues = this.queues;
    this.queues = new Map();
    for (const [kind, items] of queues) {
      for (let i = 0; i < items.length; i += MAX_BATCH) void this.run(kind, items.slice(i, i + MAX_BATCH));
    }
  }

  private async run(kind: Place["kind"], items: Pending[]): Promise<void> {
    const statement = STATEMENTS[kind];
    try {
      const { rows } = await this.pool.query<Row>({
        name: statement.name,
        text: statement.text,
        values: [items.map((i) => i.sessionId), items.map((i) => i.place)],
      });
      const byPosition = new Map(rows.map((r) => [Number(r.n), r]));
      items.forEach((item, i) => {
        item.resolve(byPosition.get(i + 1));
      });
    } catch (err) {
      // One request's junk (a NUL in a path, say) must not fail the others it was batched with:
      // alone, each fails or succeeds on its own.
      if (items.length === 1) items[0]?.reject(err);
      else for (const item of items) void this.run(kind, [item]);
    }
  }
}

const lookups = new WeakMap<pg.Pool, Lookups>();

function lookupsFor(pool: pg.Pool): Lookups {
  const found = lookups.get(pool) ?? new Lookups(pool);
  lookups.set(pool, found);
  return found;
}

interface Row {
  /** The lookup's position in its batch (bigint, as text). */
  n: string;
  id: string;
  user_id: string;
  secret_hash: Buffer;
  created_at: Date;
  last_seen_at: Date;
  absolute_expires_at: Date;
  user_agent: string | null;
  ip: string | null;
  email: string;
  name: string;
  password_hash: string | null;
  user_created_at: Date;
  user_updated_at: Date;
  place_org_id?: string | null;
  org_role?: string | null;
  workspace_role?: string | null;
  organizations?: { id: string; name: string; role: string }[];
}

function parseToken(token: string): { id: string; secret: string } | null {
  const dot = token.indexOf(".");
  if (dot < 0) return null;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!/^ses_[0-9a-z]{26}$/.test(id) || !SECRET_PATTERN.test(secret)) return null;
  return { id, secret };
}

/** The live session a token names, with its user and what `place` asks for; null for anything else. */
export async function resolveRequest(
  database: { db: Queryable; pool: pg.Pool },
  token: string,
  place: Place,
  policy: SessionPolicy,
  device: Device,
): Promise<Resolved | null> {
  const parsed = parseToken(token);
  if (!parsed) return null;
  const named = place.kind === "org" ? place.orgId : place.kind === "workspace" ? place.workspaceId : "";
  // PostgreSQL refuses a NUL in text, and no id holds one: such a place is simply not found.
  const target = named.includes("\u0000") ? "" : named;
  const row = await lookupsFor(database.pool).find(place.kind, parsed.id, target);
  if (!row || !safeEqual(row.secret_hash, sha256(parsed.secret))) return null;
  const now = Date.now();
  let expiresAt = sessionExpiry(row, policy);
  if (expiresAt.getTime() <= now) return null;

  if (now - row.last_seen_at.getTime() >= LAST_SEEN_INTERVAL_MS) {
    // The conditional update keeps concurrent requests from writing more than once a minute.
    const seen = new Date(now);
    await database.db
      .updateTable("sessions")
      .set({ last_seen_at: seen, ip: device.ip?.slice(0, 64) ?? row.ip })
      .where("id", "=", row.id)
      .where("last_seen_at", "<", new Date(now - LAST_SEEN_INTERVAL_MS))
      .execute();
    row.last_seen_at = seen;
    expiresAt = sessionExpiry(row, policy);
  }
  const auth: ResolvedSession = {
    session: {
      id: row.id,
      user_id: row.user_id,
      secret_hash: row.secret_hash,
      created_at: row.created_at,
      last_seen_at: row.last_seen_at,
      absolute_expires_at: row.absolute_expires_at,
      user_agent: row.user_agent,
      ip: row.ip,
      expiresAt,
    },
    user: {
      id: row.user_id,
      email: row.email,
      name: row.name,
      password_hash: row.password_hash,
      created_at: row.user_created_at,
      updated_at: row.user_updated_at,
    },
    ...(row.organizations ? { organizations: row.organizations } : {}),
  };
  const standing =
    place.kind === "org" || place.kind === "workspace"
      ? {
          orgId: row.place_org_id ?? null,
          orgRole: row.org_role ?? null,
          workspaceRole: row.workspace_role ?? null,
        }
      : null;
  return { auth, standing };
}
