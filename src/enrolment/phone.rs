//! Mobile and landline numbers (domain.md §4.1–4.2).
//!
//! A mobile number is stored as `09` + nine digits; which operator the
//! prefix belongs to is shown as information only, never used to refuse a
//! number (operators keep adding prefixes). A landline is stored as `0` +
//! a two-digit province area code + eight digits.

use super::digits::normalise_identifier;
use crate::text::Text;

/// Mobile operators, by prefix (persian-tools' table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MobileOperator {
    Mci,
    Irancell,
    Rightel,
    Taliya,
    ShatelMobile,
    Aptel,
}

impl MobileOperator {
    /// Translation id of the operator's name.
    pub fn text_id(self) -> &'static str {
        match self {
            MobileOperator::Mci => "operator-mci",
            MobileOperator::Irancell => "operator-irancell",
            MobileOperator::Rightel => "operator-rightel",
            MobileOperator::Taliya => "operator-taliya",
            MobileOperator::ShatelMobile => "operator-shatel",
            MobileOperator::Aptel => "operator-aptel",
        }
    }

    /// The operator of a normalised mobile number (`09…`), if the prefix is
    /// one we know.
    pub fn of(mobile: &str) -> Option<Self> {
        let prefix: u16 = mobile.get(1..4)?.parse().ok()?;
        Some(match prefix {
            910..=919 | 990..=996 => MobileOperator::Mci,
            900..=905 | 930 | 933 | 935..=939 | 941 => MobileOperator::Irancell,
            920..=923 => MobileOperator::Rightel,
            932 => MobileOperator::Taliya,
            998 => MobileOperator::ShatelMobile,
            999 => MobileOperator::Aptel,
            _ => return None,
        })
    }
}

/// Normalises `+98 912…`, `0098…`, `98912…`, `912…` (any digit script) to
/// `09121234567`.
pub fn normalise_mobile(input: &str) -> Result<String, Text> {
    let ascii = normalise_identifier(input);
    let national = ascii
        .strip_prefix("+98")
        .or_else(|| ascii.strip_prefix("0098"))
        .or_else(|| ascii.strip_prefix("98").filter(|r| r.len() == 10))
        .or_else(|| ascii.strip_prefix('0'))
        .unwrap_or(&ascii);
    if national.is_empty() {
        return Err(Text::new("err-required"));
    }
    if let Some(c) = national.chars().find(|c| !c.is_ascii_digit()) {
        return Err(Text::new("err-not-digit").arg("char", c.to_string()));
    }
    if !national.starts_with('9') {
        return Err(Text::new("err-mobile-start"));
    }
    if national.len() != 10 {
        return Err(Text::new("err-mobile-length").arg("count", (national.len() + 1).to_string()));
    }
    if national.starts_with("98") {
        return Err(Text::new("err-mobile-operator"));
    }
    Ok(format!("0{national}"))
}

/// The 31 province area codes and the translation id of each province.
pub const AREA_CODES: [(&str, &str); 31] = [
    ("11", "province-mazandaran"),
    ("13", "province-gilan"),
    ("17", "province-golestan"),
    ("21", "province-tehran"),
    ("23", "province-semnan"),
    ("24", "province-zanjan"),
    ("25", "province-qom"),
    ("26", "province-alborz"),
    ("28", "province-qazvin"),
    ("31", "province-isfahan"),
    ("34", "province-kerman"),
    ("35", "province-yazd"),
    ("38", "province-chaharmahal"),
    ("41", "province-east-azerbaijan"),
    ("44", "province-west-azerbaijan"),
    ("45", "province-ardabil"),
    ("51", "province-razavi-khorasan"),
    ("54", "province-sistan"),
    ("56", "province-south-khorasan"),
    ("58", "province-north-khorasan"),
    ("61", "province-khuzestan"),
    ("66", "province-lorestan"),
    ("71", "province-fars"),
    ("74", "province-kohgiluyeh"),
    ("76", "province-hormozgan"),
    ("77", "province-bushehr"),
    ("81", "province-hamadan"),
    ("83", "province-kermanshah"),
    ("84", "province-ilam"),
    ("86", "province-markazi"),
    ("87", "province-kurdistan"),
];

