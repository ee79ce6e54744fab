//! The applicant's enrolment receipt (رسید ثبت درخواست) as a PDF.
//!
//! Data in, bytes out: [`render_pdf`] takes a [`Receipt`] and returns the
//! bytes of a one-page PDF; [`render_png`] returns the same page as a PNG
//! (for a preview on screen or a thermal printer's raster mode).
//!
//! # Layout
//!
//! One A5 portrait page (148 × 210 mm), which any office printer takes,
//! two to an A4 sheet if need be (an 80 mm thermal roll would need a
//! second template; [`render_png`] is there for its raster mode). Top to
//! bottom: the bilingual title, a reprint banner when the receipt is a
//! reprint, the Persian half (right to left, Persian digits) with the
//! portrait thumbnail on its left edge, the English half (left to right,
//! Latin digits) with the same facts, and in the page footer a QR code and
//! a Code128 barcode, both holding exactly the 16 digits of the tracking
//! code, with the grouped code printed under the barcode.
//!
//! The text is 8.5 pt; a crowded receipt (ten finger exceptions, several
//! fees, a reprint banner) is set smaller, down to 6 pt, so that it stays
//! on one page.
//!
//! # How it is made
//!
//! The page is laid out by [typst](https://typst.app) used as a library: it
//! is the one option measured (docs in `shared/reference/stack.md` §9) that
//! shapes Persian correctly and applies the Unicode bidi algorithm. The
//! template is `receipt.typ` next to this file, compiled in; the only font
//! is Vazirmatn (Regular and Bold, from `assets/fonts`, compiled in). No
//! system font is looked up and nothing is downloaded.
//!
//! The receipt's data reaches the template as a typst dictionary
//! (`sys.inputs`), never as markup: a name such as `*#[x]*` is printed as
//! those characters and cannot change the page.

mod codes;
mod digits;
mod inputs;

use std::sync::LazyLock;

use typst::WorldExt as _;
use typst::diag::{Severity, SourceDiagnostic};
use typst::ecow::EcoVec;
use typst::foundations::Smart;
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};
use typst_layout::PagedDocument;

/// Text given in both languages of the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bilingual {
    /// The Persian text, printed in the Persian half as given (digits in
    /// it are not converted).
    pub fa: String,
    /// The English text, printed in the English half as given.
    pub en: String,
}

impl Bilingual {
    /// Both texts at once.
    pub fn new(fa: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            fa: fa.into(),
            en: en.into(),
        }
    }
}

/// One line of the fees table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    /// What the fee is for, e.g. "هزینه صدور کارت" / "Card issuance fee".
    pub label: Bilingual,
    /// The amount in rials (not tomans). Printed with thousands separators:
    /// `۳٬۵۰۰٬۰۰۰` in the Persian half, `3,500,000` in the English half.
    pub amount_rials: u64,
}

/// Marks a receipt printed again after the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reprint {
    /// 1 for the first reprint, 2 for the second, ...; printed in the
    /// banner "المثنی — نوبت n" / "Reprint n".
    pub number: u32,
    /// When it was reprinted, Jalali, formatted by the caller as for
    /// [`Receipt::issued_jalali`]; printed as given in the Persian half and
    /// with its digits made Latin in the English half.
    pub jalali: String,
    /// When it was reprinted, Gregorian, formatted by the caller, e.g.
    /// `2026-11-24 09:05`; printed as given in the English half.
    pub gregorian: String,
}

