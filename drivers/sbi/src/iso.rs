//! A minimal ISO/IEC 19794-4:2005 finger image record: one finger, one view.
//!
//! SBI carries each finger as `bioValue`, a base64url ISO 19794-4 record.
//! Real registration devices send JPEG 2000 lossless images inside the
//! record (compression code 4, usually the 2011 edition); this crate reads
//! the 2005 layout with uncompressed (0), JPEG (3) or PNG (5) image data and
//! reports anything else as a [`ProtoError::Record`]. The virtual device
//! writes PNG (5).
//!
//! Layout (big-endian): general header of 32 bytes (`FIR\0`, `010\0`,
//! 6-byte record length, device id, acquisition level, finger count, scale
//! units, scan and image resolutions, pixel depth, compression, reserved),
//! then per finger a 14-byte header (4-byte block length, position, view
//! count, view number, quality, impression type, width, height, reserved)
//! followed by the image data.

use crate::proto::ProtoError;

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
    /// ANSI/NIST finger position (1–10; 0 unknown).
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
    out.extend_from_slice(&31u16.to_be_bytes()); // acquisition level (500 ppi)
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
    if &bytes[4..8] != b"010\0" {
        return Err(err("only the 2005 edition (version 010) is supported"));
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
    let pixels = match compression {
        COMPRESSION_RAW => {
            if depth != 8 {
                return Err(err("only 8-bit uncompressed images are supported"));
            }
            if data.len() as u64 != u64::from(width) * u64::from(height) {
                return Err(err("uncompressed image has the wrong size"));
            }
            data.to_vec()
        }
        COMPRESSION_JPEG | COMPRESSION_PNG => {
            let format = if compression == COMPRESSION_PNG {
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
            img.into_raw()
        }
        COMPRESSION_JPEG2000 => {
            return Err(err("JPEG 2000 finger images are not supported yet"));
        }
        other => {
            return Err(ProtoError::Record(format!(
                "compression {other} unsupported"
            )));
        }
    };
    Ok(FingerRecord {
        position,
        quality,
        resolution_ppi,
        width,
        height,
        pixels,
    })
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
}
