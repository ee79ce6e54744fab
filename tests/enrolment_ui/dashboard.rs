//! The dashboard after a mixed run: enrolments sealed through the window
//! and headlessly (one a test packet), some acknowledged by a real intake
//! on loopback, one rejected, some still waiting, one draft; the figures
//! on screen are the queue's.

use pishkhan::dashboard::Counts;
use pishkhan::intake::Intake;
use pishkhan::store::drafts;
use pishkhan::ui::app::Overlay;
use pishkhan::upload::Uploader;

use pishkhan::text::Text;

use super::*;

/// Seals one enrolment of the self-test applicant as `sara`, as a test
/// packet or a real one.
fn seal_headless(h: &Harness, test: bool) {
    let (mut session, _) =
        pishkhan::selftest::capture(&h.station, &h.devices).expect("the self-test applicant");
    session.test = test;
    session.operator = "sara".into();
    h.station.seal(&session).expect("seals");
}

/// What the dashboard must show, counted from the queue's rows.
fn expected(h: &Harness) -> Counts {
    let today = chrono::Local::now().date_naive();
    let on_today = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .is_ok_and(|t| t.with_timezone(&chrono::Local).date_naive() == today)
    };
    let rows = h.outbox();
    let count = |f: &dyn Fn(&outbox::Entry) -> bool| rows.iter().filter(|e| f(e)).count() as u64;
    let drafts = h.station.with_db(drafts::list).expect("drafts");
    Counts {
        sealed_today: count(&|e| {
            !e.test
                && e.origin == "local"
                && e.kind.as_deref() == Some("enrolment")
                && on_today(&e.created_at)
        }),
        waiting: count(&|e| matches!(e.status.as_str(), "pending" | "failed")),
        uploading: count(&|e| e.status == "uploading"),
        acknowledged_today: count(&|e| {
            e.status == "acknowledged" && e.acknowledged_at.as_deref().is_some_and(on_today)
        }),
        acknowledged_kept: count(&|e| e.status == "acknowledged"),
        rejected: count(&|e| e.status == "rejected"),
        exported: count(&|e| e.exported_at.is_some() && e.status != "acknowledged"),
        drafts: drafts.len() as u64,
        drafts_held: drafts.iter().filter(|d| d.held_reason.is_some()).count() as u64,
    }
}

#[test]
fn the_dashboard_matches_the_queue_after_a_mixed_run() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // The station first (its demo authority key is what the intake
    // decrypts with), then the intake, then the station pointed at it.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = "[devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\nvirtual_scanner_delay_ms = 120\n";
    std::fs::write(dir.path().join("pishkhan.toml"), config).expect("config");
    let station_id = Station::open(dir.path()).expect("station").id.to_string();
    let intake_dir = tempfile::tempdir().expect("intake dir");
    std::fs::write(
        intake_dir.path().join("intake.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\ntls = false\nidentities = [\"{}\"]\n",
            dir.path().join("DEMO-authority-identity.txt").display()
        ),
    )
    .expect("intake config");
    let intake = Arc::new(Intake::open(intake_dir.path()).expect("intake opens"));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(intake.clone().serve(listener));
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        format!(
            "{config}[upload]\nurl = \"http://{addr}/files/\"\nintake_key = \"{}\"\n\
             retry_base_ms = 50\nretry_max_ms = 400\n",
            hex::encode(intake.verifying_key().to_bytes())
        ),
    )
    .expect("config");
    let mut h = enrol_in(Harness::open(dir));
    intake
        .register(&station_id, &h.station.verifying_key(), "test office")
        .expect("register");

    // Four more: three real, one a test packet.
    for test in [false, false, false, true] {
        seal_headless(&h, test);
    }
    // One is damaged on the disk: the intake refuses it.
    let damaged = h.outbox()[2].id.clone();
    {
        let db = rusqlite::Connection::open(h.dir.path().join("pishkhan.db")).expect("db");
        let mut payload: Vec<u8> = db
            .query_row(
                "SELECT payload FROM outbox WHERE id = ?1",
                [&damaged],
                |r| r.get(0),
            )
            .expect("payload");
        payload[1000] ^= 0x20;
        db.execute(
            "UPDATE outbox SET payload = ?2 WHERE id = ?1",
            rusqlite::params![damaged, payload],
        )
        .expect("damage");
    }
    runtime
        .block_on(Uploader::new(h.station.clone()).expect("uploader").drain())
        .expect("drains");
    // Two more after the upload: they wait. And a draft of the next one.
    seal_headless(&h, false);
    seal_headless(&h, false);
    h.click(&h.tr("ui-next-applicant"));
    h.fill_applicant();
    assert_eq!(h.wizard().step, Step::Documents);

    let want = expected(&h);
    assert_eq!(
        (
            want.sealed_today,
            want.waiting,
            want.acknowledged_today,
            want.rejected,
            want.drafts
        ),
        (6, 2, 4, 1, 1),
        "the mixed run: {want:?}"
    );
    h.click(&h.tr("ui-dashboard"));
    let Some(Overlay::Dashboard(dashboard)) = &h.app.overlay else {
        panic!("the dashboard is open");
    };
    assert_eq!(dashboard.counts.as_ref().ok(), Some(&want));
    // The figures on screen, in the interface's digits, with their labels.
    for (label, value) in [
        ("ui-dashboard-sealed-today", want.sealed_today),
        ("ui-dashboard-waiting", want.waiting + want.uploading),
        ("ui-dashboard-acknowledged-today", want.acknowledged_today),
        ("ui-dashboard-rejected", want.rejected),
        ("ui-dashboard-drafts", want.drafts),
    ] {
        assert!(h.sees(&h.tr(label)), "{label}");
        assert!(
            h.sees(&h.app.i18n.digits(&value.to_string())),
            "{label} = {value}"
        );
    }
    // The command line says the same.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pishkhan"))
        .env("PISHKHAN_DATA_DIR", h.dir.path())
        .env("PISHKHAN_LOG", "warn")
        .args(["dashboard", "--json"])
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["counts"]["sealed_today"], 6);
    assert_eq!(json["counts"]["rejected"], 1);
    assert_eq!(json["counts"]["drafts"], 1);

    // The clock against the intake's, as the window asks for it.
    let skew = pishkhan::dashboard::Skew::from_intake_ahead(
        runtime
            .block_on(pishkhan::status::clock_skew(
                h.station.clone(),
                &h.station.config.upload,
            ))
            .expect("the intake answers"),
    );
    assert!(!skew.worrying(), "the same machine's clock: {skew:?}");
    let _ = h
        .app
        .update(Message::Dashboard(pishkhan::ui::dashboard::Message::Clock(
            Ok(skew),
        )));
    let Some(Overlay::Dashboard(dashboard)) = &h.app.overlay else {
        panic!("the dashboard stays open");
    };
    assert_eq!(dashboard.clock, pishkhan::ui::dashboard::Clock::Known(skew));
    let shown = h.app.i18n.text(
        &Text::new("ui-dashboard-clock-ok")
            .arg("seconds", format!("{:+.1}", skew.millis as f64 / 1000.0)),
    );
    assert!(h.sees(&shown), "{shown}");
}
