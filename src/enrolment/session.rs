//! One applicant's enrolment, from the first field typed to sealing.

use std::collections::BTreeMap;

use pishkhan_scanner::{Finger, Impression};
use uuid::Uuid;

use super::portrait::FaceCapture;
use super::tenprint::{CapturedFinger, FingerException, SlapRecord};
use super::{Applicant, DocumentChecks};
use crate::prereg::CheckIn;

/// The steps of the enrolment wizard, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Applicant,
    Documents,
    Portrait,
    Fingerprints,
    Review,
    Done,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Applicant,
        Step::Documents,
        Step::Portrait,
        Step::Fingerprints,
        Step::Review,
        Step::Done,
    ];

    pub fn index(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn next(self) -> Option<Step> {
        Step::ALL.get(self.index() + 1).copied()
    }

    pub fn previous(self) -> Option<Step> {
        self.index().checked_sub(1).map(|i| Step::ALL[i])
    }

    pub fn text_id(self) -> &'static str {
        match self {
            Step::Applicant => "step-applicant",
            Step::Documents => "step-documents",
            Step::Portrait => "step-portrait",
            Step::Fingerprints => "step-fingerprints",
            Step::Review => "step-review",
            Step::Done => "step-done",
        }
    }
}

/// The captured portrait, JPEG-encoded, held only in memory until sealing.
#[derive(Clone, PartialEq)]
pub struct Portrait {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Which camera took it.
    pub source: String,
    /// For the card portrait: how it was taken, its checks and eye
    /// positions (none for evidence photos).
    pub face: Option<FaceCapture>,
}

impl std::fmt::Debug for Portrait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portrait")
            .field("bytes", &self.jpeg.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .field("source", &self.source)
            .field("face", &self.face)
            .finish()
    }
}

impl Portrait {
    /// Encodes a camera frame as a JPEG (quality 92).
    pub fn from_frame(frame: &image::RgbImage, source: String) -> Result<Self, image::ImageError> {
        let mut jpeg = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92);
        frame.write_with_encoder(encoder)?;
        Ok(Self {
            jpeg,
            width: frame.width(),
            height: frame.height(),
            source,
            face: None,
        })
    }
}

/// Everything gathered for one applicant. Lives in memory only: nothing
/// personal touches the disk until it is sealed and encrypted.
#[derive(Debug, Clone)]
pub struct Session {
    /// Becomes the packet id (UUIDv7: sortable by creation time).
    pub id: Uuid,
    /// Username of the operator who runs this enrolment.
    pub operator: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// A technician's self-test, not a real applicant.
    pub test: bool,
    pub applicant: Option<Applicant>,
    pub documents: DocumentChecks,
    /// The online pre-registration this applicant was checked in from
    /// (none for a walk-in), with every difference and its resolution.
    pub check_in: Option<CheckIn>,
    /// An optional photo of the identity document, taken on the documents
    /// step as evidence (never a substitute for checking the original).
    pub document_photo: Option<Portrait>,
    pub portrait: Option<Portrait>,
    /// Accepted finger images, with the station's assessment.
    pub fingers: BTreeMap<Finger, CapturedFinger>,
    /// Fingers declared missing or unprintable, approved by a supervisor.
    pub exceptions: BTreeMap<Finger, FingerException>,
    /// The unsegmented slaps, when the scanner sends them.
    pub slaps: Vec<SlapRecord>,
    /// Scanner used for the fingers.
    pub scanner: Option<String>,
    /// The fees charged and the payment's reference, recorded at review
    /// (none when the station has no fee schedule).
    pub payment: Option<super::fees::Payment>,
    /// Seated or lying portrait, a carer, fingers that cannot be placed,
    /// no signature: chosen by the operator, recorded in the manifest.
    pub accommodations: super::Accommodations,
}

impl Session {
    pub fn new(operator: impl Into<String>, test: bool) -> Self {
        Self {
            id: Uuid::now_v7(),
            operator: operator.into(),
            started_at: chrono::Utc::now(),
            test,
            applicant: None,
            documents: DocumentChecks::default(),
            check_in: None,
            document_photo: None,
            portrait: None,
            fingers: BTreeMap::new(),
            exceptions: BTreeMap::new(),
            slaps: Vec::new(),
            scanner: None,
            payment: None,
            accommodations: super::Accommodations::default(),
        }
    }

