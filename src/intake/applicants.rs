//! Applicant status at the intake: "where is my card?".
//!
//! Every packet the intake judges and whose ANSI/NIST Type-2 it can read
//! gets a row in `applicant_status`, keyed by the tracking code (2.042):
//! `received` when accepted, `rejected` with the receipt's reason code
//! when not (a rejected packet whose Type-2 cannot be read has no row).
//! The authority's back office then moves an accepted card through
//! `in-production`, `ready` (at an office) and `handed-over`
//! ([`Intake::set_card_stage`], `pishkhan intake card-status`).
//!
//! The applicant is found again by national code (2.010), birth
//! certificate serial (the fourth item of 2.020) and birth date (2.015),
//! but the table does not hold them: it holds HMAC-SHA256 of their
//! canonical form ([`ApplicantId::canonical`]) under a secret that lives
//! in the intake's directory ([`SECRET_FILE`], made on first start,
//! 0600). The table alone (a backup, a report) does not list who
//! enrolled; with the secret, a known applicant can be confirmed, which
//! is what the counter needs.
//!
//! Routes (signed like every station request, [`auth`](super::auth)):
//!
//! ```text
//! GET  /v1/applicants/status?tracking=<16 digits>
//! POST /v1/applicants/lookup   {national_code, birth_certificate_serial, birth_date_jalali}
//! ```
//!
//! `200` [`ApplicantStatus`]; `404` `not-found` (no such applicant and
//! wrong details are not told apart); `400` `bad-input` naming the field;
//! `401` when the station is not accepted; all errors as an
//! [`ErrorReply`].

use std::path::Path;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{KeyInit, Mac};
use rusqlite::{Connection, OptionalExtension};

use super::receipt::Reason;
use super::{Intake, IntakeError, load_or_create_secret};
use crate::enrolment::TrackingCode;
use crate::packet::Opened;
use crate::packet::transaction::t2;
use crate::status::{
    ApplicantId, ApplicantStatus, BAD_INPUT, BadInput, ErrorReply, LookupRequest, NOT_FOUND, Stage,
    check_office,
};

/// The secret of the lookup hash, in the intake's directory.
pub const SECRET_FILE: &str = "applicant-lookup.key";
/// The largest lookup body read.
const MAX_LOOKUP_BYTES: usize = 4096;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS applicant_status (
    tracking_code TEXT PRIMARY KEY,
    -- hex HMAC-SHA256 of national code, serial and birth date; NULL when
    -- the packet does not carry all three (map 3 has no serial)
    lookup_key    TEXT,
    stage         TEXT NOT NULL,
    office        TEXT,
    reason        TEXT,
    packet_id     TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS applicant_status_lookup ON applicant_status (lookup_key);
";

/// The secret the lookup keys are made with.
pub struct LookupSecret(zeroize::Zeroizing<[u8; 32]>);

impl LookupSecret {
    /// Reads `path`, or makes it (32 random bytes, hex, 0600).
    pub fn load_or_create(path: &Path) -> Result<Self, IntakeError> {
        load_or_create_secret(path).map(Self)
    }

    /// The lookup key of an applicant: HMAC-SHA256 over
    /// [`ApplicantId::canonical`], hex.
    pub fn key(&self, applicant: &ApplicantId) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.0.as_ref())
            .expect("HMAC takes keys of any length");
        mac.update(&applicant.canonical());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Whom a packet enrols, from its Type-2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub tracking_code: TrackingCode,
    /// `None` when national code, serial or birth date is missing or not
    /// well formed (a map-3 packet has no serial).
    pub applicant: Option<ApplicantId>,
}

/// Reads the Type-2 of a decrypted packet's transaction. Only the syntax
/// has to hold: a transaction that breaks a semantic rule may still say
/// whom it enrols. `None` without a transaction, a Type-2 or a valid
/// tracking code.
pub fn read_enrolment(opened: &Opened) -> Option<Enrolment> {
    let bytes = opened.files.get(crate::packet::TRANSACTION_PATH)?;
    let transaction = pishkhan_an2k::decode(bytes).ok()?;
    enrolment_of(&transaction)
}

