//! "Where is my card?": after an enrolment reached the demo intake, the
//! counter asks for it by the receipt's tracking code and by the
//! applicant's details, over the station's signed client, and shows the
//! answer in the operator's language; bad input is named under its field.

use pishkhan::text::Text;
use pishkhan::ui::app::Overlay;

use super::upload::{demo_uploading, wait_acknowledged};
use super::*;

fn shown_status(h: &Harness) -> &pishkhan::ui::card_status::CardStatus {
    match &h.app.overlay {
        Some(Overlay::CardStatus(screen)) => screen,
        _ => panic!("the card status screen is not open"),
    }
}

/// One enrolment through the window, acknowledged by the demo intake, and
/// its tracking code.
fn enrolled_and_received() -> (Harness, String) {
    let h = enrol_in(demo_uploading());
    wait_acknowledged(&h);
    let code = h.outbox()[0]
        .tracking_code
        .clone()
        .expect("a tracking code");
    (h, code)
}

#[test]
fn the_counter_finds_the_card_by_tracking_code_and_by_the_applicants_details() {
    let (mut h, code) = enrolled_and_received();

    h.click(&h.tr("ui-card-status"));
    assert!(h.sees(&h.tr("ui-card-status-title")));

    // A code with a wrong check digit never leaves the station.
    let mut wrong = code.clone();
    let last = if wrong.ends_with('0') { '1' } else { '0' };
    wrong.replace_range(15.., &last.to_string());
    h.type_into("lookup-tracking", &wrong);
    h.click(&h.tr("ui-card-status-ask-tracking"));
    assert!(h.sees(&h.tr("err-status-bad-tracking-code")));
    assert!(shown_status(&h).answer.is_none(), "nothing was asked");

    // The code as printed on the receipt: Persian digits, in groups.
    let printed = h.app.i18n.digits(
        &pishkhan::enrolment::tracking::TrackingCode::parse(&code)
            .expect("valid")
            .grouped(),
    );
    h.retype("lookup-tracking", &printed);
    h.click(&h.tr("ui-card-status-ask-tracking"));
    let status = match &shown_status(&h).answer {
        Some(Ok(status)) => status.clone(),
        other => panic!("no status: {other:?}"),
    };
    assert_eq!(status.tracking_code.as_str(), code);
    assert_eq!(status.stage, pishkhan::status::Stage::Received);
    assert!(h.sees(&h.tr("status-stage-received")));
    assert!(h.sees(&h.tr("status-applicant-received")));

    // The receipt is lost: national code, serial and birth date, typed in
    // Persian digits.
    h.type_into("lookup-national-code", "۰۷۹۰۴۱۹۹۰۴");
    h.type_into("lookup-serial", "۳۴۵۶۷۸");
    h.type_into("lookup-birth-date", "۱۳۸۵/۰۶/۳۰");
    let ask_second = |h: &mut Harness| {
        h.click(&h.tr("ui-card-status-ask-applicant"));
    };
    ask_second(&mut h);
    // A wrong birth date: the intake says only that nothing matches.
    assert!(h.sees(&h.tr("err-status-not-found")));
    h.retype("lookup-birth-date", "۱۳۸۵/۰۶/۳۱");
    ask_second(&mut h);
    match &shown_status(&h).answer {
        Some(Ok(found)) => assert_eq!(found.tracking_code.as_str(), code),
        other => panic!("no status: {other:?}"),
    }
    let line = h.app.i18n.text(
        &Text::new("status-applicant-tracking").arg(
            "code",
            pishkhan::enrolment::tracking::TrackingCode::parse(&code)
                .expect("valid")
                .grouped(),
        ),
    );
    assert!(h.sees(&line), "{line}");

    // A national code with a wrong check digit is named under its field.
    h.retype("lookup-national-code", "0790419905");
    ask_second(&mut h);
    let problem = pishkhan::status::Query::applicant("0790419905", "345678", "1385/06/31")
        .expect_err("a wrong check digit")
        .text();
    assert_eq!(problem.id, "err-nc-check-digit", "{problem:?}");
    assert!(h.sees(&h.app.i18n.text(&problem)));

    h.click(&h.tr("ui-card-status-close"));
    assert!(h.app.overlay.is_none());
    assert_eq!(h.wizard().step, Step::Done, "the screen underneath is kept");
}

#[test]
fn without_an_intake_the_counter_says_it_cannot_ask() {
    let mut h = Harness::new();
    h.sign_up_and_in();
    h.click(&h.tr("ui-card-status"));
    let code = pishkhan::enrolment::tracking::TrackingCode::new(1405, 42, 7);
    h.type_into("lookup-tracking", code.as_str());
    h.click(&h.tr("ui-card-status-ask-tracking"));
    assert!(h.sees(&h.tr("err-status-not-configured")));
}

/// Writes docs/screens/{fa,en}-9-card-status-tiny-skia.png (run with
/// `--ignored` after changing the card status screen).
#[test]
#[ignore = "writes documentation screenshots"]
fn write_card_status_screens() {
    let (mut h, code) = enrolled_and_received();
    for lang in ["fa", "en"] {
        if lang == "en" {
            h.click("English");
        }
        h.click(&h.tr("ui-card-status"));
        h.type_into("lookup-tracking", &h.app.i18n.digits(&code));
        h.click(&h.tr("ui-card-status-ask-tracking"));
        h.screen(&format!("{lang}-9-card-status"), 1100.0);
        h.click(&h.tr("ui-card-status-close"));
    }
}
