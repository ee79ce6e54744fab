//! The sign-in screen.

use iced::widget::{button, column, container, text, text_input};
use iced::{Element, Length};

use super::widget;
use crate::i18n::I18n;
use crate::station::Station;
use crate::store::accounts::{self, Account, AccountError};
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
    SignedIn(Account),
}

impl SignIn {
    pub fn update(&mut self, message: Message, station: &Station) -> Option<Event> {
        match message {
            Message::Username(v) => self.username = v,
            Message::Password(v) => self.password = v,
            Message::Submit => {
                let result = station
                    .with_db(|db| accounts::verify(db, self.username.trim(), &self.password));
                self.password.clear();
                match result {
                    Ok(account) => {
                        tracing::info!(user = %account.username, "signed in");
                        return Some(Event::SignedIn(account));
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
        let mut form = column![
            widget::heading(i18n, i18n.tr("ui-sign-in-title")),
            widget::field(
                i18n,
                "sign-in-username",
                "ui-username",
                &self.username,
                Message::Username,
                None
            ),
            column![
                widget::line(i18n, i18n.tr("ui-password")),
                text_input(&i18n.tr("ui-password"), &self.password)
                    .id("sign-in-password")
                    .secure(true)
                    .padding(8)
                    .on_input(Message::Password)
                    .on_submit(Message::Submit),
            ]
            .spacing(4),
        ]
        .spacing(14);
        if let Some(problem) = &self.problem {
            form = form.push(widget::error(i18n, problem));
        }
        form = form.push(widget::aligned(
            i18n,
            button(text(i18n.tr("ui-sign-in")))
                .padding([8, 20])
                .style(button::primary)
                .on_press(Message::Submit),
        ));
        container(form.max_width(420))
            .center_x(Length::Fill)
            .padding(48)
            .into()
    }
}
