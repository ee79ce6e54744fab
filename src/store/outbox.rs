//! The outbox: sealed packets, oldest first, until the authority has them.
//!
//! A row's life:
//!
//! ```text
//! pending ──claim──▶ uploading ──acknowledge──▶ acknowledged ──(retention)──▶ deleted
//!  ▲ ▲                  │   └──────reject─────▶ rejected (the authority refused it)
//!  │ │                  └──fail──▶ failed (retried at next_attempt_at)
//!  │ └──── recover (at start: a crash left it uploading) ◀┘
//!  └────── requeue (a supervisor: the cause was fixed) ◀── rejected ──dismiss──▶ rejected, dismissed
//! ```
//!
//! A rejected row waits for a supervisor: [`requeue`] sends it again from
//! the start; [`dismiss`] records that it will not be sent (who, when, why)
//! and keeps it, ciphertext included: a dismissed packet is never sent,
//! exported or deleted by retention.
//!
//! Every change is one SQLite transaction (WAL, `synchronous=FULL`), so a
//! crash or power cut leaves each packet either wholly queued or absent.
//! A claimed row carries a random lock token; only its holder may settle it.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::{StoreError, meta, set_meta};
use crate::packet::SealedFile;

/// One queued packet, without its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: String,
    pub tracking_code: Option<String>,
    pub format: u8,
    pub origin: String,
    pub station_id: String,
    pub status: String,
    pub test: bool,
    pub size: u64,
    pub sha256: String,
    pub created_at: String,
    pub attempts: u32,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub exported_at: Option<String>,
    pub acknowledged_at: Option<String>,
    /// The intake's reason code when it refused the packet.
    pub reject_reason: Option<String>,
    /// `enrolment` or `visit` (a field record) when sealed here; `None`
    /// for an imported packet.
    pub kind: Option<String>,
    /// When a supervisor decided that the rejected packet is not sent.
    pub dismissed_at: Option<String>,
    /// That supervisor.
    pub dismissed_by: Option<String>,
    /// Their note.
    pub dismiss_note: Option<String>,
    /// Why the authority asked for this packet again, until it
    /// acknowledges it again ([`ask_again`]).
    pub resend_reason: Option<String>,
}

impl Entry {
    /// Refused by the intake and not yet dealt with by a supervisor.
    pub fn needs_resolving(&self) -> bool {
        self.status == "rejected" && self.dismissed_at.is_none()
    }
}

const ENTRY_COLUMNS: &str = "id, tracking_code, format, origin, station_id, status, is_test, size, \
     sha256, created_at, attempts, next_attempt_at, last_error, exported_at, acknowledged_at, \
     reject_reason, kind, dismissed_at, dismissed_by, dismiss_note, resend_reason";

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        tracking_code: r.get(1)?,
        format: r.get(2)?,
        origin: r.get(3)?,
        station_id: r.get(4)?,
        status: r.get(5)?,
        test: r.get(6)?,
        size: r.get::<_, i64>(7)?.unsigned_abs(),
        sha256: r.get(8)?,
        created_at: r.get(9)?,
        attempts: r.get(10)?,
        next_attempt_at: r.get(11)?,
        last_error: r.get(12)?,
        exported_at: r.get(13)?,
        acknowledged_at: r.get(14)?,
        reject_reason: r.get(15)?,
        kind: r.get(16)?,
        dismissed_at: r.get(17)?,
        dismissed_by: r.get(18)?,
        dismiss_note: r.get(19)?,
        resend_reason: r.get(20)?,
    })
}

/// Where a packet came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Sealed here, with this station's sequence number and tracking code.
    Local { seq: u32 },
    /// A field record sealed here (no sequence number, no tracking code).
    Field,
    /// Taken in from removable media.
    Imported,
}

/// What [`insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// The same packet (same id and ciphertext) was already queued.
    AlreadyQueued,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("packet {0} is already queued with different contents")]
    Conflict(String),
    #[error("no packet {0} in the outbox")]
    NotFound(String),
    #[error("packet {0} is no longer held by this uploader")]
    LockLost(String),
    #[error("the stored packet {id} is damaged: {reason}")]
    Damaged { id: String, reason: String },
    #[error("packet {id} is {status}, not a rejected packet waiting for a supervisor")]
    NotRejected { id: String, status: String },
}

