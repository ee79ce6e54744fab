//! What the intake decides about the bytes of one upload: accepted, or
//! rejected with a reason. Checks, in order: the layout; the station is
//! registered; the header is signed by the registered key and describes
//! the ciphertext; the authority can decrypt it; the manifest signature and
//! every part; the ANSI/NIST transaction.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use super::applicants::{self, Enrolment};
use super::receipt::Reason;
use crate::packet::{self, Header, Manifest, PacketError, SealedFile};

/// One station the authority knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisteredStation {
    pub id: String,
    /// Ed25519 public key, hex.
    pub key: String,
    #[serde(default)]
    pub name: String,
    /// The office the station enrols for: it may fetch only this office's
    /// appointments. `None`: any office (a mobile team).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
}

/// The register of stations (`stations.toml`: `[[station]]` tables).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    #[serde(default, rename = "station")]
    pub stations: Vec<RegisteredStation>,
}

impl Registry {
    pub fn load(path: &Path) -> Result<Self, String> {
        if !path.exists() {
            return Ok(Self::default());
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let registry: Registry =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for station in &registry.stations {
            parse_key(&station.key).ok_or_else(|| {
                format!(
                    "{}: station {} has no valid key",
                    path.display(),
                    station.id
                )
            })?;
        }
        Ok(registry)
    }

    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = toml::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Adds or replaces a station's key (a recorded office is kept).
    pub fn register(&mut self, id: &str, key: &VerifyingKey, name: &str) {
        let office = self
            .stations
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| s.office.clone());
        self.stations.retain(|s| s.id != id);
        self.stations.push(RegisteredStation {
            id: id.to_owned(),
            key: hex::encode(key.as_bytes()),
            name: name.to_owned(),
            office,
        });
    }

    /// Sets (or with `None` clears) the office of a registered station;
    /// `false` when it is not registered.
    pub fn set_office(&mut self, id: &str, office: Option<&str>) -> bool {
        match self.stations.iter_mut().find(|s| s.id == id) {
            Some(station) => {
                station.office = office.map(str::to_owned);
                true
            }
            None => false,
        }
    }

    /// The office a station is tied to, if any.
    pub fn office_of(&self, station_id: &str) -> Option<&str> {
        self.stations
            .iter()
            .find(|s| s.id == station_id)
            .and_then(|s| s.office.as_deref())
    }

    pub fn key_of(&self, station_id: &str) -> Option<VerifyingKey> {
        self.stations
            .iter()
            .find(|s| s.id == station_id)
            .and_then(|s| parse_key(&s.key))
    }
}

fn parse_key(hex_key: &str) -> Option<VerifyingKey> {
    hex::decode(hex_key)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
}

/// An accepted packet.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub header: Header,
    /// An enrolment's manifest (`None` for a field record).
    pub manifest: Option<Manifest>,
    /// A mobile team's field record ([`crate::field::record`]).
    pub field: Option<crate::field::record::FieldRecord>,
    /// The tracking code of the pre-registration the enrolment was checked
    /// in from, when the manifest names a well-formed one.
    pub checked_in_from: Option<String>,
    /// Whom it enrols, from the Type-2 (for the applicant status).
    pub enrolment: Option<Enrolment>,
}

/// A refusal: the reason code and what exactly failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub reason: Reason,
    pub detail: String,
    /// The packet id, when the header could be read.
    pub packet_id: Option<String>,
    /// Whom it enrols, when it could be decrypted and its Type-2 read
    /// (boxed: a refusal travels as an `Err`).
    pub enrolment: Option<Box<Enrolment>>,
}

/// Judges the bytes of one sealed packet.
pub fn judge(
    bytes: &[u8],
    registry: &Registry,
    identities: &[age::x25519::Identity],
) -> Result<Accepted, Refused> {
    let file = SealedFile::parse(bytes).map_err(|e| Refused {
        reason: Reason::Malformed,
        detail: e.to_string(),
        packet_id: None,
        enrolment: None,
    })?;
    let refuse = |reason: Reason, detail: String| Refused {
        reason,
        detail,
        packet_id: Some(file.header.packet_id.clone()),
        enrolment: None,
    };
    let station = &file.header.station_id;
    let registered = registry.key_of(station).ok_or_else(|| {
        refuse(
            Reason::UnregisteredStation,
            format!("station {station} is not registered"),
        )
    })?;
    if file.header.station_key != hex::encode(registered.as_bytes()) {
        return Err(refuse(
            Reason::WrongKey,
            format!("station {station} is registered with another key"),
        ));
    }
    file.verify(Some(&registered))
        .map_err(|e| refuse(Reason::Tampered, e.to_string()))?;
    let mut last = None;
    let contents = identities
        .iter()
        .find_map(|identity| match packet::open_contents(&file, identity) {
            Ok(contents) => Some(contents),
            Err(e) => {
                last = Some(e);
                None
            }
        })
        .ok_or_else(|| {
            refuse(
                Reason::Undecryptable,
                last.map_or_else(|| "no authority identity".into(), |e| e.to_string()),
            )
        })?;
    let opened = match contents {
        packet::Contents::Enrolment(opened) => *opened,
        packet::Contents::Field { json, sig } => {
            let record = crate::field::record::verify(&json, &sig, &file.header, &registered)
                .map_err(|e| refuse(Reason::BadManifest, e.to_string()))?;
            return Ok(Accepted {
                header: file.header,
                manifest: None,
                field: Some(record),
                checked_in_from: None,
                enrolment: None,
            });
        }
    };
    let enrolment = applicants::read_enrolment(&opened);
    opened.verify(&registered).map_err(|e| {
        let reason = match e {
            PacketError::An2kRead(_) | PacketError::An2kCheck(_) => Reason::InvalidTransaction,
            _ => Reason::BadManifest,
        };
        Refused {
            enrolment: enrolment.clone().map(Box::new),
            ..refuse(reason, e.to_string())
        }
    })?;
    let checked_in_from = opened
        .manifest
        .preregistration
        .as_ref()
        .map(|c| c.appointment.tracking_code.clone())
        .filter(|code| crate::prereg::is_tracking_code(code));
    Ok(Accepted {
        header: file.header,
        manifest: Some(opened.manifest),
        field: None,
        checked_in_from,
        enrolment,
    })
}
