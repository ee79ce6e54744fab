//! The two machine-readable codes, as SVG for the template.
//!
//! Both hold exactly the 16 ASCII digits of the tracking code, nothing
//! else: a counter clerk's scanner or a phone then reads back what the
//! applicant would type.

use barcoders::generators::svg::SVG;
use barcoders::sym::code128::Code128;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::ReceiptError;

/// Code128 asks for at least ten modules of white space either side.
const QUIET_MODULES: usize = 10;

/// A QR code of `digits`, with its four-module quiet zone, as SVG. Level M
/// (15 % of the symbol may be lost): 16 digits still fit a 21×21 symbol.
pub fn qr_svg(digits: &str) -> Result<String, ReceiptError> {
    let code = QrCode::with_error_correction_level(digits.as_bytes(), EcLevel::M)
        .map_err(|e| ReceiptError::Code(format!("QR code: {e}")))?;
    Ok(code
        .render::<svg::Color>()
        .quiet_zone(true)
        .module_dimensions(1, 1)
        .build())
}

/// A Code128 barcode of `digits` (an even number of ASCII digits, set C:
/// two digits a symbol), with its quiet zones, as SVG one unit a module.
pub fn code128_svg(digits: &str) -> Result<String, ReceiptError> {
    let barcode = Code128::new(format!("\u{0106}{digits}"))
        .map_err(|e| ReceiptError::Code(format!("Code128: {e}")))?;
    let mut modules = vec![0; QUIET_MODULES];
    modules.extend(barcode.encode());
    modules.extend([0; QUIET_MODULES]);
    SVG::new(1)
        .xmlns("http://www.w3.org/2000/svg".to_owned())
        .generate(&modules)
        .map_err(|e| ReceiptError::Code(format!("Code128 SVG: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_svg() {
        let qr = qr_svg("1405004200000157").expect("qr");
        assert!(qr.contains("<svg") && qr.contains("</svg>"));
        let bars = code128_svg("1405004200000157").expect("code128");
        assert!(bars.starts_with("<svg") && bars.contains("xmlns="));
        // Start C, 8 symbols, check symbol: 10 × 11 modules, stop 13,
        // plus both quiet zones.
        assert!(bars.contains(&format!("viewBox=\"0 0 {} 1\"", 10 * 11 + 13 + 20)));
    }
}
