//! The ten-print workflow: which impression to capture next, up to
//! `max_attempts` attempts per impression keeping the best image of each
//! finger, the operator's accept / retake / force-accept, and exceptions.
//!
//! Two capture plans: the 4-4-2 slaps (right four, left four, two thumbs)
//! on a slap scanner, ten single flats on a single-finger sensor.
//!
//! Every capture is assessed by the station itself ([`assess`]): quality per
//! finger, finger count and hand, sequence and duplicates. An attempt with
//! a structural problem (wrong count, wrong hand, a duplicate) is refused
//! and explained; it can be retaken as often as needed. An attempt whose
//! only fault is quality counts towards the limit; after the last one the
//! best images may be force-accepted with a supervisor's approval.
//!
//! The same state machine serves the GUI and the headless self-test. Events
//! whose stamp is not the capture in progress are stale (from a capture the
//! operator walked away from) and are dropped.

pub mod assess;
pub mod record;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use pishkhan_fingerprint::minutiae::Template;
use pishkhan_scanner::{
    CaptureRequest, DeviceInfo, Finger, Impression, Preview, ScanError, ScanEvent,
};

pub(crate) use assess::at_500_ppi;
pub use assess::{Assessed, Attempt, Policy, Problem};
pub use record::{CapturedFinger, ExceptionKind, FingerException, SlapRecord, slap_position};

use super::Session;
use crate::devices::{CaptureStamp, DeviceEvent, ScannerWorker};

/// How the ten fingers are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Right four, left four, both thumbs (4-4-2).
    Slaps,
    /// Ten single flat fingers.
    Flats,
}

impl Plan {
    /// Slaps when the scanner takes them.
    pub fn for_scanner(info: &DeviceInfo) -> Self {
        if info.capabilities.four_finger_slap {
            Plan::Slaps
        } else {
            Plan::Flats
        }
    }

    /// The impressions in capture order.
    pub fn impressions(self) -> Vec<Impression> {
        match self {
            Plan::Slaps => vec![
                Impression::RightSlap,
                Impression::LeftSlap,
                Impression::Thumbs,
            ],
            Plan::Flats => Finger::ALL.into_iter().map(Impression::Finger).collect(),
        }
    }

    /// The impression that holds `finger`.
    pub fn impression_of(self, finger: Finger) -> Impression {
        self.impressions()
            .into_iter()
            .find(|i| i.fingers().contains(&finger))
            .unwrap_or(Impression::Finger(finger))
    }
}

/// What the operator should be told about the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Idle,
    WaitingFor(Impression),
    FingerOn(Impression),
    /// An attempt waits for the operator (see [`TenPrint::round`]).
    Review(Impression),
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
    /// An attempt was assessed and waits for the operator.
    Assessed,
    Failed,
}

/// Why an operator action was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("there is no capture to act on")]
    NothingToReview,
    #[error("the capture has problems that a retake must fix")]
    Problems,
    #[error("fingers below the quality threshold: {0:?}")]
    BelowThreshold(Vec<Finger>),
    #[error("fingers without an image: {0:?}")]
    Incomplete(Vec<Finger>),
    #[error("all {0} attempts are used")]
    NoAttemptsLeft(u8),
    #[error("force-accept is possible only after the last attempt ({left} left)")]
    AttemptsLeft { left: u8 },
}

/// The attempts at one impression.
#[derive(Debug, Clone)]
pub struct Round {
    pub impression: Impression,
    /// Captures taken (including refused ones).
    pub attempts: u8,
    /// Captures without structural problems: these count towards the
    /// limit and feed the best-of.
    pub quality_attempts: u8,
    /// The best image so far per finger.
    pub best: BTreeMap<Finger, Assessed>,
    /// The slap of the attempt that gave the best images.
    pub slap: Option<SlapRecord>,
    /// The problems of the latest attempt.
    pub problems: Vec<Problem>,
    /// The images of the latest attempt when it was refused, so that the
    /// operator sees what went wrong.
    pub refused: Vec<Assessed>,
}

