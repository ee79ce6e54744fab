//! Slap segmentation: the four fingers of a hand (or both thumbs) captured
//! together are cut into one box per finger, with the checks a 4-4-2
//! enrolment needs (standards digest §7, after NIST SlapSeg): the number
//! of fingers on the glass, and whether the hand is the one asked for.
//!
//! # Algorithm
//!
//! 1. **Foreground** on a grid of cells of about 1/125 inch (4 × 4 pixels at
//!    500 ppi, scaled with `ppi`): a cell is foreground when the grey levels
//!    of its 3 × 3 neighbourhood vary well above the sensor noise (ridges
//!    against valleys) or are much darker than the glass; both thresholds
//!    adapt to the image. An opening then a closing with a 3 × 3
//!    square remove specks and fill pinholes; 8-connected components follow.
//! 2. **Clean-up** of the components: specks are dropped; the pieces of one
//!    finger broken by a dry band or a crease (one above the other along the
//!    finger axis, a small gap between them) are merged; blobs much smaller
//!    than the fingers are dropped; while fewer blobs than fingers were
//!    found, a blob at least 1.5 times as wide as the others is split where
//!    its outline is notched on both sides (two touching fingertips: the
//!    convexity defects of the blob).
//! 3. **Geometry**: each blob's axis from its second moments (the tilt of
//!    the major axis of the fitted ellipse), the hand angle as their mean,
//!    the blobs ordered across the hand, and each finger limited to its
//!    distal phalanx: the part within 1.8 finger widths of the tip, so that
//!    the middle phalanges of a real slap stay out of the box.
//! 4. **Checks**: the count against the fingers expected (those of the
//!    impression minus the declared exceptions), then the hand.
//!
//! # Geometry convention (that of `pishkhan_scanner::slap`)
//!
//! Images are as the scanner returns them, fingertips up. A **right** slap
//! shows the index on the image's left and the little finger on its right;
//! a **left** slap is its mirror image: index on the right, little finger
//! on the left. The little finger's tip is clearly the lowest (measured
//! along the hand axis) and the whole hand leans towards the thumb side:
//! a right hand is turned counter-clockwise, its fingertips pointing up and
//! to the left (negative [`Segment::angle_deg`]), a left hand clockwise
//! (positive), typically by 10–25°, as SlapSeg reports for real slaps. In
//! the **thumbs** impression the right thumb lies on the image's right and
//! the left thumb on its left, each leaning towards the other.
//!
//! The hand check weighs two cues, each worth at most two units: the hand
//! rotation (one unit per [`ROTATION_UNIT_DEG`] degrees, counter-clockwise
//! pointing to a right hand) and, when the little finger is among the
//! fingers on the glass, which end of the row has the lower tip (one unit
//! per [`TIP_UNIT`] finger widths of difference, the lower end being the
//! little finger). A hand is called the wrong one only when the sum points
//! the other way by at least [`HAND_MARGIN`] units; weaker evidence is
//! accepted. Both cues need at least two fingers on the glass; thumbs carry
//! no hand check.
//!
//! # Exceptions
//!
//! Fingers declared missing or unprintable (XX/UP in 14.018 AMP) are not
//! expected: the blobs found must number exactly the remaining fingers and
//! are given to them in order across the hand. With one finger of four
//! missing, a hole in the row (one gap at least 1.6 times the others) names
//! the finger that is really absent ([`Segmentation::gap_missing`]), so the
//! station can notice a wrongly declared exception; a missing end finger
//! leaves no hole and is not named.
//!
//! # Limits
//!
//! The fingertips must be separate from one another above their lower
//! halves: a slap that also shows the palm, joining all fingers into one
//! blob, is split only where the outline is notched between fingertips,
//! and as many times as fingers are missing from the count. Fingers are
//! boxed, not rotated upright; [`Segment::angle_deg`] gives the tilt.

mod blobs;
mod mask;

pub use pishkhan_scanner::{Finger, Impression};

use crate::gray::{Gray, GrayRef};
use blobs::{Blob, Frame};

