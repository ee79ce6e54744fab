//! The SBI client against the virtual SBI service, over real loopback HTTP.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use pishkhan_sbi::{
    DeviceStatus, Fault, Knobs, SbiOptions, SbiScanner, SbiVersion, TrustStore, VirtualSbi,
    discover,
};
use pishkhan_scanner::{
    CancelToken, CaptureRequest, Finger, Impression, ScanError, ScanEvent, Scanner,
};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn service(knobs: Knobs) -> VirtualSbi {
    VirtualSbi::start(0, knobs).expect("virtual SBI starts on an ephemeral port")
}

fn scanner(sbi: &VirtualSbi) -> SbiScanner {
    SbiScanner::connect(sbi.addr(), sbi.trust_store()).expect("connects")
}

fn request(impression: Impression, exceptions: Vec<Finger>) -> CaptureRequest {
    CaptureRequest {
        impression,
        exceptions,
        target_quality: 40,
        timeout: Duration::from_secs(20),
    }
}

/// Runs a capture, collecting its events.
fn capture(
    s: &mut SbiScanner,
    req: &CaptureRequest,
) -> (Result<pishkhan_scanner::Capture, ScanError>, Vec<ScanEvent>) {
    let mut events = Vec::new();
    let result = s.capture(req, &CancelToken::new(), &mut |e| events.push(e));
    (result, events)
}

fn capture_err(sbi: &VirtualSbi) -> ScanError {
    let mut s = scanner(sbi);
    capture(&mut s, &request(Impression::RightSlap, vec![]))
        .0
        .expect_err("capture must fail")
}

#[test]
fn discovery_finds_the_service_in_the_sbi_port_range() {
    // Take a free port of the SBI range (other tests may hold some).
    let sbi = (4501..=4600)
        .find_map(|p| VirtualSbi::start(p, Knobs::default()).ok())
        .expect("a free port in 4501-4600");
    let found = discover(LOCALHOST, 4501..=4600, Duration::from_secs(3));
    let ours = found
        .iter()
        .find(|d| d.addr == sbi.addr())
        .expect("the virtual service is discovered");
    assert_eq!(ours.version, SbiVersion::V10);
    assert_eq!(ours.devices.len(), 1);
    let d = &ours.devices[0];
    assert_eq!(d.device_status, "Ready");
    assert_eq!(d.device_sub_id, vec!["1", "2", "3"]);
    assert_eq!(d.purpose, "Registration");
    assert!(d.spec_version.contains(&"1.0".to_owned()));
}

#[test]
fn discovery_falls_back_to_mosipdisc_and_skips_closed_ports() {
    let sbi = service(Knobs {
        legacy_only: true,
        ..Knobs::default()
    });
    let port = sbi.port();
    let found = discover(LOCALHOST, port..=port, Duration::from_secs(3));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].version, SbiVersion::V095);
    let s = scanner(&sbi);
    assert_eq!(s.version(), SbiVersion::V095);

    // A port that was just released is closed: nothing found there.
    drop(sbi);
    assert!(discover(LOCALHOST, port..=port, Duration::from_secs(1)).is_empty());
}

#[test]
fn connect_reads_verified_device_info() {
    let sbi = service(Knobs::default());
    let s = scanner(&sbi);
    assert_eq!(s.digital_id().device_sub_type, "Slap");
    assert_eq!(s.digital_id().kind, "Finger");
    assert!(s.digital_id().serial_no.len() >= 12);
    let info = s.info();
    assert!(info.capabilities.four_finger_slap);
    assert!(info.capabilities.two_thumbs);
    assert!(!info.capabilities.single_flat);
    assert!(info.id.starts_with("sbi:Pishkhan:"));
}

fn clean_capture(impression: Impression, exceptions: Vec<Finger>) {
    let sbi = service(Knobs {
        quality: 67,
        ..Knobs::default()
    });
    let mut s = scanner(&sbi);
    let req = request(impression, exceptions.clone());
    let (result, events) = capture(&mut s, &req);
    let cap = result.expect("clean capture");
    assert_eq!(cap.impression, impression);
    let fingers: Vec<Finger> = cap.fingers.iter().map(|f| f.finger).collect();
    assert_eq!(fingers, req.expected());
    for img in &cap.fingers {
        assert_eq!(img.device_quality, Some(67));
        assert_eq!(img.resolution_ppi, 500);
        assert_eq!(img.pixels.len(), (img.width * img.height) as usize);
        let dark = img.pixels.iter().filter(|&&p| p < 128).count();
        assert!(
            dark > img.pixels.len() / 20,
            "{:?} shows ridges",
            img.finger
        );
        assert!(!exceptions.contains(&img.finger));
    }
    // Different fingers give different images.
    if cap.fingers.len() > 1 {
        assert_ne!(cap.fingers[0].pixels, cap.fingers[1].pixels);
    }
    // Events: waiting first, previews, then the capture last.
    assert_eq!(events.first(), Some(&ScanEvent::WaitingForFinger));
    let previews: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ScanEvent::Preview(p) => Some(p),
            _ => None,
        })
        .collect();
    assert!(!previews.is_empty(), "previews received");
    for p in &previews {
        assert_eq!((p.width, p.height), (320, 240));
        assert_eq!(p.pixels.len(), 320 * 240);
    }
    assert_eq!(events.last(), Some(&ScanEvent::Captured(cap.clone())));
    assert_eq!(sbi.control().captures_served(), 1);
}

