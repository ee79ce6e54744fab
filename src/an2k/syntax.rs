//! The traditional encoding's byte grammar (§1.2), shared by the writer and
//! the reader.

pub mod decode;
pub mod encode;

use crate::Record;
use crate::codes::CHARSET_UTF8;

/// Ends a record.
pub const FS: u8 = 0x1C;
/// Separates fields.
pub const GS: u8 = 0x1D;
/// Separates subfields.
pub const RS: u8 = 0x1E;
/// Separates the information items of a subfield.
pub const US: u8 = 0x1F;

/// The field that holds binary data in every record but the Type-1.
pub const DATA: u16 = 999;

/// What text outside the Type-1 may hold (the Type-1 is always ASCII).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// 7-bit ASCII, the default.
    Ascii,
    /// UTF-8, declared by `1.015` DCS character set index 3.
    Utf8,
}

impl Charset {
    /// The character set that `1.015` DCS of `type1` declares for the other
    /// records.
    pub fn of(type1: &Record) -> Charset {
        let index = type1.text(15).and_then(crate::field::digits::<u16>);
        if index == Some(CHARSET_UTF8) {
            Charset::Utf8
        } else {
            Charset::Ascii
        }
    }
}

/// Why `c` may not stand in text of `charset`, if it may not.
pub fn forbidden(c: char, charset: Charset) -> Option<&'static str> {
    if c.is_ascii_control() {
        Some(match u32::from(c) {
            0x1C..=0x1F => "a separator character",
            _ => "a control character",
        })
    } else if !c.is_ascii() && charset == Charset::Ascii {
        Some("not 7-bit ASCII")
    } else {
        None
    }
}

/// Whether `kind` is a record type a transaction may hold after its Type-1.
pub fn valid_kind(kind: u8) -> bool {
    (2..=99).contains(&kind)
}
