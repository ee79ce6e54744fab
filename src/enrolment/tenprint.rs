//! Ten flat fingers, one after another, through the scanner worker.
//!
//! The same state machine serves the GUI's fingerprint step and the
//! headless self-test. Events whose stamp is not the capture in progress are
//! stale (from a capture the operator walked away from) and are dropped.

use std::time::Duration;

use pishkhan_scanner::{Finger, ScanError, ScanEvent};

use super::Session;
use crate::devices::{CaptureStamp, DeviceEvent, ScannerWorker};

/// What the operator should be told about the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Idle,
    WaitingFor(Finger),
    FingerOn(Finger),
    Failed(Finger, ScanError),
    Complete,
}

/// What became of one device event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// From a capture that is no longer current: ignored.
    Stale,
    Progress,
    Captured(Finger),
    Failed,
}

/// The ten-flat capture plan and its progress.
#[derive(Debug, Clone)]
pub struct TenPrint {
    current: Option<(CaptureStamp, Finger)>,
    timeout: Duration,
    pub status: Status,
    /// How many stale events were dropped (shown in diagnostics).
    pub stale_dropped: u32,
}

impl TenPrint {
    pub fn new(timeout: Duration) -> Self {
        Self {
            current: None,
            timeout,
            status: Status::Idle,
            stale_dropped: 0,
        }
    }

    pub fn is_running(&self) -> bool {
        self.current.is_some()
    }

    /// The stamp of the capture in progress.
    pub fn current_stamp(&self) -> Option<CaptureStamp> {
        self.current.map(|(s, _)| s)
    }

    /// The finger being captured now.
    pub fn current_finger(&self) -> Option<Finger> {
        self.current.map(|(_, f)| f)
    }

    /// Starts (or resumes) with the first finger that has no image.
    pub fn start(&mut self, session: &Session, worker: &ScannerWorker) -> Option<Finger> {
        match session.missing_fingers().first() {
            Some(&finger) => {
                self.capture(finger, worker);
                Some(finger)
            }
            None => {
                self.status = Status::Complete;
                None
            }
        }
    }

    /// Captures `finger` again, replacing its image once taken.
    pub fn capture(&mut self, finger: Finger, worker: &ScannerWorker) {
        let stamp = worker.capture(finger, self.timeout);
        self.current = Some((stamp, finger));
        self.status = Status::WaitingFor(finger);
    }

    /// Stops the capture in progress; anything it still reports is stale.
    pub fn stop(&mut self, worker: &ScannerWorker) {
        if self.current.take().is_some() {
            worker.cancel();
            self.status = Status::Idle;
        }
    }

    /// Applies one device event to the session.
    pub fn handle(
        &mut self,
        session: &mut Session,
        worker: &ScannerWorker,
        stamp: CaptureStamp,
        event: DeviceEvent,
    ) -> Handled {
        let Some((current, finger)) = self.current.filter(|(s, _)| *s == stamp) else {
            self.stale_dropped += 1;
            tracing::debug!(?stamp, "dropped a stale scanner event");
            return Handled::Stale;
        };
        debug_assert_eq!(current, stamp);
        match event {
            DeviceEvent::Scan(ScanEvent::WaitingForFinger) => {
                self.status = Status::WaitingFor(finger);
                Handled::Progress
            }
            DeviceEvent::Scan(ScanEvent::FingerOn) => {
                self.status = Status::FingerOn(finger);
                Handled::Progress
            }
            DeviceEvent::Scan(ScanEvent::Captured(capture)) if capture.image(finger).is_some() => {
                let Some(image) = capture.fingers.into_iter().find(|i| i.finger == finger) else {
                    return Handled::Failed;
                };
                session.fingers.insert(finger, image);
                session.scanner = Some(worker.info().name.clone());
                self.current = None;
                if self.start(session, worker).is_none() {
                    self.status = Status::Complete;
                }
                Handled::Captured(finger)
            }
            DeviceEvent::Scan(ScanEvent::Captured(capture)) => {
                let got: Vec<String> = capture
                    .fingers
                    .iter()
                    .map(|i| i.finger.position().to_string())
                    .collect();
                let error = ScanError::Protocol(format!(
                    "asked for finger {} but got finger(s) {}",
                    finger.position(),
                    got.join(", ")
                ));
                self.current = None;
                self.status = Status::Failed(finger, error);
                Handled::Failed
            }
            DeviceEvent::Scan(ScanEvent::FingerOff | ScanEvent::Preview(_)) => Handled::Progress,
            DeviceEvent::Failed(error) => {
                self.current = None;
                self.status = Status::Failed(finger, error);
                Handled::Failed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pishkhan_scanner::VirtualScanner;

    fn pump(tp: &mut TenPrint, session: &mut Session, worker: &ScannerWorker) {
        while tp.is_running() {
            let (stamp, event) = worker
                .wait(Duration::from_secs(5))
                .expect("the virtual scanner answers");
            tp.handle(session, worker, stamp, event);
        }
    }

    #[test]
    fn captures_all_ten_in_order() {
        let worker =
            ScannerWorker::start(Box::new(VirtualScanner::virtual_scanner(Duration::ZERO)));
        let mut session = Session::new("op", true);
        let mut tp = TenPrint::new(Duration::from_secs(5));
        assert_eq!(tp.start(&session, &worker), Some(Finger::RightThumb));
        pump(&mut tp, &mut session, &worker);
        assert_eq!(tp.status, Status::Complete);
        assert!(session.missing_fingers().is_empty());
        for (finger, image) in &session.fingers {
            assert_eq!(image.finger, *finger);
        }
    }

    #[test]
    fn events_of_a_stopped_capture_are_dropped() {
        let worker = ScannerWorker::start(Box::new(VirtualScanner::virtual_scanner(
            Duration::from_millis(50),
        )));
        let mut session = Session::new("op", true);
        let mut tp = TenPrint::new(Duration::from_secs(5));
        tp.start(&session, &worker);
        let (old, _) = tp.current.expect("running");
        tp.stop(&worker);
        let late = DeviceEvent::Scan(ScanEvent::Captured(pishkhan_scanner::Capture {
            impression: pishkhan_scanner::Impression::Finger(Finger::RightThumb),
            fingers: vec![pishkhan_scanner::FingerImage {
                finger: Finger::RightThumb,
                width: 1,
                height: 1,
                resolution_ppi: 500,
                pixels: vec![0],
                device_quality: None,
            }],
        }));
        assert_eq!(tp.handle(&mut session, &worker, old, late), Handled::Stale);
        assert!(session.fingers.is_empty());
        assert_eq!(tp.stale_dropped, 1);
    }
}
