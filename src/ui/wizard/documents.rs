//! Step 2: the operator checks the original documents against what was
//! typed, item by item, and settles every difference from the online
//! pre-registration: correct the typed value, or keep it with a reason
//! that goes into the packet.

use std::collections::BTreeMap;

use iced::widget::{button, checkbox, column, container, text, text_input};
use iced::{Element, Length};

use crate::enrolment::applicant::Field;
use crate::enrolment::{DocumentCheck, JalaliDate, Session};
use crate::i18n::I18n;
use crate::prereg::{Difference, Resolution};
use crate::station::Station;
use crate::text::Text;
use crate::ui::approval::Approval;
use crate::ui::photo::{PhotoCapture, PhotoMessage};
use crate::ui::widget::{self, row};
use pishkhan_camera::Source;

/// Fewest characters of a reason worth the name.
const MIN_REASON: usize = 3;

#[derive(Debug, Default)]
pub struct State {
    /// Reasons being typed, by difference field.
    reasons: BTreeMap<String, String>,
    problem: Option<(String, Text)>,
    /// The camera, while the document is being photographed.
    photo: Option<PhotoCapture>,
    /// Keeping a typed value against the pre-registration: the field,
    /// waiting for a supervisor's sign-in on the spot.
    approving: Option<(String, Approval)>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Toggle(DocumentCheck, bool),
    /// Use the pre-registered value for this field (the wizard edits the
    /// form and checks it again).
    Correct(String),
    Reason(String, String),
    Keep(String),
    KeepUsername(String),
    KeepPassword(String),
    KeepApprove,
    /// Undo a decision.
    Reopen(String),
    /// Photograph the document (optional evidence).
    PhotoStart,
    Photo(PhotoMessage),
    PhotoCancel,
    PhotoRemove,
}

impl State {
    /// Handles what the step itself can; returns the field to correct, for
    /// the wizard.
    pub fn update(
        &mut self,
        session: &mut Session,
        message: Message,
        camera: &Source,
        station: &Station,
    ) -> Option<String> {
        match message {
            Message::PhotoStart => self.photo = Some(PhotoCapture::start(camera)),
            Message::Photo(m) => {
                if let Some(capture) = &mut self.photo {
                    capture.update(m);
                    if let Some(photo) = capture.take_photo() {
                        tracing::info!(bytes = photo.jpeg.len(), "document photo taken");
                        session.document_photo = Some(photo);
                        self.photo = None;
                    }
                }
            }
            Message::PhotoCancel => self.photo = None,
            Message::PhotoRemove => session.document_photo = None,
            Message::Toggle(check, confirmed) => session.documents.set(check, confirmed),
            Message::Correct(field) => return Some(field),
            Message::Reason(field, reason) => {
                self.reasons.insert(field, reason);
            }
            Message::Keep(field) => {
                if self.reason(&field).chars().count() < MIN_REASON {
                    self.problem = Some((field, Text::new("err-reason-required")));
                    return None;
                }
                self.problem = None;
                self.approving = Some((field, Approval::default()));
            }
            Message::KeepUsername(v) => {
                if let Some((_, approval)) = &mut self.approving {
                    approval.username = v;
                }
            }
            Message::KeepPassword(v) => {
                if let Some((_, approval)) = &mut self.approving {
                    approval.password = v;
                }
            }
            Message::KeepApprove => {
                let (field, approval) = self.approving.as_mut()?;
                let supervisor = approval.verify(station)?;
                let field = field.clone();
                let reason = self.reason(&field);
                if let Some(d) = difference_mut(session, &field) {
                    tracing::info!(field = %field, %supervisor, "pre-registration difference kept");
                    d.resolution = Some(Resolution::Kept {
                        reason,
                        approved_by: Some(supervisor),
                    });
                }
                self.approving = None;
            }
            Message::Reopen(field) => {
                if let Some(d) = difference_mut(session, &field) {
                    d.resolution = None;
                }
            }
        }
        None
    }

    /// The reason typed for keeping `field`, normalised.
    fn reason(&self, field: &str) -> String {
        self.reasons
            .get(field)
            .map(|r| crate::enrolment::digits::normalise_text(r))
            .unwrap_or_default()
    }

