//! Tests of the synthetic fingerprint generator.

use pishkhan_scanner::{Finger, Impression, SyntheticFinger, ridge_pattern, slap};

const W: u32 = 256;
const H: u32 = 288;

/// A grey image prepared for comparison: the ridge signal normalised to
/// zero mean and unit deviation locally (0 off the finger), and a block
/// orientation field.
struct Prepared {
    w: usize,
    h: usize,
    /// Normalised ridge signal, 0 in the background.
    sig: Vec<f32>,
    /// Per 8×8 block: doubled-angle unit vector of the orientation, if the
    /// block is on the finger.
    ori: Vec<Option<(f32, f32)>>,
    /// Sample points (every 4th pixel and row) on the finger.
    points: Vec<(f32, f32, f32)>,
}

const BLOCK: usize = 8;

fn prepare(pixels: &[u8], w: usize, h: usize) -> Prepared {
    let ink: Vec<f64> = pixels.iter().map(|&v| f64::from(255 - v) / 255.0).collect();
    // Integral images of ink and ink².
    let mut s1 = vec![0f64; (w + 1) * (h + 1)];
    let mut s2 = vec![0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        for x in 0..w {
            let v = ink[y * w + x];
            let i = (y + 1) * (w + 1) + x + 1;
            s1[i] = v + s1[i - 1] + s1[i - w - 1] - s1[i - w - 2];
            s2[i] = v * v + s2[i - 1] + s2[i - w - 1] - s2[i - w - 2];
        }
    }
    let r = 8usize;
    let mut sig = vec![0f32; w * h];
    let mut fg = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
            let (x1, y1) = ((x + r + 1).min(w), (y + r + 1).min(h));
            let n = ((x1 - x0) * (y1 - y0)) as f64;
            let rect = |s: &[f64]| {
                s[y1 * (w + 1) + x1] - s[y0 * (w + 1) + x1] - s[y1 * (w + 1) + x0]
                    + s[y0 * (w + 1) + x0]
            };
            let mean = rect(&s1) / n;
            let var = (rect(&s2) / n - mean * mean).max(0.0);
            let sd = var.sqrt();
            if sd > 0.1 {
                fg[y * w + x] = true;
                sig[y * w + x] = ((ink[y * w + x] - mean) / sd).clamp(-3.0, 3.0) as f32;
            }
        }
    }
    // Block orientation from the gradient covariance over 3×3 blocks,
    // with integral images of the gradient products.
    let mut ixx = vec![0f64; (w + 1) * (h + 1)];
    let mut iyy = vec![0f64; (w + 1) * (h + 1)];
    let mut ixy = vec![0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        for x in 0..w {
            let at = |x: usize, y: usize| ink[y.min(h - 1) * w + x.min(w - 1)];
            let gx = at(x + 1, y) - at(x.saturating_sub(1), y);
            let gy = at(x, y + 1) - at(x, y.saturating_sub(1));
            let i = (y + 1) * (w + 1) + x + 1;
            ixx[i] = gx * gx + ixx[i - 1] + ixx[i - w - 1] - ixx[i - w - 2];
            iyy[i] = gy * gy + iyy[i - 1] + iyy[i - w - 1] - iyy[i - w - 2];
            ixy[i] = gx * gy + ixy[i - 1] + ixy[i - w - 1] - ixy[i - w - 2];
        }
    }
    let (bw, bh) = (w / BLOCK, h / BLOCK);
    let mut ori = vec![None; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let (cx, cy) = (bx * BLOCK + BLOCK / 2, by * BLOCK + BLOCK / 2);
            let inside = (0..BLOCK * BLOCK)
                .filter(|i| fg[(by * BLOCK + i / BLOCK) * w + bx * BLOCK + i % BLOCK])
                .count();
            if inside * 4 < BLOCK * BLOCK * 3 {
                continue;
            }
            let (x0, y0) = (cx.saturating_sub(12), cy.saturating_sub(12));
            let (x1, y1) = ((cx + 12).min(w), (cy + 12).min(h));
            let rect = |s: &[f64]| {
                s[y1 * (w + 1) + x1] - s[y0 * (w + 1) + x1] - s[y1 * (w + 1) + x0]
                    + s[y0 * (w + 1) + x0]
            };
            let (gxx, gyy, gxy) = (rect(&ixx), rect(&iyy), rect(&ixy));
            let (c, s) = (gxx - gyy, 2.0 * gxy);
            let norm = c.hypot(s);
            if norm > 1e-9 {
                ori[by * bw + bx] = Some(((c / norm) as f32, (s / norm) as f32));
            }
        }
    }
    let mut points = Vec::new();
    for y in (0..h).step_by(4) {
        for x in (0..w).step_by(4) {
            if fg[y * w + x] {
                points.push((x as f32, y as f32, sig[y * w + x]));
            }
        }
    }
    Prepared {
        w,
        h,
        sig,
        ori,
        points,
    }
}

