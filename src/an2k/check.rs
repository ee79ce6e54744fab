//! The semantic checks (§1.3–§1.8): what a well-formed transaction must
//! also satisfy to mean something; the rules are listed on [`problems`].

use std::collections::BTreeSet;

use crate::codes::{
    self, AMPUTATION_CODES, COLOUR_SPACES, COMPRESSIONS, FACE_IMAGE_TYPES, MONITORING_MODES, POSES,
    VERSIONS,
};
use crate::date::check_gmt;
use crate::field::{Fields, digits, hex4};
use crate::image::header;
use crate::syntax::DATA;
use crate::{Location, Record, Transaction};

/// A semantic problem: where ([`Problem::at`]) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {what}")]
pub struct Problem {
    pub at: Location,
    pub what: String,
}

/// The first of [`problems`], if any.
pub fn check(tx: &Transaction) -> Result<(), Problem> {
    match problems(tx).into_iter().next() {
        Some(p) => Err(p),
        None => Ok(()),
    }
}

/// Every semantic problem of `tx`, in record and field order. The rules:
///
/// - Every record: the Type-1 first and only there; IDC a number 0–99, unique
///   within its record type for image records (Types 3–8, 10, 13–17, 19–21).
/// - Type-1: VER 0500/0501/0502 (0300/0400 accepted for old files); TOT 1–16
///   letters; DAT a real date; PRY 1–9; DAI, ORI, TCN not empty; NSR and NTR
///   `nn.nn`; DOM name not empty; GMT `YYYYMMDDhhmmssZ`; DCS a known
///   character set index; APS organisation, name and version.
/// - Type-10: IMT known; SRC, PHD, HLL, VLL, SLC (0–2), THPS, TVPS, CGA, CSP
///   and DATA present and valid, SAP too for a FACE; POS known (POA −180–180
///   for an angled pose); SQS quality QVU 0–100/254/255, QAV 4 hex digits,
///   QAP 1–65535; FFP points inside the image; DMM known; T2C names a Type-2
///   of the transaction (mandatory from VER 0501, Update 2013); HLL/VLL equal
///   the JPEG/PNG header's, or the size of uncompressed data.
/// - Type-14: IMP a finger impression code; SRC, FCD, FGP (1–6 positions,
///   each 0–19, 33, 36 or 40–50); HLL, VLL, SLC, THPS, TVPS, CGA (`WSQ20`,
///   not `WSQ`) and BPX 8 present if and only if DATA is, and DATA absent only
///   when AMP says why; the image 8-bit grey and of HLL × VLL pixels (WSQ
///   frame header, PNG/JPEG header, `NONE` byte count); AMP XX/UP, SEG, NQM
///   (1–5/254/255) and FQM entries only for fingers the record covers (a
///   slap 13 covers 2–5, 14 covers 7–10, 15 covers 1 and 6); SEG boxes inside
///   the image with left < right and top < bottom (pixel coordinates, so at
///   most HLL−1 and VLL−1); DMM known.
/// - Type-2 and other types: IDC only (the station's own field map checks
///   Type-2).
pub fn problems(tx: &Transaction) -> Vec<Problem> {
    let mut out = Vec::new();
    let problem = |at, what: &str| Problem {
        at,
        what: what.to_owned(),
    };
    match tx.records.first() {
        None => out.push(problem(
            Location::record(1, 1),
            "the transaction has no records; it needs a Type-1",
        )),
        Some(r) if r.kind != 1 => out.push(problem(
            Location::record(1, r.kind),
            "the first record must be the Type-1",
        )),
        Some(_) => {}
    }
    let version = tx.records.first().and_then(|r| r.text(2));
    let type2_idcs: Vec<u8> = tx
        .records
        .iter()
        .filter(|r| r.kind == 2)
        .filter_map(Record::idc)
        .collect();
    let mut image_idcs = BTreeSet::new();
    for (i, record) in tx.records.iter().enumerate() {
        let f = Fields::new(record, i + 1);
        if record.kind == 1 {
            if i > 0 {
                out.push(problem(
                    Location::record(i + 1, 1),
                    "only the first record may be a Type-1",
                ));
            } else {
                type1(&f, &mut out);
            }
            continue;
        }
        if let Some(idc) = note(&mut out, f.number(2, 0..=99))
            && codes::is_image_record(record.kind)
            && !image_idcs.insert((record.kind, idc))
        {
            out.push(f.problem(
                f.at(2),
                format!(
                    "IDC {idc} is already used by another Type-{} record",
                    record.kind
                ),
            ));
        }
        match record.kind {
            10 => type10(&f, version, &type2_idcs, &mut out),
            14 => type14(&f, &mut out),
            _ => {}
        }
    }
    out
}

