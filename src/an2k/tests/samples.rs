//! NBIS sample transactions (see `data/README.md`) through `decode`,
//! `encode`, `problems`, the typed records and `dump`.

use std::path::Path;

use pishkhan_an2k::records::{FaceRecord, Type1};
use pishkhan_an2k::{Record, Transaction, Value, decode, dump, encode, problems};
use sha2::{Digest, Sha256};

fn sample(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn kinds(tx: &Transaction) -> Vec<u8> {
    tx.records.iter().map(|r| r.kind).collect()
}

/// Decoding, re-encoding (three-digit tags, recomputed LENs) and decoding
/// again gives the same transaction.
fn stable(tx: &Transaction) {
    let again = decode(&encode(tx).expect("encodes")).expect("decodes");
    assert_eq!(&again, tx);
}

fn binary_line(record: usize, field: usize, kind: u8, data: &[u8]) -> String {
    format!(
        "{record}.{field}.1.1 [{kind}.999]=<binary {} bytes, sha256 {}>",
        data.len(),
        hex::encode(Sha256::digest(data))
    )
}

#[test]
fn valid1_1_two_digit_tags_and_a_binary_type4() {
    let bytes = sample("valid1.1.an2");
    let tx = decode(&bytes).expect("decodes");
    assert_eq!(kinds(&tx), [1, 2, 4]);
    assert_eq!(tx.records[0].text(2), Some("0201"));
    assert_eq!(tx.records[0].text(9), Some("1234567890"));
    assert_eq!(tx.records[1].idc(), Some(0));
    assert_eq!(tx.records[1].text(18), Some("JOHN,CLINTON"));
    assert_eq!(
        tx.records[1].get(47),
        Some(&Value::items(["20080302", "4727442"]))
    );
    // The Type-4 takes the rest of the file: LEN 4 bytes, IDC 1 byte, data.
    let t4 = &tx.records[2];
    assert_eq!(t4.idc(), Some(1));
    let data = t4.get(999).and_then(Value::as_binary).expect("data");
    let t4_start = bytes.len() - data.len() - 5;
    assert_eq!(
        &bytes[t4_start..t4_start + 4],
        &(data.len() as u32 + 5).to_be_bytes()
    );
    stable(&tx);

    let text = dump(&tx);
    for line in [
        "1.1.1.1 [1.001]=",
        "1.2.1.1 [1.002]=0201",
        "1.3.1.1 [1.003]=1",
        "1.3.1.2 [1.003]=2",
        "1.3.2.1 [1.003]=2",
        "1.3.2.2 [1.003]=00",
        "1.3.3.1 [1.003]=4",
        // CNT as encode writes it: the Type-4's IDC is a byte, shown as 1.
        "1.3.3.2 [1.003]=1",
        "2.6.1.1 [2.018]=JOHN,CLINTON",
        "3.1.1.1 [4.001]=",
        "3.2.1.1 [4.002]=1",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "{line} in\n{text}"
        );
    }
    assert!(text.lines().any(|l| l == binary_line(3, 3, 4, data)));
    assert!(
        text.contains("2.17.1.1 [2.047]=20080302\n2.17.1.2 [2.047]=4727442\n"),
        "{text}"
    );
    // LEN as written by encode (three-digit tags make the records longer).
    let t1_len = encode(&tx)
        .expect("encodes")
        .iter()
        .position(|&b| b == 0x1C)
        .expect("FS")
        + 1;
    assert!(text.starts_with(&format!("1.1.1.1 [1.001]={t1_len}\n")));
}

#[test]
fn valid1_15_a_type9_is_read_as_text() {
    let tx = decode(&sample("valid1.15.an2")).expect("decodes");
    assert_eq!(kinds(&tx), [1, 2, 9]);
    let t9 = &tx.records[2];
    assert_eq!(t9.idc(), Some(1));
    assert_eq!(t9.get(5), Some(&Value::items(["William", "U", "sr"])));
    assert_eq!(
        t9.get(12),
        Some(&Value::items(["1", "1250125011231", "2", "B", "1,0"]))
    );
    stable(&tx);
}

