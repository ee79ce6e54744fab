//! The reader (§1.8 "Reader"): records are cut by their LEN, never by
//! searching for separators, so binary DATA may hold any byte.

use super::{Charset, DATA, FS, GS, RS, US, forbidden, valid_kind};
use crate::codes::is_binary_record;
use crate::{Field, Location, Record, Transaction, Value, field};

/// Why bytes are not a well-formed transaction: the byte offset, the place
/// (record, field, subfield, item) when known, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}{}: {what}", place(.at))]
pub struct ReadError {
    /// Offset from the start of the data.
    pub offset: usize,
    pub at: Option<Location>,
    pub what: String,
}

fn place(at: &Option<Location>) -> String {
    at.as_ref().map(|l| format!(", {l}")).unwrap_or_default()
}

fn error(offset: usize, at: impl Into<Option<Location>>, what: impl Into<String>) -> ReadError {
    ReadError {
        offset,
        at: at.into(),
        what: what.into(),
    }
}

/// Reads a transaction in the traditional encoding.
///
/// Checked: each text record's LEN (digits, within the data, the record
/// ending in FS exactly there); tags `type.fff:` with 2- or 3-digit field
/// numbers and the record's own type; LEN first, IDC second (except in the
/// Type-1), Type-1 fields ascending, no field twice; no control characters
/// in text; the Type-1 in 7-bit ASCII and other text ASCII, or valid UTF-8
/// when `1.015` DCS declares it; `1.003` CNT against the records that follow
/// (count, types, IDCs, order); nothing after the last record. Legacy binary
/// records (Types 3–8) are cut by their 4-byte LEN.
///
/// The LEN fields and the CNT are checked and then left out of the result
/// (see the crate documentation).
pub fn decode(bytes: &[u8]) -> Result<Transaction, ReadError> {
    let (mut type1, offsets, mut offset) = text_record(bytes, 0, 1, 1, Charset::Ascii)?;
    let charset = Charset::of(&type1);
    let Some(at) = type1.fields.iter().position(|f| f.tag == 3) else {
        return Err(error(
            0,
            Location::field(1, 1, 3),
            "the Type-1 record has no 1.003 CNT",
        ));
    };
    let cnt = type1.fields.remove(at);
    let announced = parse_cnt(&cnt.value, offsets[at])?;

    let mut records = vec![type1];
    for (n, &(kind, idc)) in announced.iter().enumerate() {
        let index = n + 2;
        if offset >= bytes.len() {
            return Err(error(
                offset,
                Location::field(1, 1, 3),
                format!(
                    "the data ends after {} record(s), but 1.003 CNT announces {}",
                    n + 1,
                    announced.len() + 1
                ),
            ));
        }
        let (record, len) = if is_binary_record(kind) {
            binary_record(bytes, offset, index, kind)?
        } else {
            let (record, offsets, len) = text_record(bytes, offset, index, kind, charset)?;
            let at = Location::field(index, kind, 2);
            if record.idc().is_none() {
                return Err(error(
                    offsets[0],
                    at,
                    format!(
                        "the IDC must be a number from 0 to 255, not {:?}",
                        record.text(2)
                    ),
                ));
            }
            (record, len)
        };
        if record.idc() != Some(idc) {
            return Err(error(
                offset,
                Location::field(index, kind, 2),
                format!(
                    "IDC {} does not match 1.003 CNT, which gives IDC {idc} for this record \
                     (its subfield {})",
                    record.text(2).unwrap_or_default(),
                    n + 2
                ),
            ));
        }
        offset += len;
        records.push(record);
    }
    if offset < bytes.len() {
        return Err(error(
            offset,
            None,
            format!(
                "{} byte(s) follow the last record that 1.003 CNT announces",
                bytes.len() - offset
            ),
        ));
    }
    Ok(Transaction { records })
}

