//! The station's post-processing of one ten-print set, as the enrolment
//! runs it: three 4-4-2 captures (each a 1600×1500 slap with the device's
//! four segmented 288×384 fingers) assessed one after another — slap
//! segmentation, finger count and hand, quality and minutiae per finger,
//! the sequence check of the device's images against the station's
//! segments, duplicates against the fingers accepted so far — then the ten
//! finger images compressed to WSQ for the packet.
//!
//! Goal: ≤ 300 ms for the whole set. `cargo bench --bench tenprint`;
//! figures in docs/performance.md.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use pishkhan::enrolment::tenprint::{Policy, assess};
use pishkhan_fingerprint::{GrayRef, wsq};
use pishkhan_scanner::{Capture, FingerImage, Impression, SlapImage, SyntheticFinger};

const IDENTITY: u64 = 0xBE4C;

fn capture(impression: Impression) -> Capture {
    let (pixels, _) = pishkhan_scanner::slap(IDENTITY, impression, 1, 1600, 1500);
    Capture {
        impression,
        fingers: impression
            .fingers()
            .into_iter()
            .map(|finger| FingerImage {
                finger,
                width: 288,
                height: 384,
                resolution_ppi: 500,
                pixels: SyntheticFinger::new(IDENTITY, finger).capture(2, 288, 384),
                device_quality: Some(80),
            })
            .collect(),
        slap: Some(SlapImage {
            width: 1600,
            height: 1500,
            resolution_ppi: 500,
            pixels,
        }),
    }
}

fn bench(c: &mut Criterion) {
    let captures: Vec<Capture> = [
        Impression::RightSlap,
        Impression::LeftSlap,
        Impression::Thumbs,
    ]
    .into_iter()
    .map(capture)
    .collect();
    let policy = Policy::default();
    let assess_set = || {
        let mut accepted = Vec::new();
        let mut images = Vec::new();
        for capture in &captures {
            let attempt = assess::assess_capture(capture.clone(), &[], &accepted, &policy);
            assert!(attempt.problems.is_empty(), "{:?}", attempt.problems);
            for a in attempt.fingers {
                accepted.push((a.finger(), Arc::clone(&a.template)));
                images.push(a.image);
            }
        }
        images
    };
    let images = assess_set();
    let encode_all = |images: &[FingerImage]| {
        images
            .iter()
            .map(|i| {
                let gray =
                    GrayRef::new(i.width as usize, i.height as usize, &i.pixels).expect("image");
                wsq::encode(gray, &wsq::EncodeOptions::default())
                    .expect("encodes")
                    .len()
            })
            .sum::<usize>()
    };
    let mut group = c.benchmark_group("tenprint");
    group.sample_size(10);
    group.bench_function("assess 4-4-2 (3 slaps, 10 fingers)", |b| b.iter(assess_set));
    group.bench_function("wsq 10 fingers 288x384", |b| b.iter(|| encode_all(&images)));
    group.bench_function("whole set (assess + wsq)", |b| {
        b.iter(|| encode_all(&assess_set()));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
