//! "Where is my card?": an applicant's status at the authority, asked of
//! the intake at the counter, and the station's clock against the
//! intake's.
//!
//! The intake records a status for every enrolment it judged (the packet's
//! Type-2 tracking code, and a keyed hash of national code, birth
//! certificate serial and birth date; `src/intake/applicants.rs`): a
//! [`Stage`] that starts at `received` (or `rejected`) and that the
//! authority's back office advances. Stations ask with the uploader's
//! signed client ([`upload::intake_client`]: the same `[upload] url`,
//! pinned certificate and request signature):
//!
//! ```text
//! GET  …/v1/applicants/status?tracking=<16 digits>     by tracking code
//! POST …/v1/applicants/lookup  {"national_code", "birth_certificate_serial",
//!                               "birth_date_jalali": "YYYY/MM/DD"}
//! GET  …/v1/status             {"now": RFC 3339, …}  → the clock skew
//! ```
//!
//! Answers: `200` with an [`ApplicantStatus`]; `404` with an
//! [`ErrorReply`] `not-found` when nothing matches (the intake does not say
//! whether the applicant is unknown or a detail is wrong); `400`
//! `bad-input`; `401` when the station is not accepted. Every failure is a
//! distinct [`StatusError`] with a [`Text`] for the operator; a reply that
//! is not what the protocol says is [`StatusError::BadReply`], never a
//! panic.
//!
//! No iced here: the counter screen and the dashboard call [`StatusClient`]
//! (or [`lookup`] and [`clock_skew`] once).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use pishkhan_tus::client::{self, Client, Method, Url};
use serde::{Deserialize, Serialize};

use crate::config::UploadConfig;
use crate::enrolment::birth_certificate;
use crate::enrolment::jalali::{DateError, JalaliDate};
use crate::enrolment::national_code::{self, NationalCode, NationalCodeError};
use crate::enrolment::tracking::TrackingCode;
use crate::i18n::I18n;
use crate::intake::receipt::Reason;
use crate::station::Station;
use crate::text::Text;
use crate::upload::{self, UploadError};

/// The intake's route for a status by tracking code (`?tracking=`).
pub const STATUS_PATH: &str = "/v1/applicants/status";
/// The intake's route for a status by the applicant's details (`POST`).
pub const LOOKUP_PATH: &str = "/v1/applicants/lookup";
/// The intake's counts and clock.
pub const INTAKE_STATUS_PATH: &str = "/v1/status";
/// How long one question may take: the operator is waiting at the counter.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest reply read (a status is a few hundred bytes).
const MAX_REPLY_BYTES: usize = 16 * 1024;
/// The longest office name a status may carry.
pub const MAX_OFFICE_CHARS: usize = 200;

