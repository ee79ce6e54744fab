//! The forced password change: an account a supervisor created or reset
//! signs in with a temporary password and must choose its own before
//! anything else.

use iced::Element;

use super::widget;
use crate::i18n::I18n;
use crate::station::Station;
use crate::store::accounts::{self, Account, DraftKey};
use crate::text::Text;

pub struct ChangePassword {
    pub account: Account,
    pub key: DraftKey,
    current: String,
    new: String,
    repeat: String,
    problem: Option<Text>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Current(String),
    New(String),
    Repeat(String),
    Submit,
}

pub enum Event {
    Changed,
    /// The account locked itself (wrong current passwords): back to sign-in.
    Locked(Text),
}

impl ChangePassword {
    pub fn new(account: Account, key: DraftKey) -> Self {
        Self {
            account,
            key,
            current: String::new(),
            new: String::new(),
            repeat: String::new(),
            problem: None,
        }
    }

    pub fn update(&mut self, message: Message, station: &Station) -> Option<Event> {
        match message {
            Message::Current(v) => self.current = v,
            Message::New(v) => self.new = v,
            Message::Repeat(v) => self.repeat = v,
            Message::Submit => {
                // Passwords are typed afresh after every attempt.
                let current = std::mem::take(&mut self.current);
                let new = std::mem::take(&mut self.new);
                let repeat = std::mem::take(&mut self.repeat);
                let min = station.live().accounts.min_password_length;
                if let Err(problem) = accounts::check_new_password(&new, &repeat, min) {
                    self.problem = Some(problem);
                    return None;
                }
                let result = station.change_password(&self.account.username, &current, &new);
                match result {
                    Ok(()) => {
                        self.account.must_change_password = false;
                        return Some(Event::Changed);
                    }
                    Err(e @ accounts::AccountError::LockedNow { .. }) => {
                        return Some(Event::Locked(e.text()));
                    }
                    Err(e) => self.problem = Some(e.text()),
                }
            }
        }
        None
    }

    pub fn view(&self, i18n: &I18n) -> Element<'_, Message> {
        let fields = vec![
            widget::heading(i18n, i18n.tr("ui-change-password-title")),
            widget::line(
                i18n,
                i18n.text(
                    &Text::new("ui-change-password-help")
                        .arg("name", self.account.full_name.clone()),
                ),
            ),
            widget::password(
                i18n,
                "password-current",
                "ui-password-current",
                &self.current,
                Message::Current,
                None,
            ),
            widget::password(
                i18n,
                "password-new",
                "ui-password-new",
                &self.new,
                Message::New,
                None,
            ),
            widget::password(
                i18n,
                "password-repeat",
                "ui-password-repeat",
                &self.repeat,
                Message::Repeat,
                Some(Message::Submit),
            ),
        ];
        widget::form(
            i18n,
            fields,
            self.problem.as_ref(),
            "ui-change-password",
            Message::Submit,
            480.0,
        )
    }
}
