//! The tus 1.0.0 wire format, free of I/O: header names and the parsing and
//! formatting of every header value the core protocol and the creation,
//! checksum and termination extensions use.
//!
//! Section names ("§Core Protocol › Headers › Upload-Offset") refer to the
//! specification at <https://tus.io/protocols/resumable-upload>, version
//! 1.0.0 (2016-03-25).
//!
//! Every parser takes the raw header value bytes (as sent, possibly not
//! UTF-8) and returns a [`HeaderError`] that names the header and says what
//! was wrong; none of them panics on any input (the `fuzz/` target checks
//! this). Surrounding optional whitespace (RFC 9110 `OWS`) is ignored,
//! since HTTP stacks may or may not strip it.

mod checksum;
mod error;
mod header;
mod list;
mod metadata;
mod number;
mod receipt;

pub use checksum::{Algorithm, Checksum};
pub use error::{Excerpt, HeaderError, Problem};
pub use header::{Header, OFFSET_OCTET_STREAM, VERSION};
pub use list::{format_list, parse_list, parse_resumable};
pub use metadata::Metadata;
pub use number::{format_u64, parse_u64};
pub use receipt::{Completion, MAX_RECEIPT};

/// Removes leading and trailing spaces and horizontal tabs (`OWS`).
pub(crate) fn trim_ows(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |i| i + 1);
    &value[start..end]
}

/// Visible ASCII (`VCHAR`, 0x21–0x7E).
fn is_vchar(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

#[cfg(test)]
mod tests {
    use super::trim_ows;

    #[test]
    fn trims_spaces_and_tabs_only() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_ows(b"\r1\n"), b"\r1\n");
    }
}