/// [`read_enrolment`] of a decoded transaction.
pub fn enrolment_of(transaction: &pishkhan_an2k::Transaction) -> Option<Enrolment> {
    let type2 = transaction.records.iter().find(|r| r.kind == 2)?;
    let tracking_code = TrackingCode::parse(type2.text(t2::TRACKING_CODE)?)?;
    let applicant = (|| {
        let national_code = type2.text(t2::NATIONAL_CODE)?;
        let serial = type2
            .get(t2::BIRTH_CERTIFICATE)?
            .as_text()?
            .first()?
            .get(3)?;
        let date = type2.text(t2::BIRTH_DATE_JALALI)?;
        if date.len() != 8 || !date.is_ascii() {
            return None;
        }
        let date = format!("{}/{}/{}", &date[..4], &date[4..6], &date[6..]);
        ApplicantId::parse(national_code, serial, &date).ok()
    })();
    Some(Enrolment {
        tracking_code,
        applicant,
    })
}

/// Records a judged packet's status, inside the caller's transaction:
/// `received` for an accepted packet, `rejected` with `reason` for a
/// refused one. Only a row that is new or still `rejected` is written:
/// a mended packet turns a rejection into `received`, while a later
/// rejection never undoes an accepted packet or the back office's stages.
pub(super) fn record(
    db: &Connection,
    enrolment: &Enrolment,
    lookup_key: Option<&str>,
    packet_id: &str,
    rejected: Option<Reason>,
    at: &str,
) -> rusqlite::Result<bool> {
    let stage = match rejected {
        Some(_) => Stage::Rejected,
        None => Stage::Received,
    };
    let written = db.execute(
        "INSERT INTO applicant_status
             (tracking_code, lookup_key, stage, office, reason, packet_id, received_at, updated_at)
         VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?6)
         ON CONFLICT (tracking_code) DO UPDATE SET
             lookup_key = excluded.lookup_key, stage = excluded.stage, office = NULL,
             reason = excluded.reason, packet_id = excluded.packet_id,
             received_at = excluded.received_at, updated_at = excluded.updated_at
         WHERE applicant_status.stage = 'rejected'",
        rusqlite::params![
            enrolment.tracking_code.as_str(),
            lookup_key,
            stage.code(),
            rejected.map(Reason::code),
            packet_id,
            at
        ],
    )?;
    Ok(written == 1)
}

/// Now, as the status rows write it (RFC 3339, UTC, milliseconds: the
/// text sorts as the time does).
pub(super) fn timestamp() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Why the back office's change was not made.
#[derive(Debug, thiserror::Error)]
pub enum CardStageError {
    #[error(
        "{0} is the intake's own judgement; the back office sets in-production, ready or handed-over"
    )]
    NotBackOffice(Stage),
    #[error("ready needs the office where the card can be collected (--office)")]
    OfficeRequired,
    #[error("{0} takes no office (only ready and handed-over do)")]
    OfficeNotAllowed(Stage),
    #[error("the office: {0}")]
    BadOffice(String),
    #[error("no packet with tracking code {0} was judged by this intake")]
    NotFound(TrackingCode),
    #[error(
        "the packet with tracking code {0} was rejected: no card is made from it (a mended packet \
         that is accepted starts it again at received)"
    )]
    Rejected(TrackingCode),
    #[error(transparent)]
    Intake(#[from] IntakeError),
}

impl From<rusqlite::Error> for CardStageError {
    fn from(e: rusqlite::Error) -> Self {
        CardStageError::Intake(e.into())
    }
}

const COLUMNS: &str = "tracking_code, stage, office, updated_at, reason";

fn status_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ApplicantStatus> {
    let bad = |column: usize, e: String| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into())
    };
    let code: String = row.get(0)?;
    let stage: String = row.get(1)?;
    let updated_at: String = row.get(3)?;
    Ok(ApplicantStatus {
        tracking_code: TrackingCode::parse(&code)
            .ok_or_else(|| bad(0, format!("{code:?} is not a tracking code")))?,
        stage: Stage::parse(&stage).ok_or_else(|| bad(1, format!("unknown stage {stage:?}")))?,
        office: row.get(2)?,
        updated_at: chrono::DateTime::parse_from_rfc3339(&updated_at)
            .map_err(|e| bad(3, e.to_string()))?
            .with_timezone(&chrono::Utc),
        reason: row.get(4)?,
    })
}

