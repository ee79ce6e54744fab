//! An evidence photo through the station's camera: a live preview, Take,
//! and Retake. Used for the waist-up photo of a fingerprint exception and
//! the optional photo of an identity document. The camera runs only while
//! the preview is shown.

use iced::widget::{button, container, image, text};
use iced::{ContentFit, Element, Length};
use std::sync::Arc;

use pishkhan_camera::{CameraController, CameraStatus, RgbImage, Source};
use pishkhan_face::Face;

use crate::enrolment::Portrait;
use crate::i18n::I18n;
use crate::portrait::live::{self, LiveAnalyser};
use crate::text::Text;
use crate::ui::widget::{self, row};

pub struct PhotoCapture {
    source: Source,
    /// Set for the waist-up photo of a fingerprint exception: the face
    /// detector looks for the applicant's face in the frame, and the guide
    /// shows where head and hands belong.
    waist_up: Option<WaistUp>,
    camera: Option<CameraController>,
    frame: Option<Arc<RgbImage>>,
    live: Option<image::Handle>,
    photo: Option<(Portrait, image::Handle)>,
    problem: Option<Text>,
}

impl std::fmt::Debug for PhotoCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhotoCapture")
            .field("live", &self.camera.is_some())
            .field("photo", &self.photo.as_ref().map(|(p, _)| p))
            .finish_non_exhaustive()
    }
}

/// What the photo controls send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoMessage {
    Take,
    Retake,
}

/// The waist-up framing aid.
struct WaistUp {
    analyser: LiveAnalyser,
    /// Faces found in the newest analysed frame.
    faces: Option<Vec<Face>>,
}

impl PhotoCapture {
    /// Starts the camera `source` for the waist-up photo of a fingerprint
    /// exception (the applicant's face and hands in one picture).
    pub fn start_waist_up(source: &Source) -> Self {
        Self {
            waist_up: Some(WaistUp {
                analyser: LiveAnalyser::start(pishkhan_face::Policy::default()),
                faces: None,
            }),
            ..Self::start(source)
        }
    }

    /// Starts the camera `source` for a photo.
    pub fn start(source: &Source) -> Self {
        Self {
            waist_up: None,
            source: source.clone(),
            camera: Some(CameraController::start(source.clone())),
            frame: None,
            live: None,
            photo: None,
            problem: None,
        }
    }

    /// Whether the camera is running (the window must tick).
    pub fn is_live(&self) -> bool {
        self.camera.is_some()
    }

    /// The photo taken, if any.
    pub fn photo(&self) -> Option<&Portrait> {
        self.photo.as_ref().map(|(p, _)| p)
    }

    /// Takes the photo out, leaving the capture empty.
    pub fn take_photo(&mut self) -> Option<Portrait> {
        self.photo.take().map(|(p, _)| p)
    }

    /// Takes the camera's latest frame into the live view.
    pub fn tick(&mut self) {
        let Some(camera) = &self.camera else {
            return;
        };
        match camera.latest() {
            Some(Ok(frame)) => {
                let frame = Arc::new(frame);
                self.live = Some(match &mut self.waist_up {
                    Some(aid) => {
                        aid.analyser.offer(&frame);
                        if let Some(analysed) = aid.analyser.poll() {
                            aid.faces = Some(analysed.analysis.faces);
                        }
                        rgb_handle(&live::waist_up_guide(&frame, aid.faces.as_deref()))
                    }
                    None => rgb_handle(&frame),
                });
                self.frame = Some(frame);
            }
            Some(Err(e)) => {
                // The controller reconnects by itself; the problem shows
                // until frames come back.
                tracing::warn!("evidence photo camera: {e}");
                self.problem = Some(Text::new("err-camera-lost").arg("detail", e.to_string()));
                self.frame = None;
                self.live = None;
                if matches!(camera.status(), CameraStatus::Failed(_)) {
                    self.camera = None;
                }
                return;
            }
            None => {}
        }
        if self.frame.is_some() && matches!(camera.status(), CameraStatus::Live) {
            self.problem = None;
        }
    }

    pub fn update(&mut self, message: PhotoMessage) {
        match message {
            PhotoMessage::Take => {
                if let (Some(frame), Some(camera)) = (self.frame.take(), &self.camera) {
                    match Portrait::from_frame(&frame, camera.description()) {
                        Ok(photo) => {
                            self.photo = Some((photo, rgb_handle(&frame)));
                            self.camera = None;
                            self.live = None;
                        }
                        Err(e) => {
                            self.problem =
                                Some(Text::new("err-internal").arg("detail", e.to_string()));
                        }
                    }
                }
            }
            PhotoMessage::Retake => {
                self.photo = None;
                self.problem = None;
                self.camera = Some(CameraController::start(self.source.clone()));
            }
        }
    }

    /// The picture (live or taken) beside its button, and the camera's
    /// problem if any.
    pub fn view<'a, M: Clone + 'a>(
        &'a self,
        i18n: &I18n,
        message: impl Fn(PhotoMessage) -> M,
    ) -> Vec<Element<'a, M>> {
        let picture: Element<'a, M> = match (&self.photo, &self.live) {
            (Some((_, handle)), _) | (None, Some(handle)) => image(handle.clone())
                .content_fit(ContentFit::Contain)
                .height(200)
                .into(),
            (None, None) => container(text(i18n.tr("ui-camera-starting")))
                .center(Length::Fill)
                .height(200)
                .into(),
        };
        let photo_button = if self.photo.is_some() {
            button(text(i18n.tr("ui-photo-taken")))
                .style(button::secondary)
                .on_press(message(PhotoMessage::Retake))
        } else {
            button(text(i18n.tr("ui-take-photo")))
                .style(button::primary)
                .on_press_maybe(self.frame.is_some().then(|| message(PhotoMessage::Take)))
        };
        let mut items = Vec::new();
        if let Some(aid) = self.waist_up.as_ref().filter(|_| self.photo.is_none()) {
            items.push(widget::line(i18n, i18n.tr("ui-waist-up-help")));
            match aid.faces.as_deref() {
                Some([_]) => items.push(widget::aligned(
                    i18n,
                    text(i18n.tr("ui-waist-up-face-found")).style(text::success),
                )),
                Some(faces) => items.push(widget::aligned(
                    i18n,
                    text(i18n.tr(if faces.is_empty() {
                        "ui-waist-up-no-face"
                    } else {
                        "ui-waist-up-faces"
                    }))
                    .style(text::warning),
                )),
                None => {}
            }
        }
        items.push(widget::aligned(
            i18n,
            row(i18n, vec![picture, photo_button.into()]).spacing(12),
        ));
        if let Some(problem) = &self.problem {
            items.push(widget::error(i18n, problem));
        }
        items
    }
}

fn rgb_handle(frame: &RgbImage) -> image::Handle {
    image::Handle::from_rgba(
        frame.width(),
        frame.height(),
        widget::rgb_to_rgba(frame.as_raw()),
    )
}
