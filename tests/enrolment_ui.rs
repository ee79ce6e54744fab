//! The whole enrolment, driven through the real interface headlessly
//! (iced_test Simulator, tiny-skia), with the virtual devices.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iced::Size;
use iced_test::{Simulator, selector};
use pishkhan::devices::{DeviceEvent, Devices};
use pishkhan::enrolment::Step;
use pishkhan::enrolment::portrait::CaptureMode;
use pishkhan::enrolment::tenprint::Status;
use pishkhan::packet;
use pishkhan::station::{self, Station};
use pishkhan::store::outbox;
use pishkhan::ui::app::Start;
use pishkhan::ui::{App, Message, Screen, wizard};
use pishkhan_an2k::records::{FaceRecord, MonitoringMode};
use pishkhan_scanner::{Finger, FingerImage, Impression, ScanEvent};

const NAME: &str = "مریم";
const SURNAME: &str = "کریمی‌نژاد";
const NATIONAL_CODE: &str = "0790419904";
const PASSWORD: &str = "چهار-اسب-درست";

#[path = "enrolment_ui/tenprint.rs"]
mod tenprint;

#[path = "enrolment_ui/drafts.rs"]
mod drafts;

#[path = "enrolment_ui/upload.rs"]
mod upload;

#[path = "enrolment_ui/prereg.rs"]
mod prereg;

#[path = "enrolment_ui/applicant.rs"]
mod applicant;

#[path = "enrolment_ui/portrait.rs"]
mod portrait;

#[path = "enrolment_ui/accounts.rs"]
mod accounts;

#[path = "enrolment_ui/dashboard.rs"]
mod dashboard;

#[path = "enrolment_ui/receipt.rs"]
mod receipt;
#[path = "enrolment_ui/settings.rs"]
mod settings;

/// "Where is my card?" at the counter, asked of the demo intake.
#[path = "enrolment_ui/card_status.rs"]
mod card_status;

#[path = "enrolment_ui/provision.rs"]
mod provision;

#[path = "enrolment_ui/accommodations.rs"]
mod accommodations;
/// A mobile team's route and card handover.
#[path = "enrolment_ui/handover.rs"]
mod handover;

#[path = "enrolment_ui/resolve.rs"]
mod resolve;

#[path = "common/mod.rs"]
mod common;

struct Harness {
    app: App,
    station: Arc<Station>,
    devices: Devices,
    dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Self {
        Self::with_camera("synthetic")
    }

    /// A station whose `[devices]` section chooses the scanner by `scanner`.
    fn with_scanner(scanner: &str) -> Self {
        Self::with_devices("synthetic", scanner)
    }

    /// A fresh station whose camera is `camera` ("synthetic",
    /// "synthetic-seated", …), with the quick virtual scanner.
    fn with_camera(camera: &str) -> Self {
        Self::with_devices(
            camera,
            "scanner = \"virtual\"\nvirtual_scanner_delay_ms = 120",
        )
    }

