//! Card handover with 1:1 fingerprint verification.
//!
//! A card is handed over only to the person it was made for. The intake
//! serves, with each handover visit of a team's list, the applicant's
//! enrolled fingerprint templates ([`EnrolledPrints`]: an ISO/IEC
//! 19794-2:2005 minutiae record made from the accepted packet's Type-14
//! images); the station keeps them sealed with the list ([`super::cache`])
//! and compares one or two live fingers against them ([`Verifier`]).
//!
//! The procedure, in `docs/operations.md` ("Card handover"):
//! 1. up to [`MAX_ATTEMPTS`] captures of the suggested fingers (an index
//!    finger first, then a thumb); the first match ends it;
//! 2. when none matches, when the applicant cannot place a finger now, or
//!    when the enrolment holds no usable fingerprint, a supervisor signs in
//!    on the spot, checks the birth certificate with photo against the
//!    applicant, and approves the handover with a reason ([`Fallback`]);
//! 3. either way a [`HandoverRecord`] is sealed and queued like a packet,
//!    with every finger check it took; the intake sets the card's stage to
//!    `handed-over`.
//!
//! No UI here.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use pishkhan_fingerprint::iso19794::{self, FingerView};
use pishkhan_fingerprint::matcher;
use pishkhan_fingerprint::minutiae::{self, Template};
use pishkhan_fingerprint::{Gray, GrayRef};
use pishkhan_scanner::{CaptureRequest, Finger, FingerImage, ScanError, ScanEvent};
use serde::{Deserialize, Serialize};

use super::{Location, check_id, check_text};
use crate::devices::{CaptureStamp, DeviceEvent, ScannerWorker};
use crate::enrolment::TrackingCode;

/// The template format the intake serves.
pub const TEMPLATE_FORMAT: &str = "iso-19794-2:2005";
/// Captures before the supervisor fallback is offered for "no match".
pub const MAX_ATTEMPTS: usize = 3;
/// The fingers suggested for the check, best first: index fingers (most
/// often well printed and easy to place), thumbs, then the rest.
pub const PREFERENCE: [Finger; 10] = [
    Finger::RightIndex,
    Finger::LeftIndex,
    Finger::RightThumb,
    Finger::LeftThumb,
    Finger::RightMiddle,
    Finger::LeftMiddle,
    Finger::RightRing,
    Finger::LeftRing,
    Finger::RightLittle,
    Finger::LeftLittle,
];

/// An applicant's enrolled templates, as served with a handover visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolledPrints {
    /// The accepted packet they were made from.
    pub packet_id: String,
    /// [`TEMPLATE_FORMAT`].
    pub format: String,
    /// The ISO/IEC 19794-2 record, base64 (standard alphabet, padded).
    pub record: String,
}

/// A card waiting at an office, as the intake serves it to the counter
/// for a handover (`GET /v1/handover?tracking=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardHolder {
    pub tracking_code: String,
    pub first_name: String,
    pub last_name: String,
    pub national_code: String,
    pub enrolled: EnrolledPrints,
}

/// Why templates could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the templates are in format {0:?}, not {TEMPLATE_FORMAT}")]
    Format(String),
    #[error("the template record is not base64: {0}")]
    Base64(String),
    #[error("the template record: {0}")]
    Record(String),
    #[error("finger image {fgp}: {detail}")]
    Image { fgp: u8, detail: String },
}

