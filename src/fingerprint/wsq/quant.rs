//! Subband statistics, bit allocation and dead-zone scalar quantisation
//! (spec §A.2 and Appendix A, "Quantization"; NBIS `util.c`).

use super::tree::{NUM_SUBBANDS, Rect};

/// Subbands with a variance below this carry no useful signal and are not
/// coded at all (spec: σ² < 1.01).
const VARIANCE_THRESHOLD: f64 = 1.01;

/// Bin widths and zero-bin widths of every subband (0 = not coded) and the
/// reconstruction point inside a bin, as carried by the DQT segment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QuantTable {
    pub q: [f32; NUM_SUBBANDS],
    pub z: [f32; NUM_SUBBANDS],
    pub center: f32,
}

/// Sum, sum of squares and count of a rectangle of `plane`.
fn moments(plane: &[f32], width: usize, r: Rect) -> (f64, f64, usize) {
    let (mut sum, mut ssq) = (0.0f64, 0.0f64);
    for y in r.y..r.y + r.h {
        let at = y * width + r.x;
        let (mut s, mut q) = (0.0f32, 0.0f32);
        for &v in &plane[at..at + r.w] {
            s += v;
            q += v * v;
        }
        sum += f64::from(s);
        ssq += f64::from(q);
    }
    (sum, ssq, r.area())
}

/// The unbiased variance of a rectangle. For a subband too small for that
/// (one sample, only in images under about 64 pixels) the mean square is
/// used, so that a lone low-pass coefficient is still coded.
fn variance(plane: &[f32], width: usize, r: Rect) -> f64 {
    let (sum, ssq, n) = moments(plane, width, r);
    match n {
        0 => 0.0,
        1 => ssq,
        _ => ((ssq - sum * sum / n as f64) / (n as f64 - 1.0)).max(0.0),
    }
}

/// The central window the spec uses to estimate a subband's variance: it
/// skips the borders, which are dominated by background and edge effects.
fn central(r: Rect) -> Rect {
    let inner = Rect {
        x: r.x + r.w / 8,
        y: r.y + 9 * r.h / 32,
        w: 3 * r.w / 4,
        h: 7 * r.h / 16,
    };
    if inner.area() >= 2 { inner } else { r }
}

/// The variance of every subband. As in the spec, the central windows are
/// used unless the four lowest subbands together vary little (Σσ² < 20000),
/// in which case whole subbands are used.
pub(crate) fn variances(
    plane: &[f32],
    width: usize,
    subbands: &[Rect; NUM_SUBBANDS],
) -> [f64; NUM_SUBBANDS] {
    let mut var = [0.0; NUM_SUBBANDS];
    let low: f64 = subbands[..4]
        .iter()
        .map(|&r| variance(plane, width, central(r)))
        .sum();
    let whole = low < 20_000.0;
    for (v, &r) in var.iter_mut().zip(subbands) {
        *v = variance(plane, width, if whole { r } else { central(r) });
    }
    var
}

/// Bin widths `Q_k` for a target `bitrate` (bits per pixel) from subband
/// variances: the spec's iterative Lagrangian allocation. With relative bin
/// widths `Q'_k` (1 for the four lowest subbands, `10 / (A_k ln σ²_k)`
/// otherwise) and the fraction `m_k` of the image each subband covers,
/// `q = 2^(r/S − 1) / 2.5 / P^(1/S)` with `S = Σ m_k` and
/// `P = Π (σ_k / Q'_k)^m_k` over the subbands that still get a positive
/// rate; subbands with `Q'_k / q ≥ 5σ_k` are dropped from the sums until none
/// is. Then `Q_k = Q'_k / q` for every subband above the variance threshold.
pub(crate) fn allocate(var: &[f64; NUM_SUBBANDS], bitrate: f64) -> [f64; NUM_SUBBANDS] {
    const WEIGHTS: [f64; 8] = [1.32, 1.08, 1.42, 1.08, 1.32, 1.42, 1.08, 1.08];
    let a = |k: usize| if k >= 52 { WEIGHTS[k - 52] } else { 1.0 };
    let m = |k: usize| match k {
        0..4 => 1.0 / 1024.0,
        4..51 => 1.0 / 256.0,
        _ => 1.0 / 16.0,
    };
    let coded: Vec<usize> = (0..NUM_SUBBANDS)
        .filter(|&k| var[k] >= VARIANCE_THRESHOLD)
        .collect();
    let relative = |k: usize| {
        if k < 4 {
            1.0
        } else {
            10.0 / (a(k) * var[k].ln())
        }
    };
    let sigma = |k: usize| var[k].sqrt();

    let mut active = coded.clone();
    let mut q = f64::NAN;
    while !active.is_empty() {
        let s: f64 = active.iter().map(|&k| m(k)).sum();
        let log_p: f64 = active
            .iter()
            .map(|&k| m(k) * (sigma(k) / relative(k)).ln())
            .sum();
        q = (2f64.powf(bitrate / s - 1.0) / 2.5) / (log_p / s).exp();
        let before = active.len();
        active.retain(|&k| relative(k) / q < 5.0 * sigma(k));
        if active.len() == before {
            break;
        }
    }
    let mut bins = [0.0; NUM_SUBBANDS];
    if q.is_finite() && q > 0.0 {
        for &k in &coded {
            let b = relative(k) / q;
            bins[k] = if b.is_finite() { b } else { 0.0 };
        }
    }
    bins
}

/// Largest quantised magnitude the encoder produces. Escape codes carry 16
/// bits, but decoders (NBIS among them) store coefficients as signed 16-bit
/// integers, so larger values would wrap.
const MAX_LEVEL: f64 = 32_000.0;

