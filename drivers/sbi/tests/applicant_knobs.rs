//! The virtual SBI service's applicant knobs (fingers not placed, the right
//! hand twice, poor captures) and the whole-slap vendor extension, through
//! the real client over loopback HTTP.

use std::time::Duration;

use pishkhan_sbi::{Fault, Knobs, SbiScanner, VirtualSbi};
use pishkhan_scanner::{
    CancelToken, Capture, CaptureRequest, Condition, Finger, Impression, ScanError, Scanner,
    SlapOptions, SyntheticFinger, slap, slap_with,
};

use pishkhan_sbi::virtual_service::{
    FINGER_HEIGHT, FINGER_WIDTH, POOR_QUALITY, SLAP_HEIGHT, SLAP_WIDTH,
};

const ID: u64 = SyntheticFinger::DEFAULT_IDENTITY;

fn service(knobs: Knobs) -> VirtualSbi {
    VirtualSbi::start(0, knobs).expect("virtual SBI starts on an ephemeral port")
}

fn scanner(sbi: &VirtualSbi) -> SbiScanner {
    SbiScanner::connect(sbi.addr(), sbi.trust_store()).expect("connects")
}

fn request(impression: Impression) -> CaptureRequest {
    CaptureRequest {
        impression,
        exceptions: Vec::new(),
        target_quality: 40,
        timeout: Duration::from_secs(30),
    }
}

fn capture(s: &mut SbiScanner, impression: Impression) -> Result<Capture, ScanError> {
    s.capture(&request(impression), &CancelToken::new(), &mut |_| {})
}

/// Share of pixels darker than mid-grey in the box `[x, y, w, h]`.
fn dark_share(pixels: &[u8], width: u32, [x, y, w, h]: [u32; 4]) -> f64 {
    let dark = (y..y + h)
        .flat_map(|yy| (x..x + w).map(move |xx| (xx, yy)))
        .filter(|&(xx, yy)| pixels[(yy * width + xx) as usize] < 128)
        .count();
    dark as f64 / f64::from(w * h)
}

fn the_box(boxes: &[(Finger, [u32; 4])], finger: Finger) -> [u32; 4] {
    boxes
        .iter()
        .find(|(f, _)| *f == finger)
        .map(|(_, b)| *b)
        .expect("the finger has a box")
}

#[test]
fn every_impression_comes_with_its_whole_slap() {
    let sbi = service(Knobs::default());
    let mut s = scanner(&sbi);
    for (seed, impression) in [
        (0u64, Impression::RightSlap),
        (1, Impression::LeftSlap),
        (2, Impression::Thumbs),
    ] {
        let started = std::time::Instant::now();
        let cap = capture(&mut s, impression).expect("a clean capture");
        eprintln!("{impression:?}: capture with slap {:?}", started.elapsed());
        let fingers: Vec<Finger> = cap.fingers.iter().map(|f| f.finger).collect();
        assert_eq!(fingers, impression.fingers(), "{impression:?}");
        let whole = cap.slap.as_ref().expect("the whole slap");
        assert_eq!((whole.width, whole.height), (SLAP_WIDTH, SLAP_HEIGHT));
        assert_eq!(whole.resolution_ppi, 500);
        // Capture n of the service draws with seed n; PNG is lossless.
        let (expected, boxes) = slap(ID, impression, seed, SLAP_WIDTH, SLAP_HEIGHT);
        assert!(whole.pixels == expected, "{impression:?}: the slap drawn");
        assert_eq!(boxes.len(), impression.fingers().len());
    }
    assert_eq!(sbi.control().captures_served(), 3);
}

#[test]
fn without_send_slap_there_is_no_whole_slap() {
    let sbi = service(Knobs {
        send_slap: false,
        ..Knobs::default()
    });
    let mut s = scanner(&sbi);
    let cap = capture(&mut s, Impression::Thumbs).expect("a clean capture");
    assert_eq!(cap.fingers.len(), 2);
    assert_eq!(cap.slap, None);
}

