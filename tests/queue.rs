//! The outbox from the command line: verify (and tamper detection), export
//! to removable media and import at another station, open with the
//! authority's identity, and the ANSI/NIST tools on what comes out.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pishkhan::packet::SealedFile;
use pishkhan::station::Station;
use pishkhan::store::outbox;

fn pishkhan(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pishkhan"));
    cmd.env("PISHKHAN_DATA_DIR", dir)
        .env("PISHKHAN_LOG", "warn");
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    pishkhan(dir).args(args).output().expect("pishkhan runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

/// A station with `count` sealed test packets (self-test through the
/// virtual devices).
fn station_with_packets(count: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\nvirtual_scanner_delay_ms = 0\n",
    )
    .expect("config");
    ok(run(
        dir.path(),
        &["self-test", "--count", &count.to_string()],
    ));
    dir
}

fn list(dir: &Path) -> Vec<serde_json::Value> {
    let json: serde_json::Value =
        serde_json::from_str(&ok(run(dir, &["queue", "list", "--json"]))).expect("JSON");
    json.as_array().expect("array").clone()
}

fn identity_file(dir: &Path) -> PathBuf {
    dir.join(pishkhan::station::DEMO_IDENTITY_FILE)
}

#[test]
fn export_then_import_into_an_empty_station_round_trips() {
    let a = station_with_packets(2);
    let usb = tempfile::tempdir().expect("usb");
    let out = ok(run(
        a.path(),
        &["queue", "export", "--to", &usb.path().display().to_string()],
    ));
    assert!(out.contains("2 packet(s) written"), "{out}");
    let mut names: Vec<String> = std::fs::read_dir(usb.path())
        .expect("listable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        4,
        "two packets, the index and its signature: {names:?}"
    );
    assert!(names.contains(&"index.json".to_owned()) && names.contains(&"index.sig".to_owned()));

    // Exported packets stay queued for upload, marked.
    let at_a = list(a.path());
    for entry in &at_a {
        assert_eq!(entry["status"], "pending");
        assert!(entry["exported_at"].is_string(), "{entry}");
    }

    let b = tempfile::tempdir().expect("station b");
    let from = usb.path().display().to_string();
    let out = ok(run(b.path(), &["queue", "import", "--from", &from]));
    assert!(
        out.contains("2 added, 0 already queued, 0 refused"),
        "{out}"
    );
    let out = ok(run(b.path(), &["queue", "import", "--from", &from]));
    assert!(
        out.contains("0 added, 2 already queued, 0 refused"),
        "import is idempotent: {out}"
    );

    let at_b = list(b.path());
    assert_eq!(at_b.len(), 2);
    for (x, y) in at_a.iter().zip(&at_b) {
        assert_eq!(x["id"], y["id"]);
        assert_eq!(x["sha256"], y["sha256"]);
        assert_eq!(x["size"], y["size"]);
        assert_eq!(y["origin"], "imported");
        assert_eq!(y["status"], "pending", "B will upload it");
        assert_eq!(y["station_id"], x["station_id"]);
    }
    // Byte for byte the same sealed files.
    let sa = Station::open(a.path()).expect("a");
    let sb = Station::open(b.path()).expect("b");
    for entry in &at_a {
        let id = entry["id"].as_str().expect("id");
        let fa = sa.with_db(|db| outbox::stored(db, id)).expect("a has it");
        let fb = sb.with_db(|db| outbox::stored(db, id)).expect("b has it");
        let (outbox::Stored::V3(fa), outbox::Stored::V3(fb)) = (fa, fb) else {
            panic!("format 3");
        };
        assert_eq!(fa.to_bytes(), fb.to_bytes());
    }
    drop((sa, sb));

    let out = ok(run(b.path(), &["queue", "verify"]));
    assert!(out.contains("2 packet(s), 0 damaged"), "{out}");
    // B opens A's packets with the authority identity (A's demo key here).
    let id = at_b[0]["id"].as_str().expect("id");
    let identity = identity_file(a.path()).display().to_string();
    let out = ok(run(
        b.path(),
        &["queue", "verify", id, "--identity", &identity],
    ));
    assert!(out.contains("manifest signature"), "{out}");
    let opened = tempfile::tempdir().expect("out");
    let out = ok(run(
        b.path(),
        &[
            "queue",
            "open",
            id,
            "--identity",
            &identity,
            "--out",
            &opened.path().display().to_string(),
        ],
    ));
    assert!(out.contains("packet verified"), "{out}");
    let an2 = opened.path().join("transaction.an2");
    for file in ["header.json", "manifest.json"] {
        assert!(opened.path().join(file).is_file(), "{file}");
    }
    let an2_arg = an2.display().to_string();
    let out = ok(run(b.path(), &["an2k", "check", &an2_arg]));
    assert!(out.contains(": ok ("), "{out}");
    let dump = ok(run(b.path(), &["an2k", "dump", &an2_arg]));
    assert!(
        dump.contains("[1.002]=0502"),
        "{}",
        &dump[..dump.len().min(400)]
    );
    assert!(
        dump.contains("[1.004]=NIDTST"),
        "a self-test packet is a test transaction"
    );
    assert!(dump.contains("[14.011]=WSQ20"));
    assert!(dump.contains("[10.011]=JPEGB"));
}

#[test]
fn import_refuses_a_changed_packet_and_a_forged_index() {
    let a = station_with_packets(1);
    let usb = tempfile::tempdir().expect("usb");
    let from = usb.path().display().to_string();
    ok(run(a.path(), &["queue", "export", "--to", &from]));
    let pkp = std::fs::read_dir(usb.path())
        .expect("list")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "pkp"))
        .expect("a packet file");
    let mut bytes = std::fs::read(&pkp).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&pkp, &bytes).expect("write");
    let b = tempfile::tempdir().expect("b");
    let out = run(b.path(), &["queue", "import", "--from", &from]);
    assert!(!out.status.success());
    assert!(stdout(&out).contains("REFUSED"), "{}", stdout(&out));
    assert!(list(b.path()).is_empty(), "nothing damaged gets in");

    // An index edited after signing is refused as a whole.
    let index = usb.path().join("index.json");
    let text = std::fs::read_to_string(&index).expect("index");
    std::fs::write(&index, text.replace("\"size\": ", "\"size\":  ")).expect("edit");
    let out = run(b.path(), &["queue", "import", "--from", &from]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("signature"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Flips `bit` of byte `at` in column `column` of the outbox row `id`.
fn flip(db: &Path, id: &str, column: &str, at: usize, bit: u8) {
    let conn = rusqlite::Connection::open(db).expect("db");
    let mut value: Vec<u8> = conn
        .query_row(
            &format!("SELECT CAST({column} AS BLOB) FROM outbox WHERE id = ?1"),
            [id],
            |r| r.get(0),
        )
        .expect("row");
    value[at] ^= bit;
    if column == "signature" {
        let text = String::from_utf8_lossy(&value).into_owned();
        conn.execute(
            "UPDATE outbox SET signature = ?2 WHERE id = ?1",
            [id, &text],
        )
        .expect("update");
    } else {
        conn.execute(
            &format!("UPDATE outbox SET {column} = ?2 WHERE id = ?1"),
            rusqlite::params![id, value],
        )
        .expect("update");
    }
}

fn column_len(db: &Path, id: &str, column: &str) -> usize {
    let conn = rusqlite::Connection::open(db).expect("db");
    conn.query_row(
        &format!("SELECT length(CAST({column} AS BLOB)) FROM outbox WHERE id = ?1"),
        [id],
        |r| r.get::<_, i64>(0),
    )
    .expect("row") as usize
}

#[test]
fn queue_verify_catches_a_change_to_any_byte_of_a_packet_or_its_header() {
    let a = station_with_packets(1);
    let db = a.path().join("pishkhan.db");
    let id = list(a.path())[0]["id"].as_str().expect("id").to_owned();
    let station = Station::open(a.path()).expect("station");
    let entry = station.with_db(|d| outbox::find(d, &id)).expect("entry");
    let clean = pishkhan::queue::verify(&station, &entry, None);
    assert!(clean.ok, "{clean:?}");

    // In process, every byte of the header and the signature, and bytes
    // spread over the whole ciphertext (each flipped, checked, restored).
    let mut checked = 0;
    for column in ["header", "signature", "payload"] {
        let len = column_len(&db, &id, column);
        let positions: Vec<usize> = if column == "payload" {
            (0..len)
                .step_by((len / 300).max(1))
                .chain([len - 1])
                .collect()
        } else {
            (0..len).collect()
        };
        for at in positions {
            flip(&db, &id, column, at, 0x04);
            let verdict = pishkhan::queue::verify(&station, &entry, None);
            assert!(!verdict.ok, "{column} byte {at} changed unnoticed");
            flip(&db, &id, column, at, 0x04);
            checked += 1;
        }
    }
    assert!(checked > 700, "{checked}");
    assert!(
        pishkhan::queue::verify(&station, &entry, None).ok,
        "restored"
    );

    // Every byte of the sealed file as it is exported (first line, header,
    // signature, ciphertext), through the check `queue verify` makes of a
    // stored packet (`SealedFile::verify` with this station's key).
    let outbox::Stored::V3(file) = station.with_db(|d| outbox::stored(d, &id)).expect("stored")
    else {
        panic!("a pishkhan-sealed/3 packet");
    };
    let own = station.verifying_key();
    let mut bytes = file.to_bytes();
    SealedFile::parse(&bytes)
        .and_then(|f| f.verify(Some(&own)))
        .expect("the clean file verifies");
    for at in 0..bytes.len() {
        bytes[at] ^= 0x04;
        let caught = SealedFile::parse(&bytes)
            .and_then(|f| f.verify(Some(&own)))
            .is_err();
        assert!(caught, "byte {at} of {} changed unnoticed", bytes.len());
        bytes[at] ^= 0x04;
    }
    drop(station);

    // And through the command: a change in each part, the ciphertext's
    // first and last bytes among them.
    let last = column_len(&db, &id, "payload") - 1;
    for (column, at) in [
        ("header", 30),
        ("signature", 7),
        ("payload", 0),
        ("payload", 5000),
        ("payload", last),
    ] {
        flip(&db, &id, column, at, 0x01);
        let out = run(a.path(), &["queue", "verify"]);
        assert!(!out.status.success(), "{column}");
        let text = stdout(&out);
        assert!(
            text.contains("DAMAGED") && text.contains("1 damaged"),
            "{text}"
        );
        flip(&db, &id, column, at, 0x01);
    }
    ok(run(a.path(), &["queue", "verify"]));
}

#[test]
fn acknowledged_packets_leave_at_start_after_the_configured_days_with_an_audit_line() {
    let a = station_with_packets(3);
    let ids: Vec<String> = list(a.path())
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    // One acknowledged 8 days ago, one 6 days ago, one still pending; the
    // station keeps acknowledged packets 7 days.
    let conn = rusqlite::Connection::open(a.path().join("pishkhan.db")).expect("db");
    for (id, days) in [(&ids[0], 8), (&ids[1], 6)] {
        let at = (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339();
        conn.execute(
            "UPDATE outbox SET status = 'acknowledged', acknowledged_at = ?2 WHERE id = ?1",
            [id.as_str(), &at],
        )
        .expect("acknowledge");
    }
    drop(conn);
    let config = a.path().join("pishkhan.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        format!("{text}[outbox]\nkeep_acknowledged_days = 7\n"),
    )
    .expect("config");

    let station = Station::open(a.path()).expect("station");
    let left: Vec<String> = station
        .with_db(outbox::list)
        .expect("outbox")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(!left.contains(&ids[0]), "the 8-day-old one is gone");
    assert!(left.contains(&ids[1]) && left.contains(&ids[2]));
    let purged: Vec<_> = station
        .with_db(pishkhan::store::audit::list)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "packets-purged")
        .collect();
    assert_eq!(purged.len(), 1);
    assert_eq!(
        purged[0].detail.as_deref(),
        Some("1 acknowledged more than 7 days ago")
    );
    drop(station);
    // Opening again purges nothing more.
    let station = Station::open(a.path()).expect("station");
    assert_eq!(station.with_db(outbox::list).expect("outbox").len(), 2);
}

#[test]
fn a_v2_packet_queued_before_the_ansi_nist_format_still_opens() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/packets/v2");
    let ciphertext = std::fs::read(fixture.join("packet.age")).expect("fixture");
    let signature = std::fs::read_to_string(fixture.join("signature.hex")).expect("sig");
    let key_hex = std::fs::read_to_string(fixture.join("station.pub.hex")).expect("key");
    let key = ed25519_dalek::VerifyingKey::from_bytes(
        &hex::decode(key_hex.trim())
            .expect("hex")
            .try_into()
            .expect("32 bytes"),
    )
    .expect("key");
    pishkhan::packet::legacy::verify_sealed(&ciphertext, signature.trim(), &key)
        .expect("outer signature");
    let identity =
        pishkhan::station::read_identity(&fixture.join("authority-identity.txt")).expect("id");
    let opened = pishkhan::packet::legacy::open(&ciphertext, &identity).expect("decrypts");
    opened.verify(&key).expect("manifest signature and files");
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture.join("manifest.json")).expect("manifest copy"),
    )
    .expect("JSON");
    assert_eq!(opened.manifest, expected);
    assert_eq!(opened.manifest["format"], "pishkhan-packet/2");
    let mut tampered = ciphertext.clone();
    tampered[100] ^= 1;
    assert!(pishkhan::packet::legacy::verify_sealed(&tampered, signature.trim(), &key).is_err());
}

