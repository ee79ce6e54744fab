//! Mobile teams at the intake: each team's visit list, served to the
//! team's kit, and the field records accepted from it.
//!
//! ```text
//! visits/<TEAM>.json   a VisitList (`pishkhan intake visits import`)
//! intake.db            field_records: one row a record id (a record sent
//!                      twice, over the link and on a USB stick, is kept once)
//! ```
//!
//! `GET /v1/visits?team=CODE` is signed like every request: 401 for a
//! missing, wrong or unregistered signature; 403 when the register ties
//! the station to an office other than the list's; 404 when the team has
//! no list.

use std::path::{Path, PathBuf};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, OptionalExtension};

use super::appointments::{read_stored, write_durably};
use super::{Intake, IntakeError, file_error};
use crate::field::handover::{CardHolder, EnrolledPrints};
use crate::field::record::{FieldEvent, FieldRecord};
use crate::field::{VisitKind, VisitList, check_id};

/// The folder of the lists inside the intake directory.
pub const DIR: &str = "visits";
/// Where the lists are served.
pub const PATH: &str = "/v1/visits";
/// Where a card's holder and templates are served for a handover at an
/// office counter.
pub const CARD_PATH: &str = "/v1/handover";

fn list_path(dir: &Path, team: &str) -> PathBuf {
    dir.join(DIR).join(format!("{team}.json"))
}

/// Reads and checks a visit list file.
pub fn read_list(file: &Path) -> Result<VisitList, String> {
    let path = file.display();
    let bytes = std::fs::read(file).map_err(|e| format!("{path}: {e}"))?;
    let list: VisitList = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{path} is not a visit list (JSON): {e}"))?;
    list.check().map_err(|e| format!("{path}: {e}"))?;
    Ok(list)
}

/// Keeps an accepted field record (in the receipt's transaction); a record
/// already kept is left as it is.
pub(super) fn record(tx: &Connection, record: &FieldRecord) -> Result<(), rusqlite::Error> {
    let json = serde_json::to_string(record)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.execute(
        "INSERT OR IGNORE INTO field_records
             (record_id, station_id, team, visit_id, outcome, recorded_at, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            record.record_id,
            record.station_id,
            record.team,
            record.visit_id().unwrap_or_default(),
            record.outcome().code(),
            record.recorded_at,
            json,
        ],
    )?;
    if let FieldEvent::Handover(handover) = &record.event {
        // The applicant has the card: its stage follows, as when the back
        // office sets it (a rejected packet has no card to hand over).
        let changed = tx.execute(
            "UPDATE applicant_status SET stage = 'handed-over', updated_at = ?2
             WHERE tracking_code = ?1 AND stage != 'rejected'",
            rusqlite::params![handover.tracking_code, super::applicants::timestamp()],
        )?;
        if changed == 0 {
            tracing::warn!(
                tracking = %handover.tracking_code,
                record = %record.record_id,
                "a handover of a card the intake has no accepted enrolment for"
            );
        }
    }
    Ok(())
}

impl Intake {
    /// Imports `file` as its team's list, replacing the team's previous
    /// one.
    pub fn import_visits(&self, file: &Path) -> Result<VisitList, IntakeError> {
        let list = read_list(file).map_err(|e| file_error(file, e))?;
        self.store_visits(&list)?;
        Ok(list)
    }

    /// Stores a checked list as its team's.
    pub fn store_visits(&self, list: &VisitList) -> Result<(), IntakeError> {
        let path = list_path(&self.dir, &list.team);
        let json = serde_json::to_vec_pretty(list).map_err(|e| file_error(&path, e))?;
        write_durably(&path, &json)?;
        tracing::info!(team = %list.team, count = list.visits.len(), "visit list stored");
        Ok(())
    }

    /// The stored list of `team`.
    pub fn visits(&self, team: &str) -> Result<Option<VisitList>, IntakeError> {
        if check_id("the team", team).is_err() {
            return Ok(None);
        }
        read_stored(&list_path(&self.dir, team))
    }

    /// Every field record kept, of one team or of all, oldest first.
    pub fn field_records(&self, team: Option<&str>) -> Result<Vec<FieldRecord>, IntakeError> {
        let db = self
            .store
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut stmt = db.prepare(
            "SELECT record FROM field_records WHERE ?1 IS NULL OR team = ?1
             ORDER BY recorded_at, record_id",
        )?;
        let rows = stmt.query_map([team], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            let json: String = json?;
            out.push(
                serde_json::from_str(&json)
                    .map_err(|e| IntakeError::Objects(format!("field record in intake.db: {e}")))?,
            );
        }
        Ok(out)
    }

