//! Rendering a master onto the glass: placement, pressure, dryness,
//! partial contact, skin elasticity, then the sensor's background and noise.
//!
//! A *poor* capture ([`Touch::degrade`], [`Sensor::degrade`]) pushes the same
//! knobs to the bad end of what enrolment stations meet (very dry or very
//! light fingers, wet smudges, a finger half lifted, a noisy or blurred
//! sensor), the degradations that the features of NFIQ 2 (orientation
//! certainty, local clarity, ridge-valley uniformity, contrast) respond to.

use super::master::Master;
use super::rng::{Rng, Smooth, hash_bits, smoothstep};

/// Where a finger lies in the output image.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placement {
    /// Output position of the centre of the contact ellipse.
    pub(crate) cx: f64,
    pub(crate) cy: f64,
    /// Rotation, radians, counter-clockwise as seen in the image.
    pub(crate) angle: f64,
    /// Output pixels per master pixel (1 at 500 ppi).
    pub(crate) scale: f64,
}

/// How one finger touched the glass this time.
#[derive(Debug, Clone)]
pub(crate) struct Touch {
    /// −1 (light) … 1 (heavy): contact area and ridge thickness.
    pressure: f64,
    /// 0 (moist) … 1 (very dry): thin, broken ridges and blotches.
    dryness: f64,
    /// Direction (radians) and amount (0…1) of the side lifted off the glass.
    lift_dir: f64,
    lift: f64,
    /// Darkness of the valleys relative to the ridges.
    valley: f64,
    /// Overall darkness of this finger (0…1).
    strength: f64,
    elastic_x: Smooth,
    elastic_y: Smooth,
    elastic_amp: f64,
    breaks: Smooth,
    /// How strongly `breaks` cuts the ridges of a dry finger.
    break_amp: f64,
    blotches: Smooth,
    /// A wet smudge or dirt: where it lies, valleys fill with ink and the
    /// ridge structure is lost.
    smudge: Option<Smudge>,
}

/// A smeared area of one impression.
#[derive(Debug, Clone)]
struct Smudge {
    field: Smooth,
    /// How much of the ridge structure it hides where it is strongest (0…1).
    amount: f64,
    /// Field level above which the smear begins.
    level: f64,
}

/// The kind of bad impression a poor capture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Very dry skin: thin, broken ridges and pale blotches.
    Dry,
    /// A light, hesitant touch: small, faint contact.
    Light,
    /// A wet or greasy finger pressed hard: merged ridges and a smear.
    Smudged,
}

impl Touch {
    pub(crate) fn random(rng: &mut Rng) -> Self {
        Self {
            pressure: rng.sym(1.0),
            dryness: 0.8 * rng.unit().powi(2),
            lift_dir: rng.range(0.0, std::f64::consts::TAU),
            lift: if rng.unit() < 0.6 {
                rng.range(0.1, 0.7)
            } else {
                0.0
            },
            valley: rng.range(0.03, 0.12),
            strength: rng.range(0.85, 1.0),
            elastic_x: Smooth::new(rng, 4, 120.0, 320.0),
            elastic_y: Smooth::new(rng, 4, 120.0, 320.0),
            elastic_amp: rng.range(0.4, 1.6),
            breaks: Smooth::new(rng, 10, 14.0, 40.0),
            break_amp: 0.45,
            blotches: Smooth::new(rng, 8, 40.0, 120.0),
            smudge: None,
        }
    }

    /// Turns this touch into a poor one, drawing from `rng` (a stream of
    /// its own, so that normal captures are not disturbed): one dominant
    /// fault (very dry, very light or smudged), always with broken ridges
    /// and part of the finger lifted off the glass.
    pub(crate) fn degrade(&mut self, rng: &mut Rng) {
        let fault = match rng.pick(&[1.0, 1.0, 1.0]) {
            0 => Fault::Dry,
            1 => Fault::Light,
            _ => Fault::Smudged,
        };
        self.break_amp = rng.range(0.55, 0.7);
        self.lift = rng.range(0.35, 0.6);
        self.elastic_amp = rng.range(1.5, 3.0);
        match fault {
            Fault::Dry => {
                self.dryness = rng.range(0.85, 0.95);
                self.pressure = rng.range(-0.5, 0.0);
                self.strength = rng.range(0.7, 0.85);
                self.valley = rng.range(0.0, 0.04);
            }
            Fault::Light => {
                self.dryness = rng.range(0.6, 0.75);
                self.pressure = rng.range(-1.0, -0.8);
                self.strength = rng.range(0.58, 0.68);
                self.lift = rng.range(0.5, 0.7);
            }
            Fault::Smudged => {
                self.dryness = rng.range(0.2, 0.4);
                self.pressure = rng.range(0.7, 1.0);
                self.strength = rng.range(0.75, 0.9);
                self.valley = rng.range(0.2, 0.35);
            }
        }
        let (amount, level) = if fault == Fault::Smudged {
            (rng.range(0.75, 0.95), rng.range(-0.3, 0.1))
        } else {
            (rng.range(0.45, 0.65), rng.range(0.2, 0.5))
        };
        self.smudge = Some(Smudge {
            field: Smooth::new(rng, 5, 90.0, 220.0),
            amount,
            level,
        });
    }
}

