//! A text dump in the style of NBIS `an2k2txt`.
//!
//! One line per information item: `r.f.s.i [T.FFF]=value`, where `r` is the
//! record's position in the transaction, `f` the field's position in the
//! record as written (1 is LEN), `s` the subfield and `i` the item, all
//! 1-based, and `T.FFF` the tag. Binary data is summarised as
//! `<binary N bytes, sha256 HEX>`. LEN and the Type-1 CNT are shown as
//! [`encode`](crate::encode) writes them. Control characters in text (which
//! `encode` would refuse) are escaped. For example:
//!
//! ```text
//! 1.1.1.1 [1.001]=141
//! 1.2.1.1 [1.002]=0502
//! 1.3.1.1 [1.003]=1
//! 1.3.1.2 [1.003]=1
//! 1.3.2.1 [1.003]=14
//! 1.3.2.2 [1.003]=1
//! …
//! 2.14.1.1 [14.999]=<binary 12345 bytes, sha256 9f86d0…>
//! ```

use std::fmt::Write;

use sha2::{Digest, Sha256};

use crate::codes::is_binary_record;
use crate::syntax::encode::{cnt, field_len, record_len};
use crate::{Field, Transaction, Value};

/// The transaction as text, one line per item (see the module doc).
pub fn dump(tx: &Transaction) -> String {
    let mut out = String::new();
    let cnt = Field {
        tag: 3,
        value: cnt(tx),
    };
    for (r, record) in tx.records.iter().enumerate() {
        let kind = record.kind;
        let mut fields: Vec<&Field> = record
            .fields
            .iter()
            .filter(|f| f.tag != 1 && !(kind == 1 && f.tag == 3))
            .collect();
        if kind == 1 {
            let at = fields.partition_point(|f| f.tag < 3);
            fields.insert(at, &cnt);
        }
        let len = if is_binary_record(kind) {
            5 + record
                .get(999)
                .and_then(Value::as_binary)
                .map_or(0, <[u8]>::len)
        } else {
            let body: usize = fields.iter().map(|f| field_len(kind, f)).sum();
            record_len(kind, body + fields.len())
        };
        line(&mut out, r + 1, 1, 1, 1, kind, 1, &len.to_string());
        for (n, f) in fields.iter().enumerate() {
            let position = n + 2;
            match &f.value {
                Value::Binary(bytes) => {
                    let summary = format!(
                        "<binary {} bytes, sha256 {}>",
                        bytes.len(),
                        hex::encode(Sha256::digest(bytes))
                    );
                    line(&mut out, r + 1, position, 1, 1, kind, f.tag, &summary);
                }
                Value::Text(subfields) => {
                    for (s, items) in subfields.iter().enumerate() {
                        for (i, item) in items.iter().enumerate() {
                            let shown: String = item
                                .chars()
                                .flat_map(|c| {
                                    let escaped = c.is_control().then(|| c.escape_default());
                                    escaped
                                        .into_iter()
                                        .flatten()
                                        .chain((!c.is_control()).then_some(c))
                                })
                                .collect();
                            line(&mut out, r + 1, position, s + 1, i + 1, kind, f.tag, &shown);
                        }
                    }
                }
            }
        }
    }
    out
}

fn line(
    out: &mut String,
    record: usize,
    field: usize,
    subfield: usize,
    item: usize,
    kind: u8,
    tag: u16,
    value: &str,
) {
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{record}.{field}.{subfield}.{item} [{kind}.{tag:03}]={value}"
    );
}
