//! `Upload-Receipt`, this crate's one addition to tus: what the server's
//! store said when an upload completed, carried in the response to the
//! `PATCH` that completed it and in every later `HEAD`.
//!
//! tus 1.0.0 answers a successful `PATCH` with `204 No Content` and a
//! `HEAD` without a body (§Core Protocol › Requests), so the receipt
//! travels in a header, as standard padded Base64 of arbitrary bytes (a
//! signed JSON receipt, say). Clients that do not know the header ignore
//! it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;

use super::{Excerpt, Header, HeaderError, Problem, trim_ows};

/// Largest receipt, in bytes before Base64 (the header is then at most
/// 8 KiB, which every common HTTP stack accepts).
pub const MAX_RECEIPT: usize = 6 * 1024;

/// What a server's store returned when an upload completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub receipt: Bytes,
}

impl Completion {
    pub fn new(receipt: impl Into<Bytes>) -> Self {
        Self {
            receipt: receipt.into(),
        }
    }

    /// Parses an `Upload-Receipt` value. An empty value is an empty receipt.
    pub fn parse(value: &[u8]) -> Result<Self, HeaderError> {
        let err = |problem| HeaderError::new(Header::UploadReceipt, problem);
        let encoded = trim_ows(value);
        if encoded.len() > MAX_RECEIPT.div_ceil(3) * 4 {
            let max = MAX_RECEIPT.div_ceil(3) * 4;
            return Err(err(Problem::TooLong {
                got: encoded.len(),
                max,
            }));
        }
        let receipt = super::metadata::decode_base64(encoded)
            .ok_or_else(|| err(Problem::BadBase64(Excerpt::of(encoded))))?;
        Ok(Self::new(receipt))
    }

    /// Formats the header value; fails if the receipt is longer than
    /// [`MAX_RECEIPT`].
    pub fn to_header_value(&self) -> Result<String, HeaderError> {
        if self.receipt.len() > MAX_RECEIPT {
            let problem = Problem::TooLong {
                got: self.receipt.len(),
                max: MAX_RECEIPT,
            };
            return Err(HeaderError::new(Header::UploadReceipt, problem));
        }
        Ok(STANDARD.encode(&self.receipt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for receipt in [&b""[..], b"{\"ok\":true}", &[0xff; MAX_RECEIPT]] {
            let c = Completion::new(receipt.to_vec());
            let v = c.to_header_value().unwrap();
            assert_eq!(Completion::parse(v.as_bytes()).unwrap(), c);
        }
    }

    #[test]
    fn limits_and_garbage() {
        let big = Completion::new(vec![0; MAX_RECEIPT + 1]);
        assert!(matches!(
            big.to_header_value().unwrap_err().problem,
            Problem::TooLong { .. }
        ));
        let e = Completion::parse(b"not base64!").unwrap_err();
        assert_eq!(e.to_string(), "Upload-Receipt: not Base64: \"not base64!\"");
    }
}