impl Round {
    fn new(impression: Impression) -> Self {
        Self {
            impression,
            attempts: 0,
            quality_attempts: 0,
            best: BTreeMap::new(),
            slap: None,
            problems: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// What to show for `finger`: the latest attempt's image if it was
    /// refused, else the best image so far.
    pub fn shown(&self, finger: Finger) -> Option<&Assessed> {
        if self.problems.is_empty() {
            self.best.get(&finger)
        } else {
            self.refused.iter().find(|a| a.finger() == finger)
        }
    }

    /// Fingers whose best image is below `threshold`.
    pub fn below(&self, threshold: u8) -> Vec<Finger> {
        self.best
            .values()
            .filter(|a| a.quality.score < threshold)
            .map(Assessed::finger)
            .collect()
    }
}

/// The capture plan and its progress.
#[derive(Debug, Clone)]
pub struct TenPrint {
    plan: Plan,
    pub policy: Policy,
    timeout: Duration,
    current: Option<(CaptureStamp, Impression)>,
    round: Option<Round>,
    pub status: Status,
    /// How many stale events were dropped (shown in diagnostics).
    pub stale_dropped: u32,
}

impl TenPrint {
    pub fn new(plan: Plan, policy: Policy, timeout: Duration) -> Self {
        Self {
            plan,
            policy,
            timeout,
            current: None,
            round: None,
            status: Status::Idle,
            stale_dropped: 0,
        }
    }

    pub fn plan(&self) -> Plan {
        self.plan
    }

    pub fn is_running(&self) -> bool {
        self.current.is_some()
    }

    /// The stamp of the capture in progress.
    pub fn current_stamp(&self) -> Option<CaptureStamp> {
        self.current.map(|(s, _)| s)
    }

    /// The impression being captured or reviewed.
    pub fn current_impression(&self) -> Option<Impression> {
        self.current
            .map(|(_, i)| i)
            .or_else(|| self.round.as_ref().map(|r| r.impression))
    }

    /// The attempts at the current impression.
    pub fn round(&self) -> Option<&Round> {
        self.round.as_ref()
    }

    /// Whether `finger` is expected in the capture in progress.
    pub fn is_capturing(&self, finger: Finger) -> bool {
        self.current
            .is_some_and(|(_, i)| i.fingers().contains(&finger))
    }

    /// The next impression with a finger that has neither an image nor an
    /// exception.
    pub fn next_impression(&self, session: &Session) -> Option<Impression> {
        let missing = session.missing_fingers();
        self.plan
            .impressions()
            .into_iter()
            .find(|i| i.fingers().iter().any(|f| missing.contains(f)))
    }

    /// Starts (or resumes) with the next impression that lacks an image,
    /// unless an attempt waits for the operator.
    pub fn start(&mut self, session: &Session, worker: &ScannerWorker) -> Option<Impression> {
        if self.current.is_some() {
            return self.current_impression();
        }
        if let Some(round) = &self.round {
            self.status = Status::Review(round.impression);
            return Some(round.impression);
        }
        match self.next_impression(session) {
            Some(impression) => {
                self.round = Some(Round::new(impression));
                self.capture(impression, session, worker);
                Some(impression)
            }
            None => {
                self.status = Status::Complete;
                None
            }
        }
    }

    /// Takes the current impression again (another attempt).
    pub fn retake(&mut self, session: &Session, worker: &ScannerWorker) -> Result<(), Refusal> {
        let round = self.round.as_ref().ok_or(Refusal::NothingToReview)?;
        if round.problems.is_empty() && round.quality_attempts >= self.policy.max_attempts {
            return Err(Refusal::NoAttemptsLeft(self.policy.max_attempts));
        }
        let impression = round.impression;
        self.capture(impression, session, worker);
        Ok(())
    }

    /// Captures the impression holding `finger` afresh (a new round), e.g.
    /// to replace an accepted image.
    pub fn retake_finger(&mut self, finger: Finger, session: &Session, worker: &ScannerWorker) {
        self.stop(worker);
        let impression = self.plan.impression_of(finger);
        self.round = Some(Round::new(impression));
        self.capture(impression, session, worker);
    }

    fn capture(&mut self, impression: Impression, session: &Session, worker: &ScannerWorker) {
        if self.current.take().is_some() {
            worker.cancel();
        }
        let request = CaptureRequest {
            impression,
            exceptions: session.exceptions_in(impression),
            target_quality: self.policy.quality_threshold,
            timeout: self.timeout,
        };
        let stamp = worker.capture(request);
        self.current = Some((stamp, impression));
        self.status = Status::WaitingFor(impression);
    }

    /// Stops the capture in progress; anything it still reports is stale.
    /// An attempt waiting for review stays.
    pub fn stop(&mut self, worker: &ScannerWorker) {
        if self.current.take().is_some() {
            worker.cancel();
            self.status = match &self.round {
                Some(r) if r.attempts > 0 => Status::Review(r.impression),
                _ => Status::Idle,
            };
            if matches!(self.status, Status::Idle) {
                self.round = None;
            }
        }
    }

    /// Why the best images of the current impression cannot be accepted
    /// as they are, if they cannot.
    pub fn check_accept(&self, session: &Session) -> Result<(), Refusal> {
        let round = self.reviewable(session)?;
        let below = round.below(self.policy.quality_threshold);
        if below.is_empty() {
            Ok(())
        } else {
            Err(Refusal::BelowThreshold(below))
        }
    }

    /// Why force-accept is not possible now, if it is not: only after the
    /// last attempt, and only for a capture without problems.
    pub fn check_force(&self, session: &Session) -> Result<(), Refusal> {
        let round = self.reviewable(session)?;
        if round.quality_attempts < self.policy.max_attempts {
            return Err(Refusal::AttemptsLeft {
                left: self.policy.max_attempts - round.quality_attempts,
            });
        }
        Ok(())
    }

    /// Accepts the best images of the current impression, if every one
    /// meets the quality threshold and the latest attempt had no problem.
    pub fn accept(&mut self, session: &mut Session, worker: &ScannerWorker) -> Result<(), Refusal> {
        self.check_accept(session)?;
        self.commit(session, None);
        self.start(session, worker);
        Ok(())
    }

    /// Accepts the best images although some are below the threshold: only
    /// after the last attempt, with a supervisor's approval (recorded on
    /// each finger below the threshold).
    pub fn force_accept(
        &mut self,
        session: &mut Session,
        worker: &ScannerWorker,
        supervisor: &str,
    ) -> Result<(), Refusal> {
        self.check_force(session)?;
        self.commit(session, Some(supervisor));
        self.start(session, worker);
        Ok(())
    }

    /// Whether force-accept is possible and needed (some finger is below
    /// the threshold).
    pub fn can_force(&self, session: &Session) -> bool {
        self.check_force(session).is_ok() && self.check_accept(session).is_err()
    }

    /// Whether accept is possible now.
    pub fn can_accept(&self, session: &Session) -> bool {
        self.check_accept(session).is_ok()
    }

    /// Whether a retake of the current impression is allowed now.
    pub fn can_retake(&self) -> bool {
        self.round.as_ref().is_some_and(|r| {
            r.attempts > 0
                && self.current.is_none()
                && (!r.problems.is_empty() || r.quality_attempts < self.policy.max_attempts)
        })
    }

    /// The round, if it can be accepted in some way: reviewed, no
    /// problems, every expected finger present.
    fn reviewable(&self, session: &Session) -> Result<&Round, Refusal> {
        let round = self
            .round
            .as_ref()
            .filter(|r| r.attempts > 0 && self.current.is_none())
            .ok_or(Refusal::NothingToReview)?;
        if !round.problems.is_empty() {
            return Err(Refusal::Problems);
        }
        let exceptions = session.exceptions_in(round.impression);
        let missing: Vec<Finger> = round
            .impression
            .fingers()
            .into_iter()
            .filter(|f| !exceptions.contains(f) && !round.best.contains_key(f))
            .collect();
        if !missing.is_empty() {
            return Err(Refusal::Incomplete(missing));
        }
        Ok(round)
    }

    fn commit(&mut self, session: &mut Session, supervisor: Option<&str>) {
        let Some(round) = self.round.take() else {
            return;
        };
        let threshold = self.policy.quality_threshold;
        for (finger, assessed) in round.best {
            let forced = (assessed.quality.score < threshold)
                .then(|| supervisor.map(str::to_owned))
                .flatten();
            session.fingers.insert(
                finger,
                CapturedFinger {
                    image: assessed.image,
                    quality: assessed.quality,
                    attempts: round.quality_attempts,
                    forced_by: forced,
                    impression: round.impression,
                    template: assessed.template,
                },
            );
        }
        session.slaps.retain(|s| s.impression != round.impression);
        if let Some(slap) = round.slap {
            session.slaps.push(slap);
        }
        self.status = Status::Idle;
    }

    /// Records an approved exception: the finger's image (if any) is
    /// dropped, and a capture of its impression starts over without it.
    pub fn declare_exception(
        &mut self,
        finger: Finger,
        exception: FingerException,
        session: &mut Session,
        worker: &ScannerWorker,
    ) {
        session.fingers.remove(&finger);
        session.exceptions.insert(finger, exception);
        let impression = self.plan.impression_of(finger);
        session.slaps.retain(|s| s.impression != impression);
        self.restart_if_current(impression, session, worker);
    }

    /// Withdraws an exception: the finger must be captured again.
    pub fn withdraw_exception(
        &mut self,
        finger: Finger,
        session: &mut Session,
        worker: &ScannerWorker,
    ) {
        if session.exceptions.remove(&finger).is_none() {
            return;
        }
        let impression = self.plan.impression_of(finger);
        // The impression's other fingers were taken without this one.
        for f in impression.fingers() {
            session.fingers.remove(&f);
        }
        session.slaps.retain(|s| s.impression != impression);
        self.restart_if_current(impression, session, worker);
    }

    fn restart_if_current(
        &mut self,
        impression: Impression,
        session: &Session,
        worker: &ScannerWorker,
    ) {
        if self.current_impression() == Some(impression) {
            self.stop(worker);
            self.round = None;
        }
        if self.current.is_none() && self.round.is_none() {
            self.start(session, worker);
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
                self.current = None;
                let expected = impression.fingers();
                let unexpected: Vec<String> = capture
                    .fingers
                    .iter()
                    .filter(|i| !expected.contains(&i.finger))
                    .map(|i| i.finger.position().to_string())
                    .collect();
                if !unexpected.is_empty() || capture.impression != impression {
                    self.status = Status::Failed(
                        impression,
                        ScanError::Protocol(format!(
                            "the scanner returned finger(s) [{}] that were not asked for",
                            unexpected.join(", ")
                        )),
                    );
                    return Handled::Failed;
                }
                let accepted: Vec<(Finger, Arc<Template>)> = session
                    .fingers
                    .iter()
                    .map(|(f, c)| (*f, c.template.clone()))
                    .collect();
                let exceptions = session.exceptions_in(impression);
                let attempt = assess::assess_capture(capture, &exceptions, &accepted, &self.policy);
                self.absorb(attempt);
                session.scanner = Some(worker.info().name.clone());
                self.status = Status::Review(impression);
                Handled::Assessed
            }
            DeviceEvent::Scan(ScanEvent::FingerOff) => Handled::Progress,
            DeviceEvent::Failed(error) => {
                self.current = None;
                self.status = Status::Failed(impression, error);
                Handled::Failed
            }
        }
    }

    /// Adds an assessed attempt to the round: a clean one feeds the
    /// best-of, a refused one only shows its problems.
    fn absorb(&mut self, attempt: Attempt) {
        let round = self
            .round
            .get_or_insert_with(|| Round::new(attempt.impression));
        round.attempts = round.attempts.saturating_add(1);
        round.problems = attempt.problems;
        if !round.problems.is_empty() {
            round.refused = attempt.fingers;
            return;
        }
        round.refused.clear();
        round.quality_attempts = round.quality_attempts.saturating_add(1);
        let mut improved = false;
        for assessed in attempt.fingers {
            let better = round
                .best
                .get(&assessed.finger())
                .is_none_or(|old| assessed.quality.score > old.quality.score);
            if better {
                improved = true;
                round.best.insert(assessed.finger(), assessed);
            }
        }
        if improved || round.slap.is_none() {
            round.slap = attempt.slap.or(round.slap.take());
        }
    }
}

pub fn finger_text_id(finger: Finger) -> &'static str {
    match finger {
        Finger::RightThumb => "finger-right-thumb",
        Finger::RightIndex => "finger-right-index",
        Finger::RightMiddle => "finger-right-middle",
        Finger::RightRing => "finger-right-ring",
        Finger::RightLittle => "finger-right-little",
        Finger::LeftThumb => "finger-left-thumb",
        Finger::LeftIndex => "finger-left-index",
        Finger::LeftMiddle => "finger-left-middle",
        Finger::LeftRing => "finger-left-ring",
        Finger::LeftLittle => "finger-left-little",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pishkhan_scanner::{Capture, FingerImage, SyntheticFinger, VirtualScanner};

    fn virtual_worker() -> Arc<ScannerWorker> {
        ScannerWorker::start(Box::new(VirtualScanner::virtual_scanner(Duration::ZERO)))
    }

    fn pump(tp: &mut TenPrint, session: &mut Session, worker: &ScannerWorker) {
        while tp.is_running() {
            let (stamp, event) = worker
                .wait(Duration::from_secs(5))
                .expect("the virtual scanner answers");
            tp.handle(session, worker, stamp, event);
        }
    }

    fn flat(identity: u64, finger: Finger, seed: u64) -> FingerImage {
        FingerImage {
            finger,
            width: 288,
            height: 384,
            resolution_ppi: 500,
            pixels: SyntheticFinger::new(identity, finger).capture(seed, 288, 384),
            device_quality: None,
        }
    }

    #[test]
    fn plans_cover_all_ten_fingers_once() {
        for plan in [Plan::Slaps, Plan::Flats] {
            let mut all: Vec<Finger> = plan
                .impressions()
                .into_iter()
                .flat_map(Impression::fingers)
                .collect();
            all.sort_by_key(|f| f.position());
            assert_eq!(all, Finger::ALL.to_vec(), "{plan:?}");
        }
        assert_eq!(
            Plan::Slaps.impression_of(Finger::LeftRing),
            Impression::LeftSlap
        );
        assert_eq!(
            Plan::Slaps.impression_of(Finger::RightThumb),
            Impression::Thumbs
        );
        assert_eq!(
            Plan::Flats.impression_of(Finger::RightLittle),
            Impression::Finger(Finger::RightLittle)
        );
    }

    #[test]
    fn flats_are_reviewed_and_accepted_one_by_one() {
        let worker = virtual_worker();
        let mut session = Session::new("op", true);
        let mut tp = TenPrint::new(Plan::Flats, Policy::default(), Duration::from_secs(5));
        assert_eq!(
            tp.start(&session, &worker),
            Some(Impression::Finger(Finger::RightThumb))
        );
        for finger in Finger::ALL {
            pump(&mut tp, &mut session, &worker);
            assert_eq!(tp.status, Status::Review(Impression::Finger(finger)));
            let round = tp.round().expect("a round");
            assert!(
                round.problems.is_empty(),
                "{finger:?}: {:?}",
                round.problems
            );
            // A light touch (some synthetic captures, like real ones, score
            // just under the threshold) is retaken, keeping the best.
            while !tp.can_accept(&session) {
                tp.retake(&session, &worker)
                    .unwrap_or_else(|r| panic!("{finger:?}: {r}"));
                pump(&mut tp, &mut session, &worker);
            }
            tp.accept(&mut session, &worker)
                .unwrap_or_else(|r| panic!("{finger:?}: {r}"));
        }
        assert_eq!(tp.status, Status::Complete);
        assert!(session.missing_fingers().is_empty());
        for (finger, captured) in &session.fingers {
            assert_eq!(captured.image.finger, *finger);
            assert!(captured.score() >= 40);
            assert!((1..=3).contains(&captured.attempts));
        }
    }

    #[test]
    fn events_of_a_stopped_capture_are_dropped() {
        let worker = ScannerWorker::start(Box::new(VirtualScanner::virtual_scanner(
            Duration::from_millis(50),
        )));
        let mut session = Session::new("op", true);
        let mut tp = TenPrint::new(Plan::Flats, Policy::default(), Duration::from_secs(5));
        tp.start(&session, &worker);
        let old = tp.current_stamp().expect("running");
        tp.stop(&worker);
        let late = DeviceEvent::Scan(ScanEvent::Captured(Capture {
            impression: Impression::Finger(Finger::RightThumb),
            fingers: vec![flat(1, Finger::RightThumb, 1)],
            slap: None,
        }));
        assert_eq!(tp.handle(&mut session, &worker, old, late), Handled::Stale);
        assert!(session.fingers.is_empty());
        assert_eq!(tp.stale_dropped, 1);
    }

    #[test]
    fn a_slap_with_three_fingers_is_refused_unless_one_is_excepted() {
        let identity = 77;
        let (pixels, boxes) =
            pishkhan_scanner::slap(identity, Impression::RightSlap, 3, 1600, 1500);
        let mut slap = pishkhan_scanner::SlapImage {
            width: 1600,
            height: 1500,
            resolution_ppi: 500,
            pixels,
        };
        // The ring finger was not placed: white out its box.
        let (_, [x, y, w, h]) = *boxes
            .iter()
            .find(|(f, _)| *f == Finger::RightRing)
            .expect("ring box");
        for row in y..(y + h).min(1500) {
            for col in x..(x + w).min(1600) {
                slap.pixels[(row * 1600 + col) as usize] = 255;
            }
        }
        let three: Vec<FingerImage> =
            [Finger::RightIndex, Finger::RightMiddle, Finger::RightLittle]
                .into_iter()
                .map(|f| flat(identity, f, 5))
                .collect();
        let capture = Capture {
            impression: Impression::RightSlap,
            fingers: three,
            slap: Some(slap),
        };
        let policy = Policy::default();
        let refused = assess::assess_capture(capture.clone(), &[], &[], &policy);
        assert!(
            refused.problems.contains(&Problem::Count {
                expected: 4,
                found: 3
            }),
            "{:?}",
            refused.problems
        );
        let excepted = assess::assess_capture(capture, &[Finger::RightRing], &[], &policy);
        assert!(
            !excepted
                .problems
                .iter()
                .any(|p| matches!(p, Problem::Count { .. })),
            "{:?}",
            excepted.problems
        );
    }

    #[test]
    fn a_finger_seen_before_is_a_duplicate() {
        let identity = 9;
        let accepted_image = flat(identity, Finger::RightIndex, 1);
        let accepted = assess::assess_image(accepted_image).expect("image");
        // The "left index" is the right index placed again.
        let mut again = flat(identity, Finger::RightIndex, 2);
        again.finger = Finger::LeftIndex;
        let capture = Capture {
            impression: Impression::Finger(Finger::LeftIndex),
            fingers: vec![again],
            slap: None,
        };
        let attempt = assess::assess_capture(
            capture,
            &[],
            &[(Finger::RightIndex, accepted.template.clone())],
            &Policy::default(),
        );
        assert!(
            matches!(
                attempt.problems.as_slice(),
                [Problem::Duplicate {
                    finger: Finger::LeftIndex,
                    matches: Finger::RightIndex,
                    ..
                }]
            ),
            "{:?}",
            attempt.problems
        );
    }
}
