//! Reading field values with precise problems: shared by the semantic
//! checks and the typed records.

use std::str::FromStr;

use crate::{Date, Location, Problem, Record, Value};

/// A number written as 1 to 9 decimal digits (no sign, no spaces).
pub fn digits<T: FromStr>(s: &str) -> Option<T> {
    let ok = (1..=9).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| s.parse().ok()).flatten()
}

/// Whether `s` is four hexadecimal digits (a QAV vendor ID).
pub fn hex4(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A record being read: field accessors that report problems located in
/// record `index` (0 for a record read on its own).
pub struct Fields<'a> {
    pub record: &'a Record,
    pub index: usize,
}

impl<'a> Fields<'a> {
    pub fn new(record: &'a Record, index: usize) -> Self {
        Fields { record, index }
    }

    pub fn at(&self, tag: u16) -> Location {
        Location::field(self.index, self.record.kind, tag)
    }

    pub fn problem(&self, at: Location, what: impl Into<String>) -> Problem {
        Problem {
            at,
            what: what.into(),
        }
    }

    pub fn has(&self, tag: u16) -> bool {
        self.record.get(tag).is_some()
    }

    /// The subfields of text field `tag`, if present.
    pub fn subfields(&self, tag: u16) -> Result<Option<&'a [Vec<String>]>, Problem> {
        match self.record.get(tag) {
            None => Ok(None),
            Some(Value::Text(s)) => Ok(Some(s)),
            Some(Value::Binary(_)) => {
                Err(self.problem(self.at(tag), "binary data in a text field"))
            }
        }
    }

    /// Field `tag` as one plain value (one subfield of one item), if present.
    pub fn single(&self, tag: u16) -> Result<Option<&'a str>, Problem> {
        match self.subfields(tag)? {
            None => Ok(None),
            Some([items]) if items.len() == 1 => Ok(Some(&items[0])),
            Some(s) => Err(self.problem(
                self.at(tag),
                format!(
                    "expected a single value, found {} subfield(s) of {} item(s)",
                    s.len(),
                    s.iter().map(Vec::len).max().unwrap_or(0)
                ),
            )),
        }
    }

    /// Field `tag` as one plain value; a problem when it is missing.
    pub fn required(&self, tag: u16) -> Result<&'a str, Problem> {
        self.single(tag)?
            .ok_or_else(|| self.problem(self.at(tag), "mandatory field missing"))
    }

    /// Like [`Fields::required`], and the value must not be empty.
    pub fn non_empty(&self, tag: u16) -> Result<&'a str, Problem> {
        let v = self.required(tag)?;
        if v.is_empty() {
            return Err(self.problem(self.at(tag), "the value is empty"));
        }
        Ok(v)
    }

    /// A mandatory number within `range`.
    pub fn number(&self, tag: u16, range: std::ops::RangeInclusive<u32>) -> Result<u32, Problem> {
        let v = self.required(tag)?;
        self.parse_number(self.at(tag), v, range)
    }

    /// An optional number within `range`.
    pub fn optional_number(
        &self,
        tag: u16,
        range: std::ops::RangeInclusive<u32>,
    ) -> Result<Option<u32>, Problem> {
        match self.single(tag)? {
            None => Ok(None),
            Some(v) => self.parse_number(self.at(tag), v, range).map(Some),
        }
    }

    /// `text` as a number within `range`, a problem at `at` otherwise.
    pub fn parse_number(
        &self,
        at: Location,
        text: &str,
        range: std::ops::RangeInclusive<u32>,
    ) -> Result<u32, Problem> {
        match digits::<u32>(text) {
            Some(n) if range.contains(&n) => Ok(n),
            Some(n) => Err(self.problem(
                at,
                format!("{n} is out of range ({}–{})", range.start(), range.end()),
            )),
            None => Err(self.problem(at, format!("{text:?} is not a number"))),
        }
    }

    /// A mandatory date `YYYYMMDD`.
    pub fn date(&self, tag: u16) -> Result<Date, Problem> {
        let v = self.required(tag)?;
        Date::parse(v).map_err(|why| self.problem(self.at(tag), why))
    }

    /// A mandatory value from `codes`.
    pub fn code(&self, tag: u16, codes: &[&str]) -> Result<&'a str, Problem> {
        let v = self.required(tag)?;
        self.check_code(self.at(tag), v, codes)?;
        Ok(v)
    }

    /// An optional value from `codes`.
    pub fn optional_code(&self, tag: u16, codes: &[&str]) -> Result<Option<&'a str>, Problem> {
        match self.single(tag)? {
            None => Ok(None),
            Some(v) => self.check_code(self.at(tag), v, codes).map(|()| Some(v)),
        }
    }

    pub fn check_code(&self, at: Location, v: &str, codes: &[&str]) -> Result<(), Problem> {
        if codes.contains(&v) {
            Ok(())
        } else {
            Err(self.problem(at, format!("{v:?} is not one of {}", codes.join(", "))))
        }
    }

    /// The subfields of field `tag` (if present), each required to have
    /// exactly `items` items.
    pub fn table(&self, tag: u16, items: usize) -> Result<&'a [Vec<String>], Problem> {
        let subfields = self.subfields(tag)?.unwrap_or_default();
        for (s, row) in subfields.iter().enumerate() {
            if row.len() != items {
                return Err(self.problem(
                    self.at(tag).subfield(s + 1),
                    format!("expected {items} items, found {}", row.len()),
                ));
            }
        }
        Ok(subfields)
    }
}