/// Degrees of hand rotation worth one unit of hand evidence.
pub const ROTATION_UNIT_DEG: f32 = 8.0;
/// Difference of tip height between the two ends of the row, in finger
/// widths, worth one unit of hand evidence.
pub const TIP_UNIT: f32 = 0.4;
/// The hand evidence (in units) against the requested hand from which a
/// slap is rejected as the wrong hand.
pub const HAND_MARGIN: f32 = 1.5;

/// Working resolution of the foreground grid, cells per inch.
const GRID_PPI: f64 = 125.0;
/// Accepted scanner resolutions.
const PPI_RANGE: std::ops::RangeInclusive<u16> = 100..=2000;
/// A fingertip's width when nothing else tells it, inches (used only to
/// decide whether a lone blob is wide enough to hold two fingers).
const NOMINAL_FINGER_WIDTH_IN: f64 = 0.5;
/// Minimum image size: this much width per expected finger, and height.
const MIN_WIDTH_PER_FINGER_IN: f64 = 0.3;
const MIN_HEIGHT_IN: f64 = 0.5;
/// Components smaller than a square of this side (inches) are specks.
const SPECK_IN: f64 = 0.06;
/// Largest gap (inches) along a finger between two pieces that merge.
const MAX_PIECE_GAP_IN: f64 = 0.12;
/// Blobs smaller than this fraction of a typical finger are not fingers.
const MIN_FINGER_AREA: f64 = 0.25;
/// Length of the distal phalanx box, in finger widths from the tip.
const DISTAL_LENGTH: f64 = 1.8;
/// Blobs rounder than this do not tell their axis.
const MIN_ELONGATION: f64 = 1.1;
/// Fingers on a platen lean at most this much from the vertical (degrees).
const MAX_TILT_DEG: f64 = 50.0;
/// A gap between neighbouring fingers at least this many times the others
/// marks a missing finger there.
const MISSING_GAP: f64 = 1.6;

/// One finger cut out of a slap.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Which finger this is.
    pub finger: Finger,
    /// The box in the slap image, pixels (axis-aligned, as ANSI/NIST-ITL
    /// 14.021 SEG records it).
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// Tilt of the finger axis from the vertical, degrees, clockwise
    /// positive (fingertip to the right).
    pub angle_deg: f32,
    /// The pixels of the box, not rotated (no resampling).
    pub image: Gray,
}

/// The fingers found on a slap.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// The impression segmented.
    pub impression: Impression,
    /// One segment per expected finger (the impression's fingers less the
    /// declared exceptions), in finger-position order.
    pub segments: Vec<Segment>,
    /// Number of fingers found (equal to `segments.len()`).
    pub found: usize,
    /// Mean tilt of the finger axes, degrees, clockwise positive: negative
    /// for a typical right hand, positive for a left hand.
    pub hand_angle_deg: f32,
    /// Evidence (in units, see the module documentation) that the fingers
    /// are those of a right hand (> 0) or of a left hand (< 0); 0 for thumbs.
    pub hand_evidence: f32,
    /// When exactly one finger of a four-finger slap is missing and the
    /// spacing of the others shows a clear hole between two of them, the
    /// finger that belongs in that hole. A station can compare it with the
    /// declared exception; `None` when the spacing is even (an end finger
    /// missing) or unclear.
    pub gap_missing: Option<Finger>,
}

/// Why a slap could not be segmented as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    #[error("a single-finger impression is not a slap")]
    NotASlap,
    #[error("expected {expected} finger(s) on the glass, found {found}")]
    Count { expected: usize, found: usize },
    #[error("the fingers look like a {looks_like:?}, not the {expected:?} asked for")]
    WrongHand {
        expected: Impression,
        looks_like: Impression,
    },
    #[error("nothing on the glass")]
    Empty,
    #[error("a {width}×{height} image is too small for this impression at this resolution")]
    TooSmall { width: u32, height: u32 },
    #[error("{ppi} ppi is outside the supported range of 100–2000 ppi")]
    Resolution { ppi: u16 },
}

