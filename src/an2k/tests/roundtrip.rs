//! Property tests: random transactions survive encode → decode, and
//! decode → encode gives the same bytes back.

use pishkhan_an2k::{Record, Transaction, Value, decode, dump, encode};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;

/// Printable ASCII, or with `utf8` also Persian letters and digits.
fn item(utf8: bool) -> BoxedStrategy<String> {
    if utf8 {
        "[ -~آ-ی۰-۹]{0,8}".boxed()
    } else {
        "[ -~]{0,8}".boxed()
    }
}

fn text(utf8: bool) -> impl Strategy<Value = Value> {
    vec(vec(item(utf8), 1..4), 1..4).prop_map(Value::Text)
}

/// Bytes in which the separators are common.
fn data() -> impl Strategy<Value = Vec<u8>> {
    vec(
        prop_oneof![any::<u8>(), select(vec![0x1Cu8, 0x1D, 0x1E, 0x1F])],
        0..300,
    )
}

/// A text record of `kind`: IDC, random text fields, usually binary DATA.
fn text_record(kind: u8, utf8: bool) -> impl Strategy<Value = Record> {
    (
        0u8..=99,
        btree_map(3u16..999, text(utf8), 0..6),
        proptest::option::weighted(0.8, data()),
    )
        .prop_map(move |(idc, fields, data)| {
            let mut r = Record::new(kind);
            r.push(2, Value::item(idc.to_string()));
            for (tag, value) in fields {
                r.push(tag, value);
            }
            if let Some(data) = data {
                r.push(999, Value::Binary(data));
            }
            r
        })
}

/// A legacy binary record (Type-4).
fn binary_record() -> impl Strategy<Value = Record> {
    (any::<u8>(), data()).prop_map(|(idc, data)| {
        let mut r = Record::new(4);
        r.push(2, Value::item(idc.to_string()))
            .push(999, Value::Binary(data));
        r
    })
}

fn transaction() -> impl Strategy<Value = Transaction> {
    any::<bool>().prop_flat_map(|utf8| {
        let others = prop_oneof![
            3 => text_record(2, utf8),
            3 => text_record(14, utf8),
            2 => text_record(10, utf8),
            1 => text_record(99, utf8),
            1 => binary_record(),
        ];
        (btree_map(4u16..40, text(false), 0..6), vec(others, 0..5)).prop_map(
            move |(fields, others)| {
                let mut t1 = Record::new(1);
                t1.push(2, Value::item("0502"));
                for (tag, value) in fields.into_iter().filter(|&(t, _)| t != 15) {
                    t1.push(tag, value);
                }
                if utf8 {
                    let at = t1.fields.partition_point(|f| f.tag < 15);
                    t1.fields.insert(
                        at,
                        pishkhan_an2k::Field {
                            tag: 15,
                            value: Value::items(["3", "UTF-8", ""]),
                        },
                    );
                }
                let mut records = vec![t1];
                records.extend(others);
                Transaction { records }
            },
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn encode_then_decode_gives_the_transaction(tx in transaction()) {
        let bytes = encode(&tx).expect("encodes");
        prop_assert_eq!(decode(&bytes).expect("decodes"), tx.clone());
        // Decode then encode gives the same bytes: the encoding is canonical.
        prop_assert_eq!(encode(&decode(&bytes).expect("decodes")).expect("encodes"), bytes.clone());
        // One dump line per item, LEN included.
        let items: usize = tx.records.iter().map(|r| {
            1 + r.fields.iter().map(|f| match &f.value {
                Value::Text(s) => s.iter().map(Vec::len).sum(),
                Value::Binary(_) => 1,
            }).sum::<usize>()
        }).sum::<usize>() + 2 * tx.records.len();
        prop_assert_eq!(dump(&tx).lines().count(), items);
    }

    #[test]
    fn damaged_bytes_are_refused_or_read_never_panic(
        tx in transaction(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let bytes = encode(&tx).expect("encodes");
        // Any truncation is an error.
        let n = cut.index(bytes.len());
        prop_assert!(decode(&bytes[..n]).is_err());
        // A changed byte gives an error or a transaction that encodes back
        // to the same bytes.
        let mut b = bytes;
        let i = flip.index(b.len());
        b[i] = byte;
        if let Ok(tx) = decode(&b) {
            prop_assert_eq!(encode(&tx).expect("encodes"), b);
            let _ = pishkhan_an2k::problems(&tx);
        }
    }
}
