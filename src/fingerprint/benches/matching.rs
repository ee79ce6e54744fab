//! Minutiae extraction of one 400 × 500 synthetic finger, and matching: one
//! pair, and the 10 × 10 score matrix of a sequence check (ten slap
//! segments against ten flats, stood in for by two captures of the ten
//! fingers).
//!
//! `cargo bench -p pishkhan-fingerprint --bench matching -- --quick`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pishkhan_fingerprint::GrayRef;
use pishkhan_fingerprint::matcher::{self, Prepared};
use pishkhan_fingerprint::minutiae::{self, Template};
use pishkhan_scanner::{Finger, SyntheticFinger};

const PERSON: u64 = 101;

fn capture(finger: Finger, seed: u64) -> Vec<u8> {
    SyntheticFinger::new(PERSON, finger).capture(seed, 400, 500)
}

fn template(finger: Finger, seed: u64) -> Template {
    minutiae::extract(GrayRef::new(400, 500, &capture(finger, seed)).expect("400 × 500"))
}

fn benches(c: &mut Criterion) {
    let pixels = capture(Finger::RightIndex, 1);
    let image = GrayRef::new(400, 500, &pixels).expect("400 × 500");
    c.bench_function("extract 400x500", |b| {
        b.iter(|| minutiae::extract(black_box(image)));
    });

    let a = template(Finger::RightIndex, 1);
    let b = template(Finger::RightIndex, 2);
    let other = template(Finger::LeftMiddle, 2);
    c.bench_function("prepare", |bench| {
        bench.iter(|| matcher::prepare(black_box(&a)));
    });
    c.bench_function("score genuine pair", |bench| {
        bench.iter(|| matcher::score(black_box(&a), black_box(&b)));
    });
    c.bench_function("score impostor pair", |bench| {
        bench.iter(|| matcher::score(black_box(&a), black_box(&other)));
    });

    let rows: Vec<Prepared> = Finger::ALL
        .iter()
        .map(|&f| matcher::prepare(&template(f, 1)))
        .collect();
    let cols: Vec<Prepared> = Finger::ALL
        .iter()
        .map(|&f| matcher::prepare(&template(f, 2)))
        .collect();
    c.bench_function("10x10 score matrix (prepared)", |bench| {
        bench.iter(|| {
            rows.iter()
                .map(|r| {
                    cols.iter()
                        .map(|c| matcher::score_prepared(r, c))
                        .sum::<f32>()
                })
                .sum::<f32>()
        });
    });
}

criterion_group!(matching, benches);
criterion_main!(matching);
