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

/// The detector's other keypoints, beside the eyes (BlazeFace gives
/// these four; they are coarse, a few pixels off at 640 wide).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Landmarks {
    /// The tip of the nose (pronasale).
    pub nose_tip: Point,
    /// The centre of the mouth.
    pub mouth: Point,
    /// The subject's right ear (tragion; image left).
    pub right_ear: Point,
    /// The subject's left ear (tragion; image right).
    pub left_ear: Point,
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
    /// Nose, mouth and ears, when the detector gives them ([`Detector`]
    /// always does; faces built by hand may leave them out). Head yaw and
    /// pitch are estimated from them.
    ///
    /// [`Detector`]: crate::Detector
    pub landmarks: Option<Landmarks>,
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

    /// `p` in the face's levelled frame: relative to the eye midpoint,
    /// rotated so that the eye line is horizontal (roll removed), in
    /// inter-eye distances. x runs from the right eye towards the left eye
    /// (image right), y down the face. `None` when the eyes coincide.
    pub fn levelled(&self, p: Point) -> Option<Point> {
        let ied = self.inter_eye_distance();
        if ied.is_nan() || ied <= 0.0 {
            return None;
        }
        let mid = self.eye_midpoint();
        let (cos, sin) = (
            (self.left_eye.x - self.right_eye.x) / ied,
            (self.left_eye.y - self.right_eye.y) / ied,
        );
        let (dx, dy) = (p.x - mid.x, p.y - mid.y);
        Some(Point {
            x: (dx * cos + dy * sin) / ied,
            y: (-dx * sin + dy * cos) / ied,
        })
    }

    /// Head yaw in degrees, estimated from the nose tip (see [`pose`]):
    /// positive when the face is turned towards the subject's left (the
    /// nose moves to the image right), negative towards the subject's
    /// right. `None` without landmarks.
    pub fn yaw_degrees(&self) -> Option<f32> {
        let nose = self.levelled(self.landmarks?.nose_tip)?;
        Some(pose::yaw(nose.x).to_degrees())
    }

    /// Head pitch in degrees, estimated from the nose tip and the mouth
    /// (see [`pose`]): positive when the chin is lowered (the subject
    /// looks down), negative when it is raised. `None` without landmarks.
    pub fn pitch_degrees(&self) -> Option<f32> {
        let landmarks = self.landmarks?;
        let nose = self.levelled(landmarks.nose_tip)?;
        let mouth = self.levelled(landmarks.mouth)?;
        Some(pose::pitch(nose.y, mouth.y).to_degrees())
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

/// Head yaw and pitch from four 2-D points, with a generic face: an
/// *estimate*, not a fitted 3-D head model. The detector's keypoints are
/// coarse and faces differ, so expect a few degrees of error: on frontal
/// photos of one face framed at different sizes, BlazeFace's nose tip
/// moves ±0.07 inter-eye distances sideways (±6° of yaw) and the
/// nose-to-mouth ratio ±0.03 (±4° of pitch) — as much as ICAO's ±5°
/// allowance. Treat a failure near the limit as "ask the applicant to
/// face the camera", not as a measurement.
///
/// The points are taken in the face's levelled frame ([`Face::levelled`]:
/// roll removed, unit = the inter-eye distance as seen). The generic face
/// has the eye centres at depth 0, the nose tip [`NOSE_DEPTH`] and the
/// mouth centre [`MOUTH_DEPTH`] inter-eye distances in front of them
/// (towards the camera), and the projection is orthographic.
///
/// - **Yaw** θ about the vertical axis moves the nose tip sideways by
///   `NOSE_DEPTH·sin θ` while the eyes draw together by `cos θ`, so in
///   the levelled frame the nose lies `NOSE_DEPTH·tan θ` beside the eye
///   midpoint: θ = atan(x / NOSE_DEPTH). A frontal face has it on the
///   midline by symmetry, so nothing is calibrated here.
/// - **Pitch** φ about the eye line leaves the inter-eye distance alone
///   and moves a point at height y and depth z to `y·cos φ + z·sin φ`.
///   With the nose tip at height `FRONTAL_NOSE_RATIO·b` and the mouth at
///   `b` (b unknown, it differs between faces), the measured heights
///   `n` and `m` give sin φ = (n − r·m) / (NOSE_DEPTH − r·MOUTH_DEPTH),
///   r = [`FRONTAL_NOSE_RATIO`]. Positive φ: chin down.
///
/// [`NOSE_DEPTH`]: pose::NOSE_DEPTH
/// [`MOUTH_DEPTH`]: pose::MOUTH_DEPTH
/// [`FRONTAL_NOSE_RATIO`]: pose::FRONTAL_NOSE_RATIO
pub mod pose {
    /// How far the nose tip stands in front of the eye centres, in
    /// inter-eye distances: about 38 mm for 63 mm between the pupils
    /// (adult anthropometry, rounded). A 10 % error here scales the
    /// estimated angles by about 10 %.
    pub const NOSE_DEPTH: f32 = 0.6;
    /// How far the mouth centre stands in front of the eye centres, in
    /// inter-eye distances (the lips about 19 mm behind the nose tip).
    pub const MOUTH_DEPTH: f32 = 0.3;
    /// The nose tip's height below the eye line as a share of the
    /// mouth's, on a frontal face (pitch 0). Calibrated on the frontal
    /// test photos with the detector's keypoints: the astronaut 0.493,
    /// Hopper 0.461, Hopper at 1.3× on a 1280×720 wall 0.497 (mean
    /// 0.484). The same Hopper photo composited into the synthetic
    /// camera's 640×480 frames gives 0.43–0.46: the keypoints' noise is
    /// about ±0.03 here, about ±4° of pitch.
    pub const FRONTAL_NOSE_RATIO: f32 = 0.48;

    /// Yaw in radians from the nose tip's levelled x.
    pub fn yaw(nose_x: f32) -> f32 {
        (nose_x / NOSE_DEPTH).atan()
    }

    /// Pitch in radians from the levelled heights of the nose tip and the
    /// mouth.
    pub fn pitch(nose_y: f32, mouth_y: f32) -> f32 {
        let r = FRONTAL_NOSE_RATIO;
        ((nose_y - r * mouth_y) / (NOSE_DEPTH - r * MOUTH_DEPTH))
            .clamp(-1.0, 1.0)
            .asin()
    }
}

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
            landmarks: None,
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

    /// The pose model's generic face turned by `yaw`, then `pitch`, then
    /// `roll` degrees, seen orthographically: 100 px between the eyes when
    /// frontal, the eye midpoint at (300, 200).
    fn posed(yaw: f32, pitch: f32, roll: f32) -> Face {
        // x to the subject's left (image right), y down, z towards the
        // camera; unit = the inter-eye distance.
        let mouth_y = 1.15;
        let points = [
            (-0.5, 0.0, 0.0),
            (0.5, 0.0, 0.0),
            (0.0, pose::FRONTAL_NOSE_RATIO * mouth_y, pose::NOSE_DEPTH),
            (0.0, mouth_y, pose::MOUTH_DEPTH),
            (-0.75, 0.3, -1.3),
            (0.75, 0.3, -1.3),
        ];
        let (sy, cy) = yaw.to_radians().sin_cos();
        let (sp, cp) = pitch.to_radians().sin_cos();
        let (sr, cr) = roll.to_radians().sin_cos();
        let [right_eye, left_eye, nose_tip, mouth, right_ear, left_ear] =
            points.map(|(x, y, z): (f32, f32, f32)| {
                let (x, z) = (x * cy + z * sy, -x * sy + z * cy);
                let y = y * cp + z * sp;
                Point {
                    x: 300.0 + 100.0 * (x * cr - y * sr),
                    y: 200.0 + 100.0 * (x * sr + y * cr),
                }
            });
        Face {
            bbox: Rect {
                x: 220.0,
                y: 150.0,
                width: 160.0,
                height: 200.0,
            },
            right_eye,
            left_eye,
            score: 1.0,
            landmarks: Some(Landmarks {
                nose_tip,
                mouth,
                right_ear,
                left_ear,
            }),
        }
    }

    #[test]
    fn yaw_and_pitch_of_the_generic_face_are_recovered() {
        let close =
            |a: Option<f32>, b: f32, tolerance: f32| a.is_some_and(|a| (a - b).abs() <= tolerance);
        let frontal = posed(0.0, 0.0, 0.0);
        assert!(close(frontal.yaw_degrees(), 0.0, 1e-3), "{frontal:?}");
        assert!(close(frontal.pitch_degrees(), 0.0, 1e-3), "{frontal:?}");
        // One axis at a time the model is exact, whatever the roll.
        for angle in [-12.0, -5.0, -2.0, 3.0, 5.0, 12.0] {
            for roll in [0.0, 7.0] {
                let turned = posed(angle, 0.0, roll);
                assert!(close(turned.yaw_degrees(), angle, 0.01), "{turned:?}");
                assert!(close(turned.pitch_degrees(), 0.0, 0.01), "{turned:?}");
                let nodded = posed(0.0, angle, roll);
                assert!(close(nodded.pitch_degrees(), angle, 0.01), "{nodded:?}");
                assert!(close(nodded.yaw_degrees(), 0.0, 0.01), "{nodded:?}");
            }
        }
        // Both at once: nearly so (turned and nodded, the eye line tilts
        // a little, and levelling it moves the nose sideways: 6.65° here).
        let both = posed(6.0, -6.0, 4.0);
        assert!(
            close(both.yaw_degrees(), 6.0, 1.0),
            "{:?}",
            both.yaw_degrees()
        );
        assert!(
            close(both.pitch_degrees(), -6.0, 0.5),
            "{:?}",
            both.pitch_degrees()
        );
        // The signs: nose to the image right = turned to the subject's
        // left = positive yaw; nose lowered towards the mouth = chin down
        // = positive pitch.
        let mut f = frontal;
        let mut landmarks = f.landmarks.expect("posed");
        landmarks.nose_tip.x += 10.0;
        landmarks.nose_tip.y += 5.0;
        f.landmarks = Some(landmarks);
        // atan(0.1 / 0.6) = 9.46°.
        assert!(close(f.yaw_degrees(), 9.46, 0.01), "{:?}", f.yaw_degrees());
        assert!(
            f.pitch_degrees().is_some_and(|p| p > 3.0),
            "{:?}",
            f.pitch_degrees()
        );
        // No landmarks, no estimate.
        f.landmarks = None;
        assert_eq!((f.yaw_degrees(), f.pitch_degrees()), (None, None));
    }

    #[test]
    fn the_levelled_frame_removes_roll_and_scale() {
        let f = posed(0.0, 0.0, 30.0);
        let nose = f
            .levelled(f.landmarks.expect("posed").nose_tip)
            .expect("eyes apart");
        assert!(nose.x.abs() < 1e-4, "{nose:?}");
        assert!(
            (nose.y - pose::FRONTAL_NOSE_RATIO * 1.15).abs() < 1e-4,
            "{nose:?}"
        );
        let mut degenerate = f;
        degenerate.left_eye = degenerate.right_eye;
        assert_eq!(degenerate.levelled(nose), None);
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
