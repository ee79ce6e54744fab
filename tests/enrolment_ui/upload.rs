//! Demo mode end to end: the station uploads in the background to the
//! intake it embeds on loopback, and the window shows the packet received.

use super::*;

#[test]
fn in_demo_mode_an_enrolment_reaches_the_embedded_intake_and_shows_as_received() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\nvirtual_scanner_delay_ms = 120\n",
    )
    .expect("config");
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
    });
    let mut h = enrol_in(Harness {
        app,
        station,
        devices,
        dir,
    });

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
    let _ = h.app.update(Message::Refresh);
    assert!(
        h.sees(&h.tr("ui-link-online")),
        "the status bar shows the link"
    );
    h.click(&h.tr("ui-queue"));
    assert!(h.app.showing_queue);
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
    assert!(!h.app.showing_queue);
    assert_eq!(h.wizard().step, Step::Done, "the screen underneath is kept");
}
