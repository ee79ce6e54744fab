//! A throw-away device PKI for the virtual SBI service: a self-signed test
//! CA (RSA 2048) that issues a device certificate (RSA 2048), so the
//! virtual device can sign its JWS the way real devices do (`RS256` with
//! an `x5c` chain) and a [`TrustStore`] can trust the CA.
//!
//! Key generation takes a noticeable time (around a second for the two
//! keys in a debug build on a slow machine); tests should make one
//! [`VirtualPki`] and reuse it. Re-issuing the device certificate
//! ([`VirtualPki::with_device_validity`]) reuses the keys and is cheap.

use std::io;
use std::str::FromStr as _;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use der::Encode as _;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::rand_core::UnwrapErr;
use rsa::sha2::Sha256;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder as _, CertificateBuilder};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::ext::{Extension, ToExtension as _};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoRef;
use x509_cert::time::{Time, Validity};

use crate::proto;
use crate::trust::TrustStore;

/// RSA modulus size of the virtual keys.
pub const VIRTUAL_RSA_BITS: usize = 2048;
/// Lifetime of the virtual CA certificate.
const CA_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Lifetime of the virtual device certificate (MOSIP recommends rotating
/// device keys every 30 days).
const DEVICE_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// Backdating of `notBefore`, for clocks slightly behind.
const BACKDATE: Duration = Duration::from_secs(3600);

/// Subject of the virtual device certificate.
pub const DEVICE_SUBJECT: &str = "CN=Pishkhan Virtual Slap Device,O=Pishkhan";

/// A test CA and a device certificate it issued, with both private keys.
#[derive(Clone)]
pub struct VirtualPki {
    ca_key: SigningKey<Sha256>,
    ca_name: Name,
    ca_der: Vec<u8>,
    device_key: SigningKey<Sha256>,
    device_der: Vec<u8>,
}

impl std::fmt::Debug for VirtualPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualPki")
            .field("ca", &self.ca_name.to_string())
            .finish_non_exhaustive()
    }
}

/// Keys and certificates are built by trusted code from fresh randomness;
/// a failure is an internal error.
fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Certificate profile: fixed subject and issuer, CA or end-entity
/// extensions.
struct Profile {
    subject: Name,
    issuer: Name,
    ca: bool,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let bc = BasicConstraints {
            ca: self.ca,
            path_len_constraint: None,
        };
        let usage = if self.ca {
            KeyUsages::KeyCertSign | KeyUsages::CRLSign
        } else {
            KeyUsages::DigitalSignature.into()
        };
        Ok(vec![
            bc.to_extension(&self.subject, &[])?,
            KeyUsage(usage).to_extension(&self.subject, &[])?,
        ])
    }
}

fn new_key() -> io::Result<SigningKey<Sha256>> {
    let key =
        RsaPrivateKey::new(&mut UnwrapErr(getrandom::SysRng), VIRTUAL_RSA_BITS).map_err(other)?;
    Ok(SigningKey::new(key))
}

fn validity(not_before: SystemTime, not_after: SystemTime) -> io::Result<Validity> {
    Ok(Validity::new(
        Time::try_from(not_before).map_err(other)?,
        Time::try_from(not_after).map_err(other)?,
    ))
}

/// Issues a certificate for `subject_key` signed by `issuer_key`.
fn issue(
    subject: &Name,
    issuer: &Name,
    ca: bool,
    subject_key: &SigningKey<Sha256>,
    issuer_key: &SigningKey<Sha256>,
    validity: Validity,
) -> io::Result<Vec<u8>> {
    use rsa::signature::Keypair as _;
    let spki = SubjectPublicKeyInfoOwned::from_key(&subject_key.verifying_key()).map_err(other)?;
    let serial = SerialNumber::generate(&mut UnwrapErr(getrandom::SysRng));
    let profile = Profile {
        subject: subject.clone(),
        issuer: issuer.clone(),
        ca,
    };
    let builder = CertificateBuilder::new(profile, serial, validity, spki).map_err(other)?;
    let cert: Certificate = builder
        .build::<_, rsa::pkcs1v15::Signature>(issuer_key)
        .map_err(other)?;
    cert.to_der().map_err(other)
}

