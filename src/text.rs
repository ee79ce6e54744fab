//! A message for the operator, by translation id and arguments.
//!
//! Domain code never formats operator-facing sentences itself: it returns a
//! [`Text`], and the UI (or the command line) renders it in the operator's
//! language through [`crate::i18n`].

use crate::enrolment::jalali::DateError;

/// A translatable message: a Fluent id plus named arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub id: &'static str,
    pub args: Vec<(&'static str, String)>,
    /// Arguments shown as given, never with the language's digits: codes
    /// and names a person types or reads back character by character
    /// (team and visit codes, packet ids, serial ports).
    pub verbatim: Vec<&'static str>,
}

impl Text {
    pub fn new(id: &'static str) -> Self {
        Self {
            id,
            args: Vec::new(),
            verbatim: Vec::new(),
        }
    }

    #[must_use]
    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    /// An argument shown exactly as given ([`Text::verbatim`]).
    #[must_use]
    pub fn code(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.verbatim.push(name);
        self.arg(name, value)
    }

    pub fn from_date_error(e: &DateError) -> Self {
        match e {
            DateError::Format => Text::new("err-date-format"),
            DateError::Year(y) => Text::new("err-date-year").arg("year", y.to_string()),
            DateError::Month(m) => Text::new("err-date-month").arg("month", m.to_string()),
            DateError::Day { month, days, .. } => Text::new("err-date-day")
                .arg("month", month.to_string())
                .arg("days", days.to_string()),
        }
    }
}
