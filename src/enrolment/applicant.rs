//! The applicant as typed by the operator, and its validation.

use serde::{Deserialize, Serialize};

use super::digits::{normalise_text, to_ascii_digits};
use super::jalali::{JalaliDate, MINIMUM_AGE};
use super::national_code::{self, NationalCode, NationalCodeError};
use crate::text::Text;

/// What the applicant came for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestType {
    FirstCard,
    LostCard,
    IdentityCorrection,
    Replacement,
}

impl RequestType {
    pub const ALL: [RequestType; 4] = [
        RequestType::FirstCard,
        RequestType::LostCard,
        RequestType::IdentityCorrection,
        RequestType::Replacement,
    ];

    /// Translation id of the name.
    pub fn text_id(self) -> &'static str {
        match self {
            RequestType::FirstCard => "request-first-card",
            RequestType::LostCard => "request-lost-card",
            RequestType::IdentityCorrection => "request-identity-correction",
            RequestType::Replacement => "request-replacement",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gender {
    Female,
    Male,
}

/// The fields of the applicant form, exactly as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicantForm {
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    pub gender: Option<Gender>,
    pub birth_date: String,
    pub national_code: String,
    pub national_code_repeat: String,
    pub postal_code: String,
    pub address: String,
    pub mobile: String,
    pub request_type: Option<RequestType>,
}

/// A checked applicant, normalised for storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    pub gender: Gender,
    pub birth_date: JalaliDate,
    /// ISO 8601 Gregorian birth date.
    pub birth_date_gregorian: String,
    pub national_code: NationalCode,
    pub postal_code: String,
    pub address: String,
    pub mobile: String,
    pub request_type: RequestType,
}

/// A form field, for attaching messages to the right input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    FirstName,
    LastName,
    FatherName,
    Gender,
    BirthDate,
    NationalCode,
    NationalCodeRepeat,
    PostalCode,
    Address,
    Mobile,
    RequestType,
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub text: Text,
}

impl ApplicantForm {
    /// The form as it was filled in for `applicant` (to resume a draft).
    pub fn from_applicant(applicant: &Applicant) -> Self {
        Self {
            first_name: applicant.first_name.clone(),
            last_name: applicant.last_name.clone(),
            father_name: applicant.father_name.clone(),
            gender: Some(applicant.gender),
            birth_date: applicant.birth_date.to_ascii(),
            national_code: applicant.national_code.as_str().to_owned(),
            national_code_repeat: applicant.national_code.as_str().to_owned(),
            postal_code: applicant.postal_code.clone(),
            address: applicant.address.clone(),
            mobile: applicant.mobile.clone(),
            request_type: Some(applicant.request_type),
        }
    }

    /// Checks every field against `today` and returns the applicant, or
    /// every problem found (not just the first).
    pub fn validate(&self, today: JalaliDate) -> Result<Applicant, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field, text| errors.push(FieldError { field, text });

        let first_name = required_name(&self.first_name);
        let last_name = required_name(&self.last_name);
        let father_name = required_name(&self.father_name);
        for (field, value) in [
            (Field::FirstName, &first_name),
            (Field::LastName, &last_name),
            (Field::FatherName, &father_name),
        ] {
            if let Err(text) = value {
                fail(field, text.clone());
            }
        }
        if self.gender.is_none() {
            fail(Field::Gender, Text::new("err-choose-gender"));
        }
        if self.request_type.is_none() {
            fail(Field::RequestType, Text::new("err-choose-request"));
        }

        let birth_date = match JalaliDate::parse(&self.birth_date) {
            Ok(date) if date > today => {
                fail(Field::BirthDate, Text::new("err-birth-in-future"));
                None
            }
            Ok(date) if date.full_years_on(today) < MINIMUM_AGE => {
                let mut turns = date;
                turns.year += MINIMUM_AGE;
                if turns.month == 12 && turns.day == 30 && !super::jalali::is_leap(turns.year) {
                    turns = JalaliDate::new(turns.year + 1, 1, 1).unwrap_or(turns);
                }
                fail(
                    Field::BirthDate,
                    Text::new("err-too-young")
                        .arg("age", date.full_years_on(today).to_string())
                        .arg("date", turns.to_ascii()),
                );
                None
            }
            Ok(date) => Some(date),
            Err(e) => {
                fail(Field::BirthDate, Text::from_date_error(&e));
                None
            }
        };

