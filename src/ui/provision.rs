//! First run of a station that has the authority's key but no office:
//! binds it to its office and intake (the same [`crate::provision`] as
//! `pishkhan provision`), then shows its public key as a QR code and the
//! registration file for the intake, before the first supervisor is
//! created. Demo stations never see this screen.

use std::path::PathBuf;
use std::sync::Arc;

use iced::widget::{button, container, qr_code, scrollable, text};
use iced::{Element, Length};

use super::widget;
use crate::enrolment::digits::to_ascii_digits;
use crate::i18n::I18n;
use crate::provision::{self, Field, Problem, Registration, Request};
use crate::station::Station;
use crate::text::Text;

/// The form, then the station's registration.
#[derive(Debug, Default)]
pub struct Provision {
    office: String,
    name: String,
    number: String,
    recipients: String,
    intake_url: String,
    certificate: String,
    intake_key: String,
    problems: Vec<Problem>,
    failure: Option<Text>,
    done: Option<Done>,
}

#[derive(Debug)]
struct Done {
    registration: Registration,
    file: PathBuf,
    /// Why the registration file could not be written, if it could not.
    file_problem: Option<String>,
    qr: Option<qr_code::Data>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Office(String),
    Name(String),
    Number(String),
    Recipients(String),
    IntakeUrl(String),
    Certificate(String),
    IntakeKey(String),
    Submit,
    Continue,
}

pub enum Event {
    /// The station was provisioned: the window goes on with this station,
    /// opened again with its new configuration (this screen stays, showing
    /// the registration).
    Provisioned(Arc<Station>),
    /// On to the first supervisor (or sign-in).
    Continue,
}

impl Provision {
    /// The form, filled with what the station's configuration already says
    /// (an installer may bring the authority's key and the intake).
    pub fn new(station: &Station) -> Self {
        let config = &station.config;
        Self {
            name: config.station.name.clone().unwrap_or_default(),
            number: config
                .station
                .number
                .map(|n| n.to_string())
                .unwrap_or_default(),
            recipients: config.authority.all_recipients().join(" "),
            intake_url: config.upload.url.clone().unwrap_or_default(),
            certificate: config
                .upload
                .server_certificate
                .as_ref()
                .map(|c| station.data_dir.join(c).display().to_string())
                .unwrap_or_default(),
            intake_key: config.upload.intake_key.clone().unwrap_or_default(),
            ..Self::default()
        }
    }

    /// The registration shown after provisioning, if it is done.
    pub fn registration(&self) -> Option<&Registration> {
        self.done.as_ref().map(|d| &d.registration)
    }

    fn request(&mut self) -> Option<Request> {
        let number = to_ascii_digits(self.number.trim());
        let number = if number.is_empty() {
            None
        } else if let Ok(n) = number.parse::<u16>() {
            Some(n)
        } else {
            self.problems = vec![Problem {
                field: Field::Number,
                text: Text::new("err-provision-number"),
            }];
            return None;
        };
        let certificate = self.certificate.trim();
        Some(Request {
            office: self.office.clone(),
            name: self.name.clone(),
            number,
            recipients: self
                .recipients
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            intake_url: self.intake_url.clone(),
            intake_certificate: (!certificate.is_empty()).then(|| PathBuf::from(certificate)),
            intake_key: Some(self.intake_key.clone()),
        })
    }

    pub fn update(&mut self, message: Message, station: &Station) -> Option<Event> {
        match message {
            Message::Office(v) => self.office = v,
            Message::Name(v) => self.name = v,
            Message::Number(v) => self.number = v,
            Message::Recipients(v) => self.recipients = v,
            Message::IntakeUrl(v) => self.intake_url = v,
            Message::Certificate(v) => self.certificate = v,
            Message::IntakeKey(v) => self.intake_key = v,
            Message::Continue => return self.done.is_some().then_some(Event::Continue),
            Message::Submit => {
                if self.done.is_some() {
                    return None;
                }
                self.problems.clear();
                self.failure = None;
                let request = self.request()?;
                let provisioned = match provision::provision(station, &request, false) {
                    Ok(p) => p,
                    Err(provision::ProvisionError::Invalid(problems)) => {
                        self.problems = problems;
                        return None;
                    }
                    Err(e) => {
                        self.failure = e.texts().into_iter().next();
                        return None;
                    }
                };
                let reopened = match Station::open(&station.data_dir) {
                    Ok(s) => Arc::new(s),
                    Err(e) => {
                        self.failure =
                            Some(Text::new("err-provision-failed").arg("detail", e.to_string()));
                        return None;
                    }
                };
                let registration = provisioned.registration;
                let file = station.data_dir.join(provision::REGISTRATION_FILE);
                let file_problem = registration.write(&file).err().map(|e| e.to_string());
                // Error correction L, as the terminal's and the PNG's.
                let qr = qr_code::Data::with_error_correction(
                    registration.to_json(),
                    qr_code::ErrorCorrection::Low,
                )
                .map_err(|e| tracing::error!("registration QR code: {e}"))
                .ok();
                self.done = Some(Done {
                    registration,
                    file,
                    file_problem,
                    qr,
                });
                return Some(Event::Provisioned(reopened));
            }
        }
        None
    }