/// Where an enrolment is on its way to a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// The intake accepted the packet.
    Received,
    /// The card is being personalised (set by the back office).
    InProduction,
    /// The card waits at an office (set by the back office, with the office).
    Ready,
    /// The applicant has the card (set by the back office).
    HandedOver,
    /// The intake refused the packet (with the receipt's reason code).
    Rejected,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Received,
        Stage::InProduction,
        Stage::Ready,
        Stage::HandedOver,
        Stage::Rejected,
    ];

    /// The stable code, as on the wire and in the intake's database.
    pub fn code(self) -> &'static str {
        match self {
            Stage::Received => "received",
            Stage::InProduction => "in-production",
            Stage::Ready => "ready",
            Stage::HandedOver => "handed-over",
            Stage::Rejected => "rejected",
        }
    }

    /// The stage of a code, if it is one.
    pub fn parse(code: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Translation id of the stage's short name (a badge, a column).
    pub fn label_id(self) -> &'static str {
        match self {
            Stage::Received => "status-stage-received",
            Stage::InProduction => "status-stage-in-production",
            Stage::Ready => "status-stage-ready",
            Stage::HandedOver => "status-stage-handed-over",
            Stage::Rejected => "status-stage-rejected",
        }
    }

    /// Set by the authority's back office (`pishkhan intake card-status`),
    /// not by the intake's judgement.
    pub fn is_back_office(self) -> bool {
        matches!(self, Stage::InProduction | Stage::Ready | Stage::HandedOver)
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What the intake answers about one enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantStatus {
    pub tracking_code: TrackingCode,
    pub stage: Stage,
    /// Where the card can be collected (`ready`) or was handed over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    /// When the stage last changed.
    pub updated_at: DateTime<Utc>,
    /// The receipt's reason code of a `rejected` packet
    /// ([`Reason::code`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ApplicantStatus {
    /// Checks what serde cannot: a tracking code with valid check digits,
    /// an office for `ready`, a reason for `rejected`.
    pub fn check(&self) -> Result<(), String> {
        let code = self.tracking_code.as_str();
        if TrackingCode::parse(code).as_ref() != Some(&self.tracking_code) {
            return Err(format!("{code:?} is not a tracking code"));
        }
        if let Some(office) = &self.office {
            check_office(office)?;
        }
        match self.stage {
            Stage::Ready if self.office.is_none() => Err("stage ready without an office".into()),
            Stage::Rejected if self.reason.as_deref().is_none_or(str::is_empty) => {
                Err("stage rejected without a reason".into())
            }
            _ => Ok(()),
        }
    }

    /// The translation id of a rejection's reason (`reason-unknown` for a
    /// code this version does not know); `None` unless rejected.
    pub fn reason_id(&self) -> Option<&'static str> {
        if self.stage != Stage::Rejected {
            return None;
        }
        Some(
            self.reason
                .as_deref()
                .and_then(|code| Reason::ALL.into_iter().find(|r| r.code() == code))
                .map_or("reason-unknown", Reason::text_id),
        )
    }

    /// What the operator tells the applicant. A rejection's `reason`
    /// argument is itself a translation id ([`reason_id`](Self::reason_id),
    /// as in the queue screen); [`describe`](Self::describe) translates it.
    pub fn text(&self) -> Text {
        let office = || self.office.clone().unwrap_or_default();
        match self.stage {
            Stage::Received => Text::new("status-applicant-received"),
            Stage::InProduction => Text::new("status-applicant-in-production"),
            Stage::Ready => Text::new("status-applicant-ready").arg("office", office()),
            Stage::HandedOver => Text::new("status-applicant-handed-over"),
            Stage::Rejected => Text::new("status-applicant-rejected")
                .arg("reason", self.reason_id().unwrap_or("reason-unknown")),
        }
    }

    /// [`text`](Self::text) rendered in `i18n`'s language, the reason
    /// translated too.
    pub fn describe(&self, i18n: &I18n) -> String {
        let mut text = self.text();
        for (name, value) in &mut text.args {
            if *name == "reason" {
                *value = i18n.tr(value);
            }
        }
        i18n.text(&text)
    }
}

/// An office name as the back office writes it: 1–200 characters, no
/// control characters, no spaces at the ends.
pub fn check_office(office: &str) -> Result<(), String> {
    let count = office.chars().count();
    if office.trim() != office || count == 0 {
        return Err("the office is empty or has spaces at its ends".into());
    }
    if count > MAX_OFFICE_CHARS {
        return Err(format!(
            "the office has {count} characters, more than {MAX_OFFICE_CHARS}"
        ));
    }
    if office.chars().any(char::is_control) {
        return Err("the office has control characters".into());
    }
    Ok(())
}

/// Who the applicant is, as the counter asks: national code, birth
/// certificate serial and birth date, each checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicantId {
    national_code: NationalCode,
    serial: String,
    birth_date: JalaliDate,
}

/// Domain of the bytes the intake hashes ([`ApplicantId::canonical`]).
const APPLICANT_DOMAIN: &[u8] = b"pishkhan-applicant/1\n";

