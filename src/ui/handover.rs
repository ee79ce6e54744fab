//! Handing a card over, at a visit of the team's route or at the office
//! counter (found by its tracking code, [`Lookup`]): the applicant places
//! one or two fingers, the station compares each with the enrolled template, and the
//! card goes over on a match. Without one (every attempt used, no usable
//! template, fingers that cannot be placed now) a supervisor signs in on
//! the spot, checks the birth certificate with photo, and approves with a
//! reason. The procedure is `crate::field::handover`'s.

use iced::widget::{button, column, container, scrollable, text, text_input};
use iced::{Element, Length};
use pishkhan_scanner::Finger;

use super::approval::Approval;
use super::widget::{self, row};
use crate::devices::ScannerWorker;
use crate::field::cache::Recorded;
use crate::field::handover::{
    CardHolder, CheckStatus, Fallback, FallbackReason, FingerChecks, MAX_ATTEMPTS, Verifier,
};
use crate::i18n::I18n;
use crate::station::Station;
use crate::text::Text;

/// The card being handed over and to whom.
#[derive(Debug, Clone)]
pub struct Card {
    pub tracking_code: String,
    pub name: String,
    pub national_code: String,
    /// The visit of the team's route; `None` at the office counter.
    pub visit_id: Option<String>,
}

pub struct Handover {
    pub card: Card,
    /// The finger checks; `None` when there is no template to check with.
    pub checks: Option<FingerChecks>,
    /// Why there is nothing to check with.
    no_templates: Option<Text>,
    finger: Option<Finger>,
    /// The supervisor's fallback form, once opened.
    fallback: Option<FallbackForm>,
    approval: Approval,
    /// The recorded handover, or why it was not recorded.
    pub done: Option<Result<Recorded, Text>>,
}

#[derive(Debug, Default)]
struct FallbackForm {
    reason: Option<FallbackReason>,
    note: String,
    problem: Option<Text>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Finger(Finger),
    Capture,
    CancelCapture,
    HandOver,
    OpenFallback,
    Reason(FallbackReason),
    Note(String),
    SupervisorUsername(String),
    SupervisorPassword(String),
    Approve,
    Close,
}

pub enum Event {
    Close,
}

impl Handover {
    /// The handover of `visit_id` of the team's list.
    pub fn open(station: &Station, visit_id: &str) -> Result<Handover, Text> {
        let (visit, verifier) = station.handover_visit(visit_id).map_err(|e| e.text())?;
        let card = Card {
            tracking_code: visit.tracking_code.clone().unwrap_or_default(),
            name: visit.name(),
            national_code: visit.national_code.clone(),
            visit_id: Some(visit.id.clone()),
        };
        Ok(Self::with(station, card, verifier))
    }

    /// The handover at the office counter of the card the intake served.
    pub fn at_counter(station: &Station, holder: &CardHolder) -> Handover {
        let card = Card {
            tracking_code: holder.tracking_code.clone(),
            name: format!("{} {}", holder.first_name, holder.last_name),
            national_code: holder.national_code.clone(),
            visit_id: None,
        };
        Self::with(station, card, Some(Verifier::open(&holder.enrolled)))
    }

    fn with(
        station: &Station,
        card: Card,
        verifier: Option<Result<Verifier, crate::field::handover::TemplateError>>,
    ) -> Handover {
        let timeout = std::time::Duration::from_secs(station.config.devices.capture_timeout_s);
        let (checks, no_templates) = match verifier {
            None => (None, Some(Text::new("ui-handover-no-templates"))),
            Some(Err(e)) => (
                None,
                Some(Text::new("ui-handover-bad-templates").arg("detail", e.to_string())),
            ),
            Some(Ok(verifier)) if verifier.is_empty() => {
                (None, Some(Text::new("ui-handover-no-usable-templates")))
            }
            Some(Ok(verifier)) => (Some(FingerChecks::new(verifier, timeout)), None),
        };
        let finger = checks.as_ref().and_then(FingerChecks::suggested);
        Handover {
            card,
            checks,
            no_templates,
            finger,
            fallback: None,
            approval: Approval::default(),
            done: None,
        }
    }

    /// Whether the scanner is being listened to (the app ticks then).
    pub fn needs_ticks(&self) -> bool {
        self.checks.as_ref().is_some_and(FingerChecks::capturing)
    }

    /// Takes in the scanner's events.
    pub fn tick(&mut self, worker: &ScannerWorker) {
        if let Some(checks) = &mut self.checks
            && checks.poll(worker)
            && !checks.matched()
            && !checks.capturing()
        {
            // Suggest the next finger after a miss.
            self.finger = checks.suggested().or(self.finger);
        }
    }

