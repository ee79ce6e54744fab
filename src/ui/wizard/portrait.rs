//! Step 3: the live portrait. The camera runs only while this step shows;
//! every frame it delivers is previewed with the guide drawn on it, and
//! the newest frame is judged by the live checks on a worker thread. When
//! every check passes on a few analysed frames in a row the portrait is
//! taken by itself; the operator can always take it by hand, and a
//! portrait that fails a check needs an override: a reason, the posture,
//! whether the applicant was assisted, and a supervisor's sign-in.

use std::sync::Arc;

use iced::widget::{button, checkbox, column, container, image, text, text_input};
use iced::{ContentFit, Element, Length};
use pishkhan_camera::{CameraController, CameraError, CameraStatus, FrameSource, RgbImage, Source};
use pishkhan_face::Policy;

use crate::config::PortraitConfig;
use crate::enrolment::Session;
use crate::enrolment::portrait::{
    CaptureMode, OverrideReason, PortraitOverride, Posture, check_override,
};
use crate::i18n::I18n;
use crate::portrait::live::{self, Analysed, AutoCapture, LiveAnalyser};
use crate::station::Station;
use crate::text::Text;
use crate::ui::approval::Approval;
use crate::ui::widget::{self, row};

#[derive(Default)]
pub struct State {
    camera: Option<CameraController>,
    analyser: Option<LiveAnalyser>,
    /// The configured limits (`[portrait]`).
    config: PortraitConfig,
    auto: AutoCapture,
    source: Option<Source>,
    preview: Option<image::Handle>,
    /// The newest camera frame.
    frame: Option<Arc<RgbImage>>,
    /// The newest analysed frame.
    analysed: Option<Analysed>,
    captured: Option<image::Handle>,
    problem: Option<Text>,
    /// The camera was lost; the controller is reconnecting.
    camera_problem: Option<Text>,
    form: Option<OverrideForm>,
}

/// The override form, on a frozen frame.
struct OverrideForm {
    analysed: Analysed,
    picture: image::Handle,
    reason: Option<OverrideReason>,
    note: String,
    posture: Posture,
    assisted: bool,
    approval: Approval,
    problem: Option<Text>,
    /// Filled in from the accommodations.
    prefilled: bool,
}

