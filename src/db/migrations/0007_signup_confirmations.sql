-- 0007 — sign-ups waiting for their address to be confirmed (SIGNUP_CONFIRM=email, review 13.2).
-- Such a sign-up makes no account: it keeps what was typed here and mails a link to the address;
-- the account (and its organisation, or its invitation's) is made when the link is used. So a
-- sign-up answers the same whether or not the address has an account, and so does the request
-- after it. Only SHA-256 of the link's token is kept; the row goes when it is used or expires.

CREATE TABLE signup_confirmations (
  token_hash            bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  -- As typed, trimmed; an account is made for it only if none has the address by then.
  email                 text NOT NULL CHECK (email = btrim(email) AND length(email) BETWEEN 3 AND 254),
  name                  text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  password_hash         text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  organization_name     text CHECK (organization_name IS NULL OR length(btrim(organization_name)) BETWEEN 1 AND 200),
  -- SHA-256 of the invitation token signed up with, if any: it is checked again at confirmation
  -- (a resent or cancelled invitation no longer lets the sign-up join).
  invitation_token_hash bytea CHECK (invitation_token_hash IS NULL OR length(invitation_token_hash) = 32),
  created_at            timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz NOT NULL
);
CREATE INDEX signup_confirmations_expires_at_idx ON signup_confirmations (expires_at);
