//! The stall timeout: a request body that records when it was last taken
//! by the connection, and a watchdog over the whole exchange.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

use super::{Error, TimeoutKind};

/// Pieces handed to the connection at a time.
const PIECE: usize = 16 * 1024;

/// When an exchange last made progress.
pub(super) struct Progress {
    start: Instant,
    /// Milliseconds from `start` to the last progress.
    last: AtomicU64,
}

impl Progress {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            last: AtomicU64::new(0),
        })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// A request body of known length, handed over in pieces; each piece
/// taken counts as progress.
pub(super) struct WatchedBody {
    data: Bytes,
    progress: Arc<Progress>,
}

impl WatchedBody {
    pub fn new(data: Bytes, progress: &Arc<Progress>) -> Self {
        Self {
            data,
            progress: Arc::clone(progress),
        }
    }
}

impl http_body::Body for WatchedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.data.is_empty() {
            return Poll::Ready(None);
        }
        let n = self.data.len().min(PIECE);
        let piece = self.data.split_to(n);
        self.progress.touch();
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.len() as u64)
    }
}

/// Runs `exchange`, failing with [`TimeoutKind::Stall`] once `progress`
/// has not moved for `stall`.
pub(super) async fn watch<T>(
    exchange: impl Future<Output = Result<T, Error>>,
    progress: &Progress,
    stall: Duration,
) -> Result<T, Error> {
    tokio::pin!(exchange);
    loop {
        let idle = progress.idle();
        if idle >= stall {
            return Err(Error::Timeout(TimeoutKind::Stall));
        }
        tokio::select! {
            result = &mut exchange => return result,
            () = tokio::time::sleep(stall - idle) => {}
        }
    }
}