impl ApplicantId {
    /// Checks typed details (Persian, Arabic-Indic or ASCII digits;
    /// spaces and dashes ignored): the national code's check digit (the
    /// one repeated code reported real, `1111111111`, passes: a supervisor
    /// approved it at enrolment), a six-digit serial, a Jalali date
    /// `YYYY/MM/DD`.
    pub fn parse(national_code: &str, serial: &str, birth_date: &str) -> Result<Self, BadInput> {
        let national_code =
            national_code::validate_with(national_code, true).map_err(BadInput::NationalCode)?;
        let serial = birth_certificate::check_serial(serial)
            .map_err(|_| BadInput::Serial(serial.to_owned()))?;
        let birth_date = JalaliDate::parse(birth_date).map_err(|error| BadInput::BirthDate {
            input: birth_date.to_owned(),
            error,
        })?;
        Ok(Self {
            national_code,
            serial,
            birth_date,
        })
    }

    pub fn national_code(&self) -> &NationalCode {
        &self.national_code
    }

    /// The serial, six ASCII digits.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    pub fn birth_date(&self) -> JalaliDate {
        self.birth_date
    }

    /// The bytes the intake's keyed hash is made over: a domain line, then
    /// national code, serial and birth date (`YYYYMMDD`, as in Type-2
    /// field 2.015), one a line. Equal details give equal bytes, however
    /// they were typed.
    pub fn canonical(&self) -> Vec<u8> {
        let date = self.birth_date.to_ascii().replace('/', "");
        [
            APPLICANT_DOMAIN,
            self.national_code.as_str().as_bytes(),
            b"\n",
            self.serial.as_bytes(),
            b"\n",
            date.as_bytes(),
        ]
        .concat()
    }

    /// The body of `POST /v1/applicants/lookup`.
    pub fn request(&self) -> LookupRequest {
        LookupRequest {
            national_code: self.national_code.as_str().to_owned(),
            birth_certificate_serial: self.serial.clone(),
            birth_date_jalali: self.birth_date.to_ascii(),
        }
    }
}

/// The body of `POST /v1/applicants/lookup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    pub national_code: String,
    pub birth_certificate_serial: String,
    /// `YYYY/MM/DD`.
    pub birth_date_jalali: String,
}

impl LookupRequest {
    /// The checked details.
    pub fn applicant(&self) -> Result<ApplicantId, BadInput> {
        ApplicantId::parse(
            &self.national_code,
            &self.birth_certificate_serial,
            &self.birth_date_jalali,
        )
    }
}

/// The body of every error answer of the applicant routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// `not-found`, `bad-input`, an authentication reason code
    /// (`unregistered-station`, `wrong-key`, `malformed`) or `internal`.
    pub error: String,
    /// For engineers (English).
    #[serde(default)]
    pub detail: String,
    /// With `bad-input`: the query parameter or JSON key at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The `error` of a 404 that means "no enrolment matches".
pub const NOT_FOUND: &str = "not-found";
/// The `error` of a 400.
pub const BAD_INPUT: &str = "bad-input";

/// What the counter asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// The tracking code on the applicant's receipt.
    Tracking(TrackingCode),
    /// The applicant's national code, birth certificate serial and birth
    /// date (the latest enrolment of that applicant).
    Applicant(ApplicantId),
}

impl Query {
    /// A typed tracking code (any digits; spaces and dashes ignored).
    pub fn tracking(input: &str) -> Result<Query, BadInput> {
        TrackingCode::parse(input)
            .map(Query::Tracking)
            .ok_or_else(|| BadInput::TrackingCode(input.to_owned()))
    }

    /// Typed applicant details ([`ApplicantId::parse`]).
    pub fn applicant(
        national_code: &str,
        serial: &str,
        birth_date: &str,
    ) -> Result<Query, BadInput> {
        ApplicantId::parse(national_code, serial, birth_date).map(Query::Applicant)
    }
}

