//! Which devices the station believes: a set of device signing keys and a
//! clock-skew allowance.
//!
//! **Algorithm.** Real SBI devices sign with `RS256` and put their
//! certificate chain in the `x5c` header; MOSIP verifies that chain against
//! the device-CA certificates it syncs from the server (trust domains
//! `DEVICE` and `FTM`). This store implements **EdDSA (Ed25519, RFC 8037)
//! only**: the virtual device signs with Ed25519 and the station pins its
//! public key. The `alg` header is checked explicitly before any
//! verification; `none`, `RS256` and every other value are refused with a
//! clear reason. A deployment with real devices needs RS256 verification
//! plus X.509 chain validation up to the authority's device CA (with expiry
//! and revocation); that is **not implemented** here.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};

use crate::proto::{self, Jws};

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

/// The accepted JWS algorithm.
pub const ALG_EDDSA: &str = "EdDSA";

/// Trusted device keys and the allowed clock skew.
#[derive(Debug, Clone)]
pub struct TrustStore {
    keys: Vec<VerifyingKey>,
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

    /// Parses and verifies a compact JWS; returns it when a trusted key
    /// signed it with EdDSA.
    pub fn verify(&self, compact: &str) -> Result<Jws, TrustError> {
        let jws = proto::parse_jws(compact).map_err(|e| TrustError::Malformed(e.to_string()))?;
        match jws.header.alg.as_str() {
            ALG_EDDSA => {}
            "none" | "" => {
                return Err(TrustError::Untrusted(
                    "unsigned JWS (alg none) refused".into(),
                ));
            }
            "RS256" => {
                return Err(TrustError::Untrusted(
                    "RS256 with an x5c chain is not supported by this station (EdDSA only)".into(),
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
