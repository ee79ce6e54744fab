//! A minutiae matcher for the station's own checks: the intra-record
//! duplicate check and the slap-against-flat sequence check of the
//! ten-print workflow (standards §7, after NIST SlapSeg04).
//!
//! The matcher is of the classic two-stage kind (Maltoni et al.,
//! *Handbook of Fingerprint Recognition*, §4.4; Jiang & Yau, "Fingerprint
//! minutiae matching based on the local and global structures", ICPR 2000):
//!
//! 1. **Local structures propose alignments.** Every minutia is joined to
//!    its nearest neighbours by *edges* described by their length, the
//!    direction of the edge relative to the minutia and the difference of
//!    the two minutiae's directions: quantities that neither a rotation nor
//!    a translation changes. Edges of the two templates that agree vote for
//!    the minutia pairs at their ends; a pair supported by many edges is a
//!    likely true correspondence. Edges are bucketed by their three
//!    features, so only nearby buckets are compared. The best supported
//!    pairs that share no minutia become the roots of stage 2.
//! 2. **Global pairing.** The best supported pairs are tried as roots of a
//!    rigid alignment (the rotation from the agreeing edges around the
//!    root); all minutiae are transformed and paired one-to-one, greedily by
//!    closeness, within a distance that grows with the distance from the
//!    root (skin distortion accumulates, Bazen & Gerez 2003) and an angle
//!    tolerance. The best alignment is re-fitted to its pairs by least
//!    squares (2-D Procrustes) and paired again.
//! 3. **Score.** With `n` pairs, and `m_a`, `m_b` minutiae of each template
//!    inside the other's aligned convex hull, the score is
//!    `100 · n² / (m_a · m_b)`: the product of the fractions of each side
//!    matched where they overlap, with `m` floored so that a small overlap
//!    cannot score high by chance.
//!
//! The kind of a minutia is ignored: pressure turns endings into
//! bifurcations and back (see [`crate::minutiae`]).
//!
//! On top of the score sit the ten-print checks of standards §7:
//! [`duplicates`] (no two different fingers may match) and
//! [`sequence_check`] (each single flat must match its own slap segment
//! best, and well enough).

use std::f32::consts::{PI, TAU};

use pishkhan_scanner::Finger;

use crate::minutiae::Template;

/// Scores at or above this mean "the same finger".
///
/// Calibrated on synthetic fingers (`tests/matching.rs`: 8 people × 10
/// fingers, three flat captures each — two 400 × 500, one 288 × 384 — and
/// the segments of their slaps): the 480 genuine pairs (flat–flat and
/// segment–flat) scored 29.4 or more, the 47 400 pairs of different fingers
/// 14.7 or less; 20 lies near the geometric middle of that gap. Real data
/// will need its own calibration (standards §7: keep it configurable and
/// agree it with the authority); the callers take the threshold as a
/// parameter for that reason.
pub const SAME_FINGER_THRESHOLD: f32 = 20.0;

/// Scores at or above this accept a 1:1 verification ([`verify`]): the
/// applicant's finger on a single-finger sensor at card handover against
/// the template enrolled from the same finger.
///
/// Calibrated on synthetic fingers in `tests/verification.rs`
/// (256 × 288 captures, the virtual single-finger sensor's window, which
/// holds fewer minutiae than the 400 × 500 flats [`SAME_FINGER_THRESHOLD`]
/// was set on). Over 8 people × 10 fingers × 3 placements, the 240 genuine
/// pairs scored 20.3 or more (5th percentile 53), the 5 760 impostor pairs
/// (another person's same finger, another finger of the same person) 13.1
/// or less; 17 lies near the geometric middle of that gap, accepting every
/// genuine pair of the set. See docs/fingerprints.md, "1:1 verification at
/// handover"; real data will need its own calibration.
pub const VERIFY_THRESHOLD: f32 = 17.0;

/// Edges per minutia (to its nearest neighbours).
const NEIGHBOURS: usize = 5;
/// Edges shorter than this are too sensitive to position noise; longer
/// ones to distortion (pixels at 500 ppi).
const EDGE_MIN: f32 = 10.0;
const EDGE_MAX: f32 = 150.0;
/// Edge tolerances: length (base + proportional), and the two relative
/// angles in 1/256 turns (13 ≈ 18°, 18 ≈ 25°).
const EDGE_LEN_TOL: f32 = 3.0;
const EDGE_LEN_REL: f32 = 0.05;
const EDGE_ALPHA_TOL: u8 = 11;
const EDGE_BETA_TOL: u8 = 14;
/// Edges are bucketed by their two relative angles and their length, so
/// that an edge is compared only with the few buckets its tolerances reach.
const ALPHA_BUCKETS: usize = 8;
const BETA_BUCKETS: usize = 8;
const LEN_BUCKET: f32 = 8.0;
const LEN_BUCKETS: usize = (EDGE_MAX / LEN_BUCKET) as usize + 1;
const BUCKETS: usize = ALPHA_BUCKETS * BETA_BUCKETS * LEN_BUCKETS;
/// Alignments tried from the best supported minutia pairs (among the
/// `ROOT_POOL` best), and how many of them are re-fitted.
const ROOTS: usize = 8;
const ROOT_POOL: usize = 16;
const REFITS: usize = 1;
/// Pairing tolerances: distance (base + per pixel from the centre of the
/// alignment) and angle. Tight, because ridges are dense: minutiae of a
/// different finger are seldom more than 20 px apart.
const PAIR_DIST: f32 = 6.0;
const PAIR_DIST_REL: f32 = 0.02;
const PAIR_ANGLE: f32 = 20.0 * PI / 180.0;
/// A convex hull is grown by this much when counting what lies inside.
const HULL_MARGIN: f32 = 12.0;
/// Floor of the overlap counts in the score.
const MIN_OVERLAP: usize = 30;
/// Side of the cells of the grid that finds a template's minutiae near a
/// point, pixels.
const CELL: f32 = 16.0;

