//! The storage contract behind the router.

use std::future::Future;

use axum::http::{HeaderMap, Method, StatusCode};
use bytes::Bytes;

use crate::{Completion, Metadata};

/// What the store may want to know about the request it serves: enough to
/// authenticate it (a signature over the method, path, chosen headers and
/// body hash, say).
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub method: Method,
    /// The request target's path and query, as received (for example
    /// `/files/0001`).
    pub path_and_query: String,
    pub headers: HeaderMap,
    /// SHA-256 of the body as received. `None` while the body has not been
    /// read: the router asks [`Store::state`] for a `PATCH`'s offset before
    /// it reads the body, so a store that verifies a signature covering the
    /// body does so in [`Store::append`] (or [`Store::complete`]), which
    /// always get it. For a `PATCH` whose body was cut off, it is the hash
    /// of the bytes that did arrive.
    pub body_sha256: Option<[u8; 32]>,
}

/// A store's "no", sent to the client as `status` with `reason` as a
/// `text/plain` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {reason}")]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

impl Refusal {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }

    /// `404 Not Found`: no such upload (§Core Protocol › Requests › HEAD).
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "no such upload")
    }

    /// `409 Conflict`: the offset moved under a concurrent request.
    pub fn conflict(current: u64) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            format!("the upload's offset is {current}"),
        )
    }

    /// `500 Internal Server Error`, for the store's own failures.
    pub fn internal(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, reason)
    }
}

/// What a store knows about one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadState {
    /// Bytes received so far.
    pub offset: u64,
    pub length: u64,
    pub metadata: Metadata,
    /// What [`Store::complete`] returned, once it has succeeded; the router
    /// sends it with every `HEAD` of a complete upload. A store that keeps
    /// no completions returns `None`, and then clients ask again with an
    /// empty `PATCH` (which calls `complete` again).
    pub completion: Option<Completion>,
}

/// Storage for uploads. Every method gets the [`RequestInfo`] of the
/// request it serves, and may refuse it with any status (401/403 for an
/// unauthenticated station, 413 for a size the store will not take, 503
/// when busy, …).
///
/// The router calls the methods in this order: `state` before it acts on
/// an existing upload (a `None` answers `404`), then `append` once the
/// body is in and checked, then `complete` when the offset reaches the
/// length. Ids are the last segment of the upload's URL; they must be
/// non-empty and made of `A–Z a–z 0–9 - . _ ~` (the router refuses others
/// with 500).
pub trait Store: Send + Sync + 'static {
    /// A new upload of `length` bytes (the router has already checked
    /// `length` against [`Config::max_size`](super::Config::max_size)).
    /// Returns its id.
    fn create(
        &self,
        length: u64,
        metadata: Metadata,
        request: &RequestInfo,
    ) -> impl Future<Output = Result<String, Refusal>> + Send;

    /// The upload's state, `None` if there is no such upload (or it was
    /// terminated).
    fn state(
        &self,
        id: &str,
        request: &RequestInfo,
    ) -> impl Future<Output = Result<Option<UploadState>, Refusal>> + Send;

    /// Appends `bytes` (never empty) at `offset` and returns the new
    /// offset, `offset + bytes.len()`. The router has checked that `offset`
    /// was the current offset and that `bytes` fit in the length, and has
    /// verified the chunk's checksum, if one was sent. A concurrent request
    /// may have moved the offset since: the store must then refuse with
    /// [`Refusal::conflict`] and append nothing. The bytes must be durable
    /// when this returns (the client forgets them once it sees the new
    /// offset).
    fn append(
        &self,
        id: &str,
        offset: u64,
        bytes: Bytes,
        request: &RequestInfo,
    ) -> impl Future<Output = Result<u64, Refusal>> + Send;

    /// Called inside the `PATCH` that brings the offset to the length (and
    /// again for an empty `PATCH` at the end while [`UploadState::completion`]
    /// is `None`): the upload is whole. Its [`Completion`] reaches the
    /// client in the `Upload-Receipt` header; a refusal reaches it as the
    /// `PATCH`'s status and reason. Must be idempotent.
    fn complete(
        &self,
        id: &str,
        request: &RequestInfo,
    ) -> impl Future<Output = Result<Completion, Refusal>> + Send;

    /// Terminates the upload (§Protocol Extensions › Termination): its
    /// bytes may be freed, and later requests for it get `404`.
    fn terminate(
        &self,
        id: &str,
        request: &RequestInfo,
    ) -> impl Future<Output = Result<(), Refusal>> + Send;
}
