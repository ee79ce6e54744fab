//! The station's checks of its own Type-2 record (`docs/packet.md` §3.2):
//! what the reader's generic checks cannot know, because the standard
//! leaves the Type-2 to each domain. They run on every transaction whose
//! `1.013` DOM names ours ([`super::transaction::DOMAIN`]): when sealing,
//! whenever a packet is opened (`queue verify`, `queue open`, the intake)
//! and in `pishkhan an2k check`.
//!
//! The rules, field by field, for map versions 3 and 4 (map 4 added 2.017,
//! 2.020 and 2.041 as mandatory and 2.032, 2.043 and 2.044 as optional;
//! a map-3 record simply lacks them):
//!
//! - exactly one Type-2, with IDC 0 (the T2C of every image record);
//! - 2.003 the map version, 3 or 4;
//! - 2.010 ten ASCII digits (the check digit is not enforced: a supervisor
//!   may approve a national code that fails it, and 2.054 names them);
//! - 2.011–2.013, 2.017, 2.031, 2.051 not empty; 2.014 `F` or `M`;
//! - 2.015 a real Jalali date `YYYYMMDD`, 2.016 a real Gregorian date, and
//!   the same day;
//! - 2.020 number (1–10 digits) US series letter US series number (2
//!   digits) US serial (6 digits);
//! - 2.030 ten digits; 2.032 a landline and 2.033 a mobile as the form
//!   stores them; 2.040 and 2.041 known codes; 2.042 a tracking code whose
//!   check digits hold; 2.043 digits;
//! - 2.044 four items a subfield, the field name known;
//! - 2.050 office US station number US station id;
//! - 2.052 every document check exactly once, `Y` or `N`;
//! - 2.053 a GMT time stamp; 2.054 one name a subfield.

use pishkhan_an2k::{Date, Fields, Location, Problem, Record, Transaction};

use super::transaction::{DOMAIN, TYPE2_IDC, t2};
use crate::enrolment::birth_certificate::{
    check_number, check_serial, check_series_letter, check_series_number,
};
use crate::enrolment::jalali::JalaliDate;
use crate::enrolment::phone::{normalise_landline, normalise_mobile};
use crate::enrolment::postal::normalise_postal_code;
use crate::enrolment::{DocumentCheck, PriorityGroup, TrackingCode};

/// The field map versions this station reads.
pub const MAPS: [u16; 2] = [3, 4];
const REQUEST_CODES: [&str; 4] = ["FIRST", "LOST", "CORRECTION", "REPLACEMENT"];
const DIFFERENCE_FIELDS: [&str; 8] = [
    "national-code",
    "first-name",
    "last-name",
    "father-name",
    "birth-date",
    "request-type",
    "mobile",
    "postal-code",
];

/// Whether `tx` is one of ours: its Type-1 DOM names our domain.
pub fn is_ours(tx: &Transaction) -> bool {
    tx.records
        .first()
        .filter(|r| r.kind == 1)
        .and_then(|r| r.get(13))
        .and_then(pishkhan_an2k::Value::first)
        == Some(DOMAIN.0)
}

/// The first of [`problems`], if any.
pub fn check(tx: &Transaction) -> Result<(), Problem> {
    problems(tx).into_iter().next().map_or(Ok(()), Err)
}

/// Every problem of the Type-2 of one of our transactions, in field order;
/// none for a transaction of another domain.
pub fn problems(tx: &Transaction) -> Vec<Problem> {
    if !is_ours(tx) {
        return Vec::new();
    }
    let type2: Vec<(usize, &Record)> = tx
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.kind == 2)
        .map(|(i, r)| (i + 1, r))
        .collect();
    match type2.as_slice() {
        [] => vec![Problem {
            at: Location::record(1, 1),
            what: format!("a {} transaction needs its Type-2 record", DOMAIN.0),
        }],
        [(index, record)] => {
            let mut check = Check {
                fields: Fields::new(record, *index),
                out: Vec::new(),
            };
            check.all();
            check.out
        }
        [_, (index, _), ..] => vec![Problem {
            at: Location::record(*index, 2),
            what: "only one Type-2 record is allowed".into(),
        }],
    }
}

/// The Type-2's fields (the reader's accessors) and the problems found.
struct Check<'a> {
    fields: Fields<'a>,
    out: Vec<Problem>,
}