/// Everything printed on the receipt. The crate formats digits and
/// amounts; every other text is printed as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The tracking code (کد رهگیری): exactly 16 ASCII digits. The QR code
    /// and the Code128 barcode hold exactly these digits.
    pub tracking_code: String,
    /// The tracking code as printed for people, e.g. `1405-0042-000001-57`:
    /// the same 16 digits with `-` or spaces between groups. Printed with
    /// Persian digits in the Persian half, under the barcode as given.
    pub tracking_grouped: String,
    /// The applicant's given names and surname as written in Persian.
    pub applicant_fa: String,
    /// The applicant's name in Latin letters, when known. The English half
    /// prints [`Self::applicant_fa`] when this is `None`.
    pub applicant_latin: Option<String>,
    /// The national code (کد ملی): exactly 10 ASCII digits.
    pub national_code: String,
    /// The kind of request, e.g. "صدور اولیه" / "First issue".
    pub request_type: Bilingual,
    /// The office where the applicant enrolled: its name and code, e.g.
    /// "دفتر پیشخوان دولت ۱۲۳۴ — تهران" / "Pishkhan office 1234 — Tehran".
    pub office: Bilingual,
    /// The station that enrolled the applicant. In the Persian half its
    /// digits are made Persian unless it also has Latin letters.
    pub station: String,
    /// The operator who enrolled the applicant, printed as given.
    pub operator: String,
    /// When the application was recorded, Jalali, formatted by the caller,
    /// e.g. `۱۴۰۵/۰۹/۰۱ ۱۴:۳۲`. Printed as given in the Persian half, and
    /// with its digits made Latin in the English half.
    pub issued_jalali: String,
    /// The same moment, Gregorian, formatted by the caller, e.g.
    /// `2026-11-22 14:32`. Printed in the English half.
    pub issued_gregorian: String,
    /// A thumbnail of the accepted portrait as JPEG bytes, printed about
    /// 25 × 32 mm (a few hundred pixels across is plenty; the bytes are
    /// embedded as they are). `None` leaves a framed "no photo" box.
    pub portrait_jpeg: Option<Vec<u8>>,
    /// Fingers that could not be captured and why, e.g. "شست راست: قطع
    /// عضو" / "Right thumb: amputated". Empty prints "ندارد" / "None".
    pub finger_exceptions: Vec<Bilingual>,
    /// The fees paid, printed as a table with their total. Empty prints a
    /// line saying no fee was charged.
    pub fees: Vec<Fee>,
    /// The bank's reference for the payment, when there was one. In the
    /// Persian half its digits are made Persian unless it also has Latin
    /// letters.
    pub payment_reference: Option<String>,
    /// Set when this is a reprint: the page then carries a banner
    /// "المثنی — نوبت n" / "Reprint n" with the reprint's date.
    pub reprint: Option<Reprint>,
}

/// Why a receipt could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// [`Receipt::tracking_code`] is not exactly 16 ASCII digits.
    #[error("the tracking code must be exactly 16 ASCII digits, not {0:?}")]
    BadTrackingCode(String),
    /// [`Receipt::tracking_grouped`] does not spell the same 16 digits.
    #[error("the grouped tracking code {grouped:?} does not spell the tracking code {code}")]
    GroupedMismatch {
        /// The 16 digits.
        code: String,
        /// What was given for printing.
        grouped: String,
    },
    /// [`Receipt::national_code`] is not exactly 10 ASCII digits.
    #[error("the national code must be exactly 10 ASCII digits, not {0:?}")]
    BadNationalCode(String),
    /// [`Receipt::portrait_jpeg`] is not a JPEG that decodes.
    #[error("the portrait thumbnail is not a readable JPEG: {0}")]
    BadPortrait(String),
    /// The fees add up to more than `u64::MAX` rials.
    #[error("the fees add up to more than {} rials", u64::MAX)]
    FeesOverflow,
    /// [`render_png`] was asked for a resolution outside 1 to 2400 dpi.
    #[error("the PNG resolution must be between 1 and 2400 dpi, not {0}")]
    BadDpi(f32),
    /// The QR code or the barcode could not be made.
    #[error("the tracking code could not be encoded: {0}")]
    Code(String),
    /// typst refused the template with these data: one line per error,
    /// with the template line it points at.
    #[error("the receipt template failed:\n{}", .0.join("\n"))]
    Template(Vec<String>),
    /// The laid-out page could not be written as PDF.
    #[error("the receipt could not be written as PDF:\n{}", .0.join("\n"))]
    Pdf(Vec<String>),
    /// The rendered page could not be encoded as PNG.
    #[error("the receipt could not be encoded as PNG: {0}")]
    Png(String),
}

/// The template, compiled in.
const TEMPLATE: &str = include_str!("receipt.typ");

/// The only fonts the receipt uses.
const FONTS: [&[u8]; 2] = [
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/fonts/Vazirmatn-Regular.ttf"
    )),
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/fonts/Vazirmatn-Bold.ttf"
    )),
];

/// The engine with the template and fonts loaded, made once.
static ENGINE: LazyLock<TypstEngine<TypstTemplateMainFile>> = LazyLock::new(|| engine(TEMPLATE));

fn engine(template: &str) -> TypstEngine<TypstTemplateMainFile> {
    TypstEngine::builder()
        .main_file(template)
        .fonts(FONTS)
        .build()
}

/// The receipt as the bytes of a one-page PDF (fonts embedded as subsets).
///
/// # Errors
///
/// A [`ReceiptError`] naming the field that is not valid, or the template
/// or PDF errors.
pub fn render_pdf(r: &Receipt) -> Result<Vec<u8>, ReceiptError> {
    let document = compile(&ENGINE, r)?;
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(format!("pishkhan-receipt-{}", r.tracking_code)),
        ..typst_pdf::PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|d| ReceiptError::Pdf(describe(None, &d)))
}

