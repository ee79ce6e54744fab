//! Pre-registration: the office's appointment list from the authority, the
//! operator's check-in, and the differences between what the applicant
//! registered online and what the operator typed from the documents.
//!
//! No UI here. The list is synced from the intake's `GET /v1/appointments`
//! ([`sync`]) and cached encrypted in the station database ([`cache`]); a
//! checked-in appointment is consumed when its enrolment is sealed and can
//! never be used again. [`demo`] makes the synthetic list a demo intake
//! serves.

pub mod cache;
pub mod demo;
pub mod sync;

use serde::{Deserialize, Serialize};

use crate::enrolment::applicant::Field;
use crate::enrolment::digits::to_ascii_digits;
use crate::enrolment::digits::{fold_key, normalise_identifier};
use crate::enrolment::{Applicant, ApplicantForm, JalaliDate, RequestType};

/// One online pre-registration with its appointment at the office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// The pre-registration tracking code the applicant was given online
    /// (ASCII digits; the authority's format, not ours).
    pub tracking_code: String,
    /// Ten ASCII digits, as registered (not re-validated here).
    pub national_code: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub father_name: Option<String>,
    /// Jalali `YYYY/MM/DD`, ASCII digits.
    pub birth_date: String,
    /// Local date and time of the appointment, RFC 3339.
    pub appointment_at: String,
    pub request_type: RequestType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

/// The list the intake serves for one office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentList {
    pub office: String,
    /// When the intake produced the list, RFC 3339.
    pub generated_at: String,
    pub appointments: Vec<Appointment>,
}

/// How the operator settled one difference between the pre-registration
/// and the typed value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "resolution", rename_all = "kebab-case")]
pub enum Resolution {
    /// The typed value was changed to the registered one.
    Corrected,
    /// The typed value was kept (the document in front of the operator says
    /// so); the reason and the supervisor who approved it on the spot
    /// travel in the packet (absent in drafts and packets from before
    /// approvals were asked for).
    Kept {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approved_by: Option<String>,
    },
}

/// One field where the typed value and the pre-registration differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// Field name as in the applicant record (`first-name`, `birth-date`, …).
    pub field: String,
    pub typed: String,
    pub registered: String,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
}

/// The appointment an enrolment was checked in from, and what was decided
/// about every difference. Recorded in the packet manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    pub appointment: Appointment,
    /// When the operator checked the applicant in, RFC 3339.
    pub checked_in_at: String,
    pub differences: Vec<Difference>,
}

impl CheckIn {
    /// Differences not yet corrected or kept with a reason.
    pub fn unresolved(&self) -> impl Iterator<Item = &Difference> {
        self.differences.iter().filter(|d| d.resolution.is_none())
    }

    /// Recomputes the differences for `applicant` (after the form was
    /// edited), keeping a decision already taken for the same field and
    /// the same typed value, and the record of every correction.
    pub fn compare(&mut self, applicant: &Applicant) {
        let previous = std::mem::take(&mut self.differences);
        let mut now: Vec<Difference> = differences(applicant, &self.appointment)
            .into_iter()
            .map(|mut d| {
                d.resolution = previous
                    .iter()
                    .find(|p| p.field == d.field && p.typed == d.typed)
                    .and_then(|p| p.resolution.clone());
                d
            })
            .collect();
        // A correction made the difference go away; it stays on record.
        for p in previous {
            if p.resolution == Some(Resolution::Corrected)
                && !now.iter().any(|d| d.field == p.field)
            {
                now.push(p);
            }
        }
        self.differences = now;
    }

    /// The differences kept with a reason, for the packet.
    pub fn kept(&self) -> impl Iterator<Item = (&Difference, &str)> {
        self.differences.iter().filter_map(|d| match &d.resolution {
            Some(Resolution::Kept { reason, .. }) => Some((d, reason.as_str())),
            _ => None,
        })
    }
}

/// The applicant form pre-filled from an appointment. The repeated
/// national code and mobile stay empty: the operator types them from the
/// documents, which is the double-entry check.
pub fn form_from(appointment: &Appointment) -> ApplicantForm {
    ApplicantForm {
        first_name: appointment.first_name.clone(),
        last_name: appointment.last_name.clone(),
        father_name: appointment.father_name.clone().unwrap_or_default(),
        birth_date: appointment.birth_date.clone(),
        national_code: appointment.national_code.clone(),
        postal_code: appointment.postal_code.clone().unwrap_or_default(),
        mobile: appointment.mobile.clone().unwrap_or_default(),
        request_type: Some(appointment.request_type),
        ..ApplicantForm::default()
    }
}

