//! The hook that authenticates requests (the station signs each one).

use reqwest::Method;
use reqwest::Url;
use reqwest::header::HeaderMap;

/// What a request hook sees of a request, after the client has set its
/// tus headers.
#[derive(Debug)]
pub struct RequestParts<'a> {
    pub method: &'a Method,
    pub url: &'a Url,
    /// The headers the client set (`Tus-Resumable`, `Upload-Offset`,
    /// `Upload-Checksum`, `Content-Type`, …); the hook may sign them.
    pub headers: &'a HeaderMap,
    /// SHA-256 of the body (of the empty string when there is none).
    pub body_sha256: [u8; 32],
}

/// Adds headers to every request, e.g. an Ed25519 signature over the
/// method, path, headers and body hash. Closures
/// `Fn(&RequestParts) -> Result<HeaderMap, String>` implement it.
pub trait Authenticate: Send + Sync + 'static {
    /// The headers to add (they replace any of the same name). An error
    /// fails the request with [`Error::Authenticate`](super::Error::Authenticate).
    fn authenticate(&self, request: &RequestParts<'_>) -> Result<HeaderMap, String>;
}

impl<F> Authenticate for F
where
    F: Fn(&RequestParts<'_>) -> Result<HeaderMap, String> + Send + Sync + 'static,
{
    fn authenticate(&self, request: &RequestParts<'_>) -> Result<HeaderMap, String> {
        self(request)
    }
}
