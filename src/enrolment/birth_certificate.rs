//! The birth certificate's identifiers (domain.md §2), kept as four separate
//! fields — never parsed from one free-text string: the number, the series
//! letter, the two-digit numeric series and the six-digit serial.
//! No checksum is published for any of them, so only the format is checked;
//! existence is the central inquiry's job.

use serde::{Deserialize, Serialize};

use super::digits::{normalise_identifier, normalise_text};
use crate::text::Text;

/// The checked parts, normalised for storage (ASCII digits, Persian letter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BirthCertificate {
    /// شماره شناسنامه: 1–10 digits; the national code for those born from 1368.
    pub number: String,
    /// سری حرفی: one Persian letter, or «الف».
    pub series_letter: String,
    /// سری عددی: two digits, zero-padded.
    pub series_number: String,
    /// سریال: six digits.
    pub serial: String,
}

impl BirthCertificate {
    /// As printed on the certificate, `345678 / ج ۱۲` style: serial, letter,
    /// series number (ASCII digits; the UI localises them).
    pub fn printed(&self) -> String {
        format!(
            "{} / {} {}",
            self.serial, self.series_letter, self.series_number
        )
    }
}

/// The 32 letters of the Persian alphabet that can stand alone as a series
/// letter; «الف» is the three-letter spelling of the first.
const SERIES_LETTERS: &str = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی";

/// Birth year from which the certificate number is the national code.
pub const NUMBER_IS_NATIONAL_CODE_FROM: i32 = 1368;

/// Checks the number: 1–10 digits.
pub fn check_number(input: &str) -> Result<String, Text> {
    digits_field(input, 1, 10).map_err(|e| e.with("err-bc-number-length"))
}

/// Checks the series letter: one Persian letter or «الف» (Arabic forms
/// such as ي/ك are normalised first).
pub fn check_series_letter(input: &str) -> Result<String, Text> {
    let letter = normalise_text(input);
    if letter.is_empty() {
        return Err(Text::new("err-required"));
    }
    if letter == "الف" {
        return Ok(letter);
    }
    let mut chars = letter.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if SERIES_LETTERS.contains(c) => Ok(letter),
        _ => Err(Text::new("err-bc-letter").arg("value", letter)),
    }
}

/// Checks the numeric series: one or two digits, stored zero-padded.
pub fn check_series_number(input: &str) -> Result<String, Text> {
    let digits = digits_field(input, 1, 2).map_err(|e| e.with("err-bc-series-length"))?;
    Ok(format!("{digits:0>2}"))
}

/// Checks the serial: exactly six digits.
pub fn check_serial(input: &str) -> Result<String, Text> {
    digits_field(input, 6, 6).map_err(|e| e.with("err-bc-serial-length"))
}

/// A problem with a digits-only field: either its own message, or a length
/// problem that takes the caller's message id.
enum DigitsError {
    Own(Text),
    Length(usize),
}

impl DigitsError {
    fn with(self, length_id: &'static str) -> Text {
        match self {
            DigitsError::Own(text) => text,
            DigitsError::Length(count) => Text::new(length_id).arg("count", count.to_string()),
        }
    }
}

fn digits_field(input: &str, min: usize, max: usize) -> Result<String, DigitsError> {
    let digits = normalise_identifier(input);
    if digits.is_empty() {
        return Err(DigitsError::Own(Text::new("err-required")));
    }
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_digit()) {
        return Err(DigitsError::Own(
            Text::new("err-not-digit").arg("char", c.to_string()),
        ));
    }
    if !(min..=max).contains(&digits.len()) {
        return Err(DigitsError::Length(digits.len()));
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_the_domain_reference() {
        assert_eq!(check_number("1234"), Ok("1234".into()));
        assert_eq!(check_number("۰۴۹۹۳۷۰۸۹۹"), Ok("0499370899".into()));
        assert_eq!(
            check_number("12345678901").map_err(|t| t.id),
            Err("err-bc-number-length")
        );
        assert_eq!(check_series_letter("ج"), Ok("ج".into()));
        assert_eq!(check_series_letter(" الف "), Ok("الف".into()));
        // Arabic kaf typed on an old layout becomes the Persian letter.
        assert_eq!(check_series_letter("ك"), Ok("ک".into()));
        assert_eq!(
            check_series_letter("جج").map_err(|t| t.id),
            Err("err-bc-letter")
        );
        assert_eq!(
            check_series_letter("A").map_err(|t| t.id),
            Err("err-bc-letter")
        );
        assert_eq!(check_series_number("۱۲"), Ok("12".into()));
        assert_eq!(check_series_number("7"), Ok("07".into()));
        assert_eq!(
            check_series_number("123").map_err(|t| t.id),
            Err("err-bc-series-length")
        );
        assert_eq!(check_serial("345678"), Ok("345678".into()));
        let short = check_serial("34567").expect_err("five digits");
        assert_eq!(short.id, "err-bc-serial-length");
        assert_eq!(short.args, vec![("count", "5".to_owned())]);
        assert_eq!(
            check_serial("34567x").map_err(|t| t.id),
            Err("err-not-digit")
        );
        assert_eq!(check_serial("").map_err(|t| t.id), Err("err-required"));
        assert_eq!(SERIES_LETTERS.chars().count(), 32);
    }

    #[test]
    fn printed_form() {
        let bc = BirthCertificate {
            number: "1234".into(),
            series_letter: "ج".into(),
            series_number: "12".into(),
            serial: "345678".into(),
        };
        assert_eq!(bc.printed(), "345678 / ج 12");
    }
}
