//! The synthetic appointment list a demo intake serves: ten applicants for
//! today, 08:00 to 12:30 every 30 minutes, all four request types. Names
//! are made up; national codes have valid check digits; everyone is at
//! least 15; mobiles are `0912…`; postal codes have no 0 or 2 in their
//! first five digits; tracking codes are 12 ASCII digits (the Jalali date
//! `YYMMDD` and a serial), so each day's list has codes of its own.
//!
//! One appointment deliberately differs from what an operator would type
//! from the birth certificate: [`ZWNJ_VARIANT`], whose first name was
//! registered online as «محمد‌امین» with a zero-width non-joiner (U+200C)
//! where the document, and so the typed value, reads «محمدامین». The check-in
//! must show that difference and let the operator settle it.

use chrono::TimeZone;

use super::{Appointment, AppointmentList};
use crate::enrolment::national_code::check_digit;
use crate::enrolment::{JalaliDate, RequestType};

/// The position (from 0) in [`list`] of the appointment whose first name
/// carries a ZWNJ that the typed value will not.
pub const ZWNJ_VARIANT: usize = 7;

/// First name, last name, father's name, years before today, month, day,
/// the nine digits before the check digit, request type.
type Person = (
    &'static str,
    &'static str,
    &'static str,
    i32,
    u8,
    u8,
    [u8; 9],
    RequestType,
);

#[rustfmt::skip]
const PEOPLE: [Person; 10] = [
    (
        "زهرا",
        "احمدی",
        "علی",
        16,
        3,
        14,
        [0, 0, 1, 3, 5, 4, 2, 4, 1],
        RequestType::FirstCard,
    ),
    (
        "محمدرضا",
        "کریمی",
        "حسن",
        34,
        7,
        2,
        [0, 4, 9, 9, 3, 7, 0, 8, 9],
        RequestType::LostCard,
    ),
    (
        "فاطمه",
        "حسینی",
        "محمود",
        27,
        11,
        21,
        [1, 2, 7, 4, 4, 5, 1, 3, 8],
        RequestType::IdentityCorrection,
    ),
    (
        "امیرحسین",
        "رضایی",
        "مهدی",
        41,
        1,
        9,
        [2, 2, 8, 1, 9, 0, 6, 5, 3],
        RequestType::Replacement,
    ),
    (
        "مریم",
        "موسوی",
        "جواد",
        22,
        5,
        28,
        [3, 8, 6, 0, 1, 2, 5, 7, 4],
        RequestType::FirstCard,
    ),
    (
        "علی",
        "نوری",
        "رضا",
        58,
        9,
        17,
        [4, 3, 1, 5, 8, 6, 9, 2, 0],
        RequestType::LostCard,
    ),
    (
        "نرگس",
        "صادقی",
        "حمید",
        19,
        10,
        5,
        [0, 7, 5, 2, 6, 3, 8, 1, 9],
        RequestType::IdentityCorrection,
    ),
    // ZWNJ_VARIANT: registered online with a ZWNJ, typed without one.
    (
        "محمد\u{200C}امین",
        "جعفری",
        "یوسف",
        30,
        2,
        26,
        [5, 1, 9, 8, 2, 4, 3, 6, 7],
        RequestType::Replacement,
    ),
    (
        "سارا",
        "کاظمی",
        "ناصر",
        45,
        8,
        11,
        [6, 6, 2, 3, 7, 1, 4, 9, 5],
        RequestType::FirstCard,
    ),
    (
        "حسین",
        "مرادی",
        "اکبر",
        63,
        4,
        8,
        [1, 9, 3, 6, 0, 8, 7, 5, 2],
        RequestType::Replacement,
    ),
];

/// Postal codes: ten digits, no 0 or 2 among the first five.
const POSTAL_CODES: [&str; 10] = [
    "1345678901",
    "1458963210",
    "1563497820",
    "3419857602",
    "4135796028",
    "5317984206",
    "6143759820",
    "7158346902",
    "8193456720",
    "9134567802",
];

