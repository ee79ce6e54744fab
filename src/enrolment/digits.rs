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

/// Directional marks that creep in when numbers are pasted from documents:
/// LRM, RLM and the Arabic letter mark.
const DIRECTION_MARKS: [char; 3] = ['\u{200E}', '\u{200F}', '\u{061C}'];

const ZWNJ: char = '\u{200C}';

/// Normalises an identifier as typed (national code, postal code, phone
/// numbers, serials): Unicode NFKC (presentation forms pasted from PDFs),
/// digits of every script to ASCII, and spaces, dashes, slashes and
/// directional marks removed. Validate the result with ASCII classes only.
pub fn normalise_identifier(input: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    to_ascii_digits(&input.nfkc().collect::<String>())
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '/') || DIRECTION_MARKS.contains(c)))
        .collect()
}

/// Normalises a Persian name or address as typed (ISIRI 6219): Unicode
/// NFKC, Arabic yeh/kaf become Persian (ي ى → ی, ك → ک), ۀ becomes ه with
/// hamza above, tatweel and directional marks go, digits become ASCII, runs
/// of spaces collapse and ends are trimmed. ZWNJ (U+200C) is kept inside
/// words — it is part of correct Persian spelling — but dropped at word
/// edges and never doubled.
pub fn normalise_text(input: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut mapped = String::with_capacity(input.len());
    for c in to_ascii_digits(&input.nfkc().collect::<String>()).chars() {
        match c {
            '\u{064A}' | '\u{0649}' => mapped.push('\u{06CC}'), // ي ى → ی
            '\u{0643}' => mapped.push('\u{06A9}'),              // ك → ک
            '\u{06C0}' => mapped.push_str("\u{0647}\u{0654}"),  // ۀ → هٔ
            '\u{0640}' => {}                                    // tatweel
            c if DIRECTION_MARKS.contains(&c) => {}
            c if c.is_whitespace() => mapped.push(' '),
            c => mapped.push(c),
        }
    }
    mapped
        .split(' ')
        .filter_map(|word| {
            let mut clean = String::with_capacity(word.len());
            for c in word.trim_matches(ZWNJ).chars() {
                if !(c == ZWNJ && clean.ends_with(ZWNJ)) {
                    clean.push(c);
                }
            }
            (!clean.is_empty()).then_some(clean)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A key for comparing names written differently but meaning the same —
/// «محمد‌حسین», «محمد حسین» and «محمدحسین», or «علي» and «علی»: the
/// normalised text without spaces, ZWNJ and short vowels (harakat).
/// For matching only; names are stored exactly as normalised.
pub fn fold_key(input: &str) -> String {
    normalise_text(input)
        .chars()
        .filter(|&c| !matches!(c, ' ' | ZWNJ | '\u{064B}'..='\u{0652}' | '\u{0670}'))
        .collect()
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

    #[test]
    fn the_isiri_6219_pipeline() {
        // Presentation forms pasted from a PDF: NFKC gives ی and ک back.
        assert_eq!(normalise_text("\u{FBFC}\u{FB8E}"), "یک");
        // NFKC gives Arabic ي and ك for these, which step 3 then maps.
        assert_eq!(normalise_text("\u{FEF1}\u{FEDA}"), "یک");
        assert_eq!(normalise_text("خانۀ"), "خانه\u{0654}");
        assert_eq!(normalise_text("علـــی"), "علی");
        assert_eq!(
            normalise_text("\u{200C}محمد\u{200C}\u{200C}حسین\u{200C} زاده"),
            "محمد\u{200C}حسین زاده"
        );
        assert_eq!(normalise_text("\u{200F}رضا\u{200E}"), "رضا");
    }

    #[test]
    fn identifiers_lose_separators_and_marks() {
        assert_eq!(normalise_identifier(" ۱۳۴۵۱-۱۳۴۵۶ "), "1345113456");
        assert_eq!(
            normalise_identifier("\u{200E}٠٩١٢ ١٢٣ ٤٥٦٧\u{200F}"),
            "09121234567"
        );
        assert_eq!(normalise_identifier("۰۴۹/۹۳۷۰۸۹۹"), "0499370899");
        // Fullwidth digits (NFKC) are digits too.
        assert_eq!(normalise_identifier("\u{FF10}\u{FF19}"), "09");
    }

    #[test]
    fn fold_key_matches_spellings_of_one_name() {
        let key = fold_key("محمدحسین");
        assert_eq!(fold_key("محمد\u{200C}حسین"), key);
        assert_eq!(fold_key("محمد حسين"), key);
        assert_eq!(fold_key("مُحَمَّد حسین"), key);
        assert_ne!(fold_key("محمدحسن"), key);
    }
}
