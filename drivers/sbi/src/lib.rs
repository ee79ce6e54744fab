//! A client for MOSIP's **SBI** (Secure Biometric Interface, formerly MDS)
//! for 4-4-2 slap fingerprint scanners, and a virtual SBI service that
//! speaks the same protocol.
//!
//! # What SBI is
//!
//! A vendor's device service runs on the enrolment PC and listens on
//! `127.0.0.1`, on one port of 4501–4600. It answers custom HTTP verbs with
//! JSON: discovery (`SBIDISC` in SBI 1.0, `MOSIPDISC` in 0.9.5, unsigned),
//! device info (`SBIDINFO` / `MOSIPDINFO`, each entry a JWS signed by the
//! device), registration capture (`RCAPTURE`: one JWS per finger whose
//! payload carries the ISO 19794-4 image as `bioValue`, its `qualityScore`,
//! `timestamp` and the request's `transactionId`) and a live preview
//! (`STREAM`, M-JPEG). A slap device has three sub-devices: `deviceSubId` 1
//! the left slap, 2 the right slap, 3 both thumbs. Error codes 100–112
//! (and vendor 5xx) come back in each reply's `error` object.
//!
//! # Layout
//!
//! - [`proto`]: the wire format, pure: serde types, JWS compact parsing
//!   and Ed25519 signing, the error code table, bioSubType names and an
//!   incremental, bounded M-JPEG boundary parser;
//!   [`http`]: a minimal HTTP/1.1 codec (custom verbs, chunked bodies);
//!   [`iso`]: a one-finger ISO 19794-4:2005 record. All three are fuzzed
//!   (`fuzz/`).
//! - [`trust`]: [`TrustStore`], the device keys and device-CA certificates
//!   the station believes and the clock-skew window; [`x509`]: `x5c` chain
//!   validation and RS256 verification.
//! - [`client`]: [`discover`] over a port range and [`SbiScanner`], which
//!   implements [`pishkhan_scanner::Scanner`]: it sends `RCAPTURE` while a
//!   `STREAM` feeds [`pishkhan_scanner::ScanEvent::Preview`]s, then checks
//!   and decodes each finger. Blocking; meant for the driver thread.
//! - [`virtual_service`]: [`VirtualSbi`], a loopback SBI slap scanner with
//!   MockMDS-style knobs ([`Knobs`], [`Fault`]) for tests and demos;
//!   [`virtual_pki`]: [`VirtualPki`], a test CA and device certificate so
//!   that it can sign RS256 + `x5c` like a real device.
//!
//! # Trust model
//!
//! Nothing a device says is used before it is verified: the `deviceInfo`
//! and `digitalId` JWS at connect, and every biometric's `data` JWS at
//! capture, must carry a valid signature by a key of the [`TrustStore`];
//! each biometric's `timestamp` must be within the skew window (±5 minutes
//! by default) and its `transactionId` must be the request's. The
//! discovery reply is unsigned and only used to find services.
//!
//! The `alg` header is checked first; two algorithms are implemented:
//!
//! - **EdDSA (Ed25519)** with keys pinned by the station
//!   ([`TrustStore::with_key`]; the virtual device's
//!   [`VirtualSbi::public_key`]).
//! - **RS256 with an `x5c` certificate chain**, as real SBI devices sign:
//!   the chain (base64 DER, leaf first, at most 8 certificates) must lead
//!   to a device-CA certificate the station trusts
//!   ([`TrustStore::with_ca_der`] / [`TrustStore::with_ca_pem`]). Every
//!   certificate must be signed with sha256WithRSAEncryption (other
//!   algorithms are refused by name), carry an RSA key of at least 2048
//!   bits and be within its validity period at the check time
//!   ([`TrustStore::verify_at`]); each must be signed by the key of its
//!   issuer (the next certificate, or a trusted CA matched by name **and**
//!   signature); issuing certificates need `basicConstraints cA=TRUE` (and
//!   `keyCertSign` if they have a `keyUsage`); unknown critical extensions
//!   are refused. The leaf's key then verifies the JWS. Failures name what
//!   failed: unknown issuer, expired / not yet valid, bad chain signature,
//!   bad JWS signature, unsupported algorithm or key
//!   ([`x509::ChainError`]).
//!
//! `none`, `HS256` and anything else are refused as
//! [`pishkhan_scanner::ScanError::Untrusted`].
//!
//! **Not implemented** on the RS256 path: revocation (CRL / OCSP, or
//! MOSIP's revoked-device list), the separate **FTM** trust domain (the
//! `digitalId` is checked against the same CA set as `deviceInfo` and the
//! biometrics), `pathLenConstraint`, name constraints, certificate
//! policies, extended key usage, and matching the certificate to the
//! `deviceCode` / serial number or to the MOSIP device-provider profile.
//! Real devices put JPEG 2000 images in `bioValue`; [`iso`] decodes them
//! (both record editions).
//!
//! # Error mapping
//!
//! SBI code 111 (busy) → `Busy`; every other code → `Device { code,
//! message }` with the English text of the spec table; refused or broken
//! connections (including a reply cut short) → `Disconnected`; malformed
//! JSON, JWS, HTTP or records → `Protocol`; bad signatures, untrusted keys,
//! refused algorithms and skewed clocks → `Untrusted`; no reply within the
//! request's timeout (plus [`SbiOptions::capture_grace`]) → `Timeout`;
//! the cancel token → `Cancelled` within a few milliseconds (the
//! connection is closed, which the virtual device notices). A broken
//! preview stream only loses previews: the capture goes on.

pub mod client;
pub mod http;
pub mod iso;
pub mod proto;
pub mod trust;
pub mod virtual_pki;
pub mod virtual_service;
pub mod x509;

pub use client::{Discovered, SbiOptions, SbiScanner, device_error, discover};
pub use proto::{DeviceStatus, SbiVersion};
pub use trust::{TrustError, TrustStore};
pub use virtual_pki::VirtualPki;
pub use virtual_service::{Fault, Knobs, VirtualControl, VirtualSbi};
pub use x509::ChainError;
