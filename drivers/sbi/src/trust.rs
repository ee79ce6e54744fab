//! Which devices the station believes: pinned Ed25519 device keys,
//! trusted device-CA certificates and a clock-skew allowance.
//!
//! **Algorithms.** The `alg` header is checked explicitly before any
//! verification:
//!
//! - `EdDSA` (Ed25519, RFC 8037): the signature must verify with one of the
//!   pinned keys ([`TrustStore::with_key`]); the virtual device's default.
//! - `RS256` (RSASSA-PKCS1-v1_5 with SHA-256), as real SBI devices sign:
//!   the `x5c` header's chain (base64 DER, leaf first) must validate up to
//!   one of the trusted CA certificates ([`TrustStore::with_ca_der`]) at
//!   the check time, and the leaf's RSA key must verify the JWS; see
//!   [`crate::x509`] for exactly what is checked (and what is not:
//!   revocation, path length, policies, the FTM chain).
//! - `none`, `HS256` and every other value are refused with a clear reason.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};

use crate::proto::{self, Jws};
use crate::x509::{self, ChainError, ParsedCert};

/// Why a signed object is not believed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// Structurally broken (not a JWS, bad base64, bad JSON).
    #[error("{0}")]
    Malformed(String),
    /// Well-formed but not signed by a trusted key, or with a refused
    /// algorithm, or outside the time window.
    #[error("{0}")]
    Untrusted(String),
}

/// The JWS algorithm verified with pinned Ed25519 keys.
pub const ALG_EDDSA: &str = "EdDSA";
/// The JWS algorithm verified with an `x5c` chain up to a trusted CA.
pub const ALG_RS256: &str = "RS256";

impl From<ChainError> for TrustError {
    fn from(e: ChainError) -> Self {
        if e.is_malformed() {
            TrustError::Malformed(e.to_string())
        } else {
            TrustError::Untrusted(e.to_string())
        }
    }
}

/// Trusted device keys, trusted device-CA certificates and the allowed
/// clock skew.
#[derive(Debug, Clone)]
pub struct TrustStore {
    keys: Vec<VerifyingKey>,
    cas: Vec<ParsedCert>,
    max_skew: Duration,
}

impl Default for TrustStore {
    fn default() -> Self {
        Self::new()
    }
}

impl TrustStore {
    /// Default allowed skew between device and station clocks (±5 min,
    /// MOSIP's `MDS_RESP_ALLOWED_LAG_MINS`).
    pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(5 * 60);

    /// An empty store: trusts nothing.
    pub fn new() -> Self {
        Self {
            keys: Vec::new(),
            cas: Vec::new(),
            max_skew: Self::DEFAULT_MAX_SKEW,
        }
    }

    /// Adds a trusted Ed25519 public key.
    pub fn with_key(mut self, key: VerifyingKey) -> Self {
        self.add_key(key);
        self
    }

    /// Adds a trusted Ed25519 public key given as its 32 bytes.
    pub fn with_ed25519_bytes(self, key: &[u8; 32]) -> Result<Self, TrustError> {
        let key = VerifyingKey::from_bytes(key)
            .map_err(|e| TrustError::Malformed(format!("bad Ed25519 public key: {e}")))?;
        Ok(self.with_key(key))
    }

    /// Adds a trusted key in place.
    pub fn add_key(&mut self, key: VerifyingKey) {
        if !self.keys.contains(&key) {
            self.keys.push(key);
        }
    }

    /// Adds a trusted device-CA certificate (DER), against which RS256
    /// `x5c` chains are validated. It must hold an RSA key of at least
    /// 2048 bits; its own signature is not checked (it is the anchor).
    pub fn with_ca_der(mut self, der: &[u8]) -> Result<Self, TrustError> {
        self.add_ca_der(der)?;
        Ok(self)
    }

    /// Adds a trusted device-CA certificate given as PEM (one
    /// `CERTIFICATE` block).
    pub fn with_ca_pem(mut self, pem: &[u8]) -> Result<Self, TrustError> {
        let ca = ParsedCert::anchor_from_pem(pem)
            .map_err(|e| TrustError::Malformed(format!("trusted CA: {e}")))?;
        self.push_ca(ca);
        Ok(self)
    }

    /// Adds a trusted device-CA certificate (DER) in place.
    pub fn add_ca_der(&mut self, der: &[u8]) -> Result<(), TrustError> {
        let ca = ParsedCert::anchor_from_der(der)
            .map_err(|e| TrustError::Malformed(format!("trusted CA: {e}")))?;
        self.push_ca(ca);
        Ok(())
    }

    fn push_ca(&mut self, ca: ParsedCert) {
        if !self.cas.contains(&ca) {
            self.cas.push(ca);
        }
    }

    /// The trusted CA certificates.
    pub fn ca_certificates(&self) -> &[ParsedCert] {
        &self.cas
    }

    /// Sets the allowed clock skew.
    pub fn with_max_skew(mut self, skew: Duration) -> Self {
        self.max_skew = skew;
        self
    }

    /// The allowed clock skew.
    pub fn max_skew(&self) -> Duration {
        self.max_skew
    }

