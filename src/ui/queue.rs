//! The queue screen: every packet in the outbox with its upload status in
//! the operator's language — waiting, sending (with how much), received by
//! the authority, not sent yet (with the last error and the next attempt),
//! or refused with the reason. A refused packet waits for a supervisor:
//! "Resolve" opens their sign-in on the spot with the two choices, send it
//! again (the cause was fixed) or do not send it (with a note).

use iced::widget::{button, column, container, scrollable, text};
use iced::{Element, Length};

use super::approval::Approval;
use super::widget;
use crate::i18n::I18n;
use crate::intake::receipt::Reason;
use crate::station::{Resolution, Station};
use crate::store::outbox::Entry;
use crate::text::Text;
use crate::upload::Progress;

#[derive(Debug, Clone)]
pub enum Message {
    Close,
    /// Opens the supervisor's resolution of the rejected packet (its id).
    Resolve(String),
    Username(String),
    Password(String),
    Note(String),
    Requeue,
    Dismiss,
    Cancel,
}

/// The resolution of one rejected packet, while its form is open, and the
/// outcome of the last one.
#[derive(Debug, Default)]
pub struct Resolve {
    /// The packet id whose form is open.
    target: Option<String>,
    note: String,
    approval: Approval,
    problem: Option<Text>,
    /// What the last resolution did.
    done: Option<Text>,
}

impl Resolve {
    /// The form is open (the reprint form hides meanwhile: one
    /// supervisor sign-in on screen at a time).
    pub fn is_open(&self) -> bool {
        self.target.is_some()
    }

    pub fn update(&mut self, message: Message, station: &Station) {
        match message {
            Message::Resolve(id) => {
                *self = Resolve {
                    target: Some(id),
                    ..Resolve::default()
                };
            }
            Message::Username(v) => self.approval.username = v,
            Message::Password(v) => self.approval.password = v,
            Message::Note(v) => self.note = v,
            Message::Requeue => self.resolve(station, &Resolution::Requeue),
            Message::Dismiss => {
                let note = self.note.clone();
                self.resolve(station, &Resolution::Dismiss { note });
            }
            Message::Cancel | Message::Close => *self = Resolve::default(),
        }
    }

    fn resolve(&mut self, station: &Station, resolution: &Resolution) {
        let Some(id) = self.target.clone() else {
            return;
        };
        let password = std::mem::take(&mut self.approval.password);
        match station.resolve_rejected(&id, resolution, &self.approval.username, &password) {
            Ok(entry) => {
                let done = match resolution {
                    Resolution::Requeue => Text::new("ui-resolved-requeued"),
                    Resolution::Dismiss { .. } => Text::new("ui-resolved-dismissed"),
                };
                *self = Resolve {
                    done: Some(done.code("id", short_id(&entry.id))),
                    ..Resolve::default()
                };
            }
            Err(e) => {
                tracing::warn!(packet = %id, "resolving refused: {e}");
                self.problem = Some(e.text());
            }
        }
    }

    fn view<'a>(&'a self, entries: &[Entry], i18n: &I18n) -> Option<Element<'a, Message>> {
        let id = self.target.as_deref()?;
        let entry = entries.iter().find(|e| e.id == id)?;
        let mut items = vec![
            widget::heading(i18n, i18n.text(&Text::new("ui-resolve-title"))),
            widget::detail(i18n, "ui-queue-code", code_of(entry, i18n)),
            widget::detail(
                i18n,
                "ui-queue-status",
                shown(i18n, &status_text(entry, None)),
            ),
            widget::line(i18n, i18n.tr("ui-resolve-help")),
            widget::field(
                i18n,
                "resolve-note",
                "ui-resolve-note",
                &self.note,
                Message::Note,
                None,
            ),
        ];
        items.extend(
            self.approval
                .view(i18n, Message::Username, Message::Password, None),
        );
        if let Some(problem) = &self.problem {
            items.push(widget::error(i18n, problem));
        }
        items.push(widget::aligned(
            i18n,
            widget::row(
                i18n,
                vec![
                    button(text(i18n.tr("ui-resolve-requeue")))
                        .padding([8, 20])
                        .style(button::primary)
                        .on_press(Message::Requeue)
                        .into(),
                    button(text(i18n.tr("ui-resolve-dismiss")))
                        .padding([8, 20])
                        .style(button::danger)
                        .on_press(Message::Dismiss)
                        .into(),
                    button(text(i18n.tr("ui-resolve-cancel")))
                        .padding([8, 20])
                        .style(button::secondary)
                        .on_press(Message::Cancel)
                        .into(),
                ],
            )
            .spacing(12),
        ));
        Some(
            container(column(items).spacing(8))
                .padding(16)
                .width(Length::Fill)
                .style(container::bordered_box)
                .into(),
        )
    }
}

