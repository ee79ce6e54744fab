//! Tools for technicians, behind `pishkhan wsq …` and `pishkhan finger …`:
//! WSQ compression of finger images and the station's quality verdict on
//! image files, with the same code the enrolment uses.

use std::path::{Path, PathBuf};

use pishkhan_fingerprint::quality::{self, Quality};
use pishkhan_fingerprint::{Gray, wsq};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("{path} is not an image this tool reads (PNG, JPEG or WSQ): {reason}")]
    NotAnImage { path: String, reason: String },
    #[error("{path}: {source}")]
    Wsq { path: String, source: wsq::WsqError },
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Reads a finger image as 8-bit grey: PNG or JPEG (colour is converted),
/// or WSQ (recognised by its start-of-image marker).
pub fn read_grey(path: &Path) -> Result<Gray, ToolError> {
    let bytes = std::fs::read(path).map_err(|e| ToolError::Read {
        path: shown(path),
        reason: e.to_string(),
    })?;
    if bytes.starts_with(&[0xFF, 0xA0]) {
        return wsq::decode(&bytes)
            .map(|d| d.image)
            .map_err(|source| ToolError::Wsq {
                path: shown(path),
                source,
            });
    }
    let decoded = image::load_from_memory(&bytes).map_err(|e| ToolError::NotAnImage {
        path: shown(path),
        reason: e.to_string(),
    })?;
    let luma = decoded.into_luma8();
    let (w, h) = luma.dimensions();
    Gray::new(w as usize, h as usize, luma.into_raw()).map_err(|e| ToolError::NotAnImage {
        path: shown(path),
        reason: e.to_string(),
    })
}

/// `pishkhan wsq encode`: compresses `input` into `output` at `bitrate`.
/// Returns a one-line summary.
pub fn wsq_encode(input: &Path, output: &Path, bitrate: f32) -> Result<String, ToolError> {
    let gray = read_grey(input)?;
    let options = wsq::EncodeOptions {
        bitrate,
        ..Default::default()
    };
    let bytes = wsq::encode(gray.view(), &options).map_err(|source| ToolError::Wsq {
        path: shown(input),
        source,
    })?;
    std::fs::write(output, &bytes).map_err(|e| ToolError::Write {
        path: shown(output),
        reason: e.to_string(),
    })?;
    let raw = gray.width() * gray.height();
    Ok(format!(
        "{} → {}: {}×{} px, {} bytes (ratio {:.1}:1 at {bitrate} bpp)",
        shown(input),
        shown(output),
        gray.width(),
        gray.height(),
        bytes.len(),
        raw as f64 / bytes.len().max(1) as f64,
    ))
}

/// `pishkhan wsq decode`: decompresses a WSQ file into a PNG.
pub fn wsq_decode(input: &Path, output: &Path) -> Result<String, ToolError> {
    let bytes = std::fs::read(input).map_err(|e| ToolError::Read {
        path: shown(input),
        reason: e.to_string(),
    })?;
    let decoded = wsq::decode(&bytes).map_err(|source| ToolError::Wsq {
        path: shown(input),
        source,
    })?;
    let (w, h) = (decoded.image.width(), decoded.image.height());
    let img = image::GrayImage::from_raw(w as u32, h as u32, decoded.image.into_pixels())
        .ok_or_else(|| ToolError::Write {
            path: shown(output),
            reason: "image size mismatch".into(),
        })?;
    img.save_with_format(output, image::ImageFormat::Png)
        .map_err(|e| ToolError::Write {
            path: shown(output),
            reason: e.to_string(),
        })?;
    let ppi = decoded
        .ppi
        .map_or_else(|| "unknown".to_owned(), |p| p.to_string());
    Ok(format!(
        "{} → {}: {w}×{h} px, {ppi} ppi",
        shown(input),
        shown(output)
    ))
}

/// One measure in a quality report.
#[derive(Debug, Clone, Serialize)]
pub struct MeasureReport {
    pub measure: &'static str,
    pub value: f32,
    pub threshold: f32,
    pub failing: bool,
}

/// The verdict on one file.
#[derive(Debug, Clone, Serialize)]
pub struct QualityReport {
    pub path: PathBuf,
    /// 0–100, `None` when the file could not be read.
    pub score: Option<u8>,
    pub passes: Option<bool>,
    pub measures: Vec<MeasureReport>,
    pub error: Option<String>,
}

impl QualityReport {
    fn of(path: &Path, quality: &Quality, threshold: u8) -> Self {
        Self {
            path: path.to_owned(),
            score: Some(quality.score),
            passes: Some(quality.score >= threshold),
            measures: quality
                .measures
                .iter()
                .map(|m| MeasureReport {
                    measure: m.measure.id(),
                    value: m.value,
                    threshold: m.threshold,
                    failing: m.failing,
                })
                .collect(),
            error: None,
        }
    }

    /// "path: 72 (passes 40)" and the failing measures, for the terminal.
    pub fn line(&self, threshold: u8) -> String {
        match (&self.error, self.score) {
            (Some(e), _) => format!("{}: error: {e}", self.path.display()),
            (None, Some(score)) => {
                let verdict = if score >= threshold {
                    "passes"
                } else {
                    "FAILS"
                };
                let failing: Vec<String> = self
                    .measures
                    .iter()
                    .filter(|m| m.failing)
                    .map(|m| format!("{} {:.2} (limit {:.2})", m.measure, m.value, m.threshold))
                    .collect();
                let failing = if failing.is_empty() {
                    String::new()
                } else {
                    format!("; failing: {}", failing.join(", "))
                };
                format!(
                    "{}: {score} ({verdict} {threshold}){failing}",
                    self.path.display()
                )
            }
            (None, None) => format!("{}: no score", self.path.display()),
        }
    }
}

/// `pishkhan finger quality`: the station's score for each image file.
pub fn finger_quality(paths: &[PathBuf], threshold: u8) -> Vec<QualityReport> {
    paths
        .iter()
        .map(|path| match read_grey(path) {
            Ok(gray) => QualityReport::of(path, &quality::assess(gray.view()), threshold),
            Err(e) => QualityReport {
                path: path.clone(),
                score: None,
                passes: None,
                measures: Vec::new(),
                error: Some(e.to_string()),
            },
        })
        .collect()
}