impl Intake {
    fn with_db<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        let db = self
            .store
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&db)
    }

    /// The status of the enrolment with `tracking_code`.
    pub fn applicant_status(
        &self,
        tracking_code: &TrackingCode,
    ) -> Result<Option<ApplicantStatus>, IntakeError> {
        let sql = format!("SELECT {COLUMNS} FROM applicant_status WHERE tracking_code = ?1");
        Ok(self.with_db(|db| {
            db.query_row(&sql, [tracking_code.as_str()], status_row)
                .optional()
        })?)
    }

    /// The status of the latest enrolment of `applicant`.
    pub fn find_applicant(
        &self,
        applicant: &ApplicantId,
    ) -> Result<Option<ApplicantStatus>, IntakeError> {
        let key = self.store.lookup.key(applicant);
        let sql = format!(
            "SELECT {COLUMNS} FROM applicant_status WHERE lookup_key = ?1
             ORDER BY received_at DESC, rowid DESC LIMIT 1"
        );
        Ok(self.with_db(|db| db.query_row(&sql, [key], status_row).optional())?)
    }

    /// The back office's change of a card's stage: `in-production`,
    /// `ready` (with the office where it can be collected) or
    /// `handed-over` (the office of `ready` is kept unless another is
    /// given). Any of the three may follow any other (a card made again
    /// goes back to in-production); a rejected packet has no card.
    pub fn set_card_stage(
        &self,
        tracking_code: &TrackingCode,
        stage: Stage,
        office: Option<&str>,
    ) -> Result<ApplicantStatus, CardStageError> {
        if !stage.is_back_office() {
            return Err(CardStageError::NotBackOffice(stage));
        }
        if let Some(office) = office {
            check_office(office).map_err(CardStageError::BadOffice)?;
        }
        let current = self
            .applicant_status(tracking_code)?
            .ok_or_else(|| CardStageError::NotFound(tracking_code.clone()))?;
        if current.stage == Stage::Rejected {
            return Err(CardStageError::Rejected(tracking_code.clone()));
        }
        let office = match (stage, office) {
            (Stage::Ready, None) => return Err(CardStageError::OfficeRequired),
            (Stage::Ready | Stage::HandedOver, Some(office)) => Some(office.to_owned()),
            (Stage::HandedOver, None) => current.office,
            (_, Some(_)) => return Err(CardStageError::OfficeNotAllowed(stage)),
            (_, None) => None,
        };
        let at = timestamp();
        self.with_db(|db| {
            db.execute(
                "UPDATE applicant_status SET stage = ?2, office = ?3, updated_at = ?4
                 WHERE tracking_code = ?1 AND stage != 'rejected'",
                rusqlite::params![tracking_code.as_str(), stage.code(), office, at],
            )
        })?;
        tracing::info!(tracking = %tracking_code, %stage, "card stage set");
        self.applicant_status(tracking_code)?
            .ok_or_else(|| CardStageError::NotFound(tracking_code.clone()))
    }

    /// Answers `GET /v1/applicants/status?tracking=…` (`header` reads one
    /// request header by lower-case name).
    pub(super) fn answer_status(
        &self,
        header: impl Fn(&str) -> Option<String>,
        path_and_query: &str,
    ) -> Response {
        let station = match self.verify_station(header, "GET", path_and_query) {
            Ok(station) => station,
            Err(e) => return unauthenticated(e),
        };
        let tracking = super::query_param(path_and_query, "tracking");
        let Some(tracking) = tracking else {
            return bad_input(&BadInput::Request(
                "give ?tracking=<16 digits> (or POST the applicant's details to /v1/applicants/lookup)"
                    .into(),
            ));
        };
        let Some(code) = TrackingCode::parse(&tracking) else {
            return bad_input(&BadInput::TrackingCode(tracking));
        };
        answer_found(&station, "tracking", self.applicant_status(&code))
    }

    /// Answers `POST /v1/applicants/lookup` with its JSON `body`.
    pub(super) fn answer_lookup(
        &self,
        header: impl Fn(&str) -> Option<String>,
        path_and_query: &str,
        body: &[u8],
    ) -> Response {
        let station = match self.verify_station(header, "POST", path_and_query) {
            Ok(station) => station,
            Err(e) => return unauthenticated(e),
        };
        if body.len() > MAX_LOOKUP_BYTES {
            return bad_input(&BadInput::Request(format!(
                "the body is larger than {MAX_LOOKUP_BYTES} bytes"
            )));
        }
        let request: LookupRequest = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(e) => {
                return bad_input(&BadInput::Request(format!(
                    "the body is not {{\"national_code\", \"birth_certificate_serial\", \
                     \"birth_date_jalali\"}} JSON: {e}"
                )));
            }
        };
        match request.applicant() {
            Ok(applicant) => answer_found(&station, "applicant", self.find_applicant(&applicant)),
            Err(bad) => bad_input(&bad),
        }
    }
}

