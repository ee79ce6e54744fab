//! **Test equipment**: a TCP proxy on `127.0.0.1` that sits between a
//! client and a server and misbehaves on purpose.
//!
//! ```text
//! client ──▶ Proxy (127.0.0.1:random) ──▶ upstream server
//! ```
//!
//! What it can do, by [`Rule`]s matched against each request (or each
//! connection, see [`Mode`]):
//! - pass bytes through untouched (no rule matches);
//! - [`Fault::Reset`] the connection (TCP RST both ways) at a byte of the
//!   request body or of the response;
//! - [`Fault::Close`] it cleanly there (a truncated response, when the point
//!   is in the response);
//! - [`Fault::Stall`]: stop forwarding for a while there;
//! - [`Fault::Corrupt`] one byte (flip all its bits);
//! - [`Fault::Reply`] itself with a canned `500`/`503` (with `Retry-After`)
//!   instead of forwarding the request;
//! - and, for all traffic, [`Proxy::set_rate_limit`]: a token bucket of B
//!   bytes per second in each direction (what a goodput benchmark wants).
//!
//! [`Proxy::counts`] reports the bytes forwarded each way, connections,
//! requests and faults fired.
//!
//! # Modes
//!
//! In [`Mode::Http`] the proxy reads the request heads of plain HTTP/1.1
//! (framed by `Content-Length`; a chunked request body is forwarded but ends
//! request tracking on that connection) so rules can pick requests by
//! method and order, and byte points count from the start of the request
//! body or of the response. It assumes requests are not pipelined (true of
//! reqwest): a response fault applies to the bytes the server sends after
//! the request's head. In [`Mode::Raw`] (TLS, or anything else) the proxy
//! sees opaque bytes: each connection is one unit, and byte points count
//! from the start of the connection in each direction.

mod bucket;
mod conn;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use bucket::Bucket;

/// Where in an exchange a fault happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// After this many bytes of the request body (client → server); for
    /// [`Fault::Corrupt`], the byte at this index.
    RequestBody(u64),
    /// After this many bytes of the response (server → client); for
    /// [`Fault::Corrupt`], the byte at this index.
    Response(u64),
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Abort both connections with a TCP reset at the point.
    Reset(At),
    /// Close both connections cleanly (FIN) at the point: with
    /// [`At::Response`], a truncated response.
    Close(At),
    /// Stop forwarding at the point for the duration, then go on.
    Stall(At, Duration),
    /// Flip every bit of the byte at the point.
    Corrupt(At),
    /// Do not forward the request: read it, answer `status` (with
    /// `Retry-After: retry_after` seconds if given) and close.
    Reply {
        status: u16,
        retry_after: Option<u64>,
    },
}

/// A fault and the requests it hits: of the requests matching the method
/// filter, the first `skip` pass and the next `times` get the fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    method: Option<String>,
    skip: u32,
    times: u32,
    fault: Fault,
}

impl Rule {
    /// `fault` on the next request (any method), once.
    pub fn new(fault: Fault) -> Self {
        Self {
            method: None,
            skip: 0,
            times: 1,
            fault,
        }
    }

    /// Only requests with this method (never matches in [`Mode::Raw`]).
    #[must_use]
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Lets the first `n` matching requests through.
    #[must_use]
    pub fn skip(mut self, n: u32) -> Self {
        self.skip = n;
        self
    }

    /// Hits `n` requests (after the skipped ones).
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }
}

/// How the proxy sees the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain HTTP/1.1: rules apply per request.
    Http,
    /// Opaque bytes (TLS): rules apply per connection.
    Raw,
}

/// What went through the proxy so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Bytes forwarded client → server.
    pub to_server: u64,
    /// Bytes forwarded server → client (canned replies included).
    pub to_client: u64,
    pub connections: u64,
    /// Request heads seen ([`Mode::Http`] only).
    pub requests: u64,
    /// Faults that fired.
    pub faults: u64,
}