#[test]
fn clean_capture_left_slap() {
    clean_capture(Impression::LeftSlap, vec![]);
}

#[test]
fn clean_capture_right_slap() {
    clean_capture(Impression::RightSlap, vec![]);
}

#[test]
fn clean_capture_thumbs() {
    clean_capture(Impression::Thumbs, vec![]);
}

#[test]
fn capture_respects_exceptions() {
    clean_capture(
        Impression::LeftSlap,
        vec![Finger::LeftLittle, Finger::LeftRing],
    );
}

#[test]
fn identity_seed_changes_the_fingers() {
    let sbi = service(Knobs::default());
    let mut s = scanner(&sbi);
    let req = request(Impression::Thumbs, vec![]);
    let a = capture(&mut s, &req).0.unwrap();
    sbi.control().set_identity_seed(42);
    let b = capture(&mut s, &req).0.unwrap();
    assert_ne!(a.fingers[0].pixels, b.fingers[0].pixels);
}

#[test]
fn single_finger_is_unsupported() {
    let sbi = service(Knobs::default());
    let mut s = scanner(&sbi);
    let req = CaptureRequest::finger(Finger::RightIndex, Duration::from_secs(5));
    assert_eq!(capture(&mut s, &req).0, Err(ScanError::Unsupported));
}

#[test]
fn quality_knob_sets_device_quality() {
    let sbi = service(Knobs::default());
    sbi.control().set_quality(23);
    let mut s = scanner(&sbi);
    let cap = capture(&mut s, &request(Impression::Thumbs, vec![]))
        .0
        .unwrap();
    assert!(cap.fingers.iter().all(|f| f.device_quality == Some(23)));
}

#[test]
fn busy_status_is_busy() {
    let sbi = service(Knobs::default());
    sbi.control().set_status(DeviceStatus::Busy);
    assert_eq!(capture_err(&sbi), ScanError::Busy);
}

#[test]
fn not_ready_status_is_device_error_110() {
    let sbi = service(Knobs::default());
    let mut s = scanner(&sbi);
    sbi.control().set_status(DeviceStatus::NotReady);
    let err = capture(&mut s, &request(Impression::Thumbs, vec![]))
        .0
        .unwrap_err();
    assert_eq!(
        err,
        ScanError::Device {
            code: "110".into(),
            message: "device not ready".into()
        }
    );
}

#[test]
fn not_registered_fails_connect_with_100() {
    let sbi = service(Knobs {
        status: DeviceStatus::NotRegistered,
        ..Knobs::default()
    });
    let err = SbiScanner::connect(sbi.addr(), sbi.trust_store()).unwrap_err();
    assert!(
        matches!(err, ScanError::Device { ref code, .. } if code == "100"),
        "{err:?}"
    );
}

#[test]
fn error_code_fault_maps_to_device_error() {
    let sbi = service(Knobs::default());
    sbi.control().set_fault(Fault::ErrorCode { code: 101 });
    assert_eq!(
        capture_err(&sbi),
        ScanError::Device {
            code: "101".into(),
            message: "no biometric object detected".into()
        }
    );
    sbi.control().set_fault(Fault::ErrorCode { code: 111 });
    assert_eq!(capture_err(&sbi), ScanError::Busy);
    sbi.control().set_fault(Fault::ErrorCode { code: 503 });
    assert!(matches!(capture_err(&sbi), ScanError::Device { code, .. } if code == "503"));
}

#[test]
fn bad_signature_is_untrusted() {
    let sbi = service(Knobs::default());
    sbi.control().set_fault(Fault::BadSignature);
    assert!(matches!(capture_err(&sbi), ScanError::Untrusted(_)));
}

#[test]
fn garbage_body_is_protocol_error() {
    let sbi = service(Knobs::default());
    sbi.control().set_fault(Fault::GarbageBody);
    assert!(matches!(capture_err(&sbi), ScanError::Protocol(_)));
}

#[test]
fn disconnect_mid_response_is_disconnected() {
    let sbi = service(Knobs::default());
    sbi.control().set_fault(Fault::DisconnectMidResponse);
    assert!(matches!(capture_err(&sbi), ScanError::Disconnected(_)));
}

#[test]
fn clock_skew_is_untrusted() {
    let sbi = service(Knobs::default());
    sbi.control().set_fault(Fault::ClockSkew { seconds: 600 });
    assert!(matches!(capture_err(&sbi), ScanError::Untrusted(_)));
    // Within the window it is fine.
    sbi.control().set_fault(Fault::ClockSkew { seconds: -120 });
    let mut s = scanner(&sbi);
    assert!(
        capture(&mut s, &request(Impression::Thumbs, vec![]))
            .0
            .is_ok()
    );
}

