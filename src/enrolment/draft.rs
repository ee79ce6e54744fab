//! An enrolment in progress, written down so that it survives a crash or a
//! flat battery: the session as a tar of `draft.json` and the raw images.
//! (Encryption is the station's job; this module only turns a session
//! into bytes and back.)
//!
//! Finger images are kept raw (lossless); on restore the station assesses
//! them again (quality, minutiae), which gives the same results as at
//! capture because the assessment is deterministic.

use pishkhan_scanner::{Finger, FingerImage, Impression, SlapImage};
use serde::{Deserialize, Serialize};

use super::portrait::FaceCapture;
use super::tenprint::{
    CapturedFinger, ExceptionKind, FingerException, SlapRecord, assess::assess_image, slap_position,
};
use super::{Applicant, DocumentChecks, Portrait, Session, Step};

pub const FORMAT: &str = "pishkhan-draft/1";

/// The document photo's name inside a draft.
const DOCUMENT_PHOTO: &str = "document.jpg";

#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    #[error("the draft archive is damaged: {0}")]
    Archive(#[from] std::io::Error),
    #[error("the draft's description is damaged: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the draft is of format {0}, which this version cannot read")]
    Format(String),
    #[error("the draft lacks {0}")]
    Missing(String),
    #[error("the draft's finger {0} cannot be assessed again")]
    Finger(u8),
}

#[derive(Serialize, Deserialize)]
struct ImageMeta {
    width: u32,
    height: u32,
    source: String,
    /// The card portrait's capture record (drafts written before it
    /// existed have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    face: Option<FaceCapture>,
}