    /// Stops listening to the scanner (the screen closes).
    pub fn leave(&mut self, worker: &ScannerWorker) {
        if let Some(checks) = &mut self.checks {
            checks.stop(worker);
        }
    }

    pub fn update(
        &mut self,
        message: Message,
        station: &Station,
        worker: &ScannerWorker,
        operator: &str,
        location: Option<crate::field::Location>,
    ) -> Option<Event> {
        match message {
            Message::Finger(finger) => self.finger = Some(finger),
            Message::Capture => {
                if let (Some(checks), Some(finger)) = (&mut self.checks, self.finger) {
                    checks.start(finger, worker);
                }
            }
            Message::CancelCapture => {
                if let Some(checks) = &mut self.checks {
                    checks.stop(worker);
                }
            }
            Message::HandOver => {
                if let Some(checks) = self.checks.as_ref().filter(|c| c.matched()) {
                    let mut record =
                        checks.record(self.card(), self.card.visit_id.as_deref(), None);
                    record.location = location;
                    self.done = Some(
                        station
                            .record_handover(operator, record, false)
                            .map_err(|e| e.text()),
                    );
                }
            }
            Message::OpenFallback => {
                if let Some(checks) = &mut self.checks {
                    checks.stop(worker);
                }
                let reason = if self.checks.is_none() {
                    Some(FallbackReason::NoTemplate)
                } else if self.checks.as_ref().is_some_and(FingerChecks::exhausted) {
                    Some(FallbackReason::NoMatch)
                } else {
                    None
                };
                self.fallback = Some(FallbackForm {
                    reason,
                    ..FallbackForm::default()
                });
            }
            Message::Reason(reason) => {
                if let Some(form) = &mut self.fallback {
                    form.reason = Some(reason);
                }
            }
            Message::Note(note) => {
                if let Some(form) = &mut self.fallback {
                    form.note = note;
                }
            }
            Message::SupervisorUsername(v) => self.approval.username = v,
            Message::SupervisorPassword(v) => self.approval.password = v,
            Message::Approve => self.approve(station, operator, location),
            Message::Close => {
                self.leave(worker);
                return Some(Event::Close);
            }
        }
        None
    }

    fn card(&self) -> &str {
        &self.card.tracking_code
    }

    /// The reasons this handover may give: "no match" only after every
    /// attempt, "no template" only without one.
    fn reasons(&self) -> Vec<FallbackReason> {
        FallbackReason::ALL
            .into_iter()
            .filter(|r| match r {
                FallbackReason::NoMatch => {
                    self.checks.as_ref().is_some_and(FingerChecks::exhausted)
                }
                FallbackReason::NoTemplate => self.checks.is_none(),
                _ => true,
            })
            .collect()
    }

    fn approve(
        &mut self,
        station: &Station,
        operator: &str,
        location: Option<crate::field::Location>,
    ) {
        let Some(form) = &mut self.fallback else {
            return;
        };
        let Some(reason) = form.reason else {
            form.problem = Some(Text::new("ui-handover-pick-reason"));
            return;
        };
        if reason == FallbackReason::Other && form.note.trim().is_empty() {
            form.problem = Some(Text::new("ui-handover-note-required"));
            return;
        }
        form.problem = None;
        let Some(supervisor) = self.approval.verify(station) else {
            return;
        };
        let fallback = Fallback {
            reason,
            note: form.note.trim().to_owned(),
            supervisor,
        };
        let mut record = match &self.checks {
            Some(checks) => {
                checks.record(self.card(), self.card.visit_id.as_deref(), Some(fallback))
            }
            None => crate::field::handover::HandoverRecord {
                tracking_code: self.card().to_owned(),
                visit_id: self.card.visit_id.clone(),
                checks: Vec::new(),
                fallback: Some(fallback),
                location: None,
                note: None,
            },
        };
        record.location = location;
        self.done = Some(
            station
                .record_handover(operator, record, false)
                .map_err(|e| e.text()),
        );
    }