impl Prepared {
    fn sample(&self, x: f32, y: f32) -> Option<f32> {
        if !(x >= 0.0 && y >= 0.0) {
            return None;
        }
        let (ix, iy) = (x as usize, y as usize);
        if ix + 1 >= self.w || iy + 1 >= self.h {
            return None;
        }
        let (tx, ty) = (x - ix as f32, y - iy as f32);
        let i = iy * self.w + ix;
        let s = &self.sig;
        if s[i] == 0.0 || s[i + 1] == 0.0 || s[i + self.w] == 0.0 || s[i + self.w + 1] == 0.0 {
            return None;
        }
        let top = s[i] + tx * (s[i + 1] - s[i]);
        let bottom = s[i + self.w] + tx * (s[i + self.w + 1] - s[i + self.w]);
        Some(top + ty * (bottom - top))
    }

    /// Normalised cross-correlation of the ridge signals with `other`
    /// under the rigid transform p ↦ c + R(angle)(p − c) + (tx, ty),
    /// discounted when the overlap is small.
    fn ncc(&self, other: &Prepared, angle: f32, tx: f32, ty: f32) -> f32 {
        let (s, c) = angle.sin_cos();
        let (cx, cy) = (self.w as f32 / 2.0, self.h as f32 / 2.0);
        let (mut ab, mut aa, mut bb, mut n) = (0f32, 0f32, 0f32, 0usize);
        for &(x, y, a) in &self.points {
            let (dx, dy) = (x - cx, y - cy);
            let qx = cx + c * dx - s * dy + tx;
            let qy = cy + s * dx + c * dy + ty;
            if let Some(b) = other.sample(qx, qy) {
                ab += a * b;
                aa += a * a;
                bb += b * b;
                n += 1;
            }
        }
        if n == 0 {
            return 0.0;
        }
        let overlap = (n as f32 / (0.4 * self.points.len() as f32)).min(1.0);
        overlap * ab / (aa * bb).sqrt().max(1e-6)
    }

    /// Agreement of the orientation fields under the same transform.
    fn orientation_agreement(&self, other: &Prepared, angle: f32, tx: f32, ty: f32) -> f32 {
        let (s, c) = angle.sin_cos();
        let (r2c, r2s) = ((2.0 * angle).cos(), (2.0 * angle).sin());
        let (cx, cy) = (self.w as f32 / 2.0, self.h as f32 / 2.0);
        let (bw, bh) = (self.w / BLOCK, self.h / BLOCK);
        let mut sum = 0f32;
        // Every other block is enough: the field is smooth.
        for by in (0..bh).step_by(2) {
            for bx in (0..bw).step_by(2) {
                let Some((ac, as_)) = self.ori[by * bw + bx] else {
                    continue;
                };
                let (dx, dy) = (
                    (bx * BLOCK + BLOCK / 2) as f32 - cx,
                    (by * BLOCK + BLOCK / 2) as f32 - cy,
                );
                let qx = cx + c * dx - s * dy + tx;
                let qy = cy + s * dx + c * dy + ty;
                if qx < 0.0 || qy < 0.0 {
                    continue;
                }
                let (qbx, qby) = (qx as usize / BLOCK, qy as usize / BLOCK);
                if qbx >= bw || qby >= bh {
                    continue;
                }
                let Some((bc, bs)) = other.ori[qby * bw + qbx] else {
                    continue;
                };
                // Rotate A's doubled angle by 2·angle, then compare.
                let (rc, rs) = (ac * r2c - as_ * r2s, ac * r2s + as_ * r2c);
                sum += rc * bc + rs * bs;
            }
        }
        sum
    }
}