struct RuleState {
    rule: Rule,
    seen: u32,
    fired: u32,
}

#[derive(Default)]
struct Counters {
    to_server: AtomicU64,
    to_client: AtomicU64,
    connections: AtomicU64,
    requests: AtomicU64,
    faults: AtomicU64,
}

/// State shared by the proxy's connections.
struct Shared {
    upstream: SocketAddr,
    mode: Mode,
    rules: Mutex<Vec<RuleState>>,
    /// Client → server and server → client buckets.
    rate: Mutex<Option<(Bucket, Bucket)>>,
    counters: Counters,
}

impl Shared {
    fn rules(&self) -> MutexGuard<'_, Vec<RuleState>> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fault for the next unit (request or connection) with `method`.
    fn pick(&self, method: Option<&str>) -> Option<Fault> {
        let mut chosen = None;
        for state in self.rules().iter_mut() {
            let matches = match (&state.rule.method, method) {
                (None, _) => true,
                (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
                (Some(_), None) => false,
            };
            if !matches {
                continue;
            }
            state.seen += 1;
            if chosen.is_none() && state.seen > state.rule.skip && state.fired < state.rule.times {
                state.fired += 1;
                chosen = Some(state.rule.fault);
            }
        }
        chosen
    }

    /// Waits until `n` bytes may go in this direction.
    async fn pace(&self, to_server: bool, n: usize) {
        let wait = {
            let mut rate = self.rate.lock().unwrap_or_else(PoisonError::into_inner);
            rate.as_mut().map(|(up, down)| {
                let bucket = if to_server { up } else { down };
                bucket.take(n as u64)
            })
        };
        if let Some(wait) = wait.filter(|w| !w.is_zero()) {
            tokio::time::sleep(wait).await;
        }
    }

    fn forwarded(&self, to_server: bool, n: usize) {
        let counter = if to_server {
            &self.counters.to_server
        } else {
            &self.counters.to_client
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// A running proxy; it stops (with all its connections) when dropped.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on `127.0.0.1` (a free port) and forwards every connection
    /// to `upstream`.
    pub async fn start(upstream: SocketAddr, mode: Mode) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            mode,
            rules: Mutex::new(Vec::new()),
            rate: Mutex::new(None),
            counters: Counters::default(),
        });
        let task = tokio::spawn(accept(listener, Arc::clone(&shared)));
        Ok(Self { addr, shared, task })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds a rule (after the existing ones; the first rule that fires
    /// for a request wins).
    pub fn add(&self, rule: Rule) {
        self.shared.rules().push(RuleState {
            rule,
            seen: 0,
            fired: 0,
        });
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.shared.rules().clear();
    }

    /// Limits each direction to `bytes_per_second` (token bucket holding
    /// 50 ms worth of bytes, at least 1 KiB), shared by all connections;
    /// `None` lifts the limit.
    pub fn set_rate_limit(&self, bytes_per_second: Option<u64>) {
        let buckets = bytes_per_second.map(|rate| (Bucket::new(rate), Bucket::new(rate)));
        *self
            .shared
            .rate
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = buckets;
    }

    pub fn counts(&self) -> Counts {
        let c = &self.shared.counters;
        Counts {
            to_server: c.to_server.load(Ordering::Relaxed),
            to_client: c.to_client.load(Ordering::Relaxed),
            connections: c.connections.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
            faults: c.faults.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepts connections until aborted; aborting drops the connection tasks.
async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    shared.counters.connections.fetch_add(1, Ordering::Relaxed);
                    connections.spawn(conn::run(client, Arc::clone(&shared)));
                }
                Err(e) => tracing::warn!("fault proxy: accept: {e}"),
            },
            Some(done) = connections.join_next(), if !connections.is_empty() => {
                if let Ok(Err(e)) = done {
                    tracing::debug!("fault proxy: connection: {e}");
                }
            }
        }
    }
}
