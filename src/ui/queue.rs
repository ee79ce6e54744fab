//! The queue screen: every packet in the outbox with its upload status in
//! the operator's language — waiting, sending (with how much), received by
//! the authority, or refused with the reason.

use iced::widget::{button, column, container, scrollable, text};
use iced::{Element, Length};

use super::widget;
use crate::i18n::I18n;
use crate::intake::receipt::Reason;
use crate::store::outbox::Entry;
use crate::text::Text;
use crate::upload::Progress;

#[derive(Debug, Clone)]
pub enum Message {
    Close,
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
        _ => Text::new("status-pending"),
    }
}

pub fn view<'a>(
    entries: &'a [Entry],
    progress: Option<&Progress>,
    i18n: &I18n,
) -> Element<'a, Message> {
    let mut rows: Vec<Element<'a, Message>> = vec![
        widget::heading(i18n, i18n.tr("ui-queue-title")),
        widget::line(i18n, i18n.tr("ui-queue-help")),
    ];
    if entries.is_empty() {
        rows.push(widget::line(i18n, i18n.tr("ui-queue-empty")));
    }
    for entry in entries.iter().rev() {
        let mut status = status_text(entry, progress);
        // A rejection names its reason, itself a translation.
        if let Some((_, reason)) = status.args.iter_mut().find(|(name, _)| *name == "reason") {
            *reason = i18n.tr(reason);
        }
        let code = entry.tracking_code.as_deref().map_or_else(
            || match entry.kind.as_deref() {
                Some("visit") => i18n.tr("ui-queue-visit-record"),
                _ => i18n.tr("ui-queue-imported"),
            },
            |c| {
                crate::enrolment::TrackingCode::parse(c)
                    .map_or_else(|| i18n.digits(c), |t| i18n.digits(&t.grouped()))
            },
        );
        let mut card = vec![
            widget::detail(i18n, "ui-queue-code", code),
            widget::detail(i18n, "ui-queue-status", i18n.text(&status)),
        ];
        if entry.attempts > 0 && entry.status != "acknowledged" {
            card.push(widget::detail(
                i18n,
                "ui-queue-attempts",
                i18n.digits(&entry.attempts.to_string()),
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
}
