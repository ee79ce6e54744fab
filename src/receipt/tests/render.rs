//! The receipt read back by independent tools: poppler (`pdftoppm`,
//! `pdftotext`, `pdffonts`) and zbar (`zbarimg`), as an office would see it.
//!
//! Without a tool a test says SKIPPED on stderr and passes, unless
//! `PISHKHAN_REQUIRE_REFERENCE=1` (set by `bash installer/dev.sh test`, which
//! installs poppler-utils and zbar-tools), which makes it a failure.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use pishkhan_receipt::{Bilingual, Fee, Receipt, ReceiptError, Reprint, render_pdf, render_png};

const TRACKING: &str = "1405004200000157";

/// Whether every tool in `names` can be run. When one cannot: a failure
/// under `PISHKHAN_REQUIRE_REFERENCE=1`, otherwise a SKIPPED note.
fn tools(names: &[&str]) -> bool {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| {
            // `-v` prints the version with both poppler and zbar.
            Command::new(name).arg("-v").output().is_err()
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let required = std::env::var("PISHKHAN_REQUIRE_REFERENCE").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "PISHKHAN_REQUIRE_REFERENCE=1 but {missing:?} cannot be run; \
         apt-get install poppler-utils zbar-tools (bash installer/dev.sh test does)"
    );
    eprintln!("SKIPPED: {missing:?} not installed (apt-get install poppler-utils zbar-tools)");
    false
}

/// Runs `program` with `args`, returning its stdout; panics with its
/// stderr when it fails.
fn run(program: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// A portrait thumbnail as JPEG: the head and shoulders of the astronaut
/// fixture, 200 × 256 pixels.
fn portrait_jpeg() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/portraits/skimage_astronaut.png");
    let photo = image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let thumb = photo.crop_imm(125, 15, 200, 256).to_rgb8();
    let mut out = Cursor::new(Vec::new());
    thumb
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("JPEG encodes");
    out.into_inner()
}

/// A complete receipt: portrait, two fees, a finger exception, payment.
fn full() -> Receipt {
    Receipt {
        tracking_code: TRACKING.into(),
        tracking_grouped: "1405-0042-000001-57".into(),
        applicant_fa: "زهرا سادات حسینی‌نژاد".into(),
        applicant_latin: Some("Zahra Sadat Hosseini-Nejad".into()),
        national_code: "0012345679".into(),
        request_type: Bilingual::new("صدور اولیه کارت", "First issue"),
        office: Bilingual::new(
            "دفتر پیشخوان دولت ۱۲۳۴ — تهران",
            "Pishkhan office 1234 — Tehran",
        ),
        station: "0042".into(),
        operator: "m.rezaei".into(),
        issued_jalali: "۱۴۰۵/۰۹/۰۱ ۱۴:۳۲".into(),
        issued_gregorian: "2026-11-22 14:32".into(),
        portrait_jpeg: Some(portrait_jpeg()),
        finger_exceptions: vec![Bilingual::new(
            "شست راست: قطع عضو",
            "Right thumb: amputated",
        )],
        fees: vec![
            Fee {
                label: Bilingual::new("هزینه صدور کارت", "Card issuance fee"),
                amount_rials: 3_000_000,
            },
            Fee {
                label: Bilingual::new("کارمزد دفتر پیشخوان", "Office service fee"),
                amount_rials: 1_250_000,
            },
        ],
        payment_reference: Some("736201945512".into()),
        reprint: None,
    }
}

/// The bare minimum: no portrait, no fees, no exceptions, no Latin name.
fn minimal() -> Receipt {
    Receipt {
        applicant_latin: None,
        portrait_jpeg: None,
        finger_exceptions: vec![],
        fees: vec![],
        payment_reference: None,
        ..full()
    }
}

/// Writes the PDF of `r` into a fresh temporary directory.
fn write_pdf(r: &Receipt) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pdf = dir.path().join("receipt.pdf");
    std::fs::write(&pdf, render_pdf(r).expect("renders")).expect("write PDF");
    (dir, pdf)
}

/// `pdftotext` of the PDF (poppler's default reading-order mode), made
/// comparable with the strings put in.
///
/// poppler gives Persian runs in logical order, but wraps each right-to-left
/// run in the embedding marks U+202B … U+202C, orders the runs of one line
/// visually (so a Persian `label: value` or a number inside a Persian
/// sentence comes out with its runs swapped), and places the invisible
/// zero-width non-joiner (U+200C, as in `حسینی‌نژاد`) by its x position,
/// which is that of a neighbouring letter. So the marks and the ZWNJ are
/// dropped (from the expected strings too, see [`plain`]), and the tests
/// look for runs of Persian words, whose letters come out only if the glyphs
/// were shaped and mapped back in logical order.
fn text_of(pdf: &Path) -> String {
    plain(&run("pdftotext", &[pdf.as_os_str(), "-".as_ref()]))
}

