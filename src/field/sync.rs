//! Fetching the team's visit list from the intake before leaving:
//! `GET <intake>/v1/visits?team=<[station] team>`, through the uploader's
//! signed client (the same `[upload] url`, pinned certificate and request
//! signature as the uploads and the appointment list). A valid list of the
//! team asked for replaces the cached one; on any failure the cached list
//! stays as it was.

use std::sync::Arc;
use std::time::Duration;

use pishkhan_tus::client::{self, Url};

use super::handover::CardHolder;
use super::{VisitList, cache};
use crate::config::UploadConfig;
use crate::prereg::cache::CacheError;
use crate::station::Station;
use crate::text::Text;
use crate::upload::{self, UploadError};

/// The largest list accepted.
const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

/// Why the list was not refreshed (the cached one stays).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("this station is not a mobile team's kit ([station] team is not set)")]
    NotMobile,
    #[error(
        "the visit list cannot be fetched: the intake's address is not configured ([upload] url)"
    )]
    NotConfigured,
    #[error("the visit list cannot be fetched: {0}")]
    Config(String),
    #[error("the intake cannot be reached ({0}); the cached visit list is used meanwhile")]
    Offline(String),
    #[error("the intake refused the request (HTTP {status}): {detail}")]
    Refused { status: u16, detail: String },
    #[error("the intake has no visit list for team {0}")]
    NoList(String),
    #[error("the intake's answer is not a valid visit list: {0}")]
    BadReply(String),
    #[error("the visit list cache: {0}")]
    Cache(#[from] CacheError),
}

impl FetchError {
    /// What the operator reads, in their language.
    pub fn text(&self) -> Text {
        match self {
            FetchError::NotMobile => Text::new("err-field-not-mobile"),
            FetchError::NotConfigured => Text::new("err-status-not-configured"),
            FetchError::Config(detail) => {
                Text::new("err-status-config").arg("detail", detail.clone())
            }
            FetchError::Offline(_) => Text::new("err-visits-offline"),
            FetchError::Refused { status, .. } => {
                Text::new("err-visits-refused").arg("status", status.to_string())
            }
            FetchError::NoList(team) => Text::new("err-field-no-list").code("team", team.clone()),
            FetchError::BadReply(detail) => {
                Text::new("err-visits-bad-reply").arg("detail", detail.clone())
            }
            FetchError::Cache(e) => Text::new("err-internal").arg("detail", e.to_string()),
        }
    }

    fn from_client(error: client::Error, team: &str) -> Self {
        use client::Error as E;
        match error {
            E::Network { .. } | E::Timeout(_) => FetchError::Offline(error.to_string()),
            E::NotFound { .. } => FetchError::NoList(team.to_owned()),
            E::Refused { status, reason } | E::Busy { status, reason, .. } => FetchError::Refused {
                status,
                detail: reason,
            },
            E::ChecksumMismatch { reason } | E::OffsetConflict { reason } => {
                FetchError::BadReply(reason)
            }
            E::Protocol(detail) => FetchError::BadReply(detail),
            E::Authenticate(detail) | E::Usage(detail) => FetchError::Config(detail),
        }
    }
}

impl From<UploadError> for FetchError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::NotConfigured => FetchError::NotConfigured,
            other => FetchError::Config(other.to_string()),
        }
    }
}

/// `v1/visits?team=` beside the tus endpoint.
pub fn visits_url(endpoint: &Url, team: &str) -> Result<Url, FetchError> {
    let mut url = upload::beside_endpoint(endpoint, "v1/visits").map_err(FetchError::Config)?;
    url.query_pairs_mut().append_pair("team", team);
    Ok(url)
}

