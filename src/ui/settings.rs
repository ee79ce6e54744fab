//! The settings screen: language, devices, fingerprint and portrait
//! thresholds, outbox limits. Every value is checked with a message under
//! its field; saving writes only the changed keys to `pishkhan.toml` and
//! records each in the audit log under the supervisor's name
//! ([`crate::settings::save`]).

use iced::widget::{button, column, text};
use iced::{Element, Length};

use super::widget::{self, row};
use crate::config::Config;
use crate::config::edit::ConfigFile;
use crate::i18n::{I18n, Lang};
use crate::settings::{self as domain, Kind, SETTINGS, Setting};
use crate::station::Station;
use crate::text::Text;

#[derive(Debug)]
pub struct Settings {
    /// What the screen showed when opened (or last saved), by key.
    before: Vec<(&'static str, String)>,
    /// What is typed or chosen now, by key.
    values: Vec<(&'static str, String)>,
    /// Messages under the fields, by key.
    problems: Vec<(&'static str, Text)>,
    /// What the last save did.
    outcome: Option<Outcome>,
}

#[derive(Debug, Clone)]
enum Outcome {
    Saved { count: usize, restart: bool },
    Unchanged,
    Problem(Text),
}

#[derive(Debug, Clone)]
pub enum Message {
    /// A value typed or chosen for the key.
    Set(&'static str, String),
    Save,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Saved; the window switches to this language when it changed.
    Saved {
        language: Option<Lang>,
    },
    Closed,
}

/// The configuration as the file says now (saved settings included).
fn current(station: &Station) -> Config {
    ConfigFile::open(&station.data_dir)
        .and_then(|f| f.check())
        .unwrap_or_else(|e| {
            tracing::warn!("settings: {e}; showing the configuration loaded at start");
            station.config.clone()
        })
}

/// A message whose numbers read right in the language: `0.5` is `۰٫۵` in
/// Persian (the digits themselves are localised when it is rendered).
fn localised(i18n: &I18n, message: &Text) -> Text {
    let mut message = message.clone();
    if i18n.lang().is_rtl() {
        for (_, value) in &mut message.args {
            *value = value.replace('.', "\u{066B}");
        }
    }
    message
}

/// A value as the field shows it: digits and decimal point of the
/// language.
fn shown(i18n: &I18n, kind: Kind, value: &str) -> String {
    match kind {
        Kind::Whole { .. }
        | Kind::Decimal { .. }
        | Kind::Scaled { .. }
        | Kind::Amounts { .. }
        | Kind::Camera
            if i18n.lang().is_rtl() =>
        {
            i18n.digits(value).replace('.', "\u{066B}")
        }
        _ => value.to_owned(),
    }
}

impl Settings {
    pub fn new(station: &Station) -> Self {
        let config = current(station);
        let before: Vec<_> = SETTINGS
            .iter()
            .map(|s| (s.key, domain::current(&config, s)))
            .collect();
        Self {
            values: before.clone(),
            before,
            problems: Vec::new(),
            outcome: None,
        }
    }

    /// What the field of `key` holds now.
    pub fn value(&self, key: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    fn problem(&self, key: &str) -> Option<&Text> {
        self.problems
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| t)
    }

    /// Applies a message; `supervisor` is who is changing the settings
    /// (recorded in the audit log).
    pub fn update(
        &mut self,
        message: Message,
        station: &Station,
        supervisor: &str,
    ) -> Option<Event> {
        match message {
            Message::Set(key, value) => {
                if let Some((_, v)) = self.values.iter_mut().find(|(k, _)| *k == key) {
                    *v = value;
                }
                self.problems.retain(|(k, _)| *k != key);
                self.outcome = None;
                None
            }
            Message::Close => Some(Event::Closed),
            Message::Save => {
                self.problems.clear();
                match domain::save(station, &self.before, &self.values, supervisor) {
                    Ok(saved) => {
                        self.outcome = Some(if saved.changes.is_empty() {
                            Outcome::Unchanged
                        } else {
                            Outcome::Saved {
                                count: saved.changes.len(),
                                restart: saved.restart_needed,
                            }
                        });
                        let config = saved.config;
                        self.before = SETTINGS
                            .iter()
                            .map(|s| (s.key, domain::current(&config, s)))
                            .collect();
                        self.values = self.before.clone();
                        Some(Event::Saved {
                            language: saved.language,
                        })
                    }
                    Err(domain::SaveError::Invalid(problems)) => {
                        self.outcome = Some(Outcome::Problem(
                            Text::new("err-settings-fix").arg("count", problems.len().to_string()),
                        ));
                        self.problems = problems;
                        None
                    }
                    Err(domain::SaveError::Failed(detail)) => {
                        self.outcome = Some(Outcome::Problem(
                            Text::new("err-settings-failed").arg("detail", detail),
                        ));
                        None
                    }
                }
            }
        }
    }

    pub fn view(&self, i18n: &I18n) -> Element<'_, Message> {
        let mut items: Vec<Element<'_, Message>> = vec![
            widget::heading(i18n, i18n.tr("ui-settings-title")),
            widget::line(i18n, i18n.tr("ui-settings-help")),
        ];
        for setting in SETTINGS {
            if let Some(section) = section_before(setting.key) {
                items.push(widget::aligned(i18n, text(i18n.tr(section)).size(20)));
            }
            items.push(self.setting_view(i18n, setting));
        }
        match &self.outcome {
            Some(Outcome::Saved { count, restart }) => {
                items.push(widget::line(
                    i18n,
                    i18n.text(&Text::new("ui-settings-saved").arg("count", count.to_string())),
                ));
                items.push(widget::line(i18n, i18n.tr("ui-settings-next")));
                if *restart {
                    items.push(widget::line(i18n, i18n.tr("ui-settings-restart")));
                }
            }
            Some(Outcome::Unchanged) => {
                items.push(widget::line(i18n, i18n.tr("ui-settings-unchanged")));
            }
            Some(Outcome::Problem(problem)) => items.push(widget::error(i18n, problem)),
            None => {}
        }
        items.push(widget::aligned(
            i18n,
            row(
                i18n,
                vec![
                    button(text(i18n.tr("ui-settings-save")))
                        .padding([8, 20])
                        .style(button::primary)
                        .on_press(Message::Save)
                        .into(),
                    button(text(i18n.tr("ui-settings-close")))
                        .padding([8, 20])
                        .style(button::secondary)
                        .on_press(Message::Close)
                        .into(),
                ],
            ),
        ));
        widget::page(items)
    }

    fn setting_view<'a>(&'a self, i18n: &I18n, setting: &'static Setting) -> Element<'a, Message> {
        let key = setting.key;
        let value = self.value(key);
        let choices = |options: &[(&str, &str)]| -> Element<'a, Message> {
            let dots: Vec<Element<'a, Message>> = options
                .iter()
                .map(|(option, label)| {
                    widget::choice(
                        i18n,
                        i18n.tr(label),
                        value == *option,
                        Message::Set(key, (*option).to_owned()),
                    )
                })
                .collect();
            widget::aligned(i18n, row(i18n, dots).spacing(16))
        };
        let label = widget::line(i18n, i18n.tr(setting.label));
        let mut col = match setting.kind {
            Kind::Language => column![
                label,
                choices(&[
                    ("fa", "ui-settings-language-fa"),
                    ("en", "ui-settings-language-en"),
                ])
            ],
            Kind::Scanner => column![
                label,
                choices(&[
                    ("auto", "ui-settings-scanner-auto"),
                    ("zfm", "ui-settings-scanner-zfm"),
                    ("sbi", "ui-settings-scanner-sbi"),
                    ("virtual", "ui-settings-scanner-virtual"),
                ])
            ],
            Kind::Camera => {
                let index = if value.chars().any(|c| c.is_alphabetic() && c.is_ascii()) {
                    String::new()
                } else {
                    shown(i18n, setting.kind, value)
                };
                column![
                    label,
                    choices(&[
                        ("auto", "ui-settings-camera-auto"),
                        ("synthetic", "ui-settings-camera-synthetic"),
                        ("synthetic-seated", "ui-settings-camera-synthetic-seated"),
                    ]),
                    widget::aligned(
                        i18n,
                        row(
                            i18n,
                            vec![
                                text(i18n.tr("ui-settings-camera-index")).into(),
                                iced::widget::text_input("", &index)
                                    .id("settings-camera-index")
                                    .on_input(move |v| Message::Set(key, v))
                                    .padding(8)
                                    .width(Length::Fixed(120.0))
                                    .align_x(widget::start(i18n))
                                    .into(),
                            ],
                        ),
                    ),
                ]
            }
            Kind::Port
            | Kind::Whole { .. }
            | Kind::Decimal { .. }
            | Kind::Scaled { .. }
            | Kind::Amounts { .. } => {
                // The field carries its own label and its problem.
                return widget::field(
                    i18n,
                    key,
                    setting.label,
                    &shown(i18n, setting.kind, value),
                    move |v| Message::Set(key, v),
                    self.problem(key).map(|p| localised(i18n, p)).as_ref(),
                );
            }
        };
        if let Some(problem) = self.problem(key) {
            col = col.push(widget::error(i18n, &localised(i18n, problem)));
        }
        col.spacing(4).width(Length::Fill).into()
    }
}

/// The heading shown before a setting, when a section starts there.
fn section_before(key: &str) -> Option<&'static str> {
    match key {
        "devices.camera" => Some("ui-settings-section-devices"),
        "fingerprints.quality_threshold" => Some("ui-settings-section-fingerprints"),
        "portrait.auto_capture_frames" => Some("ui-settings-section-portrait"),
        "outbox.max_packet_bytes" => Some("ui-settings-section-outbox"),
        "fees.city_class" => Some("ui-settings-section-fees"),
        "accounts.max_failed_sign_ins" => Some("ui-settings-section-accounts"),
        _ => None,
    }
}
