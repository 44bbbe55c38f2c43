-- 0002 — workspace roles become rows, and member search gets trigram indexes.
--
-- The catalogue can be extended with workspace roles (ROLES_FILE). A CHECK listing the built-in
-- names would refuse them, so the names live in a table that each server fills from its catalogue
-- at start-up, and memberships refer to it: a role that no catalogue defines still cannot be stored.
CREATE TABLE workspace_roles (
  name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,31}$')
);
INSERT INTO workspace_roles (name) VALUES ('admin'), ('editor'), ('agent'), ('viewer');

ALTER TABLE workspace_memberships DROP CONSTRAINT workspace_memberships_role_check;
ALTER TABLE workspace_memberships
  ADD CONSTRAINT workspace_memberships_role_fkey FOREIGN KEY (role) REFERENCES workspace_roles (name);

-- Member search: `q` matches name or e-mail anywhere, case-insensitively (lower(x) LIKE '%q%').
-- Trigram GIN indexes answer that without reading every user, at any number of members.
CREATE INDEX users_name_trgm_idx ON users USING gin (lower(name) gin_trgm_ops);
CREATE INDEX users_email_trgm_idx ON users USING gin (lower(email) gin_trgm_ops);

-- Filtering members by role, and finding the owners (rule 2), per organisation.
CREATE INDEX org_memberships_role_idx ON org_memberships (org_id, role);
CREATE INDEX workspace_memberships_role_idx ON workspace_memberships (org_id, workspace_id, role);