/// Fetches the team's list once with `config` (the `[upload]` section, or
/// the demo intake's) and caches it.
pub async fn fetch(station: Arc<Station>, config: &UploadConfig) -> Result<VisitList, FetchError> {
    let team = station.team().ok_or(FetchError::NotMobile)?.to_owned();
    let client = upload::intake_client(station.clone(), config, Duration::from_secs(60))?;
    let url = visits_url(&client.config().endpoint, &team)?;
    let body = client
        .get(&url, MAX_LIST_BYTES)
        .await
        .map_err(|e| FetchError::from_client(e, &team))?;
    let list: VisitList =
        serde_json::from_slice(&body).map_err(|e| FetchError::BadReply(e.to_string()))?;
    if list.team != team {
        return Err(FetchError::BadReply(format!(
            "the list of team {} when team {team} was asked for",
            list.team
        )));
    }
    list.check().map_err(FetchError::BadReply)?;
    let fetched_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let key = station.prereg_key();
    station.with_db(|db| cache::save(db, &key, &list, &fetched_at))?;
    tracing::info!(team, count = list.visits.len(), "visit list fetched");
    Ok(list)
}

/// Why a card could not be fetched for a handover at the counter.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("the card cannot be fetched: the intake's address is not configured ([upload] url)")]
    NotConfigured,
    #[error("the card cannot be fetched: {0}")]
    Config(String),
    #[error("the intake cannot be reached ({0})")]
    Offline(String),
    #[error("the intake has no accepted enrolment {0}")]
    NoCard(String),
    #[error("card {0} was already handed over")]
    HandedOver(String),
    #[error("the intake refused the request (HTTP {status}): {detail}")]
    Refused { status: u16, detail: String },
    #[error("the intake's answer is not a card: {0}")]
    BadReply(String),
}

impl CardError {
    /// What the operator reads, in their language.
    pub fn text(&self) -> Text {
        match self {
            CardError::NotConfigured => Text::new("err-status-not-configured"),
            CardError::Config(detail) => {
                Text::new("err-status-config").arg("detail", detail.clone())
            }
            CardError::Offline(_) => Text::new("err-card-offline"),
            CardError::NoCard(code) => Text::new("err-card-unknown").arg("code", code.clone()),
            CardError::HandedOver(code) => {
                Text::new("err-card-handed-over").arg("code", code.clone())
            }
            CardError::Refused { detail, .. } => {
                Text::new("err-card-refused").arg("detail", detail.clone())
            }
            CardError::BadReply(detail) => {
                Text::new("err-card-bad-reply").arg("detail", detail.clone())
            }
        }
    }
}

/// Fetches, for a handover at the office counter, whose card `code` is and
/// the enrolled templates (`GET v1/handover?tracking=`).
pub async fn fetch_card(
    station: Arc<Station>,
    config: &UploadConfig,
    code: &crate::enrolment::TrackingCode,
) -> Result<CardHolder, CardError> {
    let client =
        upload::intake_client(station, config, Duration::from_secs(60)).map_err(|e| match e {
            UploadError::NotConfigured => CardError::NotConfigured,
            other => CardError::Config(other.to_string()),
        })?;
    let mut url = upload::beside_endpoint(&client.config().endpoint, "v1/handover")
        .map_err(CardError::Config)?;
    url.query_pairs_mut().append_pair("tracking", code.as_str());
    use client::Error as E;
    let body = client
        .get(&url, MAX_LIST_BYTES)
        .await
        .map_err(|error| match error {
            E::Network { .. } | E::Timeout(_) => CardError::Offline(error.to_string()),
            E::NotFound { .. } => CardError::NoCard(code.as_str().to_owned()),
            // 409 Conflict (which the tus client reads as an offset
            // conflict): the card was handed over.
            E::OffsetConflict { .. } => CardError::HandedOver(code.as_str().to_owned()),
            E::Refused { status, reason } | E::Busy { status, reason, .. } => CardError::Refused {
                status,
                detail: reason,
            },
            E::ChecksumMismatch { reason } => CardError::BadReply(reason),
            E::Protocol(detail) => CardError::BadReply(detail),
            E::Authenticate(detail) | E::Usage(detail) => CardError::Config(detail),
        })?;
    let card: CardHolder =
        serde_json::from_slice(&body).map_err(|e| CardError::BadReply(e.to_string()))?;
    if crate::enrolment::TrackingCode::parse(&card.tracking_code).as_ref() != Some(code) {
        return Err(CardError::BadReply(format!(
            "card {} when {} was asked for",
            card.tracking_code,
            code.as_str()
        )));
    }
    tracing::info!(tracking = %code.as_str(), "card fetched for a handover");
    Ok(card)
}