/// One minutia in matcher coordinates: y up, so that angles are the usual
/// counter-clockwise ones.
#[derive(Debug, Clone, Copy)]
struct Point {
    x: f32,
    y: f32,
    angle: f32,
}

/// An edge from minutia `from` to minutia `to` of one template. Its
/// relative angles are in 1/256 turns, so that differences wrap for free.
#[derive(Debug, Clone, Copy)]
struct Edge {
    from: u16,
    to: u16,
    len: f32,
    /// Direction of the edge relative to the `from` minutia.
    alpha: u8,
    /// Direction of `to` relative to `from`.
    beta: u8,
    /// Unit vector along the edge.
    ux: f32,
    uy: f32,
}

/// What the vote loop needs of an edge, packed (12 bytes).
#[derive(Debug, Clone, Copy)]
struct Key {
    len: f32,
    from: u16,
    to: u16,
    alpha: u8,
    beta: u8,
}

impl From<&Edge> for Key {
    fn from(e: &Edge) -> Key {
        Key {
            len: e.len,
            from: e.from,
            to: e.to,
            alpha: e.alpha,
            beta: e.beta,
        }
    }
}

/// An angle in radians as 1/256 turns.
fn turns(angle: f32) -> u8 {
    ((angle.rem_euclid(TAU) / TAU * 256.0).round() as u32 % 256) as u8
}

/// Absolute difference of two angles in 1/256 turns, `0..=128`.
fn turn_diff(a: u8, b: u8) -> u8 {
    (a.wrapping_sub(b) as i8).unsigned_abs()
}

/// How well two edges agree, `(0, 1]`, or `None` if they do not.
fn edge_agreement(ea: &Edge, eb: &Edge) -> Option<f32> {
    let tol = edge_len_tol(ea.len);
    let (ka, kb) = (Key::from(ea), Key::from(eb));
    edges_agree(&ka, 1.0 / tol, &kb).then(|| {
        let dl = (ea.len - eb.len).abs() / tol;
        let da = f32::from(turn_diff(ea.alpha, eb.alpha)) / f32::from(EDGE_ALPHA_TOL);
        let db = f32::from(turn_diff(ea.beta, eb.beta)) / f32::from(EDGE_BETA_TOL);
        // Each term is at most 1, so the weight is at least 1/4.
        1.0 - 0.25 * (dl + da + db)
    })
}

/// The length tolerance of an edge of length `len`.
fn edge_len_tol(len: f32) -> f32 {
    EDGE_LEN_TOL + EDGE_LEN_REL * len
}

/// Whether two edges agree within the tolerances, given the reciprocal of
/// `ea`'s length tolerance. Branch-free: it is the innermost loop of the
/// matcher, and most of its candidates fail one test or another,
/// unpredictably.
#[inline(always)]
fn edges_agree(ea: &Key, inv_tol: f32, eb: &Key) -> bool {
    ((ea.len - eb.len).abs() * inv_tol <= 1.0)
        & (turn_diff(ea.alpha, eb.alpha) <= EDGE_ALPHA_TOL)
        & (turn_diff(ea.beta, eb.beta) <= EDGE_BETA_TOL)
}

/// A template made ready for matching (edges built and bucketed, hull and
/// grid computed). Prepare once to score one template against many.
#[derive(Debug, Clone)]
pub struct Prepared {
    points: Vec<Point>,
    /// Edges grouped by their `from` minutia: `local[starts[i]..starts[i + 1]]`.
    local: Vec<Edge>,
    starts: Vec<u32>,
    /// The same edges sorted by bucket: `edges[buckets[b]..buckets[b + 1]]`.
    edges: Vec<Key>,
    buckets: Vec<u32>,
    /// Convex hull of the minutiae: each vertex with the inward unit normal
    /// of the edge leaving it (counter-clockwise order).
    hull: Vec<HullEdge>,
    grid: Grid,
}

/// One edge of a convex hull.
#[derive(Debug, Clone, Copy)]
struct HullEdge {
    x: f32,
    y: f32,
    nx: f32,
    ny: f32,
}

/// The minutiae of a template bucketed on a square grid.
#[derive(Debug, Clone, Default)]
struct Grid {
    x0: f32,
    y0: f32,
    cols: usize,
    rows: usize,
    /// `items[starts[c]..starts[c + 1]]` are the minutiae in cell `c`.
    starts: Vec<usize>,
    items: Vec<u16>,
}

