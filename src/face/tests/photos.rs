//! The detector and the checks on real photographs (public domain; see
//! tests/fixtures/portraits/README.md): one face found with its eyes where
//! a person marked them, and each fault rejected for its own reason.

use image::{Rgb, RgbImage};
use pishkhan_face::checks::Off;
use pishkhan_face::{CheckId, Detector, Face, Point, Policy, analyse};

fn photo(name: &str) -> RgbImage {
    let path = format!(
        "{}/../../tests/fixtures/portraits/{name}.png",
        env!("CARGO_MANIFEST_DIR")
    );
    image::open(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .to_rgb8()
}

/// `image` scaled by `factor` and centred on a light wall of
/// `width`×`height`, as a camera at the right distance would see it.
fn framed(image: &RgbImage, factor: f32, width: u32, height: u32) -> RgbImage {
    let scaled = image::imageops::resize(
        image,
        (image.width() as f32 * factor) as u32,
        (image.height() as f32 * factor) as u32,
        image::imageops::FilterType::CatmullRom,
    );
    let mut frame = RgbImage::from_pixel(width, height, Rgb([232, 232, 228]));
    let x = (i64::from(width) - i64::from(scaled.width())) / 2;
    let y = (i64::from(height) - i64::from(scaled.height())) / 2;
    image::imageops::overlay(&mut frame, &scaled, x, y);
    frame
}

/// `image` turned by `degrees` about its centre (bilinear, light fill).
fn rotated(image: &RgbImage, degrees: f32) -> RgbImage {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (image.width() as f32 / 2.0, image.height() as f32 / 2.0);
    RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let (sx, sy) = (cx + dx * cos + dy * sin, cy - dx * sin + dy * cos);
        if sx < 0.0
            || sy < 0.0
            || sx >= image.width() as f32 - 1.0
            || sy >= image.height() as f32 - 1.0
        {
            Rgb([232, 232, 228])
        } else {
            *image.get_pixel(sx as u32, sy as u32)
        }
    })
}

fn near(p: Point, x: f32, y: f32, tolerance: f32) -> bool {
    (p.x - x).hypot(p.y - y) <= tolerance
}

fn one(detector: &mut Detector, image: &RgbImage) -> Face {
    let faces = detector.detect(image).expect("detects");
    assert_eq!(faces.len(), 1, "{faces:?}");
    faces[0]
}

#[test]
fn one_face_and_its_eyes_where_a_person_marked_them() {
    let mut detector = Detector::new().expect("model loads");
    for (name, right, left) in [
        ("skimage_astronaut", (204.0, 101.0), (246.0, 102.0)),
        ("mpl_grace_hopper", (221.0, 188.0), (306.0, 185.0)),
    ] {
        let face = one(&mut detector, &photo(name));
        assert!(
            near(face.right_eye, right.0, right.1, 4.0),
            "{name}: {face:?}"
        );
        assert!(near(face.left_eye, left.0, left.1, 4.0), "{name}: {face:?}");
        assert!(
            face.bbox.x < right.0 && face.bbox.right() > left.0,
            "{name}: {face:?}"
        );
    }
}

#[test]
fn no_face_and_two_faces_are_told_apart() {
    let mut detector = Detector::new().expect("model loads");
    let policy = Policy::default();
    let coffee = photo("skimage_coffee");
    let a = analyse(&coffee, detector.detect(&coffee).expect("runs"), &policy);
    assert_eq!(
        a.first_failure().map(|c| (c.id, c.off)),
        Some((CheckId::OneFace, Some(Off::Low)))
    );

    let hopper = photo("mpl_grace_hopper");
    let mut pair = RgbImage::from_pixel(hopper.width() * 2, hopper.height(), Rgb([232, 232, 228]));
    image::imageops::overlay(&mut pair, &hopper, 0, 0);
    image::imageops::overlay(&mut pair, &hopper, i64::from(hopper.width()), 0);
    let faces = detector.detect(&pair).expect("runs");
    let a = analyse(&pair, faces, &policy);
    assert_eq!(
        a.first_failure().map(|c| (c.id, c.off)),
        Some((CheckId::OneFace, Some(Off::High))),
        "{:?}",
        a.faces
    );
}

#[test]
fn a_good_frame_passes_and_each_fault_fails_its_own_check() {
    let mut detector = Detector::new().expect("model loads");
    let policy = Policy::default();
    // Hopper at 1.3× on a 1280×720 frame: about 110 px between the eyes.
    let good = framed(&photo("mpl_grace_hopper"), 1.3, 1280, 720);
    let face = one(&mut detector, &good);
    let a = analyse(&good, vec![face], &policy);
    for id in [
        CheckId::OneFace,
        CheckId::EyeDistance,
        CheckId::Centred,
        CheckId::Roll,
        CheckId::Yaw,
        CheckId::Pitch,
        CheckId::EyesOpen,
        CheckId::Exposure,
        CheckId::Sharpness,
    ] {
        assert_eq!(
            a.check(id).map(|c| c.passed),
            Some(true),
            "{id:?}: {:?}",
            a.check(id)
        );
    }

    let dark = RgbImage::from_fn(good.width(), good.height(), |x, y| {
        let p = good.get_pixel(x, y);
        Rgb([p[0] / 4, p[1] / 4, p[2] / 4])
    });
    let faces = detector.detect(&dark).expect("runs");
    let a = analyse(&dark, faces, &policy);
    assert_eq!(
        a.check(CheckId::Exposure).map(|c| c.off),
        Some(Some(Off::Low)),
        "{:?}",
        a.checks
    );

    let blurred = image::imageops::blur(&good, 5.0);
    let faces = detector.detect(&blurred).expect("runs");
    let a = analyse(&blurred, faces, &policy);
    assert_eq!(
        a.check(CheckId::Sharpness).map(|c| c.passed),
        Some(false),
        "{:?}",
        a.checks
    );

    let turned = rotated(&good, 20.0);
    let faces = detector.detect(&turned).expect("runs");
    let a = analyse(&turned, faces, &policy);
    let roll = a.check(CheckId::Roll).expect("roll");
    assert!(!roll.passed, "{:?}", a.checks);
    assert!(
        roll.value.is_some_and(|v| (v.abs() - 20.0).abs() < 4.0),
        "{roll:?}"
    );
}