impl OverrideForm {
    /// Fills in what the session's accommodations say: a seated or lying
    /// applicant is photographed by override for their posture, assisted
    /// when a carer is present. Only the supervisor's approval is left.
    fn prefill(&mut self, session: &Session) {
        let accommodations = &session.accommodations;
        if let Some(prefill) = accommodations.override_prefill() {
            self.reason = Some(prefill.reason);
            self.posture = prefill.posture;
            self.prefilled = true;
        }
        if accommodations.assisted() {
            self.assisted = true;
        }
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    Tick,
    /// Take the portrait now (opens the override form when a check fails).
    Capture,
    Retake,
    Reason(OverrideReason),
    Note(String),
    Posture(Posture),
    Assisted(bool),
    Username(String),
    Password(String),
    Approve,
    CancelOverride,
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

    pub fn enter(&mut self, session: &Session, source: &Source, config: &PortraitConfig) {
        self.source = Some(source.clone());
        if self.config != *config {
            self.config = *config;
            self.analyser = None;
        }
        self.auto = AutoCapture::new(config.auto_capture_frames);
        if session.portrait.is_none() {
            self.start();
        }
    }

    fn start(&mut self) {
        if let Some(source) = &self.source {
            self.problem = None;
            self.camera_problem = None;
            self.auto.reset();
            self.camera = Some(CameraController::start(source.clone()));
            if self.analyser.is_none() {
                self.analyser = Some(LiveAnalyser::start(self.config.policy()));
            }
        }
    }

    /// Stops the camera (dropping the controller joins its thread) and
    /// the analysis.
    pub fn leave(&mut self) {
        self.camera = None;
        self.analyser = None;
        self.preview = None;
        self.frame = None;
        self.analysed = None;
        self.form = None;
    }

    /// Takes the demo camera's first compliant frame, as auto-capture
    /// would (the `--demo-step` screens).
    pub fn demo_take(&mut self, session: &mut Session) {
        let camera = pishkhan_camera::SyntheticFace::demo();
        let mut analyser = LiveAnalyser::start(Policy::default());
        for n in 0..60 {
            let frame = Arc::new(camera.render(n));
            analyser.offer(&frame);
            match analyser.wait() {
                Ok(analysed) if analysed.analysis.passed() => {
                    self.take(session, &analysed, CaptureMode::Auto, None);
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    self.problem = Some(Text::new("err-portrait-checks").arg("detail", e));
                    return;
                }
            }
        }
    }

    /// The newest analysis of the live preview.
    pub fn analysis(&self) -> Option<&pishkhan_face::Analysis> {
        self.analysed.as_ref().map(|a| &a.analysis)
    }

    /// The captured portrait, for the review step.
    pub fn captured(&self) -> Option<&image::Handle> {
        self.captured.as_ref()
    }

    /// Stores the portrait taken from `analysed` and stops the camera.
    fn take(
        &mut self,
        session: &mut Session,
        analysed: &Analysed,
        mode: CaptureMode,
        r#override: Option<PortraitOverride>,
    ) {
        let source = self.camera.as_ref().map_or_else(
            || pishkhan_camera::SyntheticFace::demo().describe(),
            CameraController::description,
        );
        match live::take(analysed, source, mode, r#override) {
            Ok(portrait) => {
                tracing::info!(?mode, "portrait taken");
                self.captured = ::image::load_from_memory(&portrait.jpeg)
                    .ok()
                    .map(|i| handle(&i.to_rgb8()));
                session.portrait = Some(portrait);
                self.leave();
            }
            Err(e) => {
                self.problem = Some(Text::new("err-internal").arg("detail", e.to_string()));
            }
        }
    }

    fn tick(&mut self, session: &mut Session) {
        let Some(camera) = &self.camera else { return };
        // The preview is redrawn only when a frame or an analysis arrived.
        let mut changed = false;
        match camera.latest() {
            Some(Ok(frame)) => {
                let frame = Arc::new(frame);
                if let Some(analyser) = &mut self.analyser {
                    analyser.offer(&frame);
                }
                self.frame = Some(frame);
                changed = true;
            }
            Some(Err(e)) => {
                // The controller keeps trying to reopen the camera: stay on
                // the step, say what happened, and start over when frames
                // come back.
                tracing::warn!("camera: {e}");
                self.camera_problem = Some(camera_text(&e));
                self.frame = None;
                self.preview = None;
                self.analysed = None;
                self.auto.reset();
                if matches!(camera.status(), CameraStatus::Failed(_)) {
                    self.camera = None;
                }
                return;
            }
            None => {}
        }
        if self.frame.is_some() && matches!(camera.status(), CameraStatus::Live) {
            self.camera_problem = None;
        }
        let mut ready = None;
        if let Some(analyser) = &mut self.analyser {
            if let Some(analysed) = analyser.poll() {
                ready = Some(analysed);
            } else if let Some(failure) = analyser.failure() {
                self.problem = Some(Text::new("err-portrait-checks").arg("detail", failure));
            }
        }
        if let Some(analysed) = ready {
            let due = self.auto.observe(&analysed.analysis);
            if due && self.form.is_none() {
                self.take(session, &analysed, CaptureMode::Auto, None);
                return;
            }
            self.analysed = Some(analysed);
            changed = true;
        }
        if let Some(frame) = self.frame.as_ref().filter(|_| changed) {
            let analysis = self.analysed.as_ref().map(|a| &a.analysis);
            self.preview = Some(handle(&live::guide(frame, analysis)));
        }
    }

    /// The frame the override form freezes: the newest analysed one, or
    /// the newest frame judged as showing no face when the checks could
    /// not run.
    fn frozen(&self) -> Option<Analysed> {
        if let Some(analysed) = &self.analysed {
            return Some(analysed.clone());
        }
        let frame = self.frame.clone()?;
        let analysis = pishkhan_face::analyse(&frame, Vec::new(), &self.config.policy());
        Some(Analysed {
            frame,
            analysis,
            took: std::time::Duration::ZERO,
        })
    }

    pub fn update(&mut self, message: Message, session: &mut Session, station: &Station) {
        match message {
            Message::Tick => self.tick(session),
            Message::Capture => match &self.analysed {
                Some(analysed) if analysed.analysis.passed() => {
                    let analysed = analysed.clone();
                    self.take(session, &analysed, CaptureMode::Manual, None);
                }
                _ => {
                    if let Some(analysed) = self.frozen() {
                        let picture =
                            handle(&live::guide(&analysed.frame, Some(&analysed.analysis)));
                        let mut form = OverrideForm {
                            analysed,
                            picture,
                            reason: None,
                            note: String::new(),
                            posture: Posture::default(),
                            assisted: false,
                            approval: Approval::default(),
                            problem: None,
                            prefilled: false,
                        };
                        form.prefill(session);
                        self.form = Some(form);
                    }
                }
            },
            Message::Retake => {
                session.portrait = None;
                self.captured = None;
                self.start();
            }
            Message::CancelOverride => self.form = None,
            Message::Approve => self.approve(session, station),
            message => {
                let Some(form) = &mut self.form else { return };
                match message {
                    Message::Reason(reason) => form.reason = Some(reason),
                    Message::Note(note) => form.note = note,
                    Message::Posture(posture) => form.posture = posture,
                    Message::Assisted(assisted) => form.assisted = assisted,
                    Message::Username(username) => form.approval.username = username,
                    Message::Password(password) => form.approval.password = password,
                    _ => {}
                }
            }
        }
    }

    /// An accommodation was switched while the override form is open:
    /// the form follows it.
    pub fn accommodations_changed(&mut self, session: &Session) {
        if let Some(form) = &mut self.form {
            form.prefill(session);
        }
    }

    fn approve(&mut self, session: &mut Session, station: &Station) {
        let Some(form) = &mut self.form else { return };
        let reason = match check_override(form.reason, &form.note) {
            Ok(reason) => reason,
            Err(problem) => {
                form.problem = Some(Text::new(problem.text_id()));
                form.approval.password.clear();
                return;
            }
        };
        form.problem = None;
        let Some(supervisor) = form.approval.verify(station) else {
            return;
        };
        let r#override = PortraitOverride {
            reason,
            note: form.note.trim().to_owned(),
            posture: form.posture,
            assisted: form.assisted,
            approved_by: supervisor,
        };
        let analysed = form.analysed.clone();
        self.take(session, &analysed, CaptureMode::Override, Some(r#override));
    }

    /// What the applicant should change, from the newest analysis.
    fn guidance<'a>(&'a self, i18n: &I18n) -> Vec<Element<'a, Message>> {
        let Some(analysed) = &self.analysed else {
            return vec![widget::line(i18n, i18n.tr("portrait-analysing"))];
        };
        let analysis = &analysed.analysis;
        let Some(first) = analysis.first_failure() else {
            let (done, needed) = self.auto.progress();
            return vec![widget::aligned(
                i18n,
                text(
                    i18n.text(
                        &Text::new("portrait-all-pass")
                            .arg("done", done.to_string())
                            .arg("needed", needed.to_string()),
                    ),
                )
                .size(20)
                .style(text::success),
            )];
        };
        let failing: Vec<String> = analysis
            .checks
            .iter()
            .filter(|c| !c.passed && c.value.is_some())
            .map(|c| i18n.tr(live::check_name(c.id)))
            .collect();
        let mut items = vec![widget::aligned(
            i18n,
            text(i18n.tr(live::instruction(first)))
                .size(20)
                .style(text::warning),
        )];
        if failing.len() > 1 {
            items.push(widget::detail(
                i18n,
                "portrait-failing",
                failing.join(i18n.tr("ui-list-separator").as_str()),
            ));
        }
        items
    }