        let national_code = match national_code::validate(&self.national_code) {
            Ok(code) => Some(code),
            Err(e) => {
                fail(Field::NationalCode, national_code_text(&e));
                None
            }
        };
        if let Some(code) = &national_code
            && to_ascii_digits(self.national_code_repeat.trim()) != code.as_str()
        {
            fail(
                Field::NationalCodeRepeat,
                Text::new("err-national-code-mismatch"),
            );
        }

        let postal_code = to_ascii_digits(&self.postal_code.replace(['-', ' '], ""));
        if let Err(text) = check_postal_code(&postal_code) {
            fail(Field::PostalCode, text);
        }
        let address = normalise_text(&self.address);
        if address.chars().count() < 10 {
            fail(Field::Address, Text::new("err-address-short"));
        }
        let mobile = match normalise_mobile(&self.mobile) {
            Ok(m) => Some(m),
            Err(text) => {
                fail(Field::Mobile, text);
                None
            }
        };

        match (
            first_name,
            last_name,
            father_name,
            self.gender,
            birth_date,
            national_code,
            mobile,
            self.request_type,
        ) {
            (
                Ok(first_name),
                Ok(last_name),
                Ok(father_name),
                Some(gender),
                Some(birth_date),
                Some(national_code),
                Some(mobile),
                Some(request_type),
            ) if errors.is_empty() => {
                let (gy, gm, gd) = birth_date.to_gregorian();
                Ok(Applicant {
                    first_name,
                    last_name,
                    father_name,
                    gender,
                    birth_date,
                    birth_date_gregorian: format!("{gy:04}-{gm:02}-{gd:02}"),
                    national_code,
                    postal_code,
                    address,
                    mobile,
                    request_type,
                })
            }
            _ => Err(errors),
        }
    }
}

