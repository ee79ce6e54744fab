//! The Iranian national code (کد ملی): ten digits with a mod-11 check digit.

use serde::{Deserialize, Serialize};

use super::digits::normalise_identifier;

/// A national code that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NationalCode(String);

impl NationalCode {
    /// The ten ASCII digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a national code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NationalCodeError {
    #[error("the national code is empty")]
    Empty,
    #[error("the national code must have 10 digits, not {0}")]
    Length(usize),
    #[error("the national code may only contain digits (character {0} is not one)")]
    NotDigit(usize),
    #[error("a national code cannot be one digit repeated")]
    Repeated,
    /// `1111111111`, which a real person is reported to hold: refused at
    /// typing time, accepted with a supervisor's approval (domain.md §1.2).
    #[error("1111111111 needs a supervisor's approval")]
    NeedsApproval,
    #[error("digits 4 to 9 of a national code cannot all be zero")]
    ZeroMiddle,
    #[error("the check digit should be {expected}, not {found}")]
    CheckDigit { expected: u8, found: u8 },
}

/// The check digit the first nine digits call for.
pub fn check_digit(body: &[u8; 9]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip((2..=10).rev())
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    let r = (sum % 11) as u8;
    if r < 2 { r } else { 11 - r }
}

/// The one repeated-digit code reported to belong to a real person.
pub const KNOWN_REPEATED: &str = "1111111111";

/// Checks a typed national code (Persian, Arabic-Indic or ASCII digits).
///
/// Exactly ten digits are required: leading zeros are never added.
pub fn validate(input: &str) -> Result<NationalCode, NationalCodeError> {
    validate_with(input, false)
}

/// [`validate`], with [`KNOWN_REPEATED`] accepted when a supervisor has
/// approved it after checking the birth certificate.
pub fn validate_with(
    input: &str,
    supervisor_approved: bool,
) -> Result<NationalCode, NationalCodeError> {
    let ascii = normalise_identifier(input);
    if ascii.is_empty() {
        return Err(NationalCodeError::Empty);
    }
    if let Some((i, _)) = ascii.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(NationalCodeError::NotDigit(i + 1));
    }
    let digits: Vec<u8> = ascii.bytes().map(|b| b - b'0').collect();
    if digits.len() != 10 {
        return Err(NationalCodeError::Length(digits.len()));
    }
    if digits.iter().all(|&d| d == digits[0]) {
        return match (ascii == KNOWN_REPEATED, supervisor_approved) {
            (true, true) => Ok(NationalCode(ascii)),
            (true, false) => Err(NationalCodeError::NeedsApproval),
            (false, _) => Err(NationalCodeError::Repeated),
        };
    }
    if digits[3..9].iter().all(|&d| d == 0) {
        return Err(NationalCodeError::ZeroMiddle);
    }
    let mut body = [0u8; 9];
    body.copy_from_slice(&digits[..9]);
    let expected = check_digit(&body);
    if digits[9] != expected {
        return Err(NationalCodeError::CheckDigit {
            expected,
            found: digits[9],
        });
    }
    Ok(NationalCode(ascii))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_vectors_from_domain_reference() {
        for code in [
            "0499370899",
            "0790419904",
            "1583250689",
            "0684159414",
            "0076229645",
            "0067749828",
            "0650451252",
            "4032152314",
            "0963695398",
            "0084575948",
            "4400276201",
            "2540201288",
            "0200203241",
            "7400076205",
            "1000000060",
            "1000000011",
            "2200203241",
        ] {
            assert_eq!(validate(code).map(|c| c.0), Ok(code.to_owned()), "{code}");
        }
    }

    #[test]
    fn invalid_vectors_say_why() {
        use NationalCodeError::*;
        let cases = [
            (
                "1234567890",
                CheckDigit {
                    expected: 1,
                    found: 0,
                },
            ),
            (
                "0684159415",
                CheckDigit {
                    expected: 4,
                    found: 5,
                },
            ),
            (
                "0499370898",
                CheckDigit {
                    expected: 9,
                    found: 8,
                },
            ),
            ("0010000000", ZeroMiddle),
            ("1230000000", ZeroMiddle),
            ("0000000000", Repeated),
            ("5555555555", Repeated),
            ("1111111111", NeedsApproval),
            ("068415941", Length(9)),
            ("04993708990", Length(11)),
            ("049937089a", NotDigit(10)),
            ("", Empty),
        ];
        for (input, why) in cases {
            assert_eq!(validate(input), Err(why), "{input}");
        }
        assert!(validate("4271427685").is_err());
        assert!(validate("0200203041").is_err());
    }

    #[test]
    fn the_known_repeated_code_passes_only_with_approval() {
        assert_eq!(
            validate_with("1111111111", true).map(|c| c.0),
            Ok(KNOWN_REPEATED.to_owned())
        );
        assert_eq!(
            validate_with("5555555555", true),
            Err(NationalCodeError::Repeated)
        );
    }

    #[test]
    fn one_wrong_digit_is_caught_unless_the_check_digit_is_one() {
        // Weights 10..2 are units mod 11, so one changed digit always
        // changes the remainder; only remainders 1 and 10 share a check
        // digit (1). Check it on every vector and every substitution.
        for code in [
            "0499370899",
            "0790419904",
            "1583250689",
            "0076229645",
            "4032152314",
        ] {
            for i in 0..9 {
                for d in b'0'..=b'9' {
                    let mut typo = code.as_bytes().to_vec();
                    if typo[i] == d {
                        continue;
                    }
                    typo[i] = d;
                    let typo = String::from_utf8(typo).expect("ascii");
                    assert!(validate(&typo).is_err(), "{typo}");
                }
            }
        }
    }

    #[test]
    fn transpositions_around_check_digit_one_still_pass() {
        // Why the form asks for the code twice (domain.md §1.2).
        for code in ["0200203241", "2200203241", "0020203241", "0200023241"] {
            assert!(validate(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn persian_digits_are_accepted() {
        assert_eq!(
            validate("۰۴۹۹۳۷۰۸۹۹").map(|c| c.0),
            Ok("0499370899".to_owned())
        );
    }
}
