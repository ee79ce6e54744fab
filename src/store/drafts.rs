//! Drafts: enrolments in progress, encrypted, one row per session. The
//! plaintext never reaches this module.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::StoreError;

/// A draft without its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: String,
    pub operator: String,
    /// The last completed step (`enrolment::draft::step_key`).
    pub step: String,
    pub started_at: String,
    pub updated_at: String,
    /// Why sealing did not take it, when it tried.
    pub held_reason: Option<String>,
}

/// Writes (or replaces) the draft `id`.
pub fn save(conn: &Connection, entry: &Entry, payload: &[u8]) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO drafts (id, operator, step, started_at, updated_at, held_reason, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET step = excluded.step, updated_at = excluded.updated_at,
             held_reason = excluded.held_reason, payload = excluded.payload",
        rusqlite::params![
            entry.id,
            entry.operator,
            entry.step,
            entry.started_at,
            entry.updated_at,
            entry.held_reason,
            payload
        ],
    )?;
    Ok(())
}

/// Marks why sealing could not take the draft.
pub fn hold(conn: &Connection, id: &str, reason: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE drafts SET held_reason = ?2 WHERE id = ?1",
        [id, reason],
    )?;
    Ok(())
}

const COLUMNS: &str = "id, operator, step, started_at, updated_at, held_reason";

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        operator: r.get(1)?,
        step: r.get(2)?,
        started_at: r.get(3)?,
        updated_at: r.get(4)?,
        held_reason: r.get(5)?,
    })
}

/// The drafts of `operator`, newest first.
pub fn of_operator(conn: &Connection, operator: &str) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM drafts WHERE operator = ?1 ORDER BY updated_at DESC"
    ))?;
    let rows = stmt.query_map([operator], entry)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every draft, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM drafts ORDER BY updated_at"))?;
    let rows = stmt.query_map([], entry)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The encrypted draft `id`.
pub fn payload(conn: &Connection, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .query_row("SELECT payload FROM drafts WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Deletes the draft `id` (sealed or abandoned). Returns whether it was there.
pub fn delete(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM drafts WHERE id = ?1", [id])? > 0)
}