fn error_response(
    status: StatusCode,
    error: &str,
    detail: String,
    field: Option<&str>,
) -> Response {
    let reply = ErrorReply {
        error: error.to_owned(),
        detail,
        field: field.map(str::to_owned),
    };
    (status, axum::Json(reply)).into_response()
}

/// The `401` of a request that is not a registered station's.
fn unauthenticated(e: super::auth::Unauthenticated) -> Response {
    let mut response = error_response(StatusCode::UNAUTHORIZED, e.reason.code(), e.detail, None);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Pishkhan-Signature"),
    );
    response
}

fn bad_input(bad: &BadInput) -> Response {
    error_response(
        StatusCode::BAD_REQUEST,
        BAD_INPUT,
        bad.to_string(),
        Some(bad.field()),
    )
}

/// The answer to a question that was understood. Logged without the
/// applicant's details.
fn answer_found(
    station: &str,
    by: &str,
    found: Result<Option<ApplicantStatus>, IntakeError>,
) -> Response {
    match found {
        Ok(Some(status)) => {
            tracing::info!(station, by, stage = %status.stage, "applicant status answered");
            axum::Json(status).into_response()
        }
        Ok(None) => {
            tracing::info!(station, by, "applicant status asked: no match");
            error_response(
                StatusCode::NOT_FOUND,
                NOT_FOUND,
                "no enrolment matches".into(),
                None,
            )
        }
        Err(e) => {
            tracing::error!("applicant status: {e}");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                e.to_string(),
                None,
            )
        }
    }
}

/// The axum handler of [`crate::status::STATUS_PATH`].
pub(super) async fn handle_status(
    intake: std::sync::Arc<Intake>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    intake.answer_status(super::header_reader(&headers), &super::path_and_query(&uri))
}

