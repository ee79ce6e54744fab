//! The applicant as typed by the operator, and its validation.

use serde::{Deserialize, Serialize};

use super::birth_certificate::{self, BirthCertificate, NUMBER_IS_NATIONAL_CODE_FROM};
use super::digits::{normalise_identifier, normalise_text};
use super::jalali::{JalaliDate, LeapDayBirthday, MINIMUM_AGE};
use super::national_code::{self, NationalCode, NationalCodeError};
use super::phone::normalise_landline;
/// Mobile numbers are normalised in [`super::phone`]; kept here too for
/// callers of the form module.
pub use super::phone::normalise_mobile;
use super::postal::{normalise_postal_code, postal_code_warning};
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

/// Who is served first (domain.md §7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PriorityGroup {
    #[default]
    None,
    /// Applicants who have just turned 15.
    TurningFifteen,
    /// Families of martyrs, and veterans.
    MartyrsAndVeterans,
    /// Holders of old cards issued 1380–1389.
    OldCard,
    /// Applicants with a disability (also those a mobile team visits).
    Disability,
}

impl PriorityGroup {
    pub const ALL: [PriorityGroup; 5] = [
        PriorityGroup::None,
        PriorityGroup::TurningFifteen,
        PriorityGroup::MartyrsAndVeterans,
        PriorityGroup::OldCard,
        PriorityGroup::Disability,
    ];

    pub fn text_id(self) -> &'static str {
        match self {
            PriorityGroup::None => "priority-none",
            PriorityGroup::TurningFifteen => "priority-turning-fifteen",
            PriorityGroup::MartyrsAndVeterans => "priority-martyrs-veterans",
            PriorityGroup::OldCard => "priority-old-card",
            PriorityGroup::Disability => "priority-disability",
        }
    }

    /// The code written to the packet (Type-2 2.041).
    pub fn code(self) -> &'static str {
        match self {
            PriorityGroup::None => "NONE",
            PriorityGroup::TurningFifteen => "AGE15",
            PriorityGroup::MartyrsAndVeterans => "VETERAN",
            PriorityGroup::OldCard => "OLDCARD",
            PriorityGroup::Disability => "DISABILITY",
        }
    }
}

/// The fields of the applicant form, exactly as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicantForm {
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    pub gender: Option<Gender>,
    pub birth_date: String,
    pub place_of_birth: String,
    pub national_code: String,
    pub national_code_repeat: String,
    /// The supervisor who approved the known repeated code `1111111111`.
    pub national_code_approved_by: Option<String>,
    pub bc_number: String,
    pub bc_series_letter: String,
    pub bc_series_number: String,
    pub bc_serial: String,
    pub postal_code: String,
    pub address: String,
    /// Optional: not every applicant has one.
    pub landline: String,
    pub mobile: String,
    pub mobile_repeat: String,
    pub request_type: Option<RequestType>,
    pub priority_group: PriorityGroup,
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
    #[serde(default)]
    pub place_of_birth: String,
    pub national_code: NationalCode,
    /// Supervisor who approved a national code the rules refuse (`1111111111`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national_code_approved_by: Option<String>,
    #[serde(default)]
    pub birth_certificate: BirthCertificate,
    pub postal_code: String,
    pub address: String,
    /// `0` + area code + eight digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landline: Option<String>,
    pub mobile: String,
    pub request_type: RequestType,
    #[serde(default)]
    pub priority_group: PriorityGroup,
}

/// A form field, for attaching messages to the right input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    FirstName,
    LastName,
    FatherName,
    Gender,
    BirthDate,
    PlaceOfBirth,
    NationalCode,
    NationalCodeRepeat,
    BcNumber,
    BcSeriesLetter,
    BcSeriesNumber,
    BcSerial,
    PostalCode,
    Address,
    Landline,
    Mobile,
    MobileRepeat,
    RequestType,
    PriorityGroup,
}