#[test]
fn a_v3_fixture_packet_still_opens() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/packets/v3");
    let bytes = std::fs::read(fixture.join("packet.pkp")).expect("fixture");
    let file = SealedFile::parse(&bytes).expect("layout");
    file.verify(None).expect("header signature");
    let identity =
        pishkhan::station::read_identity(&fixture.join("authority-identity.txt")).expect("id");
    let opened = pishkhan::packet::open(&file, &identity).expect("decrypts");
    opened
        .verify(&file.station_key().expect("key"))
        .expect("manifest, parts and transaction");
    assert_eq!(opened.manifest.format, "pishkhan-packet/3");
}

#[test]
fn a_v2_packet_waiting_in_an_old_outbox_survives_the_migration_and_opens() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/packets/v2");
    let dir = tempfile::tempdir().expect("tempdir");
    // The station as it was: schema 1, its key, one queued v2 packet.
    std::fs::write(
        dir.path().join("station.key"),
        format!("{}\n", "42".repeat(32)),
    )
    .expect("key");
    let conn = rusqlite::Connection::open(dir.path().join("pishkhan.db")).expect("db");
    conn.execute_batch(include_str!("../src/store/migrations/001_initial.sql"))
        .expect("schema 1");
    conn.pragma_update(None, "user_version", 1)
        .expect("version");
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('station_id', '0197f3c2-5a10-7e4b-9c2d-6f1e8a3b7c07')",
        [],
    )
    .expect("meta");
    let ciphertext = std::fs::read(fixture.join("packet.age")).expect("fixture");
    let signature = std::fs::read_to_string(fixture.join("signature.hex")).expect("sig");
    let sha = std::fs::read_to_string(fixture.join("sha256.hex")).expect("sha");
    conn.execute(
        "INSERT INTO outbox (id, seq, tracking_code, status, size, sha256, signature, created_at, payload)
         VALUES ('019aa8f0-2c00-7000-8000-00000000f1c2', 1, '1405000700000188', 'uploading', ?1, ?2, ?3,
                 '2026-11-22T08:54:18Z', ?4)",
        rusqlite::params![
            ciphertext.len() as i64,
            sha.trim(),
            signature.trim(),
            ciphertext
        ],
    )
    .expect("queued v2 packet");
    drop(conn);

    let entries = list(dir.path());
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["format"], 2);
    assert_eq!(
        entries[0]["status"], "pending",
        "an interrupted upload is queued again"
    );
    assert_eq!(entries[0]["tracking_code"], "1405000700000188");
    let identity = fixture.join("authority-identity.txt").display().to_string();
    let out = ok(run(
        dir.path(),
        &["queue", "verify", "--identity", &identity],
    ));
    assert!(out.contains("1 packet(s), 0 damaged"), "{out}");
    let opened = tempfile::tempdir().expect("out");
    let out = ok(run(
        dir.path(),
        &[
            "queue",
            "open",
            "1405000700000188",
            "--identity",
            &identity,
            "--out",
            &opened.path().display().to_string(),
        ],
    ));
    assert!(out.contains("packet verified"), "{out}");
    assert!(opened.path().join("portrait.jpg").is_file());
    let fingers = std::fs::read_dir(opened.path().join("fingers"))
        .expect("fingers written")
        .count();
    assert_eq!(fingers, 8, "the fixture's eight finger images");
    // The next packet sealed here does not reuse the old sequence number.
    let station = Station::open(dir.path()).expect("opens");
    let seq = station.with_db(outbox::take_seq).expect("seq");
    assert_eq!(seq, 2);
}

