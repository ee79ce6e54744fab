//! The fingerprint scanner contract for Pishkhan.
//!
//! A scanner is anything that can turn a request for one finger into a
//! greyscale image: a serial optical module, a vendor's slap scanner behind a
//! device service, or the [`VirtualScanner`] that ships with the product so
//! the station runs and is tested without hardware.
//!
//! Drivers report progress through [`ScanEvent`]s and stop promptly when the
//! [`CancelToken`] of the capture is set.
//!
//! Two ways to write a driver:
//! - a device that is polled for a finger (serial optical modules) implements
//!   the small [`FingerSensor`] trait and is wrapped in [`Polling`], which
//!   runs the one finger-on / capture / finger-off state machine of the
//!   station;
//! - a device that runs its own capture loop (a vendor service answering one
//!   request with finished images) implements [`Scanner`] directly.

mod finger;
mod polling;
mod synthetic;
mod virtual_scanner;

pub use finger::Finger;
pub use polling::{FingerSensor, Polling};
pub use synthetic::{
    Condition, PatternClass, SlapOptions, SyntheticFinger, ridge_pattern, slap,
    slap_resolution_ppi, slap_with,
};
pub use virtual_scanner::VirtualSensor;

/// The in-process virtual scanner: a [`VirtualSensor`] behind the polling
/// state machine.
pub type VirtualScanner = Polling<VirtualSensor>;

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

/// What the applicant is asked to place on the glass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Impression {
    /// One flat finger.
    Finger(Finger),
    /// The four fingers of the right hand (slap, FGP 13).
    RightSlap,
    /// The four fingers of the left hand (slap, FGP 14).
    LeftSlap,
    /// Both thumbs together (FGP 15).
    Thumbs,
}

impl Impression {
    /// The fingers this impression is expected to show, in position order.
    pub fn fingers(self) -> Vec<Finger> {
        use Finger::*;
        match self {
            Impression::Finger(f) => vec![f],
            Impression::RightSlap => vec![RightIndex, RightMiddle, RightRing, RightLittle],
            Impression::LeftSlap => vec![LeftIndex, LeftMiddle, LeftRing, LeftLittle],
            Impression::Thumbs => vec![RightThumb, LeftThumb],
        }
    }
}

/// A request to capture one impression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureRequest {
    /// What the operator asked the applicant to place.
    pub impression: Impression,
    /// Fingers of the impression that are missing or cannot be placed.
    pub exceptions: Vec<Finger>,
    /// The quality (0–100) the device should aim for, where it can.
    pub target_quality: u8,
    /// How long to wait for the finger(s) before giving up.
    pub timeout: Duration,
}

impl CaptureRequest {
    /// One flat finger, no exceptions, default target quality 40.
    pub fn finger(finger: Finger, timeout: Duration) -> Self {
        Self {
            impression: Impression::Finger(finger),
            exceptions: Vec::new(),
            target_quality: 40,
            timeout,
        }
    }

    /// The fingers expected in the image: the impression's, less exceptions.
    pub fn expected(&self) -> Vec<Finger> {
        self.impression
            .fingers()
            .into_iter()
            .filter(|f| !self.exceptions.contains(f))
            .collect()
    }
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

/// The whole image of a multi-finger impression (a slap or both thumbs),
/// when the device gives it: the station segments it itself to count the
/// fingers and check the hand.
#[derive(Clone, PartialEq, Eq)]
pub struct SlapImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Resolution in pixels per inch.
    pub resolution_ppi: u16,
    /// `width * height` grey levels, 255 = white background.
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for SlapImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SlapImage({}x{} at {} ppi)",
            self.width, self.height, self.resolution_ppi
        )
    }
}

/// The images of one impression: one per finger (segmented by the device
/// for slaps), in position order, and for a slap the whole image when the
/// device gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub impression: Impression,
    pub fingers: Vec<FingerImage>,
    /// The unsegmented slap, if the device sends one.
    pub slap: Option<SlapImage>,
}

impl Capture {
    /// The image of `finger`, if the capture has one.
    pub fn image(&self, finger: Finger) -> Option<&FingerImage> {
        self.fingers.iter().find(|i| i.finger == finger)
    }
}

/// A live preview frame while the finger is on the glass (8-bit grey).
#[derive(Clone, PartialEq, Eq)]
pub struct Preview {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Preview({}x{})", self.width, self.height)
    }
}

/// Progress of one capture, in the order a device reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEvent {
    /// The device is ready and waiting for the finger.
    WaitingForFinger,
    /// A finger is on the sensor.
    FingerOn,
    /// A preview of what the sensor sees now.
    Preview(Preview),
    /// The image(s) were taken.
    Captured(Capture),
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
    /// The device stopped answering (it is still there, but silent).
    #[error("the scanner did not answer within {0:?}")]
    NoAnswer(Duration),
    /// The device went away.
    #[error("the scanner was disconnected: {0}")]
    Disconnected(String),
    /// The device answered with something we could not understand.
    #[error("the scanner sent an unexpected reply: {0}")]
    Protocol(String),
    /// The device is busy with another capture or client.
    #[error("the scanner is busy")]
    Busy,
    /// The device reported an error of its own (code and its text).
    #[error("the scanner reported error {code}: {message}")]
    Device { code: String, message: String },
    /// The device's reply could not be authenticated.
    #[error("the scanner's reply is not trusted: {0}")]
    Untrusted(String),
    /// The device cannot take this kind of impression.
    #[error("the scanner cannot take this impression")]
    Unsupported,
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

    /// Captures one impression, reporting progress through `on_event`.
    ///
    /// Returns the images (which are also reported as
    /// [`ScanEvent::Captured`]) or why there are none. Must return
    /// [`ScanError::Cancelled`] promptly once `cancel` is set.
    fn capture(
        &mut self,
        request: &CaptureRequest,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(ScanEvent),
    ) -> Result<Capture, ScanError>;
}
