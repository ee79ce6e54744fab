//! Minutiae extraction and matching on synthetic fingers: calibration of
//! `SAME_FINGER_THRESHOLD`, the sequence check on slap segments against
//! flats, the duplicate check, and a cross-check with NIST's mindtct and
//! Bozorth3 (nbis-py) where the reference venv is set up.
//!
//! CI runs every test in its own process (nextest), so each test renders
//! only what it needs.

mod common;

use std::path::{Path, PathBuf};

use pishkhan_fingerprint::GrayRef;
use pishkhan_fingerprint::matcher::{
    self, DuplicatePair, Hand, SAME_FINGER_THRESHOLD, SequenceProblem,
};
use pishkhan_fingerprint::minutiae::{self, Template};
use pishkhan_scanner::{Finger, Impression, SyntheticFinger, slap};

/// Synthetic people of the calibration set.
const PEOPLE: [u64; 8] = [
    0x5EED_0001,
    0x5EED_0002,
    0x5EED_0003,
    0x5EED_0004,
    0x5EED_0005,
    0x5EED_0006,
    0x5EED_0007,
    0x5EED_0008,
];
/// Flat captures per finger: two on a 400 × 500 window, one on a smaller
/// 288 × 384 sensor (which cuts off part of the finger).
const FLATS: [(u64, u32, u32); 3] = [(1, 400, 500), (2, 400, 500), (3, 288, 384)];
/// Capture seed of the slaps.
const SLAP_SEED: u64 = 40;
/// Slap image size (500 ppi, the scale the renderer draws at full size).
const SLAP_W: u32 = 1600;
const SLAP_H: u32 = 1500;

fn extract(pixels: &[u8], w: u32, h: u32) -> Template {
    minutiae::extract(GrayRef::new(w as usize, h as usize, pixels).expect("image size"))
}

/// One flat capture of a finger, extracted.
fn flat(person: u64, finger: Finger, seed: u64, w: u32, h: u32) -> Template {
    extract(
        &SyntheticFinger::new(person, finger).capture(seed, w, h),
        w,
        h,
    )
}

/// The ten slap segments of a person (right slap, left slap, thumbs),
/// cropped with the boxes the renderer returns.
fn segments(person: u64, seed: u64) -> Vec<(Finger, Template)> {
    let mut out = Vec::new();
    for impression in [
        Impression::RightSlap,
        Impression::LeftSlap,
        Impression::Thumbs,
    ] {
        let (pixels, boxes) = slap(person, impression, seed, SLAP_W, SLAP_H);
        let image = GrayRef::new(SLAP_W as usize, SLAP_H as usize, &pixels).expect("slap size");
        assert_eq!(boxes.len(), impression.fingers().len(), "{impression:?}");
        for (finger, [x, y, w, h]) in boxes {
            let crop = image.crop(x as usize, y as usize, w as usize, h as usize);
            out.push((finger, minutiae::extract(crop.view())));
        }
    }
    out
}

/// Everything of one person: per finger its flats (as [`FLATS`]), and its
/// slap segment. Fingers are rendered one after another so that the
/// renderer's small cache of finger masters is not thrashed.
struct Person {
    flats: Vec<(Finger, Vec<Template>)>,
    segments: Vec<(Finger, Template)>,
}

fn person(seed: u64) -> Person {
    let flats = Finger::ALL
        .iter()
        .map(|&f| {
            (
                f,
                FLATS
                    .iter()
                    .map(|&(c, w, h)| flat(seed, f, c, w, h))
                    .collect(),
            )
        })
        .collect();
    Person {
        flats,
        segments: segments(seed, SLAP_SEED),
    }
}

/// Renders the people on two threads (the machines have two cores).
fn people(seeds: &[u64]) -> Vec<Person> {
    let half = seeds.len().div_ceil(2);
    std::thread::scope(|s| {
        let (first, second) = seeds.split_at(half);
        let a = s.spawn(|| first.iter().map(|&p| person(p)).collect::<Vec<_>>());
        let b = s.spawn(|| second.iter().map(|&p| person(p)).collect::<Vec<_>>());
        let mut all = a.join().expect("render thread");
        all.extend(b.join().expect("render thread"));
        all
    })
}

