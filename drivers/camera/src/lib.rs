//! Camera sources for the portrait step.
//!
//! A [`FrameSource`] yields RGB frames. Sources are created *on* the capture
//! thread (nokhwa's camera is `!Send`), owned by a [`CameraController`] whose
//! `Drop` stops and joins that thread, so leaving the portrait step stops the
//! camera. The newest frame waits in a one-frame mailbox; old frames are
//! replaced rather than queued. A lost camera is reported once and reopened
//! by the controller ([`CameraStatus`]).
//!
//! [`list`] enumerates real cameras with their modes, [`choose_format`]
//! picks the mode to stream in, and [`synthetic_info`] describes the
//! synthetic face for a settings screen.

mod controller;
#[cfg(feature = "nokhwa")]
mod device;
mod formats;
mod synthetic;

pub use controller::{CameraController, CameraStatus};
pub use formats::{
    CameraInfo, DECODABLE_FOURCCS, Format, MIN_PREVIEW_FPS, TARGET_RESOLUTION, choose_format,
};
pub use image::RgbImage;
pub use synthetic::SyntheticFace;

/// Which camera to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The moving synthetic face shipped with the station.
    Synthetic,
    /// The same face sitting low and to one side, for demonstrating and
    /// testing the portrait override ([`SyntheticFace::seated`]).
    SyntheticSeated,
    /// A real camera, by its index in the platform's list.
    Device(u32),
}

/// What went wrong with a camera.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    /// The camera could not be opened.
    #[error("could not open camera {index}: {reason}")]
    Open { index: u32, reason: String },
    /// The camera stopped delivering frames (unplugged, busy, ...).
    #[error("the camera stopped delivering frames: {0}")]
    Lost(String),
    /// This build has no support for real cameras.
    #[error("this build of the station has no camera support")]
    Unsupported,
}

/// A producer of frames, living on the capture thread.
pub trait FrameSource {
    /// A short description for logs and the packet's device list.
    fn describe(&self) -> String;
    /// Blocks until the next frame is ready.
    fn next_frame(&mut self) -> Result<RgbImage, CameraError>;
}

/// Picks a real camera when one is attached, else the synthetic face.
pub fn detect() -> Source {
    #[cfg(feature = "nokhwa")]
    if let Some(index) = device::first_camera() {
        return Source::Device(index);
    }
    Source::Synthetic
}

/// The cameras attached, each with the modes it offers (see
/// [`CameraInfo`]); empty in a build without camera support. The synthetic
/// face is not among them: see [`synthetic_info`].
///
/// Each camera is opened briefly to read its modes, so call this when no
/// preview is running (a busy camera is listed without modes, with the
/// reason in its description).
pub fn list() -> Result<Vec<CameraInfo>, CameraError> {
    #[cfg(feature = "nokhwa")]
    return device::list();
    #[cfg(not(feature = "nokhwa"))]
    Ok(Vec::new())
}

/// The synthetic face as a settings screen lists it next to [`list`]'s
/// cameras: what `open(&Source::Synthetic)` streams.
pub fn synthetic_info() -> CameraInfo {
    let demo = SyntheticFace::demo();
    CameraInfo {
        index: 0,
        source: Source::Synthetic,
        name: "Synthetic face".into(),
        description: format!(
            "{}: a public-domain portrait over a drawn face, for demonstrations and tests",
            demo.describe()
        ),
        formats: vec![Format::new(1280, 720, demo.fps(), "RGB3")],
    }
}

/// Opens `source`. Call this on the thread that will read the frames.
///
/// [`Source::Synthetic`] is [`SyntheticFace::demo`]: the real face at
/// 1280×720 and 30 fps; [`Source::SyntheticSeated`] the same face seated.
pub fn open(source: &Source) -> Result<Box<dyn FrameSource>, CameraError> {
    match source {
        Source::Synthetic => Ok(Box::new(SyntheticFace::demo())),
        Source::SyntheticSeated => Ok(Box::new(SyntheticFace::seated())),
        #[cfg(feature = "nokhwa")]
        Source::Device(index) => Ok(Box::new(device::DeviceCamera::open(*index)?)),
        #[cfg(not(feature = "nokhwa"))]
        Source::Device(_) => Err(CameraError::Unsupported),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_source_is_the_demo_face_at_a_webcam_rate() {
        let info = synthetic_info();
        assert_eq!(info.source, Source::Synthetic);
        assert_eq!(info.formats, vec![Format::new(1280, 720, 30, "RGB3")]);
        let mut source = open(&Source::Synthetic).expect("opens");
        let frame = source.next_frame().expect("a frame");
        // The real face, not the drawing.
        assert_eq!(frame, SyntheticFace::demo().render(0));
        assert_ne!(frame, SyntheticFace::new(1280, 720, 30).render(0));
    }

    #[test]
    fn listing_works_without_cameras() {
        // Nothing attached here (and nothing at all without nokhwa).
        let cameras = list().expect("lists");
        assert!(cameras.iter().all(|c| c.source == Source::Device(c.index)));
    }
}
