//! Tracking codes (کد رهگیری) printed on the receipt.
//!
//! The authority's format is not public, so ours is documented in
//! docs/architecture.md: 16 digits, `YYYY SSSS NNNNNN CC` — the Jalali year,
//! the station number, the station's sequence number for that packet, and
//! two ISO 7064 MOD 97-10 check digits, which catch every single wrong digit
//! and every swap of two neighbouring digits when the code is read out over
//! the phone or typed back in.

use serde::{Deserialize, Serialize};

/// A 16-digit tracking code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackingCode(String);

/// ISO 7064 MOD 97-10 check digits for a string of ASCII digits.
fn check_digits(body: &str) -> u32 {
    let rem = body
        .bytes()
        .chain(*b"00")
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    98 - rem
}

impl TrackingCode {
    /// The code for sequence `seq` of station `station` in Jalali `year`.
    pub fn new(year: i32, station: u16, seq: u32) -> Self {
        let body = format!(
            "{:04}{:04}{:06}",
            year.rem_euclid(10_000),
            station % 10_000,
            seq % 1_000_000
        );
        let check = check_digits(&body);
        Self(format!("{body}{check:02}"))
    }

    /// Parses a typed code (spaces and dashes ignored, any digit script),
    /// refusing one whose check digits do not match.
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = super::digits::to_ascii_digits(input)
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (body, check) = digits.split_at(14);
        (check.parse::<u32>().ok()? == check_digits(body)).then_some(Self(digits))
    }

    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `1405-0042-000001-CC`, for printing and reading out.
    pub fn grouped(&self) -> String {
        let s = &self.0;
        format!("{}-{}-{}-{}", &s[..4], &s[4..8], &s[8..14], &s[14..])
    }
}

impl std::fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_groups() {
        let code = TrackingCode::new(1405, 42, 1);
        assert_eq!(code.as_str().len(), 16);
        assert!(code.as_str().starts_with("14050042000001"));
        assert_eq!(TrackingCode::parse(&code.grouped()), Some(code.clone()));
        let persian = crate::enrolment::digits::to_persian_digits(code.as_str());
        assert_eq!(TrackingCode::parse(&persian), Some(code));
    }

    #[test]
    fn every_single_error_and_adjacent_swap_is_caught() {
        let code = TrackingCode::new(1405, 1234, 987_654);
        let digits: Vec<u8> = code.as_str().bytes().collect();
        for i in 0..digits.len() {
            for d in b'0'..=b'9' {
                if d == digits[i] {
                    continue;
                }
                let mut bad = digits.clone();
                bad[i] = d;
                let bad = String::from_utf8(bad).expect("ascii");
                assert_eq!(TrackingCode::parse(&bad), None, "{bad}");
            }
            if i + 1 < digits.len() && digits[i] != digits[i + 1] {
                let mut bad = digits.clone();
                bad.swap(i, i + 1);
                let bad = String::from_utf8(bad).expect("ascii");
                assert_eq!(TrackingCode::parse(&bad), None, "{bad}");
            }
        }
    }
}