impl From<rusqlite::Error> for OutboxError {
    fn from(e: rusqlite::Error) -> Self {
        OutboxError::Store(StoreError::Sqlite(e))
    }
}

/// Takes the next station sequence number (1 for the first packet). Call
/// inside the transaction that inserts the packet: numbers are never
/// reused, even after retention deletes old rows.
pub fn take_seq(conn: &Connection) -> Result<u32, StoreError> {
    let last: u32 = meta(conn, "last_seq")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let max: u32 = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM outbox", [], |r| r.get(0))?;
    let seq = last.max(max) + 1;
    set_meta(conn, "last_seq", &seq.to_string())?;
    Ok(seq)
}

/// Queues a sealed packet, idempotently by packet id.
pub fn insert(
    conn: &Connection,
    file: &SealedFile,
    origin: Origin,
    tracking_code: Option<&str>,
) -> Result<Inserted, OutboxError> {
    let header = &file.header;
    let existing: Option<String> = conn
        .query_row(
            "SELECT sha256 FROM outbox WHERE id = ?1",
            [&header.packet_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(sha) = existing {
        return if sha == header.sha256 {
            Ok(Inserted::AlreadyQueued)
        } else {
            Err(OutboxError::Conflict(header.packet_id.clone()))
        };
    }
    let (seq, origin, kind) = match origin {
        Origin::Local { seq } => (Some(seq), "local", Some("enrolment")),
        Origin::Field => (None, "local", Some("visit")),
        Origin::Imported => (None, "imported", None),
    };
    conn.execute(
        "INSERT INTO outbox (id, seq, tracking_code, format, origin, station_id, is_test, size,
                             sha256, signature, header, created_at, idempotency_key, payload, kind)
         VALUES (?1, ?2, ?3, 3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?1, ?12, ?13)",
        rusqlite::params![
            header.packet_id,
            seq,
            tracking_code,
            origin,
            header.station_id,
            header.test,
            file.ciphertext.len() as i64,
            header.sha256,
            hex::encode(file.signature),
            file.header_json,
            header.sealed_at,
            file.ciphertext,
            kind,
        ],
    )?;
    Ok(Inserted::New)
}

/// Every packet, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM outbox ORDER BY created_at, seq"
    ))?;
    let rows = stmt.query_map([], entry)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One packet, by id, id prefix (at least 8 characters) or tracking code.
pub fn find(conn: &Connection, key: &str) -> Result<Entry, OutboxError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM outbox
         WHERE id = ?1 OR tracking_code = ?1 OR (length(?1) >= 8 AND id LIKE ?1 || '%')"
    ))?;
    let mut found: Vec<Entry> = stmt.query_map([key], entry)?.collect::<Result<_, _>>()?;
    match found.len() {
        1 => Ok(found.remove(0)),
        _ => Err(OutboxError::NotFound(key.to_owned())),
    }
}

/// A stored packet with everything needed to verify or send it.
#[derive(Debug, Clone)]
pub enum Stored {
    /// `pishkhan-sealed/3`.
    V3(SealedFile),
    /// `pishkhan-packet/2`: ciphertext and the signature over its hash.
    V2 {
        ciphertext: Vec<u8>,
        signature: String,
    },
}

impl Stored {
    pub fn ciphertext(&self) -> &[u8] {
        match self {
            Stored::V3(file) => &file.ciphertext,
            Stored::V2 { ciphertext, .. } => ciphertext,
        }
    }
}

/// The stored packet `id`.
pub fn stored(conn: &Connection, id: &str) -> Result<Stored, OutboxError> {
    type Row = (u8, Vec<u8>, String, Option<Vec<u8>>);
    let row: Option<Row> = conn
        .query_row(
            "SELECT format, payload, signature, header FROM outbox WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let (format, payload, signature, header) =
        row.ok_or_else(|| OutboxError::NotFound(id.to_owned()))?;
    let damaged = |reason: String| OutboxError::Damaged {
        id: id.to_owned(),
        reason,
    };
    if format == 2 {
        return Ok(Stored::V2 {
            ciphertext: payload,
            signature,
        });
    }
    let header_json = header.ok_or_else(|| damaged("no header".into()))?;
    let parsed = serde_json::from_slice(&header_json)
        .map_err(|e| damaged(format!("the header is not valid: {e}")))?;
    let signature: [u8; 64] = hex::decode(&signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| damaged("the signature is not 64 bytes of hex".into()))?;
    Ok(Stored::V3(SealedFile {
        header: parsed,
        header_json,
        signature,
        ciphertext: payload,
    }))
}

/// How many packets still wait for the authority.
pub fn pending(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'uploading', 'failed')",
        [],
        |r| r.get(0),
    )?;
    Ok(n.unsigned_abs())
}

