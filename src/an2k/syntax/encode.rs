//! The writer (§1.8 "Writer"): every record serialised in order, LEN
//! iterated to a fixed point, CNT built from the records that follow.

use super::{Charset, DATA, FS, GS, RS, US, forbidden, valid_kind};
use crate::codes::is_binary_record;
use crate::{Field, Location, Record, Transaction, Value, field};

/// Why a transaction cannot be written; [`EncodeError::at`] says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {what}")]
pub struct EncodeError {
    pub at: Location,
    pub what: String,
}

/// Writes `tx` in the traditional encoding.
///
/// The LEN of every record and the Type-1's CNT are computed here; `xx.001`
/// and `1.003` fields in `tx`, if any, are ignored. Refused: a first record
/// that is not the Type-1 (or a Type-1 anywhere else); Type-1 fields out of
/// ascending order; a record other than the Type-1 whose first field is not
/// `xx.002` IDC (a number from 0 to 255), or with a field 999 that is not
/// last or not binary; binary data in any other field; a field twice; field
/// numbers outside 1–999; empty subfield or item lists; control characters
/// (separators included) in text; non-ASCII text in the Type-1, or in other
/// records unless `1.015` DCS declares UTF-8. A legacy binary record (Types
/// 3–8) holds field 2 (IDC) and field 999 (the bytes after the IDC) only.
pub fn encode(tx: &Transaction) -> Result<Vec<u8>, EncodeError> {
    let type1 = match tx.records.first() {
        Some(r) if r.kind == 1 => r,
        first => {
            let kind = first.map_or(1, |r| r.kind);
            return Err(error(
                Location::record(1, kind),
                "the first record of a transaction must be the Type-1",
            ));
        }
    };
    let charset = Charset::of(type1);
    let mut rest = Vec::new();
    for (i, record) in tx.records.iter().enumerate().skip(1) {
        let index = i + 1;
        if !valid_kind(record.kind) {
            return Err(error(
                Location::record(index, record.kind),
                format!(
                    "a Type-{} record cannot follow the Type-1 (types 2 to 99 can)",
                    record.kind
                ),
            ));
        }
        if is_binary_record(record.kind) {
            binary_record(record, index, &mut rest)?;
        } else {
            let fields: Vec<&Field> = record.fields.iter().filter(|f| f.tag != 1).collect();
            check_fields(record.kind, index, &fields, charset)?;
            write_record(record.kind, &fields, &mut rest);
        }
    }

    let cnt = Field {
        tag: 3,
        value: cnt(tx),
    };
    let mut fields: Vec<&Field> = type1
        .fields
        .iter()
        .filter(|f| f.tag != 1 && f.tag != 3)
        .collect();
    let at = fields.partition_point(|f| f.tag < 3);
    fields.insert(at, &cnt);
    check_fields(1, 1, &fields, Charset::Ascii)?;
    let mut out = Vec::with_capacity(rest.len() + 256);
    write_record(1, &fields, &mut out);
    out.extend_from_slice(&rest);
    Ok(out)
}

fn error(at: Location, what: impl Into<String>) -> EncodeError {
    EncodeError {
        at,
        what: what.into(),
    }
}

/// The `1.003` CNT value for `tx`: `1` US *count*, then `type` US `IDC` for
/// every record after the Type-1 (the IDC as the record gives it).
pub(crate) fn cnt(tx: &Transaction) -> Value {
    let others = tx.records.len().saturating_sub(1);
    let mut subfields = vec![vec!["1".to_owned(), others.to_string()]];
    for record in tx.records.iter().skip(1) {
        let idc = record.text(2).unwrap_or_default();
        subfields.push(vec![record.kind.to_string(), idc.to_owned()]);
    }
    Value::Text(subfields)
}

/// Checks the fields (LEN and, for the Type-1, CNT already dealt with) of
/// record `index` against the grammar of §1.2.
fn check_fields(
    kind: u8,
    index: usize,
    fields: &[&Field],
    charset: Charset,
) -> Result<(), EncodeError> {
    let at = |tag| Location::field(index, kind, tag);
    let mut seen = [false; 1000];
    for (n, f) in fields.iter().enumerate() {
        if f.tag == 0 || f.tag > 999 {
            return Err(error(
                Location::record(index, kind),
                format!("field number {} is outside 1–999", f.tag),
            ));
        }
        if std::mem::replace(&mut seen[usize::from(f.tag)], true) {
            return Err(error(at(f.tag), "the field appears twice"));
        }
        if kind == 1 {
            if n > 0 && fields[n - 1].tag > f.tag {
                return Err(error(
                    at(f.tag),
                    format!(
                        "Type-1 fields must be in ascending order, but this one follows 1.{:03}",
                        fields[n - 1].tag
                    ),
                ));
            }
        } else if n == 0 && f.tag != 2 {
            return Err(error(
                at(f.tag),
                format!("the first field after LEN must be {kind}.002 IDC"),
            ));
        }
        if kind != 1 && f.tag == DATA && n + 1 != fields.len() {
            return Err(error(at(f.tag), "field 999 (DATA) must be the last field"));
        }
        match &f.value {
            Value::Binary(_) if kind == 1 || f.tag != DATA => {
                return Err(error(
                    at(f.tag),
                    "only field 999 (DATA) may hold binary data",
                ));
            }
            Value::Binary(_) => {}
            Value::Text(_) if kind != 1 && f.tag == DATA => {
                return Err(error(
                    at(f.tag),
                    "field 999 (DATA) holds binary data, not text",
                ));
            }
            Value::Text(subfields) => {
                let charset = if kind == 1 { Charset::Ascii } else { charset };
                check_text(subfields, at(f.tag), charset)?;
            }
        }
    }
    if kind != 1 {
        let idc = fields.first().and_then(|f| f.value.first());
        if idc.and_then(field::digits::<u8>).is_none() {
            return Err(error(
                at(2),
                format!("the IDC must be a number from 0 to 255, not {idc:?}"),
            ));
        }
    }
    Ok(())
}

