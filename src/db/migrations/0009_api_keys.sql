-- 0009 — machines as callers: organisation API keys and installation service keys.
--
-- A key's token is `rk_` (API key) or `rsk_` (service key) followed by 43 base64url characters
-- (256 bits). Only its SHA-256 is kept; a request's token is hashed and the row found by that
-- hash, so the comparison is of hashes (nothing to time). `prefix` is the token's first
-- characters, kept to tell keys apart in a list. Revoking deletes the row: the next request with
-- it finds nothing, on every server. The audit trail keeps the key's name as its actor.
--
-- The token-hash indexes do not lead with org_id: a request names its key before its
-- organisation. Sharded by org_id, these two tables would be reference tables.

CREATE TABLE api_keys (
  id              text PRIMARY KEY,
  org_id          text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name            text NOT NULL CHECK (name = btrim(name) AND length(name) BETWEEN 1 AND 100),
  -- An API key acts as an admin or a member, never as an owner.
  role            text NOT NULL CONSTRAINT api_keys_role_vocabulary CHECK (role IN ('admin', 'member')),
  prefix          text NOT NULL,
  token_hash      bytea NOT NULL,
  -- Who made it (it outlives them: the key belongs to the organisation).
  created_by      text REFERENCES users (id) ON DELETE SET NULL,
  created_by_name text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz,
  -- Written at most once a minute.
  last_used_at    timestamptz
);
CREATE UNIQUE INDEX api_keys_token_hash_key ON api_keys (token_hash);
CREATE INDEX api_keys_org_idx ON api_keys (org_id, created_at, id);

-- The workspace roles an API key holds, as workspace_memberships holds a person's.
CREATE TABLE api_key_workspaces (
  org_id       text NOT NULL,
  api_key_id   text NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  role         text NOT NULL REFERENCES workspace_roles (name),
  PRIMARY KEY (org_id, api_key_id, workspace_id)
);
CREATE INDEX api_key_workspaces_workspace_idx ON api_key_workspaces (org_id, workspace_id);

-- Keys of the installation, made by the operator (`rollcall service-key create`): read-only.
CREATE TABLE service_keys (
  id           text PRIMARY KEY,
  name         text NOT NULL CHECK (name = btrim(name) AND length(name) BETWEEN 1 AND 100),
  prefix       text NOT NULL,
  token_hash   bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
CREATE UNIQUE INDEX service_keys_token_hash_key ON service_keys (token_hash);

-- Who a caller is where: a person through their memberships, an API key through its own role and
-- grants (while it has not expired). Every read of a *caller's* standing goes through these, so
-- that an API key is checked exactly like a member (access/queries.ts). PostgreSQL pushes the
-- caller and organisation conditions into each branch: each stays one index lookup.
CREATE VIEW caller_org_roles AS
  SELECT org_id, user_id AS caller_id, role FROM org_memberships
  UNION ALL
  SELECT org_id, id AS caller_id, role FROM api_keys WHERE expires_at IS NULL OR expires_at > now();

CREATE VIEW caller_workspace_roles AS
  SELECT org_id, workspace_id, user_id AS caller_id, role FROM workspace_memberships
  UNION ALL
  SELECT org_id, workspace_id, api_key_id AS caller_id, role FROM api_key_workspaces;

-- Who acted: a person, an API key, or the system (the CLI's operator, the clock).
ALTER TABLE audit_events
  ADD COLUMN actor_type text NOT NULL DEFAULT 'user'
    CONSTRAINT audit_events_actor_type_vocabulary CHECK (actor_type IN ('user', 'api_key', 'system'));
UPDATE audit_events SET actor_type = 'system' WHERE actor_id IS NULL;
