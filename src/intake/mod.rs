//! The reference intake server, `pishkhan intake`: the authority's
//! receiving end for demos, tests and small deployments.
//!
//! A tus 1.0 endpoint (`/files/`, crate `pishkhan-tus`) takes sealed
//! packets from registered stations (each request signed with the station
//! key, [`auth`]); when an upload is whole the intake judges it
//! ([`judge`]: register, header signature, decryption with the authority's
//! age identity, manifest and parts, the ANSI/NIST transaction), stores an
//! accepted packet in an object store (a local folder by default, any
//! S3-compatible store by configuration) and answers with a signed
//! [`receipt`]. The same packet uploaded again gets the same receipt.
//! `GET /v1/status` reports counts and the intake's clock;
//! `GET /v1/appointments?office=CODE` serves an office's pre-registrations
//! to its stations ([`appointments`]); `/v1/applicants/…` answers where an
//! applicant's card is ([`applicants`]); `GET /v1/visits?team=CODE` serves
//! a mobile team's visit list, and accepted field records are kept once
//! each ([`visits`]).
//!
//! Data directory:
//!
//! ```text
//! intake.toml          listen address, TLS, identities, object store, limits
//! intake.key           the intake's Ed25519 key, which signs receipts (0600)
//! applicant-lookup.key the secret of the applicant lookup hash (0600)
//! tls-cert.pem         the HTTPS certificate (self-signed on first start;
//! tls-key.pem          replace both with the authority's own; 0600 key)
//! stations.toml        the register: [[station]] id, key, name, office
//! intake.db            uploads in progress, receipts, rejections,
//!                      consumed appointments, applicant status, field records
//! appointments/<OFFICE>.json  each office's pre-registrations
//! visits/<TEAM>.json   each mobile team's visit list
//! uploads/<id>.part    bytes received so far
//! objects/             accepted packets (the default object store)
//! ```

pub mod applicants;
pub mod appointments;
pub mod auth;
pub mod judge;
pub mod receipt;
pub mod resend;
mod store;
pub mod visits;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use axum::Json;
use axum::routing::{get, post};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

pub use judge::Registry;
use store::IntakeStore;
pub use store::PACKET_ID_KEY;

