//! Real cameras through nokhwa (V4L2 on Linux, Media Foundation on Windows).

use nokhwa::Camera;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};

use crate::formats::{CameraInfo, Format, TARGET_RESOLUTION, choose_format};
use crate::{CameraError, FrameSource, RgbImage, Source};

/// The index of the first camera the platform lists, if any.
pub fn first_camera() -> Option<u32> {
    let cameras = nokhwa::query(ApiBackend::Auto).ok()?;
    cameras.first().and_then(|c| c.index().as_index().ok())
}

/// The cameras the platform lists, each opened briefly to read its
/// formats. A camera that cannot be opened (busy, no permission, a V4L2
/// metadata node) is listed with no formats and the reason in its
/// description. Cameras the platform names by path rather than by number
/// are left out: [`Source::Device`] cannot address them.
///
/// A failing platform query is reported as [`CameraError::Unsupported`]
/// (nokhwa fails it only when the platform has no usable backend); the
/// detail goes to the log.
pub fn list() -> Result<Vec<CameraInfo>, CameraError> {
    let cameras = nokhwa::query(ApiBackend::Auto).map_err(|e| {
        tracing::warn!("listing cameras: {e}");
        CameraError::Unsupported
    })?;
    let mut listed = Vec::with_capacity(cameras.len());
    for camera in cameras {
        let Ok(index) = camera.index().as_index() else {
            tracing::info!(
                "camera {:?} ({}) has no numeric index; not listed",
                camera.index(),
                camera.human_name()
            );
            continue;
        };
        let mut description = [camera.description(), camera.misc().as_str()]
            .iter()
            .filter(|s| !s.trim().is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let formats = match read_formats(index) {
            Ok(formats) => formats,
            Err(reason) => {
                if !description.is_empty() {
                    description.push_str("; ");
                }
                description.push_str(&format!("formats unknown: {reason}"));
                Vec::new()
            }
        };
        listed.push(CameraInfo {
            index,
            source: Source::Device(index),
            name: camera.human_name(),
            description,
            formats,
        });
    }
    Ok(listed)
}

/// Opens camera `index` without streaming and reads the modes it offers,
/// sorted best pixel format first, then largest, then fastest.
fn read_formats(index: u32) -> Result<Vec<Format>, String> {
    let request = RequestedFormat::new::<RgbFormat>(RequestedFormatType::None);
    let mut camera = Camera::new(CameraIndex::Index(index), request).map_err(|e| e.to_string())?;
    let mut formats: Vec<Format> = camera
        .compatible_camera_formats()
        .map_err(|e| e.to_string())?
        .iter()
        .map(to_format)
        .collect();
    formats.sort_by(|a, b| {
        let rank = |f: &Format| f.decode_rank().unwrap_or(usize::MAX);
        rank(a)
            .cmp(&rank(b))
            .then(a.fourcc.cmp(&b.fourcc))
            .then((b.width, b.height, b.fps).cmp(&(a.width, a.height, a.fps)))
    });
    formats.dedup();
    Ok(formats)
}

/// The V4L2 four-character code of a nokhwa pixel format.
fn fourcc(format: FrameFormat) -> &'static str {
    match format {
        FrameFormat::MJPEG => "MJPG",
        FrameFormat::YUYV => "YUYV",
        FrameFormat::NV12 => "NV12",
        FrameFormat::GRAY => "GREY",
        FrameFormat::RAWRGB => "RGB3",
        FrameFormat::RAWBGR => "BGR3",
    }
}

/// The nokhwa pixel format of a four-character code, if nokhwa has one.
fn frame_format(fourcc: &str) -> Option<FrameFormat> {
    match fourcc.trim().to_ascii_uppercase().as_str() {
        "MJPG" | "MJPEG" => Some(FrameFormat::MJPEG),
        "YUYV" | "YUY2" => Some(FrameFormat::YUYV),
        "NV12" => Some(FrameFormat::NV12),
        "GREY" | "GRAY" => Some(FrameFormat::GRAY),
        "RGB3" | "RAWRGB" => Some(FrameFormat::RAWRGB),
        "BGR3" | "RAWBGR" => Some(FrameFormat::RAWBGR),
        _ => None,
    }
}

fn to_format(format: &CameraFormat) -> Format {
    Format::new(
        format.width(),
        format.height(),
        format.frame_rate(),
        fourcc(format.format()),
    )
}

