//! Step 1: who the applicant is — found by their online pre-registration
//! and checked in, or entered by hand as a walk-in.

use iced::widget::{button, column, container, text, text_input};
use iced::{Element, Length};

use crate::enrolment::applicant::{Field, FieldError, TOO_YOUNG};
use crate::enrolment::jalali::month_length;
use crate::enrolment::national_code::{self, NationalCodeError};
use crate::enrolment::phone::{self, MobileOperator};
use crate::enrolment::{
    Applicant, ApplicantForm, Gender, JalaliDate, PriorityGroup, RequestType, Rules, Session,
};
use crate::i18n::I18n;
use crate::prereg::cache::Found;
use crate::prereg::{self, CheckIn};
use crate::station::Station;
use crate::text::Text;
use crate::ui::approval::Approval;
use crate::ui::widget::{self, row};

#[derive(Debug, Default)]
pub struct State {
    pub form: ApplicantForm,
    errors: Vec<FieldError>,
    warnings: Vec<FieldError>,
    /// Whether Next was pressed once: from then on errors update live.
    submitted: bool,
    /// The pre-registration search.
    query: String,
    found: Option<Result<Vec<Found>, Text>>,
    /// When the office's appointment list was last synced (`None`: never).
    list_fetched_at: Option<String>,
    /// Why the last sync of the list failed, while it is failing.
    sync_problem: Option<Text>,
    /// Whether a background sync runs (the list can be fetched now).
    syncs: bool,
    /// The operator chose to enter the applicant by hand (or resumed a
    /// draft): the form is shown without a pre-registration.
    pub walk_in: bool,
    /// The month the date picker shows, when open.
    picker: Option<(i32, u8)>,
    /// The supervisor's sign-in for a national code the rules refuse.
    approving: Option<Approval>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Edit(Field, String),
    Gender(Gender),
    Request(RequestType),
    Priority(PriorityGroup),
    Query(String),
    Find,
    /// Fetch the appointment list now rather than at the next interval.
    SyncNow,
    CheckIn(usize),
    WalkIn,
    UndoCheckIn,
    PickerOpen,
    /// Moves the picker by this many months.
    PickerMove(i32),
    PickerPick(u8),
    PickerClose,
    ApproveStart,
    ApproveUsername(String),
    ApprovePassword(String),
    Approve,
    ApproveCancel,
}

impl State {
    /// Reads when the appointment list was last synced, for the search
    /// panel.
    pub fn refresh_list_age(&mut self, station: &Station) {
        self.list_fetched_at = station.appointments_fetched_at().unwrap_or_else(|e| {
            tracing::warn!("pre-registration cache: {e}");
            None
        });
        self.syncs = station.prereg_sync().is_some();
        self.sync_problem = station
            .prereg_sync()
            .and_then(|sync| sync.state().error)
            .map(|e| e.text());
    }

    pub fn update(&mut self, message: Message, session: &mut Session, station: &Station) {
        match message {
            Message::Edit(field, value) => {
                if let Some(slot) = self.form.slot(field) {
                    *slot = value;
                }
            }
            Message::Gender(g) => self.form.gender = Some(g),
            Message::Request(r) => self.form.request_type = Some(r),
            Message::Priority(p) => self.form.priority_group = p,
            Message::Query(q) => self.query = q,
            Message::SyncNow => {
                if let Some(sync) = station.prereg_sync() {
                    sync.sync_now();
                }
                self.refresh_list_age(station);
            }
            Message::Find => {
                self.refresh_list_age(station);
                self.found = Some(station.find_appointments(&self.query).map_err(|e| {
                    tracing::warn!("pre-registration lookup failed: {e}");
                    Text::new("err-prereg-cache").arg("detail", e.to_string())
                }));
            }
            Message::CheckIn(index) => {
                let Some(Ok(found)) = &self.found else {
                    return;
                };
                let Some(Found::Open { appointment }) = found.get(index) else {
                    return;
                };
                tracing::info!(
                    tracking_code = %appointment.tracking_code,
                    "checked in from pre-registration"
                );
                self.form = prereg::form_from(appointment);
                session.check_in = Some(CheckIn {
                    appointment: appointment.clone(),
                    checked_in_at: chrono::Local::now().to_rfc3339(),
                    differences: Vec::new(),
                });
                self.found = None;
                self.query.clear();
                self.walk_in = false;
            }
            Message::WalkIn => {
                self.walk_in = true;
                self.found = None;
            }
            Message::UndoCheckIn => {
                session.check_in = None;
                self.walk_in = false;
            }
            Message::PickerOpen => {
                let shown = JalaliDate::parse(&self.form.birth_date)
                    .unwrap_or_else(|_| JalaliDate::today());
                self.picker = Some((shown.year, shown.month));
            }
            Message::PickerMove(months) => {
                if let Some((year, month)) = &mut self.picker {
                    let index = *year * 12 + i32::from(*month) - 1 + months;
                    *year = index.div_euclid(12);
                    *month = (index.rem_euclid(12) + 1) as u8;
                }
            }
            Message::PickerPick(day) => {
                if let Some((year, month)) = self.picker.take() {
                    self.form.birth_date = i18n_neutral_date(year, month, day);
                }
            }
            Message::PickerClose => self.picker = None,
            Message::ApproveStart => self.approving = Some(Approval::default()),
            Message::ApproveUsername(v) => {
                if let Some(a) = &mut self.approving {
                    a.username = v;
                }
            }
            Message::ApprovePassword(v) => {
                if let Some(a) = &mut self.approving {
                    a.password = v;
                }
            }
            Message::Approve => {
                if let Some(approval) = &mut self.approving
                    && let Some(supervisor) = approval.verify(station)
                {
                    self.form.national_code_approved_by = Some(supervisor);
                    self.approving = None;
                }
            }
            Message::ApproveCancel => self.approving = None,
        }
        self.warnings = self.form.warnings();
        if self.submitted {
            self.errors = self
                .form
                .validate(&station.config.enrolment.rules(JalaliDate::today()))
                .err()
                .unwrap_or_default();
        }
    }

