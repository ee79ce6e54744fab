//! The station's side of field work: its team, the cached visit list, and
//! recording a visit (checked, sealed and queued in one transaction).

use rusqlite::OptionalExtension;

use super::cache::{self, Recorded};
use super::record::{self, FieldEvent, FieldRecord, FieldSealer};
use super::{Outcome, VisitList, VisitRecord};
use crate::prereg::cache::CacheError;
use crate::station::Station;
use crate::store::{audit, outbox};
use crate::text::Text;

/// Why a visit was not recorded. Nothing is queued in any case.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    #[error("this station is not a mobile team's kit ([station] team is not set)")]
    NotMobile,
    #[error("no visit list of team {0} is on this station; fetch it before leaving")]
    NoList(String),
    #[error("visit {0} is not on the team's list")]
    UnknownVisit(String),
    #[error("the record is not valid: {0}")]
    Invalid(String),
    #[error("no packet {0} was sealed on this station")]
    UnknownPacket(String),
    #[error("visit {visit} was already recorded as enrolled (record {record})")]
    AlreadyEnrolled { visit: String, record: String },
    #[error("packet {packet} already belongs to visit {visit}")]
    PacketUsed { packet: String, visit: String },
    #[error("the visit list: {0}")]
    Cache(#[from] CacheError),
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("the record could not be sealed: {0}")]
    Seal(#[from] crate::packet::PacketError),
    #[error("the record could not be queued: {0}")]
    Queue(String),
}

impl FieldError {
    /// What the operator reads, in their language.
    pub fn text(&self) -> Text {
        match self {
            FieldError::NotMobile => Text::new("err-field-not-mobile"),
            FieldError::NoList(team) => Text::new("err-field-no-list").arg("team", team.clone()),
            FieldError::UnknownVisit(id) => {
                Text::new("err-field-unknown-visit").arg("visit", id.clone())
            }
            FieldError::Invalid(detail) => {
                Text::new("err-field-invalid").arg("detail", detail.clone())
            }
            FieldError::UnknownPacket(id) => {
                Text::new("err-field-unknown-packet").arg("packet", id.clone())
            }
            FieldError::AlreadyEnrolled { visit, .. } => {
                Text::new("err-field-already-enrolled").arg("visit", visit.clone())
            }
            FieldError::PacketUsed { visit, .. } => {
                Text::new("err-field-packet-used").arg("visit", visit.clone())
            }
            other => Text::new("err-internal").arg("detail", other.to_string()),
        }
    }
}

impl Station {
    /// The mobile team whose kit this station is (mobile-team mode).
    pub fn team(&self) -> Option<&str> {
        self.config.station.team.as_deref()
    }

    /// The team's cached visit list and when it was fetched.
    pub fn visit_list(&self) -> Result<Option<(VisitList, String)>, FieldError> {
        let team = self.team().ok_or(FieldError::NotMobile)?;
        let key = self.prereg_key();
        Ok(self.with_db(|db| cache::load(db, &key, team))?)
    }

    /// The visits recorded on this station, oldest first.
    pub fn recorded_visits(&self) -> Result<Vec<Recorded>, FieldError> {
        let team = self.team().ok_or(FieldError::NotMobile)?;
        Ok(self.with_db(|db| cache::recorded(db, team))?)
    }

    /// Checks `visit` against the team's list and this station's packets,
    /// seals it and queues it, with an audit entry, in one transaction.
    /// An `enrolled` record gets its packet's tracking code.
    pub fn record_visit(
        &self,
        operator: &str,
        mut visit: VisitRecord,
        test: bool,
    ) -> Result<Recorded, FieldError> {
        let team = self.team().ok_or(FieldError::NotMobile)?.to_owned();
        let (list, _) = self
            .visit_list()?
            .ok_or_else(|| FieldError::NoList(team.clone()))?;
        if list.find(&visit.visit_id).is_none() {
            return Err(FieldError::UnknownVisit(visit.visit_id));
        }
        visit.check().map_err(FieldError::Invalid)?;
        let record_id = uuid::Uuid::now_v7().to_string();
        let recorded_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.with_db(|db| {
            let tx = db.unchecked_transaction()?;
            if visit.outcome == Outcome::Enrolled {
                let packet = visit.packet_id.clone().unwrap_or_default();
                let code: Option<Option<String>> = tx
                    .query_row(
                        "SELECT tracking_code FROM outbox WHERE id = ?1 AND kind = 'enrolment'",
                        [&packet],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(code) = code else {
                    return Err(FieldError::UnknownPacket(packet));
                };
                visit.tracking_code = code;
                let earlier: Option<String> = tx
                    .query_row(
                        "SELECT record_id FROM visit_records
                         WHERE team = ?1 AND visit_id = ?2 AND outcome = 'enrolled'",
                        [&team, &visit.visit_id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(record) = earlier {
                    return Err(FieldError::AlreadyEnrolled {
                        visit: visit.visit_id,
                        record,
                    });
                }
                let used: Option<String> = tx
                    .query_row(
                        "SELECT visit_id FROM visit_records WHERE packet_id = ?1",
                        [&packet],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(other) = used {
                    return Err(FieldError::PacketUsed {
                        packet,
                        visit: other,
                    });
                }
            }
            let record = FieldRecord {
                format: record::FORMAT.into(),
                record_id: record_id.clone(),
                station_id: self.id.to_string(),
                team: team.clone(),
                operator: operator.to_owned(),
                recorded_at: recorded_at.clone(),
                software: crate::packet::software(),
                test,
                event: FieldEvent::Visit(visit.clone()),
            };
            let sealed = record::seal(
                &record,
                &FieldSealer {
                    key: self.signing_key(),
                    recipients: self.recipients(),
                    demo: self.demo,
                },
            )?;
            outbox::insert(&tx, &sealed, outbox::Origin::Field, None)
                .map_err(|e| FieldError::Queue(e.to_string()))?;
            let recorded = Recorded {
                record_id: record_id.clone(),
                visit_id: visit.visit_id.clone(),
                outcome: visit.outcome,
                packet_id: visit.packet_id.clone(),
                recorded_at,
                operator: operator.to_owned(),
            };
            cache::note(&tx, &team, &recorded)?;
            audit::record(
                &tx,
                self.signing_key(),
                operator,
                "field-record-queued",
                Some(&record_id),
                Some(visit.packet_id.as_deref().unwrap_or(visit.outcome.code())),
            )
            .map_err(|e| FieldError::Queue(e.to_string()))?;
            tx.commit()?;
            tracing::info!(record = %record_id, visit = %visit.visit_id, outcome = visit.outcome.code(), "visit recorded");
            Ok(recorded)
        })
    }
}