#[test]
fn face_sample_passes_the_checks() {
    let bytes = sample("face_jpb_DOM_GMT_DCS.an2");
    let tx = decode(&bytes).expect("decodes");
    assert_eq!(kinds(&tx), [1, 10]);
    // A well-formed 2007 face record: HLL/VLL match the 768×1024 JPEG.
    assert_eq!(problems(&tx), Vec::new());
    let t1 = Type1::from_record(&tx.records[0]).expect("a Type-1");
    assert_eq!(t1.version, "0400");
    assert_eq!(t1.domain, Some(("NORAM".into(), "7.02".into())));
    assert_eq!(t1.gmt, "20051105052500Z");
    assert!(!t1.utf8, "DCS 000 is ASCII");
    // 2007 had no T2C; FaceRecord (Update 2013) needs it.
    let e = FaceRecord::from_record(&tx.records[1]).expect_err("no T2C");
    assert_eq!(
        e.to_string(),
        "Type-10 record, field 10.992 T2C: mandatory field missing"
    );
    stable(&tx);

    let text = dump(&tx);
    let data = tx.records[1]
        .get(999)
        .and_then(Value::as_binary)
        .expect("data");
    assert!(text.contains("2.6.1.1 [10.006]=768\n2.7.1.1 [10.007]=1024\n"));
    assert!(text.contains("1.13.1.1 [1.015]=000\n1.13.1.2 [1.015]=ASCII 7-bit English\n"));
    assert!(text.ends_with(&format!("{}\n", binary_line(2, 15, 10, data))));
}

#[test]
fn dump_format() {
    let mut t1 = Record::new(1);
    t1.push(2, Value::item("0502"))
        .push(9, Value::item("T\u{1}N"));
    let mut t14 = Record::new(14);
    t14.push(2, Value::item("3"))
        .push(21, Value::subfields([["2", "5"], ["3", "6"]]))
        .push(999, Value::Binary(b"abc".to_vec()));
    let tx = Transaction {
        records: vec![t1, t14],
    };
    assert_eq!(
        dump(&tx),
        "1.1.1.1 [1.001]=45\n\
         1.2.1.1 [1.002]=0502\n\
         1.3.1.1 [1.003]=1\n\
         1.3.1.2 [1.003]=1\n\
         1.3.2.1 [1.003]=14\n\
         1.3.2.2 [1.003]=3\n\
         1.4.1.1 [1.009]=T\\u{1}N\n\
         2.1.1.1 [14.001]=45\n\
         2.2.1.1 [14.002]=3\n\
         2.3.1.1 [14.021]=2\n\
         2.3.1.2 [14.021]=5\n\
         2.3.2.1 [14.021]=3\n\
         2.3.2.2 [14.021]=6\n\
         2.4.1.1 [14.999]=<binary 3 bytes, sha256 \
         ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad>\n"
    );
}

/// The fuzz target's body (`fuzz/fuzz_targets/decode.rs`): never a panic;
/// what reads encodes back to bytes that read the same; the checks and the
/// dump run. Returns whether `data` read.
fn fuzz_body(data: &[u8]) -> bool {
    let Ok(tx) = decode(data) else {
        return false;
    };
    stable(&tx);
    let _ = problems(&tx);
    let _ = dump(&tx);
    true
}

/// The fuzz target's committed seeds run on stable Rust in every test run,
/// each whole, cut at every length and with every byte changed (a bit
/// flipped, a separator put in its place), so that the corpus and the
/// target's assertions stay alive between fuzzing sessions.
#[test]
fn the_fuzz_seeds_and_their_mutations_never_panic_and_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/decode");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 4, "{seeds:?}");
    let (mut tried, mut read) = (0, 0);
    for path in &seeds {
        let seed = std::fs::read(path).expect("seed");
        assert!(fuzz_body(&seed), "{} reads", path.display());
        let mut inputs: Vec<Vec<u8>> = (0..seed.len()).map(|n| seed[..n].to_vec()).collect();
        for at in 0..seed.len() {
            for change in [0x01, 0x10, 0x80] {
                let mut m = seed.clone();
                m[at] ^= change;
                inputs.push(m);
            }
            for separator in [0x1C, 0x1D, 0x1E, 0x1F, b':', b'.'] {
                let mut m = seed.clone();
                m[at] = separator;
                inputs.push(m);
            }
        }
        for input in inputs {
            tried += 1;
            read += usize::from(fuzz_body(&input));
        }
    }
    // Most mutations break LEN or a separator; some (a changed letter in a
    // value) still read, and went through the round trip.
    assert!(read > 0 && read < tried, "{read} of {tried} read");
}
