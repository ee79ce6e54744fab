//! Pre-registration at the counter: the applicant is found by tracking
//! code, checked in, a difference from what they registered online is kept
//! with a reason that travels in the sealed packet, and the
//! pre-registration cannot serve a second enrolment. Also the eligibility
//! refusal, which keeps everything typed.

use super::*;
use pishkhan::enrolment::JalaliDate;
use pishkhan::enrolment::RequestType;
use pishkhan::prereg::{Appointment, AppointmentList, Resolution, cache};

const TRACKING: &str = "140509010042";
const REGISTERED_SURNAME: &str = "کریمی";

fn appointment() -> Appointment {
    Appointment {
        tracking_code: TRACKING.into(),
        national_code: NATIONAL_CODE.into(),
        first_name: NAME.into(),
        // Registered online without the second part of the surname that
        // the birth certificate has.
        last_name: REGISTERED_SURNAME.into(),
        father_name: Some("علی".into()),
        birth_date: "1385/06/31".into(),
        appointment_at: "2026-11-22T09:30:00+03:30".into(),
        request_type: RequestType::FirstCard,
        mobile: Some("09123456789".into()),
        postal_code: Some("1345113456".into()),
    }
}

impl Harness {
    /// Puts the office's appointment list into the station's encrypted
    /// cache, as a sync from the intake would.
    fn seed_appointments(&self) {
        let list = AppointmentList {
            office: self.station.config.station.office.clone(),
            generated_at: "2026-11-22T06:00:00Z".into(),
            appointments: vec![appointment()],
        };
        let key = self.station.prereg_key();
        self.station
            .with_db(|db| cache::save(db, &key, &list, "2026-11-22T06:00:05Z"))
            .expect("the list is cached");
    }

    fn find_preregistration(&mut self, query: &str) {
        self.type_into("prereg-query", query);
        self.click(&self.tr("ui-prereg-find"));
    }
}

