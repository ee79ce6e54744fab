//! The ten-print workflow through the real interface with the virtual
//! devices: 4-4-2 slaps on the virtual SBI service and ten flats on the
//! virtual ZhianTec module, each with a retake, a force-accept and an XX
//! exception approved by a supervisor; a three-finger slap refused; the
//! right hand placed twice caught by the duplicate check.

use pishkhan::enrolment::tenprint::{ExceptionKind, Problem};
use pishkhan::store::accounts::{self, Role};
use pishkhan::text::Text;

use super::*;

const SBI: &str = "scanner = \"sbi\"\nsbi_service = \"virtual\"\nvirtual_scanner_delay_ms = 10";
const ZFM: &str = "scanner = \"zfm\"\nzfm_port = \"virtual\"\nvirtual_scanner_delay_ms = 10";

impl Harness {
    /// Signs in and walks to the step before the fingerprints.
    fn up_to_portrait(scanner: &str) -> Self {
        let mut h = Harness::with_scanner(scanner);
        h.sign_up_and_in();
        h.fill_applicant();
        h.check_documents();
        h
    }

    fn fingerprint_message(&mut self, message: wizard::FingerprintsMessage) {
        let _ = self
            .app
            .update(Message::Wizard(wizard::Message::Fingerprints(message)));
    }

    fn problems(&self) -> Vec<Problem> {
        self.fingerprints()
            .tenprint
            .round()
            .map(|r| r.problems.clone())
            .unwrap_or_default()
    }

    pub(crate) fn approve_as(&mut self, username: &str, password: &str) {
        // Empty the username field (a failed approval keeps what was typed).
        self.fingerprint_message(wizard::FingerprintsMessage::Dialog(
            wizard::FingerprintsDialogMessage::Username(String::new()),
        ));
        self.type_into("supervisor-username", username);
        self.type_into("supervisor-password", password);
        self.click(&self.tr("ui-approve"));
    }

    /// Declares an exception for `finger` through the form: kind, reason,
    /// photo, then the supervisor's approval.
    fn declare_exception(&mut self, finger: Finger, kind: ExceptionKind, reason: &str) {
        self.fingerprint_message(wizard::FingerprintsMessage::Exception(finger));
        assert!(self.fingerprints().dialog_open());
        // Approving an empty form explains what is missing.
        self.click(&self.tr("ui-approve"));
        assert!(self.sees(&self.tr("err-exception-kind")));
        let label = format!("{} ({})", self.tr(kind.text_id()), kind.code());
        self.click(&label);
        self.type_into("reason-input", reason);
        if kind == ExceptionKind::Unprintable {
            self.click(&self.tr("ui-temporary"));
        }
        self.click(&self.tr("ui-approve"));
        assert!(self.sees(&self.tr("err-exception-photo")), "photo required");
        let take = self.tr("ui-take-photo");
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.click(&take) == 0 {
            assert!(Instant::now() < deadline, "no camera frame for the photo");
            std::thread::sleep(Duration::from_millis(30));
            let _ = self.app.update(Message::Tick);
        }
        self.approve_as("sara", PASSWORD);
        assert!(
            !self.fingerprints().dialog_open(),
            "the supervisor's approval closes the form"
        );
        let exception = &self.wizard().session.exceptions[&finger];
        assert_eq!(exception.kind, kind);
        assert_eq!(exception.approved_by, "sara");
        assert_eq!(exception.reason, reason);
    }

    /// Retakes with R until the attempts are used, then force-accepts with
    /// the supervisor (after an operator's approval is refused).
    pub(crate) fn force_after_last_attempt(&mut self, operator: &str) -> Impression {
        let impression = loop {
            let impression = self.wait_review().expect("a capture");
            assert!(self.problems().is_empty(), "{:?}", self.problems());
            let tp = &self.fingerprints().tenprint;
            assert!(
                !tp.can_accept(&self.wizard().session),
                "a poor capture cannot be accepted normally"
            );
            // Enter refuses and says why.
            self.shortcut(wizard::Shortcut::Accept);
            assert!(self.fingerprints().tenprint.round().is_some());
            if self.fingerprints().tenprint.can_retake() {
                self.shortcut(wizard::Shortcut::Retake);
            } else {
                break impression;
            }
        };
        let round = self.fingerprints().tenprint.round().expect("round");
        assert_eq!(round.quality_attempts, 3, "three attempts before forcing");
        self.click(&self.tr("ui-force-key"));
        assert!(self.fingerprints().dialog_open());
        self.approve_as(operator, PASSWORD);
        assert!(self.sees(&self.tr("err-not-supervisor")));
        self.approve_as("sara", PASSWORD);
        assert!(!self.fingerprints().dialog_open());
        impression
    }

