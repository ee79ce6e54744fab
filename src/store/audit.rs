//! The audit log: an append-only table of what people and the station did
//! (SQLite triggers refuse updates and deletes), hash-chained and signed:
//! each entry's hash covers its own fields and the previous entry's hash,
//! and the station key signs that hash. [`verify`] walks the chain and
//! names the first entry that was changed, removed from the middle,
//! inserted or forged. (Entries cut from the end leave a shorter valid
//! chain; the count in each packet's and export's audit line is what
//! shows that.)

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::StoreError;

/// Domain separation of the entry hash.
const DOMAIN: &[u8] = b"pishkhan-audit-v1\0";
/// The "previous hash" of the first chained entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
    /// The previous entry's hash, hex; none for entries written before the
    /// chain existed.
    pub prev: Option<String>,
    /// SHA-256 of this entry (see [`entry_hash`]), hex.
    pub hash: Option<String>,
    /// The station's Ed25519 signature of the hash, hex.
    pub sig: Option<String>,
}

impl Event {
    /// This entry's hash as [`entry_hash`] computes it after `prev`.
    pub fn hash_after(&self, prev: &str) -> String {
        entry_hash(
            prev,
            self.id,
            &self.at,
            &self.actor,
            &self.action,
            self.subject.as_deref(),
            self.detail.as_deref(),
        )
    }
}

/// SHA-256 over the domain, the previous hash and the entry's fields, each
/// length-prefixed so no two entries hash the same bytes.
pub fn entry_hash(
    prev: &str,
    id: i64,
    at: &str,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(prev.as_bytes());
    field(&id.to_be_bytes());
    field(at.as_bytes());
    field(actor.as_bytes());
    field(action.as_bytes());
    for optional in [subject, detail] {
        match optional {
            Some(text) => {
                field(b"1");
                field(text.as_bytes());
            }
            None => field(b"0"),
        }
    }
    hex::encode(h.finalize())
}

/// Appends an event, timed now, chained to the last one and signed with
/// `key`.
pub fn record(
    conn: &Connection,
    key: &SigningKey,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    let at = chrono::Utc::now().to_rfc3339();
    let last: Option<(i64, Option<String>)> = conn
        .query_row(
            "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (id, prev) = match last {
        Some((id, hash)) => (id + 1, hash.unwrap_or_else(|| GENESIS.to_owned())),
        None => (1, GENESIS.to_owned()),
    };
    let hash = entry_hash(&prev, id, &at, actor, action, subject, detail);
    let sig = hex::encode(key.sign(hash.as_bytes()).to_bytes());
    conn.execute(
        "INSERT INTO audit (id, at, actor, action, subject, detail, prev, hash, sig) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        rusqlite::params![id, at, actor, action, subject, detail, prev, hash, sig],
    )?;
    Ok(())
}

/// Every event, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Event>, StoreError> {
    select(conn, "", [])
}

/// The events about `subject` (a packet id: its enrolment's approvals,
/// resumption and sealing), oldest first: the excerpt each packet carries.
pub fn of_subject(conn: &Connection, subject: &str) -> Result<Vec<Event>, StoreError> {
    select(conn, "WHERE subject = ?1", [subject])
}

