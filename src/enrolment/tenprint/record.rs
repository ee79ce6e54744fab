//! What the ten-print step leaves in the session: per finger either an
//! accepted image (with the station's own quality score and how it was
//! obtained) or an approved exception; and the unsegmented slaps.

use std::sync::Arc;

use pishkhan_fingerprint::minutiae::Template;
use pishkhan_fingerprint::quality::{Measure, Quality};
use pishkhan_scanner::{Finger, FingerImage, Impression, SlapImage};

use crate::enrolment::Portrait;

/// Why a finger has no image (ANSI/NIST-ITL 1-2011 Table 8, AMP codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ExceptionKind {
    /// XX: amputated or missing.
    Missing,
    /// UP: unable to print (bandaged, injured, skin condition).
    Unprintable,
}

impl ExceptionKind {
    /// The ANSI/NIST AMP code.
    pub fn code(self) -> &'static str {
        match self {
            ExceptionKind::Missing => "XX",
            ExceptionKind::Unprintable => "UP",
        }
    }

    pub fn text_id(self) -> &'static str {
        match self {
            ExceptionKind::Missing => "exception-missing",
            ExceptionKind::Unprintable => "exception-unprintable",
        }
    }
}

/// A finger declared missing or unprintable, approved by a supervisor, with
/// the exception photo (waist-up, hands visible).
#[derive(Debug, Clone, PartialEq)]
pub struct FingerException {
    pub kind: ExceptionKind,
    /// In the operator's words.
    pub reason: String,
    /// Permanent (amputation, lifelong condition) or temporary (a bandage).
    pub permanent: bool,
    /// Username of the approving supervisor.
    pub approved_by: String,
    pub photo: Portrait,
    pub declared_at: chrono::DateTime<chrono::Utc>,
}

/// An accepted finger image with what the station judged of it.
#[derive(Debug, Clone)]
pub struct CapturedFinger {
    pub image: FingerImage,
    /// The station's own quality assessment.
    pub quality: Quality,
    /// How many attempts the impression took (the best image was kept).
    pub attempts: u8,
    /// Accepted below the quality threshold after the last attempt, with
    /// this supervisor's approval.
    pub forced_by: Option<String>,
    /// How it was captured: a flat finger or part of a slap.
    pub impression: Impression,
    /// Minutiae, for the duplicate check against later captures.
    pub template: Arc<Template>,
}

impl CapturedFinger {
    pub fn score(&self) -> u8 {
        self.quality.score
    }

    /// The measures that fell short, for the operator and the packet.
    pub fn failing(&self) -> Vec<Measure> {
        self.quality.failing().map(|m| m.measure).collect()
    }
}

/// The whole image of an accepted slap, with the station's segmentation.
#[derive(Debug, Clone)]
pub struct SlapRecord {
    pub impression: Impression,
    pub image: SlapImage,
    /// Per finger, the box the station found: `[x, y, width, height]`.
    pub boxes: Vec<(Finger, [u32; 4])>,
}

impl SlapRecord {
    /// ANSI/NIST finger position of the slap: 13 right four, 14 left four,
    /// 15 both thumbs.
    pub fn position(&self) -> u8 {
        slap_position(self.impression)
    }
}

/// ANSI/NIST-ITL finger position of an impression (FGP).
pub fn slap_position(impression: Impression) -> u8 {
    match impression {
        Impression::Finger(f) => f.position(),
        Impression::RightSlap => 13,
        Impression::LeftSlap => 14,
        Impression::Thumbs => 15,
    }
}
