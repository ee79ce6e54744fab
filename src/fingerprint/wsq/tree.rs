//! The fixed WSQ decomposition (spec §A.1, "wavelet tree" and "quantization
//! tree"): which rectangles of the coefficient plane are split by a 2-D
//! analysis step, in which order, and which 64 subband rectangles remain.
//!
//! The spec describes the tree as tables indexed by node; here it is built
//! from one rule applied recursively. A split cuts a rectangle into four
//! quadrants with the low-pass half first, except that a quadrant that holds
//! high-pass output along an axis (to the right of or below its parent's
//! split) is *spectrally inverted* along that axis when split again: its
//! high-pass half comes first, so for an odd length the first half is the
//! shorter one. With that rule the 20 analysis steps and the 64 subbands of
//! the spec (and of NBIS `tree.c`) fall out for any image size.

/// A rectangle of the coefficient plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Rect {
    pub x: usize,
    pub y: usize,
    pub w: usize,
    pub h: usize,
}

impl Rect {
    pub fn area(&self) -> usize {
        self.w * self.h
    }
}

/// One node of the wavelet tree: a rectangle and whether its split along x
/// and y puts the high-pass half first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split {
    pub rect: Rect,
    pub invert_x: bool,
    pub invert_y: bool,
}

impl Split {
    /// The four quadrants (top-left, top-right, bottom-left, bottom-right)
    /// this split leaves, each carrying the inversion flags its own split
    /// would use.
    pub fn quadrants(self) -> [Split; 4] {
        let Rect { x, y, w, h } = self.rect;
        let left = if self.invert_x { w / 2 } else { w.div_ceil(2) };
        let top = if self.invert_y { h / 2 } else { h.div_ceil(2) };
        let (right, bottom) = (w - left, h - top);
        let node = |x, y, w, h, invert_x, invert_y| Split {
            rect: Rect { x, y, w, h },
            invert_x,
            invert_y,
        };
        [
            node(x, y, left, top, false, false),
            node(x + left, y, right, top, true, false),
            node(x, y + top, left, bottom, false, true),
            node(x + left, y + top, right, bottom, true, true),
        ]
    }
}

/// The number of subbands that are coded; 60–63 (the finest diagonal
/// quadrant) are always dropped.
pub(crate) const NUM_SUBBANDS: usize = 60;
/// First subband of the second and third Huffman-coded blocks.
pub(crate) const BLOCK_STARTS: [usize; 3] = [0, 19, 52];

/// The decomposition of one image size.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The 20 analysis steps, parents before children.
    pub steps: Vec<Split>,
    /// The rectangles of subbands 0–59, in coding order.
    pub subbands: [Rect; NUM_SUBBANDS],
}

impl Layout {
    pub fn new(width: usize, height: usize) -> Self {
        let root = Split {
            rect: Rect {
                x: 0,
                y: 0,
                w: width,
                h: height,
            },
            invert_x: false,
            invert_y: false,
        };
        // Level 1: the low-low quadrant `a` and two detail quadrants `b`, `c`
        // are split again; the diagonal one is discarded.
        let [a, b, c, _] = root.quadrants();
        // Level 2 inside `a`: `d` goes on to levels 3 and 4, `e` and `f` are
        // split twice more, the diagonal quadrant is subband 51.
        let [d, e, f, diagonal] = a.quadrants();
        let d4 = d.quadrants();
        let e4 = e.quadrants();
        let f4 = f.quadrants();
        let deepest = d4[0].quadrants()[0];

        let mut steps = vec![root, a, b, c, e, f];
        steps.extend(e4);
        steps.extend(f4);
        steps.push(d);
        steps.extend(d4);
        steps.push(deepest);

        let mut bands = Vec::with_capacity(NUM_SUBBANDS);
        bands.extend(deepest.quadrants().map(|q| q.rect));
        bands.extend(d4[0].quadrants()[1..].iter().map(|q| q.rect));
        for group in [&d4[1..], &e4[..], &f4[..]] {
            for node in group {
                bands.extend(node.quadrants().map(|q| q.rect));
            }
        }
        bands.push(diagonal.rect);
        bands.extend(b.quadrants().map(|q| q.rect));
        bands.extend(c.quadrants().map(|q| q.rect));
        let mut subbands = [Rect::default(); NUM_SUBBANDS];
        subbands.copy_from_slice(&bands);
        Self { steps, subbands }
    }

    /// Which of the three coded blocks subband `k` belongs to.
    pub fn block_of(k: usize) -> usize {
        BLOCK_STARTS.iter().rposition(|&s| k >= s).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pixel of the image lies in exactly one coded subband or in the
    /// discarded finest diagonal quadrant.
    #[test]
    fn subbands_tile_the_plane() {
        for (w, h) in [(32, 32), (33, 47), (400, 500), (357, 443), (545, 622)] {
            let layout = Layout::new(w, h);
            assert_eq!(layout.steps.len(), 20);
            let mut hits = vec![0u8; w * h];
            for r in layout.subbands {
                for y in r.y..r.y + r.h {
                    for x in r.x..r.x + r.w {
                        hits[y * w + x] += 1;
                    }
                }
            }
            let (x0, y0) = (w.div_ceil(2), h.div_ceil(2));
            for y in 0..h {
                for x in 0..w {
                    let expected = u8::from(!(x >= x0 && y >= y0));
                    assert_eq!(hits[y * w + x], expected, "{w}x{h} at ({x}, {y})");
                }
            }
        }
    }

    /// The sizes NBIS `tree.c` (`w_tree4`, `q_tree16`) gives for a 546 × 622
    /// image, worked out by hand: odd lengths at several levels.
    #[test]
    fn odd_splits_follow_the_inversion_rule() {
        let layout = Layout::new(546, 622);
        // Level-1 low band 273 × 311, then 137 × 156 (d), 136 wide (e).
        assert_eq!(
            layout.steps[1].rect,
            Rect {
                x: 0,
                y: 0,
                w: 273,
                h: 311
            }
        );
        assert_eq!(
            layout.steps[4].rect,
            Rect {
                x: 137,
                y: 0,
                w: 136,
                h: 156
            }
        );
        assert_eq!(
            layout.steps[5].rect,
            Rect {
                x: 0,
                y: 156,
                w: 137,
                h: 155
            }
        );
        // Subband 51 is the level-2 diagonal quadrant.
        assert_eq!(
            layout.subbands[51],
            Rect {
                x: 137,
                y: 156,
                w: 136,
                h: 155
            }
        );
        // `b` (273 wide, inverted along x): the left half is the shorter.
        assert_eq!(
            layout.subbands[52],
            Rect {
                x: 273,
                y: 0,
                w: 136,
                h: 156
            }
        );
        assert_eq!(
            layout.subbands[53],
            Rect {
                x: 409,
                y: 0,
                w: 137,
                h: 156
            }
        );
        // `c` (311 high, inverted along y): the top half is the shorter.
        assert_eq!(
            layout.subbands[56],
            Rect {
                x: 0,
                y: 311,
                w: 137,
                h: 155
            }
        );
        assert_eq!(
            layout.subbands[58],
            Rect {
                x: 0,
                y: 466,
                w: 137,
                h: 156
            }
        );
        assert_eq!(Layout::block_of(18), 0);
        assert_eq!(Layout::block_of(19), 1);
        assert_eq!(Layout::block_of(51), 1);
        assert_eq!(Layout::block_of(59), 2);
    }
}
