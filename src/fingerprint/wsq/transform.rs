//! The separable 2-D wavelet transform of WSQ (spec §A.1): the symmetric
//! biorthogonal 9/7 filter bank applied along rows and then columns of each
//! node of the wavelet tree, with whole-sample symmetric extension at the
//! edges, and its exact inverse.
//!
//! Analysis of a line `x` of length `n` gives `ceil(n/2)` low-pass samples
//! `L[k] = Σ h0[i]·x[2k+i]` and `floor(n/2)` high-pass samples
//! `H[k] = Σ h1[i]·x[2k+1+i]`, where `x` is mirrored about its first and last
//! samples. Synthesis is `x[m] = Σ L[k]·g0[m−2k] + Σ H[k]·g1[m−2k−1]` with
//! `g0[j] = (−1)^j·h1[j]` and `g1[j] = (−1)^j·h0[j]`; the subbands are
//! extended by mirroring the *positions* they were computed at, which gives
//! the whole- or half-sample symmetry each edge needs (Brislawn, "Classification
//! of nonexpansive symmetric extension transforms for multirate filter banks",
//! ACHA 3, 1996) and perfect reconstruction for every length.
//!
//! Lines are filtered from a padded copy (rows) or as weighted sums of whole
//! rows (columns), so the inner loops are branch-free and vectorise.

use super::tree::Split;

/// The analysis filters, stored from the centre tap outwards (they are
/// symmetric): 9-tap low-pass `h0` and 7-tap high-pass `h1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FilterBank {
    pub lo: [f64; 5],
    pub hi: [f64; 4],
}

impl FilterBank {
    /// The FBI filters (CDF 9/7 scaled by √2), spec Table A.1.
    pub const FBI: FilterBank = FilterBank {
        lo: [
            0.852_698_679_009_403_4,
            0.377_402_855_612_653_8,
            -0.110_624_404_418_423_42,
            -0.023_849_465_019_38,
            0.037_828_455_506_995_46,
        ],
        hi: [
            0.788_485_616_405_664_4,
            -0.418_092_273_222_212_2,
            -0.040_689_417_609_558_44,
            0.064_538_882_628_938_45,
        ],
    };
}

/// The filter taps in the form the loops use.
#[derive(Debug, Clone)]
pub(crate) struct Kernels {
    /// `h0[-4..=4]`.
    lo9: [f32; 9],
    /// `h1[-3..=3]`.
    hi7: [f32; 7],
    /// `g0[0..=3]` (symmetric).
    g0: [f32; 4],
    /// `g1[0..=4]` (symmetric).
    g1: [f32; 5],
}

impl Kernels {
    pub fn new(bank: &FilterBank) -> Self {
        let lo: [f32; 5] = bank.lo.map(|v| v as f32);
        let hi: [f32; 4] = bank.hi.map(|v| v as f32);
        let lo9 = [
            lo[4], lo[3], lo[2], lo[1], lo[0], lo[1], lo[2], lo[3], lo[4],
        ];
        let hi7 = [hi[3], hi[2], hi[1], hi[0], hi[1], hi[2], hi[3]];
        let g0 = [hi[0], -hi[1], hi[2], -hi[3]];
        let g1 = [lo[0], -lo[1], lo[2], -lo[3], lo[4]];
        Self { lo9, hi7, g0, g1 }
    }
}

/// The index that position `i` of a line of length `n` mirrors to under
/// whole-sample symmetric extension (`x[-i] = x[i]`, `x[n-1+i] = x[n-1-i]`).
fn mirror(i: isize, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let period = 2 * (n as isize - 1);
    let j = i.rem_euclid(period);
    (if j >= n as isize { period - j } else { j }) as usize
}

/// The low-pass subband sample that extended index `k` stands for.
fn low_index(k: isize, n: usize) -> usize {
    mirror(2 * k, n) / 2
}

/// The high-pass subband sample that extended index `k` stands for, or
/// `None` for a line of one sample (which has no high-pass output).
fn high_index(k: isize, n: usize) -> Option<usize> {
    (n >= 2).then(|| (mirror(2 * k + 1, n) - 1) / 2)
}

/// `dst += c·src`, element-wise.
fn axpy(dst: &mut [f32], c: f32, src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += c * s;
    }
}

