//! Step 4: ten flat fingers through the scanner, one after another.
//!
//! The capture runs only while this step shows: leaving it cancels the
//! capture in progress, and whatever the scanner still reports for that
//! capture arrives with an old stamp and is dropped as stale.

use std::collections::BTreeMap;
use std::time::Duration;

use iced::widget::{button, column, container, image, text};
use iced::{Alignment, ContentFit, Element, Length};
use pishkhan_scanner::{Finger, Impression, ScanError, VirtualScanner};

use crate::devices::{CaptureStamp, DeviceEvent, ScannerWorker};
use crate::enrolment::Session;
use crate::enrolment::tenprint::{Handled, Status, TenPrint};
use crate::i18n::I18n;
use crate::text::Text;
use crate::ui::widget::{self, grey_to_rgba, row};

pub struct State {
    pub tenprint: TenPrint,
    thumbnails: BTreeMap<Finger, image::Handle>,
    /// The scanner's live picture of the capture in progress.
    preview: Option<image::Handle>,
    /// How many preview frames arrived (diagnostics, tests).
    pub previews_seen: u32,
}

#[derive(Debug, Clone)]
pub enum Message {
    /// An event from the scanner worker, with the stamp of its capture.
    Device(CaptureStamp, DeviceEvent),
    Retake(Finger),
    Resume,
}

/// "right thumb", "the four fingers of the right hand", …
pub fn impression_name(impression: Impression, i18n: &I18n) -> String {
    match impression {
        Impression::Finger(f) => i18n.tr(finger_text_id(f)),
        Impression::RightSlap => i18n.tr("impression-right-slap"),
        Impression::LeftSlap => i18n.tr("impression-left-slap"),
        Impression::Thumbs => i18n.tr("impression-thumbs"),
    }
}

pub fn finger_text_id(finger: Finger) -> &'static str {
    match finger {
        Finger::RightThumb => "finger-right-thumb",
        Finger::RightIndex => "finger-right-index",
        Finger::RightMiddle => "finger-right-middle",
        Finger::RightRing => "finger-right-ring",
        Finger::RightLittle => "finger-right-little",
        Finger::LeftThumb => "finger-left-thumb",
        Finger::LeftIndex => "finger-left-index",
        Finger::LeftMiddle => "finger-left-middle",
        Finger::LeftRing => "finger-left-ring",
        Finger::LeftLittle => "finger-left-little",
    }
}

/// The operator message for an SBI error code (MOSIP SBI 1.0 table).
fn sbi_error_id(code: &str) -> Option<&'static str> {
    Some(match code.trim().parse::<u32>().ok()? {
        100 => "err-sbi-100",
        101 => "err-sbi-101",
        102 => "err-sbi-102",
        103 => "err-sbi-103",
        104 => "err-sbi-104",
        105 => "err-sbi-105",
        106 => "err-sbi-106",
        107 => "err-sbi-107",
        108 => "err-sbi-108",
        109 => "err-sbi-109",
        110 => "err-sbi-110",
        112 => "err-sbi-112",
        500..=599 => "err-sbi-vendor",
        _ => return None,
    })
}

pub fn scan_error_text(e: &ScanError) -> Text {
    match e {
        ScanError::Cancelled => Text::new("err-scan-cancelled"),
        ScanError::Timeout(d) => {
            Text::new("err-scan-timeout").arg("seconds", d.as_secs().to_string())
        }
        ScanError::Disconnected(detail) => {
            Text::new("err-scan-disconnected").arg("detail", detail.clone())
        }
        ScanError::Protocol(detail) => Text::new("err-scan-protocol").arg("detail", detail.clone()),
        ScanError::Busy => Text::new("err-scan-busy"),
        ScanError::NoAnswer(d) => {
            Text::new("err-scan-no-answer").arg("seconds", d.as_secs_f32().ceil().to_string())
        }
        ScanError::Device { code, message } => match sbi_error_id(code) {
            Some(id) => Text::new(id).arg("code", code.clone()),
            None => Text::new("err-scan-device")
                .arg("code", code.clone())
                .arg("detail", message.clone()),
        },
        ScanError::Untrusted(detail) => {
            Text::new("err-scan-untrusted").arg("detail", detail.clone())
        }
        ScanError::Unsupported => Text::new("err-scan-unsupported"),
    }
}

