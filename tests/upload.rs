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
         chunk_bytes = {CHUNK}\nretry_base_ms = 50\nretry_max_ms = 400\nstall_timeout_ms = 1500\n"
    ));
    std::fs::write(config, text).expect("config");
}

/// An intake that decrypts with `station`'s demo authority key, serving on
/// loopback, and the station registered (unless `register` is false).
async fn intake(dir: &Path, station: &Path, register: bool) -> (Arc<Intake>, SocketAddr) {
    let intake = intake_not_serving(dir, station, register);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(intake.clone().serve(listener));
    (intake, addr)
}

/// [`intake`] before it serves.
fn intake_not_serving(dir: &Path, station: &Path, register: bool) -> Arc<Intake> {
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
    intake
}

/// Points the station in `dir` at `addr` (receipt key `key`), sends its
/// whole outbox within a minute and checks that `count` packets were
/// acknowledged; returns the station.
async fn upload_all(dir: &Path, addr: SocketAddr, key: &str, count: usize) -> Arc<Station> {
    configure_upload(dir, addr, key);
    let station = Arc::new(Station::open(dir).expect("station"));
    let uploader = Uploader::new(station.clone()).expect("uploader");
    let sent = tokio::time::timeout(Duration::from_secs(60), uploader.drain())
        .await
        .expect("drains in time")
        .expect("no worker error");
    let acknowledged = sent
        .iter()
        .filter(|s| matches!(s, Sent::Acknowledged { .. }))
        .count();
    assert_eq!(acknowledged, count, "{sent:?}");
    station
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
    // Resets mid-body, 503s and 500s, truncated answers, stalls past the
    // station's stall timeout (1.5 s) in a body and in an answer, a
    // corrupted chunk, all over a link of 2 MiB/s each way.
    proxy.set_rate_limit(Some(2 * 1024 * 1024));
    proxy.add(
        Rule::new(Fault::Stall(At::RequestBody(8_000), Duration::from_secs(4)))
            .method("PATCH")
            .skip(80)
            .times(2),
    );
    proxy.add(
        Rule::new(Fault::Stall(At::Response(10), Duration::from_secs(4)))
            .method("PATCH")
            .skip(120)
            .times(1),
    );
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
        proxy.counts().faults >= 13,
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
    // The restarted daemon went on with the same upload at the intake (no
    // new creation), which ended complete.
    let (uploads, final_offset): (i64, i64) = rusqlite::Connection::open(&intake_db)
        .and_then(|c| {
            c.query_row("SELECT COUNT(*), MAX(offset) FROM uploads", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
        })
        .expect("intake db");
    assert_eq!(
        (uploads, final_offset.unsigned_abs()),
        (1, size),
        "one upload, resumed to its end"
    );
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

/// `pishkhan intake import --from DIR`, as a process beside the serving
/// intake; returns its output and whether it succeeded.
fn intake_import(intake_dir: &Path, from: &Path) -> (String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_pishkhan"))
        .env("PISHKHAN_LOG", "warn")
        .args(["intake", "--dir"])
        .arg(intake_dir)
        .args(["import", "--from"])
        .arg(from)
        .output()
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (text, out.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kit_s_usb_export_taken_in_at_the_intake_is_acknowledged_by_the_later_upload() {
    let (kit, stranger) = tokio::task::spawn_blocking(|| (station(3), station(1)))
        .await
        .expect("stations");
    let dir = tempfile::tempdir().expect("intake dir");
    let (intake, addr) = intake(dir.path(), kit.path(), true).await;
    let export = |from: &Path, to: &Path| {
        let out = pishkhan(from)
            .args(["queue", "export", "--to"])
            .arg(to)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{out:?}");
    };
    let usb = tempfile::tempdir().expect("usb");
    export(kit.path(), usb.path());

    // The stick at the intake: every packet judged and accepted.
    let (text, ok) = intake_import(dir.path(), usb.path());
    assert!(ok, "{text}");
    assert!(
        text.contains("3 accepted, 0 already received, 0 rejected, 0 unreadable"),
        "{text}"
    );
    assert_eq!(intake.stored_packets().await.expect("listing").len(), 3);
    assert_eq!(intake.status().expect("status").accepted, 3);
    // Twice: nothing new.
    let (text, ok) = intake_import(dir.path(), usb.path());
    assert!(
        ok && text.contains("0 accepted, 3 already received"),
        "{text}"
    );

    // A damaged copy, and a stick from a station the intake does not know.
    let damaged = tempfile::tempdir().expect("damaged");
    export(kit.path(), damaged.path());
    let pkp = std::fs::read_dir(damaged.path())
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "pkp"))
        .expect("a packet file");
    let mut bytes = std::fs::read(&pkp).expect("packet");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&pkp, bytes).expect("damage");
    let (text, ok) = intake_import(dir.path(), damaged.path());
    assert!(!ok, "{text}");
    assert!(
        text.contains("UNREADABLE")
            && text.contains("2 already received, 0 rejected, 1 unreadable"),
        "{text}"
    );
    let foreign = tempfile::tempdir().expect("foreign");
    export(stranger.path(), foreign.path());
    let (text, ok) = intake_import(dir.path(), foreign.path());
    assert!(!ok, "{text}");
    assert!(
        text.contains("REJECTED: unregistered-station") && text.contains("1 rejected"),
        "{text}"
    );
    assert_eq!(intake.stored_packets().await.expect("listing").len(), 3);

    // Back at the office the kit uploads: each packet is acknowledged with
    // the receipt the import made, and nothing is stored twice.
    let station = upload_all(kit.path(), addr, &key_hex(&intake), 3).await;
    assert!(
        station
            .with_db(outbox::list)
            .expect("list")
            .iter()
            .all(|e| e.status == "acknowledged" && e.exported_at.is_some())
    );
    assert_eq!(intake.stored_packets().await.expect("listing").len(), 3);
    let status = intake.status().expect("status");
    assert_eq!((status.accepted, status.rejected), (3, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_packet_the_authority_asks_for_again_is_sent_again_and_stored_again() {
    let st = tokio::task::spawn_blocking(|| station(3))
        .await
        .expect("station");
    let dir = tempfile::tempdir().expect("intake dir");
    let (intake, addr) = intake(dir.path(), st.path(), true).await;
    configure_upload(st.path(), addr, &key_hex(&intake));
    let station = Arc::new(Station::open(st.path()).expect("station"));
    let uploader = Uploader::new(station.clone()).expect("uploader");
    assert_eq!(uploader.drain().await.expect("drain").len(), 3);

    // The intake's copy of the second packet is lost.
    let lost = station.with_db(outbox::list).expect("list")[1].id.clone();
    let object = dir
        .path()
        .join("objects/packets")
        .join(station.id.to_string())
        .join(format!("{lost}.pkp"));
    std::fs::remove_file(&object).expect("the stored copy");
    let resend = |packet: &str| {
        Command::new(env!("CARGO_BIN_EXE_pishkhan"))
            .env("PISHKHAN_LOG", "warn")
            .args(["intake", "--dir"])
            .arg(dir.path())
            .args([
                "resend",
                "ask",
                packet,
                "--reason",
                "the stored copy was lost",
            ])
            .output()
            .expect("runs")
    };
    let unknown = resend("019a0000-0000-7000-8000-000000000000");
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no accepted packet"),
        "{unknown:?}"
    );
    let asked = resend(&lost);
    assert!(asked.status.success(), "{asked:?}");
    assert_eq!(intake.resend_requests(None, true).expect("open").len(), 1);

    // The station learns of it, sends that packet again (and only it), and
    // the intake stores it again and closes the request.
    let sent = uploader.drain().await.expect("drain");
    assert!(
        matches!(sent.as_slice(), [Sent::Acknowledged { id }] if *id == lost),
        "{sent:?}"
    );
    let outbox::Stored::V3(file) = station.with_db(|d| outbox::stored(d, &lost)).expect("kept")
    else {
        panic!("format 3");
    };
    assert_eq!(
        std::fs::read(&object).expect("stored again"),
        file.to_bytes()
    );
    assert!(intake.resend_requests(None, true).expect("open").is_empty());
    let all = intake.resend_requests(None, false).expect("all");
    assert!(all.len() == 1 && all[0].fulfilled_at.is_some(), "{all:?}");
    let rows = station.with_db(outbox::list).expect("list");
    assert!(
        rows.iter()
            .all(|e| e.status == "acknowledged" && e.resend_reason.is_none()),
        "{rows:?}"
    );
    let audit = station
        .with_db(pishkhan::store::audit::list)
        .expect("audit");
    assert!(
        audit.iter().any(|e| e.action == "resend-asked"
            && e.subject.as_deref() == Some(lost.as_str())
            && e.detail.as_deref() == Some("the stored copy was lost")),
        "audited"
    );
    assert_eq!(intake.status().expect("status").accepted, 3);
    // Fulfilled: nothing more is sent.
    assert!(uploader.drain().await.expect("drain").is_empty());
}

/// The reference venv's Python if it can import `module` (the venv
/// `installer/dev.sh test` makes, or `PISHKHAN_REFERENCE_PYTHON`); `None`
/// (a skip, with a note) when it cannot, which
/// `PISHKHAN_REQUIRE_REFERENCE=1` turns into a failure.
fn reference_python_with(module: &str) -> Option<std::path::PathBuf> {
    let made = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/reference-venv/bin/python");
    let python = std::env::var_os("PISHKHAN_REFERENCE_PYTHON")
        .map(std::path::PathBuf::from)
        .or_else(|| made.exists().then_some(made))
        .filter(|p| {
            Command::new(p)
                .args(["-c", &format!("import {module}")])
                .status()
                .is_ok_and(|s| s.success())
        });
    if python.is_none() {
        assert!(
            std::env::var("PISHKHAN_REQUIRE_REFERENCE").as_deref() != Ok("1"),
            "PISHKHAN_REQUIRE_REFERENCE=1 but the reference venv cannot import {module}"
        );
        eprintln!("SKIPPED: no reference venv with {module} (bash installer/dev.sh test makes it)");
    }
    python
}

/// A child process killed when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intake_on_an_s3_bucket_stores_what_stations_upload() {
    let Some(python) = reference_python_with("moto") else {
        return;
    };
    // An S3-compatible server (moto, the reference venv's) on loopback,
    // with a bucket.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let _s3 = Killed(
        Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto starts"),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let s3 = |script: &str| {
        let out = Command::new(&python)
            .arg("-c")
            .arg(format!(
                "import boto3, time\n\
                 c = boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='test', \
                 aws_secret_access_key='test', region_name='us-east-1')\n\
                 for _ in range(100):\n\
                 \x20   try:\n\
                 \x20       c.list_buckets(); break\n\
                 \x20   except Exception:\n\
                 \x20       time.sleep(0.1)\n\
                 {script}"
            ))
            .output()
            .expect("python runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    s3("c.create_bucket(Bucket='pishkhan-test')");

    // The intake stores into s3://pishkhan-test/national, configured by the
    // usual AWS variables.
    let st = tokio::task::spawn_blocking(|| station(2))
        .await
        .expect("station");
    let dir = tempfile::tempdir().expect("intake dir");
    std::fs::write(
        dir.path().join("intake.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\ntls = false\nobject_store = \"s3://pishkhan-test/national\"\n\
             identities = [\"{}\"]\n",
            st.path().join("DEMO-authority-identity.txt").display()
        ),
    )
    .expect("intake config");
    let intake_cmd = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pishkhan"));
        cmd.env("PISHKHAN_LOG", "warn")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT", &endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .args(["intake", "--dir"])
            .arg(dir.path())
            .args(args);
        cmd
    };
    let registered = intake_cmd(&["register", "--station-dir"])
        .arg(st.path())
        .output()
        .expect("register");
    assert!(registered.status.success(), "{registered:?}");
    let mut serve = intake_cmd(&["serve"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("intake starts");
    let stdout = serve.stdout.take().expect("stdout");
    let serve = Killed(serve);
    // "intake listening on http://127.0.0.1:PORT/files/ (receipt key HEX)"
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("the intake says where it listens");
        line
    })
    .await
    .expect("read");
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    let key = line.split("receipt key ").nth(1).map_or_else(
        || panic!("{line}"),
        |k| k.trim().trim_end_matches(')').to_owned(),
    );

    let station = upload_all(st.path(), addr, &key, 2).await;
    drop(serve);

    // The bucket holds each packet, byte for byte.
    let listed = s3(
        "for o in c.list_objects_v2(Bucket='pishkhan-test', Prefix='national/')['Contents']:\n\
         \x20   print(o['Key'], o['Size'])",
    );
    for entry in station.with_db(outbox::list).expect("list") {
        let outbox::Stored::V3(file) = station
            .with_db(|d| outbox::stored(d, &entry.id))
            .expect("kept")
        else {
            panic!("format 3");
        };
        let expected = format!(
            "national/packets/{}/{}.pkp {}",
            station.id,
            entry.id,
            file.to_bytes().len()
        );
        assert!(
            listed.lines().any(|l| l == expected),
            "{expected} in {listed}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_worker_probes_the_intake_instead_of_failing_every_packet() {
    let st = tokio::task::spawn_blocking(|| station(6))
        .await
        .expect("station");
    let dir = tempfile::tempdir().expect("intake dir");
    let intake = intake_not_serving(dir.path(), st.path(), true);
    // Where the intake will listen, once it is back.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    configure_upload(st.path(), addr, &key_hex(&intake));
    let station = Arc::new(Station::open(st.path()).expect("station"));
    let uploader = Arc::new(Uploader::new(station.clone()).expect("uploader"));
    let worker = tokio::spawn(uploader.clone().run());

    let deadline = Instant::now() + Duration::from_secs(30);
    while uploader.link() != pishkhan::upload::Link::Offline {
        assert!(
            Instant::now() < deadline,
            "the worker never found the link down"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A few probes later, at most the packets that were being sent when
    // the link went (one a sender, two by default) were tried.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let tried = rows(st.path()).iter().filter(|e| e.attempts > 0).count();
    assert!(
        (1..=2).contains(&tried),
        "{tried} packets tried while offline"
    );

    // The intake comes up: everything goes.
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    tokio::spawn(intake.clone().serve(listener));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !rows(st.path()).iter().all(|e| e.status == "acknowledged") {
        assert!(Instant::now() < deadline, "{:?}", rows(st.path()));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(uploader.link(), pishkhan::upload::Link::Online);
    worker.abort();
    assert_eq!(intake.stored_packets().await.expect("listing").len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_signed_by_another_key_leaves_the_packet_failed_with_a_clear_error() {
    let st = tokio::task::spawn_blocking(|| station(1))
        .await
        .expect("station");
    let dir = tempfile::tempdir().expect("intake dir");
    let (intake, addr) = intake(dir.path(), st.path(), true).await;
    // The station pins another receipt key than the intake's.
    let other = hex::encode(
        ed25519_dalek::SigningKey::from_bytes(&[9; 32])
            .verifying_key()
            .as_bytes(),
    );
    configure_upload(st.path(), addr, &other);
    let station = Arc::new(Station::open(st.path()).expect("station"));
    let sent = Uploader::new(station.clone())
        .expect("uploader")
        .send_one()
        .await
        .expect("no worker error")
        .expect("one packet");
    let Sent::Failed { error, .. } = &sent else {
        panic!("{sent:?}");
    };
    assert!(
        error.contains("signed by another key than the configured intake key"),
        "{error}"
    );
    let row = &rows(st.path())[0];
    assert_eq!(row.status, "failed");
    assert_eq!(row.last_error.as_deref(), Some(error.as_str()));

    // With the right key the next attempt gets the same receipt: accepted.
    let config = st.path().join("pishkhan.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace(&other, &key_hex(&intake))).expect("fix");
    drop(station);
    let station = Arc::new(Station::open(st.path()).expect("station"));
    let sent = Uploader::new(station)
        .expect("uploader")
        .drain()
        .await
        .expect("drain");
    assert!(
        matches!(sent.as_slice(), [Sent::Acknowledged { .. }]),
        "{sent:?}"
    );
    assert_eq!(intake.stored_packets().await.expect("listing").len(), 1);
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
