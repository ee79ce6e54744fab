//! Synthetic fingerprints for the virtual scanner, in the spirit of SFinGe
//! (Cappelli, Maio & Maltoni).
//!
//! Every finger of a synthetic person has a *master*, fixed by the identity
//! seed and the finger:
//! - a pattern class (arch, tented arch, left or right loop, whorl), drawn
//!   with plausible frequencies for that finger;
//! - singular points (cores and deltas) and an orientation field from them
//!   (the zero-pole model, with a gentle random wobble and ridges bending
//!   along the fingertip above the cores);
//! - a ridge-period map (about 8–10 px at 500 ppi);
//! - a finger-shaped, slightly irregular elliptic outline;
//! - ridges grown from random noise by repeated Gabor filtering tuned to the
//!   local orientation and period, so that they are continuous, follow the
//!   field, and end or fork (minutiae) where the field asks for it.
//!
//! Each *capture* of a finger, fixed by a capture seed, then varies what a
//! real capture varies: position, rotation (±10°), pressure (contact area and
//! ridge thickness), dryness (thin, broken ridges), a side partly lifted off
//! the glass, skin elasticity, background shading and sensor noise. Two
//! captures of one finger therefore show the same ridges, differently placed
//! and inked; two fingers show different ridges.
//!
//! A capture can be asked to be *poor* ([`Condition::Poor`]): the finger
//! very dry or touching lightly, ridges broken, part of it smeared or lifted
//! off the glass, the sensor noisy, washed out and slightly out of focus:
//! what an operator is asked to retake. It is still the same finger.
//!
//! Multi-finger impressions ([`slap`], [`slap_with`]) lay the fingers of a
//! hand (or both thumbs) out as a real slap shows them; options leave
//! fingers out (not placed) or put the other hand on the glass.
//!
//! Images are 8-bit grey at 500 ppi, row-major, 255 = white background.

mod master;
mod render;
mod rng;

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::{Finger, Impression};
use master::Master;
use render::{Placement, Sensor, Touch, draw};
use rng::{Rng, mix};

/// The pattern class of a fingerprint (Henry / NIST classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatternClass {
    /// Plain arch: ridges flow from one side to the other.
    Arch,
    /// Tented arch: an arch with a core right above a delta.
    TentedArch,
    /// Loop whose ridges enter and leave on the left of the image.
    LeftLoop,
    /// Loop whose ridges enter and leave on the right of the image.
    RightLoop,
    /// Whorl: two cores, two deltas.
    Whorl,
}

/// How well a capture went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Condition {
    /// An ordinary capture: the variation of pressure, dryness, placement
    /// and noise a good capture shows.
    #[default]
    Normal,
    /// A capture an operator should retake: one dominant fault (very dry,
    /// very light, or wet and smudged), always with broken ridges, part of
    /// the finger smeared or lifted off the glass, heavy sensor noise, low
    /// contrast and some blur. Quality measures in the manner of NFIQ 2
    /// (orientation certainty, local clarity, contrast) score it clearly
    /// lower, yet it still shows the finger's ridges.
    Poor,
}

/// Salt of the random stream that degrades a poor capture; kept apart from
/// the capture's own stream, so a normal capture is unchanged by it.
const POOR_STREAM: u64 = 0xB0_0D_CA_97;

/// One finger of a synthetic person, ready to be captured again and again.
#[derive(Debug, Clone)]
pub struct SyntheticFinger {
    identity_seed: u64,
    finger: Finger,
    master: Arc<Master>,
}

impl SyntheticFinger {
    /// The person rendered by [`ridge_pattern`] and, unless told
    /// otherwise, by the virtual scanner.
    pub const DEFAULT_IDENTITY: u64 = 0x5049_5348_4B48_414E;

    /// The finger `finger` of the person `identity_seed`. Deterministic; the
    /// last few fingers made are cached, so this is cheap to call again.
    pub fn new(identity_seed: u64, finger: Finger) -> Self {
        Self {
            identity_seed,
            finger,
            master: master(identity_seed, finger),
        }
    }

    /// The person's seed.
    pub fn identity_seed(&self) -> u64 {
        self.identity_seed
    }

    /// Which finger this is.
    pub fn finger(&self) -> Finger {
        self.finger
    }

    /// The pattern class of this finger.
    pub fn class(&self) -> PatternClass {
        self.master.class
    }

    /// The pattern class of `finger` of the person `identity_seed`, cheaply
    /// (without growing the ridges); equal to `new(..).class()`.
    pub fn pattern_class(identity_seed: u64, finger: Finger) -> PatternClass {
        master::class_of(identity_seed, finger)
    }

