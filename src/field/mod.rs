//! Field work of a mobile team: the visit list the team takes along, and
//! the record of each visit.
//!
//! Civil registration sends teams with a laptop kit to applicants with
//! mobility disabilities, at home or in care homes. Before leaving, the
//! station fetches the team's [`VisitList`] from the intake
//! (`GET /v1/visits?team=`, [`sync`]) and keeps it sealed in its database
//! ([`cache`]), so the route is there without a network for days. Each
//! visit ends with a [`VisitRecord`] (enrolled, not home, refused,
//! rescheduled; where, when available), sealed and queued like an
//! enrolment packet ([`record`], format `pishkhan-field/1`): it travels
//! through the same outbox, upload, acknowledgement and removable-media
//! export, and the intake keeps each record exactly once.
//!
//! No UI here.

pub mod cache;
pub mod handover;
pub mod locate;
pub mod record;
pub mod station;
pub mod sync;

use serde::{Deserialize, Serialize};

use crate::enrolment::digits::to_ascii_digits;
use crate::enrolment::{JalaliDate, RequestType};

/// What a visit is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VisitKind {
    /// Take the applicant's request: an enrolment.
    Enrolment,
    /// Hand over a card, after a fingerprint check.
    Handover,
}

/// An accommodation noted when the visit was requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    /// Seated (wheelchair, bed edge): the portrait is taken lower.
    Seated,
    /// Lying down.
    LyingDown,
    /// A carer is present and may help.
    Carer,
    /// Some fingers cannot be placed on the scanner.
    FingersCannotBePlaced,
    /// The applicant cannot sign.
    NoSignature,
}

impl Need {
    pub const ALL: [Need; 5] = [
        Need::Seated,
        Need::LyingDown,
        Need::Carer,
        Need::FingersCannotBePlaced,
        Need::NoSignature,
    ];

    /// Translation id of the need's name.
    pub fn text_id(self) -> &'static str {
        match self {
            Need::Seated => "need-seated",
            Need::LyingDown => "need-lying-down",
            Need::Carer => "need-carer",
            Need::FingersCannotBePlaced => "need-fingers",
            Need::NoSignature => "need-no-signature",
        }
    }
}

/// One visit on a team's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    /// The authority's id of the visit (ASCII letters, digits, `-`).
    pub id: String,
    pub kind: VisitKind,
    /// The day of the visit, Jalali `YYYY/MM/DD` (ASCII digits).
    pub day: String,
    /// The visit's place in the day's route (1 first).
    pub order: u32,
    pub first_name: String,
    pub last_name: String,
    /// Ten ASCII digits, as registered.
    pub national_code: String,
    /// Jalali `YYYY/MM/DD`, ASCII digits.
    pub birth_date: String,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<Need>,
    /// What was noted at request time ("ring twice; the carer opens").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For an enrolment: the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_type: Option<RequestType>,
    /// For a handover: the tracking code of the enrolment whose card is
    /// handed over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
    /// For a handover: the applicant's enrolled fingerprint templates,
    /// added by the intake when it serves the list (never in the
    /// authority's file; `None` while the enrolment has not reached the
    /// intake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolled: Option<handover::EnrolledPrints>,
}

/// The list the intake serves for one team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitList {
    /// The team's code (ASCII letters, digits, `-`, `_`).
    pub team: String,
    /// The office the team works for.
    pub office: String,
    /// When the intake produced the list, RFC 3339.
    pub generated_at: String,
    pub visits: Vec<Visit>,
}

/// The longest free text a visit or record carries.
pub const MAX_TEXT_CHARS: usize = 500;
/// The most visits one list may hold.
pub const MAX_VISITS: usize = 5000;

/// A team or visit id: 1–64 ASCII letters, digits, `-`, `_`.
pub fn check_id(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "{what} {id:?} is not 1–64 ASCII letters, digits, '-' or '_'"
        ));
    }
    Ok(())
}

pub(crate) fn check_text(what: &str, text: &str, required: bool) -> Result<(), String> {
    if required && text.trim().is_empty() {
        return Err(format!("{what} is empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(format!(
            "{what} is longer than {MAX_TEXT_CHARS} characters or holds control characters"
        ));
    }
    Ok(())
}

fn check_date(what: &str, date: &str) -> Result<JalaliDate, String> {
    JalaliDate::parse(date).map_err(|e| format!("{what} {date:?}: {e}"))
}

impl Visit {
    /// Checks what serde cannot; the message names the field.
    pub fn check(&self) -> Result<(), String> {
        check_id("the visit id", &self.id)?;
        let at = |e: String| format!("visit {}: {e}", self.id);
        check_date("the day", &self.day).map_err(at)?;
        check_date("the birth date", &self.birth_date).map_err(at)?;
        if self.national_code.len() != 10 || !self.national_code.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(at(format!(
                "the national code {:?} is not ten digits",
                self.national_code
            )));
        }
        check_text("the first name", &self.first_name, true).map_err(at)?;
        check_text("the last name", &self.last_name, true).map_err(at)?;
        check_text("the address", &self.address, true).map_err(at)?;
        if let Some(note) = &self.note {
            check_text("the note", note, false).map_err(at)?;
        }
        if let Some(phone) = &self.phone {
            check_text("the phone", phone, false).map_err(at)?;
        }
        match (self.kind, &self.tracking_code) {
            (VisitKind::Handover, None) => Err(at("a handover without a tracking code".into())),
            (VisitKind::Handover, Some(code))
                if crate::enrolment::TrackingCode::parse(code).is_none() =>
            {
                Err(at(format!("{code:?} is not a tracking code")))
            }
            _ => Ok(()),
        }
    }

    /// The applicant's name as shown on the route.
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