impl State {
    pub fn new(timeout: Duration) -> Self {
        Self {
            tenprint: TenPrint::new(timeout),
            thumbnails: BTreeMap::new(),
            preview: None,
            previews_seen: 0,
        }
    }

    pub fn is_running(&self) -> bool {
        self.tenprint.is_running()
    }

    pub fn enter(&mut self, session: &Session, scanner: &ScannerWorker) {
        if !self.tenprint.is_running() {
            self.tenprint.start(session, scanner);
        }
    }

    pub fn leave(&mut self, scanner: &ScannerWorker) {
        self.tenprint.stop(scanner);
    }

    /// Fills the first `count` fingers from a virtual scanner (demo screens).
    pub fn demo_fill(&mut self, session: &mut Session, count: usize) {
        use pishkhan_scanner::{CancelToken, CaptureRequest, Scanner};
        let mut scanner = VirtualScanner::virtual_scanner(Duration::ZERO);
        for finger in Finger::ALL.into_iter().take(count) {
            let request = CaptureRequest::finger(finger, Duration::from_secs(1));
            let captured = scanner.capture(&request, &CancelToken::new(), &mut |_| {});
            if let Some(img) = captured.ok().and_then(|c| c.fingers.into_iter().next()) {
                self.thumbnails.insert(finger, thumbnail(&img));
                session.fingers.insert(finger, img);
            }
        }
        session.scanner = Some(scanner.info().name.clone());
    }

    pub fn thumbnail(&self, finger: Finger) -> Option<&image::Handle> {
        self.thumbnails.get(&finger)
    }

    pub fn update(&mut self, message: Message, session: &mut Session, scanner: &ScannerWorker) {
        match message {
            Message::Device(stamp, event) => {
                match self.tenprint.handle(session, scanner, stamp, event) {
                    Handled::Captured(fingers) => {
                        self.preview = None;
                        for finger in fingers {
                            if let Some(img) = session.fingers.get(&finger) {
                                self.thumbnails.insert(finger, thumbnail(img));
                            }
                        }
                    }
                    Handled::Preview(p) => {
                        self.previews_seen += 1;
                        self.preview = Some(image::Handle::from_rgba(
                            p.width,
                            p.height,
                            grey_to_rgba(&p.pixels),
                        ));
                    }
                    Handled::Failed => self.preview = None,
                    Handled::Stale | Handled::Progress => {}
                }
            }
            Message::Retake(finger) => {
                self.preview = None;
                self.tenprint.retake(finger, scanner);
            }
            Message::Resume => {
                self.tenprint.start(session, scanner);
            }
        }
    }

    fn status_line<'a>(&self, session: &Session, i18n: &I18n) -> Element<'a, Message> {
        let finger_name = |i: Impression| impression_name(i, i18n);
        match &self.tenprint.status {
            Status::Idle if session.missing_fingers().is_empty() => {
                text(i18n.tr("ui-fingers-complete"))
                    .style(text::success)
                    .into()
            }
            Status::Idle => row(
                i18n,
                vec![
                    text(i18n.tr("ui-fingers-paused")).into(),
                    button(text(i18n.tr("ui-resume")))
                        .style(button::primary)
                        .on_press(Message::Resume)
                        .into(),
                ],
            )
            .into(),
            Status::WaitingFor(f) => {
                text(i18n.text(&Text::new("ui-place-finger").arg("finger", finger_name(*f))))
                    .size(20)
                    .into()
            }
            Status::FingerOn(f) => {
                text(i18n.text(&Text::new("ui-finger-on").arg("finger", finger_name(*f))))
                    .size(20)
                    .into()
            }
            Status::Failed(f, e) => row(
                i18n,
                vec![
                    text(format!(
                        "{}: {}",
                        finger_name(*f),
                        i18n.text(&scan_error_text(e))
                    ))
                    .style(text::danger)
                    .into(),
                    button(text(i18n.tr("ui-try-again")))
                        .style(button::primary)
                        .on_press(Message::Retake(f.fingers()[0]))
                        .into(),
                ],
            )
            .into(),
            Status::Complete => text(i18n.tr("ui-fingers-complete"))
                .style(text::success)
                .into(),
        }
    }