/// Similarity of two captures (same size): the best normalised
/// cross-correlation of their ridge signals over rotations within ±20°
/// and translations within ±32 px (then refined up to ±7 px further). A coarse search on the orientation
/// fields proposes three alignments; each is refined on the ridges.
fn similarity(a: &Prepared, b: &Prepared) -> f32 {
    let mut coarse = Vec::new();
    for ai in -8..=8 {
        let angle = (2.5 * ai as f32).to_radians();
        for ty in (-32..=32).step_by(4) {
            for tx in (-32..=32).step_by(4) {
                let (tx, ty) = (tx as f32, ty as f32);
                coarse.push((a.orientation_agreement(b, angle, tx, ty), angle, tx, ty));
            }
        }
    }
    coarse.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut picked: Vec<(f32, f32, f32)> = Vec::new();
    for &(_, angle, tx, ty) in &coarse {
        if picked.len() == 3 {
            break;
        }
        let distinct = picked.iter().all(|&(pa, px, py)| {
            (pa - angle).abs() > 5f32.to_radians() || (px - tx).abs() > 8.0 || (py - ty).abs() > 8.0
        });
        if distinct {
            picked.push((angle, tx, ty));
        }
    }
    let mut best = f32::MIN;
    for (angle, tx, ty) in picked {
        // Ridge search around the proposal: ±2.5° and ±6 px in steps of
        // 2 px, then ±1 px around the best.
        let mut local = (f32::MIN, angle, tx, ty);
        for ai in -2..=2 {
            let angle = angle + (1.25 * ai as f32).to_radians();
            for dy in (-6..=6).step_by(2) {
                for dx in (-6..=6).step_by(2) {
                    let (x, y) = (tx + dx as f32, ty + dy as f32);
                    let score = a.ncc(b, angle, x, y);
                    if score > local.0 {
                        local = (score, angle, x, y);
                    }
                }
            }
        }
        let (_, angle, x, y) = local;
        for dy in -1..=1 {
            for dx in -1..=1 {
                let score = a.ncc(b, angle, x + dx as f32, y + dy as f32);
                local.0 = local.0.max(score);
            }
        }
        best = best.max(local.0);
    }
    best
}

fn capture(identity: u64, finger: Finger, seed: u64) -> Vec<u8> {
    SyntheticFinger::new(identity, finger).capture(seed, W, H)
}

#[test]
fn captures_of_one_finger_match_and_different_fingers_do_not() {
    let fingers = [Finger::RightIndex, Finger::RightMiddle, Finger::LeftThumb];
    let identities = [11u64, 12, 13, 14, 15];
    let prepared =
        |id: u64, f: Finger, seed: u64| prepare(&capture(id, f, seed), W as usize, H as usize);
    let mut first = Vec::new();
    let mut second = Vec::new();
    for &id in &identities {
        for &f in &fingers {
            first.push((id, f, prepared(id, f, 1)));
            second.push((id, f, prepared(id, f, 2)));
        }
    }
    let mut genuine = Vec::new();
    let mut same_person = Vec::new();
    let mut same_finger = Vec::new();
    for (i, (id, f, a)) in first.iter().enumerate() {
        genuine.push(similarity(a, &second[i].2));
        for (j, (id2, _, b)) in first.iter().enumerate() {
            if j > i && id == id2 {
                same_person.push(similarity(a, b));
            }
        }
        for (id2, f2, b) in &second {
            if f == f2 && id2 > id {
                same_finger.push(similarity(a, b));
            }
        }
    }
    let stats = |v: &[f32]| {
        let min = v.iter().copied().fold(f32::MAX, f32::min);
        let max = v.iter().copied().fold(f32::MIN, f32::max);
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        format!("n={} min={min:.3} mean={mean:.3} max={max:.3}", v.len())
    };
    eprintln!(
        "genuine:                  {} {genuine:.3?}",
        stats(&genuine)
    );
    eprintln!(
        "impostor, same person:    {} {same_person:.3?}",
        stats(&same_person)
    );
    eprintln!(
        "impostor, same position:  {} {same_finger:.3?}",
        stats(&same_finger)
    );
    let worst_genuine = genuine.iter().copied().fold(f32::MAX, f32::min);
    let best_impostor = same_person
        .iter()
        .chain(&same_finger)
        .copied()
        .fold(f32::MIN, f32::max);
    assert!(
        worst_genuine > best_impostor,
        "every genuine pair must score above every impostor pair: {worst_genuine} vs {best_impostor}"
    );
}