/// `pishkhan queue resolve ARGS…` with the supervisor's password on stdin.
fn resolve(dir: &Path, args: &[&str], password: &str) -> Output {
    use std::io::Write;
    let mut child = pishkhan(dir)
        .args(["queue", "resolve"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pishkhan runs");
    // A command that fails before reading stdin closes it early.
    let _ = writeln!(child.stdin.take().expect("stdin"), "{password}");
    child.wait_with_output().expect("pishkhan ends")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_supervisor_requeues_or_dismisses_a_rejected_packet_from_the_command_line() {
    use pishkhan::store::accounts::{self, Role};
    const PASSWORD: &str = "چهار-اسب-درست";
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "language = \"en\"\n[devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\nvirtual_scanner_delay_ms = 0\n",
    )
    .expect("config");
    ok(run(dir.path(), &["self-test", "--count", "3"]));
    let ids: Vec<String> = list(dir.path())
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    {
        let station = Station::open(dir.path()).expect("station");
        station
            .with_db(|db| {
                accounts::create(db, "sara", "سارا مدیری", Role::Supervisor, PASSWORD, None)?;
                accounts::create(db, "omid", "امید", Role::Operator, PASSWORD, None)
            })
            .expect("accounts");
        // As the uploader leaves packets the intake refused (tests/upload.rs
        // and the queue screen's test make these against a real intake).
        station.with_db(|db| {
            for (id, reason) in [(&ids[0], "unregistered-station"), (&ids[1], "tampered")] {
                db.execute(
                    "UPDATE outbox SET status = 'rejected', reject_reason = ?2, attempts = 1,
                            last_error = ?2 || ': refused', upload_url = 'http://intake/files/1'
                     WHERE id = ?1",
                    [id.as_str(), reason],
                )
                .expect("rejected");
            }
        });
    }

    // One action, and a note with a dismissal.
    let out = resolve(dir.path(), &[&ids[0], "--supervisor", "sara"], PASSWORD);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = resolve(
        dir.path(),
        &[&ids[0], "--requeue", "--dismiss", "--supervisor", "sara"],
        PASSWORD,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = resolve(
        dir.path(),
        &[&ids[1], "--dismiss", "--supervisor", "sara"],
        PASSWORD,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // A supervisor, with the right password.
    let out = resolve(
        dir.path(),
        &[&ids[0], "--requeue", "--supervisor", "omid"],
        PASSWORD,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a supervisor"),
        "{}",
        stderr(&out)
    );
    let out = resolve(
        dir.path(),
        &[&ids[0], "--requeue", "--supervisor", "sara"],
        "wrong",
    );
    assert!(!out.status.success());
    // Only a rejected packet.
    let out = resolve(
        dir.path(),
        &[&ids[2], "--requeue", "--supervisor", "sara"],
        PASSWORD,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is not a refused packet"),
        "{}",
        stderr(&out)
    );
    let rows = list(dir.path());
    assert_eq!(rows[0]["status"], "rejected", "refusals changed nothing");

    // Re-queued by id prefix: pending from the start.
    let out = ok(resolve(
        dir.path(),
        &[&ids[0][..13], "--requeue", "--supervisor", "sara"],
        PASSWORD,
    ));
    assert!(out.contains("queued again"), "{out}");
    // Dismissed with a note (password from the environment this time).
    let note = "enrolled again under a new tracking code";
    let out = ok(pishkhan(dir.path())
        .env("PISHKHAN_SUPERVISOR_PASSWORD", PASSWORD)
        .args(["queue", "resolve", &ids[1], "--dismiss", "--note", note])
        .args(["--supervisor", "sara"])
        .output()
        .expect("runs"));
    assert!(out.contains("not to be sent"), "{out}");

    let rows = list(dir.path());
    let (requeued, dismissed) = (&rows[0], &rows[1]);
    assert_eq!(requeued["status"], "pending");
    assert_eq!(requeued["attempts"], 0);
    assert!(requeued["reject_reason"].is_null() && requeued["last_error"].is_null());
    assert_eq!(dismissed["status"], "rejected");
    assert_eq!(dismissed["reject_reason"], "tampered");
    assert_eq!(dismissed["dismissed_by"], "sara");
    assert_eq!(dismissed["dismiss_note"], note);
    let table = ok(run(dir.path(), &["queue", "list"]));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&ids[1]) && l.contains("dismissed")),
        "{table}"
    );
    // A decision is final: the dismissed packet is not re-queued.
    let out = resolve(
        dir.path(),
        &[&ids[1], "--requeue", "--supervisor", "sara"],
        PASSWORD,
    );
    assert!(!out.status.success());
    let station = Station::open(dir.path()).expect("station");
    assert!(
        station
            .with_db(|db| outbox::upload_url(db, &ids[0]))
            .expect("url")
            .is_none(),
        "the intake's old upload is forgotten"
    );
    let events = station
        .with_db(pishkhan::store::audit::list)
        .expect("audit");
    for (action, id) in [("packet-requeued", &ids[0]), ("packet-dismissed", &ids[1])] {
        assert!(
            events.iter().any(|e| e.action == action
                && e.actor == "sara"
                && e.subject.as_deref() == Some(id.as_str())),
            "{action} of {id} audited"
        );
    }
}
