//! The foreground mask on a coarse grid of cells, cleaned by morphology and
//! cut into connected components.
//!
//! A cell is `cell × cell` pixels (about 1/125 inch). For every cell the
//! grey-level mean and standard deviation over its 3 × 3 neighbourhood
//! (about 1.5 ridge periods across) are computed from per-cell sums, so the
//! whole image is read once. Friction ridges make a window both varied
//! (ridges against valleys) and, on average, darker than the glass; the
//! glass is flat up to sensor noise and slow shading. The thresholds adapt
//! to the image: the noise level is a low percentile of the window standard
//! deviations and the glass level a high percentile of the window means,
//! since the fingers of a slap cover well under half of the platen.

use crate::gray::GrayRef;

/// A boolean image on the cell grid (row-major).
#[derive(Debug, Clone)]
pub(super) struct Mask {
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) bits: Vec<bool>,
}

impl Mask {
    fn at(&self, x: usize, y: usize) -> bool {
        self.bits[y * self.width + x]
    }
}

/// Fraction of windows assumed to be glass when estimating the noise level.
const NOISE_PERCENTILE: f64 = 0.2;
/// Percentile of the window means taken as the glass level.
const GLASS_PERCENTILE: f64 = 0.8;
/// Windows at least this much darker than the glass are foreground even
/// without ridge contrast (heavy pressure fills the valleys).
const DARKNESS: f32 = 35.0;

/// Marks the cells that hold friction ridges.
pub(super) fn foreground(img: GrayRef<'_>, cell: usize) -> Mask {
    let (w, h) = (img.width(), img.height());
    let (gw, gh) = (w.div_ceil(cell), h.div_ceil(cell));
    let mut sum = vec![0u32; gw * gh];
    let mut sq = vec![0u32; gw * gh];
    let mut count = vec![0u32; gw * gh];
    for y in 0..h {
        let base = (y / cell) * gw;
        for (cx, chunk) in img.row(y).chunks(cell).enumerate() {
            let (mut s, mut q) = (0u32, 0u32);
            for &v in chunk {
                let v = u32::from(v);
                s += v;
                q += v * v;
            }
            sum[base + cx] += s;
            sq[base + cx] += q;
            count[base + cx] += chunk.len() as u32;
        }
    }
    // Mean and standard deviation over each cell's 3 × 3 neighbourhood.
    let mut mean = vec![0f32; gw * gh];
    let mut std = vec![0f32; gw * gh];
    for gy in 0..gh {
        let (y0, y1) = (gy.saturating_sub(1), (gy + 2).min(gh));
        for gx in 0..gw {
            let (x0, x1) = (gx.saturating_sub(1), (gx + 2).min(gw));
            let (mut s, mut q, mut n) = (0u64, 0u64, 0u64);
            for yy in y0..y1 {
                for i in yy * gw + x0..yy * gw + x1 {
                    s += u64::from(sum[i]);
                    q += u64::from(sq[i]);
                    n += u64::from(count[i]);
                }
            }
            let n = n.max(1) as f64;
            let m = s as f64 / n;
            let var = (q as f64 / n - m * m).max(0.0);
            mean[gy * gw + gx] = m as f32;
            std[gy * gw + gx] = var.sqrt() as f32;
        }
    }
    let noise = percentile(&std, NOISE_PERCENTILE);
    let glass = percentile(&mean, GLASS_PERCENTILE);
    // Sensor noise alone keeps a window's deviation within a few tenths of
    // the noise level; ridges give tens of grey levels.
    let contrast = (1.6 * noise + 6.0).max(8.0);
    let bits = mean
        .iter()
        .zip(&std)
        .map(|(&m, &s)| s > contrast || glass - m > DARKNESS)
        .collect();
    Mask {
        width: gw,
        height: gh,
        bits,
    }
}

/// The value below which a fraction `p` of `values` lies.
fn percentile(values: &[f32], p: f64) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    let k = ((v.len() - 1) as f64 * p).round() as usize;
    let (_, x, _) = v.select_nth_unstable_by(k, f32::total_cmp);
    *x
}

/// Removes specks and thin bridges (opening), then fills pinholes and
/// narrow cracks (closing), both with a 3 × 3 square.
pub(super) fn clean(mask: &Mask) -> Mask {
    let opened = dilate(&erode(mask));
    erode(&dilate(&opened))
}

/// 3 × 3 minimum; cells outside the grid count as foreground, so that a
/// finger cut by the image border is not eaten from that side.
fn erode(mask: &Mask) -> Mask {
    filter3(mask, true, |a, b| a && b)
}

/// 3 × 3 maximum; cells outside the grid count as background.
fn dilate(mask: &Mask) -> Mask {
    filter3(mask, false, |a, b| a || b)
}

/// A separable 3 × 3 filter with `op` and `outside` beyond the border.
fn filter3(mask: &Mask, outside: bool, op: impl Fn(bool, bool) -> bool) -> Mask {
    let (w, h) = (mask.width, mask.height);
    let get = |x: isize, y: isize, m: &Mask| {
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            outside
        } else {
            m.at(x as usize, y as usize)
        }
    };
    let mut rows = mask.clone();
    for y in 0..h as isize {
        for x in 0..w as isize {
            let v = op(
                op(get(x - 1, y, mask), get(x, y, mask)),
                get(x + 1, y, mask),
            );
            rows.bits[y as usize * w + x as usize] = v;
        }
    }
    let mut out = rows.clone();
    for y in 0..h as isize {
        for x in 0..w as isize {
            let v = op(
                op(get(x, y - 1, &rows), get(x, y, &rows)),
                get(x, y + 1, &rows),
            );
            out.bits[y as usize * w + x as usize] = v;
        }
    }
    out
}

/// The 8-connected components of `mask`, each as its cells `(x, y)`.
pub(super) fn components(mask: &Mask) -> Vec<Vec<(u32, u32)>> {
    let (w, h) = (mask.width, mask.height);
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !mask.bits[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut cells = Vec::new();
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            cells.push((x as u32, y as u32));
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = ny * w + nx;
                    if mask.bits[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(cells);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(w: usize, rows: &[&str]) -> Mask {
        let bits = rows
            .iter()
            .flat_map(|r| r.chars().map(|c| c == '#'))
            .collect::<Vec<_>>();
        Mask {
            width: w,
            height: bits.len() / w,
            bits,
        }
    }

    #[test]
    fn opening_removes_specks_and_closing_fills_pinholes() {
        // A 12 × 12 blob with a pinhole and a notch, and a lone speck.
        let mut m = Mask {
            width: 16,
            height: 16,
            bits: vec![false; 256],
        };
        for y in 2..14 {
            for x in 2..14 {
                m.bits[y * 16 + x] = true;
            }
        }
        m.bits[8 * 16 + 8] = false;
        m.bits[2 * 16 + 7] = false;
        m.bits[0] = true;
        let c = clean(&m);
        assert!(!c.at(0, 0), "speck kept");
        assert!(c.at(8, 8), "pinhole kept");
        assert!(c.at(7, 2), "notch kept");
        assert_eq!(components(&c).len(), 1);
    }

    #[test]
    fn components_are_eight_connected() {
        let m = mask(4, &["#...", ".#..", "...#", "...#"]);
        let mut sizes: Vec<usize> = components(&m).iter().map(Vec::len).collect();
        sizes.sort_unstable();
        assert_eq!(sizes, [2, 2]);
    }
}