    /// The accepted enrolment of the card with `tracking_code`: its packet
    /// id and transaction; `None` while no accepted packet has that code.
    async fn accepted_enrolment(
        &self,
        tracking_code: &str,
    ) -> Result<Option<(String, pishkhan_an2k::Transaction)>, IntakeError> {
        let found: Option<(String, String)> = {
            let db = self
                .store
                .db
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            db.query_row(
                "SELECT a.packet_id, r.station_id FROM applicant_status a
                 JOIN receipts r ON r.packet_id = a.packet_id
                 WHERE a.tracking_code = ?1 AND a.stage != 'rejected'",
                [tracking_code],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
        };
        let Some((packet_id, station)) = found else {
            return Ok(None);
        };
        let path = super::store::packet_path(&station, &packet_id);
        let objects = |e: String| IntakeError::Objects(format!("{path}: {e}"));
        let bytes = self
            .store
            .objects
            .get(&path)
            .await
            .map_err(|e| objects(e.to_string()))?
            .bytes()
            .await
            .map_err(|e| objects(e.to_string()))?;
        let sealed =
            crate::packet::SealedFile::parse(&bytes).map_err(|e| objects(e.to_string()))?;
        let opened = self
            .store
            .identities
            .iter()
            .find_map(|identity| crate::packet::open(&sealed, identity).ok())
            .ok_or_else(|| objects("no authority identity opens it".into()))?;
        let transaction = opened
            .files
            .get(crate::packet::TRANSACTION_PATH)
            .ok_or_else(|| objects("no ANSI/NIST transaction".into()))?;
        let transaction = pishkhan_an2k::decode(transaction).map_err(|e| objects(e.to_string()))?;
        Ok(Some((packet_id, transaction)))
    }

    /// The enrolled templates of the card with `tracking_code`, made from
    /// its accepted packet; `None` while no accepted packet has that code.
    pub async fn enrolled_prints(
        &self,
        tracking_code: &str,
    ) -> Result<Option<EnrolledPrints>, IntakeError> {
        let Some((packet_id, transaction)) = self.accepted_enrolment(tracking_code).await? else {
            return Ok(None);
        };
        EnrolledPrints::from_transaction(&packet_id, &transaction)
            .map(Some)
            .map_err(|e| IntakeError::Objects(format!("packet {packet_id}: {e}")))
    }

    /// The card with `tracking_code` as the counter needs it for a
    /// handover: whose it is and the enrolled templates.
    pub async fn card_holder(
        &self,
        tracking_code: &str,
    ) -> Result<Option<CardHolder>, IntakeError> {
        let Some((packet_id, transaction)) = self.accepted_enrolment(tracking_code).await? else {
            return Ok(None);
        };
        let enrolled = EnrolledPrints::from_transaction(&packet_id, &transaction)
            .map_err(|e| IntakeError::Objects(format!("packet {packet_id}: {e}")))?;
        let type2 = transaction.records.iter().find(|r| r.kind == 2);
        let text = |field: u16| {
            type2
                .and_then(|r| r.text(field))
                .unwrap_or_default()
                .to_owned()
        };
        use crate::packet::transaction::t2;
        Ok(Some(CardHolder {
            tracking_code: tracking_code.to_owned(),
            first_name: text(t2::FIRST_NAME),
            last_name: text(t2::LAST_NAME),
            national_code: text(t2::NATIONAL_CODE),
            enrolled,
        }))
    }

    /// `GET /v1/handover?tracking=CODE`: the card's holder and templates
    /// for a handover at the station's office counter. 404 while no
    /// accepted enrolment has the code, 409 once the card was handed over,
    /// 403 when the card waits at another office than the station's.
    async fn answer_card(
        &self,
        header: impl Fn(&str) -> Option<String>,
        path_and_query: &str,
    ) -> Response {
        let station = match self.signed_get(header, path_and_query) {
            Ok(station) => station,
            Err(answer) => return *answer,
        };
        let typed = super::query_param(path_and_query, "tracking").unwrap_or_default();
        let Some(code) = crate::enrolment::TrackingCode::parse(&typed) else {
            return (
                StatusCode::BAD_REQUEST,
                format!("malformed: {typed:?} is not a tracking code"),
            )
                .into_response();
        };
        let status = match self.applicant_status(&code) {
            Ok(status) => status,
            Err(e) => {
                tracing::error!("status of {code}: {e}");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the status cannot be read",
                )
                    .into_response();
            }
        };
        match status.as_ref().map(|s| s.stage) {
            None | Some(crate::status::Stage::Rejected) => {
                return (
                    StatusCode::NOT_FOUND,
                    format!("no accepted enrolment {code}"),
                )
                    .into_response();
            }
            Some(crate::status::Stage::HandedOver) => {
                return (
                    StatusCode::CONFLICT,
                    format!("handed-over: card {code} was already handed over"),
                )
                    .into_response();
            }
            _ => {}
        }
        let own = self.registered_office(&station);
        let waits_at = status.and_then(|s| s.office);
        if let (Some(own), Some(waits_at)) = (own, waits_at)
            && own != waits_at
        {
            return (
                StatusCode::FORBIDDEN,
                format!("wrong-office: card {code} waits at office {waits_at}, not {own}"),
            )
                .into_response();
        }
        match self.card_holder(code.as_str()).await {
            Ok(Some(card)) => {
                tracing::info!(station, tracking = %code, "card served for a handover");
                axum::Json(card).into_response()
            }
            Ok(None) => (
                StatusCode::NOT_FOUND,
                format!("no accepted enrolment {code}"),
            )
                .into_response(),
            Err(e) => {
                tracing::error!("card {code}: {e}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the enrolment cannot be read",
                )
                    .into_response()
            }
        }
    }

