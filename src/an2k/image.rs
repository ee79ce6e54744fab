//! What the image data in field 999 says about itself: its width, its
//! height and whether it is 8-bit grey, read from the header only.

use std::io::Cursor;

use image::{ColorType, ImageDecoder, ImageFormat, ImageReader};

/// The header facts of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub width: u64,
    pub height: u64,
    /// One 8-bit grey channel.
    pub gray8: bool,
}

/// Reads the header of `data` compressed with `cga` (§1.7): `WSQ20`
/// through the WSQ frame header, `JPEGB` and `PNG` through the `image`
/// crate. `Ok(None)` for the others: `NONE` has no header, and `JPEGL`,
/// `JP2` and `JP2L` are not read here (their dimensions go unchecked).
pub fn header(cga: &str, data: &[u8]) -> Result<Option<Header>, String> {
    let format = match cga {
        "WSQ20" => {
            let (width, height) = pishkhan_fingerprint::wsq::dimensions(data)
                .map_err(|e| format!("the data is not valid WSQ: {e}"))?;
            return Ok(Some(Header {
                width: width as u64,
                height: height as u64,
                gray8: true,
            }));
        }
        "JPEGB" => ImageFormat::Jpeg,
        "PNG" => ImageFormat::Png,
        _ => return Ok(None),
    };
    let decoder = ImageReader::with_format(Cursor::new(data), format)
        .into_decoder()
        .map_err(|e| format!("the data is not a valid {cga} image: {e}"))?;
    let (width, height) = decoder.dimensions();
    Ok(Some(Header {
        width: u64::from(width),
        height: u64::from(height),
        gray8: decoder.color_type() == ColorType::L8,
    }))
}