/// The axum handler of [`crate::status::LOOKUP_PATH`].
pub(super) async fn handle_lookup(
    intake: std::sync::Arc<Intake>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    intake.answer_lookup(
        super::header_reader(&headers),
        &super::path_and_query(&uri),
        &body,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ed25519_dalek::SigningKey;
    use pishkhan_an2k::{Record, Transaction, Value};

    use super::*;
    use crate::intake::auth;

    fn applicant() -> ApplicantId {
        ApplicantId::parse("0499370899", "345678", "1380/01/01").expect("valid")
    }

    #[test]
    fn the_lookup_key_is_keyed_and_made_once_per_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(SECRET_FILE);
        let secret = LookupSecret::load_or_create(&path).expect("made");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let key = secret.key(&applicant());
        assert_eq!(key.len(), 64);
        assert!(!key.contains("0499370899"));
        // The same secret on the next start, so the same key.
        let again = LookupSecret::load_or_create(&path).expect("read");
        assert_eq!(again.key(&applicant()), key);
        // A detail changed, or another intake's secret: another key.
        let other = ApplicantId::parse("0499370899", "345679", "1380/01/01").expect("valid");
        assert_ne!(secret.key(&other), key);
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let foreign =
            LookupSecret::load_or_create(&elsewhere.path().join(SECRET_FILE)).expect("made");
        assert_ne!(foreign.key(&applicant()), key);
        // It is HMAC-SHA256 of the canonical bytes (RFC 4231 case 2's
        // construction, checked against a fixed secret).
        let fixed = LookupSecret(zeroize::Zeroizing::new([0x0b; 32]));
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&[0x0b; 32]).expect("key");
        mac.update(b"pishkhan-applicant/1\n0499370899\n345678\n13800101");
        assert_eq!(
            fixed.key(&applicant()),
            hex::encode(mac.finalize().into_bytes())
        );
        // A damaged secret file stops the intake rather than making keys
        // nothing matches.
        std::fs::write(&path, "not hex\n").expect("write");
        assert!(LookupSecret::load_or_create(&path).is_err());
    }

    fn type2(fields: &[(u16, Value)]) -> Transaction {
        let mut record = Record::new(2);
        for (tag, value) in fields {
            record.push(*tag, value.clone());
        }
        Transaction {
            records: vec![Record::new(1), record],
        }
    }

    #[test]
    fn type2_gives_the_tracking_code_and_the_lookup_details() {
        let code = TrackingCode::new(1405, 42, 1);
        let certificate = Value::items(["0499370899", "ج", "12", "345678"]);
        let full = type2(&[
            (t2::NATIONAL_CODE, Value::item("0499370899")),
            (t2::BIRTH_DATE_JALALI, Value::item("13800101")),
            (t2::BIRTH_CERTIFICATE, certificate.clone()),
            (t2::TRACKING_CODE, Value::item(code.as_str())),
        ]);
        assert_eq!(
            enrolment_of(&full),
            Some(Enrolment {
                tracking_code: code.clone(),
                applicant: Some(applicant()),
            })
        );
        // Map 3: no 2.020, found by tracking code only.
        let map3 = type2(&[
            (t2::NATIONAL_CODE, Value::item("0499370899")),
            (t2::BIRTH_DATE_JALALI, Value::item("13800101")),
            (t2::TRACKING_CODE, Value::item(code.as_str())),
        ]);
        assert_eq!(enrolment_of(&map3).expect("row").applicant, None);
        let odd_date = type2(&[
            (t2::NATIONAL_CODE, Value::item("0499370899")),
            (t2::BIRTH_DATE_JALALI, Value::item("۱۳۸۰۰۱۰۱")),
            (t2::BIRTH_CERTIFICATE, certificate),
            (t2::TRACKING_CODE, Value::item(code.as_str())),
        ]);
        assert_eq!(enrolment_of(&odd_date).expect("row").applicant, None);
        // No valid tracking code: no row at all.
        let bad_code = type2(&[(t2::TRACKING_CODE, Value::item("1405004200000100"))]);
        assert_eq!(enrolment_of(&bad_code), None);
        assert_eq!(
            enrolment_of(&Transaction {
                records: vec![Record::new(1)]
            }),
            None
        );
    }

    fn enrolment(seq: u32) -> Enrolment {
        Enrolment {
            tracking_code: TrackingCode::new(1405, 42, seq),
            applicant: Some(applicant()),
        }
    }

    fn record_in(intake: &Intake, e: &Enrolment, packet: &str, rejected: Option<Reason>) -> bool {
        let key = e.applicant.as_ref().map(|a| intake.store.lookup.key(a));
        intake
            .with_db(|db| record(db, e, key.as_deref(), packet, rejected, &timestamp()))
            .expect("recorded")
    }

    #[test]
    fn rejections_never_undo_an_accepted_packet_and_the_back_office_moves_cards() {
        let dir = tempfile::tempdir().expect("tempdir");
        let intake = Intake::open(dir.path()).expect("intake");
        let first = enrolment(1);
        let code = first.tracking_code.clone();
        assert!(record_in(&intake, &first, "p1", Some(Reason::BadManifest)));
        let status = intake.applicant_status(&code).expect("db").expect("row");
        assert_eq!(
            (status.stage, status.reason.as_deref()),
            (Stage::Rejected, Some("bad-manifest"))
        );
        assert!(matches!(
            intake.set_card_stage(&code, Stage::InProduction, None),
            Err(CardStageError::Rejected(_))
        ));
        // Mended and accepted; a stray rejection afterwards changes nothing.
        assert!(record_in(&intake, &first, "p1", None));
        assert!(!record_in(&intake, &first, "p1", Some(Reason::Tampered)));
        let status = intake.applicant_status(&code).expect("db").expect("row");
        assert_eq!((status.stage, status.reason), (Stage::Received, None));

        assert!(matches!(
            intake.set_card_stage(&code, Stage::Ready, None),
            Err(CardStageError::OfficeRequired)
        ));
        assert!(matches!(
            intake.set_card_stage(&code, Stage::InProduction, Some("TEH-12")),
            Err(CardStageError::OfficeNotAllowed(Stage::InProduction))
        ));
        assert!(matches!(
            intake.set_card_stage(&code, Stage::Rejected, None),
            Err(CardStageError::NotBackOffice(Stage::Rejected))
        ));
        assert!(matches!(
            intake.set_card_stage(&code, Stage::Ready, Some(" ")),
            Err(CardStageError::BadOffice(_))
        ));
        let unknown = TrackingCode::new(1405, 42, 99);
        assert!(matches!(
            intake.set_card_stage(&unknown, Stage::InProduction, None),
            Err(CardStageError::NotFound(_))
        ));
        let ready = intake
            .set_card_stage(&code, Stage::Ready, Some("دفتر پیشخوان ۱۲"))
            .expect("ready");
        assert_eq!(ready.office.as_deref(), Some("دفتر پیشخوان ۱۲"));
        let handed = intake
            .set_card_stage(&code, Stage::HandedOver, None)
            .expect("handed over");
        assert_eq!(
            (handed.stage, handed.office.as_deref()),
            (Stage::HandedOver, Some("دفتر پیشخوان ۱۲"))
        );
        assert!(handed.updated_at >= ready.updated_at);

        // A later enrolment of the same applicant is the one found by details.
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(record_in(&intake, &enrolment(2), "p2", None));
        let latest = intake
            .find_applicant(&applicant())
            .expect("db")
            .expect("found");
        assert_eq!(latest.tracking_code, TrackingCode::new(1405, 42, 2));
        let stranger = ApplicantId::parse("0013542419", "345678", "1380/01/01").expect("valid");
        assert_eq!(intake.find_applicant(&stranger).expect("db"), None);

        // The table holds no national code.
        let stored: Vec<String> = intake.with_db(|db| {
            let mut stmt = db
                .prepare("SELECT lookup_key FROM applicant_status")
                .expect("prepare");
            stmt.query_map([], |r| r.get(0))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows")
        });
        assert!(
            stored
                .iter()
                .all(|k| k.len() == 64 && !k.contains("0499370899"))
        );
    }

    fn signed(
        station: &str,
        key: &SigningKey,
        method: &str,
        path: &str,
    ) -> impl Fn(&str) -> Option<String> {
        let headers = auth::sign(station, key, method, path);
        move |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        }
    }

    async fn body(response: Response) -> (StatusCode, ErrorReply) {
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (
            status,
            serde_json::from_slice(&bytes).expect("an error document"),
        )
    }

    #[tokio::test]
    async fn questions_are_authenticated_then_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let intake = Arc::new(Intake::open(dir.path()).expect("intake"));
        let key = SigningKey::from_bytes(&[5; 32]);
        intake
            .register("st-1", &key.verifying_key(), "counter 1")
            .expect("register");
        let path = "/v1/applicants/status?tracking=1405004200000100";
        let (status, reply) = body(intake.answer_status(|_| None, path)).await;
        assert_eq!(
            (status, reply.error.as_str()),
            (StatusCode::UNAUTHORIZED, "malformed")
        );
        let stranger = SigningKey::from_bytes(&[7; 32]);
        let (status, reply) =
            body(intake.answer_status(signed("st-9", &stranger, "GET", path), path)).await;
        assert_eq!(
            (status, reply.error.as_str()),
            (StatusCode::UNAUTHORIZED, "unregistered-station")
        );
        // Signed for GET, sent as POST.
        let lookup = "/v1/applicants/lookup";
        let (status, _) =
            body(intake.answer_lookup(signed("st-1", &key, "GET", lookup), lookup, b"{}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let (status, reply) =
            body(intake.answer_status(signed("st-1", &key, "GET", path), path)).await;
        assert_eq!(
            (status, reply.error.as_str(), reply.field.as_deref()),
            (StatusCode::BAD_REQUEST, "bad-input", Some("tracking"))
        );
        let bare = "/v1/applicants/status";
        let (status, reply) =
            body(intake.answer_status(signed("st-1", &key, "GET", bare), bare)).await;
        assert_eq!(
            (status, reply.field.as_deref()),
            (StatusCode::BAD_REQUEST, Some("request"))
        );
        let cases: [(&[u8], &str); 5] = [
            (b"national_code=0499370899", "request"),
            (
                br#"{"national_code":"0499370899","birth_certificate_serial":"345678"}"#,
                "request",
            ),
            (
                br#"{"national_code":"0499370898","birth_certificate_serial":"345678","birth_date_jalali":"1380/01/01"}"#,
                "national_code",
            ),
            (
                br#"{"national_code":"0499370899","birth_certificate_serial":"3456","birth_date_jalali":"1380/01/01"}"#,
                "birth_certificate_serial",
            ),
            (
                br#"{"national_code":"0499370899","birth_certificate_serial":"345678","birth_date_jalali":"1380/12/31"}"#,
                "birth_date_jalali",
            ),
        ];
        for (sent, field) in cases {
            let (status, reply) =
                body(intake.answer_lookup(signed("st-1", &key, "POST", lookup), lookup, sent))
                    .await;
            assert_eq!(
                (status, reply.field.as_deref()),
                (StatusCode::BAD_REQUEST, Some(field)),
                "{}: {}",
                String::from_utf8_lossy(sent),
                reply.detail
            );
        }
        let unknown = format!(
            "/v1/applicants/status?tracking={}",
            TrackingCode::new(1405, 42, 1)
        );
        let (status, reply) =
            body(intake.answer_status(signed("st-1", &key, "GET", &unknown), &unknown)).await;
        assert_eq!(
            (status, reply.error.as_str()),
            (StatusCode::NOT_FOUND, "not-found")
        );
    }
}
