//! Cross-check against an independent implementation: IDEMIA's `nistitl`
//! (PyPI `nistitl==0.6`) through `tests/reference/an2k_nistitl.py`.
//!
//! Both directions, on a realistic enrolment transaction: what we encode,
//! nistitl parses to exactly our fields (LEN and CNT included); what nistitl
//! builds from our fields, we decode to the same transaction. And on the
//! NBIS samples both readers see the same fields.
//!
//! nistitl's ways, and how they are handled here (none weakens a check):
//! - it reads and writes text as Latin-1; the script re-codes text as UTF-8
//!   when 1.015 DCS declares UTF-8;
//! - it converts IDC and LEN to integers, so an IDC written `00` (NBIS
//!   samples) comes back `0`: sample IDCs are compared as numbers;
//! - its CNT check compares `type != CNT type and IDC != CNT IDC`, so a CNT
//!   with a wrong IDC but the right type passes; our reader refuses it
//!   (tests/syntax.rs).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use pishkhan_an2k::{Record, Transaction, Value, decode, encode};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script() -> PathBuf {
    repo().join("tests/reference/an2k_nistitl.py")
}

/// The Python interpreter of the reference venv, or `None` (with a note on
/// stderr) when it is not set up; `PISHKHAN_REQUIRE_REFERENCE=1` turns its
/// absence into a failure (the pattern of the fingerprint crate's tests).
fn reference_python() -> Option<PathBuf> {
    let from_env = std::env::var_os("PISHKHAN_REFERENCE_PYTHON").map(PathBuf::from);
    let default = repo().join("target/reference-venv/bin/python");
    let python = from_env.or_else(|| default.exists().then_some(default));
    let usable = python.filter(|p| {
        Command::new(p)
            .args(["-c", "import nistitl"])
            .status()
            .is_ok_and(|s| s.success())
    });
    if usable.is_none() {
        let required = std::env::var("PISHKHAN_REQUIRE_REFERENCE").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "the reference venv is required (PISHKHAN_REQUIRE_REFERENCE=1) but \
             PISHKHAN_REFERENCE_PYTHON is unset or cannot import nistitl; \
             run `bash installer/dev.sh test`"
        );
        eprintln!(
            "SKIPPED: no reference venv with nistitl (set PISHKHAN_REFERENCE_PYTHON or run \
             `bash installer/dev.sh test`)"
        );
    }
    usable
}