impl Field {
    /// Stable name: widget ids, packet records of differences.
    pub fn key(self) -> &'static str {
        match self {
            Field::FirstName => "first-name",
            Field::LastName => "last-name",
            Field::FatherName => "father-name",
            Field::Gender => "gender",
            Field::BirthDate => "birth-date",
            Field::PlaceOfBirth => "place-of-birth",
            Field::NationalCode => "national-code",
            Field::NationalCodeRepeat => "national-code-repeat",
            Field::BcNumber => "bc-number",
            Field::BcSeriesLetter => "bc-series-letter",
            Field::BcSeriesNumber => "bc-series-number",
            Field::BcSerial => "bc-serial",
            Field::PostalCode => "postal-code",
            Field::Address => "address",
            Field::Landline => "landline",
            Field::Mobile => "mobile",
            Field::MobileRepeat => "mobile-repeat",
            Field::RequestType => "request-type",
            Field::PriorityGroup => "priority-group",
        }
    }

    /// Translation id of the field's label.
    pub fn label_id(self) -> &'static str {
        match self {
            Field::FirstName => "ui-first-name",
            Field::LastName => "ui-last-name",
            Field::FatherName => "ui-father-name",
            Field::Gender => "ui-gender",
            Field::BirthDate => "ui-birth-date",
            Field::PlaceOfBirth => "ui-place-of-birth",
            Field::NationalCode => "ui-national-code",
            Field::NationalCodeRepeat => "ui-national-code-repeat",
            Field::BcNumber => "ui-bc-number",
            Field::BcSeriesLetter => "ui-bc-series-letter",
            Field::BcSeriesNumber => "ui-bc-series-number",
            Field::BcSerial => "ui-bc-serial",
            Field::PostalCode => "ui-postal-code",
            Field::Address => "ui-address",
            Field::Landline => "ui-landline",
            Field::Mobile => "ui-mobile",
            Field::MobileRepeat => "ui-mobile-repeat",
            Field::RequestType => "ui-request-type",
            Field::PriorityGroup => "ui-priority-group",
        }
    }

    /// The field with this [`key`](Self::key).
    pub fn from_key(key: &str) -> Option<Field> {
        Field::TEXT
            .into_iter()
            .chain([Field::Gender, Field::RequestType, Field::PriorityGroup])
            .find(|f| f.key() == key)
    }

    /// The fields typed as text, in form order.
    pub const TEXT: [Field; 16] = [
        Field::FirstName,
        Field::LastName,
        Field::FatherName,
        Field::BirthDate,
        Field::PlaceOfBirth,
        Field::NationalCode,
        Field::NationalCodeRepeat,
        Field::BcNumber,
        Field::BcSeriesLetter,
        Field::BcSeriesNumber,
        Field::BcSerial,
        Field::PostalCode,
        Field::Address,
        Field::Landline,
        Field::Mobile,
        Field::MobileRepeat,
    ];
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub text: Text,
}

/// What the rules need besides the form: the enrolment date and the
/// station's Esfand-30 birthday convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub today: JalaliDate,
    pub leap_day: LeapDayBirthday,
}

impl Rules {
    pub fn on(today: JalaliDate) -> Self {
        Self {
            today,
            leap_day: LeapDayBirthday::default(),
        }
    }
}

/// Error id of the eligibility refusal (under 15 full years).
pub const TOO_YOUNG: &str = "err-too-young";

impl ApplicantForm {
    /// The text typed into `field` (empty for the choice fields).
    pub fn get(&self, field: Field) -> &str {
        match field {
            Field::FirstName => &self.first_name,
            Field::LastName => &self.last_name,
            Field::FatherName => &self.father_name,
            Field::BirthDate => &self.birth_date,
            Field::PlaceOfBirth => &self.place_of_birth,
            Field::NationalCode => &self.national_code,
            Field::NationalCodeRepeat => &self.national_code_repeat,
            Field::BcNumber => &self.bc_number,
            Field::BcSeriesLetter => &self.bc_series_letter,
            Field::BcSeriesNumber => &self.bc_series_number,
            Field::BcSerial => &self.bc_serial,
            Field::PostalCode => &self.postal_code,
            Field::Address => &self.address,
            Field::Landline => &self.landline,
            Field::Mobile => &self.mobile,
            Field::MobileRepeat => &self.mobile_repeat,
            Field::Gender | Field::RequestType | Field::PriorityGroup => "",
        }
    }