/// Keeps the value, or records the problem.
fn note<T>(out: &mut Vec<Problem>, result: Result<T, crate::Problem>) -> Option<T> {
    result.map_err(|p| out.push(p)).ok()
}

fn type1(f: &Fields, out: &mut Vec<Problem>) {
    note(out, f.code(2, VERSIONS));
    if let Some(tot) = note(out, f.required(4))
        && !((1..=16).contains(&tot.len()) && tot.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        out.push(f.problem(f.at(4), format!("TOT must be 1 to 16 letters, not {tot:?}")));
    }
    note(out, f.date(5));
    note(out, f.optional_number(6, 1..=9));
    for tag in [7, 8, 9] {
        note(out, f.non_empty(tag));
    }
    if f.has(10) {
        note(out, f.non_empty(10));
    }
    for tag in [11, 12] {
        if let Some(v) = note(out, f.required(tag)) {
            let b = v.as_bytes();
            let ok =
                b.len() == 5 && b[2] == b'.' && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit());
            if !ok {
                out.push(f.problem(
                    f.at(tag),
                    format!(
                        "a resolution is written nn.nn in pixels per millimetre (00.00 without \
                         Type-3 to 7 records), not {v:?}"
                    ),
                ));
            }
        }
    }
    if let Some(dom) = note(out, f.subfields(13)).flatten() {
        match dom {
            [items] if (1..=2).contains(&items.len()) && !items[0].is_empty() => {}
            _ => out.push(f.problem(
                f.at(13),
                "DOM is one subfield: a domain name (not empty) US an optional version",
            )),
        }
    }
    if let Some(gmt) = note(out, f.single(14)).flatten() {
        note(out, check_gmt(gmt).map_err(|why| f.problem(f.at(14), why)));
    }
    if let Some(dcs) = note(out, f.subfields(15)).flatten() {
        let index = match dcs {
            [items] if (1..=3).contains(&items.len()) => digits::<u16>(&items[0]),
            _ => None,
        };
        match index {
            Some(i) if codes::known_charset(i) => {}
            Some(i) => out.push(f.problem(
                f.at(15).subfield(1).item(1),
                format!(
                    "character set index {i} is reserved (0–4 are defined, 128–999 are \
                     user-defined)"
                ),
            )),
            None => out.push(f.problem(
                f.at(15),
                "DCS is one subfield: character set index US name US version",
            )),
        }
    }
    if let Some(aps) = note(out, f.table(16, 3)) {
        for (s, items) in aps.iter().enumerate() {
            if let Some(i) = items.iter().position(String::is_empty) {
                out.push(f.problem(
                    f.at(16).subfield(s + 1).item(i + 1),
                    "APS items (organisation, profile name, version) may not be empty",
                ));
            }
        }
    }
}

/// Type-10 compressions: the CGA list without WSQ, which is for fingers.
const FACE_COMPRESSIONS: &[&str] = &["NONE", "JPEGB", "JPEGL", "JP2", "JP2L", "PNG"];

