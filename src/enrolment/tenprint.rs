//! Ten fingers through the scanner worker: single flats one after another
//! on a single-finger sensor, or the 4-4-2 slaps (right four, left four,
//! two thumbs) on a slap scanner.
//!
//! The same state machine serves the GUI's fingerprint step and the
//! headless self-test. Events whose stamp is not the capture in progress are
//! stale (from a capture the operator walked away from) and are dropped.

use std::time::Duration;

use pishkhan_scanner::{CaptureRequest, Finger, Impression, Preview, ScanError, ScanEvent};

use super::Session;
use crate::devices::{CaptureStamp, DeviceEvent, ScannerWorker};

/// What the operator should be told about the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Idle,
    WaitingFor(Impression),
    FingerOn(Impression),
    Failed(Impression, ScanError),
    Complete,
}

/// What became of one device event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// From a capture that is no longer current: ignored.
    Stale,
    Progress,
    Preview(Preview),
    /// These fingers now have images.
    Captured(Vec<Finger>),
    Failed,
}

/// The impression that holds `finger` on a device that takes slaps.
pub fn slap_of(finger: Finger) -> Impression {
    [
        Impression::RightSlap,
        Impression::LeftSlap,
        Impression::Thumbs,
    ]
    .into_iter()
    .find(|i| i.fingers().contains(&finger))
    .unwrap_or(Impression::Finger(finger))
}

/// The capture plan and its progress.
#[derive(Debug, Clone)]
pub struct TenPrint {
    current: Option<(CaptureStamp, Impression)>,
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

    /// What is being captured now.
    pub fn current_impression(&self) -> Option<Impression> {
        self.current.map(|(_, i)| i)
    }

    /// Whether `finger` is part of the capture in progress.
    pub fn is_capturing(&self, finger: Finger) -> bool {
        self.current_impression()
            .is_some_and(|i| i.fingers().contains(&finger))
    }

    /// The impression to ask for next: the one holding the first finger
    /// without an image, as a slap when the scanner takes slaps.
    pub fn next_impression(session: &Session, worker: &ScannerWorker) -> Option<Impression> {
        let slaps = worker.info().capabilities.four_finger_slap;
        let missing = session.missing_fingers();
        if slaps {
            [
                Impression::RightSlap,
                Impression::LeftSlap,
                Impression::Thumbs,
            ]
            .into_iter()
            .find(|i| i.fingers().iter().any(|f| missing.contains(f)))
        } else {
            missing.first().map(|&f| Impression::Finger(f))
        }
    }

    /// Starts (or resumes) with the next impression that lacks an image.
    pub fn start(&mut self, session: &Session, worker: &ScannerWorker) -> Option<Impression> {
        match Self::next_impression(session, worker) {
            Some(impression) => {
                self.capture(impression, worker);
                Some(impression)
            }
            None => {
                self.status = Status::Complete;
                None
            }
        }
    }

    /// Captures `finger` again (with its whole slap on a slap scanner),
    /// replacing the image(s) once taken.
    pub fn retake(&mut self, finger: Finger, worker: &ScannerWorker) {
        let impression = if worker.info().capabilities.four_finger_slap {
            slap_of(finger)
        } else {
            Impression::Finger(finger)
        };
        self.capture(impression, worker);
    }

    fn capture(&mut self, impression: Impression, worker: &ScannerWorker) {
        let request = CaptureRequest {
            impression,
            exceptions: Vec::new(),
            target_quality: 40,
            timeout: self.timeout,
        };
        let stamp = worker.capture(request);
        self.current = Some((stamp, impression));
        self.status = Status::WaitingFor(impression);
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
        let Some((_, impression)) = self.current.filter(|(s, _)| *s == stamp) else {
            self.stale_dropped += 1;
            tracing::debug!(?stamp, "dropped a stale scanner event");
            return Handled::Stale;
        };
        match event {
            DeviceEvent::Scan(ScanEvent::WaitingForFinger) => {
                self.status = Status::WaitingFor(impression);
                Handled::Progress
            }
            DeviceEvent::Scan(ScanEvent::FingerOn) => {
                self.status = Status::FingerOn(impression);
                Handled::Progress
            }
            DeviceEvent::Scan(ScanEvent::Preview(preview)) => Handled::Preview(preview),
            DeviceEvent::Scan(ScanEvent::Captured(capture)) => {
                let expected = impression.fingers();
                let (wanted, unexpected): (Vec<_>, Vec<_>) = capture
                    .fingers
                    .into_iter()
                    .partition(|image| expected.contains(&image.finger));
                self.current = None;
                if wanted.is_empty() || !unexpected.is_empty() {
                    let got: Vec<String> = unexpected
                        .iter()
                        .map(|i| i.finger.position().to_string())
                        .collect();
                    self.status = Status::Failed(
                        impression,
                        ScanError::Protocol(format!(
                            "the scanner returned finger(s) [{}] that were not asked for",
                            got.join(", ")
                        )),
                    );
                    return Handled::Failed;
                }
                let fingers: Vec<Finger> = wanted.iter().map(|i| i.finger).collect();
                for image in wanted {
                    session.fingers.insert(image.finger, image);
                }
                session.scanner = Some(worker.info().name.clone());
                if self.start(session, worker).is_none() {
                    self.status = Status::Complete;
                }
                Handled::Captured(fingers)
            }
            DeviceEvent::Scan(ScanEvent::FingerOff) => Handled::Progress,
            DeviceEvent::Failed(error) => {
                self.current = None;
                self.status = Status::Failed(impression, error);
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
        assert_eq!(
            tp.start(&session, &worker),
            Some(Impression::Finger(Finger::RightThumb))
        );
        pump(&mut tp, &mut session, &worker);
        assert_eq!(tp.status, Status::Complete);
        assert!(session.missing_fingers().is_empty());
        for (finger, image) in &session.fingers {
            assert_eq!(image.finger, *finger);
        }
    }

    #[test]
    fn slaps_hold_their_fingers() {
        assert_eq!(slap_of(Finger::LeftRing), Impression::LeftSlap);
        assert_eq!(slap_of(Finger::RightThumb), Impression::Thumbs);
        assert_eq!(slap_of(Finger::RightLittle), Impression::RightSlap);
    }

    #[test]
    fn events_of_a_stopped_capture_are_dropped() {
        let worker = ScannerWorker::start(Box::new(VirtualScanner::virtual_scanner(
            Duration::from_millis(50),
        )));
        let mut session = Session::new("op", true);
        let mut tp = TenPrint::new(Duration::from_secs(5));
        tp.start(&session, &worker);
        let old = tp.current_stamp().expect("running");
        tp.stop(&worker);
        let late = DeviceEvent::Scan(ScanEvent::Captured(pishkhan_scanner::Capture {
            impression: Impression::Finger(Finger::RightThumb),
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
