//! Pre-registrations end to end: an office's list imported at a real
//! intake, synced over HTTP on loopback into the station's encrypted cache,
//! found by the operator's query, used once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

mod common;

use common::serve;
use pishkhan::config::UploadConfig;
use pishkhan::enrolment::RequestType;
use pishkhan::intake::Intake;
use pishkhan::prereg::cache::{self, ConsumeError, Found};
use pishkhan::prereg::sync::{SyncError, sync_once};
use pishkhan::prereg::{Appointment, AppointmentList, CheckIn, Difference, Resolution};
use pishkhan::station::Station;

const OFFICE: &str = "TEH-12";

fn appointment(tracking_code: &str, national_code: &str, first: &str, last: &str) -> Appointment {
    Appointment {
        tracking_code: tracking_code.into(),
        national_code: national_code.into(),
        first_name: first.into(),
        last_name: last.into(),
        father_name: Some("علی".into()),
        birth_date: "1370/05/12".into(),
        appointment_at: "2026-11-22T08:00:00+03:30".into(),
        request_type: RequestType::FirstCard,
        mobile: Some("09121234567".into()),
        postal_code: Some("1345678901".into()),
    }
}

fn office_list() -> AppointmentList {
    AppointmentList {
        office: OFFICE.into(),
        generated_at: "2026-11-22T06:00:00+03:30".into(),
        appointments: vec![
            appointment("140509010001", "0013542419", "شهرزاد", "کامرانی"),
            appointment("140509010002", "0499370899", "بهرام", "نیکوکار"),
            appointment("140509010003", "1274451389", "گلاره", "افشارنیا"),
        ],
    }
}

/// A station of `office` (no devices needed).
fn station_dir(office: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        format!("[station]\noffice = \"{office}\"\n"),
    )
    .expect("config");
    drop(Station::open(dir.path()).expect("station"));
    dir
}

/// An intake with `office_list` imported; each station registered, tied to
/// its office when one is given.
fn open_intake(dir: &Path, stations: &[(&Path, Option<&str>)]) -> Arc<Intake> {
    open_intake_with(dir, stations, "")
}

/// [`open_intake`] with more `intake.toml` lines.
fn open_intake_with(dir: &Path, stations: &[(&Path, Option<&str>)], extra: &str) -> Arc<Intake> {
    let intake = common::open_intake(dir, extra, stations);
    let file = dir.join("list.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&office_list()).expect("list JSON"),
    )
    .expect("list file");
    intake.import_appointments(&file).expect("imports");
    intake
}

fn upload_to(addr: SocketAddr) -> UploadConfig {
    common::upload_to(addr, None)
}

