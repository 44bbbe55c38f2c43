-- 0006 — the outbox is pruned, and read without scanning it.
--
-- Mail that has been sent or given up on is deleted after MAIL_RETENTION_DAYS (mail/outbox.ts
-- pruneOutbox, run by each server's housekeeping). This index finds those rows by age, and also
-- answers the `rollcall_mail_outbox_failed` gauge's count on every /metrics scrape from the index
-- alone; the queued count already has mail_outbox_due_idx.
CREATE INDEX mail_outbox_done_idx ON mail_outbox (status, created_at) WHERE status <> 'queued';

-- Deleting an outbox row sets invitations.mail_id to NULL (ON DELETE SET NULL); without an index
-- leading with mail_id, PostgreSQL would read every invitation for each mail it prunes.
CREATE INDEX invitations_mail_id_idx ON invitations (mail_id) WHERE mail_id IS NOT NULL;
