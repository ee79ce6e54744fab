//! Packets of format `pishkhan-packet/2`, sealed before the ANSI/NIST
//! transaction: they may still wait in an outbox, so they still open and
//! verify. Nothing new is sealed in this format.
//!
//! Layout: the age ciphertext of a tar with `manifest.json`,
//! `manifest.sig`, `portrait.jpg`, `fingers/NN-<finger>.wsq`,
//! `slaps/NN.wsq` and `exceptions/NN-<finger>.jpg`; beside it, in the
//! outbox row, the station's Ed25519 signature over the ciphertext's
//! SHA-256. The fixture in `tests/fixtures/packets/v2/` is one of them.

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, Verifier, VerifyingKey};

use super::{Decrypted, PacketError, decrypt_archive, sha256_hex};

pub const FORMAT: &str = "pishkhan-packet/2";
const MANIFEST_DOMAIN: &[u8] = b"pishkhan-packet/2 manifest\n";
const SEALED_DOMAIN: &[u8] = b"pishkhan-packet/2 sealed\n";

/// Checks the station's signature over a v2 ciphertext.
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

/// A decrypted v2 packet. The manifest is kept as JSON: its types belong
/// to the code of its time.
#[derive(Debug, Clone)]
pub struct Opened {
    pub manifest: serde_json::Value,
    manifest_json: Vec<u8>,
    manifest_sig: Vec<u8>,
    pub files: BTreeMap<String, Vec<u8>>,
}

pub fn open(ciphertext: &[u8], identity: &age::x25519::Identity) -> Result<Opened, PacketError> {
    let Decrypted {
        manifest_json,
        manifest_sig,
        files,
    } = decrypt_archive(ciphertext, identity)?;
    let manifest: serde_json::Value = serde_json::from_slice(&manifest_json)?;
    if manifest["format"] != FORMAT {
        return Err(PacketError::Layout(format!(
            "the manifest's format is {}, not {FORMAT}",
            manifest["format"]
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
    /// The images the manifest lists, as `(path, sha256)`.
    fn listed(&self) -> Vec<(String, String)> {
        let m = &self.manifest;
        let entry = |v: &serde_json::Value| {
            (
                v["path"].as_str().unwrap_or_default().to_owned(),
                v["sha256"].as_str().unwrap_or_default().to_owned(),
            )
        };
        let list = |key: &str, field: &str| -> Vec<(String, String)> {
            m[key]
                .as_array()
                .map(|a| a.iter().map(|v| entry(&v[field])).collect())
                .unwrap_or_default()
        };
        std::iter::once(entry(&m["portrait"]))
            .chain(list("fingers", "image"))
            .chain(list("exceptions", "photo"))
            .chain(list("slaps", "image"))
            .collect()
    }

    /// Checks the manifest signature and every listed file's hash.
    pub fn verify(&self, station: &VerifyingKey) -> Result<(), PacketError> {
        let sig = Signature::from_slice(&self.manifest_sig)
            .map_err(|_| PacketError::BadSignature("manifest.json"))?;
        station
            .verify(&[MANIFEST_DOMAIN, &self.manifest_json].concat(), &sig)
            .map_err(|_| PacketError::BadSignature("manifest.json"))?;
        for (path, sha) in self.listed() {
            let bytes = self
                .files
                .get(&path)
                .ok_or_else(|| PacketError::Missing(path.clone()))?;
            if sha256_hex(bytes) != sha {
                return Err(PacketError::HashMismatch(path));
            }
        }
        Ok(())
    }
}
