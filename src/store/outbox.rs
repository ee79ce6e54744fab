//! The outbox: sealed packets, oldest first, until the authority has them.

use rusqlite::Connection;
use serde::Serialize;

use super::StoreError;

/// One queued packet, without its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: String,
    pub tracking_code: String,
    pub status: String,
    pub test: bool,
    pub size: u64,
    pub sha256: String,
    pub created_at: String,
}

/// A sealed packet ready to queue.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub id: &'a str,
    pub seq: u32,
    pub tracking_code: &'a str,
    pub test: bool,
    pub sha256: &'a str,
    pub signature: &'a str,
    pub created_at: &'a str,
    pub payload: &'a [u8],
}

/// The next station sequence number (1 for the first packet).
pub fn next_seq(conn: &Connection) -> Result<u32, StoreError> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox", [], |r| {
            r.get(0)
        })?,
    )
}

pub fn insert(conn: &Connection, entry: &NewEntry<'_>) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO outbox (id, seq, tracking_code, is_test, size, sha256, signature, created_at, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        rusqlite::params![
            entry.id,
            entry.seq,
            entry.tracking_code,
            entry.test,
            entry.payload.len() as i64,
            entry.sha256,
            entry.signature,
            entry.created_at,
            entry.payload,
        ],
    )?;
    Ok(())
}

/// Every packet, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, tracking_code, status, is_test, size, sha256, created_at
         FROM outbox ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Entry {
            id: r.get(0)?,
            tracking_code: r.get(1)?,
            status: r.get(2)?,
            test: r.get(3)?,
            size: r.get::<_, i64>(4)? as u64,
            sha256: r.get(5)?,
            created_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The encrypted payload and outer signature of one packet.
pub fn payload(conn: &Connection, id: &str) -> Result<(Vec<u8>, String), StoreError> {
    Ok(conn.query_row(
        "SELECT payload, signature FROM outbox WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// How many packets still wait for upload.
pub fn pending(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'uploading')",
        [],
        |r| r.get(0),
    )?;
    Ok(n.unsigned_abs())
}
