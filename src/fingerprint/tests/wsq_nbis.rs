//! Cross-checks of our WSQ codec against NIST NBIS (`cwsq`/`dwsq` 0.75 bpp,
//! through the `wsq` 0.9 Python extension of the reference venv):
//! NBIS must decode what we encode, we must decode what NBIS encodes to the
//! same pixels as NBIS, and our quality and file sizes must match NBIS's.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use pishkhan_fingerprint::Gray;
use pishkhan_fingerprint::wsq::{self, EncodeOptions};
use pishkhan_scanner::{Finger, SyntheticFinger};

/// Reads raw pixels and our WSQ bytes from stdin; writes length-prefixed:
/// NBIS's WSQ of the pixels, NBIS's decoding of that, NBIS's decoding of
/// ours, and the width, height and PPI NBIS read from ours.
const NBIS_SCRIPT: &str = r#"
import struct, sys
import _wsq
w, h = int(sys.argv[1]), int(sys.argv[2])
data = sys.stdin.buffer.read()
raw, ours = data[:w * h], data[w * h:]
nbis = _wsq.compress(raw, h, w, 12)
nbis_back = _wsq.decompress(nbis)[0]
ours_back, ow, oh, oppi = _wsq.decompress(ours)
out = sys.stdout.buffer
for blob in (nbis, bytes(nbis_back), bytes(ours_back), struct.pack(">iii", ow, oh, oppi)):
    out.write(struct.pack(">I", len(blob)))
    out.write(blob)
"#;

/// NBIS's view of one image.
struct Nbis {
    encoded: Vec<u8>,
    decoded: Vec<u8>,
    ours_decoded: Vec<u8>,
    ours_dims: (i32, i32, i32),
}

