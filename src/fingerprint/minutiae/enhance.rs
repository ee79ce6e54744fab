//! Segmentation, normalisation, orientation field, ridge frequency and
//! Gabor enhancement, on a grid of 8 × 8 blocks.

use std::f32::consts::PI;
use std::sync::OnceLock;

use crate::gray::GrayRef;

/// Side of a block, pixels (0.4 mm at 500 ppi, a little under one ridge
/// period, as in NIST's mindtct).
pub(crate) const BLOCK: usize = 8;
/// Images narrower or lower than this many blocks have no room for a
/// minutia away from the border.
const MIN_BLOCKS: usize = 4;
/// Foreground blocks need at least this local grey-level standard deviation.
const MIN_STD: f32 = 10.0;
/// Below this coherence a block has no dominant ridge direction (noise).
const MIN_COHERENCE: f32 = 0.12;
/// The range of plausible ridge periods at 500 ppi, pixels.
pub(crate) const PERIOD_MIN: f32 = 4.0;
pub(crate) const PERIOD_MAX: f32 = 15.0;
/// Period used when no block has a measurable one.
const PERIOD_DEFAULT: f32 = 9.0;

/// What the enhancement and the detection need to know about an image.
pub(crate) struct Field {
    pub(crate) w: usize,
    pub(crate) h: usize,
    /// Blocks across and down.
    pub(crate) bw: usize,
    pub(crate) bh: usize,
    /// Foreground blocks.
    pub(crate) mask: Vec<bool>,
    /// Chessboard distance, in blocks, from each block to the nearest
    /// background block or to outside the image (0 = background).
    pub(crate) border: Vec<u8>,
    /// Ridge direction per block, radians in `[0, π)`, image axes (y down).
    pub(crate) orient: Vec<f32>,
    /// Coherence of the gradients, 0 (isotropic) … 1 (parallel ridges).
    pub(crate) coherence: Vec<f32>,
    /// Ridge period per block, pixels.
    pub(crate) period: Vec<f32>,
    /// The normalised image: locally zero mean, unit variance, ridges
    /// positive.
    norm: Vec<f32>,
}

impl Field {
    /// Block index of pixel (x, y), both in range.
    pub(crate) fn block_of(&self, x: usize, y: usize) -> usize {
        (y / BLOCK) * self.bw + x / BLOCK
    }

    /// Segments, normalises and measures the image; `None` when it has no
    /// usable foreground.
    pub(crate) fn analyse(image: GrayRef<'_>) -> Option<Field> {
        let (w, h) = (image.width(), image.height());
        if w < MIN_BLOCKS * BLOCK || h < MIN_BLOCKS * BLOCK {
            return None;
        }
        let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
        let (mean, std) = block_statistics(image, bw, bh);

        // Foreground: enough contrast, relative to the best of the image
        // too (so that a dark smudge next to crisp ridges is dropped).
        let mut sorted: Vec<f32> = std.clone();
        sorted.sort_by(f32::total_cmp);
        let p90 = sorted[sorted.len() * 9 / 10];
        let threshold = MIN_STD.max(0.22 * p90);
        let mut mask: Vec<bool> = std.iter().map(|&s| s >= threshold).collect();
        if !mask.iter().any(|&m| m) {
            return None;
        }
        let fg_std: Vec<f32> = std
            .iter()
            .zip(&mask)
            .filter_map(|(&s, &m)| m.then_some(s))
            .collect();
        // Background noise must not be blown up to the size of ridges.
        let floor = 0.35 * median(fg_std).unwrap_or(MIN_STD);

        let norm = normalise(image, bw, bh, &mean, &std, floor);
        let (orient, coherence) = orientation(&norm, w, h, bw, bh);
        for (m, &c) in mask.iter_mut().zip(&coherence) {
            *m &= c >= MIN_COHERENCE;
        }
        clean_mask(&mut mask, bw, bh);
        if !mask.iter().any(|&m| m) {
            return None;
        }
        let mut field = Field {
            w,
            h,
            bw,
            bh,
            border: Vec::new(),
            orient,
            coherence,
            period: vec![PERIOD_DEFAULT; bw * bh],
            mask,
            norm,
        };
        field.measure_period()?;
        field.border = border_distance(&field.mask, bw, bh);
        Some(field)
    }

