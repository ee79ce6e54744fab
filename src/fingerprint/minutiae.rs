//! Minutiae extraction: ridge endings and bifurcations from a 500 ppi grey
//! image, for the station's own duplicate and sequence checks
//! ([`crate::matcher`]).
//!
//! The pipeline is the classic one of Hong, Wan & Jain ("Fingerprint image
//! enhancement: algorithm and performance evaluation", IEEE PAMI 1998) and
//! of the *Handbook of Fingerprint Recognition* (Maltoni et al., ch. 3):
//!
//! 1. **Segmentation and normalisation** (`enhance`): block statistics give
//!    the foreground (ridges have contrast, the glass has not) and a local
//!    zero-mean, unit-variance image with ridges positive.
//! 2. **Orientation field**: the averaged squared gradient (Kass & Witkin;
//!    Bazen & Gerez) per 8 × 8 block, smoothed as a doubled-angle vector
//!    field, with its coherence as a reliability measure.
//! 3. **Ridge frequency**: zero crossings of the grey-level profile across
//!    the ridges (Hong's "x-signature"), smoothed and filled in.
//! 4. **Contextual enhancement**: every foreground pixel is filtered with an
//!    even Gabor kernel tuned to its block's orientation and period, which
//!    joins broken ridges and separates touching ones; the sign of the
//!    response is the binary ridge map.
//! 5. **Thinning** (`thin`): Guo & Hall's parallel algorithm A1 (CACM 1989)
//!    reduces ridges to 8-connected one-pixel skeletons.
//! 6. **Detection and clean-up** (`detect`): the crossing number (Rutovitz)
//!    marks endings (1) and bifurcations (3); tracing the skeleton from
//!    each one removes the usual artefacts (short spurs, bridges, islands,
//!    broken ridges, clusters, anything near the foreground border) and
//!    gives each survivor its direction.
//!
//! Coordinates are pixels (x right, y down). Angles are radians,
//! counter-clockwise as seen on the image (the ISO/IEC 19794-2 sense), in
//! `[0, 2π)`: the direction in which the ridge runs away from the minutia —
//! along the ridge for an ending; between the two branches for a
//! bifurcation. With that convention a ridge ending that pressure turns into
//! a bifurcation (it touches its neighbour) keeps roughly its angle, which
//! the matcher relies on when it ignores the kind.

mod detect;
mod enhance;
mod thin;

use crate::gray::GrayRef;

/// The kind of a minutia.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A ridge that stops.
    Ending,
    /// A ridge that forks in two.
    Bifurcation,
}

/// One minutia.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Minutia {
    /// Column, pixels.
    pub x: f32,
    /// Row, pixels.
    pub y: f32,
    /// Direction of the ridge away from the point, radians in `[0, 2π)`,
    /// counter-clockwise as seen on the image (see the module docs).
    pub angle: f32,
    /// Ending or bifurcation.
    pub kind: Kind,
    /// Reliability, 0 (doubtful) … 1 (clear ridges, far from the border).
    pub quality: f32,
}

/// The minutiae of one image, with the image's size.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    /// Width of the source image, pixels.
    pub width: u32,
    /// Height of the source image, pixels.
    pub height: u32,
    /// The minutiae, in no particular order.
    pub minutiae: Vec<Minutia>,
}

/// Extracts the minutiae of a 500 ppi finger image.
///
/// Never panics: an image without a usable foreground (blank, too small,
/// flat) gives an empty template.
pub fn extract(image: GrayRef<'_>) -> Template {
    let (w, h) = (image.width(), image.height());
    let mut template = Template {
        width: u32::try_from(w).unwrap_or(u32::MAX),
        height: u32::try_from(h).unwrap_or(u32::MAX),
        minutiae: Vec::new(),
    };
    let Some(field) = enhance::Field::analyse(image) else {
        return template;
    };
    let mut ridges = enhance::binarise(&field);
    thin::guo_hall(&mut ridges);
    template.minutiae = detect::minutiae(&ridges, &field);
    template
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gray::Gray;

    #[test]
    fn blank_and_flat_images_have_no_minutiae() {
        for level in [0u8, 128, 255] {
            let img = Gray::filled(400, 500, level).expect("size");
            let t = extract(img.view());
            assert_eq!((t.width, t.height), (400, 500));
            assert!(
                t.minutiae.is_empty(),
                "level {level}: {:?}",
                t.minutiae.len()
            );
        }
    }

    #[test]
    fn tiny_and_extreme_images_do_not_panic() {
        for (w, h) in [
            (1, 1),
            (1, 50),
            (50, 1),
            (10, 10),
            (23, 24),
            (24, 24),
            (25, 33),
            (40, 40),
        ] {
            for pattern in 0..4u32 {
                let pixels: Vec<u8> = (0..w * h)
                    .map(|i| match pattern {
                        0 => 0,
                        1 => 255,
                        2 => {
                            if (i / w + i % w) % 2 == 0 {
                                0
                            } else {
                                255
                            }
                        }
                        _ => (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0],
                    })
                    .collect();
                let img = Gray::new(w, h, pixels).expect("size");
                let t = extract(img.view());
                assert_eq!((t.width as usize, t.height as usize), (w, h));
                for m in &t.minutiae {
                    assert!(m.x >= 0.0 && m.y >= 0.0 && (m.x as usize) < w && (m.y as usize) < h);
                }
            }
        }
    }

    #[test]
    fn noise_and_checkerboards_give_few_minutiae() {
        // Salt-and-pepper noise and a fine checkerboard are not ridges: the
        // frequency and coherence checks should leave (almost) nothing.
        let (w, h) = (200, 200);
        let noise: Vec<u8> = (0..w * h)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[1])
            .collect();
        let t = extract(Gray::new(w, h, noise).expect("size").view());
        assert!(
            t.minutiae.len() < 15,
            "{} minutiae on noise",
            t.minutiae.len()
        );
        let checker: Vec<u8> = (0..w * h)
            .map(|i| if (i / w + i % w) % 2 == 0 { 0 } else { 255 })
            .collect();
        let t = extract(Gray::new(w, h, checker).expect("size").view());
        assert!(
            t.minutiae.len() < 15,
            "{} minutiae on a checkerboard",
            t.minutiae.len()
        );
    }
}
