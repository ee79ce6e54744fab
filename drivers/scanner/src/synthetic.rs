//! Synthetic finger images: a ridge pattern inside a finger-shaped mask.
//!
//! Not a realistic fingerprint (that comes with the drivers work), but a
//! deterministic image with ridges whose layout differs per finger and per
//! seed, so that captures are distinguishable and stale ones detectable.

use crate::Finger;

/// Renders a `width × height` greyscale ridge pattern for `finger`.
///
/// `seed` varies the core position and ridge spacing; the same inputs always
/// give the same pixels.
pub fn ridge_pattern(finger: Finger, seed: u64, width: u32, height: u32) -> Vec<u8> {
    let mix = splitmix(seed ^ (u64::from(finger.position()) << 32));
    let unit = |shift: u32| f64::from(((mix >> shift) & 0xff) as u8) / 255.0;
    let (w, h) = (f64::from(width), f64::from(height));
    let core_x = w * (0.4 + 0.2 * unit(0));
    let core_y = h * (0.35 + 0.2 * unit(8));
    let period = 7.0 + 3.0 * unit(16);
    let twist = 1.5 + 2.5 * unit(24);
    let (rx, ry) = (w * 0.42, h * 0.46);
    let (cx, cy) = (w / 2.0, h / 2.0);

    let mut pixels = Vec::with_capacity((width * height) as usize);
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (f64::from(x), f64::from(y));
            let ex = (fx - cx) / rx;
            let ey = (fy - cy) / ry;
            let inside = ex * ex + ey * ey;
            if inside > 1.0 {
                pixels.push(255);
                continue;
            }
            let dx = fx - core_x;
            let dy = fy - core_y;
            let r = (dx * dx + dy * dy).sqrt();
            let angle = dy.atan2(dx);
            let phase = r / period * std::f64::consts::TAU + twist * angle.sin();
            let ridge = 0.5 + 0.5 * phase.cos();
            // Fade towards the edge of the finger, like lighter pressure.
            let pressure = (1.0 - inside).sqrt().min(1.0);
            let level = 255.0 - 200.0 * ridge * pressure;
            pixels.push(level.clamp(0.0, 255.0) as u8);
        }
    }
    pixels
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_is_deterministic_and_finger_specific() {
        let a = ridge_pattern(Finger::RightThumb, 7, 64, 72);
        let b = ridge_pattern(Finger::RightThumb, 7, 64, 72);
        let c = ridge_pattern(Finger::LeftThumb, 7, 64, 72);
        assert_eq!(a.len(), 64 * 72);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn pattern_has_ridges_and_background() {
        let p = ridge_pattern(Finger::RightIndex, 1, 128, 144);
        let dark = p.iter().filter(|&&v| v < 128).count();
        let white = p.iter().filter(|&&v| v == 255).count();
        assert!(dark > p.len() / 10, "ridges expected, {dark} dark pixels");
        assert!(white > p.len() / 20, "background expected, {white} white");
    }
}
