//! Real cameras through nokhwa (V4L2 on Linux, Media Foundation on Windows).

use nokhwa::Camera;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{ApiBackend, CameraIndex, RequestedFormat, RequestedFormatType, Resolution};

use crate::{CameraError, FrameSource, RgbImage};

/// The index of the first camera the platform lists, if any.
pub fn first_camera() -> Option<u32> {
    let cameras = nokhwa::query(ApiBackend::Auto).ok()?;
    cameras.first().and_then(|c| c.index().as_index().ok())
}

/// A camera opened through nokhwa. `!Send`: lives on the capture thread.
pub struct DeviceCamera {
    camera: Camera,
    index: u32,
}

impl DeviceCamera {
    /// Opens camera `index` at 1280×720 or the closest it offers.
    pub fn open(index: u32) -> Result<Self, CameraError> {
        let open_error = |e: nokhwa::NokhwaError| CameraError::Open {
            index,
            reason: e.to_string(),
        };
        let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::HighestResolution(
            Resolution::new(1280, 720),
        ));
        let mut camera = Camera::new(CameraIndex::Index(index), format).map_err(open_error)?;
        camera.open_stream().map_err(open_error)?;
        Ok(Self { camera, index })
    }
}

impl FrameSource for DeviceCamera {
    fn describe(&self) -> String {
        format!("{} (#{})", self.camera.info().human_name(), self.index)
    }

    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        let lost = |e: nokhwa::NokhwaError| CameraError::Lost(e.to_string());
        let buffer = self.camera.frame().map_err(lost)?;
        let decoded = buffer.decode_image::<RgbFormat>().map_err(lost)?;
        RgbImage::from_raw(decoded.width(), decoded.height(), decoded.into_raw())
            .ok_or_else(|| CameraError::Lost("frame of the wrong size".into()))
    }
}

impl Drop for DeviceCamera {
    fn drop(&mut self) {
        if let Err(e) = self.camera.stop_stream() {
            tracing::warn!("stopping camera {}: {e}", self.index);
        }
    }
}