impl Grid {
    fn new(points: &[Point]) -> Grid {
        if points.is_empty() {
            return Grid::default();
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for p in points {
            x0 = x0.min(p.x);
            y0 = y0.min(p.y);
            x1 = x1.max(p.x);
            y1 = y1.max(p.y);
        }
        // Templates come from images of at most a few thousand pixels a
        // side; the cap only guards against absurd coordinates.
        let cols = (((x1 - x0) / CELL) as usize).min(1023) + 1;
        let rows = (((y1 - y0) / CELL) as usize).min(1023) + 1;
        let mut grid = Grid {
            x0,
            y0,
            cols,
            rows,
            starts: vec![0; cols * rows + 1],
            items: vec![0; points.len()],
        };
        let cells: Vec<usize> = points.iter().map(|p| grid.cell(p.x, p.y)).collect();
        for &c in &cells {
            grid.starts[c + 1] += 1;
        }
        for c in 0..cols * rows {
            grid.starts[c + 1] += grid.starts[c];
        }
        let mut fill = grid.starts.clone();
        for (i, &c) in cells.iter().enumerate() {
            grid.items[fill[c]] = i as u16;
            fill[c] += 1;
        }
        grid
    }

    fn cell(&self, x: f32, y: f32) -> usize {
        let cx = (((x - self.x0) / CELL).max(0.0) as usize).min(self.cols - 1);
        let cy = (((y - self.y0) / CELL).max(0.0) as usize).min(self.rows - 1);
        cy * self.cols + cx
    }

    /// Calls `f` with every minutia in the cells that the square of
    /// half-side `r` around (x, y) touches.
    fn near(&self, x: f32, y: f32, r: f32, mut f: impl FnMut(usize)) {
        if self.cols == 0 {
            return;
        }
        let span = |v: f32, v0: f32, n: usize| -> Option<(usize, usize)> {
            let (lo, hi) = ((v - r - v0) / CELL, (v + r - v0) / CELL);
            if hi < 0.0 || lo >= n as f32 {
                return None;
            }
            // Both are ≥ 0 here, so truncation is the floor.
            Some((lo.max(0.0) as usize, (hi as usize).min(n - 1)))
        };
        let (Some((cx0, cx1)), Some((cy0, cy1))) =
            (span(x, self.x0, self.cols), span(y, self.y0, self.rows))
        else {
            return;
        };
        for cy in cy0..=cy1 {
            let row = cy * self.cols;
            for &i in &self.items[self.starts[row + cx0]..self.starts[row + cx1 + 1]] {
                f(usize::from(i));
            }
        }
    }
}

/// Builds the local structures of a template.
pub fn prepare(template: &Template) -> Prepared {
    // At most u16::MAX minutiae take part (far more than any finger has).
    let points: Vec<Point> = template
        .minutiae
        .iter()
        .filter(|m| m.x.is_finite() && m.y.is_finite() && m.angle.is_finite())
        .take(usize::from(u16::MAX))
        .map(|m| Point {
            x: m.x,
            y: -m.y,
            angle: m.angle.rem_euclid(TAU),
        })
        .collect();
    let mut local = Vec::with_capacity(points.len() * NEIGHBOURS);
    let mut starts = Vec::with_capacity(points.len() + 1);
    let mut near: Vec<(f32, usize)> = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        starts.push(local.len() as u32);
        near.clear();
        near.extend(points.iter().enumerate().filter_map(|(j, q)| {
            let d2 = (q.x - p.x) * (q.x - p.x) + (q.y - p.y) * (q.y - p.y);
            (j != i && (EDGE_MIN * EDGE_MIN..=EDGE_MAX * EDGE_MAX).contains(&d2)).then_some((d2, j))
        }));
        if near.len() > NEIGHBOURS {
            near.select_nth_unstable_by(NEIGHBOURS, |a, b| a.0.total_cmp(&b.0));
            near.truncate(NEIGHBOURS);
        }
        for &(d2, j) in &near {
            let q = points[j];
            let len = d2.sqrt();
            let (ux, uy) = ((q.x - p.x) / len, (q.y - p.y) / len);
            local.push(Edge {
                from: i as u16,
                to: j as u16,
                len,
                alpha: turns(uy.atan2(ux) - p.angle),
                beta: turns(q.angle - p.angle),
                ux,
                uy,
            });
        }
    }
    starts.push(local.len() as u32);
    // Counting sort into buckets (lengths need no order within one).
    let mut buckets = vec![0u32; BUCKETS + 1];
    for e in &local {
        buckets[bucket(e) + 1] += 1;
    }
    for b in 0..BUCKETS {
        buckets[b + 1] += buckets[b];
    }
    let mut fill = buckets.clone();
    let mut edges: Vec<Key> = local.iter().map(Key::from).collect();
    for e in &local {
        let slot = &mut fill[bucket(e)];
        edges[*slot as usize] = Key::from(e);
        *slot += 1;
    }
    let hull = hull_edges(&convex_hull(points.iter().map(|p| (p.x, p.y)).collect()));
    let grid = Grid::new(&points);
    Prepared {
        points,
        local,
        starts,
        edges,
        buckets,
        hull,
        grid,
    }
}

impl Prepared {
    /// Number of minutiae taking part.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether there is nothing to match.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The edges leaving minutia `i`.
    fn edges_from(&self, i: usize) -> &[Edge] {
        &self.local[self.starts[i] as usize..self.starts[i + 1] as usize]
    }
}

fn bucket(e: &Edge) -> usize {
    bucket_of(
        usize::from(e.alpha) * ALPHA_BUCKETS / 256,
        usize::from(e.beta) * BETA_BUCKETS / 256,
        len_bucket(e.len),
    )
}

fn bucket_of(alpha: usize, beta: usize, len: usize) -> usize {
    (alpha * BETA_BUCKETS + beta) * LEN_BUCKETS + len
}

fn len_bucket(len: f32) -> usize {
    ((len.max(0.0) / LEN_BUCKET) as usize).min(LEN_BUCKETS - 1)
}

/// The buckets (of `count` over a turn) that angles within `tol` of `a`
/// fall in, going round the circle.
fn bucket_span(a: u8, tol: u8, count: usize) -> impl Iterator<Item = usize> {
    let width = 256 / count;
    let lo = usize::from(a.wrapping_sub(tol)) / width;
    let hi = usize::from(a.wrapping_add(tol)) / width;
    let n = (hi + count - lo) % count + 1;
    (0..n).map(move |k| (lo + k) % count)
}

/// Absolute difference of two angles in `[0, 2π)`, `[0, π]`.
fn angle_diff(a: f32, b: f32) -> f32 {
    let d = (a - b).abs();
    if d > PI { TAU - d } else { d }
}

/// Similarity of two fingerprints, `≥ 0` (at most 100); higher means more
/// likely the same finger (compare with [`SAME_FINGER_THRESHOLD`]). Nearly
/// symmetric. To score one template against many, [`prepare`] each once and
/// use [`score_prepared`].
pub fn score(a: &Template, b: &Template) -> f32 {
    score_prepared(&prepare(a), &prepare(b))
}

/// [`score`] of two prepared templates.
pub fn score_prepared(a: &Prepared, b: &Prepared) -> f32 {
    compare(a, b).score
}

/// What a comparison found: the score and how it came about.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Comparison {
    /// The score, as [`score`].
    pub score: f32,
    /// Minutiae paired under the best alignment.
    pub pairs: usize,
    /// Minutiae of `a` inside `b`'s area under that alignment.
    pub overlap_a: usize,
    /// Minutiae of `b` inside `a`'s area.
    pub overlap_b: usize,
    /// Rotation of `a` onto `b`, radians counter-clockwise as seen.
    pub rotation: f32,
}