    /// Ridge period per foreground block from the zero crossings of the
    /// profile across the ridges (Hong, Wan & Jain 1998, §2.4), then
    /// smoothed and filled in from the neighbours. `None` if no block has a
    /// plausible period: then there are no ridges.
    fn measure_period(&mut self) -> Option<()> {
        const LEN: usize = 32;
        const LINES: [f32; 5] = [-6.0, -3.0, 0.0, 3.0, 6.0];
        let (bw, bh) = (self.bw, self.bh);
        let mut raw = vec![f32::NAN; bw * bh];
        let mut profile = [0f32; LEN];
        for by in 0..bh {
            for bx in 0..bw {
                let b = by * bw + bx;
                if !self.mask[b] {
                    continue;
                }
                let (cx, cy) = (
                    (bx * BLOCK) as f32 + BLOCK as f32 / 2.0,
                    (by * BLOCK) as f32 + BLOCK as f32 / 2.0,
                );
                let (ts, tc) = self.orient[b].sin_cos();
                // Across the ridges: the normal (−sin, cos).
                let (nx, ny) = (-ts, tc);
                for (k, p) in profile.iter_mut().enumerate() {
                    let s = k as f32 - (LEN as f32 - 1.0) / 2.0;
                    let mut sum = 0.0;
                    for d in LINES {
                        sum += self.sample(cx + s * nx + d * tc, cy + s * ny + d * ts);
                    }
                    *p = sum;
                }
                raw[b] = period_of(&profile).unwrap_or(f32::NAN);
            }
        }
        let valid: Vec<f32> = raw.iter().copied().filter(|p| p.is_finite()).collect();
        let global = median(valid)?;
        // Gaussian-weighted average of the valid periods around each block.
        const WEIGHTS: [f32; 3] = [1.0, 0.6, 0.14];
        for by in 0..bh {
            for bx in 0..bw {
                let b = by * bw + bx;
                if !self.mask[b] {
                    continue;
                }
                let (mut sum, mut weight) = (0.0, 0.0);
                for dy in -2i32..=2 {
                    for dx in -2i32..=2 {
                        let (x, y) = (bx as i32 + dx, by as i32 + dy);
                        if x < 0 || y < 0 || x >= bw as i32 || y >= bh as i32 {
                            continue;
                        }
                        let p = raw[y as usize * bw + x as usize];
                        if p.is_finite() {
                            let wgt = WEIGHTS[dx.unsigned_abs() as usize]
                                * WEIGHTS[dy.unsigned_abs() as usize];
                            sum += wgt * p;
                            weight += wgt;
                        }
                    }
                }
                self.period[b] = if weight > 0.3 { sum / weight } else { global };
            }
        }
        Some(())
    }

    /// The normalised image at (x, y), nearest pixel, clamped to the image.
    fn sample(&self, x: f32, y: f32) -> f32 {
        let xi = (x.round().max(0.0) as usize).min(self.w - 1);
        let yi = (y.round().max(0.0) as usize).min(self.h - 1);
        self.norm[yi * self.w + xi]
    }
}

/// The median of `xs` (the upper one of an even count), `None` if empty.
fn median(mut xs: Vec<f32>) -> Option<f32> {
    if xs.is_empty() {
        return None;
    }
    let mid = xs.len() / 2;
    let (_, m, _) = xs.select_nth_unstable_by(mid, f32::total_cmp);
    Some(*m)
}

/// Period of a profile across the ridges: twice the mean distance between
/// its zero crossings (after removing its mean), if it has at least three
/// and the period is plausible.
fn period_of(profile: &[f32]) -> Option<f32> {
    let mean = profile.iter().sum::<f32>() / profile.len() as f32;
    let energy: f32 = profile.iter().map(|p| (p - mean).abs()).sum();
    if energy <= 1e-3 {
        return None;
    }
    let (mut first, mut last, mut count) = (0f32, 0f32, 0usize);
    for (k, pair) in profile.windows(2).enumerate() {
        let (a, b) = (pair[0] - mean, pair[1] - mean);
        if (a < 0.0) != (b < 0.0) {
            let z = k as f32 + a / (a - b);
            if count == 0 {
                first = z;
            }
            last = z;
            count += 1;
        }
    }
    if count < 3 {
        return None;
    }
    let period = 2.0 * (last - first) / (count - 1) as f32;
    (PERIOD_MIN..=PERIOD_MAX)
        .contains(&period)
        .then_some(period)
}

