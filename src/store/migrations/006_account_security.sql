-- Lockout, forced password change and disabled accounts (issue 9).
-- `failed_sign_ins` counts wrong passwords in a row; reaching the limit
-- sets `locked_until` (UTC, RFC 3339) and starts counting again.
ALTER TABLE accounts ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until TEXT;
-- Set for accounts a supervisor created or reset: the first sign-in must
-- choose a new password before anything else.
ALTER TABLE accounts ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN created_by TEXT;
