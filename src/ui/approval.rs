//! A supervisor's approval on the spot: the supervisor signs in on the
//! same station, and their username is recorded with what they approved
//! (finger exceptions, forced captures, a national code the rules refuse).

use iced::Element;

use crate::i18n::I18n;
use crate::station::Station;
use crate::text::Text;
use crate::ui::widget;

#[derive(Default)]
pub struct Approval {
    pub username: String,
    pub password: String,
    problem: Option<Text>,
}

impl std::fmt::Debug for Approval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approval")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Approval {
    /// Checks the supervisor's credentials; the password is forgotten
    /// either way.
    pub fn verify(&mut self, station: &Station) -> Option<String> {
        let username = self.username.trim().to_owned();
        let password = std::mem::take(&mut self.password);
        match station.approve(&username, &password) {
            Ok(account) => {
                tracing::info!(supervisor = %account.username, "supervisor approval");
                self.problem = None;
                Some(account.username)
            }
            Err(e) => {
                tracing::warn!(user = %username, "approval refused: {e}");
                self.problem = Some(e.text());
                None
            }
        }
    }

    /// The sign-in fields; `approve` (if any) is sent on Enter in the
    /// password.
    pub fn view<'a, M: Clone + 'a>(
        &'a self,
        i18n: &I18n,
        on_username: impl Fn(String) -> M + 'a,
        on_password: impl Fn(String) -> M + 'a,
        approve: Option<M>,
    ) -> Vec<Element<'a, M>> {
        let mut items = vec![
            widget::line(i18n, i18n.tr("ui-supervisor-approval")),
            widget::field(
                i18n,
                "supervisor-username",
                "ui-supervisor-username",
                &self.username,
                on_username,
                None,
            ),
            widget::password(
                i18n,
                "supervisor-password",
                "ui-supervisor-password",
                &self.password,
                on_password,
                approve,
            ),
        ];
        if let Some(problem) = &self.problem {
            items.push(widget::error(i18n, problem));
        }
        items
    }
}