    fn with_devices(camera: &str, scanner: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("pishkhan.toml"),
            format!("[devices]\ncamera = \"{camera}\"\n{scanner}\n"),
        )
        .expect("config");
        Self::open(dir)
    }

    /// The station window on the data directory `dir`, as at start-up.
    fn open(dir: tempfile::TempDir) -> Self {
        let station = Arc::new(Station::open(dir.path()).expect("station opens"));
        let devices = Devices::from_config(&station.config);
        // As `pishkhan` starts the window: card status and the clock are
        // asked of the configured intake (no uploads run here).
        let intake = station
            .config
            .upload
            .url
            .is_some()
            .then(|| station.config.upload.clone());
        let app = App::new(Start {
            station: Ok((station.clone(), devices.clone())),
            lang: None,
            demo_step: None,
            uploads: None,
            intake,
        });
        Self {
            app,
            station,
            devices,
            dir,
        }
    }

    fn tr(&self, id: &str) -> String {
        self.app.i18n.tr(id)
    }

    /// Builds the interface, lets `f` act on it, then feeds the messages it
    /// produced back into the application. Returns how many there were.
    fn interact(&mut self, f: impl FnOnce(&mut Simulator<'_, Message>)) -> usize {
        let messages: Vec<Message> = {
            let mut ui = Simulator::with_size(
                pishkhan::ui::settings(),
                Size::new(1280.0, 2200.0),
                self.app.view(),
            );
            f(&mut ui);
            ui.into_messages().collect()
        };
        let count = messages.len();
        for message in messages {
            self.run(message);
        }
        count
    }

    /// Gives `message` to the application and runs what it starts (a
    /// request to the intake) to its end, feeding each result back, as the
    /// window's runtime would.
    fn run(&mut self, message: Message) {
        use futures::StreamExt;
        let Some(stream) = iced_runtime::task::into_stream(self.app.update(message)) else {
            return;
        };
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let outputs: Vec<Message> = runtime.block_on(
            stream
                .filter_map(|action| async move {
                    match action {
                        iced_runtime::Action::Output(message) => Some(message),
                        _ => None,
                    }
                })
                .collect(),
        );
        for message in outputs {
            self.run(message);
        }
    }

    fn click(&mut self, label: &str) -> usize {
        let label = label.to_owned();
        self.interact(|ui| {
            ui.click(label.as_str())
                .unwrap_or_else(|e| panic!("no {label:?} to click: {e}"));
        })
    }

    fn type_into(&mut self, id: &'static str, text: &str) {
        let text = text.to_owned();
        self.interact(|ui| {
            ui.click(selector::id(id))
                .unwrap_or_else(|e| panic!("no input {id}: {e}"));
            ui.typewrite(&text);
        });
    }

    /// Replaces what the input `id` holds with `text`, as an operator
    /// would: click, go to the end, erase, type.
    fn retype(&mut self, id: &'static str, text: &str) {
        let text = text.to_owned();
        self.interact(|ui| {
            ui.click(selector::id(id))
                .unwrap_or_else(|e| panic!("no input {id}: {e}"));
            ui.tap_key(iced::keyboard::Key::Named(iced::keyboard::key::Named::End));
            for _ in 0..48 {
                ui.tap_key(iced::keyboard::Key::Named(
                    iced::keyboard::key::Named::Backspace,
                ));
            }
            ui.typewrite(&text);
        });
    }

    fn sees(&mut self, label: &str) -> bool {
        let label = label.to_owned();
        let mut found = false;
        self.interact(|ui| found = ui.find(label.as_str()).is_ok());
        found
    }

    /// Writes the window as `docs/screens/NAME-tiny-skia.png`.
    fn screen(&self, name: &str, height: f32) {
        let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screens");
        let theme = self.app.theme();
        let mut ui = Simulator::with_size(
            pishkhan::ui::settings(),
            Size::new(1280.0, height),
            self.app.view(),
        );
        let snapshot = ui.snapshot(&theme).expect("render");
        for old in std::fs::read_dir(&out).expect("docs/screens").flatten() {
            if old.file_name().to_string_lossy().starts_with(name) {
                std::fs::remove_file(old.path()).expect("remove the old screen");
            }
        }
        assert!(snapshot.matches_image(out.join(name)).expect("written"));
    }

    /// [`Harness::screen`] as the window draws it at the application's
    /// scale factor (high contrast draws everything larger): the same
    /// 1280 pixels wide hold fewer logical pixels.
    fn screen_scaled(&self, name: &str, height: f32) {
        let scale = self.app.scale_factor();
        let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screens");
        let theme = self.app.theme();
        let mut ui = Simulator::with_size(
            pishkhan::ui::settings(),
            Size::new(1280.0 / scale, height / scale),
            self.app.view(),
        );
        let snapshot = ui.snapshot(&theme).expect("render");
        for old in std::fs::read_dir(&out).expect("docs/screens").flatten() {
            if old.file_name().to_string_lossy().starts_with(name) {
                std::fs::remove_file(old.path()).expect("remove the old screen");
            }
        }
        assert!(snapshot.matches_image(out.join(name)).expect("written"));
    }

    fn wizard(&self) -> &wizard::Wizard {
        match &self.app.screen {
            Screen::Wizard(w) => w,
            _ => panic!("not on the wizard"),
        }
    }

    /// Lets device output arrive the way the window's timer would.
    fn tick_until(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(15));
            let _ = self.app.update(Message::Tick);
        }
    }

    fn sign_up_and_in(&mut self) {
        assert!(
            matches!(self.app.screen, Screen::Setup(_)),
            "first run shows set-up"
        );
        self.type_into("setup-full-name", "سارا مدیری");
        self.type_into("setup-username", "sara");
        self.type_into("setup-password", PASSWORD);
        self.type_into("setup-repeat", PASSWORD);
        self.click(&self.tr("ui-create-supervisor"));
        assert!(
            matches!(self.app.screen, Screen::SignIn(_)),
            "set-up leads to sign-in"
        );

        self.type_into("sign-in-username", "sara");
        self.type_into("sign-in-password", "wrong password");
        self.click(&self.tr("ui-sign-in"));
        assert!(self.sees(&self.tr("err-wrong-credentials")));

        self.type_into("sign-in-password", PASSWORD);
        self.click(&self.tr("ui-sign-in"));
        assert_eq!(self.wizard().step, Step::Applicant);
    }

    /// The rest of the form that every test fills in the same way.
    fn fill_documents_fields(&mut self) {
        self.type_into("place-of-birth", "اصفهان");
        self.type_into("bc-number", NATIONAL_CODE);
        self.type_into("bc-series-letter", "ج");
        self.type_into("bc-series-number", "۱۲");
        self.type_into("bc-serial", "۳۴۵۶۷۸");
        self.type_into("postal-code", "13451-13456");
        self.type_into("landline", "۰۳۱-۳۲۲۲۱۱۱۱");
        self.type_into("mobile", "۰۹۱۲۳۴۵۶۷۸۹");
        self.type_into("mobile-repeat", "09123456789");
        self.type_into("address", "اصفهان، خیابان چهارباغ، کوچهٔ ۱۲، پلاک ۷");
    }

    fn fill_applicant(&mut self) {
        // The applicant has no pre-registration: a walk-in.
        self.click(&self.tr("ui-prereg-walk-in"));
        // Next with an empty form stays and explains.
        self.click(&self.tr("ui-next"));
        assert_eq!(self.wizard().step, Step::Applicant);
        assert!(self.sees(&self.tr("err-choose-request")));

        self.click(&self.tr("request-first-card"));
        self.click(&self.tr("gender-female"));
        // Arabic yeh and kaf, as typed on an old keyboard layout.
        self.type_into("first-name", "مريم");
        self.type_into("last-name", SURNAME);
        self.type_into("father-name", "علي");
        self.type_into("birth-date", "۱۳۸۵/۰۶/۳۱");
        self.type_into("national-code", "0790419905");
        self.type_into("national-code-repeat", NATIONAL_CODE);
        self.fill_documents_fields();

        self.click(&self.tr("ui-next"));
        assert_eq!(
            self.wizard().step,
            Step::Applicant,
            "wrong check digit blocks"
        );
        let hint = self.app.i18n.text(
            &pishkhan::text::Text::new("err-nc-check-digit")
                .arg("expected", "4")
                .arg("found", "5"),
        );
        assert!(self.sees(&hint), "specific message: {hint}");
        // The form now shows the stored spelling: Persian yeh and kaf,
        // numbers without separators (shown in the interface's digits).
        let form = self.wizard().applicant_form();
        assert_eq!(form.first_name, NAME, "ي was normalised to ی");
        assert_eq!(form.father_name, "علی");
        assert_eq!(form.mobile, "09123456789");
        assert_eq!(form.landline, "03132221111");
        assert_eq!(form.birth_date, "1385/06/31");
        assert_eq!(form.bc_serial, "345678");

        self.interact(|ui| {
            ui.click(selector::id("national-code")).expect("input");
            ui.tap_key(iced::keyboard::Key::Named(iced::keyboard::key::Named::End));
            ui.tap_key(iced::keyboard::Key::Named(
                iced::keyboard::key::Named::Backspace,
            ));
            ui.typewrite("4");
        });
        self.click(&self.tr("ui-next"));
        assert_eq!(self.wizard().step, Step::Documents);
    }

    fn check_documents(&mut self) {
        self.click(&self.tr("ui-next"));
        assert_eq!(
            self.wizard().step,
            Step::Documents,
            "unchecked documents block"
        );
        for check in pishkhan::enrolment::DocumentCheck::ALL {
            self.click(&self.tr(check.text_id()));
        }
        self.click(&self.tr("ui-next"));
        assert_eq!(self.wizard().step, Step::Portrait);
    }

    /// Waits on the portrait step until the station takes the portrait by
    /// itself (every live check passing on consecutive frames of the
    /// synthetic camera), then goes on.
    fn take_portrait(&mut self) {
        self.tick_until("the automatic portrait", |h| {
            h.wizard().session.portrait.is_some()
        });
        let capture = self
            .wizard()
            .session
            .portrait
            .as_ref()
            .and_then(|p| p.face.clone())
            .expect("the capture record");
        assert_eq!(capture.mode, CaptureMode::Auto);
        assert!(capture.compliant(), "{:?}", capture.failed());
        assert!(self.sees(&self.tr("portrait-taken-auto")));
        self.click(&self.tr("ui-next"));
        assert_eq!(self.wizard().step, Step::Fingerprints);
    }

    fn fingerprints(&self) -> &wizard::FingerprintsState {
        &self.wizard().fingerprints
    }

    fn status(&self) -> Status {
        self.fingerprints().tenprint.status.clone()
    }

    /// Lets the scanner work until an attempt waits for review (returning
    /// its impression) or all fingers are done (`None`).
    fn wait_review(&mut self) -> Option<Impression> {
        self.tick_until("a capture to review", |h| {
            matches!(h.status(), Status::Review(_) | Status::Complete)
                || h.wizard().session.missing_fingers().is_empty()
        });
        match self.status() {
            Status::Review(i) => Some(i),
            _ => None,
        }
    }

    /// Accepts captures until every finger has an image or an exception;
    /// a capture below the quality threshold is retaken, as an operator
    /// would (the synthetic applicant, like a real one, sometimes presses
    /// too lightly).
    fn accept_all(&mut self) {
        while let Some(impression) = self.wait_review() {
            let tenprint = &self.fingerprints().tenprint;
            if tenprint.can_accept(&self.wizard().session) {
                let before = self.wizard().session.fingers.len();
                self.click(&self.tr("ui-accept-key"));
                assert!(
                    self.wizard().session.fingers.len() > before,
                    "accepting the {impression:?} added fingers"
                );
            } else if tenprint.can_retake() {
                self.shortcut(wizard::Shortcut::Retake);
            } else {
                let round = tenprint.round().expect("a round");
                let scores: Vec<(Finger, u8)> = round
                    .best
                    .iter()
                    .map(|(f, a)| (*f, a.quality.score))
                    .collect();
                panic!(
                    "the {impression:?} cannot be accepted: {:?}, scores {scores:?}",
                    round.problems
                );
            }
        }
    }

    fn shortcut(&mut self, shortcut: wizard::Shortcut) {
        let _ = self
            .app
            .update(Message::Wizard(wizard::Message::Fingerprints(
                wizard::FingerprintsMessage::Shortcut(shortcut),
            )));
    }

    fn outbox(&self) -> Vec<outbox::Entry> {
        self.station.with_db(outbox::list).expect("outbox lists")
    }
}