fn type10(f: &Fields, version: Option<&str>, type2_idcs: &[u8], out: &mut Vec<Problem>) {
    let imt = note(out, f.code(3, FACE_IMAGE_TYPES));
    note(out, f.non_empty(4));
    note(out, f.date(5));
    let width = note(out, f.number(6, 1..=99_999));
    let height = note(out, f.number(7, 1..=99_999));
    note(out, f.number(8, 0..=2));
    note(out, f.number(9, 1..=99_999));
    note(out, f.number(10, 1..=99_999));
    let cga = note(out, f.code(11, FACE_COMPRESSIONS));
    let csp = note(out, f.code(12, COLOUR_SPACES));
    if (imt == Some("FACE") || f.has(13))
        && let Some(sap) = note(out, f.number(13, 0..=999))
        && !codes::FACE_PROFILES.contains(&(sap as u16))
    {
        out.push(f.problem(
            f.at(13),
            format!("{sap} is not a subject acquisition profile code"),
        ));
    }
    if let Some(pose) = note(out, f.optional_code(20, POSES)).flatten() {
        match note(out, f.single(21)).flatten() {
            Some(poa) => {
                let angle = poa
                    .strip_prefix('-')
                    .map_or_else(|| digits::<i32>(poa), |n| digits::<i32>(n).map(|a| -a));
                if !angle.is_some_and(|a| (-180..=180).contains(&a)) {
                    out.push(f.problem(
                        f.at(21),
                        format!("POA is an angle from -180 to 180 degrees, not {poa:?}"),
                    ));
                }
            }
            None if pose == "A" => out.push(f.problem(
                f.at(21),
                "an angled pose (10.020 POS A) needs its angle in 10.021 POA",
            )),
            None => {}
        }
    }
    if let Some(sqs) = note(out, f.table(24, 3)) {
        for (s, row) in sqs.iter().enumerate() {
            quality(f, f.at(24).subfield(s + 1), 0, row, out);
        }
    }
    if let Some(ffp) = note(out, f.table(29, 4)) {
        for (s, row) in ffp.iter().enumerate() {
            let at = |i: usize| f.at(29).subfield(s + 1).item(i);
            note(out, f.parse_number(at(1), &row[0], 1..=2));
            if row[1].is_empty() {
                out.push(f.problem(at(2), "the feature point code is empty"));
            }
            let limits = [(2, width, "HLL"), (3, height, "VLL")];
            for (i, size, name) in limits {
                let Some(size) = size else { continue };
                let Some(c) = note(out, f.parse_number(at(i + 1), &row[i], 0..=99_999)) else {
                    continue;
                };
                if c >= size {
                    out.push(f.problem(
                        at(i + 1),
                        format!("coordinate {c} is outside the image ({name} {size})"),
                    ));
                }
            }
        }
    }
    note(out, f.optional_code(30, MONITORING_MODES));
    match note(out, f.optional_number(992, 0..=99)).flatten() {
        Some(t2c) if !type2_idcs.contains(&(t2c as u8)) => out.push(f.problem(
            f.at(992),
            format!("T2C {t2c} is not the IDC of a Type-2 record in the transaction"),
        )),
        None if version.is_some_and(|v| v >= "0501") && !f.has(992) => out.push(f.problem(
            f.at(992),
            "mandatory field missing (from VER 0501, Update 2013)",
        )),
        _ => {}
    }
    let Some(data) = note(out, data(f)) else {
        return;
    };
    let (Some(cga), Some(width), Some(height)) = (cga, width, height) else {
        return;
    };
    let channels = match csp {
        Some("GRAY") => Some(1),
        Some("UNK") | None => None,
        Some(_) => Some(3),
    };
    image_size(f, cga, data, (width, height), channels, false, out);
}

