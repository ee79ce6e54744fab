//! `Upload-Checksum` (§Protocol Extensions › Checksum › Headers): the
//! algorithm and the Base64 digest of one `PATCH` body, separated by a
//! space. This crate supports `sha256` only.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::{Excerpt, Header, HeaderError, Problem, trim_ows};

/// A checksum algorithm this crate supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
}

impl Algorithm {
    /// Every supported algorithm, for `Tus-Checksum-Algorithm`.
    pub const ALL: [Self; 1] = [Self::Sha256];

    /// The algorithm's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
        }
    }

    const fn digest_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
        }
    }
}

/// The checksum of a `PATCH` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    algorithm: Algorithm,
    digest: Vec<u8>,
}

impl Checksum {
    /// The SHA-256 checksum of `data`.
    pub fn sha256(data: &[u8]) -> Self {
        Self::from_sha256_digest(Sha256::digest(data).into())
    }

    /// A SHA-256 checksum from an already computed digest.
    pub fn from_sha256_digest(digest: [u8; 32]) -> Self {
        Self {
            algorithm: Algorithm::Sha256,
            digest: digest.to_vec(),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    /// Whether `digest` (computed with [`Self::algorithm`]) is this one.
    pub fn matches(&self, digest: &[u8]) -> bool {
        self.digest == digest
    }

    /// Parses `sha256 <base64 digest>`. The algorithm name is matched
    /// without regard to case; the digest must be standard Base64 (padding
    /// optional) of exactly the algorithm's digest length. An unknown
    /// algorithm is [`Problem::UnsupportedAlgorithm`] (a server answers
    /// 400, §Protocol Extensions › Checksum › Requests).
    pub fn parse(value: &[u8]) -> Result<Self, HeaderError> {
        let err = |problem| HeaderError::new(Header::UploadChecksum, problem);
        let trimmed = trim_ows(value);
        if trimmed.is_empty() {
            return Err(err(Problem::Empty));
        }
        let Some(space) = trimmed.iter().position(|&b| b == b' ') else {
            return Err(err(Problem::BadChecksumSyntax(Excerpt::of(trimmed))));
        };
        let (name, encoded) = (&trimmed[..space], &trimmed[space + 1..]);
        if name.is_empty() || encoded.is_empty() || encoded.contains(&b' ') {
            return Err(err(Problem::BadChecksumSyntax(Excerpt::of(trimmed))));
        }
        let algorithm = Algorithm::ALL
            .into_iter()
            .find(|a| name.eq_ignore_ascii_case(a.as_str().as_bytes()))
            .ok_or_else(|| err(Problem::UnsupportedAlgorithm(Excerpt::of(name))))?;
        let digest = super::metadata::decode_base64(encoded)
            .ok_or_else(|| err(Problem::BadDigest(Excerpt::of(encoded))))?;
        if digest.len() != algorithm.digest_len() {
            return Err(err(Problem::DigestLength {
                algorithm: algorithm.as_str(),
                got: digest.len(),
                expected: algorithm.digest_len(),
            }));
        }
        Ok(Self { algorithm, digest })
    }

    /// Formats the header value: `sha256 <padded base64>`.
    pub fn to_header_value(&self) -> String {
        format!(
            "{} {}",
            self.algorithm.as_str(),
            STANDARD.encode(&self.digest)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches() {
        let c = Checksum::sha256(b"hello");
        let v = c.to_header_value();
        assert_eq!(v, "sha256 LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
        let parsed = Checksum::parse(v.as_bytes()).unwrap();
        assert_eq!(parsed, c);
        assert!(parsed.matches(&Sha256::digest(b"hello")));
        assert!(!parsed.matches(&Sha256::digest(b"hullo")));
        let unpadded =
            Checksum::parse(b" SHA256 LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ ").unwrap();
        assert_eq!(unpadded, c);
    }

    #[test]
    fn precise_errors() {
        let problem = |v: &[u8]| Checksum::parse(v).unwrap_err().problem;
        assert_eq!(problem(b""), Problem::Empty);
        assert!(matches!(problem(b"sha256"), Problem::BadChecksumSyntax(_)));
        assert!(matches!(
            problem(b"sha256  abc"),
            Problem::BadChecksumSyntax(_)
        ));
        assert!(matches!(
            problem(b"md5 1B2M2Y8AsgTpgAmY7PhCfg=="),
            Problem::UnsupportedAlgorithm(_)
        ));
        assert!(matches!(problem(b"sha256 !!!!"), Problem::BadDigest(_)));
        assert_eq!(
            Checksum::parse(b"sha256 AAAA").unwrap_err().to_string(),
            "Upload-Checksum: sha256 digest has 3 bytes, expected 32"
        );
    }
}
