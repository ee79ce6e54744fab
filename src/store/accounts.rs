//! Operator and supervisor accounts, with argon2id password hashes.

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rusqlite::{Connection, OptionalExtension};

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
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO accounts (username, full_name, role, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        (
            username,
            full_name,
            role.as_str(),
            hashed,
            chrono::Utc::now().to_rfc3339(),
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
}