    pub fn view(&self, i18n: &I18n) -> Element<'_, Message> {
        let card = &self.card;
        let code = crate::enrolment::TrackingCode::parse(self.card())
            .map_or_else(|| self.card().to_owned(), |c| c.grouped());
        let mut items: Vec<Element<'_, Message>> = vec![
            widget::heading(
                i18n,
                i18n.text(&Text::new("ui-handover-title").arg("name", card.name.clone())),
            ),
            widget::detail(i18n, "ui-national-code", i18n.digits(&card.national_code)),
            widget::detail(i18n, "ui-handover-card", i18n.digits(&code)),
            widget::line(i18n, i18n.tr("ui-handover-help")),
        ];
        if let Some(done) = &self.done {
            match done {
                Ok(_) => items.push(widget::aligned(
                    i18n,
                    container(text(i18n.tr("ui-handover-recorded")).size(20))
                        .padding([8, 16])
                        .style(container::success),
                )),
                Err(problem) => items.push(widget::error(i18n, problem)),
            }
            items.push(close(i18n, self.card.visit_id.is_some()));
            return page(items);
        }
        if let Some(problem) = &self.no_templates {
            items.push(widget::error(i18n, problem));
        }
        if let Some(checks) = &self.checks {
            items.extend(self.checks_view(i18n, checks));
        }
        match &self.fallback {
            Some(form) => items.extend(self.fallback_view(i18n, form)),
            None => {
                let offer = self.checks.as_ref().is_none_or(|c| !c.matched());
                if offer {
                    items.push(widget::aligned(
                        i18n,
                        button(text(i18n.tr("ui-handover-fallback")))
                            .padding([12, 20])
                            .style(button::secondary)
                            .on_press(Message::OpenFallback),
                    ));
                }
            }
        }
        items.push(close(i18n, self.card.visit_id.is_some()));
        page(items)
    }

    fn checks_view<'a>(
        &'a self,
        i18n: &I18n,
        checks: &'a FingerChecks,
    ) -> Vec<Element<'a, Message>> {
        let mut items = Vec::new();
        if !checks.matched() && !checks.exhausted() {
            let fingers: Vec<Element<'a, Message>> = checks
                .verifier()
                .fingers()
                .into_iter()
                .map(|f| {
                    widget::choice(
                        i18n,
                        i18n.tr(&format!("finger-{}", f.key())),
                        self.finger == Some(f),
                        Message::Finger(f),
                    )
                })
                .collect();
            items.push(widget::line(i18n, i18n.tr("ui-handover-pick-finger")));
            items.push(widget::aligned(i18n, row(i18n, fingers).spacing(8)));
            let left = Text::new("ui-handover-attempts-left")
                .arg("left", (MAX_ATTEMPTS - checks.checks().len()).to_string());
            let capture: Element<'a, Message> = if checks.capturing() {
                button(text(i18n.tr("ui-handover-cancel-capture")).size(18))
                    .padding([14, 26])
                    .style(button::secondary)
                    .on_press(Message::CancelCapture)
                    .into()
            } else {
                button(text(i18n.tr("ui-handover-capture")).size(18))
                    .padding([14, 26])
                    .on_press_maybe(self.finger.map(|_| Message::Capture))
                    .into()
            };
            items.push(widget::aligned(
                i18n,
                row(i18n, vec![capture, text(i18n.text(&left)).into()]),
            ));
        }
        let status = match &checks.status {
            CheckStatus::Idle | CheckStatus::Compared(_) => None,
            CheckStatus::WaitingFor(f) => Some(Ok(Text::new("ui-handover-waiting")
                .arg("finger", i18n.tr(&format!("finger-{}", f.key()))))),
            CheckStatus::FingerOn(_) => Some(Ok(Text::new("ui-handover-finger-on"))),
            CheckStatus::NoTemplate(f) => Some(Err(Text::new("ui-handover-finger-no-template")
                .arg("finger", i18n.tr(&format!("finger-{}", f.key()))))),
            CheckStatus::Failed(_, e) => Some(Err(
                Text::new("ui-handover-scan-failed").arg("detail", e.to_string())
            )),
        };
        match status {
            Some(Ok(line)) => items.push(widget::line(i18n, i18n.text(&line))),
            Some(Err(problem)) => items.push(widget::error(i18n, &problem)),
            None => {}
        }
        for (n, check) in checks.checks().iter().enumerate() {
            let finger = Finger::from_position(check.finger).map_or_else(
                || check.finger.to_string(),
                |f| i18n.tr(&format!("finger-{}", f.key())),
            );
            let line = Text::new(if check.matched {
                "ui-handover-check-match"
            } else {
                "ui-handover-check-no-match"
            })
            .arg("n", (n + 1).to_string())
            .arg("finger", finger)
            .arg("score", format!("{:.0}", check.score));
            items.push(widget::aligned(
                i18n,
                container(text(i18n.text(&line)))
                    .padding([4, 12])
                    .style(if check.matched {
                        container::success
                    } else {
                        container::danger
                    }),
            ));
        }
        if checks.matched() {
            items.push(widget::aligned(
                i18n,
                button(text(i18n.tr("ui-handover-hand-over")).size(20))
                    .padding([14, 28])
                    .style(button::success)
                    .on_press(Message::HandOver),
            ));
        } else if checks.exhausted() {
            items.push(widget::error(i18n, &Text::new("ui-handover-exhausted")));
        }
        items
    }

    fn fallback_view<'a>(
        &'a self,
        i18n: &I18n,
        form: &'a FallbackForm,
    ) -> Vec<Element<'a, Message>> {
        let mut items = vec![
            widget::heading(i18n, i18n.tr("ui-handover-fallback-title")),
            widget::line(i18n, i18n.tr("ui-handover-fallback-help")),
        ];
        for reason in self.reasons() {
            items.push(widget::aligned(
                i18n,
                widget::choice(
                    i18n,
                    i18n.tr(reason.text_id()),
                    form.reason == Some(reason),
                    Message::Reason(reason),
                ),
            ));
        }
        items.push(
            text_input(&i18n.tr("ui-handover-fallback-note"), &form.note)
                .id("fallback-note")
                .on_input(Message::Note)
                .padding(8)
                .align_x(widget::start(i18n))
                .into(),
        );
        if let Some(problem) = &form.problem {
            items.push(widget::error(i18n, problem));
        }
        items.extend(self.approval.view(
            i18n,
            Message::SupervisorUsername,
            Message::SupervisorPassword,
            Some(Message::Approve),
        ));
        items.push(widget::aligned(
            i18n,
            button(text(i18n.tr("ui-handover-approve")))
                .padding([12, 20])
                .on_press(Message::Approve),
        ));
        items
    }
}

