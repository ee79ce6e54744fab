//! The receipt as the template's `sys.inputs`: a typst dictionary of plain
//! values (strings, arrays, bytes, `none`). The template only prints them;
//! nothing from the receipt is ever parsed as typst markup.
//!
//! The dictionary has two halves, `fa` and `en`, each with every text of
//! that half already in its final form (digits converted, amounts grouped),
//! plus the images:
//!
//! ```text
//! tracking: str (16 digits)        portrait: bytes (JPEG) | none
//! qr: bytes (SVG)                  barcode: bytes (SVG)
//! grouped: str (as printed under the barcode)
//! fa, en: (
//!   applicant, national-code, tracking, request-type, office, station,
//!   operator, issued: str
//!   exceptions: array of str
//!   fees: array of (label: str, amount: str), total: str | none
//!   payment-reference: str | none
//!   reprint: (number: str, date: str) | none
//! )
//! ```

use typst::foundations::{Array, Bytes, Dict, IntoValue, Value};

use crate::{Receipt, ReceiptError, codes, digits};

/// Checks `r` and makes the template's inputs.
pub fn inputs(r: &Receipt) -> Result<Dict, ReceiptError> {
    check(r)?;
    let total = total(r)?;
    let mut dict = Dict::new();
    put(&mut dict, "tracking", r.tracking_code.as_str());
    put(&mut dict, "grouped", r.tracking_grouped.as_str());
    put(&mut dict, "qr", svg(codes::qr_svg(&r.tracking_code)?));
    put(
        &mut dict,
        "barcode",
        svg(codes::code128_svg(&r.tracking_code)?),
    );
    put(
        &mut dict,
        "portrait",
        r.portrait_jpeg.as_ref().map(|b| Bytes::new(b.clone())),
    );
    put(&mut dict, "fa", persian_half(r, total));
    put(&mut dict, "en", english_half(r, total));
    Ok(dict)
}

fn check(r: &Receipt) -> Result<(), ReceiptError> {
    let all_digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(&r.tracking_code, 16) {
        return Err(ReceiptError::BadTrackingCode(r.tracking_code.clone()));
    }
    let spelled: String = r
        .tracking_grouped
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect();
    if spelled != r.tracking_code {
        return Err(ReceiptError::GroupedMismatch {
            code: r.tracking_code.clone(),
            grouped: r.tracking_grouped.clone(),
        });
    }
    if !all_digits(&r.national_code, 10) {
        return Err(ReceiptError::BadNationalCode(r.national_code.clone()));
    }
    if let Some(jpeg) = &r.portrait_jpeg {
        check_jpeg(jpeg)?;
    }
    Ok(())
}

/// The portrait must be a whole JPEG that decodes: typst would otherwise
/// stop with a message about the template, not the photo, and a truncated
/// JPEG (which decoders fill in with grey rather than refuse) would print
/// half a face.
fn check_jpeg(bytes: &[u8]) -> Result<(), ReceiptError> {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => {}
        Ok(other) => {
            return Err(ReceiptError::BadPortrait(format!(
                "the bytes are {other:?}, not JPEG"
            )));
        }
        Err(_) => {
            return Err(ReceiptError::BadPortrait(
                "the bytes are not an image format known here".to_owned(),
            ));
        }
    }
    // Every JPEG ends with the end-of-image marker FF D9 (some writers pad
    // after it with zeros); in the compressed data an FF is always
    // followed by 00, so the marker cannot appear there by chance.
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    if !bytes[..end].ends_with(&[0xFF, 0xD9]) {
        return Err(ReceiptError::BadPortrait(
            "it has no end-of-image marker: the file is truncated".to_owned(),
        ));
    }
    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
        .map(drop)
        .map_err(|e| ReceiptError::BadPortrait(e.to_string()))
}

