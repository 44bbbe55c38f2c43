-- 0004 — invitations: a pending right to join an organisation, by e-mail (bound to one address,
-- single use) or as a shareable link (any address, up to max_uses), with an org role and zero or
-- more workspace grants. Only SHA-256 of the token is kept (docs/rules.md#rule-4).

CREATE TABLE invitations (
  id              text NOT NULL,
  org_id          text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  delivery        text NOT NULL CHECK (delivery IN ('email', 'link')),
  -- Stored trimmed; compared case-insensitively.
  email           text CHECK (email IS NULL OR (email = btrim(email) AND length(email) BETWEEN 3 AND 254)),
  role            text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  token_hash      bytea NOT NULL CHECK (length(token_hash) = 32),
  -- 'expired' is also derived at read time from expires_at, so no job has to run; it is stored
  -- only when a new invitation for the same address replaces an expired one.
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'accepted', 'exhausted', 'cancelled', 'declined', 'expired')),
  uses            integer NOT NULL DEFAULT 0,
  max_uses        integer NOT NULL DEFAULT 1 CHECK (max_uses BETWEEN 1 AND 1000),
  -- The inviter's name is kept as it was, like the audit trail keeps actors' names.
  invited_by      text REFERENCES users (id) ON DELETE SET NULL,
  invited_by_name text NOT NULL,
  -- The latest invitation mail, whose delivery status the lists show.
  mail_id         text REFERENCES mail_outbox (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  PRIMARY KEY (org_id, id),
  CHECK (uses BETWEEN 0 AND max_uses),
  CHECK ((delivery = 'email') = (email IS NOT NULL)),
  CHECK (delivery = 'link' OR max_uses = 1)
);
CREATE UNIQUE INDEX invitations_id_key ON invitations (id);
-- Found by its token from a link, before anyone knows the organisation: the one global lookup.
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);
-- One pending e-mail invitation per address per organisation (docs/rules.md#rule-5).
CREATE UNIQUE INDEX invitations_pending_email_key ON invitations (org_id, lower(email))
  WHERE status = 'pending' AND delivery = 'email';
CREATE INDEX invitations_org_status_idx ON invitations (org_id, status, created_at);

-- The workspaces an invitation grants, with the role in each. The foreign keys keep a grant
-- inside the invitation's own organisation.
CREATE TABLE invitation_workspaces (
  org_id        text NOT NULL,
  invitation_id text NOT NULL,
  workspace_id  text NOT NULL,
  role          text NOT NULL REFERENCES workspace_roles (name),
  PRIMARY KEY (org_id, invitation_id, workspace_id),
  FOREIGN KEY (org_id, invitation_id) REFERENCES invitations (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE
);
CREATE INDEX invitation_workspaces_workspace_idx ON invitation_workspaces (org_id, workspace_id);

-- Who used an invitation and when: one row per person, written with the membership it made.
CREATE TABLE invitation_uses (
  org_id        text NOT NULL,
  invitation_id text NOT NULL,
  user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  used_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, invitation_id, user_id),
  FOREIGN KEY (org_id, invitation_id) REFERENCES invitations (org_id, id) ON DELETE CASCADE
);
