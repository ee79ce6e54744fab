//! The enrolment packet: what leaves the station.
//!
//! A packet (format `pishkhan-packet/3`) is a tar archive, encrypted with
//! age to the authority and wrapped in a signed outer header
//! ([`sealed`], `pishkhan-sealed/3`):
//!
//! ```text
//! pishkhan-sealed/3 header (signed, readable: ids, size, SHA-256 of the ciphertext)
//! age( tar[ manifest.json           ids, times, software, capture metadata,
//!                                   SHA-256 of every other part
//!           manifest.sig            Ed25519(station key, MANIFEST_DOMAIN ‖ manifest.json)
//!           transaction.an2         ANSI/NIST-ITL 1-2011 (Update 2015) traditional encoding:
//!                                   Type-1, Type-2 applicant, Type-10 portrait,
//!                                   Type-14 slaps, fingers and missing fingers
//!           evidence/NN-<finger>.jpg the exception photo of a missing finger
//!           evidence/document.jpg   the optional photo of the identity document
//!      ] ) → recipients: the authority's X25519 keys
//! ```
//!
//! `docs/packet.md` specifies every field. Packets of the previous format,
//! `pishkhan-packet/2`, still open through [`legacy`].

pub mod legacy;
pub mod sealed;
pub mod transaction;
pub mod type2;

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::enrolment::tenprint::slap_position;
use crate::enrolment::{Session, TrackingCode};
pub use sealed::{Header, SealedFile};

/// Media type of WSQ images (as registered by the FBI's EBTS).
pub const WSQ_MEDIA_TYPE: &str = "image/x-wsq";
/// Media type of ANSI/NIST-ITL traditional encoding files.
pub const AN2K_MEDIA_TYPE: &str = "application/x-ansi-nist-itl";

pub const FORMAT: &str = "pishkhan-packet/3";
const MANIFEST_DOMAIN: &[u8] = b"pishkhan-packet/3 manifest\n";
/// The ANSI/NIST transaction's name inside the archive.
pub const TRANSACTION_PATH: &str = "transaction.an2";

/// The software that sealed a packet.
pub fn software() -> String {
    format!("pishkhan {}", env!("CARGO_PKG_VERSION"))
}

/// The signed description of a packet. Applicant data is not here: it
/// lives in the transaction's Type-2 record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub packet_id: String,
    pub tracking_code: TrackingCode,
    pub station_id: String,
    pub station_number: u16,
    pub office: String,
    pub operator: String,
    /// Everyone who approved something in this enrolment (exceptions,
    /// captures accepted below the quality threshold), sorted.
    pub supervisors: Vec<String>,
    /// The online pre-registration the applicant was checked in from, with
    /// every difference from what was typed and how it was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preregistration: Option<crate::prereg::CheckIn>,
    pub software: String,
    pub started_at: String,
    pub sealed_at: String,
    pub test: bool,
    /// Every part of the archive but the manifest and its signature.
    pub parts: Vec<Part>,
    pub transaction: TransactionEntry,
    pub portrait: PortraitEntry,
    pub fingers: Vec<FingerEntry>,
    pub exceptions: Vec<ExceptionEntry>,
    pub slaps: Vec<SlapEntry>,
    pub devices: DeviceEntry,
    /// The evidence photo of the identity document, when one was taken:
    /// its path in the archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_photo: Option<String>,
    /// The station's audit entries about this enrolment (approvals,
    /// resumption, sealing), each with its chain hash and station
    /// signature, so the authority can check who approved what without
    /// the station's whole log. Absent in packets sealed before 0.9.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audit: Vec<crate::store::audit::Event>,
    /// The fees charged and the payment reference, when the station has a
    /// fee schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<crate::enrolment::fees::Payment>,
    /// The accommodations the operator chose (seated or lying portrait, a
    /// carer present, fingers that cannot be placed, signature not
    /// possible). Absent when none was chosen, and in packets sealed
    /// before accommodations existed.
    #[serde(
        default,
        skip_serializing_if = "crate::enrolment::Accommodations::is_empty"
    )]
    pub accommodations: crate::enrolment::Accommodations,
}

