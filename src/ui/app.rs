//! The root of the interface: which screen is showing, the bars around it,
//! and routing. It decides nothing about enrolment itself.

use std::sync::Arc;
use std::time::Duration;

use iced::widget::{button, column, container, text};
use iced::{Element, Length, Subscription, Task, Theme};

use super::widget::{self, row};
use super::{
    accounts, card_status, dashboard, drafts, handover, password, provision, queue, reprint, route,
    settings, setup, sign_in, wizard,
};
use crate::config::UploadConfig;
use crate::devices::Devices;
use crate::enrolment::Step;
use crate::i18n::{I18n, Lang};
use crate::station::Station;
use crate::store::accounts::{Account, DraftKey, Role};
use crate::store::outbox;
use crate::text::Text;
use crate::upload::Progress;
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
    /// The intake the uploads go to (`[upload]`, or the embedded demo
    /// intake's): where card status and the clock are asked.
    pub intake: Option<UploadConfig>,
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
    /// A temporary password must be replaced before anything else.
    ChangePassword(password::ChangePassword),
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
    Reprint(reprint::Message),
    Accounts(accounts::Message),
    ShowAccounts,
    Dashboard(dashboard::Message),
    ShowDashboard,
    CardStatus(card_status::Message),
    ShowCardStatus,
    /// A mobile team's route (visit list) and its handovers.
    Route(route::Message),
    ShowRoute,
    Handover(handover::Message),
    /// A card handover at the office counter: find the card.
    ShowCardLookup,
    CardLookup(handover::LookupMessage),
    ChangePassword(password::Message),
    /// Keyboard, mouse or touch input: the operator is at the station.
    Input,
    /// Once a second while someone is signed in: sign out when idle.
    IdleCheck,
    Provision(provision::Message),
    Settings(settings::Message),
    ShowSettings,
    /// Periodic refresh of the queue and the link state.
    Refresh,
    ToggleLanguage,
    /// High contrast and larger targets on or off (kept in the
    /// configuration).
    ToggleContrast,
    SignOut,
    /// Periodic poll of devices while a step shows live device output.
    Tick,
}

/// A screen shown over the current one, which keeps its state.
pub enum Overlay {
    Queue,
    Accounts(accounts::Accounts),
    Dashboard(dashboard::Dashboard),
    Settings(settings::Settings),
    CardStatus(card_status::CardStatus),
    Route,
    Handover(Box<handover::Handover>),
    CardLookup(handover::Lookup),
}

