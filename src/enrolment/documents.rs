//! The document check: the operator confirms each item against the
//! original documents in front of them.

use serde::{Deserialize, Serialize};

/// One thing the operator must check on the original documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentCheck {
    /// The original birth certificate, with photo, was presented.
    BirthCertificateOriginal,
    /// The photo on it is of the person present.
    PhotoMatchesPerson,
    /// Names and birth date on it match what was typed.
    NamesMatch,
    /// The national code on it matches what was typed.
    NationalCodeMatches,
    /// The postal code and address match the applicant's proof of address.
    AddressMatches,
    /// The mobile number was confirmed with the applicant.
    MobileConfirmed,
}

impl DocumentCheck {
    pub const ALL: [DocumentCheck; 6] = [
        DocumentCheck::BirthCertificateOriginal,
        DocumentCheck::PhotoMatchesPerson,
        DocumentCheck::NamesMatch,
        DocumentCheck::NationalCodeMatches,
        DocumentCheck::AddressMatches,
        DocumentCheck::MobileConfirmed,
    ];

    pub fn text_id(self) -> &'static str {
        match self {
            DocumentCheck::BirthCertificateOriginal => "doc-birth-certificate",
            DocumentCheck::PhotoMatchesPerson => "doc-photo-matches",
            DocumentCheck::NamesMatch => "doc-names-match",
            DocumentCheck::NationalCodeMatches => "doc-national-code",
            DocumentCheck::AddressMatches => "doc-address",
            DocumentCheck::MobileConfirmed => "doc-mobile",
        }
    }
}

/// Which checks were confirmed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentChecks {
    pub confirmed: std::collections::BTreeSet<DocumentCheck>,
}

impl DocumentChecks {
    pub fn set(&mut self, check: DocumentCheck, confirmed: bool) {
        if confirmed {
            self.confirmed.insert(check);
        } else {
            self.confirmed.remove(&check);
        }
    }

    pub fn is_confirmed(&self, check: DocumentCheck) -> bool {
        self.confirmed.contains(&check)
    }

    /// Every check confirmed.
    pub fn is_complete(&self) -> bool {
        DocumentCheck::ALL
            .iter()
            .all(|c| self.confirmed.contains(c))
    }
}
