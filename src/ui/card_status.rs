//! "Where is my card?" at the counter: the applicant's status at the
//! authority, asked of the intake by the tracking code on the receipt, or
//! by national code, birth certificate serial and birth date when the
//! receipt is lost. The question goes out off the interface thread (the
//! app runs [`Event::Ask`]); `crate::status` does the asking.

use iced::widget::{button, column, container, text};
use iced::{Element, Length};

use super::widget;
use crate::i18n::I18n;
use crate::status::{ApplicantStatus, BadInput, Query, StatusError};
use crate::text::Text;

/// Which of the two questions was asked last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Tracking,
    Applicant,
}

#[derive(Debug, Default)]
pub struct CardStatus {
    tracking: String,
    national_code: String,
    serial: String,
    birth_date: String,
    /// A question is on its way.
    pub asking: bool,
    asked: Option<Asked>,
    /// A typed value at fault: the field's input id and what to fix.
    problem: Option<(&'static str, Text)>,
    /// The last answer, or why there is none.
    pub answer: Option<Result<ApplicantStatus, Text>>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Tracking(String),
    NationalCode(String),
    Serial(String),
    BirthDate(String),
    AskByTracking,
    AskByApplicant,
    /// The intake answered (or could not be asked).
    Answer(Result<ApplicantStatus, AnswerError>),
    Close,
}

/// Why a question got no status, as the screen needs it: the field at
/// fault for bad input, else the line to show.
#[derive(Debug, Clone)]
pub struct AnswerError {
    field: Option<&'static str>,
    text: Text,
}

impl From<StatusError> for AnswerError {
    fn from(e: StatusError) -> Self {
        let field = match &e {
            StatusError::BadInput(bad) => input_of(bad),
            _ => None,
        };
        Self {
            field,
            text: e.text(),
        }
    }
}

/// The input that holds what `bad` is about.
fn input_of(bad: &BadInput) -> Option<&'static str> {
    match bad {
        BadInput::TrackingCode(_) => Some("lookup-tracking"),
        BadInput::NationalCode(_) => Some("lookup-national-code"),
        BadInput::Serial(_) => Some("lookup-serial"),
        BadInput::BirthDate { .. } => Some("lookup-birth-date"),
        BadInput::Request(_) => None,
    }
}

pub enum Event {
    /// Send this question to the intake; answer with [`Message::Answer`].
    Ask(Query),
    Close,
}

impl CardStatus {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Tracking(v) => self.tracking = v,
            Message::NationalCode(v) => self.national_code = v,
            Message::Serial(v) => self.serial = v,
            Message::BirthDate(v) => self.birth_date = v,
            Message::AskByTracking => {
                return self.ask(Asked::Tracking, Query::tracking(&self.tracking));
            }
            Message::AskByApplicant => {
                let query = Query::applicant(&self.national_code, &self.serial, &self.birth_date);
                return self.ask(Asked::Applicant, query);
            }
            Message::Answer(answer) => {
                self.asking = false;
                self.answer = Some(answer.map_err(|e| {
                    if let Some(field) = e.field {
                        self.problem = Some((field, e.text.clone()));
                    }
                    e.text
                }));
            }
            Message::Close => return Some(Event::Close),
        }
        None
    }

    /// Checks the question before it goes; one question at a time.
    fn ask(&mut self, asked: Asked, query: Result<Query, BadInput>) -> Option<Event> {
        if self.asking {
            return None;
        }
        self.asked = Some(asked);
        self.answer = None;
        self.problem = None;
        match query {
            Ok(query) => {
                self.asking = true;
                Some(Event::Ask(query))
            }
            Err(bad) => {
                self.problem = input_of(&bad).map(|field| (field, bad.text()));
                None
            }
        }
    }

    fn problem(&self, field: &str) -> Option<&Text> {
        self.problem
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, t)| t)
    }

    pub fn view(&self, i18n: &I18n) -> Element<'_, Message> {
        let ask = |id: &str, message: Message| {
            let b = button(text(i18n.tr(id))).padding([8, 20]);
            widget::aligned(i18n, if self.asking { b } else { b.on_press(message) })
        };
        let mut by_tracking = vec![
            widget::line(i18n, i18n.tr("ui-card-status-by-tracking")),
            widget::field(
                i18n,
                "lookup-tracking",
                "ui-card-status-tracking",
                &self.tracking,
                Message::Tracking,
                self.problem("lookup-tracking"),
            ),
            ask("ui-card-status-ask-tracking", Message::AskByTracking),
        ];
        if self.asked == Some(Asked::Tracking) {
            by_tracking.extend(self.answer_view(i18n));
        }
        let mut by_applicant = vec![
            widget::line(i18n, i18n.tr("ui-card-status-by-applicant")),
            widget::field(
                i18n,
                "lookup-national-code",
                "ui-national-code",
                &self.national_code,
                Message::NationalCode,
                self.problem("lookup-national-code"),
            ),
            widget::field(
                i18n,
                "lookup-serial",
                "ui-card-status-serial",
                &self.serial,
                Message::Serial,
                self.problem("lookup-serial"),
            ),
            widget::field(
                i18n,
                "lookup-birth-date",
                "ui-card-status-birth-date",
                &self.birth_date,
                Message::BirthDate,
                self.problem("lookup-birth-date"),
            ),
            ask("ui-card-status-ask-applicant", Message::AskByApplicant),
        ];
        if self.asked == Some(Asked::Applicant) {
            by_applicant.extend(self.answer_view(i18n));
        }
        let panel = |items: Vec<Element<'static, Message>>| -> Element<'static, Message> {
            container(column(items).spacing(8))
                .padding(16)
                .width(Length::Fill)
                .style(container::bordered_box)
                .into()
        };
        let items: Vec<Element<'_, Message>> = vec![
            widget::heading(i18n, i18n.tr("ui-card-status-title")),
            widget::line(i18n, i18n.tr("ui-card-status-help")),
            panel(by_tracking),
            panel(by_applicant),
            widget::aligned(
                i18n,
                button(text(i18n.tr("ui-card-status-close")))
                    .padding([8, 20])
                    .style(button::secondary)
                    .on_press(Message::Close),
            ),
        ];
        widget::page(items)
    }

    /// The answer under the question that was asked.
    fn answer_view(&self, i18n: &I18n) -> Vec<Element<'static, Message>> {
        if self.asking {
            return vec![widget::line(i18n, i18n.tr("ui-card-status-asking"))];
        }
        match &self.answer {
            None => Vec::new(),
            // A problem with a typed value shows under its field.
            Some(Err(_)) if self.problem.is_some() => Vec::new(),
            Some(Err(problem)) => vec![widget::error(i18n, problem)],
            Some(Ok(status)) => {
                let stage = container(text(i18n.tr(status.stage.label_id())).size(15))
                    .padding([2, 10])
                    .style(if status.stage == crate::status::Stage::Rejected {
                        container::danger
                    } else {
                        container::success
                    });
                let code = Text::new("status-applicant-tracking")
                    .arg("code", status.tracking_code.grouped());
                let updated = Text::new("status-applicant-updated").arg(
                    "at",
                    widget::local_time(i18n, &status.updated_at.to_rfc3339()),
                );
                vec![
                    widget::aligned(i18n, stage),
                    widget::line(i18n, status.describe(i18n)),
                    widget::line(i18n, i18n.text(&code)),
                    widget::line(i18n, i18n.text(&updated)),
                ]
            }
        }
    }
}