impl<'a> Check<'a> {
    fn at(&self, tag: u16) -> Location {
        self.fields.at(tag)
    }

    fn problem(&mut self, at: Location, what: impl Into<String>) {
        let problem = self.fields.problem(at, what);
        self.out.push(problem);
    }

    /// Keeps the value, or records the problem.
    fn note<T>(&mut self, result: Result<T, Problem>) -> Option<T> {
        result.map_err(|p| self.out.push(p)).ok()
    }

    /// The subfields of field `tag`; `None` (and a problem when
    /// `required`) when it is absent.
    fn subfields(&mut self, tag: u16, required: bool) -> Option<&'a [Vec<String>]> {
        let found = self.note(self.fields.subfields(tag))?;
        if found.is_none() && required {
            self.problem(self.at(tag), "mandatory field missing");
        }
        found
    }

    /// Field `tag` as one value of one item.
    fn single(&mut self, tag: u16, required: bool) -> Option<&'a str> {
        if required {
            self.note(self.fields.required(tag))
        } else {
            self.note(self.fields.single(tag)).flatten()
        }
    }

    /// Field `tag` as one value that must pass `rule` (which says what is
    /// wrong).
    fn value(&mut self, tag: u16, required: bool, rule: impl Fn(&str) -> Result<(), String>) {
        if let Some(value) = self.single(tag, required)
            && let Err(why) = rule(value)
        {
            self.problem(self.at(tag), why);
        }
    }

    /// Field `tag`: subfields of exactly `items` items each, each item
    /// passing `rule(subfield, item number, value)`.
    fn items(
        &mut self,
        tag: u16,
        required: bool,
        items: usize,
        rule: impl Fn(usize, &str) -> Result<(), String>,
    ) -> Vec<&'a [String]> {
        let Some(subfields) = self.subfields(tag, required) else {
            return Vec::new();
        };
        let mut good = Vec::new();
        for (s, subfield) in subfields.iter().enumerate() {
            let at = self.at(tag).subfield(s + 1);
            if subfield.len() != items {
                let what = format!("expected {items} item(s), found {}", subfield.len());
                self.problem(at, what);
                continue;
            }
            let before = self.out.len();
            for (i, value) in subfield.iter().enumerate() {
                if let Err(why) = rule(i + 1, value) {
                    self.problem(at.clone().item(i + 1), why);
                }
            }
            if self.out.len() == before {
                good.push(subfield.as_slice());
            }
        }
        good
    }

    fn all(&mut self) {
        if self.fields.record.idc() != Some(TYPE2_IDC) {
            let what =
                format!("the Type-2 must have IDC {TYPE2_IDC}, which the image records' T2C name");
            self.problem(self.at(2), what);
        }
        let map = self.single(3, true);
        let map = match map.and_then(|m| m.parse::<u16>().ok()) {
            Some(m) if MAPS.contains(&m) && map == Some(&m.to_string()) => m,
            _ => {
                if let Some(m) = map {
                    self.problem(
                        self.at(3),
                        format!("field map version {m:?} is not one of {MAPS:?}"),
                    );
                }
                // Check against the newest map.
                t2::MAP
            }
        };
        let map4 = map >= 4;

        self.value(t2::NATIONAL_CODE, true, |v| {
            digits(v, 10, 10).map_err(|e| format!("the national code {e}"))
        });
        for tag in [t2::FIRST_NAME, t2::LAST_NAME, t2::FATHER_NAME] {
            self.value(tag, true, not_empty);
        }
        self.value(t2::GENDER, true, |v| one_of(v, &["F", "M"], "gender"));
        self.birth_dates();
        self.value(t2::PLACE_OF_BIRTH, map4, not_empty);
        self.items(t2::BIRTH_CERTIFICATE, map4, 4, |item, v| {
            let (rule, name): (fn(&str) -> Result<String, _>, _) = match item {
                1 => (check_number, "number (1–10 digits)"),
                2 => (check_series_letter, "series letter"),
                3 => (check_series_number, "series number (2 digits)"),
                _ => (check_serial, "serial (6 digits)"),
            };
            stored_as(v, rule(v).ok(), &format!("birth certificate {name}"))
        });
        self.value(t2::POSTAL_CODE, true, |v| {
            stored_as(v, normalise_postal_code(v).ok(), "postal code (10 digits)")
        });
        self.value(t2::ADDRESS, true, not_empty);
        self.value(t2::LANDLINE, false, |v| {
            stored_as(
                v,
                normalise_landline(v).ok(),
                "landline (0, area code, 8 digits)",
            )
        });
        self.value(t2::MOBILE, true, |v| {
            stored_as(v, normalise_mobile(v).ok(), "mobile (09 and 9 digits)")
        });
        self.value(t2::REQUEST_TYPE, true, |v| {
            one_of(v, &REQUEST_CODES, "request type")
        });
        let groups = PriorityGroup::ALL.map(PriorityGroup::code);
        self.value(t2::PRIORITY_GROUP, map4, |v| {
            one_of(v, &groups, "priority group")
        });
        self.value(t2::TRACKING_CODE, true, |v| {
            let parsed = TrackingCode::parse(v).map(|t| t.as_str().to_owned());
            stored_as(v, parsed, "tracking code (16 digits, check digits holding)")
        });
        self.value(t2::PREREGISTRATION, false, |v| {
            digits(v, 1, 20).map_err(|e| format!("the pre-registration code {e}"))
        });
        self.items(t2::DIFFERENCES_KEPT, false, 4, |item, v| match item {
            1 => one_of(v, &DIFFERENCE_FIELDS, "difference field"),
            4 => not_empty(v).map_err(|_| "a kept difference needs its reason".into()),
            _ => Ok(()),
        });
        self.items(t2::OFFICE, true, 3, |item, v| match item {
            2 => digits(v, 1, 4).map_err(|e| format!("the station number {e}")),
            _ => not_empty(v),
        });
        self.value(t2::OPERATOR, true, not_empty);
        self.document_checks();
        self.value(t2::STARTED, true, pishkhan_an2k::check_gmt);
        self.items(t2::SUPERVISORS, false, 1, |_, v| not_empty(v));
    }

    /// 2.015 and 2.016: each a real date, and the same day.
    fn birth_dates(&mut self) {
        let jalali = self.single(t2::BIRTH_DATE_JALALI, true);
        let jalali = jalali.and_then(|v| match jalali_date(v) {
            Ok(d) => Some(d),
            Err(why) => {
                self.problem(self.at(t2::BIRTH_DATE_JALALI), why);
                None
            }
        });
        let gregorian = self.single(t2::BIRTH_DATE_GREGORIAN, true);
        let gregorian = gregorian.and_then(|v| match Date::parse(v) {
            Ok(d) => Some(d),
            Err(why) => {
                self.problem(self.at(t2::BIRTH_DATE_GREGORIAN), why);
                None
            }
        });
        if let (Some(j), Some(g)) = (jalali, gregorian) {
            let (y, m, d) = j.to_gregorian();
            let same = i32::from(g.year) == y && u32::from(g.month) == m && u32::from(g.day) == d;
            if !same {
                let what = format!(
                    "the Gregorian birth date {g} is not the Jalali {} (that is {y:04}{m:02}{d:02})",
                    j.to_ascii().replace('/', "")
                );
                self.problem(self.at(t2::BIRTH_DATE_GREGORIAN), what);
            }
        }
    }

    /// 2.052: every check once, `Y` or `N`.
    fn document_checks(&mut self) {
        let codes: Vec<String> = DocumentCheck::ALL
            .iter()
            .map(|c| super::transaction::document_code(*c))
            .collect();
        let known: Vec<&str> = codes.iter().map(String::as_str).collect();
        let present = self.items(t2::DOCUMENT_CHECKS, true, 2, |item, v| match item {
            1 => one_of(v, &known, "document check"),
            _ => one_of(v, &["Y", "N"], "document check result"),
        });
        if self.fields.record.get(t2::DOCUMENT_CHECKS).is_none() {
            return;
        }
        for code in &known {
            let times = present.iter().filter(|s| s[0] == *code).count();
            if times != 1 {
                let what = format!("document check {code} appears {times} times, not once");
                self.problem(self.at(t2::DOCUMENT_CHECKS), what);
            }
        }
    }
}

