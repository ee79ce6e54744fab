//! The upload worker: takes due packets from the outbox (oldest first,
//! under a lock token, several at a time), sends each with tus to the
//! intake (resuming from the intake's offset after a drop or a restart),
//! checks the intake's signed receipt, and settles the row: acknowledged,
//! rejected with the reason, or failed with the next attempt time
//! (exponential backoff with jitter). Packets the authority asks for again
//! (`GET /v1/resend`, [`Uploader::check_resends`]) go first. Runs inside
//! the window and as the headless `pishkhan upload` daemon; both share the
//! outbox safely.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use pishkhan_tus::Metadata;
use pishkhan_tus::client::{self, Client, Trust};

use crate::config::UploadConfig;
use crate::intake::receipt::{Reason, SignedReceipt, Status};
use crate::intake::resend::Resends;
use crate::intake::{PACKET_ID_KEY, auth};
use crate::packet::sha256_hex;
use crate::station::Station;
use crate::store::audit;
use crate::store::outbox::{self, AskedAgain, Claim, OutboxError, Stored};

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("uploads are not configured ([upload] url)")]
    NotConfigured,
    #[error("[upload] {0}")]
    Config(String),
    #[error("another uploader (the station window or `pishkhan upload`) already runs for {0}")]
    Busy(String),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("re-send requests: {0}")]
    Resends(String),
}

/// How often a running uploader asks the intake for re-sends.
pub const RESEND_POLL: Duration = Duration::from_secs(300);
/// The largest answer to `GET /v1/resend` read.
const MAX_RESENDS_BYTES: usize = 1024 * 1024;

/// The link as the worker last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Link {
    #[default]
    Unknown,
    Online,
    /// The intake could not be reached (network, TLS, timeouts).
    Offline,
}

/// What the status bar shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub link: Link,
    /// Packet being sent, bytes sent and total.
    pub current: Option<(String, u64, u64)>,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Acknowledged {
        id: String,
    },
    Rejected {
        id: String,
        reason: String,
    },
    /// Will be tried again at `next`.
    Failed {
        id: String,
        error: String,
        next: String,
    },
}

/// The file whose exclusive lock marks the one uploader of a data
/// directory (the window or the daemon, not both).
pub const LOCK_FILE: &str = "upload.lock";

pub struct Uploader {
    /// Held for the uploader's life: the OS releases it if the process dies.
    _lock: std::fs::File,
    station: Arc<Station>,
    client: Client,
    intake_key: VerifyingKey,
    config: UploadConfig,
    pub progress: Arc<Mutex<Progress>>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

/// A wait of `base · 2^(attempt−1)` capped at `max`, times a random
/// factor in [0.5, 1.5) so that stations do not retry in step.
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let capped = exp.min(max);
    let mut random = [0u8; 2];
    let _ = getrandom::fill(&mut random);
    let factor = 0.5 + f64::from(u16::from_le_bytes(random)) / 65_536.0;
    capped.mul_f64(factor)
}

/// The reason code a refusal's body starts with (`wrong-key: …`).
fn refusal_code(body: &str) -> Option<Reason> {
    Reason::ALL
        .into_iter()
        .find(|r| body.starts_with(&format!("{}:", r.code())))
}

/// A request refusal that is a verdict on this station, final until a
/// supervisor resolves it: it is not registered, or with another key.
/// Everything else request authentication says (a clock off by more than
/// the intake allows, a header missing or unreadable) is retried.
fn station_refused(reason: Reason) -> bool {
    matches!(reason, Reason::UnregisteredStation | Reason::WrongKey)
}

/// What the operator reads for a failed row's stored error (`last_error`):
/// the intake's clock-skew refusal with its numbers, the other refusals
/// and receipt problems of ours in their words, anything else (a network
/// or TLS error) as stored.
pub fn error_text(stored: &str) -> crate::text::Text {
    use crate::text::Text;
    if let Some(skew) = auth::parse_skew(stored) {
        return Text::new(if skew.ahead {
            "err-upload-clock-ahead"
        } else {
            "err-upload-clock-behind"
        })
        .arg("seconds", skew.seconds.to_string())
        .arg("allowed", skew.allowed.to_string());
    }
    if let Some(code) = refusal_code(stored) {
        let detail = stored[code.code().len() + 1..].trim();
        return Text::new("err-upload-request-refused")
            .arg("reason", code.text_id())
            .code("detail", detail);
    }
    if stored == NO_RECEIPT {
        return Text::new("err-upload-no-receipt");
    }
    if let Some(detail) = stored.strip_prefix(BAD_RECEIPT) {
        return Text::new("err-upload-bad-receipt").code("detail", detail);
    }
    Text::new("err-upload-other").code("detail", stored)
}

