-- 0012 — the freshness protocol's leases (docs/replica.md#freshness).
--
-- Each connected client of the replica (@rollcall/client) holds a lease and says how far into the
-- event feed it has applied (acked_xid, acked_seq: a feed cursor). A change that takes access away
-- answers only once every live lease has acknowledged its event or run out (replica/leases.ts).
--
-- key_id names the service key without a foreign key: revoking a key deletes it, and its clients'
-- leases must still be waited for until they run out (they can no longer renew).
CREATE TABLE replica_leases (
  id          text PRIMARY KEY,
  key_id      text NOT NULL,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  acked_xid   xid8 NOT NULL,
  acked_seq   bigint NOT NULL,
  expires_at  timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX replica_leases_expires_idx ON replica_leases (expires_at);
CREATE INDEX replica_leases_key_idx ON replica_leases (key_id, expires_at);