/// `dst += c·(a + b)`, element-wise.
fn axpy2(dst: &mut [f32], c: f32, a: &[f32], b: &[f32]) {
    for ((d, x), y) in dst.iter_mut().zip(a).zip(b) {
        *d += c * (x + y);
    }
}

/// Working memory for the transforms, reused across nodes.
pub(crate) struct Workspace {
    tmp: Vec<f32>,
    line: Vec<f32>,
    low: Vec<f32>,
    high: Vec<f32>,
}

/// Padding of the extended lines: the longest filter reaches 4 samples.
const PAD: usize = 4;
/// Padding of the extended subbands in synthesis.
const SPAD: usize = 3;

impl Workspace {
    pub fn new(width: usize, height: usize) -> Self {
        let longest = width.max(height);
        Self {
            tmp: vec![0.0; width * height],
            line: vec![0.0; longest + 2 * PAD],
            low: vec![0.0; longest / 2 + 2 + 2 * SPAD],
            high: vec![0.0; longest / 2 + 2 + 2 * SPAD],
        }
    }
}

/// The forward transform of `plane` (row-major, `width` wide) over all
/// `steps`, in place.
pub(crate) fn analyze(
    plane: &mut [f32],
    width: usize,
    steps: &[Split],
    k: &Kernels,
    ws: &mut Workspace,
) {
    for step in steps {
        let r = step.rect;
        if r.w == 0 || r.h == 0 {
            continue;
        }
        // Rows: plane → tmp.
        for y in r.y..r.y + r.h {
            let at = y * width + r.x;
            analyze_line(
                &plane[at..at + r.w],
                &mut ws.tmp[at..at + r.w],
                step.invert_x,
                k,
                &mut ws.line,
            );
        }
        // Columns: tmp → plane, one output row at a time.
        let (n, nl) = (r.h, r.h.div_ceil(2));
        let row = |y: usize| y * width + r.x;
        for out in 0..n {
            let (is_low, kk) = match (step.invert_y, out) {
                (false, o) if o < nl => (true, o),
                (false, o) => (false, o - nl),
                (true, o) if o < n - nl => (false, o),
                (true, o) => (true, o - (n - nl)),
            };
            let dst_at = row(r.y + out);
            let dst = &mut plane[dst_at..dst_at + r.w];
            dst.fill(0.0);
            let centre = 2 * kk as isize + isize::from(!is_low);
            let taps: &[f32] = if is_low { &k.lo9 } else { &k.hi7 };
            let half = (taps.len() / 2) as isize;
            for (t, &c) in taps.iter().enumerate() {
                let src_y = r.y + mirror(centre + t as isize - half, n);
                let src_at = row(src_y);
                axpy(dst, c, &ws.tmp[src_at..src_at + r.w]);
            }
        }
    }
}

/// One line of the forward transform: low-pass then high-pass samples into
/// `dst` (high-pass first when `invert`).
fn analyze_line(src: &[f32], dst: &mut [f32], invert: bool, k: &Kernels, line: &mut [f32]) {
    let n = src.len();
    let (nl, nh) = (n.div_ceil(2), n / 2);
    let ext = &mut line[..n + 2 * PAD];
    ext[PAD..PAD + n].copy_from_slice(src);
    for i in 0..PAD {
        ext[PAD - 1 - i] = src[mirror(-1 - i as isize, n)];
        ext[PAD + n + i] = src[mirror((n + i) as isize, n)];
    }
    let (lows, highs) = if invert {
        let (h, l) = dst.split_at_mut(nh);
        (l, h)
    } else {
        dst.split_at_mut(nl)
    };
    // The filters are symmetric: add the two samples under a tap first.
    let (lo, hi) = (&k.lo9[4..], &k.hi7[3..]);
    for (j, out) in lows.iter_mut().enumerate() {
        // Taps h0[-4..=4] around sample 2j, i.e. ext[2j..2j+9].
        let x = &ext[2 * j..2 * j + 9];
        *out = lo[0] * x[4]
            + lo[1] * (x[3] + x[5])
            + lo[2] * (x[2] + x[6])
            + (lo[3] * (x[1] + x[7]) + lo[4] * (x[0] + x[8]));
    }
    for (j, out) in highs.iter_mut().enumerate() {
        // Taps h1[-3..=3] around sample 2j+1, i.e. ext[2j+2..2j+9].
        let x = &ext[2 * j + 2..2 * j + 9];
        *out =
            hi[0] * x[3] + hi[1] * (x[2] + x[4]) + (hi[2] * (x[1] + x[5]) + hi[3] * (x[0] + x[6]));
    }
}