const NO_RECEIPT: &str = "the intake gave no receipt";
const BAD_RECEIPT: &str = "the intake's receipt: ";

/// Whether another process (the `pishkhan upload` service, or another
/// window) holds this data directory's upload lock ([`LOCK_FILE`]).
pub fn held_elsewhere(data_dir: &std::path::Path) -> bool {
    use fs4::fs_std::FileExt;
    let Ok(file) = std::fs::OpenOptions::new()
        .write(true)
        .open(data_dir.join(LOCK_FILE))
    else {
        // No lock file: no uploader ever ran here.
        return false;
    };
    // Taken and released at once (the file closes when dropped).
    matches!(file.try_lock_exclusive(), Ok(false))
}

/// The client configuration for the intake of `[upload]`: its endpoint
/// (`url`) and whom to trust (`server_certificate`, a path relative to
/// `data_dir`, pinned; else the system's roots). Shared by the uploader
/// and the pre-registration sync.
pub fn client_config(
    data_dir: &std::path::Path,
    config: &UploadConfig,
) -> Result<client::Config, UploadError> {
    let url = config.url.as_deref().ok_or(UploadError::NotConfigured)?;
    let endpoint =
        url::Url::parse(url).map_err(|e| UploadError::Config(format!("url {url:?}: {e}")))?;
    let trust = match &config.server_certificate {
        Some(path) => {
            let pem = std::fs::read(data_dir.join(path))
                .map_err(|e| UploadError::Config(format!("server_certificate {path}: {e}")))?;
            Trust::pinned_pem(&pem).map_err(|e| UploadError::Config(e.to_string()))?
        }
        None => Trust::system(),
    };
    let mut tus = client::Config::new(endpoint);
    tus.trust = trust;
    Ok(tus)
}

/// A client of the intake whose every request is signed with the station
/// key ([`auth`]: method, path and query, date, station id).
pub fn signed_client(station: Arc<Station>, config: client::Config) -> Result<Client, UploadError> {
    Ok(Client::new(config)
        .map_err(|e| UploadError::Config(e.to_string()))?
        .with_authenticator(move |parts: &client::RequestParts<'_>| {
            let path = match parts.url.query() {
                Some(q) => format!("{}?{q}", parts.url.path()),
                None => parts.url.path().to_owned(),
            };
            let mut headers = reqwest::header::HeaderMap::new();
            for (name, value) in station.sign_request(parts.method.as_str(), &path) {
                let value = value.parse().map_err(|e| format!("{name}: {e}"))?;
                headers.insert(name, value);
            }
            Ok(headers)
        }))
}

/// A signed client of the intake of `config` for requests beside the
/// tus endpoint (the appointment list, applicant status, the intake's
/// clock), each taking at most `request_timeout`. Find their addresses
/// with [`beside_endpoint`].
pub fn intake_client(
    station: Arc<Station>,
    config: &UploadConfig,
    request_timeout: Duration,
) -> Result<Client, UploadError> {
    let mut tus = client_config(&station.data_dir, config)?;
    tus.request_timeout = request_timeout;
    signed_client(station, tus)
}

/// The address of `resource` (a relative path such as `v1/appointments`)
/// beside the tus `endpoint`: the endpoint's last path segment (`files/`)
/// is replaced, and its query dropped. `https://intake.example/files/` →
/// `https://intake.example/v1/appointments`.
pub fn beside_endpoint(endpoint: &client::Url, resource: &str) -> Result<client::Url, String> {
    let mut base = endpoint.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    let mut url = base
        .join(&format!("../{resource}"))
        .map_err(|e| format!("{endpoint}: {e}"))?;
    url.set_query(None);
    Ok(url)
}

impl Uploader {
    /// An uploader with the station's `[upload]` configuration.
    pub fn new(station: Arc<Station>) -> Result<Self, UploadError> {
        let config = station.config.upload.clone();
        Self::with_config(station, config)
    }

