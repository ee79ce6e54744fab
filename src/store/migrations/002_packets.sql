-- The outbox of ANSI/NIST packets (pishkhan-sealed/3), the upload state
-- machine, drafts and the audit log.

-- Rebuilt: format, outer header, upload state, export mark, imported rows.
CREATE TABLE outbox_v2 (
    id              TEXT PRIMARY KEY,          -- packet id, UUIDv7
    seq             INTEGER UNIQUE,            -- this station's sequence; NULL when imported
    tracking_code   TEXT UNIQUE,               -- NULL when imported (it is inside the ciphertext)
    format          INTEGER NOT NULL CHECK (format IN (2, 3)),
    origin          TEXT NOT NULL DEFAULT 'local' CHECK (origin IN ('local', 'imported')),
    station_id      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'uploading', 'acknowledged', 'rejected', 'failed')),
    is_test         INTEGER NOT NULL DEFAULT 0,
    size            INTEGER NOT NULL,          -- of the ciphertext
    sha256          TEXT NOT NULL,             -- of the ciphertext
    signature       TEXT NOT NULL,             -- v3: over the header; v2: over sha256
    header          BLOB,                      -- v3: the signed header JSON
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,                      -- RFC 3339; NULL = now
    lock_token      TEXT,                      -- set while an uploader holds the row
    locked_at       TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,      -- sent with every upload attempt
    last_error      TEXT,
    exported_at     TEXT,                      -- copied to removable media
    acknowledged_at TEXT,
    payload         BLOB NOT NULL              -- the age ciphertext
);

INSERT INTO outbox_v2 (id, seq, tracking_code, format, station_id, status, is_test, size,
                       sha256, signature, created_at, attempts, idempotency_key, last_error, payload)
SELECT id, seq, tracking_code, 2, COALESCE((SELECT value FROM meta WHERE key = 'station_id'), ''),
       CASE status WHEN 'uploading' THEN 'pending' ELSE status END,
       is_test, size, sha256, signature, created_at, attempts, id, last_error, payload
FROM outbox;

DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status IN ('pending', 'failed');

-- Tracking codes are never reused, even after old rows are deleted.
INSERT OR IGNORE INTO meta (key, value)
SELECT 'last_seq', CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM outbox;

-- Enrolments in progress, encrypted (age) to the operator's draft key and
-- the authority. Deleted when sealed or abandoned.
CREATE TABLE drafts (
    id          TEXT PRIMARY KEY,              -- the session id (the future packet id)
    operator    TEXT NOT NULL,
    step        TEXT NOT NULL,                 -- the last completed step
    started_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    held_reason TEXT,                          -- why sealing did not take it (size, disk)
    payload     BLOB NOT NULL
);
CREATE INDEX drafts_operator ON drafts (operator, updated_at);

-- Each account's draft key: an age X25519 identity, wrapped with a key
-- derived from the password (argon2id, ChaCha20-Poly1305).
ALTER TABLE accounts ADD COLUMN draft_recipient TEXT;
ALTER TABLE accounts ADD COLUMN draft_identity BLOB;

-- Append-only record of what people and the station did.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    detail  TEXT
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
