//! Field mnemonics and the code tables of §1.3–§1.7.

/// The mnemonic of field `tag` in a record of type `kind`, for messages and
/// the dump (Types 1, 10 and 14 in full; LEN, IDC and DATA everywhere).
pub fn mnemonic(kind: u8, tag: u16) -> Option<&'static str> {
    let common = match tag {
        1 => Some("LEN"),
        2 if kind != 1 => Some("IDC"),
        999 if kind != 1 => Some("DATA"),
        _ => None,
    };
    common.or(match kind {
        1 => type1(tag),
        10 => type10(tag),
        14 => type14(tag),
        _ => None,
    })
}

/// Type-1 fields (§1.3).
fn type1(tag: u16) -> Option<&'static str> {
    Some(match tag {
        2 => "VER",
        3 => "CNT",
        4 => "TOT",
        5 => "DAT",
        6 => "PRY",
        7 => "DAI",
        8 => "ORI",
        9 => "TCN",
        10 => "TCR",
        11 => "NSR",
        12 => "NTR",
        13 => "DOM",
        14 => "GMT",
        15 => "DCS",
        16 => "APS",
        17 => "ANM",
        18 => "GNS",
        _ => return None,
    })
}

/// Type-10 fields (§1.5).
fn type10(tag: u16) -> Option<&'static str> {
    Some(match tag {
        3 => "IMT",
        4 => "SRC",
        5 => "PHD",
        6 => "HLL",
        7 => "VLL",
        8 => "SLC",
        9 => "THPS",
        10 => "TVPS",
        11 => "CGA",
        12 => "CSP",
        13 => "SAP",
        20 => "POS",
        21 => "POA",
        23 => "PAS",
        24 => "SQS",
        25 => "SPA",
        26 => "SXS",
        27 => "SEC",
        28 => "SHC",
        29 => "FFP",
        30 => "DMM",
        902 => "ANN",
        903 => "DUI",
        904 => "MMS",
        992 => "T2C",
        996 => "HAS",
        _ => return None,
    })
}

/// Type-14 fields (§1.6).
fn type14(tag: u16) -> Option<&'static str> {
    Some(match tag {
        3 => "IMP",
        4 => "SRC",
        5 => "FCD",
        6 => "HLL",
        7 => "VLL",
        8 => "SLC",
        9 => "THPS",
        10 => "TVPS",
        11 => "CGA",
        12 => "BPX",
        13 => "FGP",
        14 => "PPD",
        15 => "PPC",
        16 => "SHPS",
        17 => "SVPS",
        18 => "AMP",
        20 => "COM",
        21 => "SEG",
        22 => "NQM",
        23 => "SQM",
        24 => "FQM",
        25 => "ASEG",
        26 => "SCF",
        27 => "SIF",
        30 => "DMM",
        31 => "FAP",
        901 => "FCT",
        902 => "ANN",
        903 => "DUI",
        904 => "MMS",
        992 => "T2C",
        996 => "HAS",
        _ => return None,
    })
}

/// `1.002` VER values accepted (§1.1): the 2011 editions, and 2007 and 2000
/// for old files.
pub const VERSIONS: &[&str] = &["0300", "0400", "0500", "0501", "0502"];

/// `1.015` DCS character set index (§1.2): 0 ASCII, 1 8-bit Latin, 2 UTF-16,
/// 3 UTF-8, 4 UTF-32; 128–999 user-defined.
pub fn known_charset(index: u16) -> bool {
    index <= 4 || (128..=999).contains(&index)
}

/// The DCS character set index of UTF-8.
pub const CHARSET_UTF8: u16 = 3;

/// Record types whose IDC must be unique within their type: the image
/// records (legacy 3–8, face 10, latent 13, finger 14, palm 15, user image
/// 16, iris 17, plantar 19, source 20, context 21).
pub fn is_image_record(kind: u8) -> bool {
    matches!(kind, 3..=8 | 10 | 13..=17 | 19..=21)
}

