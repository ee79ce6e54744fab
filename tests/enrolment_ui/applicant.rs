//! The applicant and documents steps beyond the main walk: a national code
//! the rules refuse but a supervisor may approve, and the optional
//! evidence photo of the identity document.

use super::*;

#[test]
fn the_known_repeated_national_code_passes_only_with_a_supervisors_sign_in() {
    let mut h = Harness::new();
    h.sign_up_and_in();
    h.click(&h.tr("ui-prereg-walk-in"));
    h.click(&h.tr("request-first-card"));
    h.click(&h.tr("gender-female"));
    h.type_into("first-name", NAME);
    h.type_into("last-name", SURNAME);
    h.type_into("father-name", "علی");
    h.type_into("birth-date", "1360/01/01");
    h.type_into("national-code", "۱۱۱۱۱۱۱۱۱۱");
    h.type_into("national-code-repeat", "1111111111");
    h.fill_documents_fields();
    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Applicant);
    assert!(h.sees(&h.tr("err-nc-needs-approval")));

    // A wrong password approves nothing; the supervisor's does.
    h.click(&h.tr("ui-nc-approve"));
    h.type_into("supervisor-username", "sara");
    h.type_into("supervisor-password", "not it");
    h.click(&h.tr("ui-approve"));
    assert!(h.sees(&h.tr("err-wrong-credentials")));
    assert!(
        h.wizard()
            .applicant_form()
            .national_code_approved_by
            .is_none()
    );
    h.type_into("supervisor-password", PASSWORD);
    h.click(&h.tr("ui-approve"));
    assert_eq!(
        h.wizard()
            .applicant_form()
            .national_code_approved_by
            .as_deref(),
        Some("sara")
    );
    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Documents);
    let applicant = h.wizard().session.applicant.clone().expect("accepted");
    assert_eq!(applicant.national_code.as_str(), "1111111111");
    assert_eq!(h.wizard().session.supervisors(), ["sara"]);
}

#[test]
fn a_photo_of_the_document_travels_in_the_packet() {
    let mut h = Harness::new();
    h.sign_up_and_in();
    h.fill_applicant();
    h.click(&h.tr("ui-document-photo-start"));
    let take = h.tr("ui-take-photo");
    let deadline = Instant::now() + Duration::from_secs(20);
    // The button is enabled once the camera has sent a frame.
    while h.click(&take) == 0 {
        assert!(Instant::now() < deadline, "no camera frame arrived");
        std::thread::sleep(Duration::from_millis(30));
        let _ = h.app.update(Message::Tick);
    }
    let photo = h
        .wizard()
        .session
        .document_photo
        .clone()
        .expect("the photo is kept");
    assert!(
        h.sees(
            &h.app.i18n.text(
                &pishkhan::text::Text::new("ui-document-photo-taken")
                    .arg("size", format!("{}×{}", photo.width, photo.height))
            )
        )
    );
    h.check_documents();
    h.take_portrait();
    h.accept_all();
    h.click(&h.tr("ui-next"));
    h.click(&h.tr("ui-seal"));
    assert_eq!(h.wizard().step, Step::Done);

    let entries = h.outbox();
    let file = sealed_file(&h, &entries[0].id);
    let identity = station::demo_identity(h.dir.path()).expect("demo identity");
    let opened = packet::open(&file, &identity).expect("decrypts");
    opened
        .verify(&h.station.verifying_key())
        .expect("the photo's hash is signed with the rest");
    assert_eq!(
        opened.manifest.document_photo.as_deref(),
        Some(packet::DOCUMENT_PHOTO_PATH)
    );
    assert_eq!(
        opened.files.get(packet::DOCUMENT_PHOTO_PATH),
        Some(&photo.jpeg)
    );
}
