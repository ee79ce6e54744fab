//! A synthetic camera: a face drifting slowly in front of a light wall —
//! drawn, or (for the portrait checks, which a drawing cannot pass: its
//! eyes are 86 px apart at 640×480) a real public-domain face composited
//! onto the drawing ([`SyntheticFace::with_portrait`]).

use std::time::{Duration, Instant};

use image::{Rgb, RgbaImage};

use crate::{CameraError, FrameSource, RgbImage};

/// A deterministic moving face, paced at a fixed frame rate.
#[derive(Debug)]
pub struct SyntheticFace {
    width: u32,
    height: u32,
    fps: u32,
    frame_time: Duration,
    next_due: Option<Instant>,
    frame: u64,
    /// A real face laid over the drawn one, with its eye centres.
    portrait: Option<(RgbaImage, [(f64, f64); 2])>,
    /// Where the head rests, as shares of the frame's width and height.
    rest: (f64, f64),
}

/// Grace Hopper's official US Navy portrait (public domain, via
/// matplotlib's sample data), cut to the face with a feathered elliptical
/// edge and scaled for a 640-px-wide frame: RGBA, 294×359.
const HOPPER: &[u8] = include_bytes!("../assets/portrait-hopper.png");
/// Her eye centres in that image (right eye first, image left).
const HOPPER_EYES: [(f64, f64); 2] = [(96.98, 116.37), (196.89, 112.26)];
/// The frame width the portrait is scaled for.
const HOPPER_FRAME_WIDTH: f64 = 640.0;

impl SyntheticFace {
    /// The frame rate of [`SyntheticFace::demo`]: a webcam's.
    pub const DEMO_FPS: u32 = 30;

    /// A `width × height` face at `fps` frames per second. The head moves
    /// (and the drawn face blinks) at the same pace in real time whatever
    /// the rate: frame `n` is `n / fps` seconds in.
    pub fn new(width: u32, height: u32, fps: u32) -> Self {
        let fps = fps.max(1);
        Self {
            width,
            height,
            fps,
            frame_time: Duration::from_secs(1) / fps,
            next_due: None,
            frame: 0,
            portrait: None,
            rest: (0.5, 0.48),
        }
    }

    /// What `open(&Source::Synthetic)` gives: the real face
    /// ([`SyntheticFace::with_portrait_scaled`], about 110 px between the
    /// eyes) at 1280×720 and [`SyntheticFace::DEMO_FPS`], a 720p webcam's
    /// mode, which passes every portrait check. (At 640×480 no face can:
    /// the ISO token crop needs 5.3 inter-eye distances of height, and
    /// ISO asks for at least 90 px between the eyes.) The drawn face alone
    /// stays available through [`SyntheticFace::new`].
    pub fn demo() -> Self {
        Self::new(1280, 720, Self::DEMO_FPS).with_portrait_scaled(1.1)
    }

    /// The demo face sitting low and to one side, as an applicant in a
    /// wheelchair before a backdrop hung for people standing: the
    /// portrait checks never all pass, so capture needs an override.
    pub fn seated() -> Self {
        let mut face = Self::demo();
        face.rest = (0.36, 0.70);
        face
    }

    /// The frame rate this source is paced at.
    pub fn fps(&self) -> u32 {
        self.fps
    }

    /// The same source with a real face over the drawn one (about 100 px
    /// between the eyes at 640 wide), so that a face detector and the
    /// ICAO checks see a person. It does not blink.
    pub fn with_portrait(self) -> Self {
        let scale = f64::from(self.width) / HOPPER_FRAME_WIDTH;
        self.with_portrait_scaled(scale)
    }

    /// The same with the real face scaled by `scale` (1.0: about 100 px
    /// between the eyes). The drawn face and hair are left out, so only
    /// the real face shows over the wall and the shoulders.
    pub fn with_portrait_scaled(mut self, scale: f64) -> Self {
        let decoded = image::load_from_memory(HOPPER).map(image::DynamicImage::into_rgba8);
        match decoded {
            Ok(sprite) => {
                let sprite = image::imageops::resize(
                    &sprite,
                    (f64::from(sprite.width()) * scale).round().max(1.0) as u32,
                    (f64::from(sprite.height()) * scale).round().max(1.0) as u32,
                    image::imageops::FilterType::CatmullRom,
                );
                let eyes = HOPPER_EYES.map(|(x, y)| (x * scale, y * scale));
                self.portrait = Some((sprite, eyes));
            }
            // The image is part of the binary: this cannot happen unless the
            // build is broken; the drawn face stays.
            Err(e) => tracing::error!("the synthetic portrait cannot be decoded: {e}"),
        }
        self
    }

    /// Where the eye centres are in frame `n` (right eye first, image
    /// left): the drawn ones, or the composited portrait's, which sit on
    /// the drawn eyes' midpoint.
    pub fn eyes(&self, n: u64) -> [(f64, f64); 2] {
        let eyes = self.drawn_eyes(n);
        match &self.portrait {
            None => eyes,
            Some((_, sprite_eyes)) => {
                let (ox, oy) = Self::offset(eyes, *sprite_eyes);
                sprite_eyes.map(|(x, y)| (x + ox as f64, y + oy as f64))
            }
        }
    }

