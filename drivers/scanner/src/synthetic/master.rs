//! The master fingerprint of one finger: pattern class, singular points,
//! orientation field, ridge-frequency map, finger-shaped mask and the ridge
//! pattern grown from them by iterative oriented Gabor filtering.
//!
//! Coordinates are pixels at 500 ppi relative to the centre of the
//! finger's contact ellipse, x to the right and y down, the fingertip up.

use std::f64::consts::PI;

use super::PatternClass;
use super::rng::{Rng, Smooth, mix, smoothstep};
use crate::Finger;

/// Radius of the Gabor kernels (13 × 13).
const R: usize = 6;
const K: usize = 2 * R + 1;
const KK: usize = K * K;
/// Orientation bins over [0, π).
const ORIENTATIONS: usize = 24;
/// Ridge periods of the bank: 6.5, 7.0, … 12.5 px.
const PERIOD_MIN: f64 = 6.5;
const PERIOD_STEP: f64 = 0.5;
const PERIODS: usize = 13;
/// Filtering passes that grow the ridges.
const PASSES: usize = 6;
/// The ridge pattern is grown this far beyond the contact ellipse, so
/// heavier pressure (a larger contact area) still finds ridges.
const GROWN: f64 = 1.16;

/// A finger's fixed traits, independent of any capture.
pub(crate) struct Master {
    pub(crate) class: PatternClass,
    /// Semi-axes of the contact ellipse (half width, half height).
    pub(crate) a: f64,
    pub(crate) b: f64,
    /// Irregularity of the outline: (amplitude, phase) of harmonics 2..=5.
    shape: [(f64, f64); 4],
    pub(crate) cores: Vec<(f64, f64)>,
    pub(crate) deltas: Vec<(f64, f64)>,
    /// The ridge canvas: `width × height`, centre at (`cx`, `cy`).
    width: usize,
    height: usize,
    cx: f64,
    cy: f64,
    /// Ridge field, about −1 (valley) … 1 (ridge centre).
    ridges: Vec<f32>,
}

impl std::fmt::Debug for Master {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Master")
            .field("class", &self.class)
            .field("a", &self.a)
            .field("b", &self.b)
            .field("cores", &self.cores)
            .field("deltas", &self.deltas)
            .finish_non_exhaustive()
    }
}

/// The orientation and frequency model before ridges are grown.
struct Fields {
    class: PatternClass,
    cores: Vec<(f64, f64)>,
    deltas: Vec<(f64, f64)>,
    /// Arch model: hump height and width.
    arch: (f64, f64),
    /// Top of the singular region, above which ridges follow the tip.
    top: f64,
    b: f64,
    a: f64,
    wobble: Smooth,
    wobble_amp: f64,
    period: f64,
    period_noise: Smooth,
}

impl Fields {
    /// Ridge orientation at (x, y), radians, in image coordinates.
    fn orientation(&self, x: f64, y: f64) -> f64 {
        let mut theta = match self.class {
            PatternClass::Arch => {
                let (h, s) = self.arch;
                // Humps y = y0 − h(y0)·exp(−x²/2s²), flatter towards the
                // bottom of the finger.
                let h = h * (1.0 - smoothstep(-0.5 * self.b, 0.9 * self.b, y) * 0.8);
                let slope = h * x / (s * s) * (-(x * x) / (2.0 * s * s)).exp();
                slope.atan()
            }
            _ => {
                // Zero-pole model (Sherlock & Monro), in y-up coordinates:
                // θ = ½ Σ arg(z − core) − ½ Σ arg(z − delta).
                let mut t = 0.0;
                for &(cx, cy) in &self.cores {
                    t += 0.5 * (-(y - cy)).atan2(x - cx);
                }
                for &(dx, dy) in &self.deltas {
                    t -= 0.5 * (-(y - dy)).atan2(x - dx);
                }
                -t
            }
        };
        theta += self.wobble_amp * self.wobble.at(x, y);
        // Above the singular points ridges bend along the fingertip.
        let w = 0.55 * smoothstep(0.0, 70.0, self.top - y);
        if w > 0.0 {
            let (ea, eb, ey) = (self.a * 1.2, self.b * 1.1, 0.25 * self.b);
            let tip = (x / (ea * ea)).atan2(-(y - ey) / (eb * eb));
            let (c, s) = (
                (1.0 - w) * (2.0 * theta).cos() + w * (2.0 * tip).cos(),
                (1.0 - w) * (2.0 * theta).sin() + w * (2.0 * tip).sin(),
            );
            theta = 0.5 * s.atan2(c);
        }
        theta.rem_euclid(PI)
    }

