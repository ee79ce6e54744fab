//! Re-sends the authority asks for: a packet it accepted is needed again
//! (its stored copy was lost or damaged, the AFIS could not read what
//! reached it). `pishkhan intake resend ask ID --reason TEXT` records the
//! request; the station that sealed the packet learns of it from `GET
//! /v1/resend` (signed like every station request), puts the packet back
//! at the head of its queue if it still keeps it, and uploads it again.
//! The intake then stores the bytes again (they must be the accepted ones:
//! same SHA-256), answers with the packet's receipt, and marks the request
//! fulfilled.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::{Intake, IntakeError};

/// Where stations ask for the re-sends they owe.
pub const PATH: &str = "/v1/resend";

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS resend_requests (
    packet_id    TEXT PRIMARY KEY,
    station_id   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    fulfilled_at TEXT
);
";

/// One re-send the authority asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResendRequest {
    pub packet_id: String,
    pub station_id: String,
    /// Why, for the station's queue screen and audit log.
    pub reason: String,
    pub requested_at: String,
    /// When the packet arrived again; `None` while the request is open.
    pub fulfilled_at: Option<String>,
}

/// What `GET /v1/resend` answers a station: its open requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resends {
    pub packets: Vec<Resend>,
}

/// One packet a station is asked to send again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resend {
    pub packet_id: String,
    pub reason: String,
    pub requested_at: String,
}

/// Why a re-send cannot be asked for.
#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    #[error("no accepted packet {0}: only a packet the intake accepted can be asked for again")]
    NotAccepted(String),
    #[error("give a reason: the station's operators and auditors read it")]
    NoReason,
    #[error(transparent)]
    Intake(#[from] IntakeError),
}

impl Intake {
    /// Records that packet `packet_id` (accepted before) is needed again,
    /// for `reason`. Asking again for an open request changes its reason;
    /// asking after it was fulfilled opens it anew.
    pub fn ask_resend(&self, packet_id: &str, reason: &str) -> Result<ResendRequest, ResendError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ResendError::NoReason);
        }
        let db = self
            .store
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let station: Option<String> = db
            .query_row(
                "SELECT station_id FROM receipts WHERE packet_id = ?1 AND status = 'accepted'",
                [packet_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(IntakeError::from)?;
        let station = station.ok_or_else(|| ResendError::NotAccepted(packet_id.to_owned()))?;
        let request = ResendRequest {
            packet_id: packet_id.to_owned(),
            station_id: station,
            reason: reason.to_owned(),
            requested_at: chrono::Utc::now().to_rfc3339(),
            fulfilled_at: None,
        };
        db.execute(
            "INSERT INTO resend_requests (packet_id, station_id, reason, requested_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (packet_id) DO UPDATE
             SET reason = ?3, requested_at = ?4, fulfilled_at = NULL",
            rusqlite::params![
                request.packet_id,
                request.station_id,
                request.reason,
                request.requested_at
            ],
        )
        .map_err(IntakeError::from)?;
        tracing::info!(packet = packet_id, station = %request.station_id, reason, "re-send asked");
        Ok(request)
    }

    /// The re-send requests, of one station or all, open ones only or
    /// every one; oldest first.
    pub fn resend_requests(
        &self,
        station: Option<&str>,
        open_only: bool,
    ) -> Result<Vec<ResendRequest>, IntakeError> {
        let db = self
            .store
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut stmt = db.prepare(
            "SELECT packet_id, station_id, reason, requested_at, fulfilled_at
             FROM resend_requests
             WHERE (?1 IS NULL OR station_id = ?1) AND (?2 = 0 OR fulfilled_at IS NULL)
             ORDER BY requested_at, packet_id",
        )?;
        let rows = stmt.query_map(rusqlite::params![station, open_only], |r| {
            Ok(ResendRequest {
                packet_id: r.get(0)?,
                station_id: r.get(1)?,
                reason: r.get(2)?,
                requested_at: r.get(3)?,
                fulfilled_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    async fn answer_resends(
        &self,
        header: impl Fn(&str) -> Option<String>,
        path_and_query: &str,
    ) -> Response {
        let station = match self.signed_get(header, path_and_query) {
            Ok(station) => station,
            Err(answer) => return *answer,
        };
        match self.resend_requests(Some(&station), true) {
            Ok(open) => axum::Json(Resends {
                packets: open
                    .into_iter()
                    .map(|r| Resend {
                        packet_id: r.packet_id,
                        reason: r.reason,
                        requested_at: r.requested_at,
                    })
                    .collect(),
            })
            .into_response(),
            Err(e) => {
                tracing::error!("re-send requests of {station}: {e}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the re-send requests cannot be read",
                )
                    .into_response()
            }
        }
    }
}

pub(super) async fn handle(
    intake: std::sync::Arc<Intake>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    intake
        .answer_resends(super::header_reader(&headers), &super::path_and_query(&uri))
        .await
}
