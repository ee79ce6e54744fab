//! A synthetic camera: a face drifting slowly in front of a light wall.

use std::time::{Duration, Instant};

use image::Rgb;

use crate::{CameraError, FrameSource, RgbImage};

/// A deterministic moving face, paced at a fixed frame rate.
#[derive(Debug)]
pub struct SyntheticFace {
    width: u32,
    height: u32,
    frame_time: Duration,
    next_due: Option<Instant>,
    frame: u64,
}

impl SyntheticFace {
    /// A `width × height` face at `fps` frames per second.
    pub fn new(width: u32, height: u32, fps: u32) -> Self {
        Self {
            width,
            height,
            frame_time: Duration::from_secs(1) / fps.max(1),
            next_due: None,
            frame: 0,
        }
    }

    /// Renders frame number `n` without waiting.
    pub fn render(&self, n: u64) -> RgbImage {
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let t = n as f64 / 15.0;
        // The head sways a little, like a person settling in the chair.
        let cx = w / 2.0 + w * 0.04 * (t * 0.9).sin();
        let cy = h * 0.48 + h * 0.02 * (t * 1.3).cos();
        let (rx, ry) = (w * 0.16, h * 0.30);
        let eye_dy = ry * 0.18;
        let eye_dx = rx * 0.42;
        let blink = (n % 60) < 3;

        RgbImage::from_fn(self.width, self.height, |x, y| {
            let (fx, fy) = (f64::from(x), f64::from(y));
            let nx = (fx - cx) / rx;
            let ny = (fy - cy) / ry;
            let face = nx * nx + ny * ny;
            // Shoulders.
            let sy = (fy - h) / (h * 0.22);
            let sx = (fx - cx) / (w * 0.38);
            if sx * sx + sy * sy < 1.0 && face > 1.0 {
                return Rgb([40, 52, 80]);
            }
            // Hair.
            let hy = (fy - (cy - ry * 0.35)) / (ry * 0.75);
            let hx = (fx - cx) / (rx * 1.08);
            if hx * hx + hy * hy < 1.0 && fy < cy - ry * 0.35 && face > 0.55 {
                return Rgb([45, 30, 25]);
            }
            if face < 1.0 {
                for side in [-1.0, 1.0] {
                    let ex = (fx - (cx + side * eye_dx)) / (rx * 0.16);
                    let ey = (fy - (cy - eye_dy)) / (ry * if blink { 0.015 } else { 0.06 });
                    if ex * ex + ey * ey < 1.0 {
                        return Rgb([30, 25, 25]);
                    }
                }
                let mx = (fx - cx) / (rx * 0.35);
                let my = (fy - (cy + ry * 0.45)) / (ry * 0.05);
                if mx * mx + my * my < 1.0 {
                    return Rgb([150, 60, 60]);
                }
                let shade = (1.0 - 0.25 * face).clamp(0.0, 1.0);
                return Rgb([
                    (222.0 * shade) as u8,
                    (180.0 * shade) as u8,
                    (150.0 * shade) as u8,
                ]);
            }
            // A light, slightly uneven wall.
            let v = 232.0 - 10.0 * (fy / h);
            Rgb([v as u8, v as u8, (v + 4.0) as u8])
        })
    }
}

impl FrameSource for SyntheticFace {
    fn describe(&self) -> String {
        format!("synthetic face {}x{}", self.width, self.height)
    }

    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        let now = Instant::now();
        let due = self.next_due.unwrap_or(now);
        if due > now {
            std::thread::sleep(due - now);
        }
        self.next_due = Some(due.max(now) + self.frame_time);
        let image = self.render(self.frame);
        self.frame += 1;
        Ok(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_move_and_have_the_requested_size() {
        let mut cam = SyntheticFace::new(160, 120, 1000);
        let a = cam.next_frame().expect("frame");
        let b = cam.next_frame().expect("frame");
        assert_eq!(a.dimensions(), (160, 120));
        assert_ne!(a, b, "consecutive frames differ");
    }

    #[test]
    fn face_is_centred_and_skin_coloured() {
        let cam = SyntheticFace::new(320, 240, 15);
        let frame = cam.render(0);
        let centre = frame.get_pixel(160, 125);
        assert!(
            centre[0] > centre[2],
            "skin is warmer than blue: {centre:?}"
        );
        let corner = frame.get_pixel(2, 2);
        assert!(corner[0] > 200, "background is light: {corner:?}");
    }
}