fn select(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Event>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT id, at, actor, action, subject, detail, prev, hash, sig FROM audit {filter} ORDER BY id"
    ))?;
    let rows = stmt.query_map(params, |r| {
        Ok(Event {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            subject: r.get(4)?,
            detail: r.get(5)?,
            prev: r.get(6)?,
            hash: r.get(7)?,
            sig: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// Entries whose chain and signature hold.
    pub chained: usize,
    /// Entries written before the chain existed (at the start only).
    pub unchained: usize,
    /// The hash of the last entry: compare it with a copy kept elsewhere
    /// to notice entries cut from the end.
    pub head: Option<String>,
}

/// The first entry that breaks the chain, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {id}: {what}")]
pub struct Broken {
    pub id: i64,
    pub what: String,
}

/// One chained entry on its own: its hash recomputed from its fields and
/// `prev`, and its signature by `key`.
fn check_entry(
    e: &Event,
    prev: &str,
    hash: &str,
    sig: &str,
    key: &VerifyingKey,
) -> Result<(), Broken> {
    let broken = |what: &str| Broken {
        id: e.id,
        what: what.into(),
    };
    if e.hash_after(prev) != hash {
        return Err(broken("was changed after it was written"));
    }
    let signature = hex::decode(sig)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| broken("has an unreadable signature"))?;
    key.verify(hash.as_bytes(), &signature)
        .map_err(|_| broken("is not signed by this station's key"))
}

/// Checks an excerpt (entries picked from the log, as a packet carries
/// them): every entry is chained, unchanged and signed by `key`. Links
/// between entries are not checked: the excerpt is not contiguous.
pub fn verify_excerpt(events: &[Event], key: &VerifyingKey) -> Result<(), Broken> {
    for e in events {
        let (Some(prev), Some(hash), Some(sig)) = (&e.prev, &e.hash, &e.sig) else {
            return Err(Broken {
                id: e.id,
                what: "has no hash or signature".into(),
            });
        };
        check_entry(e, prev, hash, sig, key)?;
    }
    Ok(())
}

/// Walks the whole log: each entry's hash recomputed, its link to the
/// previous entry, its signature by `key`.
pub fn verify(events: &[Event], key: &VerifyingKey) -> Result<Verified, Broken> {
    let mut unchained = 0;
    let mut prev: Option<&str> = None;
    let mut last_id = 0;
    for (n, e) in events.iter().enumerate() {
        let broken = |what: String| Broken { id: e.id, what };
        if e.id != last_id + 1 {
            return Err(broken(format!(
                "comes after entry {last_id}: entries are missing or renumbered"
            )));
        }
        last_id = e.id;
        let (Some(link), Some(hash), Some(sig)) = (&e.prev, &e.hash, &e.sig) else {
            if prev.is_some() {
                return Err(broken("has no hash inside the chain".into()));
            }
            unchained += 1;
            continue;
        };
        let expected_prev = prev.unwrap_or(if n == unchained { GENESIS } else { "" });
        if link != expected_prev {
            return Err(broken(
                "does not follow the entry before it (an entry was removed or inserted)".into(),
            ));
        }
        check_entry(e, link, hash, sig, key)?;
        prev = Some(hash);
    }
    Ok(Verified {
        chained: events.len() - unchained,
        unchained,
        head: prev.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_can_be_added_but_not_changed_or_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = super::super::open(&dir.path().join("t.db")).expect("open");
        let key = SigningKey::from_bytes(&[7; 32]);
        record(
            &conn,
            &key,
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

    fn chain(n: usize) -> (tempfile::TempDir, Connection, SigningKey) {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = super::super::open(&dir.path().join("t.db")).expect("open");
        let key = SigningKey::from_bytes(&[9; 32]);
        for i in 0..n {
            let subject = format!("packet-{i}");
            record(
                &conn,
                &key,
                "sara",
                "enrolment-sealed",
                Some(&subject),
                None,
            )
            .expect("add");
        }
        (dir, conn, key)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (_dir, conn, key) = chain(5);
        let events = list(&conn).expect("list");
        let v = verify(&events, &key.verifying_key()).expect("intact");
        assert_eq!((v.chained, v.unchained), (5, 0));
        assert_eq!(v.head.as_deref(), events[4].hash.as_deref());
        assert_eq!(events[0].prev.as_deref(), Some(GENESIS));
    }

    #[test]
    fn a_changed_removed_or_forged_entry_is_named() {
        let (_dir, conn, key) = chain(5);
        let good = list(&conn).expect("list");
        let public = key.verifying_key();

        let mut changed = good.clone();
        changed[2].actor = "mallory".into();
        let e = verify(&changed, &public).expect_err("changed");
        assert_eq!(e.id, 3);
        assert!(e.what.contains("changed"), "{e}");

        let mut removed = good.clone();
        removed.remove(1);
        assert_eq!(verify(&removed, &public).expect_err("removed").id, 3);

        // Renumbered after a removal: the link still breaks.
        let mut renumbered = removed.clone();
        for (i, e) in renumbered.iter_mut().enumerate() {
            e.id = i as i64 + 1;
        }
        let e = verify(&renumbered, &public).expect_err("relinked");
        assert_eq!(e.id, 2);
        assert!(e.what.contains("does not follow"), "{e}");

        // Rewritten with a valid hash but another key's signature.
        let other = SigningKey::from_bytes(&[1; 32]);
        let mut forged = good.clone();
        forged[4].detail = Some("nothing to see".into());
        let hash = forged[4].hash_after(forged[4].prev.as_deref().expect("prev"));
        forged[4].sig = Some(hex::encode(other.sign(hash.as_bytes()).to_bytes()));
        forged[4].hash = Some(hash);
        let e = verify(&forged, &public).expect_err("forged");
        assert_eq!(e.id, 5);
        assert!(e.what.contains("not signed"), "{e}");
    }

    #[test]
    fn entries_from_before_the_chain_are_counted_not_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = super::super::open(&dir.path().join("t.db")).expect("open");
        conn.execute(
            "INSERT INTO audit (at, actor, action) VALUES ('2026-01-01T00:00:00Z', 'x', 'sign-in')",
            [],
        )
        .expect("legacy row");
        let key = SigningKey::from_bytes(&[3; 32]);
        record(&conn, &key, "sara", "sign-in", None, None).expect("add");
        let v = verify(&list(&conn).expect("list"), &key.verifying_key()).expect("ok");
        assert_eq!((v.chained, v.unchained), (1, 1));
    }
}