    /// Ridge period at (x, y), pixels.
    fn period(&self, x: f64, y: f64) -> f64 {
        let lower = smoothstep(0.1 * self.b, 1.0 * self.b, y);
        let upper = smoothstep(-0.4 * self.b, -self.b, y);
        let p = self.period
            * (1.0 + 0.05 * self.period_noise.at(x, y))
            * (1.0 + 0.08 * lower + 0.04 * upper);
        p.clamp(7.0, 12.0)
    }
}

/// Relative frequencies of (arch, tented arch, ulnar loop, radial loop,
/// whorl) per finger: plausible figures after the published ten-print
/// statistics (ulnar loops dominate, whorls are common on thumbs and ring
/// fingers, arches and radial loops on index fingers).
fn class_weights(finger: Finger) -> [f64; 5] {
    match finger.position() {
        1 | 6 => [0.04, 0.02, 0.50, 0.02, 0.42],
        2 | 7 => [0.10, 0.08, 0.36, 0.16, 0.30],
        3 | 8 => [0.07, 0.03, 0.65, 0.03, 0.22],
        4 | 9 => [0.04, 0.02, 0.50, 0.01, 0.43],
        _ => [0.03, 0.01, 0.80, 0.01, 0.15],
    }
}

fn is_right_hand(finger: Finger) -> bool {
    finger.position() <= 5
}

/// Half-width of the contact ellipse of a flat impression, pixels.
fn base_half_width(finger: Finger) -> f64 {
    match finger.position() {
        1 | 6 => 132.0,
        2 | 7 => 118.0,
        3 | 8 => 120.0,
        4 | 9 => 113.0,
        _ => 100.0,
    }
}

/// The pattern class of (identity, finger), without growing any ridges:
/// the first draws of the master's random stream.
pub(crate) fn class_of(identity_seed: u64, finger: Finger) -> PatternClass {
    draw_class(&mut master_rng(identity_seed, finger), finger)
}

fn master_rng(identity_seed: u64, finger: Finger) -> Rng {
    Rng::new(mix(identity_seed, 0xF1_0000 + u64::from(finger.position())))
}

fn draw_class(rng: &mut Rng, finger: Finger) -> PatternClass {
    let w = class_weights(finger);
    match rng.pick(&w) {
        0 => PatternClass::Arch,
        1 => PatternClass::TentedArch,
        2 | 3 => {
            let ulnar = rng.unit() < w[2] / (w[2] + w[3]);
            // Ulnar loops open towards the little finger, which is on
            // the right of a right hand's impression.
            if ulnar == is_right_hand(finger) {
                PatternClass::RightLoop
            } else {
                PatternClass::LeftLoop
            }
        }
        _ => PatternClass::Whorl,
    }
}

