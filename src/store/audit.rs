//! The audit log: an append-only table of what people and the station did
//! (SQLite triggers refuse updates and deletes).

use rusqlite::Connection;
use serde::Serialize;

use super::StoreError;

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
}

/// Appends an event, timed now.
pub fn record(
    conn: &Connection,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![
            chrono::Utc::now().to_rfc3339(),
            actor,
            action,
            subject,
            detail
        ],
    )?;
    Ok(())
}

/// Every event, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Event>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT at, actor, action, subject, detail FROM audit ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok(Event {
            at: r.get(0)?,
            actor: r.get(1)?,
            action: r.get(2)?,
            subject: r.get(3)?,
            detail: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_can_be_added_but_not_changed_or_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = super::super::open(&dir.path().join("t.db")).expect("open");
        record(
            &conn,
            "sara",
            "draft-abandoned",
            Some("id-1"),
            Some("applicant left"),
        )
        .expect("add");
        let events = list(&conn).expect("list");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].detail.as_deref(), Some("applicant left"));
        let update = conn.execute("UPDATE audit SET actor = 'x'", []);
        assert!(update.is_err_and(|e| e.to_string().contains("append-only")));
        assert!(conn.execute("DELETE FROM audit", []).is_err());
        assert_eq!(list(&conn).expect("list").len(), 1);
    }
}