/// Mean and standard deviation of the grey levels in a 3 × 3-block window
/// (24 × 24 pixels) around each block.
fn block_statistics(image: GrayRef<'_>, bw: usize, bh: usize) -> (Vec<f32>, Vec<f32>) {
    let h = image.height();
    let mut sum = vec![0f64; bw * bh];
    let mut sq = vec![0f64; bw * bh];
    let mut count = vec![0u32; bw * bh];
    for y in 0..h {
        let row = image.row(y);
        let base = (y / BLOCK) * bw;
        for (bx, chunk) in row.chunks(BLOCK).enumerate() {
            let (mut s, mut q) = (0u32, 0u32);
            for &p in chunk {
                let p = u32::from(p);
                s += p;
                q += p * p;
            }
            sum[base + bx] += f64::from(s);
            sq[base + bx] += f64::from(q);
            count[base + bx] += chunk.len() as u32;
        }
    }
    let mut mean = vec![0f32; bw * bh];
    let mut std = vec![0f32; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let (mut s, mut q, mut n) = (0f64, 0f64, 0f64);
            for y in by.saturating_sub(1)..(by + 2).min(bh) {
                for x in bx.saturating_sub(1)..(bx + 2).min(bw) {
                    s += sum[y * bw + x];
                    q += sq[y * bw + x];
                    n += f64::from(count[y * bw + x]);
                }
            }
            let m = s / n.max(1.0);
            mean[by * bw + bx] = m as f32;
            std[by * bw + bx] = (q / n.max(1.0) - m * m).max(0.0).sqrt() as f32;
        }
    }
    (mean, std)
}

/// `(mean − pixel) / max(std, floor)`, with the block statistics bilinearly
/// interpolated between block centres so that no block edges appear.
fn normalise(
    image: GrayRef<'_>,
    bw: usize,
    bh: usize,
    mean: &[f32],
    std: &[f32],
    floor: f32,
) -> Vec<f32> {
    let (w, h) = (image.width(), image.height());
    let inv: Vec<f32> = std.iter().map(|&s| 1.0 / s.max(floor).max(1.0)).collect();
    // Column interpolation tables: left block, right block, weight.
    let cols: Vec<(usize, usize, f32)> = (0..w).map(|x| interp(x, bw)).collect();
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        let (b0, b1, fy) = interp(y, bh);
        let row = image.row(y);
        let dst = &mut out[y * w..(y + 1) * w];
        for ((d, &p), &(a0, a1, fx)) in dst.iter_mut().zip(row).zip(&cols) {
            let at = |v: &[f32]| {
                let top = v[b0 * bw + a0] + fx * (v[b0 * bw + a1] - v[b0 * bw + a0]);
                let bottom = v[b1 * bw + a0] + fx * (v[b1 * bw + a1] - v[b1 * bw + a0]);
                top + fy * (bottom - top)
            };
            *d = (at(mean) - f32::from(p)) * at(&inv);
        }
    }
    out
}

/// The two blocks around coordinate `p` and the weight of the second.
fn interp(p: usize, blocks: usize) -> (usize, usize, f32) {
    let t = (p as f32 + 0.5) / BLOCK as f32 - 0.5;
    if t <= 0.0 {
        return (0, 0, 0.0);
    }
    let b0 = (t as usize).min(blocks - 1);
    let b1 = (b0 + 1).min(blocks - 1);
    (b0, b1, t - b0 as f32)
}

