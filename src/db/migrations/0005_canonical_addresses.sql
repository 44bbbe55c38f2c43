-- 0005 — one spelling per e-mail address (review 13.1). users.email and invitations.email now
-- hold the canonical form of the address (src/email.ts: trim, NFKC, lower-case, NFKC), computed by
-- the application, and are compared by plain equality. The unique indexes were on lower(email):
-- PostgreSQL's lower() depends on the database's locale, so it could fold two spellings together
-- that the application kept apart (the Kelvin sign and "k"), or keep apart two it folded together.
--
-- The existing rows are rewritten to their canonical form right after this file, in the same
-- transaction, by the data step in 0005_canonical_addresses.ts (the canonical form is computed
-- in one place, in JavaScript; SQL has no locale-independent lower-case). Indexes keep their
-- names: sign-up and http/problem.ts recognise their violations by name.

-- Rows are already distinct under lower(email), so they are distinct as written: these build.
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (email);

-- One pending e-mail invitation per canonical address per organisation (docs/rules.md#rule-5).
DROP INDEX invitations_pending_email_key;
CREATE UNIQUE INDEX invitations_pending_email_key ON invitations (org_id, email)
  WHERE status = 'pending' AND delivery = 'email';