/// Issues a certificate (DER, sha256WithRSAEncryption) for `subject_key`
/// named `subject` (RFC 4514, e.g. `CN=x,O=y`), signed by `issuer_key` as
/// `issuer`; a CA gets `basicConstraints cA=TRUE` and `keyCertSign`, an
/// end entity `digitalSignature`. Test tooling for chains of any shape.
pub fn issue_der(
    subject: &str,
    issuer: &str,
    ca: bool,
    subject_key: &SigningKey<Sha256>,
    issuer_key: &SigningKey<Sha256>,
    not_before: SystemTime,
    not_after: SystemTime,
) -> io::Result<Vec<u8>> {
    issue(
        &Name::from_str(subject).map_err(other)?,
        &Name::from_str(issuer).map_err(other)?,
        ca,
        subject_key,
        issuer_key,
        validity(not_before, not_after)?,
    )
}

impl VirtualPki {
    /// Generates a CA named `CN=<ca_name>,O=Pishkhan Test` (self-signed,
    /// valid ten years) and a device certificate it issues (valid 30
    /// days), both from the current time minus an hour. Two RSA key
    /// generations: slow-ish, do it once.
    pub fn generate(ca_name: &str) -> io::Result<VirtualPki> {
        let ca_name = Name::from_str(&format!("CN={ca_name},O=Pishkhan Test")).map_err(other)?;
        let ca_key = new_key()?;
        let device_key = new_key()?;
        let now = SystemTime::now();
        let start = now.checked_sub(BACKDATE).unwrap_or(now);
        let ca_der = issue(
            &ca_name,
            &ca_name,
            true,
            &ca_key,
            &ca_key,
            validity(start, now + CA_LIFETIME)?,
        )?;
        let device_name = Name::from_str(DEVICE_SUBJECT).map_err(other)?;
        let device_der = issue(
            &device_name,
            &ca_name,
            false,
            &device_key,
            &ca_key,
            validity(start, now + DEVICE_LIFETIME)?,
        )?;
        Ok(VirtualPki {
            ca_key,
            ca_name,
            ca_der,
            device_key,
            device_der,
        })
    }

    /// The same keys, with the device certificate re-issued for
    /// `[not_before, not_after]` (e.g. an expired one). Cheap.
    pub fn with_device_validity(
        &self,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> io::Result<VirtualPki> {
        let device_name = Name::from_str(DEVICE_SUBJECT).map_err(other)?;
        let device_der = issue(
            &device_name,
            &self.ca_name,
            false,
            &self.device_key,
            &self.ca_key,
            validity(not_before, not_after)?,
        )?;
        Ok(VirtualPki {
            device_der,
            ..self.clone()
        })
    }

    /// The CA certificate (DER), for [`TrustStore::with_ca_der`].
    pub fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// The CA certificate as PEM.
    pub fn ca_pem(&self) -> String {
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &self.ca_der)
            .unwrap_or_default()
    }

    /// The device certificate (DER).
    pub fn device_der(&self) -> &[u8] {
        &self.device_der
    }

    /// The device's signing key.
    pub fn device_key(&self) -> &SigningKey<Sha256> {
        &self.device_key
    }

    /// The CA's signing key (to issue more certificates in tests).
    pub fn ca_key(&self) -> &SigningKey<Sha256> {
        &self.ca_key
    }

    /// The `x5c` header value: the device certificate only (the CA is the
    /// station's trust anchor), standard base64.
    pub fn x5c(&self) -> Vec<String> {
        vec![base64::engine::general_purpose::STANDARD.encode(&self.device_der)]
    }

    /// Signs `payload` as the device: RS256 with the `x5c` chain.
    pub fn sign_jws(&self, payload: &[u8]) -> String {
        proto::sign_jws_rs256(payload, &self.device_key, &self.x5c())
    }

    /// A trust store holding just this CA.
    pub fn trust_store(&self) -> TrustStore {
        let mut store = TrustStore::new();
        // The CA was built here: it always parses.
        if let Err(e) = store.add_ca_der(&self.ca_der) {
            tracing::warn!("virtual CA refused by the trust store: {e}");
        }
        store
    }
}