/// Compares two prepared templates.
pub fn compare(a: &Prepared, b: &Prepared) -> Comparison {
    let Some((al, pairs)) = best_alignment(a, b) else {
        return Comparison::default();
    };
    let (in_b, in_a) = overlap(a, b, &al);
    let n = pairs.max(1);
    let ma = in_b.max(n).max(MIN_OVERLAP) as f32;
    let mb = in_a.max(n).max(MIN_OVERLAP) as f32;
    Comparison {
        score: 100.0 * (pairs * pairs) as f32 / (ma * mb),
        pairs,
        overlap_a: in_b,
        overlap_b: in_a,
        rotation: al.sin.atan2(al.cos),
    }
}

/// A rigid transform of `a`'s coordinates onto `b`'s.
#[derive(Debug, Clone, Copy)]
struct Alignment {
    cos: f32,
    sin: f32,
    tx: f32,
    ty: f32,
}

impl Alignment {
    /// The rotation by (cos, sin) about the origin that then takes `from`
    /// onto `to`.
    fn new(cos: f32, sin: f32, from: (f32, f32), to: (f32, f32)) -> Alignment {
        Alignment {
            cos,
            sin,
            tx: to.0 - (cos * from.0 - sin * from.1),
            ty: to.1 - (sin * from.0 + cos * from.1),
        }
    }

    fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.cos * x - self.sin * y + self.tx,
            self.sin * x + self.cos * y + self.ty,
        )
    }

    fn rotation(&self) -> f32 {
        self.sin.atan2(self.cos)
    }
}

/// Buffers reused by the pairings of one comparison.
struct Pairing {
    candidates: Vec<(f32, u16, u16)>,
    used_a: Vec<bool>,
    used_b: Vec<bool>,
    pairs: Vec<(u16, u16)>,
}

/// The alignment of `a` onto `b` that pairs the most minutiae, and how many.
fn best_alignment(a: &Prepared, b: &Prepared) -> Option<(Alignment, usize)> {
    let (na, nb) = (a.points.len(), b.points.len());
    if na < 2 || nb < 2 {
        return None;
    }
    // Stage 1: agreeing edges vote for the minutia pairs at their ends.
    // (Counts, not weights: as good at picking roots, and cheaper.)
    let mut votes = vec![0u16; na * nb];
    for ea in &a.edges {
        let tol = edge_len_tol(ea.len);
        let inv_tol = 1.0 / tol;
        let (l0, l1) = (len_bucket(ea.len - tol), len_bucket(ea.len + tol));
        for ba in bucket_span(ea.alpha, EDGE_ALPHA_TOL, ALPHA_BUCKETS) {
            for bb in bucket_span(ea.beta, EDGE_BETA_TOL, BETA_BUCKETS) {
                let range = b.buckets[bucket_of(ba, bb, l0)] as usize
                    ..b.buckets[bucket_of(ba, bb, l1) + 1] as usize;
                for eb in &b.edges[range] {
                    let vote = u16::from(edges_agree(ea, inv_tol, eb));
                    let from = &mut votes[usize::from(ea.from) * nb + usize::from(eb.from)];
                    *from = from.saturating_add(vote);
                    let to = &mut votes[usize::from(ea.to) * nb + usize::from(eb.to)];
                    *to = to.saturating_add(vote);
                }
            }
        }
    }
    // Stage 2: the best supported pairs, strongest first, as roots; a pair
    // sharing a minutia with a stronger one is mostly the same hypothesis
    // shifted by a ridge, so the roots are kept distinct.
    let mut pool = [(0u16, 0usize); ROOT_POOL];
    for (cell, &v) in votes.iter().enumerate() {
        if v > pool[ROOT_POOL - 1].0 {
            let mut at = ROOT_POOL - 1;
            while at > 0 && pool[at - 1].0 < v {
                pool[at] = pool[at - 1];
                at -= 1;
            }
            pool[at] = (v, cell);
        }
    }
    let mut roots: Vec<usize> = Vec::with_capacity(ROOTS);
    for &(v, cell) in &pool {
        if v == 0 || roots.len() == ROOTS {
            break;
        }
        let (i, k) = (cell / nb, cell % nb);
        if roots.iter().all(|&r| r / nb != i && r % nb != k) {
            roots.push(cell);
        }
    }
    let mut work = Pairing {
        candidates: Vec::with_capacity(4 * na),
        used_a: vec![false; na],
        used_b: vec![false; nb],
        pairs: Vec::with_capacity(na.min(nb)),
    };
    // A root that an earlier alignment paired would only find it again.
    let mut explained = vec![false; na * nb];
    let mut tried: Vec<(Vec<(u16, u16)>, Alignment)> = Vec::with_capacity(ROOTS);
    for &cell in &roots {
        if explained[cell] {
            continue;
        }
        let (i, k) = (cell / nb, cell % nb);
        let (pa, pb) = (a.points[i], b.points[k]);
        let (cos, sin) = root_rotation(a, b, i, k);
        let al = Alignment::new(cos, sin, (pa.x, pa.y), (pb.x, pb.y));
        pair(a, b, &al, (pa.x, pa.y), &mut work);
        for &(p, q) in &work.pairs {
            explained[usize::from(p) * nb + usize::from(q)] = true;
        }
        tried.push((work.pairs.clone(), al));
    }
    // Stage 3: re-fit the best ones to their pairs and pair again.
    tried.sort_by_key(|t| std::cmp::Reverse(t.0.len()));
    let mut best: Option<(Alignment, usize)> = None;
    for (pairs, al) in tried.iter().take(REFITS) {
        let mut result = (*al, pairs.len());
        if pairs.len() >= 3
            && let Some((refit, centre)) = fit(a, b, pairs)
        {
            pair(a, b, &refit, centre, &mut work);
            if work.pairs.len() >= pairs.len() {
                result = (refit, work.pairs.len());
            }
        }
        if best.is_none_or(|(_, n)| result.1 > n) {
            best = Some(result);
        }
    }
    best
}

