//! The supervisor's accounts screen: who may use the station, in which
//! role, and whether they are locked out; creating operators and
//! supervisors with a temporary password, resetting a forgotten one,
//! releasing a lockout early, disabling an account. Every change is
//! audited by `Station::manage_account`.

use iced::widget::{button, column, container, scrollable, text};
use iced::{Element, Length};

use super::widget;
use crate::i18n::I18n;
use crate::station::{AccountChange, Station};
use crate::store::accounts::{self, Listed, Role};
use crate::text::Text;

pub struct Accounts {
    /// The supervisor using the screen (the actor in the audit log).
    supervisor: String,
    rows: Vec<Listed>,
    full_name: String,
    username: String,
    role: Role,
    temporary: String,
    repeat: String,
    /// The account whose password is being reset, and the new temporary one.
    resetting: Option<(String, String)>,
    problem: Option<Text>,
    done: Option<Text>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Close,
    FullName(String),
    Username(String),
    Role(Role),
    Temporary(String),
    Repeat(String),
    Create,
    Unlock(String),
    SetDisabled(String, bool),
    ResetStart(String),
    ResetPassword(String),
    ResetConfirm,
    ResetCancel,
}

pub enum Event {
    Close,
}

impl Accounts {
    pub fn new(station: &Station, supervisor: String) -> Self {
        let mut screen = Self {
            supervisor,
            rows: Vec::new(),
            full_name: String::new(),
            username: String::new(),
            role: Role::Operator,
            temporary: String::new(),
            repeat: String::new(),
            resetting: None,
            problem: None,
            done: None,
        };
        screen.reload(station);
        screen
    }

    fn reload(&mut self, station: &Station) {
        match station.accounts() {
            Ok(rows) => self.rows = rows,
            Err(e) => self.problem = Some(e.text()),
        }
    }

    fn apply(&mut self, station: &Station, change: AccountChange, done: Text) -> bool {
        let result = station.manage_account(&self.supervisor, change);
        self.reload(station);
        match result {
            Ok(()) => {
                self.problem = None;
                self.done = Some(done);
                true
            }
            Err(e) => {
                self.done = None;
                self.problem = Some(e.text());
                false
            }
        }
    }

    pub fn update(&mut self, message: Message, station: &Station) -> Option<Event> {
        let min = station.live().accounts.min_password_length;
        match message {
            Message::Close => return Some(Event::Close),
            Message::FullName(v) => self.full_name = v,
            Message::Username(v) => self.username = v,
            Message::Role(role) => self.role = role,
            Message::Temporary(v) => self.temporary = v,
            Message::Repeat(v) => self.repeat = v,
            Message::Create => {
                let checked = accounts::check_new_account(&self.full_name, &self.username)
                    .and_then(|()| {
                        accounts::check_new_password(&self.temporary, &self.repeat, min)
                    });
                if let Err(problem) = checked {
                    self.done = None;
                    self.problem = Some(problem);
                    return None;
                }
                let username = self.username.trim().to_owned();
                let change = AccountChange::Create {
                    username: username.clone(),
                    full_name: self.full_name.trim().to_owned(),
                    role: self.role,
                    temporary_password: std::mem::take(&mut self.temporary),
                };
                self.repeat.clear();
                let done = Text::new("ui-account-created").arg("username", username);
                if self.apply(station, change, done) {
                    self.full_name.clear();
                    self.username.clear();
                    self.role = Role::Operator;
                }
            }
            Message::Unlock(username) => {
                let done = Text::new("ui-account-unlocked").arg("username", username.clone());
                self.apply(station, AccountChange::Unlock { username }, done);
            }
            Message::SetDisabled(username, disabled) => {
                let id = if disabled {
                    "ui-account-disabled-done"
                } else {
                    "ui-account-enabled-done"
                };
                let done = Text::new(id).arg("username", username.clone());
                self.apply(station, AccountChange::Disable { username, disabled }, done);
            }
            Message::ResetStart(username) => self.resetting = Some((username, String::new())),
            Message::ResetPassword(v) => {
                if let Some((_, password)) = &mut self.resetting {
                    *password = v;
                }
            }
            Message::ResetCancel => self.resetting = None,
            Message::ResetConfirm => {
                let (username, temporary) = self.resetting.take()?;
                if let Err(problem) = accounts::check_new_password(&temporary, &temporary, min) {
                    self.problem = Some(problem);
                    self.resetting = Some((username, String::new()));
                    return None;
                }
                let done = Text::new("ui-account-reset").arg("username", username.clone());
                let change = AccountChange::ResetPassword {
                    username,
                    temporary_password: temporary,
                };
                self.apply(station, change, done);
            }
        }
        None
    }

