//! The intake's answer to a packet: a receipt, signed with the intake's
//! Ed25519 key, that the station keeps as proof (an acknowledged packet is
//! deleted after the retention period only on the strength of it).
//!
//! On the wire and on disk: `{"receipt": <the JSON>, "signature": <hex>}`,
//! the signature over `RECEIPT_DOMAIN ‖ the receipt JSON bytes` exactly as
//! sent (the receipt travels as a string so its bytes survive re-encoding).

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "pishkhan-receipt/1";
const RECEIPT_DOMAIN: &[u8] = b"pishkhan-receipt/1\n";

/// Why the intake refused a packet. The station shows each in the
/// operator's language (`reason-<code>` in the translations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Not a sealed packet at all (layout, header).
    Malformed,
    /// The header signature or the ciphertext hash does not verify.
    Tampered,
    /// The station is not in the intake's register.
    UnregisteredStation,
    /// The station is registered with another key than the one that signed.
    WrongKey,
    /// The authority's identity cannot decrypt it.
    Undecryptable,
    /// The manifest's signature or a part's hash does not verify.
    BadManifest,
    /// The ANSI/NIST transaction breaks a rule.
    InvalidTransaction,
    /// Another packet with the same id was already received.
    Conflict,
    /// A request's `Pishkhan-Date` is too far from the intake's clock: not
    /// a verdict on the packet, the station retries once its clock is set
    /// ([`crate::intake::auth`]).
    ClockSkew,
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Reason::Malformed,
        Reason::Tampered,
        Reason::UnregisteredStation,
        Reason::WrongKey,
        Reason::Undecryptable,
        Reason::BadManifest,
        Reason::InvalidTransaction,
        Reason::Conflict,
        Reason::ClockSkew,
    ];

    /// The stable code, as in the receipt.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::Tampered => "tampered",
            Reason::UnregisteredStation => "unregistered-station",
            Reason::WrongKey => "wrong-key",
            Reason::Undecryptable => "undecryptable",
            Reason::BadManifest => "bad-manifest",
            Reason::InvalidTransaction => "invalid-transaction",
            Reason::Conflict => "conflict",
            Reason::ClockSkew => "clock-skew",
        }
    }

    /// A refusal of this station or of this packet, which sending again
    /// cannot change (unlike a clock to set or a request to repeat): the
    /// row is kept `rejected` until a supervisor resolves it.
    pub fn is_final(self) -> bool {
        !matches!(self, Reason::ClockSkew)
    }

    /// Translation id of the operator's message.
    pub fn text_id(self) -> &'static str {
        match self {
            Reason::Malformed => "reason-malformed",
            Reason::Tampered => "reason-tampered",
            Reason::UnregisteredStation => "reason-unregistered-station",
            Reason::WrongKey => "reason-wrong-key",
            Reason::Undecryptable => "reason-undecryptable",
            Reason::BadManifest => "reason-bad-manifest",
            Reason::InvalidTransaction => "reason-invalid-transaction",
            Reason::Conflict => "reason-conflict",
            Reason::ClockSkew => "reason-clock-skew",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Accepted,
    Rejected,
}

/// What the intake decided about one packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub format: String,
    pub packet_id: String,
    /// SHA-256 of the ciphertext received (hex).
    pub sha256: String,
    pub status: Status,
    pub reason: Option<Reason>,
    /// For engineers: what exactly failed (English).
    pub detail: Option<String>,
    pub received_at: String,
    /// The intake's Ed25519 public key (hex) that signed it.
    pub intake_key: String,
}

/// A receipt with its signature, as sent and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReceipt {
    /// The receipt's JSON, exactly as signed.
    pub receipt: String,
    /// Ed25519 over `RECEIPT_DOMAIN ‖ receipt`, hex.
    pub signature: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    #[error("the receipt is not valid JSON: {0}")]
    Json(String),
    #[error("the receipt is of format {0:?}, not {FORMAT}")]
    Format(String),
    #[error("the receipt's signature does not verify with the intake's key")]
    Signature,
    #[error("the receipt was signed by another key than the configured intake key")]
    WrongKey,
    #[error("the receipt is for packet {got}, not {expected}")]
    OtherPacket { expected: String, got: String },
    #[error("the receipt is for other bytes than the packet sent")]
    OtherBytes,
}

