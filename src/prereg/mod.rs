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

use crate::enrolment::RequestType;
use crate::enrolment::digits::to_ascii_digits;

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
    /// so); the reason travels in the packet.
    Kept { reason: String },
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
            if !(1..=32).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn appointment(tracking_code: &str, national_code: &str) -> Appointment {
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
            appointment("140509010001", "0013542419"),
            appointment("140509010002", "0499370899"),
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
        let persian_digits = list(vec![appointment("140509010001", "۰۰۱۳۵۴۲۴۱۹")]);
        assert_eq!(
            persian_digits.validate(),
            Err(ListError::BadNationalCode {
                index: 1,
                tracking_code: "140509010001".into()
            })
        );
        let short = list(vec![
            appointment("140509010001", "0013542419"),
            appointment("140509010002", "001354241"),
        ]);
        assert!(matches!(
            short.validate(),
            Err(ListError::BadNationalCode { index: 2, .. })
        ));
        let twice = list(vec![
            appointment("140509010001", "0013542419"),
            appointment("140509010001", "0499370899"),
        ]);
        assert_eq!(
            twice.validate(),
            Err(ListError::DuplicateTrackingCode("140509010001".into()))
        );
        let letters = list(vec![appointment("AB-1", "0013542419")]);
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