    /// `list` with the enrolled templates of each handover visit whose
    /// enrolment was accepted (the others are served without, and the kit
    /// shows that their card cannot be checked yet).
    async fn with_templates(&self, mut list: VisitList) -> VisitList {
        for visit in &mut list.visits {
            let Some(code) = visit
                .tracking_code
                .as_deref()
                .filter(|_| visit.kind == VisitKind::Handover)
            else {
                continue;
            };
            match self.enrolled_prints(code).await {
                Ok(prints) => visit.enrolled = prints,
                Err(e) => tracing::error!(visit = %visit.id, "enrolled templates: {e}"),
            }
        }
        list
    }

    async fn answer_visits(
        &self,
        header: impl Fn(&str) -> Option<String>,
        path_and_query: &str,
    ) -> Response {
        let station = match self.signed_get(header, path_and_query) {
            Ok(station) => station,
            Err(answer) => return *answer,
        };
        let team = super::query_param(path_and_query, "team").unwrap_or_default();
        if let Err(e) = check_id("the team", &team) {
            return (
                StatusCode::BAD_REQUEST,
                format!("malformed: give ?team=CODE: {e}"),
            )
                .into_response();
        }
        let list = match self.visits(&team) {
            Ok(Some(list)) => list,
            Ok(None) => {
                return (
                    StatusCode::NOT_FOUND,
                    format!("no visit list for team {team}"),
                )
                    .into_response();
            }
            Err(e) => {
                tracing::error!("visit list of {team}: {e}");
                return (StatusCode::INTERNAL_SERVER_ERROR, "the list cannot be read")
                    .into_response();
            }
        };
        let own = self.registered_office(&station);
        if let Some(own) = own.filter(|own| *own != list.office) {
            tracing::warn!(station, team, own, "visit list of another office refused");
            return (
                StatusCode::FORBIDDEN,
                format!(
                    "wrong-office: station {station} works for office {own}, team {team} for {}",
                    list.office
                ),
            )
                .into_response();
        }
        let list = self.with_templates(list).await;
        tracing::info!(
            station,
            team,
            count = list.visits.len(),
            handovers = list.visits.iter().filter(|v| v.enrolled.is_some()).count(),
            "visit list served"
        );
        axum::Json(list).into_response()
    }
}

pub(super) async fn handle_card(
    intake: std::sync::Arc<Intake>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    intake
        .answer_card(super::header_reader(&headers), &super::path_and_query(&uri))
        .await
}

