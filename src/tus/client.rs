//! An async tus 1.0.0 client on reqwest (HTTP/1.1) and rustls (ring).
//!
//! - Trust: certificates pinned from PEM, optionally the system's roots
//!   ([`Trust`]). `http://` is accepted only for loopback hosts.
//! - Every request passes through an optional [`Authenticate`] hook that
//!   sees the method, URL, tus headers and the body's SHA-256, and adds
//!   headers (the station's Ed25519 signature).
//! - Every `PATCH` carries `Upload-Checksum: sha256 …` (§Protocol
//!   Extensions › Checksum).
//! - Timeouts: connect, whole request, and a stall timeout (no body piece
//!   taken by the connection and no response for that long).
//! - Upload URLs must have the endpoint's origin (scheme, host, port);
//!   redirects are not followed and environment proxies are not used.
//!
//! The single-request methods ([`Client::create`], [`Client::status`],
//! [`Client::patch`], [`Client::terminate`], and [`Client::get`] for a
//! resource beside the endpoint) do not retry;
//! [`Client::upload`] drives a whole upload, resuming and retrying.

mod auth;
mod error;
mod tls;
mod upload;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{
    CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER,
};
use sha2::{Digest, Sha256};

pub use auth::{Authenticate, RequestParts};
pub use error::{Error, NetworkKind, TimeoutKind};
pub use reqwest::{Method, StatusCode, Url};
pub use tls::Trust;
pub use upload::{Interrupted, Outcome};

use crate::proto::{self, Checksum, Header, HeaderError, OFFSET_OCTET_STREAM, VERSION};
use crate::{Completion, Metadata};
use watch::{Progress, WatchedBody, watch};

/// How [`Client::upload`] retries.
#[derive(Debug, Clone)]
pub struct Retry {
    /// Consecutive failed requests tolerated (each followed by a `HEAD`)
    /// before `upload` gives up; a success resets the count.
    pub attempts: u32,
    /// The wait before trying again.
    pub delay: Duration,
    /// The longest wait a server's `Retry-After` may impose.
    pub max_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 5,
            delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// The client's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The creation URL (`POST` target), e.g. `https://intake.example/files/`.
    pub endpoint: Url,
    pub trust: Trust,
    pub connect_timeout: Duration,
    /// The longest a single request may take, body included.
    pub request_timeout: Duration,
    /// The longest a request may go without progress: no piece of the
    /// body taken by the connection, no response. The wait for the answer
    /// to the last `PATCH` counts too, so this must exceed the time the
    /// server's store needs to complete an upload.
    pub stall_timeout: Duration,
    pub retry: Retry,
}

impl Config {
    /// Defaults: trust nothing (see [`Trust`]), connect 10 s, request
    /// 5 min, stall 30 s, [`Retry::default`].
    pub fn new(endpoint: Url) -> Self {
        Self {
            endpoint,
            trust: Trust::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(300),
            stall_timeout: Duration::from_secs(30),
            retry: Retry::default(),
        }
    }
}

/// What `OPTIONS` says about the server (§Core Protocol › Requests ›
/// OPTIONS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub versions: Vec<String>,
    pub extensions: Vec<String>,
    pub max_size: Option<u64>,
    pub checksum_algorithms: Vec<String>,
}

/// What `HEAD` says about an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub offset: u64,
    /// `None` if the server did not say (deferred length; not ours).
    pub length: Option<u64>,
    pub metadata: Metadata,
    /// The receipt of a complete upload, if the server gave one.
    pub completion: Option<Completion>,
}

/// The answer to a `PATCH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patched {
    /// The upload's new offset.
    pub offset: u64,
    /// Present when this `PATCH` completed the upload (or re-asked for a
    /// complete upload's receipt) and the server gave a receipt.
    pub completion: Option<Completion>,
}

/// What a resource beside the endpoint answered ([`Client::fetch`]).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The start of the body as text (for error messages).
    reason: String,
}