#[test]
fn delay_fault_beyond_the_timeout_is_timeout() {
    let sbi = service(Knobs::default());
    sbi.control().set_fault(Fault::Delay { ms: 60_000 });
    let mut s = SbiScanner::connect_with(
        sbi.addr(),
        sbi.trust_store(),
        SbiOptions {
            capture_grace: Duration::ZERO,
            preview: false,
            ..SbiOptions::default()
        },
    )
    .unwrap();
    let mut req = request(Impression::RightSlap, vec![]);
    req.timeout = Duration::from_millis(300);
    let err = capture(&mut s, &req).0.unwrap_err();
    assert_eq!(err, ScanError::Timeout(Duration::from_millis(300)));
}

#[test]
fn untrusted_key_is_refused_at_connect() {
    let sbi = service(Knobs::default());
    let stranger = TrustStore::new().with_key(SigningKey::from_bytes(&[9; 32]).verifying_key());
    let err = SbiScanner::connect(sbi.addr(), stranger).unwrap_err();
    assert!(matches!(err, ScanError::Untrusted(_)), "{err:?}");
    let err = SbiScanner::connect(sbi.addr(), TrustStore::new()).unwrap_err();
    assert!(matches!(err, ScanError::Untrusted(_)), "{err:?}");
}

#[test]
fn closed_port_is_disconnected() {
    let sbi = service(Knobs::default());
    let addr = sbi.addr();
    let trust = sbi.trust_store();
    let mut s = scanner(&sbi);
    drop(sbi);
    assert!(matches!(
        SbiScanner::connect(addr, trust),
        Err(ScanError::Disconnected(_))
    ));
    let err = capture(&mut s, &request(Impression::Thumbs, vec![]))
        .0
        .unwrap_err();
    assert!(matches!(err, ScanError::Disconnected(_)), "{err:?}");
}

#[test]
fn cancel_mid_capture_is_cancelled_and_frees_the_device() {
    let sbi = service(Knobs::default());
    sbi.control().set_capture_delay(Duration::from_secs(60));
    let mut s = scanner(&sbi);
    let cancel = CancelToken::new();
    let req = request(Impression::LeftSlap, vec![]);
    let mut previews = 0;
    let mut on_event = |e: ScanEvent| {
        if matches!(e, ScanEvent::Preview(_)) {
            previews += 1;
            // Cancel once the capture is visibly under way.
            cancel.cancel();
        }
    };
    let result = s.capture(&req, &cancel, &mut on_event);
    assert_eq!(result, Err(ScanError::Cancelled));
    assert!(previews >= 1);
    assert_eq!(sbi.control().captures_served(), 0);

    // The device notices the client left and accepts the next capture.
    sbi.control().set_capture_delay(Duration::ZERO);
    let mut next = None;
    for _ in 0..200 {
        match capture(&mut s, &req).0 {
            Err(ScanError::Busy) => std::thread::sleep(Duration::from_millis(10)),
            other => {
                next = Some(other);
                break;
            }
        }
    }
    assert_eq!(next.expect("device freed").unwrap().fingers.len(), 4);
}

#[test]
fn concurrent_capture_sees_busy() {
    let sbi = service(Knobs::default());
    sbi.control().set_capture_delay(Duration::from_secs(60));
    let mut first = scanner(&sbi);
    let mut second = scanner(&sbi);
    let cancel = CancelToken::new();
    std::thread::scope(|scope| {
        let c = cancel.clone();
        let handle = scope.spawn(move || {
            let mut noop = |_| {};
            first.capture(&request(Impression::Thumbs, vec![]), &c, &mut noop)
        });
        // Wait until the first capture holds the device.
        let control = sbi.control();
        for _ in 0..2000 {
            if control.capturing() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(control.capturing(), "the first capture started");
        let mut req = request(Impression::Thumbs, vec![]);
        req.timeout = Duration::from_secs(5);
        let mut noop = |_| {};
        let result = second.capture(&req, &CancelToken::new(), &mut noop);
        assert_eq!(result, Err(ScanError::Busy));
        cancel.cancel();
        assert_eq!(handle.join().unwrap(), Err(ScanError::Cancelled));
    });
}

#[test]
fn admin_endpoint_changes_knobs() {
    use std::io::{Read, Write};
    let sbi = service(Knobs::default());
    let body = serde_json::to_vec(&Knobs {
        status: DeviceStatus::Busy,
        ..Knobs::default()
    })
    .unwrap();
    let mut conn = std::net::TcpStream::connect(sbi.addr()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /admin/knobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(&body).unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert_eq!(sbi.control().knobs().status, DeviceStatus::Busy);
    assert_eq!(capture_err(&sbi), ScanError::Busy);
}