    /// Whether everything `step` needs from the steps before it is there.
    pub fn can_enter(&self, step: Step) -> bool {
        match step {
            Step::Applicant => true,
            Step::Documents => self.applicant.is_some(),
            Step::Portrait => {
                self.can_enter(Step::Documents)
                    && self.documents.is_complete()
                    && self.unresolved_differences() == 0
            }
            Step::Fingerprints => self.can_enter(Step::Portrait) && self.portrait.is_some(),
            Step::Review | Step::Done => {
                self.can_enter(Step::Fingerprints) && self.missing_fingers().is_empty()
            }
        }
    }

    /// Differences from the pre-registration still to be decided.
    pub fn unresolved_differences(&self) -> usize {
        self.check_in.as_ref().map_or(0, |c| c.unresolved().count())
    }

    /// Sets the checked applicant, comparing it with the pre-registration
    /// when there is one.
    pub fn set_applicant(&mut self, applicant: Applicant) {
        if let Some(check_in) = &mut self.check_in {
            check_in.compare(&applicant);
        }
        self.applicant = Some(applicant);
    }

    /// Fingers with neither an image nor an exception, in capture order.
    pub fn missing_fingers(&self) -> Vec<Finger> {
        Finger::ALL
            .into_iter()
            .filter(|f| !self.fingers.contains_key(f) && !self.exceptions.contains_key(f))
            .collect()
    }

    /// The fingers of `impression` declared missing or unprintable.
    pub fn exceptions_in(&self, impression: Impression) -> Vec<Finger> {
        impression
            .fingers()
            .into_iter()
            .filter(|f| self.exceptions.contains_key(f))
            .collect()
    }

    /// Fingers accepted below the quality threshold, with the approving
    /// supervisor.
    pub fn forced_fingers(&self) -> Vec<(Finger, &str)> {
        self.fingers
            .iter()
            .filter_map(|(f, c)| c.forced_by.as_deref().map(|s| (*f, s)))
            .collect()
    }

    /// Everything a supervisor approved in this enrolment, as (what, who):
    /// `finger-exception <finger> <XX|UP>`, `forced-capture <finger>`,
    /// `national-code`, `portrait-override <reason>`.
    pub fn approvals(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .exceptions
            .iter()
            .map(|(f, e)| {
                (
                    format!("finger-exception {} {}", f.key(), e.kind.code()),
                    e.approved_by.clone(),
                )
            })
            .collect();
        out.extend(
            self.forced_fingers()
                .into_iter()
                .map(|(f, s)| (format!("forced-capture {}", f.key()), s.to_owned())),
        );
        if let Some(s) = self
            .applicant
            .as_ref()
            .and_then(|a| a.national_code_approved_by.clone())
        {
            out.push(("national-code".into(), s));
        }
        if let Some(check_in) = &self.check_in {
            out.extend(
                check_in
                    .differences
                    .iter()
                    .filter_map(|d| match &d.resolution {
                        Some(crate::prereg::Resolution::Kept {
                            approved_by: Some(s),
                            ..
                        }) => Some((format!("prereg-difference-kept {}", d.field), s.clone())),
                        _ => None,
                    }),
            );
        }
        if let Some(o) = self
            .portrait
            .as_ref()
            .and_then(|p| p.face.as_ref())
            .and_then(|f| f.r#override.as_ref())
        {
            let reason = serde_json::to_value(o.reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            out.push((format!("portrait-override {reason}"), o.approved_by.clone()));
        }
        out
    }

    /// Every supervisor who approved something in this enrolment, sorted.
    pub fn supervisors(&self) -> Vec<String> {
        let mut supervisors: Vec<String> = self.approvals().into_iter().map(|(_, s)| s).collect();
        supervisors.sort();
        supervisors.dedup();
        supervisors
    }

    /// Whether the session holds all that a packet needs.
    pub fn is_complete(&self) -> bool {
        self.can_enter(Step::Review)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_walk_in_order() {
        assert_eq!(Step::Applicant.next(), Some(Step::Documents));
        assert_eq!(Step::Done.next(), None);
        assert_eq!(Step::Applicant.previous(), None);
        assert_eq!(Step::Review.previous(), Some(Step::Fingerprints));
    }

    #[test]
    fn later_steps_need_earlier_data() {
        let s = Session::new("op", false);
        assert!(s.can_enter(Step::Applicant));
        assert!(!s.can_enter(Step::Documents));
        assert!(!s.can_enter(Step::Review));
        assert_eq!(s.missing_fingers().len(), 10);
    }

    #[test]
    fn portrait_encodes_as_jpeg() {
        let frame = image::RgbImage::from_pixel(32, 24, image::Rgb([200, 150, 120]));
        let p = Portrait::from_frame(&frame, "test".into()).expect("encode");
        assert_eq!(&p.jpeg[..3], &[0xFF, 0xD8, 0xFF]);
        assert_eq!((p.width, p.height), (32, 24));
    }
}