/// What is wrong with a question, before (or, from an intake that checks
/// differently, after) it is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadInput {
    #[error("{0:?} is not a tracking code (16 digits, the last two checking the others)")]
    TrackingCode(String),
    #[error("the national code: {0}")]
    NationalCode(NationalCodeError),
    #[error("the birth certificate serial {0:?} is not six digits")]
    Serial(String),
    #[error("the birth date {input:?}: {error}")]
    BirthDate { input: String, error: DateError },
    /// The intake refused the question as malformed (HTTP 400).
    #[error("the intake refused the question: {0}")]
    Request(String),
}

impl BadInput {
    /// The query parameter or JSON key at fault.
    pub fn field(&self) -> &'static str {
        match self {
            BadInput::TrackingCode(_) => "tracking",
            BadInput::NationalCode(_) => "national_code",
            BadInput::Serial(_) => "birth_certificate_serial",
            BadInput::BirthDate { .. } => "birth_date_jalali",
            BadInput::Request(_) => "request",
        }
    }

    /// What the operator reads: what to fix.
    pub fn text(&self) -> Text {
        match self {
            BadInput::TrackingCode(_) => Text::new("err-status-bad-tracking-code"),
            BadInput::NationalCode(e) => crate::enrolment::applicant::national_code_text(e),
            BadInput::Serial(input) => birth_certificate::check_serial(input)
                .err()
                .unwrap_or_else(|| Text::new("err-status-bad-input").arg("detail", input.clone())),
            BadInput::BirthDate { error, .. } => Text::from_date_error(error),
            BadInput::Request(detail) => {
                Text::new("err-status-bad-input").arg("detail", detail.clone())
            }
        }
    }
}

/// Why a status (or the intake's clock) could not be had.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("the intake cannot be asked: its address is not configured ([upload] url)")]
    NotConfigured,
    #[error("the intake cannot be asked: {0}")]
    Config(String),
    #[error("the intake cannot be reached ({0})")]
    Offline(String),
    #[error(
        "the intake does not accept this station (HTTP {status}: {detail}); the station must be \
         registered at the intake with its current key, and its clock must be right"
    )]
    Refused { status: u16, detail: String },
    #[error("no enrolment matches")]
    NotFound,
    #[error(transparent)]
    BadInput(#[from] BadInput),
    #[error("the intake could not answer (HTTP {status}){detail}")]
    Intake { status: u16, detail: String },
    #[error("the intake's answer is not what was asked for: {0}")]
    BadReply(String),
}

impl StatusError {
    /// What the operator reads, in their language.
    pub fn text(&self) -> Text {
        match self {
            StatusError::NotConfigured => Text::new("err-status-not-configured"),
            StatusError::Config(detail) => {
                Text::new("err-status-config").arg("detail", detail.clone())
            }
            StatusError::Offline(_) => Text::new("err-status-offline"),
            StatusError::Refused { .. } => Text::new("err-status-refused"),
            StatusError::NotFound => Text::new("err-status-not-found"),
            StatusError::BadInput(bad) => bad.text(),
            StatusError::Intake { status, .. } => {
                Text::new("err-status-intake").arg("status", status.to_string())
            }
            StatusError::BadReply(detail) => {
                Text::new("err-status-bad-reply").arg("detail", detail.clone())
            }
        }
    }

    /// The intake could not be reached (network, TLS, timeouts).
    pub fn is_offline(&self) -> bool {
        matches!(self, StatusError::Offline(_))
    }

    fn from_client(error: client::Error) -> Self {
        use client::Error as E;
        match error {
            E::Network { .. } | E::Timeout(_) => StatusError::Offline(error.to_string()),
            E::Protocol(detail) => StatusError::BadReply(detail),
            E::Authenticate(detail) | E::Usage(detail) => StatusError::Config(detail),
            // `fetch` answers any status; these come only from tus requests.
            E::Refused { status, reason } | E::Busy { status, reason, .. } => StatusError::Intake {
                status,
                detail: suffix(&reason),
            },
            E::NotFound { status } => StatusError::Intake {
                status,
                detail: String::new(),
            },
            E::ChecksumMismatch { reason } | E::OffsetConflict { reason } => {
                StatusError::BadReply(reason)
            }
        }
    }
}

