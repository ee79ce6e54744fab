//! Step 4: the ten fingers, as 4-4-2 slaps on a slap scanner or ten flats
//! on a single-finger sensor.
//!
//! The screen shows a hand diagram of what is expected now, the scanner's
//! live picture, and after each capture the station's own assessment: a
//! thumbnail per finger with its quality score and colour, and any problem
//! (a finger missing from a slap, the wrong hand, a duplicate finger)
//! explained. The operator accepts (Enter), retakes (R), force-accepts
//! after the last attempt (F, supervisor) or declares an exception (E,
//! supervisor, with a photo).
//!
//! The capture runs only while this step shows: leaving it cancels the
//! capture in progress, and whatever the scanner still reports for that
//! capture arrives with an old stamp and is dropped as stale.

mod dialog;
mod hand;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use iced::widget::{button, column, container, image, text};
use iced::{Alignment, ContentFit, Element, Length};
use pishkhan_camera::Source;
use pishkhan_scanner::{Finger, Impression, ScanError};

use crate::devices::{CaptureStamp, DeviceEvent, ScannerWorker};
use crate::enrolment::tenprint::ExceptionKind;
use crate::enrolment::tenprint::{Handled, Plan, Policy, Problem, Refusal, Status, TenPrint};
use crate::enrolment::{Accommodation, Session};
use crate::i18n::I18n;
use crate::station::Station;
use crate::text::Text;
use crate::ui::widget::{self, grey_to_rgba, row};
use dialog::Dialog;
pub use dialog::DialogMessage;

/// A keyboard shortcut of the fingerprint step (physical keys, so they work
/// with the Persian layout too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    /// Enter
    Accept,
    /// R
    Retake,
    /// F
    Force,
    /// E
    Exception,
    /// Escape
    Cancel,
}

pub struct State {
    pub tenprint: TenPrint,
    /// Accepted fingers.
    thumbnails: BTreeMap<Finger, image::Handle>,
    /// The best images of the impression under review.
    review: BTreeMap<Finger, image::Handle>,
    /// The scanner's live picture of the capture in progress.
    preview: Option<image::Handle>,
    /// How many preview frames arrived (diagnostics, tests).
    pub previews_seen: u32,
    dialog: Option<Dialog>,
    /// Why the last operator action was refused.
    notice: Option<Refusal>,
    /// Fingers picked as impossible to place (the accommodation).
    unplaceable: BTreeSet<Finger>,
}

#[derive(Debug, Clone)]
pub enum Message {
    /// An event from the scanner worker, with the stamp of its capture.
    Device(CaptureStamp, DeviceEvent),
    Accept,
    Retake,
    /// Force-accept: opens the supervisor's approval.
    Force,
    /// Captures this finger's impression afresh.
    RetakeFinger(Finger),
    /// Opens the exception form for this finger.
    Exception(Finger),
    WithdrawException(Finger),
    /// Picks or unpicks a finger that cannot be placed.
    PickUnplaceable(Finger),
    /// Opens one exception form (unable to print) for the picked fingers,
    /// with this reason (in the operator's language) filled in.
    DeclareUnplaceable(String),
    Resume,
    Shortcut(Shortcut),
    Dialog(DialogMessage),
}

/// "right thumb", "the four fingers of the right hand", …
pub fn impression_name(impression: Impression, i18n: &I18n) -> String {
    match impression {
        Impression::Finger(f) => i18n.tr(finger_text_id(f)),
        Impression::RightSlap => i18n.tr("impression-right-slap"),
        Impression::LeftSlap => i18n.tr("impression-left-slap"),
        Impression::Thumbs => i18n.tr("impression-thumbs"),
    }
}

pub use crate::enrolment::tenprint::finger_text_id;

/// The operator message for an SBI error code (MOSIP SBI 1.0 table).
fn sbi_error_id(code: &str) -> Option<&'static str> {
    Some(match code.trim().parse::<u32>().ok()? {
        100 => "err-sbi-100",
        101 => "err-sbi-101",
        102 => "err-sbi-102",
        103 => "err-sbi-103",
        104 => "err-sbi-104",
        105 => "err-sbi-105",
        106 => "err-sbi-106",
        107 => "err-sbi-107",
        108 => "err-sbi-108",
        109 => "err-sbi-109",
        110 => "err-sbi-110",
        112 => "err-sbi-112",
        500..=599 => "err-sbi-vendor",
        _ => return None,
    })
}

