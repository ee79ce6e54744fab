//! Fees recorded at the counter: the registration completion fee, which
//! depends on the class of the office's city, and the card delivery fee,
//! from the station's `[fees]` schedule; the operator records the payment
//! reference (the card terminal's receipt number) at review. Amounts are
//! in rials. The schedule is the authority's; the station only records
//! what was charged.

use serde::{Deserialize, Serialize};

use crate::config::FeesConfig;
use crate::text::Text;

/// What a fee is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FeeKind {
    /// Registration completion, for an office in a city of this class.
    Completion { city_class: u8 },
    /// Sending the card to the applicant.
    Delivery,
}

impl FeeKind {
    pub fn text(self) -> Text {
        match self {
            FeeKind::Completion { city_class } => {
                Text::new("fee-completion").arg("class", city_class.to_string())
            }
            FeeKind::Delivery => Text::new("fee-delivery"),
        }
    }
}

/// One charged fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    #[serde(flatten)]
    pub kind: FeeKind,
    pub amount_rials: u64,
}

/// The fees charged for one enrolment and the payment's reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    pub lines: Vec<FeeLine>,
    pub total_rials: u64,
    /// The payment terminal's reference (ASCII letters and digits).
    pub reference: String,
    pub recorded_at: String,
}

/// The fees the schedule charges at this station (none when no schedule
/// is configured).
pub fn schedule(fees: &FeesConfig) -> Vec<FeeLine> {
    let mut lines = Vec::new();
    if let Some(&amount) = fees
        .completion_rials
        .get(usize::from(fees.city_class.saturating_sub(1)))
    {
        lines.push(FeeLine {
            kind: FeeKind::Completion {
                city_class: fees.city_class,
            },
            amount_rials: amount,
        });
    }
    if fees.delivery_rials > 0 {
        lines.push(FeeLine {
            kind: FeeKind::Delivery,
            amount_rials: fees.delivery_rials,
        });
    }
    lines
}

/// A typed payment reference: digits in any script become ASCII, spaces
/// and dashes go; 4–32 ASCII letters and digits remain.
pub fn check_reference(typed: &str) -> Result<String, Text> {
    let reference: String = super::digits::to_ascii_digits(typed)
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if reference.is_empty() {
        return Err(Text::new("err-payment-reference-required"));
    }
    if !(4..=32).contains(&reference.len()) || !reference.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(Text::new("err-payment-reference-format"));
    }
    Ok(reference)
}

/// Records a payment of the schedule's fees with `reference`.
pub fn record(fees: &FeesConfig, typed_reference: &str) -> Result<Option<Payment>, Text> {
    let lines = schedule(fees);
    if lines.is_empty() {
        return Ok(None);
    }
    let reference = check_reference(typed_reference)?;
    Ok(Some(Payment {
        total_rials: lines.iter().map(|l| l.amount_rials).sum(),
        lines,
        reference,
        recorded_at: chrono::Utc::now().to_rfc3339(),
    }))
}

/// `1,250,000` (ASCII; the interface converts the digits and separators).
pub fn grouped(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fees() -> FeesConfig {
        FeesConfig {
            city_class: 2,
            completion_rials: vec![4_000_000, 3_000_000, 2_000_000],
            delivery_rials: 500_000,
        }
    }

    #[test]
    fn the_schedule_charges_the_citys_class_and_delivery() {
        let lines = schedule(&fees());
        assert_eq!(
            lines,
            [
                FeeLine {
                    kind: FeeKind::Completion { city_class: 2 },
                    amount_rials: 3_000_000
                },
                FeeLine {
                    kind: FeeKind::Delivery,
                    amount_rials: 500_000
                }
            ]
        );
        let payment = record(&fees(), "۱۲۳۴-۵۶۷۸")
            .expect("valid")
            .expect("charged");
        assert_eq!(payment.total_rials, 3_500_000);
        assert_eq!(payment.reference, "12345678");
        assert_eq!(record(&FeesConfig::default(), ""), Ok(None), "no schedule");
    }

    #[test]
    fn references_are_checked() {
        assert_eq!(
            check_reference(" "),
            Err(Text::new("err-payment-reference-required"))
        );
        assert_eq!(
            check_reference("12"),
            Err(Text::new("err-payment-reference-format"))
        );
        assert_eq!(
            check_reference("12#45"),
            Err(Text::new("err-payment-reference-format"))
        );
        assert_eq!(check_reference("AB12 34").as_deref(), Ok("AB1234"));
    }

    #[test]
    fn amounts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_250_000), "1,250,000");
    }
}
