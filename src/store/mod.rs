//! The station database: one SQLite file in the data directory, in WAL
//! mode with full sync, migrated by numbered SQL files on open.
//!
//! It holds accounts, station facts, the audit log, drafts, the outbox and
//! the pre-registration cache. Applicant data enters it only encrypted: in
//! drafts (to the operator's draft key and the authority), in sealed
//! packets (to the authority) and in the cached appointment list (to a key
//! derived from the station key, `prereg::cache`).

pub mod accounts;
pub mod audit;
pub mod drafts;
pub mod outbox;

use std::path::Path;

use rusqlite::Connection;

/// Numbered migrations; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_packets.sql"),
    include_str!("migrations/003_upload.sql"),
    include_str!("migrations/004_preregistration.sql"),
    include_str!("migrations/005_audit_chain.sql"),
    include_str!("migrations/006_account_security.sql"),
    include_str!("migrations/007_receipts.sql"),
    include_str!("migrations/008_field.sql"),
    include_str!("migrations/009_resend.sql"),
    include_str!("migrations/010_resolve.sql"),
];

pub const FILE_NAME: &str = "pishkhan.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the system's random number generator failed: {0}")]
    Random(String),
    #[error(
        "the database was written by a newer Pishkhan (schema {found}, this one knows {known})"
    )]
    TooNew { found: usize, known: usize },
}

/// Opens (creating if needed) and migrates the database at `path`.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted drafts and purged packets are overwritten, not left in free
    // pages (they are ciphertext, but a key may leak later).
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::TooNew {
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!("database migrated to schema {}", i + 1);
    }
    Ok(())
}

/// A key/value fact about the station.
pub fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_refuse_newer_schemas() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE_NAME);
        let conn = open(&path).expect("open");
        set_meta(&conn, "k", "v").expect("set");
        drop(conn);
        let conn = open(&path).expect("reopen");
        assert_eq!(meta(&conn, "k").expect("get"), Some("v".to_owned()));
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        conn.pragma_update(None, "user_version", 99).expect("bump");
        drop(conn);
        assert!(matches!(
            open(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