/// A finger image nobody would capture: all black.
fn late_image(finger: Finger) -> FingerImage {
    FingerImage {
        finger,
        width: 256,
        height: 288,
        resolution_ppi: 500,
        pixels: vec![0; 256 * 288],
        device_quality: Some(99),
    }
}

/// Walks the whole wizard, leaving the fingerprint step mid-capture and
/// coming back; returns the harness after sealing.
fn enrol() -> Harness {
    enrol_in(Harness::new())
}

/// [`enrol`] on a given station window.
fn enrol_in(mut h: Harness) -> Harness {
    h.sign_up_and_in();
    h.fill_applicant();
    h.check_documents();
    h.take_portrait();

    // Capture runs on entry; accept two fingers, then walk away mid-capture.
    while h.wizard().session.fingers.len() < 2 {
        h.wait_review().expect("a capture");
        if h.fingerprints().tenprint.can_accept(&h.wizard().session) {
            h.click(&h.tr("ui-accept-key"));
        } else {
            h.shortcut(wizard::Shortcut::Retake);
        }
    }
    let stale = h
        .wizard()
        .fingerprints
        .tenprint
        .current_stamp()
        .expect("a capture is in progress");
    let pending = h
        .wizard()
        .fingerprints
        .tenprint
        .current_impression()
        .expect("an impression")
        .fingers()[0];
    let before = h.wizard().session.fingers.len();
    h.click(&h.tr("ui-back"));
    assert_eq!(h.wizard().step, Step::Portrait);
    assert!(
        !h.wizard().fingerprints.is_running(),
        "leaving stops the capture"
    );

    // The scanner delivers the abandoned capture late: it must be ignored.
    let _ = h.app.update(Message::Wizard(wizard::Message::Fingerprints(
        wizard::FingerprintsMessage::Device(
            stale,
            DeviceEvent::Scan(ScanEvent::Captured(pishkhan_scanner::Capture {
                impression: pishkhan_scanner::Impression::Finger(pending),
                fingers: vec![late_image(pending)],
                slap: None,
            })),
        ),
    )));
    assert_eq!(
        h.wizard().session.fingers.len(),
        before,
        "stale image ignored"
    );

    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Fingerprints);
    assert_ne!(
        h.wizard().fingerprints.tenprint.current_stamp(),
        Some(stale)
    );
    h.accept_all();
    assert!(
        h.wizard().fingerprints.tenprint.stale_dropped >= 2,
        "the injected image and the cancelled capture's own report were dropped"
    );
    assert!(h.sees(&h.tr("ui-fingers-complete")));

    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Review);
    assert!(h.sees(SURNAME));
    h.click(&h.tr("ui-seal"));
    assert_eq!(h.wizard().step, Step::Done);
    let entries = h.outbox();
    assert_eq!(entries.len(), 1);
    let shown = h.app.i18n.digits(
        &pishkhan::enrolment::TrackingCode::parse(
            entries[0].tracking_code.as_deref().expect("tracking code"),
        )
        .expect("valid tracking code")
        .grouped(),
    );
    assert!(h.sees(&shown), "the done screen shows {shown}");
    h
}

