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

use crate::config::edit::{ConfigFile, EditError};
use crate::config::{Config, ConfigError, FingerprintConfig, OutboxConfig, PortraitConfig};
use crate::enrolment::{JalaliDate, Session, Step, TrackingCode, draft};
use crate::packet::{self, PacketError, SealedFile, Sealer};
use crate::receipts;
use crate::store::{self, StoreError, accounts, audit, drafts, outbox};
use crate::text::Text;

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
    #[error(transparent)]
    Outbox(#[from] outbox::OutboxError),
    #[error("the packet is {size} bytes, more than the {limit} the queue takes")]
    TooLarge { size: u64, limit: u64 },
    #[error("only {free} bytes are free on the disk; queueing needs {needed}")]
    DiskFull { free: u64, needed: u64 },
    #[error("cannot tell the free disk space: {0}")]
    DiskSpace(std::io::Error),
    #[error(transparent)]
    Preregistration(#[from] crate::prereg::cache::ConsumeError),
    #[error("the receipt copy: {0}")]
    Receipt(#[from] receipts::ReceiptError),
}

impl From<rusqlite::Error> for SealError {
    fn from(e: rusqlite::Error) -> Self {
        SealError::Store(StoreError::Sqlite(e))
    }
}

impl SealError {
    /// What the operator reads: the enrolment is never lost, it stays a
    /// draft.
    pub fn text(&self) -> Text {
        let mib = |b: u64| format!("{:.1}", b as f64 / (1024.0 * 1024.0));
        match self {
            SealError::TooLarge { size, limit } => Text::new("err-seal-too-large")
                .arg("size", mib(*size))
                .arg("limit", mib(*limit)),
            SealError::DiskFull { free, needed } => Text::new("err-seal-disk-full")
                .arg("free", mib(*free))
                .arg("needed", mib(*needed)),
            SealError::Preregistration(crate::prereg::cache::ConsumeError::AlreadyConsumed(by)) => {
                Text::new("err-seal-prereg-used")
                    .arg("code", by.tracking_code.clone())
                    .arg("packet", by.packet_id.clone())
            }
            other => Text::new("err-seal-failed").arg("detail", other.to_string()),
        }
    }

    /// Why a draft is held back, as stored with it: `too-large SIZE LIMIT`
    /// or `disk-full FREE NEEDED` (so that it can be shown in the
    /// operator's language later).
    fn held_code(&self) -> Option<String> {
        match self {
            SealError::TooLarge { size, limit } => Some(format!("too-large {size} {limit}")),
            SealError::DiskFull { free, needed } => Some(format!("disk-full {free} {needed}")),
            _ => None,
        }
    }

    /// The message for a stored [`held_code`](Self::held_code).
    pub fn held_text(code: &str) -> Text {
        let mut parts = code.split(' ');
        let kind = parts.next();
        let numbers: Vec<u64> = parts.filter_map(|n| n.parse().ok()).collect();
        match (kind, numbers.as_slice()) {
            (Some("too-large"), [size, limit]) => SealError::TooLarge {
                size: *size,
                limit: *limit,
            }
            .text(),
            (Some("disk-full"), [free, needed]) => SealError::DiskFull {
                free: *free,
                needed: *needed,
            }
            .text(),
            _ => Text::new("err-seal-failed").arg("detail", code.to_owned()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Account(#[from] accounts::AccountError),
    #[error(transparent)]
    Content(#[from] draft::DraftError),
    #[error(transparent)]
    Packet(#[from] PacketError),
    #[error("no draft {0}")]
    NotFound(String),
    #[error("draft {0} belongs to another operator")]
    NotYours(String),
    #[error("the draft cannot be decrypted with this operator's key: {0}")]
    Decrypt(#[from] age::DecryptError),
    #[error("an abandoned draft needs a reason")]
    NoReason,
}

/// What the operator gets back from sealing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub packet_id: String,
    pub tracking_code: TrackingCode,
    pub size: u64,
    /// What the applicant's receipt prints.
    pub copy: Option<receipts::ReceiptCopy>,
}

/// What a supervisor does to an account (`Station::manage_account`).
#[derive(Debug, Clone)]
pub enum AccountChange {
    Create {
        username: String,
        full_name: String,
        role: accounts::Role,
        temporary_password: String,
    },
    ResetPassword {
        username: String,
        temporary_password: String,
    },
    Unlock {
        username: String,
    },
    Disable {
        username: String,
        disabled: bool,
    },
}

/// Why a receipt could not be reprinted.
#[derive(Debug, thiserror::Error)]
pub enum ReprintError {
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error(transparent)]
    Receipt(#[from] receipts::ReceiptError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReprintError {
    pub fn text(&self) -> Text {
        match self {
            ReprintError::Approval(e) => e.text(),
            ReprintError::Receipt(receipts::ReceiptError::NotFound(query)) => {
                Text::new("err-receipt-not-found").arg("query", query.clone())
            }
            ReprintError::Receipt(receipts::ReceiptError::Locked(_)) => {
                Text::new("err-receipt-locked")
            }
            other => Text::new("err-internal").arg("detail", other.to_string()),
        }
    }
}

/// What a supervisor does with a packet the intake refused
/// ([`Station::resolve_rejected`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The cause was fixed (the station registered, its key corrected):
    /// send it again from the start.
    Requeue,
    /// It will not be sent; the note says why. The row and its ciphertext
    /// are kept.
    Dismiss { note: String },
}

impl Resolution {
    /// The audit action.
    pub fn action(&self) -> &'static str {
        match self {
            Resolution::Requeue => "packet-requeued",
            Resolution::Dismiss { .. } => "packet-dismissed",
        }
    }
}

/// Why a rejected packet could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error("a dismissal needs a note (at least 3 characters)")]
    NoNote,
    #[error(transparent)]
    Outbox(#[from] outbox::OutboxError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ResolveError {
    fn from(e: rusqlite::Error) -> Self {
        ResolveError::Store(StoreError::Sqlite(e))
    }
}

impl ResolveError {
    pub fn text(&self) -> Text {
        match self {
            ResolveError::Approval(e) => e.text(),
            ResolveError::NoNote => Text::new("err-resolve-note-required"),
            ResolveError::Outbox(outbox::OutboxError::NotFound(id)) => {
                Text::new("err-resolve-not-found").code("id", id.clone())
            }
            ResolveError::Outbox(outbox::OutboxError::NotRejected { id, .. }) => {
                Text::new("err-resolve-not-rejected").code("id", id.clone())
            }
            other => Text::new("err-internal").arg("detail", other.to_string()),
        }
    }
}

/// Why an on-the-spot approval was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error(transparent)]
    Account(#[from] accounts::AccountError),
    #[error("{0} is not a supervisor")]
    NotSupervisor(String),
}

impl ApprovalError {
    pub fn text(&self) -> Text {
        match self {
            ApprovalError::Account(e) => e.text(),
            ApprovalError::NotSupervisor(_) => Text::new("err-not-supervisor"),
        }
    }
}

/// An opened station.
pub struct Station {
    pub data_dir: PathBuf,
    /// The configuration as loaded at start. What the settings screen may
    /// change while the station runs is read through [`Station::live`].
    pub config: Config,
    /// Warnings from loading (unknown configuration keys).
    pub warnings: Vec<String>,
    pub id: Uuid,
    pub number: u16,
    key: SigningKey,
    recipients: Vec<age::x25519::Recipient>,
    /// True when packets go to the locally generated demo authority.
    pub demo: bool,
    db: Mutex<Connection>,
    /// The background sync of the appointment list, once it runs.
    prereg_sync: std::sync::OnceLock<crate::prereg::sync::SyncHandle>,
    /// The settings that apply without a restart, as last saved.
    live: std::sync::RwLock<Live>,
}

/// The settings a supervisor may change while the station runs: the
/// thresholds are read when an enrolment (fingerprints) or the portrait
/// step starts, the packet size limit at sealing, the fee schedule at
/// review, the sign-in rules at the next sign-in, password change or idle
/// check.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub fingerprints: FingerprintConfig,
    pub portrait: PortraitConfig,
    pub outbox: OutboxConfig,
    pub fees: crate::config::FeesConfig,
    pub accounts: crate::config::AccountsConfig,
}

impl Live {
    fn of(config: &Config) -> Self {
        Self {
            fingerprints: config.fingerprints,
            portrait: config.portrait,
            outbox: config.outbox,
            fees: config.fees.clone(),
            accounts: config.accounts,
        }
    }
}

/// The station's number inside tracking codes: the configured one, else
/// one derived from the station id.
pub fn station_number(id: Uuid, config: &crate::config::StationConfig) -> u16 {
    config
        .number
        .unwrap_or_else(|| (id.as_u128() % 10_000) as u16)
}

/// An entry [`Station::save_config`] records with the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
}

/// Why [`Station::save_config`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum SaveConfigError {
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error(transparent)]
    Store(#[from] StoreError),
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

/// Reads an age identity file (the first `AGE-SECRET-KEY-` line).
pub fn read_identity(path: &Path) -> Result<age::x25519::Identity, String> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| e.to_string())?);
    let line = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .ok_or("no AGE-SECRET-KEY line")?;
    line.parse().map_err(|e: &str| e.to_owned())
}

/// Loads the demo authority identity, creating it on first use.
pub fn demo_identity(dir: &Path) -> Result<age::x25519::Identity, StationError> {
    let path = dir.join(DEMO_IDENTITY_FILE);
    if path.exists() {
        return read_identity(&path).map_err(|reason| StationError::DemoKey {
            path: path.display().to_string(),
            reason,
        });
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
        let configured = config
            .authority
            .all_recipients()
            .into_iter()
            .map(|r| {
                r.parse().map_err(|e: &str| {
                    StationError::Config(ConfigError::Invalid {
                        path: data_dir
                            .join(crate::config::FILE_NAME)
                            .display()
                            .to_string(),
                        reason: e.to_owned(),
                    })
                })
            })
            .collect::<Result<Vec<age::x25519::Recipient>, _>>()?;
        let demo = configured.is_empty();
        let recipients = if demo {
            vec![demo_identity(data_dir)?.to_public()]
        } else {
            configured
        };
        // A crash while uploading left rows locked; old acknowledged
        // packets have served their time.
        let recovered = outbox::recover(&db, chrono::Utc::now())?;
        if recovered > 0 {
            tracing::warn!(
                "{recovered} packet(s) were being uploaded when the station stopped; queued again"
            );
        }
        let keep = chrono::Duration::days(i64::from(config.outbox.keep_acknowledged_days));
        let purged = outbox::purge_acknowledged(&db, &(chrono::Utc::now() - keep).to_rfc3339())?;
        if purged > 0 {
            tracing::info!(
                "{purged} acknowledged packet(s) deleted after {} days",
                config.outbox.keep_acknowledged_days
            );
            audit::record(
                &db,
                &key,
                "station",
                "packets-purged",
                None,
                Some(&format!(
                    "{purged} acknowledged more than {} days ago",
                    config.outbox.keep_acknowledged_days
                )),
            )?;
        }
        let number = station_number(id, &config.station);
        Ok(Self {
            live: std::sync::RwLock::new(Live::of(&config)),
            data_dir: data_dir.to_owned(),
            config,
            warnings,
            id,
            number,
            key,
            recipients,
            demo,
            db: Mutex::new(db),
            prereg_sync: std::sync::OnceLock::new(),
        })
    }

    /// The settings that apply without a restart, as last saved.
    pub fn live(&self) -> Live {
        self.live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Writes the configuration file and records `entries` in the audit
    /// log as one step: the entries are written in a transaction that
    /// commits only once the file is in place (nothing is recorded when
    /// the file cannot be written; nothing is written when the result
    /// would not be a valid configuration). The settings that apply
    /// without a restart take effect at once; returns the new
    /// configuration.
    pub fn save_config(
        &self,
        file: &ConfigFile,
        entries: &[AuditEntry],
    ) -> Result<Config, SaveConfigError> {
        file.check()?;
        let config = self.with_db(|db| -> Result<Config, SaveConfigError> {
            let tx = db.unchecked_transaction().map_err(StoreError::from)?;
            for e in entries {
                audit::record(
                    &tx,
                    &self.key,
                    &e.actor,
                    &e.action,
                    e.subject.as_deref(),
                    e.detail.as_deref(),
                )?;
            }
            let config = file.save()?;
            tx.commit().map_err(StoreError::from)?;
            Ok(config)
        })?;
        *self
            .live
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Live::of(&config);
        Ok(config)
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs `message` with the station key (callers prefix a domain).
    pub fn sign(&self, message: &[u8]) -> ed25519_dalek::Signature {
        use ed25519_dalek::Signer;
        self.key.sign(message)
    }

    /// Runs `f` with the database connection.
    pub fn with_db<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        let guard = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&guard)
    }

    /// The pre-registrations of this station's office matching a tracking
    /// code or national code, from the encrypted cache (works offline).
    pub fn find_appointments(
        &self,
        query: &str,
    ) -> Result<Vec<crate::prereg::cache::Found>, crate::prereg::cache::CacheError> {
        let key = self.prereg_key();
        self.with_db(|db| crate::prereg::cache::find(db, &key, &self.config.station.office, query))
    }

    /// Lets the window see and wake the background sync of the
    /// appointment list (set once, by the worker that runs it).
    pub fn attach_prereg_sync(&self, handle: crate::prereg::sync::SyncHandle) {
        if self.prereg_sync.set(handle).is_err() {
            tracing::warn!("a second appointment sync was attached; the first stays");
        }
    }

    /// The background sync of the appointment list, when one runs.
    pub fn prereg_sync(&self) -> Option<&crate::prereg::sync::SyncHandle> {
        self.prereg_sync.get()
    }

    /// When this office's appointment list was last synced (`None`: never).
    pub fn appointments_fetched_at(
        &self,
    ) -> Result<Option<String>, crate::prereg::cache::CacheError> {
        self.with_db(|db| crate::prereg::cache::fetched_at(db, &self.config.station.office))
    }

    pub fn has_accounts(&self) -> Result<bool, accounts::AccountError> {
        self.with_db(|db| accounts::count(db).map(|n| n > 0))
    }

    /// The authority recipients packets and drafts are encrypted to.
    pub fn recipients(&self) -> &[age::x25519::Recipient] {
        &self.recipients
    }

    /// The lockout rules of `[accounts]`.
    pub fn account_policy(&self) -> accounts::Policy {
        accounts::Policy::from(&self.live().accounts)
    }

    /// Appends to the audit log; a failure to audit is logged, not fatal
    /// to what was being done.
    fn audit(&self, actor: &str, action: &str, subject: Option<&str>, detail: Option<&str>) {
        if let Err(e) =
            self.with_db(|db| audit::record(db, &self.key, actor, action, subject, detail))
        {
            tracing::error!("audit {action}: {e}");
        }
    }

    /// Audits a refused password check (`context`: "sign-in" or
    /// "approval"): every refusal, and the lockout it caused.
    fn audit_refusal(&self, username: &str, context: &str, error: &accounts::AccountError) {
        let action = match error {
            accounts::AccountError::LockedNow { .. } => "account-locked",
            accounts::AccountError::Locked { .. } => "refused-while-locked",
            accounts::AccountError::Disabled => "refused-disabled",
            _ => "sign-in-refused",
        };
        if action == "account-locked" {
            self.audit(username, "sign-in-refused", None, Some(context));
        }
        self.audit(username, action, None, Some(context));
    }

    /// Signs an operator in and unlocks their draft key.
    pub fn sign_in(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(accounts::Account, accounts::DraftKey), accounts::AccountError> {
        let policy = self.account_policy();
        let result = self.with_db(|db| accounts::sign_in(db, username, password, policy));
        match &result {
            Ok(_) => self.audit(username, "signed-in", None, None),
            Err(e) => self.audit_refusal(username, "sign-in", e),
        }
        result
    }

    /// A supervisor's approval on the spot: their password, under the
    /// same lockout as sign-in. Refusals are audited here; what was
    /// approved is audited when the enrolment is sealed.
    pub fn approve(
        &self,
        username: &str,
        password: &str,
    ) -> Result<accounts::Account, ApprovalError> {
        let policy = self.account_policy();
        let checked = self.with_db(|db| accounts::verify(db, username, password, policy));
        self.as_supervisor(username, checked, |account| account.role)
    }

    /// A password check for an approval: passes a supervisor's, audits a
    /// refusal (a wrong password, a lockout, not a supervisor).
    fn as_supervisor<T>(
        &self,
        username: &str,
        checked: Result<T, accounts::AccountError>,
        role: impl Fn(&T) -> accounts::Role,
    ) -> Result<T, ApprovalError> {
        match checked {
            Ok(found) if role(&found) == accounts::Role::Supervisor => Ok(found),
            Ok(_) => {
                self.audit(username, "approval-refused", None, Some("not a supervisor"));
                Err(ApprovalError::NotSupervisor(username.to_owned()))
            }
            Err(e) => {
                self.audit_refusal(username, "approval", &e);
                Err(ApprovalError::Account(e))
            }
        }
    }

    /// The holder changes their own password (forced at first sign-in).
    pub fn change_password(
        &self,
        username: &str,
        old: &str,
        new: &str,
    ) -> Result<(), accounts::AccountError> {
        let policy = self.account_policy();
        let result = self.with_db(|db| accounts::change_password(db, username, old, new, policy));
        match &result {
            Ok(()) => self.audit(username, "password-changed", Some(username), None),
            Err(e) => self.audit_refusal(username, "password-change", e),
        }
        result
    }

    /// Today's counts of the queue and the drafts.
    pub fn counts(&self) -> Result<crate::dashboard::Counts, StoreError> {
        let today = chrono::Local::now().date_naive();
        self.with_db(|db| crate::dashboard::counts(db, today))
    }

    /// Free space in the data directory against the sealing reserve.
    pub fn disk(&self) -> std::io::Result<crate::dashboard::Disk> {
        Ok(crate::dashboard::Disk {
            free_bytes: fs4::available_space(&self.data_dir)?,
            reserve_bytes: self.config.outbox.min_free_bytes,
        })
    }

    /// Every account, for the supervisor's screen.
    pub fn accounts(&self) -> Result<Vec<accounts::Listed>, accounts::AccountError> {
        self.with_db(accounts::list)
    }

    /// A supervisor manages an account; every change is audited with the
    /// supervisor as actor and the account as subject.
    pub fn manage_account(
        &self,
        supervisor: &str,
        change: AccountChange,
    ) -> Result<(), accounts::AccountError> {
        let (action, subject, detail, result) = match &change {
            AccountChange::Create {
                username,
                full_name,
                role,
                temporary_password,
            } => (
                "account-created",
                username,
                Some(role.as_str()),
                self.with_db(|db| {
                    accounts::create(
                        db,
                        username,
                        full_name,
                        *role,
                        temporary_password,
                        Some(supervisor),
                    )
                    .map(drop)
                }),
            ),
            AccountChange::ResetPassword {
                username,
                temporary_password,
            } => (
                "password-reset",
                username,
                None,
                self.with_db(|db| accounts::reset_password(db, username, temporary_password)),
            ),
            AccountChange::Unlock { username } => (
                "account-unlocked",
                username,
                None,
                self.with_db(|db| accounts::unlock(db, username)),
            ),
            AccountChange::Disable { username, disabled } => (
                if *disabled {
                    "account-disabled"
                } else {
                    "account-enabled"
                },
                username,
                None,
                self.with_db(|db| accounts::set_disabled(db, username, *disabled)),
            ),
        };
        if result.is_ok() {
            self.audit(supervisor, action, Some(subject), detail);
        }
        result
    }

    /// Records a sign-out: `idle` when the station signed the operator
    /// out after the idle time.
    pub fn sign_out(&self, username: &str, idle: bool) {
        let action = if idle {
            "idle-signed-out"
        } else {
            "signed-out"
        };
        self.audit(username, action, None, None);
    }

    /// Seals a complete session into the outbox: in one transaction the
    /// packet is queued, its draft deleted and the act audited. When the
    /// packet is too large or the disk too full, nothing is queued and
    /// the draft says why.
    pub fn seal(&self, session: &Session) -> Result<Receipt, SealError> {
        let mut guard = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let result = self.seal_locked(&mut guard, session);
        if let Some(code) = result.as_ref().err().and_then(SealError::held_code) {
            drafts::hold(&guard, &session.id.to_string(), &code)?;
        }
        result
    }

    fn seal_locked(&self, conn: &mut Connection, session: &Session) -> Result<Receipt, SealError> {
        let tx = conn.transaction()?;
        let seq = outbox::take_seq(&tx)?;
        let tracking_code = TrackingCode::new(JalaliDate::today().year, self.number, seq);
        let station_id = self.id.to_string();
        let packet_id = session.id.to_string();
        // The sealing and every approval go into the audit log first (in
        // this transaction: nothing stays if sealing fails), so that the
        // packet carries its enrolment's audit excerpt.
        audit::record(
            &tx,
            &self.key,
            &session.operator,
            "packet-sealed",
            Some(&packet_id),
            Some(tracking_code.as_str()),
        )?;
        for (what, supervisor) in session.approvals() {
            audit::record(
                &tx,
                &self.key,
                &supervisor,
                "override-approved",
                Some(&packet_id),
                Some(&what),
            )?;
        }
        let excerpt = audit::of_subject(&tx, &packet_id)?;
        let sealed = packet::seal(
            session,
            tracking_code.clone(),
            &self.sealer(&station_id, &excerpt),
        )?;
        self.check_room(&sealed.file)?;
        outbox::insert(
            &tx,
            &sealed.file,
            outbox::Origin::Local { seq },
            Some(tracking_code.as_str()),
        )?;
        let copy = self.keep_receipt(&tx, session, &tracking_code, &sealed.manifest.sealed_at)?;
        if let Some(check_in) = &session.check_in {
            crate::prereg::cache::consume(
                &tx,
                &check_in.appointment.tracking_code,
                &sealed.manifest.packet_id,
            )?;
        }
        drafts::delete(&tx, &packet_id)?;
        tx.commit()?;
        tracing::info!(packet = %sealed.manifest.packet_id, seq, "packet sealed");
        Ok(Receipt {
            packet_id: sealed.manifest.packet_id,
            tracking_code,
            size: sealed.file.ciphertext.len() as u64,
            copy,
        })
    }

    /// The receipt's copy, kept for reprints encrypted to the supervisors
    /// (not kept on a station without supervisors: the self-test's).
    fn keep_receipt(
        &self,
        tx: &Connection,
        session: &Session,
        tracking_code: &TrackingCode,
        sealed_at: &str,
    ) -> Result<Option<receipts::ReceiptCopy>, SealError> {
        if session.applicant.is_none() {
            return Ok(None);
        }
        let copy = receipts::ReceiptCopy::of_session(
            session,
            tracking_code,
            &self.config.station.office,
            self.number,
            sealed_at,
        )?;
        let recipients = receipts::supervisor_recipients(tx)?;
        if recipients.is_empty() {
            tracing::info!("no supervisor: the receipt of {tracking_code:?} cannot be reprinted");
        } else {
            receipts::keep(tx, &copy, &self.receipt_tag_key(), &recipients)?;
        }
        Ok(Some(copy))
    }

    fn receipt_tag_key(&self) -> receipts::TagKey {
        receipts::TagKey::derive(&Zeroizing::new(self.key.to_bytes()))
    }

    /// A reprint of a kept receipt, found by tracking code or national
    /// code, opened with the supervisor's key (their password on the
    /// spot), counted and audited. Returns the copy and the reprint's
    /// number.
    pub fn reprint_receipt(
        &self,
        query: &str,
        supervisor: &str,
        password: &str,
    ) -> Result<(receipts::ReceiptCopy, u32), ReprintError> {
        let policy = self.account_policy();
        let checked = self.with_db(|db| accounts::sign_in(db, supervisor, password, policy));
        let (account, key) =
            self.as_supervisor(supervisor, checked, |(account, _)| account.role)?;
        let kept = self.with_db(|db| receipts::find(db, &self.receipt_tag_key(), query))?;
        let newest = &kept[0];
        let copy = newest.open(key.identity())?;
        let number = self.with_db(|db| {
            let number = receipts::count_reprint(db, &newest.packet_id)?;
            audit::record(
                db,
                &self.key,
                &account.username,
                "receipt-reprinted",
                Some(&newest.packet_id),
                Some(&format!("reprint {number}")),
            )?;
            Ok::<_, ReprintError>(number)
        })?;
        Ok((copy, number))
    }

    /// A supervisor resolves a packet the intake refused (`key`: packet
    /// id, id prefix or tracking code), with their password on the spot:
    /// re-queued or dismissed with a note, audited in the same
    /// transaction. Returns the row as it is now.
    pub fn resolve_rejected(
        &self,
        key: &str,
        resolution: &Resolution,
        supervisor: &str,
        password: &str,
    ) -> Result<outbox::Entry, ResolveError> {
        if let Resolution::Dismiss { note } = resolution
            && note.trim().chars().count() < 3
        {
            return Err(ResolveError::NoNote);
        }
        let account = self.approve(supervisor.trim(), password)?;
        let mut guard = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tx = guard.transaction()?;
        let entry = outbox::find(&tx, key)?;
        let reason = entry.reject_reason.clone().unwrap_or_default();
        let detail = match resolution {
            Resolution::Requeue => {
                outbox::requeue(&tx, &entry.id)?;
                format!("rejected as {reason}; queued again")
            }
            Resolution::Dismiss { note } => {
                let note = note.trim();
                let at = chrono::Utc::now().to_rfc3339();
                outbox::dismiss(&tx, &entry.id, &account.username, &at, note)?;
                format!("rejected as {reason}; not to be sent: {note}")
            }
        };
        audit::record(
            &tx,
            &self.key,
            &account.username,
            resolution.action(),
            Some(&entry.id),
            Some(&detail),
        )?;
        let now = outbox::find(&tx, &entry.id)?;
        tx.commit()?;
        tracing::info!(packet = %entry.id, supervisor = %account.username, action = resolution.action(), "rejected packet resolved");
        Ok(now)
    }

    fn sealer<'a>(&'a self, station_id: &'a str, audit: &'a [audit::Event]) -> Sealer<'a> {
        Sealer {
            station_id,
            station_number: self.number,
            office: &self.config.station.office,
            agency: &self.config.authority.agency,
            key: &self.key,
            recipients: &self.recipients,
            demo: self.demo,
            wsq_bitrate: self.config.fingerprints.wsq_bitrate,
            audit,
        }
    }

    /// The size limit and the free disk space, before queueing.
    fn check_room(&self, file: &SealedFile) -> Result<(), SealError> {
        let size = file.ciphertext.len() as u64;
        let outbox = self.live().outbox;
        let limit = outbox.max_packet_bytes;
        if size > limit {
            return Err(SealError::TooLarge { size, limit });
        }
        let free = fs4::available_space(&self.data_dir).map_err(SealError::DiskSpace)?;
        // The WAL holds the packet once more until the checkpoint.
        let needed = outbox.min_free_bytes + 2 * size;
        if free < needed {
            return Err(SealError::DiskFull { free, needed });
        }
        Ok(())
    }

    /// Saves the session, whose step `completed` was just completed, as an
    /// encrypted draft (to the operator's draft key and the authority).
    /// Sessions of operators without an account (demo, self-test) are not
    /// saved: nobody could resume them. Returns whether it was saved.
    pub fn save_draft(&self, session: &Session, completed: Step) -> Result<bool, DraftError> {
        let Some(operator_key) =
            self.with_db(|db| accounts::draft_recipient(db, &session.operator))?
        else {
            return Ok(false);
        };
        let plain = Zeroizing::new(draft::to_bytes(session, completed)?);
        let recipients: Vec<age::x25519::Recipient> = std::iter::once(operator_key)
            .chain(self.recipients.iter().cloned())
            .collect();
        let ciphertext = packet::encrypt(&recipients, &plain)?;
        let entry = drafts::Entry {
            id: session.id.to_string(),
            operator: session.operator.clone(),
            step: draft::step_key(completed).into(),
            started_at: session.started_at.to_rfc3339(),
            updated_at: chrono::Utc::now().to_rfc3339(),
            held_reason: None,
        };
        self.with_db(|db| drafts::save(db, &entry, &ciphertext))?;
        Ok(true)
    }

    /// The drafts `operator` may resume, newest first.
    pub fn drafts_of(&self, operator: &str) -> Result<Vec<drafts::Entry>, StoreError> {
        self.with_db(|db| drafts::of_operator(db, operator))
    }

    /// Who the draft `id` is about (decrypted with the operator's key).
    pub fn draft_summary(
        &self,
        id: &str,
        key: &accounts::DraftKey,
    ) -> Result<draft::Summary, DraftError> {
        let ciphertext = self
            .with_db(|db| drafts::payload(db, id))?
            .ok_or_else(|| DraftError::NotFound(id.to_owned()))?;
        let plain = Zeroizing::new(age::decrypt(key.identity(), &ciphertext)?);
        Ok(draft::summary(&plain)?)
    }

    /// Decrypts and restores the draft `id` of the signed-in operator.
    pub fn resume_draft(
        &self,
        id: &str,
        operator: &str,
        key: &accounts::DraftKey,
    ) -> Result<draft::Restored, DraftError> {
        let entry = self
            .drafts_of(operator)?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(|| DraftError::NotFound(id.to_owned()))?;
        let ciphertext = self
            .with_db(|db| drafts::payload(db, &entry.id))?
            .ok_or_else(|| DraftError::NotFound(id.to_owned()))?;
        let plain = Zeroizing::new(age::decrypt(key.identity(), &ciphertext)?);
        let restored = draft::from_bytes(&plain)?;
        if restored.session.operator != operator {
            return Err(DraftError::NotYours(id.to_owned()));
        }
        self.with_db(|db| audit::record(db, &self.key, operator, "draft-resumed", Some(id), None))?;
        Ok(restored)
    }

    /// Deletes a draft on the operator's word, with the reason and the
    /// approving supervisor, both audited.
    pub fn abandon_draft(
        &self,
        id: &str,
        operator: &str,
        reason: &str,
        approved_by: &str,
    ) -> Result<(), DraftError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DraftError::NoReason);
        }
        let mut guard = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tx = guard.transaction().map_err(StoreError::from)?;
        let owner: Option<String> = drafts::of_operator(&tx, operator)?
            .into_iter()
            .find(|d| d.id == id)
            .map(|d| d.operator);
        if owner.is_none() {
            return Err(DraftError::NotFound(id.to_owned()));
        }
        drafts::delete(&tx, id)?;
        audit::record(
            &tx,
            &self.key,
            operator,
            "draft-abandoned",
            Some(id),
            Some(reason),
        )?;
        audit::record(
            &tx,
            &self.key,
            approved_by,
            "override-approved",
            Some(id),
            Some("draft-abandoned"),
        )?;
        tx.commit().map_err(StoreError::from)?;
        Ok(())
    }
}