/// The demo list of `office` for `today` (local time), generated at `now`.
pub fn list(
    office: &str,
    today: chrono::NaiveDate,
    now: chrono::DateTime<chrono::Local>,
) -> AppointmentList {
    let jalali_today = {
        use chrono::Datelike;
        JalaliDate::from_gregorian((today.year(), today.month(), today.day()))
    };
    let date_code = format!(
        "{:02}{:02}{:02}",
        jalali_today.year.rem_euclid(100),
        jalali_today.month,
        jalali_today.day
    );
    let appointments = PEOPLE
        .iter()
        .zip(POSTAL_CODES)
        .enumerate()
        .map(|(i, (person, postal))| {
            let &(first, last, father, years, month, day, body, request_type) = person;
            let national_code: String = body
                .iter()
                .chain(std::iter::once(&check_digit(&body)))
                .map(|d| char::from(b'0' + d))
                .collect();
            // Months 1–11 and days up to 29 (all in the table) exist in
            // every Jalali year.
            let birth = JalaliDate::new(jalali_today.year - years, month, day).map_or_else(
                |_| format!("{}/01/01", jalali_today.year - years),
                JalaliDate::to_ascii,
            );
            let minutes = 8 * 60 + 30 * i as u32;
            let slot = today
                .and_hms_opt(minutes / 60, minutes % 60, 0)
                .unwrap_or_default();
            let appointment_at = chrono::Local
                .from_local_datetime(&slot)
                .earliest()
                .map_or_else(|| slot.and_utc().to_rfc3339(), |t| t.to_rfc3339());
            Appointment {
                tracking_code: format!("{date_code}{:06}", 100_001 + 1_013 * i),
                national_code,
                first_name: first.into(),
                last_name: last.into(),
                father_name: Some(father.into()),
                birth_date: birth,
                appointment_at,
                request_type,
                mobile: Some(format!("0912{:07}", 3_456_120 + 7_919 * i)),
                postal_code: Some(postal.into()),
            }
        })
        .collect();
    AppointmentList {
        office: office.into(),
        generated_at: now.to_rfc3339(),
        appointments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrolment::digits::normalise_text;
    use crate::enrolment::{applicant, national_code};

    #[test]
    fn the_demo_list_is_valid_for_today_and_has_exactly_one_zwnj_variant() {
        let now = chrono::Local::now();
        let today = now.date_naive();
        let demo = list("DEMO-OFFICE", today, now);
        assert_eq!(demo.validate(), Ok(()));
        assert_eq!(demo.appointments.len(), 10);
        let jalali_today = JalaliDate::today();
        for (i, a) in demo.appointments.iter().enumerate() {
            assert!(
                national_code::validate(&a.national_code).is_ok(),
                "{}",
                a.national_code
            );
            assert_eq!(a.tracking_code.len(), 12);
            let birth = JalaliDate::parse(&a.birth_date).expect("a Jalali date");
            assert!(birth.full_years_on(jalali_today) >= 15, "{}", a.birth_date);
            let mobile = a.mobile.as_deref().expect("mobile");
            assert!(mobile.starts_with("0912") && mobile.len() == 11);
            assert_eq!(applicant::normalise_mobile(mobile).as_deref(), Ok(mobile));
            let postal = a.postal_code.as_deref().expect("postal code");
            assert!(
                postal.len() == 10 && !postal[..5].contains(['0', '2']),
                "{postal}"
            );
            let at = chrono::DateTime::parse_from_rfc3339(&a.appointment_at).expect("RFC 3339");
            let local = at.with_timezone(&chrono::Local);
            assert_eq!(local.date_naive(), today);
            use chrono::Timelike;
            assert_eq!(local.hour() * 60 + local.minute(), 8 * 60 + 30 * i as u32);
            // Names are stored as an operator's typing would be normalised.
            assert_eq!(normalise_text(&a.first_name), a.first_name);
        }
        for kind in RequestType::ALL {
            assert!(demo.appointments.iter().any(|a| a.request_type == kind));
        }
        let with_zwnj: Vec<usize> = demo
            .appointments
            .iter()
            .enumerate()
            .filter(|(_, a)| a.first_name.contains('\u{200C}'))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(with_zwnj, [ZWNJ_VARIANT]);
        let tomorrow = list("DEMO-OFFICE", today.succ_opt().expect("a tomorrow"), now);
        assert_ne!(
            tomorrow.appointments[0].tracking_code, demo.appointments[0].tracking_code,
            "every day has its own tracking codes"
        );
    }
}
