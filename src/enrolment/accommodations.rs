//! Accommodations for an applicant who cannot stand before the backdrop,
//! place fingers or sign: chosen with one click each at the start of the
//! capture steps, kept in the session and its draft, and recorded in the
//! packet's manifest. Each one prepares what the operator would otherwise
//! fill in by hand (the portrait override's reason, posture and
//! assistance; the finger exception's kind and reason); the supervisor's
//! approval is still asked for exactly as without them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::portrait::{OverrideReason, Posture};
use crate::field::Need;

/// One accommodation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Accommodation {
    /// Photographed seated (wheelchair, armchair, bed edge).
    SeatedPortrait,
    /// Photographed lying down.
    LyingPortrait,
    /// A carer is present and helps.
    Carer,
    /// Some fingers cannot be placed on the scanner.
    FingersCannotBePlaced,
    /// The applicant cannot sign.
    SignatureNotPossible,
}

impl Accommodation {
    pub const ALL: [Accommodation; 5] = [
        Accommodation::SeatedPortrait,
        Accommodation::LyingPortrait,
        Accommodation::Carer,
        Accommodation::FingersCannotBePlaced,
        Accommodation::SignatureNotPossible,
    ];

    /// The message id of its button's label.
    pub fn text_id(self) -> &'static str {
        match self {
            Accommodation::SeatedPortrait => "accommodation-seated",
            Accommodation::LyingPortrait => "accommodation-lying",
            Accommodation::Carer => "accommodation-carer",
            Accommodation::FingersCannotBePlaced => "accommodation-fingers",
            Accommodation::SignatureNotPossible => "accommodation-no-signature",
        }
    }
}

/// A need noted on a mobile team's visit list is the accommodation of
/// the same name, so a visit's needs can pre-select them.
impl From<Need> for Accommodation {
    fn from(need: Need) -> Self {
        match need {
            Need::Seated => Accommodation::SeatedPortrait,
            Need::LyingDown => Accommodation::LyingPortrait,
            Need::Carer => Accommodation::Carer,
            Need::FingersCannotBePlaced => Accommodation::FingersCannotBePlaced,
            Need::NoSignature => Accommodation::SignatureNotPossible,
        }
    }
}

/// The accommodations of one enrolment (a set; serialised as a sorted
/// list of kebab-case names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Accommodations(BTreeSet<Accommodation>);

/// The portrait override an accommodation prepares: everything but the
/// supervisor's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverridePrefill {
    pub reason: OverrideReason,
    pub posture: Posture,
    pub assisted: bool,
}

impl Accommodations {
    pub fn contains(&self, a: Accommodation) -> bool {
        self.0.contains(&a)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Accommodation> + '_ {
        self.0.iter().copied()
    }

    /// Turns `a` on or off. Seated and lying exclude each other: choosing
    /// one drops the other.
    pub fn toggle(&mut self, a: Accommodation) {
        if !self.0.remove(&a) {
            let other = match a {
                Accommodation::SeatedPortrait => Some(Accommodation::LyingPortrait),
                Accommodation::LyingPortrait => Some(Accommodation::SeatedPortrait),
                _ => None,
            };
            if let Some(other) = other {
                self.0.remove(&other);
            }
            self.0.insert(a);
        }
    }

    /// The posture the portrait is taken in, when one was chosen.
    pub fn posture(&self) -> Option<Posture> {
        if self.contains(Accommodation::LyingPortrait) {
            Some(Posture::Lying)
        } else if self.contains(Accommodation::SeatedPortrait) {
            Some(Posture::Seated)
        } else {
            None
        }
    }

    /// Whether a carer helps (the portrait is then taken assisted).
    pub fn assisted(&self) -> bool {
        self.contains(Accommodation::Carer)
    }

    /// What a portrait override starts from: reason posture with the
    /// chosen posture, assisted when a carer is present. `None` without a
    /// posture accommodation.
    pub fn override_prefill(&self) -> Option<OverridePrefill> {
        self.posture().map(|posture| OverridePrefill {
            reason: OverrideReason::Posture,
            posture,
            assisted: self.assisted(),
        })
    }
}

impl FromIterator<Accommodation> for Accommodations {
    fn from_iter<I: IntoIterator<Item = Accommodation>>(iter: I) -> Self {
        let mut out = Accommodations::default();
        for a in iter {
            if !out.contains(a) {
                out.toggle(a);
            }
        }
        out
    }
}

/// A visit's needs as accommodations.
impl FromIterator<Need> for Accommodations {
    fn from_iter<I: IntoIterator<Item = Need>>(iter: I) -> Self {
        iter.into_iter().map(Accommodation::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_need_maps_to_its_accommodation() {
        let mapped: Vec<Accommodation> = Need::ALL.into_iter().map(Accommodation::from).collect();
        assert_eq!(
            mapped,
            vec![
                Accommodation::SeatedPortrait,
                Accommodation::LyingPortrait,
                Accommodation::Carer,
                Accommodation::FingersCannotBePlaced,
                Accommodation::SignatureNotPossible,
            ]
        );
        let from_visit: Accommodations = [Need::Seated, Need::Carer].into_iter().collect();
        assert!(from_visit.contains(Accommodation::SeatedPortrait));
        assert!(from_visit.assisted());
        assert_eq!(from_visit.iter().count(), 2);
    }

    #[test]
    fn seated_and_lying_exclude_each_other() {
        let mut a = Accommodations::default();
        a.toggle(Accommodation::SeatedPortrait);
        a.toggle(Accommodation::Carer);
        assert_eq!(a.posture(), Some(Posture::Seated));
        a.toggle(Accommodation::LyingPortrait);
        assert!(!a.contains(Accommodation::SeatedPortrait));
        assert_eq!(a.posture(), Some(Posture::Lying));
        a.toggle(Accommodation::LyingPortrait);
        assert_eq!(a.posture(), None);
        assert!(a.contains(Accommodation::Carer), "the carer stays");
    }

    #[test]
    fn a_posture_prepares_the_portrait_override() {
        let mut a = Accommodations::default();
        assert_eq!(a.override_prefill(), None);
        a.toggle(Accommodation::Carer);
        assert_eq!(a.override_prefill(), None, "a carer alone is no posture");
        a.toggle(Accommodation::SeatedPortrait);
        assert_eq!(
            a.override_prefill(),
            Some(OverridePrefill {
                reason: OverrideReason::Posture,
                posture: Posture::Seated,
                assisted: true,
            })
        );
        a.toggle(Accommodation::Carer);
        assert_eq!(a.override_prefill().map(|p| p.assisted), Some(false));
    }

    #[test]
    fn serialised_as_a_sorted_list_of_names() {
        let a: Accommodations = [
            Accommodation::SignatureNotPossible,
            Accommodation::SeatedPortrait,
        ]
        .into_iter()
        .collect();
        let json = serde_json::to_string(&a).expect("serialises");
        assert_eq!(json, r#"["seated-portrait","signature-not-possible"]"#);
        let back: Accommodations = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, a);
        assert!(serde_json::from_str::<Accommodations>(r#"["flying"]"#).is_err());
    }
}