impl From<UploadError> for StatusError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::NotConfigured => StatusError::NotConfigured,
            other => StatusError::Config(other.to_string()),
        }
    }
}

fn suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

/// The error document of an answer, if it is one.
fn error_reply(body: &[u8]) -> Option<ErrorReply> {
    serde_json::from_slice(body).ok()
}

/// The start of a body as text, for messages.
fn body_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    text.trim().to_owned()
}

/// A failure status sorted: 401/403 refused, 400 bad input, 404 per its
/// document, anything else the intake's trouble.
fn sort_failure(status: u16, body: &[u8]) -> StatusError {
    let reply = error_reply(body);
    let detail = || {
        reply
            .as_ref()
            .map_or_else(|| body_text(body), |r| format!("{}: {}", r.error, r.detail))
    };
    match status {
        401 | 403 => StatusError::Refused {
            status,
            detail: detail(),
        },
        400 => StatusError::BadInput(BadInput::Request(detail())),
        404 if reply.as_ref().is_some_and(|r| r.error == NOT_FOUND) => StatusError::NotFound,
        404 => StatusError::Intake {
            status,
            detail: ": the intake does not answer applicant status (older than this station?)"
                .into(),
        },
        _ => StatusError::Intake {
            status,
            detail: suffix(&detail()),
        },
    }
}

/// Reads the intake's answer to `query` (`status` and `body`): a checked
/// status of the enrolment asked about, or the error it means.
pub fn read_answer(
    query: &Query,
    status: u16,
    body: &[u8],
) -> Result<ApplicantStatus, StatusError> {
    if status != 200 {
        return Err(sort_failure(status, body));
    }
    let answer: ApplicantStatus =
        serde_json::from_slice(body).map_err(|e| StatusError::BadReply(e.to_string()))?;
    answer.check().map_err(StatusError::BadReply)?;
    if let Query::Tracking(asked) = query
        && *asked != answer.tracking_code
    {
        return Err(StatusError::BadReply(format!(
            "asked about {asked}, answered about {}",
            answer.tracking_code
        )));
    }
    Ok(answer)
}

/// The intake's clock in its `/v1/status` answer (`now`, RFC 3339).
pub fn read_intake_time(status: u16, body: &[u8]) -> Result<DateTime<Utc>, StatusError> {
    #[derive(Deserialize)]
    struct Clock {
        now: Option<String>,
    }
    if status != 200 {
        return Err(sort_failure(status, body));
    }
    let clock: Clock =
        serde_json::from_slice(body).map_err(|e| StatusError::BadReply(e.to_string()))?;
    let now = clock.now.ok_or_else(|| {
        StatusError::BadReply("/v1/status has no `now` (an intake older than this station)".into())
    })?;
    DateTime::parse_from_rfc3339(&now)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StatusError::BadReply(format!("`now` {now:?} is not RFC 3339: {e}")))
}

/// The intake's clock minus the station's: positive when the intake is
/// ahead. The station's time is taken halfway between sending the request
/// and receiving the answer.
pub fn skew(
    intake_now: DateTime<Utc>,
    sent: DateTime<Utc>,
    received: DateTime<Utc>,
) -> chrono::Duration {
    let midpoint = sent + (received - sent) / 2;
    intake_now - midpoint
}

/// Asks one intake about applicants and its clock, signed as the station.
#[derive(Clone)]
pub struct StatusClient {
    client: Client,
    status_url: Url,
    lookup_url: Url,
    intake_status_url: Url,
}

impl StatusClient {
    /// A client of the intake of `config` (the `[upload]` section, or the
    /// demo intake's: [`upload::Background::config`]).
    pub fn new(station: Arc<Station>, config: &UploadConfig) -> Result<Self, StatusError> {
        let client = upload::intake_client(station, config, REQUEST_TIMEOUT)?;
        let endpoint = client.config().endpoint.clone();
        let url = |path: &str| {
            upload::beside_endpoint(&endpoint, path.trim_start_matches('/'))
                .map_err(StatusError::Config)
        };
        Ok(Self {
            status_url: url(STATUS_PATH)?,
            lookup_url: url(LOOKUP_PATH)?,
            intake_status_url: url(INTAKE_STATUS_PATH)?,
            client,
        })
    }

