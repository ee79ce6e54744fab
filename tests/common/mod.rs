//! What the integration tests that talk to a real intake share: an intake
//! in a temporary directory with stations registered, served on loopback,
//! and the `[upload]` section that reaches it.
#![allow(dead_code)] // each test binary uses its own part

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use pishkhan::config::UploadConfig;
use pishkhan::intake::Intake;
use pishkhan::station::Station;

/// The `intake.toml` line that lets the intake decrypt what the demo
/// station in `station_dir` seals (its demo authority identity).
pub fn decrypting_for(station_dir: &Path) -> String {
    format!(
        "identities = [\"{}\"]\n",
        station_dir
            .join(pishkhan::station::DEMO_IDENTITY_FILE)
            .display()
    )
}

/// An intake in `dir` (plain HTTP on loopback, `extra` lines added to
/// `intake.toml`), with each station of `stations` registered and tied to
/// its office when one is given.
pub fn open_intake(dir: &Path, extra: &str, stations: &[(&Path, Option<&str>)]) -> Arc<Intake> {
    std::fs::write(
        dir.join("intake.toml"),
        format!("listen = \"127.0.0.1:0\"\ntls = false\n{extra}"),
    )
    .expect("intake config");
    let intake = Arc::new(Intake::open(dir).expect("intake opens"));
    for (station, office) in stations {
        let st = Station::open(station).expect("station");
        let id = st.id.to_string();
        intake
            .register(&id, &st.verifying_key(), "counter")
            .expect("register");
        if office.is_some() {
            intake.set_office(&id, *office).expect("office");
        }
    }
    intake
}

/// Serves `intake` on a free loopback port until the task is aborted.
pub async fn serve(
    intake: &Arc<Intake>,
) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    (addr, tokio::spawn(intake.clone().serve(listener)))
}

/// The `[upload]` section for the intake at `addr`; with `intake`, its
/// receipts are checked against its key.
pub fn upload_to(addr: SocketAddr, intake: Option<&Intake>) -> UploadConfig {
    UploadConfig {
        url: Some(format!("http://{addr}/files/")),
        intake_key: intake.map(|i| hex::encode(i.verifying_key().as_bytes())),
        ..UploadConfig::default()
    }
}

/// Changes one byte of the stored ciphertext of packet `id` in the
/// station database `conn`, as if it had been altered after sealing: the
/// intake refuses it as `tampered`.
pub fn tamper(conn: &rusqlite::Connection, id: &str) {
    let mut payload: Vec<u8> = conn
        .query_row("SELECT payload FROM outbox WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .expect("payload");
    payload[1000] ^= 0x20;
    conn.execute(
        "UPDATE outbox SET payload = ?2 WHERE id = ?1",
        rusqlite::params![id, payload],
    )
    .expect("tamper");
}

/// Registers `station_id` at `intake` with a key that is not the
/// station's: its requests are refused as `wrong-key`.
pub fn register_with_a_wrong_key(intake: &Intake, station_id: &str) {
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    intake
        .register(station_id, &stranger, "wrong key")
        .expect("register");
}