fn type14(f: &Fields, out: &mut Vec<Problem>) {
    if let Some(imp) = note(out, f.number(3, 0..=255))
        && !codes::finger_impression(imp as u16)
    {
        out.push(f.problem(
            f.at(3),
            format!(
                "IMP {imp} is not a finger impression code (0–8, 20–29, 41, 42; palms go in \
                 Type-15)"
            ),
        ));
    }
    note(out, f.non_empty(4));
    note(out, f.date(5));
    let fgps = finger_positions(f, out);
    let mut covered: BTreeSet<u16> = fgps
        .iter()
        .flat_map(|&p| codes::covered(p).iter().copied())
        .collect();
    if covered.is_empty() {
        covered.extend(&fgps);
    }
    let covers = |at: Location, text: &str, out: &mut Vec<Problem>| {
        let Some(fgp) = note(out, f.parse_number(at.clone(), text, 0..=255)) else {
            return;
        };
        if !fgps.is_empty() && !covered.contains(&(fgp as u16)) {
            let list: Vec<String> = covered.iter().map(u16::to_string).collect();
            out.push(f.problem(
                at,
                format!(
                    "finger position {fgp} is not in this record, which covers {}",
                    list.join(", ")
                ),
            ));
        }
    };

    let image = image14(f, out);
    if let Some(amp) = note(out, f.table(18, 2)) {
        for (s, row) in amp.iter().enumerate() {
            let at = f.at(18).subfield(s + 1);
            covers(at.clone().item(1), &row[0], out);
            note(out, f.check_code(at.item(2), &row[1], AMPUTATION_CODES));
        }
    }
    if let Some(seg) = note(out, f.table(21, 5)) {
        for (s, row) in seg.iter().enumerate() {
            let at = |i: usize| f.at(21).subfield(s + 1).item(i);
            covers(at(1), &row[0], out);
            let n: Vec<Option<u32>> = (1..5)
                .map(|i| note(out, f.parse_number(at(i + 1), &row[i], 0..=99_999)))
                .collect();
            let [Some(left), Some(right), Some(top), Some(bottom)] = n[..] else {
                continue;
            };
            if left >= right || top >= bottom {
                out.push(f.problem(
                    f.at(21).subfield(s + 1),
                    format!(
                        "the box needs left < right and top < bottom, not left {left}, right \
                         {right}, top {top}, bottom {bottom}"
                    ),
                ));
            }
            if let Some((width, height)) = image
                && (right >= width || bottom >= height)
            {
                out.push(f.problem(
                    f.at(21).subfield(s + 1),
                    format!(
                        "the box (right {right}, bottom {bottom}) is outside the {width}×{height} \
                         image"
                    ),
                ));
            }
        }
    }
    if let Some(nqm) = note(out, f.table(22, 2)) {
        for (s, row) in nqm.iter().enumerate() {
            let at = f.at(22).subfield(s + 1);
            covers(at.clone().item(1), &row[0], out);
            if let Some(q) = note(out, f.parse_number(at.clone().item(2), &row[1], 0..=255))
                && !codes::nist_quality(q as u16)
            {
                out.push(f.problem(
                    at.item(2),
                    format!("NFIQ score {q} is not 1–5, 254 (not computed) or 255 (failed)"),
                ));
            }
        }
    }
    if let Some(fqm) = note(out, f.table(24, 4)) {
        for (s, row) in fqm.iter().enumerate() {
            let at = f.at(24).subfield(s + 1);
            covers(at.clone().item(1), &row[0], out);
            quality(f, at, 1, row, out);
        }
    }
    note(out, f.optional_code(30, MONITORING_MODES));
}

/// `14.013` FGP: 1–6 positions, each a Type-14 code.
fn finger_positions(f: &Fields, out: &mut Vec<Problem>) -> Vec<u16> {
    let Some(subfields) = note(out, f.subfields(13)).flatten() else {
        out.push(f.problem(f.at(13), "mandatory field missing"));
        return Vec::new();
    };
    if subfields.len() > 6 {
        out.push(f.problem(
            f.at(13),
            format!("at most 6 finger positions, not {}", subfields.len()),
        ));
    }
    let mut fgps = Vec::new();
    for (s, items) in subfields.iter().enumerate() {
        let at = f.at(13).subfield(s + 1);
        let [fgp] = items.as_slice() else {
            out.push(f.problem(at, "each subfield holds one finger position"));
            continue;
        };
        let Some(fgp) = note(out, f.parse_number(at.clone(), fgp, 0..=255)) else {
            continue;
        };
        if codes::finger_position(fgp as u16) {
            fgps.push(fgp as u16);
        } else {
            out.push(f.problem(
                at,
                format!("{fgp} is not a Type-14 finger position (0–19, 33, 36, 40–50)"),
            ));
        }
    }
    fgps
}