fn check_text(
    subfields: &[Vec<String>],
    at: Location,
    charset: Charset,
) -> Result<(), EncodeError> {
    if subfields.is_empty() {
        return Err(error(at, "a text field needs at least one subfield"));
    }
    for (s, items) in subfields.iter().enumerate() {
        if items.is_empty() {
            return Err(error(
                at.clone().subfield(s + 1),
                "a subfield needs at least one item",
            ));
        }
        for (i, item) in items.iter().enumerate() {
            let bad = item
                .chars()
                .find_map(|c| forbidden(c, charset).map(|why| (c, why)));
            if let Some((c, why)) = bad {
                let what = if charset == Charset::Ascii && !c.is_ascii() {
                    if at.kind == 1 {
                        format!("{c:?} is not 7-bit ASCII, which the Type-1 record must be")
                    } else {
                        format!(
                            "{c:?} is not 7-bit ASCII, and 1.015 DCS does not declare UTF-8 \
                             (character set 3)"
                        )
                    }
                } else {
                    format!("{c:?} is {why}, which text may not contain")
                };
                return Err(error(at.clone().subfield(s + 1).item(i + 1), what));
            }
        }
    }
    Ok(())
}

/// A legacy record: 4-byte LEN, IDC byte, then the data (§1.2).
fn binary_record(record: &Record, index: usize, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let kind = record.kind;
    let layout = error(
        Location::record(index, kind),
        format!(
            "a Type-{kind} record (fixed binary header) holds field 2 (IDC) and field 999 \
             (the bytes after the header's IDC byte), nothing else"
        ),
    );
    let [idc, data] = record.fields.as_slice() else {
        return Err(layout);
    };
    let (2, DATA) = (idc.tag, data.tag) else {
        return Err(layout);
    };
    let Some(idc) = idc.value.first().and_then(field::digits::<u8>) else {
        return Err(error(
            Location::field(index, kind, 2),
            "the IDC of a binary record is one byte: a number from 0 to 255",
        ));
    };
    let Some(data) = data.value.as_binary() else {
        return Err(error(
            Location::field(index, kind, DATA),
            "field 999 (DATA) holds binary data, not text",
        ));
    };
    let len = u32::try_from(data.len() + 5).map_err(|_| {
        error(
            Location::field(index, kind, DATA),
            "a binary record is at most 4 GiB long (its LEN is 4 bytes)",
        )
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.push(idc);
    out.extend_from_slice(data);
    Ok(())
}

/// Serialises a text record whose fields (without LEN) are `fields`.
fn write_record(kind: u8, fields: &[&Field], out: &mut Vec<u8>) {
    let body: usize = fields.iter().map(|f| field_len(kind, f)).sum::<usize>() + fields.len();
    let len = record_len(kind, body);
    out.extend_from_slice(format!("{kind}.001:{len}").as_bytes());
    for f in fields {
        out.push(GS);
        out.extend_from_slice(format!("{kind}.{:03}:", f.tag).as_bytes());
        match &f.value {
            Value::Binary(bytes) => out.extend_from_slice(bytes),
            Value::Text(subfields) => {
                for (s, items) in subfields.iter().enumerate() {
                    if s > 0 {
                        out.push(RS);
                    }
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(US);
                        }
                        out.extend_from_slice(item.as_bytes());
                    }
                }
            }
        }
    }
    out.push(FS);
}

/// The length of `kind.fff:value` for field `f`.
pub(crate) fn field_len(kind: u8, f: &Field) -> usize {
    let tag = format!("{kind}.{:03}:", f.tag).len();
    let value = match &f.value {
        Value::Binary(bytes) => bytes.len(),
        Value::Text(subfields) => {
            subfields.len().saturating_sub(1)
                + subfields
                    .iter()
                    .map(|items| {
                        items.len().saturating_sub(1) + items.iter().map(String::len).sum::<usize>()
                    })
                    .sum::<usize>()
        }
    };
    tag + value
}

/// The LEN of a text record whose fields after LEN take `body` bytes, the
/// GS before each of them included: `kind.001:` + the digits of LEN itself
/// + `body` + FS, iterated until the digit count is stable (§1.2).
pub(crate) fn record_len(kind: u8, body: usize) -> usize {
    let fixed = format!("{kind}.001:").len() + body + 1;
    let mut len = fixed + 1;
    loop {
        let next = fixed + len.to_string().len();
        if next == len {
            return len;
        }
        len = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn len_counts_its_own_digits() {
        // "2.001:" (6) + digits + body + FS.
        assert_eq!(record_len(2, 1), 9);
        assert_eq!(record_len(2, 90), 99);
        // 6 + 2 + 91 + 1 = 100 needs 3 digits: 6 + 3 + 91 + 1 = 101.
        assert_eq!(record_len(2, 91), 101);
        assert_eq!(record_len(14, 90), 101);
    }
}