/// `s` without bidi embedding or isolate marks and without ZWNJ.
fn plain(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\u{200C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

/// Asserts that `text` has each of `expected` (compared through [`plain`]).
fn assert_has(text: &str, expected: &[&str]) {
    for e in expected {
        assert!(text.contains(&plain(e)), "{e:?} not in:\n{text}");
    }
}

/// Asserts that `text` has none of `absent`.
fn assert_lacks(text: &str, absent: &[&str]) {
    for a in absent {
        assert!(!text.contains(&plain(a)), "{a:?} in:\n{text}");
    }
}

fn pages_of(pdf: &Path) -> usize {
    let info = run("pdfinfo", &[pdf.as_os_str()]);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo prints Pages:")
}

#[test]
fn qr_and_code128_decode_to_the_tracking_code() {
    if !tools(&["pdftoppm", "zbarimg"]) {
        return;
    }
    let (dir, pdf) = write_pdf(&full());
    let prefix = dir.path().join("page");
    run(
        "pdftoppm",
        &[
            "-r".as_ref(),
            "200".as_ref(),
            "-png".as_ref(),
            "-singlefile".as_ref(),
            pdf.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    let png = dir.path().join("page.png");

    let raw = run(
        "zbarimg",
        &["--quiet".as_ref(), "--raw".as_ref(), png.as_os_str()],
    );
    let raw: Vec<&str> = raw.lines().collect();
    assert_eq!(raw, [TRACKING, TRACKING], "zbarimg --raw: {raw:?}");

    // The same, naming the symbologies: one QR code and one Code128.
    let typed = run("zbarimg", &["--quiet".as_ref(), png.as_os_str()]);
    let mut typed: Vec<&str> = typed.lines().collect();
    typed.sort_unstable();
    assert_eq!(
        typed,
        [
            format!("CODE-128:{TRACKING}"),
            format!("QR-Code:{TRACKING}")
        ]
    );
}

#[test]
fn text_is_extracted_in_logical_order_with_both_digit_sets() {
    if !tools(&["pdftotext", "pdffonts", "pdfinfo"]) {
        return;
    }
    let (_dir, pdf) = write_pdf(&full());
    assert_eq!(pages_of(&pdf), 1, "the receipt is one page");

    // Only Vazirmatn, embedded as subsets with a ToUnicode map (the
    // columns: name type encoding emb sub uni).
    let fonts = run("pdffonts", &[pdf.as_os_str()]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in &rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert!(cols[0].contains("Vazirmatn"), "{fonts}");
        assert_eq!(
            cols[cols.len() - 5..cols.len() - 2],
            ["yes", "yes", "yes"],
            "{fonts}"
        );
    }

    let text = text_of(&pdf);
    // Persian: whole runs of joined words in logical (reading) order, as
    // they were put in.
    assert_has(
        &text,
        &[
            "رسید ثبت درخواست کارت هوشمند ملی",
            "زهرا سادات حسینی‌نژاد",
            "صدور اولیه کارت",
            "شست راست",
            "قطع عضو",
            "هزینه صدور کارت",
            "کارمزد دفتر پیشخوان",
            "جمع کل",
            "این رسید تا زمان تحویل کارت هوشمند ملی",
            "گواهی موقت ثبت درخواست شماست",
        ],
    );
    // Persian digits in the Persian half: the grouped code (kept left to
    // right), the national code, the amounts with the Arabic thousands
    // separator, the total, the payment reference.
    assert_has(
        &text,
        &[
            "۱۴۰۵-۰۰۴۲-۰۰۰۰۰۱-۵۷",
            "۰۰۱۲۳۴۵۶۷۹",
            "۳٬۰۰۰٬۰۰۰",
            "۱٬۲۵۰٬۰۰۰",
            "۴٬۲۵۰٬۰۰۰",
            "۷۳۶۲۰۱۹۴۵۵۱۲",
            "۱۴۰۵/۰۹/۰۱",
        ],
    );
    // Latin digits in the English half.
    assert_has(
        &text,
        &[
            "Smart national ID card — enrolment receipt",
            "Zahra Sadat Hosseini-Nejad",
            "1405-0042-000001-57",
            "0012345679",
            "3,000,000",
            "1,250,000",
            "4,250,000",
            "Payment reference",
            "736201945512",
            "2026-11-22 14:32 (1405/09/01 14:32 SH)",
            "Right thumb: amputated",
            "serves as interim proof of application",
        ],
    );
    // The Persian half (its labels too) precedes the English one.
    let fa = text.find("کد رهگیری").expect("Persian tracking label");
    let en = text.find("Tracking code").expect("English tracking label");
    assert!(fa < en, "Persian half first:\n{text}");
    assert_lacks(&text, &["المثنی", "Reprint", "No fee", "No photo", "ندارد"]);
}

#[test]
fn markup_in_the_data_is_printed_not_evaluated() {
    if !tools(&["pdftotext", "pdfinfo"]) {
        return;
    }
    let hostile_latin = r#"*Bold* #set page(width: 20pt) $x^2$ [a] \ "q" #emph[b] // c"#;
    let hostile_fa = r#"علی #pagebreak() ]) } $ \ "#;
    let receipt = Receipt {
        applicant_latin: Some(hostile_latin.into()),
        applicant_fa: hostile_fa.into(),
        operator: "#{panic()}".into(),
        finger_exceptions: vec![Bilingual::new("#[*]", "`raw` <label> @ref")],
        ..full()
    };
    let (_dir, pdf) = write_pdf(&receipt);
    // `#pagebreak()` and `#set page(...)` were not run.
    assert_eq!(pages_of(&pdf), 1, "nothing broke the page");
    let text = text_of(&pdf);
    // The English half is left to right: printed exactly as given.
    assert_has(&text, &[hostile_latin, "`raw` <label> @ref"]);
    // In the Persian half poppler swaps neutral runs around (see
    // `text_of`), so look for the pieces.
    assert_has(&text, &["علی", "pagebreak", "panic"]);
}

#[test]
fn a_receipt_without_portrait_fees_or_exceptions() {
    if !tools(&["pdftotext", "pdfinfo"]) {
        return;
    }
    let (_dir, pdf) = write_pdf(&minimal());
    assert_eq!(pages_of(&pdf), 1);
    let text = text_of(&pdf);
    assert_has(
        &text,
        &[
            "بدون عکس",
            "No photo",
            "ندارد",
            "None",
            "هزینه‌ای دریافت نشده است",
            "No fee was charged.",
        ],
    );
    // With no Latin name the English half prints the Persian one.
    assert_eq!(
        text.matches(&plain("زهرا سادات حسینی‌نژاد")).count(),
        2,
        "{text}"
    );
    assert_lacks(
        &text,
        &[
            "Total",
            "جمع کل",
            "Payment reference",
            "مرجع پرداخت",
            "Right thumb",
        ],
    );
}

#[test]
fn a_reprint_is_marked_in_both_languages() {
    if !tools(&["pdftotext", "pdfinfo"]) {
        return;
    }
    let receipt = Receipt {
        reprint: Some(Reprint {
            number: 2,
            jalali: "۱۴۰۵/۰۹/۰۳ ۰۹:۰۵".into(),
            gregorian: "2026-11-24 09:05".into(),
        }),
        ..full()
    };
    let (_dir, pdf) = write_pdf(&receipt);
    assert_eq!(pages_of(&pdf), 1, "the banner still fits the page");
    let text = text_of(&pdf);
    assert_has(
        &text,
        &[
            "المثنی — نوبت چاپ",
            "۱۴۰۵/۰۹/۰۳",
            "Reprint 2",
            "2026-11-24 09:05",
        ],
    );
    // The reprint number in Persian digits, on the banner's line (poppler
    // puts it before the Persian run: see `text_of`).
    let banner = text.lines().find(|l| l.contains("المثنی")).expect("banner");
    assert!(banner.contains('۲'), "{banner}");
}

#[test]
fn a_crowded_receipt_still_fits_one_page() {
    if !tools(&["pdfinfo"]) {
        return;
    }
    // As the station words them (assets/i18n): finger, then the kind.
    let finger = Bilingual::new(
        "کوچک چپ: نبودِ انگشت یا قطع عضو",
        "Left little: Missing or amputated",
    );
    let fee = Fee {
        label: Bilingual::new(
            "هزینه صدور کارت هوشمند ملی (المثنی)",
            "Smart national ID card issuance fee (duplicate)",
        ),
        amount_rials: 12_345_000,
    };
    let receipt = Receipt {
        applicant_fa: "سیده فاطمه‌زهرا میرحسینی طباطبایی‌نژاد اصفهانی".into(),
        applicant_latin: Some(
            "Seyyedeh Fatemeh-Zahra Mirhosseini Tabatabaei-Nejad Esfahani".into(),
        ),
        office: Bilingual::new(
            "دفتر پیشخوان خدمات دولت شماره ۱۲۳۴۵ — شهرستان اسلامشهر، استان تهران",
            "Government services office no. 12345 — Eslamshahr county, Tehran province",
        ),
        finger_exceptions: vec![finger; 10],
        fees: vec![fee; 4],
        reprint: Some(Reprint {
            number: 12,
            jalali: "۱۴۰۵/۱۲/۲۹ ۲۳:۵۹".into(),
            gregorian: "2027-03-20 23:59".into(),
        }),
        ..full()
    };
    let (_dir, pdf) = write_pdf(&receipt);
    assert_eq!(
        pages_of(&pdf),
        1,
        "ten exceptions, four fees and a reprint banner"
    );
}

#[test]
fn a_broken_portrait_is_named() {
    let jpeg = portrait_jpeg();
    let png = {
        let mut out = Cursor::new(Vec::new());
        image::RgbImage::new(8, 8)
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("PNG");
        out.into_inner()
    };
    // JPEG start- and end-of-image markers around garbage.
    let mut garbage = vec![0xFF, 0xD8, 0xFF, 0xE0];
    garbage.extend(std::iter::repeat_n(0x5A, 600));
    garbage.extend([0xFF, 0xD9]);
    let cases = [
        ("truncated", jpeg[..jpeg.len() / 2].to_vec(), "truncated"),
        ("garbage between the markers", garbage, ""),
        ("a PNG", png, "Png, not JPEG"),
        ("empty", Vec::new(), "not an image format"),
    ];
    for (what, bytes, says) in cases {
        let receipt = Receipt {
            portrait_jpeg: Some(bytes),
            ..full()
        };
        match render_pdf(&receipt) {
            Err(e @ ReceiptError::BadPortrait(_)) => {
                let message = e.to_string();
                assert!(
                    message.starts_with("the portrait thumbnail is not a readable JPEG: "),
                    "{what}: {message}"
                );
                assert!(message.contains(says), "{what}: {message}");
            }
            Err(e) => panic!("{what}: expected BadPortrait, got {e}"),
            Ok(pdf) => panic!(
                "{what}: expected BadPortrait, got a PDF of {} bytes",
                pdf.len()
            ),
        }
    }
}

#[test]
fn bad_codes_are_refused() {
    let bad = |r: Receipt| render_pdf(&r).expect_err("refused");
    for code in [
        "140500420000015",
        "14050042000001577",
        "14050042000001x7",
        "۱۴۰۵۰۰۴۲۰۰۰۰۰۱۵۷",
    ] {
        let e = bad(Receipt {
            tracking_code: code.into(),
            ..full()
        });
        assert!(matches!(e, ReceiptError::BadTrackingCode(_)), "{code}: {e}");
    }
    let e = bad(Receipt {
        tracking_grouped: "1405-0042-000001-75".into(),
        ..full()
    });
    assert!(matches!(e, ReceiptError::GroupedMismatch { .. }), "{e}");
    let e = bad(Receipt {
        national_code: "001234567".into(),
        ..full()
    });
    assert!(matches!(e, ReceiptError::BadNationalCode(_)), "{e}");
    let e = bad(Receipt {
        fees: vec![
            Fee {
                label: Bilingual::default(),
                amount_rials: u64::MAX,
            },
            Fee {
                label: Bilingual::default(),
                amount_rials: 1,
            },
        ],
        ..full()
    });
    assert!(matches!(e, ReceiptError::FeesOverflow), "{e}");
}

#[test]
fn the_same_receipt_gives_the_same_bytes() {
    let r = full();
    let started = std::time::Instant::now();
    let first = render_pdf(&r).expect("renders");
    let cold = started.elapsed();
    let started = std::time::Instant::now();
    let second = render_pdf(&r).expect("renders again");
    eprintln!(
        "render_pdf: {cold:?} the first time, {:?} the second, {} bytes",
        started.elapsed(),
        first.len()
    );
    assert!(first.starts_with(b"%PDF-"));
    assert_eq!(first, second);
}

#[test]
fn png_preview() {
    let png = render_png(&full(), 100.0).expect("renders");
    let page = image::load_from_memory(&png).expect("a PNG");
    // A5 is 148 × 210 mm: 583 × 827 pixels at 100 dpi.
    assert_eq!((page.width(), page.height()), (583, 827));
    assert!(matches!(
        render_png(&full(), 0.0),
        Err(ReceiptError::BadDpi(_))
    ));
}

/// Writes `docs/screens/receipt-fa-en.png`: the full receipt at 200 dpi.
#[test]
#[ignore = "writes documentation screenshots; run by docs/screens/make.sh"]
fn write_receipt_screen() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screens/receipt-fa-en.png");
    std::fs::write(&out, render_png(&full(), 200.0).expect("renders")).expect("write PNG");
    eprintln!("wrote {}", out.display());
}