fn close<'a>(i18n: &I18n, to_route: bool) -> Element<'a, Message> {
    let label = if to_route {
        "ui-handover-close"
    } else {
        "ui-handover-close-counter"
    };
    widget::aligned(
        i18n,
        button(text(i18n.tr(label)))
            .padding([10, 20])
            .style(button::secondary)
            .on_press(Message::Close),
    )
}

fn page(items: Vec<Element<'_, Message>>) -> Element<'_, Message> {
    scrollable(
        container(column(items).spacing(12).max_width(820.0))
            .center_x(Length::Fill)
            .padding(24),
    )
    .height(Length::Fill)
    .into()
}

/// Finding a card at the office counter by the tracking code on the
/// applicant's receipt; the intake is asked off the interface thread (the
/// app runs [`LookupEvent::Find`]).
#[derive(Debug, Default)]
pub struct Lookup {
    tracking: String,
    pub asking: bool,
    problem: Option<Text>,
}

#[derive(Debug, Clone)]
pub enum LookupMessage {
    Tracking(String),
    Find,
    /// The intake answered (or could not be asked).
    Found(Result<Box<CardHolder>, Text>),
    Close,
}

pub enum LookupEvent {
    Find(crate::enrolment::TrackingCode),
    Found(Box<CardHolder>),
    Close,
}

impl Lookup {
    pub fn update(&mut self, message: LookupMessage) -> Option<LookupEvent> {
        match message {
            LookupMessage::Tracking(v) => self.tracking = v,
            LookupMessage::Find if !self.asking => {
                match crate::enrolment::TrackingCode::parse(&self.tracking) {
                    Some(code) => {
                        self.asking = true;
                        self.problem = None;
                        return Some(LookupEvent::Find(code));
                    }
                    None => self.problem = Some(Text::new("err-status-bad-tracking-code")),
                }
            }
            LookupMessage::Find => {}
            LookupMessage::Found(result) => {
                self.asking = false;
                match result {
                    Ok(card) => return Some(LookupEvent::Found(card)),
                    Err(problem) => self.problem = Some(problem),
                }
            }
            LookupMessage::Close => return Some(LookupEvent::Close),
        }
        None
    }

    pub fn view(&self, i18n: &I18n) -> Element<'_, LookupMessage> {
        let find = button(text(i18n.tr(if self.asking {
            "ui-card-status-asking"
        } else {
            "ui-handover-find"
        })))
        .padding([10, 20])
        .on_press_maybe((!self.asking).then_some(LookupMessage::Find));
        widget::page(vec![
            widget::heading(i18n, i18n.tr("ui-handover-counter-title")),
            widget::line(i18n, i18n.tr("ui-handover-counter-help")),
            widget::field(
                i18n,
                "counter-tracking",
                "ui-card-status-tracking",
                &self.tracking,
                LookupMessage::Tracking,
                self.problem.as_ref(),
            ),
            widget::aligned(i18n, find),
            widget::aligned(
                i18n,
                button(text(i18n.tr("ui-card-status-close")))
                    .padding([8, 20])
                    .style(button::secondary)
                    .on_press(LookupMessage::Close),
            ),
        ])
    }
}
