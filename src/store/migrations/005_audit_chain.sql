-- The audit log becomes a hash chain signed by the station key: each
-- entry stores the previous entry's hash, its own SHA-256 and the
-- station's Ed25519 signature of it (hex). Entries written before this
-- migration have none and are reported as unchained by `audit verify`.
ALTER TABLE audit ADD COLUMN prev TEXT;
ALTER TABLE audit ADD COLUMN hash TEXT;
ALTER TABLE audit ADD COLUMN sig TEXT;
