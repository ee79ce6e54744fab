//! Slap segmentation against the synthetic slaps of the virtual scanner,
//! whose true per-finger boxes are known.
//!
//! Accuracy criterion: every expected finger is found, and the box labelled
//! with a finger overlaps that finger's true box (the bounding box of its
//! contact area as drawn) with an intersection over union of at least 0.5.
//! The label must therefore be right too: a box on the neighbouring finger
//! has an IoU near 0.

use std::sync::OnceLock;

use pishkhan_fingerprint::GrayRef;
use pishkhan_fingerprint::segment::{SegmentError, Segmentation, segment};
use pishkhan_scanner::{Finger, Impression, slap};

const IMPRESSIONS: [Impression; 3] = [
    Impression::RightSlap,
    Impression::LeftSlap,
    Impression::Thumbs,
];
const FULL: (u32, u32) = (1600, 1500);
const SMALL: (u32, u32) = (800, 750);
const MIN_IOU: f64 = 0.5;

/// The identity seeds: 1 to 10, or to `PISHKHAN_SEGMENT_SEEDS` for a longer
/// soak run (in release).
fn seeds() -> Vec<u64> {
    let n = std::env::var("PISHKHAN_SEGMENT_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10u64);
    (1..=n.max(1)).collect()
}

/// One synthetic impression with its true boxes and scan resolution.
struct Case {
    seed: u64,
    impression: Impression,
    width: u32,
    height: u32,
    ppi: u16,
    pixels: Vec<u8>,
    truth: Vec<(Finger, [u32; 4])>,
}

impl Case {
    fn view(&self) -> GrayRef<'_> {
        view(&self.pixels, self.width, self.height)
    }

    fn truth_of(&self, finger: Finger) -> [u32; 4] {
        self.truth
            .iter()
            .find(|(f, _)| *f == finger)
            .map(|&(_, b)| b)
            .expect("the generator drew every finger")
    }
}

fn view(pixels: &[u8], width: u32, height: u32) -> GrayRef<'_> {
    GrayRef::new(width as usize, height as usize, pixels).expect("generator size")
}

fn capture_seed(seed: u64) -> u64 {
    1000 + 17 * seed
}

/// Every (seed, impression) at full size (500 ppi) and at the small size.
/// The generator lays a hand out identically at both sizes and shrinks the
/// small one to fit, so the small image's resolution is 500 ppi times the
/// ratio of the true box sizes.
fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let jobs: Vec<(u64, Impression)> = seeds()
            .into_iter()
            .flat_map(|s| IMPRESSIONS.map(|i| (s, i)))
            .collect();
        let render = |&(seed, impression): &(u64, Impression)| {
            let (full, full_truth) = slap(seed, impression, capture_seed(seed), FULL.0, FULL.1);
            let (small, small_truth) = slap(seed, impression, capture_seed(seed), SMALL.0, SMALL.1);
            let extent = |t: &[(Finger, [u32; 4])]| {
                t.iter().map(|(_, b)| f64::from(b[2] + b[3])).sum::<f64>()
            };
            let ppi = (500.0 * extent(&small_truth) / extent(&full_truth)).round() as u16;
            [
                Case {
                    seed,
                    impression,
                    width: FULL.0,
                    height: FULL.1,
                    ppi: 500,
                    pixels: full,
                    truth: full_truth,
                },
                Case {
                    seed,
                    impression,
                    width: SMALL.0,
                    height: SMALL.1,
                    ppi,
                    pixels: small,
                    truth: small_truth,
                },
            ]
        };
        // Two threads: rendering dominates the run time of this file.
        let (a, b) = jobs.split_at(jobs.len() / 2);
        std::thread::scope(|s| {
            let first = s.spawn(|| a.iter().flat_map(render).collect::<Vec<_>>());
            let mut out: Vec<Case> = b.iter().flat_map(render).collect();
            let mut all = first.join().expect("render thread");
            all.append(&mut out);
            all
        })
    })
}