impl Master {
    pub(crate) fn generate(identity_seed: u64, finger: Finger) -> Master {
        let mut rng = master_rng(identity_seed, finger);
        let class = draw_class(&mut rng, finger);
        let a = base_half_width(finger) * (1.0 + 0.05 * rng.normal()).clamp(0.88, 1.12);
        let b = a * rng.range(1.28, 1.42);
        let mut shape = [(0.0, 0.0); 4];
        for s in &mut shape {
            *s = (rng.range(0.0, 0.025), rng.range(0.0, 2.0 * PI));
        }

        // Singular points.
        let core = (rng.sym(0.15 * a), -0.12 * b + rng.sym(0.12 * b));
        let mut cores = Vec::new();
        let mut deltas = Vec::new();
        match class {
            PatternClass::Arch => {}
            PatternClass::TentedArch => {
                cores.push(core);
                deltas.push((core.0 + rng.sym(6.0), core.1 + rng.range(45.0, 75.0)));
            }
            PatternClass::LeftLoop | PatternClass::RightLoop => {
                let d = rng.range(85.0, 130.0);
                let angle = rng.range(40f64.to_radians(), 65f64.to_radians());
                // The delta lies on the side away from the loop's opening.
                let side = if class == PatternClass::RightLoop {
                    -1.0
                } else {
                    1.0
                };
                cores.push(core);
                deltas.push((core.0 + side * d * angle.cos(), core.1 + d * angle.sin()));
            }
            PatternClass::Whorl => {
                let h = rng.range(8.0, 40.0);
                let tilt = rng.sym(0.6);
                let (s, c) = tilt.sin_cos();
                cores.push((core.0 - 0.5 * h * s, core.1 - 0.5 * h * c));
                cores.push((core.0 + 0.5 * h * s, core.1 + 0.5 * h * c));
                let dy = core.1 + rng.range(70.0, 105.0);
                deltas.push((core.0 - rng.range(80.0, 115.0), dy + rng.sym(15.0)));
                deltas.push((core.0 + rng.range(80.0, 115.0), dy + rng.sym(15.0)));
            }
        }
        let top = cores.iter().map(|c| c.1).fold(core.1 - 10.0, f64::min) - 25.0;
        let thumb = matches!(finger.position(), 1 | 6);
        let little = matches!(finger.position(), 5 | 10);
        let base_period = if thumb {
            9.6
        } else if little {
            8.4
        } else {
            9.0
        };
        let fields = Fields {
            class,
            arch: (rng.range(25.0, 50.0), rng.range(0.45, 0.65) * a),
            top,
            a,
            b,
            wobble: Smooth::new(&mut rng, 6, 160.0, 400.0),
            wobble_amp: rng.range(0.06, 0.14),
            period: base_period * (1.0 + 0.04 * rng.normal()).clamp(0.92, 1.08),
            period_noise: Smooth::new(&mut rng, 5, 120.0, 300.0),
            cores: cores.clone(),
            deltas: deltas.clone(),
        };

        let mut master = Master {
            class,
            a,
            b,
            shape,
            cores,
            deltas,
            width: 0,
            height: 0,
            cx: 0.0,
            cy: 0.0,
            ridges: Vec::new(),
        };
        master.grow(&fields, &mut rng);
        master
    }
}

impl Master {
    /// The outline's normalised radius at (x, y): below 1 inside the
    /// contact ellipse, 1 on its (slightly irregular) edge.
    pub(crate) fn shape_radius(&self, x: f64, y: f64) -> f64 {
        let (u, v) = (x / self.a, y / self.b);
        let r = (u * u + v * v).sqrt();
        let phi = v.atan2(u);
        let mut edge = 1.0;
        for (k, &(amp, phase)) in self.shape.iter().enumerate() {
            edge += amp * ((k as f64 + 2.0) * phi + phase).cos();
        }
        r / edge
    }

    /// The ridge field at (x, y), bilinear; 0 outside the grown area.
    pub(crate) fn sample(&self, x: f64, y: f64) -> f32 {
        let fx = x + self.cx;
        let fy = y + self.cy;
        if !(fx >= 0.0 && fy >= 0.0) {
            return 0.0;
        }
        let (ix, iy) = (fx as usize, fy as usize);
        if ix + 1 >= self.width || iy + 1 >= self.height {
            return 0.0;
        }
        let (tx, ty) = ((fx - ix as f64) as f32, (fy - iy as f64) as f32);
        let i = iy * self.width + ix;
        let r = &self.ridges;
        let top = r[i] + tx * (r[i + 1] - r[i]);
        let bottom = r[i + self.width] + tx * (r[i + self.width + 1] - r[i + self.width]);
        top + ty * (bottom - top)
    }