/// A minimal PNG writer (8-bit grey, stored deflate blocks), for looking at
/// the generator's output.
fn write_png(path: &str, pixels: &[u8], width: u32, height: u32) {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut raw = Vec::with_capacity(pixels.len() + height as usize);
    for row in pixels.chunks(width as usize) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &v in &raw {
        a = (a + u32::from(v)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    std::fs::write(path, out).expect("write the example PNG");
}

/// The dominant ridge period (pixels) in a 64×64 window centred at
/// (cx, cy): the peak of the windowed DFT magnitude.
fn dominant_period(pixels: &[u8], w: usize, cx: usize, cy: usize) -> f64 {
    const N: usize = 64;
    let mut patch = vec![0f64; N * N];
    for y in 0..N {
        for x in 0..N {
            let hann = |i: usize| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / N as f64).cos();
            let v = f64::from(pixels[(cy - N / 2 + y) * w + cx - N / 2 + x]);
            patch[y * N + x] = v * hann(x) * hann(y);
        }
    }
    let mean = patch.iter().sum::<f64>() / (N * N) as f64;
    let (cos, sin): (Vec<f64>, Vec<f64>) = (0..N)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / N as f64;
            (a.cos(), a.sin())
        })
        .unzip();
    let mut best = (0.0, 0.0);
    for v in 0..=16i64 {
        for u in -16..=16i64 {
            let radius = ((u * u + v * v) as f64).sqrt();
            if radius < 3.0 || (v == 0 && u < 0) {
                continue;
            }
            let (mut re, mut im) = (0.0, 0.0);
            for y in 0..N {
                for x in 0..N {
                    let k = (u * x as i64 + v * y as i64).rem_euclid(N as i64) as usize;
                    let p = patch[y * N + x] - mean;
                    re += p * cos[k];
                    im -= p * sin[k];
                }
            }
            let power = re * re + im * im;
            if power > best.0 {
                best = (power, N as f64 / radius);
            }
        }
    }
    best.1
}

#[test]
fn captures_are_deterministic_and_differ_between_seeds_and_fingers() {
    let f = SyntheticFinger::new(3, Finger::LeftMiddle);
    let a = f.capture(1, W, H);
    assert_eq!(a.len(), (W * H) as usize);
    assert_eq!(
        a,
        SyntheticFinger::new(3, Finger::LeftMiddle).capture(1, W, H)
    );
    assert_ne!(a, f.capture(2, W, H));
    assert_ne!(
        a,
        SyntheticFinger::new(3, Finger::LeftRing).capture(1, W, H)
    );
    assert_ne!(
        a,
        SyntheticFinger::new(4, Finger::LeftMiddle).capture(1, W, H)
    );
    // Odd sizes work too.
    assert_eq!(f.capture(9, 101, 77).len(), 101 * 77);
    // The compatibility entry point renders the default person.
    assert_eq!(
        ridge_pattern(Finger::RightThumb, 5, W, H),
        SyntheticFinger::new(SyntheticFinger::DEFAULT_IDENTITY, Finger::RightThumb)
            .capture(5, W, H)
    );
    let (s1, b1) = slap(3, Impression::Thumbs, 4, 640, 600);
    let (s2, b2) = slap(3, Impression::Thumbs, 4, 640, 600);
    assert_eq!((s1, b1), (s2, b2));
}