/// The image fields 14.006–14.012 and 14.999: all present or all absent.
/// Returns the image size when it is known.
fn image14(f: &Fields, out: &mut Vec<Problem>) -> Option<(u32, u32)> {
    const IMAGE_FIELDS: [u16; 7] = [6, 7, 8, 9, 10, 11, 12];
    if !f.has(DATA) {
        for tag in IMAGE_FIELDS.into_iter().filter(|&t| f.has(t)) {
            out.push(f.problem(
                f.at(tag),
                "an image field without an image: 14.006–14.012 go with 14.999 DATA",
            ));
        }
        if !f.has(18) {
            out.push(f.problem(
                f.at(DATA),
                "no image, and no 14.018 AMP says the finger is amputated (XX) or could not be \
                 printed (UP)",
            ));
        }
        return None;
    }
    let width = note(out, f.number(6, 1..=99_999));
    let height = note(out, f.number(7, 1..=99_999));
    note(out, f.number(8, 0..=2));
    note(out, f.number(9, 1..=99_999));
    note(out, f.number(10, 1..=99_999));
    let cga = match note(out, f.required(11)) {
        Some("WSQ") => {
            out.push(f.problem(
                f.at(11),
                "\"WSQ\" is not a compression code: WSQ at 500 ppi is WSQ20",
            ));
            None
        }
        Some(v) => note(out, f.check_code(f.at(11), v, COMPRESSIONS)).map(|()| v),
        None => None,
    };
    if let Some(bpx) = note(out, f.number(12, 1..=99))
        && bpx != 8
    {
        out.push(f.problem(
            f.at(12),
            format!("BPX {bpx}: fingerprint images here are 8-bit grey (BPX 8)"),
        ));
    }
    let data = note(out, data(f))?;
    let (width, height) = (width?, height?);
    if let Some(cga) = cga {
        image_size(f, cga, data, (width, height), Some(1), true, out);
    }
    Some((width, height))
}

/// Field 999 as bytes.
fn data<'a>(f: &Fields<'a>) -> Result<&'a [u8], Problem> {
    match f.record.get(DATA) {
        Some(v) => v
            .as_binary()
            .ok_or_else(|| f.problem(f.at(DATA), "DATA holds text, not image bytes")),
        None => Err(f.problem(f.at(DATA), "mandatory field missing")),
    }
}

/// HLL × VLL against the image itself: its header, or for `NONE` its byte
/// count (`channels` bytes a pixel, when known). With `gray`, the image must
/// also be 8-bit grey.
fn image_size(
    f: &Fields,
    cga: &str,
    data: &[u8],
    (width, height): (u32, u32),
    channels: Option<u64>,
    gray: bool,
    out: &mut Vec<Problem>,
) {
    let at = f.at(DATA);
    if cga == "NONE" {
        if let Some(channels) = channels {
            let expected = u64::from(width) * u64::from(height) * channels;
            if data.len() as u64 != expected {
                out.push(f.problem(
                    at,
                    format!(
                        "{} bytes of uncompressed data, but HLL × VLL = {width} × {height} \
                         needs {expected}",
                        data.len()
                    ),
                ));
            }
        }
        return;
    }
    match header(cga, data) {
        Err(why) => out.push(f.problem(at, format!("CGA {cga}: {why}"))),
        Ok(None) => {}
        Ok(Some(h)) => {
            if (h.width, h.height) != (u64::from(width), u64::from(height)) {
                out.push(f.problem(
                    at.clone(),
                    format!(
                        "the image is {}×{} pixels, but HLL × VLL says {width}×{height}",
                        h.width, h.height
                    ),
                ));
            }
            if gray && !h.gray8 {
                out.push(f.problem(at, "the image is not 8-bit grey (BPX 8)"));
            }
        }
    }
}

/// QVU US QAV US QAP, from item `first` of `row` (10.024 SQS, 14.024 FQM).
fn quality(f: &Fields, at: Location, first: usize, row: &[String], out: &mut Vec<Problem>) {
    let item = |i: usize| at.clone().item(first + i + 1);
    if let Some(q) = note(out, f.parse_number(item(0), &row[first], 0..=255))
        && !codes::quality_value(q as u16)
    {
        out.push(f.problem(
            item(0),
            format!("quality {q} is not 0–100, 254 (not computed) or 255 (failed)"),
        ));
    }
    if !hex4(&row[first + 1]) {
        out.push(f.problem(
            item(1),
            format!(
                "the algorithm vendor (QAV) is 4 hexadecimal digits, not {:?}",
                row[first + 1]
            ),
        ));
    }
    note(out, f.parse_number(item(2), &row[first + 2], 1..=65_535));
}
