//! Power cuts while sealing: the station's sealing path (`pishkhan
//! self-test`, which captures through the virtual devices and seals into
//! the outbox) runs in a child process that is killed with SIGKILL at a
//! random moment, over and over on the same data directory. After every
//! kill, every packet the child reported queued must be there exactly
//! once, no half packet may exist, and SQLite's integrity check must pass.
//!
//! `PISHKHAN_CRASH_TRIALS` sets the number of kills (default 100).

#![cfg(unix)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pishkhan::station::Station;
use pishkhan::store::outbox;

/// xorshift64*, seeded from the OS: each run kills at other moments; the
/// seed is printed so a failure can be replayed with `PISHKHAN_CRASH_SEED`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn seed() -> u64 {
    if let Some(seed) = std::env::var("PISHKHAN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return seed;
    }
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random seed");
    u64::from_le_bytes(bytes) | 1
}

/// Runs `self-test` until it has run for `after`, then SIGKILLs it.
/// Returns the tracking codes it reported sealed before dying.
fn run_and_kill(dir: &Path, after: Duration) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pishkhan"))
        .args(["self-test", "--count", "1000"])
        .env("PISHKHAN_DATA_DIR", dir)
        .env("PISHKHAN_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("pishkhan starts");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| {
                // "enrolment 3/1000: sealed 1405-0042-000003-17 (… bytes): …"
                let code = line.split(": sealed ").nth(1)?.split(' ').next()?;
                Some(code.replace('-', ""))
            })
            .collect::<Vec<String>>()
    });
    std::thread::sleep(after);
    // SIGKILL: no destructor, no flush, no unwinding.
    child.kill().expect("kill");
    child.wait().expect("reaped");
    reader.join().expect("reader")
}

#[test]
fn sigkill_while_sealing_loses_nothing_reported_and_leaves_no_half_packet() {
    let trials: u32 = std::env::var("PISHKHAN_CRASH_TRIALS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(100);
    let seed = seed();
    eprintln!("crash test: {trials} trials, PISHKHAN_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\nvirtual_scanner_delay_ms = 0\n",
    )
    .expect("config");

    // How long one enrolment takes here, to spread the kills over start-up,
    // capture, sealing and the commit.
    let started = Instant::now();
    let calibration = run_and_kill(dir.path(), Duration::from_secs(8));
    assert!(
        !calibration.is_empty(),
        "the self-test sealed nothing in 8 s"
    );
    let per_enrolment = started.elapsed() / calibration.len() as u32;
    let window = (per_enrolment * 3).max(Duration::from_millis(300));
    eprintln!("about {per_enrolment:?} per enrolment; killing within {window:?}");

    let mut reported: BTreeSet<String> = calibration.into_iter().collect();
    let mut killed_with_nothing_reported = 0;
    for trial in 0..trials {
        let after = Duration::from_micros(rng.next() % window.as_micros() as u64);
        let sealed = run_and_kill(dir.path(), after);
        if sealed.is_empty() {
            killed_with_nothing_reported += 1;
        }
        for code in sealed {
            assert!(
                reported.insert(code.clone()),
                "trial {trial}: tracking code {code} reported twice"
            );
        }
        check(dir.path(), &reported, trial);
    }
    eprintln!(
        "{trials} kills, {} packets reported queued, {killed_with_nothing_reported} kills before any seal",
        reported.len()
    );

    // The station opens after all that and every packet verifies.
    let station = Station::open(dir.path()).expect("the station opens");
    for entry in station.with_db(outbox::list).expect("list") {
        let verdict = pishkhan::queue::verify(&station, &entry, None);
        assert!(verdict.ok, "{verdict:?}");
    }
}

/// What must hold after a kill.
fn check(dir: &Path, reported: &BTreeSet<String>, trial: u32) {
    let conn = rusqlite::Connection::open(dir.join("pishkhan.db")).expect("db opens");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check runs");
    assert_eq!(integrity, "ok", "trial {trial}");
    let mut stmt = conn
        .prepare("SELECT tracking_code, size, sha256, length(payload), header FROM outbox")
        .expect("query");
    let rows: Vec<(String, i64, String, i64, Vec<u8>)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("readable rows");
    let mut present = BTreeSet::new();
    for (code, size, sha, length, header) in &rows {
        assert!(present.insert(code.clone()), "trial {trial}: {code} twice");
        assert_eq!(size, length, "trial {trial}: {code} is cut short");
        let header: pishkhan::packet::Header =
            serde_json::from_slice(header).expect("a whole header");
        assert_eq!(&header.sha256, sha, "trial {trial}: {code}");
    }
    for code in reported {
        assert!(
            present.contains(code),
            "trial {trial}: {code} was reported queued but is gone"
        );
    }
}