impl ImageMeta {
    fn of(p: &Portrait) -> Self {
        Self {
            width: p.width,
            height: p.height,
            source: p.source.clone(),
            face: p.face.clone(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct FingerMeta {
    position: u8,
    width: u32,
    height: u32,
    resolution_ppi: u16,
    device_quality: Option<u8>,
    attempts: u8,
    forced_by: Option<String>,
    /// 13/14/15 from a slap, else the finger's own position.
    impression: u8,
}

#[derive(Serialize, Deserialize)]
struct ExceptionMeta {
    position: u8,
    kind: ExceptionKind,
    reason: String,
    permanent: bool,
    approved_by: String,
    declared_at: chrono::DateTime<chrono::Utc>,
    photo: ImageMeta,
}

#[derive(Serialize, Deserialize)]
struct SlapMeta {
    position: u8,
    width: u32,
    height: u32,
    resolution_ppi: u16,
    boxes: Vec<(u8, [u32; 4])>,
}

#[derive(Serialize, Deserialize)]
struct Doc {
    format: String,
    id: uuid::Uuid,
    operator: String,
    started_at: chrono::DateTime<chrono::Utc>,
    test: bool,
    step: String,
    applicant: Option<Applicant>,
    documents: DocumentChecks,
    /// The pre-registration checked in from, with the decisions taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    check_in: Option<crate::prereg::CheckIn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    document_photo: Option<ImageMeta>,
    portrait: Option<ImageMeta>,
    fingers: Vec<FingerMeta>,
    exceptions: Vec<ExceptionMeta>,
    slaps: Vec<SlapMeta>,
    scanner: Option<String>,
    /// The accommodations chosen (drafts written before they existed
    /// have none).
    #[serde(default, skip_serializing_if = "super::Accommodations::is_empty")]
    accommodations: super::Accommodations,
}

fn impression_of(position: u8) -> Option<Impression> {
    match position {
        13 => Some(Impression::RightSlap),
        14 => Some(Impression::LeftSlap),
        15 => Some(Impression::Thumbs),
        p => Finger::from_position(p).map(Impression::Finger),
    }
}

/// The step a draft resumes at after `completed`.
pub fn resume_step(completed: Step) -> Step {
    completed.next().unwrap_or(Step::Review).min(Step::Review)
}

/// Step names as stored (stable across versions).
pub fn step_key(step: Step) -> &'static str {
    match step {
        Step::Applicant => "applicant",
        Step::Documents => "documents",
        Step::Portrait => "portrait",
        Step::Fingerprints => "fingerprints",
        Step::Review => "review",
        Step::Done => "done",
    }
}

pub fn step_from_key(key: &str) -> Option<Step> {
    Step::ALL.into_iter().find(|s| step_key(*s) == key)
}

/// Writes `session` (whose last completed step is `step`) as a draft.
pub fn to_bytes(session: &Session, step: Step) -> Result<Vec<u8>, DraftError> {
    let mut files: Vec<(String, &[u8])> = Vec::new();
    let portrait = session.portrait.as_ref().map(|p| {
        files.push(("portrait.jpg".into(), &p.jpeg));
        ImageMeta::of(p)
    });
    let document_photo = session.document_photo.as_ref().map(|p| {
        files.push((DOCUMENT_PHOTO.into(), &p.jpeg));
        ImageMeta::of(p)
    });
    let fingers = session
        .fingers
        .iter()
        .map(|(finger, c)| {
            files.push((
                format!("fingers/{:02}.raw", finger.position()),
                &c.image.pixels,
            ));
            FingerMeta {
                position: finger.position(),
                width: c.image.width,
                height: c.image.height,
                resolution_ppi: c.image.resolution_ppi,
                device_quality: c.image.device_quality,
                attempts: c.attempts,
                forced_by: c.forced_by.clone(),
                impression: slap_position(c.impression),
            }
        })
        .collect();
    let exceptions = session
        .exceptions
        .iter()
        .map(|(finger, e)| {
            files.push((
                format!("exceptions/{:02}.jpg", finger.position()),
                &e.photo.jpeg,
            ));
            ExceptionMeta {
                position: finger.position(),
                kind: e.kind,
                reason: e.reason.clone(),
                permanent: e.permanent,
                approved_by: e.approved_by.clone(),
                declared_at: e.declared_at,
                photo: ImageMeta::of(&e.photo),
            }
        })
        .collect();
    let slaps = session
        .slaps
        .iter()
        .map(|s| {
            files.push((format!("slaps/{:02}.raw", s.position()), &s.image.pixels));
            SlapMeta {
                position: s.position(),
                width: s.image.width,
                height: s.image.height,
                resolution_ppi: s.image.resolution_ppi,
                boxes: s.boxes.iter().map(|(f, b)| (f.position(), *b)).collect(),
            }
        })
        .collect();
    let doc = Doc {
        format: FORMAT.into(),
        id: session.id,
        operator: session.operator.clone(),
        started_at: session.started_at,
        test: session.test,
        step: step_key(step).into(),
        applicant: session.applicant.clone(),
        documents: session.documents.clone(),
        check_in: session.check_in.clone(),
        document_photo,
        portrait,
        fingers,
        exceptions,
        slaps,
        scanner: session.scanner.clone(),
        accommodations: session.accommodations.clone(),
    };
    let json = serde_json::to_vec(&doc)?;
    let entries = std::iter::once(("draft.json", json.as_slice()))
        .chain(files.iter().map(|(p, b)| (p.as_str(), *b)));
    Ok(crate::archive::write(entries)?)
}

/// Who a draft is about, read without restoring it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// First and last name, when the applicant step was completed.
    pub name: Option<String>,
    pub national_code: Option<String>,
}

/// Reads only the description of a draft.
pub fn summary(bytes: &[u8]) -> Result<Summary, DraftError> {
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries()? {
        let entry = entry?;
        if entry.path()?.to_string_lossy() == "draft.json" {
            let doc: Doc = serde_json::from_reader(entry)?;
            return Ok(Summary {
                name: doc
                    .applicant
                    .as_ref()
                    .map(|a| format!("{} {}", a.first_name, a.last_name)),
                national_code: doc.applicant.map(|a| a.national_code.as_str().to_owned()),
            });
        }
    }
    Err(DraftError::Missing("draft.json".into()))
}

/// A restored draft: the session and its last completed step.
#[derive(Debug, Clone)]
pub struct Restored {
    pub session: Session,
    pub step: Step,
}

/// Reads a draft back into a session.
pub fn from_bytes(bytes: &[u8]) -> Result<Restored, DraftError> {
    let mut files = crate::archive::read(bytes)?;
    let mut take = |path: String| files.remove(&path).ok_or(DraftError::Missing(path));
    let doc: Doc = serde_json::from_slice(&take("draft.json".into())?)?;
    if doc.format != FORMAT {
        return Err(DraftError::Format(doc.format));
    }
    let step = step_from_key(&doc.step).ok_or_else(|| DraftError::Missing("its step".into()))?;
    let mut session = Session::new(doc.operator, doc.test);
    session.id = doc.id;
    session.started_at = doc.started_at;
    session.applicant = doc.applicant;
    session.documents = doc.documents;
    session.check_in = doc.check_in;
    session.scanner = doc.scanner;
    session.accommodations = doc.accommodations;
    if let Some(meta) = doc.portrait {
        session.portrait = Some(Portrait {
            jpeg: take("portrait.jpg".into())?,
            width: meta.width,
            height: meta.height,
            source: meta.source,
            face: meta.face,
        });
    }
    if let Some(meta) = doc.document_photo {
        session.document_photo = Some(Portrait {
            jpeg: take(DOCUMENT_PHOTO.into())?,
            width: meta.width,
            height: meta.height,
            source: meta.source,
            face: meta.face,
        });
    }
    for meta in doc.fingers {
        let finger =
            Finger::from_position(meta.position).ok_or(DraftError::Finger(meta.position))?;
        let pixels = take(format!("fingers/{:02}.raw", meta.position))?;
        let image = FingerImage {
            finger,
            width: meta.width,
            height: meta.height,
            resolution_ppi: meta.resolution_ppi,
            pixels,
            device_quality: meta.device_quality,
        };
        let assessed = assess_image(image).map_err(|_| DraftError::Finger(meta.position))?;
        session.fingers.insert(
            finger,
            CapturedFinger {
                image: assessed.image,
                quality: assessed.quality,
                attempts: meta.attempts,
                forced_by: meta.forced_by,
                impression: impression_of(meta.impression)
                    .ok_or(DraftError::Finger(meta.position))?,
                template: assessed.template,
            },
        );
    }
    for meta in doc.exceptions {
        let finger =
            Finger::from_position(meta.position).ok_or(DraftError::Finger(meta.position))?;
        let jpeg = take(format!("exceptions/{:02}.jpg", meta.position))?;
        session.exceptions.insert(
            finger,
            FingerException {
                kind: meta.kind,
                reason: meta.reason,
                permanent: meta.permanent,
                approved_by: meta.approved_by,
                photo: Portrait {
                    jpeg,
                    width: meta.photo.width,
                    height: meta.photo.height,
                    source: meta.photo.source,
                    face: None,
                },
                declared_at: meta.declared_at,
            },
        );
    }
    for meta in doc.slaps {
        let impression = impression_of(meta.position).ok_or(DraftError::Finger(meta.position))?;
        let pixels = take(format!("slaps/{:02}.raw", meta.position))?;
        session.slaps.push(SlapRecord {
            impression,
            image: SlapImage {
                width: meta.width,
                height: meta.height,
                resolution_ppi: meta.resolution_ppi,
                pixels,
            },
            boxes: meta
                .boxes
                .into_iter()
                .filter_map(|(p, b)| Finger::from_position(p).map(|f| (f, b)))
                .collect(),
        });
    }
    Ok(Restored { session, step })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrolment::{Accommodation, Accommodations};

    /// The description of a draft, as JSON.
    fn description(bytes: &[u8]) -> serde_json::Value {
        let files = crate::archive::read(bytes).expect("a tar");
        serde_json::from_slice(&files["draft.json"]).expect("json")
    }

    /// A draft with `doc` as its description and no images.
    fn draft_with(doc: &serde_json::Value) -> Vec<u8> {
        let json = serde_json::to_vec(doc).expect("json");
        crate::archive::write([("draft.json", json.as_slice())]).expect("tar")
    }

    #[test]
    fn accommodations_round_trip_through_a_draft() {
        let mut session = Session::new("op", false);
        session.accommodations = [Accommodation::SeatedPortrait, Accommodation::Carer]
            .into_iter()
            .collect();
        let bytes = to_bytes(&session, Step::Documents).expect("written");
        assert_eq!(
            description(&bytes)["accommodations"],
            serde_json::json!(["seated-portrait", "carer"])
        );
        let restored = from_bytes(&bytes).expect("read back");
        assert_eq!(restored.session.accommodations, session.accommodations);
        assert_eq!(restored.step, Step::Documents);
    }

    #[test]
    fn a_draft_without_accommodations_still_reads() {
        let session = Session::new("op", false);
        let bytes = to_bytes(&session, Step::Applicant).expect("written");
        let mut doc = description(&bytes);
        assert!(
            doc.get("accommodations").is_none(),
            "none chosen: the key is left out, as older versions wrote it"
        );
        // A draft of an older version: exactly the keys it wrote.
        doc.as_object_mut()
            .expect("object")
            .remove("accommodations");
        let restored = from_bytes(&draft_with(&doc)).expect("an old draft reads");
        assert_eq!(restored.session.accommodations, Accommodations::default());
        assert_eq!(restored.session.id, session.id);
    }
}
