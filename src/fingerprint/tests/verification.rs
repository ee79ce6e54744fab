//! 1:1 verification on the virtual single-finger sensor's window
//! (256 × 288 at 500 ppi): calibration of `VERIFY_THRESHOLD` on synthetic
//! fingers, and a template that went through an ISO/IEC 19794-2 record
//! still verifying.
//!
//! CI runs every test in its own process (nextest), so each test renders
//! only what it needs.

use pishkhan_fingerprint::GrayRef;
use pishkhan_fingerprint::iso19794::{self, FingerView};
use pishkhan_fingerprint::matcher::{self, VERIFY_THRESHOLD};
use pishkhan_fingerprint::minutiae::{self, Template};
use pishkhan_scanner::{Finger, SyntheticFinger};

/// Synthetic people of the calibration set (not those of
/// `tests/matching.rs`).
const PEOPLE: [u64; 8] = [
    0x7E51_0001,
    0x7E51_0002,
    0x7E51_0003,
    0x7E51_0004,
    0x7E51_0005,
    0x7E51_0006,
    0x7E51_0007,
    0x7E51_0008,
];
/// Capture seeds: different placements of the same finger.
const CAPTURES: [u64; 3] = [1, 2, 3];
/// The virtual single-finger sensor's window.
const W: u32 = 256;
const H: u32 = 288;

/// One capture of a finger, extracted.
fn capture(person: u64, finger: Finger, seed: u64) -> Template {
    let pixels = SyntheticFinger::new(person, finger).capture(seed, W, H);
    minutiae::extract(GrayRef::new(W as usize, H as usize, &pixels).expect("image size"))
}

/// Every capture of every finger of `people`, as (person, finger, template),
/// rendered on two threads (the machines have two cores). Fingers are
/// rendered one after another so that the renderer's small cache of finger
/// masters is not thrashed.
fn prints(people: &[u64]) -> Vec<(u64, Finger, Template)> {
    let render = |people: &[u64]| {
        let mut out = Vec::new();
        for &p in people {
            for f in Finger::ALL {
                for seed in CAPTURES {
                    out.push((p, f, capture(p, f, seed)));
                }
            }
        }
        out
    };
    let (first, second) = people.split_at(people.len().div_ceil(2));
    std::thread::scope(|s| {
        let a = s.spawn(|| render(first));
        let b = s.spawn(|| render(second));
        let mut all = a.join().expect("render thread");
        all.extend(b.join().expect("render thread"));
        all
    })
}

/// Minimum, 5th percentile, median and maximum.
fn spread(scores: &mut [f32]) -> [f32; 4] {
    scores.sort_by(f32::total_cmp);
    [
        scores[0],
        scores[scores.len() / 20],
        scores[scores.len() / 2],
        scores[scores.len() - 1],
    ]
}

#[test]
fn threshold_separates_genuine_from_impostor_verifications() {
    let prints = prints(&PEOPLE);
    let prepared: Vec<_> = prints.iter().map(|p| matcher::prepare(&p.2)).collect();
    let counts: Vec<usize> = prepared.iter().map(matcher::Prepared::len).collect();
    eprintln!(
        "minutiae per capture: min {} max {} mean {:.1}",
        counts.iter().min().expect("prints"),
        counts.iter().max().expect("prints"),
        counts.iter().sum::<usize>() as f32 / counts.len() as f32
    );
    // Genuine: the same person's same finger, two placements. Impostor:
    // another person's same finger, or another finger of the same person
    // (the two cases a handover check must refuse), every placement.
    let (mut genuine, mut other_person, mut other_finger) = (Vec::new(), Vec::new(), Vec::new());
    let mut worst = (0.0f32, String::new());
    for (i, a) in prints.iter().enumerate() {
        for (j, b) in prints.iter().enumerate().skip(i + 1) {
            let s = matcher::score_prepared(&prepared[i], &prepared[j]);
            match (a.0 == b.0, a.1 == b.1) {
                (true, true) => genuine.push(s),
                (false, true) => other_person.push(s),
                (true, false) => other_finger.push(s),
                (false, false) => continue,
            }
            if !(a.0 == b.0 && a.1 == b.1) && s > worst.0 {
                worst = (s, format!("{:x}/{:?} vs {:x}/{:?}", a.0, a.1, b.0, b.1));
            }
        }
    }
    let accepted = genuine.iter().filter(|&&s| s >= VERIFY_THRESHOLD).count();
    let false_matches = other_person
        .iter()
        .chain(&other_finger)
        .filter(|&&s| s >= VERIFY_THRESHOLD)
        .count();
    let total_genuine = genuine.len();
    let total_impostor = other_person.len() + other_finger.len();
    for (name, scores) in [
        ("genuine", &mut genuine),
        ("other person, same finger", &mut other_person),
        ("same person, other finger", &mut other_finger),
    ] {
        let [min, p5, median, max] = spread(scores);
        eprintln!(
            "{name:>26}: {:5} pairs, min {min:6.2} p5 {p5:6.2} median {median:6.2} max {max:6.2}",
            scores.len()
        );
    }
    eprintln!(
        "threshold {VERIFY_THRESHOLD}: {accepted}/{total_genuine} genuine pairs accepted, \
         {false_matches}/{total_impostor} false matches; highest impostor {:.2} ({})",
        worst.0, worst.1
    );
    assert!(total_impostor >= 200, "{total_impostor} impostor pairs");
    assert_eq!(false_matches, 0, "different fingers verified");
    assert!(
        accepted * 100 >= total_genuine * 95,
        "only {accepted} of {total_genuine} genuine pairs reach the threshold"
    );
    // A margin on both sides, so that the threshold is not balanced on an
    // edge of this particular set.
    assert!(
        worst.0 < 0.8 * VERIFY_THRESHOLD,
        "highest impostor {}",
        worst.0
    );
    assert!(genuine[genuine.len() / 20] > 2.0 * VERIFY_THRESHOLD);
    // The verdict of `verify` is the threshold's.
    let v = matcher::verify(&prints[0].2, &prints[1].2);
    assert_eq!(v.matched, v.score >= VERIFY_THRESHOLD);
    assert!(v.matched, "{v:?}");
}

#[test]
fn a_template_through_an_iso_record_still_verifies() {
    // Enrolled from one placement, written to and read back from an
    // ISO/IEC 19794-2 record; the probe is another placement.
    let person = PEOPLE[5];
    for (finger, probe_seed) in [(Finger::RightIndex, 2), (Finger::LeftThumb, 3)] {
        let enrolled = capture(person, finger, 1);
        let probe = capture(person, finger, probe_seed);
        let record = iso19794::encode(&[FingerView {
            position: finger.position(),
            quality: 80,
            template: enrolled.clone(),
        }])
        .expect("the template encodes");
        let views = iso19794::decode(&record).expect("the record decodes");
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].position, finger.position());
        let stored = &views[0].template;
        assert_eq!(stored.minutiae.len(), enrolled.minutiae.len());

        let direct = matcher::verify(&probe, &enrolled);
        let through = matcher::verify(&probe, stored);
        eprintln!("{finger:?}: direct {direct:?}, through the record {through:?}");
        assert!(direct.matched && through.matched, "{direct:?} {through:?}");
        // Whole pixels and 1.4° steps barely move the score.
        assert!(
            (direct.score - through.score).abs() < 0.15 * direct.score,
            "{direct:?} vs {through:?}"
        );
        // Another person's same finger, through the record, is refused.
        let stranger = capture(PEOPLE[6], finger, probe_seed);
        let v = matcher::verify(&stranger, stored);
        assert!(!v.matched, "{v:?}");
    }
}
