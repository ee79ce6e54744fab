//! The fingerprint scanner contract for Pishkhan.
//!
//! A scanner is anything that can turn a request for one finger into a
//! greyscale image: a serial optical module, a vendor's slap scanner behind a
//! device service, or the [`VirtualScanner`] that ships with the product so
//! the station runs and is tested without hardware.
//!
//! Drivers report progress through [`ScanEvent`]s and stop promptly when the
//! [`CancelToken`] of the capture is set.

mod finger;
mod synthetic;
mod virtual_scanner;

pub use finger::Finger;
pub use synthetic::ridge_pattern;
pub use virtual_scanner::VirtualScanner;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How a device is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Software only: the virtual scanner shipped with the station.
    Virtual,
    /// A serial port (RS-232, TTL or a USB-serial bridge).
    Serial { port: String },
    /// A local device service on loopback (MOSIP SBI).
    LocalService { url: String },
}

/// What kinds of impression a device can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// One flat finger at a time.
    pub single_flat: bool,
    /// Four fingers of one hand at once.
    pub four_finger_slap: bool,
    /// Both thumbs at once.
    pub two_thumbs: bool,
    /// Rolled impressions.
    pub rolled: bool,
}

/// Static facts about an attached (or virtual) scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Stable identifier, recorded in every packet.
    pub id: String,
    /// Human-readable model name.
    pub name: String,
    /// How the device is reached.
    pub transport: Transport,
    /// What it can capture.
    pub capabilities: Capabilities,
    /// Native resolution in pixels per inch.
    pub resolution_ppi: u16,
    /// Native image width in pixels.
    pub image_width: u32,
    /// Native image height in pixels.
    pub image_height: u32,
}

/// A request to capture one finger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureRequest {
    /// Which finger the operator asked the applicant to place.
    pub finger: Finger,
    /// How long to wait for the finger before giving up.
    pub timeout: Duration,
}

/// An 8-bit greyscale finger image, row-major, 255 = white background.
#[derive(Clone, PartialEq, Eq)]
pub struct FingerImage {
    /// The finger this image is of.
    pub finger: Finger,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Resolution in pixels per inch.
    pub resolution_ppi: u16,
    /// `width * height` grey levels.
    pub pixels: Vec<u8>,
    /// The device's own quality score (0–100), when it gives one.
    pub device_quality: Option<u8>,
}

impl std::fmt::Debug for FingerImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FingerImage")
            .field("finger", &self.finger)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("resolution_ppi", &self.resolution_ppi)
            .field("device_quality", &self.device_quality)
            .finish_non_exhaustive()
    }
}

/// Progress of one capture, in the order a device reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEvent {
    /// The device is ready and waiting for the finger.
    WaitingForFinger,
    /// A finger is on the sensor.
    FingerOn,
    /// The image was taken.
    Captured(FingerImage),
    /// The finger was lifted.
    FingerOff,
}

/// Why a capture did not produce an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The capture was cancelled by the station.
    #[error("capture cancelled")]
    Cancelled,
    /// No finger was placed within the timeout.
    #[error("no finger was placed within {0:?}")]
    Timeout(Duration),
    /// The device went away.
    #[error("the scanner was disconnected: {0}")]
    Disconnected(String),
    /// The device answered with something we could not understand.
    #[error("the scanner sent an unexpected reply: {0}")]
    Protocol(String),
}

/// A flag shared between the station and a running capture.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh, unset token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the capture to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the capture was asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps for `total`, waking early (with `Err(Cancelled)`) on cancel.
    pub fn sleep(&self, total: Duration) -> Result<(), ScanError> {
        let step = Duration::from_millis(5);
        let mut left = total;
        while !left.is_zero() {
            if self.is_cancelled() {
                return Err(ScanError::Cancelled);
            }
            let now = left.min(step);
            std::thread::sleep(now);
            left -= now;
        }
        if self.is_cancelled() {
            return Err(ScanError::Cancelled);
        }
        Ok(())
    }
}

/// A fingerprint scanner driver.
pub trait Scanner: Send {
    /// Static facts about the device.
    fn info(&self) -> &DeviceInfo;

    /// Captures one finger, reporting progress through `on_event`.
    ///
    /// Returns the image (which is also reported as
    /// [`ScanEvent::Captured`]) or why there is none. Must return
    /// [`ScanError::Cancelled`] promptly once `cancel` is set.
    fn capture(
        &mut self,
        request: &CaptureRequest,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(ScanEvent),
    ) -> Result<FingerImage, ScanError>;
}