    /// The cores, in pixels relative to the centre of the finger's contact
    /// ellipse (x right, y down, fingertip up, before any capture's
    /// placement).
    pub fn cores(&self) -> &[(f64, f64)] {
        &self.master.cores
    }

    /// The deltas, in the same coordinates as [`Self::cores`].
    pub fn deltas(&self) -> &[(f64, f64)] {
        &self.master.deltas
    }

    /// One flat capture of this finger: a `width × height` 8-bit grey image
    /// at 500 ppi, the fingertip in the upper part of the window. The same
    /// `capture_seed` always gives the same pixels.
    pub fn capture(&self, capture_seed: u64, width: u32, height: u32) -> Vec<u8> {
        self.capture_in(capture_seed, width, height, Condition::Normal)
    }

    /// [`Self::capture`] in the given condition. A poor capture with a
    /// seed lies where the normal capture with that seed lies, and is
    /// degraded on top of it.
    pub fn capture_in(
        &self,
        capture_seed: u64,
        width: u32,
        height: u32,
        condition: Condition,
    ) -> Vec<u8> {
        let seed = mix(
            mix(capture_seed, self.identity_seed),
            u64::from(self.finger.position()),
        );
        let mut rng = Rng::new(seed);
        let mut sensor = Sensor::random(&mut rng);
        let mut touch = Touch::random(&mut rng);
        if condition == Condition::Poor {
            let mut bad = Rng::new(mix(seed, POOR_STREAM));
            sensor.degrade(&mut bad);
            touch.degrade(&mut bad);
        }
        let (w, h) = (f64::from(width), f64::from(height));
        let place = Placement {
            cx: w / 2.0 + rng.sym(14.0),
            // The fingertip a little below the top edge.
            cy: self.master.b + 0.08 * h + rng.sym(12.0),
            angle: rng.sym(10f64.to_radians()),
            scale: 1.0,
        };
        let mut dark = vec![0f32; width as usize * height as usize];
        draw(&self.master, &place, &touch, &mut dark, width, height);
        sensor.finish(&dark, width)
    }
}

/// Renders capture `seed` of `finger` of a fixed default person
/// ([`SyntheticFinger::DEFAULT_IDENTITY`]): the same finger with different seeds looks like
/// one finger captured twice; the same inputs always give the same pixels.
pub fn ridge_pattern(finger: Finger, seed: u64, width: u32, height: u32) -> Vec<u8> {
    SyntheticFinger::new(SyntheticFinger::DEFAULT_IDENTITY, finger).capture(seed, width, height)
}

/// Renders a multi-finger impression of person `identity_seed`: the four
/// fingers of a hand (slaps) or both thumbs, as a `width × height` image
/// (about 1600 × 1500 at 500 ppi; smaller images are drawn at a smaller
/// scale, so below 500 ppi: see [`slap_resolution_ppi`]).
/// [`Impression::Finger`] gives one finger.
///
/// Returns the image and, in the impression's position order
/// ([`Impression::fingers`]), each finger with its bounding box
/// `[x, y, w, h]`. A finger whose contact area falls outside the image is
/// left out of the list. Equal to [`slap_with`] with default options.
pub fn slap(
    identity_seed: u64,
    impression: Impression,
    capture_seed: u64,
    width: u32,
    height: u32,
) -> (Vec<u8>, Vec<(Finger, [u32; 4])>) {
    slap_with(
        identity_seed,
        impression,
        capture_seed,
        width,
        height,
        &SlapOptions::default(),
    )
}

/// What goes wrong with a multi-finger impression ([`slap_with`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlapOptions {
    /// Fingers the applicant does not place (missing, bandaged, held up):
    /// they are not drawn and get no box. The other fingers lie where they
    /// would have lain, so the same seed with and without a missing finger
    /// differs only where that finger was.
    pub missing: Vec<Finger>,
    /// Draw this impression's fingers, in the layout of that hand, instead
    /// of the asked impression's: `Some(RightSlap)` when the left slap is
    /// asked is the applicant placing the right hand a second time. The
    /// boxes name the fingers really drawn; the capture seed still picks a
    /// capture of its own (not the one the asked impression would give).
    /// `missing` names fingers of this hand.
    pub hand_of: Option<Impression>,
    /// How well the impression was taken (every finger and the sensor).
    pub condition: Condition,
}

