//! The greyscale image types shared by every module of the crate.

/// Why pixels do not make an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrayError {
    #[error("an image must be at least 1×1 pixels, not {width}×{height}")]
    Empty { width: usize, height: usize },
    #[error("a {width}×{height} image needs {expected} pixels, not {actual}")]
    Size {
        width: usize,
        height: usize,
        expected: usize,
        actual: usize,
    },
}

/// A borrowed 8-bit grey image (row-major, 255 = white background).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrayRef<'a> {
    width: usize,
    height: usize,
    pixels: &'a [u8],
}

impl<'a> GrayRef<'a> {
    /// Checks that `pixels` holds exactly `width × height` grey levels.
    pub fn new(width: usize, height: usize, pixels: &'a [u8]) -> Result<Self, GrayError> {
        if width == 0 || height == 0 {
            return Err(GrayError::Empty { width, height });
        }
        let expected = width.saturating_mul(height);
        if pixels.len() != expected {
            return Err(GrayError::Size {
                width,
                height,
                expected,
                actual: pixels.len(),
            });
        }
        Ok(Self {
            width,
            height,
            pixels,
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn pixels(&self) -> &'a [u8] {
        self.pixels
    }

    /// The grey level at column `x`, row `y` (both in range).
    pub fn at(&self, x: usize, y: usize) -> u8 {
        self.pixels[y * self.width + x]
    }

    /// One row of pixels.
    pub fn row(&self, y: usize) -> &'a [u8] {
        &self.pixels[y * self.width..(y + 1) * self.width]
    }

    /// A copy of the rectangle `x, y, w, h`, clipped to the image (at least
    /// 1×1 as long as `x, y` lie inside it).
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Gray {
        let x = x.min(self.width - 1);
        let y = y.min(self.height - 1);
        let w = w.clamp(1, self.width - x);
        let h = h.clamp(1, self.height - y);
        let mut pixels = Vec::with_capacity(w * h);
        for row in y..y + h {
            pixels.extend_from_slice(&self.row(row)[x..x + w]);
        }
        Gray {
            width: w,
            height: h,
            pixels,
        }
    }

    /// An owned copy.
    pub fn to_owned(&self) -> Gray {
        Gray {
            width: self.width,
            height: self.height,
            pixels: self.pixels.to_vec(),
        }
    }
}

/// An owned 8-bit grey image.
#[derive(Clone, PartialEq, Eq)]
pub struct Gray {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl std::fmt::Debug for Gray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gray({}x{})", self.width, self.height)
    }
}

impl Gray {
    /// Checks that `pixels` holds exactly `width × height` grey levels.
    pub fn new(width: usize, height: usize, pixels: Vec<u8>) -> Result<Self, GrayError> {
        GrayRef::new(width, height, &pixels)?;
        Ok(Self {
            width,
            height,
            pixels,
        })
    }

    /// A `width × height` image of one grey level.
    pub fn filled(width: usize, height: usize, level: u8) -> Result<Self, GrayError> {
        Self::new(width, height, vec![level; width.saturating_mul(height)])
    }

    pub fn view(&self) -> GrayRef<'_> {
        GrayRef {
            width: self.width,
            height: self.height,
            pixels: &self.pixels,
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    pub fn pixels_mut(&mut self) -> &mut [u8] {
        &mut self.pixels
    }

    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked() {
        assert!(matches!(
            GrayRef::new(2, 2, &[0; 3]),
            Err(GrayError::Size {
                expected: 4,
                actual: 3,
                ..
            })
        ));
        assert!(matches!(
            GrayRef::new(0, 2, &[]),
            Err(GrayError::Empty { .. })
        ));
    }

    #[test]
    fn crop_is_clipped_to_the_image() {
        let img = Gray::new(3, 2, vec![1, 2, 3, 4, 5, 6]).expect("6 pixels");
        let c = img.view().crop(1, 1, 10, 10);
        assert_eq!((c.width(), c.height(), c.pixels()), (2, 1, &[5u8, 6][..]));
    }
}
