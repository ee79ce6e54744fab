//! The sign-in screen.

use iced::Element;

use super::widget;
use crate::i18n::I18n;
use crate::station::Station;
use crate::store::accounts::{Account, AccountError, DraftKey};
use crate::text::Text;

#[derive(Debug, Default)]
pub struct SignIn {
    username: String,
    password: String,
    problem: Option<Text>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Username(String),
    Password(String),
    Submit,
}

pub enum Event {
    SignedIn(Account, DraftKey),
}

impl SignIn {
    pub fn update(&mut self, message: Message, station: &Station) -> Option<Event> {
        match message {
            Message::Username(v) => self.username = v,
            Message::Password(v) => self.password = v,
            Message::Submit => {
                let result = station.sign_in(self.username.trim(), &self.password);
                self.password.clear();
                match result {
                    Ok((account, key)) => {
                        tracing::info!(user = %account.username, "signed in");
                        return Some(Event::SignedIn(account, key));
                    }
                    Err(AccountError::WrongCredentials) => {
                        tracing::warn!("failed sign-in");
                        self.problem = Some(Text::new("err-wrong-credentials"));
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
            widget::heading(i18n, i18n.tr("ui-sign-in-title")),
            widget::field(
                i18n,
                "sign-in-username",
                "ui-username",
                &self.username,
                Message::Username,
                None,
            ),
            widget::password(
                i18n,
                "sign-in-password",
                "ui-password",
                &self.password,
                Message::Password,
                Some(Message::Submit),
            ),
        ];
        widget::form(
            i18n,
            fields,
            self.problem.as_ref(),
            "ui-sign-in",
            Message::Submit,
            420.0,
        )
    }
}
