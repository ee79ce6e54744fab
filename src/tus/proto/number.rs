//! Non-negative integers: `Upload-Offset`, `Upload-Length`, `Tus-Max-Size`
//! (§Core Protocol › Headers: "MUST be a non-negative integer").

use super::{Excerpt, Header, HeaderError, Problem, trim_ows};

/// Parses a decimal integer: digits only (no sign, no exponent, leading
/// zeros allowed), at most `u64::MAX`.
pub fn parse_u64(header: Header, value: &[u8]) -> Result<u64, HeaderError> {
    let digits = trim_ows(value);
    if digits.is_empty() {
        return Err(HeaderError::new(header, Problem::Empty));
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(HeaderError::new(
            header,
            Problem::NotANumber(Excerpt::of(value)),
        ));
    }
    digits
        .iter()
        .try_fold(0u64, |n, d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or_else(|| HeaderError::new(header, Problem::TooLarge(Excerpt::of(digits))))
}

/// Formats an integer header value.
pub fn format_u64(n: u64) -> String {
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &str) -> Result<u64, Problem> {
        parse_u64(Header::UploadOffset, v.as_bytes()).map_err(|e| e.problem)
    }

    #[test]
    fn accepts_plain_decimals() {
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse(" 0042\t"), Ok(42));
        assert_eq!(parse("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_u64(Header::UploadLength, format_u64(123).as_bytes()),
            Ok(123)
        );
    }

    #[test]
    fn rejects_everything_else() {
        assert_eq!(parse(""), Err(Problem::Empty));
        assert_eq!(parse("  "), Err(Problem::Empty));
        for bad in ["-1", "+1", "1e3", "0x10", "1 2", "١٢", "1.0"] {
            assert!(matches!(parse(bad), Err(Problem::NotANumber(_))), "{bad}");
        }
        assert!(matches!(
            parse("18446744073709551616"),
            Err(Problem::TooLarge(_))
        ));
    }
}
