//! A field record sealed like an enrolment packet, so that it travels the
//! same way: outbox, upload, acknowledgement, removable media.
//!
//! ```text
//! pishkhan-sealed/3 header (signed, readable; packet_id = the record id)
//! age( tar[ manifest.json   a FieldRecord: {"format":"pishkhan-field/1", …}
//!           manifest.sig    Ed25519(station key, DOMAIN ‖ manifest.json)
//!      ] ) → the authority's recipients
//! ```
//!
//! The intake tells the two kinds apart by the manifest's `format`
//! ([`crate::packet::open_contents`]); the signature's domain differs from
//! an enrolment manifest's, so neither can be passed off as the other.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::handover::HandoverRecord;
use super::{Outcome, VisitRecord};
use crate::packet::{self, Header, PacketError, SealedFile};

/// The manifest format of a field record.
pub const FORMAT: &str = "pishkhan-field/1";
const DOMAIN: &[u8] = b"pishkhan-field/1 record\n";

/// What happened in the field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum FieldEvent {
    /// A visit of the team's list ended.
    Visit(VisitRecord),
    /// A card was handed over ([`super::handover`]).
    Handover(HandoverRecord),
}

/// The signed manifest of a field record. (Unknown fields are not refused
/// here: serde cannot with the flattened event; the visit record itself
/// refuses them.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldRecord {
    pub format: String,
    /// UUIDv7; the sealed file's packet id.
    pub record_id: String,
    pub station_id: String,
    pub team: String,
    pub operator: String,
    /// RFC 3339.
    pub recorded_at: String,
    pub software: String,
    pub test: bool,
    #[serde(flatten)]
    pub event: FieldEvent,
}

impl FieldRecord {
    /// The visit this record is about (`None` for a handover at an
    /// office).
    pub fn visit_id(&self) -> Option<&str> {
        match &self.event {
            FieldEvent::Visit(v) => Some(&v.visit_id),
            FieldEvent::Handover(h) => h.visit_id.as_deref(),
        }
    }

    /// How the visit ended.
    pub fn outcome(&self) -> Outcome {
        match &self.event {
            FieldEvent::Visit(v) => v.outcome,
            FieldEvent::Handover(_) => Outcome::HandedOver,
        }
    }

    /// Checks what serde cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format {:?}, not {FORMAT}", self.format));
        }
        uuid::Uuid::parse_str(&self.record_id)
            .map_err(|e| format!("record id {:?}: {e}", self.record_id))?;
        // A handover at an office counter belongs to no team.
        let at_counter = matches!(&self.event, FieldEvent::Handover(h) if h.visit_id.is_none());
        if !(at_counter && self.team.is_empty()) {
            super::check_id("the team", &self.team)?;
        }
        chrono::DateTime::parse_from_rfc3339(&self.recorded_at)
            .map_err(|e| format!("recorded_at {:?}: {e}", self.recorded_at))?;
        match &self.event {
            FieldEvent::Visit(visit) => visit.check(),
            FieldEvent::Handover(handover) => handover.check(),
        }
    }
}

/// What sealing needs of the station.
pub struct FieldSealer<'a> {
    pub key: &'a SigningKey,
    pub recipients: &'a [age::x25519::Recipient],
    pub demo: bool,
}

/// Signs, archives and encrypts `record`.
pub fn seal(record: &FieldRecord, sealer: &FieldSealer<'_>) -> Result<SealedFile, PacketError> {
    record
        .check()
        .map_err(|e| PacketError::Layout(format!("the field record: {e}")))?;
    let json = serde_json::to_vec_pretty(record)?;
    let sig = sealer.key.sign(&[DOMAIN, &json].concat()).to_bytes();
    let plain = crate::archive::write([
        ("manifest.json", json.as_slice()),
        ("manifest.sig", sig.as_slice()),
    ])?;
    let ciphertext = packet::encrypt(sealer.recipients, &plain)?;
    let header = Header {
        format: String::new(),
        packet_id: record.record_id.clone(),
        station_id: record.station_id.clone(),
        station_key: String::new(),
        sealed_at: record.recorded_at.clone(),
        test: record.test,
        demo: sealer.demo,
        recipients: sealer.recipients.iter().map(ToString::to_string).collect(),
        size: 0,
        sha256: String::new(),
    };
    SealedFile::new(header, ciphertext, sealer.key)
}

