//! Deterministic randomness for the synthetic generator: a SplitMix64
//! stream, per-pixel hashes and smooth random fields.

use std::f64::consts::TAU;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser: a good 64-bit mixing function.
pub(crate) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes two values into one seed (order matters).
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    splitmix(a ^ splitmix(b).rotate_left(17))
}

/// 64 random bits for item `i` of stream `seed`.
pub(crate) fn hash_bits(seed: u64, i: u64) -> u64 {
    splitmix(seed ^ i.wrapping_mul(GOLDEN))
}

/// A SplitMix64 random stream.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(splitmix(seed))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        splitmix(self.0)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in [-r, r).
    pub(crate) fn sym(&mut self, r: f64) -> f64 {
        self.range(-r, r)
    }

    /// Standard normal (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (TAU * v).cos()
    }

    /// An index drawn with the given (unnormalised) weights.
    pub(crate) fn pick(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// A smooth random field: a sum of plane waves with random directions,
/// wavelengths and phases, scaled to unit standard deviation.
#[derive(Debug, Clone)]
pub(crate) struct Smooth {
    /// (kx, ky, phase) per wave.
    waves: Vec<[f64; 3]>,
    amp: f64,
}

impl Smooth {
    pub(crate) fn new(rng: &mut Rng, n: usize, min_wavelength: f64, max_wavelength: f64) -> Self {
        let waves = (0..n)
            .map(|_| {
                let dir = rng.range(0.0, TAU);
                let k = TAU / rng.range(min_wavelength, max_wavelength);
                [k * dir.cos(), k * dir.sin(), rng.range(0.0, TAU)]
            })
            .collect::<Vec<_>>();
        let amp = (2.0 / n.max(1) as f64).sqrt();
        Self { waves, amp }
    }

    /// The field at (x, y): mean 0, standard deviation about 1.
    pub(crate) fn at(&self, x: f64, y: f64) -> f64 {
        self.amp
            * self
                .waves
                .iter()
                .map(|[kx, ky, p]| (kx * x + ky * y + p).cos())
                .sum::<f64>()
    }
}

/// Hermite smoothstep from `e0` to `e1` (either order).
pub(crate) fn smoothstep(e0: f64, e1: f64, x: f64) -> f64 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}