fn case(seed: u64, impression: Impression, width: u32) -> &'static Case {
    cases()
        .iter()
        .find(|c| c.seed == seed && c.impression == impression && c.width == width)
        .expect("cached case")
}

fn iou(a: [u32; 4], b: [u32; 4]) -> f64 {
    let (ax1, ay1, bx1, by1) = (a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]);
    let iw = ax1.min(bx1).saturating_sub(a[0].max(b[0]));
    let ih = ay1.min(by1).saturating_sub(a[1].max(b[1]));
    let inter = f64::from(iw) * f64::from(ih);
    let union = f64::from(a[2] * a[3]) + f64::from(b[2] * b[3]) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// The IoU of each segment with the true box of its finger.
fn ious(seg: &Segmentation, case: &Case) -> Vec<(Finger, f64)> {
    seg.segments
        .iter()
        .map(|s| {
            let b = [s.x, s.y, s.width, s.height];
            (s.finger, iou(b, case.truth_of(s.finger)))
        })
        .collect()
}

/// `pixels` with the rectangle `b` painted glass-white.
fn white_out(pixels: &[u8], width: u32, b: [u32; 4]) -> Vec<u8> {
    let mut out = pixels.to_vec();
    for y in b[1]..b[1] + b[3] {
        let row = (y * width) as usize;
        out[row + b[0] as usize..row + (b[0] + b[2]) as usize].fill(250);
    }
    out
}