/// Runs `python args…`; returns stdout, panicking with stderr on failure.
fn run(python: &Path, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(python)
        .args(args)
        .output()
        .expect("python starts");
    assert!(
        out.status.success(),
        "reference script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A JSON string literal.
fn string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A field value as the script writes it: subfields of items, or for
/// binary data its size and SHA-256 (`hex_data`: the bytes in hex, as
/// `build` takes them).
fn json_value(value: &Value, hex_data: bool) -> String {
    match value {
        Value::Text(subfields) => {
            let rows: Vec<String> = subfields
                .iter()
                .map(|items| {
                    let items: Vec<String> = items.iter().map(|i| string(i)).collect();
                    format!("[{}]", items.join(", "))
                })
                .collect();
            format!("[{}]", rows.join(", "))
        }
        Value::Binary(data) if hex_data => format!("{{\"hex\": \"{}\"}}", hex::encode(data)),
        Value::Binary(data) => {
            use sha2::Digest;
            format!(
                "{{\"binary\": {}, \"sha256\": \"{}\"}}",
                data.len(),
                hex::encode(sha2::Sha256::digest(data))
            )
        }
    }
}

/// `records` in the script's JSON shape, each with `extra` fields first.
fn json(records: &[(&Record, Vec<(u16, Value)>)], hex_data: bool) -> String {
    let records: Vec<String> = records
        .iter()
        .map(|(r, extra)| {
            let fields: Vec<String> = extra
                .iter()
                .map(|(tag, v)| (*tag, v))
                .chain(r.fields.iter().map(|f| (f.tag, &f.value)))
                .map(|(tag, v)| format!("\"{}.{tag:03}\": {}", r.kind, json_value(v, hex_data)))
                .collect();
            format!(
                "{{\"type\": {}, \"fields\": {{{}}}}}",
                r.kind,
                fields.join(", ")
            )
        })
        .collect();
    format!("{{\"records\": [{}]}}\n", records.join(", "))
}

/// Compares what nistitl parses from `file` with `expected` (JSON), field
/// by field, ignoring the fields whose tags match `skip` (`*.001`: every
/// LEN); panics listing every difference.
fn compare(python: &Path, file: &Path, expected: &str, skip: &[&str]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let expected_path = dir.path().join("expected.json");
    std::fs::write(&expected_path, expected).expect("writes");
    let code = r#"
import json, sys, fnmatch, importlib.util
spec = importlib.util.spec_from_file_location("an2k_nistitl", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
got = m.parse(sys.argv[2])["records"]
want = json.load(open(sys.argv[3], encoding="utf-8"))["records"]
skip = sys.argv[4:]
bad = []
if [r["type"] for r in got] != [r["type"] for r in want]:
    bad.append("record types: nistitl %s, ours %s" % ([r["type"] for r in got], [r["type"] for r in want]))
for n, (g, w) in enumerate(zip(got, want), 1):
    gf = {k: v for k, v in g["fields"].items() if not any(fnmatch.fnmatch(k, p) for p in skip)}
    if list(gf) != list(w["fields"]):
        bad.append("record %d tags: nistitl %s, ours %s" % (n, list(gf), list(w["fields"])))
    for k in w["fields"]:
        if gf.get(k) != w["fields"][k]:
            bad.append("record %d %s: nistitl %r, ours %r" % (n, k, gf.get(k), w["fields"][k]))
print("\n".join(bad))
print("fields compared: %d" % sum(len(r["fields"]) for r in want))
"#;
    let script = script();
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "-c".as_ref(),
        code.as_ref(),
        script.as_os_str(),
        file.as_os_str(),
        expected_path.as_os_str(),
    ];
    args.extend(skip.iter().map(|s| std::ffi::OsStr::new(*s)));
    let report = run(python, &args);
    let (differences, count) = report.trim_end().rsplit_once('\n').unwrap_or(("", &report));
    assert!(
        differences.trim().is_empty(),
        "nistitl disagrees:\n{differences}"
    );
    eprintln!("{file:?}: {}", count.trim());
}

/// The LEN of every record and the CNT, as they must appear in our output.
fn framing(tx: &Transaction, bytes: &[u8]) -> Vec<Vec<(u16, Value)>> {
    let mut lens = Vec::new();
    let mut at = 0;
    for r in &tx.records {
        let len = if (3..=8).contains(&r.kind) {
            let b = &bytes[at..at + 4];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        } else {
            // `T.001:LEN` GS: the digits between the colon and the GS.
            let colon = at + bytes[at..].iter().position(|&b| b == b':').expect(":");
            let gs = colon + bytes[colon..].iter().position(|&b| b == 0x1D).expect("GS");
            std::str::from_utf8(&bytes[colon + 1..gs])
                .ok()
                .and_then(|d| d.parse().ok())
                .expect("LEN")
        };
        lens.push(len);
        at += len;
    }
    assert_eq!(at, bytes.len());
    let mut cnt = vec![vec!["1".to_owned(), (tx.records.len() - 1).to_string()]];
    for r in &tx.records[1..] {
        cnt.push(vec![r.kind.to_string(), r.idc().expect("IDC").to_string()]);
    }
    lens.iter()
        .enumerate()
        .map(|(i, &len)| {
            let mut extra = vec![(1, Value::item(len.to_string()))];
            if i == 0 {
                extra.push((3, Value::Text(cnt.clone())));
            }
            extra
        })
        .collect()
}

#[test]
fn nistitl_parses_what_we_encode() {
    let Some(python) = reference_python() else {
        return;
    };
    let tx = common::enrolment();
    let bytes = encode(&tx).expect("encodes");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("enrolment.an2");
    std::fs::write(&file, &bytes).expect("writes");
    let extras = framing(&tx, &bytes);
    // Our Type-1 fields with CNT in its place (after VER).
    let mut t1 = tx.records[0].clone();
    let (cnt_tag, cnt) = extras[0][1].clone();
    t1.fields.insert(
        1,
        pishkhan_an2k::Field {
            tag: cnt_tag,
            value: cnt,
        },
    );
    let mut records = vec![(&t1, vec![extras[0][0].clone()])];
    records.extend(tx.records[1..].iter().zip(extras[1..].iter().cloned()));
    compare(&python, &file, &json(&records, false), &[]);
}

#[test]
fn we_decode_what_nistitl_builds() {
    let Some(python) = reference_python() else {
        return;
    };
    let tx = common::enrolment();
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = dir.path().join("spec.json");
    let out = dir.path().join("built.an2");
    let records: Vec<(&Record, Vec<(u16, Value)>)> =
        tx.records.iter().map(|r| (r, Vec::new())).collect();
    std::fs::write(&spec, json(&records, true)).expect("writes");
    run(
        &python,
        &[
            script().as_os_str(),
            "build".as_ref(),
            spec.as_os_str(),
            out.as_os_str(),
        ],
    );
    let built = std::fs::read(&out).expect("reads");
    assert_eq!(decode(&built).expect("decodes nistitl's output"), tx);
    // nistitl sorts every record's fields and puts DATA last; the typed
    // records and the Type-2 fixture are already in that order, so both
    // writers produce the same bytes.
    assert_eq!(built, encode(&tx).expect("encodes"));
}

#[test]
fn both_readers_see_the_same_nbis_samples() {
    let Some(python) = reference_python() else {
        return;
    };
    for name in ["valid1.1.an2", "valid1.15.an2", "face_jpb_DOM_GMT_DCS.an2"] {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name);
        let tx = decode(&std::fs::read(&file).expect("reads")).expect("decodes");
        // LEN and CNT are not in our model (and our LENs are those of the
        // re-encoding); nistitl reads IDCs as numbers.
        let numeric: Vec<Record> = tx
            .records
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if let (Some(idc), Some(f)) = (r.idc(), r.fields.iter_mut().find(|f| f.tag == 2))
                    && r.kind != 1
                {
                    f.value = Value::item(idc.to_string());
                }
                r
            })
            .collect();
        let records: Vec<(&Record, Vec<(u16, Value)>)> =
            numeric.iter().map(|r| (r, Vec::new())).collect();
        compare(&python, &file, &json(&records, false), &["*.001", "1.003"]);
    }
}