    pub fn view<'a>(&'a self, session: &'a Session, i18n: &I18n) -> Element<'a, Message> {
        let typed = column![
            widget::line(i18n, i18n.tr("ui-typed-values")),
            super::applicant_details(session, i18n),
        ]
        .spacing(6);
        // The whole line is a button, so the label toggles as well as the
        // box, and the box sits at the reading start in either direction.
        let checks = DocumentCheck::ALL.into_iter().map(|check| {
            let confirmed = session.documents.is_confirmed(check);
            widget::aligned(
                i18n,
                button(row(
                    i18n,
                    vec![
                        checkbox(confirmed)
                            .on_toggle(move |on| Message::Toggle(check, on))
                            .size(22)
                            .into(),
                        text(i18n.tr(check.text_id())).into(),
                    ],
                ))
                .style(button::text)
                .on_press(Message::Toggle(check, !confirmed)),
            )
        });
        let mut items = vec![
            widget::heading(i18n, i18n.tr("ui-documents-title")),
            widget::line(i18n, i18n.tr("ui-documents-help")),
        ];
        if let Some(check_in) = &session.check_in {
            items.push(self.differences(
                i18n,
                &check_in.differences,
                &check_in.appointment.tracking_code,
            ));
        }
        items.push(
            container(typed)
                .padding(12)
                .width(Length::Fill)
                .style(container::bordered_box)
                .into(),
        );
        items.push(column(checks).spacing(10).into());
        items.push(self.photo_view(session, i18n));
        column(items).spacing(16).into()
    }

    /// Whether the camera runs (the window must tick).
    pub fn is_live(&self) -> bool {
        self.photo.as_ref().is_some_and(PhotoCapture::is_live)
    }

    pub fn tick(&mut self) {
        if let Some(capture) = &mut self.photo {
            capture.tick();
        }
    }

    /// Leaving the step stops the camera.
    pub fn leave(&mut self) {
        self.photo = None;
    }