    pub fn with_config(station: Arc<Station>, config: UploadConfig) -> Result<Self, UploadError> {
        use fs4::fs_std::FileExt;
        let lock_path = station.data_dir.join(LOCK_FILE);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| UploadError::Config(format!("{}: {e}", lock_path.display())))?;
        if !lock
            .try_lock_exclusive()
            .map_err(|e| UploadError::Config(format!("{}: {e}", lock_path.display())))?
        {
            return Err(UploadError::Busy(station.data_dir.display().to_string()));
        }
        // We are the only uploader: rows left `uploading` belong to a dead
        // one, whatever their lease says.
        let recovered =
            station.with_db(|db| outbox::recover(db, chrono::Utc::now() + outbox::LEASE))?;
        if recovered > 0 {
            tracing::info!("{recovered} interrupted upload(s) queued again");
        }
        let mut tus = client_config(&station.data_dir, &config)?;
        let intake_key = config
            .intake_key
            .as_deref()
            .and_then(|k| hex::decode(k).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .ok_or_else(|| UploadError::Config("intake_key is not a valid Ed25519 key".into()))?;
        // The worker retries across attempts itself (with backoff and a
        // record in the outbox); inside one attempt, a few quick retries.
        tus.retry.attempts = 3;
        tus.retry.delay = Duration::from_millis(500);
        tus.stall_timeout = Duration::from_millis(config.stall_timeout_ms);
        let client = signed_client(station.clone(), tus)?;
        Ok(Self {
            _lock: lock,
            station,
            client,
            intake_key,
            config,
            progress: Arc::new(Mutex::new(Progress::default())),
        })
    }

    /// The link as the last request found it.
    pub fn link(&self) -> Link {
        self.progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .link
    }

    /// How long a sender waits between probes of an unreachable intake:
    /// the first retry wait, within 1 s to 1 minute.
    fn offline_probe(&self) -> Duration {
        Duration::from_millis(self.config.retry_base_ms)
            .clamp(Duration::from_secs(1), Duration::from_secs(60))
    }

