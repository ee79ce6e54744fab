-- Upload state kept across restarts: where the upload lives at the intake
-- (to resume from its offset), the intake's signed receipt, and the reason
-- code of a rejection (shown in the operator's language).
ALTER TABLE outbox ADD COLUMN upload_url TEXT;
ALTER TABLE outbox ADD COLUMN receipt TEXT;
ALTER TABLE outbox ADD COLUMN reject_reason TEXT;
