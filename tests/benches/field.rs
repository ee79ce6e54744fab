//! A mobile team's queue after a week offline: does enqueueing slow down
//! as the outbox fills? One "enqueue" is what the kit does at the end of a
//! home visit: seal the enrolment (WSQ, ANSI/NIST, signature, age, durable
//! commit) and seal and queue the visit's record. Timed at queue size 1
//! (each of SAMPLES fresh kits enqueues its first) and at 350 (one kit
//! with 349 queued enqueues the next SAMPLES), medians compared.
//!
//! Goal: at 350 within 20 % of at 1. `cargo bench --bench field`; figures
//! in docs/performance.md. A plain bench binary: criterion's repeated
//! iterations would grow the queue it measures.

use std::time::{Duration, Instant};

use pishkhan::enrolment::{JalaliDate, Session};
use pishkhan::field::{Outcome, Visit, VisitKind, VisitList, VisitRecord};
use pishkhan::station::Station;

const SAMPLES: usize = 15;
const QUEUED: usize = 350;

fn kit() -> (tempfile::TempDir, Station) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[station]\noffice = \"TEH-12\"\nteam = \"TEH-M1\"\n[devices]\ncamera = \"synthetic\"\n\
         scanner = \"virtual\"\nvirtual_scanner_delay_ms = 0\n",
    )
    .expect("config");
    let station = Station::open(dir.path()).expect("station");
    let visits = (0..QUEUED + SAMPLES)
        .map(|i| Visit {
            id: format!("V{i:04}"),
            kind: VisitKind::Enrolment,
            day: JalaliDate::today().to_ascii(),
            order: i as u32 + 1,
            first_name: "مریم".into(),
            last_name: "کریمی".into(),
            national_code: "0499370899".into(),
            birth_date: "1380/01/01".into(),
            address: "تهران".into(),
            phone: None,
            needs: Vec::new(),
            note: None,
            request_type: None,
            tracking_code: None,
            enrolled: None,
        })
        .collect();
    let list = VisitList {
        team: "TEH-M1".into(),
        office: "TEH-12".into(),
        generated_at: chrono::Utc::now().to_rfc3339(),
        visits,
    };
    let key = station.prereg_key();
    station
        .with_db(|db| pishkhan::field::cache::save(db, &key, &list, "2026-11-22T06:00:00Z"))
        .expect("the list");
    (dir, station)
}

/// Seals a copy of `template` as a new enrolment and records visit `n` as
/// enrolled; returns how long both took.
fn enqueue(station: &Station, template: &Session, n: usize) -> Duration {
    let mut session = template.clone();
    session.id = uuid::Uuid::now_v7();
    let started = Instant::now();
    let receipt = station.seal(&session).expect("seals");
    let record = VisitRecord {
        visit_id: format!("V{n:04}"),
        outcome: Outcome::Enrolled,
        note: None,
        location: None,
        packet_id: Some(receipt.packet_id),
        tracking_code: None,
        rescheduled_to: None,
    };
    station
        .record_visit("sara", record, false)
        .expect("recorded");
    started.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to filter here.
    let (_dir, first) = kit();
    let devices = pishkhan::devices::Devices::from_config(&first.config);
    let template = (0..5)
        .find_map(|_| pishkhan::selftest::capture(&first, &devices).ok())
        .expect("the self-test applicant")
        .0;
    // Warm the process (codecs, allocator) outside the figures.
    enqueue(&first, &template, 0);

    let at_one = median(
        (0..SAMPLES)
            .map(|_| {
                let (_dir, station) = kit();
                enqueue(&station, &template, 0)
            })
            .collect(),
    );

    let (_dir, full) = kit();
    for n in 0..QUEUED - 1 {
        enqueue(&full, &template, n);
    }
    let at_full = median(
        (QUEUED - 1..QUEUED - 1 + SAMPLES)
            .map(|n| enqueue(&full, &template, n))
            .collect(),
    );
    let queued = full
        .with_db(pishkhan::store::outbox::list)
        .expect("list")
        .len();
    let ratio = at_full.as_secs_f64() / at_one.as_secs_f64();
    println!("enqueue (seal + visit record), median of {SAMPLES}:");
    println!("  queue of 1:   {:.1} ms", at_one.as_secs_f64() * 1000.0);
    println!(
        "  queue of {QUEUED}: {:.1} ms  ({queued} rows at the end)",
        at_full.as_secs_f64() * 1000.0
    );
    println!(
        "  ratio {ratio:.2} (goal ≤ 1.20): {}",
        if ratio <= 1.2 { "met" } else { "NOT met" }
    );
}
