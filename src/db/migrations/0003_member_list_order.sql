-- 0003 — the member list without a search pages through an organisation's members in join order
-- (created_at, user_id); this index serves each page without sorting every member of the
-- organisation, which matters at a million members.
CREATE INDEX org_memberships_joined_idx ON org_memberships (org_id, created_at, user_id);
