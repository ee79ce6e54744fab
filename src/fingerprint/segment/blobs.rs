//! Blobs of foreground cells: their shape (second moments), and the repairs
//! that turn connected components into one blob per finger: merging the
//! pieces of a finger broken by a dry or lifted band, and splitting two
//! fingers that touch.

/// A set of grid cells, `(x, y)`.
#[derive(Debug, Clone)]
pub(super) struct Blob {
    pub(super) cells: Vec<(u32, u32)>,
}

/// A frame turned with the fingers: `up` runs along the finger axis towards
/// the tips, `across` at right angles to it (towards the image's right when
/// upright). Coordinates are in cells.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    sin: f64,
    cos: f64,
}

impl Frame {
    /// The frame of fingers tilted by `tilt` radians, clockwise positive.
    pub(super) fn new(tilt: f64) -> Self {
        let (sin, cos) = tilt.sin_cos();
        Self { sin, cos }
    }

    /// Distance towards the fingertips (image y runs down).
    pub(super) fn up(self, x: f64, y: f64) -> f64 {
        x * self.sin - y * self.cos
    }

    /// Distance across the fingers.
    pub(super) fn across(self, x: f64, y: f64) -> f64 {
        x * self.cos + y * self.sin
    }
}

/// Extent of a blob in a frame: `[across_min, across_max, up_min, up_max]`.
pub(super) type Extent = [f64; 4];

/// The shape summary of a blob from its second moments.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    pub(super) cx: f64,
    pub(super) cy: f64,
    /// Tilt of the major axis from the vertical, radians, clockwise
    /// positive (tip to the right).
    pub(super) tilt: f64,
    /// Square root of the ratio of the principal variances (1 = round).
    pub(super) elongation: f64,
    /// Standard deviation across the major axis (cells).
    pub(super) minor_sd: f64,
}

impl Blob {
    pub(super) fn area(&self) -> usize {
        self.cells.len()
    }

    pub(super) fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.cells
            .iter()
            .map(|&(x, y)| (f64::from(x) + 0.5, f64::from(y) + 0.5))
    }

    /// Centroid, axis tilt and elongation (second moments of the cells, as
    /// for an ellipse fitted to the blob).
    pub(super) fn shape(&self) -> Shape {
        let n = self.cells.len().max(1) as f64;
        let (mut sx, mut sy) = (0.0, 0.0);
        for (x, y) in self.points() {
            sx += x;
            sy += y;
        }
        let (cx, cy) = (sx / n, sy / n);
        let (mut xx, mut yy, mut xy) = (0.0, 0.0, 0.0);
        for (x, y) in self.points() {
            let (dx, dy) = (x - cx, y - cy);
            xx += dx * dx;
            yy += dy * dy;
            xy += dx * dy;
        }
        let (xx, yy, xy) = (xx / n, yy / n, xy / n);
        // Principal variances and the direction of the major axis.
        let half_trace = (xx + yy) / 2.0;
        let root = (((xx - yy) / 2.0).powi(2) + xy * xy).sqrt();
        let (major, minor) = (half_trace + root, (half_trace - root).max(1e-9));
        let theta = 0.5 * (2.0 * xy).atan2(xx - yy);
        // Major axis direction pointing up the image (dy < 0).
        let (mut dx, mut dy) = (theta.cos(), theta.sin());
        if dy > 0.0 {
            dx = -dx;
            dy = -dy;
        }
        Shape {
            cx,
            cy,
            tilt: dx.atan2(-dy),
            elongation: (major / minor).sqrt(),
            minor_sd: minor.sqrt(),
        }
    }

    /// The blob's extent in `frame`.
    pub(super) fn extent(&self, frame: Frame) -> Extent {
        let mut e = [f64::MAX, f64::MIN, f64::MAX, f64::MIN];
        for (x, y) in self.points() {
            let (a, u) = (frame.across(x, y), frame.up(x, y));
            e = [e[0].min(a), e[1].max(a), e[2].min(u), e[3].max(u)];
        }
        e
    }

    /// Its width across the fingers in `frame` (cells).
    pub(super) fn width(&self, frame: Frame) -> f64 {
        let e = self.extent(frame);
        e[1] - e[0] + 1.0
    }
}

