//! The capture thread and its owner.
//!
//! The thread opens the source (nokhwa's camera is `!Send`, so it is
//! created there), reads frames at the camera's own rate and puts the
//! newest in a one-frame mailbox: a frame the UI has not taken yet is
//! replaced, never queued. When the camera fails it reports the error
//! once, then reopens the source with a growing delay until it works
//! again or the controller is dropped.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{CameraError, FrameSource, RgbImage, Source};

/// Delays before each reopening attempt of one outage; the last repeats.
const BACKOFF: [Duration; 4] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(3),
];

/// How far back [`CameraController::fps`] looks.
const RATE_WINDOW: Duration = Duration::from_secs(1);

/// What the camera is doing, for the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraStatus {
    /// Opening the camera; no frame yet.
    Starting,
    /// Frames are arriving.
    Live,
    /// The camera failed (could not be opened, or stopped delivering) and
    /// the controller is trying again by itself.
    Lost {
        /// The latest failure.
        error: CameraError,
        /// How many attempts have failed since the last frame.
        attempt: u32,
        /// Time until the next attempt; zero while one is under way.
        retrying_in: Duration,
    },
    /// The camera cannot work at all ([`CameraError::Unsupported`]); the
    /// capture thread has ended and nothing is retried.
    Failed(CameraError),
}

/// Where the capture thread is, with the next attempt as an instant.
#[derive(Debug, Clone)]
enum Phase {
    Starting,
    Live,
    Lost {
        error: CameraError,
        attempt: u32,
        retry_at: Option<Instant>,
    },
    Failed(CameraError),
}

/// What the capture thread shares with the controller.
struct State {
    /// The newest frame not yet taken.
    frame: Option<RgbImage>,
    /// The failure that started the current outage, until it is taken.
    unreported: Option<CameraError>,
    phase: Phase,
    description: String,
    delivered: u64,
    /// When the frames of the last [`RATE_WINDOW`] arrived.
    recent: VecDeque<Instant>,
    /// The capture thread has finished.
    ended: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a frame, an error or the end arrives.
    arrived: Condvar,
    /// Signalled when the controller is dropped (wakes the backoff wait).
    stopping: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent field by field; a panic elsewhere
        // while holding the lock must not take the camera down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Waits `delay` or until the controller is dropped; true if dropped.
    fn sleep(&self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        let mut state = self.lock();
        while !self.stopped() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .stopping
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

/// Marks the thread ended however it finishes, so that `wait_frame`
/// cannot block forever.
struct EndGuard(Arc<Shared>);

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.0.lock().ended = true;
        self.0.arrived.notify_all();
    }
}

/// Owns a capture thread; dropping it stops the camera.
pub struct CameraController {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl CameraController {
    /// Starts capturing from `source` on a thread named `camera`,
    /// reconnecting by itself when the camera is lost.
    pub fn start(source: Source) -> Self {
        let description = format!("{source:?}");
        Self::spawn(move || crate::open(&source), description, &BACKOFF)
    }

    /// Starts capturing from whatever `factory` opens; it is called on the
    /// capture thread, again after each failure (0.5 s, 1 s, 2 s, then
    /// every 3 s). [`CameraController::start`] is this with
    /// [`crate::open`]; tests inject sources that fail on purpose.
    pub fn start_with<F>(factory: F) -> Self
    where
        F: FnMut() -> Result<Box<dyn FrameSource>, CameraError> + Send + 'static,
    {
        Self::spawn(factory, String::new(), &BACKOFF)
    }

