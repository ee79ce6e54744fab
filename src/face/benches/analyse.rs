//! Analysis of one 640×480 preview frame: detection with eye refinement,
//! then every check (goal: ≤ 8 ms median on one core). The frame is the
//! public-domain Hopper portrait on a light wall.
//!
//! `cargo bench -p pishkhan-face --bench analyse` (pin to one core with
//! `taskset -c 1`); figures in docs/performance.md.

use criterion::{Criterion, criterion_group, criterion_main};
use image::{Rgb, RgbImage};
use pishkhan_face::{Detector, Policy, analyse};

fn frame() -> RgbImage {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/portraits/mpl_grace_hopper.png"
    );
    let photo = image::open(path).expect("fixture").to_rgb8();
    let scaled = image::imageops::resize(&photo, 410, 480, image::imageops::FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(640, 480, Rgb([232, 232, 228]));
    image::imageops::overlay(&mut frame, &scaled, 115, 0);
    frame
}

fn bench(c: &mut Criterion) {
    let frame = frame();
    let mut detector = Detector::new().expect("model loads");
    let policy = Policy::default();
    assert_eq!(detector.detect(&frame).expect("runs").len(), 1);
    c.bench_function("detect 640x480", |b| {
        b.iter(|| detector.detect(&frame).expect("runs"));
    });
    c.bench_function("detect and check 640x480", |b| {
        b.iter(|| {
            let faces = detector.detect(&frame).expect("runs");
            analyse(&frame, faces, &policy)
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
