//! Crossing-number detection on the skeleton, then the removal of the
//! usual false minutiae by tracing the ridges (Maltoni et al., *Handbook
//! of Fingerprint Recognition*, §3.8; Tico & Kuosmanen, "An algorithm for
//! fingerprint image postprocessing", 2000), and each minutia's direction.

use std::f32::consts::TAU;
use std::sync::OnceLock;

use super::enhance::{Binary, Field};
use super::{Kind, Minutia};

/// Steps traced along a ridge to measure a direction (about 10–12 px).
const DIR_STEPS: usize = 10;
/// Minutiae closer than this many blocks to the background are dropped:
/// the ridges there end because the image does, not the finger's ridge.
const MIN_BORDER_BLOCKS: u8 = 2;

/// Rutovitz crossing number of each 8-neighbourhood: half the number of
/// changes going round it (1 = ending, 2 = ridge, 3 = bifurcation).
fn crossing_numbers() -> &'static [u8; 256] {
    static CN: OnceLock<[u8; 256]> = OnceLock::new();
    CN.get_or_init(|| {
        let mut t = [0u8; 256];
        for (bits, cell) in t.iter_mut().enumerate() {
            let bits = bits as u8;
            // Rising edges going clockwise: bit k clear, bit k + 1 set.
            *cell = (!bits & bits.rotate_right(1)).count_ones() as u8;
        }
        t
    })
}

/// A minutia candidate while the false ones are weeded out.
struct Candidate {
    /// Buffer index of its skeleton pixel.
    at: usize,
    kind: Kind,
    /// Ridge period around it, pixels.
    period: f32,
    /// Unit direction in image axes (y down).
    dir: (f32, f32),
    keep: bool,
}

/// Where a walk along a ridge stopped.
struct Walk {
    /// Number of steps taken.
    len: usize,
    /// The candidate it ran into, if any (it may be the start itself).
    hit: Option<usize>,
    /// It stopped on a pixel that is neither a ridge nor a candidate
    /// (a crossing or a pixel outside the foreground).
    blocked: bool,
    /// The pixel reached after [`DIR_STEPS`] steps, or the last one.
    probe: usize,
}

