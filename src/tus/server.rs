//! A tus 1.0.0 endpoint as an axum [`Router`], over a [`Store`].
//!
//! ```text
//! OPTIONS {base}  {base}{id}   204, Tus-Version/-Extension/-Max-Size/-Checksum-Algorithm
//! POST    {base}               creation: 201 + Location: {base}{id}; 413 over Tus-Max-Size
//! HEAD    {base}{id}           200 + Upload-Offset, Upload-Length, Cache-Control: no-store
//! PATCH   {base}{id}           204 + Upload-Offset; 409 offset, 415 type, 460 checksum
//! DELETE  {base}{id}           termination: 204
//! ```
//!
//! Every request but `OPTIONS` must carry `Tus-Resumable: 1.0.0`, or it is
//! answered `412` with `Tus-Version` and not processed (§Core Protocol ›
//! Headers › Tus-Resumable). Every response but those to `OPTIONS` carries
//! `Tus-Resumable: 1.0.0` as well. Errors have a `text/plain` body saying
//! what was wrong (a header error names the header).
//!
//! # PATCH bodies
//!
//! The router checks the headers and the offset before it reads the body,
//! then reads it (at most [`Config::max_chunk`] bytes, and no more than the
//! upload still lacks; more is `413`, and nothing is stored), with
//! [`Config::body_idle_timeout`] between pieces. If the body is cut off
//! (the client went away, the connection broke, or it stalled):
//! - with `Upload-Checksum`, nothing is stored: the part that arrived cannot
//!   be checked, so it is discarded as a chunk that fails its checksum;
//! - without, the bytes that arrived are appended (tus core semantics, so a
//!   plain tus client loses nothing), and the client learns the new offset
//!   from its next `HEAD`.
//!
//! A complete body with a wrong checksum is `460 Checksum Mismatch`
//! (§Protocol Extensions › Checksum › Requests); an algorithm other than
//! `sha256` is `400`.
//!
//! # Completion
//!
//! See the [crate documentation](crate#completion-receipts): the `PATCH`
//! that brings the offset to the length calls [`Store::complete`] and
//! returns its receipt in `Upload-Receipt`.
//!
//! Not implemented: `X-HTTP-Method-Override`, `Upload-Defer-Length`
//! (refused with `400`), `creation-with-upload` (a `POST` body is refused
//! with `400`), expiration and concatenation.

mod body;
mod handlers;
mod memory;
mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{options, post};

pub use memory::MemoryStore;
pub use store::{Refusal, RequestInfo, Store, UploadState};

/// How the endpoint behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the endpoint is mounted: creation is `POST {base_path}`
    /// (with or without the trailing slash) and uploads live at
    /// `{base_path}{id}`. A missing leading or trailing `/` is added.
    pub base_path: String,
    /// `Tus-Max-Size`: the largest upload accepted; larger creations get
    /// `413`. `None` advertises no limit.
    pub max_size: Option<u64>,
    /// The largest `PATCH` body accepted; larger ones get `413`.
    pub max_chunk: usize,
    /// The longest wait for the next piece of a `PATCH` body before the
    /// body counts as cut off.
    pub body_idle_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            base_path: "/files/".to_owned(),
            max_size: None,
            max_chunk: 16 * 1024 * 1024,
            body_idle_timeout: Duration::from_secs(30),
        }
    }
}

impl Config {
    /// `base_path` with exactly one leading and one trailing slash.
    fn normalized_base(&self) -> String {
        let inner = self.base_path.trim_matches('/');
        if inner.is_empty() {
            "/".to_owned()
        } else {
            format!("/{inner}/")
        }
    }
}

/// The tus endpoint, ready to be served as is
/// (`axum::serve(listener, router(store, config))`) or merged into an
/// application's router with `Router::merge` (its routes carry the full
/// [`Config::base_path`]; `Router::nest` would strip the prefix from the
/// path that [`RequestInfo`] shows the store).
pub fn router<S: Store>(store: Arc<S>, config: Config) -> Router {
    let base = config.normalized_base();
    let upload = format!("{base}{{id}}");
    let shared = Arc::new(handlers::Shared {
        store,
        base: base.clone(),
        config,
    });
    let creation = post(handlers::create::<S>).options(handlers::options::<S>);
    let mut router = Router::new().route(&base, creation.clone());
    if base != "/" {
        router = router.route(base.trim_end_matches('/'), creation);
    }
    router
        .route(
            &upload,
            options(handlers::options::<S>)
                .head(handlers::head::<S>)
                .patch(handlers::patch::<S>)
                .delete(handlers::delete::<S>),
        )
        .with_state(shared)
}

#[cfg(test)]
mod tests {
    use super::Config;

    #[test]
    fn base_paths_are_normalized() {
        let base = |p: &str| {
            Config {
                base_path: p.to_owned(),
                ..Config::default()
            }
            .normalized_base()
        };
        assert_eq!(base("/files/"), "/files/");
        assert_eq!(base("files"), "/files/");
        assert_eq!(base("/api/tus"), "/api/tus/");
        assert_eq!(base(""), "/");
        assert_eq!(base("/"), "/");
    }
}
