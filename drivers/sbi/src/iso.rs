//! ISO/IEC 19794-4 finger image records: one finger, one view.
//!
//! SBI carries each finger as `bioValue`, a base64url ISO 19794-4 record.
//! Real registration devices send JPEG 2000 (lossless) images inside the
//! record, usually in the 2011 edition. [`decode`] reads both editions:
//! 2005 (`010`) with uncompressed (0), JPEG (3), JPEG 2000 (4) or PNG (5)
//! data, and 2011 (`020`) with uncompressed (0), JPEG (3), JPEG 2000 lossy
//! (4) or lossless (5) or PNG (6) data (the first representation), and WSQ
//! (2) in both, decoded by the station's own WSQ codec. The virtual device
//! writes the 2005 layout with PNG.
//!
//! The 2011 layout (big-endian): general header of 16 bytes (`FIR\0`,
//! `020\0`, 4-byte record length, representation count, certification
//! flag, distinct positions), then per representation: 4-byte length,
//! 9-byte capture time, technology, vendor and type ids, quality block
//! count and 5-byte blocks, (certification blocks when flagged), position,
//! representation number, scale units, scan and image resolutions, bit
//! depth, compression, impression type, width, height, 4-byte data length,
//! data. The test fixture of that edition was written by an independent
//! implementation (the `iso19794` package).
//!
//! Layout (big-endian): general header of 32 bytes (`FIR\0`, `010\0`,
//! 6-byte record length, device id, acquisition level, finger count, scale
//! units, scan and image resolutions, pixel depth, compression, reserved),
//! then per finger a 14-byte header (4-byte block length, position, view
//! count, view number, quality, impression type, width, height, reserved)
//! followed by the image data.

use pishkhan_scanner::Impression;

use crate::proto::ProtoError;

/// Finger position of a plain impression of the right hand's four fingers
/// (ISO/IEC 19794-4 Table 2; ANSI/NIST-ITL FGP 13).
pub const POSITION_RIGHT_FOUR: u8 = 13;
/// Finger position of the left hand's four fingers (FGP 14).
pub const POSITION_LEFT_FOUR: u8 = 14;
/// Finger position of both thumbs (FGP 15).
pub const POSITION_BOTH_THUMBS: u8 = 15;

/// The multi-finger position code of an impression: 13 right four
/// fingers, 14 left four, 15 both thumbs; `None` for one finger.
pub fn slap_position(impression: Impression) -> Option<u8> {
    match impression {
        Impression::RightSlap => Some(POSITION_RIGHT_FOUR),
        Impression::LeftSlap => Some(POSITION_LEFT_FOUR),
        Impression::Thumbs => Some(POSITION_BOTH_THUMBS),
        Impression::Finger(_) => None,
    }
}

/// The impression of a multi-finger position code (13, 14, 15).
pub fn impression_of_slap_position(position: u8) -> Option<Impression> {
    match position {
        POSITION_RIGHT_FOUR => Some(Impression::RightSlap),
        POSITION_LEFT_FOUR => Some(Impression::LeftSlap),
        POSITION_BOTH_THUMBS => Some(Impression::Thumbs),
        _ => None,
    }
}

/// Compression code: uncompressed, one byte per pixel.
pub const COMPRESSION_RAW: u8 = 0;
/// Compression code: JPEG.
pub const COMPRESSION_JPEG: u8 = 3;
/// Compression code: JPEG 2000.
pub const COMPRESSION_JPEG2000: u8 = 4;
/// Compression code: PNG.
pub const COMPRESSION_PNG: u8 = 5;

const GENERAL_HEADER: usize = 32;
const FINGER_HEADER: usize = 14;
/// Largest image accepted when decoding (pixels).
pub const MAX_PIXELS: u64 = 4096 * 4096;

/// One decoded finger view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerRecord {
    /// ANSI/NIST finger position (1–10; 0 unknown; 13–15 the plain
    /// multi-finger impressions, see [`slap_position`]).
    pub position: u8,
    /// Quality in the record (0–100, or 254/255 undefined).
    pub quality: u8,
    /// Pixels per inch.
    pub resolution_ppi: u16,
    pub width: u32,
    pub height: u32,
    /// 8-bit grey, row-major.
    pub pixels: Vec<u8>,
}

