//! The semantic checks and the typed records: a good transaction passes,
//! and each planted error is reported once, at the right place.

mod common;

use common::{amputated, enrolment, face, png, remove, set, single, slap, type1};
use pishkhan_an2k::records::{FaceRecord, FingerRecord, Type1};
use pishkhan_an2k::{Location, Problem, Transaction, Value, check, decode, encode, problems};

/// Plants `change` in the good transaction and checks that exactly one
/// problem is reported, in record `record` (1-based) of type `kind`, field
/// `tag`, with `what` in its message; returns it.
fn planted(
    change: impl FnOnce(&mut Transaction),
    record: usize,
    kind: u8,
    tag: u16,
    what: &str,
) -> Problem {
    let mut tx = enrolment();
    change(&mut tx);
    let found = problems(&tx);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    let p = found.into_iter().next().expect("one problem");
    assert_eq!(
        (p.at.record, p.at.kind, p.at.field),
        (record, kind, Some(tag)),
        "{p}"
    );
    assert!(p.what.contains(what), "{p}");
    assert_eq!(check(&tx), Err(p.clone()));
    p
}

#[test]
fn the_enrolment_transaction_passes_and_survives_encoding() {
    let tx = enrolment();
    assert_eq!(problems(&tx), Vec::new());
    assert_eq!(check(&tx), Ok(()));
    let back = decode(&encode(&tx).expect("encodes")).expect("decodes");
    assert_eq!(back, tx);
    assert_eq!(check(&back), Ok(()));
}

#[test]
fn messages_name_record_field_and_value() {
    let p = planted(
        |tx| set(tx, 3, 5, Value::item("20251301")),
        4,
        14,
        5,
        "month 13",
    );
    assert_eq!(
        p.to_string(),
        "record 4 (Type-14), field 14.005 FCD: month 13 out of range in \"20251301\""
    );
    let p = planted(
        |tx| {
            set(
                tx,
                3,
                24,
                Value::subfields([["2", "61", "0101", "57"], ["3", "101", "0101", "57"]]),
            );
        },
        4,
        14,
        24,
        "quality 101",
    );
    assert_eq!((p.at.subfield, p.at.item), (Some(2), Some(2)));
    assert!(
        p.to_string()
            .starts_with("record 4 (Type-14), field 14.024 FQM, subfield 2, item 2: ")
    );
}

#[test]
fn type1_rules() {
    planted(
        |tx| set(tx, 0, 2, Value::item("0600")),
        1,
        1,
        2,
        "not one of",
    );
    planted(
        |tx| set(tx, 0, 4, Value::item("ENR1")),
        1,
        1,
        4,
        "1 to 16 letters",
    );
    planted(
        |tx| set(tx, 0, 4, Value::item("ABCDEFGHIJKLMNOPQ")),
        1,
        1,
        4,
        "1 to 16 letters",
    );
    planted(
        |tx| set(tx, 0, 5, Value::item("20250229")),
        1,
        1,
        5,
        "day 29 out of range",
    );
    planted(
        |tx| set(tx, 0, 6, Value::item("0")),
        1,
        1,
        6,
        "out of range (1–9)",
    );
    planted(|tx| set(tx, 0, 7, Value::item("")), 1, 1, 7, "empty");
    planted(|tx| remove(tx, 0, 8), 1, 1, 8, "mandatory field missing");
    planted(|tx| remove(tx, 0, 9), 1, 1, 9, "mandatory field missing");
    planted(|tx| set(tx, 0, 11, Value::item("0.00")), 1, 1, 11, "nn.nn");
    planted(|tx| set(tx, 0, 12, Value::item("19,69")), 1, 1, 12, "nn.nn");
    planted(
        |tx| set(tx, 0, 13, Value::items(["", "1"])),
        1,
        1,
        13,
        "domain name",
    );
    planted(
        |tx| set(tx, 0, 14, Value::item("20250601083000")),
        1,
        1,
        14,
        "15 characters",
    );
    planted(
        |tx| set(tx, 0, 14, Value::item("20250601236000Z")),
        1,
        1,
        14,
        "23:60:00",
    );
    let p = planted(
        |tx| set(tx, 0, 15, Value::items(["5", "X", ""])),
        1,
        1,
        15,
        "reserved",
    );
    assert_eq!((p.at.subfield, p.at.item), (Some(1), Some(1)));
    planted(
        |tx| set(tx, 0, 16, Value::items(["PISHKHAN", "ENROLMENT"])),
        1,
        1,
        16,
        "expected 3 items",
    );
}

