//! The **tus 1.0.0** resumable upload protocol
//! (<https://tus.io/protocols/resumable-upload>): the core protocol and the
//! `creation`, `checksum` (sha256) and `termination` extensions.
//!
//! - [`proto`]: header names and values, parsed and formatted, free of I/O
//!   (fuzzed by `fuzz/`).
//! - [`server`]: an axum [`Router`](axum::Router) for a tus endpoint over a
//!   [`Store`](server::Store) of your own; [`MemoryStore`](server::MemoryStore)
//!   keeps uploads in memory (tests, and an example of the contract).
//! - [`client`]: an async client (reqwest + rustls with ring) with pinned
//!   trust, a request-signing hook, per-chunk sha256 checksums, resumption,
//!   retries and typed errors.
//! - [`fault`]: test equipment, a TCP proxy that resets, stalls, truncates,
//!   corrupts, answers 5xx itself or rate-limits the traffic between a
//!   client and a server.
//!
//! # Completion receipts
//!
//! When the last byte of an upload arrives, the server calls
//! [`Store::complete`](server::Store::complete); its [`Completion`] (a
//! receipt, opaque bytes of at most [`proto::MAX_RECEIPT`]) goes back to the
//! client Base64-encoded in the `Upload-Receipt` header of the `204` that
//! answers the completing `PATCH`, and of every later `HEAD`, so a client
//! that lost that response still gets it. A client that sees a complete
//! upload without a receipt sends an empty `PATCH` at the final offset, and
//! the server calls `complete` again (stores make it idempotent); this is
//! also how a completion that failed on the server is retried.

pub mod client;
pub mod fault;
pub mod proto;
pub mod server;

pub use proto::{Completion, Metadata};
