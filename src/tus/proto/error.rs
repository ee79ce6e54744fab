//! Errors of the header parsers: which header, and what was wrong with it.

use std::fmt;

use super::Header;

/// A header value that does not follow tus 1.0.0 (or is one we do not
/// support), with the header it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{header}: {problem}")]
pub struct HeaderError {
    pub header: Header,
    pub problem: Problem,
}

impl HeaderError {
    pub(crate) fn new(header: Header, problem: Problem) -> Self {
        Self { header, problem }
    }
}

/// What was wrong with a header value. Offending text is quoted, shortened
/// to [`Excerpt::MAX`] bytes, with non-printable bytes escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("missing")]
    Missing,
    #[error("empty")]
    Empty,
    #[error("expected a non-negative decimal integer, got {0}")]
    NotANumber(Excerpt),
    #[error("{0} does not fit in 64 bits")]
    TooLarge(Excerpt),
    #[error("list element {index} is empty")]
    EmptyElement { index: usize },
    #[error("list element {index} is not a token: {text}")]
    BadToken { index: usize, text: Excerpt },
    #[error("pair {index}: key is not visible ASCII without commas: {key}")]
    BadKey { index: usize, key: Excerpt },
    #[error("pair {index}: key {key} appears twice")]
    DuplicateKey { index: usize, key: Excerpt },
    #[error("pair {index} ({key}): value is not Base64: {value}")]
    BadValue {
        index: usize,
        key: Excerpt,
        value: Excerpt,
    },
    #[error("expected `<algorithm> <base64 digest>`, got {0}")]
    BadChecksumSyntax(Excerpt),
    #[error("unsupported checksum algorithm {0} (supported: sha256)")]
    UnsupportedAlgorithm(Excerpt),
    #[error("digest is not Base64: {0}")]
    BadDigest(Excerpt),
    #[error("{algorithm} digest has {got} bytes, expected {expected}")]
    DigestLength {
        algorithm: &'static str,
        got: usize,
        expected: usize,
    },
    #[error("not Base64: {0}")]
    BadBase64(Excerpt),
    #[error("{got} bytes, at most {max} allowed")]
    TooLong { got: usize, max: usize },
}

/// A short, printable copy of offending header text.
#[derive(Clone, PartialEq, Eq)]
pub struct Excerpt(String);

impl Excerpt {
    /// Longest excerpt kept, in bytes of the original value.
    pub const MAX: usize = 48;

    pub(crate) fn of(bytes: &[u8]) -> Self {
        let mut text = String::from("\"");
        for &b in bytes.iter().take(Self::MAX) {
            text.extend(std::ascii::escape_default(b).map(char::from));
        }
        if bytes.len() > Self::MAX {
            text.push_str("\"…");
        } else {
            text.push('"');
        }
        Self(text)
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_escape_and_shorten() {
        assert_eq!(Excerpt::of(b"a\"b\x01").to_string(), r#""a\"b\x01""#);
        let long = Excerpt::of(&[b'x'; 100]).to_string();
        assert!(long.ends_with("\"…"));
        assert_eq!(long.len(), Excerpt::MAX + 2 + "…".len());
    }

    #[test]
    fn messages_name_the_header() {
        let e = HeaderError::new(
            Header::UploadOffset,
            Problem::NotANumber(Excerpt::of(b"-1")),
        );
        assert_eq!(
            e.to_string(),
            "Upload-Offset: expected a non-negative decimal integer, got \"-1\""
        );
    }
}
