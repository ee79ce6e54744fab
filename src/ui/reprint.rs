//! Reprinting a receipt from the queue screen: the tracking code or the
//! national code, a supervisor's sign-in on the spot, then the receipt is
//! saved (marked as a reprint) and sent to the printer.

use iced::Element;
use iced::widget::{button, column, container, text};

use super::approval::Approval;
use super::widget;
use crate::i18n::I18n;
use crate::receipts::{self, ReprintMark};
use crate::station::Station;
use crate::text::Text;

#[derive(Debug, Default)]
pub struct Reprint {
    query: String,
    approval: Approval,
    /// The last outcome: the line, and whether it is a problem.
    outcome: Option<(Text, bool)>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Query(String),
    Username(String),
    Password(String),
    Reprint,
}

impl Reprint {
    pub fn update(&mut self, message: Message, station: &Station) {
        match message {
            Message::Query(v) => self.query = v,
            Message::Username(v) => self.approval.username = v,
            Message::Password(v) => self.approval.password = v,
            Message::Reprint => self.outcome = Some(self.reprint(station)),
        }
    }

    fn reprint(&mut self, station: &Station) -> (Text, bool) {
        let password = std::mem::take(&mut self.approval.password);
        let supervisor = self.approval.username.trim().to_owned();
        let (copy, number) = match station.reprint_receipt(&self.query, &supervisor, &password) {
            Ok(found) => found,
            Err(e) => return (e.text(), true),
        };
        let mark = ReprintMark {
            number,
            at: chrono::Utc::now(),
        };
        match receipts::save_and_print(&station.data_dir, &copy, Some(mark), true) {
            Ok(path) | Err((Some(path), _)) => {
                self.query.clear();
                (
                    Text::new("ui-reprinted")
                        .arg("number", number.to_string())
                        .arg("code", copy.tracking_code.grouped())
                        .arg("path", path.display().to_string()),
                    false,
                )
            }
            Err((None, problem)) => (problem.text(), true),
        }
    }

    pub fn view(&self, i18n: &I18n) -> Element<'_, Message> {
        let mut items = vec![
            widget::line(i18n, i18n.tr("ui-reprint-title")),
            widget::line(i18n, i18n.tr("ui-reprint-help")),
            widget::field(
                i18n,
                "reprint-query",
                "ui-reprint-query",
                &self.query,
                Message::Query,
                None,
            ),
        ];
        items.extend(self.approval.view(
            i18n,
            Message::Username,
            Message::Password,
            Some(Message::Reprint),
        ));
        items.push(widget::aligned(
            i18n,
            button(text(i18n.tr("ui-reprint"))).on_press(Message::Reprint),
        ));
        match &self.outcome {
            Some((line, true)) => items.push(widget::error(i18n, line)),
            Some((line, false)) => items.push(widget::line(i18n, i18n.text(line))),
            None => {}
        }
        container(column(items).spacing(8).max_width(900))
            .padding(16)
            .style(container::bordered_box)
            .into()
    }
}