/// Ridge orientation and coherence per block from the averaged squared
/// Sobel gradients over a 3 × 3-block window, then smoothed as a
/// doubled-angle field weighted by coherence over 5 × 5 blocks.
fn orientation(norm: &[f32], w: usize, h: usize, bw: usize, bh: usize) -> (Vec<f32>, Vec<f32>) {
    let mut gxx = vec![0f32; bw * bh];
    let mut gxy = vec![0f32; bw * bh];
    let mut gg = vec![0f32; bw * bh];
    for y in 1..h - 1 {
        let (up, mid, down) = (
            &norm[(y - 1) * w..y * w],
            &norm[y * w..(y + 1) * w],
            &norm[(y + 1) * w..(y + 2) * w],
        );
        let base = (y / BLOCK) * bw;
        for x in 1..w - 1 {
            let gx = (up[x + 1] + 2.0 * mid[x + 1] + down[x + 1])
                - (up[x - 1] + 2.0 * mid[x - 1] + down[x - 1]);
            let gy =
                (down[x - 1] + 2.0 * down[x] + down[x + 1]) - (up[x - 1] + 2.0 * up[x] + up[x + 1]);
            let b = base + x / BLOCK;
            gxx[b] += gx * gx - gy * gy;
            gxy[b] += 2.0 * gx * gy;
            gg[b] += gx * gx + gy * gy;
        }
    }
    // Coherence and unit doubled-angle vectors over 3 × 3 blocks.
    let mut coherence = vec![0f32; bw * bh];
    let mut vx = vec![0f32; bw * bh];
    let mut vy = vec![0f32; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let (mut a, mut b, mut g) = (0f32, 0f32, 0f32);
            for y in by.saturating_sub(1)..(by + 2).min(bh) {
                for x in bx.saturating_sub(1)..(bx + 2).min(bw) {
                    a += gxx[y * bw + x];
                    b += gxy[y * bw + x];
                    g += gg[y * bw + x];
                }
            }
            let len = a.hypot(b);
            let i = by * bw + bx;
            if g > 1e-6 && len > 1e-6 {
                coherence[i] = (len / g).min(1.0);
                vx[i] = a / len * coherence[i];
                vy[i] = b / len * coherence[i];
            }
        }
    }
    const WEIGHTS: [f32; 3] = [1.0, 0.6, 0.14];
    let mut orient = vec![0f32; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let (mut a, mut b) = (0f32, 0f32);
            for dy in -2i32..=2 {
                for dx in -2i32..=2 {
                    let (x, y) = (bx as i32 + dx, by as i32 + dy);
                    if x < 0 || y < 0 || x >= bw as i32 || y >= bh as i32 {
                        continue;
                    }
                    let wgt =
                        WEIGHTS[dx.unsigned_abs() as usize] * WEIGHTS[dy.unsigned_abs() as usize];
                    a += wgt * vx[y as usize * bw + x as usize];
                    b += wgt * vy[y as usize * bw + x as usize];
                }
            }
            // The gradient direction is ½·atan2; ridges run across it.
            let theta = 0.5 * b.atan2(a) + PI / 2.0;
            orient[by * bw + bx] = theta.rem_euclid(PI);
        }
    }
    (orient, coherence)
}

/// Closes small gaps, keeps the big connected parts and fills the holes of
/// the block mask (a core or a crease can look like background).
fn clean_mask(mask: &mut [bool], bw: usize, bh: usize) {
    let neighbours = |m: &[bool], bx: usize, by: usize, want: bool| {
        let mut n = 0;
        for y in by.saturating_sub(1)..(by + 2).min(bh) {
            for x in bx.saturating_sub(1)..(bx + 2).min(bw) {
                n += usize::from(m[y * bw + x] == want);
            }
        }
        n
    };
    // Majority smoothing removes specks and notches.
    let copy = mask.to_vec();
    for by in 0..bh {
        for bx in 0..bw {
            let fg = neighbours(&copy, bx, by, true);
            let i = by * bw + bx;
            if copy[i] && fg <= 3 {
                mask[i] = false;
            } else if !copy[i] && fg >= 6 {
                mask[i] = true;
            }
        }
    }
    // Connected components (4-connected) of the foreground.
    let mut label = vec![0u32; bw * bh];
    let mut sizes = vec![0usize];
    let mut stack = Vec::new();
    for start in 0..bw * bh {
        if !mask[start] || label[start] != 0 {
            continue;
        }
        let id = sizes.len() as u32;
        let mut size = 0;
        label[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = (i % bw, i / bw);
            for j in neighbours4(x, y, bw, bh) {
                if mask[j] && label[j] == 0 {
                    label[j] = id;
                    stack.push(j);
                }
            }
        }
        sizes.push(size);
    }
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let keep = (largest / 4).max(12);
    for (m, &l) in mask.iter_mut().zip(&label) {
        if *m && sizes[l as usize] < keep {
            *m = false;
        }
    }
    // Holes: background not reachable from the image edge.
    let mut outside = vec![false; bw * bh];
    for i in 0..bw * bh {
        let (x, y) = (i % bw, i / bw);
        if (x == 0 || y == 0 || x + 1 == bw || y + 1 == bh) && !mask[i] && !outside[i] {
            outside[i] = true;
            stack.push(i);
            while let Some(j) = stack.pop() {
                let (x, y) = (j % bw, j / bw);
                for k in neighbours4(x, y, bw, bh) {
                    if !mask[k] && !outside[k] {
                        outside[k] = true;
                        stack.push(k);
                    }
                }
            }
        }
    }
    for (m, &o) in mask.iter_mut().zip(&outside) {
        *m = !o;
    }
}