#[test]
fn every_finger_is_found_in_its_true_box() {
    let mut failures = Vec::new();
    let mut all_ious = Vec::new();
    for c in cases() {
        match segment(c.view(), c.ppi, c.impression, &[]) {
            Ok(seg) => {
                assert_eq!(seg.found, c.impression.fingers().len());
                let fingers: Vec<Finger> = seg.segments.iter().map(|s| s.finger).collect();
                assert_eq!(fingers, c.impression.fingers(), "position order");
                for (finger, v) in ious(&seg, c) {
                    all_ious.push(v);
                    if v < MIN_IOU {
                        failures.push(format!(
                            "seed {} {:?} {}×{}: {finger:?} IoU {v:.2}",
                            c.seed, c.impression, c.width, c.height
                        ));
                    }
                }
                // The generator turns right hands counter-clockwise and left
                // hands clockwise by 10–22°.
                match c.impression {
                    Impression::RightSlap => assert!(seg.hand_angle_deg < -5.0),
                    Impression::LeftSlap => assert!(seg.hand_angle_deg > 5.0),
                    _ => assert!(seg.hand_angle_deg.abs() < 10.0),
                }
                for s in &seg.segments {
                    assert_eq!(
                        (s.image.width(), s.image.height()),
                        (s.width as usize, s.height as usize)
                    );
                }
                eprintln!(
                    "seed {:2} {:?} {}×{} @{} ppi: hand {:+.1}°, evidence {:+.2}, IoU {:?}",
                    c.seed,
                    c.impression,
                    c.width,
                    c.height,
                    c.ppi,
                    seg.hand_angle_deg,
                    seg.hand_evidence,
                    ious(&seg, c)
                        .iter()
                        .map(|(_, v)| (v * 100.0).round() / 100.0)
                        .collect::<Vec<_>>()
                );
            }
            Err(e) => failures.push(format!(
                "seed {} {:?} {}×{}: {e}",
                c.seed, c.impression, c.width, c.height
            )),
        }
    }
    let mean = all_ious.iter().sum::<f64>() / all_ious.len().max(1) as f64;
    let min = all_ious.iter().copied().fold(1.0, f64::min);
    eprintln!(
        "segmentation: {} impressions, {} fingers, mean IoU {mean:.3}, min IoU {min:.3}",
        cases().len(),
        all_ious.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The fingers of `impression` less `missing`, in position order.
fn fingers_without(impression: Impression, missing: Finger) -> Vec<Finger> {
    impression
        .fingers()
        .into_iter()
        .filter(|&f| f != missing)
        .collect()
}

#[test]
fn a_missing_finger_is_counted_and_a_declared_exception_accounts_for_it() {
    use Finger::*;
    let plans = [
        (Impression::RightSlap, RightRing, Some(RightRing)),
        (Impression::LeftSlap, LeftMiddle, Some(LeftMiddle)),
        (Impression::RightSlap, RightIndex, None),
        (Impression::LeftSlap, LeftLittle, None),
        (Impression::Thumbs, LeftThumb, None),
    ];
    let mut failures = Vec::new();
    for seed in seeds() {
        for width in [FULL.0, SMALL.0] {
            for &(impression, missing, hole) in &plans {
                let c = case(seed, impression, width);
                let pixels = white_out(&c.pixels, c.width, c.truth_of(missing));
                let img = view(&pixels, c.width, c.height);
                let all = impression.fingers().len();
                // Not declared: one finger too few.
                assert_eq!(
                    segment(img, c.ppi, impression, &[]),
                    Err(SegmentError::Count {
                        expected: all,
                        found: all - 1
                    }),
                    "seed {seed} {impression:?} {width}: {missing:?} whited out"
                );
                // Declared: the others are found and named.
                let seg = match segment(img, c.ppi, impression, &[missing]) {
                    Ok(seg) => seg,
                    Err(e) => {
                        failures.push(format!("seed {seed} {impression:?} {width}: {e}"));
                        continue;
                    }
                };
                let fingers: Vec<Finger> = seg.segments.iter().map(|s| s.finger).collect();
                assert_eq!(fingers, fingers_without(impression, missing));
                for (finger, v) in ious(&seg, c) {
                    if v < MIN_IOU {
                        failures.push(format!(
                            "seed {seed} {impression:?} {width} without {missing:?}: \
                             {finger:?} IoU {v:.2}"
                        ));
                    }
                }
                if seg.gap_missing != hole {
                    failures.push(format!(
                        "seed {seed} {impression:?} {width} without {missing:?}: \
                         the gap suggests {:?}",
                        seg.gap_missing
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn more_fingers_than_expected_is_a_count_error() {
    for seed in seeds() {
        let c = case(seed, Impression::RightSlap, FULL.0);
        assert_eq!(
            segment(c.view(), c.ppi, Impression::RightSlap, &[Finger::RightRing]),
            Err(SegmentError::Count {
                expected: 3,
                found: 4
            })
        );
        let c = case(seed, Impression::Thumbs, FULL.0);
        assert_eq!(
            segment(c.view(), c.ppi, Impression::Thumbs, &[Finger::RightThumb]),
            Err(SegmentError::Count {
                expected: 1,
                found: 2
            })
        );
    }
}

#[test]
fn a_hand_on_the_wrong_slap_is_recognised() {
    let mut hits = 0;
    let mut trials = 0;
    let mut with_exception = (0, 0);
    for seed in seeds() {
        for width in [FULL.0, SMALL.0] {
            for (shown, asked) in [
                (Impression::RightSlap, Impression::LeftSlap),
                (Impression::LeftSlap, Impression::RightSlap),
            ] {
                let c = case(seed, shown, width);
                let wrong = Err(SegmentError::WrongHand {
                    expected: asked,
                    looks_like: shown,
                });
                trials += 1;
                let got = segment(c.view(), c.ppi, asked, &[]);
                if got == wrong {
                    hits += 1;
                } else {
                    eprintln!("seed {seed} {shown:?} {width} asked as {asked:?}: {got:?}");
                }
                // Three fingers (ring missing, declared): the tip cue still
                // has both ends of the row.
                let ring = shown.fingers()[2];
                let pixels = white_out(&c.pixels, c.width, c.truth_of(ring));
                let img = view(&pixels, c.width, c.height);
                let asked_ring = asked.fingers()[2];
                with_exception.1 += 1;
                if segment(img, c.ppi, asked, &[asked_ring]) == wrong {
                    with_exception.0 += 1;
                }
            }
        }
    }
    eprintln!(
        "hand check: {hits}/{trials} wrong hands recognised with four fingers, {}/{} with \
         three",
        with_exception.0, with_exception.1
    );
    assert!(10 * hits >= 9 * trials, "{hits}/{trials}");
    assert!(10 * with_exception.0 >= 9 * with_exception.1);
}

#[test]
fn blank_glass_is_empty() {
    // Glass with sensor noise and uneven illumination, no finger.
    let (w, h) = FULL;
    let pixels: Vec<u8> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            let noise = (i.wrapping_mul(2_654_435_761) >> 27) as i32 - 16;
            let shade = (x / 160 + y / 250) as i32;
            (240 + shade + noise / 3).clamp(0, 255) as u8
        })
        .collect();
    for impression in IMPRESSIONS {
        assert_eq!(
            segment(view(&pixels, w, h), 500, impression, &[]),
            Err(SegmentError::Empty)
        );
    }
}

#[test]
fn one_flat_finger_is_not_a_slap() {
    for seed in seeds().into_iter().take(4) {
        let impression = Impression::Finger(Finger::RightIndex);
        let (pixels, truth) = slap(seed, impression, capture_seed(seed), FULL.0, FULL.1);
        assert_eq!(truth.len(), 1);
        let img = view(&pixels, FULL.0, FULL.1);
        assert_eq!(
            segment(img, 500, Impression::RightSlap, &[]),
            Err(SegmentError::Count {
                expected: 4,
                found: 1
            })
        );
        assert_eq!(
            segment(img, 500, Impression::Thumbs, &[]),
            Err(SegmentError::Count {
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            segment(img, 500, impression, &[]),
            Err(SegmentError::NotASlap)
        );
    }
}

#[test]
fn a_finger_broken_by_a_dry_band_is_one_finger() {
    let mut failures = Vec::new();
    for seed in seeds() {
        let c = case(seed, Impression::LeftSlap, FULL.0);
        let b = c.truth_of(Finger::LeftMiddle);
        // A band of lost contact, a tenth of the finger high, across it.
        let band = [b[0], b[1] + b[3] / 2, b[2], b[3] / 10];
        let pixels = white_out(&c.pixels, c.width, band);
        let img = view(&pixels, c.width, c.height);
        match segment(img, c.ppi, Impression::LeftSlap, &[]) {
            Ok(seg) => {
                for (finger, v) in ious(&seg, c) {
                    if v < MIN_IOU {
                        failures.push(format!("seed {seed}: {finger:?} IoU {v:.2}"));
                    }
                }
            }
            Err(e) => failures.push(format!("seed {seed}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn touching_fingers_are_split() {
    let mut failures = Vec::new();
    for seed in seeds() {
        let c = case(seed, Impression::RightSlap, FULL.0);
        let middle = c.truth_of(Finger::RightMiddle);
        let ring = c.truth_of(Finger::RightRing);
        // Slide the ring finger left until its box overlaps the middle
        // finger's by a fifth of a finger width, so that the two prints
        // touch (the darker pixel wins where they meet).
        let shift = (ring[0] + ring[2] / 5).saturating_sub(middle[0] + middle[2]);
        let mut pixels = white_out(&c.pixels, c.width, ring);
        for y in ring[1]..ring[1] + ring[3] {
            for x in ring[0]..ring[0] + ring[2] {
                let src = c.pixels[(y * c.width + x) as usize];
                let dst = &mut pixels[(y * c.width + x - shift) as usize];
                *dst = (*dst).min(src);
            }
        }
        let img = view(&pixels, c.width, c.height);
        let moved = [ring[0] - shift, ring[1], ring[2], ring[3]];
        match segment(img, c.ppi, Impression::RightSlap, &[]) {
            Ok(seg) => {
                for s in &seg.segments {
                    let truth = if s.finger == Finger::RightRing {
                        moved
                    } else {
                        c.truth_of(s.finger)
                    };
                    let v = iou([s.x, s.y, s.width, s.height], truth);
                    if v < MIN_IOU {
                        failures.push(format!("seed {seed}: {:?} IoU {v:.2}", s.finger));
                    }
                }
            }
            Err(e) => failures.push(format!("seed {seed} (shift {shift}): {e}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
