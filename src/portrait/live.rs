//! The live side of the portrait step, free of any UI: an analysis worker
//! that judges the newest camera frame on its own thread, the auto-capture
//! rule, the instruction each failed check gives, the guide drawn over the
//! preview, and the portrait built from an analysed frame.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};
use pishkhan_face::checks::Off;
use pishkhan_face::geometry::{Placement, Point, crop_token};
use pishkhan_face::{Analysis, Check, CheckId, Detector, Policy, analyse};

use crate::enrolment::Portrait;
use crate::enrolment::portrait::{CaptureMode, CheckResult, FaceCapture, PortraitOverride};

/// Width of the stored portrait (height 4/3 of it): the ISO/IEC 19794-5
/// token at 480×640 puts 120 px between the eyes.
pub const PORTRAIT_WIDTH: u32 = super::CROP_WIDTH;
/// JPEG quality of the stored portrait.
pub const JPEG_QUALITY: u8 = 92;
/// Analysed frames in a row that must pass every check before the
/// station takes the portrait by itself.
pub const AUTO_CAPTURE_FRAMES: u32 = 3;

/// A camera frame with its analysis.
#[derive(Debug, Clone)]
pub struct Analysed {
    pub frame: Arc<RgbImage>,
    pub analysis: Analysis,
    /// Time spent detecting and checking.
    pub took: Duration,
}

