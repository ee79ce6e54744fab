//! What the station judges of one capture, before the operator sees it:
//! quality per finger, the finger count and hand (from the station's own
//! segmentation of the slap when the device sends it), the sequence of the
//! device's finger images against that segmentation, and duplicates
//! against the fingers already accepted.

use std::sync::Arc;

use pishkhan_fingerprint::minutiae::{self, Template};
use pishkhan_fingerprint::quality::{self, Quality};
use pishkhan_fingerprint::segment::{self, SegmentError};
use pishkhan_fingerprint::{Gray, GrayRef, matcher};
use pishkhan_scanner::{Capture, Finger, FingerImage, Impression, SlapImage};

use super::record::SlapRecord;

/// The station's rules for fingerprints (`[fingerprints]` in the
/// configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Lowest acceptable quality per finger (0–100).
    pub quality_threshold: u8,
    /// Attempts per impression before force-accept is offered.
    pub max_attempts: u8,
    /// Matcher score from which two images count as the same finger.
    pub match_threshold: f32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            quality_threshold: quality::DEFAULT_THRESHOLD,
            max_attempts: 3,
            match_threshold: matcher::SAME_FINGER_THRESHOLD,
        }
    }
}

/// One finger image with the station's assessment.
#[derive(Debug, Clone)]
pub struct Assessed {
    pub image: FingerImage,
    pub quality: Quality,
    pub template: Arc<Template>,
}

impl Assessed {
    pub fn finger(&self) -> Finger {
        self.image.finger
    }
}

/// Why an attempt cannot be accepted whatever its quality.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// Fewer (or more) fingers than expected were found.
    Count { expected: usize, found: usize },
    /// The slap looks like the other hand.
    WrongHand {
        expected: Impression,
        looks_like: Impression,
    },
    /// `finger` (just captured) is the same finger as `matches`.
    Duplicate {
        finger: Finger,
        matches: Finger,
        score: f32,
    },
    /// The device's image of `finger` matches the station's segment of
    /// `matched` better than its own (or no segment at all).
    Sequence {
        finger: Finger,
        matched: Option<Finger>,
    },
    /// The device sent pixels that do not form an image.
    Unreadable { finger: Finger, detail: String },
}

/// One capture, assessed.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub impression: Impression,
    pub fingers: Vec<Assessed>,
    pub slap: Option<SlapRecord>,
    pub problems: Vec<Problem>,
}

/// Assesses one finger image: quality and minutiae.
pub fn assess_image(image: FingerImage) -> Result<Assessed, Problem> {
    let (quality, template) = {
        let gray = GrayRef::new(image.width as usize, image.height as usize, &image.pixels)
            .map_err(|e| Problem::Unreadable {
                finger: image.finger,
                detail: e.to_string(),
            })?;
        (quality::assess(gray), minutiae::extract(gray))
    };
    Ok(Assessed {
        image,
        quality,
        template: Arc::new(template),
    })
}

/// Scales a crop to 500 ppi, where the matcher works.
pub(crate) fn at_500_ppi(crop: &Gray, ppi: u16) -> Gray {
    if ppi == 500 || ppi == 0 {
        return crop.clone();
    }
    let scale = 500.0 / f64::from(ppi);
    let (w, h) = (crop.width() as u32, crop.height() as u32);
    let Some(src) = image::GrayImage::from_raw(w, h, crop.pixels().to_vec()) else {
        return crop.clone();
    };
    let nw = ((f64::from(w) * scale).round() as u32).max(1);
    let nh = ((f64::from(h) * scale).round() as u32).max(1);
    let resized = image::imageops::resize(&src, nw, nh, image::imageops::FilterType::Triangle);
    Gray::new(nw as usize, nh as usize, resized.into_raw()).unwrap_or_else(|_| crop.clone())
}

