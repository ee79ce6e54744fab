//! After sign-in, when the operator has unfinished enrolments: resume one,
//! abandon one (with a reason, audited), or start a new one.

use iced::Element;
use iced::widget::{button, column, container, text};

use super::approval::Approval;
use super::widget;
use crate::enrolment::draft;
use crate::i18n::I18n;
use crate::station::Station;
use crate::store::accounts::{Account, DraftKey};
use crate::store::drafts::Entry;
use crate::text::Text;

pub struct Drafts {
    pub account: Account,
    key: DraftKey,
    pub entries: Vec<Entry>,
    /// Who each draft is about, by draft id.
    applicants: std::collections::BTreeMap<String, draft::Summary>,
    reason: String,
    /// Abandoning a draft needs a supervisor's sign-in on the spot.
    approval: Approval,
    problem: Option<Text>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Resume(String),
    Reason(String),
    SupervisorUsername(String),
    SupervisorPassword(String),
    Abandon(String),
    StartNew,
}

pub enum Event {
    Resume(Box<draft::Restored>),
    StartNew,
}

impl Drafts {
    pub fn new(station: &Station, account: Account, key: DraftKey, entries: Vec<Entry>) -> Self {
        let applicants = entries
            .iter()
            .filter_map(|e| match station.draft_summary(&e.id, &key) {
                Ok(summary) => Some((e.id.clone(), summary)),
                Err(err) => {
                    tracing::error!("reading draft {}: {err}", e.id);
                    None
                }
            })
            .collect();
        Self {
            account,
            key,
            entries,
            applicants,
            reason: String::new(),
            approval: Approval::default(),
            problem: None,
        }
    }

    pub fn update(&mut self, message: Message, station: &Station) -> Option<Event> {
        match message {
            Message::Reason(reason) => self.reason = reason,
            Message::SupervisorUsername(v) => self.approval.username = v,
            Message::SupervisorPassword(v) => self.approval.password = v,
            Message::StartNew => return Some(Event::StartNew),
            Message::Resume(id) => {
                match station.resume_draft(&id, &self.account.username, &self.key) {
                    Ok(restored) => return Some(Event::Resume(Box::new(restored))),
                    Err(e) => {
                        tracing::error!("resuming draft {id}: {e}");
                        self.problem =
                            Some(Text::new("err-draft-resume").arg("detail", e.to_string()));
                    }
                }
            }
            Message::Abandon(id) => {
                if self.reason.trim().is_empty() {
                    self.problem = Some(Text::new("err-draft-reason"));
                    return None;
                }
                self.problem = None;
                let supervisor = self.approval.verify(station)?;
                match station.abandon_draft(&id, &self.account.username, &self.reason, &supervisor)
                {
                    Ok(()) => {
                        self.entries.retain(|e| e.id != id);
                        self.reason.clear();
                        self.problem = None;
                        if self.entries.is_empty() {
                            return Some(Event::StartNew);
                        }
                    }
                    Err(crate::station::DraftError::NoReason) => {
                        self.problem = Some(Text::new("err-draft-reason"));
                    }
                    Err(e) => {
                        self.problem = Some(Text::new("err-internal").arg("detail", e.to_string()));
                    }
                }
            }
        }
        None
    }

    pub fn view(&self, i18n: &I18n) -> Element<'_, Message> {
        let mut items: Vec<Element<'_, Message>> = vec![
            widget::heading(i18n, i18n.tr("ui-drafts-title")),
            widget::line(i18n, i18n.tr("ui-drafts-help")),
        ];
        for entry in &self.entries {
            let step = draft::step_from_key(&entry.step)
                .map_or_else(|| entry.step.clone(), |s| i18n.tr(s.text_id()));
            let mut card = Vec::new();
            if let Some(summary) = self.applicants.get(&entry.id) {
                if let Some(name) = &summary.name {
                    card.push(widget::detail(i18n, "ui-draft-applicant", name.clone()));
                }
                if let Some(code) = &summary.national_code {
                    card.push(widget::detail(i18n, "ui-national-code", i18n.digits(code)));
                }
            }
            card.extend([
                widget::detail(
                    i18n,
                    "ui-draft-started",
                    widget::local_time(i18n, &entry.started_at),
                ),
                widget::detail(
                    i18n,
                    "ui-draft-saved",
                    widget::local_time(i18n, &entry.updated_at),
                ),
                widget::detail(i18n, "ui-draft-step", step),
            ]);
            if let Some(code) = &entry.held_reason {
                let reason = i18n.text(&crate::station::SealError::held_text(code));
                card.push(widget::detail(i18n, "ui-draft-held", reason));
            }
            card.push(
                widget::row(
                    i18n,
                    vec![
                        button(text(i18n.tr("ui-draft-resume")))
                            .padding([6, 18])
                            .style(button::primary)
                            .on_press(Message::Resume(entry.id.clone()))
                            .into(),
                        button(text(i18n.tr("ui-draft-abandon")))
                            .padding([6, 18])
                            .style(button::danger)
                            .on_press(Message::Abandon(entry.id.clone()))
                            .into(),
                    ],
                )
                .spacing(12)
                .into(),
            );
            items.push(
                container(column(card).spacing(6))
                    .padding(12)
                    .style(container::bordered_box)
                    .into(),
            );
        }
        items.push(widget::field(
            i18n,
            "draft-abandon-reason",
            "ui-draft-reason",
            &self.reason,
            Message::Reason,
            None,
        ));
        items.extend(self.approval.view(
            i18n,
            Message::SupervisorUsername,
            Message::SupervisorPassword,
            // Several drafts: Enter must not pick one.
            None,
        ));
        if let Some(problem) = &self.problem {
            items.push(widget::error(i18n, problem));
        }
        items.push(widget::aligned(
            i18n,
            button(text(i18n.tr("ui-draft-start-new")))
                .padding([8, 24])
                .style(button::secondary)
                .on_press(Message::StartNew),
        ));
        container(column(items).spacing(14).max_width(640))
            .padding(24)
            .center_x(iced::Length::Fill)
            .into()
    }
}