/// The rotation (cos, sin) taking `a`'s minutia `i` onto `b`'s minutia `k`:
/// the weighted mean over their agreeing edges, or else the difference of
/// their directions.
fn root_rotation(a: &Prepared, b: &Prepared, i: usize, k: usize) -> (f32, f32) {
    let (mut c, mut s) = (0f32, 0f32);
    for ea in a.edges_from(i) {
        for eb in b.edges_from(k) {
            if let Some(w) = edge_agreement(ea, eb) {
                c += w * (ea.ux * eb.ux + ea.uy * eb.uy);
                s += w * (ea.ux * eb.uy - ea.uy * eb.ux);
            }
        }
    }
    let norm = c.hypot(s);
    if norm > 1e-6 {
        (c / norm, s / norm)
    } else {
        let (s, c) = (b.points[k].angle - a.points[i].angle).sin_cos();
        (c, s)
    }
}

/// Pairs the minutiae of `a` (aligned by `al`) one-to-one with those of
/// `b`, greedily by closeness, within tolerances that grow with the
/// distance from `centre` (in `a`'s coordinates); the pairs end up in
/// `work.pairs`.
fn pair(a: &Prepared, b: &Prepared, al: &Alignment, centre: (f32, f32), work: &mut Pairing) {
    let rot = al.rotation().rem_euclid(TAU);
    work.candidates.clear();
    for (i, p) in a.points.iter().enumerate() {
        let (x, y) = al.apply(p.x, p.y);
        let mut angle = p.angle + rot;
        if angle >= TAU {
            angle -= TAU;
        }
        let (rx, ry) = (p.x - centre.0, p.y - centre.1);
        let tol = PAIR_DIST + PAIR_DIST_REL * (rx * rx + ry * ry).sqrt();
        let candidates = &mut work.candidates;
        b.grid.near(x, y, tol, |k| {
            let q = b.points[k];
            let d = ((q.x - x) * (q.x - x) + (q.y - y) * (q.y - y)).sqrt();
            let da = angle_diff(angle, q.angle);
            if d <= tol && da <= PAIR_ANGLE {
                candidates.push((d / tol + da / PAIR_ANGLE, i as u16, k as u16));
            }
        });
    }
    work.candidates.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
    work.used_a.fill(false);
    work.used_b.fill(false);
    work.pairs.clear();
    for &(_, i, k) in &work.candidates {
        let (iu, ku) = (usize::from(i), usize::from(k));
        if !work.used_a[iu] && !work.used_b[ku] {
            work.used_a[iu] = true;
            work.used_b[ku] = true;
            work.pairs.push((i, k));
        }
    }
}

/// The least-squares rigid transform taking the `a` side of the pairs onto
/// the `b` side (2-D Procrustes / Kabsch), and the centroid of the `a`
/// side.
fn fit(a: &Prepared, b: &Prepared, pairs: &[(u16, u16)]) -> Option<(Alignment, (f32, f32))> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f32;
    let (mut ax, mut ay, mut bx, mut by) = (0f32, 0f32, 0f32, 0f32);
    for &(i, k) in pairs {
        let (p, q) = (a.points[usize::from(i)], b.points[usize::from(k)]);
        ax += p.x;
        ay += p.y;
        bx += q.x;
        by += q.y;
    }
    let (ax, ay, bx, by) = (ax / n, ay / n, bx / n, by / n);
    let (mut dot, mut cross) = (0f32, 0f32);
    for &(i, k) in pairs {
        let (p, q) = (a.points[usize::from(i)], b.points[usize::from(k)]);
        let (px, py, qx, qy) = (p.x - ax, p.y - ay, q.x - bx, q.y - by);
        dot += px * qx + py * qy;
        cross += px * qy - py * qx;
    }
    let norm = dot.hypot(cross);
    (norm > 1e-6).then(|| {
        (
            Alignment::new(dot / norm, cross / norm, (ax, ay), (bx, by)),
            (ax, ay),
        )
    })
}

/// How many minutiae of `a` lie in `b`'s area under `al`, and of `b` in
/// `a`'s.
fn overlap(a: &Prepared, b: &Prepared, al: &Alignment) -> (usize, usize) {
    let in_b = a
        .points
        .iter()
        .filter(|p| inside(&b.hull, al.apply(p.x, p.y), HULL_MARGIN))
        .count();
    // b's points into a's frame: remove the translation, undo the rotation.
    let in_a = b
        .points
        .iter()
        .filter(|q| {
            let (x, y) = (q.x - al.tx, q.y - al.ty);
            let p = (al.cos * x + al.sin * y, -al.sin * x + al.cos * y);
            inside(&a.hull, p, HULL_MARGIN)
        })
        .count();
    (in_b, in_a)
}

/// The outcome of a 1:1 verification.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verification {
    /// The comparison score, as [`score`].
    pub score: f32,
    /// Whether the score reaches [`VERIFY_THRESHOLD`].
    pub matched: bool,
}

/// 1:1 verification: whether `probe` (a fresh capture) is the finger
/// `enrolled` was extracted from, at [`VERIFY_THRESHOLD`].
pub fn verify(probe: &Template, enrolled: &Template) -> Verification {
    let score = score(probe, enrolled);
    Verification {
        score,
        matched: score >= VERIFY_THRESHOLD,
    }
}

/// The scores of every row template against every column template:
/// `matrix[i][j] = score(rows[i], cols[j])`.
pub fn score_matrix(rows: &[&Template], cols: &[&Template]) -> Vec<Vec<f32>> {
    let cols: Vec<Prepared> = cols.iter().map(|t| prepare(t)).collect();
    rows.iter()
        .map(|r| {
            let r = prepare(r);
            cols.iter().map(|c| score_prepared(&r, c)).collect()
        })
        .collect()
}

