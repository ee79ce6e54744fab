//! Measures on the pixels: exposure, dynamic range, background,
//! sharpness, glare, illumination uniformity. Every function takes the
//! luminance image ([`luminance`]) and regions from [`crate::geometry`].

use image::{GrayImage, RgbImage};

use crate::geometry::{Face, Rect};

/// ITU-R BT.601 luma of an RGB image.
pub fn luminance(image: &RgbImage) -> GrayImage {
    GrayImage::from_fn(image.width(), image.height(), |x, y| {
        let p = image.get_pixel(x, y);
        let y =
            (299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]) + 500) / 1000;
        image::Luma([y as u8])
    })
}

/// The histogram of the pixels of `gray` inside `region`.
pub fn histogram(gray: &GrayImage, region: Rect) -> [u32; 256] {
    let mut h = [0u32; 256];
    if let Some((x0, y0, x1, y1)) = region.clip(gray.width(), gray.height()) {
        for y in y0..y1 {
            for x in x0..x1 {
                h[usize::from(gray.get_pixel(x, y)[0])] += 1;
            }
        }
    }
    h
}

fn count(h: &[u32; 256]) -> u32 {
    h.iter().sum()
}

/// Mean grey level (0–255) of a histogram; 0 for an empty one.
pub fn mean(h: &[u32; 256]) -> f32 {
    let n = count(h);
    if n == 0 {
        return 0.0;
    }
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(v, &c)| v as u64 * u64::from(c))
        .sum();
    sum as f32 / n as f32
}

/// Standard deviation of the grey levels of a histogram.
pub fn std_dev(h: &[u32; 256]) -> f32 {
    let n = count(h);
    if n == 0 {
        return 0.0;
    }
    let m = mean(h);
    let var: f32 = h
        .iter()
        .enumerate()
        .map(|(v, &c)| (v as f32 - m).powi(2) * c as f32)
        .sum::<f32>()
        / n as f32;
    var.sqrt()
}

/// The grey level below which `fraction` of the pixels lie.
pub fn percentile(h: &[u32; 256], fraction: f32) -> u8 {
    let target = (count(h) as f32 * fraction).ceil() as u32;
    let mut seen = 0;
    for (v, &c) in h.iter().enumerate() {
        seen += c;
        if seen >= target.max(1) {
            return v as u8;
        }
    }
    255
}

/// Grey dynamics in bits: log2 of the spread between the 0.5th and the
/// 99.5th percentile (ISO/IEC 19794-5 asks for at least 7 bits in the
/// face).
pub fn dynamic_range_bits(h: &[u32; 256]) -> f32 {
    let spread = f32::from(percentile(h, 0.995)) - f32::from(percentile(h, 0.005));
    (spread + 1.0).log2()
}

/// Share of pixels at the ends of the scale (≤ 5 or ≥ 250): clipped
/// shadows and highlights.
pub fn clipped_share(h: &[u32; 256]) -> f32 {
    let n = count(h);
    if n == 0 {
        return 0.0;
    }
    let clipped: u32 = h[..=5].iter().chain(&h[250..]).sum();
    clipped as f32 / n as f32
}

/// The face region the photometric measures use: the face box, trimmed
/// at the sides so that hair and background do not count.
pub fn face_region(face: &Face) -> Rect {
    let b = face.bbox;
    Rect {
        x: b.x + 0.15 * b.width,
        y: b.y,
        width: 0.7 * b.width,
        height: b.height,
    }
}

/// The background the applicant stands against: the strips beside the
/// head above shoulder height, and the band above the crown. Each is
/// kept only where it lies inside the image.
pub fn background_regions(face: &Face, width: u32, height: u32) -> Vec<Rect> {
    let b = face.bbox;
    let head_top = face.eye_midpoint().y - face.head_height() / 2.0;
    let margin = 0.25 * b.width;
    let side_bottom = b.y + 0.6 * b.height;
    let mut regions = vec![
        // Left of the head.
        Rect {
            x: 0.0,
            y: 0.0,
            width: (b.x - margin).max(0.0),
            height: side_bottom,
        },
        // Right of the head.
        Rect {
            x: b.right() + margin,
            y: 0.0,
            width: (width as f32 - b.right() - margin).max(0.0),
            height: side_bottom,
        },
        // Above the crown.
        Rect {
            x: b.x - margin,
            y: 0.0,
            width: b.width + 2.0 * margin,
            height: (head_top - 0.1 * b.height).max(0.0),
        },
    ];
    regions.retain(|r| r.width >= 4.0 && r.height >= 4.0 && r.clip(width, height).is_some());
    regions
}

