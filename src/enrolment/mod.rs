//! The enrolment domain: who the applicant is, what was checked and
//! captured, and the session that carries it all to sealing. No UI here.

pub mod accommodations;
pub mod applicant;
pub mod birth_certificate;
pub mod digits;
pub mod documents;
pub mod draft;
pub mod fees;
pub mod jalali;
pub mod national_code;
pub mod phone;
pub mod portrait;
pub mod postal;
pub mod session;
pub mod tenprint;
pub mod tracking;

pub use accommodations::{Accommodation, Accommodations};
pub use applicant::{Applicant, ApplicantForm, Gender, PriorityGroup, RequestType, Rules};
pub use documents::{DocumentCheck, DocumentChecks};
pub use jalali::JalaliDate;
pub use session::{Portrait, Session, Step};
pub use tracking::TrackingCode;
