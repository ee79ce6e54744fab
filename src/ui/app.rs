//! The root of the interface: which screen is showing, the bars around it,
//! and routing. It decides nothing about enrolment itself.

use std::sync::Arc;
use std::time::Duration;

use iced::widget::{button, column, container, text};
use iced::{Element, Length, Subscription, Task, Theme};

use super::widget::{self, row};
use super::{drafts, provision, queue, settings, setup, sign_in, wizard};
use crate::devices::Devices;
use crate::enrolment::Step;
use crate::i18n::{I18n, Lang};
use crate::station::Station;
use crate::store::outbox;
use crate::text::Text;
use crate::upload::{Link, Progress};
use std::sync::Mutex;

/// How the window starts.
#[derive(Clone)]
pub struct Start {
    /// The opened station, or why it could not be opened.
    pub station: Result<(Arc<Station>, Devices), String>,
    /// Language override from the command line.
    pub lang: Option<Lang>,
    /// For documentation screenshots: open signed in as a demo operator at
    /// this step, with the built-in test applicant filled in.
    pub demo_step: Option<Step>,
    /// The background uploads' progress, when they run.
    pub uploads: Option<Arc<Mutex<Progress>>>,
}

pub enum Screen {
    /// The station cannot start; shows why and where to fix it.
    NotConfigured(String),
    /// First run of a station with the authority's key but no office:
    /// provisioning, then its registration for the intake.
    Provision(provision::Provision),
    /// First run: create the supervisor account.
    Setup(setup::Setup),
    SignIn(sign_in::SignIn),
    /// The operator's unfinished enrolments, offered after sign-in.
    Drafts(drafts::Drafts),
    Wizard(Box<wizard::Wizard>),
}

#[derive(Debug, Clone)]
pub enum Message {
    Setup(setup::Message),
    SignIn(sign_in::Message),
    Drafts(drafts::Message),
    Wizard(wizard::Message),
    Queue(queue::Message),
    ShowQueue,
    Provision(provision::Message),
    Settings(settings::Message),
    ShowSettings,
    /// Periodic refresh of the queue and the link state.
    Refresh,
    ToggleLanguage,
    SignOut,
    /// Periodic poll of devices while a step shows live device output.
    Tick,
}

pub struct App {
    pub i18n: I18n,
    station: Option<(Arc<Station>, Devices)>,
    pub screen: Screen,
    /// Packets waiting for upload, refreshed after anything but a tick.
    queued: Option<u64>,
    uploads: Option<Arc<Mutex<Progress>>>,
    /// The queue screen is open (over whatever screen is underneath).
    pub showing_queue: bool,
    queue_rows: Vec<outbox::Entry>,
    /// The settings screen, when open (over whatever screen is underneath).
    pub settings: Option<settings::Settings>,
}

impl App {
    pub fn new(start: Start) -> Self {
        match start.station {
            Err(reason) => Self {
                i18n: I18n::new(start.lang.unwrap_or_default()),
                station: None,
                screen: Screen::NotConfigured(reason),
                queued: None,
                uploads: None,
                showing_queue: false,
                queue_rows: Vec::new(),
                settings: None,
            },
            Ok((station, devices)) => {
                let i18n = I18n::new(start.lang.unwrap_or(station.config.language));
                let screen = match (start.demo_step, station.has_accounts()) {
                    (Some(step), _) => Screen::Wizard(Box::new(wizard::Wizard::demo(
                        station.clone(),
                        devices.clone(),
                        step,
                        i18n.tr("ui-demo-operator"),
                    ))),
                    (None, _) if crate::provision::needed(&station) => {
                        Screen::Provision(provision::Provision::new(&station))
                    }
                    (None, Ok(false)) => Screen::Setup(setup::Setup::default()),
                    (None, Ok(true)) => Screen::SignIn(sign_in::SignIn::default()),
                    (None, Err(e)) => Screen::NotConfigured(e.to_string()),
                };
                let mut app = Self {
                    i18n,
                    station: Some((station, devices)),
                    screen,
                    queued: None,
                    uploads: start.uploads,
                    showing_queue: false,
                    queue_rows: Vec::new(),
                    settings: None,
                };
                app.refresh_queue();
                app
            }
        }
    }

    pub fn title(&self) -> String {
        self.i18n.tr("ui-app-title")
    }

    pub fn theme(&self) -> Theme {
        Theme::Light
    }

    fn refresh_queue(&mut self) {
        self.queued = self
            .station
            .as_ref()
            .and_then(|(station, _)| station.with_db(outbox::pending).ok());
        if self.showing_queue {
            self.queue_rows = self
                .station
                .as_ref()
                .and_then(|(station, _)| station.with_db(outbox::list).ok())
                .unwrap_or_default();
        }
    }