/// How long a claim holds without its uploader touching it. A live
/// uploader touches its rows as it sends ([`touch`]); a row older than
/// this was left by a crashed one.
pub const LEASE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Puts back rows a crashed uploader left in `uploading` (claimed or last
/// touched before `now − LEASE`; another live uploader's rows stay
/// theirs). Returns how many.
pub fn recover(conn: &Connection, now: chrono::DateTime<chrono::Utc>) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE outbox SET status = 'pending', lock_token = NULL, locked_at = NULL
         WHERE status = 'uploading' AND (locked_at IS NULL OR locked_at < ?1)",
        [(now - LEASE).to_rfc3339()],
    )?)
}

/// Renews the uploader's hold on `claim`.
pub fn touch(conn: &Connection, claim: &Claim) -> Result<(), OutboxError> {
    if conn.execute(
        "UPDATE outbox SET locked_at = ?3 WHERE id = ?1 AND lock_token = ?2",
        rusqlite::params![claim.id, claim.token, chrono::Utc::now().to_rfc3339()],
    )? == 0
    {
        return Err(OutboxError::LockLost(claim.id.clone()));
    }
    Ok(())
}

/// A packet an uploader holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: String,
    pub token: String,
    pub idempotency_key: String,
    pub attempt: u32,
}

fn token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(hex::encode(bytes))
}

/// Takes the packet to upload next: of those due (`pending`, or `failed`
/// whose next attempt time has come), the ones the authority asked for
/// again first ([`ask_again`]), then the oldest.
pub fn claim(conn: &Connection, now: &str) -> Result<Option<Claim>, StoreError> {
    let token = token()?;
    Ok(conn
        .query_row(
            "UPDATE outbox
             SET status = 'uploading', lock_token = ?1, locked_at = ?2, attempts = attempts + 1
             WHERE id = (SELECT id FROM outbox
                         WHERE status IN ('pending', 'failed') AND format = 3
                           AND (next_attempt_at IS NULL OR next_attempt_at <= ?2)
                         ORDER BY priority DESC, created_at, seq LIMIT 1)
             RETURNING id, idempotency_key, attempts",
            [&token, now],
            |r| {
                Ok(Claim {
                    id: r.get(0)?,
                    token: token.clone(),
                    idempotency_key: r.get(1)?,
                    attempt: r.get(2)?,
                })
            },
        )
        .optional()?)
}

fn settle(
    conn: &Connection,
    claim: &Claim,
    set: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<(), OutboxError> {
    let sql = format!(
        "UPDATE outbox SET {set}, lock_token = NULL, locked_at = NULL
         WHERE id = ?1 AND lock_token = ?2 AND status = 'uploading'"
    );
    let mut all: Vec<&dyn rusqlite::ToSql> = vec![&claim.id, &claim.token];
    all.extend_from_slice(params);
    if conn.execute(&sql, all.as_slice())? == 0 {
        return Err(OutboxError::LockLost(claim.id.clone()));
    }
    Ok(())
}

/// The authority has the packet; `receipt` is its signed receipt.
pub fn acknowledge(
    conn: &Connection,
    claim: &Claim,
    at: &str,
    receipt: &str,
) -> Result<(), OutboxError> {
    settle(
        conn,
        claim,
        "status = 'acknowledged', acknowledged_at = ?3, receipt = ?4, last_error = NULL, \
         priority = 0, resend_reason = NULL",
        &[&at, &receipt],
    )
}

/// The authority refused the packet for good: `code` is the reason code,
/// `detail` what exactly failed, `receipt` the signed receipt when the
/// refusal came as one.
pub fn reject(
    conn: &Connection,
    claim: &Claim,
    code: &str,
    detail: &str,
    receipt: Option<&str>,
) -> Result<(), OutboxError> {
    settle(
        conn,
        claim,
        "status = 'rejected', reject_reason = ?3, last_error = ?4, receipt = ?5",
        &[&code, &detail, &receipt],
    )
}

/// Remembers where the upload of `claim` lives at the intake.
pub fn set_upload_url(conn: &Connection, claim: &Claim, url: &str) -> Result<(), OutboxError> {
    if conn.execute(
        "UPDATE outbox SET upload_url = ?3 WHERE id = ?1 AND lock_token = ?2",
        rusqlite::params![claim.id, claim.token, url],
    )? == 0
    {
        return Err(OutboxError::LockLost(claim.id.clone()));
    }
    Ok(())
}

/// Where the upload of `id` lives at the intake, if it was started.
pub fn upload_url(conn: &Connection, id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT upload_url FROM outbox WHERE id = ?1", [id], |r| {
            r.get::<_, Option<String>>(0)
        })
        .optional()?
        .flatten())
}