pub fn scan_error_text(e: &ScanError) -> Text {
    match e {
        ScanError::Cancelled => Text::new("err-scan-cancelled"),
        ScanError::Timeout(d) => {
            Text::new("err-scan-timeout").arg("seconds", d.as_secs().to_string())
        }
        ScanError::Disconnected(detail) => {
            Text::new("err-scan-disconnected").arg("detail", detail.clone())
        }
        ScanError::Protocol(detail) => Text::new("err-scan-protocol").arg("detail", detail.clone()),
        ScanError::Busy => Text::new("err-scan-busy"),
        ScanError::NoAnswer(d) => {
            Text::new("err-scan-no-answer").arg("seconds", d.as_secs_f32().ceil().to_string())
        }
        ScanError::Device { code, message } => match sbi_error_id(code) {
            Some(id) => Text::new(id).arg("code", code.clone()),
            None => Text::new("err-scan-device")
                .arg("code", code.clone())
                .arg("detail", message.clone()),
        },
        ScanError::Untrusted(detail) => {
            Text::new("err-scan-untrusted").arg("detail", detail.clone())
        }
        ScanError::Unsupported => Text::new("err-scan-unsupported"),
    }
}

/// The operator's explanation of a problem with a capture.
pub fn problem_text(problem: &Problem, impression: Impression, i18n: &I18n) -> Text {
    let name = |f: Finger| i18n.tr(finger_text_id(f));
    match problem {
        Problem::Count { expected, found } => Text::new("err-finger-count")
            .arg("expected", expected.to_string())
            .arg("found", found.to_string())
            .arg("impression", impression_name(impression, i18n)),
        Problem::WrongHand {
            expected,
            looks_like,
        } => Text::new("err-wrong-hand")
            .arg("expected", impression_name(*expected, i18n))
            .arg("found", impression_name(*looks_like, i18n)),
        Problem::Duplicate {
            finger,
            matches,
            score,
        } => Text::new("err-duplicate-finger")
            .arg("finger", name(*finger))
            .arg("other", name(*matches))
            .arg("score", format!("{score:.0}")),
        Problem::Sequence {
            finger,
            matched: Some(other),
        } => Text::new("err-sequence-swapped")
            .arg("finger", name(*finger))
            .arg("other", name(*other)),
        Problem::Sequence {
            finger,
            matched: None,
        } => Text::new("err-sequence-unmatched").arg("finger", name(*finger)),
        Problem::Unreadable { finger, detail } => Text::new("err-finger-unreadable")
            .arg("finger", name(*finger))
            .arg("detail", detail.clone()),
    }
}

fn refusal_text(refusal: &Refusal, i18n: &I18n) -> Text {
    let names = |fingers: &[Finger]| {
        fingers
            .iter()
            .map(|f| i18n.tr(finger_text_id(*f)))
            .collect::<Vec<_>>()
            .join("، ")
    };
    match refusal {
        Refusal::NothingToReview => Text::new("err-nothing-to-review"),
        Refusal::Problems => Text::new("err-capture-has-problems"),
        Refusal::BelowThreshold(fingers) => {
            Text::new("err-below-threshold").arg("fingers", names(fingers))
        }
        Refusal::Incomplete(fingers) => {
            Text::new("err-fingers-incomplete").arg("fingers", names(fingers))
        }
        Refusal::NoAttemptsLeft(n) => Text::new("err-no-attempts-left").arg("count", n.to_string()),
        Refusal::AttemptsLeft { left } => {
            Text::new("err-attempts-left").arg("count", left.to_string())
        }
    }
}

impl State {
    pub fn new(plan: Plan, policy: Policy, timeout: Duration) -> Self {
        Self {
            tenprint: TenPrint::new(plan, policy, timeout),
            thumbnails: BTreeMap::new(),
            review: BTreeMap::new(),
            preview: None,
            previews_seen: 0,
            dialog: None,
            notice: None,
            unplaceable: BTreeSet::new(),
        }
    }

    /// Whether device output must be polled: a capture runs, or the
    /// exception form's camera is live.
    pub fn is_running(&self) -> bool {
        self.tenprint.is_running() || self.dialog.as_ref().is_some_and(Dialog::camera_live)
    }

    pub fn enter(&mut self, session: &Session, scanner: &ScannerWorker) {
        if !self.tenprint.is_running() && self.dialog.is_none() {
            self.tenprint.start(session, scanner);
        }
    }