    /// Validates the form; on failure the errors are shown on their fields.
    /// Either way the fields are rewritten in their stored spelling, so the
    /// operator sees what will be kept; nothing typed is thrown away.
    pub fn submit(&mut self, rules: &Rules) -> Option<Applicant> {
        self.submitted = true;
        self.form = self.form.normalised();
        self.warnings = self.form.warnings();
        match self.form.validate(rules) {
            Ok(applicant) => {
                self.errors.clear();
                Some(applicant)
            }
            Err(errors) => {
                tracing::info!(count = errors.len(), "applicant form has problems");
                self.errors = errors;
                None
            }
        }
    }

    fn problem(&self, field: Field) -> Option<&Text> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| &e.text)
    }

    fn input<'a>(&'a self, i18n: &I18n, field: Field) -> Element<'a, Message> {
        // Stored digits are ASCII; the interface shows its own.
        let shown = i18n.digits(self.form.get(field));
        let mut col = column![widget::field(
            i18n,
            field.key(),
            field.label_id(),
            &shown,
            move |v| Message::Edit(field, v),
            self.problem(field),
        )]
        .spacing(4);
        for warning in self.warnings.iter().filter(|w| w.field == field) {
            col = col.push(widget::aligned(
                i18n,
                text(i18n.text(&warning.text)).size(14).style(text::warning),
            ));
        }
        if let Some(info) = self.information(i18n, field) {
            col = col.push(widget::aligned(
                i18n,
                text(info).size(14).style(text::secondary),
            ));
        }
        col.width(Length::Fill).into()
    }

    /// A line under a field that tells, without judging: the mobile
    /// operator, the landline's province, the age.
    fn information(&self, i18n: &I18n, field: Field) -> Option<String> {
        match field {
            Field::Mobile => {
                let mobile = phone::normalise_mobile(&self.form.mobile).ok()?;
                Some(match MobileOperator::of(&mobile) {
                    Some(op) => i18n.text(
                        &Text::new("ui-mobile-operator").arg("operator", i18n.tr(op.text_id())),
                    ),
                    None => i18n.tr("ui-mobile-operator-unknown"),
                })
            }
            Field::Landline => {
                let landline = phone::normalise_landline(&self.form.landline).ok()?;
                let province = phone::province(&landline[1..3])?;
                Some(
                    i18n.text(
                        &Text::new("ui-landline-province").arg("province", i18n.tr(province)),
                    ),
                )
            }
            Field::BirthDate => {
                let birth = JalaliDate::parse(&self.form.birth_date).ok()?;
                let years = birth.full_years_on(JalaliDate::today());
                let (y, m, d) = birth.to_gregorian();
                Some(format!(
                    "{} {} · {} {}",
                    i18n.tr("ui-age"),
                    i18n.digits(&years.to_string()),
                    i18n.tr("ui-gregorian"),
                    i18n.digits(&format!("{y:04}-{m:02}-{d:02}")),
                ))
            }
            _ => None,
        }
    }

    fn choices<'a, T: Copy + PartialEq + 'a>(
        &self,
        i18n: &I18n,
        label_id: &str,
        options: impl IntoIterator<Item = (T, &'static str)>,
        selected: Option<T>,
        message: fn(T) -> Message,
        field: Field,
    ) -> Element<'a, Message> {
        let options = options
            .into_iter()
            .map(|(value, id)| {
                widget::choice(i18n, i18n.tr(id), selected == Some(value), message(value))
            })
            .collect();
        let mut col = column![
            widget::line(i18n, i18n.tr(label_id)),
            widget::aligned(i18n, row(i18n, options).spacing(16))
        ]
        .spacing(6);
        if let Some(p) = self.problem(field) {
            col = col.push(widget::error(i18n, p));
        }
        col.width(Length::Fill).into()
    }

    pub fn view<'a>(&'a self, session: &'a Session, i18n: &I18n) -> Element<'a, Message> {
        let pair = |a: Field, b: Field| {
            row(i18n, vec![self.input(i18n, a), self.input(i18n, b)])
                .align_y(iced::Alignment::Start)
                .into()
        };
        let mut items: Vec<Element<'a, Message>> = vec![
            widget::heading(i18n, i18n.tr("ui-applicant-title")),
            self.preregistration(session, i18n),
        ];
        if !self.walk_in && session.check_in.is_none() {
            return column(items).spacing(14).into();
        }
        if let Some(refusal) = self.errors.iter().find(|e| e.text.id == TOO_YOUNG) {
            items.push(
                container(
                    column![
                        widget::aligned(i18n, text(i18n.tr("ui-refusal-title")).size(20)),
                        widget::line(i18n, i18n.text(&refusal.text)),
                        widget::line(i18n, i18n.tr("ui-refusal-kept")),
                    ]
                    .spacing(6),
                )
                .padding(12)
                .width(Length::Fill)
                .style(container::danger)
                .into(),
            );
        }
        items.push(self.choices(
            i18n,
            "ui-request-type",
            RequestType::ALL.map(|r| (r, r.text_id())),
            self.form.request_type,
            Message::Request,
            Field::RequestType,
        ));
        items.push(self.choices(
            i18n,
            "ui-priority-group",
            PriorityGroup::ALL.map(|p| (p, p.text_id())),
            Some(self.form.priority_group),
            Message::Priority,
            Field::PriorityGroup,
        ));
        items.push(pair(Field::FirstName, Field::LastName));
        let gender = self.choices(
            i18n,
            "ui-gender",
            [
                (Gender::Female, "gender-female"),
                (Gender::Male, "gender-male"),
            ],
            self.form.gender,
            Message::Gender,
            Field::Gender,
        );
        items.push(
            row(i18n, vec![self.input(i18n, Field::FatherName), gender])
                .align_y(iced::Alignment::Start)
                .into(),
        );
        let calendar = button(text(i18n.tr("ui-pick-date")))
            .style(button::secondary)
            .padding([8, 12])
            .on_press(Message::PickerOpen);
        items.push(
            row(
                i18n,
                vec![
                    self.input(i18n, Field::BirthDate),
                    column![text(""), calendar].spacing(4).into(),
                    self.input(i18n, Field::PlaceOfBirth),
                ],
            )
            .align_y(iced::Alignment::Start)
            .into(),
        );
        if let Some((year, month)) = self.picker {
            items.push(date_picker(i18n, year, month));
        }
        items.push(pair(Field::NationalCode, Field::NationalCodeRepeat));
        if let Some(approval) = self.national_code_approval(i18n) {
            items.push(approval);
        }
        items.push(widget::line(i18n, i18n.tr("ui-birth-certificate")));
        items.push(
            row(
                i18n,
                vec![
                    self.input(i18n, Field::BcNumber),
                    self.input(i18n, Field::BcSeriesLetter),
                    self.input(i18n, Field::BcSeriesNumber),
                    self.input(i18n, Field::BcSerial),
                ],
            )
            .align_y(iced::Alignment::Start)
            .into(),
        );
        items.push(pair(Field::PostalCode, Field::Landline));
        items.push(self.input(i18n, Field::Address));
        items.push(pair(Field::Mobile, Field::MobileRepeat));
        column(items).spacing(14).into()
    }

    /// The button (or sign-in) for the known repeated code, shown only
    /// when that is what stops the national code.
    fn national_code_approval<'a>(&'a self, i18n: &I18n) -> Option<Element<'a, Message>> {
        if let Some(supervisor) = &self.form.national_code_approved_by
            && normalise(&self.form.national_code) == national_code::KNOWN_REPEATED
        {
            return Some(widget::line(
                i18n,
                i18n.text(&Text::new("ui-nc-approved").arg("name", supervisor.clone())),
            ));
        }
        if national_code::validate(&self.form.national_code)
            != Err(NationalCodeError::NeedsApproval)
        {
            return None;
        }
        let Some(approval) = &self.approving else {
            return Some(widget::aligned(
                i18n,
                button(text(i18n.tr("ui-nc-approve")))
                    .style(button::secondary)
                    .on_press(Message::ApproveStart),
            ));
        };
        let mut items = approval.view(
            i18n,
            Message::ApproveUsername,
            Message::ApprovePassword,
            Some(Message::Approve),
        );
        items.push(
            row(
                i18n,
                vec![
                    button(text(i18n.tr("ui-approve")))
                        .style(button::primary)
                        .on_press(Message::Approve)
                        .into(),
                    button(text(i18n.tr("ui-cancel")))
                        .style(button::secondary)
                        .on_press(Message::ApproveCancel)
                        .into(),
                ],
            )
            .into(),
        );
        Some(
            container(column(items).spacing(8).max_width(420))
                .padding(12)
                .style(container::bordered_box)
                .into(),
        )
    }

    /// Finding the pre-registration, or the appointment checked in.
    fn preregistration<'a>(&'a self, session: &'a Session, i18n: &I18n) -> Element<'a, Message> {
        if let Some(check_in) = &session.check_in {
            let a = &check_in.appointment;
            let line = Text::new("ui-prereg-checked-in")
                .arg("code", a.tracking_code.clone())
                .arg("name", format!("{} {}", a.first_name, a.last_name));
            return container(widget::aligned(
                i18n,
                row(
                    i18n,
                    vec![
                        text(i18n.text(&line)).into(),
                        button(text(i18n.tr("ui-prereg-undo")))
                            .style(button::text)
                            .on_press(Message::UndoCheckIn)
                            .into(),
                    ],
                ),
            ))
            .padding(10)
            .width(Length::Fill)
            .style(container::bordered_box)
            .into();
        }
        if self.walk_in {
            return widget::aligned(
                i18n,
                row(
                    i18n,
                    vec![
                        text(i18n.tr("ui-prereg-walk-in-chosen"))
                            .style(text::secondary)
                            .into(),
                        button(text(i18n.tr("ui-prereg-search-again")))
                            .style(button::text)
                            .on_press(Message::UndoCheckIn)
                            .into(),
                    ],
                ),
            );
        }
        let search = text_input(&i18n.tr("ui-prereg-query"), &self.query)
            .id("prereg-query")
            .on_input(Message::Query)
            .on_submit(Message::Find)
            .padding(8)
            .align_x(widget::start(i18n));
        let mut col = column![
            widget::line(i18n, i18n.tr("ui-prereg-title")),
            row(
                i18n,
                vec![
                    search.into(),
                    button(text(i18n.tr("ui-prereg-find")))
                        .style(button::primary)
                        .padding([8, 16])
                        .on_press(Message::Find)
                        .into(),
                    button(text(i18n.tr("ui-prereg-walk-in")))
                        .style(button::secondary)
                        .padding([8, 16])
                        .on_press(Message::WalkIn)
                        .into(),
                ],
            ),
        ]
        .spacing(8);
        let age = text(match &self.list_fetched_at {
            Some(at) => {
                i18n.text(&Text::new("ui-prereg-list-age").arg("at", widget::local_time(i18n, at)))
            }
            None => i18n.tr("ui-prereg-no-list"),
        })
        .size(13)
        .style(text::secondary);
        let mut status: Vec<Element<'a, Message>> = vec![age.into()];
        if let Some(problem) = &self.sync_problem {
            status.push(text(i18n.text(problem)).size(13).style(text::danger).into());
        }
        if self.syncs {
            status.push(
                button(text(i18n.tr("ui-prereg-sync-now")).size(13))
                    .style(button::text)
                    .on_press(Message::SyncNow)
                    .into(),
            );
        }
        col = col.push(widget::aligned(i18n, row(i18n, status)));
        match &self.found {
            None => {}
            Some(Err(problem)) => col = col.push(widget::error(i18n, problem)),
            Some(Ok(found)) if found.is_empty() => {
                col = col.push(widget::line(i18n, i18n.tr("ui-prereg-none-found")));
            }
            Some(Ok(found)) => {
                for (index, f) in found.iter().enumerate() {
                    col = col.push(appointment_card(i18n, index, f));
                }
            }
        }
        container(col)
            .padding(12)
            .width(Length::Fill)
            .style(container::bordered_box)
            .into()
    }
}