/// Segments `slap`, an impression of several fingers scanned at `ppi`,
/// into one box per expected finger: the fingers of `impression` except
/// those declared missing or unprintable in `exceptions` (fingers of other
/// impressions in `exceptions` are ignored). Checks that exactly that many
/// fingers are on the glass and, for slaps, that they look like the hand
/// asked for.
pub fn segment(
    slap: GrayRef<'_>,
    ppi: u16,
    impression: Impression,
    exceptions: &[Finger],
) -> Result<Segmentation, SegmentError> {
    if matches!(impression, Impression::Finger(_)) {
        return Err(SegmentError::NotASlap);
    }
    if !PPI_RANGE.contains(&ppi) {
        return Err(SegmentError::Resolution { ppi });
    }
    let all = impression.fingers();
    let expected: Vec<Finger> = all
        .iter()
        .copied()
        .filter(|f| !exceptions.contains(f))
        .collect();
    let ppi_f = f64::from(ppi);
    let (width, height) = (slap.width(), slap.height());
    let too_small = (width as f64) < all.len() as f64 * MIN_WIDTH_PER_FINGER_IN * ppi_f
        || (height as f64) < MIN_HEIGHT_IN * ppi_f;
    if too_small {
        return Err(SegmentError::TooSmall {
            width: u32::try_from(width).unwrap_or(u32::MAX),
            height: u32::try_from(height).unwrap_or(u32::MAX),
        });
    }

    // 1. Foreground cells and components.
    let cell = (ppi_f / GRID_PPI).round().max(1.0) as usize;
    let cells_per_inch = ppi_f / cell as f64;
    let fg = mask::clean(&mask::foreground(slap, cell));
    let speck = (SPECK_IN * cells_per_inch).powi(2);
    let mut found: Vec<Blob> = mask::components(&fg)
        .into_iter()
        .filter(|c| c.len() as f64 >= speck)
        .map(|cells| Blob { cells })
        .collect();

    // 2. Pieces, small blobs, touching fingers.
    let frame0 = Frame::new(initial_tilt(&found));
    found = blobs::merge_pieces(found, frame0, MAX_PIECE_GAP_IN * cells_per_inch);
    drop_small(&mut found, expected.len());
    if found.is_empty() {
        return if expected.is_empty() {
            Ok(Segmentation {
                impression,
                segments: Vec::new(),
                found: 0,
                hand_angle_deg: 0.0,
                hand_evidence: 0.0,
                gap_missing: None,
            })
        } else {
            Err(SegmentError::Empty)
        };
    }
    blobs::split_touching(
        &mut found,
        frame0,
        expected.len(),
        NOMINAL_FINGER_WIDTH_IN * cells_per_inch,
    );
    if found.len() != expected.len() {
        return Err(SegmentError::Count {
            expected: expected.len(),
            found: found.len(),
        });
    }

    // 3. Axes, hand angle, order across the hand.
    let shapes: Vec<_> = found.iter().map(Blob::shape).collect();
    let fallback = initial_tilt(&found);
    let tilts: Vec<f64> = shapes
        .iter()
        .map(|s| {
            if s.elongation >= MIN_ELONGATION && s.tilt.abs() <= MAX_TILT_DEG.to_radians() {
                s.tilt
            } else {
                fallback
            }
        })
        .collect();
    let hand_tilt = tilts.iter().sum::<f64>() / tilts.len() as f64;
    let hand = Frame::new(hand_tilt);
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&a, &b| {
        let pa = hand.across(shapes[a].cx, shapes[a].cy);
        let pb = hand.across(shapes[b].cx, shapes[b].cy);
        pa.total_cmp(&pb)
    });
    let widths: Vec<f64> = order.iter().map(|&i| found[i].width(hand)).collect();
    let typical_width = median(&widths).max(1.0);

    // 4. The hand check (slaps only).
    let tips: Vec<f64> = order.iter().map(|&i| found[i].extent(hand)[3]).collect();
    let little_present = expected
        .iter()
        .any(|f| matches!(f, Finger::RightLittle | Finger::LeftLittle));
    let evidence = match impression {
        Impression::RightSlap | Impression::LeftSlap if found.len() >= 2 => {
            hand_evidence(hand_tilt.to_degrees(), &tips, typical_width, little_present)
        }
        _ => 0.0,
    };
    let wrong = match impression {
        Impression::RightSlap => evidence <= -f64::from(HAND_MARGIN),
        Impression::LeftSlap => evidence >= f64::from(HAND_MARGIN),
        _ => false,
    };
    if wrong {
        let looks_like = if impression == Impression::RightSlap {
            Impression::LeftSlap
        } else {
            Impression::RightSlap
        };
        return Err(SegmentError::WrongHand {
            expected: impression,
            looks_like,
        });
    }

    // Finger order in the image, left to right: a right hand starts with
    // its index, a left hand with its little finger; the left thumb is on
    // the left.
    let mut in_image_order = expected.clone();
    if matches!(impression, Impression::LeftSlap | Impression::Thumbs) {
        in_image_order.reverse();
    }
    let centres: Vec<f64> = order
        .iter()
        .map(|&i| hand.across(shapes[i].cx, shapes[i].cy))
        .collect();
    // A hole in the row of a four-finger slap with one finger missing:
    // the hole's place among the four, counted in the image, names the
    // finger whatever was declared.
    let gap_missing = if all.len() == 4 && found.len() == 3 {
        let mut full_image_order = all.clone();
        if impression == Impression::LeftSlap {
            full_image_order.reverse();
        }
        interior_gap(&centres).map(|k| full_image_order[k + 1])
    } else {
        None
    };

    let mut segments: Vec<Segment> = order
        .iter()
        .zip(&in_image_order)
        .map(|(&i, &finger)| {
            let own = Frame::new(tilts[i]);
            let tip = blobs::distal(&found[i], own, DISTAL_LENGTH);
            make_segment(slap, cell, finger, &tip, tilts[i])
        })
        .collect();
    segments.sort_by_key(|s| s.finger.position());
    Ok(Segmentation {
        impression,
        found: segments.len(),
        segments,
        hand_angle_deg: hand_tilt.to_degrees() as f32,
        hand_evidence: evidence as f32,
        gap_missing,
    })
}

