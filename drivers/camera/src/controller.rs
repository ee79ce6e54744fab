//! The capture thread and its owner.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TrySendError, sync_channel};
use std::thread::JoinHandle;

use crate::{CameraError, RgbImage, Source};

/// Owns a capture thread; dropping it stops the camera.
pub struct CameraController {
    frames: Receiver<Result<RgbImage, CameraError>>,
    description: Arc<std::sync::Mutex<String>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CameraController {
    /// Starts capturing from `source` on a named thread.
    pub fn start(source: Source) -> Self {
        let (tx, frames) = sync_channel(2);
        let stop = Arc::new(AtomicBool::new(false));
        let description = Arc::new(std::sync::Mutex::new(format!("{source:?}")));
        let thread = {
            let stop = stop.clone();
            let description = description.clone();
            std::thread::Builder::new()
                .name("camera".into())
                .spawn(move || {
                    let mut camera = match crate::open(&source) {
                        Ok(camera) => camera,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    if let Ok(mut d) = description.lock() {
                        *d = camera.describe();
                    }
                    while !stop.load(Ordering::SeqCst) {
                        let frame = camera.next_frame();
                        let failed = frame.is_err();
                        match tx.try_send(frame) {
                            // A full channel means the UI is behind: drop
                            // this frame rather than queue stale ones.
                            Ok(()) | Err(TrySendError::Full(_)) => {}
                            Err(TrySendError::Disconnected(_)) => break,
                        }
                        if failed {
                            break;
                        }
                    }
                })
                .ok()
        };
        Self {
            frames,
            description,
            stop,
            thread,
        }
    }

    /// The newest frame produced since the last call, if any; an error
    /// when the camera failed.
    pub fn latest(&self) -> Option<Result<RgbImage, CameraError>> {
        let mut newest = None;
        while let Ok(frame) = self.frames.try_recv() {
            let failed = frame.is_err();
            newest = Some(frame);
            if failed {
                break;
            }
        }
        newest
    }

    /// Blocks until the next frame (for headless tools such as self-test).
    pub fn wait_frame(&self) -> Result<RgbImage, CameraError> {
        self.frames
            .recv()
            .unwrap_or_else(|_| Err(CameraError::Lost("capture thread ended".into())))
    }

    /// What is being captured from.
    pub fn description(&self) -> String {
        self.description
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }
}

impl Drop for CameraController {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Unblock a sender waiting on a full channel.
        while self.frames.try_recv().is_ok() {}
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_controller_delivers_and_stops() {
        let camera = CameraController::start(Source::Synthetic);
        let frame = camera.wait_frame().expect("a frame");
        assert_eq!(frame.dimensions(), (640, 480));
        assert!(camera.description().contains("synthetic"));
        drop(camera); // must not hang
    }

    #[cfg(feature = "nokhwa")]
    #[test]
    fn missing_device_is_reported_not_panicked() {
        let camera = CameraController::start(Source::Device(97));
        let result = camera.wait_frame();
        assert!(
            matches!(result, Err(CameraError::Open { index: 97, .. })),
            "{result:?}"
        );
    }
}