/// The inverse transform of `plane` over all `steps` (taken in reverse),
/// in place.
pub(crate) fn synthesize(
    plane: &mut [f32],
    width: usize,
    steps: &[Split],
    k: &Kernels,
    ws: &mut Workspace,
) {
    for step in steps.iter().rev() {
        let r = step.rect;
        if r.w == 0 || r.h == 0 {
            continue;
        }
        // Columns: plane → tmp.
        let (n, nl) = (r.h, r.h.div_ceil(2));
        let (low0, high0) = if step.invert_y {
            (r.y + n - nl, r.y)
        } else {
            (r.y, r.y + nl)
        };
        let row = |y: usize| y * width + r.x;
        let low_row = |kk: isize| row(low0 + low_index(kk, n));
        let high_row = |kk: isize| high_index(kk, n).map(|i| row(high0 + i));
        for m in 0..n {
            let dst_at = row(r.y + m);
            let dst = &mut ws.tmp[dst_at..dst_at + r.w];
            dst.fill(0.0);
            let i = (m / 2) as isize;
            let src = |at: usize| &plane[at..at + r.w];
            let pair = |dst: &mut [f32], c: f32, a: Option<usize>, b: Option<usize>| match (a, b) {
                (Some(a), Some(b)) => axpy2(dst, c, src(a), src(b)),
                (Some(a), None) | (None, Some(a)) => axpy(dst, c, src(a)),
                (None, None) => {}
            };
            if m % 2 == 0 {
                pair(dst, k.g0[0], Some(low_row(i)), None);
                pair(dst, k.g0[2], Some(low_row(i - 1)), Some(low_row(i + 1)));
                pair(dst, k.g1[1], high_row(i), high_row(i - 1));
                pair(dst, k.g1[3], high_row(i + 1), high_row(i - 2));
            } else {
                pair(dst, k.g0[1], Some(low_row(i)), Some(low_row(i + 1)));
                pair(dst, k.g0[3], Some(low_row(i - 1)), Some(low_row(i + 2)));
                pair(dst, k.g1[0], high_row(i), None);
                pair(dst, k.g1[2], high_row(i - 1), high_row(i + 1));
                pair(dst, k.g1[4], high_row(i - 2), high_row(i + 2));
            }
        }
        // Rows: tmp → plane.
        for y in r.y..r.y + r.h {
            let at = y * width + r.x;
            synthesize_line(
                &ws.tmp[at..at + r.w],
                &mut plane[at..at + r.w],
                step.invert_x,
                k,
                &mut ws.low,
                &mut ws.high,
            );
        }
    }
}