#[test]
fn a_finger_not_placed_is_neither_returned_nor_in_the_slap() {
    let sbi = service(Knobs {
        missing_positions: vec![Finger::RightRing.position()],
        ..Knobs::default()
    });
    let mut s = scanner(&sbi);
    let cap = capture(&mut s, Impression::RightSlap).expect("a capture of three fingers");
    let fingers: Vec<Finger> = cap.fingers.iter().map(|f| f.finger).collect();
    assert_eq!(
        fingers,
        [Finger::RightIndex, Finger::RightMiddle, Finger::RightLittle]
    );
    let whole = cap.slap.expect("the whole slap");
    // Where the ring finger lies when it is placed (same seed), the glass
    // is empty now; the other fingers are still there.
    let (full, boxes) = slap(ID, Impression::RightSlap, 0, SLAP_WIDTH, SLAP_HEIGHT);
    let ring = the_box(&boxes, Finger::RightRing);
    let placed = dark_share(&full, SLAP_WIDTH, ring);
    let absent = dark_share(&whole.pixels, SLAP_WIDTH, ring);
    assert!(
        placed > 0.15,
        "the ring finger shows ridges when placed: {placed:.3}"
    );
    assert!(
        absent < 0.01,
        "its box is nearly white without it: {absent:.3}"
    );
    for f in [Finger::RightIndex, Finger::RightMiddle, Finger::RightLittle] {
        let share = dark_share(&whole.pixels, SLAP_WIDTH, the_box(&boxes, f));
        assert!(share > 0.15, "{f:?} is still there: {share:.3}");
    }
    // The left slap is not affected by a right-hand position.
    let left = capture(&mut s, Impression::LeftSlap).expect("the left slap");
    assert_eq!(left.fingers.len(), 4);
}

#[test]
fn no_finger_placed_is_sbi_error_101() {
    let sbi = service(Knobs {
        missing_positions: vec![1, 6],
        ..Knobs::default()
    });
    let mut s = scanner(&sbi);
    match capture(&mut s, Impression::Thumbs) {
        Err(ScanError::Device { code, .. }) => assert_eq!(code, "101"),
        other => panic!("expected SBI error 101, got {other:?}"),
    }
    assert_eq!(sbi.control().captures_served(), 0);
}

#[test]
fn the_right_hand_twice_is_labelled_left_but_shows_right_fingers() {
    let sbi = service(Knobs::default());
    let mut s = scanner(&sbi);
    let right = capture(&mut s, Impression::RightSlap).expect("the right slap (seed 0)");
    sbi.control().set_hand_twice(true);
    let left = capture(&mut s, Impression::LeftSlap).expect("the left slap (seed 1)");
    let labels: Vec<Finger> = left.fingers.iter().map(|f| f.finger).collect();
    assert_eq!(labels, Impression::LeftSlap.fingers(), "labelled as asked");
    // Each image labelled as a left finger is exactly the corresponding
    // right finger drawn with this capture's seed (1), not the left finger,
    // and another capture than the right slap's own (seed 0).
    for (image, right_finger) in left.fingers.iter().zip(Impression::RightSlap.fingers()) {
        let as_right =
            SyntheticFinger::new(ID, right_finger).capture(1, FINGER_WIDTH, FINGER_HEIGHT);
        let as_left =
            SyntheticFinger::new(ID, image.finger).capture(1, FINGER_WIDTH, FINGER_HEIGHT);
        assert!(
            image.pixels == as_right,
            "{:?} shows {right_finger:?}",
            image.finger
        );
        assert!(image.pixels != as_left, "{:?} is not itself", image.finger);
        let earlier = right.image(right_finger).expect("in the right slap");
        assert!(image.pixels != earlier.pixels, "another capture");
    }
    // The whole slap shows a right hand, in a right hand's layout.
    let whole = left.slap.expect("the whole slap");
    let options = SlapOptions {
        hand_of: Some(Impression::RightSlap),
        ..SlapOptions::default()
    };
    let (expected, boxes) = slap_with(
        ID,
        Impression::LeftSlap,
        1,
        SLAP_WIDTH,
        SLAP_HEIGHT,
        &options,
    );
    assert!(whole.pixels == expected, "the right hand drawn");
    let drawn: Vec<Finger> = boxes.iter().map(|(f, _)| *f).collect();
    assert_eq!(drawn, Impression::RightSlap.fingers());
    let (normal_left, _) = slap(ID, Impression::LeftSlap, 1, SLAP_WIDTH, SLAP_HEIGHT);
    assert!(whole.pixels != normal_left, "not the left hand");
    // The index finger is leftmost, as on a right hand.
    let xs: Vec<u32> = boxes.iter().map(|(_, b)| b[0] + b[2] / 2).collect();
    assert!(xs.windows(2).all(|p| p[0] < p[1]), "{boxes:?}");
}

/// Mean standard deviation of grey levels over the 16 × 16 blocks that the
/// normal capture `reference` shows as finger (mean darker than 200): the
/// ridge contrast where the finger lies.
fn ridge_contrast(pixels: &[u8], reference: &[u8], width: u32, height: u32) -> f64 {
    let (w, h) = (width as usize, height as usize);
    let stats = |img: &[u8], bx: usize, by: usize| {
        let values: Vec<f64> = (by..by + 16)
            .flat_map(|y| (bx..bx + 16).map(move |x| f64::from(img[y * w + x])))
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        (mean, var.sqrt())
    };
    let mut sum = 0.0;
    let mut n = 0usize;
    for by in (0..h - 15).step_by(16) {
        for bx in (0..w - 15).step_by(16) {
            if stats(reference, bx, by).0 < 200.0 {
                sum += stats(pixels, bx, by).1;
                n += 1;
            }
        }
    }
    assert!(n > 50, "the reference shows a finger ({n} blocks)");
    sum / n as f64
}