/// Chessboard distance transform of the block mask (two passes), counting
/// outside the image as background.
fn border_distance(mask: &[bool], bw: usize, bh: usize) -> Vec<u8> {
    let mut d: Vec<u8> = mask.iter().map(|&m| if m { u8::MAX } else { 0 }).collect();
    let at = |d: &[u8], x: isize, y: isize| -> u8 {
        if x < 0 || y < 0 || x >= bw as isize || y >= bh as isize {
            0
        } else {
            d[y as usize * bw + x as usize]
        }
    };
    for y in 0..bh as isize {
        for x in 0..bw as isize {
            let i = y as usize * bw + x as usize;
            if d[i] == 0 {
                continue;
            }
            let m = at(&d, x - 1, y)
                .min(at(&d, x - 1, y - 1))
                .min(at(&d, x, y - 1))
                .min(at(&d, x + 1, y - 1));
            d[i] = d[i].min(m.saturating_add(1));
        }
    }
    for y in (0..bh as isize).rev() {
        for x in (0..bw as isize).rev() {
            let i = y as usize * bw + x as usize;
            if d[i] == 0 {
                continue;
            }
            let m = at(&d, x + 1, y)
                .min(at(&d, x + 1, y + 1))
                .min(at(&d, x, y + 1))
                .min(at(&d, x - 1, y + 1));
            d[i] = d[i].min(m.saturating_add(1));
        }
    }
    d
}

/// Gabor kernels: radius (the kernels are `2R + 1` square), number of
/// orientations over `[0, π)` and the periods covered (one per pixel).
const R: usize = 7;
const K: usize = 2 * R + 1;
/// Kernel rows are padded to 16 values so that the dot products vectorise.
const ROW: usize = 16;
const ORIENTATIONS: usize = 16;
const PERIODS: usize = (PERIOD_MAX - PERIOD_MIN) as usize + 1;

/// The bank of even-symmetric, zero-mean Gabor kernels, one per
/// (orientation, period), built once.
fn gabor_bank() -> &'static [f32] {
    static BANK: OnceLock<Vec<f32>> = OnceLock::new();
    BANK.get_or_init(|| {
        let mut bank = vec![0f32; ORIENTATIONS * PERIODS * K * ROW];
        for o in 0..ORIENTATIONS {
            let theta = o as f32 * PI / ORIENTATIONS as f32;
            let (ts, tc) = theta.sin_cos();
            for p in 0..PERIODS {
                let period = PERIOD_MIN + p as f32;
                // Narrow across the ridges (one period or so of support),
                // longer along them to bridge gaps (Hong et al. use σ = 4
                // both ways at ~9 px periods).
                let su = (0.42 * period).min(4.2);
                let sv = (0.55 * period).min(5.0);
                let kernel = &mut bank[(o * PERIODS + p) * K * ROW..][..K * ROW];
                let mut envelope = [0f32; K * ROW];
                let (mut sum, mut env_sum) = (0f32, 0f32);
                for j in 0..K {
                    for i in 0..K {
                        let (dx, dy) = (i as f32 - R as f32, j as f32 - R as f32);
                        let u = -dx * ts + dy * tc; // across
                        let v = dx * tc + dy * ts; // along
                        let env = (-0.5 * (u * u / (su * su) + v * v / (sv * sv))).exp();
                        let g = env * (2.0 * PI * u / period).cos();
                        kernel[j * ROW + i] = g;
                        envelope[j * ROW + i] = env;
                        sum += g;
                        env_sum += env;
                    }
                }
                // Zero mean: a uniform patch gives no response.
                let c = sum / env_sum;
                let mut norm = 0f32;
                for (k, e) in kernel.iter_mut().zip(&envelope) {
                    *k -= c * e;
                    norm += k.abs();
                }
                for k in kernel.iter_mut() {
                    *k /= norm;
                }
            }
        }
        bank
    })
}

