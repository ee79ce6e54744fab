//! The in-process virtual sensor shipped with the station.

use std::time::{Duration, Instant};

use crate::{
    Capabilities, DeviceInfo, Finger, FingerImage, FingerSensor, Polling, ScanError,
    SyntheticFinger, Transport,
};

/// A single-finger sensor simulated in software: after each upload the
/// "applicant" lifts the finger and takes `placement` to place the next.
///
/// The applicant is one synthetic person ([`SyntheticFinger`]), so repeated
/// captures of a finger show the same ridges, each placed and inked a little
/// differently (capture seeds 1, 2, 3, … in upload order).
#[derive(Debug)]
pub struct VirtualSensor {
    info: DeviceInfo,
    placement: Duration,
    /// When the next finger will be on the glass; `None` while it is empty.
    finger_at: Option<Instant>,
    captures: u64,
    identity: u64,
}

impl VirtualSensor {
    /// Image size of the virtual sensor (a 500 ppi single-finger window).
    pub const WIDTH: u32 = 256;
    /// See [`Self::WIDTH`].
    pub const HEIGHT: u32 = 288;

    pub fn new(placement: Duration) -> Self {
        Self {
            info: DeviceInfo {
                id: "virtual-flat-1".into(),
                name: "Pishkhan virtual single-finger scanner".into(),
                transport: Transport::Virtual,
                capabilities: Capabilities {
                    single_flat: true,
                    ..Capabilities::default()
                },
                resolution_ppi: 500,
                image_width: Self::WIDTH,
                image_height: Self::HEIGHT,
            },
            placement,
            finger_at: None,
            captures: 0,
            identity: SyntheticFinger::DEFAULT_IDENTITY,
        }
    }

    /// The same sensor with the synthetic applicant `identity_seed`.
    #[must_use]
    pub fn with_identity(mut self, identity_seed: u64) -> Self {
        self.identity = identity_seed;
        self
    }

    /// The synthetic applicant's identity seed.
    pub fn identity(&self) -> u64 {
        self.identity
    }
}

impl Polling<VirtualSensor> {
    /// The virtual scanner whose applicant takes `placement` per finger.
    pub fn virtual_scanner(placement: Duration) -> Self {
        Polling::new(VirtualSensor::new(placement), Duration::from_millis(5))
    }
}

impl FingerSensor for VirtualSensor {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn take_image(&mut self) -> Result<bool, ScanError> {
        match self.finger_at {
            // The glass is empty; the applicant starts placing the finger.
            None => {
                self.finger_at = Some(Instant::now() + self.placement);
                Ok(false)
            }
            Some(at) => Ok(Instant::now() >= at),
        }
    }

    fn upload_image(&mut self, finger: Finger) -> Result<FingerImage, ScanError> {
        self.captures += 1;
        // The finger is lifted right away; the next one takes `placement`.
        self.finger_at = None;
        Ok(FingerImage {
            finger,
            width: Self::WIDTH,
            height: Self::HEIGHT,
            resolution_ppi: 500,
            pixels: SyntheticFinger::new(self.identity, finger).capture(
                self.captures,
                Self::WIDTH,
                Self::HEIGHT,
            ),
            device_quality: Some(80),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CancelToken, CaptureRequest, ScanEvent, Scanner, VirtualScanner};

    fn request(finger: Finger) -> CaptureRequest {
        CaptureRequest::finger(finger, Duration::from_secs(5))
    }

    #[test]
    fn capture_reports_events_in_order() {
        let mut scanner = VirtualScanner::virtual_scanner(Duration::from_millis(1));
        let mut events = Vec::new();
        let capture = scanner
            .capture(&request(Finger::LeftRing), &CancelToken::new(), &mut |e| {
                events.push(e);
            })
            .expect("virtual capture succeeds");
        let image = capture.image(Finger::LeftRing).expect("the ring finger");
        assert_eq!(image.pixels.len(), (image.width * image.height) as usize);
        assert_eq!(events.len(), 4, "{events:?}");
        assert_eq!(events[0], ScanEvent::WaitingForFinger);
        assert_eq!(events[1], ScanEvent::FingerOn);
        assert_eq!(events[2], ScanEvent::Captured(capture));
        assert_eq!(events[3], ScanEvent::FingerOff);
    }

    #[test]
    fn cancel_stops_a_waiting_capture() {
        let mut scanner = VirtualScanner::virtual_scanner(Duration::from_secs(30));
        let cancel = CancelToken::new();
        let remote = cancel.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            remote.cancel();
        });
        let result = scanner.capture(&request(Finger::RightThumb), &cancel, &mut |_| {});
        t.join().expect("canceller thread");
        assert_eq!(result, Err(ScanError::Cancelled));
    }

    #[test]
    fn timeout_when_finger_never_arrives() {
        let mut scanner = VirtualScanner::virtual_scanner(Duration::from_secs(30));
        let req = CaptureRequest::finger(Finger::RightThumb, Duration::from_millis(10));
        let result = scanner.capture(&req, &CancelToken::new(), &mut |_| {});
        assert_eq!(result, Err(ScanError::Timeout(Duration::from_millis(10))));
    }

    #[test]
    fn slaps_are_refused_by_a_single_finger_sensor() {
        let mut scanner = VirtualScanner::virtual_scanner(Duration::ZERO);
        let req = CaptureRequest {
            impression: crate::Impression::LeftSlap,
            ..request(Finger::LeftIndex)
        };
        let result = scanner.capture(&req, &CancelToken::new(), &mut |_| {});
        assert_eq!(result, Err(ScanError::Unsupported));
    }
}
