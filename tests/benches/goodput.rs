//! Goodput of the upload path on a rate-limited loopback link.
//!
//! ```text
//! station outbox ──Uploader::drain()──▶ fault::Proxy (token bucket, R B/s each way) ──▶ Intake
//! ```
//!
//! One station seals [`PACKETS`] packets through the virtual SBI slap
//! scanner (about 218 KB each); every run copies that station, starts a
//! fresh intake on loopback (registered, decrypting with the station's
//! demo authority key) behind a fault proxy limited to R bytes per second
//! in each direction, and times the upload of the whole outbox: `drain()`
//! once for concurrency 1, `c` concurrent `drain()`s of one uploader for
//! concurrency `c` (what `Uploader::run` does with `[upload] concurrency =
//! c`). Goodput = the sealed files' bytes / (elapsed + the 50 ms of bytes
//! the proxy's full token bucket lets through at once at the start), as a
//! percentage of R. Goal: ≥ 90 % of the link rate. Besides the three
//! rates: 64 KiB chunks, 50 ms added before every response (a real link's
//! round trip) and HTTPS end to end.
//!
//! A plain `main` that prints a table (median of [`REPS`] runs, or
//! `PISHKHAN_GOODPUT_REPS`), then what a packet costs besides its bytes:
//! `CARGO_TARGET_DIR=… cargo bench --bench goodput` (`-- latency`: only
//! the latter); figures in docs/performance.md.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pishkhan::intake::{Intake, Registry};
use pishkhan::station::Station;
use pishkhan::store::outbox;
use pishkhan::upload::{Sent, Uploader};
use pishkhan_tus::fault::{At, Fault, Mode, Proxy, Rule};

const PACKETS: u32 = 20;
const REPS: usize = 3;
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GOAL: f64 = 90.0;
/// The proxy's token bucket holds 50 ms worth of bytes (at least 1 KiB).
const BURST_S: f64 = 0.05;

fn pishkhan(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pishkhan"));
    cmd.env("PISHKHAN_DATA_DIR", dir)
        .env("PISHKHAN_LOG", "warn");
    cmd
}

/// A station with `PACKETS` sealed packets from the virtual slap scanner;
/// returns it with the size of each sealed file.
fn template() -> (tempfile::TempDir, Vec<u64>) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[devices]\ncamera = \"synthetic\"\nscanner = \"sbi\"\nsbi_service = \"virtual\"\n\
         virtual_scanner_delay_ms = 0\n",
    )
    .expect("config");
    let out = pishkhan(dir.path())
        .args(["self-test", "--seal-only", "--count", &PACKETS.to_string()])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let station = Station::open(dir.path()).expect("station");
    let sizes = station.with_db(|db| {
        outbox::list(db)
            .expect("list")
            .iter()
            .map(|e| match outbox::stored(db, &e.id).expect("stored") {
                outbox::Stored::V3(file) => file.to_bytes().len() as u64,
                outbox::Stored::V2 { .. } => panic!("format 3 expected"),
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(sizes.len(), PACKETS as usize);
    (dir, sizes)
}

/// A copy of the template station (same id, key and packets).
fn copy_station(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(from).expect("template") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), to.path().join(entry.file_name())).expect("copy");
        }
    }
    to
}

#[derive(Debug, Clone, Copy)]
struct Case {
    /// Bytes per second each way; `None`: no limit.
    rate: Option<u64>,
    chunk: u32,
    concurrency: u8,
    /// HTTPS to the intake (pinned self-signed certificate); else plain
    /// HTTP on loopback.
    tls: bool,
    /// Added before every response (a round trip of a real link; plain
    /// HTTP only).
    delay_ms: u64,
}

#[derive(Debug, Clone, Copy)]
struct Measured {
    elapsed: Duration,
    /// Bytes client → intake through the proxy (heads included).
    wire_up: u64,
    requests: u64,
    connections: u64,
}

