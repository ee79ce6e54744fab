//! The enrolment packet: what leaves the station.
//!
//! Layout (format `pishkhan-packet/2`, until the ANSI/NIST-ITL work lands):
//!
//! ```text
//! age( tar[ manifest.json              applicant, checks, quality, exceptions,
//!                                      file list with SHA-256
//!           manifest.sig               Ed25519(station key, DOMAIN ‖ manifest.json)
//!           portrait.jpg
//!           fingers/NN-<finger>.wsq    WSQ (FBI), NN = ANSI/NIST finger position
//!           slaps/NN.wsq               the whole slap, NN = 13, 14, 15 (if sent)
//!           exceptions/NN-<finger>.jpg the exception photo of a missing finger
//!      ] ) → recipient: the authority's X25519 key
//! ```
//!
//! The station also signs the ciphertext's SHA-256 (kept beside it in the
//! outbox), so the intake can check who sent a packet before decrypting it.

use std::collections::BTreeMap;
use std::io::Read;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::enrolment::tenprint::slap_position;
use crate::enrolment::{Applicant, DocumentCheck, Session, TrackingCode};

/// Media type of WSQ images (as registered by the FBI's EBTS).
pub const WSQ_MEDIA_TYPE: &str = "image/x-wsq";

pub const FORMAT: &str = "pishkhan-packet/2";
const MANIFEST_DOMAIN: &[u8] = b"pishkhan-packet/2 manifest\n";
const SEALED_DOMAIN: &[u8] = b"pishkhan-packet/2 sealed\n";

/// The signed description of a packet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub packet_id: String,
    pub tracking_code: TrackingCode,
    pub station_id: String,
    pub station_number: u16,
    pub office: String,
    pub operator: String,
    pub started_at: String,
    pub sealed_at: String,
    pub test: bool,
    pub applicant: Applicant,
    pub documents_checked: Vec<DocumentCheck>,
    pub portrait: ImageEntry,
    pub fingers: Vec<FingerEntry>,
    pub exceptions: Vec<ExceptionEntry>,
    pub slaps: Vec<SlapEntry>,
    pub devices: DeviceEntry,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageEntry {
    pub path: String,
    pub media_type: String,
    pub sha256: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
}

/// The algorithm behind [`FingerEntry::quality`], so the receiver knows
/// what the number means.
pub const QUALITY_ALGORITHM: &str = "pishkhan-quality/1 (NFIQ 2 family, calibrated to NFIQ 2)";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FingerEntry {
    /// ANSI/NIST-ITL finger position, 1–10.
    pub position: u8,
    /// How it was captured: 13/14/15 from a slap, else its own position.
    pub impression: u8,
    pub resolution_ppi: u16,
    pub device_quality: Option<u8>,
    /// The station's own quality score, 0–100 ([`QUALITY_ALGORITHM`]).
    pub quality: u8,
    /// The quality measures that fell short.
    pub failing_measures: Vec<String>,
    /// Attempts at the impression (the best image was kept).
    pub attempts: u8,
    /// Accepted below the threshold with this supervisor's approval.
    pub forced_by: Option<String>,
    pub image: ImageEntry,
}

/// A finger without an image (ANSI/NIST AMP: XX missing, UP unprintable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionEntry {
    pub position: u8,
    pub code: String,
    pub reason: String,
    pub permanent: bool,
    pub approved_by: String,
    pub declared_at: String,
    pub photo: ImageEntry,
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

/// A whole slap with the station's segmentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlapEntry {
    /// 13 right four, 14 left four, 15 both thumbs.
    pub position: u8,
    pub resolution_ppi: u16,
    pub segments: Vec<SegmentEntry>,
    pub image: ImageEntry,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceEntry {
    pub camera: String,
    pub scanner: String,
}

/// Who seals: the station's identity and key.
pub struct Sealer<'a> {
    pub station_id: &'a str,
    pub station_number: u16,
    pub office: &'a str,
    pub key: &'a SigningKey,
    pub recipient: &'a age::x25519::Recipient,
    /// WSQ bitrate of the finger images.
    pub wsq_bitrate: f32,
}

