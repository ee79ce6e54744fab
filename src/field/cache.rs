//! The team's visit list on the station, for days without a network, and
//! the visits already recorded.
//!
//! The list is one sealed blob a team in `visit_lists`, sealed as the
//! appointment lists are ([`crate::prereg::cache`]: ChaCha20-Poly1305 under
//! the key derived from the station key), bound to `visits\n<team>`, so the
//! database file alone shows no name or address. `visit_records` holds
//! only ids and outcomes, to mark visits done on the route.

use rusqlite::{Connection, OptionalExtension};

use super::{Outcome, VisitList};
use crate::prereg::cache::{CacheError, CacheKey, open_blob, seal_blob};

fn aad(team: &str) -> Vec<u8> {
    [b"visits\n".as_slice(), team.as_bytes()].concat()
}

/// Seals `list` and stores it as its team's list, replacing the one before
/// (visits already recorded stay recorded).
pub fn save(
    conn: &Connection,
    key: &CacheKey,
    list: &VisitList,
    fetched_at: &str,
) -> Result<(), CacheError> {
    let plain = zeroize::Zeroizing::new(
        serde_json::to_vec(list).map_err(|e| CacheError::Encode(e.to_string()))?,
    );
    let blob = seal_blob(key, &aad(&list.team), &plain)?;
    conn.execute(
        "INSERT INTO visit_lists (team, sealed, fetched_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (team) DO UPDATE SET sealed = excluded.sealed, fetched_at = excluded.fetched_at",
        rusqlite::params![list.team, blob, fetched_at],
    )?;
    Ok(())
}

/// The cached list of `team` and when it was fetched; `None` when none was
/// ever fetched.
pub fn load(
    conn: &Connection,
    key: &CacheKey,
    team: &str,
) -> Result<Option<(VisitList, String)>, CacheError> {
    let row: Option<(Vec<u8>, String)> = conn
        .query_row(
            "SELECT sealed, fetched_at FROM visit_lists WHERE team = ?1",
            [team],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((blob, fetched_at)) = row else {
        return Ok(None);
    };
    let damaged = || CacheError::Damaged {
        office: format!("team {team}"),
    };
    let plain = open_blob(key, &aad(team), &blob).ok_or_else(damaged)?;
    let list: VisitList = serde_json::from_slice(&plain).map_err(|_| damaged())?;
    if list.team != team {
        return Err(damaged());
    }
    Ok(Some((list, fetched_at)))
}

/// A visit recorded on this station.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recorded {
    pub record_id: String,
    pub visit_id: String,
    pub outcome: Outcome,
    /// `enrolled`: the enrolment's packet.
    pub packet_id: Option<String>,
    pub recorded_at: String,
    pub operator: String,
}

/// Notes a visit's record (in the transaction that queues it).
pub fn note(conn: &Connection, team: &str, recorded: &Recorded) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO visit_records (record_id, team, visit_id, outcome, packet_id, recorded_at,
                                    operator)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            recorded.record_id,
            team,
            recorded.visit_id,
            recorded.outcome.code(),
            recorded.packet_id,
            recorded.recorded_at,
            recorded.operator,
        ],
    )?;
    Ok(())
}

/// Every record of `team`'s visits, oldest first.
pub fn recorded(conn: &Connection, team: &str) -> Result<Vec<Recorded>, rusqlite::Error> {
    let mut stmt = conn.prepare(
        "SELECT record_id, visit_id, outcome, packet_id, recorded_at, operator FROM visit_records
         WHERE team = ?1 ORDER BY recorded_at, record_id",
    )?;
    let rows = stmt.query_map([team], |r| {
        let outcome: String = r.get(2)?;
        Ok(Recorded {
            record_id: r.get(0)?,
            visit_id: r.get(1)?,
            outcome: Outcome::parse(&outcome).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Text,
                    format!("{outcome:?} is not a visit outcome").into(),
                )
            })?,
            packet_id: r.get(3)?,
            recorded_at: r.get(4)?,
            operator: r.get(5)?,
        })
    })?;
    rows.collect()
}