/// The sensor's part of one image: background, shading and noise.
#[derive(Debug, Clone)]
pub(crate) struct Sensor {
    background: f64,
    contrast: f64,
    noise: f64,
    shading: Smooth,
    seed: u64,
    /// Radius of the optical blur (a box filter applied twice), pixels.
    blur: usize,
}

impl Sensor {
    pub(crate) fn random(rng: &mut Rng) -> Self {
        Self {
            background: rng.range(244.0, 258.0),
            contrast: rng.range(175.0, 215.0),
            noise: rng.range(2.0, 7.0),
            shading: Smooth::new(rng, 3, 400.0, 1200.0),
            seed: rng.next_u64(),
            blur: 0,
        }
    }

    /// Turns this sensor into a poor one: heavy noise, a washed-out image
    /// (dirty or badly lit glass) and some defocus.
    pub(crate) fn degrade(&mut self, rng: &mut Rng) {
        self.noise = rng.range(9.0, 13.0);
        self.contrast *= rng.range(0.75, 0.85);
        self.background = rng.range(232.0, 244.0);
        self.blur = 1;
    }

    /// Turns a darkness canvas (0 = glass, 1 = ridge) into grey levels.
    pub(crate) fn finish(&self, dark: &[f32], width: u32) -> Vec<u8> {
        let w = width.max(1) as usize;
        let rows = dark.len() / w;
        let blurred;
        let dark = if self.blur > 0 {
            blurred = box_blur(&box_blur(dark, w, rows, self.blur), w, rows, self.blur);
            &blurred[..]
        } else {
            dark
        };
        // Uneven illumination, separable so it is cheap.
        let sx: Vec<f64> = (0..w)
            .map(|x| 2.0 * self.shading.at(x as f64, 0.0))
            .collect();
        let sy: Vec<f64> = (0..rows)
            .map(|y| 2.0 * self.shading.at(0.0, y as f64))
            .collect();
        dark.iter()
            .enumerate()
            .map(|(i, &d)| {
                let bg = self.background + sx[i % w] + sy[i / w];
                // Roughly Gaussian: the sum of three uniforms from one hash.
                let hsh = hash_bits(self.seed, i as u64);
                let u = |k: u32| ((hsh >> (21 * k)) & 0x1F_FFFF) as f64 / f64::from(0x20_0000);
                let n = (u(0) + u(1) + u(2) - 1.5) * 2.0;
                let v = bg - self.contrast * f64::from(d) + self.noise * n;
                v.round().clamp(0.0, 255.0) as u8
            })
            .collect()
    }
}

/// A separable box blur of radius `r` (clamped at the edges).
fn box_blur(src: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let n = (2 * r + 1) as f32;
    let mut tmp = vec![0f32; src.len()];
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        for x in 0..w {
            let s: f32 = (0..=2 * r)
                .map(|k| row[(x + k).saturating_sub(r).min(w - 1)])
                .sum();
            tmp[y * w + x] = s / n;
        }
    }
    let mut out = vec![0f32; src.len()];
    for y in 0..h {
        for x in 0..w {
            let s: f32 = (0..=2 * r)
                .map(|k| tmp[(y + k).saturating_sub(r).min(h - 1) * w + x])
                .sum();
            out[y * w + x] = s / n;
        }
    }
    out
}

/// Spacing of the grid on which smooth quantities are computed.
const GRID: usize = 4;

