//! `pishkhan portrait check|crop`: the station's portrait judgement on
//! image files, with the same detector and checks as the live capture —
//! for quality officers looking at a disputed photo, and for tests.

pub mod live;

use std::path::{Path, PathBuf};

use pishkhan_face::geometry::crop_token;
use pishkhan_face::{Analysis, CheckId, Detector, Policy, analyse};
use serde::Serialize;

/// Width of the compliant crop, in pixels (height 4/3 of it).
pub const CROP_WIDTH: u32 = 480;

#[derive(Debug, thiserror::Error)]
pub enum PortraitError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error(transparent)]
    Detect(#[from] pishkhan_face::DetectError),
    #[error("{path}: no compliant crop — {check} failed ({value})")]
    NotCompliant {
        path: String,
        check: &'static str,
        value: String,
    },
}

/// One check in a report.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub check: &'static str,
    pub value: Option<f32>,
    pub passed: bool,
    /// `low` or `high` for a failed check that has a direction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub off: Option<&'static str>,
}

/// One face found.
#[derive(Debug, Clone, Serialize)]
pub struct FaceReport {
    /// x, y, width, height.
    pub bbox: [f32; 4],
    pub right_eye: [f32; 2],
    pub left_eye: [f32; 2],
    pub score: f32,
}

/// What `portrait check` says about one image.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub faces: Vec<FaceReport>,
    pub checks: Vec<CheckReport>,
    pub compliant: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Report {
    fn of(path: &Path, analysis: &Analysis) -> Self {
        Self {
            path: path.display().to_string(),
            width: analysis.width,
            height: analysis.height,
            faces: analysis
                .faces
                .iter()
                .map(|f| FaceReport {
                    bbox: [f.bbox.x, f.bbox.y, f.bbox.width, f.bbox.height],
                    right_eye: [f.right_eye.x, f.right_eye.y],
                    left_eye: [f.left_eye.x, f.left_eye.y],
                    score: f.score,
                })
                .collect(),
            checks: analysis
                .checks
                .iter()
                .map(|c| CheckReport {
                    check: c.id.key(),
                    value: c.value,
                    passed: c.passed,
                    off: c.off.map(|o| match o {
                        pishkhan_face::checks::Off::Low => "low",
                        pishkhan_face::checks::Off::High => "high",
                    }),
                })
                .collect(),
            compliant: analysis.passed(),
            error: None,
        }
    }

    /// A few lines for a terminal.
    pub fn text(&self) -> String {
        if let Some(error) = &self.error {
            return format!("{}: {error}", self.path);
        }
        let mut out = format!(
            "{}: {}×{}, {} face(s), {}\n",
            self.path,
            self.width,
            self.height,
            self.faces.len(),
            if self.compliant {
                "compliant"
            } else {
                "not compliant"
            }
        );
        for f in &self.faces {
            out.push_str(&format!(
                "  face at ({:.0}, {:.0}) {:.0}×{:.0}, score {:.2}; eyes ({:.1}, {:.1}) and ({:.1}, {:.1})\n",
                f.bbox[0], f.bbox[1], f.bbox[2], f.bbox[3], f.score,
                f.right_eye[0], f.right_eye[1], f.left_eye[0], f.left_eye[1]
            ));
        }
        for c in &self.checks {
            let value = c
                .value
                .map_or_else(|| "—".to_owned(), |v| format!("{v:.3}"));
            let verdict = match (c.passed, c.off) {
                (true, _) => "pass".to_owned(),
                (false, Some(off)) => format!("FAIL ({off})"),
                (false, None) => "FAIL".to_owned(),
            };
            out.push_str(&format!("  {:<14} {value:>10}  {verdict}\n", c.check));
        }
        out.trim_end().to_owned()
    }
}

fn read(path: &Path) -> Result<image::RgbImage, PortraitError> {
    image::open(path)
        .map(|i| i.to_rgb8())
        .map_err(|e| PortraitError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

/// `pishkhan portrait check`: a report per image (an unreadable image gets
/// a report with its error).
pub fn check(paths: &[PathBuf], policy: &Policy) -> Result<Vec<Report>, PortraitError> {
    let mut detector = Detector::new()?;
    paths
        .iter()
        .map(|path| {
            let image = match read(path) {
                Ok(image) => image,
                Err(e) => {
                    return Ok(Report {
                        path: path.display().to_string(),
                        width: 0,
                        height: 0,
                        faces: Vec::new(),
                        checks: Vec::new(),
                        compliant: false,
                        error: Some(e.to_string()),
                    });
                }
            };
            let faces = detector.detect(&image)?;
            Ok(Report::of(path, &analyse(&image, faces, policy)))
        })
        .collect()
}

/// `pishkhan portrait crop`: writes the ISO/IEC 19794-5 token crop of
/// `input` as JPEG (quality 92) to `output`, or says which check stops it.
/// The photometric checks are reported but only the geometry (one face,
/// resolution, framing, roll) stops a crop.
pub fn crop(input: &Path, output: &Path, policy: &Policy) -> Result<Report, PortraitError> {
    let image = read(input)?;
    let mut detector = Detector::new()?;
    let faces = detector.detect(&image)?;
    let analysis = analyse(&image, faces, policy);
    let report = Report::of(input, &analysis);
    let stops = [
        CheckId::OneFace,
        CheckId::EyeDistance,
        CheckId::Framing,
        CheckId::Roll,
    ];
    if let Some(failed) = analysis
        .checks
        .iter()
        .find(|c| stops.contains(&c.id) && !c.passed)
    {
        return Err(PortraitError::NotCompliant {
            path: input.display().to_string(),
            check: failed.id.key(),
            value: failed
                .value
                .map_or_else(|| "not measurable".to_owned(), |v| format!("{v:.3}")),
        });
    }
    let Some(face) = analysis.face() else {
        return Err(PortraitError::NotCompliant {
            path: input.display().to_string(),
            check: CheckId::OneFace.key(),
            value: analysis.faces.len().to_string(),
        });
    };
    let (cropped, _) = crop_token(&image, face, CROP_WIDTH);
    live::jpeg(&cropped)
        .and_then(|jpeg| std::fs::write(output, &jpeg).map_err(image::ImageError::IoError))
        .map_err(|e| PortraitError::Write {
            path: output.display().to_string(),
            reason: e.to_string(),
        })?;
    Ok(report)
}