fn not_empty(v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(())
    }
}

fn one_of(v: &str, codes: &[&str], what: &str) -> Result<(), String> {
    if codes.contains(&v) {
        Ok(())
    } else {
        Err(format!(
            "{v:?} is not a {what}: one of {}",
            codes.join(", ")
        ))
    }
}

/// `v` is `min` to `max` ASCII digits; the error completes "the … ".
fn digits(v: &str, min: usize, max: usize) -> Result<(), String> {
    if (min..=max).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else if min == max {
        Err(format!("{v:?} is not {min} ASCII digits"))
    } else {
        Err(format!("{v:?} is not {min} to {max} ASCII digits"))
    }
}

/// `v` is what the form stores: `checked` (the form's own rule applied to
/// `v`) accepted it and left it unchanged.
fn stored_as(v: &str, checked: Option<String>, what: &str) -> Result<(), String> {
    if checked.as_deref() == Some(v) {
        Ok(())
    } else {
        Err(format!("{v:?} is not a {what}"))
    }
}

fn jalali_date(v: &str) -> Result<JalaliDate, String> {
    let parsed = (v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()))
        .then(|| {
            JalaliDate::new(
                v[..4].parse().ok()?,
                v[4..6].parse().ok()?,
                v[6..].parse().ok()?,
            )
            .ok()
        })
        .flatten();
    parsed.ok_or_else(|| format!("{v:?} is not a Jalali date YYYYMMDD"))
}

