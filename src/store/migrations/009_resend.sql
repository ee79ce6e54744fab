-- Re-sends the authority asked for (GET /v1/resend, src/upload.rs): such a
-- row goes back to 'pending' (if acknowledged and still kept) with
-- priority 1, which the uploader takes before older rows; the reason stays
-- with it until the authority acknowledges it again.
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN resend_reason TEXT;