/// A sealed packet: ciphertext plus the station's signature over it.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub manifest: Manifest,
    pub ciphertext: Vec<u8>,
    pub sha256: String,
    pub signature: String,
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
    #[error("could not write or read the packet archive: {0}")]
    Archive(#[from] std::io::Error),
    #[error("could not encode the manifest: {0}")]
    Json(#[from] serde_json::Error),
    #[error("encryption failed: {0}")]
    Encrypt(#[from] age::EncryptError),
    #[error("decryption failed: {0}")]
    Decrypt(#[from] age::DecryptError),
    #[error("the packet has no {0}")]
    Missing(String),
    #[error("the signature of {0} does not verify")]
    BadSignature(&'static str),
    #[error("{0} does not match its hash in the manifest")]
    HashMismatch(String),
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn entry(path: String, media_type: &str, bytes: &[u8], width: u32, height: u32) -> ImageEntry {
    ImageEntry {
        path,
        media_type: media_type.into(),
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
        width,
        height,
    }
}

/// Builds, signs and encrypts the packet for a complete session.
pub fn seal(
    session: &Session,
    tracking_code: TrackingCode,
    sealer: &Sealer<'_>,
) -> Result<Sealed, PacketError> {
    let applicant = session
        .applicant
        .clone()
        .ok_or(PacketError::Incomplete("applicant"))?;
    let portrait = session
        .portrait
        .as_ref()
        .ok_or(PacketError::Incomplete("portrait"))?;
    if !session.missing_fingers().is_empty() {
        return Err(PacketError::Incomplete("fingerprints"));
    }

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let portrait_entry = entry(
        "portrait.jpg".into(),
        "image/jpeg",
        &portrait.jpeg,
        portrait.width,
        portrait.height,
    );
    files.push((portrait_entry.path.clone(), portrait.jpeg.clone()));

    let wsq = |position: u8, width: u32, height: u32, pixels: &[u8], ppi: u16| {
        let gray = pishkhan_fingerprint::GrayRef::new(width as usize, height as usize, pixels)
            .map_err(|e| PacketError::Missing(format!("pixels for position {position}: {e}")))?;
        let options = pishkhan_fingerprint::wsq::EncodeOptions {
            bitrate: sealer.wsq_bitrate,
            ppi: Some(ppi),
            comment: None,
        };
        pishkhan_fingerprint::wsq::encode(gray, &options)
            .map_err(|source| PacketError::Wsq { position, source })
    };

    let mut fingers = Vec::new();
    for (finger, captured) in &session.fingers {
        let image = &captured.image;
        let bytes = wsq(
            finger.position(),
            image.width,
            image.height,
            &image.pixels,
            image.resolution_ppi,
        )?;
        let path = format!("fingers/{:02}-{}.wsq", finger.position(), finger.key());
        fingers.push(FingerEntry {
            position: finger.position(),
            impression: slap_position(captured.impression),
            resolution_ppi: image.resolution_ppi,
            device_quality: image.device_quality,
            quality: captured.score(),
            failing_measures: captured
                .failing()
                .iter()
                .map(|m| m.id().to_owned())
                .collect(),
            attempts: captured.attempts,
            forced_by: captured.forced_by.clone(),
            image: entry(
                path.clone(),
                WSQ_MEDIA_TYPE,
                &bytes,
                image.width,
                image.height,
            ),
        });
        files.push((path, bytes));
    }

    let mut exceptions = Vec::new();
    for (finger, exception) in &session.exceptions {
        let photo = &exception.photo;
        let path = format!("exceptions/{:02}-{}.jpg", finger.position(), finger.key());
        exceptions.push(ExceptionEntry {
            position: finger.position(),
            code: exception.kind.code().into(),
            reason: exception.reason.clone(),
            permanent: exception.permanent,
            approved_by: exception.approved_by.clone(),
            declared_at: exception.declared_at.to_rfc3339(),
            photo: entry(
                path.clone(),
                "image/jpeg",
                &photo.jpeg,
                photo.width,
                photo.height,
            ),
        });
        files.push((path, photo.jpeg.clone()));
    }

    let mut slaps = Vec::new();
    for slap in &session.slaps {
        let image = &slap.image;
        let position = slap.position();
        let bytes = wsq(
            position,
            image.width,
            image.height,
            &image.pixels,
            image.resolution_ppi,
        )?;
        let path = format!("slaps/{position}.wsq");
        slaps.push(SlapEntry {
            position,
            resolution_ppi: image.resolution_ppi,
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
            image: entry(
                path.clone(),
                WSQ_MEDIA_TYPE,
                &bytes,
                image.width,
                image.height,
            ),
        });
        files.push((path, bytes));
    }

    let manifest = Manifest {
        format: FORMAT.into(),
        packet_id: session.id.to_string(),
        tracking_code,
        station_id: sealer.station_id.into(),
        station_number: sealer.station_number,
        office: sealer.office.into(),
        operator: session.operator.clone(),
        started_at: session.started_at.to_rfc3339(),
        sealed_at: chrono::Utc::now().to_rfc3339(),
        test: session.test,
        applicant,
        documents_checked: session.documents.confirmed.iter().copied().collect(),
        portrait: portrait_entry,
        fingers,
        exceptions,
        slaps,
        devices: DeviceEntry {
            camera: portrait.source.clone(),
            scanner: session.scanner.clone().unwrap_or_default(),
        },
    };
    let manifest_json = serde_json::to_vec_pretty(&manifest)?;
    let manifest_sig = sealer
        .key
        .sign(&[MANIFEST_DOMAIN, &manifest_json].concat())
        .to_bytes();

    let mut archive = tar::Builder::new(Vec::new());
    let mut append = |path: &str, bytes: &[u8]| -> std::io::Result<()> {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(0);
        header.set_cksum();
        archive.append_data(&mut header, path, bytes)
    };
    append("manifest.json", &manifest_json)?;
    append("manifest.sig", &manifest_sig)?;
    for (path, bytes) in &files {
        append(path, bytes)?;
    }
    let plain = archive.into_inner()?;

    let ciphertext = age::encrypt(sealer.recipient, &plain)?;
    let sha256 = sha256_hex(&ciphertext);
    let signature = hex::encode(
        sealer
            .key
            .sign(&[SEALED_DOMAIN, sha256.as_bytes()].concat())
            .to_bytes(),
    );
    Ok(Sealed {
        manifest,
        ciphertext,
        sha256,
        signature,
    })
}

/// Checks the station's signature over a sealed packet's ciphertext.
pub fn verify_sealed(
    ciphertext: &[u8],
    signature_hex: &str,
    station: &VerifyingKey,
) -> Result<(), PacketError> {
    let sig = hex::decode(signature_hex)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or(PacketError::BadSignature("the sealed packet"))?;
    station
        .verify(
            &[SEALED_DOMAIN, sha256_hex(ciphertext).as_bytes()].concat(),
            &sig,
        )
        .map_err(|_| PacketError::BadSignature("the sealed packet"))
}

/// A decrypted packet.
#[derive(Debug, Clone)]
pub struct Opened {
    pub manifest: Manifest,
    manifest_json: Vec<u8>,
    manifest_sig: Vec<u8>,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Decrypts a packet with the authority's identity.
pub fn open(ciphertext: &[u8], identity: &age::x25519::Identity) -> Result<Opened, PacketError> {
    let plain = age::decrypt(identity, ciphertext)?;
    let mut archive = tar::Archive::new(plain.as_slice());
    let mut files = BTreeMap::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        files.insert(path, bytes);
    }
    let manifest_json = files
        .remove("manifest.json")
        .ok_or_else(|| PacketError::Missing("manifest.json".into()))?;
    let manifest_sig = files
        .remove("manifest.sig")
        .ok_or_else(|| PacketError::Missing("manifest.sig".into()))?;
    let manifest = serde_json::from_slice(&manifest_json)?;
    Ok(Opened {
        manifest,
        manifest_json,
        manifest_sig,
        files,
    })
}

impl Opened {
    /// Checks the manifest signature and every file against its hash.
    pub fn verify(&self, station: &VerifyingKey) -> Result<(), PacketError> {
        let sig = Signature::from_slice(&self.manifest_sig)
            .map_err(|_| PacketError::BadSignature("manifest.json"))?;
        station
            .verify(&[MANIFEST_DOMAIN, &self.manifest_json].concat(), &sig)
            .map_err(|_| PacketError::BadSignature("manifest.json"))?;
        let images = std::iter::once(&self.manifest.portrait)
            .chain(self.manifest.fingers.iter().map(|f| &f.image))
            .chain(self.manifest.exceptions.iter().map(|e| &e.photo))
            .chain(self.manifest.slaps.iter().map(|s| &s.image));
        for image in images {
            let bytes = self
                .files
                .get(&image.path)
                .ok_or_else(|| PacketError::Missing(image.path.clone()))?;
            if sha256_hex(bytes) != image.sha256 {
                return Err(PacketError::HashMismatch(image.path.clone()));
            }
        }
        Ok(())
    }
}