/// Merges the pieces of one finger: two blobs lying one above the other
/// along the finger axis (their across ranges overlap by at least
/// `MIN_OVERLAP` of the narrower one) with at most `max_gap` cells between
/// them along it. Happens with a dry band or a crease across a finger;
/// neighbouring fingers overlap across by a few cells at most.
pub(super) fn merge_pieces(mut blobs: Vec<Blob>, frame: Frame, max_gap: f64) -> Vec<Blob> {
    const MIN_OVERLAP: f64 = 0.6;
    loop {
        let extents: Vec<Extent> = blobs.iter().map(|b| b.extent(frame)).collect();
        let mut pair = None;
        'search: for i in 0..blobs.len() {
            for j in i + 1..blobs.len() {
                let (a, b) = (extents[i], extents[j]);
                let overlap = a[1].min(b[1]) - a[0].max(b[0]);
                let narrower = (a[1] - a[0]).min(b[1] - b[0]).max(1.0);
                let gap = (b[2] - a[3]).max(a[2] - b[3]);
                if overlap >= MIN_OVERLAP * narrower && gap <= max_gap {
                    pair = Some((i, j));
                    break 'search;
                }
            }
        }
        let Some((i, j)) = pair else {
            return blobs;
        };
        let taken = blobs.swap_remove(j);
        blobs[i].cells.extend(taken.cells);
    }
}

/// Splits blobs that hold two or more touching fingers, as long as fewer
/// blobs than `expected` were found: a blob wider across the fingers than
/// `WIDE` times the reference finger width (the median of the other blobs,
/// or `nominal_width` cells when there is none) is cut where its outline
/// is notched on both sides, between the rounded fingertips above and the
/// finger bodies below.
pub(super) fn split_touching(
    blobs: &mut Vec<Blob>,
    frame: Frame,
    expected: usize,
    nominal_width: f64,
) {
    const WIDE: f64 = 1.5;
    while blobs.len() < expected {
        let widths: Vec<f64> = blobs.iter().map(|b| b.width(frame)).collect();
        let Some((k, &w)) = widths.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else {
            return;
        };
        let others: Vec<f64> = widths
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != k)
            .map(|(_, &v)| v)
            .collect();
        let reference = if others.is_empty() {
            nominal_width
        } else {
            super::median(&others)
        };
        if w < WIDE * reference {
            return;
        }
        let parts = ((w / reference).round() as usize).clamp(2, 1 + expected - blobs.len());
        let Some((left, right)) = cut(&blobs[k], frame, parts, reference) else {
            return;
        };
        blobs[k] = left;
        blobs.push(right);
    }
}

