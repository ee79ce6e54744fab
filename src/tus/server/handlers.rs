//! The request handlers (§Core Protocol › Requests and the creation,
//! checksum and termination extensions).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::body::{self, Ending};
use super::{Config, Refusal, RequestInfo, Store, UploadState};
use crate::proto::{
    self, Algorithm, Checksum, Header, HeaderError, Metadata, OFFSET_OCTET_STREAM, VERSION,
};

/// `460 Checksum Mismatch` (§Protocol Extensions › Checksum › Requests).
const CHECKSUM_MISMATCH: StatusCode = match StatusCode::from_u16(460) {
    Ok(status) => status,
    Err(_) => StatusCode::BAD_REQUEST,
};

pub(super) struct Shared<S> {
    pub store: Arc<S>,
    /// The normalized base path, `/files/`.
    pub base: String,
    pub config: Config,
}

type Handled = Result<Response, Rejection>;

/// A request turned down: `status`, `Tus-Resumable` and a `text/plain`
/// reason (and `Tus-Version` for 412).
struct Rejection {
    status: StatusCode,
    reason: String,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        tracing::debug!(status = %self.status, reason = %self.reason, "tus request refused");
        let status = self.status;
        let mut response = (status, self.reason).into_response();
        let headers = response.headers_mut();
        headers.insert(
            Header::TusResumable.name(),
            HeaderValue::from_static(VERSION),
        );
        if status == StatusCode::PRECONDITION_FAILED {
            headers.insert(Header::TusVersion.name(), HeaderValue::from_static(VERSION));
        }
        response
    }
}

fn error(status: StatusCode, reason: impl Into<String>) -> Rejection {
    Rejection {
        status,
        reason: reason.into(),
    }
}

/// A response with `Tus-Resumable` and the given headers.
fn reply(status: StatusCode, headers: &[(Header, HeaderValue)]) -> Response {
    let mut response = status.into_response();
    let map = response.headers_mut();
    map.insert(
        Header::TusResumable.name(),
        HeaderValue::from_static(VERSION),
    );
    for (header, value) in headers {
        map.insert(header.name(), value.clone());
    }
    response
}

fn refused(refusal: Refusal) -> Rejection {
    error(refusal.status, refusal.reason)
}

fn bad_header(e: &HeaderError) -> Rejection {
    error(StatusCode::BAD_REQUEST, e.to_string())
}

fn value(text: String) -> Result<HeaderValue, Rejection> {
    HeaderValue::try_from(text).map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// 412 unless the request says `Tus-Resumable: 1.0.0`.
fn check_version(headers: &HeaderMap) -> Result<(), Rejection> {
    let reason = match headers.get(Header::TusResumable.name()) {
        None => "Tus-Resumable: missing".to_owned(),
        Some(v) => match proto::parse_resumable(v.as_bytes()) {
            Ok(version) if version == VERSION => return Ok(()),
            Ok(version) => format!("Tus-Resumable: version {version} is not supported"),
            Err(e) => e.to_string(),
        },
    };
    Err(error(StatusCode::PRECONDITION_FAILED, reason))
}

fn header(headers: &HeaderMap, header: Header) -> Option<&[u8]> {
    headers.get(header.name()).map(HeaderValue::as_bytes)
}

fn required(headers: &HeaderMap, name: Header) -> Result<&[u8], Rejection> {
    header(headers, name).ok_or_else(|| error(StatusCode::BAD_REQUEST, format!("{name}: missing")))
}

fn info(method: Method, uri: &Uri, headers: HeaderMap, body: Option<[u8; 32]>) -> RequestInfo {
    RequestInfo {
        method,
        path_and_query: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), ToString::to_string),
        headers,
        body_sha256: body,
    }
}

/// Store ids end up in URLs: unreserved characters only (RFC 3986).
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

async fn existing<S: Store>(
    store: &S,
    id: &str,
    request: &RequestInfo,
) -> Result<UploadState, Rejection> {
    match store.state(id, request).await {
        Ok(Some(state)) => Ok(state),
        Ok(None) => Err(error(StatusCode::NOT_FOUND, "no such upload")),
        Err(refusal) => Err(refused(refusal)),
    }
}

