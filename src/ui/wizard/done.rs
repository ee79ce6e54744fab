//! Step 6: sealed. The tracking code for the applicant's receipt.

use iced::widget::{button, column, container, text};
use iced::{Element, Length};

use crate::i18n::I18n;
use crate::station::Receipt;
use crate::text::Text;
use crate::ui::widget;

#[derive(Debug, Clone)]
pub enum Message {
    NextApplicant,
}

pub fn view<'a>(receipt: Option<&Receipt>, i18n: &I18n) -> Element<'a, Message> {
    let Some(receipt) = receipt else {
        return widget::line(i18n, i18n.tr("ui-not-sealed"));
    };
    let code = i18n.digits(&receipt.tracking_code.grouped());
    column![
        widget::heading(i18n, i18n.tr("ui-done-title")),
        widget::line(i18n, i18n.tr("ui-tracking-code")),
        container(text(code).size(40))
            .padding(16)
            .center_x(Length::Fill)
            .style(container::bordered_box),
        widget::line(
            i18n,
            i18n.text(
                &Text::new("ui-queued-size").arg("kib", receipt.size.div_ceil(1024).to_string())
            )
        ),
        widget::line(i18n, i18n.tr("ui-done-help")),
        widget::aligned(
            i18n,
            button(text(i18n.tr("ui-next-applicant")))
                .padding([8, 24])
                .style(button::primary)
                .on_press(Message::NextApplicant)
        ),
    ]
    .spacing(16)
    .into()
}