/// Cuts `blob` along the finger axis at its deepest notch near where the
/// first of `parts` equal fingers would end. The notch depth at an across
/// position is how far the outline falls short of the blob's convex hull
/// there, at the top and at the bottom together (the convexity defects of
/// hand-shape analysis). A single finger is nearly convex; two fingertips
/// pressed together leave a notch of a good fraction of a finger width
/// even where their contact areas overlap. `None` when no notch reaches
/// `NOTCH` times `finger_width`.
fn cut(blob: &Blob, frame: Frame, parts: usize, finger_width: f64) -> Option<(Blob, Blob)> {
    const NOTCH: f64 = 0.15;
    let e = blob.extent(frame);
    let bins = (e[1] - e[0]).ceil() as usize + 1;
    let (mut top, mut bottom) = (vec![f64::MIN; bins], vec![f64::MAX; bins]);
    let across: Vec<f64> = blob
        .points()
        .map(|(x, y)| {
            let a = frame.across(x, y) - e[0];
            let bin = (a as usize).min(bins - 1);
            let u = frame.up(x, y);
            top[bin] = top[bin].max(u);
            bottom[bin] = bottom[bin].min(u);
            a
        })
        .collect();
    // Rotated cells can leave a bin empty: borrow from the left neighbour.
    for i in 1..bins {
        if top[i] == f64::MIN {
            top[i] = top[i - 1];
            bottom[i] = bottom[i - 1];
        }
    }
    let hull_top = upper_hull(&top);
    let neg: Vec<f64> = bottom.iter().map(|v| -v).collect();
    let hull_bottom = upper_hull(&neg);
    let depth: Vec<f64> = (0..bins)
        .map(|i| (hull_top[i] - top[i]) + (hull_bottom[i] - neg[i]))
        .collect();
    let pitch = bins as f64 / parts as f64;
    let lo = (0.5 * pitch) as usize;
    let hi = ((1.5 * pitch) as usize).min(bins.saturating_sub(2));
    let notch = (lo..=hi).max_by(|&a, &b| depth[a].total_cmp(&depth[b]))?;
    if depth[notch] < NOTCH * finger_width {
        return None;
    }
    let cut_at = notch as f64 + 0.5;
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for (&c, &a) in blob.cells.iter().zip(&across) {
        if a < cut_at {
            left.push(c);
        } else {
            right.push(c);
        }
    }
    if left.is_empty() || right.is_empty() {
        return None;
    }
    Some((Blob { cells: left }, Blob { cells: right }))
}