/// A file in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub path: String,
    pub media_type: String,
    pub sha256: String,
    pub size: u64,
}

/// The ANSI/NIST transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionEntry {
    pub path: String,
    /// 1.002 VER.
    pub version: String,
    /// 1.009 TCN (the packet id).
    pub tcn: String,
    /// Records after the Type-1.
    pub records: usize,
}

/// The portrait (Type-10 record `idc`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortraitEntry {
    pub idc: u8,
    pub width: u32,
    pub height: u32,
    /// SHA-256 of the JPEG (10.999).
    pub sha256: String,
    /// How it was taken: auto, manual or override (with the reason,
    /// posture, assistance and approving supervisor), every live check's
    /// value and verdict, and the eye centres. Absent in packets sealed
    /// before live checks existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<crate::enrolment::portrait::FaceCapture>,
}

/// The algorithm behind [`FingerEntry::quality`], so the receiver knows
/// what the number means.
pub const QUALITY_ALGORITHM: &str = "pishkhan-quality/1 (NFIQ 2 family, calibrated to NFIQ 2)";

/// One finger image (Type-14 record `idc`) and how it was obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FingerEntry {
    /// ANSI/NIST-ITL finger position, 1–10.
    pub position: u8,
    pub idc: u8,
    /// How it was captured: 13/14/15 from a slap, else its own position.
    pub impression: u8,
    pub resolution_ppi: u16,
    pub width: u32,
    pub height: u32,
    pub device_quality: Option<u8>,
    /// The station's own quality score, 0–100 ([`QUALITY_ALGORITHM`]).
    pub quality: u8,
    /// The quality measures that fell short.
    pub failing_measures: Vec<String>,
    /// Attempts at the impression (the best image was kept).
    pub attempts: u8,
    /// Accepted below the threshold with this supervisor's approval.
    pub forced_by: Option<String>,
    /// SHA-256 of the WSQ image (14.999).
    pub sha256: String,
}

/// A finger without an image (ANSI/NIST AMP: XX missing, UP unprintable),
/// in its own Type-14 record `idc` without image fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionEntry {
    pub position: u8,
    pub idc: u8,
    pub code: String,
    pub reason: String,
    pub permanent: bool,
    pub approved_by: String,
    pub declared_at: String,
    /// The exception photo (an evidence part of the archive).
    pub photo: String,
}

/// One finger's box in a slap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentEntry {
    pub position: u8,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// A whole slap (Type-14 record `idc`) with the station's segmentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlapEntry {
    /// 13 right four, 14 left four, 15 both thumbs.
    pub position: u8,
    pub idc: u8,
    pub resolution_ppi: u16,
    pub width: u32,
    pub height: u32,
    pub segments: Vec<SegmentEntry>,
    /// SHA-256 of the WSQ image (14.999).
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceEntry {
    pub camera: String,
    pub scanner: String,
}

/// Who seals: the station's identity and keys.
pub struct Sealer<'a> {
    pub station_id: &'a str,
    pub station_number: u16,
    pub office: &'a str,
    /// The authority's agency id (ANSI/NIST 1.007 DAI).
    pub agency: &'a str,
    pub key: &'a SigningKey,
    pub recipients: &'a [age::x25519::Recipient],
    /// Sealed to the locally generated demo authority key.
    pub demo: bool,
    /// WSQ bitrate of the finger images.
    pub wsq_bitrate: f32,
    /// The audit log's entries about this enrolment, written just before.
    pub audit: &'a [crate::store::audit::Event],
}

/// A sealed packet.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub manifest: Manifest,
    pub file: SealedFile,
}