/// `OPTIONS`: what the server supports (§Core Protocol › Requests ›
/// OPTIONS). Needs no `Tus-Resumable`.
pub(super) async fn options<S: Store>(State(shared): State<Arc<Shared<S>>>) -> Response {
    let mut headers = vec![
        (Header::TusVersion, HeaderValue::from_static(VERSION)),
        (
            Header::TusExtension,
            HeaderValue::from_static("creation,checksum,termination"),
        ),
        (
            Header::TusChecksumAlgorithm,
            HeaderValue::from_static(Algorithm::Sha256.as_str()),
        ),
    ];
    if let Some(max) = shared.config.max_size {
        headers.push((Header::TusMaxSize, HeaderValue::from(max)));
    }
    reply(StatusCode::NO_CONTENT, &headers)
}

/// `POST`: creation (§Protocol Extensions › Creation).
pub(super) async fn create<S: Store>(
    State(shared): State<Arc<Shared<S>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    request_body: Body,
) -> Response {
    let handled: Handled = async {
        check_version(&headers)?;
        if headers.contains_key("upload-defer-length") {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "Upload-Defer-Length is not supported",
            ));
        }
        let length = proto::parse_u64(
            Header::UploadLength,
            required(&headers, Header::UploadLength)?,
        )
        .map_err(|e| bad_header(&e))?;
        if let Some(max) = shared.config.max_size.filter(|&max| length > max) {
            let reason = format!("Upload-Length {length} is over Tus-Max-Size {max}");
            return Err(error(StatusCode::PAYLOAD_TOO_LARGE, reason));
        }
        let metadata = match header(&headers, Header::UploadMetadata) {
            Some(v) => Metadata::parse(v).map_err(|e| bad_header(&e))?,
            None => Metadata::new(),
        };
        let received = body::read(request_body, 0, shared.config.body_idle_timeout).await;
        if !matches!(received.ending, Ending::Whole) {
            let reason = "a creation request has no body (creation-with-upload is not supported)";
            return Err(error(StatusCode::BAD_REQUEST, reason));
        }
        let request = info(method, &uri, headers, Some(received.sha256));
        let id = shared
            .store
            .create(length, metadata, &request)
            .await
            .map_err(refused)?;
        if !valid_id(&id) {
            let reason = format!("the store made an id unfit for a URL: {id:?}");
            return Err(error(StatusCode::INTERNAL_SERVER_ERROR, reason));
        }
        let mut response = reply(StatusCode::CREATED, &[]);
        response
            .headers_mut()
            .insert(LOCATION, value(format!("{}{id}", shared.base))?);
        Ok(response)
    }
    .await;
    handled.unwrap_or_else(IntoResponse::into_response)
}

/// `HEAD`: the offset (§Core Protocol › Requests › HEAD).
pub(super) async fn head<S: Store>(
    State(shared): State<Arc<Shared<S>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let handled: Handled = async {
        check_version(&headers)?;
        let request = info(method, &uri, headers, Some(Sha256::digest(b"").into()));
        let state = existing(&*shared.store, &id, &request).await?;
        let mut fields = vec![
            (Header::UploadOffset, HeaderValue::from(state.offset)),
            (Header::UploadLength, HeaderValue::from(state.length)),
        ];
        if !state.metadata.is_empty() {
            fields.push((
                Header::UploadMetadata,
                value(state.metadata.to_header_value())?,
            ));
        }
        if let Some(done) = &state.completion {
            let receipt = done.to_header_value().map_err(|e| bad_receipt(&e))?;
            fields.push((Header::UploadReceipt, value(receipt)?));
        }
        let mut response = reply(StatusCode::OK, &fields);
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(response)
    }
    .await;
    handled.unwrap_or_else(IntoResponse::into_response)
}

fn bad_receipt(e: &HeaderError) -> Rejection {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the store's receipt: {e}"),
    )
}