/// When the next packet falls due (`None`: nothing waits; `""`: now).
pub fn next_due(conn: &Connection) -> Result<Option<String>, StoreError> {
    Ok(conn.query_row(
        "SELECT MIN(COALESCE(next_attempt_at, '')) FROM outbox
         WHERE status IN ('pending', 'failed') AND format = 3",
        [],
        |r| r.get(0),
    )?)
}

/// The attempt failed (network, server busy); try again at `next`.
pub fn fail(conn: &Connection, claim: &Claim, error: &str, next: &str) -> Result<(), OutboxError> {
    settle(
        conn,
        claim,
        "status = 'failed', last_error = ?3, next_attempt_at = ?4",
        &[&error, &next],
    )
}

/// The rejected, undismissed row `id`, or why it is not one.
fn rejected_row(conn: &Connection, id: &str) -> Result<(), OutboxError> {
    let row: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT status, dismissed_at FROM outbox WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Err(OutboxError::NotFound(id.to_owned())),
        Some((status, None)) if status == "rejected" => Ok(()),
        Some((status, dismissed)) => Err(OutboxError::NotRejected {
            id: id.to_owned(),
            status: if dismissed.is_some() {
                "dismissed".to_owned()
            } else {
                status
            },
        }),
    }
}

/// A supervisor sends a rejected packet again (the cause was fixed, e.g.
/// the station is now registered): back to `pending`, from the start
/// (no upload URL, no attempts, no reason, no receipt).
pub fn requeue(conn: &Connection, id: &str) -> Result<(), OutboxError> {
    rejected_row(conn, id)?;
    conn.execute(
        "UPDATE outbox SET status = 'pending', upload_url = NULL, attempts = 0,
                next_attempt_at = NULL, last_error = NULL, reject_reason = NULL, receipt = NULL
         WHERE id = ?1 AND status = 'rejected'",
        [id],
    )?;
    Ok(())
}

/// A supervisor decides that a rejected packet will not be sent: it stays
/// `rejected`, kept with its ciphertext, with who decided, when and why.
pub fn dismiss(
    conn: &Connection,
    id: &str,
    by: &str,
    at: &str,
    note: &str,
) -> Result<(), OutboxError> {
    rejected_row(conn, id)?;
    conn.execute(
        "UPDATE outbox SET dismissed_at = ?2, dismissed_by = ?3, dismiss_note = ?4
         WHERE id = ?1 AND status = 'rejected'",
        [id, at, by, note],
    )?;
    Ok(())
}

/// What [`ask_again`] did with a packet the authority asked for again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AskedAgain {
    /// It was acknowledged and is still kept: queued again, first in line.
    Queued,
    /// It had not been acknowledged yet: now first in line.
    Hurried,
    /// Already asked for and waiting: nothing changed.
    AlreadyAsked,
    /// The intake rejected it: it waits for a supervisor, not for a resend.
    Rejected,
    /// Not in the outbox (deleted after its retention, or never here).
    Gone,
}