fn to_camera_format(format: &Format) -> Option<CameraFormat> {
    Some(CameraFormat::new_from(
        format.width,
        format.height,
        frame_format(&format.fourcc)?,
        format.fps,
    ))
}

/// A camera opened through nokhwa. `!Send`: lives on the capture thread.
pub struct DeviceCamera {
    camera: Camera,
    index: u32,
    /// The mode the camera streams in.
    format: Format,
}

impl DeviceCamera {
    /// Opens camera `index` in the mode [`choose_format`] picks from what
    /// it offers (asked for exactly). When the camera refuses that mode,
    /// or its modes cannot be read, it asks nokhwa for the highest rate at
    /// 1280×720, then for the highest resolution, then keeps the mode the
    /// camera opened in.
    pub fn open(index: u32) -> Result<Self, CameraError> {
        let open_error = |e: nokhwa::NokhwaError| CameraError::Open {
            index,
            reason: e.to_string(),
        };
        // `None` takes the first decodable mode: it opens any camera, and
        // the real choice follows.
        let mut camera = Camera::new(
            CameraIndex::Index(index),
            RequestedFormat::new::<RgbFormat>(RequestedFormatType::None),
        )
        .map_err(open_error)?;

        let chosen = match camera.compatible_camera_formats() {
            Ok(offered) => {
                let offered: Vec<Format> = offered.iter().map(to_format).collect();
                let chosen = choose_format(&offered);
                if chosen.is_none() {
                    tracing::warn!("camera {index}: no decodable mode among {offered:?}");
                }
                chosen
            }
            Err(e) => {
                tracing::warn!("camera {index}: cannot read its modes: {e}");
                None
            }
        };
        let (width, height) = TARGET_RESOLUTION;
        let requests = chosen
            .as_ref()
            .and_then(to_camera_format)
            .map(RequestedFormatType::Exact)
            .into_iter()
            .chain([
                RequestedFormatType::HighestResolution(Resolution::new(width, height)),
                RequestedFormatType::AbsoluteHighestResolution,
            ]);
        for request in requests {
            match camera.set_camera_requset(RequestedFormat::new::<RgbFormat>(request)) {
                Ok(_) => break,
                Err(e) => tracing::warn!("camera {index}: request {request} refused: {e}"),
            }
        }
        camera.open_stream().map_err(open_error)?;
        let format = to_format(&camera.camera_format());
        tracing::info!("camera {index} streaming {format}");
        Ok(Self {
            camera,
            index,
            format,
        })
    }
}

impl FrameSource for DeviceCamera {
    fn describe(&self) -> String {
        format!(
            "{} (#{}), {}×{} at {} fps",
            self.camera.info().human_name(),
            self.index,
            self.format.width,
            self.format.height,
            self.format.fps
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourccs_round_trip_through_nokhwa() {
        for format in [
            FrameFormat::MJPEG,
            FrameFormat::YUYV,
            FrameFormat::NV12,
            FrameFormat::GRAY,
            FrameFormat::RAWRGB,
            FrameFormat::RAWBGR,
        ] {
            assert_eq!(frame_format(fourcc(format)), Some(format));
        }
        assert_eq!(frame_format("H264"), None);
        let mode = Format::new(1280, 720, 30, "MJPG");
        let back = to_camera_format(&mode).map(|f| to_format(&f));
        assert_eq!(back, Some(mode));
    }

    #[test]
    fn what_nokhwa_decodes_is_what_the_choice_considers() {
        // RgbFormat's decoders and our decodable list must agree, or the
        // exact request for a chosen mode would always be refused.
        for format in <RgbFormat as nokhwa::FormatDecoder>::FORMATS {
            let mode = Format::new(1, 1, 1, fourcc(*format));
            assert!(mode.decode_rank().is_some(), "{format}");
        }
        let grey = Format::new(1, 1, 1, fourcc(FrameFormat::GRAY));
        assert_eq!(grey.decode_rank(), None);
    }

    #[test]
    fn without_a_camera_listing_is_empty_or_reasoned() {
        // No /dev/video* here; on a machine with cameras every entry has
        // formats or says why not.
        let cameras = list().expect("the platform backend answers");
        for camera in cameras {
            assert!(
                !camera.formats.is_empty() || camera.description.contains("formats unknown"),
                "{camera:?}"
            );
        }
    }
}
