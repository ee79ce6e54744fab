//! Uploads over real HTTP on loopback, from the station's outbox to the
//! reference intake (`pishkhan intake`), through a fault-injecting proxy.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pishkhan::intake::Intake;
use pishkhan::station::Station;
use pishkhan::store::outbox;
use pishkhan::upload::{Sent, Uploader};
use pishkhan_tus::fault::{At, Fault, Mode, Proxy, Rule};

mod common;

const CHUNK: u32 = 16 * 1024;

fn pishkhan(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pishkhan"));
    cmd.env("PISHKHAN_DATA_DIR", dir)
        .env("PISHKHAN_LOG", "warn");
    cmd
}

/// A station with `count` sealed test packets.
fn station(count: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\nvirtual_scanner_delay_ms = 0\n",
    )
    .expect("config");
    let out = pishkhan(dir.path())
        .args(["self-test", "--seal-only", "--count", &count.to_string()])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// Points the station at `intake` through `addr`.
fn configure_upload(station: &Path, addr: SocketAddr, intake_key: &str) {
    let config = station.join("pishkhan.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str(&format!(
        "[upload]\nurl = \"http://{addr}/files/\"\nintake_key = \"{intake_key}\"\n\
         chunk_bytes = {CHUNK}\nretry_base_ms = 50\nretry_max_ms = 400\n"
    ));
    std::fs::write(config, text).expect("config");
}