impl EnrolledPrints {
    /// Makes the templates of every printed finger of an enrolment's
    /// transaction: single-finger records as they are, slaps cut along
    /// their segment boxes. Fingers without an image (amputated,
    /// unprintable) have no template; an enrolment without any gives an
    /// empty record, and the handover goes straight to the fallback.
    pub fn from_transaction(
        packet_id: &str,
        transaction: &pishkhan_an2k::Transaction,
    ) -> Result<EnrolledPrints, TemplateError> {
        let mut views: BTreeMap<u8, FingerView> = BTreeMap::new();
        for record in transaction.records.iter().filter(|r| r.kind == 14) {
            let finger =
                pishkhan_an2k::records::FingerRecord::from_record(record).map_err(|e| {
                    TemplateError::Image {
                        fgp: 0,
                        detail: e.to_string(),
                    }
                })?;
            let Some(image) = &finger.image else {
                continue;
            };
            let gray = decode_image(finger.fgp, image)?;
            let crops: Vec<(u8, Gray)> = if (1..=10).contains(&finger.fgp) {
                vec![(finger.fgp, gray)]
            } else {
                finger
                    .seg
                    .iter()
                    .filter(|s| (1..=10).contains(&s.fgp))
                    .filter_map(|s| {
                        let (w, h) = (gray.width() as u32, gray.height() as u32);
                        let right = s.right.min(w.saturating_sub(1));
                        let bottom = s.bottom.min(h.saturating_sub(1));
                        (s.left < right && s.top < bottom).then(|| {
                            let crop = gray.view().crop(
                                s.left as usize,
                                s.top as usize,
                                (right - s.left + 1) as usize,
                                (bottom - s.top + 1) as usize,
                            );
                            (s.fgp, crop)
                        })
                    })
                    .collect()
            };
            for (fgp, crop) in crops {
                let upright = crate::enrolment::tenprint::at_500_ppi(&crop, image.ppi);
                let template = minutiae::extract(upright.view());
                let quality = finger.fqm.iter().find(|q| q.fgp == fgp).map_or(0, |q| {
                    if q.score.value <= 100 {
                        q.score.value
                    } else {
                        0
                    }
                });
                // A single-finger record beats a slap's crop of the same
                // finger (it was taken on its own, flat and centred).
                let single = (1..=10).contains(&finger.fgp);
                if single || !views.contains_key(&fgp) {
                    views.insert(
                        fgp,
                        FingerView {
                            position: fgp,
                            quality,
                            template,
                        },
                    );
                }
            }
        }
        let views: Vec<FingerView> = views.into_values().collect();
        let record = iso19794::encode(&views).map_err(|e| TemplateError::Record(e.to_string()))?;
        Ok(EnrolledPrints {
            packet_id: packet_id.to_owned(),
            format: TEMPLATE_FORMAT.into(),
            record: base64::engine::general_purpose::STANDARD.encode(record),
        })
    }
}

fn decode_image(
    fgp: u8,
    image: &pishkhan_an2k::records::FingerImage,
) -> Result<Gray, TemplateError> {
    use pishkhan_an2k::records::Compression;
    let bad = |detail: String| TemplateError::Image { fgp, detail };
    match image.compression {
        Compression::Wsq20 => pishkhan_fingerprint::wsq::decode(&image.data)
            .map(|d| d.image)
            .map_err(|e| bad(e.to_string())),
        Compression::None => GrayRef::new(image.width as usize, image.height as usize, &image.data)
            .map(|g| g.to_owned())
            .map_err(|e| bad(e.to_string())),
        other => Err(bad(format!(
            "images compressed as {} are not read",
            other.code()
        ))),
    }
}

/// One live finger compared with its enrolled template.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FingerCheck {
    /// Finger position (FGP 1–10).
    pub finger: u8,
    /// The matcher's score.
    pub score: f32,
    /// Whether the score reached the verification threshold.
    pub matched: bool,
}

/// Compares live fingers with one applicant's enrolled templates.
#[derive(Debug)]
pub struct Verifier {
    enrolled: BTreeMap<u8, Template>,
}

impl Verifier {
    /// Reads the templates served with a handover visit.
    pub fn open(prints: &EnrolledPrints) -> Result<Verifier, TemplateError> {
        if prints.format != TEMPLATE_FORMAT {
            return Err(TemplateError::Format(prints.format.clone()));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&prints.record)
            .map_err(|e| TemplateError::Base64(e.to_string()))?;
        let views = iso19794::decode(&bytes).map_err(|e| TemplateError::Record(e.to_string()))?;
        Ok(Verifier {
            enrolled: views
                .into_iter()
                .filter(|v| !v.template.minutiae.is_empty())
                .map(|v| (v.position, v.template))
                .collect(),
        })
    }

    /// The fingers that have a template, in order of [`PREFERENCE`].
    pub fn fingers(&self) -> Vec<Finger> {
        PREFERENCE
            .into_iter()
            .filter(|f| self.enrolled.contains_key(&f.position()))
            .collect()
    }

    /// Whether any finger can be checked at all.
    pub fn is_empty(&self) -> bool {
        self.enrolled.is_empty()
    }