#[test]
fn idc_rules() {
    planted(
        |tx| set(tx, 4, 2, Value::item("2")),
        5,
        14,
        2,
        "IDC 2 is already used by another Type-14",
    );
    // (The Type-2's IDC is checked too, but changing it also breaks T2C.)
    planted(
        |tx| set(tx, 2, 2, Value::item("100")),
        3,
        10,
        2,
        "out of range (0–99)",
    );
    // The face may share IDC 2 with the slap: uniqueness is per record type.
    let mut tx = enrolment();
    set(&mut tx, 2, 2, Value::item("2"));
    assert_eq!(problems(&tx), Vec::new());
    // A second Type-1 and a first record that is not one.
    let mut tx = enrolment();
    tx.records.push(type1().to_record());
    assert_eq!(
        check(&tx).map_err(|p| p.to_string()),
        Err("record 7 (Type-1): only the first record may be a Type-1".into())
    );
    let tx = Transaction {
        records: enrolment().records[1..].to_vec(),
    };
    assert_eq!(check(&tx).map_err(|p| p.at), Err(Location::record(1, 2)));
}

#[test]
fn type10_rules() {
    planted(
        |tx| set(tx, 2, 3, Value::item("SELFIE")),
        3,
        10,
        3,
        "not one of",
    );
    planted(
        |tx| set(tx, 2, 5, Value::item("2025061")),
        3,
        10,
        5,
        "8 digits",
    );
    planted(
        |tx| set(tx, 2, 8, Value::item("3")),
        3,
        10,
        8,
        "out of range (0–2)",
    );
    planted(
        |tx| set(tx, 2, 11, Value::item("WSQ20")),
        3,
        10,
        11,
        "not one of",
    );
    planted(
        |tx| set(tx, 2, 12, Value::item("CMYK")),
        3,
        10,
        12,
        "not one of",
    );
    planted(
        |tx| set(tx, 2, 13, Value::item("16")),
        3,
        10,
        13,
        "not a subject acquisition profile",
    );
    planted(|tx| remove(tx, 2, 13), 3, 10, 13, "mandatory field missing");
    planted(
        |tx| set(tx, 2, 20, Value::item("A")),
        3,
        10,
        21,
        "needs its angle",
    );
    planted(
        |tx| set(tx, 2, 24, Value::items(["82", "42", "1"])),
        3,
        10,
        24,
        "4 hexadecimal digits",
    );
    planted(
        |tx| set(tx, 2, 24, Value::items(["253", "0042", "1"])),
        3,
        10,
        24,
        "quality 253",
    );
    planted(
        |tx| set(tx, 2, 24, Value::items(["82", "0042", "0"])),
        3,
        10,
        24,
        "out of range (1–65535)",
    );
    let p = planted(
        |tx| {
            set(
                tx,
                2,
                29,
                Value::subfields([["1", "12.1", "48", "26"], ["1", "12.2", "17", "26"]]),
            );
        },
        3,
        10,
        29,
        "coordinate 48 is outside the image (HLL 48)",
    );
    assert_eq!((p.at.subfield, p.at.item), (Some(1), Some(3)));
    planted(
        |tx| set(tx, 2, 30, Value::item("REMOTE")),
        3,
        10,
        30,
        "not one of",
    );
    planted(
        |tx| set(tx, 2, 992, Value::item("7")),
        3,
        10,
        992,
        "not the IDC of a Type-2",
    );
    planted(|tx| remove(tx, 2, 992), 3, 10, 992, "from VER 0501");
    planted(
        |tx| set(tx, 2, 6, Value::item("49")),
        3,
        10,
        999,
        "the image is 48×64 pixels, but HLL × VLL says 49×64",
    );
    planted(
        |tx| set(tx, 2, 999, Value::Binary(b"not a jpeg".to_vec())),
        3,
        10,
        999,
        "not a valid JPEGB image",
    );
    planted(
        |tx| {
            set(tx, 2, 11, Value::item("NONE"));
            set(tx, 2, 999, Value::Binary(vec![0; 48 * 64]));
        },
        3,
        10,
        999,
        "needs 9216",
    );
    planted(
        |tx| remove(tx, 2, 999),
        3,
        10,
        999,
        "mandatory field missing",
    );
}