    fn add_operator(&self, username: &str) {
        self.station
            .with_db(|db| accounts::create(db, username, "اپراتور", Role::Operator, PASSWORD, None))
            .expect("operator account");
    }

    pub(crate) fn seal(&mut self) -> packet::Opened {
        assert!(self.sees(&self.tr("ui-fingers-complete")));
        self.click(&self.tr("ui-next"));
        assert_eq!(self.wizard().step, Step::Review);
        // The review names every exception and every forced finger.
        let mut lines = Vec::new();
        for (finger, e) in &self.wizard().session.exceptions {
            lines.push(
                Text::new("ui-review-exception")
                    .arg("finger", self.tr(wizard_finger(*finger)))
                    .arg("kind", self.tr(e.kind.text_id()))
                    .arg("reason", e.reason.clone())
                    .arg("supervisor", e.approved_by.clone()),
            );
        }
        for (finger, supervisor) in self.wizard().session.forced_fingers() {
            lines.push(
                Text::new("ui-review-forced")
                    .arg("finger", self.tr(wizard_finger(finger)))
                    .arg("supervisor", supervisor.to_owned()),
            );
        }
        for line in lines {
            let shown = self.app.i18n.text(&line);
            assert!(self.sees(&shown), "the review shows {shown}");
        }
        self.click(&self.tr("ui-seal"));
        assert_eq!(self.wizard().step, Step::Done);
        let opened = opened_packet(self);
        opened
            .verify(&self.station.verifying_key())
            .expect("the packet verifies");
        opened
    }
}

/// Accepts the impression under review, retaking it while a finger is
/// below the threshold (a light touch happens to synthetic applicants too).
fn accept_current(h: &mut Harness) {
    let impression = h.wait_review().expect("a capture");
    loop {
        let tp = &h.fingerprints().tenprint;
        if tp.can_accept(&h.wizard().session) {
            h.click(&h.tr("ui-accept-key"));
            return;
        }
        assert!(tp.can_retake(), "{impression:?} stays below the threshold");
        h.shortcut(wizard::Shortcut::Retake);
        assert_eq!(h.wait_review(), Some(impression));
    }
}

fn wizard_finger(finger: Finger) -> &'static str {
    pishkhan::ui::wizard::finger_text_id(finger)
}

/// The Type-14 record `idc` of the packet's transaction.
fn finger_record(opened: &packet::Opened, idc: u8) -> pishkhan_an2k::records::FingerRecord {
    let tx = opened.transaction().expect("the transaction reads");
    let record = tx
        .records
        .iter()
        .find(|r| r.kind == 14 && r.idc() == Some(idc))
        .unwrap_or_else(|| panic!("no Type-14 with IDC {idc}"));
    pishkhan_an2k::records::FingerRecord::from_record(record).expect("a valid Type-14")
}

fn check_packet(opened: &packet::Opened, forced: &[u8], exception: u8) {
    let m = &opened.manifest;
    assert_eq!(m.fingers.len(), 9, "nine images and one exception");
    for f in &m.fingers {
        let record = finger_record(opened, f.idc);
        assert_eq!(record.fgp, f.position);
        let image = record.image.expect("an image");
        assert_eq!(image.compression.code(), "WSQ20");
        let decoded = pishkhan_fingerprint::wsq::decode(&image.data).expect("finger WSQ decodes");
        assert_eq!(decoded.image.width() as u32, f.width);
        let fqm = record
            .fqm
            .first()
            .expect("the station's quality travels as FQM");
        assert_eq!((fqm.fgp, fqm.score.value), (f.position, f.quality));
        if forced.contains(&f.position) {
            assert_eq!(f.forced_by.as_deref(), Some("sara"), "{f:?}");
            assert!(f.quality < 40, "{f:?}");
            assert_eq!(f.attempts, 3);
        } else {
            assert_eq!(f.forced_by, None, "{f:?}");
            assert!(f.quality >= 40, "{f:?}");
        }
    }
    assert_eq!(m.exceptions.len(), 1);
    let e = &m.exceptions[0];
    assert_eq!((e.position, e.code.as_str()), (exception, "XX"));
    assert!(e.permanent);
    assert_eq!(e.approved_by, "sara");
    let photo = image::load_from_memory(&opened.files[&e.photo]).expect("photo decodes");
    assert!(photo.width() >= 320);
    assert_eq!(m.supervisors, ["sara"]);
    // The missing finger is a Type-14 with AMP and no image.
    let record = finger_record(opened, e.idc);
    assert_eq!(record.fgp, exception);
    assert!(record.image.is_none());
    assert_eq!(record.amp.len(), 1);
    assert_eq!(record.amp[0].0, exception);
    assert_eq!(record.amp[0].1.code(), "XX");
}

