//! Operator and supervisor accounts, with argon2id password hashes.

use age::secrecy::ExposeSecret;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rusqlite::{Connection, OptionalExtension};
use zeroize::Zeroizing;

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::text::Text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Supervisor,
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Supervisor => "supervisor",
            Role::Operator => "operator",
        }
    }

    fn parse(text: &str) -> Self {
        if text == "supervisor" {
            Role::Supervisor
        } else {
            Role::Operator
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub username: String,
    pub full_name: String,
    pub role: Role,
    /// A supervisor created or reset this password: it must be changed
    /// before the account does anything else.
    pub must_change_password: bool,
}

/// An account as the supervisor's accounts screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub account: Account,
    pub disabled: bool,
    /// Locked until then (UTC), when that is still in the future.
    pub locked_until: Option<DateTime<Utc>>,
    pub failed_sign_ins: u32,
    pub created_at: String,
    pub created_by: Option<String>,
}

/// When to lock an account, from `[accounts]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub max_failures: u32,
    pub lockout: chrono::Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self::from(&crate::config::AccountsConfig::default())
    }
}

impl From<&crate::config::AccountsConfig> for Policy {
    fn from(c: &crate::config::AccountsConfig) -> Self {
        Self {
            max_failures: c.max_failed_sign_ins,
            lockout: chrono::Duration::seconds(
                i64::try_from(c.lockout_seconds).unwrap_or(i64::MAX / 1000),
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("wrong username or password")]
    WrongCredentials,
    /// This wrong password was the last one allowed: the account is now
    /// locked.
    #[error("too many wrong passwords: locked until {until}")]
    LockedNow { until: DateTime<Utc> },
    #[error("the account is locked until {until}")]
    Locked { until: DateTime<Utc> },
    #[error("the account is disabled")]
    Disabled,
    #[error("that username is taken")]
    Taken,
    #[error("no account {0}")]
    NoSuchAccount(String),
    #[error("the last active supervisor cannot be disabled")]
    LastSupervisor,
    #[error("the new password must differ from the old one")]
    SamePassword,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the draft key of {0} is damaged")]
    DraftKey(String),
}

impl AccountError {
    /// What the operator reads.
    pub fn text(&self) -> Text {
        let until = |t: &DateTime<Utc>| {
            t.with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string()
        };
        match self {
            AccountError::WrongCredentials => Text::new("err-wrong-credentials"),
            AccountError::LockedNow { until: t } => {
                Text::new("err-account-locked-now").arg("until", until(t))
            }
            AccountError::Locked { until: t } => {
                Text::new("err-account-locked").arg("until", until(t))
            }
            AccountError::Disabled => Text::new("err-account-disabled"),
            AccountError::Taken => Text::new("err-username-taken"),
            AccountError::NoSuchAccount(name) => {
                Text::new("err-no-such-account").arg("name", name.clone())
            }
            AccountError::LastSupervisor => Text::new("err-last-supervisor"),
            AccountError::SamePassword => Text::new("err-password-same"),
            other => Text::new("err-internal").arg("detail", other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for AccountError {
    fn from(e: rusqlite::Error) -> Self {
        AccountError::Store(StoreError::Sqlite(e))
    }
}

fn hash(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

fn password_matches(stored: &str, password: &str) -> Result<bool, AccountError> {
    let parsed = PasswordHash::new(stored).map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// A new account's name and username: a full name, and a username of
/// lower-case ASCII letters, digits, `.`, `_` or `-`.
pub fn check_new_account(full_name: &str, username: &str) -> Result<(), Text> {
    if full_name.trim().is_empty() {
        return Err(Text::new("err-full-name-required"));
    }
    let username = username.trim();
    if username.is_empty()
        || !username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Err(Text::new("err-username-format"));
    }
    Ok(())
}

/// A new password, typed twice, at least `min` characters long.
pub fn check_new_password(password: &str, repeat: &str, min: u32) -> Result<(), Text> {
    if password.chars().count() < min as usize {
        return Err(Text::new("err-password-short").arg("min", min.to_string()));
    }
    if password != repeat {
        return Err(Text::new("err-password-mismatch"));
    }
    Ok(())
}

pub fn count(conn: &Connection) -> Result<u64, AccountError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))?;
    Ok(n.unsigned_abs())
}

/// Creates an account. `created_by` is the supervisor who made it (None
/// for the first supervisor, made at first run); such an account must
/// change its password at first sign-in.
pub fn create(
    conn: &Connection,
    username: &str,
    full_name: &str,
    role: Role,
    password: &str,
    created_by: Option<&str>,
) -> Result<Account, AccountError> {
    let hashed = hash(password)?;
    let draft_key = age::x25519::Identity::generate();
    let wrapped = wrap(&draft_key, password)?;
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO accounts
             (username, full_name, role, password_hash, created_at, draft_recipient,
              draft_identity, must_change_password, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        (
            username,
            full_name,
            role.as_str(),
            hashed,
            chrono::Utc::now().to_rfc3339(),
            draft_key.to_public().to_string(),
            wrapped,
            created_by.is_some(),
            created_by,
        ),
    )?;
    if inserted == 0 {
        return Err(AccountError::Taken);
    }
    Ok(Account {
        username: username.to_owned(),
        full_name: full_name.to_owned(),
        role,
        must_change_password: created_by.is_some(),
    })
}

struct Row {
    account: Account,
    password_hash: String,
    failed: u32,
    locked_until: Option<DateTime<Utc>>,
    disabled: bool,
}

fn row(conn: &Connection, username: &str) -> Result<Option<Row>, AccountError> {
    Ok(conn
        .query_row(
            "SELECT full_name, role, password_hash, failed_sign_ins, locked_until,
                    must_change_password, disabled
             FROM accounts WHERE username = ?1",
            [username],
            |r| {
                let locked: Option<String> = r.get(4)?;
                Ok(Row {
                    account: Account {
                        username: username.to_owned(),
                        full_name: r.get(0)?,
                        role: Role::parse(&r.get::<_, String>(1)?),
                        must_change_password: r.get(5)?,
                    },
                    password_hash: r.get(2)?,
                    failed: r.get(3)?,
                    locked_until: locked
                        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                        .map(|t| t.with_timezone(&Utc)),
                    disabled: r.get(6)?,
                })
            },
        )
        .optional()?)
}

/// Checks a password under the lockout policy. Unknown users and wrong
/// passwords are the same error; a locked account is refused without
/// looking at the password (so a lockout cannot be used to guess it); a
/// wrong password counts towards the lockout, and the one that reaches
/// the limit locks the account for the policy's time.
pub fn verify(
    conn: &Connection,
    username: &str,
    password: &str,
    policy: Policy,
) -> Result<Account, AccountError> {
    let now = Utc::now();
    let Some(row) = row(conn, username)? else {
        // Spend the same time as a real check, so that timing does not
        // reveal which usernames exist.
        let _ = hash(password);
        return Err(AccountError::WrongCredentials);
    };
    if let Some(until) = row.locked_until.filter(|until| *until > now) {
        return Err(AccountError::Locked { until });
    }
    if !password_matches(&row.password_hash, password)? {
        let failed = row.failed + 1;
        if failed >= policy.max_failures {
            let until = now + policy.lockout;
            conn.execute(
                "UPDATE accounts SET failed_sign_ins = 0, locked_until = ?2 WHERE username = ?1",
                (username, until.to_rfc3339()),
            )?;
            return Err(AccountError::LockedNow { until });
        }
        conn.execute(
            "UPDATE accounts SET failed_sign_ins = ?2 WHERE username = ?1",
            (username, failed),
        )?;
        return Err(AccountError::WrongCredentials);
    }
    if row.disabled {
        return Err(AccountError::Disabled);
    }
    if row.failed > 0 || row.locked_until.is_some() {
        conn.execute(
            "UPDATE accounts SET failed_sign_ins = 0, locked_until = NULL WHERE username = ?1",
            [username],
        )?;
    }
    Ok(row.account)
}

/// Every account, supervisors first, then by username.
pub fn list(conn: &Connection) -> Result<Vec<Listed>, AccountError> {
    let now = Utc::now();
    let mut stmt = conn.prepare(
        "SELECT username FROM accounts
         ORDER BY role = 'operator', username",
    )?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let Some(row) = row(conn, &name)? else {
            continue;
        };
        let (created_at, created_by): (String, Option<String>) = conn.query_row(
            "SELECT created_at, created_by FROM accounts WHERE username = ?1",
            [&name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        out.push(Listed {
            account: row.account,
            disabled: row.disabled,
            locked_until: row.locked_until.filter(|t| *t > now),
            failed_sign_ins: row.failed,
            created_at,
            created_by,
        });
    }
    Ok(out)
}

/// Changes a password the account holder knows: the draft key is wrapped
/// again with the new password, so drafts stay resumable.
pub fn change_password(
    conn: &Connection,
    username: &str,
    old: &str,
    new: &str,
    policy: Policy,
) -> Result<(), AccountError> {
    verify(conn, username, old, policy)?;
    if old == new {
        return Err(AccountError::SamePassword);
    }
    let wrapped: Option<Vec<u8>> = conn.query_row(
        "SELECT draft_identity FROM accounts WHERE username = ?1",
        [username],
        |r| r.get(0),
    )?;
    let identity = match wrapped {
        Some(wrapped) => unwrap(username, &wrapped, old)?.0,
        None => age::x25519::Identity::generate(),
    };
    conn.execute(
        "UPDATE accounts SET password_hash = ?2, draft_recipient = ?3, draft_identity = ?4,
                must_change_password = 0
         WHERE username = ?1",
        (
            username,
            hash(new)?,
            identity.to_public().to_string(),
            wrap(&identity, new)?,
        ),
    )?;
    Ok(())
}

/// A supervisor sets a temporary password (the holder forgot theirs): it
/// must be changed at the next sign-in, and the account is unlocked. The
/// old draft key cannot be unwrapped without the old password, so the
/// account gets a new one: drafts saved before stay readable only by the
/// authority's key (docs/threat-model.md).
pub fn reset_password(
    conn: &Connection,
    username: &str,
    temporary: &str,
) -> Result<(), AccountError> {
    let identity = age::x25519::Identity::generate();
    let changed = conn.execute(
        "UPDATE accounts SET password_hash = ?2, draft_recipient = ?3, draft_identity = ?4,
                must_change_password = 1, failed_sign_ins = 0, locked_until = NULL
         WHERE username = ?1",
        (
            username,
            hash(temporary)?,
            identity.to_public().to_string(),
            wrap(&identity, temporary)?,
        ),
    )?;
    if changed == 0 {
        return Err(AccountError::NoSuchAccount(username.to_owned()));
    }
    Ok(())
}

/// Releases a locked account before its time.
pub fn unlock(conn: &Connection, username: &str) -> Result<(), AccountError> {
    let changed = conn.execute(
        "UPDATE accounts SET failed_sign_ins = 0, locked_until = NULL WHERE username = ?1",
        [username],
    )?;
    if changed == 0 {
        return Err(AccountError::NoSuchAccount(username.to_owned()));
    }
    Ok(())
}

/// Disables or enables an account. The last enabled supervisor stays:
/// nobody could manage the station without one.
pub fn set_disabled(conn: &Connection, username: &str, disabled: bool) -> Result<(), AccountError> {
    let Some(row) = row(conn, username)? else {
        return Err(AccountError::NoSuchAccount(username.to_owned()));
    };
    if disabled && row.account.role == Role::Supervisor && !row.disabled {
        let active: i64 = conn.query_row(
            "SELECT COUNT(*) FROM accounts WHERE role = 'supervisor' AND disabled = 0",
            [],
            |r| r.get(0),
        )?;
        if active <= 1 {
            return Err(AccountError::LastSupervisor);
        }
    }
    conn.execute(
        "UPDATE accounts SET disabled = ?2 WHERE username = ?1",
        (username, disabled),
    )?;
    Ok(())
}

/// An operator's draft key, unlocked by their password at sign-in.
#[derive(Clone)]
pub struct DraftKey(age::x25519::Identity);

impl std::fmt::Debug for DraftKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DraftKey({})", self.0.to_public())
    }
}

impl DraftKey {
    pub fn identity(&self) -> &age::x25519::Identity {
        &self.0
    }

    pub fn recipient(&self) -> age::x25519::Recipient {
        self.0.to_public()
    }
}

const WRAP_MAGIC: &[u8; 4] = b"pdk1";

/// The key that wraps a draft key: argon2id of the password.
fn wrapping_key(password: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, AccountError> {
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::default()
        .hash_password_into(password.as_bytes(), salt, key.as_mut())
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok(key)
}

/// `pdk1 ‖ salt (16) ‖ nonce (12) ‖ ChaCha20-Poly1305(identity)`.
fn wrap(identity: &age::x25519::Identity, password: &str) -> Result<Vec<u8>, AccountError> {
    let mut random = [0u8; 28];
    getrandom::fill(&mut random).map_err(|e| AccountError::Hash(e.to_string()))?;
    let (salt, nonce) = random.split_at(16);
    let key = wrapping_key(password, salt)?;
    let secret = identity.to_string();
    let sealed = ChaCha20Poly1305::new_from_slice(key.as_ref())
        .map_err(|e| AccountError::Hash(e.to_string()))?
        .encrypt(Nonce::from_slice(nonce), secret.expose_secret().as_bytes())
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok([WRAP_MAGIC.as_slice(), salt, nonce, &sealed].concat())
}

fn unwrap(username: &str, wrapped: &[u8], password: &str) -> Result<DraftKey, AccountError> {
    let damaged = || AccountError::DraftKey(username.to_owned());
    if wrapped.len() < 4 + 16 + 12 + 16 || &wrapped[..4] != WRAP_MAGIC {
        return Err(damaged());
    }
    let (salt, rest) = wrapped[4..].split_at(16);
    let (nonce, sealed) = rest.split_at(12);
    let key = wrapping_key(password, salt)?;
    let plain = Zeroizing::new(
        ChaCha20Poly1305::new_from_slice(key.as_ref())
            .map_err(|_| damaged())?
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| damaged())?,
    );
    let text = std::str::from_utf8(&plain).map_err(|_| damaged())?;
    text.parse().map(DraftKey).map_err(|_| damaged())
}

/// Signs in: checks the password and unlocks (or, for an account from
/// before draft keys, creates) the operator's draft key.
pub fn sign_in(
    conn: &Connection,
    username: &str,
    password: &str,
    policy: Policy,
) -> Result<(Account, DraftKey), AccountError> {
    let account = verify(conn, username, password, policy)?;
    let wrapped: Option<Vec<u8>> = conn.query_row(
        "SELECT draft_identity FROM accounts WHERE username = ?1",
        [username],
        |r| r.get(0),
    )?;
    let key = match wrapped {
        Some(wrapped) => unwrap(username, &wrapped, password)?,
        None => {
            let identity = age::x25519::Identity::generate();
            conn.execute(
                "UPDATE accounts SET draft_recipient = ?2, draft_identity = ?3 WHERE username = ?1",
                (
                    username,
                    identity.to_public().to_string(),
                    wrap(&identity, password)?,
                ),
            )?;
            DraftKey(identity)
        }
    };
    Ok((account, key))
}

/// The public half of an operator's draft key (drafts are written with
/// it, without the password).
pub fn draft_recipient(
    conn: &Connection,
    username: &str,
) -> Result<Option<age::x25519::Recipient>, AccountError> {
    let text: Option<Option<String>> = conn
        .query_row(
            "SELECT draft_recipient FROM accounts WHERE username = ?1",
            [username],
            |r| r.get(0),
        )
        .optional()?;
    text.flatten()
        .map(|t| {
            t.parse()
                .map_err(|_| AccountError::DraftKey(username.to_owned()))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_verify_and_refuse() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = super::super::open(&dir.path().join("t.db")).expect("open");
        assert_eq!(count(&conn).expect("count"), 0);
        create(
            &conn,
            "sara",
            "سارا",
            Role::Supervisor,
            "correct horse",
            None,
        )
        .expect("create");
        assert!(matches!(
            create(&conn, "sara", "x", Role::Operator, "p", None),
            Err(AccountError::Taken)
        ));
        let a = verify(&conn, "sara", "correct horse", Policy::default()).expect("verify");
        assert_eq!(a.role, Role::Supervisor);
        assert!(matches!(
            verify(&conn, "sara", "wrong", Policy::default()),
            Err(AccountError::WrongCredentials)
        ));
        assert!(matches!(
            verify(&conn, "nobody", "x", Policy::default()),
            Err(AccountError::WrongCredentials)
        ));
        let stored: String = conn
            .query_row("SELECT password_hash FROM accounts", [], |r| r.get(0))
            .expect("row");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
    }

    #[test]
    fn the_draft_key_opens_only_with_the_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = super::super::open(&dir.path().join("t.db")).expect("open");
        create(&conn, "reza", "رضا", Role::Operator, "pass phrase", None).expect("create");
        let recipient = draft_recipient(&conn, "reza")
            .expect("read")
            .expect("has one");
        let (_, key) = sign_in(&conn, "reza", "pass phrase", Policy::default()).expect("sign in");
        assert_eq!(key.recipient().to_string(), recipient.to_string());
        let (_, again) =
            sign_in(&conn, "reza", "pass phrase", Policy::default()).expect("sign in again");
        assert_eq!(again.recipient().to_string(), recipient.to_string());
        assert!(matches!(
            sign_in(&conn, "reza", "wrong", Policy::default()),
            Err(AccountError::WrongCredentials)
        ));
        // The stored key is not the identity in clear.
        let wrapped: Vec<u8> = conn
            .query_row("SELECT draft_identity FROM accounts", [], |r| r.get(0))
            .expect("row");
        assert!(!String::from_utf8_lossy(&wrapped).contains("AGE-SECRET-KEY"));
        assert!(matches!(
            unwrap("reza", &wrapped, "wrong"),
            Err(AccountError::DraftKey(_))
        ));
        // An account from before draft keys gets one at its next sign-in.
        conn.execute(
            "UPDATE accounts SET draft_recipient = NULL, draft_identity = NULL",
            [],
        )
        .expect("clear");
        assert!(draft_recipient(&conn, "reza").expect("read").is_none());
        sign_in(&conn, "reza", "pass phrase", Policy::default()).expect("creates one");
        assert!(draft_recipient(&conn, "reza").expect("read").is_some());
    }

    fn station_db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = super::super::open(&dir.path().join("t.db")).expect("open");
        (dir, conn)
    }

    #[test]
    fn wrong_passwords_lock_the_account_until_its_time_is_up() {
        let (_dir, conn) = station_db();
        create(
            &conn,
            "sara",
            "سارا",
            Role::Supervisor,
            "correct horse",
            None,
        )
        .expect("create");
        let policy = Policy {
            max_failures: 3,
            lockout: chrono::Duration::milliseconds(300),
        };
        for _ in 0..2 {
            assert!(matches!(
                verify(&conn, "sara", "wrong", policy),
                Err(AccountError::WrongCredentials)
            ));
        }
        assert!(matches!(
            verify(&conn, "sara", "wrong", policy),
            Err(AccountError::LockedNow { .. })
        ));
        // Locked: even the right password is refused, without being checked.
        assert!(matches!(
            verify(&conn, "sara", "correct horse", policy),
            Err(AccountError::Locked { .. })
        ));
        assert!(list(&conn).expect("list")[0].locked_until.is_some());
        std::thread::sleep(std::time::Duration::from_millis(350));
        verify(&conn, "sara", "correct horse", policy).expect("released by time");
        let listed = &list(&conn).expect("list")[0];
        assert_eq!((listed.locked_until, listed.failed_sign_ins), (None, 0));
        // A success resets the count.
        verify(&conn, "sara", "wrong", policy).expect_err("wrong");
        verify(&conn, "sara", "correct horse", policy).expect("right");
        verify(&conn, "sara", "wrong", policy).expect_err("wrong");
        assert!(matches!(
            verify(&conn, "sara", "wrong", policy),
            Err(AccountError::WrongCredentials)
        ));
        // A supervisor can release it early.
        verify(&conn, "sara", "wrong", policy).expect_err("locks");
        unlock(&conn, "sara").expect("unlock");
        verify(&conn, "sara", "correct horse", policy).expect("released by hand");
    }

    #[test]
    fn a_created_account_changes_its_password_and_keeps_its_drafts_key() {
        let (_dir, conn) = station_db();
        create(
            &conn,
            "sara",
            "سارا",
            Role::Supervisor,
            "correct horse",
            None,
        )
        .expect("create");
        let made = create(
            &conn,
            "reza",
            "رضا",
            Role::Operator,
            "temporary1",
            Some("sara"),
        )
        .expect("create");
        assert!(made.must_change_password);
        let (account, key) =
            sign_in(&conn, "reza", "temporary1", Policy::default()).expect("sign in");
        assert!(account.must_change_password);
        assert!(matches!(
            change_password(&conn, "reza", "temporary1", "temporary1", Policy::default()),
            Err(AccountError::SamePassword)
        ));
        change_password(
            &conn,
            "reza",
            "temporary1",
            "my own secret",
            Policy::default(),
        )
        .expect("change");
        let (account, again) =
            sign_in(&conn, "reza", "my own secret", Policy::default()).expect("sign in");
        assert!(!account.must_change_password);
        assert_eq!(key.recipient().to_string(), again.recipient().to_string());
        assert!(verify(&conn, "reza", "temporary1", Policy::default()).is_err());

        // A reset: a new temporary password, a new draft key, must change.
        reset_password(&conn, "reza", "another temp").expect("reset");
        let (account, reset) =
            sign_in(&conn, "reza", "another temp", Policy::default()).expect("sign in");
        assert!(account.must_change_password);
        assert_ne!(key.recipient().to_string(), reset.recipient().to_string());
        assert!(matches!(
            reset_password(&conn, "nobody", "x"),
            Err(AccountError::NoSuchAccount(_))
        ));
    }

    #[test]
    fn disabled_accounts_cannot_sign_in_and_one_supervisor_always_stays() {
        let (_dir, conn) = station_db();
        create(
            &conn,
            "sara",
            "سارا",
            Role::Supervisor,
            "correct horse",
            None,
        )
        .expect("create");
        create(
            &conn,
            "reza",
            "رضا",
            Role::Operator,
            "temporary1",
            Some("sara"),
        )
        .expect("create");
        assert!(matches!(
            set_disabled(&conn, "sara", true),
            Err(AccountError::LastSupervisor)
        ));
        set_disabled(&conn, "reza", true).expect("disable");
        assert!(matches!(
            verify(&conn, "reza", "temporary1", Policy::default()),
            Err(AccountError::Disabled)
        ));
        // A wrong password does not reveal that the account is disabled.
        assert!(matches!(
            verify(&conn, "reza", "wrong", Policy::default()),
            Err(AccountError::WrongCredentials)
        ));
        set_disabled(&conn, "reza", false).expect("enable");
        verify(&conn, "reza", "temporary1", Policy::default()).expect("enabled");
        let names: Vec<String> = list(&conn)
            .expect("list")
            .into_iter()
            .map(|l| l.account.username)
            .collect();
        assert_eq!(names, ["sara", "reza"]);
    }
}