/// Draws `master` into the darkness canvas (keeping the darker value where
/// fingers overlap); returns the bounding box (x, y, w, h) of the contact
/// area, if any of it is inside the image.
pub(crate) fn draw(
    master: &Master,
    place: &Placement,
    touch: &Touch,
    dark: &mut [f32],
    width: u32,
    height: u32,
) -> Option<[u32; 4]> {
    let (sin, cos) = place.angle.sin_cos();
    let mask_scale = 1.0 + 0.06 * touch.pressure;
    // Ridge threshold: heavy pressure thickens, dryness thins the ridges.
    let base_threshold = -0.3 * touch.pressure + 0.35 * touch.dryness;
    // Extent of the rotated, scaled ellipse in the output.
    let (ra, rb) = (
        1.12 * mask_scale * master.a * place.scale,
        1.12 * mask_scale * master.b * place.scale,
    );
    let ex = (ra * cos).hypot(rb * sin) + 4.0;
    let ey = (ra * sin).hypot(rb * cos) + 4.0;
    let x0 = (place.cx - ex).floor().max(0.0) as u32;
    let y0 = (place.cy - ey).floor().max(0.0) as u32;
    let x1 = ((place.cx + ex).ceil().max(0.0) as u32).min(width);
    let y1 = ((place.cy + ey).ceil().max(0.0) as u32).min(height);
    let (lift_x, lift_y) = (touch.lift_dir.cos(), touch.lift_dir.sin());
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    // The smooth quantities (master coordinates, contact, ridge threshold)
    // are computed on a grid every GRID pixels and interpolated.
    let nx = ((x1 - x0) as usize).div_ceil(GRID) + 1;
    let ny = ((y1 - y0) as usize).div_ceil(GRID) + 1;
    let mut nodes = Vec::with_capacity(nx * ny);
    for j in 0..ny {
        for i in 0..nx {
            let ox = f64::from(x0) + (i * GRID) as f64 - place.cx;
            let oy = f64::from(y0) + (j * GRID) as f64 - place.cy;
            // Skin elasticity: a smooth displacement of a pixel or so.
            let ox = ox + touch.elastic_amp * touch.elastic_x.at(ox, oy);
            let oy = oy + touch.elastic_amp * touch.elastic_y.at(ox, oy);
            // Into master coordinates: undo rotation and scale.
            let mx = (ox * cos - oy * sin) / place.scale;
            let my = (ox * sin + oy * cos) / place.scale;
            let rho = master.shape_radius(mx / mask_scale, my / mask_scale);
            let edge = smoothstep(1.0, 0.9, rho);
            let side = (mx * lift_x / master.a + my * lift_y / master.b) / mask_scale;
            let lift = 1.0 - touch.lift * smoothstep(0.15, 0.95, side);
            let blotch = if edge > 0.0 {
                1.0 - touch.dryness * 0.7 * smoothstep(0.4, 1.4, touch.blotches.at(mx, my))
            } else {
                1.0
            };
            let contact = edge * lift * blotch;
            let threshold = if edge > 0.0 {
                base_threshold
                    + touch.dryness * touch.break_amp * touch.breaks.at(mx, my)
                    + 0.25 * (1.0 - contact)
            } else {
                0.0
            };
            let smear = match &touch.smudge {
                Some(s) if edge > 0.0 => {
                    s.amount * smoothstep(s.level, s.level + 0.6, s.field.at(mx, my))
                }
                _ => 0.0,
            };
            nodes.push([mx, my, contact, threshold, smear]);
        }
    }
    let mut bbox: Option<[u32; 4]> = None;
    let step = 1.0 / GRID as f64;
    for py in y0..y1 {
        let (j, fy) = (
            ((py - y0) as usize) / GRID,
            f64::from((py - y0) % GRID as u32) * step,
        );
        for px in x0..x1 {
            let (i, fx) = (
                ((px - x0) as usize) / GRID,
                f64::from((px - x0) % GRID as u32) * step,
            );
            let n00 = &nodes[j * nx + i];
            let n10 = &nodes[j * nx + i + 1];
            let n01 = &nodes[(j + 1) * nx + i];
            let n11 = &nodes[(j + 1) * nx + i + 1];
            let lerp = |k: usize| {
                let top = n00[k] + fx * (n10[k] - n00[k]);
                let bottom = n01[k] + fx * (n11[k] - n01[k]);
                top + fy * (bottom - top)
            };
            let contact = lerp(2);
            if contact < 0.05 {
                continue;
            }
            let threshold = lerp(3);
            let v = f64::from(master.sample(lerp(0), lerp(1)));
            let mut ink = smoothstep(threshold - 0.28, threshold + 0.28, v);
            if touch.smudge.is_some() {
                // Smeared: a flat mid-dark stain instead of ridges.
                let smear = lerp(4);
                ink += smear * (0.7 - ink);
            }
            let d = touch.strength * contact * (touch.valley + (1.0 - touch.valley) * ink);
            let idx = (py * width + px) as usize;
            if d as f32 > dark[idx] {
                dark[idx] = d as f32;
            }
            if contact > 0.3 {
                bbox = Some(match bbox {
                    None => [px, py, px, py],
                    Some([a, b, c, e]) => [a.min(px), b.min(py), c.max(px), e.max(py)],
                });
            }
        }
    }
    bbox.map(|[a, b, c, e]| [a, b, c - a + 1, e - b + 1])
}
