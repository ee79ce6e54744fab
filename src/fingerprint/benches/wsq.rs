//! WSQ encode and decode of one 400 × 500 synthetic finger at 0.75 bpp, and,
//! for comparison, NBIS's encoder and decoder (the `wsq` 0.9 Python
//! extension of the reference venv) timed on the same pixels.
//!
//! `cargo bench -p pishkhan-fingerprint --bench wsq -- --quick`

use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use criterion::Criterion;
use pishkhan_fingerprint::Gray;
use pishkhan_fingerprint::wsq::{self, EncodeOptions};
use pishkhan_scanner::{Finger, SyntheticFinger};

const WIDTH: usize = 400;
const HEIGHT: usize = 500;

fn finger() -> Gray {
    let pixels =
        SyntheticFinger::new(101, Finger::RightIndex).capture(1, WIDTH as u32, HEIGHT as u32);
    Gray::new(WIDTH, HEIGHT, pixels).expect("400 × 500 pixels")
}

fn benches(c: &mut Criterion, image: &Gray) {
    let options = EncodeOptions::default();
    let bytes = wsq::encode(image.view(), &options).expect("encodes");
    c.bench_function("wsq encode 400x500 @0.75", |b| {
        b.iter(|| wsq::encode(black_box(image.view()), &options).expect("encodes"));
    });
    c.bench_function("wsq decode 400x500 @0.75", |b| {
        b.iter(|| wsq::decode(black_box(&bytes)).expect("decodes"));
    });
}

/// The reference venv's Python, found as the cross tests find it.
fn reference_python() -> Option<PathBuf> {
    let default =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/reference-venv/bin/python");
    let python = std::env::var_os("PISHKHAN_REFERENCE_PYTHON")
        .map(PathBuf::from)
        .or_else(|| default.exists().then_some(default))?;
    let ok = Command::new(&python)
        .args(["-c", "import _wsq"])
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(python)
}

/// Times NBIS on `image` (best of 5 runs of 20 calls each) and returns
/// milliseconds per image for encode and decode.
fn time_nbis(python: &PathBuf, image: &Gray) -> Option<(f64, f64)> {
    const SCRIPT: &str = r#"
import sys, timeit, _wsq
w, h = int(sys.argv[1]), int(sys.argv[2])
raw = sys.stdin.buffer.read()
coded = _wsq.compress(raw, h, w, 12)
n = 20
enc = min(timeit.repeat(lambda: _wsq.compress(raw, h, w, 12), repeat=5, number=n)) / n
dec = min(timeit.repeat(lambda: _wsq.decompress(coded), repeat=5, number=n)) / n
print(f"{enc * 1000:.4f} {dec * 1000:.4f}")
"#;
    let mut child = Command::new(python)
        .args([
            "-c",
            SCRIPT,
            &image.width().to_string(),
            &image.height().to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(image.pixels()).ok()?;
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut it = text.split_whitespace().map(str::parse::<f64>);
    Some((it.next()?.ok()?, it.next()?.ok()?))
}

fn main() {
    let image = finger();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &image);
    c.final_summary();
    // Only when benchmarking, not when `cargo test --benches` smoke-runs us.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    match reference_python().and_then(|py| time_nbis(&py, &image)) {
        Some((enc, dec)) => {
            println!("NBIS (python wsq 0.9) encode {WIDTH}x{HEIGHT}: {enc:.3} ms per image");
            println!("NBIS (python wsq 0.9) decode {WIDTH}x{HEIGHT}: {dec:.3} ms per image");
        }
        None => println!(
            "NBIS (python wsq 0.9) encode {WIDTH}x{HEIGHT}: not measured (no reference venv with \
             the wsq package; set PISHKHAN_REFERENCE_PYTHON)"
        ),
    }
}
