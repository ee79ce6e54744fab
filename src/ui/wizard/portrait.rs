//! Step 3: the live portrait. The camera runs only while this step shows.

use iced::widget::{button, column, container, image, text};
use iced::{ContentFit, Element, Length};
use pishkhan_camera::{CameraController, CameraError, RgbImage, Source};

use crate::enrolment::{Portrait, Session};
use crate::i18n::I18n;
use crate::text::Text;
use crate::ui::widget::{self, row};

#[derive(Default)]
pub struct State {
    camera: Option<CameraController>,
    source: Option<Source>,
    preview: Option<image::Handle>,
    last_frame: Option<RgbImage>,
    captured: Option<image::Handle>,
    problem: Option<Text>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Capture,
    Retake,
    Tick,
}

fn handle(frame: &RgbImage) -> image::Handle {
    image::Handle::from_rgba(
        frame.width(),
        frame.height(),
        crate::ui::widget::rgb_to_rgba(frame.as_raw()),
    )
}

fn camera_text(e: &CameraError) -> Text {
    match e {
        CameraError::Open { index, reason } => Text::new("err-camera-open")
            .arg("index", index.to_string())
            .arg("detail", reason.clone()),
        CameraError::Lost(reason) => Text::new("err-camera-lost").arg("detail", reason.clone()),
        CameraError::Unsupported => Text::new("err-camera-unsupported"),
    }
}

impl State {
    /// Whether the live preview is running.
    pub fn is_live(&self) -> bool {
        self.camera.is_some()
    }

    pub fn enter(&mut self, session: &Session, source: &Source) {
        self.source = Some(source.clone());
        if session.portrait.is_none() {
            self.start();
        }
    }

    fn start(&mut self) {
        if let Some(source) = &self.source {
            self.problem = None;
            self.camera = Some(CameraController::start(source.clone()));
        }
    }

    /// Stops the camera (dropping the controller joins its thread).
    pub fn leave(&mut self) {
        self.camera = None;
        self.preview = None;
        self.last_frame = None;
    }

    /// Takes `frame` as the portrait.
    pub fn use_frame(&mut self, session: &mut Session, frame: &RgbImage, source: String) {
        match Portrait::from_frame(frame, source) {
            Ok(portrait) => {
                self.captured = Some(handle(frame));
                session.portrait = Some(portrait);
            }
            Err(e) => {
                self.problem = Some(Text::new("err-internal").arg("detail", e.to_string()));
            }
        }
    }

    /// The captured portrait, for the review step.
    pub fn captured(&self) -> Option<&image::Handle> {
        self.captured.as_ref()
    }

    pub fn update(&mut self, message: Message, session: &mut Session) {
        match message {
            Message::Tick => {
                let Some(camera) = &self.camera else { return };
                match camera.latest() {
                    Some(Ok(frame)) => {
                        self.preview = Some(handle(&frame));
                        self.last_frame = Some(frame);
                    }
                    Some(Err(e)) => {
                        tracing::warn!("camera: {e}");
                        self.problem = Some(camera_text(&e));
                        self.camera = None;
                    }
                    None => {}
                }
            }
            Message::Capture => {
                let (Some(frame), Some(camera)) = (self.last_frame.take(), &self.camera) else {
                    return;
                };
                let source = camera.description();
                self.use_frame(session, &frame, source);
                self.leave();
            }
            Message::Retake => {
                session.portrait = None;
                self.captured = None;
                self.start();
            }
        }
    }

    pub fn view<'a>(&'a self, session: &'a Session, i18n: &I18n) -> Element<'a, Message> {
        let picture: Element<'a, Message> = match (&self.captured, &self.preview) {
            (Some(captured), _) if session.portrait.is_some() => image(captured.clone())
                .content_fit(ContentFit::Contain)
                .height(420)
                .into(),
            (_, Some(preview)) => image(preview.clone())
                .content_fit(ContentFit::Contain)
                .height(420)
                .into(),
            _ => container(text(i18n.tr("ui-camera-starting")))
                .center(Length::Fill)
                .height(420)
                .into(),
        };
        let mut actions = Vec::new();
        if session.portrait.is_some() {
            actions.push(
                button(text(i18n.tr("ui-retake")))
                    .padding([8, 20])
                    .style(button::secondary)
                    .on_press(Message::Retake)
                    .into(),
            );
            actions.push(
                text(i18n.tr("ui-portrait-taken"))
                    .style(text::success)
                    .into(),
            );
        } else if self.camera.is_some() {
            actions.push(
                button(text(i18n.tr("ui-capture")))
                    .padding([8, 20])
                    .style(button::primary)
                    .on_press_maybe(self.last_frame.as_ref().map(|_| Message::Capture))
                    .into(),
            );
        } else {
            actions.push(
                button(text(i18n.tr("ui-camera-reconnect")))
                    .padding([8, 20])
                    .style(button::secondary)
                    .on_press(Message::Retake)
                    .into(),
            );
        }
        let mut col = column![
            widget::heading(i18n, i18n.tr("ui-portrait-title")),
            widget::line(i18n, i18n.tr("ui-portrait-help")),
            container(picture)
                .center_x(Length::Fill)
                .padding(8)
                .style(container::bordered_box),
        ]
        .spacing(14);
        if let Some(problem) = &self.problem {
            col = col.push(widget::error(i18n, problem));
        }
        col.push(widget::aligned(i18n, row(i18n, actions))).into()
    }
}