    /// The username of whoever is signed in, if anyone.
    fn signed_in(&self) -> Option<String> {
        match &self.screen {
            Screen::Wizard(wizard) => Some(wizard.session.operator.clone()),
            Screen::Drafts(drafts) => Some(drafts.account.username.clone()),
            _ => None,
        }
    }

    fn progress(&self) -> Option<Progress> {
        self.uploads.as_ref().map(|p| {
            p.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
        })
    }

    pub fn update(&mut self, message: Message) -> Task<Message> {
        if !matches!(message, Message::Tick) {
            let task = self.route(message);
            self.refresh_queue();
            return task;
        }
        self.route(message)
    }

    fn route(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::ShowQueue => self.showing_queue = true,
            Message::Queue(queue::Message::Close) => self.showing_queue = false,
            Message::Refresh => {
                // Background work shows on screen: the appointment list's age.
                if let Screen::Wizard(wizard) = &mut self.screen {
                    wizard.refresh_background();
                }
            }
            Message::ToggleLanguage => {
                self.i18n.set_lang(self.i18n.lang().other());
            }
            Message::SignOut => {
                if self.station.is_some() {
                    self.screen = Screen::SignIn(sign_in::SignIn::default());
                }
            }
            // --- provisioning and settings (branch `provision`) ---
            Message::Provision(message) => {
                let (Screen::Provision(screen), Some((station, _))) =
                    (&mut self.screen, &mut self.station)
                else {
                    return Task::none();
                };
                match screen.update(message, station) {
                    Some(provision::Event::Provisioned(reopened)) => *station = reopened,
                    Some(provision::Event::Continue) => {
                        self.screen = match station.has_accounts() {
                            Ok(true) => Screen::SignIn(sign_in::SignIn::default()),
                            _ => Screen::Setup(setup::Setup::default()),
                        };
                    }
                    None => {}
                }
            }
            Message::ShowSettings => {
                if let Some((station, _)) = &self.station {
                    self.settings = Some(settings::Settings::new(station));
                    self.showing_queue = false;
                }
            }
            Message::Settings(message) => {
                let actor = self
                    .signed_in()
                    .unwrap_or_else(|| "(nobody signed in)".into());
                let (Some(screen), Some((station, _))) = (&mut self.settings, &self.station) else {
                    return Task::none();
                };
                match screen.update(message, station, &actor) {
                    Some(settings::Event::Saved {
                        language: Some(lang),
                    }) => self.i18n.set_lang(lang),
                    Some(settings::Event::Closed) => self.settings = None,
                    Some(settings::Event::Saved { language: None }) | None => {}
                }
            }
            // --- end provisioning and settings ---
            Message::Setup(message) => {
                let (Screen::Setup(setup), Some((station, _))) = (&mut self.screen, &self.station)
                else {
                    return Task::none();
                };
                if let Some(setup::Event::Created) = setup.update(message, station) {
                    self.screen = Screen::SignIn(sign_in::SignIn::default());
                }
            }
            Message::SignIn(message) => {
                let (Screen::SignIn(sign_in), Some((station, devices))) =
                    (&mut self.screen, &self.station)
                else {
                    return Task::none();
                };
                if let Some(sign_in::Event::SignedIn(account, key)) =
                    sign_in.update(message, station)
                {
                    let waiting = station.drafts_of(&account.username).unwrap_or_else(|e| {
                        tracing::error!("reading drafts: {e}");
                        Vec::new()
                    });
                    self.screen = if waiting.is_empty() {
                        Screen::Wizard(Box::new(wizard::Wizard::new(
                            station.clone(),
                            devices.clone(),
                            account.username,
                            account.full_name,
                        )))
                    } else {
                        Screen::Drafts(drafts::Drafts::new(station, account, key, waiting))
                    };
                }
            }
            Message::Drafts(message) => {
                let (Screen::Drafts(screen), Some((station, devices))) =
                    (&mut self.screen, &self.station)
                else {
                    return Task::none();
                };
                let account = screen.account.clone();
                match screen.update(message, station) {
                    Some(drafts::Event::StartNew) => {
                        self.screen = Screen::Wizard(Box::new(wizard::Wizard::new(
                            station.clone(),
                            devices.clone(),
                            account.username,
                            account.full_name,
                        )));
                    }
                    Some(drafts::Event::Resume(restored)) => {
                        self.screen = Screen::Wizard(Box::new(wizard::Wizard::resume(
                            station.clone(),
                            devices.clone(),
                            account.full_name,
                            *restored,
                        )));
                    }
                    None => {}
                }
            }
            Message::Wizard(message) => {
                if let Screen::Wizard(wizard) = &mut self.screen {
                    return wizard.update(message).map(Message::Wizard);
                }
            }
            Message::Tick => {
                if let Screen::Wizard(wizard) = &mut self.screen {
                    return wizard.update(wizard::Message::Tick).map(Message::Wizard);
                }
            }
        }
        Task::none()
    }

    pub fn subscription(&self) -> Subscription<Message> {
        let refresh = if self.uploads.is_some() {
            iced::time::every(Duration::from_secs(1)).map(|_| Message::Refresh)
        } else {
            Subscription::none()
        };
        Subscription::batch([refresh, self.screen_subscription()])
    }

    fn screen_subscription(&self) -> Subscription<Message> {
        match &self.screen {
            Screen::Wizard(wizard) => {
                let ticks = if wizard.needs_ticks() {
                    iced::time::every(Duration::from_millis(20)).map(|_| Message::Tick)
                } else {
                    Subscription::none()
                };
                let keys = if wizard.step == crate::enrolment::Step::Fingerprints {
                    iced::keyboard::listen().filter_map(fingerprint_shortcut)
                } else {
                    Subscription::none()
                };
                Subscription::batch([ticks, keys])
            }
            _ => Subscription::none(),
        }
    }

    pub fn view(&self) -> Element<'_, Message> {
        let i18n = &self.i18n;
        let progress = self.progress();
        // The queue opens over the settings; closing it shows them again.
        let body: Element<'_, Message> = if self.showing_queue {
            queue::view(&self.queue_rows, progress.as_ref(), i18n).map(Message::Queue)
        } else if let Some(settings) = &self.settings {
            settings.view(i18n).map(Message::Settings)
        } else {
            self.screen_view()
        };
        column![
            self.top_bar(),
            container(body).height(Length::Fill),
            self.status_bar(progress.as_ref())
        ]
        .into()
    }

    fn screen_view(&self) -> Element<'_, Message> {
        let i18n = &self.i18n;
        match &self.screen {
            Screen::NotConfigured(reason) => column![
                widget::heading(i18n, i18n.tr("ui-not-configured")),
                widget::line(i18n, i18n.tr("ui-not-configured-help")),
                container(text(reason.clone()).size(14))
                    .padding(12)
                    .width(Length::Fill)
                    .style(container::bordered_box),
            ]
            .spacing(16)
            .padding(24)
            .into(),
            Screen::Provision(screen) => screen.view(i18n).map(Message::Provision),
            Screen::Setup(setup) => setup.view(i18n).map(Message::Setup),
            Screen::SignIn(sign_in) => sign_in.view(i18n).map(Message::SignIn),
            Screen::Drafts(drafts) => drafts.view(i18n).map(Message::Drafts),
            Screen::Wizard(wizard) => wizard.view(i18n).map(Message::Wizard),
        }
    }

    fn top_bar(&self) -> Element<'_, Message> {
        let i18n = &self.i18n;
        let mut items: Vec<Element<'_, Message>> =
            vec![text(i18n.tr("ui-app-title")).size(22).into()];
        if self.station.as_ref().is_some_and(|(s, _)| s.demo) {
            items.push(
                container(text(i18n.tr("ui-demo-badge")).size(14))
                    .padding([2, 10])
                    .style(container::danger)
                    .into(),
            );
        }
        items.push(iced::widget::space().width(Length::Fill).into());
        if self.station.is_some() && !self.showing_queue {
            items.push(
                button(text(i18n.tr("ui-queue")).size(14))
                    .style(button::secondary)
                    .on_press(Message::ShowQueue)
                    .into(),
            );
        }
        // Settings: the lead restricts this to supervisors when merging.
        if self.station.is_some() && self.settings.is_none() {
            items.push(
                button(text(i18n.tr("ui-settings")).size(14))
                    .style(button::secondary)
                    .on_press(Message::ShowSettings)
                    .into(),
            );
        }
        if let Screen::Wizard(wizard) = &self.screen {
            items.push(text(wizard.operator_name().to_owned()).size(14).into());
            items.push(
                button(text(i18n.tr("ui-sign-out")).size(14))
                    .style(button::secondary)
                    .on_press(Message::SignOut)
                    .into(),
            );
        }
        items.push(
            button(text(i18n.tr("ui-other-language")).size(14))
                .style(button::secondary)
                .on_press(Message::ToggleLanguage)
                .into(),
        );
        container(row(i18n, items))
            .padding([8, 16])
            .width(Length::Fill)
            .style(container::rounded_box)
            .into()
    }

    fn status_bar(&self, progress: Option<&Progress>) -> Element<'_, Message> {
        let i18n = &self.i18n;
        let mut items: Vec<Element<'_, Message>> = Vec::new();
        let link = match progress.map(|p| p.link) {
            None => "ui-link-off",
            Some(Link::Unknown) => "ui-link-unknown",
            Some(Link::Online) => "ui-link-online",
            Some(Link::Offline) => "ui-link-offline",
        };
        items.push(text(i18n.tr(link)).size(13).into());
        if let Some((_, sent, total)) = progress.and_then(|p| p.current.as_ref()) {
            let percent = (sent * 100 / (*total).max(1)).to_string();
            items.push(
                text(i18n.text(&Text::new("ui-uploading").arg("percent", percent)))
                    .size(13)
                    .into(),
            );
        }
        if let Some((station, _)) = &self.station {
            let queued = self
                .queued
                .map_or_else(|| "?".into(), |n| i18n.digits(&n.to_string()));
            items.push(
                text(format!("{} {queued}", i18n.tr("ui-queue-length")))
                    .size(13)
                    .into(),
            );
            items.push(
                text(format!(
                    "{} {}",
                    i18n.tr("ui-station-number"),
                    i18n.digits(&format!("{:04}", station.number))
                ))
                .size(13)
                .into(),
            );
        }
        items.push(iced::widget::space().width(Length::Fill).into());
        items.push(
            text(format!("Pishkhan {}", crate::environment::VERSION))
                .size(13)
                .into(),
        );
        container(row(i18n, items))
            .padding([4, 16])
            .width(Length::Fill)
            .style(container::rounded_box)
            .into()
    }
}