#[test]
fn captures_have_finger_background_contrast_and_ridge_period() {
    for (id, finger, seed) in [
        (1u64, Finger::RightThumb, 1u64),
        (2, Finger::RightIndex, 2),
        (3, Finger::LeftMiddle, 3),
        (4, Finger::LeftLittle, 4),
        (5, Finger::RightRing, 5),
    ] {
        let px = capture(id, finger, seed);
        let p = prepare(&px, W as usize, H as usize);
        let fg = p.sig.iter().filter(|&&v| v != 0.0).count() as f64 / px.len() as f64;
        assert!((0.3..0.95).contains(&fg), "{finger:?}: foreground {fg:.2}");
        let white = px.iter().filter(|&&v| v >= 240).count() as f64 / px.len() as f64;
        assert!(white > 0.05, "{finger:?}: background {white:.2}");
        let mut sorted = px.clone();
        sorted.sort_unstable();
        let dark = sorted[px.len() / 20];
        assert!(dark < 100, "{finger:?}: ridges too light ({dark})");
        // Ridge period near the middle of the finger.
        let (mut sx, mut sy, mut n) = (0usize, 0usize, 0usize);
        for (i, v) in p.sig.iter().enumerate() {
            if *v != 0.0 {
                sx += i % W as usize;
                sy += i / W as usize;
                n += 1;
            }
        }
        let (cx, cy) = ((sx / n).clamp(32, 256 - 32), (sy / n).clamp(32, 288 - 32));
        let period = dominant_period(&px, W as usize, cx, cy);
        assert!(
            (7.0..=12.0).contains(&period),
            "{finger:?}: period {period:.1}"
        );
    }
}

#[test]
fn pattern_classes_follow_the_hand() {
    // Over many people, right-hand fingers show mostly right loops and
    // left-hand fingers mostly left loops; every class occurs.
    use pishkhan_scanner::PatternClass::*;
    let mut counts = std::collections::HashMap::new();
    for id in 0..300u64 {
        for f in [Finger::RightMiddle, Finger::LeftMiddle, Finger::RightIndex] {
            let class = SyntheticFinger::pattern_class(id, f);
            *counts.entry((f, class)).or_insert(0) += 1;
        }
    }
    for id in 0..3u64 {
        let f = SyntheticFinger::new(id, Finger::LeftThumb);
        assert_eq!(
            f.class(),
            SyntheticFinger::pattern_class(id, Finger::LeftThumb)
        );
    }
    let n = |f, c| counts.get(&(f, c)).copied().unwrap_or(0);
    assert!(n(Finger::RightMiddle, RightLoop) > 3 * n(Finger::RightMiddle, LeftLoop));
    assert!(n(Finger::LeftMiddle, LeftLoop) > 3 * n(Finger::LeftMiddle, RightLoop));
    for c in [Arch, TentedArch, LeftLoop, RightLoop, Whorl] {
        assert!(
            n(Finger::RightIndex, c) > 0,
            "no {c:?} among right index fingers"
        );
    }
}

fn check_slap(impression: Impression, width: u32, height: u32) -> Vec<(Finger, [u32; 4])> {
    let (img, boxes) = slap(21, impression, 5, width, height);
    assert_eq!(img.len(), (width * height) as usize);
    let expected = impression.fingers();
    let got: Vec<Finger> = boxes.iter().map(|(f, _)| *f).collect();
    assert_eq!(
        got, expected,
        "{impression:?}: every finger, in position order"
    );
    for (f, [x, y, w, h]) in &boxes {
        assert!(*w > 0 && *h > 0, "{f:?} box empty");
        assert!(
            x + w <= width && y + h <= height,
            "{f:?} box outside the image"
        );
        // The box holds ridges.
        let dark = (*y..y + h)
            .flat_map(|yy| (*x..x + w).map(move |xx| (xx, yy)))
            .filter(|&(xx, yy)| img[(yy * width + xx) as usize] < 128)
            .count();
        assert!(dark as u32 > w * h / 8, "{f:?}: no ridges in its box");
    }
    for (i, (fa, a)) in boxes.iter().enumerate() {
        for (fb, b) in &boxes[i + 1..] {
            let ix = (a[0] + a[2])
                .min(b[0] + b[2])
                .saturating_sub(a[0].max(b[0]));
            let iy = (a[1] + a[3])
                .min(b[1] + b[3])
                .saturating_sub(a[1].max(b[1]));
            let smaller = (a[2] * a[3]).min(b[2] * b[3]);
            assert!(
                ix * iy * 20 <= smaller,
                "{impression:?}: boxes of {fa:?} and {fb:?} overlap more than 5%"
            );
        }
    }
    boxes
}

