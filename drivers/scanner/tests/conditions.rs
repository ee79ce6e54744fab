//! Poor captures ([`Condition::Poor`]) and multi-finger impressions with
//! fingers left out or the other hand placed ([`slap_with`]).

use pishkhan_scanner::{
    Condition, Finger, Impression, SlapOptions, SyntheticFinger, slap, slap_resolution_ppi,
    slap_with,
};

const W: u32 = 288;
const H: u32 = 384;
const BLOCK: usize = 16;

/// Per-block quality measures in the manner of NFIQ 2's local features.
struct Block {
    mean: f64,
    /// Standard deviation of the grey levels (ridge-valley contrast).
    std: f64,
    /// Orientation certainty: 1 − λmin/λmax of the gradient covariance
    /// (near 1 for clean parallel ridges, near 0 for noise).
    ocl: f64,
}

fn block(pixels: &[u8], width: usize, bx: usize, by: usize) -> Block {
    let at = |x: usize, y: usize| f64::from(pixels[y * width + x]);
    let (mut sum, mut sum2) = (0.0, 0.0);
    let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
    for y in by..by + BLOCK {
        for x in bx..bx + BLOCK {
            let v = at(x, y);
            sum += v;
            sum2 += v * v;
            let gx = at((x + 1).min(width - 1), y) - at(x.saturating_sub(1), y);
            let gy = at(x, y + 1) - at(x, y.saturating_sub(1));
            a += gx * gx;
            b += gy * gy;
            c += gx * gy;
        }
    }
    let n = (BLOCK * BLOCK) as f64;
    let mean = sum / n;
    let std = (sum2 / n - mean * mean).max(0.0).sqrt();
    let root = ((a - b) * (a - b) + 4.0 * c * c).sqrt();
    let (max, min) = ((a + b + root) / 2.0, (a + b - root) / 2.0);
    let ocl = if max > 0.0 { 1.0 - min / max } else { 0.0 };
    Block { mean, std, ocl }
}

/// Means of (std, ocl) over the blocks that `reference` shows as finger,
/// and the mean OCL and grey over those it shows as empty glass.
struct Measures {
    finger_std: f64,
    finger_ocl: f64,
    finger_mean: f64,
    glass_ocl: f64,
    glass_mean: f64,
}

fn measure(pixels: &[u8], reference: &[u8], width: u32, height: u32) -> Measures {
    let (w, h) = (width as usize, height as usize);
    let mut finger = (0.0, 0.0, 0.0, 0usize);
    let mut glass = (0.0, 0.0, 0usize);
    for by in (1..h - BLOCK - 1).step_by(BLOCK) {
        for bx in (1..w - BLOCK - 1).step_by(BLOCK) {
            let r = block(reference, w, bx, by);
            let p = block(pixels, w, bx, by);
            if r.mean < 190.0 && r.std > 30.0 {
                finger = (
                    finger.0 + p.std,
                    finger.1 + p.ocl,
                    finger.2 + p.mean,
                    finger.3 + 1,
                );
            } else if r.mean > 235.0 {
                glass = (glass.0 + p.ocl, glass.1 + p.mean, glass.2 + 1);
            }
        }
    }
    assert!(finger.3 > 40 && glass.2 > 10, "finger and glass blocks");
    let (nf, ng) = (finger.3 as f64, glass.2 as f64);
    Measures {
        finger_std: finger.0 / nf,
        finger_ocl: finger.1 / nf,
        finger_mean: finger.2 / nf,
        glass_ocl: glass.0 / ng,
        glass_mean: glass.1 / ng,
    }
}

const CASES: [(u64, Finger, u64); 8] = [
    (1, Finger::RightThumb, 1),
    (2, Finger::RightIndex, 2),
    (3, Finger::LeftMiddle, 3),
    (4, Finger::LeftLittle, 4),
    (5, Finger::RightRing, 5),
    (6, Finger::LeftThumb, 6),
    (7, Finger::RightMiddle, 7),
    (8, Finger::LeftIndex, 8),
];

