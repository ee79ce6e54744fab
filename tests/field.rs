//! A mobile team's week: the visit list fetched from a real intake on
//! loopback before leaving, then, with the link gone, 350 enrolments with
//! the virtual devices, ten card handovers checked 1:1 against the
//! fingerprints the intake served with the list, and a record of every
//! visit (enrolled, not home, declined, rescheduled, handed over), all
//! queued and copied to removable media; back
//! at the office one sync sends everything, and sending it all again (the
//! acknowledgements lost in a crash) changes nothing: every packet and
//! every visit record reaches the intake exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::serve;
use pishkhan::config::UploadConfig;
use pishkhan::field::handover::FingerChecks;
use pishkhan::field::record::FieldEvent;
use pishkhan::field::station::FieldError;
use pishkhan::field::sync::FetchError;
use pishkhan::field::{Location, Need, Outcome, Visit, VisitKind, VisitList, VisitRecord};
use pishkhan::intake::Intake;
use pishkhan::station::Station;
use pishkhan::store::outbox;
use pishkhan::upload::Uploader;

mod common;

const TEAM: &str = "TEH-M1";
const OFFICE: &str = "TEH-12";
const ENROLMENTS: usize = 350;
/// Cards enrolled earlier at the office, handed over on the week's visits.
const HANDOVERS: usize = 10;

fn kit_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        format!(
            "[station]\noffice = \"{OFFICE}\"\nteam = \"{TEAM}\"\n[devices]\n\
             camera = \"synthetic\"\nscanner = \"virtual\"\nvirtual_scanner_delay_ms = 0\n"
        ),
    )
    .expect("config");
    drop(Station::open(dir.path()).expect("station"));
    dir
}

fn open_intake(dir: &Path, kit: &Path) -> Arc<Intake> {
    common::open_intake(dir, &common::decrypting_for(kit), &[(kit, None)])
}

fn upload_to(addr: SocketAddr, intake: &Intake) -> UploadConfig {
    common::upload_to(addr, Some(intake))
}

/// The authority's list: one visit an enrolment, ten more that end
/// otherwise, and a handover of each card in `cards`.
fn visit_list(cards: &[String]) -> VisitList {
    let today = pishkhan::enrolment::JalaliDate::today();
    let handovers = cards.iter().enumerate().map(|(i, code)| Visit {
        id: format!("H{i:02}"),
        kind: VisitKind::Handover,
        day: today.to_ascii(),
        order: 1000 + u32::try_from(i).expect("small"),
        first_name: "رضا".into(),
        last_name: format!("احمدی {i}"),
        national_code: "0499370899".into(),
        birth_date: "1380/01/01".into(),
        address: format!("تهران، خیابان انقلاب، پلاک {i}"),
        phone: None,
        needs: vec![Need::LyingDown],
        note: None,
        request_type: None,
        tracking_code: Some(code.clone()),
        enrolled: None,
    });
    let visits = (0..ENROLMENTS + 10)
        .map(|i| Visit {
            id: format!("V{i:04}"),
            kind: VisitKind::Enrolment,
            day: today.to_ascii(),
            order: u32::try_from(i).expect("small") + 1,
            first_name: "مریم".into(),
            last_name: format!("کریمی {i}"),
            national_code: "0499370899".into(),
            birth_date: "1380/01/01".into(),
            address: format!("تهران، خیابان آزادی، پلاک {i}"),
            phone: Some("02166001234".into()),
            needs: if i % 3 == 0 {
                vec![Need::Seated, Need::Carer]
            } else {
                vec![Need::LyingDown]
            },
            note: None,
            request_type: Some(pishkhan::enrolment::RequestType::FirstCard),
            tracking_code: None,
            enrolled: None,
        })
        .chain(handovers)
        .collect();
    VisitList {
        team: TEAM.into(),
        office: OFFICE.into(),
        generated_at: chrono::Utc::now().to_rfc3339(),
        visits,
    }
}

