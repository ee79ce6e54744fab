//! What a camera offers and which of it the station asks for.
//!
//! These are the crate's own types (no nokhwa, no serde), so the choice is a
//! pure function that can be tested without a camera.

use std::fmt;

use crate::Source;

/// The smallest resolution the station aims for, where a camera offers it
/// (ICAO portraits want the face at least 90 px between the eyes with room
/// to crop; 1280×720 leaves ample margin).
pub const TARGET_RESOLUTION: (u32, u32) = (1280, 720);

/// The lowest frame rate that still looks live in the preview.
pub const MIN_PREVIEW_FPS: u32 = 25;

/// The pixel formats the station can decode into RGB, best first.
///
/// 1. `MJPG`: compressed, so a USB 2 camera can send 720p and 1080p at full
///    rate (uncompressed YUYV at 1080p is usually limited to 5 fps);
/// 2. `YUYV` (`YUY2` on Windows): uncompressed 4:2:2, cheap to convert;
/// 3. `NV12`: uncompressed 4:2:0;
/// 4. `RGB3` and 5. `BGR3`: raw RGB, rare on webcams.
///
/// Anything else (`GREY` from infrared cameras, `H264`, unknown codes) is
/// not decodable by the backend and is never chosen.
pub const DECODABLE_FOURCCS: [&str; 5] = ["MJPG", "YUYV", "NV12", "RGB3", "BGR3"];

/// One mode a camera offers: a resolution, a frame rate and a pixel format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Format {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// The four-character code of the pixel format, as V4L2 spells it
    /// (`MJPG`, `YUYV`, `NV12`, `GREY`, `RGB3`, `BGR3`).
    pub fourcc: String,
}

impl Format {
    /// A format of `width × height` at `fps` in `fourcc`.
    pub fn new(width: u32, height: u32, fps: u32, fourcc: &str) -> Self {
        Self {
            width,
            height,
            fps,
            fourcc: fourcc.to_string(),
        }
    }

    /// Where this format's pixel format stands in [`DECODABLE_FOURCCS`]
    /// (0 is best), or `None` when the station cannot decode it.
    pub fn decode_rank(&self) -> Option<usize> {
        let code = self.fourcc.trim().to_ascii_uppercase();
        let canonical = match code.as_str() {
            "MJPEG" => "MJPG",
            "YUY2" => "YUYV",
            "RAWRGB" => "RGB3",
            "RAWBGR" => "BGR3",
            other => other,
        };
        DECODABLE_FOURCCS.iter().position(|f| *f == canonical)
    }

    /// Whether this format reaches [`TARGET_RESOLUTION`].
    pub fn is_hd(&self) -> bool {
        self.width >= TARGET_RESOLUTION.0 && self.height >= TARGET_RESOLUTION.1
    }

    fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}×{} at {} fps, {}",
            self.width, self.height, self.fps, self.fourcc
        )
    }
}

/// A camera the station can use, for a settings screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    /// The platform's index of the camera (what [`Source::Device`] takes);
    /// 0 for the synthetic source, which [`CameraInfo::source`] tells apart.
    pub index: u32,
    /// What to pass to [`crate::CameraController::start`] to use it.
    pub source: Source,
    /// The camera's name as the platform reports it.
    pub name: String,
    /// More about the camera (driver, bus); when its formats could not be
    /// read, also why.
    pub description: String,
    /// The modes it offers (empty when they could not be read).
    pub formats: Vec<Format>,
}

