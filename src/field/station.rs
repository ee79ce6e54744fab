//! The station's side of field work: its team, the cached visit list, and
//! recording a visit (checked, sealed and queued in one transaction).

use rusqlite::OptionalExtension;

use super::cache::{self, Recorded};
use super::handover::{HandoverRecord, TemplateError, Verifier};
use super::record::{self, FieldEvent, FieldRecord, FieldSealer};
use super::{Outcome, Visit, VisitKind, VisitList, VisitRecord};
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
    #[error("visit {0} is not a card handover")]
    NotHandover(String),
    #[error("a card is handed over only with its fingerprint check (or a supervisor's fallback)")]
    HandoverNeedsCheck,
    #[error("the card of visit {visit} was already handed over (record {record})")]
    AlreadyHandedOver { visit: String, record: String },
    #[error("the record names card {record}, the visit card {visit}")]
    WrongCard { visit: String, record: String },
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
            FieldError::NoList(team) => Text::new("err-field-no-list").code("team", team.clone()),
            FieldError::UnknownVisit(id) => {
                Text::new("err-field-unknown-visit").code("visit", id.clone())
            }
            FieldError::Invalid(detail) => {
                Text::new("err-field-invalid").arg("detail", detail.clone())
            }
            FieldError::UnknownPacket(id) => {
                Text::new("err-field-unknown-packet").code("packet", id.clone())
            }
            FieldError::AlreadyEnrolled { visit, .. } => {
                Text::new("err-field-already-enrolled").code("visit", visit.clone())
            }
            FieldError::PacketUsed { visit, .. } => {
                Text::new("err-field-packet-used").code("visit", visit.clone())
            }
            FieldError::NotHandover(id) => {
                Text::new("err-field-not-handover").code("visit", id.clone())
            }
            FieldError::HandoverNeedsCheck => Text::new("err-field-handover-needs-check"),
            FieldError::AlreadyHandedOver { visit, .. } => {
                Text::new("err-field-already-handed-over").code("visit", visit.clone())
            }
            FieldError::WrongCard { visit, .. } => {
                Text::new("err-field-wrong-card").arg("code", visit.clone())
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
        if visit.outcome == Outcome::HandedOver {
            return Err(FieldError::HandoverNeedsCheck);
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
            let recorded = Recorded {
                record_id: record_id.clone(),
                visit_id: visit.visit_id.clone(),
                outcome: visit.outcome,
                packet_id: visit.packet_id.clone(),
                recorded_at,
                operator: operator.to_owned(),
            };
            let detail = visit.packet_id.as_deref().unwrap_or(visit.outcome.code()).to_owned();
            self.queue_field(
                &tx,
                &team,
                &recorded,
                FieldEvent::Visit(visit.clone()),
                ("field-record-queued", &detail),
                test,
            )?;
            tx.commit()?;
            tracing::info!(record = %record_id, visit = %visit.visit_id, outcome = visit.outcome.code(), "visit recorded");
            Ok(recorded)
        })
    }

    /// The handover visit `visit_id` of the team's list, with the
    /// verifier of its enrolled templates (`None` when the intake served
    /// none: the enrolment had not reached it when the list was fetched).
    pub fn handover_visit(
        &self,
        visit_id: &str,
    ) -> Result<(Visit, Option<Result<Verifier, TemplateError>>), FieldError> {
        let team = self.team().ok_or(FieldError::NotMobile)?.to_owned();
        let (list, _) = self.visit_list()?.ok_or(FieldError::NoList(team))?;
        let visit = list
            .find(visit_id)
            .cloned()
            .ok_or_else(|| FieldError::UnknownVisit(visit_id.to_owned()))?;
        if visit.kind != VisitKind::Handover {
            return Err(FieldError::NotHandover(visit.id));
        }
        let verifier = visit.enrolled.as_ref().map(Verifier::open);
        Ok((visit, verifier))
    }

    /// Checks a handover — at a visit: against the visit (a handover
    /// visit of the team's list, for the same card); at the office
    /// counter (no visit): on its own — then that the card was not handed
    /// over on this station before, and seals and queues it with an audit
    /// entry, in one transaction. A counter handover is noted under the
    /// card's tracking code in place of a visit.
    pub fn record_handover(
        &self,
        operator: &str,
        handover: HandoverRecord,
        test: bool,
    ) -> Result<Recorded, FieldError> {
        let (team, noted_as, card) = match handover.visit_id.clone() {
            Some(visit_id) => {
                let (visit, _) = self.handover_visit(&visit_id)?;
                let team = self.team().ok_or(FieldError::NotMobile)?.to_owned();
                handover.check().map_err(FieldError::Invalid)?;
                let card = visit.tracking_code.clone().unwrap_or_default();
                let same = crate::enrolment::TrackingCode::parse(&card)
                    == crate::enrolment::TrackingCode::parse(&handover.tracking_code);
                if !same {
                    return Err(FieldError::WrongCard {
                        visit: card,
                        record: handover.tracking_code,
                    });
                }
                (team, visit_id, card)
            }
            None => {
                handover.check().map_err(FieldError::Invalid)?;
                let card = crate::enrolment::TrackingCode::parse(&handover.tracking_code)
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default();
                (
                    self.team().unwrap_or_default().to_owned(),
                    card.clone(),
                    card,
                )
            }
        };
        let visit_id = noted_as;
        let recorded = Recorded {
            record_id: uuid::Uuid::now_v7().to_string(),
            visit_id: visit_id.clone(),
            outcome: Outcome::HandedOver,
            packet_id: None,
            recorded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            operator: operator.to_owned(),
        };
        let method = match &handover.fallback {
            None => "fingerprint".to_owned(),
            Some(f) => format!("fallback:{}", f.supervisor),
        };
        self.with_db(|db| {
            let tx = db.unchecked_transaction()?;
            let earlier: Option<String> = tx
                .query_row(
                    "SELECT record_id FROM visit_records
                     WHERE team = ?1 AND visit_id = ?2 AND outcome = 'handed-over'",
                    [&team, &visit_id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(record) = earlier {
                return Err(FieldError::AlreadyHandedOver {
                    visit: visit_id.clone(),
                    record,
                });
            }
            self.queue_field(
                &tx,
                &team,
                &recorded,
                FieldEvent::Handover(handover.clone()),
                ("card-handed-over", &format!("{card} {method}")),
                test,
            )?;
            tx.commit()?;
            tracing::info!(record = %recorded.record_id, visit = %visit_id, %method, "card handed over");
            Ok(recorded.clone())
        })
    }

    /// Seals `event` as the field record `recorded` and queues it, notes
    /// it against its visit and audits it, inside the caller's
    /// transaction.
    fn queue_field(
        &self,
        tx: &rusqlite::Transaction<'_>,
        team: &str,
        recorded: &Recorded,
        event: FieldEvent,
        (action, detail): (&str, &str),
        test: bool,
    ) -> Result<(), FieldError> {
        let record = FieldRecord {
            format: record::FORMAT.into(),
            record_id: recorded.record_id.clone(),
            station_id: self.id.to_string(),
            team: team.to_owned(),
            operator: recorded.operator.clone(),
            recorded_at: recorded.recorded_at.clone(),
            software: crate::packet::software(),
            test,
            event,
        };
        let sealed = record::seal(
            &record,
            &FieldSealer {
                key: self.signing_key(),
                recipients: self.recipients(),
                demo: self.demo,
            },
        )?;
        outbox::insert(tx, &sealed, outbox::Origin::Field, None)
            .map_err(|e| FieldError::Queue(e.to_string()))?;
        cache::note(tx, team, recorded)?;
        audit::record(
            tx,
            self.signing_key(),
            &recorded.operator,
            action,
            Some(&recorded.record_id),
            Some(detail),
        )
        .map_err(|e| FieldError::Queue(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrolment::TrackingCode;
    use crate::field::handover::{Fallback, FallbackReason, FingerCheck};

    fn kit() -> (tempfile::TempDir, Station, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("pishkhan.toml"),
            "[station]\nteam = \"TEH-M1\"\n",
        )
        .expect("config");
        let station = Station::open(dir.path()).expect("station");
        let card = TrackingCode::new(1405, 3, 9).as_str().to_owned();
        let mut handover = crate::field::tests::visit("H1", 1);
        handover.kind = VisitKind::Handover;
        handover.tracking_code = Some(card.clone());
        let list = VisitList {
            team: "TEH-M1".into(),
            office: station.config.station.office.clone(),
            generated_at: "2026-11-22T06:00:00Z".into(),
            visits: vec![crate::field::tests::visit("V1", 1), handover],
        };
        let key = station.prereg_key();
        station
            .with_db(|db| cache::save(db, &key, &list, "2026-11-22T07:00:00Z"))
            .expect("cached");
        (dir, station, card)
    }

    fn approved(card: &str, visit: &str) -> HandoverRecord {
        HandoverRecord {
            tracking_code: card.to_owned(),
            visit_id: Some(visit.to_owned()),
            checks: Vec::new(),
            fallback: Some(Fallback {
                reason: FallbackReason::FingersUnavailable,
                note: String::new(),
                supervisor: "sara".into(),
            }),
            location: None,
            note: None,
        }
    }

    #[test]
    fn a_handover_is_checked_against_its_visit_and_recorded_once() {
        let (_dir, station, card) = kit();
        let other = TrackingCode::new(1405, 3, 10).as_str().to_owned();
        let refusals = [
            (approved(&card, "V1"), "not a handover"),
            (approved(&card, "V9"), "unknown visit"),
            (approved(&other, "H1"), "wrong card"),
            (
                HandoverRecord {
                    fallback: None,
                    checks: vec![FingerCheck {
                        finger: 2,
                        score: 3.0,
                        matched: false,
                    }],
                    ..approved(&card, "H1")
                },
                "invalid",
            ),
        ];
        for (record, why) in refusals {
            let e = station
                .record_handover("sara", record, false)
                .expect_err(why);
            let fits = match why {
                "not a handover" => matches!(e, FieldError::NotHandover(_)),
                "unknown visit" => matches!(e, FieldError::UnknownVisit(_)),
                "wrong card" => matches!(e, FieldError::WrongCard { .. }),
                _ => matches!(e, FieldError::Invalid(_)),
            };
            assert!(fits, "{why}: {e}");
        }
        let handed_over = VisitRecord {
            visit_id: "H1".into(),
            outcome: Outcome::HandedOver,
            note: None,
            location: None,
            packet_id: None,
            tracking_code: None,
            rescheduled_to: None,
        };
        assert!(matches!(
            station.record_visit("sara", handed_over, false),
            Err(FieldError::HandoverNeedsCheck)
        ));
        assert!(
            station
                .with_db(crate::store::outbox::list)
                .expect("list")
                .is_empty()
        );

        let recorded = station
            .record_handover("sara", approved(&card, "H1"), false)
            .expect("recorded");
        assert_eq!(recorded.outcome, Outcome::HandedOver);
        assert!(matches!(
            station.record_handover("sara", approved(&card, "H1"), false),
            Err(FieldError::AlreadyHandedOver { .. })
        ));
        let rows = station.with_db(crate::store::outbox::list).expect("list");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].kind.as_deref(), Some("visit"));
    }
}
