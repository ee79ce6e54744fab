//! The byte grammar: what `encode` writes, what `decode` accepts, and where
//! each refusal points.

mod common;

use pishkhan_an2k::{Location, Record, Transaction, Value, decode, encode};

const FS: u8 = 0x1C;
const GS: u8 = 0x1D;
const RS: u8 = 0x1E;
const US: u8 = 0x1F;

/// A text record from its fields after LEN (`T.fff:value` joined by GS),
/// with LEN computed here by trying lengths in turn (independently of the
/// crate's fixed-point iteration).
fn frame(kind: u8, fields: &[&[u8]]) -> Vec<u8> {
    let body = fields.join(&GS);
    (1..)
        .map(|len: usize| {
            let mut r = format!("{kind}.001:{len}").into_bytes();
            r.push(GS);
            r.extend_from_slice(&body);
            r.push(FS);
            (len, r)
        })
        .find(|(len, r)| r.len() == *len)
        .map(|(_, r)| r)
        .expect("a length")
}

fn type1(cnt: &[u8]) -> Vec<u8> {
    let cnt = [b"1.003:".as_slice(), cnt].concat();
    frame(
        1,
        &[
            b"1.002:0502",
            &cnt,
            b"1.004:ENR",
            b"1.005:20250601",
            b"1.007:DAI",
            b"1.008:ORI",
            b"1.009:TCN",
            b"1.011:00.00",
            b"1.012:00.00",
        ],
    )
}

fn minimal() -> Transaction {
    let mut t1 = Record::new(1);
    t1.push(2, Value::item("0502"))
        .push(4, Value::item("ENR"))
        .push(5, Value::item("20250601"))
        .push(7, Value::item("DAI"))
        .push(8, Value::item("ORI"))
        .push(9, Value::item("TCN"))
        .push(11, Value::item("00.00"))
        .push(12, Value::item("00.00"));
    let mut t2 = Record::new(2);
    t2.push(2, Value::item("0"))
        .push(3, Value::items(["a", "b"]));
    let mut t14 = Record::new(14);
    t14.push(2, Value::item("1"))
        .push(13, Value::item("2"))
        .push(
            999,
            Value::Binary(vec![
                FS, GS, b'1', b'4', b'.', b'0', b'0', b'1', b':', RS, US, FS,
            ]),
        );
    Transaction {
        records: vec![t1, t2, t14],
    }
}

fn rfind(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .rposition(|w| w == needle)
        .expect("present")
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("present")
}

#[test]
fn encode_matches_nistitls_documented_bytes() {
    // The byte-exact transaction in the nistitl 0.6 doctest of Message.NIST.
    let mut t1 = Record::new(1);
    t1.push(2, Value::item("0400"))
        .push(4, Value::item("TEST"))
        .push(5, Value::item("20190517"))
        .push(7, Value::item("000"))
        .push(8, Value::item("000"))
        .push(9, Value::item("doctest"))
        .push(11, Value::item("00.00"))
        .push(12, Value::item("00.00"));
    let tx = Transaction {
        records: vec![t1.clone()],
    };
    assert_eq!(
        encode(&tx).expect("encodes"),
        b"1.001:115\x1d1.002:0400\x1d1.003:1\x1f0\x1d1.004:TEST\x1d1.005:20190517\x1d1.007:000\x1d1.008:000\x1d1.009:doctest\x1d1.011:00.00\x1d1.012:00.00\x1c"
    );
    // And its AsciiRecord.NIST doctest of a Type-10 record.
    let mut t10 = Record::new(10);
    t10.push(2, Value::item("2"))
        .push(999, Value::Binary(b"my image data".to_vec()));
    let bytes = encode(&Transaction {
        records: vec![t1, t10],
    })
    .expect("encodes");
    assert!(bytes.ends_with(b"\x1c10.001:40\x1d10.002:2\x1d10.999:my image data\x1c"));
    assert!(bytes.starts_with(b"1.001:120\x1d1.002:0400\x1d1.003:1\x1f1\x1e10\x1f2\x1d"));
}

