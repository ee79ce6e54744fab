//! Step 5: everything at a glance, then the operator seals.

use iced::widget::{button, column, container, image, text};
use iced::{ContentFit, Element, Length};
use pishkhan_scanner::Finger;

use super::fingerprints::{self, finger_text_id};
use super::portrait;
use crate::config::FeesConfig;
use crate::enrolment::Session;
use crate::i18n::I18n;
use crate::text::Text;
use crate::ui::widget::{self, row};

#[derive(Debug, Default)]
pub struct State {
    pub problem: Option<Text>,
    /// The payment terminal's reference, as typed.
    pub payment_reference: String,
}

#[derive(Debug, Clone)]
pub enum Message {
    PaymentReference(String),
    Seal,
}

impl State {
    /// The fees to charge and the payment reference field (nothing when
    /// the station has no fee schedule).
    fn fees<'a>(&'a self, fees: &FeesConfig, i18n: &I18n) -> Option<Element<'a, Message>> {
        let lines = crate::enrolment::fees::schedule(fees);
        if lines.is_empty() {
            return None;
        }
        let amount = |rials: u64| {
            i18n.text(
                &Text::new("ui-fee-amount").arg("amount", crate::enrolment::fees::grouped(rials)),
            )
        };
        let mut col = column![widget::line(i18n, i18n.tr("ui-fees"))].spacing(6);
        for line in &lines {
            col = col.push(widget::detail(
                i18n,
                line.kind.text().id,
                amount(line.amount_rials),
            ));
        }
        let total = lines.iter().map(|l| l.amount_rials).sum();
        col = col.push(widget::detail(i18n, "ui-fee-total", amount(total)));
        col = col.push(widget::field(
            i18n,
            "payment-reference",
            "ui-payment-reference",
            &self.payment_reference,
            Message::PaymentReference,
            None,
        ));
        Some(
            container(col)
                .padding(12)
                .width(Length::Fill)
                .style(container::bordered_box)
                .into(),
        )
    }

    pub fn view<'a>(
        &'a self,
        session: &'a Session,
        portrait: &'a portrait::State,
        fingerprints: &'a fingerprints::State,
        fees: &FeesConfig,
        i18n: &I18n,
    ) -> Element<'a, Message> {
        let details = super::applicant_details(session, i18n);
        let photo: Element<'a, Message> = match portrait.captured() {
            Some(h) => image(h.clone())
                .content_fit(ContentFit::Contain)
                .height(220)
                .into(),
            None => text("—").into(),
        };
        let fingers = Finger::ALL
            .iter()
            .map(|&f| {
                let picture: Element<'a, Message> =
                    match (fingerprints.thumbnail(f), session.exceptions.get(&f)) {
                        (_, Some(e)) => text(e.kind.code()).size(24).into(),
                        (Some(h), None) => image(h.clone())
                            .content_fit(ContentFit::Contain)
                            .height(70)
                            .into(),
                        (None, None) => text("—").into(),
                    };
                let mut col = column![picture, text(i18n.tr(finger_text_id(f))).size(11)]
                    .spacing(2)
                    .align_x(iced::Alignment::Center)
                    .width(Length::Fill);
                if let Some(captured) = session.fingers.get(&f) {
                    let score = i18n.text(
                        &Text::new("ui-quality-score").arg("score", captured.score().to_string()),
                    );
                    let line = text(score).size(11);
                    col = col.push(if captured.forced_by.is_some() {
                        line.style(text::danger)
                    } else {
                        line.style(text::secondary)
                    });
                }
                col.into()
            })
            .collect();
        let mut col = column![
            widget::heading(i18n, i18n.tr("ui-review-title")),
            row(
                i18n,
                vec![
                    container(details).width(Length::Fill).into(),
                    container(photo)
                        .padding(6)
                        .style(container::bordered_box)
                        .into(),
                ]
            ),
            widget::line(
                i18n,
                i18n.text(
                    &Text::new("ui-documents-confirmed")
                        .arg("count", session.documents.confirmed.len().to_string())
                )
            ),
            row(i18n, fingers),
        ]
        .spacing(14);
        if !session.accommodations.is_empty() {
            let chosen: Vec<String> = session
                .accommodations
                .iter()
                .map(|a| i18n.tr(a.text_id()))
                .collect();
            col = col.push(widget::detail(
                i18n,
                "ui-accommodations",
                chosen.join(i18n.tr("ui-list-separator").as_str()),
            ));
        }
        for (finger, e) in &session.exceptions {
            col = col.push(widget::line(
                i18n,
                i18n.text(
                    &Text::new("ui-review-exception")
                        .arg("finger", i18n.tr(finger_text_id(*finger)))
                        .arg("kind", i18n.tr(e.kind.text_id()))
                        .arg("reason", e.reason.clone())
                        .arg("supervisor", e.approved_by.clone()),
                ),
            ));
        }
        if let Some(line) = portrait::summary(session, i18n) {
            col = col.push(widget::line(i18n, line));
        }
        for (finger, supervisor) in session.forced_fingers() {
            col = col.push(widget::line(
                i18n,
                i18n.text(
                    &Text::new("ui-review-forced")
                        .arg("finger", i18n.tr(finger_text_id(finger)))
                        .arg("supervisor", supervisor.to_owned()),
                ),
            ));
        }
        if let Some(fees) = self.fees(fees, i18n) {
            col = col.push(fees);
        }
        col = col.push(widget::line(i18n, i18n.tr("ui-seal-help")));
        if let Some(problem) = &self.problem {
            col = col.push(widget::error(i18n, problem));
        }
        col.push(widget::aligned(
            i18n,
            button(text(i18n.tr("ui-seal")).size(18))
                .padding([10, 28])
                .style(button::success)
                .on_press_maybe(session.is_complete().then_some(Message::Seal)),
        ))
        .into()
    }
}