    /// Compares a live image of `image.finger` with its template; `None`
    /// when that finger has none.
    pub fn check(&self, image: &FingerImage) -> Option<FingerCheck> {
        let enrolled = self.enrolled.get(&image.finger.position())?;
        let gray = GrayRef::new(image.width as usize, image.height as usize, &image.pixels)
            .ok()?
            .to_owned();
        let upright = crate::enrolment::tenprint::at_500_ppi(&gray, image.resolution_ppi);
        let probe = minutiae::extract(upright.view());
        let result = matcher::verify(&probe, enrolled);
        Some(FingerCheck {
            finger: image.finger.position(),
            score: result.score,
            matched: result.matched,
        })
    }
}

/// Where the finger check of a handover stands.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckStatus {
    /// Nothing asked of the scanner.
    Idle,
    WaitingFor(Finger),
    FingerOn(Finger),
    /// The last capture was compared.
    Compared(FingerCheck),
    /// The finger has no enrolled template (pick another).
    NoTemplate(Finger),
    Failed(Finger, ScanError),
}

/// The finger checks of one handover, driven through the station's
/// scanner worker: at most [`MAX_ATTEMPTS`] captures, the first match
/// ending them.
#[derive(Debug)]
pub struct FingerChecks {
    verifier: Verifier,
    checks: Vec<FingerCheck>,
    current: Option<(CaptureStamp, Finger)>,
    pub status: CheckStatus,
    timeout: Duration,
}

impl FingerChecks {
    /// `timeout`: how long one capture waits for the finger.
    pub fn new(verifier: Verifier, timeout: Duration) -> Self {
        Self {
            verifier,
            checks: Vec::new(),
            current: None,
            status: CheckStatus::Idle,
            timeout,
        }
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Every comparison so far, in order.
    pub fn checks(&self) -> &[FingerCheck] {
        &self.checks
    }

    pub fn matched(&self) -> bool {
        self.checks.last().is_some_and(|c| c.matched)
    }

    /// Whether every attempt was used without a match.
    pub fn exhausted(&self) -> bool {
        !self.matched() && self.checks.len() >= MAX_ATTEMPTS
    }

    /// Whether a capture is under way.
    pub fn capturing(&self) -> bool {
        self.current.is_some()
    }

    /// The finger to suggest next: of the fingers with a template, the
    /// first by [`PREFERENCE`] among those tried least often so far.
    pub fn suggested(&self) -> Option<Finger> {
        self.verifier.fingers().into_iter().min_by_key(|f| {
            self.checks
                .iter()
                .filter(|c| c.finger == f.position())
                .count()
        })
    }

    /// Asks the scanner for `finger`; `false` when no more checks may be
    /// made (matched, or attempts used) or the finger has no template.
    pub fn start(&mut self, finger: Finger, worker: &ScannerWorker) -> bool {
        if self.matched() || self.exhausted() {
            return false;
        }
        if !self.verifier.fingers().contains(&finger) {
            self.status = CheckStatus::NoTemplate(finger);
            return false;
        }
        self.stop(worker);
        let stamp = worker.capture(CaptureRequest::finger(finger, self.timeout));
        self.current = Some((stamp, finger));
        self.status = CheckStatus::WaitingFor(finger);
        true
    }

    /// Cancels the capture under way; what it still reports is stale.
    pub fn stop(&mut self, worker: &ScannerWorker) {
        if self.current.take().is_some() {
            worker.cancel();
            self.status = CheckStatus::Idle;
        }
    }

    /// Takes in what the scanner reported since the last call; `true`
    /// when the status changed.
    pub fn poll(&mut self, worker: &ScannerWorker) -> bool {
        let mut changed = false;
        for (stamp, event) in worker.drain() {
            changed |= self.handle(stamp, event);
        }
        changed
    }

    /// Applies one device event; events of another capture are dropped.
    pub fn handle(&mut self, stamp: CaptureStamp, event: DeviceEvent) -> bool {
        let Some((_, finger)) = self.current.filter(|(s, _)| *s == stamp) else {
            return false;
        };
        self.status = match event {
            DeviceEvent::Scan(ScanEvent::WaitingForFinger) => CheckStatus::WaitingFor(finger),
            DeviceEvent::Scan(ScanEvent::FingerOn) => CheckStatus::FingerOn(finger),
            DeviceEvent::Scan(ScanEvent::Preview(_) | ScanEvent::FingerOff) => return false,
            DeviceEvent::Scan(ScanEvent::Captured(capture)) => {
                self.current = None;
                match capture.image(finger).and_then(|i| self.verifier.check(i)) {
                    Some(check) => {
                        self.checks.push(check);
                        CheckStatus::Compared(check)
                    }
                    None => CheckStatus::Failed(
                        finger,
                        ScanError::Protocol(format!(
                            "the scanner returned no image of finger {}",
                            finger.position()
                        )),
                    ),
                }
            }
            DeviceEvent::Failed(error) => {
                self.current = None;
                CheckStatus::Failed(finger, error)
            }
        };
        true
    }

    /// One check of `finger`, waiting for it (for headless use): the
    /// comparison, or why there is none.
    pub fn check_blocking(
        &mut self,
        finger: Finger,
        worker: &ScannerWorker,
    ) -> Result<FingerCheck, CheckStatus> {
        if !self.start(finger, worker) {
            return Err(self.status.clone());
        }
        let deadline = std::time::Instant::now() + self.timeout + Duration::from_secs(10);
        while self.capturing() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                self.stop(worker);
                return Err(CheckStatus::Failed(
                    finger,
                    ScanError::NoAnswer(self.timeout),
                ));
            }
            if let Some((stamp, event)) = worker.wait(left.min(Duration::from_millis(200))) {
                self.handle(stamp, event);
            }
        }
        match &self.status {
            CheckStatus::Compared(check) => Ok(*check),
            other => Err(other.clone()),
        }
    }

    /// The record of a handover identified by these checks (`fallback`
    /// when a supervisor approved it without a match).
    pub fn record(
        &self,
        tracking_code: &str,
        visit_id: Option<&str>,
        fallback: Option<Fallback>,
    ) -> HandoverRecord {
        HandoverRecord {
            tracking_code: tracking_code.to_owned(),
            visit_id: visit_id.map(str::to_owned),
            checks: self.checks.clone(),
            fallback,
            location: None,
            note: None,
        }
    }
}