/// Widens the bins of any subband whose largest coefficient would quantise
/// beyond [`MAX_LEVEL`]; only very high bit rates (several bits per pixel)
/// ask for bins that fine.
pub(crate) fn cap_levels(
    bins: &mut [f64; NUM_SUBBANDS],
    plane: &[f32],
    width: usize,
    subbands: &[Rect; NUM_SUBBANDS],
) {
    for (bin, &r) in bins.iter_mut().zip(subbands) {
        if *bin <= 0.0 {
            continue;
        }
        let mut peak = 0f32;
        for y in r.y..r.y + r.h {
            let at = y * width + r.x;
            peak = plane[at..at + r.w].iter().fold(peak, |m, v| m.max(v.abs()));
        }
        *bin = bin.max(f64::from(peak) / MAX_LEVEL);
    }
}

/// Quantises the coded subbands of `plane` in order into `out`; returns how
/// many coefficients each of the three blocks got.
pub(crate) fn quantize(
    plane: &[f32],
    width: usize,
    subbands: &[Rect; NUM_SUBBANDS],
    table: &QuantTable,
    out: &mut Vec<i16>,
) -> [usize; 3] {
    let mut sizes = [0; 3];
    for (k, &r) in subbands.iter().enumerate() {
        let (q, z) = (table.q[k], table.z[k]);
        if q <= 0.0 {
            continue;
        }
        let (inv_q, half_z) = (1.0 / q, z / 2.0);
        for y in r.y..r.y + r.h {
            let at = y * width + r.x;
            out.extend(plane[at..at + r.w].iter().map(|&v| {
                // Dead zone |v| ≤ Z/2 → 0; then bins of width Q. The casts
                // truncate towards zero (and saturate), i.e. floor the
                // positive and ceil the negative bin positions.
                let p = if v > half_z {
                    ((v - half_z) * inv_q) as i32 + 1
                } else if v < -half_z {
                    ((v + half_z) * inv_q) as i32 - 1
                } else {
                    0
                };
                p.clamp(-32767, 32767) as i16
            }));
        }
        sizes[super::tree::Layout::block_of(k)] += r.area();
    }
    sizes
}

/// Writes the reconstruction of `coeffs` (the coded subbands in order) into
/// the zeroed `plane`: `Q·(p − C) + Z/2` for `p > 0`, mirrored for `p < 0`.
pub(crate) fn dequantize(
    coeffs: &[i16],
    plane: &mut [f32],
    width: usize,
    subbands: &[Rect; NUM_SUBBANDS],
    table: &QuantTable,
) {
    let mut next = coeffs.iter();
    for (k, &r) in subbands.iter().enumerate() {
        let (q, z) = (table.q[k], table.z[k]);
        if q == 0.0 {
            continue;
        }
        let (c, half_z) = (table.center, z / 2.0);
        for y in r.y..r.y + r.h {
            let at = y * width + r.x;
            for (dst, &p) in plane[at..at + r.w].iter_mut().zip(next.by_ref()) {
                let p = f32::from(p);
                *dst = if p > 0.0 {
                    q * (p - c) + half_z
                } else if p < 0.0 {
                    q * (p + c) - half_z
                } else {
                    0.0
                };
            }
        }
    }
}

/// How many coefficients the coded subbands of `table` hold.
pub(crate) fn coded_len(subbands: &[Rect; NUM_SUBBANDS], table: &QuantTable) -> usize {
    subbands
        .iter()
        .zip(&table.q)
        .filter(|&(_, &q)| q != 0.0)
        .map(|(r, _)| r.area())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_spends_more_bits_at_higher_rates() {
        let mut var = [0.0; NUM_SUBBANDS];
        for (k, v) in var.iter_mut().enumerate() {
            *v = 4000.0 / (1.0 + k as f64);
        }
        var[59] = 0.5; // below the threshold: never coded
        let low = allocate(&var, 0.75);
        let high = allocate(&var, 2.25);
        assert_eq!(low[59], 0.0);
        for k in 0..59 {
            assert!(
                low[k] > 0.0 && high[k] > 0.0 && high[k] < low[k],
                "{k}: {} {}",
                low[k],
                high[k]
            );
        }
        // The four lowest subbands share one bin width.
        assert!((low[0] - low[3]).abs() < 1e-12);
    }

    #[test]
    fn flat_subbands_give_no_bins() {
        assert_eq!(allocate(&[0.0; NUM_SUBBANDS], 0.75), [0.0; NUM_SUBBANDS]);
    }

    #[test]
    fn quantisation_has_a_dead_zone_and_uniform_bins() {
        let r = Rect {
            x: 0,
            y: 0,
            w: 6,
            h: 1,
        };
        let mut subbands = [Rect::default(); NUM_SUBBANDS];
        subbands[0] = r;
        let mut table = QuantTable {
            q: [0.0; NUM_SUBBANDS],
            z: [0.0; NUM_SUBBANDS],
            center: 0.44,
        };
        table.q[0] = 2.0;
        table.z[0] = 2.4;
        let plane = [0.0, 1.2, 1.3, 3.1, 3.3, -3.3];
        let mut out = Vec::new();
        let sizes = quantize(&plane, 6, &subbands, &table, &mut out);
        assert_eq!(out, [0, 0, 1, 1, 2, -2]);
        assert_eq!(sizes, [6, 0, 0]);
        let mut back = [9.0; 6];
        dequantize(&out, &mut back, 6, &subbands, &table);
        assert_eq!(back[0], 0.0);
        assert!((back[2] - (2.0 * 0.56 + 1.2)).abs() < 1e-6);
        assert!((back[5] + (2.0 * 1.56 + 1.2)).abs() < 1e-6);
        assert_eq!(coded_len(&subbands, &table), 6);
    }
}
