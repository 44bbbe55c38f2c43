-- 0011 — an organisation's webhook endpoints and the deliveries to them (docs/webhooks.md).
--
-- The secrets are stored as they are, not hashed and not encrypted: the server must sign every
-- delivery with them, so it must be able to read them, and a key to decrypt them would sit in the
-- same server's configuration, read by the same process that reads the database. The database
-- (and its backups) is the trust boundary, as it already is for every organisation's data; a
-- secret that may have leaked is replaced with rotate-secret. `previous_secret` signs beside the
-- new one until `previous_secret_expires_at` (24 h after a rotation).
CREATE TABLE webhook_endpoints (
  id                         text PRIMARY KEY,
  org_id                     text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  url                        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  -- The public event types sent here; empty: every type.
  types                      text[] NOT NULL DEFAULT '{}',
  description                text CHECK (length(description) <= 500),
  enabled                    boolean NOT NULL DEFAULT true,
  secret                     text NOT NULL,
  previous_secret            text,
  previous_secret_expires_at timestamptz,
  -- Why the server turned it off (an answer 410); null when enabled or turned off by a person.
  disabled_reason            text,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  -- Who made it (it belongs to the organisation and outlives them).
  created_by                 text REFERENCES users (id) ON DELETE SET NULL,
  created_by_name            text NOT NULL,
  updated_at                 timestamptz NOT NULL DEFAULT now()
);
-- Every event of an organisation looks here (webhooks/deliveries.ts): one index probe, nothing
-- more for an organisation without endpoints. Also the list's order.
CREATE INDEX webhook_endpoints_org_idx ON webhook_endpoints (org_id, created_at, id);

-- One row per event and endpoint, written in the event's own transaction: none is lost across a
-- crash, and the worker (webhooks/worker.ts) claims due rows with FOR UPDATE SKIP LOCKED. `body`
-- is what is posted, kept so that every retry sends the same content under the same webhook-id
-- (the event id). A claim sets `lease_expires_at`: until then no other worker takes the row.
CREATE TABLE webhook_deliveries (
  id               text PRIMARY KEY,
  org_id           text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  endpoint_id      text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id         text NOT NULL,
  type             text NOT NULL,
  body             jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending'
    CONSTRAINT webhook_deliveries_status_vocabulary CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_expires_at timestamptz,
  last_attempt_at  timestamptz,
  response_status  integer,
  error            text,
  -- The clock, not the transaction's start: the deliveries of one transaction's events are
  -- listed in the order they were written.
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (org_id, endpoint_id, created_at, id);

-- An id in the form of db/ids.ts (a prefix, then 26 Crockford base-32 characters: 48 bits of
-- milliseconds, 80 random bits), for rows made by INSERT … SELECT, where the number of rows is
-- known only to the statement.
CREATE FUNCTION rollcall_new_id(prefix text) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT prefix || '_' || string_agg(
           substr('0123456789abcdefghjkmnpqrstvwxyz', substring(b FROM i * 5 + 1 FOR 5)::integer + 1, 1),
           '' ORDER BY i)
  FROM (SELECT B'00'
               || substring((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)::bit(64) FROM 17)
               -- gen_random_uuid's hex, without its version and variant digits: 80 random bits.
               || ('x' || substr(h, 1, 12) || substr(h, 21, 8))::bit(80) AS b
        FROM (SELECT replace(gen_random_uuid()::text, '-', '') AS h) AS u) AS s,
       generate_series(0, 25) AS i
$$;
