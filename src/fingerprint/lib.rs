//! Fingerprint processing for Pishkhan, independent of any device and of the
//! user interface: what the station itself judges and produces from the
//! images a scanner returns.
//!
//! - [`quality`]: a 0–100 score per finger from block-wise measures of the
//!   NFIQ 2 family, with the measures that failed;
//! - [`segment`]: slap segmentation into per-finger boxes, with the finger
//!   count and hand checks;
//! - [`minutiae`] and [`matcher`]: ridge endings and bifurcations, and a
//!   score for "same finger", for the duplicate and sequence checks;
//! - [`iso19794`]: ISO/IEC 19794-2:2005 finger minutiae records, to hand
//!   templates to other systems and read them back;
//! - [`wsq`]: the FBI Wavelet Scalar Quantization codec (encoder and
//!   decoder) in pure Rust.
//!
//! Images are 8-bit grey, row-major, 255 = white background, 500 ppi.

pub mod gray;
pub mod iso19794;
pub mod matcher;
pub mod minutiae;
pub mod quality;
pub mod segment;
pub mod wsq;

pub use gray::{Gray, GrayError, GrayRef};