/// Renders a multi-finger impression as [`slap`] does, with fingers left
/// out, the other hand placed, or a poor capture ([`SlapOptions`]).
///
/// With default options the pixels and boxes are exactly [`slap`]'s.
pub fn slap_with(
    identity_seed: u64,
    impression: Impression,
    capture_seed: u64,
    width: u32,
    height: u32,
    options: &SlapOptions,
) -> (Vec<u8>, Vec<(Finger, [u32; 4])>) {
    let mut plan = SlapPlan::new(
        identity_seed,
        impression,
        capture_seed,
        width,
        height,
        options,
    );
    let mut dark = vec![0f32; width as usize * height as usize];
    let mut boxes = Vec::new();
    for (sf, place) in plan.fingers.iter().zip(&plan.places) {
        // Every finger draws its touch, placed or not, so that leaving one
        // out does not move the others.
        let mut touch = Touch::random(&mut plan.rng);
        if let Some(bad) = plan.poor.as_mut() {
            touch.degrade(bad);
        }
        if options.missing.contains(&sf.finger) {
            continue;
        }
        if let Some(b) = draw(&sf.master, place, &touch, &mut dark, width, height) {
            boxes.push((sf.finger, b));
        }
    }
    (plan.sensor.finish(&dark, width), boxes)
}

/// The resolution of the image [`slap_with`] (or [`slap`]) draws with the
/// same arguments: 500 ppi when the hand fits the image at full size,
/// proportionally less when it had to be drawn smaller. Cheap (no pixels
/// are drawn).
pub fn slap_resolution_ppi(
    identity_seed: u64,
    impression: Impression,
    capture_seed: u64,
    width: u32,
    height: u32,
    options: &SlapOptions,
) -> f64 {
    500.0
        * SlapPlan::new(
            identity_seed,
            impression,
            capture_seed,
            width,
            height,
            options,
        )
        .scale
}

/// Where the fingers of one multi-finger impression go, before drawing.
struct SlapPlan {
    fingers: Vec<SyntheticFinger>,
    places: Vec<Placement>,
    sensor: Sensor,
    /// Output pixels per 500 ppi pixel.
    scale: f64,
    /// The capture's stream, positioned for the fingers' touches.
    rng: Rng,
    /// The degrading stream of a poor capture.
    poor: Option<Rng>,
}

