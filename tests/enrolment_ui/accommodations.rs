//! Accommodations for applicants with mobility disabilities (mobile
//! teams): one click each prepares the portrait override and the finger
//! exceptions, the supervisor still approves, and the packet records them.
//! And the high-contrast display with larger targets, kept in the
//! configuration.

use super::*;
use pishkhan::enrolment::portrait::{OverrideReason, Posture};
use pishkhan::enrolment::tenprint::ExceptionKind;
use pishkhan::enrolment::{Accommodation, Accommodations};

impl Harness {
    /// Lets the portrait step analyse a few frames of the camera.
    fn let_portrait_analyse(&mut self) {
        self.tick_until("an analysed frame", |h| {
            h.wizard().portrait_analysis().is_some()
        });
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(15));
            let _ = self.app.update(Message::Tick);
        }
    }

    /// Takes the waist-up photo of an open exception form.
    fn take_exception_photo(&mut self) {
        let take = self.tr("ui-take-photo");
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.click(&take) == 0 {
            assert!(Instant::now() < deadline, "no camera frame for the photo");
            std::thread::sleep(Duration::from_millis(30));
            let _ = self.app.update(Message::Tick);
        }
    }
}

#[test]
fn a_seated_applicant_with_a_carer_is_taken_by_override_in_one_click() {
    // The seated synthetic applicant sits low and aside: the checks fail.
    let mut h = Harness::with_camera("synthetic-seated");
    h.sign_up_and_in();
    h.fill_applicant();
    assert_eq!(h.wizard().step, Step::Documents);

    // On the documents check, with the applicant in front of them, the
    // operator chooses: seated, carer present, cannot sign, fingers.
    assert!(h.sees(&h.tr("accommodations-title")));
    for a in [
        Accommodation::SeatedPortrait,
        Accommodation::Carer,
        Accommodation::SignatureNotPossible,
        Accommodation::FingersCannotBePlaced,
    ] {
        h.click(&h.tr(a.text_id()));
    }
    let chosen = &h.wizard().session.accommodations;
    assert_eq!(chosen.posture(), Some(Posture::Seated));
    assert!(chosen.assisted());
    assert!(chosen.contains(Accommodation::SignatureNotPossible));
    // Lying replaces seated; a second click takes it back.
    h.click(&h.tr("accommodation-lying"));
    assert_eq!(
        h.wizard().session.accommodations.posture(),
        Some(Posture::Lying)
    );
    h.click(&h.tr("accommodation-seated"));
    assert_eq!(
        h.wizard().session.accommodations.posture(),
        Some(Posture::Seated)
    );
    h.check_documents();

    // The portrait step still shows them, and "take anyway" opens the
    // override form already filled in.
    h.let_portrait_analyse();
    assert!(h.wizard().session.portrait.is_none());
    assert!(h.sees(&h.tr("accommodations-title")));
    h.click(&h.tr("portrait-capture-override"));
    assert!(h.sees(&h.tr("portrait-override-title")));
    assert!(h.sees(&h.tr("portrait-override-prefilled")));

    // Approving without a supervisor's sign-in is still refused; the
    // reason is not what is missing.
    h.click(&h.tr("portrait-override-approve"));
    assert!(
        h.wizard().session.portrait.is_none(),
        "no sign-in, no photo"
    );
    assert!(!h.sees(&h.tr("portrait-err-no-reason")));
    super::portrait::approve_override(&mut h);
    let capture = h
        .wizard()
        .session
        .portrait
        .as_ref()
        .and_then(|p| p.face.clone())
        .expect("taken by override");
    assert_eq!(capture.mode, CaptureMode::Override);
    let o = capture.r#override.as_ref().expect("the override");
    assert_eq!(
        (o.reason, o.posture, o.assisted),
        (OverrideReason::Posture, Posture::Seated, true)
    );
    assert_eq!(o.approved_by, "sara");
    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Fingerprints);

    // Fingers that cannot be placed: pick two, one click opens one
    // exception form for both, unable to print, with the reason written.
    assert!(h.sees(&h.tr("ui-unplaceable-title")));
    for finger in [Finger::LeftRing, Finger::LeftLittle] {
        h.click(&h.tr(wizard::finger_text_id(finger)));
    }
    h.click(&h.tr("ui-unplaceable-declare"));
    assert!(h.fingerprints().dialog_open());
    let reason = h.tr("ui-unplaceable-reason");
    h.click(&h.tr("ui-temporary"));
    h.take_exception_photo();
    h.approve_as("sara", PASSWORD);
    assert!(!h.fingerprints().dialog_open(), "approved");
    let exceptions = &h.wizard().session.exceptions;
    assert_eq!(
        exceptions.keys().copied().collect::<Vec<_>>(),
        [Finger::LeftRing, Finger::LeftLittle]
    );
    for e in exceptions.values() {
        assert_eq!(e.kind, ExceptionKind::Unprintable);
        assert_eq!(e.reason, reason);
        assert_eq!(e.approved_by, "sara");
    }
    h.accept_all();
    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Review);
    assert!(h.sees(&format!("{}:", h.tr("ui-accommodations"))));
    h.click(&h.tr("ui-seal"));
    assert_eq!(h.wizard().step, Step::Done);

    // The sealed manifest records the override and the accommodations.
    let opened = opened_packet(&h);
    opened.verify(&h.station.verifying_key()).expect("verifies");
    let m = &opened.manifest;
    let sealed = m.portrait.capture.as_ref().expect("capture record");
    assert_eq!(sealed.mode, CaptureMode::Override);
    let o = sealed.r#override.as_ref().expect("the override");
    assert_eq!(o.reason, OverrideReason::Posture);
    assert_eq!(o.posture, Posture::Seated);
    assert!(o.assisted);
    assert_eq!(o.approved_by, "sara");
    let expected: Accommodations = [
        Accommodation::SeatedPortrait,
        Accommodation::Carer,
        Accommodation::FingersCannotBePlaced,
        Accommodation::SignatureNotPossible,
    ]
    .into_iter()
    .collect();
    assert_eq!(m.accommodations, expected);
    let positions: Vec<(u8, &str)> = m
        .exceptions
        .iter()
        .map(|e| (e.position, e.code.as_str()))
        .collect();
    assert_eq!(positions, [(9, "UP"), (10, "UP")]);
    let json = serde_json::to_value(m).expect("json");
    assert_eq!(
        json["accommodations"],
        serde_json::json!([
            "seated-portrait",
            "carer",
            "fingers-cannot-be-placed",
            "signature-not-possible"
        ])
    );
}