/// Mean and spread of the background: light and plain is what ICAO asks.
/// `None` when no background is visible (the face fills the frame).
pub fn background(gray: &GrayImage, face: &Face) -> Option<(f32, f32)> {
    let mut h = [0u32; 256];
    for region in background_regions(face, gray.width(), gray.height()) {
        for (total, part) in h.iter_mut().zip(histogram(gray, region)) {
            *total += part;
        }
    }
    (count(&h) > 0).then(|| (mean(&h), std_dev(&h)))
}

/// Sharpness: the variance of the 4-neighbour Laplacian inside `region`,
/// divided by the region's mean grey level so that a darker photo is not
/// judged blurrier.
pub fn sharpness(gray: &GrayImage, region: Rect) -> f32 {
    let Some((x0, y0, x1, y1)) = region.clip(gray.width(), gray.height()) else {
        return 0.0;
    };
    let (x0, y0) = (x0.max(1), y0.max(1));
    let (x1, y1) = (x1.min(gray.width() - 1), y1.min(gray.height() - 1));
    let px = |x: u32, y: u32| f32::from(gray.get_pixel(x, y)[0]);
    let (mut n, mut sum, mut sum2, mut level) = (0f32, 0f32, 0f32, 0f32);
    for y in y0..y1 {
        for x in x0..x1 {
            let lap = px(x - 1, y) + px(x + 1, y) + px(x, y - 1) + px(x, y + 1) - 4.0 * px(x, y);
            n += 1.0;
            sum += lap;
            sum2 += lap * lap;
            level += px(x, y);
        }
    }
    if n == 0.0 {
        return 0.0;
    }
    let variance = sum2 / n - (sum / n).powi(2);
    variance / (level / n).max(1.0)
}

/// The square around an eye that glare is looked for in: side 0.4·IED.
pub fn eye_region(face: &Face, right: bool) -> Rect {
    let eye = if right { face.right_eye } else { face.left_eye };
    let side = 0.4 * face.inter_eye_distance();
    Rect {
        x: eye.x - side / 2.0,
        y: eye.y - side / 2.0,
        width: side,
        height: side,
    }
}

/// Glare on glasses (or a lamp's reflection): the share of near-white
/// pixels (≥ 245) in the eye regions, the worse eye counting. Eyes
/// themselves have a catch-light of a few pixels, well under the limit.
pub fn glare(gray: &GrayImage, face: &Face) -> f32 {
    [true, false]
        .into_iter()
        .map(|right| {
            let h = histogram(gray, eye_region(face, right));
            let n = count(&h);
            if n == 0 {
                0.0
            } else {
                h[245..].iter().sum::<u32>() as f32 / n as f32
            }
        })
        .fold(0.0, f32::max)
}

/// Half the width of the column band the eye profile averages, in
/// inter-eye distances (the iris is about 0.18 wide, so the band stays on
/// it when the eye centre is a pixel or two off).
const EYE_BAND: f32 = 0.04;
/// How far above and below the eye centre the profile reaches, in
/// inter-eye distances: past the lids, short of the brow.
const EYE_REACH: f32 = 0.32;
/// Where the skin reference is taken below the eye centre, in inter-eye
/// distances (the cheek under the lower lid).
const CHEEK: (f32, f32) = (0.22, 0.32);
/// How far from the eye centre the darkest point may be, in inter-eye
/// distances (the refined centre is 0.5–2 px off).
const EYE_SLACK: f32 = 0.06;
/// Least contrast (grey levels) between the darkest point and the cheek
/// for anything dark to count as an iris.
const MIN_EYE_CONTRAST: f32 = 12.0;

/// Grey level at (`x`, `y`), bilinear; beyond the image the edge repeats.
fn sample(gray: &GrayImage, x: f32, y: f32) -> f32 {
    let (w, h) = (gray.width() as f32, gray.height() as f32);
    let x = (x - 0.5).clamp(0.0, w - 1.0);
    let y = (y - 0.5).clamp(0.0, h - 1.0);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as u32, y0 as u32);
    let (x1, y1) = (
        (x0 + 1).min(gray.width() - 1),
        (y0 + 1).min(gray.height() - 1),
    );
    let px = |x: u32, y: u32| f32::from(gray.get_pixel(x, y)[0]);
    let top = px(x0, y0) + (px(x1, y0) - px(x0, y0)) * fx;
    let bottom = px(x0, y1) + (px(x1, y1) - px(x0, y1)) * fx;
    top + (bottom - top) * fy
}

