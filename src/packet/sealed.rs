//! The sealed packet file, `pishkhan-sealed/3`: a signed outer header
//! that anyone may read, then the age ciphertext that only the authority
//! can.
//!
//! ```text
//! pishkhan-sealed/3\n
//! {"format":"pishkhan-sealed/3","packet_id":…,"sha256":…,"size":…}\n   one line of JSON
//! <128 hex digits>\n      Ed25519(station key, HEADER_DOMAIN ‖ the JSON line without \n)
//! <age ciphertext>        exactly `size` bytes whose SHA-256 is `sha256`
//! ```
//!
//! The header signature covers the ciphertext through its hash, so a
//! change to any byte of the file is caught by [`SealedFile::verify`]
//! without decrypting. The header carries the station's public key so that
//! a receiver can check the signature before it looks the key up in its
//! registry of stations.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{PacketError, sha256_hex};

/// The first line of every sealed packet file of this version.
pub const MAGIC: &str = "pishkhan-sealed/3";
const HEADER_DOMAIN: &[u8] = b"pishkhan-sealed/3 header\n";

/// File name extension of a sealed packet on removable media.
pub const EXTENSION: &str = "pkp";

/// What the receiver may know without decrypting: enough to dedupe,
/// route and check the sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: String,
    /// UUIDv7; also the upload's idempotency key.
    pub packet_id: String,
    pub station_id: String,
    /// The station's Ed25519 public key, hex.
    pub station_key: String,
    pub sealed_at: String,
    /// A technician's test enrolment, not a real applicant.
    pub test: bool,
    /// A packet sealed to the locally generated demo authority key.
    pub demo: bool,
    /// The age recipients the ciphertext is encrypted to.
    pub recipients: Vec<String>,
    /// Length of the ciphertext in bytes.
    pub size: u64,
    /// SHA-256 of the ciphertext, hex.
    pub sha256: String,
}

/// A sealed packet as stored and moved: header, signature, ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedFile {
    pub header: Header,
    /// The header's JSON exactly as signed.
    pub header_json: Vec<u8>,
    pub signature: [u8; 64],
    pub ciphertext: Vec<u8>,
}

impl SealedFile {
    /// Builds and signs the header for `ciphertext`.
    pub fn new(
        mut header: Header,
        ciphertext: Vec<u8>,
        key: &SigningKey,
    ) -> Result<Self, PacketError> {
        header.format = MAGIC.into();
        header.size = ciphertext.len() as u64;
        header.sha256 = sha256_hex(&ciphertext);
        header.station_key = hex::encode(key.verifying_key().as_bytes());
        let header_json = serde_json::to_vec(&header)?;
        let signature = key.sign(&[HEADER_DOMAIN, &header_json].concat()).to_bytes();
        Ok(Self {
            header,
            header_json,
            signature,
            ciphertext,
        })
    }

