//! A mobile team's card handover through the window: two cards enrolled
//! earlier reached the demo intake; the kit fetches its route, whose
//! handover visits carry the enrolled templates. The right applicant's
//! finger matches and the card goes over; somebody else's finger fails
//! three times, and only a supervisor's approval (birth certificate
//! checked) lets that card go, recorded as a fallback.

use pishkhan::field::handover::{CheckStatus, FallbackReason};
use pishkhan::field::record::{FieldEvent, FieldRecord};
use pishkhan::field::{Outcome, Visit, VisitKind, VisitList};
use pishkhan::ui::app::Overlay;

use super::*;

const TEAM: &str = "TEH-M1";
/// Somebody else than the enrolled applicant, at the scanner.
const STRANGER: u64 = 0x0BAD_5EED;

/// A demo kit of team [`TEAM`] (an office station without `team`),
/// uploading to its embedded intake, with the virtual ZhianTec module
/// (whose applicant can be changed).
fn kit_uploading() -> (Harness, String) {
    station_uploading(&format!("[station]\nteam = \"{TEAM}\"\n"))
}

fn station_uploading(station_section: &str) -> (Harness, String) {
    let h = super::upload::uploading_with(&format!(
        "{station_section}[devices]\ncamera = \"synthetic\"\nscanner = \"zfm\"\n\
         zfm_port = \"virtual\"\nvirtual_scanner_delay_ms = 10\n"
    ));
    let intake_dir = h.dir.path().join(pishkhan::upload::DEMO_INTAKE_DIR);
    (h, intake_dir.display().to_string())
}

/// Seals an enrolment of the built-in applicant through the real scanner
/// driver and returns its tracking code.
fn enrolled_card(h: &Harness) -> String {
    let (session, _) = (0..5)
        .find_map(|_| pishkhan::selftest::capture(&h.station, &h.devices).ok())
        .expect("captures");
    let receipt = h.station.seal(&session).expect("seals");
    receipt.tracking_code.as_str().to_owned()
}

fn handover_visit(id: &str, order: u32, card: &str, name: &str) -> Visit {
    Visit {
        id: id.into(),
        kind: VisitKind::Handover,
        day: pishkhan::enrolment::JalaliDate::today().to_ascii(),
        order,
        first_name: name.into(),
        last_name: "کریمی".into(),
        national_code: NATIONAL_CODE.into(),
        birth_date: "1380/01/01".into(),
        address: "تهران، خیابان آزادی، پلاک ۱۲".into(),
        phone: Some("02166001234".into()),
        needs: vec![pishkhan::field::Need::LyingDown],
        note: Some("زنگ دوم را بزنید".into()),
        request_type: None,
        tracking_code: Some(card.into()),
        enrolled: None,
    }
}

