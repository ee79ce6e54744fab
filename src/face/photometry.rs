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
