//! The virtual scanner shipped with the station.

use std::time::Duration;

use crate::{
    CancelToken, Capabilities, CaptureRequest, DeviceInfo, FingerImage, ScanError, ScanEvent,
    Scanner, Transport, ridge_pattern,
};

/// A single-finger scanner simulated in software.
///
/// It waits `placement` (the time an applicant takes to put a finger on the
/// glass), then returns a synthetic 500 ppi image of the requested finger.
#[derive(Debug)]
pub struct VirtualScanner {
    info: DeviceInfo,
    placement: Duration,
    captures: u64,
}

impl VirtualScanner {
    /// Image size of the virtual sensor (a 500 ppi single-finger window).
    pub const WIDTH: u32 = 256;
    /// See [`Self::WIDTH`].
    pub const HEIGHT: u32 = 288;

    /// A virtual scanner whose finger takes `placement` to arrive.
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
            captures: 0,
        }
    }
}

impl Scanner for VirtualScanner {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn capture(
        &mut self,
        request: &CaptureRequest,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(ScanEvent),
    ) -> Result<FingerImage, ScanError> {
        on_event(ScanEvent::WaitingForFinger);
        if self.placement > request.timeout {
            cancel.sleep(request.timeout)?;
            return Err(ScanError::Timeout(request.timeout));
        }
        cancel.sleep(self.placement)?;
        on_event(ScanEvent::FingerOn);
        self.captures += 1;
        let image = FingerImage {
            finger: request.finger,
            width: Self::WIDTH,
            height: Self::HEIGHT,
            resolution_ppi: 500,
            pixels: ridge_pattern(request.finger, self.captures, Self::WIDTH, Self::HEIGHT),
            device_quality: Some(80),
        };
        on_event(ScanEvent::Captured(image.clone()));
        on_event(ScanEvent::FingerOff);
        Ok(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Finger;

    fn request(finger: Finger) -> CaptureRequest {
        CaptureRequest {
            finger,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn capture_reports_events_in_order() {
        let mut scanner = VirtualScanner::new(Duration::from_millis(1));
        let mut events = Vec::new();
        let image = scanner
            .capture(&request(Finger::LeftRing), &CancelToken::new(), &mut |e| {
                events.push(e);
            })
            .expect("virtual capture succeeds");
        assert_eq!(image.finger, Finger::LeftRing);
        assert_eq!(image.pixels.len(), (image.width * image.height) as usize);
        assert_eq!(events.len(), 4);
        assert_eq!(events[0], ScanEvent::WaitingForFinger);
        assert_eq!(events[1], ScanEvent::FingerOn);
        assert_eq!(events[2], ScanEvent::Captured(image));
        assert_eq!(events[3], ScanEvent::FingerOff);
    }

    #[test]
    fn cancel_stops_a_waiting_capture() {
        let mut scanner = VirtualScanner::new(Duration::from_secs(30));
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
        let mut scanner = VirtualScanner::new(Duration::from_secs(30));
        let req = CaptureRequest {
            finger: Finger::RightThumb,
            timeout: Duration::from_millis(10),
        };
        let result = scanner.capture(&req, &CancelToken::new(), &mut |_| {});
        assert_eq!(result, Err(ScanError::Timeout(Duration::from_millis(10))));
    }
}