/// One appointment found: who, when, for what, and Check in (or why not).
fn appointment_card<'a>(i18n: &I18n, index: usize, found: &Found) -> Element<'a, Message> {
    let a = found.appointment();
    let birth = JalaliDate::parse(&a.birth_date)
        .map_or_else(|_| i18n.digits(&a.birth_date), |d| i18n.date(d));
    let when = widget::office_time(i18n, &a.appointment_at);
    let details = column![
        widget::line(i18n, format!("{} {}", a.first_name, a.last_name)),
        widget::detail(i18n, "ui-national-code", i18n.digits(&a.national_code)),
        widget::detail(i18n, "ui-birth-date", birth),
        widget::detail(i18n, "ui-prereg-tracking", i18n.digits(&a.tracking_code)),
        widget::detail(i18n, "ui-prereg-appointment", when),
        widget::detail(i18n, "ui-request-type", i18n.tr(a.request_type.text_id())),
    ]
    .spacing(4);
    let action: Element<'a, Message> = match found {
        Found::Open { .. } => button(text(i18n.tr("ui-prereg-check-in")))
            .style(button::primary)
            .padding([8, 16])
            .on_press(Message::CheckIn(index))
            .into(),
        Found::Consumed { by, .. } => text(
            i18n.text(
                &Text::new("ui-prereg-used")
                    .arg("packet", by.packet_id.clone())
                    .arg("at", by.at.clone()),
            ),
        )
        .style(text::danger)
        .into(),
    };
    container(row(i18n, vec![details.width(Length::Fill).into(), action]))
        .padding(10)
        .width(Length::Fill)
        .style(container::rounded_box)
        .into()
}

