//! Header names of tus 1.0.0 (and the one header this crate adds).

use std::fmt;

use http::HeaderName;

/// The protocol version this crate speaks (`Tus-Resumable`, `Tus-Version`).
pub const VERSION: &str = "1.0.0";

/// The media type of a `PATCH` body (§Core Protocol › Requests › PATCH).
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// A header this crate reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Header {
    /// §Core Protocol › Headers › Tus-Resumable: the version of the request
    /// or response; in every message except `OPTIONS`.
    TusResumable,
    /// §Core Protocol › Headers › Tus-Version: the versions a server
    /// supports, comma-separated, most preferred first.
    TusVersion,
    /// §Core Protocol › Headers › Tus-Extension: the extensions a server
    /// supports, comma-separated.
    TusExtension,
    /// §Core Protocol › Headers › Tus-Max-Size: the largest upload a server
    /// accepts, in bytes.
    TusMaxSize,
    /// §Protocol Extensions › Checksum › Headers › Tus-Checksum-Algorithm:
    /// the checksum algorithms a server supports, comma-separated.
    TusChecksumAlgorithm,
    /// §Core Protocol › Headers › Upload-Offset: the byte offset within the
    /// upload.
    UploadOffset,
    /// §Core Protocol › Headers › Upload-Length: the size of the entire
    /// upload in bytes.
    UploadLength,
    /// §Protocol Extensions › Creation › Headers › Upload-Metadata:
    /// comma-separated `key base64(value)` pairs.
    UploadMetadata,
    /// §Protocol Extensions › Checksum › Headers › Upload-Checksum: the
    /// algorithm and Base64 digest of a `PATCH` body.
    UploadChecksum,
    /// Not part of tus: the Base64 receipt that the server's store returns
    /// when an upload completes (see [`Completion`](super::Completion)).
    UploadReceipt,
}

impl Header {
    /// The header's name in canonical capitalisation, as the specification
    /// writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TusResumable => "Tus-Resumable",
            Self::TusVersion => "Tus-Version",
            Self::TusExtension => "Tus-Extension",
            Self::TusMaxSize => "Tus-Max-Size",
            Self::TusChecksumAlgorithm => "Tus-Checksum-Algorithm",
            Self::UploadOffset => "Upload-Offset",
            Self::UploadLength => "Upload-Length",
            Self::UploadMetadata => "Upload-Metadata",
            Self::UploadChecksum => "Upload-Checksum",
            Self::UploadReceipt => "Upload-Receipt",
        }
    }

    /// The header's name for the `http` crate (lower case, as HTTP/2 and
    /// `http::HeaderMap` want it; HTTP/1.1 names are case-insensitive).
    pub const fn name(self) -> HeaderName {
        HeaderName::from_static(match self {
            Self::TusResumable => "tus-resumable",
            Self::TusVersion => "tus-version",
            Self::TusExtension => "tus-extension",
            Self::TusMaxSize => "tus-max-size",
            Self::TusChecksumAlgorithm => "tus-checksum-algorithm",
            Self::UploadOffset => "upload-offset",
            Self::UploadLength => "upload-length",
            Self::UploadMetadata => "upload-metadata",
            Self::UploadChecksum => "upload-checksum",
            Self::UploadReceipt => "upload-receipt",
        })
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Header;

    #[test]
    fn names_agree_with_canonical_spelling() {
        for h in [
            Header::TusResumable,
            Header::TusVersion,
            Header::TusExtension,
            Header::TusMaxSize,
            Header::TusChecksumAlgorithm,
            Header::UploadOffset,
            Header::UploadLength,
            Header::UploadMetadata,
            Header::UploadChecksum,
            Header::UploadReceipt,
        ] {
            assert_eq!(h.name().as_str(), h.as_str().to_ascii_lowercase());
        }
    }
}
