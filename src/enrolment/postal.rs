//! Postal codes (domain.md §3): ten digits, never 0 or 2 in the first five
//! (hard rules, refused); the stricter community pattern is only a warning,
//! since no official source for it was found.

use super::digits::normalise_identifier;
use crate::text::Text;

/// Checks a typed postal code and returns its ten ASCII digits.
pub fn normalise_postal_code(input: &str) -> Result<String, Text> {
    let code = normalise_identifier(input);
    if code.is_empty() {
        return Err(Text::new("err-required"));
    }
    if let Some(c) = code.chars().find(|c| !c.is_ascii_digit()) {
        return Err(Text::new("err-not-digit").arg("char", c.to_string()));
    }
    if code.len() != 10 {
        return Err(Text::new("err-postal-length").arg("count", code.len().to_string()));
    }
    if let Some((i, c)) = code[..5]
        .char_indices()
        .find(|(_, c)| matches!(c, '0' | '2'))
    {
        return Err(Text::new("err-postal-zero-two")
            .arg("digit", c.to_string())
            .arg("pos", (i + 1).to_string()));
    }
    Ok(code)
}

/// What the community pattern `^(?!(\d)\1{3})[13-9]{4}[1346-9][013-9]{5}$`
/// says about a code that passed [`normalise_postal_code`]: `None` when it
/// matches, else the first rule it breaks. Shown as a warning to check the
/// code with the applicant, never as a refusal.
pub fn postal_code_warning(code: &str) -> Option<Text> {
    let digits = code.as_bytes();
    if digits.len() != 10 {
        return None;
    }
    if digits[1..4].iter().all(|&d| d == digits[0]) {
        return Some(Text::new("warn-postal-repeated"));
    }
    if digits[4] == b'5' {
        return Some(Text::new("warn-postal-fifth"));
    }
    if digits[5..].contains(&b'2') {
        return Some(Text::new("warn-postal-two-late"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_from_the_domain_reference() {
        // (input, hard rules pass, community pattern passes)
        for (input, hard, community) in [
            ("1193653471", true, true),
            ("1345913456", true, true),
            ("13451-13456", true, true),
            ("1345513456", true, false),
            ("1345923456", true, false),
            ("1111911111", true, false),
            ("1234567890", false, false),
            ("0123456789", false, false),
            ("123456789", false, false),
        ] {
            let checked = normalise_postal_code(input);
            assert_eq!(checked.is_ok(), hard, "{input}: {checked:?}");
            if let Ok(code) = checked {
                assert_eq!(postal_code_warning(&code).is_none(), community, "{input}");
            }
        }
    }

    #[test]
    fn each_failure_names_its_rule() {
        let id = |input| normalise_postal_code(input).map_err(|t| t.id);
        assert_eq!(id("123456789"), Err("err-postal-length"));
        let two = normalise_postal_code("1234567890").expect_err("2 in first five");
        assert_eq!(two.id, "err-postal-zero-two");
        assert_eq!(
            two.args,
            vec![("digit", "2".to_owned()), ("pos", "2".to_owned())]
        );
        assert_eq!(id("13451a3456"), Err("err-not-digit"));
        assert_eq!(
            normalise_postal_code("۱۳۴۵۱-۱۳۴۵۶"),
            Ok("1345113456".into())
        );
        let warn = |code| postal_code_warning(code).map(|t| t.id);
        assert_eq!(warn("1345513456"), Some("warn-postal-fifth"));
        assert_eq!(warn("1345923456"), Some("warn-postal-two-late"));
        assert_eq!(warn("1111911111"), Some("warn-postal-repeated"));
    }
}
