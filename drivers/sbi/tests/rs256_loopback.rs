//! The SBI client against the virtual SBI service signing like a real
//! device (RS256 with an `x5c` certificate chain), over real loopback HTTP.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use pishkhan_sbi::virtual_pki::{VirtualPki, issue_der};
use pishkhan_sbi::{Fault, Knobs, SbiScanner, TrustStore, VirtualSbi};
use pishkhan_scanner::{CancelToken, Capture, CaptureRequest, Impression, ScanError, Scanner};

/// One PKI for the whole binary: RSA key generation is slow.
fn pki() -> &'static VirtualPki {
    static PKI: OnceLock<VirtualPki> = OnceLock::new();
    PKI.get_or_init(|| VirtualPki::generate("Loopback Test CA").expect("test PKI"))
}

fn service(pki: VirtualPki, knobs: Knobs) -> VirtualSbi {
    VirtualSbi::start_rs256(0, knobs, pki).expect("virtual SBI starts on an ephemeral port")
}

fn capture(sbi: &VirtualSbi, impression: Impression) -> Result<Capture, ScanError> {
    let mut s = SbiScanner::connect(sbi.addr(), sbi.trust_store())?;
    let req = CaptureRequest {
        impression,
        exceptions: vec![],
        target_quality: 40,
        timeout: Duration::from_secs(20),
    };
    s.capture(&req, &CancelToken::new(), &mut |_| {})
}

fn untrusted_message(result: Result<impl std::fmt::Debug, ScanError>) -> String {
    match result {
        Err(ScanError::Untrusted(m)) => m,
        other => panic!("expected Untrusted, got {other:?}"),
    }
}

#[test]
fn clean_slap_capture_with_rs256_trusted_via_the_ca() {
    let sbi = service(
        pki().clone(),
        Knobs {
            quality: 67,
            ..Knobs::default()
        },
    );
    // Trust exactly the exposed CA certificate, nothing else.
    let ca = sbi.ca_certificate_der().expect("RS256 mode exposes its CA");
    assert_eq!(ca, pki().ca_der());
    let trust = TrustStore::new().with_ca_der(ca).unwrap();
    let mut s = SbiScanner::connect(sbi.addr(), trust).expect("deviceInfo and digitalId verify");
    assert_eq!(s.digital_id().device_sub_type, "Slap");
    let req = CaptureRequest {
        impression: Impression::RightSlap,
        exceptions: vec![],
        target_quality: 40,
        timeout: Duration::from_secs(20),
    };
    let cap = s
        .capture(&req, &CancelToken::new(), &mut |_| {})
        .expect("clean RS256 capture");
    assert_eq!(cap.impression, Impression::RightSlap);
    assert_eq!(cap.fingers.len(), 4);
    assert!(cap.fingers.iter().all(|f| f.device_quality == Some(67)));
    assert_eq!(sbi.control().captures_served(), 1);
}

#[test]
fn rs256_device_is_not_believed_by_pinned_ed25519_keys() {
    let sbi = service(pki().clone(), Knobs::default());
    let pinned = TrustStore::new().with_key(sbi.public_key());
    let m = untrusted_message(SbiScanner::connect(sbi.addr(), pinned));
    assert!(m.contains("no device CA"), "{m}");
}

#[test]
fn untrusted_ca_is_untrusted() {
    let sbi = service(pki().clone(), Knobs::default());
    let t0 = SystemTime::now() - Duration::from_secs(3600);
    let t1 = SystemTime::now() + Duration::from_secs(3600);
    let key = pki().device_key();
    // A different CA.
    let other = issue_der("CN=Other CA", "CN=Other CA", true, key, key, t0, t1).unwrap();
    let trust = TrustStore::new().with_ca_der(&other).unwrap();
    let m = untrusted_message(SbiScanner::connect(sbi.addr(), trust));
    assert!(m.contains("not a trusted CA"), "{m}");
    // A CA with the very same name but another key.
    let name = "CN=Loopback Test CA,O=Pishkhan Test";
    let impostor = issue_der(name, name, true, key, key, t0, t1).unwrap();
    let trust = TrustStore::new().with_ca_der(&impostor).unwrap();
    let m = untrusted_message(SbiScanner::connect(sbi.addr(), trust));
    assert!(m.contains("not validly signed"), "{m}");
}

#[test]
fn expired_device_certificate_is_untrusted() {
    let now = SystemTime::now();
    let expired = pki()
        .with_device_validity(
            now - Duration::from_secs(60 * 24 * 3600),
            now - Duration::from_secs(30 * 24 * 3600),
        )
        .unwrap();
    let sbi = service(expired, Knobs::default());
    let m = untrusted_message(SbiScanner::connect(sbi.addr(), sbi.trust_store()));
    assert!(m.contains("expired"), "{m}");
}

#[test]
fn tampered_payload_is_untrusted() {
    let sbi = service(pki().clone(), Knobs::default());
    sbi.control().set_fault(Fault::TamperedPayload);
    let m = untrusted_message(capture(&sbi, Impression::Thumbs));
    assert!(m.contains("RS256 signature does not verify"), "{m}");
}

#[test]
fn bad_signature_fault_is_untrusted_in_rs256_mode() {
    let sbi = service(pki().clone(), Knobs::default());
    sbi.control().set_fault(Fault::BadSignature);
    untrusted_message(capture(&sbi, Impression::Thumbs));
}

#[test]
fn tampered_payload_is_untrusted_with_ed25519_too() {
    let sbi = VirtualSbi::start(0, Knobs::default()).unwrap();
    sbi.control().set_fault(Fault::TamperedPayload);
    untrusted_message(capture(&sbi, Impression::Thumbs));
}
