-- Field work of a mobile team (issue 10, src/field). The team's visit list
-- is one sealed blob a team (ChaCha20-Poly1305 under the station-derived
-- cache key, as prereg_lists): names and addresses are not readable from
-- the database file alone. Each visit's outcome is sealed and queued as an
-- outbox row of kind 'visit'; visit_records keeps, in clear, only what the
-- route needs to show a visit as done (no name, no place).
CREATE TABLE visit_lists (
    team       TEXT PRIMARY KEY,
    sealed     BLOB NOT NULL,
    fetched_at TEXT NOT NULL
);
CREATE TABLE visit_records (
    record_id   TEXT PRIMARY KEY,   -- the outbox row's id
    team        TEXT NOT NULL,
    visit_id    TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    packet_id   TEXT UNIQUE,        -- 'enrolled': the enrolment's packet
    recorded_at TEXT NOT NULL,
    operator    TEXT NOT NULL
);
CREATE INDEX visit_records_by_visit ON visit_records (team, visit_id);
-- What a row holds, when this station sealed it (an imported packet's
-- kind is not known without decrypting it: NULL).
ALTER TABLE outbox ADD COLUMN kind TEXT CHECK (kind IN ('enrolment', 'visit'));
UPDATE outbox SET kind = 'enrolment' WHERE origin = 'local';