/// A first estimate of the finger tilt: the area-weighted mean tilt of the
/// large elongated blobs standing within [`MAX_TILT_DEG`] of the vertical
/// (0 when there is none). Blobs lying on their side are not single
/// fingers (two touching fingertips make a blob wider than high).
fn initial_tilt(found: &[Blob]) -> f64 {
    let largest = found.iter().map(Blob::area).max().unwrap_or(0) as f64;
    let (mut sum, mut weight) = (0.0, 0.0);
    for b in found {
        let s = b.shape();
        if s.elongation >= MIN_ELONGATION
            && s.tilt.abs() <= MAX_TILT_DEG.to_radians()
            && b.area() as f64 >= 0.3 * largest
        {
            sum += s.tilt * b.area() as f64;
            weight += b.area() as f64;
        }
    }
    if weight > 0.0 { sum / weight } else { 0.0 }
}

/// Drops blobs smaller than [`MIN_FINGER_AREA`] of a typical finger: the
/// median of the `expected` largest blobs (remnants of a lifted edge or a
/// latent print left on the glass are much smaller than a fingertip).
fn drop_small(found: &mut Vec<Blob>, expected: usize) {
    let mut areas: Vec<f64> = found.iter().map(|b| b.area() as f64).collect();
    areas.sort_by(|a, b| b.total_cmp(a));
    areas.truncate(expected.max(1));
    let typical = median(&areas);
    found.retain(|b| b.area() as f64 >= MIN_FINGER_AREA * typical);
}