/// Where the checked applicant and the pre-registration differ, field by
/// field. Names are compared by their folded spelling (ZWNJ, spaces,
/// Arabic letter forms and short vowels ignored: domain.md §4.4), every
/// identifier after normalisation.
pub fn differences(applicant: &Applicant, appointment: &Appointment) -> Vec<Difference> {
    let name = |a: &str, b: &str| fold_key(a) == fold_key(b);
    let exact = |a: &str, b: &str| normalise_identifier(a) == normalise_identifier(b);
    let birth_date = JalaliDate::parse(&appointment.birth_date)
        .map_or_else(|_| appointment.birth_date.clone(), JalaliDate::to_ascii);
    type Same = fn(&str, &str) -> bool;
    let mut pairs: Vec<(Field, String, String, Same)> = vec![
        (
            Field::NationalCode,
            applicant.national_code.as_str().to_owned(),
            appointment.national_code.clone(),
            exact,
        ),
        (
            Field::FirstName,
            applicant.first_name.clone(),
            appointment.first_name.clone(),
            name,
        ),
        (
            Field::LastName,
            applicant.last_name.clone(),
            appointment.last_name.clone(),
            name,
        ),
        (
            Field::BirthDate,
            applicant.birth_date.to_ascii(),
            birth_date,
            exact,
        ),
        (
            Field::RequestType,
            request_key(applicant.request_type),
            request_key(appointment.request_type),
            exact,
        ),
    ];
    let optional = [
        (
            Field::FatherName,
            &applicant.father_name,
            &appointment.father_name,
            name as fn(&str, &str) -> bool,
        ),
        (Field::Mobile, &applicant.mobile, &appointment.mobile, exact),
        (
            Field::PostalCode,
            &applicant.postal_code,
            &appointment.postal_code,
            exact,
        ),
    ];
    for (field, typed, registered, same) in optional {
        if let Some(registered) = registered {
            pairs.push((field, typed.clone(), registered.clone(), same));
        }
    }
    pairs
        .into_iter()
        .filter(|(_, typed, registered, same)| !same(typed, registered))
        .map(|(field, typed, registered, _)| Difference {
            field: field.key().to_owned(),
            typed,
            registered,
            resolution: None,
        })
        .collect()
}

/// `first-card`, `lost-card`, … as recorded in a difference.
pub fn request_key(request: RequestType) -> String {
    request.text_id().trim_start_matches("request-").to_owned()
}

/// Why an appointment list cannot be used (the intake refuses to import
/// it; the station refuses it from the intake).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    #[error("the list names no office")]
    NoOffice,
    #[error("the office code {0:?} may only hold ASCII letters, digits, '-' and '_' (at most 64)")]
    BadOffice(String),
    #[error("appointment {index}: the tracking code {code:?} is not 1 to 32 ASCII digits")]
    BadTrackingCode { index: usize, code: String },
    #[error("appointment {index} ({tracking_code}): the national code is not 10 ASCII digits")]
    BadNationalCode { index: usize, tracking_code: String },
    #[error("the tracking code {0} appears more than once")]
    DuplicateTrackingCode(String),
}