pub const CONFIG_FILE: &str = "intake.toml";
pub const TLS_CERT_FILE: &str = "tls-cert.pem";
pub const TLS_KEY_FILE: &str = "tls-key.pem";
pub const KEY_FILE: &str = "intake.key";
pub const REGISTRY_FILE: &str = "stations.toml";
/// Where the tus endpoint is mounted.
pub const FILES_PATH: &str = "/files/";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntakeConfig {
    /// Address to listen on.
    pub listen: String,
    /// Serve HTTPS with `tls-cert.pem`/`tls-key.pem` (made self-signed for
    /// `tls_names` when missing). Off only for loopback demos and tests.
    pub tls: bool,
    /// Host names of the self-signed certificate.
    pub tls_names: Vec<String>,
    /// age identity files of the authority (any one may decrypt).
    pub identities: Vec<PathBuf>,
    /// `"local"` (the `objects/` folder) or `"s3://bucket/prefix"` (the
    /// usual `AWS_*` environment variables give the endpoint and keys).
    pub object_store: String,
    /// Largest packet accepted, in bytes.
    pub max_packet_bytes: u64,
    /// Largest difference between a station's clock and ours.
    pub max_clock_skew_s: u32,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:4600".into(),
            tls: true,
            tls_names: vec!["localhost".into()],
            identities: Vec::new(),
            object_store: "local".into(),
            max_packet_bytes: 8 * 1024 * 1024,
            max_clock_skew_s: 300,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("intake database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("object store: {0}")]
    Objects(String),
    #[error("could not record the verdict on packet {packet}: {reason}")]
    Judging { packet: String, reason: String },
}

/// What [`Intake::import`] did with each packet of an export folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IntakeImport {
    /// Accepted now: stored, the receipt kept for the station's upload.
    pub accepted: Vec<String>,
    /// Accepted before (uploaded or imported already): nothing changed.
    pub already_received: Vec<String>,
    /// Judged and rejected, as an upload would be: reason code and detail.
    pub rejected: Vec<(String, String)>,
    /// Not judged: the folder's copy is damaged or is not the listed packet.
    pub unreadable: Vec<(String, String)>,
}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> IntakeError {
    IntakeError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS uploads (
    id         TEXT PRIMARY KEY,
    station_id TEXT NOT NULL,
    packet_id  TEXT NOT NULL,
    length     INTEGER NOT NULL,
    offset     INTEGER NOT NULL,
    metadata   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    terminated INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS receipts (
    packet_id   TEXT PRIMARY KEY,
    station_id  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    status      TEXT NOT NULL,
    signed      TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    packet_id   TEXT NOT NULL,
    station_id  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    reason      TEXT,
    signed      TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS field_records (
    record_id   TEXT PRIMARY KEY,
    station_id  TEXT NOT NULL,
    team        TEXT NOT NULL,
    visit_id    TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    record      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS consumed_appointments (
    tracking_code TEXT PRIMARY KEY,
    packet_id     TEXT NOT NULL,
    station_id    TEXT NOT NULL,
    consumed_at   TEXT NOT NULL
);
";

/// An opened intake.
pub struct Intake {
    pub dir: PathBuf,
    pub config: IntakeConfig,
    store: Arc<IntakeStore>,
}

/// Loads a 32-byte secret kept as hex in `path`, creating it (random,
/// 0600) on first use.
pub(crate) fn load_or_create_secret(
    path: &Path,
) -> Result<zeroize::Zeroizing<[u8; 32]>, IntakeError> {
    if path.exists() {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(path).map_err(|e| file_error(path, e))?,
        );
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| file_error(path, "not 32 bytes of hex"))?;
        return Ok(zeroize::Zeroizing::new(bytes));
    }
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(secret.as_mut()).map_err(|e| file_error(path, e))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| file_error(path, e))?;
    std::io::Write::write_all(&mut file, format!("{}\n", hex::encode(*secret)).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| file_error(path, e))?;
    Ok(secret)
}

/// Loads the intake's key, creating it on first use.
fn load_or_create_key(path: &Path) -> Result<SigningKey, IntakeError> {
    load_or_create_secret(path).map(|secret| SigningKey::from_bytes(&secret))
}

fn object_store(dir: &Path, spec: &str) -> Result<Arc<dyn object_store::ObjectStore>, IntakeError> {
    if spec == "local" {
        let root = dir.join("objects");
        std::fs::create_dir_all(&root).map_err(|e| file_error(&root, e))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(&root)
            .map_err(|e| IntakeError::Objects(e.to_string()))?;
        return Ok(Arc::new(store));
    }
    let url = url::Url::parse(spec).map_err(|e| IntakeError::Objects(format!("{spec}: {e}")))?;
    // The bucket's settings come from the environment, as AWS tools read
    // them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    // AWS_ENDPOINT, AWS_ALLOW_HTTP, …): `parse_url` alone reads none.
    let options = std::env::vars()
        .filter(|(key, _)| key.starts_with("AWS_"))
        .map(|(key, value)| (key.to_ascii_lowercase(), value));
    let (store, prefix) = object_store::parse_url_opts(&url, options)
        .map_err(|e| IntakeError::Objects(format!("{spec}: {e}")))?;
    let store: Arc<dyn object_store::ObjectStore> = Arc::from(store);
    Ok(Arc::new(object_store::prefix::PrefixStore::new(
        store, prefix,
    )))
}

impl Intake {
    /// Opens (creating what is missing) the intake in `dir`.
    pub fn open(dir: &Path) -> Result<Self, IntakeError> {
        std::fs::create_dir_all(dir.join("uploads")).map_err(|e| file_error(dir, e))?;
        let config_path = dir.join(CONFIG_FILE);
        let config: IntakeConfig = if config_path.exists() {
            let text =
                std::fs::read_to_string(&config_path).map_err(|e| file_error(&config_path, e))?;
            toml::from_str(&text).map_err(|e| file_error(&config_path, e))?
        } else {
            let config = IntakeConfig::default();
            let text = toml::to_string_pretty(&config).map_err(|e| file_error(&config_path, e))?;
            std::fs::write(&config_path, text).map_err(|e| file_error(&config_path, e))?;
            config
        };
        let identities = config
            .identities
            .iter()
            .map(|p| {
                let path = if p.is_absolute() {
                    p.clone()
                } else {
                    dir.join(p)
                };
                crate::station::read_identity(&path).map_err(|e| file_error(&path, e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let registry = Registry::load(&dir.join(REGISTRY_FILE))
            .map_err(|e| file_error(&dir.join(REGISTRY_FILE), e))?;
        let key = load_or_create_key(&dir.join(KEY_FILE))?;
        let db = rusqlite::Connection::open(dir.join("intake.db"))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        db.execute_batch(SCHEMA)?;
        db.execute_batch(applicants::SCHEMA)?;
        db.execute_batch(resend::SCHEMA)?;
        let lookup = applicants::LookupSecret::load_or_create(&dir.join(applicants::SECRET_FILE))?;
        let objects = object_store(dir, &config.object_store)?;
        let store = Arc::new(IntakeStore {
            uploads: dir.join("uploads"),
            db: Mutex::new(db),
            registry: RwLock::new(registry),
            identities,
            key,
            lookup,
            objects,
            max_skew: chrono::Duration::seconds(i64::from(config.max_clock_skew_s)),
        });
        Ok(Self {
            dir: dir.to_owned(),
            config,
            store,
        })
    }

    /// The office the register ties `station` to, if any.
    pub(crate) fn registered_office(&self, station: &str) -> Option<String> {
        self.store
            .registry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .office_of(station)
            .map(str::to_owned)
    }

    /// The key stations check receipts with.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.store.key.verifying_key()
    }

    /// Registers (or re-keys) a station, in memory and in `stations.toml`.
    pub fn register(
        &self,
        station_id: &str,
        key: &VerifyingKey,
        name: &str,
    ) -> Result<(), IntakeError> {
        let mut registry = self
            .store
            .registry
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        registry.register(station_id, key, name);
        let path = self.dir.join(REGISTRY_FILE);
        registry.save(&path).map_err(|e| file_error(&path, e))
    }

    /// Ties a registered station to one office (it may fetch only that
    /// office's appointments), or unties it with `None`; in memory and in
    /// `stations.toml`.
    pub fn set_office(&self, station_id: &str, office: Option<&str>) -> Result<(), IntakeError> {
        let path = self.dir.join(REGISTRY_FILE);
        if let Some(office) = office.filter(|o| !crate::prereg::is_office_code(o)) {
            return Err(file_error(
                &path,
                format!("{office:?} is not an office code (ASCII letters, digits, '-', '_')"),
            ));
        }
        let mut registry = self
            .store
            .registry
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !registry.set_office(station_id, office) {
            return Err(file_error(
                &path,
                format!("station {station_id} is not registered"),
            ));
        }
        registry.save(&path).map_err(|e| file_error(&path, e))
    }

    /// Counts for `GET /v1/status`.
    pub fn status(&self) -> Result<IntakeStatus, IntakeError> {
        let db = self
            .store
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = |sql: &str| {
            db.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(i64::unsigned_abs)
        };
        Ok(IntakeStatus {
            accepted: count("SELECT COUNT(*) FROM receipts")?,
            rejected: count("SELECT COUNT(*) FROM rejections")?,
            uploads_in_progress: count(
                "SELECT COUNT(*) FROM uploads WHERE terminated = 0 AND offset < length",
            )?,
            stations: self
                .store
                .registry
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .stations
                .len() as u64,
            now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
    }

    /// Checks a station request's signature headers (`header` reads one by
    /// lower-case name) and returns the station id.
    pub(crate) fn verify_station(
        &self,
        header: impl Fn(&str) -> Option<String>,
        method: &str,
        path_and_query: &str,
    ) -> Result<String, auth::Unauthenticated> {
        let registry = self
            .store
            .registry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        auth::verify(
            header,
            method,
            path_and_query,
            &registry,
            chrono::Utc::now(),
            self.store.max_skew,
        )
    }

    /// [`verify_station`](Self::verify_station) for the list endpoints:
    /// the station id, or the plain-text 401 answer.
    pub(crate) fn signed_get(
        &self,
        header: impl Fn(&str) -> Option<String>,
        path_and_query: &str,
    ) -> Result<String, Box<axum::response::Response>> {
        use axum::response::IntoResponse;
        self.verify_station(header, "GET", path_and_query)
            .map_err(|e| {
                Box::new(
                    (
                        axum::http::StatusCode::UNAUTHORIZED,
                        [(axum::http::header::WWW_AUTHENTICATE, "Pishkhan-Signature")],
                        format!("{}: {}", e.reason.code(), e.detail),
                    )
                        .into_response(),
                )
            })
    }

    /// Takes in a station's export folder (`pishkhan queue export`: a USB
    /// stick from a kit that had no network). The folder's index signature
    /// and every packet's size, hash and header signature are checked
    /// first; then each packet is judged exactly as an upload from the
    /// station that sealed it (its header signature, checked against the
    /// register, says which), and its receipt kept. When that station
    /// uploads the packet later it gets the same receipt and marks it
    /// acknowledged; importing twice adds nothing.
    pub async fn import(&self, dir: &Path) -> Result<IntakeImport, IntakeError> {
        let packets = crate::queue::read_export(dir).map_err(|e| file_error(dir, e))?;
        let mut report = IntakeImport::default();
        for packet in packets {
            let (bytes, file) = match packet.read {
                Ok(read) => read,
                Err(e) => {
                    report.unreadable.push((packet.packet_id, e.to_string()));
                    continue;
                }
            };
            let id = file.header.packet_id.clone();
            let judging = |refusal: pishkhan_tus::server::Refusal| IntakeError::Judging {
                packet: id.clone(),
                reason: refusal.reason,
            };
            let known = self.store.receipt_of(&id).map_err(judging)?.is_some();
            let signed = self
                .store
                .settle(&id, &file.header.station_id, bytes)
                .await
                .map_err(judging)?;
            let receipt = serde_json::from_str::<receipt::SignedReceipt>(&signed)
                .ok()
                .and_then(|s| serde_json::from_str::<receipt::Receipt>(&s.receipt).ok());
            match receipt {
                Some(r) if r.status == receipt::Status::Accepted && known => {
                    report.already_received.push(id);
                }
                Some(r) if r.status == receipt::Status::Accepted => report.accepted.push(id),
                Some(r) => report.rejected.push((
                    id,
                    format!(
                        "{}: {}",
                        r.reason.map_or("malformed", receipt::Reason::code),
                        r.detail.unwrap_or_default()
                    ),
                )),
                None => report.rejected.push((id, "no readable receipt".into())),
            }
        }
        tracing::info!(
            folder = %dir.display(),
            accepted = report.accepted.len(),
            already_received = report.already_received.len(),
            rejected = report.rejected.len(),
            unreadable = report.unreadable.len(),
            "export folder imported"
        );
        Ok(report)
    }

    /// Packets accepted, by the object store's listing (`packets/<station>/<id>.pkp`).
    pub async fn stored_packets(&self) -> Result<Vec<String>, IntakeError> {
        use futures::TryStreamExt;
        let prefix = object_store::path::Path::from("packets");
        let listed: Vec<object_store::ObjectMeta> = self
            .store
            .objects
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| IntakeError::Objects(e.to_string()))?;
        let mut names: Vec<String> = listed.into_iter().map(|m| m.location.to_string()).collect();
        names.sort();
        Ok(names)
    }

    /// The HTTP application: tus at [`FILES_PATH`], `GET /v1/status`,
    /// `GET /v1/appointments` ([`appointments::PATH`]), `GET
    /// /v1/applicants/status` and `POST /v1/applicants/lookup`
    /// ([`applicants`]).
    pub fn router(self: &Arc<Self>) -> axum::Router {
        let tus = pishkhan_tus::server::Config {
            base_path: FILES_PATH.into(),
            max_size: Some(self.config.max_packet_bytes),
            ..pishkhan_tus::server::Config::default()
        };
        let intake = self.clone();
        let lists = self.clone();
        let (by_code, by_details) = (self.clone(), self.clone());
        let teams = self.clone();
        let cards = self.clone();
        let resends = self.clone();
        pishkhan_tus::server::router(self.store.clone(), tus)
            .route(
                "/v1/status",
                get(move || {
                    let intake = intake.clone();
                    async move {
                        intake.status().map(Json).map_err(|e| {
                            (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
                        })
                    }
                }),
            )
            .route(
                appointments::PATH,
                get(move |uri, headers| appointments::handle(lists.clone(), uri, headers)),
            )
            .route(
                visits::PATH,
                get(move |uri, headers| visits::handle(teams.clone(), uri, headers)),
            )
            .route(
                resend::PATH,
                get(move |uri, headers| resend::handle(resends.clone(), uri, headers)),
            )
            .route(
                visits::CARD_PATH,
                get(move |uri, headers| visits::handle_card(cards.clone(), uri, headers)),
            )
            .route(
                crate::status::STATUS_PATH,
                get(move |uri, headers| applicants::handle_status(by_code.clone(), uri, headers)),
            )
            .route(
                crate::status::LOOKUP_PATH,
                post(move |uri, headers, body| {
                    applicants::handle_lookup(by_details.clone(), uri, headers, body)
                }),
            )
    }

    /// Serves on `listener` until the future is dropped: HTTPS when `tls`
    /// is on, else plain HTTP.
    pub async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        if !self.config.tls {
            return axum::serve(listener, self.router()).await;
        }
        let acceptor = self
            .tls_acceptor()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let app = self.router();
        loop {
            let (tcp, peer) = listener.accept().await?;
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let stream = match acceptor.accept(tcp).await {
                    Ok(stream) => stream,
                    Err(e) => {
                        tracing::info!(%peer, "TLS handshake failed: {e}");
                        return;
                    }
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                if let Err(e) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
            });
        }
    }

    /// The HTTPS certificate (PEM), made self-signed when missing.
    pub fn certificate_pem(&self) -> Result<String, IntakeError> {
        self.ensure_certificate()?;
        let path = self.dir.join(TLS_CERT_FILE);
        std::fs::read_to_string(&path).map_err(|e| file_error(&path, e))
    }

    fn ensure_certificate(&self) -> Result<(), IntakeError> {
        let (cert, key) = (self.dir.join(TLS_CERT_FILE), self.dir.join(TLS_KEY_FILE));
        if cert.exists() && key.exists() {
            return Ok(());
        }
        let made = rcgen::generate_simple_self_signed(self.config.tls_names.clone())
            .map_err(|e| file_error(&cert, e))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&key)
            .and_then(|mut f| {
                std::io::Write::write_all(&mut f, made.signing_key.serialize_pem().as_bytes())
            })
            .map_err(|e| file_error(&key, e))?;
        std::fs::write(&cert, made.cert.pem()).map_err(|e| file_error(&cert, e))?;
        tracing::info!(
            "made a self-signed certificate for {:?}",
            self.config.tls_names
        );
        Ok(())
    }

    fn tls_acceptor(&self) -> Result<tokio_rustls::TlsAcceptor, IntakeError> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        self.ensure_certificate()?;
        let (cert_path, key_path) = (self.dir.join(TLS_CERT_FILE), self.dir.join(TLS_KEY_FILE));
        let certs = CertificateDer::pem_file_iter(&cert_path)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| file_error(&cert_path, e))?;
        let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| file_error(&key_path, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
            .map_err(|e| file_error(&cert_path, e))?;
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

/// What `GET /v1/status` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeStatus {
    pub accepted: u64,
    pub rejected: u64,
    pub uploads_in_progress: u64,
    pub stations: u64,
    /// The intake's clock when it answered (RFC 3339, UTC, milliseconds),
    /// for stations to measure their skew ([`crate::status::clock_skew`]).
    pub now: String,
}

/// A request's path and query, as signed.
pub(crate) fn path_and_query(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned())
}

/// Reads one request header by lower-case name.
pub(crate) fn header_reader(
    headers: &axum::http::HeaderMap,
) -> impl Fn(&str) -> Option<String> + '_ {
    |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// The first value of query parameter `name`.
pub(crate) fn query_param(path_and_query: &str, name: &str) -> Option<String> {
    path_and_query.split_once('?').and_then(|(_, query)| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    })
}