/// The vertical luminance profile through an eye centre, perpendicular
/// to the eye line, one sample per pixel from `EYE_REACH` above to
/// `EYE_REACH` below; each sample the mean across a band `EYE_BAND`
/// either side. Returns the profile and its sample spacing in inter-eye
/// distances.
fn eye_profile(gray: &GrayImage, face: &Face, right: bool) -> Option<(Vec<f32>, f32)> {
    let ied = face.inter_eye_distance();
    if ied.is_nan() || ied < 4.0 || gray.width() == 0 || gray.height() == 0 {
        return None;
    }
    let eye = if right { face.right_eye } else { face.left_eye };
    // Along the eye line, and down the face.
    let (ax, ay) = (
        (face.left_eye.x - face.right_eye.x) / ied,
        (face.left_eye.y - face.right_eye.y) / ied,
    );
    let (dx, dy) = (-ay, ax);
    let reach = (EYE_REACH * ied).ceil() as i32;
    let band = (EYE_BAND * ied).round().max(1.0) as i32;
    let profile = (-reach..=reach)
        .map(|v| {
            let v = v as f32;
            let total: f32 = (-band..=band)
                .map(|u| {
                    let u = u as f32;
                    sample(gray, eye.x + u * ax + v * dx, eye.y + u * ay + v * dy)
                })
                .sum();
            total / (2 * band + 1) as f32
        })
        .collect();
    Some((profile, 1.0 / ied))
}

/// How open one eye is: the vertical extent, in inter-eye distances, of
/// the dark iris and pupil through the eye centre.
///
/// BlazeFace gives no eyelid points, so this is measured on the pixels:
/// along the eye's vertical profile ([`eye_profile`]) the darkest point
/// near the centre is the pupil; the run of samples around it darker
/// than half-way to the cheek's level is the visible iris. An open eye
/// shows most of the iris (about 0.18 inter-eye distances tall, less the
/// lids' cover); a closed one only the lash line, a few hundredths. 0
/// when nothing near the centre is darker than the cheek by
/// `MIN_EYE_CONTRAST`, and when the eye cannot be measured (eyes less
/// than 4 px apart).
///
/// Limits: a dark frame of glasses across the eye, or very dark skin
/// with little contrast to the iris, can mislead it.
pub fn eye_openness(gray: &GrayImage, face: &Face, right: bool) -> f32 {
    let Some((profile, step)) = eye_profile(gray, face, right) else {
        return 0.0;
    };
    let centre = profile.len() / 2;
    let index = |v: f32| {
        (centre as f32 + v / step)
            .round()
            .clamp(0.0, (profile.len() - 1) as f32) as usize
    };
    let slack = (index(-EYE_SLACK), index(EYE_SLACK));
    let Some((dark_at, dark)) = profile[slack.0..=slack.1]
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, &v)| (slack.0 + i, v))
    else {
        return 0.0;
    };
    let cheek = &profile[index(CHEEK.0)..=index(CHEEK.1)];
    let skin = cheek.iter().sum::<f32>() / cheek.len().max(1) as f32;
    if skin - dark < MIN_EYE_CONTRAST {
        return 0.0;
    }
    let threshold = dark + 0.5 * (skin - dark);
    let above = profile[..dark_at]
        .iter()
        .rev()
        .take_while(|&&v| v < threshold)
        .count();
    let below = profile[dark_at + 1..]
        .iter()
        .take_while(|&&v| v < threshold)
        .count();
    (above + below + 1) as f32 * step
}

/// The less open of the two eyes ([`eye_openness`]), in inter-eye
/// distances.
pub fn eyes_openness(gray: &GrayImage, face: &Face) -> f32 {
    eye_openness(gray, face, true).min(eye_openness(gray, face, false))
}