/// Whether `code` has the shape of a pre-registration tracking code: 1 to
/// 32 ASCII digits (the authority's format is not public).
pub fn is_tracking_code(code: &str) -> bool {
    (1..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `office` is a usable office code: it names a file at the intake,
/// so only ASCII letters, digits, `-` and `_`, 1 to 64 of them.
pub fn is_office_code(office: &str) -> bool {
    (1..=64).contains(&office.len())
        && office
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl AppointmentList {
    /// Checks what both ends rely on: an office code, tracking codes of
    /// ASCII digits that are unique, national codes of ten ASCII digits
    /// (their check digit is not judged here: the operator checks the
    /// document). The first problem is reported; indexes count from 1.
    pub fn validate(&self) -> Result<(), ListError> {
        if self.office.trim().is_empty() {
            return Err(ListError::NoOffice);
        }
        if !is_office_code(&self.office) {
            return Err(ListError::BadOffice(self.office.clone()));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, appointment) in self.appointments.iter().enumerate() {
            let code = &appointment.tracking_code;
            if !is_tracking_code(code) {
                return Err(ListError::BadTrackingCode {
                    index: i + 1,
                    code: code.clone(),
                });
            }
            let national = &appointment.national_code;
            if national.len() != 10 || !national.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ListError::BadNationalCode {
                    index: i + 1,
                    tracking_code: code.clone(),
                });
            }
            if !seen.insert(code.as_str()) {
                return Err(ListError::DuplicateTrackingCode(code.clone()));
            }
        }
        Ok(())
    }
}

/// What the operator typed to find an applicant (a tracking code or a
/// national code, in Persian, Arabic-Indic or ASCII digits, with spaces or
/// dashes between groups) as ASCII digits; `None` when anything but digits
/// and those separators is left, or nothing at all.
pub fn normalise_query(query: &str) -> Option<String> {
    let digits: String = to_ascii_digits(query)
        .chars()
        .filter(|c| {
            !(c.is_whitespace()
                || matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{200C}'))
        })
        .collect();
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A plain appointment for tests: Zahra Ahmadi, born 1380/01/01, first
/// card, at 08:00 on 2026-11-22, no father's name, mobile or postal code.
#[cfg(test)]
pub(crate) fn test_appointment(tracking_code: &str, national_code: &str) -> Appointment {
    Appointment {
        tracking_code: tracking_code.into(),
        national_code: national_code.into(),
        first_name: "زهرا".into(),
        last_name: "احمدی".into(),
        father_name: None,
        birth_date: "1380/01/01".into(),
        appointment_at: "2026-11-22T08:00:00+03:30".into(),
        request_type: RequestType::FirstCard,
        mobile: None,
        postal_code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrolment::Rules;

    fn appointment() -> Appointment {
        Appointment {
            tracking_code: "140509010001".into(),
            national_code: "0499370899".into(),
            first_name: "محمد\u{200C}حسین".into(),
            last_name: "رضایی".into(),
            father_name: Some("علی".into()),
            birth_date: "1360/05/12".into(),
            appointment_at: "2026-11-22T09:00:00+03:30".into(),
            request_type: RequestType::FirstCard,
            mobile: Some("09121234567".into()),
            postal_code: Some("1345113456".into()),
        }
    }

    fn typed(form: ApplicantForm) -> Applicant {
        let rules = Rules::on(JalaliDate::new(1405, 9, 1).expect("valid"));
        form.validate(&rules).expect("valid form")
    }

    fn completed(mut form: ApplicantForm) -> ApplicantForm {
        form.gender = Some(crate::enrolment::Gender::Male);
        form.place_of_birth = "تهران".into();
        form.national_code_repeat = form.national_code.clone();
        form.mobile_repeat = form.mobile.clone();
        form.bc_number = "1234".into();
        form.bc_series_letter = "ج".into();
        form.bc_series_number = "12".into();
        form.bc_serial = "345678".into();
        form.address = "تهران، خیابان آزادی، پلاک ۱۰".into();
        form
    }

    #[test]
    fn a_prefilled_form_has_no_differences_even_spelled_otherwise() {
        let mut form = completed(form_from(&appointment()));
        form.first_name = "محمد حسين".into(); // space and Arabic yeh
        assert!(differences(&typed(form), &appointment()).is_empty());
    }

    #[test]
    fn each_difference_is_listed_and_decisions_survive_edits() {
        let mut form = completed(form_from(&appointment()));
        form.last_name = "رضائی".into();
        form.birth_date = "1360/05/13".into();
        let applicant = typed(form.clone());
        let mut check_in = CheckIn {
            appointment: appointment(),
            checked_in_at: "2026-11-22T09:05:00+03:30".into(),
            differences: Vec::new(),
        };
        check_in.compare(&applicant);
        let fields: Vec<&str> = check_in
            .differences
            .iter()
            .map(|d| d.field.as_str())
            .collect();
        assert_eq!(fields, ["last-name", "birth-date"]);
        assert_eq!(check_in.differences[1].typed, "1360/05/13");
        assert_eq!(check_in.differences[1].registered, "1360/05/12");
        assert_eq!(check_in.unresolved().count(), 2);
        check_in.differences[0].resolution = Some(Resolution::Kept {
            reason: "spelled so on the birth certificate".into(),
            approved_by: Some("sara".into()),
        });
        // The operator corrects the birth date: that difference is settled
        // and stays on record, the decision on the last name stays.
        check_in.differences[1].resolution = Some(Resolution::Corrected);
        form.birth_date = "1360/05/12".into();
        check_in.compare(&typed(form));
        assert_eq!(check_in.differences.len(), 2);
        assert_eq!(
            check_in.differences[1].resolution,
            Some(Resolution::Corrected)
        );
        assert_eq!(check_in.unresolved().count(), 0);
        let kept: Vec<_> = check_in
            .kept()
            .map(|(d, r)| (d.field.as_str(), r))
            .collect();
        assert_eq!(kept, [("last-name", "spelled so on the birth certificate")]);
    }

    #[test]
    fn check_ins_round_trip_as_json() {
        let check_in = CheckIn {
            appointment: appointment(),
            checked_in_at: "2026-11-22T09:05:00+03:30".into(),
            differences: vec![Difference {
                field: "last-name".into(),
                typed: "رضائی".into(),
                registered: "رضایی".into(),
                resolution: Some(Resolution::Kept {
                    reason: "as on the certificate".into(),
                    approved_by: Some("sara".into()),
                }),
            }],
        };
        let json = serde_json::to_string(&check_in).expect("json");
        assert!(
            json.contains(r#""resolution":"kept","reason":"as on the certificate""#),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<CheckIn>(&json).expect("parse"),
            check_in
        );
    }

    fn list(appointments: Vec<Appointment>) -> AppointmentList {
        AppointmentList {
            office: "TEH-12".into(),
            generated_at: "2026-11-22T06:00:00+03:30".into(),
            appointments,
        }
    }

    #[test]
    fn lists_are_checked_for_what_both_ends_rely_on() {
        let good = list(vec![
            test_appointment("140509010001", "0013542419"),
            test_appointment("140509010002", "0499370899"),
        ]);
        assert_eq!(good.validate(), Ok(()));
        assert_eq!(
            AppointmentList {
                office: " ".into(),
                ..good.clone()
            }
            .validate(),
            Err(ListError::NoOffice)
        );
        assert_eq!(
            AppointmentList {
                office: "../etc".into(),
                ..good.clone()
            }
            .validate(),
            Err(ListError::BadOffice("../etc".into()))
        );
        let persian_digits = list(vec![test_appointment("140509010001", "۰۰۱۳۵۴۲۴۱۹")]);
        assert_eq!(
            persian_digits.validate(),
            Err(ListError::BadNationalCode {
                index: 1,
                tracking_code: "140509010001".into()
            })
        );
        let short = list(vec![
            test_appointment("140509010001", "0013542419"),
            test_appointment("140509010002", "001354241"),
        ]);
        assert!(matches!(
            short.validate(),
            Err(ListError::BadNationalCode { index: 2, .. })
        ));
        let twice = list(vec![
            test_appointment("140509010001", "0013542419"),
            test_appointment("140509010001", "0499370899"),
        ]);
        assert_eq!(
            twice.validate(),
            Err(ListError::DuplicateTrackingCode("140509010001".into()))
        );
        let letters = list(vec![test_appointment("AB-1", "0013542419")]);
        assert!(matches!(
            letters.validate(),
            Err(ListError::BadTrackingCode { index: 1, .. })
        ));
        assert!(
            ListError::DuplicateTrackingCode("1".into())
                .to_string()
                .contains("more than once")
        );
    }

    #[test]
    fn queries_in_any_digits_with_separators_become_ascii() {
        assert_eq!(normalise_query("۰۰۱-۳۵۴۲۴۱-۹"), Some("0013542419".into()));
        assert_eq!(normalise_query("٠٠١٣٥٤٢٤١٩"), Some("0013542419".into()));
        assert_eq!(
            normalise_query(" 1405 0901 0001 "),
            Some("140509010001".into())
        );
        assert_eq!(normalise_query("001\u{2013}354"), Some("001354".into()));
        assert_eq!(normalise_query("زهرا"), None);
        assert_eq!(normalise_query(" - "), None);
        assert_eq!(normalise_query("12a4"), None);
    }
}