impl Answer {
    /// The error a tus request answered with this status fails with
    /// ([`Error::NotFound`], [`Error::Refused`], [`Error::Busy`], …), `what`
    /// naming the request in a protocol error.
    pub fn error(&self, what: &str) -> Error {
        status_error(self.status, &self.headers, &self.reason, what)
    }

    /// The start of the body as text, trimmed (at most 1 KiB).
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A tus client for one endpoint.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Config,
    auth: Option<Arc<dyn Authenticate>>,
}

/// A response: the start of its body as a reason text, and the body
/// itself when the caller asked to keep it.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    reason: String,
    body: Vec<u8>,
}

/// Longest reason text kept from an error response body.
const MAX_REASON: usize = 1024;
/// Most response body read (then the connection is dropped).
const MAX_BODY: usize = 64 * 1024;

impl Client {
    /// Checks the endpoint and builds the HTTP client. Fails with
    /// [`Error::Usage`] for an endpoint that is neither `https://` nor
    /// `http://` to a loopback host, or a trust that cannot be built.
    pub fn new(config: Config) -> Result<Self, Error> {
        check_endpoint(&config.endpoint)?;
        let tls = config.trust.client_config()?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("pishkhan-tus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Usage(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            config,
            auth: None,
        })
    }

    /// Passes every request through `auth`.
    #[must_use]
    pub fn with_authenticator(mut self, auth: impl Authenticate) -> Self {
        self.auth = Some(Arc::new(auth));
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `OPTIONS` on the endpoint.
    pub async fn options(&self) -> Result<ServerInfo, Error> {
        let endpoint = self.config.endpoint.clone();
        let reply = self
            .exchange(Method::OPTIONS, &endpoint, HeaderMap::new(), None)
            .await?;
        if !matches!(reply.status, StatusCode::OK | StatusCode::NO_CONTENT) {
            return Err(status_error_of(&reply, "OPTIONS"));
        }
        let list = |header| -> Result<Vec<String>, Error> {
            match reply.headers.get(Header::name(header)) {
                None => Ok(Vec::new()),
                Some(v) => {
                    proto::parse_list(header, v.as_bytes()).map_err(|e| violation("OPTIONS", &e))
                }
            }
        };
        let versions = list(Header::TusVersion)?;
        if versions.is_empty() {
            return Err(Error::Protocol(
                "OPTIONS response: Tus-Version: missing".to_owned(),
            ));
        }
        Ok(ServerInfo {
            versions,
            extensions: list(Header::TusExtension)?,
            max_size: optional(&reply, "OPTIONS", Header::TusMaxSize, |v| {
                proto::parse_u64(Header::TusMaxSize, v)
            })?,
            checksum_algorithms: list(Header::TusChecksumAlgorithm)?,
        })
    }

    /// `POST`: creates an upload of `length` bytes; returns its URL
    /// (§Protocol Extensions › Creation).
    pub async fn create(&self, length: u64, metadata: &Metadata) -> Result<Url, Error> {
        let mut headers = HeaderMap::new();
        headers.insert(Header::UploadLength.name(), HeaderValue::from(length));
        if !metadata.is_empty() {
            headers.insert(
                Header::UploadMetadata.name(),
                header_value(metadata.to_header_value())?,
            );
        }
        let endpoint = self.config.endpoint.clone();
        let reply = self
            .exchange(Method::POST, &endpoint, headers, Some(Bytes::new()))
            .await?;
        expect(&reply, "POST", &[StatusCode::CREATED])?;
        let location = reply
            .headers
            .get(LOCATION)
            .ok_or_else(|| Error::Protocol("POST response: Location: missing".to_owned()))?;
        let url = location
            .to_str()
            .ok()
            .and_then(|l| endpoint.join(l).ok())
            .ok_or_else(|| {
                Error::Protocol(format!("POST response: Location: not a URL: {location:?}"))
            })?;
        if url.origin() != endpoint.origin() {
            return Err(Error::Protocol(format!(
                "POST response: Location {url} is not on the endpoint's origin"
            )));
        }
        Ok(url)
    }

    /// `HEAD`: the upload's offset, length and receipt (§Core Protocol ›
    /// Requests › HEAD).
    pub async fn status(&self, url: &Url) -> Result<Status, Error> {
        self.check_origin(url)?;
        let reply = self
            .exchange(Method::HEAD, url, HeaderMap::new(), None)
            .await?;
        expect(&reply, "HEAD", &[StatusCode::OK, StatusCode::NO_CONTENT])?;
        let offset = required(&reply, "HEAD", Header::UploadOffset, |v| {
            proto::parse_u64(Header::UploadOffset, v)
        })?;
        let length = optional(&reply, "HEAD", Header::UploadLength, |v| {
            proto::parse_u64(Header::UploadLength, v)
        })?;
        if let Some(length) = length.filter(|&l| offset > l) {
            return Err(Error::Protocol(format!(
                "HEAD response: Upload-Offset {offset} is past Upload-Length {length}"
            )));
        }
        let metadata =
            optional(&reply, "HEAD", Header::UploadMetadata, Metadata::parse)?.unwrap_or_default();
        let completion = optional(&reply, "HEAD", Header::UploadReceipt, Completion::parse)?;
        Ok(Status {
            offset,
            length,
            metadata,
            completion,
        })
    }

    /// `HEAD`: the upload's offset.
    pub async fn offset(&self, url: &Url) -> Result<u64, Error> {
        Ok(self.status(url).await?.offset)
    }

    /// `PATCH`: sends `chunk` at `offset`, with its sha256 checksum
    /// (§Core Protocol › Requests › PATCH). An empty chunk at the end of
    /// the upload asks for the receipt again.
    pub async fn patch(&self, url: &Url, offset: u64, chunk: &[u8]) -> Result<Patched, Error> {
        self.check_origin(url)?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(OFFSET_OCTET_STREAM));
        headers.insert(CONTENT_LENGTH, HeaderValue::from(chunk.len()));
        headers.insert(Header::UploadOffset.name(), HeaderValue::from(offset));
        let checksum = Checksum::sha256(chunk).to_header_value();
        headers.insert(Header::UploadChecksum.name(), header_value(checksum)?);
        let body = Bytes::copy_from_slice(chunk);
        let reply = self
            .exchange(Method::PATCH, url, headers, Some(body))
            .await?;
        expect(&reply, "PATCH", &[StatusCode::NO_CONTENT, StatusCode::OK])?;
        let new_offset = required(&reply, "PATCH", Header::UploadOffset, |v| {
            proto::parse_u64(Header::UploadOffset, v)
        })?;
        let end = offset + chunk.len() as u64;
        if new_offset < offset || new_offset > end {
            return Err(Error::Protocol(format!(
                "PATCH response: Upload-Offset {new_offset} is outside {offset}..={end}, the range this chunk covers"
            )));
        }
        let completion = optional(&reply, "PATCH", Header::UploadReceipt, Completion::parse)?;
        Ok(Patched {
            offset: new_offset,
            completion,
        })
    }

    /// `DELETE`: terminates the upload (§Protocol Extensions ›
    /// Termination).
    pub async fn terminate(&self, url: &Url) -> Result<(), Error> {
        self.check_origin(url)?;
        let reply = self
            .exchange(Method::DELETE, url, HeaderMap::new(), None)
            .await?;
        expect(&reply, "DELETE", &[StatusCode::NO_CONTENT, StatusCode::OK])
    }

    /// `GET` of a resource beside the tus endpoint (on its origin), e.g.
    /// a list the server publishes, with the same trust, timeouts and
    /// authenticator as the tus requests. Returns the body of a `200 OK`,
    /// at most `max_body` bytes (a longer one is [`Error::Protocol`]);
    /// other statuses are sorted as for tus requests ([`Error::NotFound`],
    /// [`Error::Refused`], [`Error::Busy`], …).
    pub async fn get(&self, url: &Url, max_body: usize) -> Result<Bytes, Error> {
        let answer = self.fetch(Method::GET, url, None, max_body).await?;
        if answer.status != StatusCode::OK {
            return Err(answer.error("GET"));
        }
        Ok(answer.body)
    }

    /// A request to a resource beside the tus endpoint (on its origin)
    /// with an optional body (`(content type, bytes)`), with the same
    /// trust, timeouts and authenticator as the tus requests. Unlike
    /// [`get`](Self::get) it answers whatever the status, with the body
    /// (at most `max_body` bytes; a longer one is [`Error::Protocol`]), so
    /// that the caller can read a server's error document;
    /// [`Answer::error`] sorts a status as for tus requests. Fails only
    /// when no whole answer came back (network, timeouts), and for a URL
    /// off the endpoint's origin or a failing authenticator.
    pub async fn fetch(
        &self,
        method: Method,
        url: &Url,
        body: Option<(&'static str, Bytes)>,
        max_body: usize,
    ) -> Result<Answer, Error> {
        self.check_origin(url)?;
        let mut headers = HeaderMap::new();
        let body = body.map(|(content_type, bytes)| {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            bytes
        });
        let what = method.to_string();
        let reply = self
            .exchange_keeping(method, url, headers, body, max_body + 1)
            .await?;
        if reply.body.len() > max_body {
            return Err(Error::Protocol(format!(
                "{what} response: the body is larger than {max_body} bytes"
            )));
        }
        Ok(Answer {
            status: reply.status,
            reason: reply.reason,
            headers: reply.headers,
            body: Bytes::from(reply.body),
        })
    }

    fn check_origin(&self, url: &Url) -> Result<(), Error> {
        if url.origin() == self.config.endpoint.origin() {
            Ok(())
        } else {
            Err(Error::Usage(format!(
                "{url} is not on the origin of the endpoint {}",
                self.config.endpoint
            )))
        }
    }

    /// One request and its response, under the stall watchdog.
    async fn exchange(
        &self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Reply, Error> {
        self.exchange_keeping(method, url, headers, body, 0).await
    }

    /// [`exchange`](Self::exchange), keeping up to `keep` bytes of the
    /// response body (reading at most `keep` or [`MAX_BODY`], whichever is
    /// more).
    async fn exchange_keeping(
        &self,
        method: Method,
        url: &Url,
        mut headers: HeaderMap,
        body: Option<Bytes>,
        keep: usize,
    ) -> Result<Reply, Error> {
        headers.insert(
            Header::TusResumable.name(),
            HeaderValue::from_static(VERSION),
        );
        let body_sha256: [u8; 32] = Sha256::digest(body.as_deref().unwrap_or_default()).into();
        if let Some(auth) = &self.auth {
            let parts = RequestParts {
                method: &method,
                url,
                headers: &headers,
                body_sha256,
            };
            let extra = auth.authenticate(&parts).map_err(Error::Authenticate)?;
            for (name, value) in &extra {
                headers.insert(name, value.clone());
            }
        }
        let progress = Progress::new();
        let mut request = self.http.request(method, url.clone()).headers(headers);
        if let Some(body) = body {
            request = request.body(reqwest::Body::wrap(WatchedBody::new(body, &progress)));
        }
        let stall = self.config.stall_timeout;
        watch(
            async {
                let mut response = request.send().await.map_err(|e| Error::from_reqwest(&e))?;
                let status = response.status();
                let headers = std::mem::take(response.headers_mut());
                let mut text = Vec::new();
                let mut kept = Vec::new();
                let mut read = 0;
                while read < MAX_BODY.max(keep) {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            read += chunk.len();
                            let room = MAX_REASON.saturating_sub(text.len());
                            text.extend_from_slice(&chunk[..chunk.len().min(room)]);
                            let room = keep.saturating_sub(kept.len());
                            kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        }
                        Ok(None) => break,
                        // A broken error body still leaves the status.
                        Err(e) if !status.is_success() => {
                            tracing::debug!("error body unreadable: {e}");
                            break;
                        }
                        Err(e) => return Err(Error::from_reqwest(&e)),
                    }
                }
                let reason = String::from_utf8_lossy(&text).trim().to_owned();
                Ok(Reply {
                    status,
                    headers,
                    reason,
                    body: kept,
                })
            },
            &progress,
            stall,
        )
        .await
    }
}

