-- Station facts: id, created time.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Operators and supervisors. Passwords are argon2id PHC strings.
CREATE TABLE accounts (
    username      TEXT PRIMARY KEY,
    full_name     TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('supervisor', 'operator')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- Sealed packets waiting for (or done with) upload. `payload` is the age
-- ciphertext; nothing here is readable without the authority's key.
CREATE TABLE outbox (
    id            TEXT PRIMARY KEY,               -- packet id, UUIDv7
    seq           INTEGER NOT NULL UNIQUE,        -- station sequence number
    tracking_code TEXT NOT NULL UNIQUE,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'uploading', 'acknowledged', 'rejected')),
    is_test       INTEGER NOT NULL DEFAULT 0,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,                  -- of payload
    signature     TEXT NOT NULL,                  -- station Ed25519 over sha256, hex
    created_at    TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    payload       BLOB NOT NULL
);

CREATE INDEX outbox_pending ON outbox (created_at) WHERE status = 'pending';