impl SlapPlan {
    fn new(
        identity_seed: u64,
        impression: Impression,
        capture_seed: u64,
        width: u32,
        height: u32,
        options: &SlapOptions,
    ) -> SlapPlan {
        let hand = options.hand_of.unwrap_or(impression);
        let fingers: Vec<SyntheticFinger> = hand
            .fingers()
            .into_iter()
            .map(|f| SyntheticFinger::new(identity_seed, f))
            .collect();
        // The stream belongs to the impression asked for: the other hand
        // placed instead is another capture than that hand's own.
        let kind = match impression {
            Impression::Finger(_) => 0,
            Impression::RightSlap => 1,
            Impression::LeftSlap => 2,
            Impression::Thumbs => 3,
        };
        let seed = mix(mix(capture_seed, identity_seed), 0x51A9 + kind);
        let mut rng = Rng::new(seed);
        let mut sensor = Sensor::random(&mut rng);
        let layout = hand_layout(hand, &fingers, &mut rng);

        // Fit the group into the image: scale down if needed, centre it
        // horizontally, fingertips in the upper part.
        let (w, h) = (f64::from(width), f64::from(height));
        let (mut gx0, mut gy0, mut gx1, mut gy1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (sf, p) in fingers.iter().zip(&layout) {
            let (ex, ey) = extent(&sf.master, p.angle);
            gx0 = gx0.min(p.cx - ex);
            gx1 = gx1.max(p.cx + ex);
            gy0 = gy0.min(p.cy - ey);
            gy1 = gy1.max(p.cy + ey);
        }
        let scale = (0.92 * w / (gx1 - gx0))
            .min(0.92 * h / (gy1 - gy0))
            .min(1.0);
        let left = (w - scale * (gx1 - gx0)) / 2.0 + rng.sym(0.02 * w);
        let top = (h - scale * (gy1 - gy0)) * rng.range(0.2, 0.4);
        let places = layout
            .iter()
            .map(|p| Placement {
                cx: left + scale * (p.cx - gx0),
                cy: top + scale * (p.cy - gy0),
                angle: p.angle,
                scale,
            })
            .collect();
        let poor = (options.condition == Condition::Poor).then(|| {
            let mut bad = Rng::new(mix(seed, POOR_STREAM));
            sensor.degrade(&mut bad);
            bad
        });
        SlapPlan {
            fingers,
            places,
            sensor,
            scale,
            rng,
            poor,
        }
    }
}

/// Half extents of a finger's contact ellipse rotated by `angle`.
fn extent(m: &Master, angle: f64) -> (f64, f64) {
    let (s, c) = angle.sin_cos();
    let (a, b) = (1.08 * m.a, 1.08 * m.b);
    ((a * c).hypot(b * s), (a * s).hypot(b * c))
}

/// Finger placements (centre and rotation) at 500 ppi, in arbitrary
/// coordinates (y down), in the impression's finger order.
fn hand_layout(
    impression: Impression,
    fingers: &[SyntheticFinger],
    rng: &mut Rng,
) -> Vec<Placement> {
    let deg = |d: f64| d.to_radians();
    match impression {
        Impression::Finger(_) => vec![Placement {
            cx: 0.0,
            cy: 0.0,
            angle: rng.sym(deg(10.0)),
            scale: 1.0,
        }],
        Impression::RightSlap | Impression::LeftSlap => {
            // Hand frame: u across towards the little finger, v up.
            // Fingertips on an arc, the little finger clearly lower; the
            // fingers fan out slightly; the whole hand leans towards the
            // thumb (counter-clockwise for a right hand).
            let mirror = if impression == Impression::LeftSlap {
                -1.0
            } else {
                1.0
            };
            let mean_a = fingers.iter().map(|f| f.master.a).sum::<f64>() / 4.0;
            let pitch = 2.2 * mean_a + rng.range(25.0, 60.0);
            let tips = [
                -120.0 + rng.sym(30.0),
                0.0,
                -70.0 + rng.sym(25.0),
                -330.0 + rng.sym(50.0),
            ];
            let fan = [
                deg(-6.0 + rng.sym(2.0)),
                deg(-2.0 + rng.sym(2.0)),
                deg(2.0 + rng.sym(2.0)),
                deg(7.0 + rng.sym(3.0)),
            ];
            let hand = deg(rng.range(10.0, 22.0));
            fingers
                .iter()
                .enumerate()
                .map(|(k, sf)| {
                    let u = (k as f64 - 1.5) * pitch;
                    let lean = fan[k];
                    // Centre of the ellipse: one semi-axis below the tip,
                    // along the finger's axis.
                    let b = sf.master.b;
                    let cu = u - b * lean.sin();
                    let cv = tips[k] - b * lean.cos();
                    // To image axes (x right, y down) for a right hand,
                    // then mirror for a left hand, then rotate the hand.
                    let (x, y) = (mirror * cu, -cv);
                    let rot = mirror * hand;
                    let (s, c) = rot.sin_cos();
                    Placement {
                        cx: x * c + y * s,
                        cy: -x * s + y * c,
                        angle: mirror * (hand - lean),
                        scale: 1.0,
                    }
                })
                .collect()
        }
        Impression::Thumbs => {
            // Right thumb on the right, left thumb on the left, each
            // leaning inwards.
            let gap = rng.range(420.0, 520.0);
            fingers
                .iter()
                .map(|sf| {
                    let right = sf.finger == Finger::RightThumb;
                    let side = if right { 1.0 } else { -1.0 };
                    let lean = deg(rng.range(10.0, 25.0));
                    Placement {
                        cx: side * gap / 2.0,
                        cy: rng.sym(30.0),
                        angle: side * lean,
                        scale: 1.0,
                    }
                })
                .collect()
        }
    }
}

/// The master of (identity, finger), from a small cache.
fn master(identity_seed: u64, finger: Finger) -> Arc<Master> {
    type Cache = Mutex<Vec<(u64, Finger, Arc<Master>)>>;
    const CAPACITY: usize = 20;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    let lookup = |c: &Cache| {
        let c = c.lock().unwrap_or_else(PoisonError::into_inner);
        c.iter()
            .find(|(s, f, _)| *s == identity_seed && *f == finger)
            .map(|(_, _, m)| Arc::clone(m))
    };
    if let Some(m) = lookup(cache) {
        return m;
    }
    // Grow outside the lock, so that other threads are not held up.
    let made = Arc::new(Master::generate(identity_seed, finger));
    let mut c = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, _, m)) = c
        .iter()
        .find(|(s, f, _)| *s == identity_seed && *f == finger)
    {
        return Arc::clone(m);
    }
    if c.len() >= CAPACITY {
        c.remove(0);
    }
    c.push((identity_seed, finger, Arc::clone(&made)));
    made
}
