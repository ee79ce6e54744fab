//! Digits and letters: what operators type versus what we store.
//!
//! Operators type Persian (۰–۹), Arabic-Indic (٠–٩) or ASCII digits, and on
//! older keyboard layouts Arabic ي and ك. We store ASCII digits and Persian
//! letters, and show Persian digits in the Persian UI.

/// Maps Persian and Arabic-Indic digits to ASCII; other characters are kept.
pub fn to_ascii_digits(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            _ => c,
        })
        .collect()
}

/// Maps ASCII digits to Persian digits (U+06F0–U+06F9).
pub fn to_persian_digits(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(0x06F0 + (c as u32 - '0' as u32)).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Normalises a Persian name or address as typed: Arabic yeh/kaf become
/// Persian, digits become ASCII, runs of spaces collapse, ends are trimmed.
/// ZWNJ (U+200C) is kept: it is part of correct Persian spelling.
pub fn normalise_text(input: &str) -> String {
    let mapped: String = to_ascii_digits(input)
        .chars()
        .map(|c| match c {
            '\u{064A}' | '\u{0649}' => '\u{06CC}', // ي ى → ی
            '\u{0643}' => '\u{06A9}',              // ك → ک
            '\u{00A0}' => ' ',
            _ => c,
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_from_every_script_become_ascii() {
        assert_eq!(to_ascii_digits("۰۴۹۹٣٧0899"), "0499370899");
        assert_eq!(to_ascii_digits("abc-۱"), "abc-1");
    }

    #[test]
    fn ascii_digits_become_persian() {
        assert_eq!(to_persian_digits("1405/09/01"), "۱۴۰۵/۰۹/۰۱");
    }

    #[test]
    fn arabic_letters_are_normalised_and_zwnj_kept() {
        assert_eq!(normalise_text("  علي   كريمي "), "علی کریمی");
        assert_eq!(normalise_text("ثبت\u{200C}نام"), "ثبت\u{200C}نام");
    }
}
