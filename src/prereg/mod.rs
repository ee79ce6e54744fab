//! Pre-registration: the office's appointment list from the authority, the
//! operator's check-in, and the differences between what the applicant
//! registered online and what the operator typed from the documents.
//!
//! No UI here. The list is synced from the intake's `GET /v1/appointments`
//! and cached encrypted in the station database (the `cache` module); a checked-in
//! appointment is consumed when its enrolment is sealed and can never be used
//! again.

use serde::{Deserialize, Serialize};

use crate::enrolment::RequestType;

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
