//! X.509 for RS256 device signatures: parses the `x5c` chain of a JWS,
//! validates it up to a trusted device-CA certificate and verifies
//! RSASSA-PKCS1-v1_5 with SHA-256 signatures.
//!
//! What is checked, for every certificate of the chain (leaf first):
//!
//! - it is DER, at most [`MAX_CERT_LEN`] bytes, with an RSA key of at least
//!   [`MIN_RSA_BITS`] bits;
//! - its `signatureAlgorithm` (outer and inner) is `sha256WithRSAEncryption`;
//!   anything else is refused as [`ChainError::UnsupportedSignatureAlgorithm`];
//! - `notBefore <= now <= notAfter`;
//! - its issuer name is the subject of the next certificate (or of a
//!   trusted CA) **and** that certificate's key verifies its signature;
//! - a certificate used as an issuer has `basicConstraints cA=TRUE`, and
//!   `keyCertSign` when it has a `keyUsage`; the leaf has
//!   `digitalSignature` when it has a `keyUsage`;
//! - no critical extension other than `basicConstraints` and `keyUsage`.
//!
//! The chain must end at a trusted CA: either a certificate of the chain
//! is byte-for-byte a trusted CA certificate, or a trusted CA with the
//! matching subject name signed it. Trusted CAs are anchors: their own
//! issuer is not followed, but their validity period is checked too.
//!
//! Not checked: revocation (CRL, OCSP), `pathLenConstraint`, name
//! constraints, certificate policies, extended key usage and the MOSIP
//! FTM / device-provider certificate profile.

use chrono::{DateTime, Utc};
use der::{Decode as _, Reader as _, SliceReader};
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::sha2::Sha256;
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use spki::ObjectIdentifier;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

/// `sha256WithRSAEncryption` (RFC 4055).
pub const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// `rsaEncryption`, the SPKI algorithm of an RSA public key.
pub const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// `id-ce-basicConstraints`.
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
/// `id-ce-keyUsage`.
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");

/// Most certificates accepted in one `x5c`.
pub const MAX_CHAIN: usize = 8;
/// Largest certificate accepted (DER bytes).
pub const MAX_CERT_LEN: usize = 16 * 1024;
/// Smallest RSA modulus accepted.
pub const MIN_RSA_BITS: usize = 2048;

/// Why a certificate chain or an RS256 signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// Not a certificate: bad base64 or DER, or too big.
    #[error("certificate {index} of x5c is malformed: {reason}")]
    Malformed { index: usize, reason: String },
    /// RS256 without a certificate chain.
    #[error("RS256 JWS without an x5c certificate chain")]
    MissingChain,
    /// More than [`MAX_CHAIN`] certificates.
    #[error("x5c holds {0} certificates (at most {MAX_CHAIN} accepted)")]
    TooLong(usize),
    /// The store holds no CA certificate.
    #[error("no device CA certificate is trusted")]
    NoTrustedCa,
    /// A certificate is signed with something else than sha256WithRSA.
    #[error(
        "certificate {subject:?} is signed with unsupported algorithm {oid} (only sha256WithRSAEncryption)"
    )]
    UnsupportedSignatureAlgorithm { subject: String, oid: String },
    /// A certificate's key is not a usable RSA key.
    #[error("certificate {subject:?} has an unsupported key: {reason}")]
    UnsupportedKey { subject: String, reason: String },
    /// `now` is before `notBefore`.
    #[error("certificate {subject:?} is not valid before {not_before}")]
    NotYetValid { subject: String, not_before: String },
    /// `now` is after `notAfter`.
    #[error("certificate {subject:?} expired at {not_after}")]
    Expired { subject: String, not_after: String },
    /// Neither the chain nor the trusted CAs hold the issuer.
    #[error("certificate {subject:?} was issued by {issuer:?}, which is not a trusted CA")]
    UnknownIssuer { subject: String, issuer: String },
    /// The issuer's key does not verify the certificate's signature.
    #[error("certificate {subject:?} is not validly signed by {issuer:?}")]
    BadChainSignature { subject: String, issuer: String },
    /// An issuing certificate is not a CA (or may not sign certificates).
    #[error("certificate {subject:?} may not issue certificates: {reason}")]
    NotACa { subject: String, reason: String },
    /// The leaf may not sign data.
    #[error("certificate {subject:?} may not sign: keyUsage lacks digitalSignature")]
    LeafKeyUsage { subject: String },
    /// A critical extension that is not processed here.
    #[error("certificate {subject:?} has an unsupported critical extension {oid}")]
    UnknownCriticalExtension { subject: String, oid: String },
    /// The JWS signature does not verify with the leaf's key.
    #[error("RS256 signature does not verify with the device certificate {subject:?}")]
    BadJwsSignature { subject: String },
}

