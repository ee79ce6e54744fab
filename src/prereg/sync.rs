//! Fetching the office's appointment list from the intake into the
//! station's encrypted cache.
//!
//! `GET <intake>/v1/appointments?office=<[station] office>` goes through
//! the uploader's client ([`upload::client_config`],
//! [`upload::signed_client`]): the same `[upload] url` (the list lives
//! beside the tus endpoint: `…/files/` → `…/v1/appointments`), the same
//! pinned certificate and the same request signature with the station key.
//! The reply must be a valid list of the office asked for; it then replaces
//! the cached one ([`cache::save`]).
//!
//! [`Syncer::run`] syncs at start and then every [`INTERVAL`]; after a
//! failure to reach the intake it tries again sooner (from 30 s, doubling,
//! at most [`INTERVAL`]). It sleeps in between, and wakes early when asked
//! ([`SyncHandle::sync_now`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pishkhan_tus::client::{self, Client, Url};
use tokio::sync::Notify;

use super::{AppointmentList, cache, is_office_code};
use crate::config::UploadConfig;
use crate::station::Station;
use crate::text::Text;
use crate::upload::{self, Link, Progress, UploadError};

/// How often the list is fetched while the link is up.
pub const INTERVAL: Duration = Duration::from_secs(10 * 60);
/// The first wait after the intake could not be reached.
const RETRY_FIRST: Duration = Duration::from_secs(30);
/// The largest list accepted (some 40 000 appointments).
const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

/// Why a sync did not refresh the cached list. The cached list stays as
/// it was in every case.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "pre-registrations cannot be synced: the intake's address is not configured ([upload] url)"
    )]
    NotConfigured,
    #[error("pre-registrations cannot be synced: {0}")]
    Config(String),
    #[error("the intake cannot be reached ({0}); the cached appointment list is used meanwhile")]
    Offline(String),
    #[error(
        "the intake does not accept this station's signature (HTTP 401: {0}); the station must \
         be registered at the intake with its current key, and its clock must be right"
    )]
    Unauthenticated(String),
    #[error(
        "the intake does not give this station the appointments of office {office} (HTTP 403: \
         {detail}); check [station] office"
    )]
    Forbidden { office: String, detail: String },
    #[error("the intake has no appointment list for office {0}")]
    NoList(String),
    #[error("the intake could not answer (HTTP {status}){detail}")]
    Intake { status: u16, detail: String },
    #[error("the intake's answer is not a valid appointment list: {0}")]
    BadReply(String),
    #[error("the intake sent the appointment list of office {got} when asked for office {asked}")]
    WrongOffice { asked: String, got: String },
    #[error("the pre-registration cache: {0}")]
    Cache(#[from] cache::CacheError),
}

impl SyncError {
    /// What the operator reads, in their language.
    pub fn text(&self) -> Text {
        match self {
            SyncError::NotConfigured => Text::new("err-prereg-sync-not-configured"),
            SyncError::Config(detail) => {
                Text::new("err-prereg-sync-config").arg("detail", detail.clone())
            }
            SyncError::Offline(_) => Text::new("err-prereg-sync-offline"),
            SyncError::Unauthenticated(_) => Text::new("err-prereg-sync-unauthenticated"),
            SyncError::Forbidden { office, .. } => {
                Text::new("err-prereg-sync-forbidden").arg("office", office.clone())
            }
            SyncError::NoList(office) => {
                Text::new("err-prereg-sync-no-list").arg("office", office.clone())
            }
            SyncError::Intake { status, .. } => {
                Text::new("err-prereg-sync-intake").arg("status", status.to_string())
            }
            SyncError::BadReply(detail) => {
                Text::new("err-prereg-sync-bad-reply").arg("detail", detail.clone())
            }
            SyncError::WrongOffice { asked, got } => Text::new("err-prereg-sync-wrong-office")
                .arg("asked", asked.clone())
                .arg("got", got.clone()),
            SyncError::Cache(e) => Text::new("err-prereg-cache").arg("detail", e.to_string()),
        }
    }

    /// The intake could not be reached (network, TLS, timeouts).
    pub fn is_offline(&self) -> bool {
        matches!(self, SyncError::Offline(_))
    }