pub(super) async fn handle(
    intake: std::sync::Arc<Intake>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    intake
        .answer_visits(super::header_reader(&headers), &super::path_and_query(&uri))
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::intake::appointments::tests::{body, request_headers};

    fn import(intake: &Intake, dir: &Path, team: &str, office: &str) {
        let list = VisitList {
            team: team.into(),
            office: office.into(),
            generated_at: "2026-11-22T06:00:00Z".into(),
            visits: vec![
                crate::field::tests::visit("V1", 1),
                crate::field::tests::visit("V2", 2),
            ],
        };
        let file = dir.join(format!("{team}.json"));
        std::fs::write(&file, serde_json::to_vec(&list).expect("json")).expect("write");
        assert_eq!(intake.import_visits(&file).expect("imports"), list);
    }

    #[tokio::test]
    async fn a_teams_list_goes_only_to_signed_stations_of_its_office() {
        let dir = tempfile::tempdir().expect("tempdir");
        let intake = Arc::new(Intake::open(&dir.path().join("intake")).expect("intake"));
        let key = SigningKey::from_bytes(&[5; 32]);
        intake
            .register("kit-1", &key.verifying_key(), "kit")
            .expect("register");
        intake.set_office("kit-1", Some("TEH-12")).expect("office");
        import(&intake, dir.path(), "TEH-M1", "TEH-12");
        import(&intake, dir.path(), "ISF-M1", "ISF-03");

        let path = "/v1/visits?team=TEH-M1";
        let unsigned = intake.answer_visits(|_| None, path).await;
        assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
        let served = intake
            .answer_visits(request_headers("kit-1", &key, path), path)
            .await;
        assert_eq!(served.status(), StatusCode::OK);
        let list: VisitList = serde_json::from_str(&body(served).await).expect("JSON");
        assert_eq!((list.team.as_str(), list.visits.len()), ("TEH-M1", 2));

        let other = "/v1/visits?team=ISF-M1";
        let refused = intake
            .answer_visits(request_headers("kit-1", &key, other), other)
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(body(refused).await.contains("office TEH-12"));
        let none = "/v1/visits?team=NOBODY";
        let missing = intake
            .answer_visits(request_headers("kit-1", &key, none), none)
            .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let bad = "/v1/visits?team=..%2Fx";
        let malformed = intake
            .answer_visits(request_headers("kit-1", &key, bad), bad)
            .await;
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn a_card_is_served_to_its_office_until_it_is_handed_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let intake = Arc::new(Intake::open(&dir.path().join("intake")).expect("intake"));
        let key = SigningKey::from_bytes(&[5; 32]);
        intake
            .register("kit-1", &key.verifying_key(), "kit")
            .expect("register");
        intake.set_office("kit-1", Some("TEH-12")).expect("office");
        let code = crate::enrolment::TrackingCode::new(1405, 3, 9);
        let set = |stage: &str, office: Option<&str>| {
            let db = intake.store.db.lock().expect("db");
            db.execute(
                "INSERT INTO applicant_status
                     (tracking_code, stage, office, packet_id, received_at, updated_at)
                 VALUES (?1, ?2, ?3, 'p', '2026-11-22T06:00:00Z', '2026-11-22T06:00:00Z')
                 ON CONFLICT (tracking_code) DO UPDATE SET stage = ?2, office = ?3",
                rusqlite::params![code.as_str(), stage, office],
            )
            .expect("status");
        };
        let ask = |path: String| {
            let intake = intake.clone();
            let key = key.clone();
            async move {
                intake
                    .answer_card(request_headers("kit-1", &key, &path), &path)
                    .await
            }
        };
        let path = format!("{CARD_PATH}?tracking={}", code.as_str());
        assert_eq!(
            intake.answer_card(|_| None, &path).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let bad = format!("{CARD_PATH}?tracking=12345");
        assert_eq!(ask(bad).await.status(), StatusCode::BAD_REQUEST);
        assert_eq!(ask(path.clone()).await.status(), StatusCode::NOT_FOUND);
        set("ready", Some("ISF-03"));
        let refused = ask(path.clone()).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(body(refused).await.contains("office ISF-03"));
        set("handed-over", Some("TEH-12"));
        assert_eq!(ask(path.clone()).await.status(), StatusCode::CONFLICT);
        set("rejected", None);
        assert_eq!(ask(path).await.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn a_bad_list_file_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().expect("tempdir");
        let intake = Intake::open(&dir.path().join("intake")).expect("intake");
        let file = dir.path().join("bad.json");
        std::fs::write(
            &file,
            r#"{"team": "T", "office": "X", "generated_at": "now", "visits": []}"#,
        )
        .expect("write");
        let e = intake.import_visits(&file).expect_err("a bad date");
        assert!(e.to_string().contains("generated_at"), "{e}");
        assert!(
            intake.visits("T").expect("read").is_none(),
            "nothing stored"
        );
    }
}