fn all_acknowledged(h: &Harness) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.outbox().iter().any(|e| e.status != "acknowledged") {
        assert!(
            Instant::now() < deadline,
            "not acknowledged: {:?}",
            h.outbox()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn handover_screen(h: &Harness) -> &pishkhan::ui::handover::Handover {
    match &h.app.overlay {
        Some(Overlay::Handover(screen)) => screen,
        _ => panic!("the handover screen is not open"),
    }
}

/// Checks the suggested finger once and waits for the comparison.
fn check_finger(h: &mut Harness) {
    h.click(&h.tr("ui-handover-capture"));
    h.tick_until("the finger comparison", |h| {
        let checks = handover_screen(h).checks.as_ref().expect("templates");
        !checks.capturing()
    });
    let status = &handover_screen(h)
        .checks
        .as_ref()
        .expect("templates")
        .status;
    assert!(matches!(status, CheckStatus::Compared(_)), "{status:?}");
}

/// Checks the suggested finger, which matches, and hands the card over.
fn hand_over_on_a_match(h: &mut Harness) {
    check_finger(h);
    let checks = handover_screen(h).checks.as_ref().expect("templates");
    assert!(checks.matched(), "{:?}", checks.checks());
    h.click(&h.tr("ui-handover-hand-over"));
    assert!(h.sees(&h.tr("ui-handover-recorded")));
}

/// A queued field record, opened with the demo identity.
fn opened_record(h: &Harness, id: &str) -> FieldRecord {
    let identity = station::demo_identity(h.dir.path()).expect("identity");
    match packet::open_contents(&sealed_file(h, id), &identity).expect("opens") {
        packet::Contents::Field { json, .. } => serde_json::from_slice(&json).expect("a record"),
        packet::Contents::Enrolment(_) => panic!("an enrolment, not a field record"),
    }
}

/// The sealed field record of `visit`.
fn field_record(h: &Harness, visit: &str) -> FieldRecord {
    let recorded = h
        .station
        .recorded_visits()
        .expect("records")
        .into_iter()
        .find(|r| r.visit_id == visit)
        .expect("recorded");
    opened_record(h, &recorded.record_id)
}

/// The kit signed in on its route, fetched with two handover visits: H1
/// for the first card, H2 for the second.
fn kit_on_route() -> (Harness, [String; 2]) {
    let (mut h, intake_dir) = kit_uploading();
    let cards = [enrolled_card(&h), enrolled_card(&h)];
    all_acknowledged(&h);
    let list = VisitList {
        team: TEAM.into(),
        office: h.station.config.station.office.clone(),
        generated_at: chrono::Utc::now().to_rfc3339(),
        visits: vec![
            handover_visit("H1", 1, &cards[0], "مریم"),
            handover_visit("H2", 2, &cards[1], "زهرا"),
        ],
    };
    let lists = Path::new(&intake_dir).join(pishkhan::intake::visits::DIR);
    std::fs::create_dir_all(&lists).expect("visits dir");
    std::fs::write(
        lists.join(format!("{TEAM}.json")),
        serde_json::to_vec(&list).expect("json"),
    )
    .expect("the authority's list");

    h.sign_up_and_in();
    h.click(&h.tr("ui-route"));
    assert!(h.sees(&h.tr("ui-route-no-list")));
    h.click(&h.tr("ui-route-fetch"));
    assert!(h.sees("مریم کریمی"), "the route shows the visits");
    (h, cards)
}

#[test]
fn a_card_goes_to_its_holder_on_a_match_and_to_somebody_else_only_with_a_supervisor() {
    let (mut h, cards) = kit_on_route();

    // The holder: the suggested finger matches, the card goes over.
    h.click(&h.tr("ui-route-handover"));
    assert_eq!(handover_screen(&h).card.visit_id.as_deref(), Some("H1"));
    hand_over_on_a_match(&mut h);
    h.click(&h.tr("ui-handover-close"));
    assert!(matches!(h.app.overlay, Some(Overlay::Route)));
    let record = field_record(&h, "H1");
    let FieldEvent::Handover(handover) = &record.event else {
        panic!("not a handover: {record:?}");
    };
    assert!(handover.verified() && handover.fallback.is_none());
    assert_eq!(handover.tracking_code, cards[0]);

    // Somebody else at the second door: three misses, no card.
    h.devices
        .virtual_zfm_control()
        .expect("the virtual module")
        .update(|k| k.applicant = STRANGER);
    h.click(&h.tr("ui-route-handover"));
    assert_eq!(handover_screen(&h).card.visit_id.as_deref(), Some("H2"));
    for _ in 0..pishkhan::field::handover::MAX_ATTEMPTS {
        check_finger(&mut h);
    }
    let checks = handover_screen(&h).checks.as_ref().expect("templates");
    assert!(
        checks.exhausted() && !checks.matched(),
        "{:?}",
        checks.checks()
    );
    assert!(h.sees(&h.tr("ui-handover-exhausted")));
    assert!(
        !h.sees(&h.tr("ui-handover-hand-over")),
        "no handover without a match"
    );

    // The fallback: the supervisor checks the birth certificate and
    // approves, with the reason the misses give.
    h.click(&h.tr("ui-handover-fallback"));
    h.type_into("supervisor-username", "sara");
    h.type_into("supervisor-password", "wrong password");
    h.click(&h.tr("ui-handover-approve"));
    assert!(
        !h.sees(&h.tr("ui-handover-recorded")),
        "a wrong password approves nothing"
    );
    h.type_into("supervisor-password", PASSWORD);
    h.click(&h.tr("ui-handover-approve"));
    assert!(h.sees(&h.tr("ui-handover-recorded")));
    let record = field_record(&h, "H2");
    let FieldEvent::Handover(handover) = &record.event else {
        panic!("not a handover: {record:?}");
    };
    assert!(!handover.verified());
    assert_eq!(
        handover.checks.len(),
        pishkhan::field::handover::MAX_ATTEMPTS
    );
    let fallback = handover.fallback.as_ref().expect("a fallback");
    assert_eq!(fallback.reason, FallbackReason::NoMatch);
    assert_eq!(fallback.supervisor, "sara");
    h.click(&h.tr("ui-handover-close"));
    let outcomes: Vec<Outcome> = h
        .station
        .recorded_visits()
        .expect("records")
        .iter()
        .map(|r| r.outcome)
        .collect();
    assert_eq!(outcomes, vec![Outcome::HandedOver, Outcome::HandedOver]);
}

/// Writes docs/screens/{fa,en}-10-route and -11-handover (run with
/// `--ignored` after changing these screens).
#[test]
#[ignore = "writes documentation screenshots"]
fn write_route_and_handover_screens() {
    let (mut h, _) = kit_on_route();
    h.screen("fa-10-route", 1100.0);
    h.click("English");
    h.screen("en-10-route", 1100.0);
    h.click(&h.tr("ui-route-handover"));
    check_finger(&mut h);
    h.screen("en-11-handover", 900.0);
    h.click("فارسی");
    h.screen("fa-11-handover", 900.0);
}

#[test]
fn an_enrolment_started_from_a_visit_is_filled_from_the_list_and_records_the_visit() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        format!(
            "[station]\nteam = \"{TEAM}\"\n[devices]\ncamera = \"synthetic\"\n\
             scanner = \"virtual\"\nvirtual_scanner_delay_ms = 120\n"
        ),
    )
    .expect("config");
    let mut h = Harness::open(dir);
    let mut visit = handover_visit("V1", 1, "", NAME);
    visit.kind = VisitKind::Enrolment;
    visit.tracking_code = None;
    visit.last_name = SURNAME.into();
    visit.birth_date = "1385/06/31".into();
    visit.needs = vec![pishkhan::field::Need::Seated, pishkhan::field::Need::Carer];
    visit.request_type = Some(pishkhan::enrolment::RequestType::FirstCard);
    let list = VisitList {
        team: TEAM.into(),
        office: h.station.config.station.office.clone(),
        generated_at: chrono::Utc::now().to_rfc3339(),
        visits: vec![visit],
    };
    let key = h.station.prereg_key();
    h.station
        .with_db(|db| pishkhan::field::cache::save(db, &key, &list, "2026-11-23T06:00:00Z"))
        .expect("the list on the kit");

    h.sign_up_and_in();
    h.click(&h.tr("ui-route"));
    h.click(&h.tr("ui-route-enrol"));
    assert!(h.app.overlay.is_none(), "back on the wizard");
    let form = h.wizard().applicant_form();
    assert_eq!(
        (form.first_name.as_str(), form.last_name.as_str()),
        (NAME, SURNAME)
    );
    assert_eq!(form.national_code, NATIONAL_CODE);
    assert_eq!(form.birth_date, "1385/06/31");
    let chosen = &h.wizard().session.accommodations;
    use pishkhan::enrolment::Accommodation;
    assert!(
        chosen.contains(Accommodation::SeatedPortrait) && chosen.contains(Accommodation::Carer)
    );

    // What the list does not know is typed from the documents.
    h.click(&h.tr("gender-female"));
    h.type_into("father-name", "علی");
    h.type_into("national-code-repeat", NATIONAL_CODE);
    h.fill_documents_fields();
    h.retype("address", "تهران، خیابان آزادی، پلاک ۱۲");
    h.click(&h.tr("ui-next"));
    assert_eq!(h.wizard().step, Step::Documents);
    h.check_documents();
    h.take_portrait();
    h.accept_all();
    h.click(&h.tr("ui-next"));
    h.click(&h.tr("ui-seal"));
    assert_eq!(h.wizard().step, Step::Done);
    assert!(h.sees(&h.tr("ui-visit-recorded-enrolled")));
    let recorded = h.station.recorded_visits().expect("records");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].outcome, Outcome::Enrolled);
    let packet = h
        .outbox()
        .into_iter()
        .find(|e| e.kind.as_deref() == Some("enrolment"))
        .expect("the enrolment");
    assert_eq!(recorded[0].packet_id.as_deref(), Some(packet.id.as_str()));
}

