//! The client's errors, sorted by what the caller should do about them.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The server could not be reached, or the connection broke before a
    /// whole response came back (offline, refused, DNS, TLS, reset,
    /// truncated response).
    #[error("network ({kind}): {detail}")]
    Network { kind: NetworkKind, detail: String },
    /// Nothing happened for too long.
    #[error("timed out ({0})")]
    Timeout(TimeoutKind),
    /// 500, 502, 503 or 504: try again later (after `retry_after`, if the
    /// server said).
    #[error("server busy: HTTP {status}{}{}", retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default(), reason_suffix(reason))]
    Busy {
        status: u16,
        retry_after: Option<Duration>,
        reason: String,
    },
    /// The server answered something tus 1.0.0 does not allow: an
    /// unexpected status, a missing or garbled header (named), an offset
    /// that makes no sense.
    #[error("protocol violation by the server: {0}")]
    Protocol(String),
    /// A 4xx (or a 5xx other than the "busy" ones) with the server's reason.
    #[error("refused: HTTP {status}{}", reason_suffix(reason))]
    Refused { status: u16, reason: String },
    /// 404 or 410: no such upload (never created, terminated, expired).
    #[error("no such upload: HTTP {status}")]
    NotFound { status: u16 },
    /// 460: the server's checksum of the chunk differs from ours; the chunk
    /// was not stored.
    #[error("checksum mismatch: HTTP 460{}", reason_suffix(reason))]
    ChecksumMismatch { reason: String },
    /// 409: the offset we sent is not the upload's offset.
    #[error("offset conflict: HTTP 409{}", reason_suffix(reason))]
    OffsetConflict { reason: String },
    /// The authentication hook failed.
    #[error("authentication: {0}")]
    Authenticate(String),
    /// The caller's mistake: bad configuration, a URL outside the
    /// endpoint's origin, a resumed upload of another length, …
    #[error("{0}")]
    Usage(String),
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

/// What kind of network failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkKind {
    /// No connection: refused, unreachable.
    Connect,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (untrusted certificate, wrong name, …).
    Tls,
    /// The connection broke during the exchange (reset, closed early,
    /// response cut off).
    Broken,
}

impl fmt::Display for NetworkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "cannot connect",
            Self::Dns => "name resolution",
            Self::Tls => "TLS",
            Self::Broken => "connection broken",
        })
    }
}

/// Which timeout fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// `Config::connect_timeout`.
    Connect,
    /// `Config::request_timeout`: the whole exchange took too long.
    Request,
    /// `Config::stall_timeout`: neither sending nor receiving progressed.
    Stall,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connecting",
            Self::Request => "request took too long",
            Self::Stall => "transfer stalled",
        })
    }
}

impl Error {
    /// Whether trying again (after asking the server for the offset) may
    /// succeed: network failures other than TLS, timeouts, busy servers,
    /// checksum mismatches, offset conflicts and protocol violations (which
    /// a broken middlebox may cause).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network { kind, .. } => *kind != NetworkKind::Tls,
            Self::Timeout(_)
            | Self::Busy { .. }
            | Self::Protocol(_)
            | Self::ChecksumMismatch { .. }
            | Self::OffsetConflict { .. } => true,
            Self::Refused { .. }
            | Self::NotFound { .. }
            | Self::Authenticate(_)
            | Self::Usage(_) => false,
        }
    }

    /// Sorts a reqwest failure.
    pub(super) fn from_reqwest(e: &reqwest::Error) -> Self {
        let detail = chain(e);
        if e.is_timeout() {
            return Self::Timeout(if e.is_connect() {
                TimeoutKind::Connect
            } else {
                TimeoutKind::Request
            });
        }
        for link in links(e) {
            if link.is::<rustls::Error>() {
                return Self::Network {
                    kind: NetworkKind::Tls,
                    detail,
                };
            }
            if link
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            {
                return Self::Timeout(TimeoutKind::Request);
            }
        }
        let kind = if !e.is_connect() {
            NetworkKind::Broken
        } else if detail.contains("dns error") {
            NetworkKind::Dns
        } else {
            NetworkKind::Connect
        };
        Self::Network { kind, detail }
    }
}

/// An error and its sources. `io::Error::source` skips the error an
/// `io::Error` wraps (rustls errors travel that way), so that one is
/// followed instead.
fn links<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&err: &&'a (dyn StdError + 'static)| {
        match err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => err.source(),
        }
    })
}

/// An error and its sources, each text once, joined by ": ".
fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for link in links(e) {
        let text = link.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_well() {
        let busy = Error::Busy {
            status: 503,
            retry_after: Some(Duration::from_secs(2)),
            reason: "maintenance".to_owned(),
        };
        assert_eq!(
            busy.to_string(),
            "server busy: HTTP 503, retry after 2 s: maintenance"
        );
        let refused = Error::Refused {
            status: 403,
            reason: String::new(),
        };
        assert_eq!(refused.to_string(), "refused: HTTP 403");
        assert_eq!(
            Error::Timeout(TimeoutKind::Stall).to_string(),
            "timed out (transfer stalled)"
        );
    }

    #[test]
    fn transience() {
        assert!(Error::Timeout(TimeoutKind::Stall).is_transient());
        assert!(
            !Error::Network {
                kind: NetworkKind::Tls,
                detail: String::new()
            }
            .is_transient()
        );
        assert!(
            Error::Network {
                kind: NetworkKind::Broken,
                detail: String::new()
            }
            .is_transient()
        );
        assert!(!Error::NotFound { status: 404 }.is_transient());
    }
}