impl ChainError {
    /// Whether the input was structurally broken (rather than untrusted).
    pub fn is_malformed(&self) -> bool {
        matches!(self, ChainError::Malformed { .. })
    }
}

/// A parsed certificate: its DER, the bytes its signature covers and its
/// RSA public key.
#[derive(Debug, Clone)]
pub struct ParsedCert {
    der: Vec<u8>,
    tbs: std::ops::Range<usize>,
    cert: Certificate,
    key: RsaPublicKey,
    subject: String,
}

impl PartialEq for ParsedCert {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for ParsedCert {}

impl ParsedCert {
    /// Parses a DER certificate with an RSA key and a sha256WithRSA
    /// signature; `index` names it in errors.
    pub fn from_der(der: &[u8], index: usize) -> Result<ParsedCert, ChainError> {
        Self::parse(der, index, true)
    }

    /// Parses a trusted CA certificate: like [`ParsedCert::from_der`] but
    /// its own signature algorithm is not restricted (an anchor's signature
    /// is never checked).
    pub fn anchor_from_der(der: &[u8]) -> Result<ParsedCert, ChainError> {
        Self::parse(der, 0, false)
    }

    fn parse(der: &[u8], index: usize, check_alg: bool) -> Result<ParsedCert, ChainError> {
        let malformed = |reason: String| ChainError::Malformed { index, reason };
        if der.len() > MAX_CERT_LEN {
            return Err(malformed(format!("{} bytes is too big", der.len())));
        }
        let cert = Certificate::from_der(der).map_err(|e| malformed(e.to_string()))?;
        let tbs = tbs_range(der).map_err(|e| malformed(e.to_string()))?;
        let tbs_cert = cert.tbs_certificate();
        let subject = tbs_cert.subject().to_string();
        let outer = &cert.signature_algorithm().oid;
        if check_alg && (*outer != SHA256_WITH_RSA || tbs_cert.signature().oid != SHA256_WITH_RSA) {
            return Err(ChainError::UnsupportedSignatureAlgorithm {
                subject,
                oid: outer.to_string(),
            });
        }
        let spki = tbs_cert.subject_public_key_info();
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(ChainError::UnsupportedKey {
                subject,
                reason: format!("algorithm {} is not rsaEncryption", spki.algorithm.oid),
            });
        }
        let key = <RsaPublicKey as rsa::pkcs1::DecodeRsaPublicKey>::from_pkcs1_der(
            spki.subject_public_key.raw_bytes(),
        )
        .map_err(|e| ChainError::UnsupportedKey {
            subject: subject.clone(),
            reason: e.to_string(),
        })?;
        let bits = key.n().bits() as usize;
        if bits < MIN_RSA_BITS {
            return Err(ChainError::UnsupportedKey {
                subject,
                reason: format!("{bits}-bit RSA (at least {MIN_RSA_BITS})"),
            });
        }
        Ok(ParsedCert {
            der: der.to_vec(),
            tbs,
            cert,
            key,
            subject,
        })
    }

    /// Parses a PEM trusted CA certificate (one `CERTIFICATE` block).
    pub fn anchor_from_pem(pem: &[u8]) -> Result<ParsedCert, ChainError> {
        let (label, der) = der::pem::decode_vec(pem).map_err(|e| ChainError::Malformed {
            index: 0,
            reason: format!("PEM: {e}"),
        })?;
        if label != "CERTIFICATE" {
            return Err(ChainError::Malformed {
                index: 0,
                reason: format!("PEM label {label:?} is not CERTIFICATE"),
            });
        }
        Self::anchor_from_der(&der)
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The subject's RSA public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.key
    }