    /// The slot of a text field; `None` for the choice fields.
    pub fn slot(&mut self, field: Field) -> Option<&mut String> {
        Some(match field {
            Field::FirstName => &mut self.first_name,
            Field::LastName => &mut self.last_name,
            Field::FatherName => &mut self.father_name,
            Field::BirthDate => &mut self.birth_date,
            Field::PlaceOfBirth => &mut self.place_of_birth,
            Field::NationalCode => &mut self.national_code,
            Field::NationalCodeRepeat => &mut self.national_code_repeat,
            Field::BcNumber => &mut self.bc_number,
            Field::BcSeriesLetter => &mut self.bc_series_letter,
            Field::BcSeriesNumber => &mut self.bc_series_number,
            Field::BcSerial => &mut self.bc_serial,
            Field::PostalCode => &mut self.postal_code,
            Field::Address => &mut self.address,
            Field::Landline => &mut self.landline,
            Field::Mobile => &mut self.mobile,
            Field::MobileRepeat => &mut self.mobile_repeat,
            Field::Gender | Field::RequestType | Field::PriorityGroup => return None,
        })
    }

    /// The form as it was filled in for `applicant` (to resume a draft).
    pub fn from_applicant(applicant: &Applicant) -> Self {
        let bc = &applicant.birth_certificate;
        Self {
            first_name: applicant.first_name.clone(),
            last_name: applicant.last_name.clone(),
            father_name: applicant.father_name.clone(),
            gender: Some(applicant.gender),
            birth_date: applicant.birth_date.to_ascii(),
            place_of_birth: applicant.place_of_birth.clone(),
            national_code: applicant.national_code.as_str().to_owned(),
            national_code_repeat: applicant.national_code.as_str().to_owned(),
            national_code_approved_by: applicant.national_code_approved_by.clone(),
            bc_number: bc.number.clone(),
            bc_series_letter: bc.series_letter.clone(),
            bc_series_number: bc.series_number.clone(),
            bc_serial: bc.serial.clone(),
            postal_code: applicant.postal_code.clone(),
            address: applicant.address.clone(),
            landline: applicant.landline.clone().unwrap_or_default(),
            mobile: applicant.mobile.clone(),
            mobile_repeat: applicant.mobile.clone(),
            request_type: Some(applicant.request_type),
            priority_group: applicant.priority_group,
        }
    }

    /// The form with every field in its stored spelling where it can be
    /// worked out — Persian letters for ي/ك, ASCII digits, no separators —
    /// so the operator sees what will be stored. Unparseable input is only
    /// cleaned, never dropped.
    pub fn normalised(&self) -> Self {
        let mut form = self.clone();
        for field in [
            Field::FirstName,
            Field::LastName,
            Field::FatherName,
            Field::PlaceOfBirth,
            Field::Address,
            Field::BcSeriesLetter,
        ] {
            if let Some(slot) = form.slot(field) {
                *slot = normalise_text(slot);
            }
        }
        for field in [
            Field::NationalCode,
            Field::NationalCodeRepeat,
            Field::BcNumber,
            Field::BcSeriesNumber,
            Field::BcSerial,
            Field::PostalCode,
        ] {
            if let Some(slot) = form.slot(field) {
                *slot = normalise_identifier(slot);
            }
        }
        for (field, normalise) in [
            (
                Field::Mobile,
                normalise_mobile as fn(&str) -> Result<String, Text>,
            ),
            (Field::MobileRepeat, normalise_mobile),
            (Field::Landline, normalise_landline),
        ] {
            if let Some(slot) = form.slot(field) {
                *slot = normalise(slot).unwrap_or_else(|_| normalise_identifier(slot));
            }
        }
        if let Ok(date) = JalaliDate::parse(&form.birth_date) {
            form.birth_date = date.to_ascii();
        }
        form
    }

