//! The station's copy of the office's appointment list, for when the link
//! is down, and the appointments this station has used.
//!
//! The list is stored as ONE sealed blob per office (`prereg_lists`):
//!
//! ```text
//! pcl1 ‖ nonce (12, random) ‖ ChaCha20-Poly1305(key, nonce, list JSON, aad = office)
//! key = HKDF-SHA256(ikm = the station's Ed25519 secret key, info = "pishkhan prereg cache v1")
//! ```
//!
//! so the database file alone (a copied disk, a backup, a stolen
//! `pishkhan.db`) shows no name or national code; whoever also holds
//! `station.key` can read it, as they could sign as the station. The office
//! is the additional data: a blob moved to another office's row does not
//! open.
//!
//! `prereg_consumed` records each tracking code used by a sealed packet.
//! [`consume`] runs inside the transaction that seals the packet, so the
//! packet and its consumption are committed together or not at all, and a
//! newly synced list that still holds the appointment cannot bring it back:
//! [`find`] reports it as consumed.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rusqlite::{Connection, OptionalExtension, Transaction};
use zeroize::Zeroizing;

use super::{Appointment, AppointmentList, normalise_query};
use crate::station::Station;

/// The HKDF `info` that makes the cache key (and nothing else) from the
/// station key.
const KEY_INFO: &[u8] = b"pishkhan prereg cache v1";
/// First bytes of a sealed list, naming this layout.
const MAGIC: &[u8; 4] = b"pcl1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The key the cached lists are sealed with. Its bytes are wiped when it
/// is dropped and never printed.
pub struct CacheKey(Zeroizing<[u8; 32]>);

impl CacheKey {
    /// HKDF-SHA256 of the station's Ed25519 secret key bytes, info
    /// `pishkhan prereg cache v1`, no salt.
    pub fn derive(station_secret: &[u8; 32]) -> Self {
        let mut okm = Zeroizing::new([0u8; 32]);
        hkdf::Hkdf::<sha2::Sha256>::new(None, station_secret)
            .expand(KEY_INFO, okm.as_mut())
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
        Self(okm)
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(self.0.as_slice()))
    }
}

impl std::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheKey(…)")
    }
}

impl Station {
    /// The key of this station's pre-registration cache.
    pub fn prereg_key(&self) -> CacheKey {
        CacheKey::derive(&Zeroizing::new(self.signing_key().to_bytes()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the cached appointment list of office {office} cannot be opened (damaged, or sealed \
         with another station key); sync again to replace it"
    )]
    Damaged { office: String },
    #[error("the appointment list cannot be written: {0}")]
    Encode(String),
    #[error("the system's random number generator failed: {0}")]
    Random(String),
}

/// Seals `plain` with `key` (the layout above), `aad` binding it to its
/// place: a blob moved to another row does not open.
pub(crate) fn seal_blob(key: &CacheKey, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, CacheError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| CacheError::Random(e.to_string()))?;
    let sealed = key
        .cipher()
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|e| CacheError::Encode(e.to_string()))?;
    Ok([MAGIC.as_slice(), &nonce, &sealed].concat())
}

/// Opens a blob of [`seal_blob`]; `None` when it is damaged, sealed with
/// another key or for another place.
pub(crate) fn open_blob(key: &CacheKey, aad: &[u8], blob: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if blob.len() < MAGIC.len() + NONCE_LEN + TAG_LEN || !blob.starts_with(MAGIC) {
        return None;
    }
    let (nonce, sealed) = blob[MAGIC.len()..].split_at(NONCE_LEN);
    key.cipher()
        .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad })
        .ok()
        .map(Zeroizing::new)
}

/// An appointment that a sealed packet has used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Consumed {
    pub tracking_code: String,
    pub packet_id: String,
    /// When the packet was sealed, RFC 3339.
    pub at: String,
}

/// Why [`consume`] did not record the appointment.
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    #[error(
        "pre-registration {} was already used by packet {} at {}",
        .0.tracking_code, .0.packet_id, .0.at
    )]
    AlreadyConsumed(Consumed),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// One appointment that matches a search, and whether it may be used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Found {
    /// Not used yet: the applicant can be checked in from it.
    Open { appointment: Appointment },
    /// Already used by a sealed packet: it cannot be used again.
    Consumed {
        appointment: Appointment,
        by: Consumed,
    },
}

