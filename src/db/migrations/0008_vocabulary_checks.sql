-- 0008 — the fixed word lists, each checked under a name that says which list of the code it is.
--
-- An invitation's status and delivery, an org role (of a member or of an invitation) and a
-- mail's status each have one list in the code (INVITATION_STATUSES and DELIVERIES in
-- invitations/model.ts, ORG_ROLES in access/catalogue.ts, MAIL_STATUSES in mail/outbox.ts), from
-- which their TypeScript types, the API's enums and the Kysely columns follow. 0001 and 0004
-- checked the same lists inline, under names PostgreSQL chose; here each becomes
-- <table>_<column>_vocabulary, and db/vocabulary.test.ts reads every one back from pg_constraint
-- and fails when it differs from its list. The lists are unchanged, so every stored row meets
-- them; PostgreSQL checks the rows again as each constraint is added.
--
-- Not here: workspace roles, which a host may extend (ROLES_FILE) and which memberships and grants
-- refer to in workspace_roles instead (0002); audit actions, which the trail keeps as written by
-- whichever version wrote them (audit/actions.ts; 0001 checks their shape).

ALTER TABLE invitations
  DROP CONSTRAINT invitations_status_check,
  ADD CONSTRAINT invitations_status_vocabulary
    CHECK (status IN ('pending', 'accepted', 'exhausted', 'cancelled', 'declined', 'expired')),
  DROP CONSTRAINT invitations_delivery_check,
  ADD CONSTRAINT invitations_delivery_vocabulary CHECK (delivery IN ('email', 'link')),
  DROP CONSTRAINT invitations_role_check,
  ADD CONSTRAINT invitations_role_vocabulary CHECK (role IN ('owner', 'admin', 'member'));

ALTER TABLE org_memberships
  DROP CONSTRAINT org_memberships_role_check,
  ADD CONSTRAINT org_memberships_role_vocabulary CHECK (role IN ('owner', 'admin', 'member'));

ALTER TABLE mail_outbox
  DROP CONSTRAINT mail_outbox_status_check,
  ADD CONSTRAINT mail_outbox_status_vocabulary CHECK (status IN ('queued', 'sent', 'failed'));