    fn drawn_eyes(&self, n: u64) -> [(f64, f64); 2] {
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let (cx, cy) = self.centre(w, h, n);
        let (rx, ry) = (w * 0.16, h * 0.30);
        [
            (cx - rx * 0.42, cy - ry * 0.18),
            (cx + rx * 0.42, cy - ry * 0.18),
        ]
    }

    /// Where the head is in frame `n`: it sways a little, like a person
    /// settling in the chair. `t` is in seconds: frame `n` at 15 fps is
    /// where it has always been.
    fn centre(&self, w: f64, h: f64, n: u64) -> (f64, f64) {
        let t = n as f64 / f64::from(self.fps);
        (
            w * self.rest.0 + w * 0.04 * (t * 0.9).sin(),
            h * self.rest.1 + h * 0.02 * (t * 1.3).cos(),
        )
    }

    /// Whole-pixel shift that puts the sprite's eye midpoint on the drawn
    /// eye midpoint.
    fn offset(drawn: [(f64, f64); 2], sprite: [(f64, f64); 2]) -> (i64, i64) {
        let mid = |e: [(f64, f64); 2]| ((e[0].0 + e[1].0) / 2.0, (e[0].1 + e[1].1) / 2.0);
        let (d, s) = (mid(drawn), mid(sprite));
        ((d.0 - s.0).round() as i64, (d.1 - s.1).round() as i64)
    }

    /// Renders frame number `n` without waiting.
    pub fn render(&self, n: u64) -> RgbImage {
        let mut frame = self.draw(n);
        if let Some((sprite, sprite_eyes)) = &self.portrait {
            let (ox, oy) = Self::offset(self.drawn_eyes(n), *sprite_eyes);
            blend(&mut frame, sprite, ox, oy);
        }
        frame
    }

    /// The drawn face of frame `n`.
    fn draw(&self, n: u64) -> RgbImage {
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let (cx, cy) = self.centre(w, h, n);
        let (rx, ry) = (w * 0.16, h * 0.30);
        let eye_dy = ry * 0.18;
        let eye_dx = rx * 0.42;
        // Every 4 s for a fifth of a second (60 and 3 frames at 15 fps).
        let fps = u64::from(self.fps);
        let blink = (n % (4 * fps)) < (fps / 5).max(1);
        let real_face = self.portrait.is_some();
        // A light, slightly uneven wall.
        let wall = |fy: f64| {
            let v = 232.0 - 10.0 * (fy / h);
            Rgb([v as u8, v as u8, (v + 4.0) as u8])
        };

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
            if real_face {
                return wall(fy);
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
            wall(fy)
        })
    }
}

/// Alpha-blends `sprite` onto `frame` with its top-left corner at
/// (`ox`, `oy`).
fn blend(frame: &mut RgbImage, sprite: &RgbaImage, ox: i64, oy: i64) {
    for (sx, sy, p) in sprite.enumerate_pixels() {
        let (x, y) = (i64::from(sx) + ox, i64::from(sy) + oy);
        if x < 0 || y < 0 || x >= i64::from(frame.width()) || y >= i64::from(frame.height()) {
            continue;
        }
        let a = u32::from(p[3]);
        if a == 0 {
            continue;
        }
        let d = frame.get_pixel_mut(x as u32, y as u32);
        for c in 0..3 {
            d[c] = ((u32::from(p[c]) * a + u32::from(d[c]) * (255 - a) + 127) / 255) as u8;
        }
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
    fn the_portrait_sits_on_the_drawn_eyes_and_changes_the_frame() {
        let drawn = SyntheticFace::new(640, 480, 15);
        let real = SyntheticFace::new(640, 480, 15).with_portrait();
        assert_ne!(drawn.render(7), real.render(7));
        let [right, left] = real.eyes(7);
        let [dr, dl] = drawn.eyes(7);
        let mid = ((right.0 + left.0) / 2.0, (right.1 + left.1) / 2.0);
        assert!((mid.0 - (dr.0 + dl.0) / 2.0).abs() <= 0.5);
        assert!((mid.1 - (dr.1 + dl.1) / 2.0).abs() <= 0.5);
        // About 100 px apart at 640 wide; half that at 320.
        assert!(((left.0 - right.0) - 100.0).abs() < 3.0);
        let small = SyntheticFace::new(320, 240, 15).with_portrait();
        let [r, l] = small.eyes(0);
        assert!(((l.0 - r.0) - 50.0).abs() < 2.0);
    }

    #[test]
    fn the_head_moves_at_the_same_pace_whatever_the_rate() {
        let slow = SyntheticFace::new(160, 120, 15);
        let fast = SyntheticFace::new(160, 120, 30);
        // Including a blink (frames 0..3 at 15 fps).
        for n in [0, 1, 2, 7, 59, 61] {
            assert_eq!(fast.render(2 * n), slow.render(n), "frame {n}");
            assert_eq!(fast.eyes(2 * n), slow.eyes(n));
        }
        assert_ne!(fast.render(10), slow.render(10));
        let demo = SyntheticFace::demo();
        assert_eq!((demo.fps(), demo.render(0).dimensions()), (30, (1280, 720)));
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