/// Judges frames on a worker thread, one at a time: a frame offered while
/// the previous one is still being analysed is not queued (the preview
/// never waits for the analysis, and the analysis never falls behind).
pub struct LiveAnalyser {
    jobs: Option<SyncSender<Arc<RgbImage>>>,
    results: Receiver<Result<Analysed, String>>,
    busy: bool,
    failed: Option<String>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for LiveAnalyser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveAnalyser")
            .field("busy", &self.busy)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl LiveAnalyser {
    /// Starts the worker; the detector loads on it.
    pub fn start(policy: Policy) -> Self {
        let (jobs, inbox) = sync_channel::<Arc<RgbImage>>(1);
        let (outbox, results) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("face-analysis".into())
            .spawn(move || {
                let mut detector = match Detector::new() {
                    Ok(detector) => detector,
                    Err(e) => {
                        let _ = outbox.send(Err(e.to_string()));
                        return;
                    }
                };
                while let Ok(frame) = inbox.recv() {
                    let started = Instant::now();
                    let result = detector
                        .detect(&frame)
                        .map(|faces| {
                            let analysis = analyse(&frame, faces, &policy);
                            Analysed {
                                frame,
                                analysis,
                                took: started.elapsed(),
                            }
                        })
                        .map_err(|e| e.to_string());
                    if outbox.send(result).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| tracing::error!("cannot start the portrait analysis: {e}"))
            .ok();
        Self {
            failed: thread
                .is_none()
                .then(|| "the analysis thread did not start".to_owned()),
            jobs: Some(jobs),
            results,
            busy: false,
            thread,
        }
    }

    /// Hands `frame` to the worker unless it is busy; true when taken.
    pub fn offer(&mut self, frame: &Arc<RgbImage>) -> bool {
        if self.busy || self.failed.is_some() {
            return false;
        }
        let Some(jobs) = &self.jobs else { return false };
        match jobs.try_send(frame.clone()) {
            Ok(()) => {
                self.busy = true;
                true
            }
            Err(TrySendError::Full(_)) => false,
            Err(TrySendError::Disconnected(_)) => {
                self.failed = Some("the analysis thread stopped".into());
                false
            }
        }
    }

    /// The analysis that finished since the last call, if any.
    pub fn poll(&mut self) -> Option<Analysed> {
        match self.results.try_recv() {
            Ok(Ok(analysed)) => {
                self.busy = false;
                Some(analysed)
            }
            Ok(Err(e)) => {
                tracing::error!("portrait analysis: {e}");
                self.busy = false;
                self.failed = Some(e);
                None
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                if self.failed.is_none() {
                    self.failed = Some("the analysis thread stopped".into());
                }
                None
            }
        }
    }

    /// Blocks until the analysis of the frame offered last (tools, tests,
    /// benchmarks).
    pub fn wait(&mut self) -> Result<Analysed, String> {
        match self.results.recv() {
            Ok(result) => {
                self.busy = false;
                result.inspect_err(|e| self.failed = Some(e.clone()))
            }
            Err(_) => Err(self
                .failed
                .clone()
                .unwrap_or_else(|| "the analysis thread stopped".into())),
        }
    }

    /// Why the checks cannot run, when they cannot.
    pub fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }
}

impl Drop for LiveAnalyser {
    fn drop(&mut self) {
        // Closing the job channel ends the worker after its current frame.
        self.jobs = None;
        while self.results.try_recv().is_ok() {}
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The auto-capture rule: every check passes on
/// [`AUTO_CAPTURE_FRAMES`] analysed frames in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoCapture {
    needed: u32,
    streak: u32,
}

impl Default for AutoCapture {
    fn default() -> Self {
        Self::new(AUTO_CAPTURE_FRAMES)
    }
}

impl AutoCapture {
    pub fn new(needed: u32) -> Self {
        Self {
            needed: needed.max(1),
            streak: 0,
        }
    }

    /// Counts `analysis`; true when the portrait should be taken now.
    pub fn observe(&mut self, analysis: &Analysis) -> bool {
        if analysis.passed() {
            self.streak += 1;
        } else {
            self.streak = 0;
        }
        self.streak >= self.needed
    }

    /// Passing frames in a row so far, and how many are needed.
    pub fn progress(&self) -> (u32, u32) {
        (self.streak.min(self.needed), self.needed)
    }

    pub fn reset(&mut self) {
        self.streak = 0;
    }
}

/// The message id of the short instruction a failed check gives the
/// operator (what to ask of the applicant, or what to change).
pub fn instruction(check: &Check) -> &'static str {
    let low = check.off == Some(Off::Low);
    match check.id {
        CheckId::OneFace if low => "portrait-fix-no-face",
        CheckId::OneFace => "portrait-fix-faces",
        CheckId::EyeDistance => "portrait-fix-closer",
        CheckId::Framing => "portrait-fix-framing",
        CheckId::Centred if low => "portrait-fix-centre-left",
        CheckId::Centred => "portrait-fix-centre-right",
        CheckId::HeadSize if low => "portrait-fix-head-small",
        CheckId::HeadSize => "portrait-fix-head-large",
        CheckId::Roll => "portrait-fix-roll",
        CheckId::Yaw => "portrait-fix-yaw",
        CheckId::Pitch if low => "portrait-fix-chin-raised",
        CheckId::Pitch => "portrait-fix-chin-lowered",
        CheckId::EyesOpen => "portrait-fix-eyes",
        CheckId::Exposure if low => "portrait-fix-dark",
        CheckId::Exposure => "portrait-fix-bright",
        CheckId::Clipping => "portrait-fix-clipping",
        CheckId::DynamicRange => "portrait-fix-contrast",
        CheckId::Illumination => "portrait-fix-uneven-light",
        CheckId::Background => "portrait-fix-background",
        CheckId::Sharpness => "portrait-fix-blur",
        CheckId::Glare => "portrait-fix-glasses",
    }
}

/// The message id naming a check (the review list and the override form).
pub fn check_name(id: CheckId) -> &'static str {
    match id {
        CheckId::OneFace => "portrait-check-one-face",
        CheckId::EyeDistance => "portrait-check-eye-distance",
        CheckId::Framing => "portrait-check-framing",
        CheckId::Centred => "portrait-check-centred",
        CheckId::HeadSize => "portrait-check-head-size",
        CheckId::Roll => "portrait-check-roll",
        CheckId::Yaw => "portrait-check-yaw",
        CheckId::Pitch => "portrait-check-pitch",
        CheckId::EyesOpen => "portrait-check-eyes-open",
        CheckId::Exposure => "portrait-check-exposure",
        CheckId::Clipping => "portrait-check-clipping",
        CheckId::DynamicRange => "portrait-check-dynamic-range",
        CheckId::Illumination => "portrait-check-illumination",
        CheckId::Background => "portrait-check-background",
        CheckId::Sharpness => "portrait-check-sharpness",
        CheckId::Glare => "portrait-check-glare",
    }
}

const PASS: Rgb<u8> = Rgb([40, 200, 90]);
const FAIL: Rgb<u8> = Rgb([245, 160, 20]);
const GUIDE: Rgb<u8> = Rgb([250, 250, 250]);

/// The preview with the guide drawn on it: where the applicant's head
/// should be (a fixed outline at the frame's centre) and, once a face is
/// found, the portrait crop it would give and its eye centres — green when
/// every check passes, amber otherwise.
pub fn guide(frame: &RgbImage, analysis: Option<&Analysis>) -> RgbImage {
    let mut out = frame.clone();
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    // The target: an upright oval where a compliant head sits in a frame
    // of this size (head ≈ 75 % of a crop as tall as the frame).
    let (cx, cy) = (w / 2.0, h * 0.47);
    let (rx, ry) = (h * 0.75 * 0.3, h * 0.75 * 0.45);
    let steps = 96;
    let oval: Vec<Point> = (0..=steps)
        .map(|i| {
            let t = i as f32 / steps as f32 * std::f32::consts::TAU;
            Point {
                x: cx + rx * t.cos(),
                y: cy + ry * t.sin(),
            }
        })
        .collect();
    for pair in oval.windows(2).step_by(2) {
        line(&mut out, pair[0], pair[1], GUIDE);
    }
    let Some((analysis, face)) = analysis.and_then(|a| a.face().map(|f| (a, f))) else {
        return out;
    };
    let colour = if analysis.passed() { PASS } else { FAIL };
    let placement = Placement::token(face, PORTRAIT_WIDTH);
    let (pw, ph) = (placement.width as f32, placement.height as f32);
    let corners = [(0.0, 0.0), (pw, 0.0), (pw, ph), (0.0, ph), (0.0, 0.0)]
        .map(|(u, v)| placement.source(u, v));
    for pair in corners.windows(2) {
        line(&mut out, pair[0], pair[1], colour);
    }
    let arm = face.inter_eye_distance() * 0.12;
    for eye in [face.right_eye, face.left_eye] {
        line(
            &mut out,
            Point {
                x: eye.x - arm,
                y: eye.y,
            },
            Point {
                x: eye.x + arm,
                y: eye.y,
            },
            colour,
        );
        line(
            &mut out,
            Point {
                x: eye.x,
                y: eye.y - arm,
            },
            Point {
                x: eye.x,
                y: eye.y + arm,
            },
            colour,
        );
    }
    out
}

/// The preview of a fingerprint exception's evidence photo: the applicant
/// from the waist up with both hands raised before the chest. The guide
/// marks the zone for the head (top centre) and the band for the hands,
/// and boxes every face found — green when there is exactly one.
pub fn waist_up_guide(frame: &RgbImage, faces: Option<&[pishkhan_face::Face]>) -> RgbImage {
    let mut out = frame.clone();
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let rect = |out: &mut RgbImage, x0: f32, y0: f32, x1: f32, y1: f32, colour| {
        let corners =
            [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)].map(|(x, y)| Point { x, y });
        for pair in corners.windows(2) {
            line(out, pair[0], pair[1], colour);
        }
    };
    // The head in the top third, the hands in the band below the chest.
    rect(&mut out, w * 0.38, h * 0.04, w * 0.62, h * 0.36, GUIDE);
    rect(&mut out, w * 0.15, h * 0.52, w * 0.85, h * 0.86, GUIDE);
    if let Some(faces) = faces {
        let colour = if faces.len() == 1 { PASS } else { FAIL };
        for f in faces {
            rect(
                &mut out,
                f.bbox.x,
                f.bbox.y,
                f.bbox.right(),
                f.bbox.bottom(),
                colour,
            );
        }
    }
    out
}

