//! The first run of a station that has the authority's key but no office:
//! the provisioning form comes before the first supervisor, and shows the
//! station's registration as a QR code.

use super::*;
use pishkhan::store::audit;
use pishkhan::text::Text;

/// A fresh station whose configuration (as an installer might bring it)
/// names the authority's key, so it is not in demo mode, but no office.
fn unprovisioned() -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let authority = age::x25519::Identity::generate().to_public();
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        format!(
            "# Installed by the authority's image.\n[authority]\nrecipient = \"{authority}\"\n\
             [devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\nvirtual_scanner_delay_ms = 120\n"
        ),
    )
    .expect("config");
    let certificate = rcgen::generate_simple_self_signed(vec!["intake.example".to_owned()])
        .expect("a certificate");
    std::fs::write(dir.path().join("given.pem"), certificate.cert.pem()).expect("write");
    Harness::open(dir)
}

fn provisioned_entries(h: &Harness) -> Vec<audit::Event> {
    h.station
        .with_db(audit::list)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "station-provisioned")
        .collect()
}

/// Fills the form the way the test station is provisioned.
fn fill(h: &mut Harness) {
    h.type_into("provision-office", "TEH-17");
    h.type_into("provision-name", "باجهٔ ۳");
    h.type_into("provision-number", "۴۲۴۲");
    h.type_into("provision-intake-url", "https://intake.example");
    let certificate = h.dir.path().join("given.pem").display().to_string();
    h.type_into("provision-certificate", &certificate);
    h.type_into("provision-intake-key", &"ab".repeat(32));
}

#[test]
fn an_unprovisioned_station_is_provisioned_before_the_first_supervisor() {
    let mut h = unprovisioned();
    assert!(
        matches!(h.app.screen, Screen::Provision(_)),
        "no office yet: the provisioning form comes first"
    );
    // Submitted empty: a message under each field that needs one.
    h.click(&h.tr("ui-provision-submit"));
    for id in [
        "err-provision-office",
        "err-provision-name",
        "err-provision-url-missing",
        "err-provision-intake-key-missing",
    ] {
        assert!(h.sees(&h.tr(id)), "{id}");
    }
    assert!(provisioned_entries(&h).is_empty(), "nothing written");

    fill(&mut h);
    h.click(&h.tr("ui-provision-submit"));
    let Screen::Provision(screen) = &h.app.screen else {
        panic!("the registration is shown on the same screen");
    };
    let registration = screen.registration().expect("provisioned").clone();
    assert_eq!(registration.office, "TEH-17");
    assert_eq!(registration.number, 4242);
    assert_eq!(registration.name, "باجهٔ ۳");
    assert_eq!(registration.station_id, h.station.id.to_string());
    assert!(h.sees(&h.tr("ui-provision-done-title")));
    assert!(h.sees(&registration.public_key));
    let file = h.dir.path().join("station-registration.json");
    assert!(h.sees(&file.display().to_string()));
    let (read, key) = pishkhan::provision::Registration::read(&file).expect("signed file");
    assert_eq!(read, registration);
    assert_eq!(key, h.station.verifying_key());

    let (config, _) = pishkhan::config::Config::parse(
        &std::fs::read_to_string(h.dir.path().join("pishkhan.toml")).expect("read"),
    )
    .expect("valid");
    assert_eq!(config.station.office, "TEH-17");
    assert_eq!(
        config.upload.url.as_deref(),
        Some("https://intake.example/files/")
    );
    assert_eq!(
        config.upload.server_certificate.as_deref(),
        Some("intake-certificate.pem")
    );
    let entries = provisioned_entries(&h);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor, "provision");

    // The window goes on with the provisioned station: its number.
    let number = format!(
        "{} {}",
        h.tr("ui-station-number"),
        h.app.i18n.digits("4242")
    );
    assert!(h.sees(&number), "{number}");
    h.click(&h.tr("ui-provision-continue"));
    h.sign_up_and_in();
}

#[test]
fn a_bad_certificate_is_named_under_its_field() {
    let mut h = unprovisioned();
    fill(&mut h);
    let not_pem = h.dir.path().join("notes.txt");
    std::fs::write(&not_pem, "not a certificate").expect("write");
    // Replace the path typed by `fill`.
    let _ = h.app.update(Message::Provision(
        pishkhan::ui::provision::Message::Certificate(not_pem.display().to_string()),
    ));
    h.click(&h.tr("ui-provision-submit"));
    let message = h
        .app
        .i18n
        .text(&Text::new("err-provision-cert-not-pem").arg("path", not_pem.display().to_string()));
    assert!(h.sees(&message), "{message}");
    assert!(matches!(h.app.screen, Screen::Provision(_)));
    assert!(provisioned_entries(&h).is_empty());
}

/// Writes docs/screens/{fa,en}-0a-provision-tiny-skia.png (the form) and
/// {fa,en}-0b-registration-tiny-skia.png (run with `--ignored`).
#[test]
#[ignore = "writes documentation screenshots"]
fn write_provision_screens() {
    for lang in ["fa", "en"] {
        let mut h = unprovisioned();
        if lang == "en" {
            h.click("English");
        }
        h.type_into("provision-office", "TEH 17");
        h.type_into("provision-name", "باجهٔ ۳");
        h.type_into("provision-intake-url", "http://intake.example/files/");
        h.click(&h.tr("ui-provision-submit"));
        h.screen(&format!("{lang}-0a-provision"), 1100.0);
        use pishkhan::ui::provision::Message as M;
        let certificate = h.dir.path().join("given.pem").display().to_string();
        for message in [
            M::Office("TEH-17".into()),
            M::Number("4242".into()),
            M::IntakeUrl("https://intake.example/files/".into()),
            M::Certificate(certificate),
            M::IntakeKey("ab".repeat(32)),
        ] {
            let _ = h.app.update(Message::Provision(message));
        }
        h.click(&h.tr("ui-provision-submit"));
        h.screen(&format!("{lang}-0b-registration"), 1100.0);
    }
}
