//! Typed records for what the station writes: the Type-1 ([`Type1`]), the
//! face (Type-10, [`FaceRecord`]) and the fingers (Type-14,
//! [`FingerRecord`]).
//!
//! Each has `to_record`, which writes the fields in ascending order with
//! DATA last, and `from_record`, which reads them back (a [`Problem`] says
//! which field cannot be read). `from_record(&x.to_record()) == Ok(x)`.
//! Reading is not checking: run [`problems`](crate::problems) on the whole
//! transaction for the semantic rules.

mod face;
mod finger;
mod type1;

pub use face::{EyeCentres, FaceRecord, Pose, Scale};
pub use finger::{FingerImage, FingerQuality, FingerRecord, SegmentBox};
pub use type1::Type1;

use crate::field::{Fields, digits, hex4};
use crate::{Problem, Record, Value};

macro_rules! codes {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// The code as the standard writes it.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// The value for `code`, if it is one.
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// Compression algorithm (CGA, §1.7).
    Compression {
        /// Uncompressed pixels.
        None = "NONE",
        /// WSQ for 500 ppi fingerprints.
        Wsq20 = "WSQ20",
        /// Baseline JPEG.
        Jpegb = "JPEGB",
        /// Lossless JPEG.
        Jpegl = "JPEGL",
        /// JPEG 2000, lossy.
        Jp2 = "JP2",
        /// JPEG 2000, lossless.
        Jp2l = "JP2L",
        Png = "PNG",
    }
}

codes! {
    /// Colour space (`10.012` CSP).
    ColourSpace {
        Gray = "GRAY",
        Rgb = "RGB",
        Srgb = "SRGB",
        /// YCbCr (JFIF JPEG).
        Ycc = "YCC",
        Sycc = "SYCC",
        Unknown = "UNK",
    }
}

codes! {
    /// Device monitoring mode (`10.030`/`14.030` DMM).
    MonitoringMode {
        /// An operator controls the capture.
        Controlled = "CONTROLLED",
        /// An operator assists the subject.
        Assisted = "ASSISTED",
        /// An operator watches.
        Observed = "OBSERVED",
        Unattended = "UNATTENDED",
        Unknown = "UNKNOWN",
    }
}

codes! {
    /// Why a finger has no image (14.018 AMP).
    AmpCode {
        /// `XX`: amputated.
        Amputated = "XX",
        /// `UP`: unable to print (bandaged, injured…).
        UnableToPrint = "UP",
    }
}

/// A quality score (`10.024` SQS, `14.024` FQM): the value, the algorithm
/// vendor (QAV, written as 4 hex digits) and the vendor's product code (QAP,
/// written in decimal). NFIQ 2.3 is vendor `0x0101`, product 57 (§1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QualityScore {
    /// 0–100, 254 (not computed) or 255 (failed).
    pub value: u8,
    pub vendor: u16,
    pub product: u16,
}

impl QualityScore {
    fn items(&self) -> [String; 3] {
        [
            self.value.to_string(),
            format!("{:04X}", self.vendor),
            self.product.to_string(),
        ]
    }

    /// Reads QVU, QAV, QAP from `row` (subfield `s` of field `tag`).
    fn read(f: &Fields, tag: u16, s: usize, row: &[String]) -> Result<Self, Problem> {
        let at = |i: usize| f.at(tag).subfield(s + 1).item(i);
        let n = row.len();
        let value = f.parse_number(at(n - 2), &row[n - 3], 0..=255)? as u8;
        if !hex4(&row[n - 2]) {
            return Err(f.problem(at(n - 1), "QAV is 4 hexadecimal digits"));
        }
        let vendor = u16::from_str_radix(&row[n - 2], 16)
            .map_err(|e| f.problem(at(n - 1), e.to_string()))?;
        let product = f.parse_number(at(n), &row[n - 1], 0..=65_535)? as u16;
        Ok(QualityScore {
            value,
            vendor,
            product,
        })
    }
}

/// Make, model and serial number of the capture device (`xx.904` MMS).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MakeModelSerial {
    pub make: String,
    pub model: String,
    pub serial: String,
}

impl MakeModelSerial {
    fn value(&self) -> Value {
        Value::items([&self.make, &self.model, &self.serial].map(String::clone))
    }

    fn read(f: &Fields) -> Result<Option<Self>, Problem> {
        Ok(match f.table(904, 3)? {
            [] => None,
            [row] => Some(MakeModelSerial {
                make: row[0].clone(),
                model: row[1].clone(),
                serial: row[2].clone(),
            }),
            _ => return Err(f.problem(f.at(904), "MMS is a single subfield")),
        })
    }
}

/// Checks that `record` is of type `kind`.
fn expect_kind(record: &Record, kind: u8, what: &str) -> Result<(), Problem> {
    if record.kind == kind {
        return Ok(());
    }
    Err(Problem {
        at: crate::Location::record(0, record.kind),
        what: format!("{what} is a Type-{kind} record, not a Type-{}", record.kind),
    })
}

/// A mandatory number that fits `T`.
fn number<T: TryFrom<u32>>(
    f: &Fields,
    tag: u16,
    range: std::ops::RangeInclusive<u32>,
) -> Result<T, Problem> {
    let n = f.number(tag, range)?;
    T::try_from(n).map_err(|_| f.problem(f.at(tag), format!("{n} is too large")))
}

/// An item of a table row as a number from `range`.
fn cell<T: TryFrom<u32>>(
    f: &Fields,
    tag: u16,
    s: usize,
    i: usize,
    text: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<T, Problem> {
    let at = f.at(tag).subfield(s + 1).item(i + 1);
    let n = f.parse_number(at.clone(), text, range)?;
    T::try_from(n).map_err(|_| f.problem(at, format!("{n} is too large")))
}

/// A mandatory code of `parse`'s type.
fn code<T>(f: &Fields, tag: u16, parse: fn(&str) -> Option<T>) -> Result<T, Problem> {
    let v = f.required(tag)?;
    parse(v).ok_or_else(|| f.problem(f.at(tag), format!("{v:?} is not a known code")))
}

/// An optional code of `parse`'s type.
fn optional_code<T>(
    f: &Fields,
    tag: u16,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, Problem> {
    match f.single(tag)? {
        None => Ok(None),
        Some(v) => parse(v)
            .map(Some)
            .ok_or_else(|| f.problem(f.at(tag), format!("{v:?} is not a known code"))),
    }
}

/// The IDC (field 2) of a record read on its own.
fn idc(f: &Fields) -> Result<u8, Problem> {
    let v = f.required(2)?;
    digits::<u8>(v).ok_or_else(|| f.problem(f.at(2), format!("{v:?} is not an IDC (0–255)")))
}