#[test]
fn len_is_right_across_digit_boundaries() {
    for n in 80..120 {
        let mut tx = minimal();
        tx.records[1].fields[1].value = Value::item("x".repeat(n));
        let bytes = encode(&tx).expect("encodes");
        let start = find(&bytes, b"2.001:");
        let end = start + bytes[start..].iter().position(|&b| b == FS).expect("FS") + 1;
        let len =
            std::str::from_utf8(&bytes[start + 6..start + 6 + (end - start).to_string().len()])
                .expect("digits");
        assert_eq!(len, (end - start).to_string(), "{n} x");
        assert_eq!(decode(&bytes).expect("decodes"), tx);
    }
}

#[test]
fn encode_replaces_given_len_and_cnt() {
    let mut tx = minimal();
    let plain = encode(&tx).expect("encodes");
    tx.records[0].fields.insert(
        0,
        pishkhan_an2k::Field {
            tag: 1,
            value: Value::item("7"),
        },
    );
    tx.records[0].fields.insert(
        2,
        pishkhan_an2k::Field {
            tag: 3,
            value: Value::items(["1", "9"]),
        },
    );
    tx.records[1].fields.insert(
        0,
        pishkhan_an2k::Field {
            tag: 1,
            value: Value::item("1"),
        },
    );
    assert_eq!(encode(&tx).expect("encodes"), plain);
}

#[test]
fn binary_data_may_hold_separators_and_legacy_records_round_trip() {
    let mut tx = minimal();
    let mut t4 = Record::new(4);
    t4.push(2, Value::item("7"))
        .push(999, Value::Binary(vec![1, FS, GS, 0, 255]));
    tx.records.push(t4);
    let bytes = encode(&tx).expect("encodes");
    assert!(bytes.ends_with(&[0, 0, 0, 10, 7, 1, FS, GS, 0, 255]));
    assert_eq!(decode(&bytes).expect("decodes"), tx);
}

#[test]
fn two_digit_field_numbers_are_read() {
    let mut bytes = frame(1, &[b"1.02:0201", b"1.03:1\x1f1\x1e2\x1f00", b"1.04:CAR"]);
    bytes.extend(frame(2, &[b"2.02:00", b"2.18:SMITH"]));
    let tx = decode(&bytes).expect("decodes");
    assert_eq!(tx.records[0].text(2), Some("0201"));
    assert_eq!(tx.records[1].text(18), Some("SMITH"));
    assert_eq!(tx.records[1].idc(), Some(0));
}

/// Decodes `bytes`, expecting an error at `offset` in `at` whose message
/// contains `what`.
fn refused(bytes: &[u8], offset: usize, at: Option<Location>, what: &str) {
    let e = decode(bytes).expect_err("refused");
    assert!(e.what.contains(what), "{e}");
    assert_eq!((e.offset, e.at.clone()), (offset, at), "{e}");
}

#[test]
fn decode_refuses_bad_framing() {
    let bytes = encode(&minimal()).expect("encodes");
    let t2 = find(&bytes, b"2.001:");
    let t14 = find(&bytes, b"14.001:");
    // Every truncation is an error, never a panic.
    for n in 0..bytes.len() {
        assert!(decode(&bytes[..n]).is_err(), "cut at {n}");
    }
    refused(
        &bytes[..bytes.len() - 1],
        t14 + 7,
        Some(Location::field(3, 14, 1)),
        "runs past the end",
    );
    refused(
        &bytes[..t14],
        t14,
        Some(Location::field(1, 1, 3)),
        "ends after 2 record(s), but 1.003 CNT announces 3",
    );
    // The byte where LEN says the record ends is not FS.
    let mut b = bytes.clone();
    b[t14 - 1] = b'x';
    refused(
        &b,
        t14 - 1,
        Some(Location::field(2, 2, 1)),
        "must end with FS",
    );
    // Trailing bytes.
    let mut b = bytes.clone();
    b.extend_from_slice(b"xy");
    refused(&b, bytes.len(), None, "2 byte(s) follow the last record");
    // A tag of another record type.
    let mut b = bytes.clone();
    let at = find(&b, b"2.003:");
    b[at] = b'3';
    refused(
        &b,
        find(&b, b"3.003:"),
        Some(Location::record(2, 2)),
        "record type 3 is not this record's type 2",
    );
    // LEN not a number.
    let mut b = bytes.clone();
    b[t2 + 6] = b'x';
    refused(
        &b,
        t2 + 6,
        Some(Location::field(2, 2, 1)),
        "LEN must be a decimal number",
    );
}