/// The upper convex hull of the points `(i, values[i])`, evaluated at
/// every `i` (Andrew's monotone chain, then linear interpolation).
fn upper_hull(values: &[f64]) -> Vec<f64> {
    let mut hull: Vec<usize> = Vec::new();
    for i in 0..values.len() {
        while hull.len() >= 2 {
            let (a, b) = (hull[hull.len() - 2], hull[hull.len() - 1]);
            // Drop b when it lies on or below the chord from a to i.
            let cross =
                (b - a) as f64 * (values[i] - values[a]) - (i - a) as f64 * (values[b] - values[a]);
            if cross >= 0.0 {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(i);
    }
    let mut out = vec![0.0; values.len()];
    for w in hull.windows(2) {
        let (a, b) = (w[0], w[1]);
        for (i, o) in out.iter_mut().enumerate().take(b + 1).skip(a) {
            let t = (i - a) as f64 / (b - a) as f64;
            *o = values[a] + t * (values[b] - values[a]);
        }
    }
    if hull.len() == 1 {
        out[0] = values[0];
    }
    out
}

/// The distal phalanx of a finger blob: the cells within `max_len_ratio`
/// finger widths of the tip along the finger's own axis `frame`. On a real
/// slap the blob may run down the whole finger (the flexion creases are
/// bridged by the closing or merged as pieces); the fingerprint proper is
/// the top part. The width is measured in the band one width below the tip.
pub(super) fn distal(blob: &Blob, frame: Frame, max_len_ratio: f64) -> Blob {
    let pts: Vec<(f64, f64)> = blob.points().collect();
    let up: Vec<f64> = pts.iter().map(|&(x, y)| frame.up(x, y)).collect();
    let tip = up.iter().copied().fold(f64::MIN, f64::max);
    // A first width guess from the second moments (an ellipse's width is
    // four standard deviations across), then measured near the tip.
    let guess = 4.0 * blob.shape().minor_sd;
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for (&(x, y), &u) in pts.iter().zip(&up) {
        if u >= tip - guess {
            let a = frame.across(x, y);
            lo = lo.min(a);
            hi = hi.max(a);
        }
    }
    let width = (hi - lo + 1.0).max(1.0);
    let keep = tip - max_len_ratio * width;
    Blob {
        cells: blob
            .cells
            .iter()
            .zip(&up)
            .filter(|&(_, &u)| u >= keep)
            .map(|(&c, _)| c)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cells of an axis-aligned ellipse.
    fn ellipse(cx: f64, cy: f64, a: f64, b: f64) -> Vec<(u32, u32)> {
        let mut cells = Vec::new();
        for y in 0..200u32 {
            for x in 0..200u32 {
                let (dx, dy) = ((f64::from(x) - cx) / a, (f64::from(y) - cy) / b);
                if dx * dx + dy * dy <= 1.0 {
                    cells.push((x, y));
                }
            }
        }
        cells
    }

    #[test]
    fn tilt_follows_the_major_axis_clockwise_positive() {
        // Points along a line leaning right at the top: (x, y) = (t, -2t).
        let cells = (0..40u32)
            .flat_map(|t| [(50 + t, 150 - 2 * t), (51 + t, 150 - 2 * t)])
            .collect();
        let s = Blob { cells }.shape();
        assert!(
            (s.tilt.to_degrees() - 26.57).abs() < 2.0,
            "{}",
            s.tilt.to_degrees()
        );
        assert!(s.elongation > 5.0);
    }

    #[test]
    fn pieces_along_the_axis_merge_but_neighbours_do_not() {
        let top = Blob {
            cells: ellipse(50.0, 40.0, 15.0, 12.0)
                .into_iter()
                .filter(|c| c.1 < 40)
                .collect(),
        };
        let bottom = Blob {
            cells: ellipse(50.0, 52.0, 15.0, 12.0)
                .into_iter()
                .filter(|c| c.1 > 46)
                .collect(),
        };
        let neighbour = Blob {
            cells: ellipse(90.0, 45.0, 15.0, 20.0),
        };
        let finger = top.area() + bottom.area();
        let merged = merge_pieces(vec![top, neighbour, bottom], Frame::new(0.0), 8.0);
        assert_eq!(merged.len(), 2);
        assert!(merged.iter().any(|b| b.area() == finger));
    }

    #[test]
    fn touching_fingertips_are_split_at_the_valley() {
        let mut cells = ellipse(60.0, 60.0, 15.0, 20.0);
        cells.extend(ellipse(89.0, 62.0, 15.0, 20.0));
        cells.sort_unstable();
        cells.dedup();
        let mut blobs = vec![Blob { cells }];
        split_touching(&mut blobs, Frame::new(0.0), 2, 30.0);
        assert_eq!(blobs.len(), 2);
        for b in &blobs {
            let w = b.width(Frame::new(0.0));
            assert!((25.0..=35.0).contains(&w), "width {w}");
        }
        // One wide finger-like blob with no valley stays whole.
        let mut one = vec![Blob {
            cells: ellipse(80.0, 60.0, 30.0, 20.0),
        }];
        split_touching(&mut one, Frame::new(0.0), 2, 30.0);
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn upper_hull_bridges_notches() {
        let h = upper_hull(&[0.0, 4.0, 2.0, 4.0, 0.0]);
        assert_eq!(h, [0.0, 4.0, 4.0, 4.0, 0.0]);
        assert_eq!(upper_hull(&[1.0]), [1.0]);
    }

    #[test]
    fn distal_keeps_the_top_of_a_long_finger() {
        // A capsule: a round tip of radius 10 on a 140-cell long shaft.
        let mut cells = ellipse(100.0, 30.0, 10.0, 10.0);
        cells.extend((30..170u32).flat_map(|y| (90..=110u32).map(move |x| (x, y))));
        cells.sort_unstable();
        cells.dedup();
        let b = Blob { cells };
        let d = distal(&b, Frame::new(0.0), 2.0);
        let e = d.extent(Frame::new(0.0));
        let len = e[3] - e[2] + 1.0;
        assert!((30.0..=50.0).contains(&len), "length {len}");
        assert_eq!(e[3], b.extent(Frame::new(0.0))[3]);
    }
}