    /// The status of the enrolment `query` is about.
    pub async fn lookup(&self, query: &Query) -> Result<ApplicantStatus, StatusError> {
        let (method, url, body) = match query {
            Query::Tracking(code) => {
                let mut url = self.status_url.clone();
                url.query_pairs_mut().append_pair("tracking", code.as_str());
                (Method::GET, url, None)
            }
            Query::Applicant(applicant) => {
                let json = serde_json::to_vec(&applicant.request())
                    .map_err(|e| StatusError::Config(e.to_string()))?;
                let body = ("application/json", Bytes::from(json));
                (Method::POST, self.lookup_url.clone(), Some(body))
            }
        };
        let answer = self
            .client
            .fetch(method, &url, body, MAX_REPLY_BYTES)
            .await
            .map_err(StatusError::from_client)?;
        read_answer(query, answer.status.as_u16(), &answer.body)
    }

    /// The intake's clock minus the station's ([`skew`]).
    pub async fn clock_skew(&self) -> Result<chrono::Duration, StatusError> {
        let sent = Utc::now();
        let answer = self
            .client
            .fetch(Method::GET, &self.intake_status_url, None, MAX_REPLY_BYTES)
            .await
            .map_err(StatusError::from_client)?;
        let received = Utc::now();
        let intake_now = read_intake_time(answer.status.as_u16(), &answer.body)?;
        Ok(skew(intake_now, sent, received))
    }
}

/// Asks the intake of `config` once about `query`.
pub async fn lookup(
    station: Arc<Station>,
    config: &UploadConfig,
    query: &Query,
) -> Result<ApplicantStatus, StatusError> {
    StatusClient::new(station, config)?.lookup(query).await
}