/// The first 8 characters of a packet id: what `pishkhan queue` takes.
fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

/// The status of `entry` as the operator reads it.
pub fn status_text(entry: &Entry, progress: Option<&Progress>) -> Text {
    let sending = progress
        .and_then(|p| p.current.as_ref())
        .filter(|(id, _, _)| *id == entry.id);
    match (entry.status.as_str(), sending) {
        ("uploading", Some((_, sent, total))) => Text::new("status-uploading-percent")
            .arg("percent", (sent * 100 / (*total).max(1)).to_string()),
        ("uploading", None) => Text::new("status-uploading"),
        ("acknowledged", _) => Text::new("status-acknowledged"),
        ("rejected", _) => {
            let reason = entry
                .reject_reason
                .as_deref()
                .and_then(|code| Reason::ALL.into_iter().find(|r| r.code() == code))
                .map_or("reason-unknown", Reason::text_id);
            Text::new("status-rejected").arg("reason", reason)
        }
        ("failed", _) => Text::new("status-failed"),
        ("pending", _) if entry.resend_reason.is_some() => {
            Text::new("status-resend").code("why", entry.resend_reason.clone().unwrap_or_default())
        }
        _ => Text::new("status-pending"),
    }
}

/// `text` in the operator's language; an argument named `reason` is
/// itself a translation id (a refusal's reason).
pub fn shown(i18n: &I18n, text: &Text) -> String {
    let mut text = text.clone();
    if let Some((_, reason)) = text.args.iter_mut().find(|(name, _)| *name == "reason") {
        *reason = i18n.tr(reason);
        // Already in the operator's words and digits.
        text.verbatim.push("reason");
    }
    i18n.text(&text)
}

/// The label of the "Resolve" button of `entry`: it names the packet, so
/// that each refused row has its own.
pub fn resolve_label(i18n: &I18n, entry: &Entry) -> String {
    i18n.text(&Text::new("ui-queue-resolve").code("code", code_of(entry, i18n)))
}

/// What identifies `entry` to the operator: its tracking code (grouped,
/// in the language's digits) or what kind of packet it is.
fn code_of(entry: &Entry, i18n: &I18n) -> String {
    entry.tracking_code.as_deref().map_or_else(
        || match entry.kind.as_deref() {
            Some("visit") => i18n.tr("ui-queue-visit-record"),
            _ => i18n.tr("ui-queue-imported"),
        },
        |c| {
            crate::enrolment::TrackingCode::parse(c)
                .map_or_else(|| i18n.digits(c), |t| i18n.digits(&t.grouped()))
        },
    )
}

