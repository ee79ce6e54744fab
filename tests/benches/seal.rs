//! Sealing a 1 MiB packet, including the durable commit: ten 288×384 flat
//! fingers compressed to WSQ, a portrait that brings the packet to 1 MiB,
//! the ANSI/NIST transaction written and read back with every check, the
//! manifest signed, the archive encrypted with age, the header signed, and
//! the outbox transaction (insert, draft delete, audit line) committed with
//! `synchronous=FULL` in WAL mode.
//!
//! Goal: ≤ 50 ms. `cargo bench --bench seal`; figures in
//! docs/performance.md.

use criterion::{Criterion, criterion_group, criterion_main};
use pishkhan::enrolment::tenprint::{CapturedFinger, assess};
use pishkhan::enrolment::{DocumentCheck, JalaliDate, Portrait, Session};
use pishkhan::station::Station;
use pishkhan_scanner::{Finger, FingerImage, Impression, SyntheticFinger};

const TARGET: usize = 1024 * 1024;

/// A portrait of noise (JPEG hardly compresses it) of about `bytes`.
fn portrait(bytes: usize) -> Portrait {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut side = 256u32;
    loop {
        let frame = image::RgbImage::from_fn(side * 4 / 3, side, |_, _| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let [r, g, b, ..] = state.to_le_bytes();
            image::Rgb([r, g, b])
        });
        let portrait = Portrait::from_frame(&frame, "noise".into()).expect("jpeg");
        if portrait.jpeg.len() >= bytes {
            return portrait;
        }
        side += 16;
    }
}

fn session() -> Session {
    let mut session = Session::new("bench", false);
    session.applicant = Some(
        pishkhan::selftest::test_applicant()
            .validate(&pishkhan::enrolment::Rules::on(JalaliDate::today()))
            .expect("valid"),
    );
    for check in DocumentCheck::ALL {
        session.documents.set(check, true);
    }
    for finger in Finger::ALL {
        let image = FingerImage {
            finger,
            width: 288,
            height: 384,
            resolution_ppi: 500,
            pixels: SyntheticFinger::new(7, finger).capture(1, 288, 384),
            device_quality: Some(80),
        };
        let assessed = assess::assess_image(image).expect("assessable");
        session.fingers.insert(
            finger,
            CapturedFinger {
                image: assessed.image,
                quality: assessed.quality,
                attempts: 1,
                forced_by: None,
                impression: Impression::Finger(finger),
                template: assessed.template,
            },
        );
    }
    // Ten WSQ fingers come to about 70 KiB: the portrait makes up the rest.
    session.portrait = Some(portrait(TARGET - 80 * 1024));
    session
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\n",
    )
    .expect("config");
    let station = Station::open(dir.path()).expect("station");
    let template = session();
    let size = station.seal(&template).expect("seals").size;
    eprintln!("sealed packet: {size} bytes of ciphertext");
    assert!(
        (TARGET * 95 / 100..TARGET * 110 / 100).contains(&(size as usize)),
        "the benchmark packet should be about 1 MiB, not {size} bytes"
    );
    let mut group = c.benchmark_group("seal");
    group.sample_size(30);
    group.bench_function("1 MiB packet, durable commit", |b| {
        b.iter(|| {
            let mut session = template.clone();
            session.id = uuid::Uuid::now_v7();
            station.seal(&session).expect("seals")
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
