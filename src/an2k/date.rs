//! Calendar dates (`YYYYMMDD`) and GMT time stamps (`YYYYMMDDhhmmssZ`),
//! §1.2.

use std::fmt;

/// A calendar date, written `YYYYMMDD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// The date, if it exists in the Gregorian calendar (years 1–9999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let date = Date { year, month, day };
        date.validate().ok().map(|()| date)
    }

    /// Reads `YYYYMMDD`; the error says what is wrong, quoting `text`.
    pub fn parse(text: &str) -> Result<Date, String> {
        let b = text.as_bytes();
        if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
            return Err(format!("\"{text}\" is not a date YYYYMMDD (8 digits)"));
        }
        let n = |r: std::ops::Range<usize>| {
            b[r].iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
        };
        // Two-digit numbers fit a u8.
        let date = Date {
            year: n(0..4),
            month: n(4..6) as u8,
            day: n(6..8) as u8,
        };
        date.validate()
            .map_err(|why| format!("{why} in \"{text}\""))?;
        Ok(date)
    }

    fn validate(&self) -> Result<(), String> {
        if self.year == 0 || self.year > 9999 {
            return Err(format!("year {} out of range", self.year));
        }
        if !(1..=12).contains(&self.month) {
            return Err(format!("month {} out of range", self.month));
        }
        let days = days_in_month(self.year, self.month);
        if !(1..=days).contains(&self.day) {
            return Err(format!(
                "day {} out of range (month {} of {} has {days} days)",
                self.day, self.month, self.year
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Checks a GMT time stamp `YYYYMMDDhhmmssZ` (15 characters).
pub fn check_gmt(text: &str) -> Result<(), String> {
    let b = text.as_bytes();
    let digits = b.len() == 15 && b[..14].iter().all(u8::is_ascii_digit) && b[14] == b'Z';
    if !digits {
        return Err(format!(
            "\"{text}\" is not a GMT time stamp YYYYMMDDhhmmssZ (15 characters)"
        ));
    }
    Date::parse(&text[..8]).map_err(|e| format!("{e} (GMT \"{text}\")"))?;
    let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    let (h, m, s) = (two(8), two(10), two(12));
    if h > 23 || m > 59 || s > 59 {
        return Err(format!(
            "time {h:02}:{m:02}:{s:02} out of range in \"{text}\""
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_calendar_dates() {
        assert_eq!(
            Date::parse("20240229"),
            Ok(Date {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        assert_eq!(
            Date::parse("20000229").map(|d| d.to_string()),
            Ok("20000229".into())
        );
        assert_eq!(
            Date::parse("20251301"),
            Err("month 13 out of range in \"20251301\"".into())
        );
        assert!(
            Date::parse("21000229")
                .unwrap_err()
                .contains("day 29 out of range")
        );
        assert!(Date::parse("2025011").unwrap_err().contains("8 digits"));
        assert!(Date::parse("2025-1-1").is_err());
        assert!(Date::parse("00000101").unwrap_err().contains("year 0"));
        assert_eq!(Date::new(2025, 4, 31), None);
    }

    #[test]
    fn gmt_stamps() {
        assert_eq!(check_gmt("20250102030405Z"), Ok(()));
        assert!(check_gmt("20250102030405").is_err());
        assert!(
            check_gmt("20250102240000Z")
                .unwrap_err()
                .contains("24:00:00")
        );
        assert!(check_gmt("20250230000000Z").unwrap_err().contains("day 30"));
    }
}