/// Legacy records with a fixed binary header instead of tagged fields.
pub fn is_binary_record(kind: u8) -> bool {
    (3..=8).contains(&kind)
}

/// Compression algorithms (CGA, §1.7).
pub const COMPRESSIONS: &[&str] = &["NONE", "WSQ20", "JPEGB", "JPEGL", "JP2", "JP2L", "PNG"];

/// `10.003` IMT image types.
pub const FACE_IMAGE_TYPES: &[&str] = &["FACE", "SCAR", "MARK", "TATTOO"];

/// `10.012` CSP colour spaces.
pub const COLOUR_SPACES: &[&str] = &["GRAY", "RGB", "SRGB", "YCC", "SYCC", "UNK"];

/// `10.013` SAP subject acquisition profiles (NIEM
/// `FaceImageAcquisitionProfileCodeSimpleType`, §1.5).
pub const FACE_PROFILES: &[u16] = &[0, 1, 10, 11, 12, 13, 14, 15, 20, 30, 32, 40, 42, 50, 51, 52];

/// `10.020` POS subject poses: frontal, right and left profile, angled,
/// determined by 3D.
pub const POSES: &[&str] = &["F", "R", "L", "A", "D"];

/// `10.030`/`14.030` DMM device monitoring modes.
pub const MONITORING_MODES: &[&str] = &[
    "CONTROLLED",
    "ASSISTED",
    "OBSERVED",
    "UNATTENDED",
    "UNKNOWN",
];

/// `14.003` IMP impression types a Type-14 may carry (Table 7, §1.7): the
/// 2011/2013 finger codes 0–8 and 20–29, and the Update 2015 contactless
/// codes 41 and 42. The palm codes 10–15 belong in Type-15.
pub fn finger_impression(code: u16) -> bool {
    matches!(code, 0..=8 | 20..=29 | 41 | 42)
}

/// `14.013` FGP values a Type-14 may carry: 0–19, 33, 36, 40–50 (§1.7).
pub fn finger_position(code: u16) -> bool {
    matches!(code, 0..=19 | 33 | 36 | 40..=50)
}

/// The individual fingers (1–10) that an image of finger position `fgp`
/// shows (Table 8): a slap or partial slap covers its fingers, a plain thumb
/// (11, 12) its thumb; any other position covers only itself. The partial
/// slap codes 40–50 are as listed in Table 8 of the 2011 edition (verify).
pub fn covered(fgp: u16) -> &'static [u16] {
    match fgp {
        1 => &[1],
        2 => &[2],
        3 => &[3],
        4 => &[4],
        5 => &[5],
        6 => &[6],
        7 => &[7],
        8 => &[8],
        9 => &[9],
        10 => &[10],
        11 => &[1],
        12 => &[6],
        13 => &[2, 3, 4, 5],
        14 => &[7, 8, 9, 10],
        15 => &[1, 6],
        40 => &[2, 3],
        41 => &[3, 4],
        42 => &[4, 5],
        43 => &[7, 8],
        44 => &[8, 9],
        45 => &[9, 10],
        46 => &[2, 7],
        47 => &[2, 3, 4],
        48 => &[3, 4, 5],
        49 => &[7, 8, 9],
        50 => &[8, 9, 10],
        _ => &[],
    }
}

/// `14.018` AMP codes: amputated, unable to print.
pub const AMPUTATION_CODES: &[&str] = &["XX", "UP"];

/// Whether `v` is a quality value (QVU): 0–100, 254 (not computed), 255
/// (failed).
pub fn quality_value(v: u16) -> bool {
    v <= 100 || v == 254 || v == 255
}

/// Whether `v` is an NFIQ 1 score for `14.022` NQM: 1–5, 254, 255.
pub fn nist_quality(v: u16) -> bool {
    (1..=5).contains(&v) || v == 254 || v == 255
}