    fn from_client(error: client::Error, office: &str) -> Self {
        use client::Error as E;
        let suffix = |reason: String| {
            if reason.is_empty() {
                reason
            } else {
                format!(": {reason}")
            }
        };
        match error {
            E::Network { .. } | E::Timeout(_) => SyncError::Offline(error.to_string()),
            E::Refused {
                status: 401,
                reason,
            } => SyncError::Unauthenticated(reason),
            E::Refused {
                status: 403,
                reason,
            } => SyncError::Forbidden {
                office: office.to_owned(),
                detail: reason,
            },
            E::NotFound { .. } => SyncError::NoList(office.to_owned()),
            E::Refused { status, reason } | E::Busy { status, reason, .. } => SyncError::Intake {
                status,
                detail: suffix(reason),
            },
            E::ChecksumMismatch { reason } => SyncError::Intake {
                status: 460,
                detail: suffix(reason),
            },
            E::OffsetConflict { reason } => SyncError::Intake {
                status: 409,
                detail: suffix(reason),
            },
            E::Protocol(detail) => SyncError::BadReply(detail),
            E::Authenticate(detail) | E::Usage(detail) => SyncError::Config(detail),
        }
    }
}

impl From<UploadError> for SyncError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::NotConfigured => SyncError::NotConfigured,
            other => SyncError::Config(other.to_string()),
        }
    }
}

/// A sync that refreshed the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub office: String,
    /// Appointments in the list (those the intake knows to be used are
    /// left out by it).
    pub appointments: usize,
    /// When the list was fetched, RFC 3339.
    pub fetched_at: String,
}

/// What the window shows about syncing.
#[derive(Debug, Clone, Default)]
pub struct SyncState {
    /// The last sync that refreshed the cache.
    pub last: Option<Synced>,
    /// The last attempt's error; cleared by a success.
    pub error: Option<Arc<SyncError>>,
    /// When the last attempt ended, RFC 3339.
    pub attempted_at: Option<String>,
}

/// The window's hold on the background sync.
#[derive(Debug, Clone, Default)]
pub struct SyncHandle {
    pub state: Arc<Mutex<SyncState>>,
    wake: Arc<Notify>,
}

impl SyncHandle {
    /// The state now (a copy).
    pub fn state(&self) -> SyncState {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Asks for a sync now instead of at the next interval.
    pub fn sync_now(&self) {
        self.wake.notify_one();
    }
}

/// Where the list of `office` is, beside the tus `endpoint`: the
/// endpoint's last path segment (`files/`) is replaced by
/// `v1/appointments` ([`upload::beside_endpoint`]).
pub fn appointments_url(endpoint: &Url, office: &str) -> Result<Url, SyncError> {
    let mut url =
        upload::beside_endpoint(endpoint, "v1/appointments").map_err(SyncError::Config)?;
    url.query_pairs_mut().append_pair("office", office);
    Ok(url)
}

/// Syncs one station's office list from one intake.
pub struct Syncer {
    station: Arc<Station>,
    client: Client,
    url: Url,
    office: String,
}

impl Syncer {
    /// A syncer for the station's office with `config` (the `[upload]`
    /// section, or the demo intake's).
    pub fn new(station: Arc<Station>, config: &UploadConfig) -> Result<Self, SyncError> {
        let office = station.config.station.office.clone();
        if !is_office_code(&office) {
            return Err(SyncError::Config(format!(
                "[station] office {office:?} is not an office code the intake knows (ASCII \
                 letters, digits, '-' and '_')"
            )));
        }
        let client = upload::intake_client(station.clone(), config, Duration::from_secs(60))?;
        let url = appointments_url(&client.config().endpoint, &office)?;
        Ok(Self {
            station,
            client,
            url,
            office,
        })
    }

    /// Where the list is fetched from.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Fetches the list once and replaces the cached one.
    pub async fn sync_once(&self) -> Result<Synced, SyncError> {
        let body = self
            .client
            .get(&self.url, MAX_LIST_BYTES)
            .await
            .map_err(|e| SyncError::from_client(e, &self.office))?;
        let list: AppointmentList =
            serde_json::from_slice(&body).map_err(|e| SyncError::BadReply(e.to_string()))?;
        if list.office != self.office {
            return Err(SyncError::WrongOffice {
                asked: self.office.clone(),
                got: list.office,
            });
        }
        list.validate()
            .map_err(|e| SyncError::BadReply(e.to_string()))?;
        let fetched_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let key = self.station.prereg_key();
        self.station
            .with_db(|db| cache::save(db, &key, &list, &fetched_at))?;
        tracing::info!(
            office = %self.office,
            count = list.appointments.len(),
            "appointment list synced"
        );
        Ok(Synced {
            office: self.office.clone(),
            appointments: list.appointments.len(),
            fetched_at,
        })
    }

