-- 0001 — the foundation: people, their sessions, organisations and workspaces with their
-- memberships, the audit trail, rate-limit counters and the mail outbox.
--
-- Conventions: ids are opaque text made by the application (a prefix and a time-ordered random
-- part); every tenant-owned table carries org_id and every index on it leads with org_id, so a
-- PostgreSQL sharded by org_id (Citus) can hold it unchanged.

-- Trigram matching for member search (PGlite ships it in its contrib set, PostgreSQL in contrib).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One person. E-mail is unique compared case-insensitively; it is stored trimmed.
CREATE TABLE users (
  id            text PRIMARY KEY,
  email         text NOT NULL CHECK (email = btrim(email) AND length(email) BETWEEN 3 AND 254 AND email LIKE '%_@_%'),
  name          text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  -- argon2id PHC string; NULL for an account made by `rollcall create-owner` until its owner sets one.
  password_hash text CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- One logged-in device. The token given to the client is `<id>.<secret>`; only SHA-256(secret)
-- is kept, and it is compared in constant time after the row is found by id.
CREATE TABLE sessions (
  id                  text PRIMARY KEY,
  user_id             text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  secret_hash         bytea NOT NULL CHECK (length(secret_hash) = 32),
  created_at          timestamptz NOT NULL DEFAULT now(),
  -- Written at most once a minute, not on every request; the idle timeout counts from it.
  last_seen_at        timestamptz NOT NULL DEFAULT now(),
  absolute_expires_at timestamptz NOT NULL,
  user_agent          text CHECK (length(user_agent) <= 512),
  ip                  text CHECK (length(ip) <= 64)
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id, created_at);

-- Password-reset (and first-password) tokens: single use, short-lived, stored only as SHA-256.
CREATE TABLE password_reset_tokens (
  token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX password_reset_tokens_user_id_idx ON password_reset_tokens (user_id);

-- The tenant.
CREATE TABLE organizations (
  id         text PRIMARY KEY,
  name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE org_memberships (
  org_id     text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, user_id)
);
-- "Which organisations do I belong to?" — the one index not led by org_id: it serves the
-- switcher, which is per user, and would be a reference lookup in a sharded layout.
CREATE INDEX org_memberships_user_id_idx ON org_memberships (user_id);

CREATE TABLE workspaces (
  id         text NOT NULL,
  org_id     text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  timezone   text NOT NULL DEFAULT 'UTC' CHECK (length(timezone) BETWEEN 1 AND 64),
  language   text NOT NULL DEFAULT 'en' CHECK (length(language) BETWEEN 2 AND 35),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX workspaces_id_key ON workspaces (id);

-- A workspace member is always an org member: the foreign key to org_memberships makes removal
-- from the organisation remove every workspace membership in it, in the same statement.
CREATE TABLE workspace_memberships (
  org_id       text NOT NULL,
  workspace_id text NOT NULL,
  user_id      text NOT NULL,
  role         text NOT NULL CHECK (role IN ('admin', 'editor', 'agent', 'viewer')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, workspace_id, user_id),
  FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, user_id) REFERENCES org_memberships (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX workspace_memberships_user_idx ON workspace_memberships (org_id, user_id);

-- Append-only trail. actor_id and target_id are not foreign keys on purpose: an event outlives
-- the people and things it names, and keeps the actor's name as it was at that moment.
CREATE TABLE audit_events (
  id          text PRIMARY KEY,
  org_id      text,
  at          timestamptz NOT NULL DEFAULT now(),
  actor_id    text,
  actor_name  text,
  action      text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
  target_type text NOT NULL,
  target_id   text,
  data        jsonb NOT NULL DEFAULT '{}'::jsonb,
  ip          text
);
CREATE INDEX audit_events_org_at_idx ON audit_events (org_id, at DESC, id DESC);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, at DESC);

-- Fixed-window counters shared by every server (docs/rules.md#rule-12). One row per key; the window
-- restarts when it has run out.
CREATE TABLE rate_limits (
  key          text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  count        integer NOT NULL CHECK (count >= 0)
);

-- Transactional outbox: a mail is a row written in the transaction of the change that causes it,
-- and a worker delivers it. A claimed row has next_attempt_at pushed into the future (a lease),
-- so a worker that dies mid-send lets another retry it once the lease has run out.
CREATE TABLE mail_outbox (
  id              text PRIMARY KEY,
  org_id          text,
  kind            text NOT NULL,
  to_address      text NOT NULL,
  subject         text NOT NULL,
  -- Bodies may carry a one-time link: they are cleared once the mail is sent or given up on.
  text_body       text,
  html_body       text,
  -- Stable across retries, so that receivers can de-duplicate a mail sent twice.
  message_id      text NOT NULL UNIQUE,
  status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX mail_outbox_org_idx ON mail_outbox (org_id, created_at);