/// Minimum, median and maximum.
fn spread(scores: &mut [f32]) -> (f32, f32, f32) {
    scores.sort_by(f32::total_cmp);
    (
        scores[0],
        scores[scores.len() / 2],
        scores[scores.len() - 1],
    )
}

#[test]
fn threshold_separates_genuine_from_impostor_pairs() {
    let people = people(&PEOPLE);
    // Every print with its (person, finger) and whether it is a segment.
    let mut prints = Vec::new();
    for (p, person) in people.iter().enumerate() {
        for (finger, captures) in &person.flats {
            for t in captures {
                prints.push((p, *finger, false, matcher::prepare(t)));
            }
        }
        for (finger, t) in &person.segments {
            prints.push((p, *finger, true, matcher::prepare(t)));
        }
    }
    let counts: Vec<usize> = prints.iter().map(|p| p.3.len()).collect();
    eprintln!(
        "minutiae per print: min {} max {} mean {:.1}",
        counts.iter().min().expect("prints"),
        counts.iter().max().expect("prints"),
        counts.iter().sum::<usize>() as f32 / counts.len() as f32
    );
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    let (mut genuine_slap, mut impostor_slap) = (Vec::new(), Vec::new());
    let mut worst_impostor = (0.0f32, String::new());
    for (i, a) in prints.iter().enumerate() {
        for b in &prints[i + 1..] {
            if a.2 && b.2 {
                continue; // two segments: not a pair the station compares
            }
            let s = matcher::score_prepared(&a.3, &b.3);
            let same = a.0 == b.0 && a.1 == b.1;
            let slap_pair = a.2 || b.2;
            match (same, slap_pair) {
                (true, false) => genuine.push(s),
                (true, true) => genuine_slap.push(s),
                (false, false) => impostor.push(s),
                (false, true) => impostor_slap.push(s),
            }
            if !same && s > worst_impostor.0 {
                worst_impostor = (s, format!("{:?}/{:?} vs {:?}/{:?}", a.0, a.1, b.0, b.1));
            }
        }
    }
    let total_genuine = genuine.len() + genuine_slap.len();
    let accepted = genuine
        .iter()
        .chain(&genuine_slap)
        .filter(|&&s| s >= SAME_FINGER_THRESHOLD)
        .count();
    let false_matches = impostor
        .iter()
        .chain(&impostor_slap)
        .filter(|&&s| s >= SAME_FINGER_THRESHOLD)
        .count();
    for (name, scores) in [
        ("genuine flat-flat", &mut genuine),
        ("genuine segment-flat", &mut genuine_slap),
        ("impostor flat-flat", &mut impostor),
        ("impostor segment-flat", &mut impostor_slap),
    ] {
        let (min, median, max) = spread(scores);
        eprintln!(
            "{name:>22}: {:5} pairs, min {min:6.2} median {median:6.2} max {max:6.2}",
            scores.len()
        );
    }
    eprintln!(
        "threshold {SAME_FINGER_THRESHOLD}: {accepted}/{total_genuine} genuine pairs accepted, \
         {false_matches} false matches; highest impostor {:.2} ({})",
        worst_impostor.0, worst_impostor.1
    );
    assert_eq!(false_matches, 0, "different fingers matched");
    assert!(
        accepted * 100 >= total_genuine * 95,
        "only {accepted} of {total_genuine} genuine pairs reach the threshold"
    );
    // A margin on both sides, so that the threshold is not balanced on an
    // edge of this particular set.
    assert!(worst_impostor.0 < 0.8 * SAME_FINGER_THRESHOLD);
    let low_genuine = genuine[genuine.len() / 20].min(genuine_slap[genuine_slap.len() / 20]);
    assert!(
        low_genuine > 1.25 * SAME_FINGER_THRESHOLD,
        "5th percentile {low_genuine}"
    );
}

/// The first flat capture of every finger of a person.
fn first_flats(person: &Person) -> Vec<(Finger, &Template)> {
    person.flats.iter().map(|(f, c)| (*f, &c[0])).collect()
}