impl Found {
    pub fn appointment(&self) -> &Appointment {
        match self {
            Found::Open { appointment } | Found::Consumed { appointment, .. } => appointment,
        }
    }
}

/// Seals `list` and stores it as its office's list, replacing the one
/// before (consumed appointments stay consumed: they are kept apart).
pub fn save(
    conn: &Connection,
    key: &CacheKey,
    list: &AppointmentList,
    fetched_at: &str,
) -> Result<(), CacheError> {
    let plain =
        Zeroizing::new(serde_json::to_vec(list).map_err(|e| CacheError::Encode(e.to_string()))?);
    let blob = seal_blob(key, list.office.as_bytes(), &plain)?;
    conn.execute(
        "INSERT INTO prereg_lists (office, sealed, fetched_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (office) DO UPDATE SET sealed = excluded.sealed, fetched_at = excluded.fetched_at",
        rusqlite::params![list.office, blob, fetched_at],
    )?;
    Ok(())
}

/// The cached list of `office` and when it was fetched; `None` when none
/// was ever synced. A blob that does not open with `key` is
/// [`CacheError::Damaged`].
pub fn load(
    conn: &Connection,
    key: &CacheKey,
    office: &str,
) -> Result<Option<(AppointmentList, String)>, CacheError> {
    let row: Option<(Vec<u8>, String)> = conn
        .query_row(
            "SELECT sealed, fetched_at FROM prereg_lists WHERE office = ?1",
            [office],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((blob, fetched_at)) = row else {
        return Ok(None);
    };
    let damaged = || CacheError::Damaged {
        office: office.to_owned(),
    };
    let plain = open_blob(key, office.as_bytes(), &blob).ok_or_else(damaged)?;
    let list: AppointmentList = serde_json::from_slice(&plain).map_err(|_| damaged())?;
    if list.office != office {
        return Err(damaged());
    }
    Ok(Some((list, fetched_at)))
}

/// When the list of `office` was last fetched (without opening it).
pub fn fetched_at(conn: &Connection, office: &str) -> Result<Option<String>, CacheError> {
    Ok(conn
        .query_row(
            "SELECT fetched_at FROM prereg_lists WHERE office = ?1",
            [office],
            |r| r.get(0),
        )
        .optional()?)
}

/// The appointments of `office` whose tracking code or national code is
/// `query` (Persian, Arabic-Indic or ASCII digits; spaces and dashes are
/// ignored), in appointment order, each open or consumed. Nothing matches
/// a query that is not digits, or when no list was synced.
pub fn find(
    conn: &Connection,
    key: &CacheKey,
    office: &str,
    query: &str,
) -> Result<Vec<Found>, CacheError> {
    let Some(wanted) = normalise_query(query) else {
        return Ok(Vec::new());
    };
    let Some((list, _)) = load(conn, key, office)? else {
        return Ok(Vec::new());
    };
    let mut matches: Vec<Appointment> = list
        .appointments
        .into_iter()
        .filter(|a| a.tracking_code == wanted || a.national_code == wanted)
        .collect();
    matches.sort_by(|a, b| a.appointment_at.cmp(&b.appointment_at));
    matches
        .into_iter()
        .map(|appointment| {
            Ok(match is_consumed(conn, &appointment.tracking_code)? {
                Some(by) => Found::Consumed { appointment, by },
                None => Found::Open { appointment },
            })
        })
        .collect()
}

/// The cached list of `office` with each appointment's state, in
/// appointment order; `None` when none was synced.
pub fn list(
    conn: &Connection,
    key: &CacheKey,
    office: &str,
) -> Result<Option<(Vec<Found>, String)>, CacheError> {
    let Some((mut list, fetched_at)) = load(conn, key, office)? else {
        return Ok(None);
    };
    list.appointments
        .sort_by(|a, b| a.appointment_at.cmp(&b.appointment_at));
    let found = list
        .appointments
        .into_iter()
        .map(|appointment| {
            Ok(match is_consumed(conn, &appointment.tracking_code)? {
                Some(by) => Found::Consumed { appointment, by },
                None => Found::Open { appointment },
            })
        })
        .collect::<Result<_, CacheError>>()?;
    Ok(Some((found, fetched_at)))
}

/// Records that packet `packet_id` used the appointment `tracking_code`.
/// Call it inside the transaction that seals the packet. Recording the
/// same packet again is a no-op; another packet gets
/// [`ConsumeError::AlreadyConsumed`] with the first one's id and time.
pub fn consume(
    tx: &Transaction<'_>,
    tracking_code: &str,
    packet_id: &str,
) -> Result<(), ConsumeError> {
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let inserted = tx.execute(
        "INSERT INTO prereg_consumed (tracking_code, packet_id, consumed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (tracking_code) DO NOTHING",
        [tracking_code, packet_id, &at],
    )?;
    if inserted == 1 {
        return Ok(());
    }
    match consumed_row(tx, tracking_code)? {
        Some(first) if first.packet_id == packet_id => Ok(()),
        Some(first) => Err(ConsumeError::AlreadyConsumed(first)),
        // Not reachable inside one transaction; a conflict means the row is there.
        None => Err(ConsumeError::Sqlite(rusqlite::Error::QueryReturnedNoRows)),
    }
}

/// Which packet used `tracking_code`, and when; `None` while it is open.
pub fn is_consumed(conn: &Connection, tracking_code: &str) -> Result<Option<Consumed>, CacheError> {
    Ok(consumed_row(conn, tracking_code)?)
}

fn consumed_row(conn: &Connection, tracking_code: &str) -> rusqlite::Result<Option<Consumed>> {
    conn.query_row(
        "SELECT tracking_code, packet_id, consumed_at FROM prereg_consumed WHERE tracking_code = ?1",
        [tracking_code],
        |r| {
            Ok(Consumed {
                tracking_code: r.get(0)?,
                packet_id: r.get(1)?,
                at: r.get(2)?,
            })
        },
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrolment::RequestType;

    fn list(office: &str) -> AppointmentList {
        AppointmentList {
            office: office.into(),
            generated_at: "2026-11-22T06:00:00+03:30".into(),
            appointments: vec![
                Appointment {
                    tracking_code: "140509010002".into(),
                    national_code: "0499370899".into(),
                    first_name: "مریم".into(),
                    last_name: "موسوی".into(),
                    father_name: Some("جواد".into()),
                    birth_date: "1370/05/12".into(),
                    appointment_at: "2026-11-22T09:30:00+03:30".into(),
                    request_type: RequestType::LostCard,
                    mobile: Some("09121234567".into()),
                    postal_code: Some("1345678901".into()),
                },
                crate::prereg::test_appointment("140509010001", "0013542419"),
            ],
        }
    }

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::store::open(&dir.path().join("pishkhan.db")).expect("db");
        (dir, conn)
    }

    #[test]
    fn lists_round_trip_sealed_and_other_keys_or_rows_do_not_open() {
        let (_dir, conn) = db();
        let key = CacheKey::derive(&[7; 32]);
        assert_eq!(load(&conn, &key, "TEH-12").expect("load"), None);
        save(&conn, &key, &list("TEH-12"), "2026-11-22T07:00:00Z").expect("save");
        let (loaded, fetched) = load(&conn, &key, "TEH-12").expect("load").expect("some");
        assert_eq!(loaded, list("TEH-12"));
        assert_eq!(fetched, "2026-11-22T07:00:00Z");

        let blob: Vec<u8> = conn
            .query_row("SELECT sealed FROM prereg_lists", [], |r| r.get(0))
            .expect("blob");
        let text = String::from_utf8_lossy(&blob);
        assert!(!text.contains("0013542419") && !text.contains("زهرا"));
        save(&conn, &key, &list("TEH-12"), "2026-11-22T07:10:00Z").expect("save");
        let again: Vec<u8> = conn
            .query_row("SELECT sealed FROM prereg_lists", [], |r| r.get(0))
            .expect("blob");
        assert_ne!(blob[4..16], again[4..16], "a fresh nonce every time");

        let other = CacheKey::derive(&[8; 32]);
        assert!(matches!(
            load(&conn, &other, "TEH-12"),
            Err(CacheError::Damaged { office }) if office == "TEH-12"
        ));
        // The blob moved to another office's row does not open there.
        conn.execute(
            "INSERT INTO prereg_lists (office, sealed, fetched_at) VALUES ('TEH-13', ?1, 'x')",
            [&again],
        )
        .expect("copy");
        assert!(matches!(
            load(&conn, &key, "TEH-13"),
            Err(CacheError::Damaged { .. })
        ));
        let mut flipped = again.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        conn.execute(
            "UPDATE prereg_lists SET sealed = ?1 WHERE office = 'TEH-12'",
            [&flipped],
        )
        .expect("damage");
        assert!(matches!(
            load(&conn, &key, "TEH-12"),
            Err(CacheError::Damaged { .. })
        ));
        conn.execute(
            "UPDATE prereg_lists SET sealed = x'00' WHERE office = 'TEH-12'",
            [],
        )
        .expect("truncate");
        assert!(matches!(
            load(&conn, &key, "TEH-12"),
            Err(CacheError::Damaged { .. })
        ));
        assert!(format!("{key:?}").contains('…'), "the key is never printed");
    }

    #[test]
    fn find_by_either_code_and_consumed_ones_stay_consumed_across_syncs() {
        let (_dir, mut conn) = db();
        let key = CacheKey::derive(&[7; 32]);
        assert!(
            find(&conn, &key, "TEH-12", "0013542419")
                .expect("find")
                .is_empty()
        );
        save(&conn, &key, &list("TEH-12"), "t1").expect("save");
        let by_national = find(&conn, &key, "TEH-12", "۰۰۱ ۳۵۴۲۴۱-۹").expect("find");
        assert_eq!(by_national.len(), 1);
        assert!(
            matches!(&by_national[0], Found::Open { appointment } if appointment.tracking_code == "140509010001")
        );
        let by_tracking = find(&conn, &key, "TEH-12", "1405-0901-0002").expect("find");
        assert_eq!(by_tracking[0].appointment().first_name, "مریم");
        assert!(
            find(&conn, &key, "TEH-12", "زهرا")
                .expect("find")
                .is_empty()
        );
        assert!(
            find(&conn, &key, "TEH-99", "0013542419")
                .expect("find")
                .is_empty()
        );

        let tx = conn.transaction().expect("tx");
        consume(&tx, "140509010001", "packet-a").expect("first use");
        consume(&tx, "140509010001", "packet-a").expect("the same packet again");
        tx.commit().expect("commit");
        let tx = conn.transaction().expect("tx");
        let second = consume(&tx, "140509010001", "packet-b");
        assert!(
            matches!(&second, Err(ConsumeError::AlreadyConsumed(c)) if c.packet_id == "packet-a"),
            "{second:?}"
        );
        drop(tx);

        // The same list synced again still holds the appointment.
        save(&conn, &key, &list("TEH-12"), "t2").expect("resync");
        let found = find(&conn, &key, "TEH-12", "0013542419").expect("find");
        assert!(
            matches!(&found[..], [Found::Consumed { by, .. }] if by.packet_id == "packet-a"),
            "{found:?}"
        );
        let (all, fetched) = super::list(&conn, &key, "TEH-12")
            .expect("list")
            .expect("some");
        assert_eq!(fetched, "t2");
        assert_eq!(
            all.iter()
                .map(|f| matches!(f, Found::Open { .. }))
                .collect::<Vec<_>>(),
            [false, true],
            "in appointment order: 08:00 consumed, 09:30 open"
        );
        assert_eq!(fetched_at(&conn, "TEH-12").expect("at"), Some("t2".into()));
    }

    #[test]
    fn the_key_depends_on_the_station_key() {
        let a = CacheKey::derive(&[1; 32]);
        let b = CacheKey::derive(&[2; 32]);
        assert_ne!(*a.0, *b.0);
        assert_eq!(*a.0, *CacheKey::derive(&[1; 32]).0);
        assert_ne!(*a.0, [1; 32]);
    }
}
