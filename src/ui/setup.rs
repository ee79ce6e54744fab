//! First run: the station has no accounts, so the first supervisor is
//! created here.

use iced::Element;

use super::widget;
use crate::i18n::I18n;
use crate::station::Station;
use crate::store::accounts::{self, Role};
use crate::text::Text;

#[derive(Debug, Default)]
pub struct Setup {
    full_name: String,
    username: String,
    password: String,
    repeat: String,
    problem: Option<Text>,
}

#[derive(Debug, Clone)]
pub enum Message {
    FullName(String),
    Username(String),
    Password(String),
    Repeat(String),
    Create,
}

pub enum Event {
    Created,
}

fn check(setup: &Setup, min_password: u32) -> Result<(), Text> {
    accounts::check_new_account(&setup.full_name, &setup.username)?;
    accounts::check_new_password(&setup.password, &setup.repeat, min_password)
}

impl Setup {
    pub fn update(&mut self, message: Message, station: &Station) -> Option<Event> {
        match message {
            Message::FullName(v) => self.full_name = v,
            Message::Username(v) => self.username = v,
            Message::Password(v) => self.password = v,
            Message::Repeat(v) => self.repeat = v,
            Message::Create => {
                if let Err(problem) = check(self, station.live().accounts.min_password_length) {
                    self.problem = Some(problem);
                    return None;
                }
                let created = station.with_db(|db| {
                    accounts::create(
                        db,
                        self.username.trim(),
                        self.full_name.trim(),
                        Role::Supervisor,
                        &self.password,
                        None,
                    )
                });
                match created {
                    Ok(_) => return Some(Event::Created),
                    Err(accounts::AccountError::Taken) => {
                        self.problem = Some(Text::new("err-username-taken"));
                    }
                    Err(e) => {
                        self.problem = Some(Text::new("err-internal").arg("detail", e.to_string()));
                    }
                }
            }
        }
        None
    }

    pub fn view(&self, i18n: &I18n) -> Element<'_, Message> {
        let fields = vec![
            widget::heading(i18n, i18n.tr("ui-setup-title")),
            widget::line(i18n, i18n.tr("ui-setup-help")),
            widget::field(
                i18n,
                "setup-full-name",
                "ui-full-name",
                &self.full_name,
                Message::FullName,
                None,
            ),
            widget::field(
                i18n,
                "setup-username",
                "ui-username",
                &self.username,
                Message::Username,
                None,
            ),
            widget::password(
                i18n,
                "setup-password",
                "ui-password",
                &self.password,
                Message::Password,
                None,
            ),
            widget::password(
                i18n,
                "setup-repeat",
                "ui-password-repeat",
                &self.repeat,
                Message::Repeat,
                Some(Message::Create),
            ),
        ];
        widget::form(
            i18n,
            fields,
            self.problem.as_ref(),
            "ui-create-supervisor",
            Message::Create,
            520.0,
        )
    }
}