fn record(visit: &str, outcome: Outcome, packet: Option<String>) -> VisitRecord {
    VisitRecord {
        visit_id: visit.into(),
        outcome,
        note: None,
        location: Some(Location::parse_manual("35.6892, 51.3890").expect("a place")),
        packet_id: packet,
        tracking_code: None,
        rescheduled_to: (outcome == Outcome::Rescheduled).then(|| "1405/12/01".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_offline_then_one_sync_delivers_every_packet_and_visit_exactly_once() {
    let kit = kit_dir();
    let intake_dir = tempfile::tempdir().expect("tempdir");
    let intake = open_intake(intake_dir.path(), kit.path());
    let station = Arc::new(Station::open(kit.path()).expect("station"));
    assert_eq!(station.team(), Some(TEAM));

    // Earlier, at the office: ten applicants enrolled, their packets
    // accepted by the intake. Their cards are ready to be handed over.
    let (addr, server) = serve(&intake).await;
    let office = station.clone();
    let cards: Vec<String> = tokio::task::spawn_blocking(move || {
        let devices = pishkhan::devices::Devices::from_config(&office.config);
        (0..HANDOVERS)
            .map(|_| {
                let (mut session, _) = (0..5)
                    .find_map(|_| pishkhan::selftest::capture(&office, &devices).ok())
                    .expect("captures");
                session.operator = "sara".into();
                let receipt = office.seal(&session).expect("seals");
                receipt.tracking_code.as_str().to_owned()
            })
            .collect()
    })
    .await
    .expect("the office's enrolments");
    let earlier = Uploader::with_config(station.clone(), upload_to(addr, &intake))
        .expect("uploader")
        .drain()
        .await
        .expect("uploads");
    assert_eq!(earlier.len(), HANDOVERS);

    let list_file = intake_dir.path().join("list.json");
    std::fs::write(
        &list_file,
        serde_json::to_vec(&visit_list(&cards)).expect("json"),
    )
    .expect("write");
    assert_eq!(
        intake
            .import_visits(&list_file)
            .expect("imports")
            .visits
            .len(),
        ENROLMENTS + 10 + HANDOVERS
    );

    // Before leaving: the list, over the signed client, with the enrolled
    // templates of every card to hand over.
    let fetched = pishkhan::field::sync::fetch(station.clone(), &upload_to(addr, &intake))
        .await
        .expect("the list is fetched");
    assert_eq!(fetched.visits.len(), ENROLMENTS + 10 + HANDOVERS);
    assert_eq!(
        fetched
            .visits
            .iter()
            .filter(|v| v.kind == VisitKind::Handover && v.enrolled.is_some())
            .count(),
        HANDOVERS,
        "every card's templates come with the list"
    );
    server.abort();
    let _ = server.await;

    // On the road: no intake. The list stays on the station.
    let offline = pishkhan::field::sync::fetch(station.clone(), &upload_to(addr, &intake)).await;
    assert!(
        matches!(offline, Err(FetchError::Offline(_))),
        "{offline:?}"
    );
    let (cached, _) = station.visit_list().expect("cache").expect("kept");
    assert_eq!(
        cached.route(pishkhan::enrolment::JalaliDate::today()).len(),
        ENROLMENTS + 10 + HANDOVERS
    );

    let working = station.clone();
    let enrolled: BTreeMap<String, String> = tokio::task::spawn_blocking(move || {
        let devices = pishkhan::devices::Devices::from_config(&working.config);
        let devices = &devices;
        let mut enrolled = BTreeMap::new();
        for i in 0..ENROLMENTS {
            let visit = format!("V{i:04}");
            // Now and then a virtual finger stays below the threshold
            // after every retake: the applicant is asked again.
            let (mut session, _) = (0..5)
                .find_map(|_| pishkhan::selftest::capture(&working, devices).ok())
                .expect("captures");
            session.operator = "sara".into();
            let receipt = working.seal(&session).expect("seals");
            working
                .record_visit(
                    "sara",
                    record(&visit, Outcome::Enrolled, Some(receipt.packet_id.clone())),
                    false,
                )
                .expect("recorded");
            enrolled.insert(visit, receipt.packet_id);
        }
        for (i, outcome) in (ENROLMENTS..ENROLMENTS + 10).zip(
            [Outcome::NotHome, Outcome::Refused, Outcome::Rescheduled]
                .into_iter()
                .cycle(),
        ) {
            working
                .record_visit("sara", record(&format!("V{i:04}"), outcome, None), false)
                .expect("recorded");
        }
        // The cards: the applicant's fingers against the enrolled
        // templates, through the scanner driver, until one matches.
        for i in 0..HANDOVERS {
            let visit = format!("H{i:02}");
            let (found, verifier) = working.handover_visit(&visit).expect("a handover visit");
            let verifier = verifier.expect("templates").expect("they read");
            let mut checks = FingerChecks::new(verifier, Duration::from_secs(10));
            while !checks.matched() && !checks.exhausted() {
                let finger = checks.suggested().expect("a finger with a template");
                checks
                    .check_blocking(finger, &devices.scanner)
                    .expect("the finger is compared");
            }
            assert!(checks.matched(), "{visit}: {:?}", checks.checks());
            let mut handover = checks.record(
                found.tracking_code.as_deref().expect("a card"),
                Some(&visit),
                None,
            );
            handover.location = Some(Location::parse_manual("35.70, 51.40").expect("a place"));
            let recorded = working
                .record_handover("sara", handover.clone(), false)
                .expect("handed over");
            assert_eq!(recorded.outcome, Outcome::HandedOver);
            // Once only.
            assert!(matches!(
                working.record_handover("sara", handover, false),
                Err(FieldError::AlreadyHandedOver { .. })
            ));
        }
        enrolled
    })
    .await
    .expect("the week's work");

    // Mistakes are refused by name and queue nothing.
    let first = enrolled.values().next().expect("one").clone();
    let before = station.with_db(outbox::list).expect("list").len();
    for (r, expected) in [
        (
            record("V0000", Outcome::Enrolled, Some(first.clone())),
            "already enrolled",
        ),
        (record("V0400", Outcome::NotHome, None), "not on the list"),
        (
            record("V0355", Outcome::Enrolled, Some(first)),
            "packet used",
        ),
        (
            record(
                "V0356",
                Outcome::Enrolled,
                Some(uuid::Uuid::now_v7().to_string()),
            ),
            "unknown packet",
        ),
    ] {
        let e = station.record_visit("sara", r, false).expect_err(expected);
        let fits = match expected {
            "already enrolled" => matches!(e, FieldError::AlreadyEnrolled { .. }),
            "not on the list" => matches!(e, FieldError::UnknownVisit(_)),
            "packet used" => matches!(e, FieldError::PacketUsed { .. }),
            _ => matches!(e, FieldError::UnknownPacket(_)),
        };
        assert!(fits, "{expected}: {e}");
    }
    let rows = station.with_db(outbox::list).expect("list");
    assert_eq!(rows.len(), before, "nothing queued by a refused record");
    let kinds = |kind: &str| {
        rows.iter()
            .filter(|e| e.kind.as_deref() == Some(kind))
            .count()
    };
    // The office's ten went before leaving; the week's work waits.
    assert_eq!(kinds("enrolment"), ENROLMENTS + HANDOVERS);
    assert_eq!(kinds("visit"), ENROLMENTS + 10 + HANDOVERS);
    let pending = rows.iter().filter(|e| e.status == "pending").count();
    assert_eq!(pending, 2 * ENROLMENTS + 10 + HANDOVERS);

    // A copy of the whole queue on a USB stick, as a team without any
    // network would bring it.
    let stick = tempfile::tempdir().expect("stick");
    let exported = pishkhan::queue::export(&station, stick.path()).expect("exports");
    assert_eq!(exported.packets.len(), 2 * ENROLMENTS + 10 + HANDOVERS);

    // Back at the office: one sync.
    let (addr, _server) = serve(&intake).await;
    let uploader =
        Uploader::with_config(station.clone(), upload_to(addr, &intake)).expect("uploader");
    let sent = tokio::time::timeout(Duration::from_secs(600), uploader.drain())
        .await
        .expect("drains in time")
        .expect("no worker error");
    assert_eq!(sent.len(), 2 * ENROLMENTS + 10 + HANDOVERS);
    let rows = station.with_db(outbox::list).expect("list");
    assert!(
        rows.iter().all(|e| e.status == "acknowledged"),
        "{:?}",
        rows.iter().find(|e| e.status != "acknowledged")
    );

    // The acknowledgements are lost (the kit died before writing them):
    // everything goes again (the office's ten too), and the intake answers
    // with the same receipts.
    station.with_db(|db| {
        db.execute(
            "UPDATE outbox SET status = 'pending', acknowledged_at = NULL, upload_url = NULL, receipt = NULL",
            [],
        )
        .expect("forget the receipts")
    });
    let again = uploader.drain().await.expect("drains again");
    assert_eq!(again.len(), 2 * ENROLMENTS + 10 + 2 * HANDOVERS);
    assert!(
        station
            .with_db(outbox::list)
            .expect("list")
            .iter()
            .all(|e| e.status == "acknowledged")
    );

    // Exactly once at the intake: every packet stored once, every visit
    // record kept once, each enrolled visit naming its own packet, each
    // card handed over once and its stage moved on.
    assert_eq!(
        intake.stored_packets().await.expect("listing").len(),
        2 * ENROLMENTS + 10 + 2 * HANDOVERS
    );
    let records = intake.field_records(Some(TEAM)).expect("records");
    assert_eq!(records.len(), ENROLMENTS + 10 + HANDOVERS);
    let ids: BTreeSet<&str> = records.iter().map(|r| r.record_id.as_str()).collect();
    assert_eq!(ids.len(), records.len(), "no record twice");
    let visits: BTreeSet<&str> = records.iter().filter_map(|r| r.visit_id()).collect();
    assert_eq!(
        visits.len(),
        ENROLMENTS + 10 + HANDOVERS,
        "every visit once"
    );
    for r in &records {
        assert_eq!(r.operator, "sara");
        match &r.event {
            FieldEvent::Visit(v) => {
                match v.outcome {
                    Outcome::Enrolled => {
                        assert_eq!(v.packet_id.as_ref(), enrolled.get(&v.visit_id));
                        assert!(v.tracking_code.is_some(), "the receipt's code travels");
                    }
                    other => assert!(!enrolled.contains_key(&v.visit_id), "{other:?}"),
                }
                assert!(v.location.is_some());
            }
            FieldEvent::Handover(h) => {
                assert!(h.verified() && h.fallback.is_none(), "{h:?}");
                assert!(cards.contains(&h.tracking_code));
                assert!(h.location.is_some());
            }
        }
    }
    for card in &cards {
        let code = pishkhan::enrolment::TrackingCode::parse(card).expect("a code");
        let status = intake
            .applicant_status(&code)
            .expect("status")
            .expect("known");
        assert_eq!(status.stage, pishkhan::status::Stage::HandedOver, "{card}");
    }
    // And sending again sends nothing.
    assert!(uploader.drain().await.expect("drain").is_empty());
}