    fn card<'a>(&self, finger: Finger, session: &Session, i18n: &I18n) -> Element<'a, Message> {
        let current = self.tenprint.is_capturing(finger);
        let picture: Element<'a, Message> = match self.thumbnails.get(&finger) {
            Some(handle) => image(handle.clone())
                .content_fit(ContentFit::Contain)
                .height(120)
                .into(),
            None => container(text(if current { "…" } else { "—" }).size(28))
                .center(Length::Fill)
                .height(120)
                .into(),
        };
        let mut col = column![text(i18n.tr(finger_text_id(finger))).size(14), picture]
            .spacing(6)
            .align_x(Alignment::Center);
        if session.fingers.contains_key(&finger) && !current {
            col = col.push(
                button(text(i18n.tr("ui-retake")).size(13))
                    .style(button::secondary)
                    .on_press(Message::Retake(finger)),
            );
        }
        container(col)
            .padding(8)
            .width(Length::Fill)
            .style(if current {
                container::primary
            } else {
                container::bordered_box
            })
            .into()
    }

    pub fn view<'a>(&'a self, session: &'a Session, i18n: &I18n) -> Element<'a, Message> {
        let hand = |fingers: &[Finger], label: &str| {
            column![
                widget::line(i18n, i18n.tr(label)),
                row(
                    i18n,
                    fingers
                        .iter()
                        .map(|&f| self.card(f, session, i18n))
                        .collect()
                )
            ]
            .spacing(6)
        };
        let count = i18n.digits(&session.fingers.len().to_string());
        let preview = self
            .preview
            .as_ref()
            .filter(|_| self.tenprint.is_running())
            .map(|p| {
                column![
                    widget::line(i18n, i18n.tr("ui-scanner-preview")),
                    container(
                        image(p.clone())
                            .content_fit(ContentFit::Contain)
                            .height(220)
                    )
                    .center_x(Length::Fill)
                    .style(container::bordered_box),
                ]
                .spacing(6)
            });
        column![
            widget::heading(i18n, i18n.tr("ui-fingerprints-title")),
            widget::aligned(i18n, self.status_line(session, i18n)),
            widget::line(
                i18n,
                i18n.text(&Text::new("ui-fingers-count").arg("count", count))
            ),
        ]
        .push(preview)
        .push(hand(&Finger::ALL[..5], "ui-right-hand"))
        .push(hand(&Finger::ALL[5..], "ui-left-hand"))
        .spacing(14)
        .into()
    }
}

fn thumbnail(img: &pishkhan_scanner::FingerImage) -> image::Handle {
    image::Handle::from_rgba(img.width, img.height, grey_to_rgba(&img.pixels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn every_sbi_error_code_has_an_operator_message_in_both_languages() {
        for lang in [Lang::Fa, Lang::En] {
            let i18n = I18n::new(lang);
            for code in (100..=112).chain([503, 599]) {
                let error = ScanError::Device {
                    code: code.to_string(),
                    message: "english detail".into(),
                };
                let text = i18n.text(&scan_error_text(&error));
                if code == 111 {
                    continue; // busy is ScanError::Busy, never a Device error
                }
                assert!(!text.contains("english detail"), "{lang:?} {code}: {text}");
                assert!(
                    text.contains(&i18n.digits(&code.to_string())),
                    "{lang:?} {code}: {text}"
                );
            }
        }
    }
}
