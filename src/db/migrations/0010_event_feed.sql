-- 0010 — the audit trail is also the event feed (docs/events.md).
--
-- A feed read from a cursor must never skip an event that commits after a reader passed its
-- place. Neither `at` (the transaction's start) nor a sequence (taken at insert) follows commit
-- order: a transaction that began first can commit last. So each event also keeps the id of the
-- transaction that wrote it (xid8, which never wraps), and a reader takes only events whose
-- transaction id is below the oldest one still running (pg_snapshot_xmin of its snapshot): every
-- such transaction has ended, so nothing can appear later below that line. The feed's order is
-- (xid, seq); seq orders the events of one transaction.
--
-- The rows written before this migration get this migration's transaction id (below any later
-- one) and seq in the order of (at, id).
ALTER TABLE audit_events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE audit_events ADD COLUMN seq bigint;
CREATE SEQUENCE audit_events_seq OWNED BY audit_events.seq;
UPDATE audit_events e SET seq = o.n
  FROM (SELECT id, row_number() OVER (ORDER BY at, id) AS n FROM audit_events) o
  WHERE e.id = o.id;
SELECT setval('audit_events_seq', coalesce((SELECT max(seq) FROM audit_events), 0) + 1, false);
ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq');
ALTER TABLE audit_events ALTER COLUMN seq SET NOT NULL;

CREATE INDEX audit_events_org_feed_idx ON audit_events (org_id, xid, seq);
CREATE INDEX audit_events_feed_idx ON audit_events (xid, seq);
