//! The forms of the fingerprint step that need a supervisor: declaring an
//! exception (missing or unprintable finger, with a reason, permanent or
//! temporary, and a waist-up photo with the hands visible, taken with the
//! portrait camera) and force-accepting images below the threshold after
//! the last attempt. A supervisor signs in on the same station to approve;
//! the approval is recorded with the finger.

use iced::widget::{button, container, text, text_input};
use iced::{Element, Length};
use pishkhan_camera::Source;
use pishkhan_scanner::Finger;

use super::finger_text_id;
use crate::enrolment::tenprint::{ExceptionKind, FingerException};
use crate::i18n::I18n;
use crate::station::Station;
use crate::text::Text;
use crate::ui::approval::Approval;
use crate::ui::photo::{PhotoCapture, PhotoMessage};
use crate::ui::widget::{self, row};

/// Fewest characters of a reason worth the name.
const MIN_REASON: usize = 3;

pub struct ExceptionForm {
    /// One finger, or those the operator picked as impossible to place
    /// (one reason, photo and approval for all of them).
    fingers: Vec<Finger>,
    kind: Option<ExceptionKind>,
    reason: String,
    permanent: Option<bool>,
    photo: PhotoCapture,
    approval: Approval,
    problem: Option<Text>,
}

pub enum Dialog {
    Exception(Box<ExceptionForm>),
    /// Force-accept of these fingers (below the threshold).
    Force(Approval, Vec<Finger>),
}

#[derive(Debug, Clone)]
pub enum DialogMessage {
    Kind(ExceptionKind),
    Reason(String),
    Permanent(bool),
    Photo(PhotoMessage),
    Username(String),
    Password(String),
    Approve,
    Cancel,
}

/// What became of a dialog message.
pub enum Outcome {
    Open,
    Cancelled,
    Forced {
        supervisor: String,
    },
    Exception {
        fingers: Vec<Finger>,
        exception: Box<FingerException>,
    },
}

impl Dialog {
    pub fn force(below: Vec<Finger>) -> Self {
        Dialog::Force(Approval::default(), below)
    }

    /// The exception form for `finger`, with the camera started for the
    /// photo.
    pub fn exception(finger: Finger, camera: &Source) -> Self {
        Self::exception_for(vec![finger], None, String::new(), camera)
    }

    /// The exception form for `fingers` (at least one), with the kind and
    /// reason already chosen (the operator can still change them).
    pub fn exception_for(
        fingers: Vec<Finger>,
        kind: Option<ExceptionKind>,
        reason: String,
        camera: &Source,
    ) -> Self {
        Dialog::Exception(Box::new(ExceptionForm {
            fingers,
            kind,
            reason,
            permanent: None,
            photo: PhotoCapture::start_waist_up(camera),
            approval: Approval::default(),
            problem: None,
        }))
    }

    pub fn camera_live(&self) -> bool {
        matches!(self, Dialog::Exception(form) if form.photo.is_live())
    }

    /// Takes the camera's latest frame into the live view.
    pub fn tick(&mut self) {
        if let Dialog::Exception(form) = self {
            form.photo.tick();
        }
    }

    pub fn update(&mut self, message: DialogMessage, station: &Station) -> Outcome {
        if let DialogMessage::Cancel = message {
            return Outcome::Cancelled;
        }
        match self {
            Dialog::Force(approval, _) => match message {
                DialogMessage::Username(v) => approval.username = v,
                DialogMessage::Password(v) => approval.password = v,
                DialogMessage::Approve => {
                    if let Some(supervisor) = approval.verify(station) {
                        return Outcome::Forced { supervisor };
                    }
                }
                _ => {}
            },
            Dialog::Exception(form) => return form.update(message, station),
        }
        Outcome::Open
    }