/// A two-pixel line, clipped to the image.
fn line(image: &mut RgbImage, a: Point, b: Point, colour: Rgb<u8>) {
    let steps = (b.x - a.x).abs().max((b.y - a.y).abs()).ceil().max(1.0) as u32;
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        let (x, y) = (a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
        for (dx, dy) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)] {
            let (px, py) = ((x + dx).floor(), (y + dy).floor());
            if px >= 0.0 && py >= 0.0 && (px as u32) < image.width() && (py as u32) < image.height()
            {
                image.put_pixel(px as u32, py as u32, colour);
            }
        }
    }
}

/// Encodes `image` as the station's portrait JPEG.
pub fn jpeg(image: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    image.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut out,
        JPEG_QUALITY,
    ))?;
    Ok(out)
}

/// The card portrait from an analysed frame: the ISO/IEC 19794-5 token
/// crop when one face was found and the crop fits in the frame, else the
/// whole frame (only an override can accept that), with the capture
/// record for the packet.
pub fn take(
    analysed: &Analysed,
    source: String,
    mode: CaptureMode,
    r#override: Option<PortraitOverride>,
) -> Result<Portrait, image::ImageError> {
    let frame = analysed.frame.as_ref();
    let analysis = &analysed.analysis;
    let fits = analysis.check(CheckId::Framing).is_some_and(|c| c.passed);
    let (picture, eyes, token) = match analysis.face() {
        Some(face) if fits => {
            let (crop, placement) = crop_token(frame, face, PORTRAIT_WIDTH);
            let at = |p: Point| {
                let q = placement.output(p);
                [q.x.round().max(0.0) as u32, q.y.round().max(0.0) as u32]
            };
            (crop, Some([at(face.right_eye), at(face.left_eye)]), true)
        }
        Some(face) => {
            let at = |p: Point| [p.x.round().max(0.0) as u32, p.y.round().max(0.0) as u32];
            (
                frame.clone(),
                Some([at(face.right_eye), at(face.left_eye)]),
                false,
            )
        }
        None => (frame.clone(), None, false),
    };
    Ok(Portrait {
        jpeg: jpeg(&picture)?,
        width: picture.width(),
        height: picture.height(),
        source,
        face: Some(FaceCapture {
            mode,
            frame_width: frame.width(),
            frame_height: frame.height(),
            token,
            eyes,
            eye_distance: analysis.face().map(pishkhan_face::Face::inter_eye_distance),
            checks: analysis
                .checks
                .iter()
                .map(|c| CheckResult {
                    check: c.id.key().to_owned(),
                    value: c.value,
                    passed: c.passed,
                })
                .collect(),
            r#override,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pishkhan_camera::SyntheticFace;
    use pishkhan_face::geometry::token;

    fn analysed(frame: RgbImage) -> Analysed {
        let mut analyser = LiveAnalyser::start(Policy::default());
        let frame = Arc::new(frame);
        assert!(analyser.offer(&frame));
        assert!(!analyser.offer(&frame), "one frame at a time");
        analyser.wait().expect("analysis")
    }

    fn synthetic(n: u64) -> RgbImage {
        SyntheticFace::demo().render(n)
    }

    /// The first frame of the demo camera that passes every check.
    fn passing() -> Analysed {
        let mut analyser = LiveAnalyser::start(Policy::default());
        for n in 0..60 {
            let frame = Arc::new(synthetic(n));
            assert!(analyser.offer(&frame));
            let a = analyser.wait().expect("analysis");
            if a.analysis.passed() {
                return a;
            }
        }
        panic!("no demo frame passes every check");
    }

    #[test]
    fn the_synthetic_camera_passes_every_check_in_a_row() {
        let mut analyser = LiveAnalyser::start(Policy::default());
        let mut auto = AutoCapture::default();
        let mut taken = None;
        for n in 0..30 {
            let frame = Arc::new(synthetic(n));
            assert!(analyser.offer(&frame));
            let a = analyser.wait().expect("analysis");
            if auto.observe(&a.analysis) {
                taken = Some(n);
                break;
            }
            if let Some(failed) = a.analysis.first_failure() {
                eprintln!("frame {n}: {:?} {:?}", failed.id, failed.value);
            }
        }
        assert!(taken.is_some(), "auto-capture within 30 frames");
    }

    #[test]
    fn the_portrait_is_the_token_crop_with_its_eyes_recorded() {
        let a = passing();
        let p = take(&a, "synthetic".into(), CaptureMode::Auto, None).expect("jpeg");
        assert_eq!((p.width, p.height), (480, 640));
        let face = p.face.expect("capture record");
        assert!(face.token && face.compliant());
        assert_eq!(face.quality(), 100);
        let [right, left] = face.eyes.expect("eyes");
        // Eyes level at the token height, the token distance apart.
        let eye_y = (token::EYE_Y * 480.0).round() as i64;
        let ied = (token::IED * 480.0).round() as i64;
        assert!((i64::from(right[1]) - eye_y).abs() <= 1, "{right:?}");
        assert!((i64::from(left[1]) - eye_y).abs() <= 1, "{left:?}");
        assert!((i64::from(left[0]) - i64::from(right[0]) - ied).abs() <= 1);
        let decoded = image::load_from_memory(&p.jpeg).expect("decodes");
        assert_eq!((decoded.width(), decoded.height()), (480, 640));
    }

    #[test]
    fn without_a_face_the_whole_frame_is_kept_and_nothing_passes() {
        let a = analysed(RgbImage::from_pixel(640, 480, Rgb([200, 200, 200])));
        let failed = a.analysis.first_failure().expect("fails");
        assert_eq!(instruction(failed), "portrait-fix-no-face");
        let p = take(&a, "x".into(), CaptureMode::Override, None).expect("jpeg");
        let face = p.face.expect("record");
        assert_eq!((p.width, p.height), (640, 480));
        assert!(!face.token && face.eyes.is_none());
        assert_eq!(face.quality(), 0);
    }

    #[test]
    fn auto_capture_needs_passing_frames_in_a_row() {
        let good = passing().analysis;
        let bad = analysed(RgbImage::from_pixel(64, 48, Rgb([0, 0, 0]))).analysis;
        let mut auto = AutoCapture::new(3);
        assert!(!auto.observe(&good));
        assert!(!auto.observe(&good));
        assert!(!auto.observe(&bad), "a failing frame resets");
        assert_eq!(auto.progress(), (0, 3));
        assert!(!auto.observe(&good));
        assert!(!auto.observe(&good));
        assert!(auto.observe(&good));
    }

    #[test]
    fn the_guide_marks_the_crop_in_the_verdict_colour() {
        let a = passing();
        let drawn = guide(&a.frame, Some(&a.analysis));
        let face = a.analysis.face().expect("face");
        let eye = face.right_eye;
        assert_eq!(
            *drawn.get_pixel(eye.x.round() as u32, eye.y.round() as u32),
            PASS
        );
        let blank = guide(&a.frame, None);
        assert_ne!(
            *blank.get_pixel(eye.x.round() as u32, eye.y.round() as u32),
            PASS
        );
        assert!(blank.pixels().any(|p| *p == GUIDE), "the head outline");
    }

    #[test]
    fn the_waist_up_guide_boxes_the_face_found() {
        let a = passing();
        let face = *a.analysis.face().expect("face");
        let one = waist_up_guide(&a.frame, Some(&[face]));
        let corner = (face.bbox.x.floor() as u32, face.bbox.y.floor() as u32);
        assert_eq!(*one.get_pixel(corner.0, corner.1), PASS);
        let two = waist_up_guide(&a.frame, Some(&[face, face]));
        assert_eq!(*two.get_pixel(corner.0, corner.1), FAIL);
        let none = waist_up_guide(&a.frame, None);
        assert_ne!(*none.get_pixel(corner.0, corner.1), PASS);
        // The head zone's top edge, at the frame's centre.
        let (w, h) = a.frame.dimensions();
        let top = (h as f32 * 0.04).floor() as u32;
        assert_eq!(*none.get_pixel(w / 2, top), GUIDE);
    }

    #[test]
    fn every_failure_has_an_instruction() {
        for id in CheckId::ALL {
            for off in [None, Some(Off::Low), Some(Off::High)] {
                let check = Check {
                    id,
                    value: None,
                    passed: false,
                    off,
                };
                assert!(instruction(&check).starts_with("portrait-fix-"));
            }
            assert!(check_name(id).ends_with(id.key()));
        }
    }
}