#[test]
fn a_card_is_handed_over_at_the_counter_after_a_match_and_only_once() {
    let (mut h, _) = station_uploading("");
    let card = enrolled_card(&h);
    all_acknowledged(&h);
    h.sign_up_and_in();

    h.click(&h.tr("ui-card-handover"));
    assert!(h.sees(&h.tr("ui-handover-counter-title")));
    // A code with a wrong check digit is named before anything is asked.
    let mut wrong = card.clone();
    let last = if wrong.ends_with('0') { '1' } else { '0' };
    wrong.replace_range(15.., &last.to_string());
    h.type_into("counter-tracking", &wrong);
    h.click(&h.tr("ui-handover-find"));
    assert!(h.sees(&h.tr("err-status-bad-tracking-code")));
    // A valid code nobody enrolled: the authority says so.
    let unknown = pishkhan::enrolment::TrackingCode::new(1405, 1, 999_999);
    h.retype("counter-tracking", unknown.as_str());
    h.click(&h.tr("ui-handover-find"));
    let said = h
        .app
        .i18n
        .text(&pishkhan::text::Text::new("err-card-unknown").arg("code", unknown.as_str()));
    assert!(h.sees(&said), "{said}");

    // The receipt's code, as printed: the card, its holder, the check.
    let printed = h.app.i18n.digits(
        &pishkhan::enrolment::TrackingCode::parse(&card)
            .expect("valid")
            .grouped(),
    );
    h.retype("counter-tracking", &printed);
    h.click(&h.tr("ui-handover-find"));
    let screen = handover_screen(&h);
    assert_eq!(screen.card.visit_id, None);
    assert_eq!(screen.card.tracking_code, card);
    assert_eq!(
        screen.card.national_code,
        pishkhan::selftest::test_applicant().national_code
    );
    hand_over_on_a_match(&mut h);
    h.click(&h.tr("ui-handover-close-counter"));
    assert!(h.app.overlay.is_none());

    // Once the record reached the authority, the card is handed over.
    all_acknowledged(&h);
    h.click(&h.tr("ui-card-handover"));
    h.type_into("counter-tracking", &card);
    h.click(&h.tr("ui-handover-find"));
    let said = h
        .app
        .i18n
        .text(&pishkhan::text::Text::new("err-card-handed-over").arg("code", card.as_str()));
    assert!(h.sees(&said), "{said}");
    let record = h
        .outbox()
        .into_iter()
        .find(|e| e.kind.as_deref() == Some("visit"))
        .expect("the handover record");
    let record = opened_record(&h, &record.id);
    assert_eq!(record.team, "");
    let FieldEvent::Handover(handover) = &record.event else {
        panic!("not a handover");
    };
    assert!(handover.verified() && handover.visit_id.is_none());
}