#[test]
fn four_four_two_on_the_virtual_sbi_device_with_retake_force_accept_and_exception() {
    let mut h = Harness::up_to_portrait(SBI);
    h.add_operator("reza");
    let sbi = h
        .devices
        .virtual_sbi_control()
        .expect("the station runs the virtual SBI device");
    // The right slap comes out poor on every attempt.
    sbi.update(|k| k.poor_captures = 3);
    h.take_portrait();
    assert!(h.sees(&h.tr("ui-plan-slaps")));

    assert_eq!(
        h.wait_review(),
        Some(Impression::RightSlap),
        "4-4-2 starts with the right hand"
    );
    // The left hand then forgets the middle finger (FGP 8), undeclared.
    sbi.update(|k| k.missing_positions = vec![8]);
    assert_eq!(h.force_after_last_attempt("reza"), Impression::RightSlap);
    let forced: Vec<u8> = {
        let forced = h.wizard().session.forced_fingers();
        assert!(!forced.is_empty() && forced.iter().all(|(_, by)| *by == "sara"));
        forced.iter().map(|(f, _)| f.position()).collect()
    };

    assert_eq!(h.wait_review(), Some(Impression::LeftSlap));
    let problems = h.problems();
    assert!(
        problems.contains(&Problem::Count {
            expected: 4,
            found: 3
        }),
        "{problems:?}"
    );
    let message = h.app.i18n.text(
        &Text::new("err-finger-count")
            .arg("expected", "4")
            .arg("found", "3")
            .arg("impression", h.tr("impression-left-slap")),
    );
    assert!(h.sees(&message), "the refusal explains itself: {message}");
    assert_eq!(h.click(&h.tr("ui-accept-key")), 0, "accept is disabled");
    sbi.update(|k| k.missing_positions.clear());
    h.click(&h.tr("ui-retake-key"));
    assert_eq!(h.wait_review(), Some(Impression::LeftSlap));
    assert!(h.problems().is_empty(), "{:?}", h.problems());
    let round = h.fingerprints().tenprint.round().expect("round");
    assert_eq!(
        (round.attempts, round.quality_attempts),
        (2, 1),
        "the refused attempt does not count towards the limit"
    );
    accept_current(&mut h);
    assert_eq!(h.wizard().session.fingers.len(), 8);

    // The left thumb is missing: XX, approved by the supervisor; the thumbs
    // are then taken without it.
    h.declare_exception(Finger::LeftThumb, ExceptionKind::Missing, "قطع از بند اول");
    assert_eq!(h.wait_review(), Some(Impression::Thumbs));
    let round = h.fingerprints().tenprint.round().expect("round");
    assert_eq!(
        round.best.keys().copied().collect::<Vec<_>>(),
        [Finger::RightThumb]
    );
    accept_current(&mut h);
    assert_eq!(h.wait_review(), None);

    let opened = h.seal();
    check_packet(&opened, &forced, 6);
    let slaps: Vec<u8> = opened.manifest.slaps.iter().map(|s| s.position).collect();
    assert_eq!(slaps, [13, 14, 15], "the whole slaps travel too");
    for slap in &opened.manifest.slaps {
        let record = finger_record(&opened, slap.idc);
        assert_eq!(record.fgp, slap.position);
        let image = record.image.as_ref().expect("the slap image");
        pishkhan_fingerprint::wsq::decode(&image.data).expect("slap WSQ");
        let expected = if slap.position == 15 { 1 } else { 4 };
        assert_eq!(slap.segments.len(), expected, "{slap:?}");
        assert_eq!(record.seg.len(), expected, "SEG boxes in the record");
        let amp: Vec<(u8, &str)> = record.amp.iter().map(|(f, c)| (*f, c.code())).collect();
        if slap.position == 15 {
            // The left thumb is missing: the thumbs slap says so (AMP).
            assert_eq!(amp, [(6, "XX")]);
        } else {
            assert!(amp.is_empty(), "{amp:?}");
        }
    }
}