/// The minutiae of the skeleton `skel`, cleaned.
pub(crate) fn minutiae(skel: &Binary, field: &Field) -> Vec<Minutia> {
    let cn = crossing_numbers();
    let mut candidates = Vec::new();
    let mut ids = vec![u32::MAX; skel.px.len()];
    for y in 0..skel.h {
        let row = skel.index(0, y);
        for x in 0..skel.w {
            let i = row + x;
            if skel.px[i] == 0 {
                continue;
            }
            let b = field.block_of(x, y);
            if !field.mask[b] {
                continue;
            }
            let kind = match cn[usize::from(skel.neighbours(i))] {
                1 => Kind::Ending,
                3 => Kind::Bifurcation,
                _ => continue,
            };
            ids[i] = candidates.len() as u32;
            candidates.push(Candidate {
                at: i,
                kind,
                period: field.period[b],
                dir: (0.0, 0.0),
                keep: true,
            });
        }
    }
    let tracer = Tracer {
        skel,
        ids: &ids,
        field,
        cn,
    };
    // Remove spurs, bridges, islands and ridge fragments; measure the
    // directions of the others.
    for c in 0..candidates.len() {
        let (start, period) = (candidates[c].at, candidates[c].period);
        let (sx, sy) = skel.coords(start);
        match candidates[c].kind {
            Kind::Ending => {
                let max = ((2.0 * period) as usize).max(DIR_STEPS);
                let Some(&first) = tracer.branches(start).first() else {
                    candidates[c].keep = false;
                    continue;
                };
                let walk = tracer.walk(start, first, max);
                let short = walk.len as f32;
                if let Some(o) = walk.hit.filter(|&o| o != c) {
                    // An island (a short ridge with two ends) or a spur (a
                    // short branch off a ridge).
                    let limit = match candidates[o].kind {
                        Kind::Ending => 1.8,
                        Kind::Bifurcation => 1.3,
                    };
                    if short < limit * period {
                        candidates[c].keep = false;
                        candidates[o].keep = false;
                    }
                }
                if walk.blocked && walk.len < DIR_STEPS {
                    candidates[c].keep = false;
                }
                let (px, py) = skel.coords(walk.probe);
                candidates[c].dir = unit(px as f32 - sx as f32, py as f32 - sy as f32);
            }
            Kind::Bifurcation => {
                let max = ((1.3 * period) as usize).max(DIR_STEPS);
                let branches = tracer.branches(start);
                let mut dirs = Vec::with_capacity(3);
                for &first in &branches {
                    let walk = tracer.walk(start, first, max);
                    match walk.hit {
                        // A bridge between two ridges, or a small lake.
                        Some(o)
                            if candidates[o].kind == Kind::Bifurcation
                                && (walk.len as f32) < 1.1 * period =>
                        {
                            candidates[c].keep = false;
                            candidates[o].keep = false;
                        }
                        _ => {}
                    }
                    if walk.blocked && walk.len < 3 {
                        candidates[c].keep = false;
                    }
                    let (px, py) = skel.coords(walk.probe);
                    dirs.push(unit(px as f32 - sx as f32, py as f32 - sy as f32));
                }
                match fork_direction(&dirs) {
                    Some(d) => candidates[c].dir = d,
                    None => candidates[c].keep = false,
                }
            }
        }
    }
    // Pairs: broken ridges (two endings facing each other) and clusters.
    let kept: Vec<usize> = (0..candidates.len())
        .filter(|&c| candidates[c].keep)
        .collect();
    let mut drop = vec![false; candidates.len()];
    for (n, &a) in kept.iter().enumerate() {
        for &b in &kept[n + 1..] {
            let (ca, cb) = (&candidates[a], &candidates[b]);
            let (ax, ay) = skel.coords(ca.at);
            let (bx, by) = skel.coords(cb.at);
            let (dx, dy) = (ax as f32 - bx as f32, ay as f32 - by as f32);
            let dist = dx.hypot(dy);
            let period = 0.5 * (ca.period + cb.period);
            if dist > 2.0 * period {
                continue;
            }
            if dist < 0.6 * period {
                drop[a] = true;
                drop[b] = true;
                continue;
            }
            if ca.kind == Kind::Ending && cb.kind == Kind::Ending {
                // Each ridge runs away from the other end: a gap in one
                // ridge.
                let (ux, uy) = (dx / dist, dy / dist);
                let away_a = ca.dir.0 * ux + ca.dir.1 * uy;
                let away_b = -(cb.dir.0 * ux + cb.dir.1 * uy);
                if away_a > 0.65 && away_b > 0.65 {
                    drop[a] = true;
                    drop[b] = true;
                }
            }
        }
    }
    candidates
        .iter()
        .zip(&drop)
        .filter(|(c, d)| c.keep && !**d)
        .filter_map(|(c, _)| {
            let (x, y) = skel.coords(c.at);
            let b = field.block_of(x, y);
            let border = field.border[b];
            if border < MIN_BORDER_BLOCKS {
                return None;
            }
            let clarity = (field.coherence[b] / 0.6).min(1.0);
            let inside = (f32::from(border - 1) / 3.0).min(1.0);
            Some(Minutia {
                x: x as f32,
                y: y as f32,
                // Counter-clockwise as seen: y up.
                angle: (-c.dir.1).atan2(c.dir.0).rem_euclid(TAU),
                kind: c.kind,
                quality: (clarity * (0.5 + 0.5 * inside)).clamp(0.0, 1.0),
            })
        })
        .collect()
}

/// The direction of a bifurcation: between the two branches that run
/// closest together (the third is the stem, running the other way).
fn fork_direction(dirs: &[(f32, f32)]) -> Option<(f32, f32)> {
    if dirs.len() != 3 {
        return None;
    }
    let dot = |a: (f32, f32), b: (f32, f32)| a.0 * b.0 + a.1 * b.1;
    let pairs = [(0, 1), (1, 2), (0, 2)];
    let &(i, j) = pairs
        .iter()
        .max_by(|p, q| dot(dirs[p.0], dirs[p.1]).total_cmp(&dot(dirs[q.0], dirs[q.1])))?;
    let (x, y) = (dirs[i].0 + dirs[j].0, dirs[i].1 + dirs[j].1);
    (x.hypot(y) > 1e-3).then(|| unit(x, y))
}