#[test]
fn poor_captures_score_lower_on_quality_measures_yet_show_the_finger() {
    let (mut ocl_normal, mut ocl_poor) = (0.0, 0.0);
    for (id, finger, seed) in CASES {
        let f = SyntheticFinger::new(id, finger);
        let normal = f.capture_in(seed, W, H, Condition::Normal);
        let poor = f.capture_in(seed, W, H, Condition::Poor);
        // Both measured where the normal capture shows the finger: a poor
        // capture with a seed lies where the normal one lies.
        let n = measure(&normal, &normal, W, H);
        let p = measure(&poor, &normal, W, H);
        eprintln!(
            "{finger:?}: contrast {:.1} → {:.1}, OCL {:.2} → {:.2} (glass {:.2}), \
             finger/glass grey {:.0}/{:.0}",
            n.finger_std,
            p.finger_std,
            n.finger_ocl,
            p.finger_ocl,
            p.glass_ocl,
            p.finger_mean,
            p.glass_mean
        );
        assert!(
            p.finger_std < 0.7 * n.finger_std,
            "{finger:?}: ridge contrast {:.1} poor vs {:.1}",
            p.finger_std,
            n.finger_std
        );
        assert!(
            p.finger_ocl < n.finger_ocl - 0.1,
            "{finger:?}: orientation certainty {:.2} poor vs {:.2}",
            p.finger_ocl,
            n.finger_ocl
        );
        // Still a finger: ridges with an orientation stand out of the
        // sensor noise, and the finger is darker than the glass.
        assert!(
            p.finger_ocl > 2.0 * p.glass_ocl,
            "{finger:?}: no ridge structure left ({:.2} vs glass {:.2})",
            p.finger_ocl,
            p.glass_ocl
        );
        assert!(
            p.finger_mean < p.glass_mean - 25.0,
            "{finger:?}: the finger vanished ({:.0} vs glass {:.0})",
            p.finger_mean,
            p.glass_mean
        );
        ocl_normal += n.finger_ocl;
        ocl_poor += p.finger_ocl;
    }
    assert!(
        ocl_poor < 0.75 * ocl_normal,
        "mean orientation certainty {:.2} poor vs {:.2}",
        ocl_poor / 8.0,
        ocl_normal / 8.0
    );
}

#[test]
fn conditions_are_deterministic_and_normal_is_the_plain_capture() {
    let f = SyntheticFinger::new(11, Finger::LeftRing);
    let normal = f.capture(3, W, H);
    assert_eq!(f.capture_in(3, W, H, Condition::Normal), normal);
    let poor = f.capture_in(3, W, H, Condition::Poor);
    assert_eq!(poor.len(), normal.len());
    assert_eq!(f.capture_in(3, W, H, Condition::Poor), poor);
    assert_ne!(poor, normal);
    assert_ne!(f.capture_in(4, W, H, Condition::Poor), poor);
    assert_eq!(Condition::default(), Condition::Normal);
}

#[test]
fn slap_with_default_options_is_slap() {
    for (impression, w, h) in [
        (Impression::RightSlap, 1600, 1500),
        (Impression::LeftSlap, 1600, 1500),
        (Impression::Thumbs, 1600, 1500),
        (Impression::RightSlap, 640, 600),
    ] {
        assert_eq!(
            slap_with(9, impression, 2, w, h, &SlapOptions::default()),
            slap(9, impression, 2, w, h),
            "{impression:?} {w}x{h}"
        );
    }
}

fn dark_share(pixels: &[u8], width: u32, [x, y, w, h]: [u32; 4]) -> f64 {
    let dark = (y..y + h)
        .flat_map(|yy| (x..x + w).map(move |xx| (xx, yy)))
        .filter(|&(xx, yy)| pixels[(yy * width + xx) as usize] < 128)
        .count();
    dark as f64 / f64::from(w * h)
}

#[test]
fn a_missing_finger_leaves_its_place_empty_and_the_others_unchanged() {
    const SW: u32 = 1600;
    const SH: u32 = 1500;
    for (impression, gone) in [
        (Impression::RightSlap, Finger::RightRing),
        (Impression::LeftSlap, Finger::LeftIndex),
        (Impression::Thumbs, Finger::LeftThumb),
    ] {
        let (full, full_boxes) = slap(12, impression, 3, SW, SH);
        let options = SlapOptions {
            missing: vec![gone],
            ..SlapOptions::default()
        };
        let (img, boxes) = slap_with(12, impression, 3, SW, SH, &options);
        let kept: Vec<_> = full_boxes
            .iter()
            .filter(|(f, _)| *f != gone)
            .copied()
            .collect();
        assert_eq!(boxes, kept, "{impression:?}: the others lie where they lay");
        let (_, gone_box) = full_boxes
            .iter()
            .find(|(f, _)| *f == gone)
            .copied()
            .expect("drawn when placed");
        let before = dark_share(&full, SW, gone_box);
        let after = dark_share(&img, SW, gone_box);
        assert!(before > 0.15, "{gone:?} placed: {before:.3}");
        assert!(after < 0.01, "{gone:?} not placed: {after:.3} dark");
        // Outside the missing finger's reach (its box, widened by the soft
        // edge of the contact area), not a pixel changed.
        let [x, y, w, h] = gone_box;
        let margin = 60;
        let near = |i: usize| {
            let (px, py) = ((i as u32) % SW, (i as u32) / SW);
            px + margin >= x && px < x + w + margin && py + margin >= y && py < y + h + margin
        };
        let changed_far = (0..full.len())
            .filter(|&i| full[i] != img[i] && !near(i))
            .count();
        assert_eq!(changed_far, 0, "{impression:?}: only {gone:?} is gone");
    }
}

