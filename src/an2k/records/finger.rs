//! The Type-14 fingerprint record (§1.6).

use super::{
    AmpCode, Compression, MakeModelSerial, MonitoringMode, QualityScore, cell, code, expect_kind,
    idc, number, optional_code,
};
use crate::field::Fields;
use crate::{Date, Problem, Record, Value};

/// The image of a Type-14 record and its descriptors (14.006–14.012, 14.999).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerImage {
    /// 14.006 HLL.
    pub width: u32,
    /// 14.007 VLL.
    pub height: u32,
    /// 14.009/14.010 THPS and TVPS, pixels per inch (14.008 SLC 1).
    pub ppi: u16,
    /// 14.011 CGA: `WSQ20` at 500 ppi, `PNG` or `NONE` lossless.
    pub compression: Compression,
    /// 14.012 BPX: 8.
    pub bpx: u8,
    /// 14.999 DATA.
    pub data: Vec<u8>,
}

/// One finger's bounding box in a slap (14.021 SEG), in pixel coordinates
/// from the top-left corner, both ends inclusive: a box at `x` of `width`
/// pixels has `left = x` and `right = x + width - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentBox {
    pub fgp: u8,
    pub left: u32,
    pub right: u32,
    pub top: u32,
    pub bottom: u32,
}

/// One finger's quality (14.024 FQM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FingerQuality {
    pub fgp: u8,
    pub score: QualityScore,
}

/// A Type-14 record: one finger, a slap or a pair of thumbs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerRecord {
    /// 14.002 IDC.
    pub idc: u8,
    /// 14.003 IMP: 0 live-scan plain (contact), 1 live-scan rolled.
    pub imp: u8,
    /// 14.004 SRC: source agency.
    pub src: String,
    /// 14.005 FCD: capture date.
    pub capture_date: Date,
    /// 14.013 FGP: 1–10 a finger, 13/14 the right/left four fingers, 15
    /// both thumbs (§1.7).
    pub fgp: u8,
    /// The image; `None` for a finger that is amputated or could not be
    /// printed (then 14.006–14.012 and 14.999 are left out, and `amp` says
    /// why).
    pub image: Option<FingerImage>,
    /// 14.018 AMP: fingers missing from the image, and why.
    pub amp: Vec<(u8, AmpCode)>,
    /// 14.021 SEG: finger boxes in a slap.
    pub seg: Vec<SegmentBox>,
    /// 14.022 NQM: NFIQ 1 scores (1–5, 254, 255) per finger.
    pub nqm: Vec<(u8, u8)>,
    /// 14.024 FQM: quality per finger.
    pub fqm: Vec<FingerQuality>,
    /// 14.030 DMM.
    pub dmm: Option<MonitoringMode>,
    /// 14.020 COM: comment.
    pub comment: Option<String>,
    /// 14.904 MMS.
    pub mms: Option<MakeModelSerial>,
    /// 14.992 T2C: the IDC of the Type-2 record about the subject.
    pub t2c: u8,
}

impl FingerRecord {
    pub fn to_record(&self) -> Record {
        let mut r = Record::new(14);
        r.push(2, Value::item(self.idc.to_string()))
            .push(3, Value::item(self.imp.to_string()))
            .push(4, Value::item(&self.src))
            .push(5, Value::item(self.capture_date.to_string()));
        if let Some(image) = &self.image {
            r.push(6, Value::item(image.width.to_string()))
                .push(7, Value::item(image.height.to_string()))
                .push(8, Value::item("1"))
                .push(9, Value::item(image.ppi.to_string()))
                .push(10, Value::item(image.ppi.to_string()))
                .push(11, Value::item(image.compression.code()))
                .push(12, Value::item(image.bpx.to_string()));
        }
        r.push(13, Value::item(self.fgp.to_string()));
        if !self.amp.is_empty() {
            let rows = self
                .amp
                .iter()
                .map(|(fgp, c)| [fgp.to_string(), c.code().to_owned()]);
            r.push(18, Value::subfields(rows));
        }
        if let Some(comment) = &self.comment {
            r.push(20, Value::item(comment));
        }
        if !self.seg.is_empty() {
            let rows = self.seg.iter().map(|b| {
                [
                    b.fgp.to_string(),
                    b.left.to_string(),
                    b.right.to_string(),
                    b.top.to_string(),
                    b.bottom.to_string(),
                ]
            });
            r.push(21, Value::subfields(rows));
        }
        if !self.nqm.is_empty() {
            let rows = self
                .nqm
                .iter()
                .map(|(fgp, q)| [fgp.to_string(), q.to_string()]);
            r.push(22, Value::subfields(rows));
        }
        if !self.fqm.is_empty() {
            let rows = self.fqm.iter().map(|q| {
                let [v, a, p] = q.score.items();
                [q.fgp.to_string(), v, a, p]
            });
            r.push(24, Value::subfields(rows));
        }
        if let Some(dmm) = self.dmm {
            r.push(30, Value::item(dmm.code()));
        }
        if let Some(mms) = &self.mms {
            r.push(904, mms.value());
        }
        r.push(992, Value::item(self.t2c.to_string()));
        if let Some(image) = &self.image {
            r.push(999, Value::Binary(image.data.clone()));
        }
        r
    }