/// Two different fingers of one record that match each other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DuplicatePair {
    pub a: Finger,
    pub b: Finger,
    pub score: f32,
}

/// The intra-record duplicate check (standards §7): every pair of
/// *different* fingers whose prints score at least `threshold`, best first.
/// A hit means the same finger was captured twice under two names (the
/// same hand twice, a thumb as a finger, …). Prints of the same finger
/// (say a slap segment and a flat) are not compared.
pub fn duplicates(prints: &[(Finger, &Template)], threshold: f32) -> Vec<DuplicatePair> {
    let prepared: Vec<Prepared> = prints.iter().map(|(_, t)| prepare(t)).collect();
    let mut found = Vec::new();
    for (i, (fa, _)) in prints.iter().enumerate() {
        for (j, (fb, _)) in prints.iter().enumerate().skip(i + 1) {
            if fa == fb {
                continue;
            }
            let score = score_prepared(&prepared[i], &prepared[j]);
            if score >= threshold {
                found.push(DuplicatePair {
                    a: *fa,
                    b: *fb,
                    score,
                });
            }
        }
    }
    found.sort_by(|x, y| y.score.total_cmp(&x.score));
    found
}

/// A hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hand {
    Right,
    Left,
}

impl Hand {
    /// The hand a finger belongs to (ANSI/NIST positions 1–5 are right).
    pub fn of(finger: Finger) -> Hand {
        if finger.position() <= 5 {
            Hand::Right
        } else {
            Hand::Left
        }
    }
}

/// What the sequence check found wrong with one flat print (or with a
/// whole hand).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SequenceProblem {
    /// The flat captured as `expected` matches the slap segment of
    /// `matched` best (with `score`, at or above the threshold): the wrong
    /// finger was placed.
    Swapped {
        expected: Finger,
        matched: Finger,
        score: f32,
    },
    /// The flat of `finger` matches no slap segment well enough: `best` is
    /// its best score (against any segment). A poor capture, or a finger
    /// that is not in the slaps at all.
    NoMatch { finger: Finger, best: f32 },
    /// The flats of the `flats` hand match the slap segments of the other
    /// hand (at least two of them, and none its own hand): the hands were
    /// swapped. Reported besides the fingers' own [`Self::Swapped`].
    HandsSwapped { flats: Hand, matched: Hand },
    /// The flat of `finger` has no slap segment to be checked against
    /// (not segmented, or declared missing) and matches no other segment.
    NoSegment { finger: Finger },
}

/// The sequence check of standards §7 (after NIST SlapSeg04): every flat
/// print must match the slap segment of its own finger best, and with a
/// score of at least `threshold`. A better match with another finger's
/// segment means a swapped finger; flats of one hand matching the other
/// hand's slap mean swapped hands. Returns nothing when all is well.
pub fn sequence_check(
    segments: &[(Finger, &Template)],
    flats: &[(Finger, &Template)],
    threshold: f32,
) -> Vec<SequenceProblem> {
    let segs: Vec<(Finger, Prepared)> = segments.iter().map(|(f, t)| (*f, prepare(t))).collect();
    let mut problems = Vec::new();
    // Per hand of the flats: (swapped to the other hand, matched own hand).
    let mut cross = [(0usize, 0usize); 2];
    for (finger, flat) in flats {
        let flat = prepare(flat);
        let best = segs
            .iter()
            .map(|(f, s)| (*f, score_prepared(s, &flat)))
            .max_by(|x, y| x.1.total_cmp(&y.1));
        let has_own = segs.iter().any(|(f, _)| f == finger);
        let hand = Hand::of(*finger);
        let tally = &mut cross[usize::from(hand == Hand::Left)];
        match best {
            Some((matched, score)) if score >= threshold => {
                if matched == *finger {
                    tally.1 += 1;
                } else {
                    if Hand::of(matched) == hand {
                        tally.1 += 1;
                    } else {
                        tally.0 += 1;
                    }
                    problems.push(SequenceProblem::Swapped {
                        expected: *finger,
                        matched,
                        score,
                    });
                }
            }
            _ if !has_own => problems.push(SequenceProblem::NoSegment { finger: *finger }),
            best => problems.push(SequenceProblem::NoMatch {
                finger: *finger,
                best: best.map_or(0.0, |(_, s)| s),
            }),
        }
    }
    for (hand, other, (swapped, own)) in [
        (Hand::Right, Hand::Left, cross[0]),
        (Hand::Left, Hand::Right, cross[1]),
    ] {
        if swapped >= 2 && own == 0 {
            problems.push(SequenceProblem::HandsSwapped {
                flats: hand,
                matched: other,
            });
        }
    }
    problems
}