    /// The subject name, RFC 4514 style.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    fn issuer_name(&self) -> String {
        self.cert.tbs_certificate().issuer().to_string()
    }

    /// Checks `notBefore <= now <= notAfter`.
    pub fn check_validity(&self, now: DateTime<Utc>) -> Result<(), ChainError> {
        let validity = self.cert.tbs_certificate().validity();
        let not_before = validity.not_before.to_unix_duration().as_secs();
        let not_after = validity.not_after.to_unix_duration().as_secs();
        let now_secs = u64::try_from(now.timestamp()).unwrap_or(0);
        if now_secs < not_before {
            return Err(ChainError::NotYetValid {
                subject: self.subject.clone(),
                not_before: validity.not_before.to_string(),
            });
        }
        if now_secs > not_after {
            return Err(ChainError::Expired {
                subject: self.subject.clone(),
                not_after: validity.not_after.to_string(),
            });
        }
        Ok(())
    }

    /// Refuses critical extensions other than basicConstraints/keyUsage.
    fn check_critical_extensions(&self) -> Result<(), ChainError> {
        let extensions = self
            .cert
            .tbs_certificate()
            .extensions()
            .map_or(&[][..], Vec::as_slice);
        match extensions.iter().find(|e| {
            e.critical && e.extn_id != OID_BASIC_CONSTRAINTS && e.extn_id != OID_KEY_USAGE
        }) {
            Some(e) => Err(ChainError::UnknownCriticalExtension {
                subject: self.subject.clone(),
                oid: e.extn_id.to_string(),
            }),
            None => Ok(()),
        }
    }

    fn key_usage(&self) -> Result<Option<KeyUsage>, ChainError> {
        self.cert
            .tbs_certificate()
            .get_extension::<KeyUsage>()
            .map(|o| o.map(|(_, ku)| ku))
            .map_err(|e| ChainError::Malformed {
                index: 0,
                reason: format!("keyUsage of {:?}: {e}", self.subject),
            })
    }

    /// Whether this certificate may issue certificates.
    fn check_may_issue(&self) -> Result<(), ChainError> {
        let not_a_ca = |reason: &str| ChainError::NotACa {
            subject: self.subject.clone(),
            reason: reason.into(),
        };
        let bc = self
            .cert
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .map_err(|_| not_a_ca("malformed basicConstraints"))?;
        match bc {
            Some((_, bc)) if bc.ca => {}
            Some(_) => return Err(not_a_ca("basicConstraints cA is FALSE")),
            None => return Err(not_a_ca("no basicConstraints")),
        }
        if let Some(ku) = self.key_usage()?
            && !ku.key_cert_sign()
        {
            return Err(not_a_ca("keyUsage lacks keyCertSign"));
        }
        Ok(())
    }

    /// Whether `issuer` names and signed this certificate.
    fn check_issued_by(&self, issuer: &ParsedCert) -> Result<(), ChainError> {
        if self.cert.tbs_certificate().issuer() != issuer.cert.tbs_certificate().subject() {
            return Err(ChainError::UnknownIssuer {
                subject: self.subject.clone(),
                issuer: self.issuer_name(),
            });
        }
        let signature = self.cert.signature().as_bytes().unwrap_or(&[]);
        if !verify_rs256(&issuer.key, &self.der[self.tbs.clone()], signature) {
            return Err(ChainError::BadChainSignature {
                subject: self.subject.clone(),
                issuer: issuer.subject.clone(),
            });
        }
        Ok(())
    }
}

/// The byte range of `tbsCertificate` inside a DER certificate.
fn tbs_range(der: &[u8]) -> der::Result<std::ops::Range<usize>> {
    let mut reader = SliceReader::new(der)?;
    // The tbsCertificate TLV starts right after the outer SEQUENCE header.
    let start = usize::try_from(der::Encode::encoded_len(&der::Header::peek(&reader)?)?)?;
    let tbs_len = reader.sequence(|r| {
        let tbs = r.tlv_bytes()?;
        r.tlv_bytes()?; // signatureAlgorithm
        r.tlv_bytes()?; // signatureValue
        Ok::<_, der::Error>(tbs.len())
    })?;
    reader.finish()?;
    Ok(start..start + tbs_len)
}

