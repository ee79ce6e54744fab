//! Digits and amounts as printed in each half of the receipt.

/// `s` with every ASCII digit replaced by its Persian (Extended Arabic-Indic)
/// form, U+06F0 to U+06F9; everything else is kept.
pub fn persian(s: &str) -> String {
    s.chars()
        .map(|c| match u32::from(c) {
            d @ 0x30..=0x39 => char::from_u32(0x06F0 + d - 0x30).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// `s` with every Persian (U+06F0..) or Arabic-Indic (U+0660..) digit
/// replaced by its ASCII form; everything else is kept.
pub fn latin(s: &str) -> String {
    s.chars()
        .map(|c| match u32::from(c) {
            d @ 0x06F0..=0x06F9 => char::from_u32(0x30 + d - 0x06F0).unwrap_or(c),
            d @ 0x0660..=0x0669 => char::from_u32(0x30 + d - 0x0660).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// `n` in ASCII digits with `sep` between groups of three.
pub fn grouped(n: u64, sep: char) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// An amount of rials for the Persian half: Persian digits grouped by the
/// Arabic thousands separator U+066C, as in `۱٬۲۰۰٬۰۰۰`.
pub fn rials_fa(n: u64) -> String {
    persian(&grouped(n, '\u{066C}'))
}

/// An amount of rials for the English half: `1,200,000`.
pub fn rials_en(n: u64) -> String {
    grouped(n, ',')
}

/// An identifier for the Persian half: Persian digits, unless it also has
/// Latin letters (`ST-0042`), which is then kept as written so that one
/// token does not mix two scripts.
pub fn identifier_fa(s: &str) -> String {
    if s.chars().any(|c| c.is_ascii_alphabetic()) {
        s.to_owned()
    } else {
        persian(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways() {
        assert_eq!(persian("1405-0042 ab"), "۱۴۰۵-۰۰۴۲ ab");
        assert_eq!(latin("۱۴۰۵/۰۹/۰۱ ١٢"), "1405/09/01 12");
        assert_eq!(latin(&persian("0123456789")), "0123456789");
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(0, ','), "0");
        assert_eq!(grouped(999, ','), "999");
        assert_eq!(grouped(1000, ','), "1,000");
        assert_eq!(grouped(1_200_000, ','), "1,200,000");
        assert_eq!(grouped(u64::MAX, ','), "18,446,744,073,709,551,615");
        assert_eq!(rials_fa(3_500_000), "۳٬۵۰۰٬۰۰۰");
        assert_eq!(rials_en(3_500_000), "3,500,000");
    }

    #[test]
    fn identifiers_with_letters_stay_latin() {
        assert_eq!(identifier_fa("0042"), "۰۰۴۲");
        assert_eq!(identifier_fa("ST-0042"), "ST-0042");
    }
}