#[test]
fn type14_rules() {
    planted(
        |tx| set(tx, 3, 3, Value::item("12")),
        4,
        14,
        3,
        "not a finger impression code",
    );
    planted(|tx| set(tx, 3, 4, Value::item("")), 4, 14, 4, "empty");
    planted(
        |tx| set(tx, 4, 13, Value::item("20")),
        5,
        14,
        13,
        "not a Type-14 finger position",
    );
    planted(|tx| set(tx, 3, 11, Value::item("WSQ")), 4, 14, 11, "WSQ20");
    planted(
        |tx| set(tx, 3, 11, Value::item("JPEG")),
        4,
        14,
        11,
        "not one of",
    );
    planted(|tx| set(tx, 3, 12, Value::item("16")), 4, 14, 12, "BPX 16");
    planted(
        |tx| set(tx, 3, 7, Value::item("129")),
        4,
        14,
        999,
        "the image is 200×128 pixels, but HLL × VLL says 200×129",
    );
    planted(|tx| remove(tx, 3, 9), 4, 14, 9, "mandatory field missing");
    planted(
        |tx| set(tx, 3, 999, Value::Binary(vec![0xFF, 0xD8, 0xFF])),
        4,
        14,
        999,
        "not valid WSQ",
    );
    // AMP: codes and which fingers the slap covers.
    planted(
        |tx| set(tx, 3, 18, Value::items(["5", "ZZ"])),
        4,
        14,
        18,
        "not one of XX, UP",
    );
    planted(
        |tx| set(tx, 3, 18, Value::items(["7", "XX"])),
        4,
        14,
        18,
        "covers 2, 3, 4, 5",
    );
    planted(
        |tx| set(tx, 5, 18, Value::items(["4", "UP"])),
        6,
        14,
        18,
        "covers 5",
    );
    // SEG.
    let boxes = |fgp: &str, l: &str, r: &str, t: &str, b: &str| {
        Value::subfields([vec!["2", "5", "60", "10", "110"], vec![fgp, l, r, t, b]])
    };
    let p = planted(
        |tx| set(tx, 3, 21, boxes("6", "65", "120", "10", "110")),
        4,
        14,
        21,
        "finger position 6",
    );
    assert_eq!((p.at.subfield, p.at.item), (Some(2), Some(1)));
    planted(
        |tx| set(tx, 3, 21, boxes("3", "120", "65", "10", "110")),
        4,
        14,
        21,
        "left < right",
    );
    planted(
        |tx| set(tx, 3, 21, boxes("3", "65", "120", "10", "10")),
        4,
        14,
        21,
        "top < bottom",
    );
    planted(
        |tx| set(tx, 3, 21, boxes("3", "65", "200", "10", "110")),
        4,
        14,
        21,
        "outside the 200×128 image",
    );
    planted(
        |tx| set(tx, 3, 21, boxes("3", "65", "120", "10", "128")),
        4,
        14,
        21,
        "outside the 200×128 image",
    );
    // NQM, FQM.
    planted(
        |tx| set(tx, 3, 22, Value::items(["2", "9"])),
        4,
        14,
        22,
        "NFIQ score 9",
    );
    planted(
        |tx| set(tx, 4, 22, Value::items(["3", "2"])),
        5,
        14,
        22,
        "covers 2",
    );
    planted(
        |tx| set(tx, 4, 24, Value::items(["2", "66", "01011", "57"])),
        5,
        14,
        24,
        "4 hexadecimal digits",
    );
    planted(
        |tx| set(tx, 4, 24, Value::items(["2", "66", "0101"])),
        5,
        14,
        24,
        "expected 4 items",
    );
    planted(
        |tx| set(tx, 3, 30, Value::item("SUPERVISED")),
        4,
        14,
        30,
        "not one of",
    );
}

#[test]
fn type14_image_fields_go_with_the_image() {
    // An amputated finger with an image descriptor but no image.
    planted(
        |tx| set(tx, 5, 6, Value::item("64")),
        6,
        14,
        6,
        "an image field without an image",
    );
    // No image and no AMP to say why.
    planted(|tx| remove(tx, 5, 18), 6, 14, 999, "no 14.018 AMP");
    // Uncompressed and PNG images are measured too, and must be 8-bit grey.
    let raw = |tx: &mut Transaction, len: usize| {
        set(tx, 4, 11, Value::item("NONE"));
        set(tx, 4, 999, Value::Binary(vec![200; len]));
    };
    let mut tx = enrolment();
    raw(&mut tx, 64 * 80);
    assert_eq!(problems(&tx), Vec::new());
    planted(
        |tx| raw(tx, 64 * 80 - 1),
        5,
        14,
        999,
        "5119 bytes of uncompressed data",
    );
    let with_png = |tx: &mut Transaction, gray: bool| {
        set(tx, 4, 11, Value::item("PNG"));
        set(tx, 4, 999, Value::Binary(png(64, 80, gray)));
    };
    let mut tx = enrolment();
    with_png(&mut tx, true);
    assert_eq!(problems(&tx), Vec::new());
    planted(|tx| with_png(tx, false), 5, 14, 999, "not 8-bit grey");
}