/// Every byte of the database files (the WAL holds recent pages).
fn database_bytes(station: &Path) -> Vec<u8> {
    ["pishkhan.db", "pishkhan.db-wal"]
        .iter()
        .filter_map(|name| std::fs::read(station.join(name)).ok())
        .flatten()
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_appointments_are_found_offline_stay_encrypted_and_are_used_once() {
    let st = station_dir(OFFICE);
    let dir = tempfile::tempdir().expect("intake dir");
    let intake = open_intake(dir.path(), &[(st.path(), Some(OFFICE))]);
    let (addr, server) = serve(&intake).await;
    let station = Arc::new(Station::open(st.path()).expect("station"));

    let synced = sync_once(station.clone(), &upload_to(addr))
        .await
        .expect("syncs");
    assert_eq!((synced.office.as_str(), synced.appointments), (OFFICE, 3));
    let key = station.prereg_key();
    let find = |query: &str| {
        station
            .with_db(|db| cache::find(db, &key, OFFICE, query))
            .expect("find")
    };
    let by_tracking = find("140509010002");
    assert!(
        matches!(&by_tracking[..], [Found::Open { appointment }] if appointment.first_name == "بهرام"),
        "{by_tracking:?}"
    );
    // The national code as an operator types it on a Persian keyboard.
    let by_national = find("۰۰۱-۳۵۴۲۴۱-۹");
    assert!(
        matches!(&by_national[..], [Found::Open { appointment }] if appointment.tracking_code == "140509010001"),
        "{by_national:?}"
    );
    assert!(find("0000000000").is_empty());

    // The intake goes away: nothing answers at its address any more.
    server.abort();
    let _ = server.await;
    let offline = sync_once(station.clone(), &upload_to(addr)).await;
    assert!(matches!(&offline, Err(e) if e.is_offline()), "{offline:?}");
    assert!(
        offline
            .expect_err("offline")
            .to_string()
            .contains("cannot be reached")
    );
    let from_cache = find("١٢٧٤٤٥١٣٨٩");
    assert_eq!(from_cache.len(), 1, "found offline, from the cache");
    assert_eq!(from_cache[0].appointment().last_name, "افشارنیا");

    // What is on disk is ciphertext: no name, no national code.
    let bytes = database_bytes(st.path());
    assert!(bytes.len() > 4096, "the database was read");
    for appointment in &office_list().appointments {
        for clear in [
            &appointment.first_name,
            &appointment.last_name,
            &appointment.national_code,
        ] {
            assert!(!contains(&bytes, clear), "{clear} is in the database file");
        }
    }

    // Used by one packet; a second packet is refused with the first's id.
    station.with_db(|db| {
        let tx = db.unchecked_transaction().expect("tx");
        cache::consume(&tx, "140509010001", "packet-first").expect("first use");
        tx.commit().expect("commit");
        let tx = db.unchecked_transaction().expect("tx");
        match cache::consume(&tx, "140509010001", "packet-second") {
            Err(ConsumeError::AlreadyConsumed(first)) => {
                assert_eq!(first.packet_id, "packet-first");
                assert!(!first.at.is_empty());
            }
            other => panic!("a second use must be refused: {other:?}"),
        }
    });

    // The intake is back (it never saw the packet): the list it sends
    // still holds the appointment, which stays used at this station.
    let (addr, _server) = serve(&intake).await;
    let resynced = sync_once(station.clone(), &upload_to(addr))
        .await
        .expect("syncs again");
    assert_eq!(resynced.appointments, 3);
    let after = find("0013542419");
    assert!(
        matches!(&after[..], [Found::Consumed { by, .. }] if by.packet_id == "packet-first"),
        "{after:?}"
    );
    assert_eq!(
        station
            .with_db(|db| cache::is_consumed(db, "140509010001"))
            .expect("state")
            .map(|c| c.packet_id),
        Some("packet-first".to_owned())
    );
    assert!(matches!(&find("140509010002")[..], [Found::Open { .. }]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_other_offices_and_missing_lists_get_distinct_errors() {
    let own = station_dir(OFFICE);
    let elsewhere = station_dir("TEH-13");
    let roaming = station_dir("SHZ-01");
    let unregistered = station_dir(OFFICE);
    let dir = tempfile::tempdir().expect("intake dir");
    let intake = open_intake(
        dir.path(),
        &[
            (own.path(), Some(OFFICE)),
            (elsewhere.path(), Some(OFFICE)),
            (roaming.path(), None),
        ],
    );
    let (addr, _server) = serve(&intake).await;
    let sync = |path: PathBuf| async move {
        let station = Arc::new(Station::open(&path).expect("station"));
        sync_once(station, &upload_to(addr)).await
    };

    let stranger = sync(unregistered.path().to_owned()).await;
    assert!(
        matches!(&stranger, Err(SyncError::Unauthenticated(r)) if r.starts_with("unregistered-station")),
        "{stranger:?}"
    );
    // Registered for TEH-12, configured for TEH-13.
    let forbidden = sync(elsewhere.path().to_owned()).await;
    assert!(
        matches!(&forbidden, Err(SyncError::Forbidden { office, .. }) if office == "TEH-13"),
        "{forbidden:?}"
    );
    // No office in the register, but no list for SHZ-01 either.
    let missing = sync(roaming.path().to_owned()).await;
    assert!(
        matches!(&missing, Err(SyncError::NoList(office)) if office == "SHZ-01"),
        "{missing:?}"
    );
    assert!(sync(own.path().to_owned()).await.is_ok());
    let not_configured = sync_once(
        Arc::new(Station::open(own.path()).expect("station")),
        &UploadConfig::default(),
    )
    .await;
    assert!(
        matches!(not_configured, Err(SyncError::NotConfigured)),
        "{not_configured:?}"
    );
}

fn pishkhan(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pishkhan"));
    cmd.env("PISHKHAN_DATA_DIR", data_dir)
        .env("PISHKHAN_LOG", "warn");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_imports_syncs_finds_and_lists() {
    let st = station_dir(OFFICE);
    let dir = tempfile::tempdir().expect("intake dir");
    let intake_dir = dir.path().join("intake");
    let bad = dir.path().join("bad.json");
    let mut twice = office_list();
    twice.appointments[1].tracking_code = twice.appointments[0].tracking_code.clone();
    std::fs::write(&bad, serde_json::to_vec(&twice).expect("JSON")).expect("write");
    let out = pishkhan(st.path())
        .arg("intake")
        .arg("--dir")
        .arg(&intake_dir)
        .args(["appointments", "import"])
        .arg(&bad)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the tracking code 140509010001 appears more than once"),
        "{stderr}"
    );

    let good = dir.path().join("good.json");
    std::fs::write(&good, serde_json::to_vec(&office_list()).expect("JSON")).expect("write");
    let out = pishkhan(st.path())
        .arg("intake")
        .arg("--dir")
        .arg(&intake_dir)
        .args(["appointments", "import"])
        .arg(&good)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("3 appointment(s) of office TEH-12 imported"),
        "{stdout}"
    );
    let out = pishkhan(st.path())
        .arg("intake")
        .arg("--dir")
        .arg(&intake_dir)
        .args(["register", "--station-dir"])
        .arg(st.path())
        .args(["--office", OFFICE])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pishkhan(st.path())
        .arg("intake")
        .arg("--dir")
        .arg(&intake_dir)
        .args(["appointments", "list"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("office TEH-12: 3 appointment(s)"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("  open").count(), 3, "{stdout}");

    std::fs::write(
        intake_dir.join("intake.toml"),
        "listen = \"127.0.0.1:0\"\ntls = false\n",
    )
    .expect("intake config");
    let intake = Arc::new(Intake::open(&intake_dir).expect("intake"));
    let (addr, _server) = serve(&intake).await;
    let config = st.path().join("pishkhan.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str(&format!(
        "[upload]\nurl = \"http://{addr}/files/\"\nintake_key = \"{}\"\n",
        hex::encode(intake.verifying_key().as_bytes())
    ));
    std::fs::write(&config, text).expect("config");

    let station = st.path().to_owned();
    let run = move |args: &'static [&'static str]| {
        let station = station.clone();
        tokio::task::spawn_blocking(move || pishkhan(&station).args(args).output().expect("runs"))
    };
    let out = run(&["prereg", "sync"]).await.expect("joins");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("office TEH-12: 3 appointment(s) synced"),
        "{stdout}"
    );
    let out = run(&["prereg", "find", "۰۴۹۹ ۳۷۰ ۸۹۹"])
        .await
        .expect("joins");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains("140509010002")
            && stdout.contains("بهرام نیکوکار")
            && stdout.contains("open"),
        "{stdout}"
    );
    let out = run(&["prereg", "find", "123"]).await.expect("joins");
    assert!(!out.status.success(), "nothing matches: exit 1");
    let out = run(&["prereg", "list", "--json"]).await.expect("joins");
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(listed["office"], OFFICE);
    let appointments = listed["appointments"].as_array().expect("array");
    assert_eq!(appointments.len(), 3);
    assert!(appointments.iter().all(|a| a["state"] == "open"));
}

/// A station of `OFFICE` that sealed one test packet.
/// A station of `OFFICE` with the synthetic camera and the virtual
/// scanner, for enrolments without hardware.
fn station_with_devices() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        format!(
            "[station]\noffice = \"{OFFICE}\"\n[devices]\ncamera = \"synthetic\"\n\
             scanner = \"virtual\"\nvirtual_scanner_delay_ms = 0\n"
        ),
    )
    .expect("config");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_packet_checked_in_from_an_appointment_takes_it_off_the_list() {
    use pishkhan::intake::receipt::{SignedReceipt, Status};
    use pishkhan::store::outbox;
    use sha2::Digest;

    let st = station_with_devices();
    let station = Arc::new(Station::open(st.path()).expect("station"));
    let identity_file = st.path().join(pishkhan::station::DEMO_IDENTITY_FILE);
    let dir = tempfile::tempdir().expect("intake dir");
    let intake = open_intake_with(
        dir.path(),
        &[(st.path(), Some(OFFICE))],
        &format!("identities = [\"{}\"]\n", identity_file.display()),
    );
    let (addr, _server) = serve(&intake).await;

    // An enrolment checked in from the second appointment, with one
    // difference kept, sealed as the window seals it (the capture is the
    // self-test's, with the virtual devices).
    let registered = office_list().appointments[1].clone();
    let sealing = station.clone();
    let entry = tokio::task::spawn_blocking(move || {
        let devices = pishkhan::devices::Devices::from_config(&sealing.config);
        let (mut session, _) = pishkhan::selftest::capture(&sealing, &devices).expect("captures");
        session.check_in = Some(CheckIn {
            appointment: registered.clone(),
            checked_in_at: "2026-11-22T08:03:00+03:30".into(),
            differences: vec![Difference {
                field: "first-name".into(),
                typed: "بهرام".into(),
                registered: registered.first_name.clone(),
                resolution: Some(Resolution::Kept {
                    reason: "as on the birth certificate".into(),
                    approved_by: Some("sara".into()),
                }),
            }],
        });
        sealing.seal(&session).expect("seals");
        sealing.with_db(outbox::list).expect("list").remove(0)
    })
    .await
    .expect("sealing");
    let Ok(outbox::Stored::V3(file)) = station.with_db(|db| outbox::stored(db, &entry.id)) else {
        panic!("a format-3 packet");
    };
    let bytes = file.to_bytes();
    // Sealing consumed it at the station already.
    let used = station
        .with_db(|db| cache::is_consumed(db, "140509010002"))
        .expect("reads")
        .expect("consumed at sealing");
    assert_eq!(used.packet_id, entry.id);

    // Uploaded with the station's own client, as the uploader does.
    let config = upload_to(addr);
    let tus = pishkhan::upload::client_config(st.path(), &config).expect("client config");
    let client = pishkhan::upload::signed_client(station.clone(), tus).expect("client");
    let mut metadata = pishkhan_tus::Metadata::new();
    metadata
        .insert(pishkhan::intake::PACKET_ID_KEY, entry.id.as_bytes())
        .expect("metadata");
    let done = client
        .upload(&bytes, &metadata, None, 64 * 1024, |_, _, _| {})
        .await
        .expect("uploads");
    let signed: SignedReceipt =
        serde_json::from_slice(&done.completion.expect("a receipt").receipt).expect("receipt");
    let receipt = signed
        .verify(
            &intake.verifying_key(),
            &entry.id,
            &hex::encode(sha2::Sha256::digest(&bytes)),
        )
        .expect("signed by the intake");
    assert_eq!(receipt.status, Status::Accepted, "{:?}", receipt.detail);

    let consumed = intake.consumed_appointments().expect("consumed");
    assert_eq!(
        consumed.get("140509010002").map(|c| c.packet_id.as_str()),
        Some(entry.id.as_str())
    );
    // Every station of the office now gets the list without it.
    let synced = sync_once(station.clone(), &config).await.expect("syncs");
    assert_eq!(synced.appointments, 2);
    let key = station.prereg_key();
    let (listed, _) = station
        .with_db(|db| cache::list(db, &key, OFFICE))
        .expect("list")
        .expect("synced");
    assert!(
        listed
            .iter()
            .all(|f| f.appointment().tracking_code != "140509010002"),
        "{listed:?}"
    );
}

