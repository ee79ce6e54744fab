//! The enrolment as an ANSI/NIST-ITL 1-2011 (Update 2015) transaction:
//! what the authority's AFIS and card personalisation read.
//!
//! Records, in this order (`docs/packet.md` has the full field map):
//!
//! | IDC | Record | Content |
//! |---|---|---|
//! | — | Type-1 | VER 0502, TOT `NIDENR` (`NIDTST` for test enrolments), DAI the authority, ORI the station, TCN the packet id, DCS UTF-8 |
//! | 0 | Type-2 | the applicant, the request, the office, the document check ([`t2`]) |
//! | 1 | Type-10 | the portrait, baseline JPEG |
//! | 2… | Type-14 | each slap (FGP 13/14/15, SEG boxes, FQM per finger, AMP for its missing fingers) |
//! | … | Type-14 | each finger (FGP 1–10, WSQ20, FQM) |
//! | … | Type-14 | each missing or unprintable finger: FGP and AMP only, no image |

use std::collections::BTreeMap;

use pishkhan_an2k::records::{
    AmpCode, ColourSpace, Compression, EyeCentres, FaceRecord, FingerImage, FingerQuality,
    FingerRecord, MonitoringMode, Pose, QualityScore, Scale, SegmentBox, Type1,
};
use pishkhan_an2k::{Date, Record, Transaction, Value};

use super::{Manifest, PacketError, Prepared, Sealer, sha256_hex};
use crate::enrolment::tenprint::slap_position;
use crate::enrolment::{Gender, RequestType};

/// 1.002 VER: ANSI/NIST-ITL 1-2011 with the 2015 update.
pub const VERSION: &str = "0502";
/// 1.004 TOT of a real enrolment.
pub const TOT: &str = "NIDENR";
/// 1.004 TOT of a technician's test enrolment.
pub const TOT_TEST: &str = "NIDTST";
/// 1.013 DOM: our domain name and its version (this field map).
pub const DOMAIN: (&str, &str) = ("IR-NID-ENROLMENT", "1.0");
/// IDC of the Type-2 record (10.992 / 14.992 T2C point to it).
pub const TYPE2_IDC: u8 = 0;
/// IDC of the portrait's Type-10 record.
pub const PORTRAIT_IDC: u8 = 1;
/// FQM QAV: the station's quality algorithm has no registered vendor id
/// yet; `FFFF` marks it as unregistered until the authority assigns one.
pub const QUALITY_VENDOR: u16 = 0xFFFF;
/// FQM QAP: pishkhan-quality/1.
pub const QUALITY_PRODUCT: u16 = 1;
/// SQS QAP: pishkhan-portrait/1, the share of live portrait checks passed
/// (vendor [`QUALITY_VENDOR`]).
pub const PORTRAIT_QUALITY_PRODUCT: u16 = 2;
/// SAP of a portrait that passed every check: the ISO/IEC 19794-5 token
/// image.
pub const SAP_ISO_TOKEN: u16 = 14;
/// SAP of a portrait taken by override or without the checks: unknown.
pub const SAP_UNKNOWN: u16 = 0;

/// The Type-2 field map (`docs/packet.md` § Type-2).
pub mod t2 {
    /// Version of this field map.
    pub const MAP: u16 = 4;
    pub const NATIONAL_CODE: u16 = 10;
    pub const FIRST_NAME: u16 = 11;
    pub const LAST_NAME: u16 = 12;
    pub const FATHER_NAME: u16 = 13;
    pub const GENDER: u16 = 14;
    pub const BIRTH_DATE_JALALI: u16 = 15;
    pub const BIRTH_DATE_GREGORIAN: u16 = 16;
    /// Place of birth, as written.
    pub const PLACE_OF_BIRTH: u16 = 17;
    /// Certificate number US series letter US series number US serial.
    pub const BIRTH_CERTIFICATE: u16 = 20;
    pub const POSTAL_CODE: u16 = 30;
    pub const ADDRESS: u16 = 31;
    /// The landline, `0` + area code + 8 digits (absent when none).
    pub const LANDLINE: u16 = 32;
    pub const MOBILE: u16 = 33;
    pub const REQUEST_TYPE: u16 = 40;
    /// The priority group's code (`NONE`, `AGE15`, `VETERAN`, `OLDCARD`,
    /// `DISABILITY`).
    pub const PRIORITY_GROUP: u16 = 41;
    pub const TRACKING_CODE: u16 = 42;
    /// The online pre-registration's tracking code (absent for walk-ins).
    pub const PREREGISTRATION: u16 = 43;
    /// Differences from the pre-registration kept with a reason, one
    /// subfield each: field US typed US registered US reason.
    pub const DIFFERENCES_KEPT: u16 = 44;
    /// Office name US station number US station id.
    pub const OFFICE: u16 = 50;
    pub const OPERATOR: u16 = 51;
    /// One subfield per check: code US `Y`/`N`.
    pub const DOCUMENT_CHECKS: u16 = 52;
    /// GMT the enrolment started.
    pub const STARTED: u16 = 53;
    /// Supervisors who approved exceptions or forced captures.
    pub const SUPERVISORS: u16 = 54;
}