/// A binary ridge map of the foreground (1 = ridge), `(w + 2) × (h + 2)`
/// with a background frame of one pixel, from the sign of the Gabor
/// response tuned to each block.
pub(crate) fn binarise(field: &Field) -> Binary {
    let (w, h) = (field.w, field.h);
    let bank = gabor_bank();
    // The normalised image with a frame of R zeros (and room for the padded
    // rows on the right).
    let stride = w + 2 * R + ROW;
    let mut padded = vec![0f32; stride * (h + 2 * R)];
    for y in 0..h {
        padded[(y + R) * stride + R..][..w].copy_from_slice(&field.norm[y * w..(y + 1) * w]);
    }
    let mut out = Binary::new(w, h);
    for by in 0..field.bh {
        for bx in 0..field.bw {
            let b = by * field.bw + bx;
            if !field.mask[b] {
                continue;
            }
            let o = (field.orient[b] / PI * ORIENTATIONS as f32).round() as usize % ORIENTATIONS;
            let p = ((field.period[b] - PERIOD_MIN).round().max(0.0) as usize).min(PERIODS - 1);
            let kernel: &[f32] = &bank[(o * PERIODS + p) * K * ROW..][..K * ROW];
            for y in by * BLOCK..((by + 1) * BLOCK).min(h) {
                for x in bx * BLOCK..((bx + 1) * BLOCK).min(w) {
                    // Window rows start at padded (x, y): pixel (x − R, y − R).
                    let mut acc = [0f32; ROW];
                    for j in 0..K {
                        let src: &[f32; ROW] = padded[(y + j) * stride + x..][..ROW]
                            .try_into()
                            .unwrap_or(&[0.0; ROW]);
                        let ker: &[f32; ROW] =
                            kernel[j * ROW..][..ROW].try_into().unwrap_or(&[0.0; ROW]);
                        for i in 0..ROW {
                            acc[i] += src[i] * ker[i];
                        }
                    }
                    if acc.iter().sum::<f32>() > 0.0 {
                        out.set(x, y);
                    }
                }
            }
        }
    }
    out
}

/// A binary image with a one-pixel background frame, so that every pixel
/// of the image has eight neighbours in the buffer.
pub(crate) struct Binary {
    /// Image width and height (the buffer is two pixels larger each way).
    pub(crate) w: usize,
    pub(crate) h: usize,
    pub(crate) stride: usize,
    pub(crate) px: Vec<u8>,
}

impl Binary {
    pub(crate) fn new(w: usize, h: usize) -> Binary {
        Binary {
            w,
            h,
            stride: w + 2,
            px: vec![0; (w + 2) * (h + 2)],
        }
    }

    /// Buffer index of image pixel (x, y).
    pub(crate) fn index(&self, x: usize, y: usize) -> usize {
        (y + 1) * self.stride + x + 1
    }

    pub(crate) fn set(&mut self, x: usize, y: usize) {
        let i = self.index(x, y);
        self.px[i] = 1;
    }

    /// Image coordinates of buffer index `i`.
    pub(crate) fn coords(&self, i: usize) -> (usize, usize) {
        (i % self.stride - 1, i / self.stride - 1)
    }

    /// Offsets of the eight neighbours, clockwise from north (N, NE, E,
    /// SE, S, SW, W, NW): bit `k` of [`Self::neighbours`] is offset `k`.
    pub(crate) fn offsets(&self) -> [isize; 8] {
        let s = self.stride as isize;
        [-s, -s + 1, 1, s + 1, s, s - 1, -1, -s - 1]
    }

    /// The eight neighbours of buffer index `i` (not on the frame) as bits.
    pub(crate) fn neighbours(&self, i: usize) -> u8 {
        let s = self.stride;
        let p = &self.px;
        p[i - s]
            | p[i - s + 1] << 1
            | p[i + 1] << 2
            | p[i + s + 1] << 3
            | p[i + s] << 4
            | p[i + s - 1] << 5
            | p[i - 1] << 6
            | p[i - s - 1] << 7
    }
}

/// The 4-connected neighbours of block `(x, y)` in a `bw × bh` grid, as
/// indices, in the order left, right, up, down.
fn neighbours4(x: usize, y: usize, bw: usize, bh: usize) -> impl Iterator<Item = usize> {
    let i = y * bw + x;
    [
        (x > 0).then(|| i - 1),
        (x + 1 < bw).then(|| i + 1),
        (y > 0).then(|| i - bw),
        (y + 1 < bh).then(|| i + bw),
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_of_a_sine_profile() {
        let profile: Vec<f32> = (0..32)
            .map(|k| (2.0 * PI * k as f32 / 9.0 + 0.3).sin())
            .collect();
        let p = period_of(&profile).expect("periodic");
        assert!((p - 9.0).abs() < 0.3, "{p}");
        assert_eq!(period_of(&[1.0; 32]), None);
    }

    #[test]
    fn kernels_are_zero_mean() {
        let bank = gabor_bank();
        for k in bank.chunks(K * ROW) {
            assert!(k.iter().sum::<f32>().abs() < 1e-4);
        }
    }
}
