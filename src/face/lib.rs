//! Portrait analysis, pure: where a face and its eyes are (from a
//! detector, see [`Face`]), what ICAO 9303 / ISO/IEC 19794-5 ask of the
//! photo, and the compliant crop.
//!
//! - [`geometry`]: eye line, inter-eye distance, roll, yaw and pitch
//!   (estimated from the nose tip and mouth, [`geometry::pose`]), and the
//!   ISO/IEC 19794-5 token geometry the crop follows;
//! - [`photometry`]: exposure, dynamic range, background, sharpness,
//!   glare, illumination uniformity and eye openness, measured on pixels
//!   (OFIQ's formulas where OFIQ has one);
//! - [`checks`]: every check with its value, its limit, its verdict and
//!   the instruction to give the applicant.
//!
//! - [`detect`]: BlazeFace (tract, model embedded) and eye refinement;
//!   the nose, mouth and ear keypoints come along as [`Landmarks`].
//!
//! The checks take the faces as input, so they are tested on exact
//! geometry and the detector can change.

pub mod checks;
pub mod detect;
pub mod geometry;
pub mod photometry;

pub use checks::{Analysis, Check, CheckId, Policy, analyse};
pub use detect::{DetectError, Detector};
pub use geometry::{Face, Landmarks, Point, Rect};
