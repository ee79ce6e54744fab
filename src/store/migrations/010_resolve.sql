-- A supervisor's decision about a packet the intake refused. Re-queueing
-- needs no column (the row goes back to `pending`); dismissing keeps the
-- row `rejected`, with its ciphertext, and records who decided, when and
-- why. A dismissed row no longer asks for attention and is never sent,
-- exported or purged by retention.
ALTER TABLE outbox ADD COLUMN dismissed_at TEXT;
ALTER TABLE outbox ADD COLUMN dismissed_by TEXT;
ALTER TABLE outbox ADD COLUMN dismiss_note TEXT;