/// OFIQ's illumination uniformity: the intersection of the normalised
/// luminance histograms of the face's left and right halves (1 = the
/// same light on both sides; `IlluminationUniformity.cpp`).
pub fn illumination_uniformity(gray: &GrayImage, face: &Face) -> f32 {
    let region = face_region(face);
    let mid = face.eye_midpoint().x;
    let left = Rect {
        width: (mid - region.x).max(0.0),
        ..region
    };
    let right = Rect {
        x: mid,
        width: (region.right() - mid).max(0.0),
        ..region
    };
    let (hl, hr) = (histogram(gray, left), histogram(gray, right));
    let (nl, nr) = (count(&hl) as f32, count(&hr) as f32);
    if nl == 0.0 || nr == 0.0 {
        return 0.0;
    }
    hl.iter()
        .zip(&hr)
        .map(|(&a, &b)| (a as f32 / nl).min(b as f32 / nr))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Point;
    use image::Luma;

    fn face() -> Face {
        Face {
            bbox: Rect {
                x: 240.0,
                y: 160.0,
                width: 160.0,
                height: 200.0,
            },
            right_eye: Point { x: 280.0, y: 220.0 },
            left_eye: Point { x: 360.0, y: 220.0 },
            score: 1.0,
            landmarks: None,
        }
    }

    fn flat(v: u8) -> GrayImage {
        GrayImage::from_pixel(640, 480, Luma([v]))
    }

    #[test]
    fn statistics_of_a_histogram() {
        let mut h = [0u32; 256];
        h[10] = 50;
        h[200] = 50;
        assert_eq!(mean(&h), 105.0);
        assert_eq!(std_dev(&h), 95.0);
        assert_eq!(percentile(&h, 0.25), 10);
        assert_eq!(percentile(&h, 0.75), 200);
        assert!((dynamic_range_bits(&h) - 191f32.log2()).abs() < 1e-4);
        assert_eq!(clipped_share(&h), 0.0);
        h[0] = 100;
        assert_eq!(clipped_share(&h), 0.5);
    }

    #[test]
    fn luma_weights() {
        let rgb = RgbImage::from_pixel(2, 2, image::Rgb([255, 0, 0]));
        assert_eq!(luminance(&rgb).get_pixel(0, 0)[0], 76);
    }

    #[test]
    fn a_plain_light_background_and_a_busy_one() {
        let plain = flat(230);
        let (m, s) = background(&plain, &face()).expect("visible");
        assert_eq!((m, s), (230.0, 0.0));
        let busy = GrayImage::from_fn(640, 480, |x, y| {
            Luma([if (x / 8 + y / 8) % 2 == 0 { 40 } else { 220 }])
        });
        let (_, s) = background(&busy, &face()).expect("visible");
        assert!(s > 80.0, "{s}");
        // The regions stay clear of the head.
        for r in background_regions(&face(), 640, 480) {
            let overlaps = r.x < 400.0 && r.right() > 240.0 && r.y < 360.0 && r.bottom() > 160.0;
            assert!(!overlaps, "{r:?}");
        }
    }

    #[test]
    fn blur_lowers_sharpness() {
        let sharp = GrayImage::from_fn(640, 480, |x, y| {
            Luma([if (x / 3 + y / 5) % 2 == 0 { 60 } else { 200 }])
        });
        let blurred = image::imageops::blur(&sharp, 3.0);
        let region = face_region(&face());
        let (s, b) = (sharpness(&sharp, region), sharpness(&blurred, region));
        assert!(s > 10.0 * b, "sharp {s}, blurred {b}");
        assert_eq!(sharpness(&flat(128), region), 0.0);
    }

    #[test]
    fn glare_counts_white_pixels_around_the_worse_eye() {
        let mut g = flat(120);
        assert_eq!(glare(&g, &face()), 0.0);
        // A reflection on the left lens: 10×10 white pixels.
        for y in 215..225 {
            for x in 355..365 {
                g.put_pixel(x, y, Luma([255]));
            }
        }
        let side = 0.4 * 80.0;
        let expected = 100.0 / (side * side);
        assert!(
            (glare(&g, &face()) - expected).abs() < 0.02,
            "{}",
            glare(&g, &face())
        );
    }

    #[test]
    fn light_from_one_side_is_not_uniform() {
        assert!((illumination_uniformity(&flat(128), &face()) - 1.0).abs() < 1e-5);
        let side_lit = GrayImage::from_fn(640, 480, |x, _| Luma([if x < 320 { 200 } else { 60 }]));
        assert!(illumination_uniformity(&side_lit, &face()) < 0.05);
    }
}