/// The sealed file of a queued packet.
fn sealed_file(h: &Harness, id: &str) -> packet::SealedFile {
    match h
        .station
        .with_db(|db| outbox::stored(db, id))
        .expect("stored")
    {
        outbox::Stored::V3(file) => file,
        outbox::Stored::V2 { .. } => panic!("new packets are format 3"),
    }
}

/// Parses an ANSI/NIST file with the independent `nistitl` reader (PyPI),
/// returning its JSON view, or `None` when the reference venv is absent
/// (allowed only without `PISHKHAN_REQUIRE_REFERENCE=1`). The venv is
/// `PISHKHAN_REFERENCE_PYTHON`, else the one `installer/dev.sh test` made.
fn nistitl_parse(path: &Path) -> Option<serde_json::Value> {
    let made = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/reference-venv/bin/python");
    let python = std::env::var_os("PISHKHAN_REFERENCE_PYTHON")
        .or_else(|| made.exists().then(|| made.into_os_string()));
    let Some(python) = python else {
        assert!(
            std::env::var("PISHKHAN_REQUIRE_REFERENCE").as_deref() != Ok("1"),
            "PISHKHAN_REQUIRE_REFERENCE=1 but PISHKHAN_REFERENCE_PYTHON is not set"
        );
        eprintln!(
            "SKIPPED the nistitl cross-check: set PISHKHAN_REFERENCE_PYTHON (bash installer/dev.sh test does)"
        );
        return None;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/an2k_nistitl.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg("parse")
        .arg(path)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "nistitl refuses our transaction: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("nistitl_parse prints JSON"))
}

#[test]
fn walking_the_wizard_seals_one_verifiable_packet() {
    let h = enrol();
    let entries = h.outbox();
    assert_eq!(entries.len(), 1, "exactly one packet");
    let entry = &entries[0];
    assert!(!entry.test);
    assert_eq!(entry.status, "pending");
    assert_eq!(entry.format, 3);
    let tracking_code = entry.tracking_code.clone().expect("a local packet has one");

    // Outer signature: the header, which covers the ciphertext's hash.
    let file = sealed_file(&h, &entry.id);
    file.verify(Some(&h.station.verifying_key()))
        .expect("the station signed the header");
    assert_eq!(file.header.packet_id, entry.id);
    assert!(file.header.demo, "sealed to the demo authority");

    // Inner signature: the manifest, which covers every part.
    let identity = station::demo_identity(h.dir.path()).expect("demo identity");
    let opened = packet::open(&file, &identity).expect("decrypts with the authority key");
    opened
        .verify(&h.station.verifying_key())
        .expect("manifest signature, part hashes and the transaction verify");

    let m = &opened.manifest;
    assert_eq!(m.format, packet::FORMAT);
    assert_eq!(m.packet_id, entry.id);
    assert_eq!(m.tracking_code.as_str(), tracking_code);
    assert_eq!(m.operator, "sara");
    assert!(m.supervisors.is_empty());
    assert_eq!(m.parts.len(), 1, "only the transaction: no exceptions");

    // Our reader: the applicant in Type-2, in Persian, as normalised.
    use packet::transaction::t2;
    let tx = opened.transaction().expect("our reader takes it");
    let kinds: Vec<u8> = tx.records.iter().map(|r| r.kind).collect();
    assert_eq!(kinds[..3], [1, 2, 10]);
    assert!(kinds[3..].iter().all(|k| *k == 14));
    let type1 = &tx.records[0];
    assert_eq!(type1.text(2), Some("0502"));
    assert_eq!(type1.text(9), Some(entry.id.as_str()), "TCN = packet id");
    let type2 = &tx.records[1];
    assert_eq!(
        type2.text(t2::FIRST_NAME),
        Some(NAME),
        "Arabic yeh normalised"
    );
    assert_eq!(type2.text(t2::LAST_NAME), Some(SURNAME), "ZWNJ kept");
    assert_eq!(type2.text(t2::FATHER_NAME), Some("علی"));
    assert_eq!(type2.text(t2::NATIONAL_CODE), Some(NATIONAL_CODE));
    assert_eq!(type2.text(t2::MOBILE), Some("09123456789"));
    assert_eq!(type2.text(t2::POSTAL_CODE), Some("1345113456"));
    assert_eq!(type2.text(t2::BIRTH_DATE_JALALI), Some("13850631"));
    assert_eq!(type2.text(t2::BIRTH_DATE_GREGORIAN), Some("20060922"));
    assert_eq!(type2.text(t2::TRACKING_CODE), Some(tracking_code.as_str()));
    assert_eq!(type2.text(t2::REQUEST_TYPE), Some("FIRST"));
    let checks = type2
        .get(t2::DOCUMENT_CHECKS)
        .and_then(|v| v.as_text())
        .expect("document checks");
    assert_eq!(checks.len(), 6);
    assert!(checks.iter().all(|c| c[1] == "Y"));

    assert_eq!(m.fingers.len(), 10, "ten finger images");
    let positions: Vec<u8> = m.fingers.iter().map(|f| f.position).collect();
    assert_eq!(positions, (1..=10).collect::<Vec<u8>>());
    for finger in &m.fingers {
        let record = tx
            .records
            .iter()
            .find(|r| r.kind == 14 && r.idc() == Some(finger.idc))
            .expect("the finger's Type-14");
        assert_eq!(record.text(13), Some(finger.position.to_string().as_str()));
        assert_eq!(record.text(11), Some("WSQ20"));
        let wsq = record.get(999).and_then(|v| v.as_binary()).expect("image");
        let img = pishkhan_fingerprint::wsq::decode(wsq).expect("finger WSQ decodes");
        assert_eq!((img.image.width(), img.image.height()), (256, 288));
        assert_eq!(img.ppi, Some(500));
        assert!(
            img.image.pixels().iter().any(|&p| p > 128),
            "finger {} is not the injected all-black stale image",
            finger.position
        );
        assert!(finger.quality >= 40, "accepted normally: {finger:?}");
        assert_eq!(finger.forced_by, None);
        assert_eq!(finger.attempts, 1);
    }
    assert!(m.exceptions.is_empty());
    let face = tx.records.iter().find(|r| r.kind == 10).expect("Type-10");
    let jpeg = face.get(999).and_then(|v| v.as_binary()).expect("portrait");
    let portrait = image::load_from_memory(jpeg).expect("portrait decodes");
    // The ISO/IEC 19794-5 token image, with its eyes and quality.
    assert_eq!((portrait.width(), portrait.height()), (480, 640));
    let typed = FaceRecord::from_record(face).expect("a valid Type-10");
    assert_eq!(typed.sap, 14, "SAP: ISO token");
    assert_eq!(typed.dmm, Some(MonitoringMode::Controlled));
    assert_eq!(typed.quality.first().map(|q| q.value), Some(100));
    let capture = m.portrait.capture.as_ref().expect("capture record");
    assert_eq!(capture.mode, CaptureMode::Auto);
    assert!(capture.r#override.is_none());
    let [right, left] = capture.eyes.expect("eyes");
    let eyes = typed.eye_centres.expect("FFP eye centres");
    assert_eq!(eyes.right, (right[0], right[1]));
    assert_eq!(eyes.left, (left[0], left[1]));
    assert!(
        left[1].abs_diff(288) <= 1,
        "the eye line at 0.6 W: {left:?}"
    );

    // The independent reader agrees.
    let an2 = h.dir.path().join("check.an2");
    std::fs::write(&an2, &opened.files[packet::TRANSACTION_PATH]).expect("write");
    if let Some(parsed) = nistitl_parse(&an2) {
        let records = parsed["records"].as_array().expect("records");
        assert_eq!(records.len(), tx.records.len());
        assert_eq!(records[1]["fields"]["2.011"][0][0], NAME);
        assert_eq!(records[1]["fields"]["2.010"][0][0], NATIONAL_CODE);
        let fgps: Vec<String> = records
            .iter()
            .filter(|r| r["type"] == 14)
            .map(|r| {
                r["fields"]["14.013"][0][0]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        assert_eq!(fgps, (1..=10).map(|p| p.to_string()).collect::<Vec<_>>());
    }
    std::fs::remove_file(&an2).expect("clean up");

    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_pishkhan"))
        .args(["queue", "list", "--json"])
        .env("PISHKHAN_DATA_DIR", h.dir.path())
        .env("PISHKHAN_LOG", "warn")
        .output()
        .expect("pishkhan runs");
    assert!(listed.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["id"], entry.id.as_str());
    assert_eq!(listed[0]["tracking_code"], tracking_code.as_str());
    assert!(
        h.station.drafts_of("sara").expect("drafts").is_empty(),
        "sealing deleted the draft"
    );
}

#[test]
fn another_key_cannot_open_the_packet_and_tampering_is_caught() {
    let h = enrol();
    let entry = &h.outbox()[0];
    let mut file = sealed_file(&h, &entry.id);
    let stranger = age::x25519::Identity::generate();
    assert!(packet::open(&file, &stranger).is_err());
    let last = file.ciphertext.len() - 1;
    file.ciphertext[last] ^= 1;
    assert!(file.verify(Some(&h.station.verifying_key())).is_err());
    let identity = station::demo_identity(h.dir.path()).expect("identity");
    assert!(
        packet::open(&file, &identity).is_err(),
        "age detects the flip"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_data_dir_holds_nothing_personal_in_clear() {
    let h = enrol();
    // What the packet really contains, to be sure the needles are real.
    let opened = opened_packet(&h);
    let tx = opened.transaction().expect("reads");
    let image_of = |kind: u8| {
        tx.records
            .iter()
            .find(|r| r.kind == kind)
            .and_then(|r| r.get(999))
            .and_then(|v| v.as_binary())
            .expect("an image")
            .to_vec()
    };
    let jpeg = &image_of(10);
    const JPEG_START: &[u8] = &[0xFF, 0xD8, 0xFF];
    const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    assert!(jpeg.starts_with(JPEG_START));
    let jpeg_header = &jpeg[..16];
    let wsq = image_of(14);
    let wsq_header = &wsq[..16];
    assert!(wsq_header.starts_with(&[0xFF, 0xA0]));

    // Flush the WAL into the main file too, as at shutdown, and look at both.
    drop(h.app);
    let needles: [(&str, &[u8]); 6] = [
        ("first name", NAME.as_bytes()),
        ("last name", SURNAME.as_bytes()),
        ("national code", NATIONAL_CODE.as_bytes()),
        ("mobile", b"09123456789"),
        ("JPEG header", jpeg_header),
        ("WSQ header", wsq_header),
    ];
    let all = files(h.dir.path());
    assert!(all.iter().any(|p| p.ends_with("pishkhan.db")));
    for path in all {
        let bytes = std::fs::read(&path).expect("readable");
        for (what, needle) in needles {
            assert!(
                !contains(&bytes, needle),
                "{what} in clear in {}",
                path.display()
            );
        }
        assert!(
            !contains(&bytes, PNG_SIGNATURE),
            "a PNG in clear in {}",
            path.display()
        );
    }
}

#[test]
fn switching_language_keeps_what_was_typed() {
    let mut h = Harness::new();
    h.sign_up_and_in();
    h.click(&h.tr("ui-prereg-walk-in"));
    h.type_into("first-name", NAME);
    h.click("English");
    assert_eq!(h.app.i18n.lang(), pishkhan::i18n::Lang::En);
    assert!(h.sees("Applicant details"));
    assert!(h.sees(NAME), "the typed name survives the switch");
    h.click("فارسی");
    assert!(h.sees(&h.tr("ui-applicant-title")));
}

#[test]
fn a_broken_configuration_shows_the_not_configured_screen() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[devices]\ncamera = \"front\"\n",
    )
    .expect("write");
    let error = Station::open(dir.path()).expect_err("bad camera value");
    let app = App::new(Start {
        station: Err(error.to_string()),
        lang: Some(pishkhan::i18n::Lang::En),
        demo_step: None,
        uploads: None,
        intake: None,
    });
    let mut ui = Simulator::with_settings(pishkhan::ui::settings(), app.view());
    assert!(ui.find("The station is not configured").is_ok());
    assert!(error.to_string().contains("front"), "{error}");
}

/// Walks to the fingerprint step and lets the configured scanner fill it.
fn capture_all_with(scanner: &str) -> Harness {
    let mut h = Harness::with_scanner(scanner);
    h.sign_up_and_in();
    h.fill_applicant();
    h.check_documents();
    h.take_portrait();
    h.accept_all();
    h.click(&h.tr("ui-next"));
    h.click(&h.tr("ui-seal"));
    assert_eq!(h.wizard().step, Step::Done);
    h
}

/// The first queued packet, decrypted with the demo authority identity.
fn opened_packet(h: &Harness) -> packet::Opened {
    let entry = &h.outbox()[0];
    packet::open(
        &sealed_file(h, &entry.id),
        &station::demo_identity(h.dir.path()).expect("id"),
    )
    .expect("opens")
}

fn sealed_manifest(h: &Harness) -> packet::Manifest {
    let opened = opened_packet(h);
    opened.verify(&h.station.verifying_key()).expect("verifies");
    opened.manifest
}

#[test]
fn the_fingerprint_step_completes_with_the_zhiantec_driver() {
    let h = capture_all_with(
        "scanner = \"zfm\"\nzfm_port = \"virtual\"\nvirtual_scanner_delay_ms = 10",
    );
    let manifest = sealed_manifest(&h);
    assert_eq!(manifest.fingers.len(), 10);
    assert!(
        manifest.devices.scanner.contains("ZhianTec"),
        "{}",
        manifest.devices.scanner
    );
}

#[test]
fn the_fingerprint_step_completes_with_sbi_slaps_and_shows_previews() {
    let h = capture_all_with(
        "scanner = \"sbi\"\nsbi_service = \"virtual\"\nvirtual_scanner_delay_ms = 10",
    );
    assert!(
        h.wizard().fingerprints.previews_seen > 0,
        "live preview frames arrived"
    );
    let manifest = sealed_manifest(&h);
    assert_eq!(manifest.fingers.len(), 10);
    assert!(
        manifest.devices.scanner.contains("SBI") || manifest.devices.scanner.contains("virtual"),
        "{}",
        manifest.devices.scanner
    );
    assert!(manifest.fingers.iter().all(|f| f.device_quality.is_some()));
}