fn check_endpoint(endpoint: &Url) -> Result<(), Error> {
    let loopback = match endpoint.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match endpoint.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(Error::Usage(format!(
            "{endpoint}: plain http is allowed only to a loopback address"
        ))),
        other => Err(Error::Usage(format!(
            "{endpoint}: unsupported scheme {other}"
        ))),
    }
}

fn header_value(text: String) -> Result<HeaderValue, Error> {
    HeaderValue::try_from(text).map_err(|e| Error::Usage(format!("header value: {e}")))
}

fn violation(what: &str, e: &HeaderError) -> Error {
    Error::Protocol(format!("{what} response: {e}"))
}

fn optional<T>(
    reply: &Reply,
    what: &str,
    header: Header,
    parse: impl FnOnce(&[u8]) -> Result<T, HeaderError>,
) -> Result<Option<T>, Error> {
    reply
        .headers
        .get(header.name())
        .map(|v| parse(v.as_bytes()).map_err(|e| violation(what, &e)))
        .transpose()
}

fn required<T>(
    reply: &Reply,
    what: &str,
    header: Header,
    parse: impl FnOnce(&[u8]) -> Result<T, HeaderError>,
) -> Result<T, Error> {
    optional(reply, what, header, parse)?
        .ok_or_else(|| Error::Protocol(format!("{what} response: {header}: missing")))
}

