//! `pishkhan self-test`: one complete enrolment of a built-in test
//! applicant through the same session code the GUI uses, with the
//! station's configured devices, sealed as a test packet.

use std::time::{Duration, Instant};

use crate::devices::Devices;
use crate::enrolment::tenprint::{Plan, Refusal, Status, TenPrint};
use crate::enrolment::{
    ApplicantForm, DocumentCheck, Gender, JalaliDate, Portrait, PriorityGroup, RequestType, Session,
};
use crate::station::{Receipt, SealError, Station};
use crate::text::Text;

/// The built-in test applicant (fictional; valid national code).
pub fn test_applicant() -> ApplicantForm {
    ApplicantForm {
        first_name: "آزمون".into(),
        last_name: "ایستگاه‌پیشخوان".into(),
        father_name: "آزمایش".into(),
        gender: Some(Gender::Female),
        birth_date: "1380/01/01".into(),
        place_of_birth: "تهران".into(),
        national_code: "0499370899".into(),
        national_code_repeat: "0499370899".into(),
        national_code_approved_by: None,
        bc_number: "0499370899".into(),
        bc_series_letter: "الف".into(),
        bc_series_number: "12".into(),
        bc_serial: "345678".into(),
        postal_code: "1345913456".into(),
        address: "تهران، خیابان آزمایش، پلاک ۱".into(),
        landline: "02188776655".into(),
        mobile: "09121234567".into(),
        mobile_repeat: "09121234567".into(),
        request_type: Some(RequestType::FirstCard),
        priority_group: PriorityGroup::None,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SelfTestError {
    #[error("the test applicant was refused: {0:?}")]
    Applicant(Vec<Text>),
    #[error("camera: {0}")]
    Camera(#[from] pishkhan_camera::CameraError),
    #[error("portrait encoding: {0}")]
    Portrait(#[from] image::ImageError),
    #[error("scanner: {0}")]
    Scanner(String),
    #[error("sealing: {0}")]
    Seal(#[from] SealError),
}

/// Each step's name and how long it took.
pub type Timings = Vec<(&'static str, Duration)>;

/// How long each step took.
#[derive(Debug, Clone)]
pub struct Report {
    pub receipt: Receipt,
    pub steps: Timings,
}

/// Runs one enrolment of the test applicant and seals it as a test packet.
pub fn run_once(station: &Station, devices: &Devices) -> Result<Report, SelfTestError> {
    let (session, mut steps) = capture(station, devices)?;
    let started = Instant::now();
    let receipt = station.seal(&session)?;
    steps.push(("seal", started.elapsed()));
    Ok(Report { receipt, steps })
}

/// Walks the test applicant through every step with the station's
/// devices, up to (not including) sealing. Returns the complete session
/// and how long each step took.
pub fn capture(station: &Station, devices: &Devices) -> Result<(Session, Timings), SelfTestError> {
    let mut steps = Vec::new();
    let mut lap = {
        let mut last = Instant::now();
        move |name: &'static str, steps: &mut Timings| {
            let now = Instant::now();
            steps.push((name, now - last));
            last = now;
        }
    };
    let mut session = Session::new("self-test", true);

    let applicant = test_applicant()
        .validate(&station.config.enrolment.rules(JalaliDate::today()))
        .map_err(|errors| SelfTestError::Applicant(errors.into_iter().map(|e| e.text).collect()))?;
    session.set_applicant(applicant);
    lap("applicant", &mut steps);

    for check in DocumentCheck::ALL {
        session.documents.set(check, true);
    }
    lap("documents", &mut steps);

    session.portrait = Some(portrait(&devices.camera, &station.live().portrait)?);
    lap("portrait", &mut steps);

    let scanner = &devices.scanner;
    let timeout = Duration::from_secs(station.config.devices.capture_timeout_s);
    let policy = station.live().fingerprints.policy();
    let mut tenprint = TenPrint::new(Plan::for_scanner(scanner.info()), policy, timeout);
    // Captures with problems (a finger not placed, the wrong hand) are
    // retaken, but not forever.
    let mut attempts_left = 3 * u32::from(policy.max_attempts) * 10;
    tenprint.start(&session, scanner);
    loop {
        match &tenprint.status {
            Status::Complete => break,
            Status::Failed(impression, error) => {
                return Err(SelfTestError::Scanner(format!("{impression:?}: {error}")));
            }
            Status::Review(impression) => {
                let impression = *impression;
                match tenprint.accept(&mut session, scanner) {
                    Ok(()) => continue,
                    Err(refusal @ (Refusal::Problems | Refusal::BelowThreshold(_)))
                        if tenprint.can_retake() && attempts_left > 0 =>
                    {
                        tracing::info!("self-test: {impression:?} retaken: {refusal}");
                        attempts_left -= 1;
                        let _ = tenprint.retake(&session, scanner);
                    }
                    Err(refusal) => {
                        return Err(SelfTestError::Scanner(format!(
                            "{impression:?} not accepted: {refusal} ({:?})",
                            tenprint.round().map(|r| &r.problems)
                        )));
                    }
                }
            }
            _ => {
                let (stamp, event) =
                    scanner
                        .wait(timeout + Duration::from_secs(5))
                        .ok_or_else(|| {
                            SelfTestError::Scanner("the scanner stopped answering".into())
                        })?;
                tenprint.handle(&mut session, scanner, stamp, event);
            }
        }
    }
    lap("fingerprints", &mut steps);
    Ok((session, steps))
}

/// The portrait as the live step takes it: the first of up to 30 frames
/// that passes every check, taken as an automatic capture. A camera that
/// cannot give one (a dark room, nobody in front of it) still yields a
/// test portrait, the last frame analysed, recorded as a manual capture
/// with its failing checks; without the detector, a plain frame.
fn portrait(
    source: &pishkhan_camera::Source,
    config: &crate::config::PortraitConfig,
) -> Result<Portrait, SelfTestError> {
    use crate::enrolment::portrait::CaptureMode;
    use crate::portrait::live::{self, LiveAnalyser};

    let camera = pishkhan_camera::CameraController::start(source.clone());
    let mut analyser = LiveAnalyser::start(config.policy());
    let mut last = None;
    for _ in 0..30 {
        let frame = std::sync::Arc::new(camera.wait_frame()?);
        analyser.offer(&frame);
        match analyser.wait() {
            Ok(analysed) => {
                let passed = analysed.analysis.passed();
                last = Some(analysed);
                if passed {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!("self-test: portrait checks unavailable: {e}");
                return Ok(Portrait::from_frame(&frame, camera.description())?);
            }
        }
    }
    let Some(analysed) = last else {
        let frame = camera.wait_frame()?;
        return Ok(Portrait::from_frame(&frame, camera.description())?);
    };
    let mode = if analysed.analysis.passed() {
        CaptureMode::Auto
    } else {
        tracing::warn!(
            "self-test: no frame passed the portrait checks; first failure {:?}",
            analysed.analysis.first_failure().map(|c| c.id)
        );
        CaptureMode::Manual
    };
    Ok(live::take(&analysed, camera.description(), mode, None)?)
}