    /// Checks every field under `rules` and returns the applicant, or
    /// every problem found (not just the first).
    pub fn validate(&self, rules: &Rules) -> Result<Applicant, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut check = |field: Field, result: Result<String, Text>| match result {
            Ok(value) => Some(value),
            Err(text) => {
                errors.push(FieldError { field, text });
                None
            }
        };

        let first_name = check(Field::FirstName, required_name(&self.first_name));
        let last_name = check(Field::LastName, required_name(&self.last_name));
        let father_name = check(Field::FatherName, required_name(&self.father_name));
        let place_of_birth = check(Field::PlaceOfBirth, required_name(&self.place_of_birth));
        let gender = self.gender;
        if gender.is_none() {
            check(Field::Gender, Err(Text::new("err-choose-gender")));
        }
        let request_type = self.request_type;
        if request_type.is_none() {
            check(Field::RequestType, Err(Text::new("err-choose-request")));
        }

        let birth_date = check(Field::BirthDate, self.birth_date_checked(rules))
            .and_then(|d| JalaliDate::parse(&d).ok());
        if let Some(birth) = birth_date
            && self.priority_group == PriorityGroup::TurningFifteen
        {
            let age = birth.full_years_with(rules.today, rules.leap_day);
            if age != MINIMUM_AGE {
                check(
                    Field::PriorityGroup,
                    Err(Text::new("err-priority-fifteen").arg("age", age.to_string())),
                );
            }
        }

        let national_code = match national_code::validate_with(
            &self.national_code,
            self.national_code_approved_by.is_some(),
        ) {
            Ok(code) => Some(code),
            Err(e) => {
                check(Field::NationalCode, Err(national_code_text(&e)));
                None
            }
        };
        if let Some(code) = &national_code
            && normalise_identifier(&self.national_code_repeat) != code.as_str()
        {
            check(
                Field::NationalCodeRepeat,
                Err(Text::new("err-national-code-mismatch")),
            );
        }

        let bc_number = check(
            Field::BcNumber,
            birth_certificate::check_number(&self.bc_number),
        );
        let bc_series_letter = check(
            Field::BcSeriesLetter,
            birth_certificate::check_series_letter(&self.bc_series_letter),
        );
        let bc_series_number = check(
            Field::BcSeriesNumber,
            birth_certificate::check_series_number(&self.bc_series_number),
        );
        let bc_serial = check(
            Field::BcSerial,
            birth_certificate::check_serial(&self.bc_serial),
        );

        let postal_code = check(Field::PostalCode, normalise_postal_code(&self.postal_code));
        let address = normalise_text(&self.address);
        if address.chars().count() < 10 {
            check(Field::Address, Err(Text::new("err-address-short")));
        }
        let landline = if self.landline.trim().is_empty() {
            Some(None)
        } else {
            check(Field::Landline, normalise_landline(&self.landline)).map(Some)
        };
        let mobile = check(Field::Mobile, normalise_mobile(&self.mobile));
        if let Some(mobile) = &mobile
            && normalise_mobile(&self.mobile_repeat).as_ref() != Ok(mobile)
        {
            check(Field::MobileRepeat, Err(Text::new("err-mobile-mismatch")));
        }