/// An intake that decrypts with `station`'s demo authority key, serving on
/// loopback, and the station registered (unless `register` is false).
async fn intake(dir: &Path, station: &Path, register: bool) -> (Arc<Intake>, SocketAddr) {
    std::fs::write(
        dir.join("intake.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\ntls = false\nidentities = [\"{}\"]\n",
            station.join("DEMO-authority-identity.txt").display()
        ),
    )
    .expect("intake config");
    let intake = Arc::new(Intake::open(dir).expect("intake opens"));
    if register {
        let st = Station::open(station).expect("station");
        intake
            .register(&st.id.to_string(), &st.verifying_key(), "test office")
            .expect("register");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(intake.clone().serve(listener));
    (intake, addr)
}

fn key_hex(intake: &Intake) -> String {
    hex::encode(intake.verifying_key().as_bytes())
}

fn rows(station: &Path) -> Vec<outbox::Entry> {
    Station::open(station)
        .expect("station")
        .with_db(outbox::list)
        .expect("list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_packets_through_a_faulty_link_are_each_acknowledged_and_stored_once() {
    let st = tokio::task::spawn_blocking(|| station(50))
        .await
        .expect("station");
    let dir = tempfile::tempdir().expect("intake dir");
    let (intake, addr) = intake(dir.path(), st.path(), true).await;
    let proxy = Proxy::start(addr, Mode::Http).await.expect("proxy");
    // Resets mid-body, 503s, a truncated answer, a stall, a corrupted chunk.
    proxy.add(
        Rule::new(Fault::Reset(At::RequestBody(5_000)))
            .method("PATCH")
            .skip(3)
            .times(4),
    );
    proxy.add(
        Rule::new(Fault::Reply {
            status: 503,
            retry_after: Some(0),
        })
        .method("PATCH")
        .skip(20)
        .times(3),
    );
    proxy.add(
        Rule::new(Fault::Reply {
            status: 500,
            retry_after: None,
        })
        .method("POST")
        .skip(7)
        .times(2),
    );
    proxy.add(
        Rule::new(Fault::Close(At::Response(20)))
            .method("PATCH")
            .skip(40)
            .times(2),
    );
    proxy.add(
        Rule::new(Fault::Corrupt(At::RequestBody(100)))
            .method("PATCH")
            .skip(60)
            .times(2),
    );
    proxy.add(
        Rule::new(Fault::Close(At::Response(0)))
            .method("HEAD")
            .skip(2)
            .times(2),
    );
    configure_upload(st.path(), proxy.addr(), &key_hex(&intake));

    let station = Arc::new(Station::open(st.path()).expect("station"));
    let uploader = Uploader::new(station.clone()).expect("uploader");
    assert!(
        matches!(
            Uploader::new(station.clone()),
            Err(pishkhan::upload::UploadError::Busy(_))
        ),
        "one uploader per station: the window and the daemon do not both send"
    );
    let sent = tokio::time::timeout(Duration::from_secs(240), uploader.drain())
        .await
        .expect("drains in time")
        .expect("no worker error");
    let acknowledged = sent
        .iter()
        .filter(|s| matches!(s, Sent::Acknowledged { .. }))
        .count();
    assert_eq!(acknowledged, 50, "{sent:?}");
    assert!(
        proxy.counts().faults >= 10,
        "the faults really happened: {:?}",
        proxy.counts()
    );
    let entries = station.with_db(outbox::list).expect("list");
    assert_eq!(entries.len(), 50);
    assert!(
        entries.iter().all(|e| e.status == "acknowledged"),
        "{entries:?}"
    );
    let stored = intake.stored_packets().await.expect("listing");
    assert_eq!(stored.len(), 50, "stored exactly once each");
    let status = intake.status().expect("status");
    assert_eq!((status.accepted, status.rejected), (50, 0));
    for entry in &entries {
        assert!(
            stored
                .iter()
                .any(|s| s.ends_with(&format!("{}.pkp", entry.id))),
            "{} stored",
            entry.id
        );
    }
    // Sending again changes nothing: the same receipts, nothing stored twice.
    assert!(uploader.drain().await.expect("drain").is_empty());
    assert_eq!(intake.stored_packets().await.expect("listing").len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_unregistered_and_wrong_key_packets_are_rejected_with_distinct_reasons() {
    let (a, b, c) = tokio::task::spawn_blocking(|| (station(2), station(1), station(1)))
        .await
        .expect("stations");
    let dir = tempfile::tempdir().expect("intake dir");
    // The intake decrypts with A's demo key; B and C never get that far.
    let (intake, addr) = intake(dir.path(), a.path(), true).await;
    let key = key_hex(&intake);
    // C is registered, but with another key than its own.
    let c_id = Station::open(c.path()).expect("c").id.to_string();
    common::register_with_a_wrong_key(&intake, &c_id);

    // Tamper with one of A's packets after sealing.
    let a_rows = rows(a.path());
    let tampered = a_rows[0].id.clone();
    common::tamper(
        &rusqlite::Connection::open(a.path().join("pishkhan.db")).expect("db"),
        &tampered,
    );

    let mut reasons = Vec::new();
    for st in [&a, &b, &c] {
        configure_upload(st.path(), addr, &key);
        let station = Arc::new(Station::open(st.path()).expect("station"));
        Uploader::new(station)
            .expect("uploader")
            .drain()
            .await
            .expect("drains");
        for entry in rows(st.path()) {
            reasons.push((
                entry.id.clone(),
                entry.status.clone(),
                entry.reject_reason.clone(),
            ));
        }
    }
    let reason_of = |id: &str| {
        reasons
            .iter()
            .find(|(i, _, _)| i == id)
            .map(|(_, s, r)| (s.clone(), r.clone()))
            .expect("row")
    };
    assert_eq!(
        reason_of(&tampered),
        ("rejected".into(), Some("tampered".into()))
    );
    assert_eq!(
        reason_of(&a_rows[1].id),
        ("acknowledged".into(), None),
        "A's other packet is fine"
    );
    let b_row = &rows(b.path())[0];
    assert_eq!(
        (b_row.status.as_str(), b_row.reject_reason.as_deref()),
        ("rejected", Some("unregistered-station"))
    );
    let c_row = &rows(c.path())[0];
    assert_eq!(
        (c_row.status.as_str(), c_row.reject_reason.as_deref()),
        ("rejected", Some("wrong-key"))
    );
    assert_eq!(intake.stored_packets().await.expect("listing").len(), 1);
    // The tampered packet's refusal is a receipt signed by the intake.
    let conn = rusqlite::Connection::open(a.path().join("pishkhan.db")).expect("db");
    let receipt: Option<String> = conn
        .query_row(
            "SELECT receipt FROM outbox WHERE id = ?1",
            [&tampered],
            |r| r.get(0),
        )
        .expect("row");
    assert!(receipt.is_some_and(|r| r.contains("tampered")));
}

#[test]
fn a_killed_upload_daemon_resumes_from_the_intakes_offset() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let st = station(1);
    let dir = tempfile::tempdir().expect("intake dir");
    let (intake, proxy) = runtime.block_on(async {
        let (intake, addr) = intake(dir.path(), st.path(), true).await;
        let proxy = Proxy::start(addr, Mode::Http).await.expect("proxy");
        (intake, proxy)
    });
    // A slow link: the packet takes a few seconds.
    proxy.set_rate_limit(Some(30_000));
    configure_upload(st.path(), proxy.addr(), &key_hex(&intake));
    let size = {
        let station = Station::open(st.path()).expect("station");
        let id = rows(st.path())[0].id.clone();
        match station
            .with_db(|db| outbox::stored(db, &id))
            .expect("stored")
        {
            outbox::Stored::V3(file) => file.to_bytes().len() as u64,
            outbox::Stored::V2 { .. } => panic!("format 3"),
        }
    };

    let mut daemon = pishkhan(st.path()).arg("upload").spawn().expect("daemon");
    let intake_db = dir.path().join("intake.db");
    let offset = || -> u64 {
        rusqlite::Connection::open(&intake_db)
            .and_then(|c| {
                c.query_row("SELECT COALESCE(MAX(offset), 0) FROM uploads", [], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .map_or(0, i64::unsigned_abs)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while offset() < u64::from(CHUNK) * 2 {
        assert!(Instant::now() < deadline, "the upload does not progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon.kill().expect("SIGKILL");
    daemon.wait().expect("reaped");
    let stored_at_kill = offset();
    assert!(
        stored_at_kill < size,
        "killed mid-upload ({stored_at_kill} of {size})"
    );

    proxy.set_rate_limit(None);
    let before = proxy.counts().to_server;
    let out = pishkhan(st.path())
        .args(["upload", "--until-empty"])
        .output()
        .expect("restarted");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resent = proxy.counts().to_server - before;
    let rest = size - stored_at_kill;
    // Request heads are small; at most one chunk is sent twice.
    assert!(
        resent <= rest + u64::from(CHUNK) + 16 * 1024,
        "sent {resent} bytes after the restart for the {rest} missing"
    );
    assert_eq!(rows(st.path())[0].status, "acknowledged");
    let stored = runtime.block_on(intake.stored_packets()).expect("listing");
    assert_eq!(stored.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_station_trusts_only_the_pinned_intake_certificate() {
    let (pinned, unpinned) = tokio::task::spawn_blocking(|| (station(2), station(1)))
        .await
        .expect("stations");
    let dir = tempfile::tempdir().expect("intake dir");
    std::fs::write(
        dir.path().join("intake.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\ntls = true\ntls_names = [\"localhost\"]\nidentities = [\"{}\"]\n",
            pinned.path().join("DEMO-authority-identity.txt").display()
        ),
    )
    .expect("intake config");
    let intake = Arc::new(Intake::open(dir.path()).expect("intake"));
    for st in [&pinned, &unpinned] {
        let s = Station::open(st.path()).expect("station");
        intake
            .register(&s.id.to_string(), &s.verifying_key(), "")
            .expect("register");
    }
    let pem = intake.certificate_pem().expect("self-signed certificate");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(intake.clone().serve(listener));
    let key = key_hex(&intake);
    let configure = |st: &Path, pin: bool| {
        let config = st.join("pishkhan.toml");
        let mut text = std::fs::read_to_string(&config).expect("config");
        text.push_str(&format!(
            "[upload]\nurl = \"https://localhost:{port}/files/\"\nintake_key = \"{key}\"\n\
             retry_base_ms = 50\nretry_max_ms = 100\n"
        ));
        if pin {
            std::fs::write(st.join("intake-cert.pem"), &pem).expect("pin");
            text.push_str("server_certificate = \"intake-cert.pem\"\n");
        }
        std::fs::write(config, text).expect("config");
    };
    configure(pinned.path(), true);
    configure(unpinned.path(), false);

    let station = Arc::new(Station::open(pinned.path()).expect("station"));
    Uploader::new(station)
        .expect("uploader")
        .drain()
        .await
        .expect("drains");
    assert!(
        rows(pinned.path())
            .iter()
            .all(|e| e.status == "acknowledged")
    );

    let station = Arc::new(Station::open(unpinned.path()).expect("station"));
    let uploader = Uploader::new(station).expect("uploader");
    let sent = uploader
        .send_one()
        .await
        .expect("an attempt")
        .expect("one due");
    let Sent::Failed { error, .. } = sent else {
        panic!("an untrusted intake must not get the packet: {sent:?}");
    };
    assert!(error.to_lowercase().contains("tls"), "{error}");
    assert_eq!(
        uploader.progress.lock().expect("progress").link,
        pishkhan::upload::Link::Offline
    );
    assert_eq!(intake.stored_packets().await.expect("listing").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_skew_refusal_is_retried_with_the_clock_message_not_rejected() {
    let st = tokio::task::spawn_blocking(|| station(1))
        .await
        .expect("station");
    // An intake that allows no difference at all between the clocks: the
    // station's Pishkhan-Date (whole seconds) is always off by a fraction.
    let strict = tempfile::tempdir().expect("intake dir");
    let intake = common::open_intake(
        strict.path(),
        &format!(
            "{}max_clock_skew_s = 0\n",
            common::decrypting_for(st.path())
        ),
        &[(st.path(), None)],
    );
    let (addr, server) = common::serve(&intake).await;
    configure_upload(st.path(), addr, &key_hex(&intake));

    let station = Arc::new(Station::open(st.path()).expect("station"));
    let uploader = Uploader::new(station.clone()).expect("uploader");
    let sent = uploader
        .send_one()
        .await
        .expect("an attempt")
        .expect("one due");
    let Sent::Failed { error, next, .. } = sent else {
        panic!("a clock to set is not a verdict on the packet: {sent:?}");
    };
    assert!(
        error.starts_with("clock-skew: the station's clock is "),
        "{error}"
    );
    let row = &rows(st.path())[0];
    assert_eq!(
        (row.status.as_str(), row.reject_reason.as_deref()),
        ("failed", None)
    );
    assert_eq!(row.last_error.as_deref(), Some(error.as_str()));
    assert_eq!(row.next_attempt_at.as_deref(), Some(next.as_str()));
    assert_eq!(
        uploader.progress.lock().expect("progress").link,
        pishkhan::upload::Link::Online,
        "the intake answered"
    );
    // The operator reads what to do, with the numbers.
    let text = pishkhan::upload::error_text(&error);
    // Pishkhan-Date drops the fraction of a second: behind the intake.
    assert_eq!(text.id, "err-upload-clock-behind");
    assert!(text.args.contains(&("allowed", "0".to_owned())), "{text:?}");
    let en = pishkhan::i18n::I18n::new(pishkhan::i18n::Lang::En).text(&text);
    assert!(
        en.starts_with("The station's clock is ")
            && en.contains(" s behind the intake's (at most 0 s allowed)")
            && en.contains("set the station's date and time"),
        "{en}"
    );
    let fa = pishkhan::i18n::I18n::new(pishkhan::i18n::Lang::Fa).text(&text);
    assert!(
        fa.contains("عقب‌تر") && fa.contains("حداکثر ۰ ثانیه"),
        "{fa}"
    );
    assert_eq!(intake.status().expect("status").rejected, 0);
    server.abort();
    drop(uploader);

    // With the clocks within the tolerance, the same row goes through.
    let usual = tempfile::tempdir().expect("intake dir");
    let intake = common::open_intake(
        usual.path(),
        &common::decrypting_for(st.path()),
        &[(st.path(), None)],
    );
    let (addr, _server) = common::serve(&intake).await;
    let config = pishkhan::config::UploadConfig {
        retry_base_ms: 50,
        retry_max_ms: 400,
        ..common::upload_to(addr, Some(&intake))
    };
    let uploader = Uploader::with_config(station, config).expect("uploader");
    let sent = tokio::time::timeout(Duration::from_secs(60), uploader.drain())
        .await
        .expect("in time")
        .expect("drains");
    assert!(
        matches!(sent.as_slice(), [Sent::Acknowledged { .. }]),
        "{sent:?}"
    );
    let row = &rows(st.path())[0];
    assert_eq!((row.status.as_str(), row.attempts), ("acknowledged", 2));
}