async fn run(template: &Path, case: Case) -> Measured {
    let st = copy_station(template);
    let intake_dir = tempfile::tempdir().expect("intake dir");
    std::fs::write(
        intake_dir.path().join("intake.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\ntls = {}\ntls_names = [\"localhost\"]\n\
             identities = [\"{}\"]\n",
            case.tls,
            st.path().join("DEMO-authority-identity.txt").display()
        ),
    )
    .expect("intake config");
    let intake = Arc::new(Intake::open(intake_dir.path()).expect("intake opens"));
    let mut config = std::fs::read_to_string(st.path().join("pishkhan.toml")).expect("config");
    if case.tls {
        let pem = intake.certificate_pem().expect("self-signed certificate");
        std::fs::write(st.path().join("intake-cert.pem"), pem).expect("pin");
    }
    {
        let station = Station::open(st.path()).expect("station");
        intake
            .register(&station.id.to_string(), &station.verifying_key(), "bench")
            .expect("register");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(intake.clone().serve(listener));
    let mode = if case.tls { Mode::Raw } else { Mode::Http };
    let proxy = Proxy::start(addr, mode).await.expect("proxy");
    if case.delay_ms > 0 {
        proxy.add(
            Rule::new(Fault::Stall(
                At::Response(0),
                Duration::from_millis(case.delay_ms),
            ))
            .times(u32::MAX),
        );
    }
    let url = if case.tls {
        format!("https://localhost:{}/files/", proxy.addr().port())
    } else {
        format!("http://{}/files/", proxy.addr())
    };
    config.push_str(&format!(
        "[upload]\nurl = \"{url}\"\nintake_key = \"{}\"\nchunk_bytes = {}\n\
         concurrency = {}\nretry_base_ms = 50\nretry_max_ms = 400\n",
        hex::encode(intake.verifying_key().as_bytes()),
        case.chunk,
        case.concurrency,
    ));
    if case.tls {
        config.push_str("server_certificate = \"intake-cert.pem\"\n");
    }
    std::fs::write(st.path().join("pishkhan.toml"), config).expect("config");
    let station = Arc::new(Station::open(st.path()).expect("station"));
    let uploader = Arc::new(Uploader::new(station).expect("uploader"));

    proxy.set_rate_limit(case.rate);
    let start = Instant::now();
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..case.concurrency.max(1) {
        let uploader = uploader.clone();
        senders.spawn(async move { uploader.drain().await });
    }
    let mut sent = Vec::new();
    while let Some(done) = senders.join_next().await {
        sent.extend(done.expect("sender").expect("no worker error"));
    }
    let elapsed = start.elapsed();

    let acknowledged = sent
        .iter()
        .filter(|s| matches!(s, Sent::Acknowledged { .. }))
        .count();
    assert_eq!(acknowledged, PACKETS as usize, "{sent:?}");
    assert_eq!(
        intake.status().expect("status").accepted,
        u64::from(PACKETS)
    );
    let counts = proxy.counts();
    server.abort();
    Measured {
        elapsed,
        wire_up: counts.to_server,
        requests: counts.requests,
        connections: counts.connections,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn human_rate(rate: Option<u64>) -> String {
    match rate {
        None => "unlimited".into(),
        Some(r) if r >= MIB => format!("{} MiB/s", r / MIB),
        Some(r) => format!("{} KiB/s", r / KIB),
    }
}

fn link(case: Case) -> String {
    let mut link = human_rate(case.rate);
    if case.delay_ms > 0 {
        link.push_str(&format!(", +{} ms a request", case.delay_ms));
    }
    if case.tls {
        link.push_str(", HTTPS");
    }
    link
}

fn human_bytes(n: u64) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{} KiB", n.div_ceil(KIB))
    }
}

/// What a run of `case` gives: the median run and the goodput of every run.
fn measure(
    runtime: &tokio::runtime::Runtime,
    template: &Path,
    case: Case,
    reps: usize,
    payload: u64,
) -> (Measured, Vec<f64>) {
    let mut runs: Vec<Measured> = (0..reps)
        .map(|_| runtime.block_on(run(template, case)))
        .collect();
    runs.sort_by_key(|m| m.elapsed);
    // The bucket starts full: its first 50 ms of bytes pass at once, so
    // they count as link time.
    let credit = if case.rate.is_some() { BURST_S } else { 0.0 };
    let goodputs = runs
        .iter()
        .map(|m| payload as f64 / (m.elapsed.as_secs_f64() + credit))
        .collect();
    (runs[runs.len() / 2], goodputs)
}

/// The server's own work on one packet: the judge (header signature, age
/// decryption, manifest, parts, ANSI/NIST checks) and writing the packet
/// with an fsync, as the intake does for the `.part` file; and one SQLite
/// commit.
fn server_work(template: &Path) -> (Duration, Duration, Duration) {
    let station = Station::open(template).expect("station");
    let files: Vec<Vec<u8>> = station.with_db(|db| {
        outbox::list(db)
            .expect("list")
            .iter()
            .map(|e| match outbox::stored(db, &e.id).expect("stored") {
                outbox::Stored::V3(file) => file.to_bytes(),
                outbox::Stored::V2 { .. } => panic!("format 3 expected"),
            })
            .collect()
    });
    let mut registry = Registry::default();
    registry.register(&station.id.to_string(), &station.verifying_key(), "bench");
    let identity = pishkhan::station::read_identity(&template.join("DEMO-authority-identity.txt"))
        .expect("identity");
    let start = Instant::now();
    for bytes in &files {
        pishkhan::intake::judge::judge(bytes, &registry, std::slice::from_ref(&identity))
            .expect("accepted");
    }
    let judge = start.elapsed() / files.len() as u32;
    let scratch = tempfile::tempdir().expect("scratch");
    let start = Instant::now();
    for (i, bytes) in files.iter().enumerate() {
        let path = scratch.path().join(format!("{i}.part"));
        let mut file = std::fs::File::create(path).expect("create");
        std::io::Write::write_all(&mut file, bytes).expect("write");
        file.sync_all().expect("fsync");
    }
    let fsync = start.elapsed() / files.len() as u32;
    // One small commit as the outbox and the intake make them (WAL,
    // synchronous = FULL).
    let db = rusqlite::Connection::open(scratch.path().join("probe.db")).expect("db");
    db.pragma_update(None, "journal_mode", "WAL").expect("wal");
    db.pragma_update(None, "synchronous", "FULL").expect("full");
    db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .expect("table");
    let start = Instant::now();
    for i in 0..files.len() {
        db.execute("INSERT INTO t (id, v) VALUES (?1, 'x')", [i as i64])
            .expect("insert");
    }
    let commit = start.elapsed() / files.len() as u32;
    (judge, fsync, commit)
}

fn main() {
    let reps = std::env::var("PISHKHAN_GOODPUT_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r: &usize| r > 0)
        .unwrap_or(REPS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let (template, sizes) = template();
    let payload: u64 = sizes.iter().sum();
    let mean = payload / sizes.len() as u64;
    println!(
        "goodput: {PACKETS} packets from the virtual slap scanner, {payload} bytes in all \
         ({mean} bytes each, {}–{}), median of {reps} runs",
        sizes.iter().min().copied().unwrap_or(0),
        sizes.iter().max().copied().unwrap_or(0),
    );

    let default_chunk = pishkhan::config::UploadConfig::default().chunk_bytes;
    // The latency a packet costs besides its bytes: an unlimited link.
    let (free, _) = measure(
        &runtime,
        template.path(),
        Case {
            rate: None,
            chunk: default_chunk,
            concurrency: 1,
            tls: false,
            delay_ms: 0,
        },
        reps,
        payload,
    );
    let per_packet = free.elapsed / PACKETS;

    let mut cases = Vec::new();
    // `cargo bench --bench goodput -- latency`: only the unlimited link
    // and the parts of a packet's latency.
    let latency_only = std::env::args().any(|a| a == "latency");
    for rate in [256 * KIB, MIB, 4 * MIB] {
        for concurrency in [1, 2] {
            cases.push(Case {
                rate: Some(rate),
                chunk: default_chunk,
                concurrency,
                tls: false,
                delay_ms: 0,
            });
        }
    }
    // Smaller chunks: a request and an fsync per 64 KiB.
    cases.push(Case {
        rate: Some(MIB),
        chunk: 64 * 1024,
        concurrency: 1,
        tls: false,
        delay_ms: 0,
    });
    // A round trip of 50 ms added to every request (a national WAN or a
    // mobile link): one packet after another, and two at a time.
    for concurrency in [1, 2] {
        cases.push(Case {
            rate: Some(MIB),
            chunk: default_chunk,
            concurrency,
            tls: false,
            delay_ms: 50,
        });
    }
    // HTTPS end to end (the proxy forwards TLS bytes blind).
    cases.push(Case {
        rate: Some(MIB),
        chunk: default_chunk,
        concurrency: 1,
        tls: true,
        delay_ms: 0,
    });

    if latency_only {
        cases.clear();
    }
    println!();
    println!(
        "| link (each way) | chunk | concurrency | elapsed | goodput | % of link (runs) | \
         real link, estimated | bytes on the wire up | requests | goal |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut missed = Vec::new();
    for case in cases {
        let rate = case.rate.expect("limited") as f64;
        let (m, goodputs) = measure(&runtime, template.path(), case, reps, payload);
        let percents: Vec<f64> = goodputs.iter().map(|g| g / rate * 100.0).collect();
        let percent = median(percents.clone());
        let runs = percents
            .iter()
            .map(|p| format!("{p:.1}"))
            .collect::<Vec<_>>()
            .join(", ");
        // One packet after another on a real link of R (no token credit
        // for idle time): its bytes at R, plus the latency measured on the
        // unlimited link.
        let predicted = if case.concurrency == 1
            && case.chunk == default_chunk
            && !case.tls
            && case.delay_ms == 0
        {
            let wire = m.wire_up as f64 / f64::from(PACKETS);
            let transfer = wire / rate;
            format!(
                "{:.1} %",
                mean as f64 / rate / (transfer + per_packet.as_secs_f64()) * 100.0
            )
        } else {
            "—".into()
        };
        let met = percent >= GOAL;
        if !met {
            missed.push((case, percent));
        }
        println!(
            "| {} | {} | {} | {:.2} s | {:.0} KiB/s | **{percent:.1} %** ({runs}) | {predicted} | \
             {} (+{:.2} %) | {} | {} |",
            link(case),
            human_bytes(u64::from(case.chunk)),
            case.concurrency,
            m.elapsed.as_secs_f64(),
            median(goodputs) / KIB as f64,
            m.wire_up,
            (m.wire_up as f64 / payload as f64 - 1.0) * 100.0,
            if case.tls {
                "— (TLS)".to_owned()
            } else {
                m.requests.to_string()
            },
            if met { "met" } else { "MISSED" },
        );
    }

    let (judge, fsync, commit) = server_work(template.path());
    println!();
    println!(
        "unlimited link, concurrency 1: {:.2} s for {PACKETS} packets = {:.1} ms a packet \
         ({} requests on {} connection(s))",
        free.elapsed.as_secs_f64(),
        per_packet.as_secs_f64() * 1000.0,
        free.requests,
        free.connections,
    );
    println!(
        "  parts of it: judge {:.1} ms (signature, age, manifest, ANSI/NIST); writing the \
         .part with fsync {:.1} ms; one SQLite commit (WAL, synchronous = FULL) {:.1} ms, \
         of which a packet makes three on the station and three on the intake",
        judge.as_secs_f64() * 1000.0,
        fsync.as_secs_f64() * 1000.0,
        commit.as_secs_f64() * 1000.0,
    );
    println!(
        "the proxy's bucket lends {:.0} ms of link after every idle moment (counted once, at \
         the start), so a gap of up to that much between packets costs nothing here; a real \
         link has no such credit: the estimate adds the unlimited link's time a packet to its \
         bytes at R",
        BURST_S * 1000.0
    );
    for (case, percent) in &missed {
        println!(
            "MISSED: {} chunk {} concurrency {}: {percent:.1} % < {GOAL} %",
            link(*case),
            human_bytes(u64::from(case.chunk)),
            case.concurrency
        );
    }
    println!("bench took {:.0} s", started.elapsed().as_secs_f64());
}
