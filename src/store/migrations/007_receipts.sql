-- Receipt copies for reprinting (issue 9). The copy is encrypted to the
-- station's supervisors' keys (each unwrapped only by its holder's
-- password), so a thief with the disk reads nothing. It lives exactly as
-- long as its packet: the trigger deletes it with the outbox row.
CREATE TABLE receipts (
    packet_id         TEXT PRIMARY KEY,
    tracking_code     TEXT NOT NULL UNIQUE,
    national_code_tag TEXT NOT NULL,   -- keyed hash (HMAC-SHA256) of the national code
    sealed            BLOB NOT NULL,   -- age ciphertext of the receipt's JSON
    reprints          INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL
);
CREATE INDEX receipts_by_national_code ON receipts (national_code_tag);
CREATE TRIGGER receipts_follow_their_packet AFTER DELETE ON outbox
BEGIN
    DELETE FROM receipts WHERE packet_id = OLD.id;
END;