fn persian_half(r: &Receipt, total: Option<u64>) -> Dict {
    let mut d = Dict::new();
    put(&mut d, "applicant", r.applicant_fa.as_str());
    put(&mut d, "national-code", digits::persian(&r.national_code));
    put(&mut d, "tracking", digits::persian(&r.tracking_grouped));
    put(&mut d, "request-type", r.request_type.fa.as_str());
    put(&mut d, "office", r.office.fa.as_str());
    put(&mut d, "station", digits::identifier_fa(&r.station));
    put(&mut d, "operator", r.operator.as_str());
    put(&mut d, "issued", r.issued_jalali.as_str());
    put(
        &mut d,
        "exceptions",
        strings(r.finger_exceptions.iter().map(|e| e.fa.clone())),
    );
    put(
        &mut d,
        "fees",
        fees(r, |f| {
            (f.label.fa.clone(), digits::rials_fa(f.amount_rials))
        }),
    );
    put(&mut d, "total", total.map(digits::rials_fa));
    put(
        &mut d,
        "payment-reference",
        r.payment_reference.as_deref().map(digits::identifier_fa),
    );
    put(
        &mut d,
        "reprint",
        r.reprint.as_ref().map(|p| {
            let mut reprint = Dict::new();
            put(
                &mut reprint,
                "number",
                digits::persian(&p.number.to_string()),
            );
            put(&mut reprint, "date", p.jalali.as_str());
            reprint
        }),
    );
    d
}

fn english_half(r: &Receipt, total: Option<u64>) -> Dict {
    let mut d = Dict::new();
    put(
        &mut d,
        "applicant",
        r.applicant_latin.as_deref().unwrap_or(&r.applicant_fa),
    );
    put(&mut d, "national-code", r.national_code.as_str());
    put(&mut d, "tracking", r.tracking_grouped.as_str());
    put(&mut d, "request-type", r.request_type.en.as_str());
    put(&mut d, "office", r.office.en.as_str());
    put(&mut d, "station", r.station.as_str());
    put(&mut d, "operator", r.operator.as_str());
    put(
        &mut d,
        "issued",
        format!(
            "{} ({} SH)",
            r.issued_gregorian,
            digits::latin(&r.issued_jalali)
        ),
    );
    put(
        &mut d,
        "exceptions",
        strings(r.finger_exceptions.iter().map(|e| e.en.clone())),
    );
    put(
        &mut d,
        "fees",
        fees(r, |f| {
            (f.label.en.clone(), digits::rials_en(f.amount_rials))
        }),
    );
    put(&mut d, "total", total.map(digits::rials_en));
    put(&mut d, "payment-reference", r.payment_reference.as_deref());
    put(
        &mut d,
        "reprint",
        r.reprint.as_ref().map(|p| {
            let mut reprint = Dict::new();
            put(&mut reprint, "number", p.number.to_string());
            put(&mut reprint, "date", p.gregorian.as_str());
            reprint
        }),
    );
    d
}

/// The sum of the fees, or `None` when there are none.
fn total(r: &Receipt) -> Result<Option<u64>, ReceiptError> {
    if r.fees.is_empty() {
        return Ok(None);
    }
    r.fees
        .iter()
        .try_fold(0u64, |sum, f| sum.checked_add(f.amount_rials))
        .map(Some)
        .ok_or(ReceiptError::FeesOverflow)
}

fn fees(r: &Receipt, row: impl Fn(&crate::Fee) -> (String, String)) -> Array {
    r.fees
        .iter()
        .map(|f| {
            let (label, amount) = row(f);
            let mut d = Dict::new();
            put(&mut d, "label", label);
            put(&mut d, "amount", amount);
            Value::Dict(d)
        })
        .collect()
}

fn strings(items: impl Iterator<Item = String>) -> Array {
    items.map(IntoValue::into_value).collect()
}

fn svg(text: String) -> Bytes {
    Bytes::new(text.into_bytes())
}

fn put(dict: &mut Dict, key: &str, value: impl IntoValue) {
    dict.insert(key.into(), value.into_value());
}
