//! Camera sources for the portrait step.
//!
//! A [`FrameSource`] yields RGB frames. Sources are created *on* the capture
//! thread (nokhwa's camera is `!Send`), owned by a [`CameraController`] whose
//! `Drop` stops and joins that thread, so leaving the portrait step stops the
//! camera. Frames reach the UI through a small bounded channel; old frames are
//! dropped rather than queued.

mod controller;
#[cfg(feature = "nokhwa")]
mod device;
mod synthetic;

pub use controller::CameraController;
pub use image::RgbImage;
pub use synthetic::SyntheticFace;

/// Which camera to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The moving synthetic face shipped with the station.
    Synthetic,
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

/// Opens `source`. Call this on the thread that will read the frames.
pub fn open(source: &Source) -> Result<Box<dyn FrameSource>, CameraError> {
    match source {
        Source::Synthetic => Ok(Box::new(SyntheticFace::new(640, 480, 15))),
        #[cfg(feature = "nokhwa")]
        Source::Device(index) => Ok(Box::new(device::DeviceCamera::open(*index)?)),
        #[cfg(not(feature = "nokhwa"))]
        Source::Device(_) => Err(CameraError::Unsupported),
    }
}