    fn photo_view<'a>(&'a self, session: &Session, i18n: &I18n) -> Element<'a, Message> {
        let mut col = column![widget::line(i18n, i18n.tr("ui-document-photo"))].spacing(8);
        if let Some(capture) = &self.photo {
            col = col
                .extend(capture.view(i18n, Message::Photo))
                .push(widget::aligned(
                    i18n,
                    button(text(i18n.tr("ui-cancel")))
                        .style(button::text)
                        .on_press(Message::PhotoCancel),
                ));
        } else if let Some(photo) = &session.document_photo {
            let taken = Text::new("ui-document-photo-taken")
                .arg("size", format!("{}×{}", photo.width, photo.height));
            col = col.push(widget::aligned(
                i18n,
                row(
                    i18n,
                    vec![
                        text(i18n.text(&taken)).style(text::success).into(),
                        button(text(i18n.tr("ui-photo-retake")))
                            .style(button::secondary)
                            .on_press(Message::PhotoStart)
                            .into(),
                        button(text(i18n.tr("ui-photo-remove")))
                            .style(button::text)
                            .on_press(Message::PhotoRemove)
                            .into(),
                    ],
                ),
            ));
        } else {
            col = col.push(widget::aligned(
                i18n,
                button(text(i18n.tr("ui-document-photo-start")))
                    .style(button::secondary)
                    .on_press(Message::PhotoStart),
            ));
        }
        container(col)
            .padding(12)
            .width(Length::Fill)
            .style(container::bordered_box)
            .into()
    }

    fn differences<'a>(
        &'a self,
        i18n: &I18n,
        differences: &'a [Difference],
        tracking_code: &str,
    ) -> Element<'a, Message> {
        let title = Text::new("ui-differences-title").arg("code", tracking_code.to_owned());
        let mut col = column![widget::line(i18n, i18n.text(&title))].spacing(10);
        if differences.is_empty() {
            col = col.push(widget::line(i18n, i18n.tr("ui-differences-none")));
        }
        for d in differences {
            col = col.push(self.difference(i18n, d));
        }
        let style = if differences.iter().any(|d| d.resolution.is_none()) {
            container::warning
        } else {
            container::bordered_box
        };
        container(col)
            .padding(12)
            .width(Length::Fill)
            .style(style)
            .into()
    }

    fn difference<'a>(&'a self, i18n: &I18n, d: &'a Difference) -> Element<'a, Message> {
        let label =
            Field::from_key(&d.field).map_or_else(|| d.field.clone(), |f| i18n.tr(f.label_id()));
        let values = column![
            widget::line(i18n, label),
            widget::detail(i18n, "ui-difference-typed", shown(i18n, &d.field, &d.typed)),
            widget::detail(
                i18n,
                "ui-difference-registered",
                shown(i18n, &d.field, &d.registered)
            ),
        ]
        .spacing(4);
        let key = d.field.clone();
        let decision: Element<'a, Message> = match &d.resolution {
            Some(Resolution::Kept {
                reason,
                approved_by,
            }) => row(
                i18n,
                vec![
                    text(
                        i18n.text(&match approved_by {
                            Some(supervisor) => Text::new("ui-difference-kept-approved")
                                .arg("reason", reason.clone())
                                .arg("supervisor", supervisor.clone()),
                            None => Text::new("ui-difference-kept").arg("reason", reason.clone()),
                        }),
                    )
                    .style(text::success)
                    .into(),
                    button(text(i18n.tr("ui-difference-reopen")))
                        .style(button::text)
                        .on_press(Message::Reopen(key))
                        .into(),
                ],
            )
            .into(),
            Some(Resolution::Corrected) => text(i18n.tr("ui-difference-corrected"))
                .style(text::success)
                .into(),
            None => {
                let reason = self.reasons.get(&d.field).map_or("", String::as_str);
                let mut col = column![
                    widget::aligned(
                        i18n,
                        button(text(i18n.tr("ui-difference-correct")))
                            .style(button::secondary)
                            .on_press(Message::Correct(key.clone())),
                    ),
                    row(
                        i18n,
                        vec![
                            text_input(&i18n.tr("ui-difference-reason"), reason)
                                .id(iced::widget::Id::from(format!("reason-{}", d.field)))
                                .on_input({
                                    let key = key.clone();
                                    move |v| Message::Reason(key.clone(), v)
                                })
                                .on_submit(Message::Keep(key.clone()))
                                .padding(8)
                                .align_x(widget::start(i18n))
                                .into(),
                            button(text(i18n.tr("ui-difference-keep")))
                                .style(button::primary)
                                .on_press(Message::Keep(key.clone()))
                                .into(),
                        ],
                    ),
                ]
                .spacing(6);
                if let Some((field, problem)) = &self.problem
                    && *field == d.field
                {
                    col = col.push(widget::error(i18n, problem));
                }
                if let Some((field, approval)) = &self.approving
                    && *field == d.field
                {
                    col = col.extend(approval.view(
                        i18n,
                        Message::KeepUsername,
                        Message::KeepPassword,
                        Some(Message::KeepApprove),
                    ));
                    col = col.push(widget::aligned(
                        i18n,
                        button(text(i18n.tr("ui-approve")))
                            .style(button::primary)
                            .on_press(Message::KeepApprove),
                    ));
                }
                col.into()
            }
        };
        container(column![values, decision].spacing(8))
            .padding(10)
            .width(Length::Fill)
            .style(container::rounded_box)
            .into()
    }
}

fn difference_mut<'a>(session: &'a mut Session, field: &str) -> Option<&'a mut Difference> {
    session
        .check_in
        .as_mut()?
        .differences
        .iter_mut()
        .find(|d| d.field == field)
}

/// A recorded value as the operator reads it: request types by name,
/// dates and digits in the interface's digits.
fn shown(i18n: &I18n, field: &str, value: &str) -> String {
    match Field::from_key(field) {
        Some(Field::RequestType) => i18n.tr(&format!("request-{value}")),
        Some(Field::BirthDate) => {
            JalaliDate::parse(value).map_or_else(|_| i18n.digits(value), |d| i18n.date(d))
        }
        _ => i18n.digits(value),
    }
}