    /// The trusted keys.
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// Parses and verifies a compact JWS now; returns it when a pinned key
    /// signed it with EdDSA, or when it is RS256 with an `x5c` chain valid
    /// now up to a trusted CA.
    pub fn verify(&self, compact: &str) -> Result<Jws, TrustError> {
        self.verify_at(compact, Utc::now())
    }

    /// [`TrustStore::verify`] with certificate validity checked at `now`.
    pub fn verify_at(&self, compact: &str, now: DateTime<Utc>) -> Result<Jws, TrustError> {
        let jws = proto::parse_jws(compact).map_err(|e| TrustError::Malformed(e.to_string()))?;
        match jws.header.alg.as_str() {
            ALG_EDDSA => {}
            ALG_RS256 => {
                x509::verify_jws_rs256(
                    &jws.header.x5c,
                    &self.cas,
                    jws.signing_input.as_bytes(),
                    &jws.signature,
                    now,
                )?;
                return Ok(jws);
            }
            "none" | "" => {
                return Err(TrustError::Untrusted(
                    "unsigned JWS (alg none) refused".into(),
                ));
            }
            other => {
                return Err(TrustError::Untrusted(format!(
                    "JWS algorithm {other:?} refused"
                )));
            }
        }
        let sig_bytes: [u8; 64] = jws
            .signature
            .as_slice()
            .try_into()
            .map_err(|_| TrustError::Untrusted("Ed25519 signature must be 64 bytes".into()))?;
        let signature = Signature::from_bytes(&sig_bytes);
        if self.keys.is_empty() {
            return Err(TrustError::Untrusted("no device key is trusted".into()));
        }
        let ok = self.keys.iter().any(|k| {
            k.verify_strict(jws.signing_input.as_bytes(), &signature)
                .is_ok()
        });
        if ok {
            Ok(jws)
        } else {
            Err(TrustError::Untrusted(
                "signature does not match any trusted device key".into(),
            ))
        }
    }

    /// Checks an RFC 3339 device timestamp against `now` within the skew.
    pub fn check_timestamp(&self, timestamp: &str, now: DateTime<Utc>) -> Result<(), TrustError> {
        let ts = DateTime::parse_from_rfc3339(timestamp.trim())
            .map_err(|e| TrustError::Malformed(format!("bad timestamp {timestamp:?}: {e}")))?
            .with_timezone(&Utc);
        let skew = (ts - now).abs();
        let allowed = chrono::Duration::from_std(self.max_skew).unwrap_or(chrono::Duration::MAX);
        if skew > allowed {
            return Err(TrustError::Untrusted(format!(
                "device clock is off by {}s (allowed {}s)",
                skew.num_seconds(),
                allowed.num_seconds()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{b64url_encode, sign_jws_ed25519};
    use ed25519_dalek::SigningKey;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    #[test]
    fn trusted_key_verifies_and_other_key_does_not() {
        let store = TrustStore::new().with_key(key(1).verifying_key());
        let jws = sign_jws_ed25519(b"{}", &key(1));
        assert_eq!(store.verify(&jws).unwrap().payload, b"{}");
        let foreign = sign_jws_ed25519(b"{}", &key(2));
        assert!(matches!(
            store.verify(&foreign),
            Err(TrustError::Untrusted(_))
        ));
        assert!(matches!(
            TrustStore::new().verify(&jws),
            Err(TrustError::Untrusted(_))
        ));
    }

    #[test]
    fn tampered_payload_is_untrusted() {
        let store = TrustStore::new().with_key(key(1).verifying_key());
        let jws = sign_jws_ed25519(br#"{"q":"40"}"#, &key(1));
        let parts: Vec<&str> = jws.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            b64url_encode(br#"{"q":"99"}"#),
            parts[2]
        );
        assert!(matches!(
            store.verify(&forged),
            Err(TrustError::Untrusted(_))
        ));
    }

    #[test]
    fn alg_none_rs256_and_unknown_are_refused() {
        let store = TrustStore::new().with_key(key(1).verifying_key());
        let payload = b64url_encode(b"{}");
        for header in [
            r#"{"alg":"none"}"#,
            r#"{"alg":"RS256","x5c":["MIIB"]}"#,
            r#"{"alg":"HS256"}"#,
            r#"{"alg":"eddsa"}"#,
        ] {
            let jws = format!("{}.{payload}.", b64url_encode(header.as_bytes()));
            assert!(
                matches!(store.verify(&jws), Err(TrustError::Untrusted(_))),
                "{header} accepted"
            );
        }
        assert!(matches!(
            store.verify("garbage"),
            Err(TrustError::Malformed(_))
        ));
    }

    #[test]
    fn timestamp_skew_window() {
        let store = TrustStore::new().with_max_skew(Duration::from_secs(300));
        let now = DateTime::parse_from_rfc3339("2024-01-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(store.check_timestamp("2024-01-01T10:04:59Z", now).is_ok());
        assert!(
            store
                .check_timestamp("2024-01-01T13:34:00+03:30", now)
                .is_ok()
        );
        assert!(
            store
                .check_timestamp("2024-01-01T09:55:00.000Z", now)
                .is_ok()
        );
        assert!(matches!(
            store.check_timestamp("2024-01-01T10:05:01Z", now),
            Err(TrustError::Untrusted(_))
        ));
        assert!(matches!(
            store.check_timestamp("yesterday", now),
            Err(TrustError::Malformed(_))
        ));
    }
}