fn required_name(input: &str) -> Result<String, Text> {
    let name = normalise_text(input);
    if name.is_empty() {
        return Err(Text::new("err-required"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(is_persian_letter(*c) || *c == ' ' || *c == '\u{200C}'))
    {
        return Err(Text::new("err-name-letter").arg("char", c.to_string()));
    }
    Ok(name)
}

fn is_persian_letter(c: char) -> bool {
    matches!(c,
        '\u{0621}'..='\u{063A}' | '\u{0641}'..='\u{064A}' | '\u{067E}' | '\u{0686}' | '\u{0698}'
        | '\u{06A9}' | '\u{06AF}' | '\u{06CC}' | '\u{064B}'..='\u{0652}')
}

fn national_code_text(e: &NationalCodeError) -> Text {
    match e {
        NationalCodeError::Empty => Text::new("err-required"),
        NationalCodeError::Length(n) => Text::new("err-nc-length").arg("count", n.to_string()),
        NationalCodeError::NotDigit(i) => Text::new("err-nc-not-digit").arg("pos", i.to_string()),
        NationalCodeError::Repeated => Text::new("err-nc-repeated"),
        NationalCodeError::ZeroMiddle => Text::new("err-nc-zero-middle"),
        NationalCodeError::CheckDigit { expected, found } => Text::new("err-nc-check-digit")
            .arg("expected", expected.to_string())
            .arg("found", found.to_string()),
    }
}

/// Ten digits, no 0 or 2 among the first five.
fn check_postal_code(code: &str) -> Result<(), Text> {
    if !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(Text::new("err-digits-only"));
    }
    if code.len() != 10 {
        return Err(Text::new("err-postal-length").arg("count", code.len().to_string()));
    }
    if let Some(c) = code[..5].chars().find(|c| matches!(c, '0' | '2')) {
        return Err(Text::new("err-postal-zero-two").arg("digit", c.to_string()));
    }
    Ok(())
}

/// Normalises `+98 912…`, `0098…`, `912…` to `09121234567`.
pub fn normalise_mobile(input: &str) -> Result<String, Text> {
    let ascii: String = to_ascii_digits(input)
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let national = ascii
        .strip_prefix("+98")
        .or_else(|| ascii.strip_prefix("0098"))
        .or_else(|| ascii.strip_prefix("98").filter(|r| r.len() == 10))
        .or_else(|| ascii.strip_prefix('0'))
        .unwrap_or(&ascii);
    if national.is_empty() {
        return Err(Text::new("err-required"));
    }
    if !national.chars().all(|c| c.is_ascii_digit()) {
        return Err(Text::new("err-digits-only"));
    }
    if national.len() != 10 || !national.starts_with('9') {
        return Err(Text::new("err-mobile-format"));
    }
    if national.starts_with("98") {
        return Err(Text::new("err-mobile-operator"));
    }
    Ok(format!("0{national}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> JalaliDate {
        JalaliDate::new(1405, 9, 1).expect("valid")
    }

    pub(crate) fn good_form() -> ApplicantForm {
        ApplicantForm {
            first_name: "علي".into(),
            last_name: "رضایی".into(),
            father_name: "حسین".into(),
            gender: Some(Gender::Male),
            birth_date: "۱۳۸۰/۰۵/۱۲".into(),
            national_code: "0499370899".into(),
            national_code_repeat: "۰۴۹۹۳۷۰۸۹۹".into(),
            postal_code: "13451-13456".into(),
            address: "تهران، خیابان آزادی، پلاک ۱۰".into(),
            mobile: "+98 912 123 4567".into(),
            request_type: Some(RequestType::FirstCard),
        }
    }

    #[test]
    fn good_form_is_normalised() {
        let a = good_form().validate(today()).expect("valid form");
        assert_eq!(a.first_name, "علی");
        assert_eq!(a.national_code.as_str(), "0499370899");
        assert_eq!(a.postal_code, "1345113456");
        assert_eq!(a.mobile, "09121234567");
        assert_eq!(a.birth_date_gregorian, "2001-08-03");
    }

    #[test]
    fn every_problem_is_reported_on_its_field() {
        let form = ApplicantForm {
            first_name: "Ali".into(),
            national_code: "0499370898".into(),
            postal_code: "1234567890".into(),
            mobile: "0912123456".into(),
            birth_date: "1404/12/30".into(),
            ..ApplicantForm::default()
        };
        let errors = form.validate(today()).expect_err("invalid form");
        let fields: Vec<Field> = errors.iter().map(|e| e.field).collect();
        for f in [
            Field::FirstName,
            Field::LastName,
            Field::FatherName,
            Field::Gender,
            Field::RequestType,
            Field::BirthDate,
            Field::NationalCode,
            Field::PostalCode,
            Field::Address,
            Field::Mobile,
        ] {
            assert!(fields.contains(&f), "{f:?} missing from {fields:?}");
        }
        let nc = errors
            .iter()
            .find(|e| e.field == Field::NationalCode)
            .expect("national code error");
        assert_eq!(nc.text.id, "err-nc-check-digit");
        assert_eq!(nc.text.args[0], ("expected", "9".to_owned()));
    }

    #[test]
    fn under_fifteen_is_refused_with_the_date_they_turn_fifteen() {
        let form = ApplicantForm {
            birth_date: "1390/09/02".into(),
            ..good_form()
        };
        let errors = form.validate(today()).expect_err("too young");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].text.id, "err-too-young");
        assert!(
            errors[0]
                .text
                .args
                .contains(&("date", "1405/09/02".to_owned()))
        );
        let form = ApplicantForm {
            birth_date: "1390/09/01".into(),
            ..good_form()
        };
        assert!(form.validate(today()).is_ok());
    }

    #[test]
    fn repeated_national_code_must_match() {
        let form = ApplicantForm {
            national_code_repeat: "0499370889".into(),
            ..good_form()
        };
        let errors = form.validate(today()).expect_err("mismatch");
        assert_eq!(errors[0].field, Field::NationalCodeRepeat);
    }

    #[test]
    fn mobile_vectors() {
        for (input, out) in [
            ("09121234567", "09121234567"),
            ("+989373708555", "09373708555"),
            ("00989121234567", "09121234567"),
            ("989121234567", "09121234567"),
            ("9121234567", "09121234567"),
            ("۰۹۱۲۱۲۳۴۵۶۷", "09121234567"),
        ] {
            assert_eq!(normalise_mobile(input), Ok(out.to_owned()), "{input}");
        }
        assert!(normalise_mobile("09802002580").is_err());
        assert!(normalise_mobile("0912123456").is_err());
    }
}
