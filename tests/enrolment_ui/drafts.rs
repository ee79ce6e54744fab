//! An enrolment survives the station stopping: a draft is saved after every
//! completed step and offered at the operator's next sign-in, to resume or
//! to abandon with a reason.

use super::*;
use pishkhan::store::audit;

impl Harness {
    /// The station "restarts": the window and the station are gone (as
    /// after a crash or a flat battery) and open again on the same data
    /// directory.
    fn restart(self) -> Self {
        let Harness { dir, .. } = self;
        Harness::open(dir)
    }

    fn sign_in(&mut self) {
        assert!(matches!(self.app.screen, Screen::SignIn(_)));
        self.type_into("sign-in-username", "sara");
        self.type_into("sign-in-password", PASSWORD);
        self.click(&self.tr("ui-sign-in"));
    }
}

#[test]
fn an_enrolment_cut_off_at_the_fingerprints_resumes_after_a_restart_and_seals() {
    let mut h = Harness::new();
    h.sign_up_and_in();
    h.fill_applicant();
    let after_applicant = h.station.drafts_of("sara").expect("drafts");
    assert_eq!(after_applicant.len(), 1, "saved after the applicant step");
    assert_eq!(after_applicant[0].step, "applicant");
    h.check_documents();
    h.take_portrait();
    let id = h.wizard().session.id.to_string();
    let saved = h.station.drafts_of("sara").expect("drafts");
    assert_eq!(saved.len(), 1, "one draft per enrolment");
    assert_eq!(
        (saved[0].id.as_str(), saved[0].step.as_str()),
        (id.as_str(), "portrait")
    );

    let mut h = h.restart();
    h.sign_in();
    assert!(
        matches!(h.app.screen, Screen::Drafts(_)),
        "the draft is offered"
    );
    assert!(h.sees(&h.tr("ui-drafts-title")));
    assert!(h.sees(&h.tr("step-portrait")), "it says how far it got");
    assert!(
        h.sees(&format!("{NAME} {SURNAME}")),
        "it says whose enrolment it is"
    );
    assert!(h.sees(&h.app.i18n.digits(NATIONAL_CODE)));
    h.click(&h.tr("ui-draft-resume"));
    assert_eq!(
        h.wizard().step,
        Step::Fingerprints,
        "resumes after the portrait"
    );
    let session = &h.wizard().session;
    assert_eq!(session.id.to_string(), id, "the same enrolment");
    let applicant = session.applicant.as_ref().expect("applicant restored");
    assert_eq!(applicant.last_name, SURNAME);
    assert_eq!(session.documents.confirmed.len(), 6);
    assert!(session.portrait.is_some(), "portrait restored");

    h.accept_all();
    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Review);
    assert_eq!(
        h.station.drafts_of("sara").expect("drafts")[0].step,
        "fingerprints",
        "saved again after the fingerprints"
    );
    // Back on the form, the restored applicant is there to edit.
    let _ = h
        .app
        .update(Message::Wizard(wizard::Message::GoTo(Step::Applicant)));
    assert!(h.sees(SURNAME));
    h.click(&h.tr("ui-next"));
    assert_eq!(
        h.wizard().step,
        Step::Documents,
        "the restored form validates"
    );
    let _ = h
        .app
        .update(Message::Wizard(wizard::Message::GoTo(Step::Review)));
    assert_eq!(h.wizard().step, Step::Review);
    h.click(&h.tr("ui-seal"));
    assert_eq!(h.wizard().step, Step::Done);
    let entries = h.outbox();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, id, "the packet id is the draft's");
    assert!(h.station.drafts_of("sara").expect("drafts").is_empty());
    let actions: Vec<String> = h
        .station
        .with_db(audit::list)
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"draft-resumed".to_owned()), "{actions:?}");
    assert!(actions.contains(&"packet-sealed".to_owned()), "{actions:?}");
}