#[test]
fn the_other_hand_is_drawn_in_its_own_layout() {
    const SW: u32 = 1600;
    const SH: u32 = 1500;
    let options = SlapOptions {
        hand_of: Some(Impression::RightSlap),
        ..SlapOptions::default()
    };
    let (img, boxes) = slap_with(13, Impression::LeftSlap, 4, SW, SH, &options);
    let drawn: Vec<Finger> = boxes.iter().map(|(f, _)| *f).collect();
    assert_eq!(drawn, Impression::RightSlap.fingers(), "the right fingers");
    // A right hand seen from below the glass: index leftmost.
    let xs: Vec<u32> = boxes.iter().map(|(_, b)| b[0] + b[2] / 2).collect();
    assert!(xs.windows(2).all(|p| p[0] < p[1]), "{boxes:?}");
    // Another capture than the right slap with this seed, and not the left
    // hand.
    assert_ne!(img, slap(13, Impression::RightSlap, 4, SW, SH).0);
    assert_ne!(img, slap(13, Impression::LeftSlap, 4, SW, SH).0);
    // Missing fingers name fingers of the hand placed.
    let (_, without) = slap_with(
        13,
        Impression::LeftSlap,
        4,
        SW,
        SH,
        &SlapOptions {
            missing: vec![Finger::RightLittle],
            ..options
        },
    );
    let drawn: Vec<Finger> = without.iter().map(|(f, _)| *f).collect();
    assert_eq!(
        drawn,
        [Finger::RightIndex, Finger::RightMiddle, Finger::RightRing]
    );
}

#[test]
fn a_poor_slap_has_the_same_fingers_with_less_contrast() {
    const SW: u32 = 1600;
    const SH: u32 = 1500;
    let (normal, normal_boxes) = slap(14, Impression::RightSlap, 5, SW, SH);
    let options = SlapOptions {
        condition: Condition::Poor,
        ..SlapOptions::default()
    };
    let (poor, poor_boxes) = slap_with(14, Impression::RightSlap, 5, SW, SH, &options);
    let fingers = |b: &[(Finger, [u32; 4])]| b.iter().map(|(f, _)| *f).collect::<Vec<_>>();
    assert_eq!(fingers(&poor_boxes), fingers(&normal_boxes));
    let m_normal = measure(&normal, &normal, SW, SH);
    let m_poor = measure(&poor, &normal, SW, SH);
    assert!(
        m_poor.finger_std < 0.7 * m_normal.finger_std,
        "ridge contrast {:.1} poor vs {:.1}",
        m_poor.finger_std,
        m_normal.finger_std
    );
    assert!(m_poor.finger_ocl < m_normal.finger_ocl - 0.1);
}

#[test]
fn the_slap_resolution_follows_the_drawing_scale() {
    let options = SlapOptions::default();
    for impression in [
        Impression::RightSlap,
        Impression::LeftSlap,
        Impression::Thumbs,
    ] {
        // The slap platen of 3.2 × 3.0 inches holds the hand at 500 ppi.
        let full = slap_resolution_ppi(15, impression, 6, 1600, 1500, &options);
        assert!((full - 500.0).abs() < 1e-9, "{impression:?}: {full}");
        // Half the size: the group is drawn smaller (by less than half, as
        // it did not fill the full platen), as its boxes show.
        let half = slap_resolution_ppi(15, impression, 6, 800, 750, &options);
        assert!((250.0..490.0).contains(&half), "{impression:?}: {half}");
        let (_, big) = slap(15, impression, 6, 1600, 1500);
        let (_, small) = slap(15, impression, 6, 800, 750);
        let width = |b: &[(Finger, [u32; 4])]| b.iter().map(|(_, r)| f64::from(r[2])).sum::<f64>();
        let ratio = width(&small) / width(&big);
        assert!(
            (ratio - half / full).abs() < 0.05,
            "{impression:?}: boxes shrink by {ratio:.3}, resolution by {:.3}",
            half / full
        );
    }
}
