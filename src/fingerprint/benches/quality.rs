//! `quality::assess` on one 400 × 500 synthetic finger (500 ppi).
//!
//! Run with `cargo bench -p pishkhan-fingerprint --bench quality`.

use criterion::{Criterion, criterion_group, criterion_main};
use pishkhan_fingerprint::{GrayRef, quality};
use pishkhan_scanner::{Finger, SyntheticFinger};

fn assess(c: &mut Criterion) {
    let (w, h) = (400, 500);
    let pixels = SyntheticFinger::new(7, Finger::RightIndex).capture(1, w as u32, h as u32);
    let image = GrayRef::new(w, h, &pixels).expect("400 × 500 pixels");
    c.bench_function("quality::assess 400x500", |b| {
        b.iter(|| quality::assess(std::hint::black_box(image)));
    });
}

criterion_group!(benches, assess);
criterion_main!(benches);