/// Writes a one-finger record with PNG-compressed 8-bit grey pixels.
pub fn encode(record: &FingerRecord) -> Result<Vec<u8>, ProtoError> {
    use image::ImageEncoder as _;
    let width = u16::try_from(record.width).map_err(|_| ProtoError::Record("width".into()))?;
    let height = u16::try_from(record.height).map_err(|_| ProtoError::Record("height".into()))?;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            &record.pixels,
            record.width,
            record.height,
            image::ExtendedColorType::L8,
        )
        .map_err(|e| ProtoError::Record(e.to_string()))?;
    let total = GENERAL_HEADER + FINGER_HEADER + png.len();
    if total >= 1 << 48 {
        return Err(ProtoError::Record("record too large".into()));
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"FIR\x00010\x00");
    out.extend_from_slice(&(total as u64).to_be_bytes()[2..]);
    out.extend_from_slice(&0u16.to_be_bytes()); // capture device id
    out.extend_from_slice(&acquisition_level(record.resolution_ppi).to_be_bytes());
    out.push(1); // number of fingers
    out.push(1); // scale units: pixels per inch
    for _ in 0..4 {
        out.extend_from_slice(&record.resolution_ppi.to_be_bytes());
    }
    out.push(8); // pixel depth
    out.push(COMPRESSION_PNG);
    out.extend_from_slice(&[0, 0]);
    let block = (FINGER_HEADER + png.len()) as u32;
    out.extend_from_slice(&block.to_be_bytes());
    out.push(record.position);
    out.push(1); // view count
    out.push(1); // view number
    out.push(record.quality);
    out.push(0); // live-scan plain
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&height.to_be_bytes());
    out.push(0);
    out.extend_from_slice(&png);
    Ok(out)
}

/// The image acquisition setting level (ISO/IEC 19794-4 Table 1) that a
/// resolution allows at most: 41 at 1000 ppi, 31 at 500, 20 at 250, 10
/// below.
fn acquisition_level(ppi: u16) -> u16 {
    match ppi {
        1000.. => 41,
        500.. => 31,
        250.. => 20,
        _ => 10,
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads the first finger view of a record.
pub fn decode(bytes: &[u8]) -> Result<FingerRecord, ProtoError> {
    let err = |m: &str| ProtoError::Record(m.to_owned());
    if bytes.len() < GENERAL_HEADER + FINGER_HEADER {
        return Err(err("record too short"));
    }
    if &bytes[..4] != b"FIR\0" {
        return Err(err("not an ISO 19794-4 record (no FIR magic)"));
    }
    if &bytes[4..8] == b"020\0" {
        return decode_2011(bytes);
    }
    if &bytes[4..8] != b"010\0" {
        return Err(err("unknown ISO 19794-4 edition (neither 010 nor 020)"));
    }
    let mut len_bytes = [0u8; 8];
    len_bytes[2..].copy_from_slice(&bytes[8..14]);
    let record_len = u64::from_be_bytes(len_bytes);
    if record_len != bytes.len() as u64 {
        return Err(err("record length does not match"));
    }
    if bytes[18] == 0 {
        return Err(err("record holds no finger"));
    }
    let resolution_ppi = be16(bytes, 24);
    let depth = bytes[28];
    let compression = bytes[29];
    let f = &bytes[GENERAL_HEADER..];
    let block = u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize;
    if block < FINGER_HEADER || block > f.len() {
        return Err(err("finger block length out of range"));
    }
    let position = f[4];
    let quality = f[7];
    let width = u32::from(be16(f, 9));
    let height = u32::from(be16(f, 11));
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(err("image size out of range"));
    }
    let data = &f[FINGER_HEADER..block];
    let kind = match compression {
        COMPRESSION_RAW => ImageData::Raw,
        COMPRESSION_JPEG => ImageData::Jpeg,
        COMPRESSION_JPEG2000 => ImageData::Jpeg2000,
        COMPRESSION_PNG => ImageData::Png,
        2 => ImageData::Wsq,
        other => ImageData::Unknown(other),
    };
    let pixels = decode_pixels(kind, data, width, height, depth)?;
    Ok(FingerRecord {
        position,
        quality,
        resolution_ppi,
        width,
        height,
        pixels,
    })
}

/// How a finger's image data is compressed (the codes differ between the
/// 2005 and 2011 editions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageData {
    Raw,
    Wsq,
    Jpeg,
    Jpeg2000,
    Png,
    Unknown(u8),
}