/// The receipt as a PNG of `dpi` dots per inch (200 is a good preview;
/// 203 is the usual thermal printer's).
///
/// # Errors
///
/// As [`render_pdf`], plus [`ReceiptError::BadDpi`] and
/// [`ReceiptError::Png`].
pub fn render_png(r: &Receipt, dpi: f32) -> Result<Vec<u8>, ReceiptError> {
    if !(1.0..=2400.0).contains(&dpi) {
        return Err(ReceiptError::BadDpi(dpi));
    }
    let document = compile(&ENGINE, r)?;
    let page = document
        .pages()
        .first()
        .ok_or_else(|| ReceiptError::Template(vec!["the template produced no page".to_owned()]))?;
    let options = typst_render::RenderOptions {
        pixel_per_pt: typst::utils::Scalar::new(f64::from(dpi) / 72.0),
        render_bleed: false,
    };
    typst_render::render(page, &options)
        .encode_png()
        .map_err(|e| ReceiptError::Png(e.to_string()))
}

/// Checks the receipt and lays it out with `engine`'s template.
fn compile(
    engine: &TypstEngine<TypstTemplateMainFile>,
    r: &Receipt,
) -> Result<PagedDocument, ReceiptError> {
    let inputs = inputs::inputs(r)?;
    let world = engine
        .world_builder()
        .with_inputs(inputs)
        .build()
        .map_err(|e| ReceiptError::Template(vec![e.to_string()]))?;
    let result = typst::compile::<PagedDocument>(&world).output;
    // typst memoises across compilations; keep only what this one used.
    typst::comemo::evict(1);
    result.map_err(|d| ReceiptError::Template(describe(Some(&world), &d)))
}

/// One line per error: `line N: message (hint: ...)`.
fn describe(
    world: Option<&typst_as_lib::TypstWorld<'_>>,
    diagnostics: &EcoVec<SourceDiagnostic>,
) -> Vec<String> {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let line = world.and_then(|w| {
                let id = d.span.id()?;
                let start = w.range(d.span)?.start;
                let source = typst::World::source(w, id).ok()?;
                source.lines().byte_to_line(start)
            });
            let mut text = match line {
                Some(line) => format!("line {}: {}", line + 1, d.message),
                None => d.message.to_string(),
            };
            for hint in &d.hints {
                text.push_str(&format!(" (hint: {})", hint.v));
            }
            text
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Receipt {
        Receipt {
            tracking_code: "1405004200000157".into(),
            tracking_grouped: "1405-0042-000001-57".into(),
            applicant_fa: "آزمون".into(),
            applicant_latin: None,
            national_code: "0012345679".into(),
            request_type: Bilingual::default(),
            office: Bilingual::default(),
            station: String::new(),
            operator: String::new(),
            issued_jalali: String::new(),
            issued_gregorian: String::new(),
            portrait_jpeg: None,
            finger_exceptions: vec![],
            fees: vec![],
            payment_reference: None,
            reprint: None,
        }
    }

    /// A broken template is reported with the line and typst's message.
    #[test]
    fn template_errors_list_the_diagnostics() {
        let broken = engine("#let x = sys.inputs\n\n#x.no-such-field\n#undefined-fn()\n");
        let Err(ReceiptError::Template(lines)) = compile(&broken, &sample()) else {
            panic!("a broken template must fail");
        };
        assert!(!lines.is_empty());
        assert!(lines[0].starts_with("line 3: "), "{lines:?}");
        assert!(lines[0].contains("no-such-field"), "{lines:?}");
        let message = ReceiptError::Template(lines).to_string();
        assert!(
            message.starts_with("the receipt template failed:\nline 3: "),
            "{message}"
        );
    }

    /// typst has nothing to warn about: every font and glyph is found.
    #[test]
    fn the_template_compiles_without_warnings() {
        let receipt = Receipt {
            reprint: Some(Reprint {
                number: 1,
                jalali: "۱۴۰۵/۰۹/۰۲ ۰۹:۰۰".into(),
                gregorian: "2026-11-23 09:00".into(),
            }),
            finger_exceptions: vec![Bilingual::new(
                "شست راست: قطع عضو",
                "Right thumb: amputated",
            )],
            fees: vec![Fee {
                label: Bilingual::new("هزینه صدور کارت", "Card issuance fee"),
                amount_rials: 3_000_000,
            }],
            payment_reference: Some("736201945512".into()),
            ..sample()
        };
        let world = ENGINE
            .world_builder()
            .with_inputs(inputs::inputs(&receipt).expect("valid"))
            .build()
            .expect("world");
        let compiled = typst::compile::<PagedDocument>(&world);
        let warnings: Vec<&str> = compiled
            .warnings
            .iter()
            .map(|w| w.message.as_str())
            .collect();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(compiled.output.expect("compiles").pages().len(), 1);
    }
}