    fn spawn<F>(factory: F, description: String, backoff: &'static [Duration]) -> Self
    where
        F: FnMut() -> Result<Box<dyn FrameSource>, CameraError> + Send + 'static,
    {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                frame: None,
                unreported: None,
                phase: Phase::Starting,
                description,
                delivered: 0,
                recent: VecDeque::new(),
                ended: false,
            }),
            arrived: Condvar::new(),
            stopping: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("camera".into())
                .spawn(move || {
                    let guard = EndGuard(shared);
                    capture(factory, &guard.0, backoff);
                })
        };
        let thread = match thread {
            Ok(thread) => Some(thread),
            Err(e) => {
                let error = CameraError::Lost(format!("cannot start the capture thread: {e}"));
                let mut state = shared.lock();
                state.unreported = Some(error.clone());
                state.phase = Phase::Failed(error);
                state.ended = true;
                drop(state);
                None
            }
        };
        Self { shared, thread }
    }

    /// The newest frame produced since the last call, if any; an error
    /// once when the camera fails (the controller then retries by itself:
    /// keep calling, frames resume when the camera is back; see
    /// [`CameraController::status`]).
    pub fn latest(&self) -> Option<Result<RgbImage, CameraError>> {
        let mut state = self.shared.lock();
        if let Some(error) = state.unreported.take() {
            return Some(Err(error));
        }
        state.frame.take().map(Ok)
    }

    /// Blocks until the next frame or failure (for headless tools such as
    /// self-test). After the capture thread has ended (only when the
    /// camera is unsupported) it returns [`CameraError::Lost`] at once.
    pub fn wait_frame(&self) -> Result<RgbImage, CameraError> {
        let mut state = self.shared.lock();
        loop {
            if let Some(error) = state.unreported.take() {
                return Err(error);
            }
            if let Some(frame) = state.frame.take() {
                return Ok(frame);
            }
            if state.ended {
                return Err(CameraError::Lost("capture thread ended".into()));
            }
            state = self
                .shared
                .arrived
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// What is being captured from (the source's own description once it
    /// is open).
    pub fn description(&self) -> String {
        self.shared.lock().description.clone()
    }

    /// What the camera is doing now.
    pub fn status(&self) -> CameraStatus {
        match &self.shared.lock().phase {
            Phase::Starting => CameraStatus::Starting,
            Phase::Live => CameraStatus::Live,
            Phase::Lost {
                error,
                attempt,
                retry_at,
            } => CameraStatus::Lost {
                error: error.clone(),
                attempt: *attempt,
                retrying_in: retry_at
                    .map(|at| at.saturating_duration_since(Instant::now()))
                    .unwrap_or_default(),
            },
            Phase::Failed(error) => CameraStatus::Failed(error.clone()),
        }
    }

    /// The rate frames arrived at over about the last second (0 when fewer
    /// than two did): the camera's rate, whether or not the UI takes them.
    pub fn fps(&self) -> f64 {
        let state = self.shared.lock();
        let now = Instant::now();
        let mut recent = state
            .recent
            .iter()
            .filter(|t| now.saturating_duration_since(**t) <= RATE_WINDOW);
        let (Some(first), Some(last)) = (recent.next(), state.recent.back()) else {
            return 0.0;
        };
        let frames = 1 + recent.count();
        let span = last.saturating_duration_since(*first).as_secs_f64();
        if frames < 2 || span <= 0.0 {
            return 0.0;
        }
        (frames - 1) as f64 / span
    }

    /// How many frames the capture thread has delivered since the start.
    pub fn frames_delivered(&self) -> u64 {
        self.shared.lock().delivered
    }
}

impl Drop for CameraController {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Taking the lock orders the flag before a backoff wait that has
        // checked it: the notification cannot be missed.
        drop(self.shared.lock());
        self.shared.stopping.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The text of a caught panic.
fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// The capture thread: open, stream, and on failure report once and
/// reopen after a delay, until the controller is dropped.
fn capture<F>(mut factory: F, shared: &Shared, backoff: &[Duration])
where
    F: FnMut() -> Result<Box<dyn FrameSource>, CameraError>,
{
    // Failed attempts since the last frame; the outage was reported.
    let mut attempt: u32 = 0;
    let mut reported = false;
    while !shared.stopped() {
        let failure = match catch_unwind(AssertUnwindSafe(&mut factory)) {
            Err(panic) => {
                CameraError::Lost(format!("camera driver panicked: {}", panic_text(&*panic)))
            }
            Ok(Err(error)) => error,
            Ok(Ok(source)) => {
                let failure = stream(source, shared, &mut attempt, &mut reported);
                match failure {
                    Some(failure) => failure,
                    None => return, // stopped
                }
            }
        };
        if shared.stopped() {
            return;
        }
        let mut state = shared.lock();
        if !reported {
            tracing::warn!("camera: {failure}");
            state.unreported = Some(failure.clone());
            state.frame = None;
            reported = true;
        } else {
            tracing::debug!("camera still unavailable: {failure}");
        }
        if failure == CameraError::Unsupported {
            state.phase = Phase::Failed(failure);
            drop(state);
            shared.arrived.notify_all();
            return;
        }
        let delay = backoff
            .get(attempt as usize)
            .or(backoff.last())
            .copied()
            .unwrap_or(Duration::from_secs(1));
        attempt = attempt.saturating_add(1);
        state.phase = Phase::Lost {
            error: failure.clone(),
            attempt,
            retry_at: Some(Instant::now() + delay),
        };
        drop(state);
        shared.arrived.notify_all();
        if shared.sleep(delay) {
            return;
        }
        if let Phase::Lost { retry_at, .. } = &mut shared.lock().phase {
            *retry_at = None;
        }
    }
}

/// Streams from an opened `source` until it fails (its error) or the
/// controller is dropped (`None`). The source is dropped before returning,
/// so a real camera is released before it is reopened.
fn stream(
    mut source: Box<dyn FrameSource>,
    shared: &Shared,
    attempt: &mut u32,
    reported: &mut bool,
) -> Option<CameraError> {
    shared.lock().description = source.describe();
    let failure = loop {
        if shared.stopped() {
            break None;
        }
        match catch_unwind(AssertUnwindSafe(|| source.next_frame())) {
            Ok(Ok(frame)) => {
                let now = Instant::now();
                let mut state = shared.lock();
                if *reported {
                    tracing::info!("camera back: {}", state.description);
                }
                *attempt = 0;
                *reported = false;
                state.frame = Some(frame);
                state.phase = Phase::Live;
                state.delivered += 1;
                state.recent.push_back(now);
                while state
                    .recent
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) > RATE_WINDOW)
                {
                    state.recent.pop_front();
                }
                drop(state);
                shared.arrived.notify_all();
            }
            Ok(Err(error)) => break Some(error),
            Err(panic) => {
                break Some(CameraError::Lost(format!(
                    "camera driver panicked: {}",
                    panic_text(&*panic)
                )));
            }
        }
    };
    // nokhwa's own Drop unwraps the stream's stop: keep a failing one from
    // ending the thread.
    if let Err(panic) = catch_unwind(AssertUnwindSafe(move || drop(source))) {
        tracing::warn!("closing the camera panicked: {}", panic_text(&*panic));
    }
    failure
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;
    use crate::SyntheticFace;

    #[test]
    fn synthetic_controller_delivers_and_stops() {
        let camera = CameraController::start(Source::Synthetic);
        let frame = camera.wait_frame().expect("a frame");
        assert_eq!(frame.dimensions(), (1280, 720));
        assert!(camera.description().contains("synthetic"));
        assert_eq!(camera.status(), CameraStatus::Live);
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
        // Reported once; the controller keeps trying.
        assert!(
            matches!(
                camera.status(),
                CameraStatus::Lost {
                    error: CameraError::Open { index: 97, .. },
                    ..
                }
            ),
            "{:?}",
            camera.status()
        );
        assert!(camera.latest().is_none());
    }

    /// A test source: `frames` small frames, then "unplugged".
    struct Flaky {
        frames: u32,
    }

    impl FrameSource for Flaky {
        fn describe(&self) -> String {
            "flaky".into()
        }

        fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
            std::thread::sleep(Duration::from_millis(5));
            if self.frames == 0 {
                return Err(CameraError::Lost("unplugged".into()));
            }
            self.frames -= 1;
            Ok(RgbImage::new(8, 6))
        }
    }

    const QUICK: [Duration; 2] = [Duration::from_millis(20), Duration::from_millis(40)];

    #[test]
    fn a_lost_camera_is_reported_once_and_comes_back() {
        let opens = Arc::new(AtomicU32::new(0));
        let factory = {
            let opens = opens.clone();
            move || -> Result<Box<dyn FrameSource>, CameraError> {
                match opens.fetch_add(1, Ordering::SeqCst) {
                    // Three frames, then lost.
                    0 => Ok(Box::new(Flaky { frames: 3 })),
                    // Still unplugged twice.
                    1 | 2 => Err(CameraError::Open {
                        index: 0,
                        reason: "no such device".into(),
                    }),
                    // Back for good.
                    _ => Ok(Box::new(Flaky { frames: u32::MAX })),
                }
            }
        };
        let camera = CameraController::spawn(factory, String::new(), &QUICK);
        // Frames the UI did not take in time are replaced, so count at
        // least one rather than exactly three.
        let mut frames = 0;
        let lost = loop {
            match camera.wait_frame() {
                Ok(_) => frames += 1,
                Err(e) => break e,
            }
        };
        assert!((1..=3).contains(&frames), "{frames}");
        assert_eq!(
            lost,
            CameraError::Lost("unplugged".into()),
            "the loss is reported"
        );
        // The failed reopenings are not reported again: frames resume.
        for _ in 0..5 {
            assert_eq!(camera.wait_frame().map(|f| f.dimensions()), Ok((8, 6)));
        }
        assert_eq!(opens.load(Ordering::SeqCst), 4);
        assert_eq!(camera.status(), CameraStatus::Live);
        assert_eq!(camera.description(), "flaky");
        assert!(camera.frames_delivered() >= 8);
    }

    #[test]
    fn a_second_outage_is_reported_again() {
        let camera = CameraController::spawn(
            || Ok(Box::new(Flaky { frames: 2 }) as Box<dyn FrameSource>),
            String::new(),
            &QUICK,
        );
        let mut losses = 0;
        while losses < 2 {
            if let Err(e) = camera.wait_frame() {
                assert_eq!(e, CameraError::Lost("unplugged".into()));
                losses += 1;
            }
        }
    }

    #[test]
    fn lost_status_counts_down_and_drop_is_prompt_while_waiting() {
        let camera = CameraController::start_with(|| {
            Err(CameraError::Open {
                index: 3,
                reason: "busy".into(),
            })
        });
        assert!(matches!(camera.wait_frame(), Err(CameraError::Open { .. })));
        let status = camera.status();
        let CameraStatus::Lost {
            attempt,
            retrying_in,
            ..
        } = status
        else {
            panic!("{status:?}");
        };
        assert_eq!(attempt, 1);
        assert_eq!(camera.fps(), 0.0, "no frames, no rate");
        assert!(
            retrying_in <= BACKOFF[0] && retrying_in > BACKOFF[0] / 2,
            "{retrying_in:?}"
        );
        let started = Instant::now();
        drop(camera);
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn drop_while_live_takes_at_most_a_frame() {
        let camera = CameraController::start(Source::Synthetic);
        assert!(camera.wait_frame().is_ok());
        let started = Instant::now();
        drop(camera);
        let frame_time = Duration::from_secs(1) / SyntheticFace::DEMO_FPS;
        assert!(
            started.elapsed() < frame_time + Duration::from_millis(100),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn an_unsupported_camera_is_final() {
        let camera = CameraController::start_with(|| Err(CameraError::Unsupported));
        assert_eq!(camera.wait_frame(), Err(CameraError::Unsupported));
        assert_eq!(
            camera.status(),
            CameraStatus::Failed(CameraError::Unsupported)
        );
        // The thread has ended: no blocking.
        assert!(matches!(camera.wait_frame(), Err(CameraError::Lost(_))));
    }

    #[test]
    fn a_panicking_source_counts_as_lost() {
        struct Panics;
        impl FrameSource for Panics {
            fn describe(&self) -> String {
                "panics".into()
            }
            fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
                panic!("driver bug")
            }
        }
        let opens = Arc::new(AtomicU32::new(0));
        let factory = {
            let opens = opens.clone();
            move || -> Result<Box<dyn FrameSource>, CameraError> {
                if opens.fetch_add(1, Ordering::SeqCst) == 0 {
                    Ok(Box::new(Panics))
                } else {
                    Ok(Box::new(Flaky { frames: u32::MAX }))
                }
            }
        };
        let camera = CameraController::spawn(factory, String::new(), &QUICK);
        let lost = camera.wait_frame();
        assert!(
            matches!(&lost, Err(CameraError::Lost(m)) if m.contains("driver bug")),
            "{lost:?}"
        );
        assert!(camera.wait_frame().is_ok(), "recovered");
    }

    #[test]
    fn fps_measures_the_camera_rate() {
        let camera = CameraController::start(Source::Synthetic);
        assert!(camera.wait_frame().is_ok());
        std::thread::sleep(Duration::from_millis(1200));
        let fps = camera.fps();
        // Paced at 30; a loaded test machine may render slower, never
        // faster.
        assert!((10.0..=32.0).contains(&fps), "{fps}");
        assert!(camera.frames_delivered() >= 12);
    }
}