impl VisitList {
    /// Checks the list as received: the team and office, every visit, and
    /// that no visit id repeats.
    pub fn check(&self) -> Result<(), String> {
        check_id("the team", &self.team)?;
        crate::status::check_office(&self.office)?;
        chrono::DateTime::parse_from_rfc3339(&self.generated_at)
            .map_err(|e| format!("generated_at {:?}: {e}", self.generated_at))?;
        if self.visits.len() > MAX_VISITS {
            return Err(format!(
                "{} visits; a list holds at most {MAX_VISITS}",
                self.visits.len()
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for visit in &self.visits {
            visit.check()?;
            if !seen.insert(visit.id.as_str()) {
                return Err(format!("visit {} is listed twice", visit.id));
            }
        }
        Ok(())
    }

    /// The visit with this id.
    pub fn find(&self, id: &str) -> Option<&Visit> {
        self.visits.iter().find(|v| v.id == id)
    }

    /// The route of `day`, in order (visits of other days are left out).
    pub fn route(&self, day: JalaliDate) -> Vec<&Visit> {
        let mut route: Vec<&Visit> = self
            .visits
            .iter()
            .filter(|v| JalaliDate::parse(&v.day).ok() == Some(day))
            .collect();
        route.sort_by_key(|v| (v.order, v.id.clone()));
        route
    }
}

/// How a visit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The applicant was enrolled (the record names the packet).
    Enrolled,
    /// The card was handed over (after the fingerprint check).
    HandedOver,
    /// Nobody opened.
    NotHome,
    /// The applicant or family declined.
    Refused,
    /// Another day was agreed.
    Rescheduled,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Enrolled,
        Outcome::HandedOver,
        Outcome::NotHome,
        Outcome::Refused,
        Outcome::Rescheduled,
    ];

    /// The stable code, as in records and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Enrolled => "enrolled",
            Outcome::HandedOver => "handed-over",
            Outcome::NotHome => "not-home",
            Outcome::Refused => "refused",
            Outcome::Rescheduled => "rescheduled",
        }
    }

    pub fn parse(code: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.code() == code)
    }

    /// Translation id of the outcome's name.
    pub fn text_id(self) -> &'static str {
        match self {
            Outcome::Enrolled => "visit-enrolled",
            Outcome::HandedOver => "visit-handed-over",
            Outcome::NotHome => "visit-not-home",
            Outcome::Refused => "visit-refused",
            Outcome::Rescheduled => "visit-rescheduled",
        }
    }
}

/// Where a location came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum LocationSource {
    /// A fix of the kit's GPS receiver.
    Gps {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        satellites: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hdop: Option<f32>,
        /// The fix's UTC time, RFC 3339.
        fixed_at: String,
    },
    /// Typed by the operator (read off a phone's map, say).
    Manual,
}

/// Where a visit took place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Degrees, WGS 84, north positive.
    pub latitude: f64,
    /// Degrees, WGS 84, east positive.
    pub longitude: f64,
    #[serde(flatten)]
    pub source: LocationSource,
}

impl Location {
    pub fn check(&self) -> Result<(), String> {
        if !(self.latitude.is_finite() && (-90.0..=90.0).contains(&self.latitude)) {
            return Err(format!("latitude {} is not within ±90°", self.latitude));
        }
        if !(self.longitude.is_finite() && (-180.0..=180.0).contains(&self.longitude)) {
            return Err(format!("longitude {} is not within ±180°", self.longitude));
        }
        Ok(())
    }

    /// A location typed as `lat, lon` (any digits; `٫` or `.` as the
    /// decimal point; a comma, `،` or spaces between).
    pub fn parse_manual(input: &str) -> Result<Location, String> {
        let ascii = to_ascii_digits(input.trim()).replace('\u{066B}', ".");
        let parts: Vec<&str> = ascii
            .split(|c: char| c == ',' || c == '\u{060C}' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .collect();
        let [lat, lon] = parts.as_slice() else {
            return Err(format!("{input:?} is not \"latitude, longitude\""));
        };
        let number = |s: &str| {
            s.parse::<f64>()
                .map_err(|_| format!("{s:?} is not a number of degrees"))
        };
        let location = Location {
            latitude: number(lat)?,
            longitude: number(lon)?,
            source: LocationSource::Manual,
        };
        location.check()?;
        Ok(location)
    }
}

/// What the team recorded about one visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitRecord {
    pub visit_id: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// `enrolled`: the packet of the enrolment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packet_id: Option<String>,
    /// `enrolled`: its tracking code; `handed-over`: the card's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
    /// `rescheduled`: the agreed day, Jalali `YYYY/MM/DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescheduled_to: Option<String>,
}

