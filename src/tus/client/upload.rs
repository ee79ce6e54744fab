//! [`Client::upload`]: a whole upload, resumed and retried.

use std::time::Duration;

use super::{Client, Error, Retry, Status, Url};
use crate::{Completion, Metadata};

/// A finished upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub url: Url,
    /// The server's receipt ([`crate::Completion`]); `None` from a server
    /// that gives none.
    pub completion: Option<Completion>,
    /// The offset the server had when this call started (0 for a new
    /// upload).
    pub resumed_from: u64,
    /// Body bytes this call sent in `PATCH`es, resent ones included.
    pub sent: u64,
}

/// An upload that stopped on an error that is not transient, or after
/// [`Retry::attempts`] consecutive transient ones. Resume it by passing
/// `url` to [`Client::upload`] again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("upload interrupted at byte {offset}{}: {error}", url.as_ref().map(|u| format!(" of {u}")).unwrap_or_default())]
pub struct Interrupted {
    /// The upload's URL, once it was created (or the one given to resume).
    pub url: Option<Url>,
    /// The last offset the server confirmed.
    pub offset: u64,
    pub error: Error,
}

/// Counts consecutive failures and waits between attempts.
struct Backoff<'a> {
    policy: &'a Retry,
    failures: u32,
}

impl Backoff<'_> {
    /// Waits before the next attempt, or hands `error` back if it is not
    /// transient or the attempts are used up.
    async fn setback(&mut self, error: Error) -> Result<(), Error> {
        if !error.is_transient() || self.failures >= self.policy.attempts {
            return Err(error);
        }
        self.failures += 1;
        let wait = match &error {
            Error::Busy {
                retry_after: Some(after),
                ..
            } => (*after).min(self.policy.max_delay),
            // The server is there and answering: ask it right away.
            Error::OffsetConflict { .. } | Error::ChecksumMismatch { .. } => Duration::ZERO,
            _ => self.policy.delay,
        };
        tracing::info!(failures = self.failures, wait_ms = wait.as_millis(), %error, "tus: retrying");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    fn succeeded(&mut self) {
        self.failures = 0;
    }
}

impl Client {
    /// Uploads `data`, in `PATCH`es of at most `chunk_size` bytes, each with
    /// its sha256 checksum.
    ///
    /// With `resume`, asks that upload's offset first (`HEAD`) and sends
    /// only the rest; if the server no longer knows it (404/410), creates a
    /// new upload. After a failed `PATCH` (broken connection, timeout, busy
    /// server, 409, 460, garbled reply) it asks the offset again before it
    /// goes on, so at most the unconfirmed part of one chunk is sent twice.
    ///
    /// `progress(url, offset, total)` is called once the upload's URL is
    /// known (before any byte is sent: store the URL to resume after a
    /// crash) and after every confirmed chunk.
    pub async fn upload(
        &self,
        data: &[u8],
        metadata: &Metadata,
        resume: Option<Url>,
        chunk_size: usize,
        mut progress: impl FnMut(&Url, u64, u64),
    ) -> Result<Outcome, Interrupted> {
        let total = data.len() as u64;
        let mut backoff = Backoff {
            policy: &self.config.retry,
            failures: 0,
        };
        let stop = |url: Option<&Url>, offset, error| Interrupted {
            url: url.cloned(),
            offset,
            error,
        };
        if chunk_size == 0 {
            return Err(stop(
                resume.as_ref(),
                0,
                Error::Usage("chunk size 0".to_owned()),
            ));
        }
        let known = match &resume {
            Some(url) => self
                .resume_point(url, total, &mut backoff)
                .await
                .map_err(|e| stop(Some(url), 0, e))?,
            None => None,
        };
        let (url, status) = match known {
            Some(known) => known,
            None => {
                let url = loop {
                    match self.create(total, metadata).await {
                        Ok(url) => break url,
                        Err(e) => backoff.setback(e).await.map_err(|e| stop(None, 0, e))?,
                    }
                };
                let fresh = Status {
                    offset: 0,
                    length: Some(total),
                    metadata: metadata.clone(),
                    completion: None,
                };
                (url, fresh)
            }
        };
        backoff.succeeded();
        let resumed_from = status.offset;
        let mut offset = status.offset;
        let mut completion = status.completion;
        let mut sent = 0u64;
        let mut ask = false;
        progress(&url, offset, total);
        loop {
            if ask {
                match self.status(&url).await {
                    Ok(status) => {
                        check_length(&status, total).map_err(|e| stop(Some(&url), offset, e))?;
                        (offset, completion, ask) = (status.offset, status.completion, false);
                        progress(&url, offset, total);
                    }
                    Err(e) => {
                        backoff
                            .setback(e)
                            .await
                            .map_err(|e| stop(Some(&url), offset, e))?;
                        continue;
                    }
                }
            }
            if offset == total && completion.is_some() {
                break;
            }
            let start = usize::try_from(offset).unwrap_or(data.len());
            let end = start.saturating_add(chunk_size).min(data.len());
            let chunk = &data[start..end];
            sent += chunk.len() as u64;
            let failure = match self.patch(&url, offset, chunk).await {
                Ok(patched) if patched.offset > offset || chunk.is_empty() => {
                    backoff.succeeded();
                    offset = patched.offset;
                    completion = patched.completion.or(completion);
                    progress(&url, offset, total);
                    if offset == total {
                        break;
                    }
                    continue;
                }
                Ok(_) => {
                    Error::Protocol(format!("PATCH response: no progress from offset {offset}"))
                }
                Err(e) => e,
            };
            backoff
                .setback(failure)
                .await
                .map_err(|e| stop(Some(&url), offset, e))?;
            ask = true;
        }
        Ok(Outcome {
            url,
            completion,
            resumed_from,
            sent,
        })
    }

    /// The state of the upload at `url`, `None` if the server no longer
    /// knows it.
    async fn resume_point(
        &self,
        url: &Url,
        total: u64,
        backoff: &mut Backoff<'_>,
    ) -> Result<Option<(Url, Status)>, Error> {
        loop {
            match self.status(url).await {
                Ok(status) => {
                    check_length(&status, total)?;
                    return Ok(Some((url.clone(), status)));
                }
                Err(Error::NotFound { .. }) => return Ok(None),
                Err(e) => backoff.setback(e).await?,
            }
        }
    }
}

fn check_length(status: &Status, total: u64) -> Result<(), Error> {
    match status.length {
        Some(length) if length != total => Err(Error::Usage(format!(
            "the upload being resumed is {length} bytes long, the data {total}"
        ))),
        _ if status.offset > total => Err(Error::Protocol(format!(
            "HEAD response: Upload-Offset {} is past the data's {total} bytes",
            status.offset
        ))),
        _ => Ok(()),
    }
}