/// Reads a decrypted record's manifest and checks its signature and its
/// fields. `header` is the sealed file's: the ids must agree.
pub fn verify(
    json: &[u8],
    sig: &[u8],
    header: &Header,
    station: &VerifyingKey,
) -> Result<FieldRecord, PacketError> {
    let signature =
        Signature::from_slice(sig).map_err(|_| PacketError::BadSignature("manifest.json"))?;
    station
        .verify(&[DOMAIN, json].concat(), &signature)
        .map_err(|_| PacketError::BadSignature("manifest.json"))?;
    let record: FieldRecord = serde_json::from_slice(json)?;
    record
        .check()
        .map_err(|e| PacketError::Layout(format!("the field record: {e}")))?;
    if record.record_id != header.packet_id || record.station_id != header.station_id {
        return Err(PacketError::Layout(format!(
            "the header names packet {} of station {} but the record {} of {}",
            header.packet_id, header.station_id, record.record_id, record.station_id
        )));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{Outcome, VisitRecord};

    fn record(station_id: &str) -> FieldRecord {
        FieldRecord {
            format: FORMAT.into(),
            record_id: uuid::Uuid::now_v7().to_string(),
            station_id: station_id.into(),
            team: "TEH-M1".into(),
            operator: "sara".into(),
            recorded_at: "2026-11-22T09:30:00Z".into(),
            software: packet::software(),
            test: false,
            event: FieldEvent::Visit(VisitRecord {
                visit_id: "V1".into(),
                outcome: Outcome::NotHome,
                note: Some("رفتیم، نبودند".into()),
                location: None,
                packet_id: None,
                tracking_code: None,
                rescheduled_to: None,
            }),
        }
    }

    #[test]
    fn a_sealed_record_opens_for_the_authority_and_checks_out() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let authority = age::x25519::Identity::generate();
        let sealer = FieldSealer {
            key: &key,
            recipients: &[authority.to_public()],
            demo: false,
        };
        let r = record("station-1");
        let file = seal(&r, &sealer).expect("seals");
        file.verify(Some(&key.verifying_key())).expect("header");
        let parsed = SealedFile::parse(&file.to_bytes()).expect("parses");
        match packet::open_contents(&parsed, &authority).expect("opens") {
            packet::Contents::Field { json, sig } => {
                let opened =
                    verify(&json, &sig, &parsed.header, &key.verifying_key()).expect("verifies");
                assert_eq!(opened, r);
                // Another station's key does not verify it.
                let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
                assert!(matches!(
                    verify(&json, &sig, &parsed.header, &other),
                    Err(PacketError::BadSignature(_))
                ));
                // Nor does the enrolment manifest's domain: a record signed
                // as a manifest is refused.
                let as_manifest =
                    key.sign(&[b"pishkhan-packet/3 manifest\n".as_slice(), &json].concat());
                assert!(
                    verify(
                        &json,
                        &as_manifest.to_bytes(),
                        &parsed.header,
                        &key.verifying_key()
                    )
                    .is_err()
                );
            }
            packet::Contents::Enrolment(_) => panic!("a field record opened as an enrolment"),
        }
        // An enrolment reader refuses it by name.
        let e = packet::open(&parsed, &authority).expect_err("not an enrolment");
        assert!(e.to_string().contains(FORMAT), "{e}");
    }

    #[test]
    fn a_bad_record_is_not_sealed() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let authority = age::x25519::Identity::generate();
        let mut r = record("station-1");
        r.team = "no spaces".into();
        let sealer = FieldSealer {
            key: &key,
            recipients: &[authority.to_public()],
            demo: false,
        };
        assert!(seal(&r, &sealer).is_err());
    }
}