/// The transaction and which record (IDC) holds each position.
pub(crate) struct Built {
    pub transaction: Transaction,
    idcs: BTreeMap<u8, u8>,
}

impl Built {
    /// The IDC of the Type-14 record for finger or slap `position`.
    pub fn idc(&self, position: u8) -> u8 {
        self.idcs.get(&position).copied().unwrap_or(0)
    }
}

fn gmt(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y%m%d%H%M%SZ").to_string()
}

fn date(at: chrono::DateTime<chrono::Utc>) -> Result<Date, PacketError> {
    use chrono::Datelike;
    u16::try_from(at.year())
        .ok()
        .and_then(|y| Date::new(y, at.month() as u8, at.day() as u8))
        .ok_or(PacketError::Incomplete("a date the transaction can hold"))
}

/// ORI and SRC: the station, in ASCII.
pub fn originating_agency(station_number: u16) -> String {
    format!("PISHKHAN{station_number:04}")
}

fn request_code(request: RequestType) -> &'static str {
    match request {
        RequestType::FirstCard => "FIRST",
        RequestType::LostCard => "LOST",
        RequestType::IdentityCorrection => "CORRECTION",
        RequestType::Replacement => "REPLACEMENT",
    }
}

pub(crate) fn document_code(check: crate::enrolment::DocumentCheck) -> String {
    serde_json::to_value(check)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn type2(prepared: &Prepared<'_>, sealer: &Sealer<'_>) -> Result<Record, PacketError> {
    let session = prepared.session;
    let a = session
        .applicant
        .as_ref()
        .ok_or(PacketError::Incomplete("applicant"))?;
    let mut r = Record::new(2);
    r.push(2, Value::item(TYPE2_IDC.to_string()));
    r.push(3, Value::item(t2::MAP.to_string()));
    r.push(t2::NATIONAL_CODE, Value::item(a.national_code.as_str()));
    r.push(t2::FIRST_NAME, Value::item(&a.first_name));
    r.push(t2::LAST_NAME, Value::item(&a.last_name));
    r.push(t2::FATHER_NAME, Value::item(&a.father_name));
    r.push(
        t2::GENDER,
        Value::item(match a.gender {
            Gender::Female => "F",
            Gender::Male => "M",
        }),
    );
    r.push(
        t2::BIRTH_DATE_JALALI,
        Value::item(a.birth_date.to_ascii().replace('/', "")),
    );
    r.push(
        t2::BIRTH_DATE_GREGORIAN,
        Value::item(a.birth_date_gregorian.replace('-', "")),
    );
    r.push(t2::PLACE_OF_BIRTH, Value::item(&a.place_of_birth));
    let bc = &a.birth_certificate;
    r.push(
        t2::BIRTH_CERTIFICATE,
        Value::items([
            bc.number.clone(),
            bc.series_letter.clone(),
            bc.series_number.clone(),
            bc.serial.clone(),
        ]),
    );
    r.push(t2::POSTAL_CODE, Value::item(&a.postal_code));
    r.push(t2::ADDRESS, Value::item(&a.address));
    if let Some(landline) = &a.landline {
        r.push(t2::LANDLINE, Value::item(landline));
    }
    r.push(t2::MOBILE, Value::item(&a.mobile));
    r.push(t2::REQUEST_TYPE, Value::item(request_code(a.request_type)));
    r.push(t2::PRIORITY_GROUP, Value::item(a.priority_group.code()));
    r.push(
        t2::TRACKING_CODE,
        Value::item(prepared.tracking_code.as_str()),
    );
    if let Some(check_in) = &session.check_in {
        r.push(
            t2::PREREGISTRATION,
            Value::item(&check_in.appointment.tracking_code),
        );
        let kept: Vec<Vec<String>> = check_in
            .kept()
            .map(|(d, reason)| {
                vec![
                    d.field.clone(),
                    d.typed.clone(),
                    d.registered.clone(),
                    reason.to_owned(),
                ]
            })
            .collect();
        if !kept.is_empty() {
            r.push(t2::DIFFERENCES_KEPT, Value::subfields(kept));
        }
    }
    r.push(
        t2::OFFICE,
        Value::items([
            sealer.office.to_owned(),
            sealer.station_number.to_string(),
            sealer.station_id.to_owned(),
        ]),
    );
    r.push(t2::OPERATOR, Value::item(&session.operator));
    r.push(
        t2::DOCUMENT_CHECKS,
        Value::subfields(crate::enrolment::DocumentCheck::ALL.iter().map(|check| {
            vec![
                document_code(*check),
                if session.documents.confirmed.contains(check) {
                    "Y".to_owned()
                } else {
                    "N".to_owned()
                },
            ]
        })),
    );
    r.push(t2::STARTED, Value::item(gmt(session.started_at)));
    let supervisors = session.supervisors();
    if !supervisors.is_empty() {
        r.push(
            t2::SUPERVISORS,
            Value::subfields(supervisors.into_iter().map(|s| vec![s])),
        );
    }
    Ok(r)
}

/// Builds the transaction of a prepared session.
pub(crate) fn build(prepared: &Prepared<'_>, sealer: &Sealer<'_>) -> Result<Built, PacketError> {
    let session = prepared.session;
    let ori = originating_agency(sealer.station_number);
    let capture_date = date(session.started_at)?;
    let mut records = vec![
        Type1 {
            version: VERSION.into(),
            tot: if session.test { TOT_TEST } else { TOT }.into(),
            date: date(prepared.sealed_at)?,
            priority: None,
            dai: sealer.agency.into(),
            ori: ori.clone(),
            tcn: session.id.to_string(),
            tcr: None,
            domain: Some((DOMAIN.0.into(), DOMAIN.1.into())),
            gmt: gmt(prepared.sealed_at),
            utf8: true,
            application_profile: Vec::new(),
        }
        .to_record(),
        type2(prepared, sealer)?,
    ];

    let portrait = session
        .portrait
        .as_ref()
        .ok_or(PacketError::Incomplete("portrait"))?;
    records.push(face_record(portrait, ori.clone(), capture_date));

    let quality = |position: u8| -> Option<FingerQuality> {
        session
            .fingers
            .iter()
            .find(|(f, _)| f.position() == position)
            .map(|(_, c)| FingerQuality {
                fgp: position,
                score: QualityScore {
                    value: c.score(),
                    vendor: QUALITY_VENDOR,
                    product: QUALITY_PRODUCT,
                },
            })
    };
    let amputations = |fingers: &[u8]| -> Vec<(u8, AmpCode)> {
        session
            .exceptions
            .iter()
            .filter(|(f, _)| fingers.contains(&f.position()))
            .map(|(f, e)| (f.position(), amp_code(e.kind)))
            .collect()
    };

    // Every Type-14 starts from this: plain live-scan, this station, the
    // capture date, pointing to the Type-2.
    let base = |fgp: u8| FingerRecord {
        idc: 0,
        imp: 0,
        src: ori.clone(),
        capture_date,
        fgp,
        image: None,
        amp: Vec::new(),
        seg: Vec::new(),
        nqm: Vec::new(),
        fqm: Vec::new(),
        dmm: None,
        comment: None,
        t2c: TYPE2_IDC,
        mms: None,
    };
    let wsq_image = |width: u32, height: u32, ppi: u16, data: &[u8]| FingerImage {
        width,
        height,
        ppi,
        compression: Compression::Wsq20,
        bpx: 8,
        data: data.to_vec(),
    };
    let mut type14 = Vec::new();
    for (slap, (position, wsq)) in session.slaps.iter().zip(&prepared.slaps) {
        let covered: Vec<u8> = slap
            .impression
            .fingers()
            .iter()
            .map(|f| f.position())
            .collect();
        let image = &slap.image;
        type14.push(FingerRecord {
            image: Some(wsq_image(
                image.width,
                image.height,
                image.resolution_ppi,
                wsq,
            )),
            amp: amputations(&covered),
            seg: slap
                .boxes
                .iter()
                .map(|(f, [x, y, w, h])| SegmentBox {
                    fgp: f.position(),
                    left: *x,
                    right: x + w.saturating_sub(1),
                    top: *y,
                    bottom: y + h.saturating_sub(1),
                })
                .collect(),
            fqm: slap
                .boxes
                .iter()
                .filter_map(|(f, _)| quality(f.position()))
                .collect(),
            dmm: Some(MonitoringMode::Controlled),
            ..base(*position)
        });
    }
    for ((finger, captured), (position, wsq)) in session.fingers.iter().zip(&prepared.fingers) {
        let mut comment = format!("attempts={}", captured.attempts);
        if let Some(supervisor) = &captured.forced_by {
            comment.push_str(&format!("; accepted below the threshold by {supervisor}"));
        }
        let from = slap_position(captured.impression);
        if from != finger.position() {
            comment.push_str(&format!("; segmented from FGP {from}"));
        }
        let image = &captured.image;
        type14.push(FingerRecord {
            image: Some(wsq_image(
                image.width,
                image.height,
                image.resolution_ppi,
                wsq,
            )),
            fqm: quality(*position).into_iter().collect(),
            dmm: Some(MonitoringMode::Controlled),
            comment: Some(comment),
            ..base(*position)
        });
    }
    for (finger, exception) in &session.exceptions {
        type14.push(FingerRecord {
            amp: vec![(finger.position(), amp_code(exception.kind))],
            ..base(finger.position())
        });
    }

    let mut idcs = BTreeMap::new();
    for (idc, mut record) in (PORTRAIT_IDC + 1..).zip(type14) {
        record.idc = idc;
        idcs.insert(record.fgp, idc);
        records.push(record.to_record());
    }

    Ok(Built {
        transaction: Transaction { records },
        idcs,
    })
}

/// The portrait's Type-10 record. A portrait that passed every live check
/// is the ISO token image (SAP 14); one taken by override, or without the
/// checks (drafts from before them), says SAP 0. SQS carries the share of
/// checks passed, FFP the eye centres in the stored picture, DMM whether
/// the applicant was assisted.
fn face_record(portrait: &crate::enrolment::Portrait, src: String, photo_date: Date) -> Record {
    let capture = portrait.face.as_ref();
    let sap = match capture {
        Some(c) if c.compliant() => SAP_ISO_TOKEN,
        _ => SAP_UNKNOWN,
    };
    let assisted = capture
        .and_then(|c| c.r#override.as_ref())
        .is_some_and(|o| o.assisted);
    FaceRecord {
        idc: PORTRAIT_IDC,
        src,
        photo_date,
        width: portrait.width,
        height: portrait.height,
        scale: Scale::Aspect(1, 1),
        compression: Compression::Jpegb,
        colour_space: ColourSpace::Ycc,
        sap,
        pose: Some(Pose::Frontal),
        acquisition_source: Some("DIGITAL CAMERA".into()),
        quality: capture
            .map(|c| QualityScore {
                value: c.quality(),
                vendor: QUALITY_VENDOR,
                product: PORTRAIT_QUALITY_PRODUCT,
            })
            .into_iter()
            .collect(),
        eye_centres: capture
            .and_then(|c| c.eyes)
            .map(|[right, left]| EyeCentres {
                left: (left[0], left[1]),
                right: (right[0], right[1]),
            }),
        dmm: Some(if assisted {
            MonitoringMode::Assisted
        } else {
            MonitoringMode::Controlled
        }),
        mms: None,
        t2c: TYPE2_IDC,
        data: portrait.jpeg.clone(),
    }
    .to_record()
}

fn amp_code(kind: crate::enrolment::tenprint::ExceptionKind) -> AmpCode {
    match kind {
        crate::enrolment::tenprint::ExceptionKind::Missing => AmpCode::Amputated,
        crate::enrolment::tenprint::ExceptionKind::Unprintable => AmpCode::UnableToPrint,
    }
}

/// Checks that the transaction holds what the manifest says: the TCN, the
/// portrait and every finger and slap image by hash, every exception.
pub(crate) fn verify_against(
    transaction: &Transaction,
    manifest: &Manifest,
) -> Result<(), PacketError> {
    let mismatch = |what: String| PacketError::HashMismatch(what);
    let type1 = transaction
        .records
        .first()
        .ok_or_else(|| PacketError::Missing("Type-1 record".into()))?;
    if type1.text(9) != Some(manifest.transaction.tcn.as_str()) {
        return Err(mismatch("the transaction's TCN".into()));
    }
    let data = |kind: u8, idc: u8| -> Option<&[u8]> {
        transaction
            .records
            .iter()
            .find(|r| r.kind == kind && r.idc() == Some(idc))
            .and_then(|r| r.get(999))
            .and_then(Value::as_binary)
    };
    let image_matches =
        |kind: u8, idc: u8, sha: &str| data(kind, idc).is_some_and(|d| sha256_hex(d) == sha);
    if !image_matches(10, manifest.portrait.idc, &manifest.portrait.sha256) {
        return Err(mismatch("the portrait (Type-10)".into()));
    }
    for finger in &manifest.fingers {
        if !image_matches(14, finger.idc, &finger.sha256) {
            return Err(mismatch(format!("finger {} (Type-14)", finger.position)));
        }
    }
    for slap in &manifest.slaps {
        if !image_matches(14, slap.idc, &slap.sha256) {
            return Err(mismatch(format!("slap {} (Type-14)", slap.position)));
        }
    }
    for exception in &manifest.exceptions {
        let record = transaction
            .records
            .iter()
            .find(|r| r.kind == 14 && r.idc() == Some(exception.idc))
            .ok_or_else(|| {
                PacketError::Missing(format!("the Type-14 of {}", exception.position))
            })?;
        let amp = FingerRecord::from_record(record)?.amp;
        if !amp
            .iter()
            .any(|(fgp, code)| *fgp == exception.position && code.code() == exception.code)
        {
            return Err(mismatch(format!("exception {}", exception.position)));
        }
    }
    Ok(())
}