/// Reads CNT: `1` US *count*, then `type` US `IDC` per record (§1.3).
fn parse_cnt(value: &Value, offset: usize) -> Result<Vec<(u8, u8)>, ReadError> {
    let at = Location::field(1, 1, 3);
    let bad = |s: usize, what: String| error(offset, at.clone().subfield(s), what);
    let subfields = value.as_text().unwrap_or_default();
    let count = match subfields.first().map(Vec::as_slice) {
        Some([one, count]) if one == "1" => field::digits::<usize>(count),
        _ => None,
    };
    let Some(count) = count else {
        return Err(bad(
            1,
            "CNT must start with `1` US <number of other records>".into(),
        ));
    };
    if count != subfields.len() - 1 {
        return Err(bad(
            1,
            format!(
                "CNT announces {count} record(s) but lists {}",
                subfields.len() - 1
            ),
        ));
    }
    let mut out = Vec::with_capacity(count);
    for (s, items) in subfields.iter().enumerate().skip(1) {
        let pair = match items.as_slice() {
            [kind, idc] => field::digits::<u8>(kind)
                .filter(|&k| valid_kind(k))
                .zip(field::digits::<u8>(idc)),
            _ => None,
        };
        let Some(pair) = pair else {
            return Err(bad(
                s + 1,
                format!(
                    "a CNT entry is <record type 2–99> US <IDC 0–255>, not {:?}",
                    items.join("\u{241F}")
                ),
            ));
        };
        out.push(pair);
    }
    Ok(out)
}

/// A legacy record (Types 3–8): 4-byte big-endian LEN, the IDC byte, data.
fn binary_record(
    bytes: &[u8],
    start: usize,
    index: usize,
    kind: u8,
) -> Result<(Record, usize), ReadError> {
    let at = Location::record(index, kind);
    let Some(header) = bytes.get(start..start + 5) else {
        return Err(error(
            start,
            at,
            format!(
                "a Type-{kind} record starts with a 4-byte LEN and an IDC byte, but only {} \
                 byte(s) remain",
                bytes.len() - start
            ),
        ));
    };
    let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len < 5 {
        return Err(error(
            start,
            at,
            format!("binary LEN {len} is shorter than the 5-byte header"),
        ));
    }
    let Some(data) = start
        .checked_add(len)
        .and_then(|end| bytes.get(start + 5..end))
    else {
        return Err(error(
            start,
            at,
            format!(
                "binary LEN {len} runs past the end of the data ({} byte(s) remain)",
                bytes.len() - start
            ),
        ));
    };
    let mut record = Record::new(kind);
    record
        .push(2, Value::item(header[4].to_string()))
        .push(DATA, Value::Binary(data.to_vec()));
    Ok((record, len))
}

/// A text record at `start`: the record, the offset of each field's value,
/// and the record's length.
fn text_record(
    bytes: &[u8],
    start: usize,
    index: usize,
    kind: u8,
    charset: Charset,
) -> Result<(Record, Vec<usize>, usize), ReadError> {
    let rec = Location::record(index, kind);
    let len_at = Location::field(index, kind, 1);
    let (tag, mut pos) = read_tag(bytes, start, bytes.len(), &rec)?;
    if tag != 1 {
        return Err(error(
            start,
            rec,
            format!("the first field must be {kind}.001 LEN, not {kind}.{tag:03}"),
        ));
    }
    let digits = bytes[pos..]
        .iter()
        .take(20)
        .take_while(|b| b.is_ascii_digit())
        .count();
    let len = std::str::from_utf8(&bytes[pos..pos + digits])
        .ok()
        .and_then(|s| s.parse::<usize>().ok());
    let Some(len) = len else {
        return Err(error(pos, len_at, "LEN must be a decimal number"));
    };
    let after = pos + digits;
    let Some(end) = start.checked_add(len).filter(|&e| e <= bytes.len()) else {
        return Err(error(
            pos,
            len_at,
            format!(
                "LEN {len} runs past the end of the data ({} byte(s) remain)",
                bytes.len() - start
            ),
        ));
    };
    if end <= after + 1 {
        return Err(error(
            pos,
            len_at,
            format!("LEN {len} is too small: the record needs more fields after LEN and an FS"),
        ));
    }
    if bytes[end - 1] != FS {
        return Err(error(
            end - 1,
            len_at,
            format!(
                "the record must end with FS where LEN {len} says it ends, but the byte there \
                 is 0x{:02X}",
                bytes[end - 1]
            ),
        ));
    }
    if bytes[after] != GS {
        return Err(error(
            after,
            len_at,
            format!(
                "LEN must be followed by GS and the next field, not byte 0x{:02X}",
                bytes[after]
            ),
        ));
    }
    pos = after + 1;
    let body_end = end - 1;

    let mut record = Record::new(kind);
    let mut offsets = Vec::new();
    let mut seen = [false; 1000];
    seen[1] = true;
    loop {
        let (tag, value_start) = read_tag(bytes, pos, body_end, &rec)?;
        let at = Location::field(index, kind, tag);
        if std::mem::replace(&mut seen[usize::from(tag)], true) {
            return Err(error(pos, at, "the field appears twice"));
        }
        if kind == 1 {
            if let Some(last) = record.fields.last().filter(|f| f.tag > tag) {
                return Err(error(
                    pos,
                    at,
                    format!(
                        "Type-1 fields must be in ascending order, but this one follows 1.{:03}",
                        last.tag
                    ),
                ));
            }
        } else if record.fields.is_empty() && tag != 2 {
            return Err(error(
                pos,
                at,
                format!("the second field must be {kind}.002 IDC"),
            ));
        }
        offsets.push(value_start);
        if kind != 1 && tag == DATA {
            // Binary: up to the FS that LEN points at, whatever it holds.
            let value = Value::Binary(bytes[value_start..body_end].to_vec());
            record.fields.push(Field { tag, value });
            break;
        }
        let value_end = bytes[value_start..body_end]
            .iter()
            .position(|&b| b == GS)
            .map_or(body_end, |p| value_start + p);
        let value = text(bytes, value_start, value_end, &at, kind, charset)?;
        record.fields.push(Field { tag, value });
        if value_end == body_end {
            break;
        }
        pos = value_end + 1;
    }
    Ok((record, offsets, len))
}

