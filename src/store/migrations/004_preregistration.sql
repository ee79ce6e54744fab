-- Pre-registration. The office's appointment list as last synced from the
-- intake, ONE sealed blob per office (ChaCha20-Poly1305 under a key derived
-- from the station key; nonce ‖ ciphertext ‖ tag): names and national codes
-- are never stored in clear. And the appointments this station has used,
-- which no later list brings back.
CREATE TABLE prereg_lists (
    office     TEXT PRIMARY KEY,
    sealed     BLOB NOT NULL,
    fetched_at TEXT NOT NULL
);

CREATE TABLE prereg_consumed (
    tracking_code TEXT PRIMARY KEY,
    packet_id     TEXT NOT NULL,
    consumed_at   TEXT NOT NULL
);
