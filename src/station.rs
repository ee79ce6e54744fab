//! The station: its data directory, identity, keys and database, and the
//! act of sealing a session into the outbox.
//!
//! Data directory layout:
//!
//! ```text
//! pishkhan.toml                  configuration (created on first run)
//! pishkhan.db                    accounts, station facts, outbox (WAL)
//! station.key                    the station's Ed25519 signing key (0600)
//! DEMO-authority-identity.txt    demo mode only: the demo authority's key
//! ```

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use age::secrecy::ExposeSecret;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rusqlite::Connection;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::config::{Config, ConfigError};
use crate::enrolment::{JalaliDate, Session, TrackingCode};
use crate::packet::{self, PacketError, Sealer};
use crate::store::{self, StoreError, accounts, outbox};

pub const KEY_FILE: &str = "station.key";
pub const DEMO_IDENTITY_FILE: &str = "DEMO-authority-identity.txt";

#[derive(Debug, thiserror::Error)]
pub enum StationError {
    #[error("cannot use the data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the station key {path} is damaged: {reason}")]
    Key { path: String, reason: String },
    #[error("the demo authority key {path} is damaged: {reason}")]
    DemoKey { path: String, reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Packet(#[from] PacketError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for SealError {
    fn from(e: rusqlite::Error) -> Self {
        SealError::Store(StoreError::Sqlite(e))
    }
}

/// What the operator gets back from sealing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub packet_id: String,
    pub tracking_code: TrackingCode,
    pub size: u64,
}

/// An opened station.
pub struct Station {
    pub data_dir: PathBuf,
    pub config: Config,
    /// Warnings from loading (unknown configuration keys).
    pub warnings: Vec<String>,
    pub id: Uuid,
    pub number: u16,
    key: SigningKey,
    recipient: age::x25519::Recipient,
    /// True when packets go to the locally generated demo authority.
    pub demo: bool,
    db: Mutex<Connection>,
}

impl std::fmt::Debug for Station {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Station")
            .field("data_dir", &self.data_dir)
            .field("id", &self.id)
            .field("number", &self.number)
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

fn dir_error(path: &Path, e: impl std::fmt::Display) -> StationError {
    StationError::DataDir {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Writes a secret file readable by the owner only.
fn write_secret(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn load_or_create_key(dir: &Path) -> Result<SigningKey, StationError> {
    let path = dir.join(KEY_FILE);
    let damaged = |reason: String| StationError::Key {
        path: path.display().to_string(),
        reason,
    };
    if path.exists() {
        let text =
            Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| damaged(e.to_string()))?);
        let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|e| damaged(e.to_string()))?);
        let secret: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| damaged("expected 32 bytes".into()))?;
        return Ok(SigningKey::from_bytes(&secret));
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    getrandom::fill(secret.as_mut()).map_err(|e| damaged(e.to_string()))?;
    let key = SigningKey::from_bytes(&secret);
    let text = Zeroizing::new(format!("{}\n", hex::encode(&secret[..])));
    write_secret(&path, text.as_bytes()).map_err(|e| dir_error(&path, e))?;
    Ok(key)
}

/// Loads the demo authority identity, creating it on first use.
pub fn demo_identity(dir: &Path) -> Result<age::x25519::Identity, StationError> {
    let path = dir.join(DEMO_IDENTITY_FILE);
    let damaged = |reason: String| StationError::DemoKey {
        path: path.display().to_string(),
        reason,
    };
    if path.exists() {
        let text =
            Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| damaged(e.to_string()))?);
        let line = text
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .ok_or_else(|| damaged("no AGE-SECRET-KEY line".into()))?;
        return line.parse().map_err(|e: &str| damaged(e.to_owned()));
    }
    let identity = age::x25519::Identity::generate();
    let text = Zeroizing::new(format!(
        "# DEMO authority identity, generated by Pishkhan in demo mode.\n\
         # NOT the authority's key: packets encrypted to it are demo packets.\n\
         # public key: {}\n{}\n",
        identity.to_public(),
        identity.to_string().expose_secret()
    ));
    write_secret(&path, text.as_bytes()).map_err(|e| dir_error(&path, e))?;
    Ok(identity)
}

impl Station {
    /// Opens the station in `data_dir`, creating what is missing: the
    /// directory, configuration, database, station key and (in demo mode)
    /// the demo authority key.
    pub fn open(data_dir: &Path) -> Result<Self, StationError> {
        std::fs::create_dir_all(data_dir).map_err(|e| dir_error(data_dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700));
        }
        let (config, warnings) = Config::load_or_create(data_dir)?;
        let db = store::open(&data_dir.join(store::FILE_NAME))?;
        let id = match store::meta(&db, "station_id")? {
            Some(id) => id.parse().map_err(|e| dir_error(data_dir, e))?,
            None => {
                let id = Uuid::now_v7();
                store::set_meta(&db, "station_id", &id.to_string())?;
                store::set_meta(&db, "created_at", &chrono::Utc::now().to_rfc3339())?;
                id
            }
        };
        let key = load_or_create_key(data_dir)?;
        let (recipient, demo) = match &config.authority.recipient {
            Some(r) => (
                r.parse().map_err(|e: &str| {
                    StationError::Config(ConfigError::Invalid {
                        path: data_dir
                            .join(crate::config::FILE_NAME)
                            .display()
                            .to_string(),
                        reason: e.to_owned(),
                    })
                })?,
                false,
            ),
            None => (demo_identity(data_dir)?.to_public(), true),
        };
        let number = config
            .station
            .number
            .unwrap_or_else(|| (id.as_u128() % 10_000) as u16);
        Ok(Self {
            data_dir: data_dir.to_owned(),
            config,
            warnings,
            id,
            number,
            key,
            recipient,
            demo,
            db: Mutex::new(db),
        })
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Runs `f` with the database connection.
    pub fn with_db<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        let guard = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&guard)
    }

    pub fn has_accounts(&self) -> Result<bool, accounts::AccountError> {
        self.with_db(|db| accounts::count(db).map(|n| n > 0))
    }

    /// Seals a complete session into the outbox in one transaction.
    pub fn seal(&self, session: &Session) -> Result<Receipt, SealError> {
        let mut guard = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tx = guard.transaction()?;
        let seq = outbox::next_seq(&tx)?;
        let tracking_code = TrackingCode::new(JalaliDate::today().year, self.number, seq);
        let station_id = self.id.to_string();
        let sealed = packet::seal(
            session,
            tracking_code.clone(),
            &Sealer {
                station_id: &station_id,
                station_number: self.number,
                office: &self.config.station.office,
                key: &self.key,
                recipient: &self.recipient,
                wsq_bitrate: self.config.fingerprints.wsq_bitrate,
            },
        )?;
        outbox::insert(
            &tx,
            &outbox::NewEntry {
                id: &sealed.manifest.packet_id,
                seq,
                tracking_code: tracking_code.as_str(),
                test: session.test,
                sha256: &sealed.sha256,
                signature: &sealed.signature,
                created_at: &sealed.manifest.sealed_at,
                payload: &sealed.ciphertext,
            },
        )?;
        tx.commit()?;
        tracing::info!(packet = %sealed.manifest.packet_id, seq, "packet sealed");
        Ok(Receipt {
            packet_id: sealed.manifest.packet_id,
            tracking_code,
            size: sealed.ciphertext.len() as u64,
        })
    }
}