    /// Syncs now, then every [`INTERVAL`] (sooner after the intake could
    /// not be reached), recording each outcome in `handle` and the link
    /// state in `progress`. Runs until its task is dropped.
    pub async fn run(self, handle: SyncHandle, progress: Option<Arc<Mutex<Progress>>>) {
        let mut retry = RETRY_FIRST;
        loop {
            let result = self.sync_once().await;
            let wait = match &result {
                Ok(_) => {
                    retry = RETRY_FIRST;
                    INTERVAL
                }
                Err(e) if e.is_offline() => {
                    let wait = retry;
                    retry = (retry * 2).min(INTERVAL);
                    wait
                }
                Err(_) => INTERVAL,
            };
            if let Some(progress) = &progress {
                let link = match &result {
                    Ok(_) => Some(Link::Online),
                    Err(e) if e.is_offline() => Some(Link::Offline),
                    Err(_) => None,
                };
                if let Some(link) = link {
                    progress
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .link = link;
                }
            }
            {
                let mut state = handle
                    .state
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                state.attempted_at = Some(chrono::Utc::now().to_rfc3339());
                match result {
                    Ok(synced) => {
                        state.last = Some(synced);
                        state.error = None;
                    }
                    Err(e) => {
                        tracing::warn!("pre-registration sync: {e}");
                        state.error = Some(Arc::new(e));
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = handle.wake.notified() => {}
            }
        }
    }
}

/// Fetches the station's office list once with `config` and caches it.
pub async fn sync_once(station: Arc<Station>, config: &UploadConfig) -> Result<Synced, SyncError> {
    Syncer::new(station, config)?.sync_once().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_lives_beside_the_tus_endpoint() {
        let url = |endpoint: &str| {
            appointments_url(&Url::parse(endpoint).expect("url"), "TEH-12")
                .expect("joins")
                .to_string()
        };
        assert_eq!(
            url("https://intake.example/files/"),
            "https://intake.example/v1/appointments?office=TEH-12"
        );
        assert_eq!(
            url("https://intake.example/files"),
            "https://intake.example/v1/appointments?office=TEH-12"
        );
        assert_eq!(
            url("https://gw.example/intake/files/?x=1"),
            "https://gw.example/intake/v1/appointments?office=TEH-12"
        );
        assert_eq!(
            url("http://127.0.0.1:4600/files/"),
            "http://127.0.0.1:4600/v1/appointments?office=TEH-12"
        );
    }

    #[test]
    fn client_errors_become_distinct_sync_errors() {
        use client::Error as E;
        let sorted = |e| SyncError::from_client(e, "TEH-12");
        assert!(
            sorted(E::Network {
                kind: client::NetworkKind::Connect,
                detail: "refused".into()
            })
            .is_offline()
        );
        assert!(sorted(E::Timeout(client::TimeoutKind::Connect)).is_offline());
        assert!(matches!(
            sorted(E::Refused {
                status: 401,
                reason: "wrong-key: …".into()
            }),
            SyncError::Unauthenticated(r) if r.starts_with("wrong-key")
        ));
        assert!(matches!(
            sorted(E::Refused {
                status: 403,
                reason: "wrong-office".into()
            }),
            SyncError::Forbidden { office, .. } if office == "TEH-12"
        ));
        assert!(matches!(
            sorted(E::NotFound { status: 404 }),
            SyncError::NoList(o) if o == "TEH-12"
        ));
        let busy = sorted(E::Busy {
            status: 503,
            retry_after: None,
            reason: String::new(),
        });
        assert_eq!(busy.to_string(), "the intake could not answer (HTTP 503)");
        assert!(matches!(
            sorted(E::Protocol("too large".into())),
            SyncError::BadReply(_)
        ));
        assert!(
            SyncError::from(UploadError::NotConfigured)
                .to_string()
                .contains("[upload] url")
        );
    }
}