#[test]
fn high_contrast_switches_the_theme_and_stays_in_the_configuration() {
    let mut h = Harness::new();
    assert!(!h.app.high_contrast);
    assert_eq!(h.app.theme(), iced::Theme::Light);
    assert_eq!(h.app.scale_factor(), 1.0);
    h.sign_up_and_in();

    h.click(&h.tr("ui-high-contrast"));
    assert!(h.app.high_contrast);
    let palette = h.app.theme().palette();
    assert_eq!(palette.background, iced::Color::BLACK);
    assert_eq!(palette.text, iced::Color::WHITE);
    assert!(palette.text.relative_contrast(palette.background) >= 4.5);
    assert!(h.app.scale_factor() > 1.0, "larger text and targets");
    assert!(
        h.sees(&h.tr("ui-normal-contrast")),
        "the button says how back"
    );

    // Written to pishkhan.toml, with the rest of the file kept, and
    // audited as a settings change by the operator.
    let file = std::fs::read_to_string(h.dir.path().join("pishkhan.toml")).expect("config");
    assert!(file.contains("high_contrast = true"), "{file}");
    assert!(file.contains("camera = \"synthetic\""), "{file}");
    let events = h
        .station
        .with_db(pishkhan::store::audit::list)
        .expect("audit");
    assert!(
        events.iter().any(|e| e.action == "settings-changed"
            && e.actor == "sara"
            && e.subject.as_deref() == Some("display.high_contrast")
            && e.detail.as_deref().is_some_and(|d| d.contains("true"))),
        "{events:#?}"
    );

    // The kit starts in it next time.
    let Harness { dir, .. } = h;
    let mut h = Harness::open(dir);
    assert!(h.app.high_contrast);
    assert_eq!(h.app.theme().palette().background, iced::Color::BLACK);

    // And back.
    h.click(&h.tr("ui-normal-contrast"));
    assert!(!h.app.high_contrast);
    assert_eq!(h.app.theme(), iced::Theme::Light);
    let file = std::fs::read_to_string(h.dir.path().join("pishkhan.toml")).expect("config");
    assert!(file.contains("high_contrast = false"), "{file}");
}

/// Writes the accommodations screens: the portrait step of the seated
/// applicant with seated and carer chosen
/// (`docs/screens/{fa,en}-3e-accommodations`) and the documents step in
/// high contrast (`-2c-high-contrast`), all `-tiny-skia.png`. Run by
/// `docs/screens/make.sh`.
#[test]
#[ignore = "writes documentation screenshots; run by docs/screens/make.sh"]
fn write_accommodation_screens() {
    for lang in ["fa", "en"] {
        let mut h = Harness::with_camera("synthetic-seated");
        h.sign_up_and_in();
        if lang == "en" {
            h.click("English");
        }
        h.fill_applicant();
        h.click(&h.tr("accommodation-seated"));
        h.click(&h.tr("accommodation-carer"));
        h.click(&h.tr("ui-high-contrast"));
        h.screen_scaled(&format!("{lang}-2c-high-contrast"), 1000.0);
        h.click(&h.tr("ui-normal-contrast"));
        h.check_documents();
        h.let_portrait_analyse();
        h.screen(&format!("{lang}-3e-accommodations"), 1100.0);
    }
}