#[test]
fn ten_flats_on_the_virtual_serial_module_with_retake_force_accept_and_exception() {
    let mut h = Harness::up_to_portrait(ZFM);
    h.add_operator("reza");
    let zfm = h
        .devices
        .virtual_zfm_control()
        .expect("the station runs the virtual module");
    // The right thumb comes out poor three times.
    zfm.update(|k| k.poor_captures = 3);
    h.take_portrait();
    assert!(h.sees(&h.tr("ui-plan-flats")));
    // The left little finger is missing: declared before it is reached.
    h.declare_exception(Finger::LeftLittle, ExceptionKind::Missing, "مادرزادی");

    assert_eq!(
        h.force_after_last_attempt("reza"),
        Impression::Finger(Finger::RightThumb)
    );
    // The right index is poor once: retaken with R, then good.
    zfm.update(|k| k.poor_captures = 1);
    assert_eq!(
        h.wait_review(),
        Some(Impression::Finger(Finger::RightIndex))
    );
    assert!(!h.fingerprints().tenprint.can_accept(&h.wizard().session));
    h.shortcut(wizard::Shortcut::Retake);
    assert_eq!(
        h.wait_review(),
        Some(Impression::Finger(Finger::RightIndex))
    );
    let round = h.fingerprints().tenprint.round().expect("round");
    assert_eq!(round.quality_attempts, 2);
    assert!(round.attempts == 2 && round.problems.is_empty());
    // The best of the attempts is kept; accept it (or retake once more if
    // the applicant pressed too lightly again).
    h.accept_all();
    let index = &h.wizard().session.fingers[&Finger::RightIndex];
    assert!(index.attempts >= 2 && index.forced_by.is_none());

    assert!(
        !h.wizard().session.fingers.contains_key(&Finger::LeftLittle),
        "no image for the excepted finger"
    );
    let opened = h.seal();
    check_packet(&opened, &[1], 10);
    assert!(opened.manifest.slaps.is_empty());
}

#[test]
fn the_right_hand_placed_twice_is_caught_by_the_duplicate_check() {
    let mut h = Harness::up_to_portrait(SBI);
    let sbi = h.devices.virtual_sbi_control().expect("virtual SBI");
    h.take_portrait();
    assert_eq!(h.wait_review(), Some(Impression::RightSlap));
    sbi.update(|k| k.hand_twice = true);
    accept_current(&mut h);
    assert_eq!(h.wait_review(), Some(Impression::LeftSlap));
    let duplicates: Vec<(Finger, Finger)> = h
        .problems()
        .iter()
        .filter_map(|p| match p {
            Problem::Duplicate {
                finger, matches, ..
            } => Some((*finger, *matches)),
            _ => None,
        })
        .collect();
    assert!(
        duplicates.len() >= 3,
        "most of the left slap matches the right hand: {:?}",
        h.problems()
    );
    assert!(
        duplicates
            .iter()
            .all(|(f, m)| f.position() > 5 && m.position() <= 5),
        "{duplicates:?}"
    );
    let shown = wizard::problem_text(
        &h.problems()
            .into_iter()
            .find(|p| matches!(p, Problem::Duplicate { .. }))
            .expect("a duplicate"),
        Impression::LeftSlap,
        &h.app.i18n,
    );
    assert!(h.sees(&h.app.i18n.text(&shown)), "explained on screen");
    assert_eq!(h.click(&h.tr("ui-accept-key")), 0, "accept is disabled");
    // Placing the left hand fixes it.
    sbi.update(|k| k.hand_twice = false);
    h.shortcut(wizard::Shortcut::Retake);
    assert_eq!(h.wait_review(), Some(Impression::LeftSlap));
    assert!(h.problems().is_empty(), "{:?}", h.problems());
}

/// Writes `docs/screens/{fa,en}-4c-exception.png`: the exception form with
/// its photo taken, as the operator sees it (headless tiny-skia render at
/// twice the size). Run by `docs/screens/make.sh`.
#[test]
#[ignore = "writes documentation screenshots; run by docs/screens/make.sh"]
fn write_exception_form_screens() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screens");
    for lang in ["fa", "en"] {
        let mut h = Harness::up_to_portrait(SBI);
        if lang == "en" {
            h.click("English");
        }
        h.take_portrait();
        h.wait_review().expect("a capture");
        h.fingerprint_message(wizard::FingerprintsMessage::Exception(Finger::RightRing));
        let kind = ExceptionKind::Unprintable;
        h.click(&format!("{} ({})", h.tr(kind.text_id()), kind.code()));
        let reason = if lang == "fa" {
            "باند پس از بریدگی"
        } else {
            "bandaged after a cut"
        };
        h.type_into("reason-input", reason);
        h.click(&h.tr("ui-temporary"));
        let take = h.tr("ui-take-photo");
        let deadline = Instant::now() + Duration::from_secs(20);
        while h.click(&take) == 0 {
            assert!(Instant::now() < deadline, "no camera frame for the photo");
            std::thread::sleep(Duration::from_millis(30));
            let _ = h.app.update(Message::Tick);
        }
        h.type_into("supervisor-username", "sara");
        let theme = h.app.theme();
        let mut ui = Simulator::with_size(
            pishkhan::ui::settings(),
            Size::new(1280.0, 1250.0),
            h.app.view(),
        );
        let snapshot = ui.snapshot(&theme).expect("render");
        let path = out.join(format!("{lang}-4c-exception"));
        for old in std::fs::read_dir(&out).expect("docs/screens").flatten() {
            if old
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("{lang}-4c-exception"))
            {
                std::fs::remove_file(old.path()).expect("remove the old screen");
            }
        }
        assert!(snapshot.matches_image(&path).expect("written"));
    }
}
