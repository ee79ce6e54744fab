//! Pre-registrations at the intake: each office's appointment list, served
//! to the office's stations, and the appointments accepted packets used.
//!
//! ```text
//! appointments/<OFFICE>.json   an AppointmentList (`pishkhan intake appointments import`)
//! intake.db                    consumed_appointments: tracking code, packet, station, time
//! ```
//!
//! `GET /v1/appointments?office=CODE` is signed like every tus request
//! ([`auth`](super::auth)): 401 when the signature is missing, wrong or
//! from an unregistered station; 403 when the register ties the station
//! to another office; 404 when the office has no list; else the list
//! without the appointments an accepted packet already used.
//!
//! When a packet is accepted, the tracking code at
//! `preregistration.appointment.tracking_code` in its manifest (if any) is
//! recorded as consumed, in the same transaction as the receipt. It is
//! read from the manifest JSON as a [`serde_json::Value`], so the intake
//! does not depend on the manifest's Rust type carrying the field.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{Intake, IntakeError, file_error};
use crate::prereg::{AppointmentList, ListError, is_office_code};

/// The folder of the lists inside the intake directory.
pub const DIR: &str = "appointments";
/// Where the lists are served.
pub const PATH: &str = "/v1/appointments";

/// Why a file could not be imported as an office's list.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} is not an appointment list (JSON): {reason}")]
    Json { path: String, reason: String },
    #[error("{path}: {problem}")]
    Invalid { path: String, problem: ListError },
    #[error(transparent)]
    Intake(#[from] IntakeError),
}

/// An appointment an accepted packet used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConsumedAtIntake {
    pub packet_id: String,
    pub station_id: String,
    pub consumed_at: String,
}

fn list_path(dir: &Path, office: &str) -> PathBuf {
    dir.join(DIR).join(format!("{office}.json"))
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new
/// one, never a mix: a temporary file, fsync, rename, fsync of the folder.
pub(super) fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), IntakeError> {
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(|e| file_error(folder, e))?;
    let temporary = path.with_extension("json.tmp");
    let mut file = std::fs::File::create(&temporary).map_err(|e| file_error(&temporary, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| file_error(&temporary, e))?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(|e| file_error(path, e))?;
    #[cfg(unix)]
    std::fs::File::open(folder)
        .and_then(|f| f.sync_all())
        .map_err(|e| file_error(folder, e))?;
    Ok(())
}

/// A stored JSON document (a list written by [`write_durably`]); `None`
/// when there is none.
pub(super) fn read_stored<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<Option<T>, IntakeError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_error(path, e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| file_error(path, e))
}