impl VisitRecord {
    /// Checks the record on its own (that its visit and packet exist is
    /// the station's check).
    pub fn check(&self) -> Result<(), String> {
        check_id("the visit id", &self.visit_id)?;
        if let Some(note) = &self.note {
            check_text("the note", note, false)?;
        }
        if let Some(location) = &self.location {
            location.check()?;
        }
        if self.outcome != Outcome::Enrolled && self.packet_id.is_some() {
            return Err("only an enrolled visit names a packet".into());
        }
        match self.outcome {
            Outcome::Enrolled if self.packet_id.is_none() => {
                Err("an enrolled visit names its packet".into())
            }
            Outcome::Rescheduled => match &self.rescheduled_to {
                Some(day) => check_date("the new day", day).map(|_| ()),
                None => Err("a rescheduled visit names the new day".into()),
            },
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn visit(id: &str, order: u32) -> Visit {
        Visit {
            id: id.into(),
            kind: VisitKind::Enrolment,
            day: "1405/09/02".into(),
            order,
            first_name: "مریم".into(),
            last_name: "کریمی".into(),
            national_code: "0790419904".into(),
            birth_date: "1385/06/31".into(),
            address: "تهران، خیابان آزادی، پلاک ۱۲".into(),
            phone: Some("02166001234".into()),
            needs: vec![Need::Seated, Need::Carer],
            note: None,
            request_type: Some(RequestType::FirstCard),
            tracking_code: None,
            enrolled: None,
        }
    }

    fn list(visits: Vec<Visit>) -> VisitList {
        VisitList {
            team: "TEH-M1".into(),
            office: "TEH-17".into(),
            generated_at: "2026-11-22T06:00:00Z".into(),
            visits,
        }
    }

    #[test]
    fn a_list_is_checked_visit_by_visit_and_names_the_fault() {
        assert!(list(vec![visit("V1", 2), visit("V2", 1)]).check().is_ok());
        let e = list(vec![visit("V1", 1), visit("V1", 2)])
            .check()
            .expect_err("twice");
        assert!(e.contains("V1 is listed twice"), "{e}");
        let mut bad = visit("V3", 1);
        bad.national_code = "079041990".into();
        let e = list(vec![bad]).check().expect_err("nine digits");
        assert!(e.contains("visit V3") && e.contains("ten digits"), "{e}");
        let mut handover = visit("V4", 1);
        handover.kind = VisitKind::Handover;
        assert!(list(vec![handover.clone()]).check().is_err(), "no code");
        handover.tracking_code = Some(
            crate::enrolment::TrackingCode::new(1405, 3, 9)
                .as_str()
                .into(),
        );
        assert!(list(vec![handover]).check().is_ok());
        let mut bad = list(vec![visit("V5", 1)]);
        bad.team = "تیم".into();
        assert!(bad.check().expect_err("ASCII").contains("team"));
    }

    #[test]
    fn the_route_is_the_days_visits_in_order() {
        let mut other_day = visit("V9", 1);
        other_day.day = "1405/09/03".into();
        let l = list(vec![visit("V2", 2), other_day, visit("V1", 1)]);
        let day = JalaliDate::parse("1405/09/02").expect("date");
        let ids: Vec<&str> = l.route(day).iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, ["V1", "V2"]);
    }

    #[test]
    fn a_manual_location_is_read_in_any_digits() {
        let l = Location::parse_manual("۳۵٫۶۸۹۲، ۵۱٫۳۸۹").expect("Persian");
        assert_eq!((l.latitude, l.longitude), (35.6892, 51.389));
        assert_eq!(l.source, LocationSource::Manual);
        assert!(Location::parse_manual("35.7 51.4").is_ok());
        assert!(
            Location::parse_manual("95, 51")
                .expect_err("range")
                .contains("latitude")
        );
        assert!(Location::parse_manual("35.7").is_err());
        assert!(Location::parse_manual("north, east").is_err());
    }

    #[test]
    fn a_record_carries_what_its_outcome_needs() {
        let mut r = VisitRecord {
            visit_id: "V1".into(),
            outcome: Outcome::Enrolled,
            note: None,
            location: None,
            packet_id: None,
            tracking_code: None,
            rescheduled_to: None,
        };
        assert!(r.check().is_err(), "enrolled without its packet");
        r.packet_id = Some("0190f0b4-0000-7000-8000-000000000000".into());
        assert!(r.check().is_ok());
        r.outcome = Outcome::NotHome;
        assert!(r.check().is_err(), "only an enrolment names a packet");
        r.packet_id = None;
        r.outcome = Outcome::Rescheduled;
        assert!(r.check().is_err(), "rescheduled without a day");
        r.rescheduled_to = Some("1405/09/10".into());
        assert!(r.check().is_ok());
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.code()), Some(outcome));
        }
    }
}