/// Whether `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature
/// (RS256, sha256WithRSAEncryption) of `message` by `key`.
pub fn verify_rs256(key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
    Signature::try_from(signature).is_ok_and(|signature| {
        VerifyingKey::<Sha256>::new(key.clone())
            .verify(message, &signature)
            .is_ok()
    })
}

/// Decodes the `x5c` entries (standard base64 of DER, RFC 7515 §4.1.6;
/// base64url tolerated) into certificates, leaf first.
pub fn parse_x5c(x5c: &[String]) -> Result<Vec<ParsedCert>, ChainError> {
    if x5c.is_empty() {
        return Err(ChainError::MissingChain);
    }
    if x5c.len() > MAX_CHAIN {
        return Err(ChainError::TooLong(x5c.len()));
    }
    x5c.iter()
        .enumerate()
        .map(|(index, text)| {
            let der = decode_b64(text).ok_or_else(|| ChainError::Malformed {
                index,
                reason: "not base64".into(),
            })?;
            ParsedCert::from_der(&der, index)
        })
        .collect()
}

fn decode_b64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    let text: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(&text)
        .or_else(|_| STANDARD_NO_PAD.decode(&text))
        .ok()
        .or_else(|| crate::proto::b64url_decode(&text).ok())
}

/// Validates `chain` (leaf first) at `now` against the trusted `anchors`;
/// returns the leaf, whose key is then to verify the JWS.
pub fn validate_chain<'c>(
    chain: &'c [ParsedCert],
    anchors: &[ParsedCert],
    now: DateTime<Utc>,
) -> Result<&'c ParsedCert, ChainError> {
    let leaf = chain.first().ok_or(ChainError::MissingChain)?;
    if anchors.is_empty() {
        return Err(ChainError::NoTrustedCa);
    }
    if chain.len() > MAX_CHAIN {
        return Err(ChainError::TooLong(chain.len()));
    }
    if let Some(ku) = leaf.key_usage()?
        && !ku.digital_signature()
    {
        return Err(ChainError::LeafKeyUsage {
            subject: leaf.subject.clone(),
        });
    }
    let mut i = 0;
    loop {
        let cert = &chain[i];
        cert.check_validity(now)?;
        // A trusted CA certificate itself ends the chain.
        if anchors.iter().any(|a| a.der == cert.der) {
            return Ok(leaf);
        }
        cert.check_critical_extensions()?;
        // Issued by a trusted CA: ends the chain. Anchors are matched by
        // name *and* signature; a same-named impostor fails the signature.
        let named: Vec<&ParsedCert> = anchors
            .iter()
            .filter(|a| a.cert.tbs_certificate().subject() == cert.cert.tbs_certificate().issuer())
            .collect();
        let mut last_err = None;
        for anchor in &named {
            match cert.check_issued_by(anchor) {
                Ok(()) => {
                    anchor.check_validity(now)?;
                    return Ok(leaf);
                }
                Err(e) => last_err = Some(e),
            }
        }
        match chain.get(i + 1) {
            Some(issuer) => {
                cert.check_issued_by(issuer)?;
                issuer.check_may_issue()?;
                i += 1;
            }
            // The last certificate reached no trusted CA.
            None => {
                return Err(last_err.unwrap_or_else(|| ChainError::UnknownIssuer {
                    subject: cert.subject.clone(),
                    issuer: cert.issuer_name(),
                }));
            }
        }
    }
}