    fn set_progress(&self, f: impl FnOnce(&mut Progress)) {
        f(&mut self
            .progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    /// Claims one due packet and tries to send it. `None`: nothing is due.
    pub async fn send_one(&self) -> Result<Option<Sent>, UploadError> {
        let Some(claim) = self.station.with_db(|db| outbox::claim(db, &now()))? else {
            return Ok(None);
        };
        let result = self.attempt(&claim).await;
        self.set_progress(|p| p.current = None);
        result.map(Some)
    }

    async fn attempt(&self, claim: &Claim) -> Result<Sent, UploadError> {
        let Stored::V3(file) = self.station.with_db(|db| outbox::stored(db, &claim.id))? else {
            // `claim` takes only format 3.
            return Err(UploadError::Config(format!(
                "{} is not a format-3 packet",
                claim.id
            )));
        };
        let bytes = file.to_bytes();
        let sha256 = sha256_hex(&bytes);
        let mut metadata = Metadata::new();
        metadata
            .insert(PACKET_ID_KEY, claim.idempotency_key.as_bytes())
            .and_then(|()| metadata.insert("header", file.header_json.clone()))
            .map_err(|e| UploadError::Config(e.to_string()))?;
        let resume = self
            .station
            .with_db(|db| outbox::upload_url(db, &claim.id))?
            .and_then(|u| url::Url::parse(&u).ok());
        let mut saved_url = resume.is_some();
        let mut touched = std::time::Instant::now();
        let outcome = self
            .client
            .upload(
                &bytes,
                &metadata,
                resume,
                self.config.chunk_bytes as usize,
                |url, sent, total| {
                    if !saved_url {
                        saved_url = true;
                        if let Err(e) = self
                            .station
                            .with_db(|db| outbox::set_upload_url(db, claim, url.as_str()))
                        {
                            tracing::warn!("remembering the upload URL of {}: {e}", claim.id);
                        }
                    }
                    self.set_progress(|p| p.current = Some((claim.id.clone(), sent, total)));
                    // Keep the claim alive on a long upload (see outbox::LEASE).
                    if touched.elapsed() > Duration::from_secs(30) {
                        touched = std::time::Instant::now();
                        if let Err(e) = self.station.with_db(|db| outbox::touch(db, claim)) {
                            tracing::warn!("renewing the claim on {}: {e}", claim.id);
                        }
                    }
                },
            )
            .await;
        match outcome {
            Ok(done) => {
                self.set_progress(|p| p.link = Link::Online);
                let Some(completion) = done.completion else {
                    return self.fail(claim, NO_RECEIPT);
                };
                let signed: Result<SignedReceipt, _> = serde_json::from_slice(&completion.receipt);
                let receipt = signed.map_err(|e| e.to_string()).and_then(|s| {
                    s.verify(&self.intake_key, &claim.idempotency_key, &sha256)
                        .map(|r| (s, r))
                        .map_err(|e| e.to_string())
                });
                let (signed, receipt) = match receipt {
                    Ok(pair) => pair,
                    Err(e) => return self.fail(claim, &format!("{BAD_RECEIPT}{e}")),
                };
                let signed_json = serde_json::to_string(&signed).unwrap_or_default();
                match receipt.status {
                    Status::Accepted => {
                        self.station
                            .with_db(|db| outbox::acknowledge(db, claim, &now(), &signed_json))?;
                        tracing::info!(packet = %claim.id, "acknowledged by the intake");
                        Ok(Sent::Acknowledged {
                            id: claim.id.clone(),
                        })
                    }
                    Status::Rejected => {
                        let code = receipt.reason.map_or("malformed", Reason::code);
                        let detail = receipt.detail.unwrap_or_default();
                        self.station.with_db(|db| {
                            outbox::reject(db, claim, code, &detail, Some(&signed_json))
                        })?;
                        tracing::warn!(packet = %claim.id, reason = code, "rejected by the intake: {detail}");
                        Ok(Sent::Rejected {
                            id: claim.id.clone(),
                            reason: code.to_owned(),
                        })
                    }
                }
            }
            Err(interrupted) => {
                let error = &interrupted.error;
                if let client::Error::Refused {
                    status: 403,
                    reason,
                } = error
                {
                    // The intake answered: refused the request's
                    // authentication (`auth`: reason code first).
                    self.set_progress(|p| p.link = Link::Online);
                    if let Some(code) = refusal_code(reason).filter(|r| station_refused(*r)) {
                        // The intake will not take this station's requests:
                        // kept, visible, until a supervisor resolves it.
                        self.station
                            .with_db(|db| outbox::reject(db, claim, code.code(), reason, None))?;
                        tracing::warn!(packet = %claim.id, reason = code.code(), "refused by the intake: {reason}");
                        return Ok(Sent::Rejected {
                            id: claim.id.clone(),
                            reason: code.code().to_owned(),
                        });
                    }
                    // A clock to set, a request to repeat: retried, with
                    // the intake's answer kept as the row's error.
                    return self.fail(claim, reason);
                }
                if matches!(
                    error,
                    client::Error::Network { .. } | client::Error::Timeout(_)
                ) {
                    self.set_progress(|p| p.link = Link::Offline);
                }
                self.fail(claim, &error.to_string())
            }
        }
    }

    fn fail(&self, claim: &Claim, error: &str) -> Result<Sent, UploadError> {
        let wait = backoff(
            claim.attempt,
            Duration::from_millis(self.config.retry_base_ms),
            Duration::from_millis(self.config.retry_max_ms),
        );
        let next = (chrono::Utc::now()
            + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX))
        .to_rfc3339();
        self.station
            .with_db(|db| outbox::fail(db, claim, error, &next))?;
        tracing::info!(packet = %claim.id, attempt = claim.attempt, %next, "upload failed: {error}");
        Ok(Sent::Failed {
            id: claim.id.clone(),
            error: error.to_owned(),
            next,
        })
    }

    /// Asks the intake (`GET /v1/resend`) which of this station's packets
    /// the authority needs again, and puts each at the head of the queue
    /// ([`outbox::ask_again`]), with an audit line for those that will be
    /// sent again. An intake without re-sends (a plain tus server) answers
    /// 404: nothing is asked.
    pub async fn check_resends(&self) -> Result<Vec<(String, AskedAgain)>, UploadError> {
        let url = beside_endpoint(&self.client.config().endpoint, "v1/resend")
            .map_err(UploadError::Config)?;
        let body = match self.client.get(&url, MAX_RESENDS_BYTES).await {
            Ok(body) => body,
            Err(client::Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(UploadError::Resends(e.to_string())),
        };
        let asked: Resends = serde_json::from_slice(&body)
            .map_err(|e| UploadError::Resends(format!("the intake's answer: {e}")))?;
        let mut done = Vec::new();
        for resend in asked.packets {
            let outcome = self.station.with_db(|db| {
                let outcome = outbox::ask_again(db, &resend.packet_id, &resend.reason)?;
                if matches!(outcome, AskedAgain::Queued | AskedAgain::Hurried) {
                    audit::record(
                        db,
                        self.station.signing_key(),
                        "intake",
                        "resend-asked",
                        Some(&resend.packet_id),
                        Some(&resend.reason),
                    )?;
                }
                Ok::<_, crate::store::StoreError>(outcome)
            })?;
            match outcome {
                AskedAgain::Gone => tracing::warn!(
                    packet = %resend.packet_id,
                    "the authority asks for a packet this station no longer keeps: {}",
                    resend.reason
                ),
                AskedAgain::Queued | AskedAgain::Hurried => tracing::info!(
                    packet = %resend.packet_id,
                    "the authority asks for the packet again: {}",
                    resend.reason
                ),
                AskedAgain::AlreadyAsked | AskedAgain::Rejected => {}
            }
            done.push((resend.packet_id, outcome));
        }
        Ok(done)
    }

    /// [`Self::check_resends`], a failure only logged: the link may be down,
    /// and the packets go on either way.
    async fn check_resends_logged(&self) {
        if let Err(e) = self.check_resends().await {
            tracing::info!("re-send requests not fetched: {e}");
        }
    }

    /// Sends until nothing is left to send: due packets now, failed ones
    /// when their time comes, after asking the intake for re-sends.
    /// Returns when the outbox holds no pending or failed format-3 packet.
    pub async fn drain(&self) -> Result<Vec<Sent>, UploadError> {
        self.check_resends_logged().await;
        let mut done = Vec::new();
        loop {
            match self.send_one().await? {
                Some(sent) => done.push(sent),
                None => match self.station.with_db(outbox::next_due)? {
                    None => return Ok(done),
                    Some(due) => {
                        let wait = chrono::DateTime::parse_from_rfc3339(&due)
                            .ok()
                            .and_then(|t| {
                                (t.with_timezone(&chrono::Utc) - chrono::Utc::now())
                                    .to_std()
                                    .ok()
                            })
                            .unwrap_or(Duration::from_millis(50));
                        tokio::time::sleep(wait.min(Duration::from_secs(5))).await;
                    }
                },
            }
        }
    }

    /// Runs forever: `concurrency` senders, each polling when idle and,
    /// while the intake cannot be reached, probing it instead of failing
    /// one packet after another; and the re-send requests fetched at start
    /// and every [`RESEND_POLL`].
    pub async fn run(self: Arc<Self>) {
        let mut tasks = tokio::task::JoinSet::new();
        let me = self.clone();
        tasks.spawn(async move {
            loop {
                me.check_resends_logged().await;
                tokio::time::sleep(RESEND_POLL).await;
            }
        });
        for _ in 0..self.config.concurrency.max(1) {
            let me = self.clone();
            tasks.spawn(async move {
                loop {
                    if me.link() == Link::Offline {
                        // While the intake cannot be reached, ask it whether
                        // it is back (tus OPTIONS) rather than fail packet
                        // after packet: their attempts and backoff stay.
                        if me.client.options().await.is_err() {
                            tokio::time::sleep(me.offline_probe()).await;
                            continue;
                        }
                        tracing::info!("the intake can be reached again");
                        me.set_progress(|p| p.link = Link::Online);
                    }
                    match me.send_one().await {
                        Ok(Some(_)) => continue,
                        Ok(None) => tokio::time::sleep(Duration::from_secs(2)).await,
                        Err(e) => {
                            tracing::error!("upload worker: {e}");
                            tokio::time::sleep(Duration::from_secs(10)).await;
                        }
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// Uploads running beside the window, on a thread of their own, and the
/// pre-registration sync beside them.
pub struct Background {
    pub progress: Arc<Mutex<Progress>>,
    /// Where packets go (`[upload] url`, or the embedded demo intake).
    pub endpoint: String,
    /// The appointment list sync (`None` when it cannot run, e.g. the
    /// office code is not one the intake knows; the reason is logged).
    pub prereg: Option<crate::prereg::sync::SyncHandle>,
    /// The `[upload]` configuration the uploader uses (the embedded
    /// intake's in demo mode): what [`crate::status`] asks the same
    /// intake with.
    pub config: UploadConfig,
}

/// The folder of the demo intake inside a demo station's data directory.
pub const DEMO_INTAKE_DIR: &str = "demo-intake";

/// Starts uploading in the background: to `[upload] url` when configured;
/// in demo mode without one, to an intake embedded on loopback (its data in
/// `demo-intake/`, decrypting with the demo authority key, serving a
/// synthetic appointment list of today), so that the whole path runs on one
/// laptop. The office's appointment list is synced from the same intake at
/// start and every 10 minutes ([`crate::prereg::sync`]). `None`: uploads
/// are not configured.
pub fn start_background(station: Arc<Station>) -> Result<Option<Background>, UploadError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pishkhan-upload")
        .enable_all()
        .build()
        .map_err(|e| UploadError::Config(format!("upload threads: {e}")))?;
    let (uploader, intake) = if station.config.upload.url.is_some() {
        (Uploader::new(station)?, None)
    } else if station.demo {
        let dir = station.data_dir.join(DEMO_INTAKE_DIR);
        let (intake, listener) = runtime.block_on(demo_intake(&station, &dir))?;
        let address = listener
            .local_addr()
            .map_err(|e| UploadError::Config(format!("demo intake: {e}")))?;
        let config = UploadConfig {
            url: Some(format!("http://{address}{}", crate::intake::FILES_PATH)),
            intake_key: Some(hex::encode(intake.verifying_key().as_bytes())),
            retry_base_ms: 1_000,
            retry_max_ms: 30_000,
            ..station.config.upload.clone()
        };
        (
            Uploader::with_config(station, config)?,
            Some((intake, listener)),
        )
    } else {
        return Ok(None);
    };
    let syncer = match crate::prereg::sync::Syncer::new(uploader.station.clone(), &uploader.config)
    {
        Ok(syncer) => Some(syncer),
        Err(e) => {
            tracing::warn!("{e}");
            None
        }
    };
    let uploader = Arc::new(uploader);
    let handle = syncer
        .as_ref()
        .map(|_| crate::prereg::sync::SyncHandle::default());
    if let Some(handle) = &handle {
        uploader.station.attach_prereg_sync(handle.clone());
    }
    let background = Background {
        progress: uploader.progress.clone(),
        endpoint: uploader.config.url.clone().unwrap_or_default(),
        prereg: handle.clone(),
        config: uploader.config.clone(),
    };
    let progress = uploader.progress.clone();
    std::thread::Builder::new()
        .name("pishkhan-upload".into())
        .spawn(move || {
            runtime.block_on(async move {
                if let Some((intake, listener)) = intake {
                    tokio::spawn(async move {
                        if let Err(e) = intake.serve(listener).await {
                            tracing::error!("demo intake stopped: {e}");
                        }
                    });
                }
                if let (Some(syncer), Some(handle)) = (syncer, handle) {
                    tokio::spawn(syncer.run(handle, Some(progress)));
                }
                uploader.run().await;
            });
        })
        .map_err(|e| UploadError::Config(format!("upload thread: {e}")))?;
    Ok(Some(background))
}

/// The embedded demo intake: the station registered, the demo authority
/// identity to decrypt with, a loopback port of its own.
async fn demo_intake(
    station: &Station,
    dir: &std::path::Path,
) -> Result<(Arc<crate::intake::Intake>, tokio::net::TcpListener), UploadError> {
    let problem = |e: &dyn std::fmt::Display| UploadError::Config(format!("demo intake: {e}"));
    std::fs::create_dir_all(dir).map_err(|e| problem(&e))?;
    let identity = station.data_dir.join(crate::station::DEMO_IDENTITY_FILE);
    // Loopback on one laptop: plain HTTP.
    let config = crate::intake::IntakeConfig {
        listen: "127.0.0.1:0".into(),
        tls: false,
        identities: vec![identity],
        ..crate::intake::IntakeConfig::default()
    };
    let text = toml::to_string_pretty(&config).map_err(|e| problem(&e))?;
    std::fs::write(dir.join(crate::intake::CONFIG_FILE), text).map_err(|e| problem(&e))?;
    let intake = Arc::new(crate::intake::Intake::open(dir).map_err(|e| problem(&e))?);
    let id = station.id.to_string();
    intake
        .register(&id, &station.verifying_key(), "this demo station")
        .map_err(|e| problem(&e))?;
    // The demo office's pre-registrations: a synthetic list of today,
    // written once (an imported list is left alone).
    let office = &station.config.station.office;
    if crate::prereg::is_office_code(office) {
        intake
            .set_office(&id, Some(office))
            .map_err(|e| problem(&e))?;
        match intake.seed_demo_appointments(office) {
            Ok(true) => tracing::info!(office, "demo appointment list of today written"),
            Ok(false) => {}
            Err(e) => tracing::warn!("demo appointment list: {e}"),
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| problem(&e))?;
    Ok((intake, listener))
}

/// The request headers that authenticate this station.
impl Station {
    pub fn sign_request(&self, method: &str, path_and_query: &str) -> [(&'static str, String); 3] {
        auth::sign(
            &self.id.to_string(),
            self.signing_key(),
            method,
            path_and_query,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_of_half_either_way() {
        let base = Duration::from_millis(1_000);
        let max = Duration::from_millis(60_000);
        for attempt in 1..=12u32 {
            let exact = (base * 2u32.pow(attempt - 1)).min(max);
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..200 {
                let wait = backoff(attempt, base, max);
                assert!(
                    wait >= exact / 2 && wait < exact * 3 / 2,
                    "attempt {attempt}: {wait:?} outside [{:?}, {:?})",
                    exact / 2,
                    exact * 3 / 2
                );
                seen.insert(wait);
            }
            assert!(seen.len() > 50, "attempt {attempt}: jitter varies");
        }
        // Growth: on average each attempt waits twice the one before.
        let mean = |attempt| {
            (0..400)
                .map(|_| backoff(attempt, base, max).as_secs_f64())
                .sum::<f64>()
                / 400.0
        };
        let (first, second, third) = (mean(1), mean(2), mean(3));
        assert!((0.9..1.1).contains(&first), "{first}");
        assert!((1.8..2.2).contains(&second), "{second}");
        assert!((3.6..4.4).contains(&third), "{third}");
        // The cap holds for any attempt, even absurd ones (no overflow).
        for attempt in [7, 40, 1_000, u32::MAX] {
            assert!(backoff(attempt, base, max) < max * 3 / 2);
        }
        assert_eq!(backoff(0, Duration::ZERO, max), Duration::ZERO);
    }

    #[test]
    fn only_refusals_of_the_station_are_final() {
        assert!(station_refused(Reason::UnregisteredStation));
        assert!(station_refused(Reason::WrongKey));
        assert!(!station_refused(Reason::ClockSkew));
        assert!(!station_refused(Reason::Malformed));
        assert_eq!(
            refusal_code("clock-skew: the station's clock is 3 s behind the intake's"),
            Some(Reason::ClockSkew)
        );
        assert_eq!(refusal_code("connection refused"), None);
    }

    #[test]
    fn stored_errors_read_in_the_operators_words() {
        let skew = "clock-skew: the station's clock is 420 s ahead of the intake's \
                    (Pishkhan-Date 2026-11-22T09:07:00Z, intake 2026-11-22T09:00:00Z); at most 300 s allowed";
        let text = error_text(skew);
        assert_eq!(text.id, "err-upload-clock-ahead");
        assert_eq!(
            text.args,
            [("seconds", "420".to_owned()), ("allowed", "300".to_owned())]
        );
        let refused = error_text("malformed: no Pishkhan-Date header");
        assert_eq!(refused.id, "err-upload-request-refused");
        assert_eq!(refused.args[0], ("reason", "reason-malformed".to_owned()));
        assert_eq!(error_text(NO_RECEIPT).id, "err-upload-no-receipt");
        assert_eq!(
            error_text("the intake's receipt: the receipt's signature does not verify").id,
            "err-upload-bad-receipt"
        );
        let other = error_text("network: connection refused");
        assert_eq!(other.id, "err-upload-other");
        assert_eq!(other.verbatim, ["detail"]);
        for lang in [crate::i18n::Lang::Fa, crate::i18n::Lang::En] {
            let i18n = crate::i18n::I18n::new(lang);
            let shown = i18n.text(&error_text(skew));
            assert!(!shown.contains("err-"), "{shown}");
        }
    }
}
