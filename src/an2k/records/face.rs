//! The Type-10 face record (§1.5).

use super::{
    ColourSpace, Compression, MakeModelSerial, MonitoringMode, QualityScore, cell, code,
    expect_kind, idc, number, optional_code,
};
use crate::field::{Fields, digits};
use crate::{Date, Problem, Record, Value};

/// How pixels relate to the world (10.008 SLC with 10.009 THPS and 10.010
/// TVPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// SLC 0: no scale; THPS:TVPS is the pixel aspect ratio (1:1 for
    /// square pixels, usual for photographs).
    Aspect(u32, u32),
    /// SLC 1: pixels per inch, horizontal and vertical.
    PerInch(u32, u32),
    /// SLC 2: pixels per centimetre, horizontal and vertical.
    PerCentimetre(u32, u32),
}

/// Subject pose (10.020 POS, with 10.021 POA for an angled pose).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pose {
    /// `F`.
    Frontal,
    /// `R`.
    RightProfile,
    /// `L`.
    LeftProfile,
    /// `A` with the angle in degrees, −180 to 180.
    Angled(i16),
    /// `D`: determined by 3D.
    Determined3D,
}

/// The eye centres, written to 10.029 FFP as feature point type 1 (ISO/IEC
/// 14496-2 MPEG-4 feature points as extended by ISO/IEC 19794-5) with codes
/// `12.1` (left eye centre) and `12.2` (right eye centre); left and right
/// are the subject's, so the left eye is on the image's right side. These
/// two codes are the ones ISO/IEC 19794-5 adds for the eye centres (verify
/// against the receiver's profile). Coordinates are pixels from the top-left
/// corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EyeCentres {
    /// (x, y) of the subject's left eye.
    pub left: (u32, u32),
    /// (x, y) of the subject's right eye.
    pub right: (u32, u32),
}

const LEFT_EYE: &str = "12.1";
const RIGHT_EYE: &str = "12.2";

/// A Type-10 record with IMT `FACE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceRecord {
    /// 10.002 IDC.
    pub idc: u8,
    /// 10.004 SRC: source agency.
    pub src: String,
    /// 10.005 PHD: photo date.
    pub photo_date: Date,
    /// 10.006 HLL.
    pub width: u32,
    /// 10.007 VLL.
    pub height: u32,
    /// 10.008–10.010 SLC, THPS, TVPS.
    pub scale: Scale,
    /// 10.011 CGA: `JPEGB` or `PNG` for a photograph.
    pub compression: Compression,
    /// 10.012 CSP: `SRGB` or `YCC` for a camera JPEG, `GRAY` for grey.
    pub colour_space: ColourSpace,
    /// 10.013 SAP: subject acquisition profile, e.g. 13 (ISO/IEC 19794-5
    /// full frontal).
    pub sap: u16,
    /// 10.020 POS (and 10.021 POA).
    pub pose: Option<Pose>,
    /// 10.023 PAS: photo acquisition source, e.g. `DIGITAL CAMERA`.
    pub acquisition_source: Option<String>,
    /// 10.024 SQS: quality scores.
    pub quality: Vec<QualityScore>,
    /// 10.029 FFP: the eye centres (other feature points are not read).
    pub eye_centres: Option<EyeCentres>,
    /// 10.030 DMM.
    pub dmm: Option<MonitoringMode>,
    /// 10.904 MMS.
    pub mms: Option<MakeModelSerial>,
    /// 10.992 T2C: the IDC of the Type-2 record about the subject.
    pub t2c: u8,
    /// 10.999 DATA: the image file.
    pub data: Vec<u8>,
}