#[test]
fn decode_checks_cnt_against_the_records() {
    let bytes = encode(&minimal()).expect("encodes");
    let cnt = find(&bytes, b"1.003:") + 6;
    let patched = |from: &[u8], to: &[u8]| {
        let at = find(&bytes, from);
        let mut b = bytes.clone();
        b[at..at + to.len()].copy_from_slice(to);
        b
    };
    let at = Location::field(1, 1, 3).subfield(1);
    refused(
        &patched(b"1.003:1\x1f2", b"1.003:1\x1f3"),
        cnt,
        Some(at),
        "announces 3 record(s) but lists 2",
    );
    refused(
        &patched(b"\x1e14\x1f1", b"\x1e14\x1f7"),
        find(&bytes, b"14.001:"),
        Some(Location::field(3, 14, 2)),
        "IDC 1 does not match 1.003 CNT, which gives IDC 7",
    );
    refused(
        &patched(b"\x1e14\x1f1", b"\x1e10\x1f1"),
        find(&bytes, b"14.001:"),
        Some(Location::record(3, 10)),
        "record type 14 is not this record's type 10",
    );
    refused(
        &patched(b"\x1e14\x1f1", b"\x1e1\x1f11"),
        cnt,
        Some(Location::field(1, 1, 3).subfield(3)),
        "record type 2–99",
    );
}

#[test]
fn decode_checks_field_order_and_text() {
    let t2 = |fields: &[&[u8]]| [type1(b"1\x1f1\x1e2\x1f0"), frame(2, fields)].concat();
    // IDC second, no field twice.
    let b = t2(&[b"2.003:x", b"2.002:0"]);
    refused(
        &b,
        find(&b, b"2.003:"),
        Some(Location::field(2, 2, 3)),
        "second field must be 2.002 IDC",
    );
    let b = t2(&[b"2.002:0", b"2.003:x", b"2.003:y"]);
    refused(
        &b,
        rfind(&b, b"2.003:"),
        Some(Location::field(2, 2, 3)),
        "appears twice",
    );
    // Tags: 2 or 3 digits.
    let b = t2(&[b"2.002:0", b"2.3:x"]);
    refused(
        &b,
        find(&b, b"2.3:"),
        Some(Location::record(2, 2)),
        "expected a tag 2.nnn:",
    );
    let b = t2(&[b"2.002:0", b"2.0003:x"]);
    refused(
        &b,
        find(&b, b"2.0003:"),
        Some(Location::record(2, 2)),
        "expected a tag 2.nnn:",
    );
    // Control characters and non-ASCII without DCS UTF-8.
    let b = t2(&[b"2.002:0", b"2.003:a\x1fb\x02c"]);
    refused(
        &b,
        find(&b, b"\x02"),
        Some(Location::field(2, 2, 3).subfield(1).item(2)),
        "control character",
    );
    let b = t2(&[b"2.002:0", "2.003:تهران".as_bytes()]);
    refused(
        &b,
        find(&b, "تهران".as_bytes()),
        Some(Location::field(2, 2, 3).subfield(1).item(1)),
        "DCS does not declare UTF-8",
    );
    // A Type-1 out of order, or without CNT.
    let b = frame(
        1,
        &[
            b"1.002:0502",
            b"1.003:1\x1f0",
            b"1.005:20250601",
            b"1.004:ENR",
        ],
    );
    refused(
        &b,
        find(&b, b"1.004"),
        Some(Location::field(1, 1, 4)),
        "ascending order",
    );
    let b = frame(1, &[b"1.002:0502", b"1.004:ENR"]);
    refused(&b, 0, Some(Location::field(1, 1, 3)), "no 1.003 CNT");
    let b = frame(1, &[b"1.002:0502", b"1.003:1\x1f0", "1.004:É".as_bytes()]);
    refused(
        &b,
        find(&b, b"1.004:") + 6,
        Some(Location::field(1, 1, 4).subfield(1).item(1)),
        "Type-1 record must be",
    );
}