#[test]
fn slaps_place_four_fingers_on_an_arc() {
    for (impression, w, h) in [
        (Impression::RightSlap, 1600, 1500),
        (Impression::LeftSlap, 1600, 1500),
        (Impression::RightSlap, 800, 750),
    ] {
        let boxes = check_slap(impression, w, h);
        let centre = |b: &[u32; 4]| (b[0] + b[2] / 2, b[1] + b[3] / 2);
        let xs: Vec<u32> = boxes.iter().map(|(_, b)| centre(b).0).collect();
        // Index to little: left to right on a right hand, right to left on
        // a left hand (the impression is seen from below the glass).
        let ordered = if impression == Impression::RightSlap {
            xs.windows(2).all(|p| p[0] < p[1])
        } else {
            xs.windows(2).all(|p| p[0] > p[1])
        };
        assert!(ordered, "{impression:?}: {boxes:?}");
        // The little finger lies lower and is smaller than the middle one.
        let (middle, little) = (boxes[1].1, boxes[3].1);
        assert!(centre(&little).1 > centre(&middle).1, "{boxes:?}");
        assert!(little[2] * little[3] < middle[2] * middle[3], "{boxes:?}");
    }
    let thumbs = check_slap(Impression::Thumbs, 1600, 1500);
    assert!(
        thumbs[0].1[0] > thumbs[1].1[0],
        "right thumb on the right: {thumbs:?}"
    );
}

#[test]
fn the_virtual_scanner_shows_one_finger_per_person() {
    use pishkhan_scanner::{CancelToken, CaptureRequest, Polling, Scanner, VirtualSensor};
    use std::time::Duration;
    let sensor = VirtualSensor::new(Duration::ZERO).with_identity(77);
    let mut scanner = Polling::new(sensor, Duration::from_millis(1));
    let request = CaptureRequest::finger(Finger::LeftRing, Duration::from_secs(5));
    let mut images = Vec::new();
    for _ in 0..2 {
        let capture = scanner
            .capture(&request, &CancelToken::new(), &mut |_| {})
            .expect("virtual capture");
        images.push(capture.fingers[0].pixels.clone());
    }
    let finger = SyntheticFinger::new(77, Finger::LeftRing);
    assert_eq!(images[0], finger.capture(1, W, H));
    assert_eq!(images[1], finger.capture(2, W, H));
}

#[test]
#[ignore = "writes example images to /tmp"]
fn write_examples() {
    let t = std::time::Instant::now();
    let f = SyntheticFinger::new(1, Finger::RightIndex);
    eprintln!("master {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let img = f.capture(1, 256, 288);
    eprintln!("capture {:?}", t.elapsed());
    write_png("/tmp/pishkhan-synthetic-finger.png", &img, 256, 288);
    let mut sheet = vec![255u8; 256 * 5 * 288 * 4];
    for (r, id) in [1u64, 2, 3, 4].iter().enumerate() {
        for (c, finger) in [
            Finger::RightThumb,
            Finger::RightIndex,
            Finger::RightMiddle,
            Finger::LeftRing,
            Finger::LeftLittle,
        ]
        .iter()
        .enumerate()
        {
            let sf = SyntheticFinger::new(*id, *finger);
            eprintln!(
                "{id} {finger:?} {:?} {:?}",
                sf.class(),
                (sf.cores(), sf.deltas())
            );
            let img = sf.capture(u64::from(r as u8), 256, 288);
            for y in 0..288 {
                let dst = (r * 288 + y) * 256 * 5 + c * 256;
                sheet[dst..dst + 256].copy_from_slice(&img[y * 256..(y + 1) * 256]);
            }
        }
    }
    write_png(
        "/tmp/pishkhan-synthetic-sheet.png",
        &sheet,
        256 * 5,
        288 * 4,
    );
    let t = std::time::Instant::now();
    let (img, boxes) = slap(1, Impression::RightSlap, 1, 1600, 1500);
    eprintln!("slap {:?} {boxes:?}", t.elapsed());
    write_png("/tmp/pishkhan-synthetic-slap.png", &img, 1600, 1500);
}