pub struct App {
    pub i18n: I18n,
    station: Option<(Arc<Station>, Devices)>,
    pub screen: Screen,
    /// Packets waiting for upload, refreshed after anything but a tick.
    queued: Option<u64>,
    uploads: Option<Arc<Mutex<Progress>>>,
    /// Where card status and the clock are asked ([`Start::intake`]).
    intake: Option<UploadConfig>,
    pub overlay: Option<Overlay>,
    queue_rows: Vec<outbox::Entry>,
    /// The queue screen's receipt reprint form.
    reprint: reprint::Reprint,
    /// The queue screen's resolution of a rejected packet.
    resolve: queue::Resolve,
    /// Uploads are configured but another process (the `pishkhan upload`
    /// service) holds the station's upload lock: it sends, not the window.
    uploads_elsewhere: bool,
    /// Who is signed in (None on the sign-in screens and in demo shots).
    pub signed_in: Option<Account>,
    /// The last keyboard, mouse or touch input.
    last_input: std::time::Instant,
    /// A mobile team's route screen, kept while the window is open (with
    /// the team's last location).
    pub route: Option<route::Route>,
    /// High contrast with larger text and targets (`[display]`).
    pub high_contrast: bool,
    /// Why the display setting could not be written.
    display_problem: Option<Text>,
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
                intake: None,
                overlay: None,
                queue_rows: Vec::new(),
                reprint: reprint::Reprint::default(),
                resolve: queue::Resolve::default(),
                uploads_elsewhere: false,
                signed_in: None,
                last_input: std::time::Instant::now(),
                route: None,
                high_contrast: false,
                display_problem: None,
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
                let high_contrast = station.config.display.high_contrast;
                let mut app = Self {
                    i18n,
                    station: Some((station, devices)),
                    screen,
                    queued: None,
                    uploads: start.uploads,
                    intake: start.intake,
                    overlay: None,
                    queue_rows: Vec::new(),
                    reprint: reprint::Reprint::default(),
                    resolve: queue::Resolve::default(),
                    uploads_elsewhere: false,
                    signed_in: None,
                    last_input: std::time::Instant::now(),
                    route: None,
                    high_contrast,
                    display_problem: None,
                };
                app.refresh_queue();
                app.check_uploads_elsewhere();
                app
            }
        }
    }

    pub fn title(&self) -> String {
        self.i18n.tr("ui-app-title")
    }

    pub fn theme(&self) -> Theme {
        widget::theme(self.high_contrast)
    }

    /// Larger text and touch targets in high contrast.
    pub fn scale_factor(&self) -> f32 {
        widget::scale_factor(self.high_contrast)
    }

    /// Switches high contrast and writes it to `[display] high_contrast`
    /// (audited as a settings change by whoever is at the station), so the
    /// kit starts in it next time.
    fn toggle_contrast(&mut self) {
        self.high_contrast = !self.high_contrast;
        let Some((station, _)) = &self.station else {
            return;
        };
        let actor = match (&self.signed_in, &self.screen) {
            (Some(account), _) => account.username.clone(),
            (None, Screen::Wizard(wizard)) => wizard.session.operator.clone(),
            _ => "station".to_owned(),
        };
        let saved = crate::config::edit::ConfigFile::open(&station.data_dir)
            .map_err(|e| e.to_string())
            .and_then(|mut file| {
                file.set("display.high_contrast", self.high_contrast);
                let entries: Vec<crate::station::AuditEntry> = file
                    .changes()
                    .iter()
                    .map(|c| crate::station::AuditEntry {
                        actor: actor.clone(),
                        action: crate::settings::ACTION.to_owned(),
                        subject: Some(c.key.clone()),
                        detail: Some(c.detail()),
                    })
                    .collect();
                station
                    .save_config(&file, &entries)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
        self.display_problem = match saved {
            Ok(()) => None,
            Err(e) => {
                tracing::error!("saving the display setting failed: {e}");
                Some(Text::new("err-display-save").arg("detail", e))
            }
        };
    }

    /// The queue screen is open.
    pub fn showing_queue(&self) -> bool {
        matches!(self.overlay, Some(Overlay::Queue))
    }

    fn refresh_queue(&mut self) {
        self.queued = self
            .station
            .as_ref()
            .and_then(|(station, _)| station.with_db(outbox::pending).ok());
        if self.showing_queue() {
            self.queue_rows = self
                .station
                .as_ref()
                .and_then(|(station, _)| station.with_db(outbox::list).ok())
                .unwrap_or_default();
        }
    }

    /// Whether the upload service sends for this window: uploads are
    /// configured, this window does not run them, and another process
    /// holds the upload lock.
    fn check_uploads_elsewhere(&mut self) {
        self.uploads_elsewhere = self.uploads.is_none()
            && self.station.as_ref().is_some_and(|(station, _)| {
                station.config.upload.url.is_some()
                    && crate::upload::held_elsewhere(&station.data_dir)
            });
    }

    /// The settings screen is open.
    pub fn showing_settings(&self) -> bool {
        self.settings_screen().is_some()
    }

    /// The settings screen, when it is open.
    pub fn settings_screen(&self) -> Option<&settings::Settings> {
        match &self.overlay {
            Some(Overlay::Settings(screen)) => Some(screen),
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
        if let Message::Input = message {
            self.last_input = std::time::Instant::now();
            return Task::none();
        }
        if !matches!(message, Message::Tick | Message::IdleCheck) {
            let task = self.route(message);
            self.refresh_queue();
            return task;
        }
        self.route(message)
    }

    fn route(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::ShowQueue => self.overlay = Some(Overlay::Queue),
            Message::Queue(queue::Message::Close) => {
                self.overlay = None;
                self.reprint = reprint::Reprint::default();
                self.resolve = queue::Resolve::default();
            }
            Message::Queue(message) => {
                if let Some((station, _)) = &self.station {
                    self.resolve.update(message, station);
                }
            }
            Message::Reprint(message) => {
                if let Some((station, _)) = &self.station {
                    self.reprint.update(message, station);
                }
            }
            Message::ShowAccounts => {
                if let (Some((station, _)), Some(user)) = (&self.station, &self.signed_in)
                    && user.role == Role::Supervisor
                {
                    let screen = accounts::Accounts::new(station, user.username.clone());
                    self.overlay = Some(Overlay::Accounts(screen));
                }
            }
            Message::Accounts(message) => {
                if let (Some(Overlay::Accounts(screen)), Some((station, _))) =
                    (&mut self.overlay, &self.station)
                    && let Some(accounts::Event::Close) = screen.update(message, station)
                {
                    self.overlay = None;
                }
            }
            Message::ShowDashboard => {
                if let Some((station, _)) = &self.station {
                    let screen = dashboard::Dashboard::new(station, self.intake.is_some());
                    self.overlay = Some(Overlay::Dashboard(screen));
                    return self.check_clock();
                }
            }
            Message::Dashboard(message) => {
                if let (Some(Overlay::Dashboard(screen)), Some((station, _))) =
                    (&mut self.overlay, &self.station)
                {
                    match screen.update(message, station) {
                        Some(dashboard::Event::Close) => self.overlay = None,
                        Some(dashboard::Event::CheckClock) => return self.check_clock(),
                        None => {}
                    }
                }
            }
            Message::ShowCardStatus => {
                if self.signed_in.is_some() {
                    self.overlay = Some(Overlay::CardStatus(card_status::CardStatus::default()));
                }
            }
            Message::CardStatus(message) => {
                let Some(Overlay::CardStatus(screen)) = &mut self.overlay else {
                    return Task::none();
                };
                match screen.update(message) {
                    Some(card_status::Event::Ask(query)) => return self.ask_status(query),
                    Some(card_status::Event::Close) => self.overlay = None,
                    None => {}
                }
            }
            Message::ShowRoute => {
                if let (Some((station, _)), Some(_)) = (&self.station, &self.signed_in)
                    && station.team().is_some()
                {
                    match &mut self.route {
                        Some(route) => route.reload(station),
                        None => self.route = Some(route::Route::new(station)),
                    }
                    self.overlay = Some(Overlay::Route);
                }
            }
            Message::Route(message) => return self.route_message(message),
            Message::Handover(message) => {
                let (Some(Overlay::Handover(screen)), Some((station, devices)), Some(user)) =
                    (&mut self.overlay, &self.station, &self.signed_in)
                else {
                    return Task::none();
                };
                let location = self.route.as_ref().and_then(|r| r.location.clone());
                let event =
                    screen.update(message, station, &devices.scanner, &user.username, location);
                if let Some(handover::Event::Close) = event {
                    let to_route = screen.card.visit_id.is_some();
                    if let Some(route) = &mut self.route {
                        route.reload(station);
                    }
                    self.overlay = to_route.then_some(Overlay::Route);
                }
            }
            Message::ShowCardLookup => {
                if self.signed_in.is_some() {
                    self.overlay = Some(Overlay::CardLookup(handover::Lookup::default()));
                }
            }
            Message::CardLookup(message) => {
                let (Some(Overlay::CardLookup(screen)), Some((station, _))) =
                    (&mut self.overlay, &self.station)
                else {
                    return Task::none();
                };
                match screen.update(message) {
                    None => {}
                    Some(handover::LookupEvent::Close) => self.overlay = None,
                    Some(handover::LookupEvent::Found(card)) => {
                        let screen = handover::Handover::at_counter(station, &card);
                        self.overlay = Some(Overlay::Handover(Box::new(screen)));
                    }
                    Some(handover::LookupEvent::Find(code)) => {
                        let found =
                            |result: Result<Box<crate::field::handover::CardHolder>, Text>| {
                                Message::CardLookup(handover::LookupMessage::Found(result))
                            };
                        let Some(intake) = self.intake.clone() else {
                            return Task::done(found(Err(Text::new("err-status-not-configured"))));
                        };
                        let station = station.clone();
                        return Task::perform(
                            async move {
                                crate::field::sync::fetch_card(station, &intake, &code)
                                    .await
                                    .map(Box::new)
                                    .map_err(|e| e.text())
                            },
                            found,
                        );
                    }
                }
            }
            Message::Input => {}
            Message::IdleCheck => self.check_idle(),
            Message::ChangePassword(message) => {
                let (Screen::ChangePassword(screen), Some((station, _))) =
                    (&mut self.screen, &self.station)
                else {
                    return Task::none();
                };
                match screen.update(message, station) {
                    Some(password::Event::Changed) => {
                        let (account, key) = (screen.account.clone(), screen.key.clone());
                        self.enter(account, key);
                    }
                    Some(password::Event::Locked(problem)) => {
                        self.signed_in = None;
                        self.screen = Screen::SignIn(sign_in::SignIn::with_problem(problem));
                    }
                    None => {}
                }
            }
            Message::Refresh => {
                self.check_uploads_elsewhere();
                // Background work shows on screen: the appointment list's age.
                if let Screen::Wizard(wizard) = &mut self.screen {
                    wizard.refresh_background();
                }
            }
            Message::ToggleLanguage => {
                self.i18n.set_lang(self.i18n.lang().other());
            }
            Message::ToggleContrast => self.toggle_contrast(),
            Message::SignOut => self.sign_out(None),
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
                if let (Some((station, _)), Some(user)) = (&self.station, &self.signed_in)
                    && user.role == Role::Supervisor
                {
                    self.overlay = Some(Overlay::Settings(settings::Settings::new(station)));
                }
            }
            Message::Settings(message) => {
                let (Some(Overlay::Settings(screen)), Some((station, _)), Some(user)) =
                    (&mut self.overlay, &self.station, &self.signed_in)
                else {
                    return Task::none();
                };
                match screen.update(message, station, &user.username) {
                    Some(settings::Event::Saved {
                        language: Some(lang),
                    }) => self.i18n.set_lang(lang),
                    Some(settings::Event::Closed) => self.overlay = None,
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
                let _ = devices;
                if let Some(sign_in::Event::SignedIn(account, key)) =
                    sign_in.update(message, station)
                {
                    self.last_input = std::time::Instant::now();
                    self.signed_in = Some(account.clone());
                    if account.must_change_password {
                        self.screen =
                            Screen::ChangePassword(password::ChangePassword::new(account, key));
                    } else {
                        self.enter(account, key);
                    }
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
                // The handover listens to the scanner while it is open;
                // the wizard's step waits.
                if let (Some(Overlay::Handover(screen)), Some((_, devices))) =
                    (&mut self.overlay, &self.station)
                {
                    screen.tick(&devices.scanner);
                    return Task::none();
                }
                if let Screen::Wizard(wizard) = &mut self.screen {
                    return wizard.update(wizard::Message::Tick).map(Message::Wizard);
                }
            }
        }
        Task::none()
    }

    /// After sign-in (and any password change): the operator's drafts
    /// when there are some, else a new enrolment.
    fn enter(&mut self, account: Account, key: DraftKey) {
        let Some((station, devices)) = &self.station else {
            return;
        };
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

    /// Back to the sign-in screen, audited; `notice` says why when the
    /// station did it (idle).
    fn sign_out(&mut self, notice: Option<Text>) {
        let Some((station, _)) = &self.station else {
            return;
        };
        if let Some(account) = self.signed_in.take() {
            station.sign_out(&account.username, notice.is_some());
        }
        // A handover's capture stops with the screen.
        if let (Some(Overlay::Handover(screen)), Some((_, devices))) =
            (&mut self.overlay, &self.station)
        {
            screen.leave(&devices.scanner);
        }
        self.overlay = None;
        self.screen = Screen::SignIn(
            notice.map_or_else(sign_in::SignIn::default, sign_in::SignIn::with_notice),
        );
    }

    /// The route screen's messages, and what they start.
    fn route_message(&mut self, message: route::Message) -> Task<Message> {
        let (Some(route), Some((station, devices)), Some(user)) =
            (&mut self.route, &self.station, &self.signed_in)
        else {
            return Task::none();
        };
        match route.update(message, station, &user.username) {
            None => {}
            Some(route::Event::Close) => self.overlay = None,
            Some(route::Event::Fetch) => {
                let Some(intake) = self.intake.clone() else {
                    return Task::done(Message::Route(route::Message::Fetched(Err(Text::new(
                        "ui-route-no-intake",
                    )))));
                };
                let station = station.clone();
                return Task::perform(
                    async move { crate::field::sync::fetch(station, &intake).await },
                    |result| {
                        Message::Route(route::Message::Fetched(
                            result.map(|list| list.visits.len()).map_err(|e| e.text()),
                        ))
                    },
                );
            }
            Some(route::Event::Locate) => {
                let station = station.clone();
                return Task::perform(
                    async move {
                        tokio::task::spawn_blocking(move || {
                            station
                                .gps_fix(std::time::Duration::from_secs(60))
                                .map_err(|e| e.text())
                        })
                        .await
                        .unwrap_or_else(|e| {
                            Err(Text::new("err-internal").arg("detail", e.to_string()))
                        })
                    },
                    |result| Message::Route(route::Message::Located(result)),
                );
            }
            Some(route::Event::Handover(visit)) => {
                match handover::Handover::open(station, &visit) {
                    Ok(screen) => self.overlay = Some(Overlay::Handover(Box::new(screen))),
                    Err(problem) => route.show(Err(problem)),
                }
            }
            Some(route::Event::Enrol(visit)) => {
                let idle = match &self.screen {
                    Screen::Wizard(wizard) => wizard.is_idle(),
                    _ => true,
                };
                if !idle {
                    route.show(Err(Text::new("ui-route-finish-current")));
                    return Task::none();
                }
                if let Screen::Wizard(wizard) = &mut self.screen {
                    wizard.leave();
                }
                self.screen = Screen::Wizard(Box::new(wizard::Wizard::for_visit(
                    station.clone(),
                    devices.clone(),
                    user.username.clone(),
                    user.full_name.clone(),
                    &visit,
                )));
                self.overlay = None;
            }
        }
        Task::none()
    }

    /// Compares the station clock with the intake's, off the interface
    /// thread (nothing to do without an intake).
    fn check_clock(&self) -> Task<Message> {
        let (Some((station, _)), Some(intake)) = (&self.station, &self.intake) else {
            return Task::none();
        };
        let (station, intake) = (station.clone(), intake.clone());
        Task::perform(
            async move { crate::status::clock_skew(station, &intake).await },
            |result| {
                Message::Dashboard(dashboard::Message::Clock(
                    result
                        .map(crate::dashboard::Skew::from_intake_ahead)
                        .map_err(|e| e.text()),
                ))
            },
        )
    }

    /// Asks the intake where an applicant's card is, off the interface
    /// thread.
    fn ask_status(&self, query: crate::status::Query) -> Task<Message> {
        let answer = |result: Result<_, crate::status::StatusError>| {
            Message::CardStatus(card_status::Message::Answer(result.map_err(Into::into)))
        };
        let (Some((station, _)), Some(intake)) = (&self.station, &self.intake) else {
            return Task::done(answer(Err(crate::status::StatusError::NotConfigured)));
        };
        let (station, intake) = (station.clone(), intake.clone());
        Task::perform(
            async move { crate::status::lookup(station, &intake, &query).await },
            answer,
        )
    }

    fn idle_limits(&self) -> Option<(Duration, Duration)> {
        let (station, _) = self.station.as_ref()?;
        let accounts = station.live().accounts;
        (self.signed_in.is_some() && accounts.idle_logout_seconds > 0).then(|| {
            (
                Duration::from_secs(accounts.idle_logout_seconds),
                Duration::from_secs(accounts.idle_warning_seconds),
            )
        })
    }

    /// Seconds left before the idle sign-out, once the warning is due.
    pub fn idle_warning(&self) -> Option<u64> {
        let (logout, warning) = self.idle_limits()?;
        let idle = self.last_input.elapsed();
        (idle + warning >= logout).then(|| logout.saturating_sub(idle).as_secs())
    }

    fn check_idle(&mut self) {
        let Some((logout, _)) = self.idle_limits() else {
            return;
        };
        if self.last_input.elapsed() >= logout {
            tracing::info!("signed out after {} s without input", logout.as_secs());
            let minutes = logout.as_secs().div_ceil(60).to_string();
            self.sign_out(Some(
                Text::new("ui-idle-signed-out").arg("minutes", minutes),
            ));
        }
    }

    pub fn subscription(&self) -> Subscription<Message> {
        let refresh = if self.uploads.is_some() {
            iced::time::every(Duration::from_secs(1)).map(|_| Message::Refresh)
        } else if self.uploads_elsewhere {
            // The upload service sends: its progress shows in the queue.
            iced::time::every(Duration::from_secs(5)).map(|_| Message::Refresh)
        } else {
            Subscription::none()
        };
        let idle = if self.idle_limits().is_some() {
            Subscription::batch([
                iced::time::every(Duration::from_secs(1)).map(|_| Message::IdleCheck),
                iced::event::listen_with(input_event),
            ])
        } else {
            Subscription::none()
        };
        Subscription::batch([refresh, idle, self.screen_subscription()])
    }

    fn screen_subscription(&self) -> Subscription<Message> {
        if let Some(Overlay::Handover(screen)) = &self.overlay {
            return if screen.needs_ticks() {
                iced::time::every(Duration::from_millis(20)).map(|_| Message::Tick)
            } else {
                Subscription::none()
            };
        }
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
        let body: Element<'_, Message> = match &self.overlay {
            Some(Overlay::Queue) if self.resolve.is_open() => {
                queue::view(&self.queue_rows, progress.as_ref(), &self.resolve, i18n)
                    .map(Message::Queue)
            }
            Some(Overlay::Queue) => column![
                queue::view(&self.queue_rows, progress.as_ref(), &self.resolve, i18n)
                    .map(Message::Queue),
                container(self.reprint.view(i18n).map(Message::Reprint)).padding([0, 24]),
            ]
            .into(),
            Some(Overlay::Accounts(screen)) => screen.view(i18n).map(Message::Accounts),
            Some(Overlay::Dashboard(screen)) => match &self.station {
                Some((_, devices)) => screen
                    .view(i18n, devices, progress.as_ref(), self.uploads_elsewhere)
                    .map(Message::Dashboard),
                None => self.screen_view(),
            },
            Some(Overlay::Settings(settings)) => settings.view(i18n).map(Message::Settings),
            Some(Overlay::CardStatus(screen)) => screen.view(i18n).map(Message::CardStatus),
            Some(Overlay::Route) => match (&self.route, &self.station) {
                (Some(route), Some((station, _))) => route
                    .view(i18n, station.team().unwrap_or_default())
                    .map(Message::Route),
                _ => self.screen_view(),
            },
            Some(Overlay::Handover(screen)) => screen.view(i18n).map(Message::Handover),
            Some(Overlay::CardLookup(screen)) => screen.view(i18n).map(Message::CardLookup),
            None => self.screen_view(),
        };
        let mut page = column![self.top_bar()];
        if let Some(seconds) = self.idle_warning() {
            page = page.push(self.idle_banner(seconds));
        }
        page.push(container(body).height(Length::Fill))
            .push(self.status_bar(progress.as_ref()))
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
            Screen::ChangePassword(screen) => screen.view(i18n).map(Message::ChangePassword),
            Screen::Drafts(drafts) => drafts.view(i18n).map(Message::Drafts),
            Screen::Wizard(wizard) => wizard.view(i18n).map(Message::Wizard),
        }
    }

    fn top_bar(&self) -> Element<'_, Message> {
        let i18n = &self.i18n;
        // The title takes what the buttons leave and wraps there (a narrow
        // window, the larger high-contrast scale), and the demo badge
        // wraps at a fixed width: the buttons never leave the screen.
        let mut items: Vec<Element<'_, Message>> = vec![
            container(text(i18n.tr("ui-app-title")).size(22))
                .width(Length::Fill)
                .align_x(widget::start(i18n))
                .into(),
        ];
        if self.station.as_ref().is_some_and(|(s, _)| s.demo) {
            items.push(
                container(text(i18n.tr("ui-demo-badge")).size(14))
                    .padding([2, 10])
                    .max_width(260)
                    .style(container::danger)
                    .into(),
            );
        }
        let small = |id: &str, message: Message| -> Element<'_, Message> {
            button(text(i18n.tr(id)).size(14))
                .style(button::secondary)
                .on_press(message)
                .into()
        };
        let mut nav: Vec<Element<'_, Message>> = Vec::new();
        if self.station.is_some() && !self.showing_queue() {
            nav.push(small("ui-queue", Message::ShowQueue));
        }
        if self.signed_in.is_some() && !matches!(self.overlay, Some(Overlay::Dashboard(_))) {
            nav.push(small("ui-dashboard", Message::ShowDashboard));
        }
        if self.signed_in.is_some() && !matches!(self.overlay, Some(Overlay::CardStatus(_))) {
            nav.push(small("ui-card-status", Message::ShowCardStatus));
        }
        if self.signed_in.is_some()
            && !matches!(
                self.overlay,
                Some(Overlay::CardLookup(_) | Overlay::Handover(_))
            )
        {
            nav.push(small("ui-card-handover", Message::ShowCardLookup));
        }
        if self.signed_in.is_some()
            && self
                .station
                .as_ref()
                .is_some_and(|(s, _)| s.team().is_some())
            && !matches!(self.overlay, Some(Overlay::Route | Overlay::Handover(_)))
        {
            items.push(small("ui-route", Message::ShowRoute));
        }
        if self
            .signed_in
            .as_ref()
            .is_some_and(|a| a.role == Role::Supervisor)
            && !matches!(self.overlay, Some(Overlay::Accounts(_)))
        {
            nav.push(small("ui-accounts", Message::ShowAccounts));
        }
        if self
            .signed_in
            .as_ref()
            .is_some_and(|a| a.role == Role::Supervisor)
            && !matches!(self.overlay, Some(Overlay::Settings(_)))
        {
            nav.push(small("ui-settings", Message::ShowSettings));
        }
        if let Some(account) = &self.signed_in {
            nav.push(text(account.full_name.clone()).size(14).into());
            nav.push(small("ui-sign-out", Message::SignOut));
        } else if let Screen::Wizard(wizard) = &self.screen {
            nav.push(text(wizard.operator_name().to_owned()).size(14).into());
            nav.push(small("ui-sign-out", Message::SignOut));
        }
        if let Some(problem) = &self.display_problem {
            items.push(text(i18n.text(problem)).size(14).style(text::danger).into());
        }
        items.push(
            button(
                text(i18n.tr(if self.high_contrast {
                    "ui-normal-contrast"
                } else {
                    "ui-high-contrast"
                }))
                .size(14),
            )
            .style(if self.high_contrast {
                button::primary
            } else {
                button::secondary
            })
            .on_press(Message::ToggleContrast)
            .into(),
        );
        items.push(
            button(text(i18n.tr("ui-other-language")).size(14))
                .style(button::secondary)
                .on_press(Message::ToggleLanguage)
                .into(),
        );
        // At the larger high-contrast scale the buttons do not fit one
        // line beside the title: they get a line of their own.
        let bar: Element<'_, Message> = if self.high_contrast {
            column![
                row(i18n, items),
                widget::aligned(i18n, row(i18n, nav).spacing(8)),
            ]
            .spacing(6)
            .into()
        } else {
            let at = items.len() - 2 - usize::from(self.display_problem.is_some());
            items.splice(at..at, nav);
            row(i18n, items).into()
        };
        container(bar)
            .padding([8, 16])
            .width(Length::Fill)
            .style(container::rounded_box)
            .into()
    }

    fn idle_banner(&self, seconds: u64) -> Element<'_, Message> {
        let i18n = &self.i18n;
        let warning = Text::new("ui-idle-warning").arg("seconds", seconds.to_string());
        container(row(
            i18n,
            vec![
                text(i18n.text(&warning)).size(15).into(),
                iced::widget::space().width(Length::Fill).into(),
                button(text(i18n.tr("ui-stay-signed-in")).size(14))
                    .on_press(Message::Input)
                    .into(),
            ],
        ))
        .padding([6, 16])
        .width(Length::Fill)
        .style(container::warning)
        .into()
    }

    fn status_bar(&self, progress: Option<&Progress>) -> Element<'_, Message> {
        let i18n = &self.i18n;
        let mut items: Vec<Element<'_, Message>> = Vec::new();
        let link = dashboard::link_id(progress, self.uploads_elsewhere);
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

/// Keyboard, mouse and touch input count as the operator being present.
fn input_event(
    event: iced::Event,
    _status: iced::event::Status,
    _window: iced::window::Id,
) -> Option<Message> {
    use iced::mouse;
    match event {
        iced::Event::Keyboard(_)
        | iced::Event::Touch(_)
        | iced::Event::Mouse(
            mouse::Event::ButtonPressed(_)
            | mouse::Event::WheelScrolled { .. }
            | mouse::Event::CursorMoved { .. },
        ) => Some(Message::Input),
        _ => None,
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