    pub fn leave(&mut self, scanner: &ScannerWorker) {
        self.tenprint.stop(scanner);
        self.dialog = None;
    }

    /// Captures through `scanner` and accepts (retaking light touches)
    /// until `count` fingers are in, as an operator would: for demonstration
    /// screens, with the station's configured (usually virtual) scanner.
    pub fn demo_fill(&mut self, session: &mut Session, scanner: &ScannerWorker, count: usize) {
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        self.tenprint.start(session, scanner);
        while session.fingers.len() < count && std::time::Instant::now() < deadline {
            match &self.tenprint.status {
                Status::Review(_) if self.tenprint.can_accept(session) => {
                    let _ = self.tenprint.accept(session, scanner);
                }
                Status::Review(_) if self.tenprint.can_retake() => {
                    let _ = self.tenprint.retake(session, scanner);
                }
                Status::Review(_) | Status::Complete | Status::Failed(..) | Status::Idle => break,
                Status::WaitingFor(_) | Status::FingerOn(_) => {
                    if let Some((stamp, event)) = scanner.wait(Duration::from_secs(1)) {
                        self.tenprint.handle(session, scanner, stamp, event);
                    }
                }
            }
        }
        self.tenprint.stop(scanner);
        self.replace_thumbnails(session);
    }

    pub fn thumbnail(&self, finger: Finger) -> Option<&image::Handle> {
        self.thumbnails.get(&finger)
    }

    /// Whether a form (exception or approval) is open.
    pub fn dialog_open(&self) -> bool {
        self.dialog.is_some()
    }

    fn refresh_thumbnails(&mut self, session: &Session) {
        self.thumbnails
            .retain(|f, _| session.fingers.contains_key(f));
        for (finger, captured) in &session.fingers {
            self.thumbnails
                .entry(*finger)
                .or_insert_with(|| thumbnail(&captured.image));
        }
        self.review = self
            .tenprint
            .round()
            .map(|r| {
                r.impression
                    .fingers()
                    .into_iter()
                    .filter_map(|f| r.shown(f).map(|a| (f, thumbnail(&a.image))))
                    .collect()
            })
            .unwrap_or_default();
    }

    /// Re-renders the accepted thumbnails (after a retake replaced some).
    fn replace_thumbnails(&mut self, session: &Session) {
        self.thumbnails.clear();
        self.refresh_thumbnails(session);
    }

    fn outcome(&mut self, result: Result<(), Refusal>, session: &Session) {
        match result {
            Ok(()) => {
                self.notice = None;
                self.replace_thumbnails(session);
            }
            Err(refusal) => self.notice = Some(refusal),
        }
    }