impl SignedReceipt {
    pub fn sign(receipt: &Receipt, key: &SigningKey) -> Self {
        let mut receipt = receipt.clone();
        receipt.intake_key = hex::encode(key.verifying_key().as_bytes());
        // Serialising our own struct cannot fail.
        let json = serde_json::to_string(&receipt).unwrap_or_default();
        let signature = key.sign(&[RECEIPT_DOMAIN, json.as_bytes()].concat());
        Self {
            receipt: json,
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Checks the signature with the configured intake key and that the
    /// receipt is about this packet and these bytes.
    pub fn verify(
        &self,
        intake: &VerifyingKey,
        packet_id: &str,
        sha256: &str,
    ) -> Result<Receipt, ReceiptError> {
        let receipt: Receipt =
            serde_json::from_str(&self.receipt).map_err(|e| ReceiptError::Json(e.to_string()))?;
        if receipt.format != FORMAT {
            return Err(ReceiptError::Format(receipt.format));
        }
        if receipt.intake_key != hex::encode(intake.as_bytes()) {
            return Err(ReceiptError::WrongKey);
        }
        let signature = hex::decode(&self.signature)
            .ok()
            .and_then(|b| Signature::from_slice(&b).ok())
            .ok_or(ReceiptError::Signature)?;
        intake
            .verify(
                &[RECEIPT_DOMAIN, self.receipt.as_bytes()].concat(),
                &signature,
            )
            .map_err(|_| ReceiptError::Signature)?;
        if receipt.packet_id != packet_id {
            return Err(ReceiptError::OtherPacket {
                expected: packet_id.to_owned(),
                got: receipt.packet_id,
            });
        }
        // A rejection of malformed bytes may not know their hash.
        if receipt.status == Status::Accepted && receipt.sha256 != sha256 {
            return Err(ReceiptError::OtherBytes);
        }
        Ok(receipt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            format: FORMAT.into(),
            packet_id: "p1".into(),
            sha256: "ab".repeat(32),
            status: Status::Accepted,
            reason: None,
            detail: None,
            received_at: "2026-11-22T09:00:00+00:00".into(),
            intake_key: String::new(),
        }
    }

    #[test]
    fn a_signed_receipt_verifies_only_for_its_packet_bytes_and_key() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let signed = SignedReceipt::sign(&receipt(), &key);
        let vk = key.verifying_key();
        let back = signed
            .verify(&vk, "p1", &"ab".repeat(32))
            .expect("verifies");
        assert_eq!(back.status, Status::Accepted);
        assert!(matches!(
            signed.verify(&vk, "p2", &"ab".repeat(32)),
            Err(ReceiptError::OtherPacket { .. })
        ));
        assert_eq!(
            signed.verify(&vk, "p1", &"cd".repeat(32)),
            Err(ReceiptError::OtherBytes)
        );
        let other = SigningKey::from_bytes(&[4; 32]).verifying_key();
        assert_eq!(
            signed.verify(&other, "p1", &"ab".repeat(32)),
            Err(ReceiptError::WrongKey)
        );
        let mut forged = signed.clone();
        forged.receipt = forged.receipt.replace("accepted", "rejected");
        assert_eq!(
            forged.verify(&vk, "p1", &"ab".repeat(32)),
            Err(ReceiptError::Signature)
        );
    }

    #[test]
    fn reason_codes_are_stable_and_distinct() {
        let codes: std::collections::BTreeSet<&str> =
            Reason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Reason::ALL.len());
        for reason in Reason::ALL {
            let json = serde_json::to_string(&reason).expect("json");
            assert_eq!(json, format!("\"{}\"", reason.code()));
        }
    }
}