/// `PATCH`: appends a chunk (§Core Protocol › Requests › PATCH, with
/// §Protocol Extensions › Checksum).
pub(super) async fn patch<S: Store>(
    State(shared): State<Arc<Shared<S>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    request_body: Body,
) -> Response {
    let handled: Handled = async {
        check_version(&headers)?;
        let content_type = headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes);
        let essence = content_type.map(|t| t.split(|&b| b == b';').next().unwrap_or(t));
        if !essence.is_some_and(|t| {
            proto::trim_ows(t).eq_ignore_ascii_case(OFFSET_OCTET_STREAM.as_bytes())
        }) {
            let reason = format!("Content-Type must be {OFFSET_OCTET_STREAM}");
            return Err(error(StatusCode::UNSUPPORTED_MEDIA_TYPE, reason));
        }
        let offset = proto::parse_u64(
            Header::UploadOffset,
            required(&headers, Header::UploadOffset)?,
        )
        .map_err(|e| bad_header(&e))?;
        let checksum = header(&headers, Header::UploadChecksum)
            .map(Checksum::parse)
            .transpose()
            .map_err(|e| bad_header(&e))?;
        let mut request = info(method, &uri, headers, None);
        let state = existing(&*shared.store, &id, &request).await?;
        if offset != state.offset {
            let reason = format!(
                "Upload-Offset is {offset}, the upload's offset is {}",
                state.offset
            );
            return Err(error(StatusCode::CONFLICT, reason));
        }
        let limit = (state.length - state.offset).min(shared.config.max_chunk as u64);
        let too_large = || {
            let reason = format!(
                "the body is over {limit} bytes (the upload lacks {}, a PATCH takes at most {})",
                state.length - state.offset,
                shared.config.max_chunk
            );
            error(StatusCode::PAYLOAD_TOO_LARGE, reason)
        };
        let content_length = request
            .headers
            .get(CONTENT_LENGTH)
            .map(HeaderValue::as_bytes);
        if content_length
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > limit)
        {
            return Err(too_large());
        }
        let received = body::read(request_body, limit, shared.config.body_idle_timeout).await;
        request.body_sha256 = Some(received.sha256);
        let cut = match received.ending {
            Ending::Whole => None,
            Ending::TooLarge => return Err(too_large()),
            Ending::Cut(how) => Some(how),
        };
        match (&checksum, &cut) {
            (Some(_), Some(how)) => {
                let reason =
                    format!("the body was cut off ({how}); the partial chunk was discarded");
                return Err(error(StatusCode::BAD_REQUEST, reason));
            }
            (Some(sum), None) if !sum.matches(&received.sha256) => {
                let reason = format!(
                    "the body's sha256 is not the one in Upload-Checksum ({} bytes received)",
                    received.bytes.len()
                );
                return Err(error(CHECKSUM_MISMATCH, reason));
            }
            _ => {}
        }
        let mut new_offset = offset;
        if !received.bytes.is_empty() {
            let len = received.bytes.len() as u64;
            new_offset = shared
                .store
                .append(&id, offset, received.bytes, &request)
                .await
                .map_err(refused)?;
            if new_offset != offset + len {
                let reason = format!(
                    "the store moved the offset from {offset} to {new_offset} for {len} bytes"
                );
                return Err(error(StatusCode::INTERNAL_SERVER_ERROR, reason));
            }
        }
        if let Some(how) = cut {
            let reason =
                format!("the body was cut off ({how}); the upload's offset is now {new_offset}");
            return Err(error(StatusCode::BAD_REQUEST, reason));
        }
        let mut fields = vec![(Header::UploadOffset, HeaderValue::from(new_offset))];
        if new_offset == state.length {
            let done = match state.completion {
                Some(done) => done,
                None => shared
                    .store
                    .complete(&id, &request)
                    .await
                    .map_err(refused)?,
            };
            let receipt = done.to_header_value().map_err(|e| bad_receipt(&e))?;
            fields.push((Header::UploadReceipt, value(receipt)?));
        }
        Ok(reply(StatusCode::NO_CONTENT, &fields))
    }
    .await;
    handled.unwrap_or_else(IntoResponse::into_response)
}

/// `DELETE`: termination (§Protocol Extensions › Termination).
pub(super) async fn delete<S: Store>(
    State(shared): State<Arc<Shared<S>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let handled: Handled = async {
        check_version(&headers)?;
        let request = info(method, &uri, headers, Some(Sha256::digest(b"").into()));
        existing(&*shared.store, &id, &request).await?;
        shared
            .store
            .terminate(&id, &request)
            .await
            .map_err(refused)?;
        Ok(reply(StatusCode::NO_CONTENT, &[]))
    }
    .await;
    handled.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_fit_in_urls() {
        assert!(valid_id("0001-a.b_c~"));
        assert!(!valid_id(""));
        assert!(!valid_id("a/b"));
        assert!(!valid_id("a b"));
        assert!(!valid_id("é"));
    }

    #[test]
    fn checksum_mismatch_is_460() {
        assert_eq!(CHECKSUM_MISMATCH.as_u16(), 460);
    }
}