    pub fn update(
        &mut self,
        message: Message,
        session: &mut Session,
        scanner: &ScannerWorker,
        station: &Station,
        camera: &Source,
    ) {
        match message {
            Message::Device(stamp, event) => {
                match self.tenprint.handle(session, scanner, stamp, event) {
                    Handled::Assessed => {
                        self.preview = None;
                        self.notice = None;
                        self.refresh_thumbnails(session);
                    }
                    Handled::Preview(p) => {
                        self.previews_seen += 1;
                        self.preview = Some(image::Handle::from_rgba(
                            p.width,
                            p.height,
                            grey_to_rgba(&p.pixels),
                        ));
                    }
                    Handled::Failed => self.preview = None,
                    Handled::Stale | Handled::Progress => {}
                }
            }
            Message::Accept => {
                let result = self.tenprint.accept(session, scanner);
                self.outcome(result, session);
            }
            Message::Retake => {
                let result = self.tenprint.retake(session, scanner);
                self.outcome(result, session);
            }
            Message::Force => match self.tenprint.check_force(session) {
                Ok(()) => {
                    let below = self
                        .tenprint
                        .round()
                        .map(|r| r.below(self.tenprint.policy.quality_threshold))
                        .unwrap_or_default();
                    self.dialog = Some(Dialog::force(below));
                }
                Err(refusal) => self.notice = Some(refusal),
            },
            Message::RetakeFinger(finger) => {
                self.preview = None;
                self.notice = None;
                self.tenprint.retake_finger(finger, session, scanner);
                self.refresh_thumbnails(session);
            }
            Message::Exception(finger) => {
                self.dialog = Some(Dialog::exception(finger, camera));
            }
            Message::WithdrawException(finger) => {
                self.tenprint.withdraw_exception(finger, session, scanner);
                self.replace_thumbnails(session);
            }
            Message::PickUnplaceable(finger) => {
                if !self.unplaceable.remove(&finger) {
                    self.unplaceable.insert(finger);
                }
            }
            Message::DeclareUnplaceable(reason) => {
                let fingers: Vec<Finger> = self
                    .unplaceable
                    .iter()
                    .copied()
                    .filter(|f| !session.exceptions.contains_key(f))
                    .collect();
                if !fingers.is_empty() {
                    self.dialog = Some(Dialog::exception_for(
                        fingers,
                        Some(ExceptionKind::Unprintable),
                        reason,
                        camera,
                    ));
                }
            }
            Message::Resume => {
                self.notice = None;
                if matches!(self.tenprint.status, Status::Failed(..)) {
                    if let Some(i) = self.tenprint.current_impression() {
                        self.tenprint
                            .retake_finger(i.fingers()[0], session, scanner);
                    } else {
                        self.tenprint.start(session, scanner);
                    }
                } else {
                    self.tenprint.start(session, scanner);
                }
            }
            Message::Shortcut(shortcut) => {
                self.shortcut(shortcut, session, scanner, station, camera);
            }
            Message::Dialog(message) => {
                let Some(dialog) = &mut self.dialog else {
                    return;
                };
                match dialog.update(message, station) {
                    dialog::Outcome::Open => {}
                    dialog::Outcome::Cancelled => self.dialog = None,
                    dialog::Outcome::Forced { supervisor } => {
                        self.dialog = None;
                        let result = self.tenprint.force_accept(session, scanner, &supervisor);
                        self.outcome(result, session);
                    }
                    dialog::Outcome::Exception { fingers, exception } => {
                        self.dialog = None;
                        self.notice = None;
                        for finger in fingers {
                            self.unplaceable.remove(&finger);
                            self.tenprint.declare_exception(
                                finger,
                                (*exception).clone(),
                                session,
                                scanner,
                            );
                        }
                        self.replace_thumbnails(session);
                    }
                }
            }
        }
    }

    fn shortcut(
        &mut self,
        shortcut: Shortcut,
        session: &mut Session,
        scanner: &ScannerWorker,
        station: &Station,
        camera: &Source,
    ) {
        if self.dialog.is_some() {
            if shortcut == Shortcut::Cancel {
                self.dialog = None;
            }
            return;
        }
        let message = match shortcut {
            Shortcut::Accept => Message::Accept,
            Shortcut::Retake => Message::Retake,
            Shortcut::Force => Message::Force,
            Shortcut::Cancel => return,
            Shortcut::Exception => {
                let Some(finger) = self.exception_candidate(session) else {
                    return;
                };
                Message::Exception(finger)
            }
        };
        self.update(message, session, scanner, station, camera);
    }

    /// The finger E declares an exception for: the first finger of the
    /// current impression that is missing or below the threshold, else
    /// its first finger.
    fn exception_candidate(&self, session: &Session) -> Option<Finger> {
        let impression = self.tenprint.current_impression()?;
        let fingers: Vec<Finger> = impression
            .fingers()
            .into_iter()
            .filter(|f| !session.exceptions.contains_key(f))
            .collect();
        let threshold = self.tenprint.policy.quality_threshold;
        let round = self.tenprint.round();
        fingers
            .iter()
            .copied()
            .find(|f| {
                round.is_some_and(|r| r.best.get(f).is_none_or(|a| a.quality.score < threshold))
            })
            .or_else(|| fingers.first().copied())
    }

    /// Keeps the exception form's camera picture current.
    pub fn tick(&mut self) {
        if let Some(dialog) = &mut self.dialog {
            dialog.tick();
        }
    }
}

fn thumbnail(img: &pishkhan_scanner::FingerImage) -> image::Handle {
    image::Handle::from_rgba(img.width, img.height, grey_to_rgba(&img.pixels))
}

/// The container style for a quality score: success at or above the
/// threshold, warning a little below, danger well below.
fn quality_style(score: u8, threshold: u8) -> fn(&iced::Theme) -> container::Style {
    if score >= threshold {
        container::success
    } else if score.saturating_add(15) >= threshold {
        container::warning
    } else {
        container::danger
    }
}

