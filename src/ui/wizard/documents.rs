//! Step 2: the operator checks the original documents against what was
//! typed, item by item.

use iced::widget::{button, checkbox, column, container, text};
use iced::{Element, Length};

use crate::enrolment::{DocumentCheck, Session};
use crate::i18n::I18n;
use crate::ui::widget::{self, row};

#[derive(Debug, Clone)]
pub enum Message {
    Toggle(DocumentCheck, bool),
}

pub fn update(session: &mut Session, message: Message) {
    match message {
        Message::Toggle(check, confirmed) => session.documents.set(check, confirmed),
    }
}

pub fn view<'a>(session: &'a Session, i18n: &I18n) -> Element<'a, Message> {
    let typed = column![
        widget::line(i18n, i18n.tr("ui-typed-values")),
        super::applicant_details(session, i18n),
    ]
    .spacing(6);
    // The whole line is a button, so the label toggles as well as the box,
    // and the box sits at the reading start in either direction.
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
    column![
        widget::heading(i18n, i18n.tr("ui-documents-title")),
        widget::line(i18n, i18n.tr("ui-documents-help")),
        container(typed)
            .padding(12)
            .width(Length::Fill)
            .style(container::bordered_box),
        column(checks).spacing(10),
    ]
    .spacing(16)
    .into()
}
