//! Operator and supervisor accounts, with argon2id password hashes.

use age::secrecy::ExposeSecret;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rusqlite::{Connection, OptionalExtension};
use zeroize::Zeroizing;

use super::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Supervisor,
    Operator,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Supervisor => "supervisor",
            Role::Operator => "operator",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub username: String,
    pub full_name: String,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("wrong username or password")]
    WrongCredentials,
    #[error("that username is taken")]
    Taken,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the draft key of {0} is damaged")]
    DraftKey(String),
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

pub fn count(conn: &Connection) -> Result<u64, AccountError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))?;
    Ok(n.unsigned_abs())
}

pub fn create(
    conn: &Connection,
    username: &str,
    full_name: &str,
    role: Role,
    password: &str,
) -> Result<Account, AccountError> {
    let hashed = hash(password)?;
    let draft_key = age::x25519::Identity::generate();
    let wrapped = wrap(&draft_key, password)?;
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO accounts
             (username, full_name, role, password_hash, created_at, draft_recipient, draft_identity)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            username,
            full_name,
            role.as_str(),
            hashed,
            chrono::Utc::now().to_rfc3339(),
            draft_key.to_public().to_string(),
            wrapped,
        ),
    )?;
    if inserted == 0 {
        return Err(AccountError::Taken);
    }
    Ok(Account {
        username: username.to_owned(),
        full_name: full_name.to_owned(),
        role,
    })
}

/// Checks a password. Unknown users and wrong passwords are the same error.
pub fn verify(conn: &Connection, username: &str, password: &str) -> Result<Account, AccountError> {
    let row: Option<(String, String, String)> = conn
        .query_row(
            "SELECT full_name, role, password_hash FROM accounts WHERE username = ?1",
            [username],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((full_name, role, stored)) = row else {
        // Spend the same time as a real check, so that timing does not
        // reveal which usernames exist.
        let _ = hash(password);
        return Err(AccountError::WrongCredentials);
    };
    let parsed = PasswordHash::new(&stored).map_err(|e| AccountError::Hash(e.to_string()))?;
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .map_err(|_| AccountError::WrongCredentials)?;
    Ok(Account {
        username: username.to_owned(),
        full_name,
        role: if role == "supervisor" {
            Role::Supervisor
        } else {
            Role::Operator
        },
    })
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
) -> Result<(Account, DraftKey), AccountError> {
    let account = verify(conn, username, password)?;
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
        create(&conn, "sara", "سارا", Role::Supervisor, "correct horse").expect("create");
        assert!(matches!(
            create(&conn, "sara", "x", Role::Operator, "p"),
            Err(AccountError::Taken)
        ));
        let a = verify(&conn, "sara", "correct horse").expect("verify");
        assert_eq!(a.role, Role::Supervisor);
        assert!(matches!(
            verify(&conn, "sara", "wrong"),
            Err(AccountError::WrongCredentials)
        ));
        assert!(matches!(
            verify(&conn, "nobody", "x"),
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
        create(&conn, "reza", "رضا", Role::Operator, "pass phrase").expect("create");
        let recipient = draft_recipient(&conn, "reza")
            .expect("read")
            .expect("has one");
        let (_, key) = sign_in(&conn, "reza", "pass phrase").expect("sign in");
        assert_eq!(key.recipient().to_string(), recipient.to_string());
        let (_, again) = sign_in(&conn, "reza", "pass phrase").expect("sign in again");
        assert_eq!(again.recipient().to_string(), recipient.to_string());
        assert!(matches!(
            sign_in(&conn, "reza", "wrong"),
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
        sign_in(&conn, "reza", "pass phrase").expect("creates one");
        assert!(draft_recipient(&conn, "reza").expect("read").is_some());
    }
}