/// "quality 72" in the operator's digits, on the score's colour.
fn score_badge<'a, M: 'a>(score: u8, threshold: u8, i18n: &I18n) -> Element<'a, M> {
    container(
        text(i18n.text(&Text::new("ui-quality-score").arg("score", score.to_string()))).size(13),
    )
    .padding([2, 8])
    .style(quality_style(score, threshold))
    .into()
}

impl State {
    fn status_line<'a>(&self, session: &Session, i18n: &I18n) -> Element<'a, Message> {
        let name = |i: Impression| impression_name(i, i18n);
        match &self.tenprint.status {
            Status::Idle if session.missing_fingers().is_empty() => {
                text(i18n.tr("ui-fingers-complete"))
                    .style(text::success)
                    .into()
            }
            Status::Idle => row(
                i18n,
                vec![
                    text(i18n.tr("ui-fingers-paused")).into(),
                    button(text(i18n.tr("ui-resume")))
                        .style(button::primary)
                        .on_press(Message::Resume)
                        .into(),
                ],
            )
            .into(),
            Status::WaitingFor(i) => {
                text(i18n.text(&Text::new("ui-place-finger").arg("finger", name(*i))))
                    .size(20)
                    .into()
            }
            Status::FingerOn(i) => {
                text(i18n.text(&Text::new("ui-finger-on").arg("finger", name(*i))))
                    .size(20)
                    .into()
            }
            Status::Review(i) => {
                text(i18n.text(&Text::new("ui-review-capture").arg("impression", name(*i))))
                    .size(20)
                    .into()
            }
            Status::Failed(i, e) => row(
                i18n,
                vec![
                    text(format!("{}: {}", name(*i), i18n.text(&scan_error_text(e))))
                        .style(text::danger)
                        .into(),
                    button(text(i18n.tr("ui-try-again")))
                        .style(button::primary)
                        .on_press(Message::Resume)
                        .into(),
                ],
            )
            .into(),
            Status::Complete => text(i18n.tr("ui-fingers-complete"))
                .style(text::success)
                .into(),
        }
    }