/// Validates the chain and verifies an RS256 signature over
/// `signing_input` with the leaf's key.
pub fn verify_jws_rs256(
    x5c: &[String],
    anchors: &[ParsedCert],
    signing_input: &[u8],
    signature: &[u8],
    now: DateTime<Utc>,
) -> Result<(), ChainError> {
    if anchors.is_empty() {
        return Err(ChainError::NoTrustedCa);
    }
    let chain = parse_x5c(x5c)?;
    let leaf = validate_chain(&chain, anchors, now)?;
    if verify_rs256(&leaf.key, signing_input, signature) {
        Ok(())
    } else {
        Err(ChainError::BadJwsSignature {
            subject: leaf.subject.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;
    use std::time::{Duration, SystemTime};

    use base64::Engine as _;

    use super::*;
    use crate::proto::{b64url_encode, sign_jws_rs256};
    use crate::trust::{TrustError, TrustStore};
    use crate::virtual_pki::{DEVICE_SUBJECT, VirtualPki, issue_der};

    const CA: &str = "CN=Unit Test CA,O=Pishkhan Test";

    /// One PKI for all unit tests: RSA key generation is slow.
    fn pki() -> &'static VirtualPki {
        static PKI: OnceLock<VirtualPki> = OnceLock::new();
        PKI.get_or_init(|| VirtualPki::generate("Unit Test CA").expect("test PKI"))
    }

    fn b64(der: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(der)
    }

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    fn hour() -> Duration {
        Duration::from_secs(3600)
    }

    fn anchors() -> Vec<ParsedCert> {
        vec![ParsedCert::anchor_from_der(pki().ca_der()).unwrap()]
    }

    fn check(x5c: &[String], anchors: &[ParsedCert]) -> Result<(), ChainError> {
        let chain = parse_x5c(x5c)?;
        validate_chain(&chain, anchors, now()).map(|_| ())
    }

    #[test]
    fn device_chain_validates_and_signature_verifies() {
        let chain = parse_x5c(&pki().x5c()).unwrap();
        let leaf = validate_chain(&chain, &anchors(), now()).unwrap();
        assert_eq!(leaf.subject(), DEVICE_SUBJECT);
        let jws = pki().sign_jws(br#"{"a":1}"#);
        let store = pki().trust_store();
        assert_eq!(store.verify(&jws).unwrap().payload, br#"{"a":1}"#);
        // The CA included in x5c as well is fine.
        let mut x5c = pki().x5c();
        x5c.push(b64(pki().ca_der()));
        assert!(check(&x5c, &anchors()).is_ok());
    }

    #[test]
    fn unknown_issuer_and_same_named_impostor_ca_are_refused() {
        let t0 = SystemTime::now() - hour();
        let t1 = SystemTime::now() + hour();
        let key = pki().device_key();
        let other = issue_der(
            "CN=Other CA,O=Elsewhere",
            "CN=Other CA,O=Elsewhere",
            true,
            key,
            key,
            t0,
            t1,
        )
        .unwrap();
        let other = vec![ParsedCert::anchor_from_der(&other).unwrap()];
        assert!(matches!(
            check(&pki().x5c(), &other),
            Err(ChainError::UnknownIssuer { .. })
        ));
        // Same name as the real CA, another key: names are not enough.
        let impostor = issue_der(CA, CA, true, key, key, t0, t1).unwrap();
        let impostor = vec![ParsedCert::anchor_from_der(&impostor).unwrap()];
        assert!(matches!(
            check(&pki().x5c(), &impostor),
            Err(ChainError::BadChainSignature { .. })
        ));
        assert_eq!(check(&pki().x5c(), &[]), Err(ChainError::NoTrustedCa));
    }

    #[test]
    fn validity_period_is_enforced() {
        let chain = parse_x5c(&pki().x5c()).unwrap();
        let past = now() - chrono::Duration::days(2);
        let future = now() + chrono::Duration::days(60);
        assert!(matches!(
            validate_chain(&chain, &anchors(), past),
            Err(ChainError::NotYetValid { .. })
        ));
        assert!(matches!(
            validate_chain(&chain, &anchors(), future),
            Err(ChainError::Expired { .. })
        ));
        let expired = pki()
            .with_device_validity(
                SystemTime::now() - 48 * hour(),
                SystemTime::now() - 24 * hour(),
            )
            .unwrap();
        let err = check(&expired.x5c(), &anchors()).unwrap_err();
        assert!(matches!(err, ChainError::Expired { .. }), "{err:?}");
        assert!(err.to_string().contains("expired"), "{err}");
    }

    #[test]
    fn intermediate_must_be_a_ca_signed_by_the_anchor() {
        let t0 = SystemTime::now() - hour();
        let t1 = SystemTime::now() + hour();
        let (ca_key, dev_key) = (pki().ca_key(), pki().device_key());
        // root (ca_key) -> intermediate (dev_key) -> leaf (ca_key)
        let inter = issue_der("CN=Provider CA", CA, true, dev_key, ca_key, t0, t1).unwrap();
        let leaf = issue_der("CN=Leaf", "CN=Provider CA", false, ca_key, dev_key, t0, t1).unwrap();
        let x5c = vec![b64(&leaf), b64(&inter)];
        assert!(check(&x5c, &anchors()).is_ok());
        let jws = sign_jws_rs256(b"{}", ca_key, &x5c);
        assert!(pki().trust_store().verify(&jws).is_ok());
        // Without the intermediate, its name is unknown.
        assert!(matches!(
            check(&x5c[..1], &anchors()),
            Err(ChainError::UnknownIssuer { .. })
        ));
        // An end-entity certificate may not issue: a device cannot mint
        // certificates with its own key.
        let minted =
            issue_der("CN=Minted", DEVICE_SUBJECT, false, ca_key, dev_key, t0, t1).unwrap();
        let x5c = vec![b64(&minted), pki().x5c().remove(0)];
        assert!(matches!(
            check(&x5c, &anchors()),
            Err(ChainError::NotACa { .. })
        ));
    }

    #[test]
    fn bad_certificate_signature_and_algorithm_are_refused() {
        let mut der = pki().device_der().to_vec();
        let last = der.len() - 1;
        der[last] ^= 1;
        assert!(matches!(
            check(&[b64(&der)], &anchors()),
            Err(ChainError::BadChainSignature { .. })
        ));
        // sha256WithRSAEncryption (…1.1.11) → sha384WithRSAEncryption (…1.1.12).
        let oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
        let mut der = pki().device_der().to_vec();
        let mut replaced = 0;
        for i in 0..der.len() - oid.len() {
            if der[i..i + oid.len()] == oid {
                der[i + oid.len() - 1] = 0x0c;
                replaced += 1;
            }
        }
        assert_eq!(replaced, 2);
        let err = check(&[b64(&der)], &anchors()).unwrap_err();
        assert!(
            matches!(err, ChainError::UnsupportedSignatureAlgorithm { ref oid, .. } if oid == "1.2.840.113549.1.1.12"),
            "{err:?}"
        );
    }

    #[test]
    fn jws_level_failures_are_precise() {
        let store = pki().trust_store();
        let jws = pki().sign_jws(br#"{"q":"40"}"#);
        let parts: Vec<&str> = jws.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            b64url_encode(br#"{"q":"99"}"#),
            parts[2]
        );
        let err = store.verify(&forged).unwrap_err();
        assert!(
            matches!(&err, TrustError::Untrusted(m) if m.contains("RS256 signature does not verify")),
            "{err:?}"
        );
        // RS256 without x5c, and with garbage in it.
        let bare = sign_jws_rs256(b"{}", pki().device_key(), &[]);
        assert!(
            matches!(store.verify(&bare), Err(TrustError::Untrusted(m)) if m.contains("without an x5c"))
        );
        let junk = sign_jws_rs256(b"{}", pki().device_key(), &["!!!".into()]);
        assert!(matches!(store.verify(&junk), Err(TrustError::Malformed(_))));
        // No CA trusted at all.
        assert!(
            matches!(TrustStore::new().verify(&jws), Err(TrustError::Untrusted(m)) if m.contains("no device CA"))
        );
    }

    #[test]
    fn ca_from_pem_and_ed25519_side_by_side() {
        let ed = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let store = TrustStore::new()
            .with_key(ed.verifying_key())
            .with_ca_pem(pki().ca_pem().as_bytes())
            .unwrap();
        assert_eq!(store.ca_certificates().len(), 1);
        assert!(store.verify(&pki().sign_jws(b"{}")).is_ok());
        assert!(
            store
                .verify(&crate::proto::sign_jws_ed25519(b"{}", &ed))
                .is_ok()
        );
        assert!(matches!(
            TrustStore::new().with_ca_der(b"not a certificate"),
            Err(TrustError::Malformed(_))
        ));
        assert!(
            TrustStore::new()
                .with_ca_pem(b"-----BEGIN X-----\n-----END X-----\n")
                .is_err()
        );
    }
}
