//! Reading a `PATCH` body: bounded, with an idle timeout, hashed.

use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

/// How a body ended.
pub(super) enum Ending {
    /// All of it arrived.
    Whole,
    /// It broke off (stream error or idle timeout); the text says how.
    Cut(String),
    /// It went past the limit; nothing of it may be used.
    TooLarge,
}

pub(super) struct Received {
    pub bytes: Bytes,
    pub sha256: [u8; 32],
    pub ending: Ending,
}

/// Reads `body`, keeping at most `limit` bytes.
pub(super) async fn read(body: Body, limit: u64, idle: Duration) -> Received {
    let mut body = body;
    let mut buf = BytesMut::new();
    let mut hasher = Sha256::new();
    let ending = loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => break Ending::Cut(format!("no data for {} ms", idle.as_millis())),
            Ok(None) => break Ending::Whole,
            Ok(Some(Err(e))) => break Ending::Cut(e.to_string()),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if buf.len() as u64 + data.len() as u64 > limit {
            break Ending::TooLarge;
        }
        hasher.update(&data);
        buf.extend_from_slice(&data);
    };
    Received {
        bytes: buf.freeze(),
        sha256: hasher.finalize().into(),
        ending,
    }
}