#[test]
fn a_checked_in_preregistration_with_a_kept_difference_reaches_the_packet() {
    let mut h = Harness::new();
    h.seed_appointments();
    h.sign_up_and_in();

    // Found by the tracking code typed in Persian digits with a dash.
    h.find_preregistration("۱۴۰۵۰۹-۰۱۰۰۴۲");
    assert!(h.sees(&h.tr("ui-prereg-check-in")));
    h.click(&h.tr("ui-prereg-check-in"));
    let form = h.wizard().applicant_form().clone();
    assert_eq!(
        form.first_name, NAME,
        "pre-filled from the pre-registration"
    );
    assert_eq!(form.national_code, NATIONAL_CODE);
    assert!(
        form.national_code_repeat.is_empty(),
        "the repeat is typed from the document"
    );

    // The operator types what the documents say: the full surname.
    h.click(&h.tr("gender-female"));
    h.interact(|ui| {
        ui.click(selector::id("last-name")).expect("input");
        ui.tap_key(iced::keyboard::Key::Named(iced::keyboard::key::Named::End));
        ui.typewrite("\u{200C}نژاد");
    });
    h.type_into("national-code-repeat", "۰۷۹۰۴۱۹۹۰۴");
    h.type_into("place-of-birth", "اصفهان");
    h.type_into("bc-number", NATIONAL_CODE);
    h.type_into("bc-series-letter", "ج");
    h.type_into("bc-series-number", "12");
    h.type_into("bc-serial", "345678");
    h.type_into("mobile-repeat", "09123456789");
    h.type_into("address", "اصفهان، خیابان چهارباغ، کوچهٔ ۱۲، پلاک ۷");
    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Documents);

    // One difference, highlighted; it blocks until settled.
    let check_in = h.wizard().session.check_in.clone().expect("checked in");
    assert_eq!(check_in.differences.len(), 1, "{:?}", check_in.differences);
    assert_eq!(check_in.differences[0].field, "last-name");
    assert_eq!(check_in.differences[0].typed, SURNAME);
    assert_eq!(check_in.differences[0].registered, REGISTERED_SURNAME);
    for check in pishkhan::enrolment::DocumentCheck::ALL {
        h.click(&h.tr(check.text_id()));
    }
    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Documents, "the difference blocks");
    let hint = h
        .app
        .i18n
        .text(&pishkhan::text::Text::new("ui-hint-differences").arg("count", "1"));
    assert!(h.sees(&hint), "{hint}");

    // Keeping needs a reason.
    h.click(&h.tr("ui-difference-keep"));
    assert!(h.sees(&h.tr("err-reason-required")));
    let reason = "مطابق شناسنامه";
    h.type_into("reason-last-name", reason);
    h.click(&h.tr("ui-difference-keep"));
    assert_eq!(
        h.wizard().session.unresolved_differences(),
        1,
        "a supervisor must approve"
    );
    h.type_into("supervisor-username", "sara");
    h.type_into("supervisor-password", PASSWORD);
    h.click(&h.tr("ui-approve"));
    assert_eq!(h.wizard().session.unresolved_differences(), 0);
    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Portrait);

    h.take_portrait();
    h.accept_all();
    h.click(&h.tr("ui-next"));
    h.click(&h.tr("ui-seal"));
    assert_eq!(h.wizard().step, Step::Done);

    // The packet records the check-in and the decision, in the manifest
    // and in Type-2 (2.043 and 2.044).
    let entries = h.outbox();
    assert_eq!(entries.len(), 1);
    let file = sealed_file(&h, &entries[0].id);
    let identity = station::demo_identity(h.dir.path()).expect("demo identity");
    let opened = packet::open(&file, &identity).expect("decrypts");
    opened
        .verify(&h.station.verifying_key())
        .expect("signatures verify");
    let recorded = opened
        .manifest
        .preregistration
        .as_ref()
        .expect("the manifest records the pre-registration");
    assert_eq!(recorded.appointment.tracking_code, TRACKING);
    assert_eq!(
        recorded.differences[0].resolution,
        Some(Resolution::Kept {
            reason: reason.into(),
            approved_by: Some("sara".into()),
        })
    );
    use packet::transaction::t2;
    let tx = opened.transaction().expect("reads");
    let type2 = &tx.records[1];
    assert_eq!(type2.text(t2::PREREGISTRATION), Some(TRACKING));
    assert_eq!(type2.text(t2::LAST_NAME), Some(SURNAME));
    let kept = type2
        .get(t2::DIFFERENCES_KEPT)
        .and_then(|v| v.as_text())
        .expect("2.044");
    assert_eq!(
        kept[0],
        ["last-name", SURNAME, REGISTERED_SURNAME, reason].map(String::from)
    );
    let bc = type2
        .get(t2::BIRTH_CERTIFICATE)
        .and_then(|v| v.as_text())
        .expect("2.020");
    assert_eq!(
        bc[0],
        [NATIONAL_CODE, "ج", "12", "345678"].map(String::from)
    );

    // The next applicant cannot use the same pre-registration.
    h.click(&h.tr("ui-next-applicant"));
    h.find_preregistration(TRACKING);
    let used = h.app.i18n.text(
        &pishkhan::text::Text::new("ui-prereg-used")
            .arg("packet", entries[0].id.clone())
            .arg("at", {
                let consumed = h
                    .station
                    .with_db(|db| cache::is_consumed(db, TRACKING))
                    .expect("reads")
                    .expect("consumed");
                consumed.at
            }),
    );
    assert!(h.sees(&used), "{used}");
    assert!(
        !h.sees(&h.tr("ui-prereg-check-in")),
        "no check-in button for a used pre-registration"
    );
}