fn run_nbis(python: &Path, image: &Gray, ours: &[u8]) -> Nbis {
    let (w, h) = (image.width().to_string(), image.height().to_string());
    let mut child = Command::new(python)
        .args(["-c", NBIS_SCRIPT, &w, &h])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the reference python starts");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(image.pixels()).expect("pixels written");
        stdin.write_all(ours).expect("WSQ written");
    }
    let out = child.wait_with_output().expect("python runs");
    assert!(
        out.status.success(),
        "NBIS failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rest = &out.stdout[..];
    let mut blobs = Vec::new();
    while rest.len() >= 4 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        blobs.push(rest[4..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    assert_eq!(blobs.len(), 4, "four answers from the NBIS script");
    let dims = &blobs[3];
    let int = |i: usize| i32::from_be_bytes([dims[i], dims[i + 1], dims[i + 2], dims[i + 3]]);
    Nbis {
        encoded: blobs[0].clone(),
        decoded: blobs[1].clone(),
        ours_decoded: blobs[2].clone(),
        ours_dims: (int(0), int(4), int(8)),
    }
}

fn rmse(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    (sum / a.len() as f64).sqrt()
}

/// Largest difference and the share of pixels that differ at all.
fn max_diff(a: &[u8], b: &[u8]) -> (u8, f64) {
    assert_eq!(a.len(), b.len());
    let max = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| x.abs_diff(y))
        .max()
        .unwrap_or(0);
    let differ = a.iter().zip(b).filter(|(x, y)| x != y).count();
    (max, differ as f64 / a.len() as f64)
}

#[test]
fn our_codec_interoperates_with_nbis() {
    let Some(python) = common::reference_python() else {
        return;
    };
    let captures = [
        (101, Finger::RightIndex, 1, 400, 500),
        (102, Finger::LeftThumb, 3, 400, 500),
        (103, Finger::RightMiddle, 5, 400, 500),
        (104, Finger::LeftLittle, 2, 400, 500),
        (105, Finger::RightRing, 7, 357, 443),
    ];
    for (identity, finger, capture, w, h) in captures {
        let pixels = SyntheticFinger::new(identity, finger).capture(capture, w, h);
        let image = Gray::new(w as usize, h as usize, pixels).expect("image");
        let ours = wsq::encode(image.view(), &EncodeOptions::default()).expect("we encode");
        let nbis = run_nbis(&python, &image, &ours);
        let label = format!("{finger:?} of #{identity}, {w}x{h}");

        // Our file through NBIS's decoder.
        assert_eq!(
            nbis.ours_dims,
            (w as i32, h as i32, 500),
            "{label}: NBIS reads our header"
        );
        let ours_rmse = rmse(&nbis.ours_decoded, image.pixels());
        let nbis_rmse = rmse(&nbis.decoded, image.pixels());

        // NBIS's file through our decoder.
        let ours_of_nbis = wsq::decode(&nbis.encoded).expect("we decode NBIS output");
        assert_eq!(
            (ours_of_nbis.ppi, ours_of_nbis.bitrate),
            (Some(500), Some(0.75))
        );
        let (d1, f1) = max_diff(ours_of_nbis.image.pixels(), &nbis.decoded);
        // Our file through our decoder.
        let ours_of_ours = wsq::decode(&ours).expect("we decode our output");
        let (d2, f2) = max_diff(ours_of_ours.image.pixels(), &nbis.ours_decoded);

        // A higher rate must give a better image.
        let fine = EncodeOptions {
            bitrate: 2.25,
            ..EncodeOptions::default()
        };
        let ours_fine = wsq::encode(image.view(), &fine).expect("we encode at 2.25");
        let fine_rmse = rmse(
            wsq::decode(&ours_fine).expect("decodes").image.pixels(),
            image.pixels(),
        );
        let our_rate_error = rmse(ours_of_ours.image.pixels(), image.pixels());

        let size_ratio = ours.len() as f64 / nbis.encoded.len() as f64;
        eprintln!(
            "{label}: 0.75 bpp ours {} B (RMSE {ours_rmse:.3} via NBIS), NBIS {} B (RMSE \
             {nbis_rmse:.3}), size ratio {size_ratio:.3}; our decoder vs NBIS: max |diff| {d1} \
             on NBIS files ({:.3} % of pixels differ), {d2} on ours ({:.3} %); 2.25 bpp ours {} \
             B, RMSE {fine_rmse:.3}",
            ours.len(),
            nbis.encoded.len(),
            100.0 * f1,
            100.0 * f2,
            ours_fine.len(),
        );
        assert!(
            ours_rmse <= 1.10 * nbis_rmse,
            "{label}: our RMSE {ours_rmse} vs NBIS {nbis_rmse}"
        );
        assert!(
            d1 <= 1,
            "{label}: our decoding of NBIS's file is off by {d1}"
        );
        assert!(d2 <= 1, "{label}: our decoding of our file is off by {d2}");
        assert!(
            (0.75..=1.25).contains(&size_ratio),
            "{label}: {} bytes vs NBIS {}",
            ours.len(),
            nbis.encoded.len()
        );
        assert!(
            fine_rmse < our_rate_error,
            "{label}: 2.25 bpp is not better"
        );
    }
}

#[test]
fn flat_image_interoperates_with_nbis() {
    // Every subband is empty: the Huffman tables have no codes at all.
    let Some(python) = common::reference_python() else {
        return;
    };
    let image = Gray::filled(128, 96, 201).expect("image");
    let ours = wsq::encode(image.view(), &EncodeOptions::default()).expect("we encode");
    let nbis = run_nbis(&python, &image, &ours);
    assert_eq!(nbis.ours_dims, (128, 96, 500));
    assert_eq!(nbis.ours_decoded, image.pixels());
    let back = wsq::decode(&nbis.encoded).expect("we decode NBIS's flat image");
    assert_eq!(back.image.pixels(), &nbis.decoded[..]);
}

#[test]
fn we_decode_the_sample_shipped_with_the_wsq_wheel() {
    let Some(python) = common::reference_python() else {
        return;
    };
    let path = common::run_python(
        &python,
        "import os, wsq; print(os.path.join(os.path.dirname(wsq.__file__), 'tests', 'test.wsq'))",
        &[],
    );
    let path = path.trim();
    let Ok(bytes) = std::fs::read(path) else {
        eprintln!("SKIPPED: the wsq wheel ships no sample at {path}");
        return;
    };
    let script = r#"
import struct, sys, _wsq
px, w, h, ppi = _wsq.decompress(open(sys.argv[1], "rb").read())
sys.stdout.buffer.write(struct.pack(">ii", w, h) + bytes(px))
"#;
    let out = Command::new(&python)
        .args(["-c", script, path])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let w = i32::from_be_bytes([out.stdout[0], out.stdout[1], out.stdout[2], out.stdout[3]]);
    let h = i32::from_be_bytes([out.stdout[4], out.stdout[5], out.stdout[6], out.stdout[7]]);
    let reference = &out.stdout[8..];

    let ours = wsq::decode(&bytes).expect("we decode the sample");
    assert_eq!(
        (ours.image.width() as i32, ours.image.height() as i32),
        (w, h)
    );
    let (d, f) = max_diff(ours.image.pixels(), reference);
    eprintln!(
        "sample {w}x{h} ({} B): max |diff| {d} against NBIS, {:.3} % of pixels differ; comments {:?}",
        bytes.len(),
        100.0 * f,
        ours.comments
    );
    assert!(d <= 1, "off by {d}");
}