/// Andrew's monotone chain; counter-clockwise, no collinear points.
fn convex_hull(mut pts: Vec<(f32, f32)>) -> Vec<(f32, f32)> {
    pts.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: (f32, f32), a: (f32, f32), b: (f32, f32)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut hull: Vec<(f32, f32)> = Vec::with_capacity(2 * pts.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &(f32, f32)>> = if pass == 0 {
            Box::new(pts.iter())
        } else {
            Box::new(pts.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// The edges of a counter-clockwise convex polygon with inward normals;
/// a single point or a segment gets the normals of its bounding directions
/// so that [`inside`] measures the distance to it.
fn hull_edges(hull: &[(f32, f32)]) -> Vec<HullEdge> {
    let n = hull.len();
    if n == 1 {
        let (x, y) = hull[0];
        return [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)]
            .iter()
            .map(|&(nx, ny)| HullEdge { x, y, nx, ny })
            .collect();
    }
    let mut out = Vec::with_capacity(n + 2);
    for i in 0..n {
        let (a, b) = (hull[i], hull[(i + 1) % n]);
        let (ex, ey) = (b.0 - a.0, b.1 - a.1);
        let len = ex.hypot(ey);
        if len > 1e-6 {
            // Left of the edge is inside for a counter-clockwise polygon.
            out.push(HullEdge {
                x: a.0,
                y: a.1,
                nx: -ey / len,
                ny: ex / len,
            });
        }
    }
    if n == 2 {
        // A segment: also bound its two ends.
        if let [e, _] = out[..] {
            let (tx, ty) = (e.ny, -e.nx);
            out.push(HullEdge {
                x: hull[1].0,
                y: hull[1].1,
                nx: -tx,
                ny: -ty,
            });
            out.push(HullEdge {
                x: hull[0].0,
                y: hull[0].1,
                nx: tx,
                ny: ty,
            });
        }
    }
    out
}

/// Whether `p` lies inside the convex polygon `hull` grown by `margin`.
fn inside(hull: &[HullEdge], p: (f32, f32), margin: f32) -> bool {
    !hull.is_empty()
        && hull
            .iter()
            .all(|e| (p.0 - e.x) * e.nx + (p.1 - e.y) * e.ny >= -margin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minutiae::{Kind, Minutia};

    /// A finger-sized random template: `n` minutiae at least 12 px apart in
    /// an ellipse, from a small linear congruential generator.
    fn random_template(seed: u64, n: usize) -> Template {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        let mut minutiae: Vec<Minutia> = Vec::new();
        while minutiae.len() < n {
            let (x, y) = (
                200.0 + 120.0 * (2.0 * next() - 1.0),
                250.0 + 160.0 * (2.0 * next() - 1.0),
            );
            let inside = ((x - 200.0) / 120.0).powi(2) + ((y - 250.0) / 160.0).powi(2) <= 1.0;
            if inside && minutiae.iter().all(|m| (m.x - x).hypot(m.y - y) >= 12.0) {
                minutiae.push(Minutia {
                    x,
                    y,
                    angle: TAU * next(),
                    kind: if next() < 0.5 {
                        Kind::Ending
                    } else {
                        Kind::Bifurcation
                    },
                    quality: 1.0,
                });
            }
        }
        Template {
            width: 400,
            height: 500,
            minutiae,
        }
    }

    /// `t` turned by `degrees` counter-clockwise as seen about (200, 250),
    /// then shifted, with a little position noise.
    fn moved(t: &Template, degrees: f32, dx: f32, dy: f32) -> Template {
        let (s, c) = degrees.to_radians().sin_cos();
        let minutiae = t
            .minutiae
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let (x, y) = (m.x - 200.0, m.y - 250.0);
                // Counter-clockwise as seen, with y down.
                let jitter = [0.0, 1.0, -1.0, 0.5][i % 4];
                Minutia {
                    x: c * x + s * y + 200.0 + dx + jitter,
                    y: -s * x + c * y + 250.0 + dy - jitter,
                    angle: (m.angle + degrees.to_radians()).rem_euclid(TAU),
                    ..*m
                }
            })
            .collect();
        Template {
            minutiae,
            ..t.clone()
        }
    }

    #[test]
    fn empty_and_tiny_templates_score_zero() {
        let empty = Template::default();
        let one = Template {
            minutiae: random_template(1, 1).minutiae,
            ..Template::default()
        };
        assert_eq!(score(&empty, &empty), 0.0);
        assert_eq!(score(&one, &one), 0.0);
        assert_eq!(score(&empty, &random_template(2, 40)), 0.0);
        assert!(prepare(&empty).is_empty());
        let nan = Template {
            minutiae: vec![Minutia {
                x: f32::NAN,
                y: 0.0,
                angle: 0.0,
                kind: Kind::Ending,
                quality: 1.0,
            }],
            ..Template::default()
        };
        assert!(prepare(&nan).is_empty());
    }

    #[test]
    fn absurd_coordinates_do_not_panic() {
        let mut t = random_template(3, 30);
        for (k, v) in [1e30f32, -1e30, f32::MAX, f32::MIN, f32::INFINITY]
            .into_iter()
            .enumerate()
        {
            t.minutiae[k].x = v;
            t.minutiae[k + 5].y = v;
        }
        let u = random_template(3, 30);
        let s = score(&t, &u);
        assert!(s.is_finite() && s >= 0.0, "{s}");
        assert!(score(&t, &t) >= 0.0);
    }

    #[test]
    fn a_moved_copy_matches_and_the_rotation_is_found() {
        let t = random_template(7, 50);
        for (degrees, dx, dy) in [
            (0.0, 0.0, 0.0),
            (30.0, 40.0, -25.0),
            (-100.0, -60.0, 10.0),
            (180.0, 5.0, 5.0),
        ] {
            let m = moved(&t, degrees, dx, dy);
            let c = compare(&prepare(&t), &prepare(&m));
            assert!(c.score > 90.0, "{degrees}°: {c:?}");
            assert!(c.pairs >= 48, "{degrees}°: {c:?}");
            let err = angle_diff(
                c.rotation.rem_euclid(TAU),
                degrees.to_radians().rem_euclid(TAU),
            );
            assert!(err < 0.03, "{degrees}°: {c:?}");
        }
    }

    #[test]
    fn unrelated_templates_score_low() {
        let prepared: Vec<Prepared> = (0..8)
            .map(|s| prepare(&random_template(100 + s, 50)))
            .collect();
        for (i, a) in prepared.iter().enumerate() {
            for b in &prepared[i + 1..] {
                let s = score_prepared(a, b);
                assert!(s < 0.5 * SAME_FINGER_THRESHOLD, "{s}");
            }
        }
    }

    #[test]
    fn partial_overlap_still_matches() {
        // Half of the minutiae (the upper part) are seen in the other print.
        let t = random_template(11, 60);
        let mut upper = moved(&t, 12.0, 10.0, 30.0);
        upper.minutiae.retain(|m| m.y < 250.0);
        let s = score(&t, &upper);
        assert!(s >= SAME_FINGER_THRESHOLD, "{s}");
    }

    #[test]
    fn duplicates_finds_the_planted_pair_only() {
        let fingers = [
            Finger::RightIndex,
            Finger::RightMiddle,
            Finger::RightRing,
            Finger::RightLittle,
        ];
        let clean: Vec<Template> = (0..4).map(|s| random_template(200 + s, 45)).collect();
        let record: Vec<(Finger, &Template)> = fingers.iter().copied().zip(&clean).collect();
        assert!(duplicates(&record, SAME_FINGER_THRESHOLD).is_empty());

        // The ring finger's print is the index again, elsewhere on the glass.
        let copy = moved(&clean[0], -20.0, 30.0, 60.0);
        let mut planted = record.clone();
        planted[2].1 = &copy;
        let found = duplicates(&planted, SAME_FINGER_THRESHOLD);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].a, found[0].b),
            (Finger::RightIndex, Finger::RightRing)
        );
        // Two prints of one finger (a segment and a flat) are no duplicate.
        let same: Vec<(Finger, &Template)> = vec![
            (Finger::LeftThumb, &clean[1]),
            (Finger::LeftThumb, &clean[1]),
        ];
        assert!(duplicates(&same, SAME_FINGER_THRESHOLD).is_empty());
        // Highest first.
        let copy2 = moved(&clean[1], 5.0, 0.0, 0.0);
        planted.push((Finger::LeftIndex, &copy2));
        let found = duplicates(&planted, SAME_FINGER_THRESHOLD);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].score >= found[1].score);
    }

    #[test]
    fn sequence_check_explains_swaps() {
        let templates: Vec<Template> = (0..10).map(|s| random_template(300 + s, 45)).collect();
        let segments: Vec<(Finger, &Template)> =
            Finger::ALL.iter().copied().zip(&templates).collect();
        let flats_owned: Vec<Template> = templates
            .iter()
            .map(|t| moved(t, 8.0, -15.0, 20.0))
            .collect();
        let flats: Vec<(Finger, &Template)> =
            Finger::ALL.iter().copied().zip(&flats_owned).collect();
        assert_eq!(
            sequence_check(&segments, &flats, SAME_FINGER_THRESHOLD),
            vec![]
        );

        // Index and middle exchanged.
        let mut swapped = flats.clone();
        swapped.swap(1, 2);
        swapped[1].0 = Finger::RightIndex;
        swapped[2].0 = Finger::RightMiddle;
        let problems = sequence_check(&segments, &swapped, SAME_FINGER_THRESHOLD);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(matches!(
            problems[0],
            SequenceProblem::Swapped {
                expected: Finger::RightIndex,
                matched: Finger::RightMiddle,
                ..
            }
        ));
        assert!(matches!(
            problems[1],
            SequenceProblem::Swapped {
                expected: Finger::RightMiddle,
                matched: Finger::RightIndex,
                ..
            }
        ));

        // Hands swapped: every flat labelled with the other hand's finger.
        let hands: Vec<(Finger, &Template)> = flats
            .iter()
            .map(|&(f, t)| {
                (
                    Finger::from_position((f.position() + 4) % 10 + 1).expect("finger"),
                    t,
                )
            })
            .collect();
        let problems = sequence_check(&segments, &hands, SAME_FINGER_THRESHOLD);
        let swaps = problems
            .iter()
            .filter(|p| matches!(p, SequenceProblem::Swapped { .. }))
            .count();
        assert_eq!(swaps, 10, "{problems:?}");
        assert!(problems.contains(&SequenceProblem::HandsSwapped {
            flats: Hand::Right,
            matched: Hand::Left
        }));
        assert!(problems.contains(&SequenceProblem::HandsSwapped {
            flats: Hand::Left,
            matched: Hand::Right
        }));

        // A flat nobody's segment matches, and one without a segment.
        let stranger = random_template(999, 45);
        let mut odd = flats.clone();
        odd[4].1 = &stranger;
        let problems = sequence_check(&segments[..9], &odd, SAME_FINGER_THRESHOLD);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            matches!(problems[0], SequenceProblem::NoMatch { finger: Finger::RightLittle, best } if best < SAME_FINGER_THRESHOLD)
        );
        assert_eq!(
            problems[1],
            SequenceProblem::NoSegment {
                finger: Finger::LeftLittle
            }
        );
    }

    #[test]
    fn score_matrix_has_the_genuine_pairs_on_its_diagonal() {
        let a: Vec<Template> = (0..3).map(|s| random_template(400 + s, 40)).collect();
        let b: Vec<Template> = a.iter().map(|t| moved(t, -15.0, 20.0, 0.0)).collect();
        let m = score_matrix(&a.iter().collect::<Vec<_>>(), &b.iter().collect::<Vec<_>>());
        for (i, row) in m.iter().enumerate() {
            for (j, &s) in row.iter().enumerate() {
                assert_eq!(s >= SAME_FINGER_THRESHOLD, i == j, "{m:?}");
            }
        }
    }

    #[test]
    fn geometry_helpers() {
        assert_eq!(turn_diff(250, 5), 11);
        assert_eq!(turn_diff(5, 250), 11);
        assert_eq!(turn_diff(0, 128), 128);
        assert!((angle_diff(0.1, TAU - 0.1) - 0.2).abs() < 1e-5);
        let square = hull_edges(&convex_hull(vec![
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (5.0, 5.0),
        ]));
        assert_eq!(square.len(), 4);
        assert!(inside(&square, (5.0, 5.0), 0.0));
        assert!(inside(&square, (-2.0, 5.0), 3.0));
        assert!(!inside(&square, (-4.0, 5.0), 3.0));
        let segment = hull_edges(&convex_hull(vec![(0.0, 0.0), (10.0, 0.0), (5.0, 0.0)]));
        assert!(inside(&segment, (5.0, 2.0), 3.0));
        assert!(!inside(&segment, (14.0, 0.0), 3.0));
        assert!(!inside(&segment, (5.0, 4.0), 3.0));
        let point = hull_edges(&convex_hull(vec![(1.0, 1.0)]));
        assert!(inside(&point, (2.0, 2.0), 3.0));
        assert!(!inside(&[], (0.0, 0.0), 100.0));
    }
}