/// Why a supervisor approved a handover without a fingerprint match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FallbackReason {
    /// [`MAX_ATTEMPTS`] captures did not match.
    NoMatch,
    /// The enrolment holds no usable fingerprint (exceptions, amputations).
    NoTemplate,
    /// The applicant cannot place a finger now (injury, cast, tremor).
    FingersUnavailable,
    /// Anything else; the note says what.
    Other,
}

impl FallbackReason {
    pub const ALL: [FallbackReason; 4] = [
        FallbackReason::NoMatch,
        FallbackReason::NoTemplate,
        FallbackReason::FingersUnavailable,
        FallbackReason::Other,
    ];

    pub fn text_id(self) -> &'static str {
        match self {
            FallbackReason::NoMatch => "handover-reason-no-match",
            FallbackReason::NoTemplate => "handover-reason-no-template",
            FallbackReason::FingersUnavailable => "handover-reason-fingers",
            FallbackReason::Other => "handover-reason-other",
        }
    }
}

/// A supervisor's approval of a handover without a match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    pub reason: FallbackReason,
    /// Required for [`FallbackReason::Other`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// The supervisor who checked the birth certificate with photo and
    /// approved, signed in on the spot.
    pub supervisor: String,
}

/// A card handed over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoverRecord {
    /// The tracking code of the enrolment whose card it is.
    pub tracking_code: String,
    /// The visit of the team's list, for a handover at home.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit_id: Option<String>,
    /// Every finger compared, in order.
    pub checks: Vec<FingerCheck>,
    /// How the applicant was identified without a match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl HandoverRecord {
    /// Whether the fingerprint check passed (the last check matched).
    pub fn verified(&self) -> bool {
        self.checks.last().is_some_and(|c| c.matched)
    }

    /// Checks the record on its own: it is identified by a match or by a
    /// supervisor's fallback, never both or neither, and a "no match"
    /// fallback comes only after [`MAX_ATTEMPTS`] failed checks.
    pub fn check(&self) -> Result<(), String> {
        if TrackingCode::parse(&self.tracking_code).is_none() {
            return Err(format!("{:?} is not a tracking code", self.tracking_code));
        }
        if let Some(visit) = &self.visit_id {
            check_id("the visit id", visit)?;
        }
        if let Some(note) = &self.note {
            check_text("the note", note, false)?;
        }
        if let Some(location) = &self.location {
            location.check()?;
        }
        if let Some(c) = self
            .checks
            .iter()
            .find(|c| !(1..=10).contains(&c.finger) || !c.score.is_finite())
        {
            return Err(format!(
                "a finger check of finger {} is not valid",
                c.finger
            ));
        }
        if self.checks.iter().rev().skip(1).any(|c| c.matched) {
            return Err("the checks go on after a match".into());
        }
        match (&self.fallback, self.verified()) {
            (None, true) => Ok(()),
            (None, false) => Err("no finger matched and no supervisor approved".into()),
            (Some(_), true) => Err("a finger matched, yet a fallback is recorded".into()),
            (Some(fallback), false) => {
                check_id("the supervisor", &fallback.supervisor)
                    .map_err(|_| "the fallback names no supervisor".to_owned())?;
                check_text("the fallback's note", &fallback.note, false)?;
                match fallback.reason {
                    FallbackReason::NoMatch if self.checks.len() < MAX_ATTEMPTS => Err(format!(
                        "\"no match\" after {} checks; it needs {MAX_ATTEMPTS}",
                        self.checks.len()
                    )),
                    FallbackReason::Other if fallback.note.trim().is_empty() => {
                        Err("a fallback for another reason needs a note".into())
                    }
                    _ => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pishkhan_scanner::SyntheticFinger;

    const PERSON: u64 = 0x5eed_0001;
    const STRANGER: u64 = 0x5eed_0002;

    fn capture(identity: u64, finger: Finger, seed: u64) -> FingerImage {
        FingerImage {
            finger,
            width: 256,
            height: 288,
            resolution_ppi: 500,
            pixels: SyntheticFinger::new(identity, finger).capture(seed, 256, 288),
            device_quality: None,
        }
    }

    fn prints_of(identity: u64, fingers: &[Finger]) -> EnrolledPrints {
        let views: Vec<FingerView> = fingers
            .iter()
            .map(|&f| {
                let image = capture(identity, f, 1);
                let gray = GrayRef::new(256, 288, &image.pixels).expect("gray");
                FingerView {
                    position: f.position(),
                    quality: 80,
                    template: minutiae::extract(gray),
                }
            })
            .collect();
        EnrolledPrints {
            packet_id: "p".into(),
            format: TEMPLATE_FORMAT.into(),
            record: base64::engine::general_purpose::STANDARD
                .encode(iso19794::encode(&views).expect("encodes")),
        }
    }

    #[test]
    fn the_same_finger_matches_and_another_persons_does_not() {
        let verifier = Verifier::open(&prints_of(PERSON, &[Finger::RightIndex, Finger::LeftIndex]))
            .expect("opens");
        assert_eq!(
            verifier.fingers(),
            vec![Finger::RightIndex, Finger::LeftIndex]
        );
        let genuine = verifier
            .check(&capture(PERSON, Finger::RightIndex, 7))
            .expect("has a template");
        assert!(genuine.matched, "{genuine:?}");
        let impostor = verifier
            .check(&capture(STRANGER, Finger::RightIndex, 7))
            .expect("has a template");
        assert!(!impostor.matched, "{impostor:?}");
        assert!(impostor.score < genuine.score);
        assert_eq!(
            verifier.check(&capture(PERSON, Finger::RightThumb, 7)),
            None
        );
    }

    #[test]
    fn bad_templates_are_named() {
        let mut prints = prints_of(PERSON, &[Finger::RightIndex]);
        prints.format = "ansi-378".into();
        assert!(matches!(
            Verifier::open(&prints),
            Err(TemplateError::Format(_))
        ));
        let mut prints = prints_of(PERSON, &[Finger::RightIndex]);
        prints.record = "not base64!".into();
        assert!(matches!(
            Verifier::open(&prints),
            Err(TemplateError::Base64(_))
        ));
        let mut prints = prints_of(PERSON, &[Finger::RightIndex]);
        prints.record = base64::engine::general_purpose::STANDARD.encode(b"FMR\0 20\0junk");
        assert!(matches!(
            Verifier::open(&prints),
            Err(TemplateError::Record(_))
        ));
    }

    /// A scanner worker over the in-process virtual sensor presenting
    /// `identity`.
    fn worker(identity: u64) -> std::sync::Arc<ScannerWorker> {
        let sensor = pishkhan_scanner::VirtualSensor::new(Duration::ZERO).with_identity(identity);
        ScannerWorker::start(Box::new(pishkhan_scanner::Polling::new(
            sensor,
            Duration::from_millis(1),
        )))
    }

    #[test]
    fn the_holders_finger_ends_the_checks_through_the_scanner() {
        let verifier = Verifier::open(&prints_of(PERSON, &[Finger::RightIndex, Finger::LeftIndex]))
            .expect("opens");
        let mut checks = FingerChecks::new(verifier, Duration::from_secs(5));
        assert_eq!(checks.suggested(), Some(Finger::RightIndex));
        let worker = worker(PERSON);
        let check = checks
            .check_blocking(Finger::RightIndex, &worker)
            .expect("compared");
        assert!(check.matched, "{check:?}");
        assert!(checks.matched() && !checks.exhausted());
        // Nothing more is captured once matched.
        assert!(!checks.start(Finger::LeftIndex, &worker));
        let record = checks.record(
            crate::enrolment::TrackingCode::new(1405, 3, 9).as_str(),
            Some("V1"),
            None,
        );
        assert_eq!(record.check(), Ok(()));
    }

    #[test]
    fn somebody_elses_fingers_use_up_the_attempts() {
        let verifier = Verifier::open(&prints_of(PERSON, &[Finger::RightIndex, Finger::LeftIndex]))
            .expect("opens");
        let mut checks = FingerChecks::new(verifier, Duration::from_secs(5));
        let worker = worker(STRANGER);
        // A finger without a template is named, not captured.
        assert!(!checks.start(Finger::RightThumb, &worker));
        assert_eq!(checks.status, CheckStatus::NoTemplate(Finger::RightThumb));
        let mut tried = Vec::new();
        while !checks.exhausted() {
            let finger = checks.suggested().expect("a finger");
            tried.push(finger);
            let check = checks.check_blocking(finger, &worker).expect("compared");
            assert!(!check.matched, "{check:?}");
        }
        // The misses move the suggestion to the other finger and back.
        assert_eq!(
            tried,
            vec![Finger::RightIndex, Finger::LeftIndex, Finger::RightIndex]
        );
        assert!(!checks.start(Finger::RightIndex, &worker), "no fourth try");
        let code = crate::enrolment::TrackingCode::new(1405, 3, 9);
        assert!(checks.record(code.as_str(), None, None).check().is_err());
        let approved = checks.record(code.as_str(), None, fallback(FallbackReason::NoMatch, ""));
        assert_eq!(approved.check(), Ok(()));
    }

    fn check(finger: u8, matched: bool) -> FingerCheck {
        FingerCheck {
            finger,
            score: if matched { 60.0 } else { 3.0 },
            matched,
        }
    }

    fn record(checks: Vec<FingerCheck>, fallback: Option<Fallback>) -> HandoverRecord {
        HandoverRecord {
            tracking_code: crate::enrolment::TrackingCode::new(1405, 3, 9)
                .as_str()
                .to_owned(),
            visit_id: Some("V1".into()),
            checks,
            fallback,
            location: None,
            note: None,
        }
    }

    fn fallback(reason: FallbackReason, note: &str) -> Option<Fallback> {
        Some(Fallback {
            reason,
            note: note.into(),
            supervisor: "sara".into(),
        })
    }

    #[test]
    fn a_handover_is_identified_by_a_match_or_a_supervisor() {
        assert_eq!(record(vec![check(2, true)], None).check(), Ok(()));
        assert_eq!(
            record(vec![check(2, false), check(7, true)], None).check(),
            Ok(())
        );
        let three = vec![check(2, false), check(7, false), check(1, false)];
        assert_eq!(
            record(three.clone(), fallback(FallbackReason::NoMatch, "")).check(),
            Ok(())
        );
        assert_eq!(
            record(vec![], fallback(FallbackReason::NoTemplate, "")).check(),
            Ok(())
        );
        for (bad, why) in [
            (record(vec![check(2, false)], None), "no finger matched"),
            (record(vec![], None), "no finger matched"),
            (
                record(vec![check(2, true)], fallback(FallbackReason::Other, "x")),
                "a finger matched",
            ),
            (
                record(vec![check(2, false)], fallback(FallbackReason::NoMatch, "")),
                "needs 3",
            ),
            (
                record(three.clone(), fallback(FallbackReason::Other, " ")),
                "needs a note",
            ),
            (
                record(vec![check(2, true), check(7, false)], None),
                "after a match",
            ),
            (record(vec![check(11, true)], None), "finger 11"),
        ] {
            let problem = bad.check().expect_err(why);
            assert!(problem.contains(why), "{problem} / {why}");
        }
        let mut bad = record(vec![check(2, true)], None);
        bad.tracking_code = "12".into();
        assert!(bad.check().is_err());
    }
}