/// Accepts one of the `ok` statuses from a tus server (which must say
/// `Tus-Resumable: 1.0.0`), or sorts the failure.
fn expect(reply: &Reply, what: &str, ok: &[StatusCode]) -> Result<(), Error> {
    if !ok.contains(&reply.status) {
        return Err(status_error_of(reply, what));
    }
    match reply.headers.get(Header::TusResumable.name()) {
        None => Err(Error::Protocol(format!(
            "{what} response: Tus-Resumable: missing"
        ))),
        Some(v) => match proto::parse_resumable(v.as_bytes()) {
            Ok(version) if version == VERSION => Ok(()),
            Ok(version) => Err(Error::Protocol(format!(
                "{what} response: Tus-Resumable: version {version}, not {VERSION}"
            ))),
            Err(e) => Err(violation(what, &e)),
        },
    }
}

fn status_error_of(reply: &Reply, what: &str) -> Error {
    status_error(reply.status, &reply.headers, &reply.reason, what)
}

fn status_error(status: StatusCode, headers: &HeaderMap, reason: &str, what: &str) -> Error {
    let reason = reason.to_owned();
    match status.as_u16() {
        404 | 410 => Error::NotFound {
            status: status.as_u16(),
        },
        409 => Error::OffsetConflict { reason },
        460 => Error::ChecksumMismatch { reason },
        412 => {
            let versions = headers
                .get(Header::TusVersion.name())
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            Error::Refused {
                status: 412,
                reason: format!("{reason} (server speaks Tus-Version {versions:?})"),
            }
        }
        // Retry-After as delta-seconds; an HTTP-date is ignored.
        status @ (500 | 502 | 503 | 504) => Error::Busy {
            status,
            retry_after: headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
            reason,
        },
        status @ 400..=599 => Error::Refused { status, reason },
        status => Error::Protocol(format!("{what} response: unexpected HTTP {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_or_loopback() {
        let ok = |u: &str| check_endpoint(&Url::parse(u).unwrap()).is_ok();
        assert!(ok("https://intake.example/files/"));
        assert!(ok("http://127.0.0.1:8080/files/"));
        assert!(ok("http://[::1]/files/"));
        assert!(ok("http://localhost/files/"));
        assert!(!ok("http://intake.example/files/"));
        assert!(!ok("http://10.0.0.1/files/"));
        assert!(!ok("ftp://127.0.0.1/files/"));
    }
}
