//! Step 1: who the applicant is.

use iced::widget::{column, text};
use iced::{Element, Length};

use crate::enrolment::applicant::{Field, FieldError};
use crate::enrolment::{Applicant, ApplicantForm, Gender, JalaliDate, RequestType};
use crate::i18n::I18n;
use crate::ui::widget::{self, row};

#[derive(Debug, Default)]
pub struct State {
    pub form: ApplicantForm,
    errors: Vec<FieldError>,
    /// Whether Next was pressed once: from then on errors update live.
    submitted: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    Edit(Field, String),
    Gender(Gender),
    Request(RequestType),
}

impl State {
    pub fn update(&mut self, message: Message) {
        let form = &mut self.form;
        match message {
            Message::Edit(field, value) => {
                let slot = match field {
                    Field::FirstName => &mut form.first_name,
                    Field::LastName => &mut form.last_name,
                    Field::FatherName => &mut form.father_name,
                    Field::BirthDate => &mut form.birth_date,
                    Field::NationalCode => &mut form.national_code,
                    Field::NationalCodeRepeat => &mut form.national_code_repeat,
                    Field::PostalCode => &mut form.postal_code,
                    Field::Address => &mut form.address,
                    Field::Mobile => &mut form.mobile,
                    Field::Gender | Field::RequestType => return,
                };
                *slot = value;
            }
            Message::Gender(g) => form.gender = Some(g),
            Message::Request(r) => form.request_type = Some(r),
        }
        if self.submitted {
            self.errors = self
                .form
                .validate(JalaliDate::today())
                .err()
                .unwrap_or_default();
        }
    }

    /// Validates the form; on failure the errors are shown on their fields.
    pub fn submit(&mut self, today: JalaliDate) -> Option<Applicant> {
        self.submitted = true;
        match self.form.validate(today) {
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

    fn problem(&self, field: Field) -> Option<&crate::text::Text> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| &e.text)
    }

    fn input<'a>(&'a self, i18n: &I18n, field: Field) -> Element<'a, Message> {
        let (id, label, value) = match field {
            Field::FirstName => ("first-name", "ui-first-name", &self.form.first_name),
            Field::LastName => ("last-name", "ui-last-name", &self.form.last_name),
            Field::FatherName => ("father-name", "ui-father-name", &self.form.father_name),
            Field::BirthDate => ("birth-date", "ui-birth-date", &self.form.birth_date),
            Field::NationalCode => (
                "national-code",
                "ui-national-code",
                &self.form.national_code,
            ),
            Field::NationalCodeRepeat => (
                "national-code-repeat",
                "ui-national-code-repeat",
                &self.form.national_code_repeat,
            ),
            Field::PostalCode => ("postal-code", "ui-postal-code", &self.form.postal_code),
            Field::Address => ("address", "ui-address", &self.form.address),
            Field::Mobile => ("mobile", "ui-mobile", &self.form.mobile),
            Field::Gender | Field::RequestType => ("", "", &self.form.first_name),
        };
        widget::field(
            i18n,
            id,
            label,
            value,
            move |v| Message::Edit(field, v),
            self.problem(field),
        )
    }

    pub fn view<'a>(&'a self, i18n: &I18n) -> Element<'a, Message> {
        let pair = |a: Field, b: Field| row(i18n, vec![self.input(i18n, a), self.input(i18n, b)]);

        let gender = {
            let options = [
                (Gender::Female, "gender-female"),
                (Gender::Male, "gender-male"),
            ]
            .into_iter()
            .map(|(g, id)| {
                widget::choice(
                    i18n,
                    i18n.tr(id),
                    self.form.gender == Some(g),
                    Message::Gender(g),
                )
            })
            .collect();
            let mut col = column![
                widget::line(i18n, i18n.tr("ui-gender")),
                widget::aligned(i18n, row(i18n, options))
            ]
            .spacing(6);
            if let Some(p) = self.problem(Field::Gender) {
                col = col.push(widget::error(i18n, p));
            }
            col.width(Length::Fill)
        };
        let request = {
            let options = RequestType::ALL
                .into_iter()
                .map(|r| {
                    widget::choice(
                        i18n,
                        i18n.tr(r.text_id()),
                        self.form.request_type == Some(r),
                        Message::Request(r),
                    )
                })
                .collect();
            let mut col = column![
                widget::line(i18n, i18n.tr("ui-request-type")),
                widget::aligned(i18n, row(i18n, options).spacing(20))
            ]
            .spacing(6);
            if let Some(p) = self.problem(Field::RequestType) {
                col = col.push(widget::error(i18n, p));
            }
            col
        };
        let age = JalaliDate::parse(&self.form.birth_date).ok().map(|birth| {
            let years = birth.full_years_on(JalaliDate::today());
            let (y, m, d) = birth.to_gregorian();
            text(format!(
                "{} {} · {} {}",
                i18n.tr("ui-age"),
                i18n.digits(&years.to_string()),
                i18n.tr("ui-gregorian"),
                i18n.digits(&format!("{y:04}-{m:02}-{d:02}")),
            ))
            .size(14)
            .style(text::secondary)
        });

        let mut form = column![
            widget::heading(i18n, i18n.tr("ui-applicant-title")),
            request,
            pair(Field::FirstName, Field::LastName),
            row(
                i18n,
                vec![self.input(i18n, Field::FatherName), gender.into()]
            ),
            self.input(i18n, Field::BirthDate),
        ]
        .spacing(14);
        if let Some(age) = age {
            form = form.push(widget::aligned(i18n, age));
        }
        form.push(pair(Field::NationalCode, Field::NationalCodeRepeat))
            .push(pair(Field::PostalCode, Field::Mobile))
            .push(self.input(i18n, Field::Address))
            .into()
    }
}