pub fn view<'a>(
    entries: &'a [Entry],
    progress: Option<&Progress>,
    resolve: &'a Resolve,
    i18n: &I18n,
) -> Element<'a, Message> {
    let mut rows: Vec<Element<'a, Message>> = vec![
        widget::heading(i18n, i18n.tr("ui-queue-title")),
        widget::line(i18n, i18n.tr("ui-queue-help")),
    ];
    if let Some(done) = &resolve.done {
        rows.push(widget::line(i18n, i18n.text(done)));
    }
    if let Some(form) = resolve.view(entries, i18n) {
        rows.push(form);
    }
    if entries.is_empty() {
        rows.push(widget::line(i18n, i18n.tr("ui-queue-empty")));
    }
    for entry in entries.iter().rev() {
        let status = status_text(entry, progress);
        let mut card = vec![
            widget::detail(i18n, "ui-queue-code", code_of(entry, i18n)),
            widget::detail(i18n, "ui-queue-status", shown(i18n, &status)),
        ];
        if entry.attempts > 0 && entry.status != "acknowledged" {
            card.push(widget::detail(
                i18n,
                "ui-queue-attempts",
                i18n.digits(&entry.attempts.to_string()),
            ));
        }
        if entry.status == "failed" {
            if let Some(error) = &entry.last_error {
                // A sentence or two: under its label, with the card's
                // width to wrap in (beside it, the label was squeezed).
                card.push(widget::aligned(
                    i18n,
                    text(format!("{}:", i18n.tr("ui-queue-last-error"))).style(text::secondary),
                ));
                card.push(widget::line(
                    i18n,
                    shown(i18n, &crate::upload::error_text(error)),
                ));
            }
            if let Some(next) = &entry.next_attempt_at {
                card.push(widget::detail(
                    i18n,
                    "ui-queue-next-attempt",
                    widget::local_time(i18n, next),
                ));
            }
        }
        if let (Some(at), Some(by)) = (&entry.dismissed_at, &entry.dismissed_by) {
            let dismissed = Text::new("ui-queue-dismissed")
                .code("by", by.clone())
                .arg("at", widget::local_time(i18n, at))
                .code("note", entry.dismiss_note.clone().unwrap_or_default());
            card.push(widget::line(i18n, i18n.text(&dismissed)));
        } else if entry.needs_resolving() && resolve.target.as_deref() != Some(entry.id.as_str()) {
            card.push(widget::aligned(
                i18n,
                button(text(resolve_label(i18n, entry)))
                    .padding([6, 16])
                    .style(button::secondary)
                    .on_press(Message::Resolve(entry.id.clone())),
            ));
        }
        rows.push(
            container(column(card).spacing(4))
                .padding(10)
                .width(Length::Fill)
                .style(container::bordered_box)
                .into(),
        );
    }
    rows.push(widget::aligned(
        i18n,
        button(text(i18n.tr("ui-queue-close")))
            .padding([8, 24])
            .style(button::secondary)
            .on_press(Message::Close),
    ));
    scrollable(
        container(column(rows).spacing(10).max_width(720))
            .padding(24)
            .center_x(Length::Fill),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn entry(status: &str, reason: Option<&str>) -> Entry {
        Entry {
            id: "p".into(),
            tracking_code: None,
            format: 3,
            origin: "local".into(),
            station_id: "s".into(),
            status: status.into(),
            test: false,
            size: 10,
            sha256: String::new(),
            created_at: String::new(),
            attempts: 1,
            next_attempt_at: None,
            last_error: None,
            exported_at: None,
            acknowledged_at: None,
            reject_reason: reason.map(str::to_owned),
            kind: Some("enrolment".into()),
            dismissed_at: None,
            dismissed_by: None,
            dismiss_note: None,
            resend_reason: None,
        }
    }

    #[test]
    fn every_refusal_reason_reads_differently_in_both_languages() {
        for lang in [Lang::Fa, Lang::En] {
            let i18n = I18n::new(lang);
            let shown: std::collections::BTreeSet<String> = Reason::ALL
                .into_iter()
                .map(|reason| {
                    let text = status_text(&entry("rejected", Some(reason.code())), None);
                    let (_, id) = text
                        .args
                        .iter()
                        .find(|(n, _)| *n == "reason")
                        .expect("reason");
                    assert_eq!(id, reason.text_id());
                    i18n.tr(id)
                })
                .collect();
            assert_eq!(shown.len(), Reason::ALL.len(), "{lang:?}");
        }
    }

    #[test]
    fn a_packet_being_sent_shows_how_far() {
        let progress = Progress {
            link: crate::upload::Link::Online,
            current: Some(("p".into(), 25, 100)),
        };
        let text = status_text(&entry("uploading", None), Some(&progress));
        assert_eq!(text.id, "status-uploading-percent");
        assert_eq!(text.args, [("percent", "25".to_owned())]);
        assert_eq!(
            status_text(&entry("failed", None), None).id,
            "status-failed"
        );
        assert_eq!(
            status_text(&entry("acknowledged", None), None).id,
            "status-acknowledged"
        );
    }

    #[test]
    fn a_packet_the_authority_asked_for_again_says_so_with_the_reason() {
        let asked = Entry {
            resend_reason: Some("stored copy lost".into()),
            ..entry("pending", None)
        };
        let text = status_text(&asked, None);
        assert_eq!(text.id, "status-resend");
        let en = I18n::new(Lang::En).text(&text);
        assert!(
            en.contains("asked for it again") && en.contains("stored copy lost"),
            "{en}"
        );
        let fa = I18n::new(Lang::Fa).text(&text);
        assert!(fa.contains("stored copy lost") && fa != en, "{fa}");
    }
}