/// The median of `values` (0 when empty).
fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Evidence that a row of fingers is a right hand (> 0) or a left one
/// (< 0): the hand rotation (counter-clockwise, a negative tilt, for a
/// right hand) and, when the little finger is on the glass, which end of
/// the row has the lower tip (`tips` are heights along the hand axis, in
/// image order left to right; the little finger is the lower end, on the
/// right of a right hand). Each cue is capped at two units.
fn hand_evidence(tilt_deg: f64, tips: &[f64], finger_width: f64, little_present: bool) -> f64 {
    let rotation = (-tilt_deg / f64::from(ROTATION_UNIT_DEG)).clamp(-2.0, 2.0);
    let tip = match (tips.first(), tips.last()) {
        (Some(&left), Some(&right)) if little_present && tips.len() >= 2 => {
            ((left - right) / finger_width / f64::from(TIP_UNIT)).clamp(-2.0, 2.0)
        }
        _ => 0.0,
    };
    rotation + tip
}

/// The index `k` of the clearly widest gap between neighbouring centres
/// (between blob `k` and `k + 1`), when it is at least [`MISSING_GAP`]
/// times every other gap.
fn interior_gap(centres: &[f64]) -> Option<usize> {
    let gaps: Vec<f64> = centres.windows(2).map(|w| w[1] - w[0]).collect();
    let (k, &widest) = gaps.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let others_max = gaps
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != k)
        .map(|(_, &g)| g)
        .fold(f64::NEG_INFINITY, f64::max);
    (others_max.is_finite() && widest >= MISSING_GAP * others_max).then_some(k)
}

/// The segment of `finger` from its distal cells.
fn make_segment(slap: GrayRef<'_>, cell: usize, finger: Finger, tip: &Blob, tilt: f64) -> Segment {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for &(x, y) in &tip.cells {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let px = |c: u32| (c as usize * cell).min(slap.width() - 1);
    let py = |c: u32| (c as usize * cell).min(slap.height() - 1);
    let (bx, by) = (px(x0), py(y0));
    let bw = ((x1 as usize + 1) * cell).min(slap.width()) - bx;
    let bh = ((y1 as usize + 1) * cell).min(slap.height()) - by;
    let image = slap.crop(bx, by, bw, bh);
    Segment {
        finger,
        x: bx as u32,
        y: by as u32,
        width: image.width() as u32,
        height: image.height() as u32,
        angle_deg: tilt.to_degrees() as f32,
        image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_evidence_combines_rotation_and_tips() {
        // A right hand: turned counter-clockwise, the right end lower.
        let right = hand_evidence(-16.0, &[10.0, 20.0, 15.0, -5.0], 60.0, true);
        assert!(right >= f64::from(HAND_MARGIN), "{right}");
        // Its mirror image.
        let left = hand_evidence(16.0, &[-5.0, 15.0, 20.0, 10.0], 60.0, true);
        assert!((left + right).abs() < 1e-9);
        // Without the little finger only the rotation counts.
        assert!((hand_evidence(-4.0, &[0.0, 50.0], 60.0, false) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_hole_in_the_row_is_found() {
        assert_eq!(interior_gap(&[0.0, 70.0, 210.0]), Some(1));
        assert_eq!(interior_gap(&[0.0, 70.0, 145.0]), None);
        assert_eq!(interior_gap(&[0.0]), None);
    }

    #[test]
    fn bad_requests_are_refused() {
        let img = Gray::filled(1600, 1500, 255).expect("size");
        assert_eq!(
            segment(img.view(), 500, Impression::Finger(Finger::RightIndex), &[]),
            Err(SegmentError::NotASlap)
        );
        assert_eq!(
            segment(img.view(), 20, Impression::RightSlap, &[]),
            Err(SegmentError::Resolution { ppi: 20 })
        );
        assert_eq!(
            segment(img.view(), 2000, Impression::RightSlap, &[]),
            Err(SegmentError::TooSmall {
                width: 1600,
                height: 1500
            })
        );
        assert_eq!(
            segment(img.view(), 500, Impression::Thumbs, &[]),
            Err(SegmentError::Empty)
        );
    }
}