#[test]
fn a_draft_is_abandoned_only_with_a_reason_and_a_supervisor_and_both_are_audited() {
    let mut h = Harness::new();
    h.sign_up_and_in();
    h.fill_applicant();
    let id = h.wizard().session.id.to_string();
    let mut h = h.restart();
    h.sign_in();
    assert!(matches!(h.app.screen, Screen::Drafts(_)));
    h.click(&h.tr("ui-draft-abandon"));
    assert!(h.sees(&h.tr("err-draft-reason")), "a reason is required");
    assert_eq!(h.station.drafts_of("sara").expect("drafts").len(), 1);
    h.type_into("draft-abandon-reason", "متقاضی منصرف شد");
    h.click(&h.tr("ui-draft-abandon"));
    assert!(
        h.sees(&h.tr("err-wrong-credentials")),
        "a supervisor must approve"
    );
    assert_eq!(h.station.drafts_of("sara").expect("drafts").len(), 1);
    h.type_into("supervisor-username", "sara");
    h.type_into("supervisor-password", PASSWORD);
    h.click(&h.tr("ui-draft-abandon"));
    assert_eq!(h.wizard().step, Step::Applicant, "on to a new enrolment");
    assert_ne!(h.wizard().session.id.to_string(), id);
    assert!(h.station.drafts_of("sara").expect("drafts").is_empty());
    let events = h.station.with_db(audit::list).expect("audit");
    let abandoned = events
        .iter()
        .find(|e| e.action == "draft-abandoned")
        .expect("audited");
    assert_eq!(abandoned.actor, "sara");
    assert_eq!(abandoned.subject.as_deref(), Some(id.as_str()));
    assert_eq!(abandoned.detail.as_deref(), Some("متقاضی منصرف شد"));
    let approved = events
        .iter()
        .find(|e| e.action == "override-approved")
        .expect("the approval is audited");
    assert_eq!(
        (approved.actor.as_str(), approved.subject.as_deref()),
        ("sara", Some(id.as_str()))
    );
    assert_eq!(approved.detail.as_deref(), Some("draft-abandoned"));
}

/// Writes docs/screens/{fa,en}-1b-drafts-tiny-skia.png (run with
/// `--ignored` after changing the drafts screen).
#[test]
#[ignore = "writes documentation screenshots"]
fn write_drafts_screens() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screens");
    for lang in ["fa", "en"] {
        let mut h = Harness::new();
        h.sign_up_and_in();
        h.fill_applicant();
        h.check_documents();
        let mut h = h.restart();
        if lang == "en" {
            h.click("English");
        }
        h.sign_in();
        assert!(matches!(h.app.screen, Screen::Drafts(_)));
        let theme = h.app.theme();
        let mut ui = Simulator::with_size(
            pishkhan::ui::settings(),
            Size::new(1280.0, 860.0),
            h.app.view(),
        );
        let snapshot = ui.snapshot(&theme).expect("render");
        let name = format!("{lang}-1b-drafts");
        for old in std::fs::read_dir(&out).expect("docs/screens").flatten() {
            if old.file_name().to_string_lossy().starts_with(&name) {
                std::fs::remove_file(old.path()).expect("remove the old screen");
            }
        }
        assert!(snapshot.matches_image(out.join(name)).expect("written"));
    }
}

/// Walks an enrolment to the seal on a station whose `[outbox]` setting
/// `setting` refuses it: nothing is queued, the enrolment stays a draft
/// whose held reason starts with `reason` and whose message the operator
/// reads, on the review step and on the drafts screen after a restart.
/// Without the setting it then seals.
fn held_back_then_sealed(setting: &str, reason: &str) {
    let mut h = Harness::with_scanner(&format!(
        "scanner = \"virtual\"\nvirtual_scanner_delay_ms = 60\n[outbox]\n{setting}"
    ));
    h.sign_up_and_in();
    h.fill_applicant();
    h.check_documents();
    h.take_portrait();
    h.accept_all();
    h.click(&h.tr("ui-next"));
    h.click(&h.tr("ui-seal"));
    assert_eq!(h.wizard().step, Step::Review, "not sealed");
    assert!(h.outbox().is_empty(), "nothing queued");
    let drafts = h.station.drafts_of("sara").expect("drafts");
    assert_eq!(drafts.len(), 1, "the enrolment is kept");
    let held = drafts[0].held_reason.clone().expect("the draft says why");
    assert!(held.starts_with(&format!("{reason} ")), "{held}");
    let message = h.app.i18n.text(&station::SealError::held_text(&held));
    assert!(
        !message.contains("err-seal-failed") && h.sees(&message),
        "the operator reads: {message}"
    );

    // A supervisor changes the setting; the enrolment seals after a restart.
    let config = h.dir.path().join("pishkhan.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace(setting, "")).expect("edit");
    let mut h = h.restart();
    h.sign_in();
    assert!(
        h.sees(&message),
        "the drafts screen says why it was not sealed"
    );
    h.click(&h.tr("ui-draft-resume"));
    assert_eq!(h.wizard().step, Step::Review);
    h.click(&h.tr("ui-seal"));
    assert_eq!(h.wizard().step, Step::Done);
    assert_eq!(h.outbox().len(), 1);
    assert!(h.station.drafts_of("sara").expect("drafts").is_empty());
}

#[test]
fn a_packet_over_the_size_limit_stays_a_draft_with_a_clear_message_and_seals_later() {
    held_back_then_sealed("max_packet_bytes = 65536", "too-large");
}

#[test]
fn a_full_disk_keeps_the_enrolment_a_draft_with_a_clear_message_and_seals_later() {
    // More free space than any disk has: the station's check refuses.
    held_back_then_sealed("min_free_bytes = 1000000000000000000", "disk-full");
}