/// Decodes one finger's image data to 8-bit grey of the header's size.
fn decode_pixels(
    kind: ImageData,
    data: &[u8],
    width: u32,
    height: u32,
    depth: u8,
) -> Result<Vec<u8>, ProtoError> {
    let err = |m: &str| ProtoError::Record(m.to_owned());
    match kind {
        ImageData::Raw => {
            if depth != 8 {
                return Err(err("only 8-bit uncompressed images are supported"));
            }
            if data.len() as u64 != u64::from(width) * u64::from(height) {
                return Err(err("uncompressed image has the wrong size"));
            }
            Ok(data.to_vec())
        }
        ImageData::Jpeg | ImageData::Png => {
            let format = if kind == ImageData::Png {
                image::ImageFormat::Png
            } else {
                image::ImageFormat::Jpeg
            };
            let mut reader = image::ImageReader::with_format(std::io::Cursor::new(data), format);
            let mut limits = image::Limits::default();
            limits.max_image_width = Some(4096);
            limits.max_image_height = Some(4096);
            limits.max_alloc = Some(64 * 1024 * 1024);
            reader.limits(limits);
            let img = reader
                .decode()
                .map_err(|e| ProtoError::Record(e.to_string()))?
                .to_luma8();
            if img.width() != width || img.height() != height {
                return Err(err("image size differs from the finger header"));
            }
            Ok(img.into_raw())
        }
        ImageData::Jpeg2000 => decode_jpeg2000(data, width, height),
        ImageData::Wsq => decode_wsq(data, width, height),
        ImageData::Unknown(code) => Err(ProtoError::Record(format!(
            "compression {code} unsupported"
        ))),
    }
}