/// The fingerprint step's keys: Enter accept, R retake, F force-accept, E
/// exception, Escape cancel. Physical keys, so that they work with the
/// Persian keyboard layout as well; keys typed into a text field never
/// arrive here.
fn fingerprint_shortcut(event: iced::keyboard::Event) -> Option<Message> {
    use iced::keyboard::key::{Code, Named, Physical};
    use iced::keyboard::{Event, Key};
    let Event::KeyPressed {
        key,
        physical_key,
        modifiers,
        repeat: false,
        ..
    } = event
    else {
        return None;
    };
    if modifiers.control() || modifiers.alt() || modifiers.logo() {
        return None;
    }
    let shortcut = match (key, physical_key) {
        (Key::Named(Named::Enter), _) => wizard::Shortcut::Accept,
        (Key::Named(Named::Escape), _) => wizard::Shortcut::Cancel,
        (_, Physical::Code(Code::KeyR)) => wizard::Shortcut::Retake,
        (_, Physical::Code(Code::KeyF)) => wizard::Shortcut::Force,
        (_, Physical::Code(Code::KeyE)) => wizard::Shortcut::Exception,
        _ => return None,
    };
    Some(Message::Wizard(wizard::Message::Fingerprints(
        wizard::FingerprintsMessage::Shortcut(shortcut),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced::keyboard::key::{Code, Named, Physical};
    use iced::keyboard::{Event, Key, Location, Modifiers};

    fn press(key: Key, code: Code, modifiers: Modifiers) -> Option<wizard::Shortcut> {
        let event = Event::KeyPressed {
            modified_key: key.clone(),
            key,
            physical_key: Physical::Code(code),
            location: Location::Standard,
            modifiers,
            text: None,
            repeat: false,
        };
        match fingerprint_shortcut(event) {
            Some(Message::Wizard(wizard::Message::Fingerprints(
                wizard::FingerprintsMessage::Shortcut(s),
            ))) => Some(s),
            _ => None,
        }
    }

    #[test]
    fn shortcuts_follow_the_physical_keys_whatever_the_layout() {
        let none = Modifiers::empty();
        let ch = |c: &str| Key::Character(c.into());
        assert_eq!(
            press(Key::Named(Named::Enter), Code::Enter, none),
            Some(wizard::Shortcut::Accept)
        );
        assert_eq!(
            press(Key::Named(Named::Escape), Code::Escape, none),
            Some(wizard::Shortcut::Cancel)
        );
        // On the Persian layout R, F and E type ق, ب and ث.
        assert_eq!(
            press(ch("ق"), Code::KeyR, none),
            Some(wizard::Shortcut::Retake)
        );
        assert_eq!(
            press(ch("ب"), Code::KeyF, none),
            Some(wizard::Shortcut::Force)
        );
        assert_eq!(
            press(ch("ث"), Code::KeyE, none),
            Some(wizard::Shortcut::Exception)
        );
        assert_eq!(press(ch("r"), Code::KeyR, Modifiers::CTRL), None);
        assert_eq!(press(ch("x"), Code::KeyX, none), None);
    }
}