fn refs(prints: &[(Finger, Template)]) -> Vec<(Finger, &Template)> {
    prints.iter().map(|(f, t)| (*f, t)).collect()
}

#[test]
fn each_flat_matches_its_own_slap_segment() {
    for person in people(&PEOPLE[..2]) {
        let segments = refs(&person.segments);
        let flats = first_flats(&person);
        let problems = matcher::sequence_check(&segments, &flats, SAME_FINGER_THRESHOLD);
        assert!(problems.is_empty(), "{problems:?}");

        // Swapped hands: the flats taken as the right hand are the left
        // hand's and the other way round.
        let mirror = |f: Finger| {
            Finger::from_position((f.position() + 4) % 10 + 1).expect("a finger position")
        };
        let swapped: Vec<(Finger, &Template)> =
            flats.iter().map(|&(f, t)| (mirror(f), t)).collect();
        let problems = matcher::sequence_check(&segments, &swapped, SAME_FINGER_THRESHOLD);
        eprintln!("hands swapped: {problems:?}");
        for &(label, _) in &swapped {
            assert!(
                problems.iter().any(|p| matches!(p,
                    SequenceProblem::Swapped { expected, matched, score }
                        if *expected == label && *matched == mirror(label)
                            && *score >= SAME_FINGER_THRESHOLD)),
                "{label:?} not reported as swapped"
            );
        }
        for (flats, matched) in [(Hand::Right, Hand::Left), (Hand::Left, Hand::Right)] {
            assert!(problems.contains(&SequenceProblem::HandsSwapped { flats, matched }));
        }

        // Two fingers of one hand exchanged: both reported, hands fine.
        let mut exchanged = flats.clone();
        exchanged[1].1 = flats[2].1;
        exchanged[2].1 = flats[1].1;
        let problems = matcher::sequence_check(&segments, &exchanged, SAME_FINGER_THRESHOLD);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| matches!(p,
            SequenceProblem::Swapped { expected, matched, .. }
                if [expected, matched] == [&Finger::RightIndex, &Finger::RightMiddle]
                    || [expected, matched] == [&Finger::RightMiddle, &Finger::RightIndex])));

        // A finger whose segment is missing is reported as unchecked; a
        // flat of another person's finger matches nothing.
        let without_index: Vec<_> = segments
            .iter()
            .copied()
            .filter(|(f, _)| *f != Finger::LeftIndex)
            .collect();
        let problems = matcher::sequence_check(&without_index, &flats, SAME_FINGER_THRESHOLD);
        assert_eq!(
            problems,
            vec![SequenceProblem::NoSegment {
                finger: Finger::LeftIndex
            }]
        );
        let stranger = flat(0xDEAD_BEEF, Finger::RightRing, 1, 400, 500);
        let mut foreign = flats.clone();
        foreign[3].1 = &stranger;
        let problems = matcher::sequence_check(&segments, &foreign, SAME_FINGER_THRESHOLD);
        assert!(
            matches!(problems[..], [SequenceProblem::NoMatch { finger: Finger::RightRing, best }]
                if best < SAME_FINGER_THRESHOLD),
            "{problems:?}"
        );
    }
}

