//! The live portrait: the automatic capture is walked by every test that
//! seals (`Harness::take_portrait`); here, an applicant who cannot meet
//! the photo rules, taken by override with a supervisor's approval.

use super::*;
use pishkhan::enrolment::portrait::{OverrideReason, Posture};

/// The supervisor approves the open override form: a wrong password is
/// refused and takes nothing, the right one takes the portrait.
pub(super) fn approve_override(h: &mut Harness) {
    h.type_into("supervisor-username", "sara");
    h.type_into("supervisor-password", "not the password");
    h.click(&h.tr("portrait-override-approve"));
    assert!(h.sees(&h.tr("err-wrong-credentials")));
    assert!(h.wizard().session.portrait.is_none());
    h.type_into("supervisor-password", PASSWORD);
    h.click(&h.tr("portrait-override-approve"));
}

#[test]
fn a_seated_applicant_is_taken_by_override_and_the_reasons_are_sealed() {
    // The seated synthetic applicant sits low and off-centre, as in a
    // wheelchair before the backdrop: the checks never all pass.
    let mut h = Harness::with_camera("synthetic-seated");
    h.sign_up_and_in();
    h.fill_applicant();
    h.check_documents();
    let take_anyway = h.tr("portrait-capture-override");
    h.tick_until("an analysed frame", |h| {
        h.wizard().portrait_analysis().is_some()
    });
    for _ in 0..30 {
        std::thread::sleep(Duration::from_millis(15));
        let _ = h.app.update(Message::Tick);
    }
    assert!(
        h.wizard().session.portrait.is_none(),
        "no automatic capture while checks fail"
    );
    let failed = h.wizard().portrait_analysis().expect("analysed");
    assert!(!failed.passed());
    let first = failed.first_failure().expect("a failing check");
    assert!(h.sees(&h.tr(pishkhan::portrait::live::instruction(first))));

    // Take anyway: the form asks for a reason before the supervisor.
    h.click(&take_anyway);
    assert!(h.sees(&h.tr("portrait-override-title")));
    h.click(&h.tr("portrait-override-approve"));
    assert!(h.sees(&h.tr("portrait-err-no-reason")));
    assert!(h.wizard().session.portrait.is_none());

    h.click(&h.tr(OverrideReason::Posture.text_id()));
    h.click(&h.tr(Posture::Seated.text_id()));
    h.click(&h.tr("portrait-assisted"));
    h.type_into("portrait-override-note", "در ویلچر، با کمک همراه");
    // An operator is not a supervisor: a wrong password is refused.
    approve_override(&mut h);

    let capture = h
        .wizard()
        .session
        .portrait
        .as_ref()
        .and_then(|p| p.face.clone())
        .expect("taken by override");
    assert_eq!(capture.mode, CaptureMode::Override);
    assert!(!capture.compliant());
    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Fingerprints);
    h.accept_all();
    h.click(&h.tr("ui-next"));
    h.click(&h.tr("ui-seal"));
    assert_eq!(h.wizard().step, Step::Done);

    // The reasons travel in the sealed packet.
    let opened = opened_packet(&h);
    opened.verify(&h.station.verifying_key()).expect("verifies");
    let m = &opened.manifest;
    let sealed = m.portrait.capture.as_ref().expect("capture record");
    assert_eq!(sealed.mode, CaptureMode::Override);
    let o = sealed.r#override.as_ref().expect("the override");
    assert_eq!(o.reason, OverrideReason::Posture);
    assert_eq!(o.posture, Posture::Seated);
    assert!(o.assisted);
    assert_eq!(o.note, "در ویلچر، با کمک همراه");
    assert_eq!(o.approved_by, "sara");
    assert!(m.supervisors.contains(&"sara".to_owned()));
    assert_eq!(sealed.failed(), capture.failed());
    let tx = opened.transaction().expect("reads");
    let face = tx.records.iter().find(|r| r.kind == 10).expect("Type-10");
    let typed = FaceRecord::from_record(face).expect("a valid Type-10");
    assert_eq!(typed.sap, 0, "not claimed to be an ISO token image");
    assert_eq!(typed.dmm, Some(MonitoringMode::Assisted));
    assert!(typed.quality.first().is_some_and(|q| q.value < 100));

    // The approval is in the station's audit log, whose chain holds.
    let events = h
        .station
        .with_db(pishkhan::store::audit::list)
        .expect("audit");
    assert!(
        events.iter().any(|e| e.action == "override-approved"
            && e.actor == "sara"
            && e.subject.as_deref() == Some(m.packet_id.as_str())
            && e.detail.as_deref() == Some("portrait-override posture")),
        "{events:#?}"
    );
    pishkhan::store::audit::verify(&events, &h.station.verifying_key()).expect("intact");
}

/// Writes the portrait screens in Persian and English: the live preview
/// of the seated applicant with its guide and instruction
/// (`docs/screens/{fa,en}-3b-portrait-live`), the override form filled in
/// (`-3c-portrait-override`), and the portrait taken by itself from the
/// demo camera (`-3d-portrait-auto`), all `-tiny-skia.png`. Run by
/// `docs/screens/make.sh`.
#[test]
#[ignore = "writes documentation screenshots; run by docs/screens/make.sh"]
fn write_portrait_screens() {
    for lang in ["fa", "en"] {
        let mut h = Harness::with_camera("synthetic-seated");
        h.sign_up_and_in();
        if lang == "en" {
            h.click("English");
        }
        h.fill_applicant();
        h.check_documents();
        h.tick_until("an analysed frame", |h| {
            h.wizard().portrait_analysis().is_some()
        });
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(15));
            let _ = h.app.update(Message::Tick);
        }
        h.screen(&format!("{lang}-3b-portrait-live"), 1050.0);
        h.click(&h.tr("portrait-capture-override"));
        h.click(&h.tr(OverrideReason::Posture.text_id()));
        h.click(&h.tr(Posture::Seated.text_id()));
        h.click(&h.tr("portrait-assisted"));
        h.type_into("supervisor-username", "sara");
        h.screen(&format!("{lang}-3c-portrait-override"), 1400.0);

        let mut h = Harness::with_camera("synthetic");
        h.sign_up_and_in();
        if lang == "en" {
            h.click("English");
        }
        h.fill_applicant();
        h.check_documents();
        h.tick_until("the automatic portrait", |h| {
            h.wizard().session.portrait.is_some()
        });
        h.screen(&format!("{lang}-3d-portrait-auto"), 900.0);
    }
}