#[test]
fn a_fourteen_year_old_is_refused_and_keeps_what_was_typed() {
    let mut h = Harness::new();
    h.sign_up_and_in();
    h.click(&h.tr("ui-prereg-walk-in"));
    let today = JalaliDate::today();
    let birth = format!("{:04}/{:02}/{:02}", today.year - 14, today.month, 1);
    h.click(&h.tr("request-first-card"));
    h.click(&h.tr("gender-male"));
    h.type_into("first-name", "علی");
    h.type_into("last-name", SURNAME);
    h.type_into("father-name", "حسین");
    h.type_into("birth-date", &birth);
    h.type_into("national-code", NATIONAL_CODE);
    h.type_into("national-code-repeat", NATIONAL_CODE);
    h.fill_documents_fields();
    let typed = h.wizard().applicant_form().clone();

    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Applicant, "refused");
    assert!(h.sees(&h.tr("ui-refusal-title")));
    let refusal = h.app.i18n.text(
        &pishkhan::text::Text::new("err-too-young")
            .arg("age", "14")
            .arg(
                "date",
                format!("{:04}/{:02}/01", today.year + 1, today.month),
            ),
    );
    assert!(h.sees(&refusal), "{refusal}");
    assert!(h.wizard().session.applicant.is_none());
    // Nothing typed is lost: the form holds it, in its stored spelling.
    assert_eq!(h.wizard().applicant_form(), &typed.normalised());
    assert_eq!(h.wizard().applicant_form().bc_serial, "345678");
}

/// Writes the applicant and documents screens of issue 7 in Persian and
/// English: `docs/screens/{fa,en}-1c-prereg-found`, `-1d-applicant-form`
/// (a checked-in applicant with a warning and the information lines),
/// `-1e-refusal` and `-2b-differences` (all `-tiny-skia.png`).
/// Run by `docs/screens/make.sh`.
#[test]
#[ignore = "writes documentation screenshots; run by docs/screens/make.sh"]
fn write_applicant_screens() {
    for lang in ["fa", "en"] {
        let mut h = Harness::new();
        h.seed_appointments();
        h.sign_up_and_in();
        if lang == "en" {
            h.click("English");
        }
        h.find_preregistration(NATIONAL_CODE);
        h.screen(&format!("{lang}-1c-prereg-found"), 860.0);
        h.click(&h.tr("ui-prereg-check-in"));
        h.click(&h.tr("gender-female"));
        h.interact(|ui| {
            ui.click(selector::id("last-name")).expect("input");
            ui.tap_key(iced::keyboard::Key::Named(iced::keyboard::key::Named::End));
            ui.typewrite("\u{200C}نژاد");
        });
        h.type_into("national-code-repeat", NATIONAL_CODE);
        h.type_into("place-of-birth", "اصفهان");
        h.type_into("bc-number", "12");
        h.type_into("bc-series-letter", "ج");
        h.type_into("bc-series-number", "12");
        h.type_into("bc-serial", "345678");
        h.type_into("landline", "03132221111");
        h.type_into("mobile-repeat", "09123456789");
        h.type_into("address", "اصفهان، خیابان چهارباغ، کوچهٔ ۱۲، پلاک ۷");
        h.click(&h.tr("ui-pick-date"));
        h.screen(&format!("{lang}-1d-applicant-form"), 1900.0);
        h.click(&h.tr("ui-close"));
        h.interact(|ui| {
            ui.click(selector::id("bc-number")).expect("input");
            ui.tap_key(iced::keyboard::Key::Named(iced::keyboard::key::Named::End));
            ui.tap_key(iced::keyboard::Key::Named(
                iced::keyboard::key::Named::Backspace,
            ));
            ui.tap_key(iced::keyboard::Key::Named(
                iced::keyboard::key::Named::Backspace,
            ));
            ui.typewrite(NATIONAL_CODE);
        });
        h.click(&h.tr("ui-next"));
        assert_eq!(h.wizard().step, Step::Documents);
        h.screen(&format!("{lang}-2b-differences"), 1300.0);

        let mut h = Harness::new();
        h.sign_up_and_in();
        if lang == "en" {
            h.click("English");
        }
        h.click(&h.tr("ui-prereg-walk-in"));
        let today = JalaliDate::today();
        h.click(&h.tr("request-first-card"));
        h.click(&h.tr("gender-male"));
        h.type_into("first-name", "علی");
        h.type_into("last-name", SURNAME);
        h.type_into("father-name", "حسین");
        h.type_into(
            "birth-date",
            &format!("{:04}/{:02}/01", today.year - 14, today.month),
        );
        h.type_into("national-code", NATIONAL_CODE);
        h.type_into("national-code-repeat", NATIONAL_CODE);
        h.fill_documents_fields();
        h.click(&h.tr("ui-next"));
        h.screen(&format!("{lang}-1e-refusal"), 860.0);
    }
}