#[cfg(test)]
mod tests {
    use pishkhan_an2k::Value;

    use super::*;

    /// A Type-1 naming our domain and a map-4 Type-2 as the station
    /// writes it (the example of `docs/packet.md` §3.2).
    fn ours() -> Transaction {
        let mut type1 = Record::new(1);
        type1.push(2, Value::item("0502"));
        type1.push(13, Value::items([DOMAIN.0, DOMAIN.1]));
        let mut r = Record::new(2);
        r.push(2, Value::item("0"));
        r.push(3, Value::item("4"));
        r.push(t2::NATIONAL_CODE, Value::item("0790419904"));
        r.push(t2::FIRST_NAME, Value::item("مریم"));
        r.push(t2::LAST_NAME, Value::item("کریمی‌نژاد"));
        r.push(t2::FATHER_NAME, Value::item("علی"));
        r.push(t2::GENDER, Value::item("F"));
        r.push(t2::BIRTH_DATE_JALALI, Value::item("13850631"));
        r.push(t2::BIRTH_DATE_GREGORIAN, Value::item("20060922"));
        r.push(t2::PLACE_OF_BIRTH, Value::item("اصفهان"));
        r.push(
            t2::BIRTH_CERTIFICATE,
            Value::items(["0790419904", "ج", "12", "345678"]),
        );
        r.push(t2::POSTAL_CODE, Value::item("1345113456"));
        r.push(t2::ADDRESS, Value::item("اصفهان، خیابان چهارباغ"));
        r.push(t2::LANDLINE, Value::item("03132221111"));
        r.push(t2::MOBILE, Value::item("09123456789"));
        r.push(t2::REQUEST_TYPE, Value::item("FIRST"));
        r.push(t2::PRIORITY_GROUP, Value::item("NONE"));
        r.push(
            t2::TRACKING_CODE,
            Value::item(TrackingCode::new(1405, 1, 42).as_str()),
        );
        r.push(t2::OFFICE, Value::items(["دفتر ۱۲", "1", "station-a"]));
        r.push(t2::OPERATOR, Value::item("reza"));
        r.push(
            t2::DOCUMENT_CHECKS,
            Value::subfields(
                DocumentCheck::ALL
                    .iter()
                    .map(|c| vec![super::super::transaction::document_code(*c), "Y".into()]),
            ),
        );
        r.push(t2::STARTED, Value::item("20261122083000Z"));
        Transaction {
            records: vec![type1, r],
        }
    }

    /// `ours()` with field `tag` of the Type-2 set to `value` (or removed).
    fn with(tag: u16, value: Option<Value>) -> Transaction {
        let mut tx = ours();
        let r = &mut tx.records[1];
        r.fields.retain(|f| f.tag != tag);
        if let Some(value) = value {
            r.push(tag, value);
        }
        tx
    }

    fn first(tx: &Transaction) -> String {
        check(tx).expect_err("a problem").to_string()
    }

    #[test]
    fn the_station_s_own_type2_passes_and_other_domains_are_not_judged() {
        assert_eq!(problems(&ours()), vec![]);
        let mut foreign = ours();
        foreign.records[0].fields.retain(|f| f.tag != 13);
        foreign.records[1]
            .fields
            .retain(|f| f.tag != t2::NATIONAL_CODE);
        assert!(!is_ours(&foreign));
        assert_eq!(problems(&foreign), vec![]);
    }

