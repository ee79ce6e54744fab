//! "Where is my card?" end to end: a packet sealed at a station and
//! uploaded over HTTP on loopback to a real intake, then looked up from
//! the station by tracking code and by national code + birth certificate
//! serial + birth date, followed through the back office's stages, and
//! the station's clock measured against the intake's.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

mod common;

use common::serve;
use pishkhan::config::UploadConfig;
use pishkhan::enrolment::TrackingCode;
use pishkhan::intake::Intake;
use pishkhan::intake::receipt::{Receipt, SignedReceipt, Status};
use pishkhan::station::Station;
use pishkhan::status::{
    BadInput, ErrorReply, Query, Stage, StatusClient, StatusError, clock_skew, lookup,
};
use pishkhan::store::outbox;

/// The self-test applicant (`pishkhan::selftest::test_applicant`).
const NATIONAL_CODE: &str = "0499370899";
const SERIAL: &str = "345678";
const BIRTH_DATE: &str = "1380/01/01";

/// A station with the synthetic camera and the virtual scanner, for
/// enrolments without hardware.
fn station_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[station]\noffice = \"TEH-12\"\n[devices]\ncamera = \"synthetic\"\n\
         scanner = \"virtual\"\nvirtual_scanner_delay_ms = 0\n",
    )
    .expect("config");
    drop(Station::open(dir.path()).expect("station"));
    dir
}

/// An intake on plain HTTP that decrypts with `decrypt_for`'s demo
/// authority key, with `stations` registered.
fn open_intake(dir: &Path, decrypt_for: &Path, stations: &[&Path]) -> Arc<Intake> {
    let stations: Vec<(&Path, Option<&str>)> = stations.iter().map(|s| (*s, None)).collect();
    common::open_intake(dir, &common::decrypting_for(decrypt_for), &stations)
}

fn upload_to(addr: SocketAddr, intake: &Intake) -> UploadConfig {
    common::upload_to(addr, Some(intake))
}

/// Seals one enrolment of the self-test applicant, as the window does;
/// returns its outbox row and sealed bytes.
async fn seal_one(station: &Arc<Station>) -> (outbox::Entry, Vec<u8>) {
    let sealing = station.clone();
    let entry = tokio::task::spawn_blocking(move || {
        let devices = pishkhan::devices::Devices::from_config(&sealing.config);
        let (session, _) = pishkhan::selftest::capture(&sealing, &devices).expect("captures");
        sealing.seal(&session).expect("seals");
        sealing.with_db(outbox::list).expect("list").remove(0)
    })
    .await
    .expect("sealing");
    let Ok(outbox::Stored::V3(file)) = station.with_db(|db| outbox::stored(db, &entry.id)) else {
        panic!("a format-3 packet");
    };
    (entry, file.to_bytes())
}

/// Uploads `bytes` as packet `id` with `station`'s own signed client, as
/// the uploader does, and returns the intake's checked receipt.
async fn upload(
    station: &Arc<Station>,
    config: &UploadConfig,
    intake: &Intake,
    id: &str,
    bytes: &[u8],
) -> Receipt {
    use sha2::Digest;
    let tus = pishkhan::upload::client_config(&station.data_dir, config).expect("client config");
    let client = pishkhan::upload::signed_client(station.clone(), tus).expect("client");
    let mut metadata = pishkhan_tus::Metadata::new();
    metadata
        .insert(pishkhan::intake::PACKET_ID_KEY, id.as_bytes())
        .expect("metadata");
    let done = client
        .upload(bytes, &metadata, None, 64 * 1024, |_, _, _| {})
        .await
        .expect("uploads");
    let signed: SignedReceipt =
        serde_json::from_slice(&done.completion.expect("a receipt").receipt).expect("receipt");
    signed
        .verify(
            &intake.verifying_key(),
            id,
            &hex::encode(sha2::Sha256::digest(bytes)),
        )
        .expect("signed by the intake")
}