#[test]
fn the_crop_of_a_real_photo_has_the_token_geometry() {
    let mut detector = Detector::new().expect("model loads");
    // Room around the head: the whole crop lies inside the frame.
    let frame = framed(&photo("mpl_grace_hopper"), 1.3, 1280, 960);
    let face = one(&mut detector, &frame);
    let a = analyse(&frame, vec![face], &Policy::default());
    assert_eq!(
        a.check(CheckId::Framing).map(|c| c.passed),
        Some(true),
        "{:?}",
        a.checks
    );
    let (crop, _) = pishkhan_face::geometry::crop_token(&frame, &face, 480);
    assert_eq!(crop.dimensions(), (480, 640));
    // Found again in the crop: eyes level at 0.6·W from the top, centred,
    // 0.25·W apart (within the detector's few pixels).
    let again = one(&mut detector, &crop);
    let mid = again.eye_midpoint();
    assert!((mid.y - 288.0).abs() <= 6.0, "{again:?}");
    assert!((mid.x - 240.0).abs() <= 6.0, "{again:?}");
    assert!(
        (again.inter_eye_distance() - 120.0).abs() <= 6.0,
        "{again:?}"
    );
    assert!(again.roll_degrees().abs() <= 2.0, "{again:?}");
    // Head height in the crop as the checks estimate it.
    let head = again.head_height() / 640.0;
    assert!((0.62..=0.82).contains(&head), "{head}");
}

/// The frontal test photos, as the camera would see them and as stored.
fn frontal() -> Vec<(&'static str, RgbImage)> {
    vec![
        ("astronaut", photo("skimage_astronaut")),
        ("hopper", photo("mpl_grace_hopper")),
        (
            "hopper at 1.3x",
            framed(&photo("mpl_grace_hopper"), 1.3, 1280, 720),
        ),
    ]
}

#[test]
fn frontal_photos_are_frontal_with_open_eyes() {
    let mut detector = Detector::new().expect("model loads");
    let policy = Policy::default();
    for (name, image) in frontal() {
        let face = one(&mut detector, &image);
        assert!(face.landmarks.is_some(), "{name}: {face:?}");
        let a = analyse(&image, vec![face], &policy);
        for id in [CheckId::Yaw, CheckId::Pitch, CheckId::EyesOpen] {
            let check = a.check(id).expect("every check is reported");
            assert!(check.passed && check.value.is_some(), "{name}: {check:?}");
        }
    }
}

/// Paints the subject's `right` (or left) eye of `face` shut: the eye in
/// skin colour sampled on the cheek below it, and a thin dark lash line
/// across where the lids meet.
fn close_eye(image: &mut RgbImage, face: &Face, right: bool) {
    let eye = if right { face.right_eye } else { face.left_eye };
    let ied = face.inter_eye_distance();
    let (mut sum, mut n) = ([0u32; 3], 0u32);
    let cheek_y = eye.y + 0.35 * ied;
    for y in (cheek_y - 0.05 * ied) as u32..(cheek_y + 0.05 * ied) as u32 {
        for x in (eye.x - 0.1 * ied) as u32..(eye.x + 0.1 * ied) as u32 {
            let p = image.get_pixel(x, y);
            for (total, &c) in sum.iter_mut().zip(p.0.iter()) {
                *total += u32::from(c);
            }
            n += 1;
        }
    }
    let skin = Rgb(sum.map(|c| (c / n.max(1)) as u8));
    let lash_half = (0.015 * ied).max(1.0);
    let (x0, x1) = ((eye.x - 0.3 * ied) as u32, (eye.x + 0.3 * ied) as u32);
    let (y0, y1) = ((eye.y - 0.2 * ied) as u32, (eye.y + 0.2 * ied) as u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (dx, dy) = ((x as f32 - eye.x) / ied, (y as f32 - eye.y) / ied);
            if (dx / 0.28).powi(2) + (dy / 0.17).powi(2) > 1.0 {
                continue;
            }
            let lash = dx.abs() < 0.22 && (dy * ied - 0.03 * ied).abs() <= lash_half;
            image.put_pixel(x, y, if lash { Rgb([45, 35, 35]) } else { skin });
        }
    }
}

#[test]
fn closed_eyes_fail_eyes_open() {
    let mut detector = Detector::new().expect("model loads");
    let policy = Policy::default();
    for (name, image) in frontal() {
        let face = one(&mut detector, &image);
        for (shut, right, left) in [
            ("both", true, true),
            ("right", true, false),
            ("left", false, true),
        ] {
            let mut closed = image.clone();
            if right {
                close_eye(&mut closed, &face, true);
            }
            if left {
                close_eye(&mut closed, &face, false);
            }
            // The face found on the open eyes: this tests the measure.
            // (Detecting again, the eye refinement may wander off a shut
            // eye to another dark spot: on Hopper with the left eye shut
            // it lands on another dark spot 33 px away.)
            let a = analyse(&closed, vec![face], &policy);
            let check = a.check(CheckId::EyesOpen).expect("every check is reported");
            assert_eq!(
                (check.passed, check.off),
                (false, Some(Off::Low)),
                "{name}, {shut} closed: {check:?}"
            );
        }
    }
}