#[test]
fn duplicate_check_finds_a_finger_captured_twice() {
    let seed = PEOPLE[2];
    let segs = segments(seed, SLAP_SEED);
    let clean = refs(&segs);
    assert_eq!(matcher::duplicates(&clean, SAME_FINGER_THRESHOLD), vec![]);

    // The operator placed the right index where the right middle belonged:
    // another image of the same finger, elsewhere on the glass.
    let again = flat(seed, Finger::RightIndex, 9, 400, 500);
    let mut planted = clean.clone();
    let middle = planted
        .iter()
        .position(|(f, _)| *f == Finger::RightMiddle)
        .expect("a right middle segment");
    planted[middle].1 = &again;
    let found = matcher::duplicates(&planted, SAME_FINGER_THRESHOLD);
    eprintln!("planted duplicate: {found:?}");
    assert!(
        matches!(found[..], [DuplicatePair { a: Finger::RightIndex, b: Finger::RightMiddle, score }]
            if score >= SAME_FINGER_THRESHOLD),
        "{found:?}"
    );

    // A whole hand captured twice: the left slap is the right hand again.
    let (pixels, boxes) = slap(seed, Impression::RightSlap, SLAP_SEED + 1, SLAP_W, SLAP_H);
    let image = GrayRef::new(SLAP_W as usize, SLAP_H as usize, &pixels).expect("slap size");
    let relabelled: Vec<(Finger, Template)> = boxes
        .iter()
        .map(|&(f, [x, y, w, h])| {
            let left = Finger::from_position(f.position() + 5).expect("a left finger");
            let crop = image.crop(x as usize, y as usize, w as usize, h as usize);
            (left, minutiae::extract(crop.view()))
        })
        .collect();
    let mut record: Vec<(Finger, &Template)> = clean
        .iter()
        .copied()
        .filter(|(f, _)| Hand::of(*f) == Hand::Right || *f == Finger::LeftThumb)
        .collect();
    record.extend(refs(&relabelled));
    let found = matcher::duplicates(&record, SAME_FINGER_THRESHOLD);
    eprintln!("hand captured twice: {found:?}");
    for f in [
        Finger::RightIndex,
        Finger::RightMiddle,
        Finger::RightRing,
        Finger::RightLittle,
    ] {
        let left = Finger::from_position(f.position() + 5).expect("a left finger");
        assert!(
            found.iter().any(|d| d.a == f && d.b == left),
            "{f:?} twice not found: {found:?}"
        );
    }
    assert_eq!(found.len(), 4, "{found:?}");
}

#[test]
fn synthetic_fingers_give_plausible_templates() {
    for finger in Finger::ALL {
        let t = flat(PEOPLE[3], finger, 1, 400, 500);
        let n = t.minutiae.len();
        assert!((20..=120).contains(&n), "{finger:?}: {n} minutiae");
        assert_eq!((t.width, t.height), (400, 500));
        for m in &t.minutiae {
            assert!(
                m.x >= 0.0 && m.x < 400.0 && m.y >= 0.0 && m.y < 500.0,
                "{m:?}"
            );
            assert!((0.0..std::f32::consts::TAU).contains(&m.angle), "{m:?}");
            assert!((0.0..=1.0).contains(&m.quality), "{m:?}");
        }
        // A print matches itself perfectly.
        let own = matcher::score(&t, &t);
        assert!(own > 95.0, "{finger:?} against itself: {own}");
    }
}

#[test]
fn matching_is_invariant_to_rotation_and_translation() {
    // The same capture turned a quarter turn (exactly, by transposing) and
    // shifted inside a larger window still matches, with the rotation
    // found.
    let pixels = SyntheticFinger::new(PEOPLE[4], Finger::LeftMiddle).capture(1, 400, 500);
    let original = extract(&pixels, 400, 500);
    let (w, h) = (560usize, 440usize);
    let mut turned = vec![255u8; w * h];
    for y in 0..500 {
        for x in 0..400 {
            // A quarter turn counter-clockwise as seen: (x, y) → (y, 399 − x),
            // then 40 px right and down.
            turned[(399 - x + 20) * w + y + 40] = pixels[y * 400 + x];
        }
    }
    let rotated = extract(&turned, w as u32, h as u32);
    let a = matcher::prepare(&original);
    let b = matcher::prepare(&rotated);
    let c = matcher::compare(&a, &b);
    let back = matcher::compare(&b, &a);
    eprintln!("original vs turned: {c:?}; back: {back:?}");
    assert!(c.score > 2.0 * SAME_FINGER_THRESHOLD, "{c:?}");
    assert!(
        (c.rotation - std::f32::consts::FRAC_PI_2).abs() < 0.1,
        "{c:?}"
    );
    assert!(
        (back.rotation + std::f32::consts::FRAC_PI_2).abs() < 0.1,
        "{back:?}"
    );
    assert!(
        (c.score - back.score).abs() < 0.25 * c.score,
        "{c:?} vs {back:?}"
    );
}