    pub fn view(&self, i18n: &I18n) -> Element<'_, Message> {
        let mut items: Vec<Element<'_, Message>> = vec![
            widget::heading(i18n, i18n.tr("ui-accounts-title")),
            widget::line(i18n, i18n.tr("ui-accounts-help")),
        ];
        if let Some(done) = &self.done {
            items.push(widget::aligned(
                i18n,
                text(i18n.text(done)).style(text::success),
            ));
        }
        if let Some(problem) = &self.problem {
            items.push(widget::error(i18n, problem));
        }
        for listed in &self.rows {
            items.push(self.account_row(listed, i18n));
        }
        items.push(self.create_form(i18n));
        items.push(widget::aligned(
            i18n,
            button(text(i18n.tr("ui-close")))
                .style(button::secondary)
                .on_press(Message::Close),
        ));
        scrollable(column(items).spacing(12).padding(24).max_width(900))
            .height(Length::Fill)
            .into()
    }

    fn status(listed: &Listed, i18n: &I18n) -> String {
        let mut parts = Vec::new();
        if listed.disabled {
            parts.push(i18n.tr("ui-account-state-disabled"));
        }
        if let Some(until) = listed.locked_until {
            let until = until.with_timezone(&chrono::Local).format("%H:%M:%S");
            parts.push(
                i18n.text(&Text::new("ui-account-state-locked").arg("until", until.to_string())),
            );
        }
        if listed.account.must_change_password {
            parts.push(i18n.tr("ui-account-state-must-change"));
        }
        if parts.is_empty() {
            parts.push(i18n.tr("ui-account-state-active"));
        }
        parts.join(" · ")
    }

    fn account_row<'a>(&'a self, listed: &'a Listed, i18n: &I18n) -> Element<'a, Message> {
        let account = &listed.account;
        let role = match account.role {
            Role::Supervisor => i18n.tr("ui-role-supervisor"),
            Role::Operator => i18n.tr("ui-role-operator"),
        };
        let name = &account.username;
        let mut actions: Vec<Element<'a, Message>> = Vec::new();
        if listed.locked_until.is_some() {
            actions.push(
                button(text(i18n.tr("ui-account-unlock")).size(14))
                    .on_press(Message::Unlock(name.clone()))
                    .into(),
            );
        }
        actions.push(
            button(text(i18n.tr("ui-account-reset-password")).size(14))
                .style(button::secondary)
                .on_press(Message::ResetStart(name.clone()))
                .into(),
        );
        if account.username != self.supervisor {
            let (label, disabled) = if listed.disabled {
                ("ui-account-enable", false)
            } else {
                ("ui-account-disable", true)
            };
            actions.push(
                button(text(i18n.tr(label)).size(14))
                    .style(button::secondary)
                    .on_press(Message::SetDisabled(name.clone(), disabled))
                    .into(),
            );
        }
        let mut col = column![
            widget::row(
                i18n,
                vec![
                    text(format!("{} ({name})", account.full_name))
                        .size(18)
                        .into(),
                    text(role).style(text::secondary).into(),
                ]
            )
            .spacing(12),
            widget::line(i18n, Self::status(listed, i18n)),
            widget::aligned(i18n, widget::row(i18n, actions).spacing(8)),
        ]
        .spacing(6);
        if let Some((who, password)) = &self.resetting
            && who == name
        {
            col = col.push(widget::password(
                i18n,
                "reset-password",
                "ui-temporary-password",
                password,
                Message::ResetPassword,
                Some(Message::ResetConfirm),
            ));
            col = col.push(widget::aligned(
                i18n,
                widget::row(
                    i18n,
                    vec![
                        button(text(i18n.tr("ui-account-reset-confirm")))
                            .on_press(Message::ResetConfirm)
                            .into(),
                        button(text(i18n.tr("ui-cancel")))
                            .style(button::secondary)
                            .on_press(Message::ResetCancel)
                            .into(),
                    ],
                )
                .spacing(8),
            ));
        }
        container(col)
            .padding(12)
            .width(Length::Fill)
            .style(container::bordered_box)
            .into()
    }

    fn create_form(&self, i18n: &I18n) -> Element<'_, Message> {
        let roles = widget::aligned(
            i18n,
            widget::row(
                i18n,
                vec![
                    widget::choice(
                        i18n,
                        i18n.tr("ui-role-operator"),
                        self.role == Role::Operator,
                        Message::Role(Role::Operator),
                    ),
                    widget::choice(
                        i18n,
                        i18n.tr("ui-role-supervisor"),
                        self.role == Role::Supervisor,
                        Message::Role(Role::Supervisor),
                    ),
                ],
            )
            .spacing(16),
        );
        container(
            column![
                widget::line(i18n, i18n.tr("ui-account-new")),
                widget::field(
                    i18n,
                    "account-full-name",
                    "ui-full-name",
                    &self.full_name,
                    Message::FullName,
                    None,
                ),
                widget::field(
                    i18n,
                    "account-username",
                    "ui-username",
                    &self.username,
                    Message::Username,
                    None,
                ),
                roles,
                widget::password(
                    i18n,
                    "account-temporary",
                    "ui-temporary-password",
                    &self.temporary,
                    Message::Temporary,
                    None,
                ),
                widget::password(
                    i18n,
                    "account-repeat",
                    "ui-password-repeat",
                    &self.repeat,
                    Message::Repeat,
                    Some(Message::Create),
                ),
                widget::line(i18n, i18n.tr("ui-account-temporary-help")),
                widget::aligned(
                    i18n,
                    button(text(i18n.tr("ui-account-create")))
                        .style(button::primary)
                        .on_press(Message::Create),
                ),
            ]
            .spacing(10),
        )
        .padding(12)
        .width(Length::Fill)
        .style(container::bordered_box)
        .into()
    }
}
