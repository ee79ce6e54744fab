//! Today at a glance: what the station did today, what waits, and whether
//! it is fit to go on (disk, devices, link, clock). Shared by the
//! dashboard screen and `pishkhan dashboard`; no interface code here.

use chrono::{DateTime, Local, NaiveDate};
use rusqlite::Connection;
use serde::Serialize;

use crate::store::StoreError;

/// The queue and the drafts, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Packets this station sealed today (local date), test packets aside.
    pub sealed_today: u64,
    /// Waiting for upload: pending, or failed and to be retried.
    pub waiting: u64,
    /// Being sent right now.
    pub uploading: u64,
    /// Acknowledged by the authority today (local date).
    pub acknowledged_today: u64,
    /// Acknowledged and still kept (until retention deletes them).
    pub acknowledged_kept: u64,
    /// Refused by the authority, waiting for a supervisor.
    pub rejected: u64,
    /// Written to removable media and not yet acknowledged.
    pub exported: u64,
    /// Enrolments in progress, all operators.
    pub drafts: u64,
    /// Drafts that sealing refused (too large, disk full).
    pub drafts_held: u64,
}

/// Whether `rfc3339` falls on `day` in the station's time zone.
fn on_day(rfc3339: &str, day: NaiveDate) -> bool {
    DateTime::parse_from_rfc3339(rfc3339).is_ok_and(|t| t.with_timezone(&Local).date_naive() == day)
}

/// Counts the outbox and the drafts as of the local date `today`.
pub fn counts(conn: &Connection, today: NaiveDate) -> Result<Counts, StoreError> {
    let mut counts = Counts::default();
    let mut stmt = conn.prepare(
        "SELECT status, is_test, origin, created_at, acknowledged_at, exported_at, kind, dismissed_at FROM outbox",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let status: String = r.get(0)?;
        let test: bool = r.get(1)?;
        let origin: String = r.get(2)?;
        let created_at: String = r.get(3)?;
        let acknowledged_at: Option<String> = r.get(4)?;
        let exported_at: Option<String> = r.get(5)?;
        let kind: Option<String> = r.get(6)?;
        // A supervisor decided not to send it: no longer waiting for one.
        let dismissed: bool = r.get::<_, Option<String>>(7)?.is_some();
        // Enrolments sealed here (a visit's record is not an enrolment).
        if !test
            && origin == "local"
            && kind.as_deref() != Some("visit")
            && on_day(&created_at, today)
        {
            counts.sealed_today += 1;
        }
        match status.as_str() {
            "pending" | "failed" => counts.waiting += 1,
            "uploading" => counts.uploading += 1,
            "acknowledged" => {
                counts.acknowledged_kept += 1;
                if acknowledged_at.is_some_and(|t| on_day(&t, today)) {
                    counts.acknowledged_today += 1;
                }
            }
            "rejected" if !dismissed => counts.rejected += 1,
            _ => {}
        }
        if exported_at.is_some() && status != "acknowledged" && !dismissed {
            counts.exported += 1;
        }
    }
    let (drafts, held): (i64, i64) =
        conn.query_row("SELECT COUNT(*), COUNT(held_reason) FROM drafts", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    counts.drafts = drafts.unsigned_abs();
    counts.drafts_held = held.unsigned_abs();
    Ok(counts)
}

/// Free space where the station keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Disk {
    pub free_bytes: u64,
    /// What sealing keeps free (`[outbox] min_free_bytes`).
    pub reserve_bytes: u64,
}

impl Disk {
    /// Below twice the reserve: time to upload or export and purge.
    pub fn low(&self) -> bool {
        self.free_bytes < self.reserve_bytes.saturating_mul(2)
    }

    /// About how many more packets of `typical` bytes fit above the reserve.
    pub fn room_for(&self, typical: u64) -> u64 {
        self.free_bytes.saturating_sub(self.reserve_bytes) / typical.max(1)
    }
}

/// The station clock against the intake's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Skew {
    /// Station minus intake, in milliseconds (positive: the station is ahead).
    pub millis: i64,
}

impl Skew {
    /// From how far the intake's clock is ahead of the station's.
    pub fn from_intake_ahead(intake_ahead: chrono::Duration) -> Self {
        Self {
            millis: -intake_ahead.num_milliseconds(),
        }
    }

    /// The intake refuses signed requests more than five minutes off;
    /// warn well before.
    pub const WARN_MILLIS: i64 = 60_000;

    pub fn worrying(&self) -> bool {
        self.millis.abs() >= Self::WARN_MILLIS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_local_dates() {
        let now = Local::now();
        let today = now.date_naive();
        assert!(on_day(&now.to_rfc3339(), today));
        assert!(!on_day(
            &(now - chrono::Duration::days(1)).to_rfc3339(),
            today
        ));
        assert!(!on_day("not a time", today));
    }

    #[test]
    fn the_disk_is_low_below_twice_the_reserve() {
        let disk = Disk {
            free_bytes: 300,
            reserve_bytes: 200,
        };
        assert!(disk.low());
        assert_eq!(disk.room_for(50), 2);
        assert!(
            !Disk {
                free_bytes: 401,
                reserve_bytes: 200
            }
            .low()
        );
    }

    #[test]
    fn skew_worries_from_a_minute() {
        assert!(!Skew { millis: -59_999 }.worrying());
        assert!(Skew { millis: -60_000 }.worrying());
    }
}