    /// The assessed attempt: best image per finger with its score, the
    /// problems, and the operator's choices.
    fn review_panel<'a>(&'a self, session: &Session, i18n: &I18n) -> Option<Element<'a, Message>> {
        let round = self.tenprint.round().filter(|r| r.attempts > 0)?;
        let policy = self.tenprint.policy;
        let threshold = policy.quality_threshold;
        let pictures = round
            .impression
            .fingers()
            .into_iter()
            .map(|finger| {
                let mut col = column![text(i18n.tr(finger_text_id(finger))).size(14)]
                    .spacing(4)
                    .align_x(Alignment::Center)
                    .width(Length::Fill);
                if let Some(exception) = session.exceptions.get(&finger) {
                    col = col.push(
                        container(text(exception.kind.code()).size(28))
                            .center(Length::Fill)
                            .height(160),
                    );
                } else if let (Some(handle), Some(best)) =
                    (self.review.get(&finger), round.shown(finger))
                {
                    col = col
                        .push(
                            image(handle.clone())
                                .content_fit(ContentFit::Contain)
                                .height(160),
                        )
                        .push(score_badge(best.quality.score, threshold, i18n));
                    if best.quality.score < threshold {
                        let failing: Vec<String> = best
                            .quality
                            .failing()
                            .map(|m| i18n.tr(&format!("measure-{}", m.measure.id())))
                            .collect();
                        if !failing.is_empty() {
                            col =
                                col.push(text(failing.join("، ")).size(12).style(text::secondary));
                        }
                    }
                } else {
                    col = col.push(
                        container(text("—").size(28))
                            .center(Length::Fill)
                            .height(160),
                    );
                }
                col.into()
            })
            .collect();
        let attempts = Text::new("ui-attempt-of")
            .arg("attempt", round.quality_attempts.max(1).to_string())
            .arg("max", policy.max_attempts.to_string());
        let mut col = column![
            widget::line(i18n, i18n.text(&attempts)),
            row(i18n, pictures).spacing(10),
        ]
        .spacing(10);
        for problem in &round.problems {
            col = col.push(widget::error(
                i18n,
                &problem_text(problem, round.impression, i18n),
            ));
        }
        if !round.problems.is_empty() {
            col = col.push(widget::line(i18n, i18n.tr("ui-retake-or-exception")));
        }
        if let Some(refusal) = &self.notice {
            col = col.push(widget::error(i18n, &refusal_text(refusal, i18n)));
        }
        let busy = self.tenprint.is_running();
        let action = |label: &str,
                      style: fn(&iced::Theme, button::Status) -> button::Style,
                      on: Option<Message>| {
            button(text(i18n.tr(label)))
                .padding([8, 16])
                .style(style)
                .on_press_maybe(on.filter(|_| !busy))
                .into()
        };
        let buttons: Vec<Element<'a, Message>> = vec![
            action(
                "ui-accept-key",
                button::success,
                self.tenprint.can_accept(session).then_some(Message::Accept),
            ),
            action(
                "ui-retake-key",
                button::secondary,
                self.tenprint.can_retake().then_some(Message::Retake),
            ),
            action(
                "ui-force-key",
                button::warning,
                self.tenprint.can_force(session).then_some(Message::Force),
            ),
            action(
                "ui-exception-key",
                button::secondary,
                self.exception_candidate(session).map(Message::Exception),
            ),
        ];
        col = col.push(widget::aligned(i18n, row(i18n, buttons).spacing(10)));
        Some(
            container(col)
                .padding(12)
                .width(Length::Fill)
                .style(container::bordered_box)
                .into(),
        )
    }

    /// The accommodation "fingers cannot be placed": pick the fingers,
    /// then one click opens the exception form for all of them, marked
    /// unable to print with the reason filled in; the photo and the
    /// supervisor's approval are asked for as always.
    fn unplaceable_panel<'a>(&self, session: &Session, i18n: &I18n) -> Element<'a, Message> {
        let pick = |fingers: &[Finger]| {
            widget::aligned(
                i18n,
                row(
                    i18n,
                    fingers
                        .iter()
                        .filter(|f| !session.exceptions.contains_key(f))
                        .map(|&f| {
                            widget::toggle(
                                i18n,
                                i18n.tr(finger_text_id(f)),
                                self.unplaceable.contains(&f),
                                Message::PickUnplaceable(f),
                            )
                        })
                        .collect(),
                )
                .spacing(8),
            )
        };
        let picked = self
            .unplaceable
            .iter()
            .any(|f| !session.exceptions.contains_key(f));
        container(
            column![
                widget::line(i18n, i18n.tr("ui-unplaceable-title")),
                pick(&Finger::ALL[..5]),
                pick(&Finger::ALL[5..]),
                widget::aligned(
                    i18n,
                    button(text(i18n.tr("ui-unplaceable-declare")).size(18))
                        .padding([12, 18])
                        .style(button::primary)
                        .on_press_maybe(picked.then(|| {
                            Message::DeclareUnplaceable(i18n.tr("ui-unplaceable-reason"))
                        })),
                ),
            ]
            .spacing(8),
        )
        .padding(12)
        .width(Length::Fill)
        .style(container::bordered_box)
        .into()
    }

    fn card<'a>(&self, finger: Finger, session: &Session, i18n: &I18n) -> Element<'a, Message> {
        let current = self.tenprint.is_capturing(finger);
        let threshold = self.tenprint.policy.quality_threshold;
        let idle = self.dialog.is_none();
        let mut col = column![text(i18n.tr(finger_text_id(finger))).size(14)]
            .spacing(6)
            .align_x(Alignment::Center);
        if let Some(exception) = session.exceptions.get(&finger) {
            let kind = i18n.tr(exception.kind.text_id());
            col = col
                .push(
                    container(text(exception.kind.code()).size(28))
                        .center(Length::Fill)
                        .height(100),
                )
                .push(text(kind).size(12).style(text::secondary))
                .push(
                    button(text(i18n.tr("ui-withdraw-exception")).size(13))
                        .style(button::secondary)
                        .on_press_maybe(idle.then_some(Message::WithdrawException(finger))),
                );
        } else {
            let picture: Element<'a, Message> = match self.thumbnails.get(&finger) {
                Some(handle) => image(handle.clone())
                    .content_fit(ContentFit::Contain)
                    .height(100)
                    .into(),
                None => container(text(if current { "…" } else { "—" }).size(28))
                    .center(Length::Fill)
                    .height(100)
                    .into(),
            };
            col = col.push(picture);
            if let Some(captured) = session.fingers.get(&finger) {
                col = col.push(score_badge(captured.score(), threshold, i18n));
                if captured.forced_by.is_some() {
                    col = col.push(text(i18n.tr("ui-forced")).size(12).style(text::danger));
                }
                if !current {
                    col = col.push(
                        button(text(i18n.tr("ui-retake")).size(13))
                            .style(button::secondary)
                            .on_press_maybe(idle.then_some(Message::RetakeFinger(finger))),
                    );
                }
            }
            col = col.push(
                button(text(i18n.tr("ui-declare-exception")).size(12))
                    .style(button::text)
                    .on_press_maybe(idle.then_some(Message::Exception(finger))),
            );
        }
        container(col)
            .padding(8)
            .width(Length::Fill)
            .style(if current {
                container::primary
            } else {
                container::bordered_box
            })
            .into()
    }

    pub fn view<'a>(&'a self, session: &'a Session, i18n: &I18n) -> Element<'a, Message> {
        let plan = match self.tenprint.plan() {
            Plan::Slaps => "ui-plan-slaps",
            Plan::Flats => "ui-plan-flats",
        };
        let done = session.fingers.len() + session.exceptions.len();
        let header = column![
            widget::heading(i18n, i18n.tr("ui-fingerprints-title")),
            widget::line(i18n, i18n.tr(plan)),
            widget::aligned(i18n, self.status_line(session, i18n)),
            widget::line(
                i18n,
                i18n.text(
                    &Text::new("ui-fingers-count").arg("count", i18n.digits(&done.to_string()))
                ),
            ),
        ]
        .spacing(8);
        if let Some(dialog) = &self.dialog {
            return column![header, dialog.view(i18n).map(Message::Dialog)]
                .spacing(14)
                .into();
        }
        let diagram = hand::diagram(
            session,
            self.tenprint.current_impression(),
            self.tenprint.policy.quality_threshold,
            i18n,
        );
        let live: Element<'a, Message> = match (&self.preview, self.tenprint.is_running()) {
            (Some(p), true) => column![
                widget::line(i18n, i18n.tr("ui-scanner-preview")),
                container(
                    image(p.clone())
                        .content_fit(ContentFit::Contain)
                        .height(200)
                )
                .center_x(Length::Fill)
                .style(container::bordered_box),
            ]
            .spacing(6)
            .width(Length::Fill)
            .into(),
            _ => iced::widget::space().width(Length::Fill).into(),
        };
        let hands = |fingers: &[Finger], label: &str| {
            column![
                widget::line(i18n, i18n.tr(label)),
                row(
                    i18n,
                    fingers
                        .iter()
                        .map(|&f| self.card(f, session, i18n))
                        .collect()
                )
            ]
            .spacing(6)
        };
        let mut col = column![header].spacing(14);
        if session
            .accommodations
            .contains(Accommodation::FingersCannotBePlaced)
        {
            col = col.push(self.unplaceable_panel(session, i18n));
        }
        let mut col = col.push(row(i18n, vec![diagram, live]).spacing(16));
        if let Some(panel) = self.review_panel(session, i18n) {
            col = col.push(panel);
        } else if let Some(refusal) = &self.notice {
            col = col.push(widget::error(i18n, &refusal_text(refusal, i18n)));
        }
        col.push(hands(&Finger::ALL[..5], "ui-right-hand"))
            .push(hands(&Finger::ALL[5..], "ui-left-hand"))
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn every_quality_measure_has_a_name_in_both_languages() {
        for lang in [Lang::Fa, Lang::En] {
            let i18n = I18n::new(lang);
            for measure in pishkhan_fingerprint::quality::Measure::ALL {
                let id = format!("measure-{}", measure.id());
                assert_ne!(i18n.tr(&id), id, "{lang:?}: {id} has no translation");
            }
        }
    }

    #[test]
    fn every_sbi_error_code_has_an_operator_message_in_both_languages() {
        for lang in [Lang::Fa, Lang::En] {
            let i18n = I18n::new(lang);
            for code in (100..=112).chain([503, 599]) {
                let error = ScanError::Device {
                    code: code.to_string(),
                    message: "english detail".into(),
                };
                let text = i18n.text(&scan_error_text(&error));
                if code == 111 {
                    continue; // busy is ScanError::Busy, never a Device error
                }
                assert!(!text.contains("english detail"), "{lang:?} {code}: {text}");
                assert!(
                    text.contains(&i18n.digits(&code.to_string())),
                    "{lang:?} {code}: {text}"
                );
            }
        }
    }
}
