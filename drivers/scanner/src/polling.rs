//! The station's one finger-on / capture / finger-off state machine, for
//! devices that are polled for a finger.

use std::time::{Duration, Instant};

use crate::{
    CancelToken, Capture, CaptureRequest, DeviceInfo, Finger, FingerImage, Impression, ScanError,
    ScanEvent, Scanner,
};

/// A sensor that is asked, again and again, whether a finger is on it.
pub trait FingerSensor: Send {
    /// Static facts about the device.
    fn info(&self) -> &DeviceInfo;

    /// Tries to take an image: `Ok(true)` when a finger was on the glass and
    /// an image is now in the device's buffer, `Ok(false)` when there was
    /// no finger.
    fn take_image(&mut self) -> Result<bool, ScanError>;

    /// Transfers the image taken by the last successful [`take_image`].
    ///
    /// [`take_image`]: FingerSensor::take_image
    fn upload_image(&mut self, finger: Finger) -> Result<FingerImage, ScanError>;
}

/// Runs the capture state machine over a [`FingerSensor`].
#[derive(Debug)]
pub struct Polling<S> {
    sensor: S,
    interval: Duration,
    lift_timeout: Duration,
}

impl<S> Polling<S> {
    /// Polls `sensor` every `interval`.
    pub fn new(sensor: S, interval: Duration) -> Self {
        Self {
            sensor,
            interval,
            lift_timeout: Duration::from_secs(10),
        }
    }

    /// The wrapped sensor.
    pub fn sensor(&self) -> &S {
        &self.sensor
    }

    /// The wrapped sensor, mutably.
    pub fn sensor_mut(&mut self) -> &mut S {
        &mut self.sensor
    }
}

impl<S: FingerSensor> Polling<S> {
    /// Polls until the sensor reports `present` (or time runs out).
    fn wait_for(
        &mut self,
        present: bool,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<bool, ScanError> {
        let deadline = Instant::now() + timeout;
        loop {
            if cancel.is_cancelled() {
                return Err(ScanError::Cancelled);
            }
            if self.sensor.take_image()? == present {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            cancel.sleep(self.interval)?;
        }
    }
}

impl<S: FingerSensor> Scanner for Polling<S> {
    fn info(&self) -> &DeviceInfo {
        self.sensor.info()
    }

    fn capture(
        &mut self,
        request: &CaptureRequest,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(ScanEvent),
    ) -> Result<Capture, ScanError> {
        let Impression::Finger(finger) = request.impression else {
            return Err(ScanError::Unsupported);
        };
        on_event(ScanEvent::WaitingForFinger);
        if !self.wait_for(true, request.timeout, cancel)? {
            return Err(ScanError::Timeout(request.timeout));
        }
        on_event(ScanEvent::FingerOn);
        let image = self.sensor.upload_image(finger)?;
        let capture = Capture {
            impression: request.impression,
            fingers: vec![image],
            slap: None,
        };
        on_event(ScanEvent::Captured(capture.clone()));
        // The capture is done either way; a finger left on the glass only
        // delays the next one, so not lifting it is not an error.
        if self.wait_for(false, self.lift_timeout, cancel)? {
            on_event(ScanEvent::FingerOff);
        }
        Ok(capture)
    }
}
