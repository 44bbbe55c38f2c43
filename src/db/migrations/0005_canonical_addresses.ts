// 0005's data step (review 13.1): every stored address rewritten to its canonical form, computed
// by the same canonicalEmail() that every request uses, so that stored and typed addresses can be
// compared by plain equality. Runs right after 0005_canonical_addresses.sql, in its transaction.
//
// Two rows whose spellings collapse to one address (say "kim@example.org" and "\u212Aim@example.org",
// which lower() had already treated as one on some servers and not on others) are neither merged
// nor refused (a migration that fails stops every server):
// - users: the account whose spelling was plain ASCII keeps the address — it is the one typed as
//   the address itself — or, failing that, the earliest. Every other account of that address is
//   kept with its memberships and history, but its address becomes `look-alike <id>@address.invalid`,
//   which no input can ever canonicalise to (the space is refused), so it is unreachable by log-in,
//   sign-up, reset or invitation; its sessions end and its outstanding reset links die. An audit
//   event `user.address_conflict` records the spelling it had and which account kept the address.
// - pending e-mail invitations of one organisation: the same choice keeps one pending; the others
//   are cancelled with an `invitation.cancelled` event saying why.
// A stored spelling whose canonical form is not an address at all is left as it was.
import type pg from "pg";
import type { AuditAction } from "../../audit/actions.js";
import { canonicalEmail } from "../../email.js";
import { newId } from "../ids.js";

type Client = Pick<pg.PoolClient, "query">;

interface Spelled {
  id: string;
  email: string;
}

/** The address no input can reach, for an account that lost its address to another spelling. */
export const unreachableAddress = (userId: string) => `look-alike ${userId}@address.invalid`;

/** Only letter case (ASCII) apart from the canonical form: the spelling of someone who typed the address. */
const plainSpelling = (email: string, canonical: string) =>
  /^[\x21-\x7e]+$/.test(email) && email.toLowerCase() === canonical;

/**
 * Rows grouped by `key` of their canonical address, each group's keeper first: a plain spelling,
 * then the earliest (rows arrive oldest first).
 */
function grouped<T extends Spelled>(rows: T[], key: (row: T, canonical: string) => string) {
  const groups = new Map<string, { canonical: string; rows: T[] }>();
  for (const row of rows) {
    const canonical = canonicalEmail(row.email);
    if (canonical === undefined) continue;
    const k = key(row, canonical);
    const group = groups.get(k) ?? { canonical, rows: [] };
    group.rows.push(row);
    groups.set(k, group);
  }
  for (const group of groups.values()) {
    const plain = group.rows.findIndex((r) => plainSpelling(r.email, group.canonical));
    if (plain > 0) group.rows.unshift(...group.rows.splice(plain, 1));
  }
  return groups.values();
}

async function audit(
  client: Client,
  orgId: string | null,
  action: AuditAction,
  target: { type: string; id: string },
  data: Record<string, unknown>,
): Promise<void> {
  await client.query(
    `INSERT INTO audit_events (id, org_id, actor_id, actor_name, action, target_type, target_id, data)
     VALUES ($1, $2, NULL, 'rollcall migrate', $3, $4, $5, $6)`,
    [newId("evt"), orgId, action, target.type, target.id, JSON.stringify(data)],
  );
}

/** Sets `column` of `table` row by row, in batches: [id, value] pairs. */
async function setColumn(client: Client, table: "users" | "invitations", pairs: [string, string][]) {
  for (let i = 0; i < pairs.length; i += 5000) {
    const batch = pairs.slice(i, i + 5000);
    await client.query(
      `UPDATE ${table} AS t SET email = v.email
       FROM unnest($1::text[], $2::text[]) AS v (id, email) WHERE t.id = v.id`,
      [batch.map((p) => p[0]), batch.map((p) => p[1])],
    );
  }
}

export async function canonicaliseAddresses(client: Client): Promise<void> {
  const users = await client.query<Spelled>("SELECT id, email FROM users ORDER BY created_at, id");
  const rewrites: [string, string][] = [];
  // Those who lose the address move first, so that no row holds the keeper's address when it moves.
  for (const { canonical, rows } of grouped(users.rows, (_, c) => c)) {
    const [keeper, ...others] = rows;
    if (!keeper) continue;
    for (const other of others) {
      await client.query("UPDATE users SET email = $2 WHERE id = $1", [
        other.id,
        unreachableAddress(other.id),
      ]);
      await client.query("DELETE FROM sessions WHERE user_id = $1", [other.id]);
      await client.query(
        "UPDATE password_reset_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
        [other.id],
      );
      await audit(
        client,
        null,
        "user.address_conflict",
        { type: "user", id: other.id },
        { email: other.email, address: canonical, keptBy: keeper.id },
      );
    }
    if (keeper.email !== canonical) rewrites.push([keeper.id, canonical]);
  }
  await setColumn(client, "users", rewrites);

  const invitations = await client.query<Spelled & { org_id: string; status: string }>(
    `SELECT id, org_id, email, status FROM invitations
     WHERE delivery = 'email' ORDER BY created_at, id`,
  );
  const pending = invitations.rows.filter((r) => r.status === "pending");
  for (const { canonical, rows } of grouped(pending, (r, c) => `${r.org_id} ${c}`)) {
    const [keeper, ...others] = rows;
    for (const other of others) {
      await client.query("UPDATE invitations SET status = 'cancelled', updated_at = now() WHERE id = $1", [
        other.id,
      ]);
      await audit(
        client,
        other.org_id,
        "invitation.cancelled",
        { type: "invitation", id: other.id },
        { reason: "address_conflict", email: other.email, address: canonical, keptBy: keeper?.id },
      );
    }
  }
  const spelled = invitations.rows.flatMap((r): [string, string][] => {
    const canonical = canonicalEmail(r.email);
    return canonical !== undefined && canonical !== r.email ? [[r.id, canonical]] : [];
  });
  await setColumn(client, "invitations", spelled);
}