/// The authority asked for packet `id` again, for `reason`: an
/// acknowledged row still kept goes back to `pending`, with a fresh upload
/// (the old one is complete at the intake), and every waiting row moves to
/// the head of the queue (priority 1, due now).
pub fn ask_again(conn: &Connection, id: &str, reason: &str) -> Result<AskedAgain, StoreError> {
    let found: Option<(String, i64)> = conn
        .query_row(
            "SELECT status, priority FROM outbox WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((status, priority)) = found else {
        return Ok(AskedAgain::Gone);
    };
    let outcome = match status.as_str() {
        "rejected" => return Ok(AskedAgain::Rejected),
        _ if priority > 0 => return Ok(AskedAgain::AlreadyAsked),
        "acknowledged" => {
            conn.execute(
                "UPDATE outbox SET status = 'pending', priority = 1, resend_reason = ?2,
                     next_attempt_at = NULL, upload_url = NULL, last_error = NULL,
                     acknowledged_at = NULL
                 WHERE id = ?1",
                [id, reason],
            )?;
            AskedAgain::Queued
        }
        _ => {
            conn.execute(
                "UPDATE outbox SET priority = 1, resend_reason = ?2, next_attempt_at = NULL
                 WHERE id = ?1",
                [id, reason],
            )?;
            AskedAgain::Hurried
        }
    };
    Ok(outcome)
}

/// Records that packets were copied to removable media.
pub fn mark_exported(conn: &Connection, id: &str, at: &str) -> Result<(), StoreError> {
    conn.execute("UPDATE outbox SET exported_at = ?2 WHERE id = ?1", [id, at])?;
    Ok(())
}