/// Reads a tag `type.fff:` at `pos` (not past `limit`): the field number
/// and where the value starts. The type must be `at.kind`; the field number
/// has 2 or 3 digits (2 in files before 2007) and lies in 1–999.
fn read_tag(
    bytes: &[u8],
    pos: usize,
    limit: usize,
    at: &Location,
) -> Result<(u16, usize), ReadError> {
    let kind = at.kind;
    let window = &bytes[pos..limit.min(pos + 8)];
    let bad = |what: String| {
        let shown: String = window
            .iter()
            .flat_map(|&b| std::ascii::escape_default(b))
            .map(char::from)
            .collect();
        error(pos, at.clone(), format!("{what}, found \"{shown}\""))
    };
    let expected = || format!("expected a tag {kind}.nnn: here");
    let type_digits = window.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(1..=2).contains(&type_digits) || window.get(type_digits) != Some(&b'.') {
        return Err(bad(expected()));
    }
    let rest = &window[type_digits + 1..];
    let field_digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(2..=3).contains(&field_digits) || rest.get(field_digits) != Some(&b':') {
        return Err(bad(expected()));
    }
    let number = |d: &[u8]| d.iter().fold(0u16, |n, &b| n * 10 + u16::from(b - b'0'));
    let tag_kind = number(&window[..type_digits]);
    let tag = number(&rest[..field_digits]);
    if tag_kind != u16::from(kind) {
        return Err(bad(format!(
            "the tag's record type {tag_kind} is not this record's type {kind}"
        )));
    }
    if tag == 0 {
        return Err(bad("field number 0 does not exist".into()));
    }
    Ok((tag, pos + type_digits + 1 + field_digits + 1))
}

/// Splits a text value into subfields and items and checks its characters.
fn text(
    bytes: &[u8],
    start: usize,
    end: usize,
    at: &Location,
    kind: u8,
    charset: Charset,
) -> Result<Value, ReadError> {
    let charset = if kind == 1 { Charset::Ascii } else { charset };
    let mut subfields = Vec::new();
    let mut offset = start;
    for (s, subfield) in bytes[start..end].split(|&b| b == RS).enumerate() {
        let mut items = Vec::new();
        for (i, item) in subfield.split(|&b| b == US).enumerate() {
            let here = at.clone().subfield(s + 1).item(i + 1);
            let text = std::str::from_utf8(item).map_err(|e| {
                let what = if charset == Charset::Ascii {
                    not_ascii(kind)
                } else {
                    "invalid UTF-8".to_owned()
                };
                error(offset + e.valid_up_to(), here.clone(), what)
            })?;
            if let Some((p, c, why)) = text
                .char_indices()
                .find_map(|(p, c)| forbidden(c, charset).map(|why| (p, c, why)))
            {
                let what = if c.is_ascii() {
                    format!("{c:?} is {why}, which text may not contain")
                } else {
                    not_ascii(kind)
                };
                return Err(error(offset + p, here, what));
            }
            items.push(text.to_owned());
            offset += item.len() + 1;
        }
        subfields.push(items);
    }
    Ok(Value::Text(subfields))
}

fn not_ascii(kind: u8) -> String {
    if kind == 1 {
        "a byte that is not 7-bit ASCII, which the Type-1 record must be".to_owned()
    } else {
        "a byte that is not 7-bit ASCII, and 1.015 DCS does not declare UTF-8 (character set 3)"
            .to_owned()
    }
}