    /// The whole file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.ciphertext.len() + self.header_json.len() + 160);
        out.extend_from_slice(MAGIC.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&self.header_json);
        out.push(b'\n');
        out.extend_from_slice(hex::encode(self.signature).as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Splits a file into its parts. Checks the layout, not the signature.
    pub fn parse(bytes: &[u8]) -> Result<Self, PacketError> {
        let bad = |what: &str| PacketError::Layout(what.to_owned());
        let mut rest = bytes;
        let mut line = |what: &str| -> Result<&[u8], PacketError> {
            let end = rest
                .iter()
                .take(64 * 1024)
                .position(|b| *b == b'\n')
                .ok_or_else(|| bad(&format!("no end of line after the {what}")))?;
            let (head, tail) = rest.split_at(end);
            rest = &tail[1..];
            Ok(head)
        };
        let magic = line("format line")?;
        if magic != MAGIC.as_bytes() {
            return Err(bad(&format!(
                "the first line is {:?}, not {MAGIC:?}",
                String::from_utf8_lossy(&magic[..magic.len().min(40)])
            )));
        }
        let header_json = line("header")?.to_vec();
        let signature_hex = line("signature")?;
        let header: Header = serde_json::from_slice(&header_json)
            .map_err(|e| bad(&format!("the header is not valid: {e}")))?;
        if header.format != MAGIC {
            return Err(bad(&format!(
                "the header names format {:?}, not {MAGIC:?}",
                header.format
            )));
        }
        let signature: [u8; 64] = hex::decode(signature_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("the signature line is not 64 bytes of hex"))?;
        let ciphertext = rest.to_vec();
        Ok(Self {
            header,
            header_json,
            signature,
            ciphertext,
        })
    }

    /// The station key named in the header.
    pub fn station_key(&self) -> Result<VerifyingKey, PacketError> {
        hex::decode(&self.header.station_key)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .ok_or_else(|| PacketError::Layout("the header's station key is not valid".into()))
    }

    /// Checks the header signature (with `station`, or else the key the
    /// header names) and that the ciphertext is the one the header
    /// describes.
    pub fn verify(&self, station: Option<&VerifyingKey>) -> Result<(), PacketError> {
        let named = self.station_key()?;
        if let Some(expected) = station
            && *expected != named
        {
            return Err(PacketError::WrongStation);
        }
        named
            .verify(
                &[HEADER_DOMAIN, &self.header_json].concat(),
                &Signature::from_bytes(&self.signature),
            )
            .map_err(|_| PacketError::BadSignature("the packet header"))?;
        if self.ciphertext.len() as u64 != self.header.size {
            return Err(PacketError::HashMismatch(format!(
                "the ciphertext ({} bytes, the header says {})",
                self.ciphertext.len(),
                self.header.size
            )));
        }
        if sha256_hex(&self.ciphertext) != self.header.sha256 {
            return Err(PacketError::HashMismatch("the ciphertext".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (SealedFile, SigningKey) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let header = Header {
            format: String::new(),
            packet_id: "019a0000-0000-7000-8000-000000000001".into(),
            station_id: "019a0000-0000-7000-8000-0000000000aa".into(),
            station_key: String::new(),
            sealed_at: "2026-11-22T08:00:00+00:00".into(),
            test: false,
            demo: false,
            recipients: vec!["age1example".into()],
            size: 0,
            sha256: String::new(),
        };
        let file =
            SealedFile::new(header, b"ciphertext \n\x00\xff bytes".to_vec(), &key).expect("signs");
        (file, key)
    }

    #[test]
    fn round_trips_and_verifies() {
        let (file, key) = sample();
        let back = SealedFile::parse(&file.to_bytes()).expect("parses");
        assert_eq!(back, file);
        back.verify(Some(&key.verifying_key())).expect("verifies");
        back.verify(None).expect("verifies with the named key");
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(matches!(
            back.verify(Some(&other)),
            Err(PacketError::WrongStation)
        ));
    }

    #[test]
    fn every_changed_byte_is_caught() {
        let (file, _) = sample();
        let bytes = file.to_bytes();
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x80] {
                let mut tampered = bytes.clone();
                tampered[i] ^= flip;
                let caught = SealedFile::parse(&tampered).and_then(|f| f.verify(None));
                assert!(caught.is_err(), "byte {i} ^ {flip:#x} went unnoticed");
            }
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(
            SealedFile::parse(&longer)
                .and_then(|f| f.verify(None))
                .is_err()
        );
        let shorter = &bytes[..bytes.len() - 1];
        assert!(
            SealedFile::parse(shorter)
                .and_then(|f| f.verify(None))
                .is_err()
        );
    }

    #[test]
    fn layout_errors_say_what_is_wrong() {
        let err = SealedFile::parse(b"hello\n{}\n").expect_err("not a packet");
        assert!(err.to_string().contains("pishkhan-sealed/3"), "{err}");
        let (file, _) = sample();
        let mut bytes = file.to_bytes();
        let sig_start = MAGIC.len() + 1 + file.header_json.len() + 1;
        bytes[sig_start] = b'z';
        let err = SealedFile::parse(&bytes).expect_err("bad hex");
        assert!(err.to_string().contains("signature"), "{err}");
    }
}
