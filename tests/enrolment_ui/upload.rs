//! Demo mode end to end: the station uploads in the background to the
//! intake it embeds on loopback, and the window shows the packet received.

use super::*;

/// A demo station as `pishkhan` starts it: uploading in the background to
/// the intake it embeds on loopback, which also answers card status.
pub(super) fn demo_uploading() -> Harness {
    uploading_with(
        "[devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\nvirtual_scanner_delay_ms = 120\n",
    )
}

/// [`demo_uploading`] with the configuration file `config`.
pub(super) fn uploading_with(config: &str) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pishkhan.toml"), config).expect("config");
    let station = Arc::new(Station::open(dir.path()).expect("station"));
    assert!(station.demo, "no authority key configured: demo mode");
    let background = pishkhan::upload::start_background(station.clone())
        .expect("uploads start")
        .expect("demo mode embeds an intake");
    assert!(background.endpoint.starts_with("http://127.0.0.1:"));
    let devices = Devices::from_config(&station.config);
    let app = App::new(Start {
        station: Ok((station.clone(), devices.clone())),
        lang: None,
        demo_step: None,
        uploads: Some(background.progress.clone()),
        intake: Some(background.config.clone()),
    });
    Harness {
        app,
        station,
        devices,
        dir,
    }
}

/// Waits until the intake has acknowledged the newest packet.
pub(super) fn wait_acknowledged(h: &Harness) {
    let sealed = Instant::now();
    let deadline = sealed + Duration::from_secs(20);
    while h.outbox()[0].status != "acknowledged" {
        assert!(
            Instant::now() < deadline,
            "not acknowledged: {:?}",
            h.outbox()[0]
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("acknowledged {:?} after sealing", sealed.elapsed());
}

#[test]
fn in_demo_mode_an_enrolment_reaches_the_embedded_intake_and_shows_as_received() {
    let mut h = enrol_in(demo_uploading());
    wait_acknowledged(&h);
    let _ = h.app.update(Message::Refresh);
    assert!(
        h.sees(&h.tr("ui-link-online")),
        "the status bar shows the link"
    );
    h.click(&h.tr("ui-queue"));
    assert!(h.app.showing_queue());
    assert!(
        h.sees(&h.tr("status-acknowledged")),
        "the queue screen shows the packet received"
    );
    // The embedded intake holds it, accepted.
    let stored = std::fs::read_dir(
        h.dir
            .path()
            .join("demo-intake/objects/packets")
            .join(h.station.id.to_string()),
    )
    .expect("the intake stored the packet")
    .count();
    assert_eq!(stored, 1);
    h.click(&h.tr("ui-queue-close"));
    assert!(!h.app.showing_queue());
    assert_eq!(h.wizard().step, Step::Done, "the screen underneath is kept");
}

/// Writes docs/screens/{fa,en}-7-queue-tiny-skia.png (run with `--ignored`
/// after changing the queue screen).
#[test]
#[ignore = "writes documentation screenshots"]
fn write_queue_screens() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screens");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\nvirtual_scanner_delay_ms = 0\n",
    )
    .expect("config");
    let station = Station::open(dir.path()).expect("station");
    let devices = Devices::from_config(&station.config);
    for _ in 0..4 {
        pishkhan::selftest::run_once(&station, &devices).expect("sealed");
    }
    station.with_db(|db| {
        let ids: Vec<String> = outbox::list(db)
            .expect("list")
            .into_iter()
            .map(|e| e.id)
            .collect();
        db.execute("UPDATE outbox SET status = 'acknowledged' WHERE id = ?1", [&ids[0]])
            .expect("ack");
        db.execute(
            "UPDATE outbox SET status = 'rejected', reject_reason = 'unregistered-station', attempts = 1 WHERE id = ?1",
            [&ids[1]],
        )
        .expect("reject");
        db.execute(
            "UPDATE outbox SET status = 'failed', attempts = 3,
                    last_error = 'clock-skew: the station''s clock is 420 s ahead of the intake''s \
                    (Pishkhan-Date 2026-11-22T09:07:00Z, intake 2026-11-22T09:00:00Z); at most 300 s allowed',
                    next_attempt_at = '2026-11-22T09:02:30+00:00'
             WHERE id = ?1",
            [&ids[2]],
        )
        .expect("fail");
    });
    drop(station);
    for lang in ["fa", "en"] {
        let mut h = Harness::open(tempfile::TempDir::new_in(dir.path()).expect("unused"));
        let station = Arc::new(Station::open(dir.path()).expect("station"));
        let progress = Arc::new(std::sync::Mutex::new(pishkhan::upload::Progress {
            link: pishkhan::upload::Link::Offline,
            current: None,
        }));
        h.app = App::new(Start {
            station: Ok((station, h.devices.clone())),
            lang: Some(if lang == "fa" {
                pishkhan::i18n::Lang::Fa
            } else {
                pishkhan::i18n::Lang::En
            }),
            demo_step: None,
            uploads: Some(progress),
            intake: None,
        });
        let _ = h.app.update(Message::ShowQueue);
        let theme = h.app.theme();
        let mut ui = Simulator::with_size(
            pishkhan::ui::settings(),
            Size::new(1280.0, 860.0),
            h.app.view(),
        );
        let snapshot = ui.snapshot(&theme).expect("render");
        let name = format!("{lang}-7-queue");
        for old in std::fs::read_dir(&out).expect("docs/screens").flatten() {
            if old.file_name().to_string_lossy().starts_with(&name) {
                std::fs::remove_file(old.path()).expect("remove the old screen");
            }
        }
        assert!(snapshot.matches_image(out.join(name)).expect("written"));
    }
}