#[test]
fn utf8_text_needs_dcs_and_must_be_valid() {
    let mut tx = common::enrolment();
    tx.records.truncate(2);
    let bytes = encode(&tx).expect("encodes");
    assert_eq!(decode(&bytes).expect("decodes"), tx);
    // Without DCS UTF-8 the same bytes are refused where the Persian starts.
    let dcs = find(&bytes, b"1.015:3") + 6;
    let mut b = bytes.clone();
    b[dcs] = b'0';
    let name = find(&b, b"2.018:") + 6;
    refused(
        &b,
        name,
        Some(Location::field(2, 2, 18).subfield(1).item(1)),
        "DCS does not declare UTF-8",
    );
    // With it, invalid UTF-8 is refused.
    let mut b = bytes.clone();
    b[name + 1] = b'(';
    refused(
        &b,
        name,
        Some(Location::field(2, 2, 18).subfield(1).item(1)),
        "invalid UTF-8",
    );
}

/// Encodes `tx`, expecting an error at `at` whose message contains `what`.
fn unwritable(tx: &Transaction, at: Location, what: &str) {
    let e = encode(tx).expect_err("refused");
    assert_eq!(e.at, at, "{e}");
    assert!(e.what.contains(what), "{e}");
}

#[test]
fn encode_refuses_what_the_grammar_forbids() {
    let change = |f: &dyn Fn(&mut Transaction)| {
        let mut tx = minimal();
        f(&mut tx);
        tx
    };
    let item = Location::field(2, 2, 3).subfield(1).item(2);
    unwritable(
        &change(&|tx| tx.records[1].fields[1].value = Value::items(["a", "b\x1ec"])),
        item.clone(),
        "a separator character",
    );
    unwritable(
        &change(&|tx| tx.records[1].fields[1].value = Value::items(["a", "b\nc"])),
        item.clone(),
        "a control character",
    );
    unwritable(
        &change(&|tx| tx.records[1].fields[1].value = Value::items(["a", "رضا"])),
        item,
        "DCS does not declare UTF-8",
    );
    unwritable(
        &change(&|tx| tx.records[0].fields[1].value = Value::item("ENRÉ")),
        Location::field(1, 1, 4).subfield(1).item(1),
        "which the Type-1 record must be",
    );
    unwritable(
        &change(&|tx| tx.records[1].fields[1].value = Value::Binary(vec![1])),
        Location::field(2, 2, 3),
        "only field 999",
    );
    unwritable(
        &change(&|tx| tx.records[2].fields[2].value = Value::item("x")),
        Location::field(3, 14, 999),
        "binary data, not text",
    );
    unwritable(
        &change(&|tx| {
            tx.records[2].push(20, Value::item("late"));
        }),
        Location::field(3, 14, 999),
        "must be the last field",
    );
    unwritable(
        &change(&|tx| tx.records[0].fields.swap(1, 2)),
        Location::field(1, 1, 4),
        "ascending order",
    );
    unwritable(
        &change(&|tx| tx.records[1].fields[1].value = Value::Text(vec![])),
        Location::field(2, 2, 3),
        "at least one subfield",
    );
    unwritable(
        &change(&|tx| tx.records[1].fields[1].value = Value::Text(vec![vec![]])),
        Location::field(2, 2, 3).subfield(1),
        "at least one item",
    );
    unwritable(
        &change(&|tx| {
            tx.records[1].fields.remove(0);
        }),
        Location::field(2, 2, 3),
        "first field after LEN must be 2.002 IDC",
    );
    unwritable(
        &change(&|tx| tx.records[1].fields[0].value = Value::item("A")),
        Location::field(2, 2, 2),
        "IDC must be a number",
    );
    unwritable(
        &change(&|tx| tx.records[1].fields[1].tag = 2),
        Location::field(2, 2, 2),
        "appears twice",
    );
    unwritable(
        &change(&|tx| tx.records[1].fields[1].tag = 1000),
        Location::record(2, 2),
        "outside 1–999",
    );
    unwritable(
        &change(&|tx| tx.records.swap(0, 1)),
        Location::record(1, 2),
        "must be the Type-1",
    );
    unwritable(
        &change(&|tx| tx.records[2].kind = 1),
        Location::record(3, 1),
        "cannot follow the Type-1",
    );
    unwritable(
        &change(&|tx| tx.records[2].kind = 4),
        Location::record(3, 4),
        "holds field 2 (IDC) and field 999",
    );
}
