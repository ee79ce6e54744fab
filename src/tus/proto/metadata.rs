//! `Upload-Metadata` (§Protocol Extensions › Creation › Headers ›
//! Upload-Metadata): comma-separated pairs of a key and a Base64-encoded
//! value, separated by a space. Keys are non-empty, unique and contain no
//! spaces or commas (we also require visible ASCII, which the specification
//! recommends); a value may be empty, and then the space may be left out.

use std::collections::BTreeMap;

use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

use super::{Excerpt, Header, HeaderError, Problem, is_vchar, trim_ows};

/// Standard Base64 that accepts padded and unpadded input (but not
/// non-zero trailing bits, so every encoding decodes to one value).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(super) fn decode_base64(encoded: &[u8]) -> Option<Vec<u8>> {
    LENIENT.decode(encoded).ok()
}

/// Whether `key` may be an `Upload-Metadata` key.
fn valid_key(key: &[u8]) -> bool {
    !key.is_empty() && key.iter().all(|&b| is_vchar(b) && b != b',')
}

/// Upload metadata: keys to raw byte values, sorted by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata(BTreeMap<String, Vec<u8>>);

impl Metadata {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a pair. Fails (with the pair unchanged) if `key`
    /// is not a valid key.
    pub fn insert(&mut self, key: &str, value: impl Into<Vec<u8>>) -> Result<(), HeaderError> {
        if !valid_key(key.as_bytes()) {
            let problem = Problem::BadKey {
                index: self.0.len() + 1,
                key: Excerpt::of(key.as_bytes()),
            };
            return Err(HeaderError::new(Header::UploadMetadata, problem));
        }
        self.0.insert(key.to_owned(), value.into());
        Ok(())
    }

    /// Builder form of [`Self::insert`].
    pub fn with(mut self, key: &str, value: impl Into<Vec<u8>>) -> Result<Self, HeaderError> {
        self.insert(key, value)?;
        Ok(self)
    }

    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.0.get(key).map(Vec::as_slice)
    }

    /// The value of `key` if it is UTF-8.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| std::str::from_utf8(v).ok())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Parses a header value. An empty value is empty metadata. Pairs are
    /// counted from 1 in errors.
    pub fn parse(value: &[u8]) -> Result<Self, HeaderError> {
        let err = |problem| HeaderError::new(Header::UploadMetadata, problem);
        let mut pairs = BTreeMap::new();
        if trim_ows(value).is_empty() {
            return Ok(Self(pairs));
        }
        for (i, pair) in value.split(|&b| b == b',').enumerate() {
            let index = i + 1;
            let pair = trim_ows(pair);
            if pair.is_empty() {
                return Err(err(Problem::EmptyElement { index }));
            }
            let (key, encoded) = match pair.iter().position(|&b| b == b' ') {
                Some(space) => (&pair[..space], &pair[space + 1..]),
                None => (pair, &[][..]),
            };
            if !valid_key(key) {
                let key = Excerpt::of(key);
                return Err(err(Problem::BadKey { index, key }));
            }
            let bad_value = || {
                let (key, value) = (Excerpt::of(key), Excerpt::of(encoded));
                err(Problem::BadValue { index, key, value })
            };
            let decoded = decode_base64(encoded).ok_or_else(bad_value)?;
            // `valid_key` admits visible ASCII only, so this is lossless.
            let key: String = key.iter().copied().map(char::from).collect();
            if pairs.contains_key(&key) {
                let key = Excerpt::of(key.as_bytes());
                return Err(err(Problem::DuplicateKey { index, key }));
            }
            pairs.insert(key, decoded);
        }
        Ok(Self(pairs))
    }

    /// Formats the header value: pairs sorted by key, values in padded
    /// Base64, an empty value written as the bare key.
    pub fn to_header_value(&self) -> String {
        let pairs: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k} {}", STANDARD.encode(v))
                }
            })
            .collect();
        pairs.join(",")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_the_specification_example() {
        let m = Metadata::parse(b"filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential")
            .unwrap();
        assert_eq!(m.get_str("filename"), Some("world_domination_plan.pdf"));
        assert_eq!(m.get("is_confidential"), Some(&b""[..]));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn accepts_empty_value_with_space_and_unpadded_base64() {
        let m = Metadata::parse(b"a ,b YQ, c YWI=").unwrap();
        assert_eq!(m.get("a"), Some(&b""[..]));
        assert_eq!(m.get("b"), Some(&b"a"[..]));
        assert_eq!(m.get("c"), Some(&b"ab"[..]));
        assert_eq!(m.to_header_value(), "a,b YQ==,c YWI=");
        assert!(Metadata::parse(b"").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_pair() {
        let msg = |v: &[u8]| Metadata::parse(v).unwrap_err().to_string();
        assert_eq!(
            msg(b"a YQ==,,b"),
            "Upload-Metadata: list element 2 is empty"
        );
        assert_eq!(
            msg(b"a YQ==,a YQ=="),
            "Upload-Metadata: pair 2: key \"a\" appears twice"
        );
        assert_eq!(
            msg(b"name !!"),
            "Upload-Metadata: pair 1 (\"name\"): value is not Base64: \"!!\""
        );
        assert_eq!(
            msg(b"a b c"),
            "Upload-Metadata: pair 1 (\"a\"): value is not Base64: \"b c\""
        );
        assert_eq!(
            msg("n\u{e9} YQ==".as_bytes()),
            "Upload-Metadata: pair 1: key is not visible ASCII without commas: \"n\\xc3\\xa9\""
        );
    }

    #[test]
    fn insert_refuses_bad_keys() {
        let mut m = Metadata::new();
        assert!(m.insert("has space", "x").is_err());
        assert!(m.insert("", "x").is_err());
        assert!(m.insert("a,b", "x").is_err());
        assert!(m.is_empty());
        let m = m.with("packet-id", "0192").unwrap();
        assert_eq!(m.iter().collect::<Vec<_>>(), [("packet-id", &b"0192"[..])]);
    }

    fn key() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[!-+\\--~]{1,12}").unwrap()
    }

    proptest! {
        #[test]
        fn round_trip(pairs in proptest::collection::btree_map(key(), proptest::collection::vec(any::<u8>(), 0..40), 0..8)) {
            let mut m = Metadata::new();
            for (k, v) in &pairs {
                m.insert(k, v.clone()).unwrap();
            }
            let text = m.to_header_value();
            prop_assert_eq!(Metadata::parse(text.as_bytes()).unwrap(), m.clone());
            let with_ows = text.replace(',', " ,\t");
            prop_assert_eq!(Metadata::parse(with_ows.as_bytes()).unwrap(), m);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(m) = Metadata::parse(&bytes) {
                prop_assert_eq!(Metadata::parse(m.to_header_value().as_bytes()).unwrap(), m);
            }
        }
    }
}