    #[test]
    fn each_field_s_rule_names_the_field_and_the_value() {
        let cases: [(u16, Option<&str>, &str); 14] = [
            (3, Some("5"), "field map version \"5\""),
            (
                t2::NATIONAL_CODE,
                Some("079041990"),
                "\"079041990\" is not 10 ASCII digits",
            ),
            (
                t2::NATIONAL_CODE,
                Some("۰۷۹۰۴۱۹۹۰۴"),
                "is not 10 ASCII digits",
            ),
            (t2::FIRST_NAME, None, "mandatory field missing"),
            (t2::GENDER, Some("X"), "\"X\" is not a gender"),
            (
                t2::BIRTH_DATE_JALALI,
                Some("13851231"),
                "is not a Jalali date",
            ),
            (
                t2::BIRTH_DATE_GREGORIAN,
                Some("20060923"),
                "is not the Jalali 13850631 (that is 20060922)",
            ),
            (
                t2::BIRTH_DATE_GREGORIAN,
                Some("20060231"),
                "day 31 out of range",
            ),
            (t2::POSTAL_CODE, Some("134511345"), "is not a postal code"),
            (t2::MOBILE, Some("9123456789"), "is not a mobile"),
            (
                t2::REQUEST_TYPE,
                Some("RENEW"),
                "\"RENEW\" is not a request type",
            ),
            (t2::PRIORITY_GROUP, None, "mandatory field missing"),
            (
                t2::TRACKING_CODE,
                Some("1405000100042999"),
                "is not a tracking code",
            ),
            (
                t2::STARTED,
                Some("20261122243000Z"),
                "time 24:30:00 out of range",
            ),
        ];
        for (tag, value, expected) in cases {
            let tx = with(tag, value.map(Value::item));
            let found = first(&tx);
            assert!(
                found.contains(&format!("2.{tag:03}")) && found.contains(expected),
                "2.{tag:03} = {value:?}: {found}"
            );
        }
    }

    #[test]
    fn items_are_checked_where_they_stand() {
        let bc = with(
            t2::BIRTH_CERTIFICATE,
            Some(Value::items(["0790419904", "ج", "12", "34567"])),
        );
        let found = first(&bc);
        assert!(found.contains("serial (6 digits)"), "{found}");
        let short = with(t2::OFFICE, Some(Value::items(["دفتر", "1"])));
        assert!(first(&short).contains("expected 3 item(s), found 2"));
        let mut twice = ours();
        let checks = twice.records[1].get(t2::DOCUMENT_CHECKS).cloned().unwrap();
        let mut subfields = checks.as_text().unwrap().to_vec();
        subfields[1] = subfields[0].clone();
        twice.records[1]
            .fields
            .retain(|f| f.tag != t2::DOCUMENT_CHECKS);
        twice.records[1].push(t2::DOCUMENT_CHECKS, Value::Text(subfields));
        let found = problems(&twice)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("birth-certificate-original appears 2 times"));
        assert!(found[1].contains("photo-matches-person appears 0 times"));
    }

    #[test]
    fn a_map3_record_lacks_the_map4_fields_and_still_passes() {
        let mut tx = ours();
        let r = &mut tx.records[1];
        r.fields.retain(|f| {
            ![
                3,
                t2::PLACE_OF_BIRTH,
                t2::BIRTH_CERTIFICATE,
                t2::PRIORITY_GROUP,
                t2::LANDLINE,
            ]
            .contains(&f.tag)
        });
        r.push(3, Value::item("3"));
        assert_eq!(problems(&tx), vec![]);
        tx.records[1].fields.retain(|f| f.tag != 3);
        tx.records[1].push(3, Value::item("4"));
        assert!(first(&tx).contains("2.017"));
    }

    #[test]
    fn the_type2_must_be_there_once_with_idc_0() {
        let mut none = ours();
        none.records.pop();
        assert!(first(&none).contains("needs its Type-2"));
        let mut two = ours();
        two.records.push(two.records[1].clone());
        assert!(first(&two).contains("only one Type-2"));
        let idc = with(2, Some(Value::item("3")));
        assert!(first(&idc).contains("IDC 0"));
    }
}