    fn override_view<'a>(&'a self, form: &'a OverrideForm, i18n: &I18n) -> Element<'a, Message> {
        let failing: Vec<String> = form
            .analysed
            .analysis
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| i18n.tr(live::check_name(c.id)))
            .collect();
        let reasons = OverrideReason::ALL
            .into_iter()
            .map(|r| {
                widget::choice(
                    i18n,
                    i18n.tr(r.text_id()),
                    form.reason == Some(r),
                    Message::Reason(r),
                )
            })
            .collect::<Vec<_>>();
        let postures = Posture::ALL
            .into_iter()
            .map(|p| {
                widget::choice(
                    i18n,
                    i18n.tr(p.text_id()),
                    form.posture == p,
                    Message::Posture(p),
                )
            })
            .collect();
        let mut items: Vec<Element<'a, Message>> = vec![
            widget::heading(i18n, i18n.tr("portrait-override-title")),
            widget::line(
                i18n,
                i18n.tr(if form.prefilled {
                    "portrait-override-prefilled"
                } else {
                    "portrait-override-help"
                }),
            ),
            widget::detail(
                i18n,
                "portrait-failing",
                failing.join(i18n.tr("ui-list-separator").as_str()),
            ),
            widget::aligned(
                i18n,
                image(form.picture.clone())
                    .content_fit(ContentFit::Contain)
                    .height(220),
            ),
            widget::line(i18n, i18n.tr("portrait-override-reason")),
        ];
        items.extend(reasons.into_iter().map(|r| widget::aligned(i18n, r)));
        items.push(
            text_input(&i18n.tr("portrait-override-note"), &form.note)
                .id("portrait-override-note")
                .on_input(Message::Note)
                .padding(8)
                .align_x(widget::start(i18n))
                .into(),
        );
        items.push(widget::line(i18n, i18n.tr("portrait-posture")));
        items.push(widget::aligned(i18n, row(i18n, postures).spacing(16)));
        items.push(widget::aligned(
            i18n,
            button(row(
                i18n,
                vec![
                    checkbox(form.assisted)
                        .on_toggle(Message::Assisted)
                        .size(22)
                        .into(),
                    text(i18n.tr("portrait-assisted")).into(),
                ],
            ))
            .style(button::text)
            .on_press(Message::Assisted(!form.assisted)),
        ));
        items.extend(form.approval.view(
            i18n,
            Message::Username,
            Message::Password,
            Some(Message::Approve),
        ));
        if let Some(problem) = &form.problem {
            items.push(widget::error(i18n, problem));
        }
        items.push(widget::aligned(
            i18n,
            row(
                i18n,
                vec![
                    button(text(i18n.tr("portrait-override-approve")))
                        .padding([8, 20])
                        .style(button::primary)
                        .on_press(Message::Approve)
                        .into(),
                    button(text(i18n.tr("ui-cancel")))
                        .padding([8, 20])
                        .style(button::secondary)
                        .on_press(Message::CancelOverride)
                        .into(),
                ],
            )
            .spacing(12),
        ));
        container(iced::widget::Column::with_children(items).spacing(12))
            .padding(16)
            .style(container::bordered_box)
            .into()
    }

    /// How the taken portrait was judged.
    fn taken_summary<'a>(session: &'a Session, i18n: &I18n) -> Vec<Element<'a, Message>> {
        let compliant = session
            .portrait
            .as_ref()
            .and_then(|p| p.face.as_ref())
            .is_none_or(crate::enrolment::portrait::FaceCapture::compliant);
        let summary = summary(session, i18n).unwrap_or_else(|| i18n.tr("ui-portrait-taken"));
        vec![
            text(summary)
                .style(if compliant {
                    text::success
                } else {
                    text::warning
                })
                .into(),
        ]
    }

    pub fn view<'a>(&'a self, session: &'a Session, i18n: &I18n) -> Element<'a, Message> {
        if let Some(form) = &self.form {
            return self.override_view(form, i18n);
        }
        let height = if session.portrait.is_some() { 480 } else { 420 };
        let picture: Element<'a, Message> = match (&self.captured, &self.preview) {
            (Some(captured), _) if session.portrait.is_some() => image(captured.clone())
                .content_fit(ContentFit::Contain)
                .height(height)
                .into(),
            (_, Some(preview)) => image(preview.clone())
                .content_fit(ContentFit::Contain)
                .height(height)
                .into(),
            _ => container(text(i18n.tr("ui-camera-starting")))
                .center(Length::Fill)
                .height(height)
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
            actions.extend(Self::taken_summary(session, i18n));
        } else if self.camera.is_some() {
            let compliant = self.analysed.as_ref().is_some_and(|a| a.analysis.passed());
            let label = if compliant || self.frame.is_none() {
                "ui-capture"
            } else {
                "portrait-capture-override"
            };
            actions.push(
                button(text(i18n.tr(label)))
                    .padding([8, 20])
                    .style(if compliant {
                        button::primary
                    } else {
                        button::secondary
                    })
                    .on_press_maybe(self.frame.as_ref().map(|_| Message::Capture))
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
        if session.portrait.is_none() && self.camera.is_some() {
            col = col.extend(self.guidance(i18n));
        }
        if let Some(problem) = &self.camera_problem {
            col = col.push(widget::error(i18n, problem));
            if let Some(CameraStatus::Lost { attempt, .. }) =
                self.camera.as_ref().map(CameraController::status)
            {
                col = col.push(widget::line(
                    i18n,
                    i18n.text(
                        &Text::new("ui-camera-reconnecting").arg("attempt", attempt.to_string()),
                    ),
                ));
            }
        }
        if let Some(problem) = &self.problem {
            col = col.push(widget::error(i18n, problem));
        }
        col.push(widget::aligned(i18n, row(i18n, actions).spacing(12)))
            .into()
    }
}

/// One line on how the portrait was taken (automatically, by the
/// operator, or by override with its reason and approver), for the
/// portrait and review steps.
pub fn summary(session: &Session, i18n: &I18n) -> Option<String> {
    let capture = session.portrait.as_ref()?.face.as_ref()?;
    Some(match (&capture.mode, &capture.r#override) {
        (CaptureMode::Override, Some(o)) => i18n.text(
            &Text::new("portrait-taken-override")
                .arg("reason", i18n.tr(o.reason.text_id()))
                .arg("supervisor", o.approved_by.clone()),
        ),
        (CaptureMode::Auto, _) => i18n.tr("portrait-taken-auto"),
        _ => i18n.tr("portrait-taken-manual"),
    })
}