#[test]
fn a_poor_capture_is_reported_low_and_looks_worse_then_captures_are_normal() {
    let sbi = service(Knobs {
        poor_captures: 1,
        ..Knobs::default()
    });
    let mut s = scanner(&sbi);
    let poor = capture(&mut s, Impression::RightSlap).expect("a poor capture (seed 0)");
    assert_eq!(sbi.control().knobs().poor_captures, 0, "used up");
    let good = capture(&mut s, Impression::RightSlap).expect("a normal capture (seed 1)");
    for image in &poor.fingers {
        assert_eq!(image.device_quality, Some(POOR_QUALITY));
        let f = SyntheticFinger::new(ID, image.finger);
        let expected = f.capture_in(0, FINGER_WIDTH, FINGER_HEIGHT, Condition::Poor);
        assert!(image.pixels == expected, "{:?} drawn poor", image.finger);
        // Compared on the same capture drawn normally: less ridge contrast.
        let normal = f.capture(0, FINGER_WIDTH, FINGER_HEIGHT);
        let c_poor = ridge_contrast(&image.pixels, &normal, FINGER_WIDTH, FINGER_HEIGHT);
        let c_normal = ridge_contrast(&normal, &normal, FINGER_WIDTH, FINGER_HEIGHT);
        assert!(
            c_poor < 0.75 * c_normal,
            "{:?}: ridge contrast {c_poor:.1} poor, {c_normal:.1} normal",
            image.finger
        );
    }
    let (poor_slap, _) = slap_with(
        ID,
        Impression::RightSlap,
        0,
        SLAP_WIDTH,
        SLAP_HEIGHT,
        &SlapOptions {
            condition: Condition::Poor,
            ..SlapOptions::default()
        },
    );
    assert!(
        poor.slap.expect("the slap").pixels == poor_slap,
        "slap drawn poor"
    );
    for image in &good.fingers {
        assert_eq!(image.device_quality, Some(80), "the default quality again");
        let expected =
            SyntheticFinger::new(ID, image.finger).capture(1, FINGER_WIDTH, FINGER_HEIGHT);
        assert!(
            image.pixels == expected,
            "{:?} drawn normally",
            image.finger
        );
    }
}

#[test]
fn a_slap_image_of_another_impression_is_refused() {
    let sbi = service(Knobs {
        fault: Fault::WrongSlap,
        ..Knobs::default()
    });
    let mut s = scanner(&sbi);
    for impression in [
        Impression::LeftSlap,
        Impression::RightSlap,
        Impression::Thumbs,
    ] {
        match capture(&mut s, impression) {
            Err(ScanError::Protocol(message)) => {
                assert!(message.contains("slap of"), "{message}");
                assert!(message.contains(&format!("{impression:?}")), "{message}");
            }
            other => panic!("{impression:?}: expected a protocol error, got {other:?}"),
        }
    }
    // Without the fault the same scanner captures again (the hash chain
    // was not advanced by the refused replies).
    sbi.control().set_fault(Fault::None);
    assert!(capture(&mut s, Impression::Thumbs).is_ok());
}

#[test]
fn the_applicant_knobs_are_set_over_the_admin_endpoint() {
    use std::io::{Read, Write};
    let sbi = service(Knobs::default());
    // Fields left out keep their defaults (`#[serde(default)]`).
    let body =
        br#"{"missing_positions":[3],"hand_twice":true,"poor_captures":2,"send_slap":false}"#;
    let mut conn = std::net::TcpStream::connect(sbi.addr()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /admin/knobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(body).unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let knobs = sbi.control().knobs();
    assert_eq!(knobs.missing_positions, vec![3]);
    assert!(knobs.hand_twice);
    assert_eq!(knobs.poor_captures, 2);
    assert!(!knobs.send_slap);
    assert_eq!(knobs.quality, Knobs::default().quality);
    assert!(Knobs::default().send_slap, "the slap is sent by default");

    let mut s = scanner(&sbi);
    let cap = capture(&mut s, Impression::RightSlap).expect("a capture");
    let fingers: Vec<Finger> = cap.fingers.iter().map(|f| f.finger).collect();
    assert_eq!(
        fingers,
        [Finger::RightIndex, Finger::RightRing, Finger::RightLittle]
    );
    assert_eq!(cap.slap, None);
    assert_eq!(cap.fingers[0].device_quality, Some(POOR_QUALITY));
    assert_eq!(sbi.control().knobs().poor_captures, 1);
}