    fn problem(&self, field: Field) -> Option<&Text> {
        self.problems
            .iter()
            .find(|p| p.field == field)
            .map(|p| &p.text)
    }

    pub fn view(&self, i18n: &I18n) -> Element<'_, Message> {
        match &self.done {
            Some(done) => done_view(done, i18n),
            None => self.form(i18n),
        }
    }

    fn form(&self, i18n: &I18n) -> Element<'_, Message> {
        let fields = vec![
            widget::heading(i18n, i18n.tr("ui-provision-title")),
            widget::line(i18n, i18n.tr("ui-provision-help")),
            widget::field(
                i18n,
                "provision-office",
                "ui-provision-office",
                &self.office,
                Message::Office,
                self.problem(Field::Office),
            ),
            widget::field(
                i18n,
                "provision-name",
                "ui-provision-name",
                &self.name,
                Message::Name,
                self.problem(Field::Name),
            ),
            widget::field(
                i18n,
                "provision-number",
                "ui-provision-number",
                &i18n.digits(&self.number),
                Message::Number,
                self.problem(Field::Number),
            ),
            widget::field(
                i18n,
                "provision-recipient",
                "ui-provision-recipient",
                &self.recipients,
                Message::Recipients,
                self.problem(Field::Recipient),
            ),
            widget::field(
                i18n,
                "provision-intake-url",
                "ui-provision-intake-url",
                &self.intake_url,
                Message::IntakeUrl,
                self.problem(Field::IntakeUrl),
            ),
            widget::field(
                i18n,
                "provision-certificate",
                "ui-provision-certificate",
                &self.certificate,
                Message::Certificate,
                self.problem(Field::Certificate),
            ),
            widget::field(
                i18n,
                "provision-intake-key",
                "ui-provision-intake-key",
                &self.intake_key,
                Message::IntakeKey,
                self.problem(Field::IntakeKey),
            ),
        ];
        scrollable(widget::form(
            i18n,
            fields,
            self.failure.as_ref(),
            "ui-provision-submit",
            Message::Submit,
            720.0,
        ))
        .height(Length::Fill)
        .into()
    }
}

fn done_view<'a>(done: &'a Done, i18n: &I18n) -> Element<'a, Message> {
    let r = &done.registration;
    let mut items: Vec<Element<'a, Message>> = vec![
        widget::heading(i18n, i18n.tr("ui-provision-done-title")),
        widget::line(i18n, i18n.tr("ui-provision-done-help")),
    ];
    if let Some(qr) = &done.qr {
        items.push(
            container(qr_code(qr).cell_size(5.0))
                .center_x(Length::Fill)
                .into(),
        );
    }
    // Number, office and name as separate pieces, so that each keeps its
    // own direction and the row runs in the reading order.
    let station = widget::row(
        i18n,
        vec![
            text(format!("{}:", i18n.tr("ui-provision-station")))
                .style(text::secondary)
                .into(),
            text(i18n.digits(&format!("{:04}", r.number))).into(),
            text("—").into(),
            text(r.office.clone()).into(),
            text("—").into(),
            text(r.name.clone()).into(),
        ],
    )
    .spacing(8);
    items.push(widget::aligned(i18n, station));
    items.push(widget::detail(
        i18n,
        "ui-provision-public-key",
        r.public_key.clone(),
    ));
    items.push(widget::detail(
        i18n,
        "ui-provision-file",
        done.file.display().to_string(),
    ));
    if let Some(problem) = &done.file_problem {
        items.push(widget::error(
            i18n,
            &Text::new("err-provision-failed").arg("detail", problem.clone()),
        ));
    }
    items.push(widget::line(i18n, i18n.tr("ui-provision-restart")));
    items.push(widget::aligned(
        i18n,
        button(text(i18n.tr("ui-provision-continue")))
            .padding([8, 20])
            .style(button::primary)
            .on_press(Message::Continue),
    ));
    scrollable(
        container(
            iced::widget::Column::with_children(items)
                .spacing(14)
                .max_width(820.0),
        )
        .center_x(Length::Fill)
        .padding(32),
    )
    .height(Length::Fill)
    .into()
}