        let (
            Some(first_name),
            Some(last_name),
            Some(father_name),
            Some(place_of_birth),
            Some(gender),
            Some(birth_date),
            Some(national_code),
            Some(number),
            Some(series_letter),
            Some(series_number),
            Some(serial),
            Some(postal_code),
            Some(landline),
            Some(mobile),
            Some(request_type),
        ) = (
            first_name,
            last_name,
            father_name,
            place_of_birth,
            gender,
            birth_date,
            national_code,
            bc_number,
            bc_series_letter,
            bc_series_number,
            bc_serial,
            postal_code,
            landline,
            mobile,
            request_type,
        )
        else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let (gy, gm, gd) = birth_date.to_gregorian();
        Ok(Applicant {
            first_name,
            last_name,
            father_name,
            gender,
            birth_date,
            birth_date_gregorian: format!("{gy:04}-{gm:02}-{gd:02}"),
            place_of_birth,
            national_code_approved_by: (national_code.as_str() == national_code::KNOWN_REPEATED)
                .then(|| self.national_code_approved_by.clone())
                .flatten(),
            national_code,
            birth_certificate: BirthCertificate {
                number,
                series_letter,
                series_number,
                serial,
            },
            postal_code,
            address,
            landline,
            mobile,
            request_type,
            priority_group: self.priority_group,
        })
    }

    /// The birth date, if it exists, is not in the future, and makes the
    /// applicant at least 15 full years old on `rules.today`.
    fn birth_date_checked(&self, rules: &Rules) -> Result<String, Text> {
        let date = JalaliDate::parse(&self.birth_date).map_err(|e| Text::from_date_error(&e))?;
        if date > rules.today {
            return Err(Text::new("err-birth-in-future"));
        }
        let age = date.full_years_with(rules.today, rules.leap_day);
        if age < MINIMUM_AGE {
            return Err(Text::new(TOO_YOUNG).arg("age", age.to_string()).arg(
                "date",
                date.reaches_age(MINIMUM_AGE, rules.leap_day).to_ascii(),
            ));
        }
        Ok(date.to_ascii())
    }

    /// Things to double-check with the applicant that do not stop the
    /// enrolment: a postal code outside the community pattern, or a
    /// birth-certificate number that is not the national code for someone
    /// born from 1368.
    pub fn warnings(&self) -> Vec<FieldError> {
        let mut warnings = Vec::new();
        if let Ok(code) = normalise_postal_code(&self.postal_code)
            && let Some(text) = postal_code_warning(&code)
        {
            warnings.push(FieldError {
                field: Field::PostalCode,
                text,
            });
        }
        if let (Ok(date), Ok(code), Ok(number)) = (
            JalaliDate::parse(&self.birth_date),
            national_code::validate_with(&self.national_code, true),
            birth_certificate::check_number(&self.bc_number),
        ) && date.year >= NUMBER_IS_NATIONAL_CODE_FROM
            && number != code.as_str()
        {
            warnings.push(FieldError {
                field: Field::BcNumber,
                text: Text::new("warn-bc-number-national-code")
                    .arg("year", NUMBER_IS_NATIONAL_CODE_FROM.to_string()),
            });
        }
        warnings
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
        | '\u{06A9}' | '\u{06AF}' | '\u{06CC}' | '\u{064B}'..='\u{0652}' | '\u{0654}' | '\u{0670}')
}