/// Segments the slap, checks count and hand, and the device's images
/// against the station's own segments.
fn check_slap(
    slap: &SlapImage,
    impression: Impression,
    exceptions: &[Finger],
    fingers: &[Assessed],
    policy: &Policy,
    problems: &mut Vec<Problem>,
) -> Option<SlapRecord> {
    let gray = GrayRef::new(slap.width as usize, slap.height as usize, &slap.pixels).ok()?;
    match segment::segment(gray, slap.resolution_ppi, impression, exceptions) {
        Ok(found) => {
            let segments: Vec<(Finger, Template)> = found
                .segments
                .iter()
                .map(|s| {
                    let upright = at_500_ppi(&s.image, slap.resolution_ppi);
                    (s.finger, minutiae::extract(upright.view()))
                })
                .collect();
            let seg_refs: Vec<(Finger, &Template)> =
                segments.iter().map(|(f, t)| (*f, t)).collect();
            let flat_refs: Vec<(Finger, &Template)> = fingers
                .iter()
                .map(|a| (a.finger(), a.template.as_ref()))
                .collect();
            for p in matcher::sequence_check(&seg_refs, &flat_refs, policy.match_threshold) {
                match p {
                    // A device image that matches another finger's segment
                    // better than its own: mislabelled or swapped fingers.
                    matcher::SequenceProblem::Swapped {
                        expected, matched, ..
                    } => problems.push(Problem::Sequence {
                        finger: expected,
                        matched: Some(matched),
                    }),
                    // A good device image that matches nothing in the slap
                    // is suspicious; a poor one failing to match is only
                    // poor (its quality already speaks for it).
                    matcher::SequenceProblem::NoMatch { finger, .. } => {
                        let good = fingers.iter().any(|a| {
                            a.finger() == finger && a.quality.score >= policy.quality_threshold
                        });
                        if good {
                            problems.push(Problem::Sequence {
                                finger,
                                matched: None,
                            });
                        }
                    }
                    // Swapped hands come with their fingers' `Swapped`; a
                    // finger without a segment is a count problem, reported
                    // by the count checks.
                    matcher::SequenceProblem::HandsSwapped { .. }
                    | matcher::SequenceProblem::NoSegment { .. } => {}
                }
            }
            Some(SlapRecord {
                impression,
                image: slap.clone(),
                boxes: found
                    .segments
                    .iter()
                    .map(|s| (s.finger, [s.x, s.y, s.width, s.height]))
                    .collect(),
            })
        }
        Err(SegmentError::Count { expected, found }) => {
            problems.retain(|p| !matches!(p, Problem::Count { .. }));
            problems.push(Problem::Count { expected, found });
            None
        }
        Err(SegmentError::Empty) => {
            problems.retain(|p| !matches!(p, Problem::Count { .. }));
            let expected = impression.fingers().len() - exceptions.len();
            problems.push(Problem::Count { expected, found: 0 });
            None
        }
        Err(SegmentError::WrongHand {
            expected,
            looks_like,
        }) => {
            problems.push(Problem::WrongHand {
                expected,
                looks_like,
            });
            None
        }
        Err(other) => {
            // Not a slap we can segment (too small, not a slap): the
            // device's own segmentation and count stand.
            tracing::warn!("slap not segmented: {other}");
            None
        }
    }
}

/// Assesses a capture of `impression`. `exceptions` are the impression's
/// fingers declared missing or unprintable; `accepted` the templates of
/// fingers already accepted from other impressions.
pub fn assess_capture(
    capture: Capture,
    exceptions: &[Finger],
    accepted: &[(Finger, Arc<Template>)],
    policy: &Policy,
) -> Attempt {
    let impression = capture.impression;
    let expected: Vec<Finger> = impression
        .fingers()
        .into_iter()
        .filter(|f| !exceptions.contains(f))
        .collect();
    let mut problems = Vec::new();
    let mut fingers = Vec::new();
    for image in capture.fingers {
        match assess_image(image) {
            Ok(a) => fingers.push(a),
            Err(p) => problems.push(p),
        }
    }
    if fingers.len() != expected.len() {
        problems.push(Problem::Count {
            expected: expected.len(),
            found: fingers.len(),
        });
    }
    let slap = capture.slap.as_ref().and_then(|slap| {
        check_slap(
            slap,
            impression,
            exceptions,
            &fingers,
            policy,
            &mut problems,
        )
    });

    // Duplicates: the new fingers among themselves and against the fingers
    // accepted from other impressions.
    let mut all: Vec<(Finger, &Template)> = fingers
        .iter()
        .map(|a| (a.finger(), a.template.as_ref()))
        .collect();
    let new: Vec<Finger> = all.iter().map(|(f, _)| *f).collect();
    all.extend(
        accepted
            .iter()
            .filter(|(f, _)| !new.contains(f))
            .map(|(f, t)| (*f, t.as_ref())),
    );
    for pair in matcher::duplicates(&all, policy.match_threshold) {
        let (finger, matches) = if new.contains(&pair.a) {
            (pair.a, pair.b)
        } else if new.contains(&pair.b) {
            (pair.b, pair.a)
        } else {
            continue;
        };
        problems.push(Problem::Duplicate {
            finger,
            matches,
            score: pair.score,
        });
    }
    Attempt {
        impression,
        fingers,
        slap,
        problems,
    }
}