impl FaceRecord {
    pub fn to_record(&self) -> Record {
        let mut r = Record::new(10);
        let (slc, h, v) = match self.scale {
            Scale::Aspect(h, v) => (0, h, v),
            Scale::PerInch(h, v) => (1, h, v),
            Scale::PerCentimetre(h, v) => (2, h, v),
        };
        r.push(2, Value::item(self.idc.to_string()))
            .push(3, Value::item("FACE"))
            .push(4, Value::item(&self.src))
            .push(5, Value::item(self.photo_date.to_string()))
            .push(6, Value::item(self.width.to_string()))
            .push(7, Value::item(self.height.to_string()))
            .push(8, Value::item(slc.to_string()))
            .push(9, Value::item(h.to_string()))
            .push(10, Value::item(v.to_string()))
            .push(11, Value::item(self.compression.code()))
            .push(12, Value::item(self.colour_space.code()))
            .push(13, Value::item(self.sap.to_string()));
        if let Some(pose) = self.pose {
            let code = match pose {
                Pose::Frontal => "F",
                Pose::RightProfile => "R",
                Pose::LeftProfile => "L",
                Pose::Angled(_) => "A",
                Pose::Determined3D => "D",
            };
            r.push(20, Value::item(code));
            if let Pose::Angled(angle) = pose {
                r.push(21, Value::item(angle.to_string()));
            }
        }
        if let Some(pas) = &self.acquisition_source {
            r.push(23, Value::item(pas));
        }
        if !self.quality.is_empty() {
            r.push(
                24,
                Value::subfields(self.quality.iter().map(QualityScore::items)),
            );
        }
        if let Some(eyes) = self.eye_centres {
            let point = |code: &str, (x, y): (u32, u32)| {
                [
                    "1".to_owned(),
                    code.to_owned(),
                    x.to_string(),
                    y.to_string(),
                ]
            };
            r.push(
                29,
                Value::subfields([point(LEFT_EYE, eyes.left), point(RIGHT_EYE, eyes.right)]),
            );
        }
        if let Some(dmm) = self.dmm {
            r.push(30, Value::item(dmm.code()));
        }
        if let Some(mms) = &self.mms {
            r.push(904, mms.value());
        }
        r.push(992, Value::item(self.t2c.to_string()))
            .push(999, Value::Binary(self.data.clone()));
        r
    }

    pub fn from_record(record: &Record) -> Result<Self, Problem> {
        expect_kind(record, 10, "a FaceRecord")?;
        let f = Fields::new(record, 0);
        let imt = f.required(3)?;
        if imt != "FACE" {
            return Err(f.problem(f.at(3), format!("a FaceRecord has IMT FACE, not {imt:?}")));
        }
        let (h, v) = (number(&f, 9, 0..=99_999)?, number(&f, 10, 0..=99_999)?);
        let scale = match f.number(8, 0..=2)? {
            0 => Scale::Aspect(h, v),
            1 => Scale::PerInch(h, v),
            _ => Scale::PerCentimetre(h, v),
        };
        let pose = match f.single(20)? {
            None => None,
            Some("F") => Some(Pose::Frontal),
            Some("R") => Some(Pose::RightProfile),
            Some("L") => Some(Pose::LeftProfile),
            Some("D") => Some(Pose::Determined3D),
            Some("A") => {
                let poa = f.required(21)?;
                let angle = poa
                    .strip_prefix('-')
                    .map_or_else(|| digits::<i16>(poa), |n| digits::<i16>(n).map(|a| -a))
                    .filter(|a| (-180..=180).contains(a))
                    .ok_or_else(|| f.problem(f.at(21), format!("{poa:?} is not an angle")))?;
                Some(Pose::Angled(angle))
            }
            Some(other) => {
                return Err(f.problem(f.at(20), format!("{other:?} is not a pose code")));
            }
        };
        let quality = f
            .table(24, 3)?
            .iter()
            .enumerate()
            .map(|(s, row)| QualityScore::read(&f, 24, s, row))
            .collect::<Result<_, _>>()?;
        let eye = |code: &str| -> Result<Option<(u32, u32)>, Problem> {
            let rows = f.table(29, 4)?;
            let Some(s) = rows.iter().position(|r| r[0] == "1" && r[1] == code) else {
                return Ok(None);
            };
            let x = cell(&f, 29, s, 2, &rows[s][2], 0..=99_999)?;
            let y = cell(&f, 29, s, 3, &rows[s][3], 0..=99_999)?;
            Ok(Some((x, y)))
        };
        let eye_centres = match (eye(LEFT_EYE)?, eye(RIGHT_EYE)?) {
            (Some(left), Some(right)) => Some(EyeCentres { left, right }),
            _ => None,
        };
        let data = match record.get(999) {
            Some(Value::Binary(b)) => b.clone(),
            _ => return Err(f.problem(f.at(999), "no image data")),
        };
        Ok(FaceRecord {
            idc: idc(&f)?,
            src: f.required(4)?.to_owned(),
            photo_date: f.date(5)?,
            width: number(&f, 6, 0..=99_999)?,
            height: number(&f, 7, 0..=99_999)?,
            scale,
            compression: code(&f, 11, Compression::from_code)?,
            colour_space: code(&f, 12, ColourSpace::from_code)?,
            sap: number(&f, 13, 0..=999)?,
            pose,
            acquisition_source: f.single(23)?.map(str::to_owned),
            quality,
            eye_centres,
            dmm: optional_code(&f, 30, MonitoringMode::from_code)?,
            mms: MakeModelSerial::read(&f)?,
            t2c: number(&f, 992, 0..=255)?,
            data,
        })
    }
}