pub(crate) fn national_code_text(e: &NationalCodeError) -> Text {
    match e {
        NationalCodeError::Empty => Text::new("err-required"),
        NationalCodeError::Length(n) => Text::new("err-nc-length").arg("count", n.to_string()),
        NationalCodeError::NotDigit(i) => Text::new("err-nc-not-digit").arg("pos", i.to_string()),
        NationalCodeError::Repeated => Text::new("err-nc-repeated"),
        NationalCodeError::NeedsApproval => Text::new("err-nc-needs-approval"),
        NationalCodeError::ZeroMiddle => Text::new("err-nc-zero-middle"),
        NationalCodeError::CheckDigit { expected, found } => Text::new("err-nc-check-digit")
            .arg("expected", expected.to_string())
            .arg("found", found.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::on(JalaliDate::new(1405, 9, 1).expect("valid"))
    }

    pub(crate) fn good_form() -> ApplicantForm {
        ApplicantForm {
            first_name: "علي".into(),
            last_name: "رضایی".into(),
            father_name: "حسین".into(),
            gender: Some(Gender::Male),
            birth_date: "۱۳۶۰/۰۵/۱۲".into(),
            place_of_birth: "تهران".into(),
            national_code: "0499370899".into(),
            national_code_repeat: "۰۴۹۹۳۷۰۸۹۹".into(),
            national_code_approved_by: None,
            bc_number: "۱۲۳۴".into(),
            bc_series_letter: "ج".into(),
            bc_series_number: "۱۲".into(),
            bc_serial: "٣٤٥٦٧٨".into(),
            postal_code: "13451-13456".into(),
            address: "تهران، خیابان آزادی، پلاک ۱۰".into(),
            landline: "۰۲۱-۸۸۷۷۶۶۵۵".into(),
            mobile: "+98 912 123 4567".into(),
            mobile_repeat: "09121234567".into(),
            request_type: Some(RequestType::FirstCard),
            priority_group: PriorityGroup::None,
        }
    }

    #[test]
    fn good_form_is_normalised() {
        let a = good_form().validate(&rules()).expect("valid form");
        assert_eq!(a.first_name, "علی");
        assert_eq!(a.national_code.as_str(), "0499370899");
        assert_eq!(a.postal_code, "1345113456");
        assert_eq!(a.mobile, "09121234567");
        assert_eq!(a.landline.as_deref(), Some("02188776655"));
        assert_eq!(a.birth_date_gregorian, "1981-08-03");
        assert_eq!(
            a.birth_certificate,
            BirthCertificate {
                number: "1234".into(),
                series_letter: "ج".into(),
                series_number: "12".into(),
                serial: "345678".into(),
            }
        );
        // What the operator sees after pressing Next.
        let shown = good_form().normalised();
        assert_eq!(shown.first_name, "علی");
        assert_eq!(shown.national_code_repeat, "0499370899");
        assert_eq!(shown.birth_date, "1360/05/12");
        assert_eq!(shown.mobile, "09121234567");
        assert_eq!(shown.landline, "02188776655");
        assert_eq!(shown.bc_serial, "345678");
        // A resumed draft fills the form back in.
        assert_eq!(ApplicantForm::from_applicant(&a).validate(&rules()), Ok(a));
    }

    #[test]
    fn the_landline_is_optional() {
        let form = ApplicantForm {
            landline: " ".into(),
            ..good_form()
        };
        assert_eq!(form.validate(&rules()).map(|a| a.landline), Ok(None));
    }

    #[test]
    fn every_problem_is_reported_on_its_field() {
        let form = ApplicantForm {
            first_name: "Ali".into(),
            national_code: "0499370898".into(),
            postal_code: "1234567890".into(),
            mobile: "0912123456".into(),
            birth_date: "1404/12/30".into(),
            bc_serial: "12345".into(),
            bc_series_letter: "X".into(),
            landline: "0203333444".into(),
            ..ApplicantForm::default()
        };
        let errors = form.validate(&rules()).expect_err("invalid form");
        let fields: Vec<Field> = errors.iter().map(|e| e.field).collect();
        for f in [
            Field::FirstName,
            Field::LastName,
            Field::FatherName,
            Field::PlaceOfBirth,
            Field::Gender,
            Field::RequestType,
            Field::BirthDate,
            Field::NationalCode,
            Field::BcNumber,
            Field::BcSeriesLetter,
            Field::BcSeriesNumber,
            Field::BcSerial,
            Field::PostalCode,
            Field::Address,
            Field::Landline,
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
        let date = errors
            .iter()
            .find(|e| e.field == Field::BirthDate)
            .expect("date error");
        assert_eq!(date.text.id, "err-date-day");
    }

    #[test]
    fn under_fifteen_is_refused_with_the_date_they_turn_fifteen() {
        let form = ApplicantForm {
            birth_date: "1390/09/02".into(),
            ..good_form()
        };
        let errors = form.validate(&rules()).expect_err("too young");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].text.id, TOO_YOUNG);
        assert_eq!(
            errors[0].text.args,
            vec![("age", "14".to_owned()), ("date", "1405/09/02".to_owned())]
        );
        let form = ApplicantForm {
            birth_date: "1390/09/01".into(),
            ..good_form()
        };
        assert!(form.validate(&rules()).is_ok());
    }

    #[test]
    fn the_leap_day_convention_is_the_stations_choice() {
        // Born 1399/12/30; 1414 is a common year.
        let form = ApplicantForm {
            birth_date: "1399/12/30".into(),
            ..good_form()
        };
        let on = JalaliDate::new(1414, 12, 29).expect("valid");
        let farvardin = Rules::on(on);
        let errors = form.validate(&farvardin).expect_err("not yet 15");
        assert!(
            errors[0]
                .text
                .args
                .contains(&("date", "1415/01/01".to_owned()))
        );
        let esfand = Rules {
            today: on,
            leap_day: LeapDayBirthday::Esfand29,
        };
        assert!(form.validate(&esfand).is_ok());
    }

    #[test]
    fn turning_fifteen_priority_needs_age_fifteen() {
        let form = ApplicantForm {
            priority_group: PriorityGroup::TurningFifteen,
            ..good_form()
        };
        let errors = form.validate(&rules()).expect_err("44, not 15");
        assert_eq!(errors[0].field, Field::PriorityGroup);
        assert_eq!(errors[0].text.args, vec![("age", "45".to_owned())]);
        let form = ApplicantForm {
            birth_date: "1390/03/01".into(),
            ..form
        };
        assert!(form.validate(&rules()).is_ok());
    }

    #[test]
    fn repeated_entries_must_match() {
        let form = ApplicantForm {
            national_code_repeat: "0499370889".into(),
            mobile_repeat: "09121234568".into(),
            ..good_form()
        };
        let errors = form.validate(&rules()).expect_err("mismatch");
        let fields: Vec<Field> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, [Field::NationalCodeRepeat, Field::MobileRepeat]);
    }

    #[test]
    fn the_known_repeated_code_needs_a_supervisor() {
        let form = ApplicantForm {
            national_code: "1111111111".into(),
            national_code_repeat: "1111111111".into(),
            ..good_form()
        };
        let errors = form.validate(&rules()).expect_err("needs approval");
        assert_eq!(errors[0].text.id, "err-nc-needs-approval");
        let approved = ApplicantForm {
            national_code_approved_by: Some("sara".into()),
            ..form
        };
        let a = approved.validate(&rules()).expect("approved");
        assert_eq!(a.national_code_approved_by.as_deref(), Some("sara"));
        // An approval left over from another code is not recorded.
        let other = ApplicantForm {
            national_code_approved_by: Some("sara".into()),
            ..good_form()
        };
        assert_eq!(
            other
                .validate(&rules())
                .map(|a| a.national_code_approved_by),
            Ok(None)
        );
    }

    #[test]
    fn warnings_do_not_stop_the_form() {
        let form = ApplicantForm {
            postal_code: "1345513456".into(),
            ..good_form()
        };
        assert!(form.validate(&rules()).is_ok());
        let warnings: Vec<&str> = form.warnings().iter().map(|w| w.text.id).collect();
        assert_eq!(warnings, ["warn-postal-fifth"]);
        // Born 1360: the number may be old-style. Born 1385: it should be
        // the national code.
        let young = ApplicantForm {
            birth_date: "1385/01/01".into(),
            ..good_form()
        };
        let warnings: Vec<&str> = young.warnings().iter().map(|w| w.text.id).collect();
        assert_eq!(warnings, ["warn-bc-number-national-code"]);
        let young = ApplicantForm {
            bc_number: "0499370899".into(),
            ..young
        };
        assert!(young.warnings().is_empty());
    }

    #[test]
    fn field_keys_round_trip() {
        for f in
            Field::TEXT
                .into_iter()
                .chain([Field::Gender, Field::RequestType, Field::PriorityGroup])
        {
            assert_eq!(Field::from_key(f.key()), Some(f));
        }
    }
}
