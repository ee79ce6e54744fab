//! The station's devices at run time: which camera and scanner are used,
//! and the scanner worker thread that stamps every capture.
//!
//! Every capture carries a [`CaptureStamp`]. When the operator leaves a step
//! mid-capture the capture is cancelled and its stamp forgotten, so whatever
//! the device still reports for it afterwards is recognised as stale and
//! dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pishkhan_scanner::{
    CancelToken, CaptureRequest, DeviceInfo, ScanError, ScanEvent, Scanner, VirtualScanner,
};

use crate::config::{CameraChoice, Config, ScannerChoice};

/// Identifies one capture request; unique for the life of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaptureStamp(u64);

impl CaptureStamp {
    fn next() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        Self(COUNTER.fetch_add(1, Ordering::Relaxed))
    }
}

/// What the scanner worker reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    Scan(ScanEvent),
    Failed(ScanError),
}

enum Command {
    Capture(CaptureStamp, CaptureRequest, CancelToken),
}

/// Owns the scanner on its own thread; one capture at a time.
pub struct ScannerWorker {
    info: DeviceInfo,
    commands: Mutex<Option<Sender<Command>>>,
    events: Mutex<Receiver<(CaptureStamp, DeviceEvent)>>,
    running: Mutex<Option<CancelToken>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl ScannerWorker {
    /// Starts the worker thread for `scanner`.
    pub fn start(mut scanner: Box<dyn Scanner>) -> Arc<Self> {
        let info = scanner.info().clone();
        let (commands, inbox) = channel::<Command>();
        let (outbox, events) = channel();
        let thread = std::thread::Builder::new()
            .name("scanner".into())
            .spawn(move || {
                while let Ok(Command::Capture(stamp, request, cancel)) = inbox.recv() {
                    let send = |event| {
                        let _ = outbox.send((stamp, event));
                    };
                    let result = scanner.capture(&request, &cancel, &mut |e| {
                        send(DeviceEvent::Scan(e));
                    });
                    if let Err(e) = result {
                        send(DeviceEvent::Failed(e));
                    }
                }
            })
            .ok();
        Arc::new(Self {
            info,
            commands: Mutex::new(Some(commands)),
            events: Mutex::new(events),
            running: Mutex::new(None),
            thread: Mutex::new(thread),
        })
    }

    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// Cancels any running capture and starts `request`.
    pub fn capture(&self, request: CaptureRequest) -> CaptureStamp {
        self.cancel();
        let stamp = CaptureStamp::next();
        let cancel = CancelToken::new();
        if let Ok(mut running) = self.running.lock() {
            *running = Some(cancel.clone());
        }
        if let Ok(commands) = self.commands.lock()
            && let Some(commands) = commands.as_ref()
        {
            let _ = commands.send(Command::Capture(stamp, request, cancel));
        }
        stamp
    }

    /// Cancels the running capture, if any.
    pub fn cancel(&self) {
        if let Ok(mut running) = self.running.lock()
            && let Some(cancel) = running.take()
        {
            cancel.cancel();
        }
    }

    /// Every event reported since the last call.
    pub fn drain(&self) -> Vec<(CaptureStamp, DeviceEvent)> {
        self.events
            .lock()
            .map(|events| events.try_iter().collect())
            .unwrap_or_default()
    }

    /// Waits up to `timeout` for the next event (for headless tools).
    pub fn wait(&self, timeout: Duration) -> Option<(CaptureStamp, DeviceEvent)> {
        let events = self.events.lock().ok()?;
        events.recv_timeout(timeout).ok()
    }
}

impl Drop for ScannerWorker {
    fn drop(&mut self) {
        self.cancel();
        if let Ok(mut commands) = self.commands.lock() {
            commands.take();
        }
        if let Ok(mut thread) = self.thread.lock()
            && let Some(thread) = thread.take()
        {
            let _ = thread.join();
        }
    }
}

/// The devices chosen for this station run.
#[derive(Clone)]
pub struct Devices {
    pub camera: pishkhan_camera::Source,
    pub scanner: Arc<ScannerWorker>,
}

impl Devices {
    /// Chooses devices from the configuration: attached hardware when asked
    /// for or found, virtual devices otherwise.
    pub fn from_config(config: &Config) -> Self {
        let camera = match config.devices.camera {
            CameraChoice::Auto => pishkhan_camera::detect(),
            CameraChoice::Synthetic => pishkhan_camera::Source::Synthetic,
            CameraChoice::Index(i) => pishkhan_camera::Source::Device(i),
        };
        let scanner: Box<dyn Scanner> = match config.devices.scanner {
            ScannerChoice::Virtual => Box::new(VirtualScanner::virtual_scanner(
                Duration::from_millis(config.devices.virtual_scanner_delay_ms),
            )),
        };
        Self {
            camera,
            scanner: ScannerWorker::start(scanner),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pishkhan_scanner::Finger;

    #[test]
    fn worker_stamps_events_and_cancels_the_previous_capture() {
        let worker = ScannerWorker::start(Box::new(VirtualScanner::virtual_scanner(
            Duration::from_millis(200),
        )));
        let first = worker.capture(CaptureRequest::finger(
            Finger::RightThumb,
            Duration::from_secs(5),
        ));
        let second = worker.capture(CaptureRequest::finger(
            Finger::RightIndex,
            Duration::from_secs(5),
        ));
        assert_ne!(first, second);
        let mut seen = Vec::new();
        while let Some((stamp, event)) = worker.wait(Duration::from_secs(5)) {
            let done = matches!(event, DeviceEvent::Scan(ScanEvent::FingerOff));
            seen.push((stamp, event));
            if stamp == second && done {
                break;
            }
        }
        assert!(seen.contains(&(first, DeviceEvent::Failed(ScanError::Cancelled))));
        let captured: Vec<_> = seen
            .iter()
            .filter_map(|(s, e)| match e {
                DeviceEvent::Scan(ScanEvent::Captured(c)) => Some((*s, c.fingers[0].finger)),
                _ => None,
            })
            .collect();
        assert_eq!(captured, vec![(second, Finger::RightIndex)]);
    }
}