#[test]
fn demo_mode_seeds_todays_list_and_the_background_worker_syncs_it() {
    let st = station_dir("DEMO-OFFICE");
    let station = Arc::new(Station::open(st.path()).expect("station"));
    assert!(station.demo);
    let background = pishkhan::upload::start_background(station.clone())
        .expect("starts")
        .expect("demo mode uploads to its embedded intake");
    let handle = background.prereg.expect("the sync runs beside the uploads");
    let started = std::time::Instant::now();
    let synced = loop {
        let state = handle.state();
        if let Some(synced) = state.last {
            break synced;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "no sync in 30 s: {:?}",
            state.error
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(
        (synced.office.as_str(), synced.appointments),
        ("DEMO-OFFICE", 10)
    );
    let seeded = st
        .path()
        .join(pishkhan::upload::DEMO_INTAKE_DIR)
        .join("appointments")
        .join("DEMO-OFFICE.json");
    let list: AppointmentList =
        serde_json::from_slice(&std::fs::read(&seeded).expect("seeded list")).expect("JSON");
    let variant = &list.appointments[pishkhan::prereg::demo::ZWNJ_VARIANT];
    assert!(variant.first_name.contains('\u{200C}'));
    let key = station.prereg_key();
    let found = station
        .with_db(|db| cache::find(db, &key, "DEMO-OFFICE", &variant.national_code))
        .expect("find");
    assert!(
        matches!(&found[..], [Found::Open { appointment }] if appointment == variant),
        "{found:?}"
    );
}
