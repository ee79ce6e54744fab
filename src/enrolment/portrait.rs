//! How the card portrait was taken: the live checks' verdicts at the moment
//! of capture, where the eyes are in the stored picture, and — when the
//! applicant could not comply — the operator's override with its reason and
//! the supervisor who approved it. All of it travels in the packet (the
//! manifest, and Type-10 SAP, SQS, FFP and DMM).

use serde::{Deserialize, Serialize};

/// How the shutter was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaptureMode {
    /// The station took it after every check passed on consecutive frames.
    Auto,
    /// The operator took it while every check passed.
    Manual,
    /// The operator took it although checks failed, with a supervisor's
    /// approval ([`PortraitOverride`]).
    Override,
}

/// Why a portrait that fails the checks was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverrideReason {
    /// Cannot stand or sit upright (wheelchair, bed, posture).
    Posture,
    /// Cannot hold the head still (tremor, involuntary movement).
    Movement,
    /// Cannot open the eyes or look into the camera (visual impairment).
    Eyes,
    /// A medical condition of the face (bandage, scar, swelling, prosthesis).
    FaceCondition,
    /// Anything else; the note says what.
    Other,
}

impl OverrideReason {
    pub const ALL: [OverrideReason; 5] = [
        OverrideReason::Posture,
        OverrideReason::Movement,
        OverrideReason::Eyes,
        OverrideReason::FaceCondition,
        OverrideReason::Other,
    ];

    /// The message id of its label.
    pub fn text_id(self) -> &'static str {
        match self {
            OverrideReason::Posture => "portrait-reason-posture",
            OverrideReason::Movement => "portrait-reason-movement",
            OverrideReason::Eyes => "portrait-reason-eyes",
            OverrideReason::FaceCondition => "portrait-reason-face-condition",
            OverrideReason::Other => "portrait-reason-other",
        }
    }
}

/// How the applicant was placed in front of the camera.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Posture {
    /// Standing or sitting upright on the office's chair.
    #[default]
    Upright,
    /// Seated in a wheelchair or an armchair, not before the backdrop.
    Seated,
    /// Lying down.
    Lying,
}

impl Posture {
    pub const ALL: [Posture; 3] = [Posture::Upright, Posture::Seated, Posture::Lying];

    pub fn text_id(self) -> &'static str {
        match self {
            Posture::Upright => "portrait-posture-upright",
            Posture::Seated => "portrait-posture-seated",
            Posture::Lying => "portrait-posture-lying",
        }
    }
}

/// A portrait accepted although checks failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortraitOverride {
    pub reason: OverrideReason,
    /// The operator's words; required for [`OverrideReason::Other`].
    pub note: String,
    pub posture: Posture,
    /// Someone (a carer, the operator) held or steadied the applicant.
    pub assisted: bool,
    /// The supervisor who approved it on the spot.
    pub approved_by: String,
}

/// What an override form needs before it can be approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideProblem {
    NoReason,
    NoteRequired,
}

impl OverrideProblem {
    pub fn text_id(self) -> &'static str {
        match self {
            OverrideProblem::NoReason => "portrait-err-no-reason",
            OverrideProblem::NoteRequired => "portrait-err-note-required",
        }
    }
}

/// Checks an override form: a reason, and words for "other".
pub fn check_override(
    reason: Option<OverrideReason>,
    note: &str,
) -> Result<OverrideReason, OverrideProblem> {
    let reason = reason.ok_or(OverrideProblem::NoReason)?;
    if reason == OverrideReason::Other && note.trim().is_empty() {
        return Err(OverrideProblem::NoteRequired);
    }
    Ok(reason)
}

/// One check's verdict at the moment of capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check's stable key (`one-face`, `eye-distance`, …).
    pub check: String,
    pub value: Option<f32>,
    pub passed: bool,
}

/// Everything the station knows about how the card portrait was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceCapture {
    pub mode: CaptureMode,
    /// Size of the camera frame the portrait was taken from.
    pub frame_width: u32,
    pub frame_height: u32,
    /// The stored picture is the ISO/IEC 19794-5 token crop (eyes at a
    /// fixed height and distance); false when no single face could be
    /// located and the whole frame was kept (overrides only).
    pub token: bool,
    /// Eye centres in the stored picture, subject's right then left, in
    /// pixels; none when no face was found.
    pub eyes: Option<[[u32; 2]; 2]>,
    /// Inter-eye distance in the camera frame, pixels.
    pub eye_distance: Option<f32>,
    pub checks: Vec<CheckResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#override: Option<PortraitOverride>,
}

impl FaceCapture {
    /// The portrait quality 0–100 written to Type-10 SQS: the share of
    /// checks passed (100 for a compliant portrait). Our own measure
    /// (`pishkhan-portrait/1`), recorded with its algorithm id so the
    /// receiver can re-gate.
    pub fn quality(&self) -> u8 {
        if self.checks.is_empty() {
            return 0;
        }
        let passed = self.checks.iter().filter(|c| c.passed).count();
        ((passed * 100 + self.checks.len() / 2) / self.checks.len()) as u8
    }

    /// The keys of the checks that failed.
    pub fn failed(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.check.as_str())
            .collect()
    }

    /// Every check passed and the picture is the token crop.
    pub fn compliant(&self) -> bool {
        self.token && self.checks.iter().all(|c| c.passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(passed: &[bool]) -> FaceCapture {
        FaceCapture {
            mode: CaptureMode::Manual,
            frame_width: 640,
            frame_height: 480,
            token: true,
            eyes: Some([[180, 384], [300, 384]]),
            eye_distance: Some(100.0),
            checks: passed
                .iter()
                .enumerate()
                .map(|(i, &passed)| CheckResult {
                    check: format!("check-{i}"),
                    value: Some(1.0),
                    passed,
                })
                .collect(),
            r#override: None,
        }
    }

    #[test]
    fn quality_is_the_share_of_checks_passed() {
        assert_eq!(capture(&[true; 4]).quality(), 100);
        assert_eq!(capture(&[true, true, false, true]).quality(), 75);
        assert_eq!(capture(&[false, false, true]).quality(), 33);
        assert_eq!(capture(&[]).quality(), 0);
        assert!(capture(&[true; 3]).compliant());
        let failing = capture(&[true, false, true]);
        assert!(!failing.compliant());
        assert_eq!(failing.failed(), vec!["check-1"]);
    }

    #[test]
    fn an_override_needs_a_reason_and_words_for_other() {
        assert_eq!(check_override(None, ""), Err(OverrideProblem::NoReason));
        assert_eq!(
            check_override(Some(OverrideReason::Other), "  "),
            Err(OverrideProblem::NoteRequired)
        );
        assert_eq!(
            check_override(Some(OverrideReason::Other), "bandaged after surgery"),
            Ok(OverrideReason::Other)
        );
        assert_eq!(
            check_override(Some(OverrideReason::Posture), ""),
            Ok(OverrideReason::Posture)
        );
    }

    #[test]
    fn the_record_round_trips_through_json() {
        let mut c = capture(&[true, false]);
        c.mode = CaptureMode::Override;
        c.r#override = Some(PortraitOverride {
            reason: OverrideReason::Posture,
            note: "در ویلچر".into(),
            posture: Posture::Seated,
            assisted: true,
            approved_by: "sup".into(),
        });
        let json = serde_json::to_string(&c).expect("serialises");
        assert!(json.contains("\"mode\":\"override\""), "{json}");
        assert!(json.contains("\"reason\":\"posture\""), "{json}");
        assert!(json.contains("\"posture\":\"seated\""), "{json}");
        let back: FaceCapture = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, c);
    }
}