/// The translation id of the province an area code (two digits, no 0)
/// belongs to.
pub fn province(area_code: &str) -> Option<&'static str> {
    AREA_CODES
        .iter()
        .find(|(code, _)| *code == area_code)
        .map(|(_, id)| *id)
}

/// Normalises a landline typed with its area code — `021 8877 6655`,
/// `+98 21 88776655`, `۰۲۱-۸۸۷۷۶۶۵۵` — to `02188776655`.
pub fn normalise_landline(input: &str) -> Result<String, Text> {
    let ascii = normalise_identifier(input);
    if ascii.is_empty() {
        return Err(Text::new("err-required"));
    }
    let national = ascii
        .strip_prefix("+98")
        .or_else(|| ascii.strip_prefix("0098"))
        .map(|rest| format!("0{rest}"))
        .unwrap_or(ascii);
    if let Some(c) = national.chars().find(|c| !c.is_ascii_digit()) {
        return Err(Text::new("err-not-digit").arg("char", c.to_string()));
    }
    if national.starts_with("09") {
        return Err(Text::new("err-landline-is-mobile"));
    }
    if !national.starts_with('0') {
        return Err(Text::new("err-landline-area-missing"));
    }
    if national.len() != 11 {
        return Err(Text::new("err-landline-length").arg("count", national.len().to_string()));
    }
    let area = &national[1..3];
    if province(area).is_none() {
        return Err(Text::new("err-landline-area").arg("code", format!("0{area}")));
    }
    Ok(national)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_vectors() {
        for (input, out) in [
            ("09121234567", "09121234567"),
            ("09022002580", "09022002580"),
            ("09981000000", "09981000000"),
            ("09300880440", "09300880440"),
            ("+989373708555", "09373708555"),
            ("00989121234567", "09121234567"),
            ("989121234567", "09121234567"),
            ("9121234567", "09121234567"),
            ("۰۹۱۲ ۱۲۳ ۴۵۶۷", "09121234567"),
            ("٠٩١٢-١٢٣-٤٥٦٧", "09121234567"),
        ] {
            assert_eq!(normalise_mobile(input), Ok(out.to_owned()), "{input}");
        }
        let id = |input| normalise_mobile(input).map_err(|t| t.id);
        assert_eq!(id("09802002580"), Err("err-mobile-operator"));
        assert_eq!(id("0912123456"), Err("err-mobile-length"));
        assert_eq!(id("02188776655"), Err("err-mobile-start"));
        assert_eq!(id("0912x234567"), Err("err-not-digit"));
        assert_eq!(id(""), Err("err-required"));
    }

    #[test]
    fn operators_are_information_only() {
        assert_eq!(MobileOperator::of("09121234567"), Some(MobileOperator::Mci));
        assert_eq!(
            MobileOperator::of("09373708555"),
            Some(MobileOperator::Irancell)
        );
        assert_eq!(
            MobileOperator::of("09221234567"),
            Some(MobileOperator::Rightel)
        );
        assert_eq!(
            MobileOperator::of("09321234567"),
            Some(MobileOperator::Taliya)
        );
        // An unknown prefix is still a valid number, just with no name.
        assert_eq!(normalise_mobile("09971234567").map(|_| ()), Ok(()));
        assert_eq!(MobileOperator::of("09971234567"), None);
    }

    #[test]
    fn landline_vectors() {
        for (input, out) in [
            ("02188776655", "02188776655"),
            ("03132221111", "03132221111"),
            ("04133334444", "04133334444"),
            ("+982188776655", "02188776655"),
            ("۰۲۱-۸۸۷۷ ۶۶۵۵", "02188776655"),
        ] {
            assert_eq!(normalise_landline(input), Ok(out.to_owned()), "{input}");
        }
        let err = |input| normalise_landline(input).expect_err(input);
        assert_eq!(err("0213333444").id, "err-landline-length");
        assert_eq!(err("88776655").id, "err-landline-area-missing");
        assert_eq!(err("09121234567").id, "err-landline-is-mobile");
        let unknown = err("02088776655");
        assert_eq!(unknown.id, "err-landline-area");
        assert_eq!(unknown.args, vec![("code", "020".to_owned())]);
        assert_eq!(province("21"), Some("province-tehran"));
        assert_eq!(AREA_CODES.len(), 31);
    }
}