fn tracking_code(entry: &outbox::Entry) -> TrackingCode {
    TrackingCode::parse(entry.tracking_code.as_deref().expect("a tracking code"))
        .expect("a valid tracking code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_enrolment_is_found_by_code_and_by_details_and_followed_to_the_office() {
    let st = station_dir();
    let stranger = station_dir();
    let dir = tempfile::tempdir().expect("intake dir");
    let intake = open_intake(dir.path(), st.path(), &[st.path()]);
    let (addr, server) = serve(&intake).await;
    let config = upload_to(addr, &intake);
    let station = Arc::new(Station::open(st.path()).expect("station"));

    let (entry, bytes) = seal_one(&station).await;
    let code = tracking_code(&entry);
    let receipt = upload(&station, &config, &intake, &entry.id, &bytes).await;
    assert_eq!(receipt.status, Status::Accepted, "{:?}", receipt.detail);

    // By the tracking code on the receipt.
    let client = StatusClient::new(station.clone(), &config).expect("client");
    let by_code = client
        .lookup(&Query::Tracking(code.clone()))
        .await
        .expect("found by tracking code");
    assert_eq!(
        (&by_code.tracking_code, by_code.stage),
        (&code, Stage::Received)
    );
    assert_eq!(
        (by_code.office.as_deref(), by_code.reason.as_deref()),
        (None, None)
    );
    let age = chrono::Utc::now() - by_code.updated_at;
    assert!(age.num_seconds().abs() < 60, "updated {age} ago");

    // By the applicant's details, typed as an operator would.
    let details = Query::applicant("۰۴۹۹-۳۷۰۸۹-۹", "۳۴۵۶۷۸", "۱۳۸۰/۰۱/۰۱").expect("valid");
    let by_details = client.lookup(&details).await.expect("found by details");
    assert_eq!(by_details, by_code);

    // The back office makes the card and sends it to an office.
    intake
        .set_card_stage(&code, Stage::InProduction, None)
        .expect("in production");
    let office = "دفتر پیشخوان ۱۲ — تهران، خیابان انقلاب";
    intake
        .set_card_stage(&code, Stage::Ready, Some(office))
        .expect("ready");
    let ready = lookup(station.clone(), &config, &details)
        .await
        .expect("found");
    assert_eq!(
        (ready.stage, ready.office.as_deref()),
        (Stage::Ready, Some(office))
    );
    assert!(ready.updated_at >= by_code.updated_at);
    assert_eq!(
        client
            .lookup(&Query::Tracking(code.clone()))
            .await
            .expect("found"),
        ready
    );

    // One detail wrong: not found, exactly as for an unknown applicant.
    for (national_code, serial, birth_date) in [
        (NATIONAL_CODE, "345679", BIRTH_DATE),
        (NATIONAL_CODE, SERIAL, "1380/01/02"),
        ("0013542419", SERIAL, BIRTH_DATE),
    ] {
        let wrong = Query::applicant(national_code, serial, birth_date).expect("well formed");
        let answer = client.lookup(&wrong).await;
        assert!(matches!(answer, Err(StatusError::NotFound)), "{answer:?}");
    }
    let unknown = Query::Tracking(TrackingCode::new(1405, 9, 1));
    assert!(matches!(
        client.lookup(&unknown).await,
        Err(StatusError::NotFound)
    ));

    // A malformed tracking code: refused at the station before sending…
    let typed = Query::tracking("1405-0042-000001-00");
    assert!(matches!(typed, Err(BadInput::TrackingCode(_))), "{typed:?}");
    // …and by the intake when one is sent anyway.
    let forged: TrackingCode = serde_json::from_str("\"14050042\"").expect("unchecked");
    let refused = client.lookup(&Query::Tracking(forged)).await;
    assert!(
        matches!(&refused, Err(StatusError::BadInput(BadInput::Request(d))) if d.starts_with("bad-input")),
        "{refused:?}"
    );
    assert_eq!(
        refused.expect_err("bad input").text().id,
        "err-status-bad-input"
    );
    // The intake checks the details itself too: a raw request with a
    // wrong national code check digit gets 400 naming the field.
    let raw = pishkhan::upload::intake_client(
        station.clone(),
        &config,
        std::time::Duration::from_secs(10),
    )
    .expect("client");
    let url = pishkhan::upload::beside_endpoint(&raw.config().endpoint, "v1/applicants/lookup")
        .expect("url");
    let body = br#"{"national_code":"0499370898","birth_certificate_serial":"345678","birth_date_jalali":"1380/01/01"}"#;
    let answer = raw
        .fetch(
            pishkhan_tus::client::Method::POST,
            &url,
            Some(("application/json", bytes::Bytes::from_static(body))),
            4096,
        )
        .await
        .expect("answered");
    assert_eq!(answer.status.as_u16(), 400);
    let reply: ErrorReply = serde_json::from_slice(&answer.body).expect("an error document");
    assert_eq!(
        (reply.error.as_str(), reply.field.as_deref()),
        ("bad-input", Some("national_code"))
    );

    // A station the intake does not know learns nothing…
    let outsider = Arc::new(Station::open(stranger.path()).expect("station"));
    let refused = lookup(outsider.clone(), &config, &details).await;
    assert!(
        matches!(&refused, Err(StatusError::Refused { status: 401, detail }) if detail.starts_with("unregistered-station")),
        "{refused:?}"
    );
    assert_eq!(
        refused.expect_err("refused").text().id,
        "err-status-refused"
    );
    // …but may still measure its clock, to see whether that is why.
    let skew = clock_skew(outsider, &config).await.expect("skew");
    assert!(skew.num_milliseconds().abs() < 5_000, "{skew}");

    // Against a local intake the clocks agree.
    let skew = client.clock_skew().await.expect("skew");
    assert!(skew.num_milliseconds().abs() < 5_000, "{skew}");

    // The intake goes away: offline, not "not found".
    server.abort();
    let _ = server.await;
    let offline = client.lookup(&details).await;
    assert!(matches!(&offline, Err(e) if e.is_offline()), "{offline:?}");
    assert!(client.clock_skew().await.is_err_and(|e| e.is_offline()));

    // Not configured at all.
    let unconfigured = lookup(station, &UploadConfig::default(), &details).await;
    assert!(
        matches!(unconfigured, Err(StatusError::NotConfigured)),
        "{unconfigured:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_packet_shows_its_reason_until_the_packet_is_accepted() {
    let sealer = station_dir();
    let other = station_dir();
    let dir = tempfile::tempdir().expect("intake dir");
    let intake = open_intake(dir.path(), sealer.path(), &[sealer.path(), other.path()]);
    let (addr, _server) = serve(&intake).await;
    let config = upload_to(addr, &intake);
    let station = Arc::new(Station::open(sealer.path()).expect("station"));
    let (entry, bytes) = seal_one(&station).await;
    let code = tracking_code(&entry);

    // Another registered station uploads the packet: the intake reads it
    // but refuses it (it was sealed elsewhere).
    let wrong = Arc::new(Station::open(other.path()).expect("station"));
    let receipt = upload(&wrong, &config, &intake, &entry.id, &bytes).await;
    assert_eq!(receipt.status, Status::Rejected);
    let client = StatusClient::new(station.clone(), &config).expect("client");
    let rejected = client
        .lookup(&Query::Tracking(code.clone()))
        .await
        .expect("found");
    assert_eq!(
        (rejected.stage, rejected.reason.as_deref()),
        (Stage::Rejected, Some("wrong-key"))
    );
    assert_eq!(rejected.reason_id(), Some("reason-wrong-key"));
    let en = pishkhan::i18n::I18n::new(pishkhan::i18n::Lang::En);
    let said = rejected.describe(&en);
    assert!(said.contains(&en.tr("reason-wrong-key")), "{said}");
    assert!(
        intake
            .set_card_stage(&code, Stage::InProduction, None)
            .is_err(),
        "no card is made from a rejected packet"
    );

    // Its own station sends it: received, found by details too.
    let receipt = upload(&station, &config, &intake, &entry.id, &bytes).await;
    assert_eq!(receipt.status, Status::Accepted, "{:?}", receipt.detail);
    let details = Query::applicant(NATIONAL_CODE, SERIAL, BIRTH_DATE).expect("valid");
    let received = client.lookup(&details).await.expect("found");
    assert_eq!(
        (received.tracking_code, received.stage),
        (code, Stage::Received)
    );
    assert_eq!(received.reason, None);
}

fn pishkhan(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pishkhan"));
    cmd.env("PISHKHAN_DATA_DIR", data_dir)
        .env("PISHKHAN_LOG", "warn");
    cmd
}

async fn run(station: &Path, args: Vec<String>) -> std::process::Output {
    let station: PathBuf = station.to_owned();
    tokio::task::spawn_blocking(move || pishkhan(&station).args(args).output().expect("runs"))
        .await
        .expect("joins")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_advances_a_card_and_tells_the_counter_in_its_language() {
    let st = station_dir();
    let dir = tempfile::tempdir().expect("intake dir");
    let intake_dir = dir.path().join("intake");
    std::fs::create_dir_all(&intake_dir).expect("intake dir");
    let intake = open_intake(&intake_dir, st.path(), &[st.path()]);
    let (addr, _server) = serve(&intake).await;
    let config = upload_to(addr, &intake);
    let station = Arc::new(Station::open(st.path()).expect("station"));
    let (entry, bytes) = seal_one(&station).await;
    let code = tracking_code(&entry);
    let receipt = upload(&station, &config, &intake, &entry.id, &bytes).await;
    assert_eq!(receipt.status, Status::Accepted, "{:?}", receipt.detail);
    let toml = st.path().join("pishkhan.toml");
    let mut text = std::fs::read_to_string(&toml).expect("config");
    text.push_str(&format!(
        "[upload]\nurl = \"http://{addr}/files/\"\nintake_key = \"{}\"\n",
        hex::encode(intake.verifying_key().as_bytes())
    ));
    std::fs::write(&toml, text).expect("config");

    // The back office, on the intake's machine (another process).
    let intake_arg = intake_dir.display().to_string();
    let card = |stage: &str, office: Option<&str>| {
        let mut list = args(&["intake", "--dir", &intake_arg, "card-status"]);
        list.push(code.grouped());
        list.push(stage.to_owned());
        if let Some(office) = office {
            list.extend(args(&["--office", office]));
        }
        list
    };
    let out = run(st.path(), card("ready", None)).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--office"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(st.path(), card("ready", Some("Office 12, Tehran"))).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ready at Office 12, Tehran"), "{stdout}");

    // The counter, in Persian (the default: digits in Persian too) and in
    // English.
    let out = run(st.path(), args(&["status", "--tracking", code.as_str()])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("کارت آمادهٔ تحویل در Office ۱۲, Tehran است"),
        "{stdout}"
    );
    assert!(stdout.contains("کد رهگیری: ۱۴"), "{stdout}");
    let out = run(
        st.path(),
        args(&[
            "--lang",
            "en",
            "status",
            "--national-code",
            NATIONAL_CODE,
            "--serial",
            SERIAL,
            "--birth-date",
            BIRTH_DATE,
        ]),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("The card is ready to collect at Office 12, Tehran."),
        "{stdout}"
    );
    assert!(stdout.contains(&code.grouped()), "{stdout}");
    let out = run(
        st.path(),
        args(&["status", "--tracking", code.as_str(), "--json"]),
    )
    .await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["stage"], "ready");
    assert_eq!(json["tracking_code"], code.as_str());
    assert_eq!(json["office"], "Office 12, Tehran");

    // Nothing matches: exit 1 with the reason in the configured language.
    let out = run(
        st.path(),
        args(&[
            "--lang",
            "en",
            "status",
            "--national-code",
            NATIONAL_CODE,
            "--serial",
            "111111",
            "--birth-date",
            BIRTH_DATE,
        ]),
    )
    .await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No enrolment matches"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(st.path(), args(&["status", "--tracking", "12345"])).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("کد رهگیری نیست"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(st.path(), args(&["status", "--clock", "--json"])).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        json["skew_ms"].as_i64().expect("ms").abs() < 5_000,
        "{json}"
    );
}