/// Measures the intake's clock against the station's once: positive when
/// the intake is ahead.
pub async fn clock_skew(
    station: Arc<Station>,
    config: &UploadConfig,
) -> Result<chrono::Duration, StatusError> {
    StatusClient::new(station, config)?.clock_skew().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> TrackingCode {
        TrackingCode::new(1405, 42, 7)
    }

    fn status_json(code: &str, stage: &str, extra: &str) -> Vec<u8> {
        format!(
            r#"{{"tracking_code":"{code}","stage":"{stage}","updated_at":"2026-11-22T08:00:00Z"{extra}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn well_formed_answers_are_read() {
        let asked = Query::Tracking(code());
        let ready = read_answer(
            &asked,
            200,
            &status_json(code().as_str(), "ready", r#","office":"دفتر ۱۲ تهران""#),
        )
        .expect("reads");
        assert_eq!(ready.stage, Stage::Ready);
        assert_eq!(ready.office.as_deref(), Some("دفتر ۱۲ تهران"));
        let rejected = read_answer(
            &asked,
            200,
            &status_json(code().as_str(), "rejected", r#","reason":"bad-manifest""#),
        )
        .expect("reads");
        assert_eq!(rejected.reason_id(), Some("reason-bad-manifest"));
        // A newer intake may add fields, and write times with an offset.
        let later = format!(
            r#"{{"tracking_code":"{}","stage":"received","updated_at":"2026-11-22T11:30:00+03:30","queue":3}}"#,
            code()
        );
        let received = read_answer(&asked, 200, later.as_bytes()).expect("reads");
        assert_eq!(
            received.updated_at.to_rfc3339(),
            "2026-11-22T08:00:00+00:00"
        );
        // The JSON the intake writes reads back the same.
        let json = serde_json::to_vec(&ready).expect("JSON");
        assert_eq!(read_answer(&asked, 200, &json).expect("reads"), ready);
    }

    #[test]
    fn malformed_answers_are_bad_replies_not_panics() {
        let asked = Query::Tracking(code());
        let mut wrong_check = code().as_str().to_owned();
        wrong_check.replace_range(15.., if wrong_check.ends_with('0') { "1" } else { "0" });
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"".to_vec(), "EOF"),
            (b"<html>gateway</html>".to_vec(), "expected value"),
            (b"[1, 2]".to_vec(), "invalid type"),
            (b"{\"stage\": \"received\"}".to_vec(), "missing field"),
            (
                status_json(code().as_str(), "posted", ""),
                "unknown variant",
            ),
            (
                status_json(&wrong_check, "received", ""),
                "not a tracking code",
            ),
            (status_json("12", "received", ""), "not a tracking code"),
            (
                status_json(code().as_str(), "ready", ""),
                "without an office",
            ),
            (
                status_json(code().as_str(), "ready", r#","office":"""#),
                "empty",
            ),
            (
                status_json(code().as_str(), "ready", r#","office":"a\u0007b""#),
                "control",
            ),
            (
                status_json(code().as_str(), "rejected", ""),
                "without a reason",
            ),
            (
                format!(
                    r#"{{"tracking_code":"{}","stage":"received","updated_at":"yesterday"}}"#,
                    code()
                )
                .into_bytes(),
                "",
            ),
            (
                status_json(TrackingCode::new(1405, 42, 8).as_str(), "received", ""),
                "asked about",
            ),
        ];
        for (body, expected) in cases {
            match read_answer(&asked, 200, &body) {
                Err(StatusError::BadReply(detail)) => assert!(
                    detail.contains(expected),
                    "{}: {detail}",
                    String::from_utf8_lossy(&body)
                ),
                other => panic!("{}: {other:?}", String::from_utf8_lossy(&body)),
            }
        }
        let by_details = Query::applicant("0499370899", "345678", "1380/01/01").expect("valid");
        let other = status_json(TrackingCode::new(1405, 42, 8).as_str(), "received", "");
        assert!(
            read_answer(&by_details, 200, &other).is_ok(),
            "by details, any enrolment of the applicant may answer"
        );
    }

    #[test]
    fn failures_are_sorted_by_status_and_document() {
        let asked = Query::Tracking(code());
        let sorted = |status, body: &str| read_answer(&asked, status, body.as_bytes());
        assert!(matches!(
            sorted(
                404,
                r#"{"error":"not-found","detail":"no enrolment matches"}"#
            ),
            Err(StatusError::NotFound)
        ));
        // A 404 that is not the intake's answer: a route it lacks.
        assert!(matches!(
            sorted(404, ""),
            Err(StatusError::Intake { status: 404, .. })
        ));
        assert!(matches!(
            sorted(401, r#"{"error":"unregistered-station","detail":"station x is not registered"}"#),
            Err(StatusError::Refused { status: 401, detail }) if detail.starts_with("unregistered-station")
        ));
        assert!(matches!(
            sorted(403, "wrong-key: …"),
            Err(StatusError::Refused { status: 403, .. })
        ));
        assert!(matches!(
            sorted(400, r#"{"error":"bad-input","field":"tracking","detail":"…"}"#),
            Err(StatusError::BadInput(BadInput::Request(d))) if d.starts_with("bad-input")
        ));
        let busy = sorted(503, "maintenance").expect_err("busy");
        assert_eq!(
            busy.to_string(),
            "the intake could not answer (HTTP 503): maintenance"
        );
        assert_eq!(busy.text().id, "err-status-intake");
        assert!(matches!(
            read_intake_time(200, br#"{"accepted": 1}"#),
            Err(StatusError::BadReply(d)) if d.contains("older")
        ));
        assert!(matches!(
            read_intake_time(200, br#"{"now": 5}"#),
            Err(StatusError::BadReply(_))
        ));
        assert!(matches!(
            read_intake_time(200, br#"{"now": "noon"}"#),
            Err(StatusError::BadReply(d)) if d.contains("RFC 3339")
        ));
        let now = read_intake_time(200, br#"{"accepted":0,"now":"2026-11-22T08:00:00.250Z"}"#)
            .expect("reads");
        let sent = now - chrono::Duration::seconds(3);
        let received = sent + chrono::Duration::milliseconds(500);
        assert_eq!(
            skew(now, sent, received),
            chrono::Duration::milliseconds(2_750)
        );
    }

    #[test]
    fn typed_details_are_checked_before_anything_is_sent() {
        assert!(matches!(
            Query::tracking("1405-0042-000007-00"),
            Err(BadInput::TrackingCode(_))
        ));
        let typed = Query::tracking(&code().grouped()).expect("grouped form");
        assert_eq!(typed, Query::Tracking(code()));
        let bad = |nc, serial, date| Query::applicant(nc, serial, date).expect_err("bad");
        let nc = bad("0499370898", "345678", "1380/01/01");
        assert_eq!(nc.field(), "national_code");
        assert_eq!(nc.text().id, "err-nc-check-digit");
        let serial = bad("0499370899", "34567", "1380/01/01");
        assert_eq!(serial.field(), "birth_certificate_serial");
        assert_eq!(serial.text().id, "err-bc-serial-length");
        let date = bad("0499370899", "345678", "1380/13/01");
        assert_eq!(date.text().id, "err-date-month");
        let date = bad("0499370899", "345678", "13800101");
        assert_eq!(date.text().id, "err-date-format");

        // Persian digits and separators give the same canonical bytes.
        let typed = ApplicantId::parse("۰۴۹۹-۳۷۰۸۹-۹", "۳۴۵ ۶۷۸", "۱۳۸۰/۱/۱").expect("valid");
        let plain = ApplicantId::parse("0499370899", "345678", "1380/01/01").expect("valid");
        assert_eq!(typed.canonical(), plain.canonical());
        assert_eq!(
            plain.canonical(),
            b"pishkhan-applicant/1\n0499370899\n345678\n13800101".to_vec()
        );
        assert_eq!(plain.request().birth_date_jalali, "1380/01/01");
        assert_eq!(plain.request().applicant(), Ok(plain));
    }

    #[test]
    fn each_stage_and_error_has_its_own_message() {
        let at: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().expect("time");
        let status = |stage, office: Option<&str>, reason: Option<&str>| ApplicantStatus {
            tracking_code: code(),
            stage,
            office: office.map(str::to_owned),
            updated_at: at,
            reason: reason.map(str::to_owned),
        };
        let en = I18n::new(crate::i18n::Lang::En);
        let ready = status(Stage::Ready, Some("Office 12"), None);
        assert!(en.text(&ready.text()).contains("Office 12"));
        let rejected = status(Stage::Rejected, None, Some("tampered"));
        let said = rejected.describe(&en);
        assert!(said.contains(&en.tr("reason-tampered")), "{said}");
        let unknown = status(Stage::Rejected, None, Some("lost-in-space"));
        assert!(unknown.describe(&en).contains(&en.tr("reason-unknown")));
        let fa = I18n::new(crate::i18n::Lang::Fa);
        let ids: std::collections::BTreeSet<_> = Stage::ALL
            .into_iter()
            .map(|stage| {
                assert_ne!(fa.tr(stage.label_id()), stage.label_id());
                status(stage, Some("Office 12"), Some("tampered")).text().id
            })
            .collect();
        assert_eq!(ids.len(), Stage::ALL.len());
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(stage.code()), Some(stage));
        }
        let errors = [
            StatusError::NotConfigured,
            StatusError::Config("x".into()),
            StatusError::Offline("x".into()),
            StatusError::Refused {
                status: 401,
                detail: "x".into(),
            },
            StatusError::NotFound,
            StatusError::BadInput(BadInput::TrackingCode("1".into())),
            StatusError::Intake {
                status: 500,
                detail: String::new(),
            },
            StatusError::BadReply("x".into()),
        ];
        let ids: std::collections::BTreeSet<_> = errors.iter().map(|e| e.text().id).collect();
        assert_eq!(ids.len(), errors.len());
        assert!(errors[2].is_offline() && !errors[4].is_offline());
    }
}
