//! The sign-in screen.

use iced::Element;

use super::widget;
use crate::i18n::I18n;
use crate::station::Station;
use crate::store::accounts::{Account, DraftKey};
use crate::text::Text;

#[derive(Debug, Default)]
pub struct SignIn {
    username: String,
    password: String,
    problem: Option<Text>,
    /// Why the previous operator is no longer signed in (idle sign-out).
    notice: Option<Text>,
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
    /// The sign-in screen with a notice above the form (or a problem, for
    /// an account that locked itself elsewhere).
    pub fn with_notice(notice: Text) -> Self {
        Self {
            notice: Some(notice),
            ..Self::default()
        }
    }

    /// Why the last attempt was refused.
    pub fn problem(&self) -> Option<&Text> {
        self.problem.as_ref()
    }

    /// The notice shown above the form.
    pub fn notice(&self) -> Option<&Text> {
        self.notice.as_ref()
    }

    pub fn with_problem(problem: Text) -> Self {
        Self {
            problem: Some(problem),
            ..Self::default()
        }
    }

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
                    Err(e) => {
                        tracing::warn!("sign-in refused: {e}");
                        self.notice = None;
                        self.problem = Some(e.text());
                    }
                }
            }
        }
        None
    }

    pub fn view(&self, i18n: &I18n) -> Element<'_, Message> {
        let mut fields = vec![widget::heading(i18n, i18n.tr("ui-sign-in-title"))];
        if let Some(notice) = &self.notice {
            fields.push(widget::line(i18n, i18n.text(notice)));
        }
        fields.extend([
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
        ]);
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