/// Reads and checks a list (see [`AppointmentList::validate`]).
pub fn read_list(file: &Path) -> Result<AppointmentList, ImportError> {
    let path = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| ImportError::Read {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let list: AppointmentList = serde_json::from_slice(&bytes).map_err(|e| ImportError::Json {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    list.validate()
        .map_err(|problem| ImportError::Invalid { path, problem })?;
    Ok(list)
}

impl Intake {
    /// Imports `file` as its office's list, replacing the office's
    /// previous one (consumed appointments stay consumed).
    pub fn import_appointments(&self, file: &Path) -> Result<AppointmentList, ImportError> {
        let list = read_list(file)?;
        self.store_appointments(&list)?;
        Ok(list)
    }

    /// Stores a checked list as its office's.
    fn store_appointments(&self, list: &AppointmentList) -> Result<(), IntakeError> {
        let path = list_path(&self.dir, &list.office);
        let json = serde_json::to_vec_pretty(list).map_err(|e| file_error(&path, e))?;
        write_durably(&path, &json)?;
        tracing::info!(
            office = %list.office,
            count = list.appointments.len(),
            "appointment list stored"
        );
        Ok(())
    }

    /// The stored list of `office`, as imported (consumed ones included).
    pub fn appointments(&self, office: &str) -> Result<Option<AppointmentList>, IntakeError> {
        if !is_office_code(office) {
            return Ok(None);
        }
        read_stored(&list_path(&self.dir, office))
    }

    /// The offices that have a list, sorted.
    pub fn appointment_offices(&self) -> Result<Vec<String>, IntakeError> {
        let folder = self.dir.join(DIR);
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(file_error(&folder, e)),
        };
        let mut offices: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".json")
                    .filter(|o| is_office_code(o))
                    .map(str::to_owned)
            })
            .collect();
        offices.sort();
        Ok(offices)
    }

    /// Every appointment an accepted packet used, by tracking code.
    pub fn consumed_appointments(&self) -> Result<HashMap<String, ConsumedAtIntake>, IntakeError> {
        let db = self
            .store
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut stmt = db.prepare(
            "SELECT tracking_code, packet_id, station_id, consumed_at FROM consumed_appointments",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                ConsumedAtIntake {
                    packet_id: r.get(1)?,
                    station_id: r.get(2)?,
                    consumed_at: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// In demo mode: writes a synthetic list of today for `office`
    /// ([`crate::prereg::demo`]) unless the office already has one.
    /// Returns whether it wrote one.
    pub fn seed_demo_appointments(&self, office: &str) -> Result<bool, IntakeError> {
        if !is_office_code(office) || list_path(&self.dir, office).exists() {
            return Ok(false);
        }
        let now = chrono::Local::now();
        let list = crate::prereg::demo::list(office, now.date_naive(), now);
        self.store_appointments(&list)?;
        Ok(true)
    }

    /// Answers `GET /v1/appointments?office=CODE` (`header` reads one
    /// request header by lower-case name).
    pub(super) fn answer_appointments(
        &self,
        header: impl Fn(&str) -> Option<String>,
        path_and_query: &str,
    ) -> Response {
        let station = match self.signed_get(header, path_and_query) {
            Ok(station) => station,
            Err(answer) => return *answer,
        };
        let office = super::query_param(path_and_query, "office").unwrap_or_default();
        if !is_office_code(&office) {
            return (
                StatusCode::BAD_REQUEST,
                format!(
                    "malformed: give ?office=CODE (ASCII letters, digits, '-', '_'), not {office:?}"
                ),
            )
                .into_response();
        }
        let registered_office = self.registered_office(&station);
        if let Some(own) = registered_office.filter(|own| *own != office) {
            tracing::warn!(
                station,
                office,
                own,
                "appointment list of another office refused"
            );
            return (
                StatusCode::FORBIDDEN,
                format!("wrong-office: station {station} enrols for office {own}, not {office}"),
            )
                .into_response();
        }
        let served = self.appointments(&office).and_then(|list| {
            let consumed = self.consumed_appointments()?;
            Ok(list.map(|mut list| {
                list.appointments
                    .retain(|a| !consumed.contains_key(&a.tracking_code));
                list
            }))
        });
        match served {
            Ok(Some(list)) => {
                tracing::info!(
                    station,
                    office,
                    count = list.appointments.len(),
                    "appointment list served"
                );
                axum::Json(list).into_response()
            }
            Ok(None) => (
                StatusCode::NOT_FOUND,
                format!("no appointment list for office {office}"),
            )
                .into_response(),
            Err(e) => {
                tracing::error!("appointment list of {office}: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
            }
        }
    }
}

/// The axum handler of [`PATH`].
pub(super) async fn handle(
    intake: std::sync::Arc<Intake>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    intake.answer_appointments(super::header_reader(&headers), &super::path_and_query(&uri))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::intake::auth;
    use crate::prereg::{Appointment, test_appointment as appointment};

    fn write_json(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn list_json(office: &str, appointments: &[Appointment]) -> String {
        serde_json::to_string(&AppointmentList {
            office: office.into(),
            generated_at: "2026-11-22T06:00:00+03:30".into(),
            appointments: appointments.to_vec(),
        })
        .expect("json")
    }

    #[test]
    fn import_checks_the_file_and_replaces_the_offices_list() {
        let dir = tempfile::tempdir().expect("tempdir");
        let intake = Intake::open(&dir.path().join("intake")).expect("intake");
        let files = dir.path();
        let cases: [(&str, String, &str); 5] = [
            (
                "broken.json",
                "{\"office\": ".into(),
                "is not an appointment list",
            ),
            (
                "no-office.json",
                list_json("", &[appointment("1", "0013542419")]),
                "names no office",
            ),
            (
                "short.json",
                list_json("TEH-12", &[appointment("1", "001354241")]),
                "appointment 1 (1): the national code is not 10 ASCII digits",
            ),
            (
                "twice.json",
                list_json(
                    "TEH-12",
                    &[
                        appointment("7", "0013542419"),
                        appointment("7", "0499370899"),
                    ],
                ),
                "the tracking code 7 appears more than once",
            ),
            ("missing.json", String::new(), "missing.json"),
        ];
        for (name, text, expected) in cases {
            let path = if name == "missing.json" {
                files.join(name)
            } else {
                write_json(files, name, &text)
            };
            let error = intake
                .import_appointments(&path)
                .expect_err(name)
                .to_string();
            assert!(error.contains(expected), "{name}: {error}");
        }
        assert!(intake.appointment_offices().expect("offices").is_empty());

        let first = write_json(
            files,
            "day1.json",
            &list_json("TEH-12", &[appointment("1", "0013542419")]),
        );
        intake.import_appointments(&first).expect("imports");
        let second = write_json(
            files,
            "day2.json",
            &list_json(
                "TEH-12",
                &[
                    appointment("2", "0013542419"),
                    appointment("3", "0499370899"),
                ],
            ),
        );
        let imported = intake.import_appointments(&second).expect("imports");
        assert_eq!(imported.appointments.len(), 2);
        assert_eq!(intake.appointment_offices().expect("offices"), ["TEH-12"]);
        let stored = intake.appointments("TEH-12").expect("read").expect("some");
        assert_eq!(stored, imported, "the new list replaced the old one");
        assert!(!intake.dir.join(DIR).join("TEH-12.json.tmp").exists());
        assert_eq!(intake.appointments("../intake").expect("read"), None);

        // The demo list is written only where there is none.
        assert!(!intake.seed_demo_appointments("TEH-12").expect("seed"));
        assert_eq!(intake.appointments("TEH-12").expect("read"), Some(imported));
        assert!(intake.seed_demo_appointments("DEMO-OFFICE").expect("seed"));
        let demo = intake
            .appointments("DEMO-OFFICE")
            .expect("read")
            .expect("some");
        assert_eq!(demo.appointments.len(), 10);
        assert!(!intake.seed_demo_appointments("DEMO-OFFICE").expect("seed"));
    }

    pub(crate) fn request_headers(
        station: &str,
        key: &SigningKey,
        path: &str,
    ) -> impl Fn(&str) -> Option<String> {
        let headers = auth::sign(station, key, "GET", path);
        move |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        }
    }

    pub(crate) async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn only_signed_requests_of_registered_stations_for_their_own_office_are_served() {
        let dir = tempfile::tempdir().expect("tempdir");
        let intake = Arc::new(Intake::open(dir.path()).expect("intake"));
        let key = SigningKey::from_bytes(&[5; 32]);
        intake
            .register("st-1", &key.verifying_key(), "counter 1")
            .expect("register");
        intake.set_office("st-1", Some("TEH-12")).expect("office");
        let roaming = SigningKey::from_bytes(&[6; 32]);
        intake
            .register("st-2", &roaming.verifying_key(), "mobile team")
            .expect("register");
        for office in ["TEH-12", "TEH-13"] {
            let file = write_json(
                dir.path(),
                &format!("{office}-in.json"),
                &list_json(
                    office,
                    &[
                        appointment("1", "0013542419"),
                        appointment("2", "0499370899"),
                    ],
                ),
            );
            intake.import_appointments(&file).expect("import");
        }
        let path = "/v1/appointments?office=TEH-12";

        let unsigned = intake.answer_appointments(|_| None, path);
        assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
        assert!(
            unsigned
                .headers()
                .contains_key(axum::http::header::WWW_AUTHENTICATE)
        );
        let stranger = SigningKey::from_bytes(&[7; 32]);
        let unregistered =
            intake.answer_appointments(request_headers("st-9", &stranger, path), path);
        assert_eq!(unregistered.status(), StatusCode::UNAUTHORIZED);
        assert!(
            body(unregistered)
                .await
                .starts_with("unregistered-station:")
        );
        let forged = intake.answer_appointments(request_headers("st-1", &stranger, path), path);
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
        // Signed for one office, asking for another: the signature covers the query.
        let moved = intake.answer_appointments(
            request_headers("st-1", &key, path),
            "/v1/appointments?office=TEH-13",
        );
        assert_eq!(moved.status(), StatusCode::UNAUTHORIZED);

        let other = "/v1/appointments?office=TEH-13";
        let refused = intake.answer_appointments(request_headers("st-1", &key, other), other);
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(body(refused).await.contains("enrols for office TEH-12"));

        let served = intake.answer_appointments(request_headers("st-1", &key, path), path);
        assert_eq!(served.status(), StatusCode::OK);
        let list: AppointmentList = serde_json::from_str(&body(served).await).expect("JSON");
        assert_eq!(
            (list.office.as_str(), list.appointments.len()),
            ("TEH-12", 2)
        );
        // A station with no office in the register may fetch any office.
        let any = intake.answer_appointments(request_headers("st-2", &roaming, other), other);
        assert_eq!(any.status(), StatusCode::OK);

        let none = "/v1/appointments?office=TEH-14";
        let missing = intake.answer_appointments(request_headers("st-2", &roaming, none), none);
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let bad = "/v1/appointments?office=..%2Fx";
        let malformed = intake.answer_appointments(request_headers("st-2", &roaming, bad), bad);
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    }
}