    pub fn view<'a>(&'a self, i18n: &I18n) -> Element<'a, DialogMessage> {
        let (title, mut items) = match self {
            Dialog::Force(approval, below) => {
                let names: Vec<String> =
                    below.iter().map(|f| i18n.tr(finger_text_id(*f))).collect();
                let help = Text::new("ui-force-help").arg("fingers", names.join("، "));
                let mut items = vec![widget::line(i18n, i18n.text(&help))];
                items.extend(approval.view(
                    i18n,
                    DialogMessage::Username,
                    DialogMessage::Password,
                    Some(DialogMessage::Approve),
                ));
                (Text::new("ui-force-title"), items)
            }
            Dialog::Exception(form) => (
                Text::new("ui-exception-title").arg(
                    "finger",
                    form.fingers
                        .iter()
                        .map(|f| i18n.tr(finger_text_id(*f)))
                        .collect::<Vec<_>>()
                        .join(i18n.tr("ui-list-separator").as_str()),
                ),
                form.view(i18n),
            ),
        };
        items.insert(0, widget::heading(i18n, i18n.text(&title)));
        items.push(widget::aligned(
            i18n,
            row(
                i18n,
                vec![
                    button(text(i18n.tr("ui-approve")))
                        .padding([8, 20])
                        .style(button::primary)
                        .on_press(DialogMessage::Approve)
                        .into(),
                    button(text(i18n.tr("ui-cancel-key")))
                        .padding([8, 20])
                        .style(button::secondary)
                        .on_press(DialogMessage::Cancel)
                        .into(),
                ],
            )
            .spacing(10),
        ));
        container(
            iced::widget::Column::with_children(items)
                .spacing(12)
                .max_width(720),
        )
        .padding(16)
        .center_x(Length::Fill)
        .style(container::bordered_box)
        .into()
    }
}

impl ExceptionForm {
    fn update(&mut self, message: DialogMessage, station: &Station) -> Outcome {
        match message {
            DialogMessage::Kind(kind) => {
                self.kind = Some(kind);
                if kind == ExceptionKind::Missing {
                    self.permanent = Some(true);
                }
            }
            DialogMessage::Reason(v) => self.reason = v,
            DialogMessage::Permanent(p) => self.permanent = Some(p),
            DialogMessage::Photo(m) => self.photo.update(m),
            DialogMessage::Username(v) => self.approval.username = v,
            DialogMessage::Password(v) => self.approval.password = v,
            DialogMessage::Approve => return self.approve(station),
            DialogMessage::Cancel => return Outcome::Cancelled,
        }
        Outcome::Open
    }

    fn approve(&mut self, station: &Station) -> Outcome {
        let problem = if self.kind.is_none() {
            Some("err-exception-kind")
        } else if self.reason.trim().chars().count() < MIN_REASON {
            Some("err-exception-reason")
        } else if self.permanent.is_none() {
            Some("err-exception-duration")
        } else if self.photo.photo().is_none() {
            Some("err-exception-photo")
        } else {
            None
        };
        if let Some(id) = problem {
            self.problem = Some(Text::new(id));
            self.approval.password.clear();
            return Outcome::Open;
        }
        self.problem = None;
        let Some(supervisor) = self.approval.verify(station) else {
            return Outcome::Open;
        };
        let (Some(kind), Some(permanent), Some(photo)) =
            (self.kind, self.permanent, self.photo.take_photo())
        else {
            return Outcome::Open;
        };
        Outcome::Exception {
            fingers: self.fingers.clone(),
            exception: Box::new(FingerException {
                kind,
                reason: self.reason.trim().to_owned(),
                permanent,
                approved_by: supervisor,
                photo,
                declared_at: chrono::Utc::now(),
            }),
        }
    }

    fn view<'a>(&'a self, i18n: &I18n) -> Vec<Element<'a, DialogMessage>> {
        let kinds = [ExceptionKind::Missing, ExceptionKind::Unprintable]
            .into_iter()
            .map(|k| {
                widget::choice(
                    i18n,
                    format!("{} ({})", i18n.tr(k.text_id()), k.code()),
                    self.kind == Some(k),
                    DialogMessage::Kind(k),
                )
            })
            .collect();
        let mut items = vec![
            widget::line(i18n, i18n.tr("ui-exception-help")),
            widget::aligned(i18n, row(i18n, kinds).spacing(16)),
            widget::line(i18n, i18n.tr("ui-exception-reason")),
            text_input(&i18n.tr("ui-exception-reason-hint"), &self.reason)
                .id("reason-input")
                .on_input(DialogMessage::Reason)
                .padding(8)
                .align_x(widget::start(i18n))
                .into(),
        ];
        if self.kind != Some(ExceptionKind::Missing) {
            let durations = [(true, "ui-permanent"), (false, "ui-temporary")]
                .into_iter()
                .map(|(p, id)| {
                    widget::choice(
                        i18n,
                        i18n.tr(id),
                        self.permanent == Some(p),
                        DialogMessage::Permanent(p),
                    )
                })
                .collect();
            items.push(widget::aligned(i18n, row(i18n, durations).spacing(16)));
        }
        items.push(widget::line(i18n, i18n.tr("ui-exception-photo")));
        items.extend(self.photo.view(i18n, DialogMessage::Photo));
        items.extend(self.approval.view(
            i18n,
            DialogMessage::Username,
            DialogMessage::Password,
            Some(DialogMessage::Approve),
        ));
        if let Some(problem) = &self.problem {
            items.push(widget::error(i18n, problem));
        }
        items
    }
}