#[test]
fn all_problems_are_listed_in_order() {
    let mut tx = enrolment();
    set(&mut tx, 0, 5, Value::item("20250231"));
    set(&mut tx, 3, 22, Value::subfields([["2", "0"], ["9", "2"]]));
    set(&mut tx, 5, 3, Value::item("99"));
    let found: Vec<String> = problems(&tx).iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            "record 1 (Type-1), field 1.005 DAT: day 31 out of range (month 2 of 2025 has 28 days) in \"20250231\"",
            "record 4 (Type-14), field 14.022 NQM, subfield 1, item 2: NFIQ score 0 is not 1–5, 254 (not computed) or 255 (failed)",
            "record 4 (Type-14), field 14.022 NQM, subfield 2, item 1: finger position 9 is not in this record, which covers 2, 3, 4, 5",
            "record 6 (Type-14), field 14.003 IMP: IMP 99 is not a finger impression code (0–8, 20–29, 41, 42; palms go in Type-15)",
        ]
    );
}

#[test]
fn typed_records_read_back_what_they_write() {
    let t1 = type1();
    assert_eq!(Type1::from_record(&t1.to_record()), Ok(t1));
    let face = face();
    assert_eq!(FaceRecord::from_record(&face.to_record()), Ok(face));
    for finger in [slap(), single(), amputated()] {
        assert_eq!(FingerRecord::from_record(&finger.to_record()), Ok(finger));
    }
    // And through the bytes.
    let tx = decode(&encode(&enrolment()).expect("encodes")).expect("decodes");
    assert_eq!(Type1::from_record(&tx.records[0]), Ok(type1()));
    assert_eq!(FingerRecord::from_record(&tx.records[5]), Ok(amputated()));
}

#[test]
fn typed_records_write_the_standard_layout() {
    let r = type1().to_record();
    let tags: Vec<u16> = r.fields.iter().map(|f| f.tag).collect();
    assert_eq!(tags, [2, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16]);
    assert_eq!(r.get(15), Some(&Value::items(["3", "UTF-8", ""])));
    assert_eq!(r.text(11), Some("00.00"));
    let r = amputated().to_record();
    let tags: Vec<u16> = r.fields.iter().map(|f| f.tag).collect();
    assert_eq!(tags, [2, 3, 4, 5, 13, 18, 30, 992]);
    let r = slap().to_record();
    assert_eq!(r.idc(), Some(2));
    assert_eq!(r.text(11), Some("WSQ20"));
    assert_eq!(
        r.get(24),
        Some(&Value::subfields([
            ["2", "61", "0101", "57"],
            ["3", "74", "0101", "57"],
            ["4", "48", "0101", "57"]
        ]))
    );
    assert_eq!(r.fields.last().map(|f| f.tag), Some(999));
    let r = face().to_record();
    assert_eq!(
        r.get(29),
        Some(&Value::subfields([
            ["1", "12.1", "31", "26"],
            ["1", "12.2", "17", "26"]
        ]))
    );
}

#[test]
fn typed_records_say_what_they_cannot_read() {
    let mut r = slap().to_record();
    r.fields.retain(|f| f.tag != 5);
    let p = FingerRecord::from_record(&r).expect_err("no FCD");
    assert_eq!(
        p.to_string(),
        "Type-14 record, field 14.005 FCD: mandatory field missing"
    );
    let mut r = slap().to_record();
    r.fields
        .iter_mut()
        .filter(|f| f.tag == 18)
        .for_each(|f| f.value = Value::items(["5", "AA"]));
    let p = FingerRecord::from_record(&r).expect_err("bad AMP");
    assert_eq!(
        p.to_string(),
        "Type-14 record, field 14.018 AMP, subfield 1, item 2: \"AA\" is not XX or UP"
    );
    let p = FaceRecord::from_record(&slap().to_record()).expect_err("not a face");
    assert_eq!(
        p.to_string(),
        "Type-14 record: a FaceRecord is a Type-10 record, not a Type-14"
    );
    let p = Type1::from_record(&face().to_record()).expect_err("not a Type-1");
    assert_eq!(p.at, Location::record(0, 10));
}
