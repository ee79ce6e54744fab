//! Power cuts while sealing: the station's sealing path (`pishkhan
//! self-test --seal-only`, which captures one enrolment through the virtual
//! devices, then seals it again and again under new packet ids into the
//! outbox) runs in a child process that is killed with SIGKILL at a random
//! moment, over and over on the same data directory. After every
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

/// What one child did before it was killed.
struct Run {
    /// Tracking codes it reported sealed (committed), in order.
    sealed: Vec<String>,
    /// When each was reported, from the start.
    at: Vec<Duration>,
}

/// When to kill the child.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// This long after it started (start-up, capture, or sealing).
    After(Duration),
    /// This long after it reported its first packet sealed: inside the
    /// sealing loop, at any point of a seal or its commit.
    IntoSealing(Duration),
}

/// Runs the sealing loop, then SIGKILLs it as `kill` says.
fn run_and_kill(dir: &Path, kill: Kill) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pishkhan"))
        .args(["self-test", "--seal-only", "--count", "100000"])
        .env("PISHKHAN_DATA_DIR", dir)
        .env("PISHKHAN_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("pishkhan starts");
    let stdout = child.stdout.take().expect("stdout");
    let (first_seal, sealing) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut run = Run {
            sealed: Vec::new(),
            at: Vec::new(),
        };
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // "enrolment 3/100000: sealed 1405-0042-000003-17 (… bytes): …"
            if let Some(code) = line
                .split(": sealed ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
            {
                run.sealed.push(code.replace('-', ""));
                run.at.push(started.elapsed());
                let _ = first_seal.send(());
            }
        }
        run
    });
    match kill {
        Kill::After(after) => std::thread::sleep(after.saturating_sub(started.elapsed())),
        Kill::IntoSealing(after) => {
            sealing
                .recv_timeout(Duration::from_secs(60))
                .expect("the child seals within a minute");
            std::thread::sleep(after);
        }
    }
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

    // How long start-up and the capture take, and one seal: the kills fall
    // mostly among the seals (some in the start-up, which recovers).
    let calibration = run_and_kill(dir.path(), Kill::After(Duration::from_secs(6)));
    assert!(
        calibration.sealed.len() >= 3,
        "the sealing loop sealed {} packets in 6 s",
        calibration.sealed.len()
    );
    let first = calibration.at[0];
    let per_seal =
        (calibration.at[calibration.at.len() - 1] - first) / (calibration.at.len() as u32 - 1);
    let span = per_seal * 4;
    eprintln!(
        "first seal after {first:?}, then one every {per_seal:?}; \
         most kills within {span:?} after the first seal, one in ten during start-up"
    );

    let mut reported: BTreeSet<String> = calibration.sealed.into_iter().collect();
    let mut killed_with_nothing_reported = 0;
    for trial in 0..trials {
        let kill = if trial % 10 == 9 {
            Kill::After(Duration::from_micros(rng.next() % first.as_micros() as u64))
        } else {
            Kill::IntoSealing(Duration::from_micros(rng.next() % span.as_micros() as u64))
        };
        let run = run_and_kill(dir.path(), kill);
        if run.sealed.is_empty() {
            killed_with_nothing_reported += 1;
        }
        for code in run.sealed {
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
    assert!(
        killed_with_nothing_reported < trials / 2,
        "most kills must land among the seals"
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