    pub fn from_record(record: &Record) -> Result<Self, Problem> {
        expect_kind(record, 14, "a FingerRecord")?;
        let f = Fields::new(record, 0);
        let image = match record.get(999) {
            None => None,
            Some(Value::Text(_)) => return Err(f.problem(f.at(999), "DATA holds text")),
            Some(Value::Binary(data)) => Some(image(&f, data)?),
        };
        let amp = f
            .table(18, 2)?
            .iter()
            .enumerate()
            .map(|(s, row)| {
                let fgp = cell(&f, 18, s, 0, &row[0], 0..=255)?;
                let code = AmpCode::from_code(&row[1]).ok_or_else(|| {
                    f.problem(
                        f.at(18).subfield(s + 1).item(2),
                        format!("{:?} is not XX or UP", row[1]),
                    )
                })?;
                Ok((fgp, code))
            })
            .collect::<Result<_, Problem>>()?;
        let seg = f
            .table(21, 5)?
            .iter()
            .enumerate()
            .map(|(s, row)| {
                let n = |i: usize| cell::<u32>(&f, 21, s, i, &row[i], 0..=99_999);
                Ok(SegmentBox {
                    fgp: cell(&f, 21, s, 0, &row[0], 0..=255)?,
                    left: n(1)?,
                    right: n(2)?,
                    top: n(3)?,
                    bottom: n(4)?,
                })
            })
            .collect::<Result<_, Problem>>()?;
        let nqm = f
            .table(22, 2)?
            .iter()
            .enumerate()
            .map(|(s, row)| {
                Ok((
                    cell(&f, 22, s, 0, &row[0], 0..=255)?,
                    cell(&f, 22, s, 1, &row[1], 0..=255)?,
                ))
            })
            .collect::<Result<_, Problem>>()?;
        let fqm = f
            .table(24, 4)?
            .iter()
            .enumerate()
            .map(|(s, row)| {
                Ok(FingerQuality {
                    fgp: cell(&f, 24, s, 0, &row[0], 0..=255)?,
                    score: QualityScore::read(&f, 24, s, row)?,
                })
            })
            .collect::<Result<_, Problem>>()?;
        Ok(FingerRecord {
            idc: idc(&f)?,
            imp: number(&f, 3, 0..=255)?,
            src: f.required(4)?.to_owned(),
            capture_date: f.date(5)?,
            fgp: number(&f, 13, 0..=255)?,
            image,
            amp,
            seg,
            nqm,
            fqm,
            dmm: optional_code(&f, 30, MonitoringMode::from_code)?,
            comment: f.single(20)?.map(str::to_owned),
            mms: MakeModelSerial::read(&f)?,
            t2c: number(&f, 992, 0..=255)?,
        })
    }
}

/// 14.006–14.012 with the data.
fn image(f: &Fields, data: &[u8]) -> Result<FingerImage, Problem> {
    if f.number(8, 0..=2)? != 1 {
        return Err(f.problem(f.at(8), "a FingerRecord reads SLC 1 (pixels per inch) only"));
    }
    let ppi: u16 = number(f, 9, 0..=65_535)?;
    if number::<u16>(f, 10, 0..=65_535)? != ppi {
        return Err(f.problem(
            f.at(10),
            "a FingerRecord reads equal horizontal and vertical resolutions only",
        ));
    }
    Ok(FingerImage {
        width: number(f, 6, 0..=99_999)?,
        height: number(f, 7, 0..=99_999)?,
        ppi,
        compression: code(f, 11, Compression::from_code)?,
        bpx: number(f, 12, 0..=255)?,
        data: data.to_vec(),
    })
}
