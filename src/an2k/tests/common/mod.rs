//! Fixtures shared by the integration tests: synthetic images and a
//! realistic enrolment transaction.
#![allow(dead_code)] // each test binary uses its own part of this module

use image::{ExtendedColorType, ImageEncoder};
use pishkhan_an2k::records::{
    AmpCode, ColourSpace, Compression, EyeCentres, FaceRecord, FingerImage, FingerQuality,
    FingerRecord, MakeModelSerial, MonitoringMode, Pose, QualityScore, Scale, SegmentBox, Type1,
};
use pishkhan_an2k::{Date, Record, Transaction, Value};
use pishkhan_fingerprint::GrayRef;
use pishkhan_fingerprint::wsq::{self, EncodeOptions};

/// A ridge-like grey pattern (concentric rings, 9-pixel period).
pub fn rings(width: u32, height: u32) -> Vec<u8> {
    let (cx, cy) = (f64::from(width) / 2.0, f64::from(height) / 2.0);
    (0..height)
        .flat_map(|y| {
            (0..width).map(move |x| {
                let r = (f64::from(x) - cx).hypot((f64::from(y) - cy) * 1.3);
                (128.0 + 100.0 * (std::f64::consts::TAU * r / 9.0).sin()) as u8
            })
        })
        .collect()
}

/// The rings as WSQ at 0.75 bpp.
pub fn wsq(width: u32, height: u32) -> Vec<u8> {
    let pixels = rings(width, height);
    let image = GrayRef::new(width as usize, height as usize, &pixels).expect("pixels");
    wsq::encode(image, &EncodeOptions::default()).expect("encodes")
}

/// A colour baseline JPEG.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let rgb: Vec<u8> = rings(width, height)
        .into_iter()
        .flat_map(|v| [v, 255 - v, v / 2])
        .collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode(&rgb, width, height, ExtendedColorType::Rgb8)
        .expect("jpeg");
    out
}

/// A PNG of the rings, grey or RGB.
pub fn png(width: u32, height: u32, gray: bool) -> Vec<u8> {
    let pixels = rings(width, height);
    let (data, colour) = if gray {
        (pixels, ExtendedColorType::L8)
    } else {
        let rgb = pixels.into_iter().flat_map(|v| [v, v, v]).collect();
        (rgb, ExtendedColorType::Rgb8)
    };
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&data, width, height, colour)
        .expect("png");
    out
}

pub fn date() -> Date {
    Date::new(2025, 6, 1).expect("a date")
}

pub fn type1() -> Type1 {
    Type1 {
        version: "0502".into(),
        tot: "ENR".into(),
        date: date(),
        priority: Some(4),
        dai: "CENTRALID".into(),
        ori: "STATION01".into(),
        tcn: "ST01-20250601-000001".into(),
        tcr: None,
        domain: Some(("PISHKHAN".into(), "1.0".into())),
        gmt: "20250601083000Z".into(),
        utf8: true,
        application_profile: vec![("PISHKHAN".into(), "ENROLMENT".into(), "1.0".into())],
    }
}

pub fn type2() -> Record {
    let mut r = Record::new(2);
    r.push(2, Value::item("0"))
        .push(3, Value::item("ENR-000001"))
        .push(18, Value::items(["رضایی", "محمدرضا"]))
        .push(20, Value::item("تهران"))
        .push(22, Value::item("13650214"));
    r
}

pub fn nfiq2(value: u8) -> QualityScore {
    QualityScore {
        value,
        vendor: 0x0101,
        product: 57,
    }
}

pub fn mms() -> MakeModelSerial {
    MakeModelSerial {
        make: "ZHIANTEC".into(),
        model: "ZFM-60".into(),
        serial: "SN 0042".into(),
    }
}

pub fn face() -> FaceRecord {
    FaceRecord {
        idc: 1,
        src: "STATION01".into(),
        photo_date: date(),
        width: 48,
        height: 64,
        scale: Scale::Aspect(1, 1),
        compression: Compression::Jpegb,
        colour_space: ColourSpace::Srgb,
        sap: 13,
        pose: Some(Pose::Frontal),
        acquisition_source: Some("DIGITAL CAMERA".into()),
        quality: vec![QualityScore {
            value: 82,
            vendor: 0x0042,
            product: 1,
        }],
        eye_centres: Some(EyeCentres {
            left: (31, 26),
            right: (17, 26),
        }),
        dmm: Some(MonitoringMode::Controlled),
        mms: None,
        t2c: 0,
        data: jpeg(48, 64),
    }
}

/// A right-hand slap: index, middle and ring segmented, the little finger
/// amputated.
pub fn slap() -> FingerRecord {
    let seg = |fgp, left, right| SegmentBox {
        fgp,
        left,
        right,
        top: 10,
        bottom: 110,
    };
    FingerRecord {
        idc: 2,
        imp: 0,
        src: "STATION01".into(),
        capture_date: date(),
        fgp: 13,
        image: Some(FingerImage {
            width: 200,
            height: 128,
            ppi: 500,
            compression: Compression::Wsq20,
            bpx: 8,
            data: wsq(200, 128),
        }),
        amp: vec![(5, AmpCode::Amputated)],
        seg: vec![seg(2, 5, 60), seg(3, 65, 120), seg(4, 125, 180)],
        nqm: vec![(2, 2), (3, 1), (4, 3)],
        fqm: vec![
            FingerQuality {
                fgp: 2,
                score: nfiq2(61),
            },
            FingerQuality {
                fgp: 3,
                score: nfiq2(74),
            },
            FingerQuality {
                fgp: 4,
                score: nfiq2(48),
            },
        ],
        dmm: Some(MonitoringMode::Assisted),
        comment: None,
        mms: Some(mms()),
        t2c: 0,
    }
}

/// The right index finger alone.
pub fn single() -> FingerRecord {
    FingerRecord {
        idc: 3,
        fgp: 2,
        image: Some(FingerImage {
            width: 64,
            height: 80,
            ppi: 500,
            compression: Compression::Wsq20,
            bpx: 8,
            data: wsq(64, 80),
        }),
        amp: Vec::new(),
        seg: Vec::new(),
        nqm: vec![(2, 2)],
        fqm: vec![FingerQuality {
            fgp: 2,
            score: nfiq2(66),
        }],
        comment: Some("flat, operator assisted".into()),
        ..slap()
    }
}

/// The right little finger: amputated, no image.
pub fn amputated() -> FingerRecord {
    FingerRecord {
        idc: 4,
        fgp: 5,
        image: None,
        amp: vec![(5, AmpCode::Amputated)],
        seg: Vec::new(),
        nqm: Vec::new(),
        fqm: Vec::new(),
        mms: None,
        ..slap()
    }
}

/// Type-1 (DCS UTF-8), Type-2 with Persian text, a face, a slap, a single
/// finger and an amputated finger: records 1 to 6.
pub fn enrolment() -> Transaction {
    Transaction {
        records: vec![
            type1().to_record(),
            type2(),
            face().to_record(),
            slap().to_record(),
            single().to_record(),
            amputated().to_record(),
        ],
    }
}

/// Replaces field `tag` of record `index` (0-based), or appends it.
pub fn set(tx: &mut Transaction, index: usize, tag: u16, value: Value) {
    let record = &mut tx.records[index];
    match record.fields.iter_mut().find(|f| f.tag == tag) {
        Some(f) => f.value = value,
        None => {
            record.push(tag, value);
        }
    }
}

/// Removes field `tag` of record `index` (0-based).
pub fn remove(tx: &mut Transaction, index: usize, tag: u16) {
    tx.records[index].fields.retain(|f| f.tag != tag);
}