/// A scratch directory for files exchanged with the reference Python,
/// removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("pishkhan-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Prints each image's minutiae count by mindtct, then one line per pair
/// `i j` given on the command line with Bozorth3's score.
const NBIS_SCRIPT: &str = r#"
import sys, nbis
s = nbis.NbisExtractorSettings(min_quality=0.0, get_center=False, check_fingerprint=False,
                               compute_nfiq2=False, ppi=500.0)
ex = nbis.new_nbis_extractor(s)
n = int(sys.argv[2])
ts = [ex.extract_minutiae(open(f"{sys.argv[1]}/{i}.png", "rb").read()) for i in range(n)]
print(" ".join(str(len(t.get())) for t in ts))
for pair in sys.argv[3:]:
    i, j = map(int, pair.split(","))
    print(ts[i].compare(ts[j]))
"#;

#[test]
fn agrees_with_nbis_mindtct_and_bozorth3() {
    let Some(python) = common::reference_python() else {
        return;
    };
    let scratch = Scratch::new("matching-nbis");
    // Two captures each of four fingers of two people.
    let mut images = Vec::new();
    for (person, finger) in [
        (PEOPLE[0], Finger::RightThumb),
        (PEOPLE[0], Finger::LeftRing),
        (PEOPLE[1], Finger::RightIndex),
        (PEOPLE[1], Finger::LeftLittle),
    ] {
        for seed in [1, 2] {
            let pixels = SyntheticFinger::new(person, finger).capture(seed, 400, 500);
            images.push(((person, finger), pixels));
        }
    }
    let mut ours = Vec::new();
    for (i, (_, pixels)) in images.iter().enumerate() {
        image::GrayImage::from_raw(400, 500, pixels.clone())
            .expect("image size")
            .save(scratch.path().join(format!("{i}.png")))
            .expect("PNG written");
        ours.push(extract(pixels, 400, 500));
    }
    let pairs: Vec<(usize, usize)> = (0..images.len())
        .flat_map(|i| (i + 1..images.len()).map(move |j| (i, j)))
        .collect();
    let mut args = vec![
        scratch.path().to_str().expect("utf-8 path").to_string(),
        images.len().to_string(),
    ];
    args.extend(pairs.iter().map(|(i, j)| format!("{i},{j}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::run_python(&python, NBIS_SCRIPT, &args);
    let mut lines = out.lines();
    let counts: Vec<usize> = lines
        .next()
        .expect("counts line")
        .split_whitespace()
        .map(|c| c.parse().expect("a count"))
        .collect();
    for (i, t) in ours.iter().enumerate() {
        let (ours, theirs) = (t.minutiae.len(), counts[i]);
        eprintln!("image {i}: {ours} minutiae here, {theirs} by mindtct");
        assert!(
            ours * 3 >= theirs && theirs * 3 >= ours,
            "image {i}: {ours} vs {theirs}"
        );
    }
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for (&(i, j), line) in pairs.iter().zip(lines) {
        let bozorth: f32 = line.trim().parse().expect("a Bozorth3 score");
        let score = matcher::score(&ours[i], &ours[j]);
        let same = images[i].0 == images[j].0;
        eprintln!(
            "{:?} vs {:?}: ours {score:6.2}, Bozorth3 {bozorth:4}",
            images[i].0, images[j].0
        );
        if same {
            genuine.push((score, bozorth));
        } else {
            impostor.push((score, bozorth));
        }
    }
    let min = |v: &[(f32, f32)], k: usize| v.iter().map(|p| [p.0, p.1][k]).fold(f32::MAX, f32::min);
    let max = |v: &[(f32, f32)], k: usize| v.iter().map(|p| [p.0, p.1][k]).fold(f32::MIN, f32::max);
    // Both matchers put every genuine pair above every impostor pair.
    assert!(
        min(&genuine, 0) > max(&impostor, 0),
        "ours: {genuine:?} vs {impostor:?}"
    );
    assert!(
        min(&genuine, 1) > max(&impostor, 1),
        "Bozorth3: {genuine:?} vs {impostor:?}"
    );
    // And they agree on what is a match (Bozorth3's customary threshold is
    // 40).
    assert!(
        genuine
            .iter()
            .all(|&(s, b)| s >= SAME_FINGER_THRESHOLD && b >= 40.0)
    );
}