#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    #[error("the session is not complete: {0}")]
    Incomplete(&'static str),
    #[error("could not encode an image: {0}")]
    Image(#[from] image::ImageError),
    #[error("could not compress finger {position} as WSQ: {source}")]
    Wsq {
        position: u8,
        source: pishkhan_fingerprint::wsq::WsqError,
    },
    #[error("could not write the ANSI/NIST transaction: {0}")]
    An2kWrite(#[from] pishkhan_an2k::EncodeError),
    #[error("the ANSI/NIST transaction does not read back: {0}")]
    An2kRead(#[from] pishkhan_an2k::ReadError),
    #[error("the ANSI/NIST transaction breaks a rule: {0}")]
    An2kCheck(#[from] pishkhan_an2k::Problem),
    #[error("could not write or read the packet archive: {0}")]
    Archive(#[from] std::io::Error),
    #[error("could not encode or read the manifest: {0}")]
    Json(#[from] serde_json::Error),
    #[error("encryption failed: {0}")]
    Encrypt(#[from] age::EncryptError),
    #[error("decryption failed: {0}")]
    Decrypt(#[from] age::DecryptError),
    #[error("this is not a sealed packet: {0}")]
    Layout(String),
    #[error("the packet has no {0}")]
    Missing(String),
    #[error("the signature of {0} does not verify")]
    BadSignature(&'static str),
    #[error("the packet was signed by another station's key")]
    WrongStation,
    #[error("{0} does not match its hash")]
    HashMismatch(String),
    #[error("the packet has no recipient to encrypt to")]
    NoRecipient,
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn part(path: &str, media_type: &str, bytes: &[u8]) -> Part {
    Part {
        path: path.to_owned(),
        media_type: media_type.to_owned(),
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
    }
}

/// Everything the transaction and the manifest are made from, with the
/// images already compressed.
pub(crate) struct Prepared<'s> {
    pub session: &'s Session,
    pub tracking_code: TrackingCode,
    pub sealed_at: chrono::DateTime<chrono::Utc>,
    pub fingers: Vec<(u8, Vec<u8>)>,
    pub slaps: Vec<(u8, Vec<u8>)>,
}

fn prepare<'s>(
    session: &'s Session,
    tracking_code: TrackingCode,
    wsq_bitrate: f32,
) -> Result<Prepared<'s>, PacketError> {
    if session.applicant.is_none() {
        return Err(PacketError::Incomplete("applicant"));
    }
    if session.portrait.is_none() {
        return Err(PacketError::Incomplete("portrait"));
    }
    if !session.missing_fingers().is_empty() {
        return Err(PacketError::Incomplete("fingerprints"));
    }
    // (position, width, height, pixels, ppi) → (position, WSQ bytes)
    let wsq = |(position, width, height, pixels, ppi): (u8, u32, u32, &[u8], u16)| {
        let gray = pishkhan_fingerprint::GrayRef::new(width as usize, height as usize, pixels)
            .map_err(|e| PacketError::Missing(format!("pixels for position {position}: {e}")))?;
        let options = pishkhan_fingerprint::wsq::EncodeOptions {
            bitrate: wsq_bitrate,
            ppi: Some(ppi),
            comment: None,
        };
        pishkhan_fingerprint::wsq::encode(gray, &options)
            .map(|bytes| (position, bytes))
            .map_err(|source| PacketError::Wsq { position, source })
    };
    let fingers = session
        .fingers
        .iter()
        .map(|(finger, c)| {
            let i = &c.image;
            (
                finger.position(),
                i.width,
                i.height,
                i.pixels.as_slice(),
                i.resolution_ppi,
            )
        })
        .map(wsq)
        .collect::<Result<_, _>>()?;
    let slaps = session
        .slaps
        .iter()
        .map(|s| {
            let i = &s.image;
            (
                s.position(),
                i.width,
                i.height,
                i.pixels.as_slice(),
                i.resolution_ppi,
            )
        })
        .map(wsq)
        .collect::<Result<_, _>>()?;
    Ok(Prepared {
        session,
        tracking_code,
        sealed_at: chrono::Utc::now(),
        fingers,
        slaps,
    })
}

/// Where the document photo goes in the archive.
pub const DOCUMENT_PHOTO_PATH: &str = "evidence/document.jpg";

fn evidence_path(position: u8, key: &str) -> String {
    format!("evidence/{position:02}-{key}.jpg")
}

/// Builds, signs and encrypts the packet for a complete session.
pub fn seal(
    session: &Session,
    tracking_code: TrackingCode,
    sealer: &Sealer<'_>,
) -> Result<Sealed, PacketError> {
    let prepared = prepare(session, tracking_code, sealer.wsq_bitrate)?;
    let built = transaction::build(&prepared, sealer)?;
    let transaction_bytes = pishkhan_an2k::encode(&built.transaction)?;
    // What we send must read back and pass our own checks.
    let read_back = pishkhan_an2k::decode(&transaction_bytes)?;
    pishkhan_an2k::check(&read_back)?;
    type2::check(&read_back)?;

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut parts = vec![part(TRANSACTION_PATH, AN2K_MEDIA_TYPE, &transaction_bytes)];
    files.push((TRANSACTION_PATH.into(), transaction_bytes));
    let mut exceptions = Vec::new();
    for (finger, exception) in &session.exceptions {
        let path = evidence_path(finger.position(), finger.key());
        parts.push(part(&path, "image/jpeg", &exception.photo.jpeg));
        files.push((path.clone(), exception.photo.jpeg.clone()));
        exceptions.push(ExceptionEntry {
            position: finger.position(),
            idc: built.idc(finger.position()),
            code: exception.kind.code().into(),
            reason: exception.reason.clone(),
            permanent: exception.permanent,
            approved_by: exception.approved_by.clone(),
            declared_at: exception.declared_at.to_rfc3339(),
            photo: path,
        });
    }
    let document_photo = session.document_photo.as_ref().map(|photo| {
        parts.push(part(DOCUMENT_PHOTO_PATH, "image/jpeg", &photo.jpeg));
        files.push((DOCUMENT_PHOTO_PATH.into(), photo.jpeg.clone()));
        DOCUMENT_PHOTO_PATH.to_owned()
    });

    let portrait = session
        .portrait
        .as_ref()
        .ok_or(PacketError::Incomplete("portrait"))?;
    let fingers = session
        .fingers
        .iter()
        .zip(&prepared.fingers)
        .map(|((finger, captured), (position, wsq))| FingerEntry {
            position: *position,
            idc: built.idc(finger.position()),
            impression: slap_position(captured.impression),
            resolution_ppi: captured.image.resolution_ppi,
            width: captured.image.width,
            height: captured.image.height,
            device_quality: captured.image.device_quality,
            quality: captured.score(),
            failing_measures: captured
                .failing()
                .iter()
                .map(|m| m.id().to_owned())
                .collect(),
            attempts: captured.attempts,
            forced_by: captured.forced_by.clone(),
            sha256: sha256_hex(wsq),
        })
        .collect();
    let slaps = session
        .slaps
        .iter()
        .zip(&prepared.slaps)
        .map(|(slap, (position, wsq))| SlapEntry {
            position: *position,
            idc: built.idc(*position),
            resolution_ppi: slap.image.resolution_ppi,
            width: slap.image.width,
            height: slap.image.height,
            segments: slap
                .boxes
                .iter()
                .map(|(f, [x, y, w, h])| SegmentEntry {
                    position: f.position(),
                    x: *x,
                    y: *y,
                    width: *w,
                    height: *h,
                })
                .collect(),
            sha256: sha256_hex(wsq),
        })
        .collect();
    let supervisors = session.supervisors();

    let manifest = Manifest {
        format: FORMAT.into(),
        packet_id: session.id.to_string(),
        tracking_code: prepared.tracking_code.clone(),
        station_id: sealer.station_id.into(),
        station_number: sealer.station_number,
        office: sealer.office.into(),
        operator: session.operator.clone(),
        supervisors,
        preregistration: session.check_in.clone(),
        software: software(),
        started_at: session.started_at.to_rfc3339(),
        sealed_at: prepared.sealed_at.to_rfc3339(),
        test: session.test,
        parts,
        transaction: TransactionEntry {
            path: TRANSACTION_PATH.into(),
            version: transaction::VERSION.into(),
            tcn: session.id.to_string(),
            records: built.transaction.records.len() - 1,
        },
        portrait: PortraitEntry {
            idc: transaction::PORTRAIT_IDC,
            width: portrait.width,
            height: portrait.height,
            sha256: sha256_hex(&portrait.jpeg),
            capture: portrait.face.clone(),
        },
        fingers,
        exceptions,
        slaps,
        devices: DeviceEntry {
            camera: portrait.source.clone(),
            scanner: session.scanner.clone().unwrap_or_default(),
        },
        document_photo,
        audit: sealer.audit.to_vec(),
        payment: session.payment.clone(),
        accommodations: session.accommodations.clone(),
    };
    let manifest_json = serde_json::to_vec_pretty(&manifest)?;
    let manifest_sig = sealer
        .key
        .sign(&[MANIFEST_DOMAIN, &manifest_json].concat())
        .to_bytes();

    let plain = archive(&manifest_json, &manifest_sig, &files)?;
    let ciphertext = encrypt(sealer.recipients, &plain)?;
    let header = Header {
        format: String::new(),
        packet_id: manifest.packet_id.clone(),
        station_id: sealer.station_id.into(),
        station_key: String::new(),
        sealed_at: manifest.sealed_at.clone(),
        test: session.test,
        demo: sealer.demo,
        recipients: sealer.recipients.iter().map(ToString::to_string).collect(),
        size: 0,
        sha256: String::new(),
    };
    let file = SealedFile::new(header, ciphertext, sealer.key)?;
    Ok(Sealed { manifest, file })
}

/// A tar of the manifest, its signature and the parts, in that order.
fn archive(
    manifest_json: &[u8],
    manifest_sig: &[u8],
    files: &[(String, Vec<u8>)],
) -> Result<Vec<u8>, PacketError> {
    let entries = [
        ("manifest.json", manifest_json),
        ("manifest.sig", manifest_sig),
    ]
    .into_iter()
    .chain(files.iter().map(|(p, b)| (p.as_str(), b.as_slice())));
    Ok(crate::archive::write(entries)?)
}

/// Encrypts to every recipient (age, X25519).
pub(crate) fn encrypt(
    recipients: &[age::x25519::Recipient],
    plain: &[u8],
) -> Result<Vec<u8>, PacketError> {
    use std::io::Write;
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|_| PacketError::NoRecipient)?;
    let mut out = Vec::with_capacity(plain.len() + 512);
    let mut writer = encryptor.wrap_output(&mut out)?;
    writer.write_all(plain)?;
    writer.finish()?;
    Ok(out)
}

/// A decrypted archive: the manifest, its signature, the other files.
pub(crate) struct Decrypted {
    pub manifest_json: Vec<u8>,
    pub manifest_sig: Vec<u8>,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Decrypts `ciphertext` and splits the archive.
pub(crate) fn decrypt_archive(
    ciphertext: &[u8],
    identity: &age::x25519::Identity,
) -> Result<Decrypted, PacketError> {
    let plain = age::decrypt(identity, ciphertext)?;
    let mut files = crate::archive::read(&plain)?;
    let mut take = |name: &str| {
        files
            .remove(name)
            .ok_or_else(|| PacketError::Missing(name.into()))
    };
    let manifest_json = take("manifest.json")?;
    let manifest_sig = take("manifest.sig")?;
    Ok(Decrypted {
        manifest_json,
        manifest_sig,
        files,
    })
}

/// A decrypted packet.
#[derive(Debug, Clone)]
pub struct Opened {
    pub manifest: Manifest,
    manifest_json: Vec<u8>,
    manifest_sig: Vec<u8>,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// What a sealed file holds: an enrolment, or a field record
/// ([`crate::field::record`]; its manifest and signature, unchecked).
#[derive(Debug, Clone)]
pub enum Contents {
    Enrolment(Box<Opened>),
    Field { json: Vec<u8>, sig: Vec<u8> },
}

/// Decrypts a sealed file with an authority identity and tells by the
/// manifest's `format` what it holds.
pub fn open_contents(
    sealed: &SealedFile,
    identity: &age::x25519::Identity,
) -> Result<Contents, PacketError> {
    let decrypted = decrypt_archive(&sealed.ciphertext, identity)?;
    #[derive(Deserialize)]
    struct Format {
        format: String,
    }
    let format: Format = serde_json::from_slice(&decrypted.manifest_json)?;
    if format.format == crate::field::record::FORMAT {
        if !decrypted.files.is_empty() {
            return Err(PacketError::Layout(
                "a field record holds only its manifest and signature".into(),
            ));
        }
        return Ok(Contents::Field {
            json: decrypted.manifest_json,
            sig: decrypted.manifest_sig,
        });
    }
    opened(sealed, decrypted).map(|o| Contents::Enrolment(Box::new(o)))
}

/// Decrypts a sealed enrolment packet with an authority identity.
pub fn open(sealed: &SealedFile, identity: &age::x25519::Identity) -> Result<Opened, PacketError> {
    match open_contents(sealed, identity)? {
        Contents::Enrolment(opened) => Ok(*opened),
        Contents::Field { .. } => Err(PacketError::Layout(format!(
            "{} is a field record ({}), not an enrolment",
            sealed.header.packet_id,
            crate::field::record::FORMAT
        ))),
    }
}

fn opened(sealed: &SealedFile, decrypted: Decrypted) -> Result<Opened, PacketError> {
    let Decrypted {
        manifest_json,
        manifest_sig,
        files,
    } = decrypted;
    let manifest: Manifest = serde_json::from_slice(&manifest_json)?;
    if manifest.packet_id != sealed.header.packet_id {
        return Err(PacketError::Layout(format!(
            "the header names packet {} but the manifest {}",
            sealed.header.packet_id, manifest.packet_id
        )));
    }
    Ok(Opened {
        manifest,
        manifest_json,
        manifest_sig,
        files,
    })
}

impl Opened {
    /// Checks the manifest signature, every part against its hash, that no
    /// part is unlisted, and the images in the transaction against the
    /// manifest.
    pub fn verify(&self, station: &VerifyingKey) -> Result<(), PacketError> {
        let sig = Signature::from_slice(&self.manifest_sig)
            .map_err(|_| PacketError::BadSignature("manifest.json"))?;
        station
            .verify(&[MANIFEST_DOMAIN, &self.manifest_json].concat(), &sig)
            .map_err(|_| PacketError::BadSignature("manifest.json"))?;
        for part in &self.manifest.parts {
            let bytes = self
                .files
                .get(&part.path)
                .ok_or_else(|| PacketError::Missing(part.path.clone()))?;
            if sha256_hex(bytes) != part.sha256 || bytes.len() as u64 != part.size {
                return Err(PacketError::HashMismatch(part.path.clone()));
            }
        }
        if let Some(extra) = self
            .files
            .keys()
            .find(|path| !self.manifest.parts.iter().any(|p| &p.path == *path))
        {
            return Err(PacketError::Layout(format!(
                "{extra} is in the archive but not in the manifest"
            )));
        }
        crate::store::audit::verify_excerpt(&self.manifest.audit, station)
            .map_err(|e| PacketError::Layout(format!("the audit excerpt: {e}")))?;
        transaction::verify_against(&self.transaction()?, &self.manifest)
    }

    /// The ANSI/NIST transaction, read and checked.
    pub fn transaction(&self) -> Result<pishkhan_an2k::Transaction, PacketError> {
        let bytes = self
            .files
            .get(TRANSACTION_PATH)
            .ok_or_else(|| PacketError::Missing(TRANSACTION_PATH.into()))?;
        let transaction = pishkhan_an2k::decode(bytes)?;
        pishkhan_an2k::check(&transaction)?;
        type2::check(&transaction)?;
        Ok(transaction)
    }
}
