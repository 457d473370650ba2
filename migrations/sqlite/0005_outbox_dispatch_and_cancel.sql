-- Dispatching the outbox (`nagare outbox export`, `POST /v1/outbox/{id}/dispatch`) and
-- cancelling work items (`nagare cancel`).
--
-- An outbox entry that leaves records who sent it (`user:NAME`), under which file name,
-- the SHA-256 of the bytes that left, and where to: the export folder, or `http` when a
-- program fetched it over the API. With `state = 'sent'` and `sent_at` (already there)
-- this is the office's record of what went out.
ALTER TABLE outbox ADD COLUMN sent_by TEXT;
ALTER TABLE outbox ADD COLUMN sent_as TEXT;
ALTER TABLE outbox ADD COLUMN sent_sha256 TEXT;
ALTER TABLE outbox ADD COLUMN sent_to TEXT;
CREATE INDEX outbox_pending_by_document ON outbox (document, id) WHERE state = 'pending';

-- A timer of a cancelled work item is withdrawn, not fired.
ALTER TABLE timers ADD COLUMN cancelled_at TEXT;