/// Decodes a WSQ image and checks its size against the record's header.
fn decode_wsq(data: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ProtoError> {
    let decoded = pishkhan_fingerprint::wsq::decode(data)
        .map_err(|e| ProtoError::Record(format!("WSQ image: {e}")))?;
    let (w, h) = (decoded.image.width(), decoded.image.height());
    if (w as u64, h as u64) != (u64::from(width), u64::from(height)) {
        return Err(ProtoError::Record(format!(
            "WSQ image is {w}x{h}, the finger header says {width}x{height}"
        )));
    }
    Ok(decoded.image.into_pixels())
}

/// Decodes a JPEG 2000 codestream or JP2 file to 8-bit grey and checks its
/// size against the record's header.
fn decode_jpeg2000(data: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ProtoError> {
    use hayro_jpeg2000::{DecodeSettings, DecoderContext, Image};
    let fail = |what: &str, e: &dyn std::fmt::Debug| {
        ProtoError::Record(format!("JPEG 2000 image {what}: {e:?}"))
    };
    let image = Image::new(data, &DecodeSettings::default()).map_err(|e| fail("unreadable", &e))?;
    if image.width() != width || image.height() != height {
        return Err(ProtoError::Record(format!(
            "JPEG 2000 image is {}x{}, the finger header says {width}x{height}",
            image.width(),
            image.height()
        )));
    }
    let mut context = DecoderContext::default();
    let decoded = image
        .decode(&mut context)
        .map_err(|e| fail("does not decode", &e))?;
    let channels = decoded.components().len();
    if channels == 0 {
        return Err(ProtoError::Record(
            "JPEG 2000 image has no component".into(),
        ));
    }
    let interleaved = decoded.data_u8();
    let pixels = (u64::from(width) * u64::from(height)) as usize;
    if interleaved.len() != pixels * channels {
        return Err(ProtoError::Record(
            "JPEG 2000 image has the wrong size".into(),
        ));
    }
    // Finger images are grey; take the first component of anything else.
    Ok(interleaved.into_iter().step_by(channels).collect())
}

/// Compression codes of the 2011 edition (they differ from 2005's).
const C2011_RAW: u8 = 0;
const C2011_JPEG: u8 = 3;
const C2011_J2K_LOSSY: u8 = 4;
const C2011_J2K_LOSSLESS: u8 = 5;
const C2011_PNG: u8 = 6;

/// Reads the first representation of an ISO 19794-4:2011 record.
fn decode_2011(bytes: &[u8]) -> Result<FingerRecord, ProtoError> {
    let err = |m: &str| ProtoError::Record(m.to_owned());
    let mut r = Cursor2011 { bytes, at: 8 };
    let record_len = r.u32()? as usize;
    if record_len != bytes.len() {
        return Err(err("record length does not match"));
    }
    if r.u16()? == 0 {
        return Err(err("record holds no finger"));
    }
    let certified = r.u8()? != 0;
    let _positions = r.u8()?;
    let start = r.at;
    let length = r.u32()? as usize;
    if length < 4 || start + length > bytes.len() {
        return Err(err("representation length out of range"));
    }
    r.skip(9 + 1 + 2 + 2)?; // capture time, technology, vendor, type
    let quality_blocks = r.u8()?;
    let mut quality = 255; // "not computed"
    for i in 0..quality_blocks {
        let score = r.u8()?;
        r.skip(4)?;
        if i == 0 {
            quality = score;
        }
    }
    if certified {
        let blocks = r.u8()?;
        r.skip(3 * usize::from(blocks))?;
    }
    let position = r.u8()?;
    let _number = r.u8()?;
    let _units = r.u8()?;
    r.skip(4)?; // scan resolution
    let resolution_ppi = r.u16()?;
    let _vertical = r.u16()?;
    let depth = r.u8()?;
    let compression = r.u8()?;
    let _impression = r.u8()?;
    let width = u32::from(r.u16()?);
    let height = u32::from(r.u16()?);
    let data_len = r.u32()? as usize;
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(err("image size out of range"));
    }
    if r.at + data_len > start + length {
        return Err(err("image data runs past its representation"));
    }
    let data = &bytes[r.at..r.at + data_len];
    let kind = match compression {
        C2011_RAW => ImageData::Raw,
        C2011_JPEG => ImageData::Jpeg,
        C2011_J2K_LOSSY | C2011_J2K_LOSSLESS => ImageData::Jpeg2000,
        C2011_PNG => ImageData::Png,
        2 => ImageData::Wsq,
        other => ImageData::Unknown(other),
    };
    let pixels = decode_pixels(kind, data, width, height, depth)?;
    Ok(FingerRecord {
        position,
        quality,
        resolution_ppi,
        width,
        height,
        pixels,
    })
}

/// Bounds-checked big-endian reads.
struct Cursor2011<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor2011<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ProtoError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| ProtoError::Record("record too short".into()))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn skip(&mut self, n: usize) -> Result<(), ProtoError> {
        self.take(n).map(|_| ())
    }

    fn u8(&mut self) -> Result<u8, ProtoError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, ProtoError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, ProtoError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips() {
        let pixels: Vec<u8> = (0..40 * 50).map(|i| (i % 251) as u8).collect();
        let rec = FingerRecord {
            position: 7,
            quality: 63,
            resolution_ppi: 500,
            width: 40,
            height: 50,
            pixels,
        };
        let bytes = encode(&rec).unwrap();
        assert_eq!(&bytes[..8], b"FIR\x00010\x00");
        assert_eq!(decode(&bytes).unwrap(), rec);
    }

    #[test]
    fn raw_record_literal_decodes() {
        let mut b = b"FIR\x00010\x00".to_vec();
        let total = 32 + 14 + 6;
        b.extend_from_slice(&[0, 0, 0, 0, 0, total as u8]);
        b.extend_from_slice(&[
            0, 0, 0, 31, 1, 1, 1, 0xf4, 1, 0xf4, 1, 0xf4, 1, 0xf4, 8, 0, 0, 0,
        ]);
        b.extend_from_slice(&[0, 0, 0, 20, 2, 1, 1, 50, 0, 0, 3, 0, 2, 0]);
        b.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        let rec = decode(&b).unwrap();
        assert_eq!((rec.width, rec.height, rec.position), (3, 2, 2));
        assert_eq!(rec.resolution_ppi, 500);
        assert_eq!(rec.pixels, vec![1, 2, 3, 4, 5, 6]);
        // Truncations and a wrong length are errors, not panics.
        for n in 0..b.len() {
            assert!(decode(&b[..n]).is_err());
        }
        b[29] = COMPRESSION_JPEG2000;
        assert!(decode(&b).is_err());
    }

    /// A 2005 record around `data` (compression code `compression`).
    fn record_2005(compression: u8, width: u16, height: u16, data: &[u8]) -> Vec<u8> {
        let total = (GENERAL_HEADER + FINGER_HEADER + data.len()) as u64;
        let mut b = b"FIR\x00010\x00".to_vec();
        b.extend_from_slice(&total.to_be_bytes()[2..]);
        b.extend_from_slice(&[0, 0, 0, 31, 1, 1, 1, 0xf4, 1, 0xf4, 1, 0xf4, 1, 0xf4, 8]);
        b.extend_from_slice(&[compression, 0, 0]);
        let block = (FINGER_HEADER + data.len()) as u32;
        b.extend_from_slice(&block.to_be_bytes());
        b.extend_from_slice(&[2, 1, 1, 50, 0]);
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&height.to_be_bytes());
        b.push(0);
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn a_record_with_a_wsq_image_decodes() {
        let (w, h) = (288u16, 384u16);
        let source = pishkhan_scanner::ridge_pattern(
            pishkhan_scanner::Finger::RightIndex,
            3,
            u32::from(w),
            u32::from(h),
        );
        let gray = pishkhan_fingerprint::GrayRef::new(usize::from(w), usize::from(h), &source)
            .expect("image");
        let wsq = pishkhan_fingerprint::wsq::encode(gray, &Default::default()).expect("WSQ");
        let rec = decode(&record_2005(2, w, h, &wsq)).expect("decodes");
        assert_eq!((rec.width, rec.height), (u32::from(w), u32::from(h)));
        let squared: f64 = rec
            .pixels
            .iter()
            .zip(&source)
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
            .sum();
        let rmse = (squared / source.len() as f64).sqrt();
        assert!(rmse < 15.0, "WSQ at 0.75 bpp: RMSE {rmse}");
        // The header must agree with the image, and damage is an error.
        assert!(decode(&record_2005(2, w + 1, h, &wsq)).is_err());
        assert!(decode(&record_2005(2, w, h, &wsq[..wsq.len() / 2])).is_err());
    }

    #[test]
    fn a_2011_record_with_lossless_jpeg2000_from_another_implementation_decodes() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let record =
            std::fs::read(format!("{fixtures}/right-index-2011-j2k.fir")).expect("fixture");
        let source = image::open(format!("{fixtures}/right-index.png"))
            .expect("source PNG")
            .to_luma8();
        let decoded = decode(&record).expect("decodes");
        assert_eq!((decoded.width, decoded.height), source.dimensions());
        assert_eq!(decoded.position, 2, "right index");
        assert_eq!(decoded.quality, 71);
        assert_eq!(decoded.resolution_ppi, 500);
        assert!(
            decoded.pixels == source.as_raw().as_slice(),
            "lossless: every pixel equal"
        );
    }

    #[test]
    fn a_damaged_2011_record_is_refused_not_panicked() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let record =
            std::fs::read(format!("{fixtures}/right-index-2011-j2k.fir")).expect("fixture");
        for cut in [10, 20, 40, 60, record.len() - 1] {
            assert!(decode(&record[..cut]).is_err(), "cut at {cut}");
        }
        let mut corrupt = record.clone();
        let middle = corrupt.len() / 2;
        for b in &mut corrupt[middle..middle + 64] {
            *b = !*b;
        }
        // A corrupted codestream either fails to decode or decodes to
        // different pixels; it never panics.
        if let Ok(r) = decode(&corrupt) {
            assert_eq!(r.width, 256);
        }
    }
}