fn unit(x: f32, y: f32) -> (f32, f32) {
    let n = x.hypot(y);
    if n > 1e-6 { (x / n, y / n) } else { (1.0, 0.0) }
}

/// Walks along the skeleton.
struct Tracer<'a> {
    skel: &'a Binary,
    ids: &'a [u32],
    field: &'a Field,
    cn: &'a [u8; 256],
}

impl Tracer<'_> {
    /// The first pixel of each branch leaving `at`: one per run of
    /// neighbours, a 4-neighbour when the run has one.
    fn branches(&self, at: usize) -> Vec<usize> {
        let bits = self.skel.neighbours(at);
        let off = self.skel.offsets();
        let mut out = Vec::with_capacity(3);
        if bits == 0xFF {
            return out;
        }
        // Start right after a gap so that runs do not wrap around.
        let gap = (0..8).find(|&k| bits & (1 << k) == 0).unwrap_or(0);
        let mut run: Option<usize> = None;
        for step in 1..=8 {
            let k = (gap + step) % 8;
            if bits & (1 << k) != 0 {
                // Prefer the 4-neighbour (even k) of the run.
                run = match run {
                    Some(r) if r % 2 == 0 => Some(r),
                    _ => Some(k),
                };
            } else if let Some(r) = run.take() {
                out.push(at.wrapping_add_signed(off[r]));
            }
        }
        if let Some(r) = run {
            out.push(at.wrapping_add_signed(off[r]));
        }
        out
    }

    /// Follows the ridge from `start` through `first` for at most `max`
    /// steps.
    fn walk(&self, start: usize, first: usize, max: usize) -> Walk {
        let off = self.skel.offsets();
        let (mut prev, mut cur) = (start, first);
        let mut probe = first;
        let mut len = 1;
        loop {
            if len == DIR_STEPS {
                probe = cur;
            }
            let id = self.ids[cur];
            if id != u32::MAX {
                return Walk {
                    len,
                    hit: Some(id as usize),
                    blocked: false,
                    probe: if len < DIR_STEPS { cur } else { probe },
                };
            }
            let bits = self.skel.neighbours(cur);
            let (x, y) = self.skel.coords(cur);
            let outside = !self.field.mask[self.field.block_of(x, y)];
            if self.cn[usize::from(bits)] != 2 || outside {
                return Walk {
                    len,
                    hit: None,
                    blocked: true,
                    probe: if len < DIR_STEPS { cur } else { probe },
                };
            }
            if len >= max {
                return Walk {
                    len,
                    hit: None,
                    blocked: false,
                    probe: if len < DIR_STEPS { cur } else { probe },
                };
            }
            // Clear the run of neighbours that holds the previous pixel;
            // the other run is the way on.
            let Some(back) = (0..8).find(|&k| cur.wrapping_add_signed(off[k]) == prev) else {
                return Walk {
                    len,
                    hit: None,
                    blocked: true,
                    probe: cur,
                };
            };
            let mut rest = bits;
            let mut k = back;
            while rest & (1 << k) != 0 {
                rest &= !(1 << k);
                k = (k + 1) % 8;
            }
            let mut k = (back + 7) % 8;
            while rest & (1 << k) != 0 {
                rest &= !(1 << k);
                k = (k + 7) % 8;
            }
            if rest == 0 {
                return Walk {
                    len,
                    hit: None,
                    blocked: true,
                    probe: cur,
                };
            }
            let next = (0..8)
                .step_by(2)
                .find(|&k| rest & (1 << k) != 0)
                .unwrap_or_else(|| rest.trailing_zeros() as usize);
            prev = cur;
            cur = cur.wrapping_add_signed(off[next]);
            len += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_numbers_of_simple_shapes() {
        let cn = crossing_numbers();
        assert_eq!(cn[0b0000_0001], 1); // N only: an ending
        assert_eq!(cn[0b0001_0001], 2); // N and S: a line
        assert_eq!(cn[0b0000_0011], 1); // N and NE: still an ending
        assert_eq!(cn[0b0010_1001], 3); // N, SE, SW: a fork
        assert_eq!(cn[0], 0);
    }

    #[test]
    fn fork_direction_points_along_the_branches() {
        let d = fork_direction(&[(-1.0, 0.0), (0.7, 0.7), (0.7, -0.7)]).expect("fork");
        assert!(d.0 > 0.99, "{d:?}");
    }
}