/// Deletes packets the authority acknowledged before `before` (RFC 3339).
pub fn purge_acknowledged(conn: &Connection, before: &str) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM outbox WHERE status = 'acknowledged' AND acknowledged_at < ?1",
        [before],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Header;
    use ed25519_dalek::SigningKey;

    fn sealed(n: u8) -> SealedFile {
        let header = Header {
            format: String::new(),
            packet_id: format!("019a0000-0000-7000-8000-0000000000{n:02x}"),
            station_id: "station".into(),
            station_key: String::new(),
            sealed_at: format!("2026-11-22T08:00:{n:02}+00:00"),
            test: false,
            demo: false,
            recipients: vec![],
            size: 0,
            sha256: String::new(),
        };
        SealedFile::new(header, vec![n; 100], &SigningKey::from_bytes(&[1; 32])).expect("seal")
    }

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = super::super::open(&dir.path().join("t.db")).expect("open");
        (dir, conn)
    }

    /// [`db`] with packets `sealed(1..=count)` queued, in that order.
    fn queued(count: u8) -> (tempfile::TempDir, Connection) {
        let (dir, conn) = db();
        for n in 1..=count {
            let seq = take_seq(&conn).expect("seq");
            insert(&conn, &sealed(n), Origin::Local { seq }, None).expect("insert");
        }
        (dir, conn)
    }

    #[test]
    fn insert_is_idempotent_and_refuses_a_different_packet_with_the_same_id() {
        let (_dir, conn) = db();
        let file = sealed(1);
        let seq = take_seq(&conn).expect("seq");
        assert_eq!(seq, 1);
        assert_eq!(
            insert(&conn, &file, Origin::Local { seq }, Some("1405")).expect("insert"),
            Inserted::New
        );
        assert_eq!(
            insert(&conn, &file, Origin::Imported, None).expect("again"),
            Inserted::AlreadyQueued
        );
        let mut other = sealed(2);
        other.header.packet_id = file.header.packet_id.clone();
        other.header.sha256 = "00".repeat(32);
        assert!(matches!(
            insert(&conn, &other, Origin::Imported, None),
            Err(OutboxError::Conflict(_))
        ));
        let Stored::V3(back) = stored(&conn, &file.header.packet_id).expect("stored") else {
            panic!("format 3 expected");
        };
        assert_eq!(back, file);
        back.verify(None).expect("still verifies");
    }

    #[test]
    fn rows_walk_the_upload_states_and_only_the_holder_settles() {
        let (_dir, conn) = queued(3);
        let now = "2026-11-22T09:00:00+00:00";
        let first = claim(&conn, now).expect("claim").expect("due");
        assert_eq!(first.id, sealed(1).header.packet_id);
        assert_eq!(first.attempt, 1);
        let second = claim(&conn, now).expect("claim").expect("due");
        assert_eq!(second.id, sealed(2).header.packet_id);
        let stranger = Claim {
            token: "x".into(),
            ..first.clone()
        };
        assert!(matches!(
            acknowledge(&conn, &stranger, now, "{}"),
            Err(OutboxError::LockLost(_))
        ));
        acknowledge(&conn, &first, now, "{}").expect("ack");
        fail(
            &conn,
            &second,
            "connection refused",
            "2026-11-22T09:05:00+00:00",
        )
        .expect("fail");
        // The failed one is not due yet; the third is.
        let third = claim(&conn, now).expect("claim").expect("due");
        assert_eq!(third.id, sealed(3).header.packet_id);
        assert_eq!(claim(&conn, now).expect("claim"), None);
        // A live uploader's row stays its own; a crashed one's goes back
        // to pending once its lease is over.
        let claimed_at = chrono::DateTime::parse_from_rfc3339(now)
            .expect("time")
            .with_timezone(&chrono::Utc);
        assert_eq!(recover(&conn, claimed_at).expect("recover"), 0);
        let later = claimed_at + LEASE + chrono::TimeDelta::seconds(1);
        assert_eq!(recover(&conn, later).expect("recover"), 1);
        let again = claim(&conn, now).expect("claim").expect("due again");
        assert_eq!((again.id.as_str(), again.attempt), (third.id.as_str(), 2));
        reject(&conn, &again, "tampered", "bad signature", None).expect("reject");
        let later = claim(&conn, "2026-11-22T09:06:00+00:00")
            .expect("claim")
            .expect("retry due");
        assert_eq!(later.id, second.id);
        let statuses: Vec<String> = list(&conn)
            .expect("list")
            .into_iter()
            .map(|e| e.status)
            .collect();
        assert_eq!(statuses, ["acknowledged", "uploading", "rejected"]);
        assert_eq!(pending(&conn).expect("pending"), 1);
    }

    #[test]
    fn a_packet_the_authority_asks_for_again_goes_first() {
        let (_dir, conn) = queued(4);
        let id = |n: u8| sealed(n).header.packet_id;
        let now = "2026-11-22T09:00:00+00:00";
        // 1 and 2 acknowledged, 3 rejected, 4 waiting.
        for _ in 1..=2 {
            let c = claim(&conn, now).expect("claim").expect("due");
            acknowledge(&conn, &c, now, "{}").expect("ack");
        }
        let c = claim(&conn, now).expect("claim").expect("due");
        reject(&conn, &c, "tampered", "bad", None).expect("reject");
        set_upload_url_unlocked(&conn, &id(2), "http://intake/files/old");

        assert_eq!(
            ask_again(&conn, &id(2), "lost").expect("ask"),
            AskedAgain::Queued
        );
        assert_eq!(
            ask_again(&conn, &id(2), "lost").expect("ask"),
            AskedAgain::AlreadyAsked
        );
        assert_eq!(
            ask_again(&conn, &id(3), "x").expect("ask"),
            AskedAgain::Rejected
        );
        assert_eq!(
            ask_again(&conn, "no-such", "x").expect("ask"),
            AskedAgain::Gone
        );
        let row = find(&conn, &id(2)).expect("row");
        assert_eq!(
            (
                row.status.as_str(),
                row.resend_reason.as_deref(),
                row.acknowledged_at
            ),
            ("pending", Some("lost"), None)
        );
        assert_eq!(
            upload_url(&conn, &id(2)).expect("url"),
            None,
            "a fresh upload"
        );
        // 2 before the older-waiting 4; acknowledged again, it is ordinary.
        let first = claim(&conn, now).expect("claim").expect("due");
        assert_eq!(first.id, id(2));
        acknowledge(&conn, &first, now, "{}").expect("ack");
        assert_eq!(find(&conn, &id(2)).expect("row").resend_reason, None);
        // A waiting packet asked for is hurried past its backoff.
        let fourth = claim(&conn, now).expect("claim").expect("due");
        fail(&conn, &fourth, "offline", "2026-11-22T10:00:00+00:00").expect("fail");
        assert_eq!(claim(&conn, now).expect("claim"), None, "not due yet");
        assert_eq!(
            ask_again(&conn, &id(4), "AFIS").expect("ask"),
            AskedAgain::Hurried
        );
        assert_eq!(
            claim(&conn, now).expect("claim").expect("due now").id,
            id(4)
        );
    }

    fn set_upload_url_unlocked(conn: &Connection, id: &str, url: &str) {
        conn.execute("UPDATE outbox SET upload_url = ?2 WHERE id = ?1", [id, url])
            .expect("url");
    }

    #[test]
    fn retention_deletes_old_acknowledged_packets_but_never_reuses_a_number() {
        let (_dir, conn) = queued(2);
        let c = claim(&conn, "2026-11-22T09:00:00+00:00")
            .expect("claim")
            .expect("due");
        acknowledge(&conn, &c, "2026-11-01T00:00:00+00:00", "{}").expect("ack");
        assert_eq!(
            purge_acknowledged(&conn, "2026-10-31T00:00:00+00:00").expect("purge"),
            0
        );
        assert_eq!(
            purge_acknowledged(&conn, "2026-11-02T00:00:00+00:00").expect("purge"),
            1
        );
        assert_eq!(list(&conn).expect("list").len(), 1);
        // Delete the newest too: the next number still follows the last.
        conn.execute("DELETE FROM outbox", []).expect("delete");
        assert_eq!(take_seq(&conn).expect("seq"), 3);
    }

    #[test]
    fn a_rejected_row_is_requeued_from_the_start_or_dismissed_and_kept() {
        let (_dir, conn) = queued(3);
        let now = "2026-11-22T09:00:00+00:00";
        let first = claim(&conn, now).expect("claim").expect("due");
        set_upload_url(&conn, &first, "http://intake/files/1").expect("url");
        reject(
            &conn,
            &first,
            "unregistered-station",
            "not registered",
            None,
        )
        .expect("reject");
        let second = claim(&conn, now).expect("claim").expect("due");
        reject(&conn, &second, "tampered", "bad hash", Some("{}")).expect("reject");
        // Only rejected rows are resolved.
        let third = sealed(3).header.packet_id;
        assert!(matches!(
            requeue(&conn, &third),
            Err(OutboxError::NotRejected { .. })
        ));
        assert!(matches!(
            dismiss(&conn, "nope", "sara", now, "n"),
            Err(OutboxError::NotFound(_))
        ));

        requeue(&conn, &first.id).expect("requeue");
        let row = find(&conn, &first.id).expect("row");
        assert_eq!(
            (
                row.status.as_str(),
                row.attempts,
                row.reject_reason,
                row.last_error
            ),
            ("pending", 0, None, None)
        );
        assert_eq!(upload_url(&conn, &first.id).expect("url"), None);
        assert_eq!(pending(&conn).expect("pending"), 2);

        dismiss(&conn, &second.id, "sara", now, "re-enrolled as 1405").expect("dismiss");
        let row = find(&conn, &second.id).expect("row");
        assert!(!row.needs_resolving());
        assert_eq!(row.status, "rejected");
        assert_eq!(row.dismissed_by.as_deref(), Some("sara"));
        assert_eq!(row.dismiss_note.as_deref(), Some("re-enrolled as 1405"));
        assert!(matches!(
            requeue(&conn, &second.id),
            Err(OutboxError::NotRejected { status, .. }) if status == "dismissed"
        ));
        // Kept: never claimed, never purged.
        assert!(stored(&conn, &second.id).is_ok());
        assert_eq!(
            purge_acknowledged(&conn, "2100-01-01T00:00:00+00:00").expect("purge"),
            0
        );
        let next = claim(&conn, now).expect("claim").expect("due");
        assert_eq!(next.id, first.id, "the re-queued packet goes first again");
    }

    #[test]
    fn find_takes_an_id_a_prefix_or_a_tracking_code() {
        let (_dir, conn) = db();
        let file = sealed(5);
        insert(
            &conn,
            &file,
            Origin::Local { seq: 1 },
            Some("1405004200000158"),
        )
        .expect("insert");
        let id = &file.header.packet_id;
        assert_eq!(find(&conn, id).expect("id").id, *id);
        assert_eq!(find(&conn, &id[..13]).expect("prefix").id, *id);
        assert_eq!(find(&conn, "1405004200000158").expect("code").id, *id);
        assert!(matches!(find(&conn, "0190"), Err(OutboxError::NotFound(_))));
    }
}
