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
    PrintReceipt,
    SaveReceipt,
}

/// What became of the last print or save: the line to show, and whether
/// it is a problem.
pub type Outcome = (Text, bool);

/// Saves (and with `print`, prints) the receipt; the line to show.
pub fn print_or_save(data_dir: &std::path::Path, receipt: &Receipt, print: bool) -> Outcome {
    let Some(copy) = &receipt.copy else {
        return (Text::new("ui-not-sealed"), true);
    };
    match crate::receipts::save_and_print(data_dir, copy, None, print) {
        Ok(path) => {
            let id = if print {
                "ui-receipt-printed"
            } else {
                "ui-receipt-saved"
            };
            (Text::new(id).arg("path", path.display().to_string()), false)
        }
        Err((_, problem)) => (problem.text(), true),
    }
}

pub fn view<'a>(
    receipt: Option<&Receipt>,
    outcome: Option<&Outcome>,
    i18n: &I18n,
) -> Element<'a, Message> {
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
            widget::row(
                i18n,
                vec![
                    button(text(i18n.tr("ui-receipt-print")))
                        .padding([8, 20])
                        .on_press_maybe(receipt.copy.is_some().then_some(Message::PrintReceipt))
                        .into(),
                    button(text(i18n.tr("ui-receipt-save")))
                        .padding([8, 20])
                        .style(button::secondary)
                        .on_press_maybe(receipt.copy.is_some().then_some(Message::SaveReceipt))
                        .into(),
                ],
            )
            .spacing(10),
        ),
        match outcome {
            Some((line, true)) => widget::error(i18n, line),
            Some((line, false)) => widget::line(i18n, i18n.text(line)),
            None => column![].into(),
        },
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