/// Seven day cells of 44 px with 4 px between them.
const PICKER_WIDTH: f32 = 7.0 * 44.0 + 6.0 * 4.0;

/// A month of the Jalali calendar, Saturday first; a day button fills the
/// birth date.
fn date_picker<'a>(i18n: &I18n, year: i32, month: u8) -> Element<'a, Message> {
    let nav = |label: &str, months: i32| -> Element<'a, Message> {
        button(text(i18n.tr(label)).size(14))
            .style(button::secondary)
            .on_press(Message::PickerMove(months))
            .into()
    };
    let title = text(format!(
        "{} {}",
        i18n.tr(&format!("month-{month}")),
        i18n.digits(&year.to_string())
    ))
    .size(18);
    let header = row(
        i18n,
        vec![
            nav("ui-date-previous-year", -12),
            nav("ui-date-previous-month", -1),
            container(title).center_x(Length::Fill).into(),
            nav("ui-date-next-month", 1),
            nav("ui-date-next-year", 12),
        ],
    );
    let cell = |content: Element<'a, Message>| -> Element<'a, Message> {
        container(content).center_x(44).into()
    };
    let weekdays = i18n.tr("ui-weekdays-short");
    let mut weeks = vec![
        row(
            i18n,
            weekdays
                .split_whitespace()
                .map(|d| cell(text(d.to_owned()).size(13).style(text::secondary).into()))
                .collect(),
        )
        .spacing(4),
    ];
    let Ok(first) = JalaliDate::new(year, month, 1) else {
        return column![header].into();
    };
    let mut cells: Vec<Element<'a, Message>> = (0..first.weekday())
        .map(|_| cell(text("").into()))
        .collect();
    for day in 1..=month_length(year, month) {
        cells.push(cell(
            button(text(i18n.digits(&day.to_string())).size(14))
                .style(button::text)
                .padding([4, 8])
                .on_press(Message::PickerPick(day))
                .into(),
        ));
        if cells.len() == 7 {
            weeks.push(row(i18n, std::mem::take(&mut cells)).spacing(4));
        }
    }
    if !cells.is_empty() {
        while cells.len() < 7 {
            cells.push(cell(text("").into()));
        }
        weeks.push(row(i18n, cells).spacing(4));
    }
    let close = button(text(i18n.tr("ui-close")))
        .style(button::secondary)
        .on_press(Message::PickerClose);
    let grid = column![header]
        .extend(weeks.into_iter().map(Element::from))
        .push(row(i18n, vec![close.into()]))
        .spacing(6)
        .width(PICKER_WIDTH);
    widget::aligned(
        i18n,
        container(grid).padding(12).style(container::bordered_box),
    )
}

/// `YYYY/MM/DD` in ASCII digits (the input shows it in the UI's digits).
fn i18n_neutral_date(year: i32, month: u8, day: u8) -> String {
    format!("{year:04}/{month:02}/{day:02}")
}

fn normalise(input: &str) -> String {
    crate::enrolment::digits::normalise_identifier(input)
}