/// The mode to ask a camera for, out of the `offered` ones.
///
/// Only decodable formats ([`DECODABLE_FOURCCS`]) are considered. Among
/// them, in this order:
///
/// 1. the **smallest** resolution reaching [`TARGET_RESOLUTION`] at
///    [`MIN_PREVIEW_FPS`] or more (enough for the portrait, no more pixels
///    to decode than needed);
/// 2. else the **largest** resolution at [`MIN_PREVIEW_FPS`] or more (a
///    smooth preview matters more than pixels the portrait does not need:
///    a camera with 720p only at 10 fps gets VGA at 30);
/// 3. else the largest resolution at any rate.
///
/// Ties on resolution go to the higher frame rate, then to the better
/// pixel format in [`DECODABLE_FOURCCS`] order. `None` when nothing
/// offered is decodable.
pub fn choose_format(offered: &[Format]) -> Option<Format> {
    let usable: Vec<(&Format, usize)> = offered
        .iter()
        .filter(|f| f.width > 0 && f.height > 0)
        .filter_map(|f| f.decode_rank().map(|rank| (f, rank)))
        .collect();
    // Higher rate first, then the better pixel format.
    let rate_then_fourcc =
        |a: &(&Format, usize), b: &(&Format, usize)| b.0.fps.cmp(&a.0.fps).then(a.1.cmp(&b.1));
    let smooth = |f: &&(&Format, usize)| f.0.fps >= MIN_PREVIEW_FPS;

    let smallest_hd = usable
        .iter()
        .filter(smooth)
        .filter(|f| f.0.is_hd())
        .min_by(|a, b| {
            (a.0.pixels(), a.0.width)
                .cmp(&(b.0.pixels(), b.0.width))
                .then_with(|| rate_then_fourcc(a, b))
        });
    let largest = |candidates: &mut dyn Iterator<Item = &(&Format, usize)>| {
        candidates
            .min_by(|a, b| {
                (b.0.pixels(), b.0.width)
                    .cmp(&(a.0.pixels(), a.0.width))
                    .then_with(|| rate_then_fourcc(a, b))
            })
            .map(|f| f.0.clone())
    };
    smallest_hd
        .map(|f| f.0.clone())
        .or_else(|| largest(&mut usable.iter().filter(smooth)))
        .or_else(|| largest(&mut usable.iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modes(list: &[(u32, u32, u32, &str)]) -> Vec<Format> {
        list.iter()
            .map(|&(w, h, fps, fourcc)| Format::new(w, h, fps, fourcc))
            .collect()
    }

    #[test]
    fn a_720p_webcam_gets_720p_at_its_full_rate() {
        // A typical laptop camera (UVC, MJPG and YUYV, 720p max).
        let offered = modes(&[
            (1280, 720, 30, "MJPG"),
            (1280, 720, 15, "MJPG"),
            (640, 480, 30, "MJPG"),
            (320, 240, 30, "MJPG"),
            (1280, 720, 10, "YUYV"),
            (640, 480, 30, "YUYV"),
            (320, 240, 30, "YUYV"),
        ]);
        assert_eq!(
            choose_format(&offered),
            Some(Format::new(1280, 720, 30, "MJPG"))
        );
    }

    #[test]
    fn a_1080p_webcam_gets_720p_mjpeg_not_slow_yuyv() {
        // A Logitech-C920-like list: YUYV 1080p is 5 fps.
        let offered = modes(&[
            (640, 480, 30, "YUYV"),
            (1280, 720, 10, "YUYV"),
            (1920, 1080, 5, "YUYV"),
            (1920, 1080, 30, "MJPG"),
            (1920, 1080, 24, "MJPG"),
            (1920, 1080, 15, "MJPG"),
            (1280, 720, 24, "MJPG"),
            (1280, 720, 30, "MJPG"),
            (1280, 720, 15, "MJPG"),
            (800, 600, 30, "MJPG"),
            (640, 480, 30, "MJPG"),
        ]);
        assert_eq!(
            choose_format(&offered),
            Some(Format::new(1280, 720, 30, "MJPG")),
            "smallest HD resolution, then the highest rate"
        );
        // A 60 fps mode at the same resolution is preferred.
        let fast = modes(&[(1280, 720, 30, "MJPG"), (1280, 720, 60, "MJPG")]);
        assert_eq!(
            choose_format(&fast),
            Some(Format::new(1280, 720, 60, "MJPG"))
        );
        // Same resolution and rate in both formats: MJPG wins.
        let both = modes(&[(1280, 720, 30, "YUYV"), (1280, 720, 30, "MJPG")]);
        assert_eq!(
            choose_format(&both),
            Some(Format::new(1280, 720, 30, "MJPG"))
        );
        // Only 1080p is smooth: take it rather than slow 720p.
        let only_1080 = modes(&[(1280, 720, 10, "YUYV"), (1920, 1080, 30, "MJPG")]);
        assert_eq!(
            choose_format(&only_1080),
            Some(Format::new(1920, 1080, 30, "MJPG"))
        );
    }

    #[test]
    fn a_vga_camera_gets_its_largest_smooth_mode() {
        let offered = modes(&[
            (160, 120, 30, "YUYV"),
            (320, 240, 30, "YUYV"),
            (640, 480, 30, "YUYV"),
            (640, 480, 15, "YUYV"),
            (352, 288, 30, "YUYV"),
        ]);
        assert_eq!(
            choose_format(&offered),
            Some(Format::new(640, 480, 30, "YUYV"))
        );
    }

    #[test]
    fn a_smooth_preview_beats_slow_hd() {
        // An uncompressed-only USB 2 camera.
        let offered = modes(&[(1280, 720, 10, "YUYV"), (640, 480, 30, "YUYV")]);
        assert_eq!(
            choose_format(&offered),
            Some(Format::new(640, 480, 30, "YUYV"))
        );
    }

    #[test]
    fn with_nothing_smooth_the_largest_is_taken() {
        let offered = modes(&[(640, 480, 15, "YUYV"), (1600, 1200, 5, "YUYV")]);
        assert_eq!(
            choose_format(&offered),
            Some(Format::new(1600, 1200, 5, "YUYV"))
        );
    }

    #[test]
    fn undecodable_and_empty_lists_give_nothing() {
        assert_eq!(choose_format(&[]), None);
        // An infrared face-login camera: grey only.
        let ir = modes(&[(640, 360, 30, "GREY"), (340, 340, 15, "GREY")]);
        assert_eq!(choose_format(&ir), None);
        // A grey or H.264 mode is skipped, not chosen for being larger.
        let mixed = modes(&[(1920, 1080, 30, "H264"), (640, 480, 30, "YUYV")]);
        assert_eq!(
            choose_format(&mixed),
            Some(Format::new(640, 480, 30, "YUYV"))
        );
    }

    #[test]
    fn fourcc_aliases_are_understood() {
        assert_eq!(Format::new(1, 1, 1, "mjpeg").decode_rank(), Some(0));
        assert_eq!(Format::new(1, 1, 1, "YUY2").decode_rank(), Some(1));
        assert_eq!(Format::new(1, 1, 1, "RAWBGR").decode_rank(), Some(4));
        assert_eq!(Format::new(1, 1, 1, "GREY").decode_rank(), None);
        assert_eq!(
            Format::new(1280, 720, 30, "MJPG").to_string(),
            "1280×720 at 30 fps, MJPG"
        );
    }
}