    /// Grows the ridge pattern: random noise, filtered again and again by
    /// the Gabor filter tuned to the local orientation and period, with a
    /// saturating non-linearity between passes.
    fn grow(&mut self, fields: &Fields, rng: &mut Rng) {
        let ex = (GROWN * 1.1 * self.a).ceil() as usize + R + 2;
        let ey = (GROWN * 1.1 * self.b).ceil() as usize + R + 2;
        let (w, h) = (2 * ex + 1, 2 * ey + 1);
        self.width = w;
        self.height = h;
        self.cx = ex as f64;
        self.cy = ey as f64;

        let bank = kernel_bank();
        // The grown area, as pixel indices, and each pixel's kernel.
        let mut active = Vec::new();
        let mut kernel = vec![0u16; w * h];
        for py in R..h - R {
            for px in R..w - R {
                let (x, y) = (px as f64 - self.cx, py as f64 - self.cy);
                if self.shape_radius(x, y) >= GROWN {
                    continue;
                }
                let i = py * w + px;
                let o = (fields.orientation(x, y) / PI * ORIENTATIONS as f64).round() as usize
                    % ORIENTATIONS;
                let p = ((fields.period(x, y) - PERIOD_MIN) / PERIOD_STEP)
                    .round()
                    .clamp(0.0, (PERIODS - 1) as f64) as usize;
                kernel[i] = (p * ORIENTATIONS + o) as u16;
                active.push(i as u32);
            }
        }

        let mut src = vec![0f32; w * h];
        for &i in &active {
            src[i as usize] = rng.sym(1.0) as f32;
        }
        let mut dst = vec![0f32; w * h];
        for pass in 0..PASSES {
            for &i in &active {
                let i = i as usize;
                let k = &bank[usize::from(kernel[i]) * KK..][..KK];
                let base = i - R * w - R;
                let mut acc = 0f32;
                for ky in 0..K {
                    let row = &src[base + ky * w..][..K];
                    let krow = &k[ky * K..][..K];
                    for (s, c) in row.iter().zip(krow) {
                        acc += s * c;
                    }
                }
                dst[i] = acc;
            }
            let rms = (active
                .iter()
                .map(|&i| f64::from(dst[i as usize]).powi(2))
                .sum::<f64>()
                / active.len().max(1) as f64)
                .sqrt()
                .max(1e-9) as f32;
            let last = pass + 1 == PASSES;
            // Saturate while growing; the last pass keeps a smooth profile
            // of amplitude about 1.
            let gain = if last { 1.0 / (rms * 1.35) } else { 2.5 / rms };
            for &i in &active {
                let i = i as usize;
                src[i] = (dst[i] * gain).clamp(-1.0, 1.0);
            }
        }
        self.ridges = src;
    }
}

/// Even-symmetric Gabor kernels, zero mean, for every orientation and
/// period bin: index `period_bin * ORIENTATIONS + orientation_bin`.
fn kernel_bank() -> Vec<f32> {
    let mut bank = Vec::with_capacity(ORIENTATIONS * PERIODS * KK);
    let (sigma_along, sigma_across) = (4.2f64, 3.2f64);
    for p in 0..PERIODS {
        let period = PERIOD_MIN + PERIOD_STEP * p as f64;
        for o in 0..ORIENTATIONS {
            let theta = o as f64 * PI / ORIENTATIONS as f64;
            let (s, c) = theta.sin_cos();
            let mut k = [0f64; KK];
            let mut env_sum = 0.0;
            let mut sum = 0.0;
            for ky in 0..K {
                for kx in 0..K {
                    let (dx, dy) = (kx as f64 - R as f64, ky as f64 - R as f64);
                    let along = dx * c + dy * s;
                    let across = -dx * s + dy * c;
                    let env = (-0.5
                        * (along * along / (sigma_along * sigma_along)
                            + across * across / (sigma_across * sigma_across)))
                        .exp();
                    let v = env * (2.0 * PI * across / period).cos();
                    k[ky * K + kx] = v;
                    env_sum += env;
                    sum += v;
                }
            }
            // Remove the DC response (weighted by the envelope), then
            // scale to unit energy.
            let mut energy = 0.0;
            for ky in 0..K {
                for kx in 0..K {
                    let (dx, dy) = (kx as f64 - R as f64, ky as f64 - R as f64);
                    let along = dx * c + dy * s;
                    let across = -dx * s + dy * c;
                    let env = (-0.5
                        * (along * along / (sigma_along * sigma_along)
                            + across * across / (sigma_across * sigma_across)))
                        .exp();
                    k[ky * K + kx] -= sum / env_sum * env;
                    energy += k[ky * K + kx] * k[ky * K + kx];
                }
            }
            let norm = energy.sqrt();
            bank.extend(k.iter().map(|v| (v / norm) as f32));
        }
    }
    bank
}
