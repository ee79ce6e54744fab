//! Comma-separated lists of tokens (`Tus-Version`, `Tus-Extension`,
//! `Tus-Checksum-Algorithm`) and the single version of `Tus-Resumable`.

use super::{Excerpt, Header, HeaderError, Problem, trim_ows};

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn token(header: Header, index: usize, element: &[u8]) -> Result<String, HeaderError> {
    let element = trim_ows(element);
    if element.is_empty() {
        return Err(HeaderError::new(header, Problem::EmptyElement { index }));
    }
    if !element.iter().copied().all(is_tchar) {
        let text = Excerpt::of(element);
        return Err(HeaderError::new(header, Problem::BadToken { index, text }));
    }
    Ok(element.iter().copied().map(char::from).collect())
}

/// Parses a non-empty comma-separated list of tokens, such as
/// `Tus-Extension: creation,checksum,termination`. Elements are counted
/// from 1 in errors; empty elements are refused.
pub fn parse_list(header: Header, value: &[u8]) -> Result<Vec<String>, HeaderError> {
    if trim_ows(value).is_empty() {
        return Err(HeaderError::new(header, Problem::Empty));
    }
    value
        .split(|&b| b == b',')
        .enumerate()
        .map(|(i, element)| token(header, i + 1, element))
        .collect()
}

/// Formats a list header value (no spaces, as the specification's examples).
pub fn format_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses `Tus-Resumable`: a single version token (§Core Protocol ›
/// Headers › Tus-Resumable). Whether the version is supported is the
/// caller's decision (a server answers 412 if it is not [`VERSION`](super::VERSION)).
pub fn parse_resumable(value: &[u8]) -> Result<String, HeaderError> {
    if trim_ows(value).is_empty() {
        return Err(HeaderError::new(Header::TusResumable, Problem::Empty));
    }
    token(Header::TusResumable, 1, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip() {
        let v = parse_list(Header::TusExtension, b"creation, checksum ,termination").unwrap();
        assert_eq!(v, ["creation", "checksum", "termination"]);
        assert_eq!(format_list(&v), "creation,checksum,termination");
        assert_eq!(
            parse_list(Header::TusVersion, b"1.0.0,0.2.2").unwrap(),
            ["1.0.0", "0.2.2"]
        );
    }

    #[test]
    fn list_errors_say_which_element() {
        let e = parse_list(Header::TusChecksumAlgorithm, b"sha1,,md5").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Tus-Checksum-Algorithm: list element 2 is empty"
        );
        let e = parse_list(Header::TusVersion, b"1.0.0,1 0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Tus-Version: list element 2 is not a token: \"1 0\""
        );
        assert_eq!(
            parse_list(Header::TusVersion, b" ").unwrap_err().problem,
            Problem::Empty
        );
    }

    #[test]
    fn resumable_is_one_token() {
        assert_eq!(parse_resumable(b"1.0.0").unwrap(), "1.0.0");
        assert_eq!(parse_resumable(b" 0.2.2 ").unwrap(), "0.2.2");
        assert!(parse_resumable(b"1.0.0,0.2.2").is_err());
        assert_eq!(parse_resumable(b"").unwrap_err().problem, Problem::Empty);
    }
}
