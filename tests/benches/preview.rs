//! The live portrait preview with the analysis running, as the portrait
//! step drives it: the camera's capture thread, the analysis worker
//! (BlazeFace and every ICAO check on the newest frame), and on the UI side
//! per shown frame the guide overlay and the RGBA conversion for the
//! image widget. Counts the frames shown and the frames analysed per
//! second of wall time.
//!
//! Two runs: the demo camera as shipped (1280×720 paced at 30 fps, a 720p
//! webcam's mode), and the same source unpaced (120 fps asked), which
//! shows how much faster than a camera the preview path can go.
//!
//! Goal: preview ≥ 25 fps with the analysis running. A bench binary, not
//! criterion: the figure is a rate over a window, not a per-call time.
//! `cargo bench --bench preview`; figures in docs/performance.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pishkhan::portrait::live::{LiveAnalyser, guide};
use pishkhan::ui::widget::rgb_to_rgba;
use pishkhan_camera::{CameraController, FrameSource, Source, SyntheticFace};
use pishkhan_face::Policy;

const WINDOW: Duration = Duration::from_secs(10);

struct Rates {
    shown: f64,
    analysed: f64,
    analysis_ms: f64,
}

fn run(camera: CameraController) -> Rates {
    let mut analyser = LiveAnalyser::start(Policy::default());
    // Warm up: the first frame and the detector's first run.
    let first = Arc::new(camera.wait_frame().expect("a frame"));
    analyser.offer(&first);
    analyser.wait().expect("analysis");

    let (mut shown, mut analysed, mut analysis_time) = (0u32, 0u32, Duration::ZERO);
    let mut latest = None;
    let started = Instant::now();
    while started.elapsed() < WINDOW {
        if let Some(frame) = camera.latest() {
            let frame = Arc::new(frame.expect("the synthetic camera does not fail"));
            analyser.offer(&frame);
            let drawn = guide(&frame, latest.as_ref());
            std::hint::black_box(rgb_to_rgba(drawn.as_raw()));
            shown += 1;
        }
        if let Some(a) = analyser.poll() {
            analysed += 1;
            analysis_time += a.took;
            latest = Some(a.analysis);
        }
        // The window's timer ticks every 20 ms; poll faster so the bench
        // measures the pipeline, not the tick.
        std::thread::sleep(Duration::from_millis(2));
    }
    let secs = started.elapsed().as_secs_f64();
    Rates {
        shown: f64::from(shown) / secs,
        analysed: f64::from(analysed) / secs,
        analysis_ms: analysis_time.as_secs_f64() * 1000.0 / f64::from(analysed.max(1)),
    }
}

fn report(what: &str, r: &Rates) {
    println!(
        "{what}: preview {:.1} fps, analysed {:.1} fps ({:.1} ms per analysis)",
        r.shown, r.analysed, r.analysis_ms
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries with no `--bench` flag:
    // keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("preview: run with `cargo bench --bench preview`");
        return;
    }
    let demo = run(CameraController::start(Source::Synthetic));
    report("demo camera, 1280x720 paced at 30 fps", &demo);
    let unpaced = run(CameraController::start_with(|| {
        Ok(
            Box::new(SyntheticFace::new(1280, 720, 120).with_portrait_scaled(1.1))
                as Box<dyn FrameSource>,
        )
    }));
    report("same source asked for 120 fps", &unpaced);
    if demo.shown < 25.0 {
        println!("GOAL MISSED: preview below 25 fps with the analysis running");
    }
}