/// One line of the inverse transform.
fn synthesize_line(
    src: &[f32],
    dst: &mut [f32],
    invert: bool,
    k: &Kernels,
    low: &mut [f32],
    high: &mut [f32],
) {
    let n = src.len();
    let (nl, nh) = (n.div_ceil(2), n / 2);
    let (l, h) = if invert {
        let (h, l) = src.split_at(nh);
        (l, h)
    } else {
        src.split_at(nl)
    };
    // Extended subbands: index k of the extension sits at k + SPAD.
    // Inside the subbands index k is sample k; only the pads are mirrored.
    let lx = &mut low[..nl + 2 * SPAD];
    lx[SPAD..SPAD + nl].copy_from_slice(l);
    for j in (0..SPAD).chain(SPAD + nl..lx.len()) {
        lx[j] = l[low_index(j as isize - SPAD as isize, n)];
    }
    let hx = &mut high[..nh.max(1) + 2 * SPAD];
    hx[SPAD..SPAD + nh].copy_from_slice(h);
    for j in (0..SPAD).chain(SPAD + nh..hx.len()) {
        hx[j] = high_index(j as isize - SPAD as isize, n).map_or(0.0, |i| h[i]);
    }
    let (g0, g1) = (&k.g0, &k.g1);
    for (m, out) in dst.iter_mut().enumerate() {
        let i = m / 2 + SPAD;
        *out = if m % 2 == 0 {
            g0[0] * lx[i]
                + g0[2] * (lx[i - 1] + lx[i + 1])
                + g1[1] * (hx[i] + hx[i - 1])
                + g1[3] * (hx[i + 1] + hx[i - 2])
        } else {
            g0[1] * (lx[i] + lx[i + 1])
                + g0[3] * (lx[i - 1] + lx[i + 2])
                + g1[0] * hx[i]
                + g1[2] * (hx[i - 1] + hx[i + 1])
                + g1[4] * (hx[i - 2] + hx[i + 2])
        };
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree::{Layout, Rect};
    use super::*;

    fn noise(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 256.0 - 128.0
            })
            .collect()
    }

    #[test]
    fn lines_reconstruct_perfectly_for_every_length() {
        let k = Kernels::new(&FilterBank::FBI);
        let (mut line, mut low, mut high) = (vec![0.0; 64], vec![0.0; 64], vec![0.0; 64]);
        for n in 1..40 {
            for invert in [false, true] {
                let x = noise(n, n as u64);
                let mut coeffs = vec![0.0; n];
                analyze_line(&x, &mut coeffs, invert, &k, &mut line);
                let mut back = vec![0.0; n];
                synthesize_line(&coeffs, &mut back, invert, &k, &mut low, &mut high);
                for (a, b) in x.iter().zip(&back) {
                    assert!(
                        (a - b).abs() < 1e-3,
                        "n = {n}, invert = {invert}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn low_pass_has_gain_root_two_and_high_pass_kills_constants() {
        let k = Kernels::new(&FilterBank::FBI);
        let mut line = vec![0.0; 32];
        let mut coeffs = vec![0.0; 20];
        analyze_line(&[10.0; 20], &mut coeffs, false, &k, &mut line);
        for v in &coeffs[..10] {
            assert!((v - 10.0 * 2f32.sqrt()).abs() < 1e-4, "{v}");
        }
        for v in &coeffs[10..] {
            assert!(v.abs() < 1e-4, "{v}");
        }
    }

    #[test]
    fn planes_reconstruct_perfectly() {
        let k = Kernels::new(&FilterBank::FBI);
        // Down to 1 × 1: tiny frames are legal to decode.
        for (w, h) in [
            (1, 1),
            (1, 7),
            (2, 3),
            (5, 2),
            (9, 4),
            (32, 32),
            (57, 41),
            (400, 500),
        ] {
            let original = noise(w * h, 7);
            let mut plane = original.clone();
            let layout = Layout::new(w, h);
            let mut ws = Workspace::new(w, h);
            analyze(&mut plane, w, &layout.steps, &k, &mut ws);
            synthesize(&mut plane, w, &layout.steps, &k, &mut ws);
            let worst = original
                .iter()
                .zip(&plane)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(worst < 2e-3, "{w}x{h}: {worst}");
        }
    }

    #[test]
    fn a_single_node_matches_the_line_transform() {
        // One step on a 9 × 7 plane equals rows-then-columns of the 1-D code.
        let k = Kernels::new(&FilterBank::FBI);
        let (w, h) = (9, 7);
        let original = noise(w * h, 3);
        let step = Split {
            rect: Rect { x: 0, y: 0, w, h },
            invert_x: true,
            invert_y: true,
        };
        let mut plane = original.clone();
        analyze(&mut plane, w, &[step], &k, &mut Workspace::new(w, h));
        let mut line = vec![0.0; 32];
        let mut rows = vec![0.0; w * h];
        for y in 0..h {
            analyze_line(
                &original[y * w..(y + 1) * w],
                &mut rows[y * w..(y + 1) * w],
                true,
                &k,
                &mut line,
            );
        }
        for x in 0..w {
            let col: Vec<f32> = (0..h).map(|y| rows[y * w + x]).collect();
            let mut out = vec![0.0; h];
            analyze_line(&col, &mut out, true, &k, &mut line);
            for y in 0..h {
                assert!((out[y] - plane[y * w + x]).abs() < 1e-4);
            }
        }
    }
}
