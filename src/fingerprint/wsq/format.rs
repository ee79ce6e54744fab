//! The WSQ byte stream (spec §B, "Syntax"): markers, the table and header
//! segments, the NISTCOM comment, and the decimal "scaled integer" numbers
//! the tables use.
//!
//! Every segment after a marker starts with its own length (two bytes,
//! counting themselves). Numbers are big-endian. A real value `v` is sent as
//! a scale byte `s` and an integer `n` with `v = n / 10^s`; writers use the
//! largest `s` that keeps `n` in range, i.e. about five (u16) or nine (u32)
//! significant digits.

use super::WsqError;
use super::huffman::Spec;
use super::quant::QuantTable;
use super::transform::FilterBank;
use super::tree::NUM_SUBBANDS;

pub(crate) const SOI: u16 = 0xFFA0;
pub(crate) const EOI: u16 = 0xFFA1;
pub(crate) const SOF: u16 = 0xFFA2;
pub(crate) const SOB: u16 = 0xFFA3;
pub(crate) const DTT: u16 = 0xFFA4;
pub(crate) const DQT: u16 = 0xFFA5;
pub(crate) const DHT: u16 = 0xFFA6;
pub(crate) const DRT: u16 = 0xFFA7;
pub(crate) const COM: u16 = 0xFFA8;

/// Number of Huffman tables a stream may define.
pub(crate) const MAX_TABLES: usize = 8;
/// Longest comment text a COM segment holds.
pub(crate) const MAX_COMMENT: usize = u16::MAX as usize - 2;
/// The bin centre every WSQ encoder writes: 0.44 (spec §A.2).
pub(crate) const BIN_CENTER: (u8, u16) = (2, 44);

/// `(scale, n)` with `n / 10^scale ≈ v`, `n ≤ limit` and the largest such
/// scale (0 for 0 and for values too large to scale at all).
fn to_scaled(v: f64, limit: f64) -> (u8, f64) {
    if v.is_nan() || v <= 0.0 || v.is_infinite() {
        return (0, 0.0);
    }
    let mut scale = 0u8;
    while scale < 30 && (v * 10f64.powi(i32::from(scale) + 1)).round() <= limit {
        scale += 1;
    }
    (scale, (v * 10f64.powi(i32::from(scale))).round().min(limit))
}

/// `v` as a u16 scaled number.
pub(crate) fn scaled_u16(v: f64) -> (u8, u16) {
    let (s, n) = to_scaled(v, f64::from(u16::MAX));
    (s, n as u16)
}

/// `v` as a u32 scaled number.
fn scaled_u32(v: f64) -> (u8, u32) {
    let (s, n) = to_scaled(v, f64::from(u32::MAX));
    (s, n as u32)
}

/// The value of a scaled number.
pub(crate) fn unscale(scale: u8, n: u32) -> f64 {
    f64::from(n) / 10f64.powi(i32::from(scale))
}

/// The value a u16 scaled number written for `v` reads back as.
pub(crate) fn transmitted(v: f64) -> f32 {
    let (s, n) = scaled_u16(v);
    unscale(s, u32::from(n)) as f32
}

/// Builds the byte stream.
pub(crate) struct Writer {
    pub out: Vec<u8>,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    pub fn marker(&mut self, m: u16) {
        self.u16(m);
    }

    /// A marker and a segment whose body `body` writes (length filled in).
    fn segment(&mut self, marker: u16, body: impl FnOnce(&mut Self)) {
        self.u16(marker);
        let at = self.out.len();
        self.u16(0);
        body(self);
        let len = (self.out.len() - at) as u16;
        self.out[at..at + 2].copy_from_slice(&len.to_be_bytes());
    }

    pub fn comment(&mut self, text: &[u8]) {
        self.segment(COM, |w| w.out.extend_from_slice(text));
    }

    /// The filter taps, each half from the centre out (spec Table B.3).
    pub fn transform_table(&mut self, bank: &FilterBank) {
        self.segment(DTT, |w| {
            w.u8(9);
            w.u8(7);
            for v in bank.lo.iter().chain(&bank.hi) {
                let (s, n) = scaled_u32(v.abs());
                w.u8(u8::from(*v < 0.0));
                w.u8(s);
                w.out.extend_from_slice(&n.to_be_bytes());
            }
        });
    }

    /// Bin centre, then bin and zero-bin width of all 64 subbands.
    pub fn quantization_table(&mut self, q: &[f64; NUM_SUBBANDS]) {
        self.segment(DQT, |w| {
            w.u8(BIN_CENTER.0);
            w.u16(BIN_CENTER.1);
            for k in 0..64 {
                let bin = q.get(k).copied().unwrap_or(0.0);
                for v in [bin, 1.2 * bin] {
                    let (s, n) = scaled_u16(v);
                    w.u8(s);
                    w.u16(n);
                }
            }
        });
    }

    pub fn huffman_table(&mut self, id: u8, spec: &Spec) {
        self.segment(DHT, |w| {
            w.u8(id);
            w.out.extend_from_slice(&spec.bits);
            w.out.extend_from_slice(&spec.values);
        });
    }

    /// The frame header: black and white levels, size, the shift and scale
    /// that map pixels to ±128, encoder number 2 and software 0 (as NBIS).
    pub fn frame_header(&mut self, width: u16, height: u16, shift: f64, scale: f64) {
        self.segment(SOF, |w| {
            w.u8(0);
            w.u8(255);
            w.u16(height);
            w.u16(width);
            for v in [shift, scale] {
                let (s, n) = scaled_u16(v);
                w.u8(s);
                w.u16(n);
            }
            w.u8(2);
            w.u16(0);
        });
    }

    pub fn block_header(&mut self, table: u8) {
        self.segment(SOB, |w| w.u8(table));
    }
}

/// A cursor over the stream; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WsqError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let Some(end) = end else {
            return Err(WsqError::Truncated {
                at: self.data.len(),
                needed: self.pos.saturating_add(n) - self.data.len(),
            });
        };
        let b = &self.data[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    pub fn u8(&mut self) -> Result<u8, WsqError> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, WsqError> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, WsqError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A scaled u16 number.
    fn scaled(&mut self) -> Result<f64, WsqError> {
        let s = self.u8()?;
        let n = self.u16()?;
        Ok(unscale(s, u32::from(n)))
    }

    /// The body of the segment whose length field is next.
    pub fn segment(&mut self) -> Result<Segment<'a>, WsqError> {
        let at = self.pos;
        let len = usize::from(self.u16()?);
        if len < 2 {
            return Err(WsqError::BadTable {
                table: "segment",
                at,
                reason: "its length field is below 2",
            });
        }
        Ok(Segment {
            body: Reader {
                data: self.bytes(len - 2)?,
                pos: 0,
            },
            at: at + 2,
        })
    }
}

/// A segment body and where it starts in the stream.
pub(crate) struct Segment<'a> {
    pub body: Reader<'a>,
    pub at: usize,
}

impl<'a> Segment<'a> {
    /// Runs `parse` on the body; running out of body bytes means the segment
    /// is malformed, not that the file is truncated.
    fn parse<T>(
        &mut self,
        table: &'static str,
        parse: impl FnOnce(&mut Reader<'a>) -> Result<T, WsqError>,
    ) -> Result<T, WsqError> {
        let at = self.at;
        parse(&mut self.body).map_err(|e| match e {
            WsqError::Truncated { .. } => WsqError::BadTable {
                table,
                at,
                reason: "the segment is shorter than its contents",
            },
            other => other,
        })
    }

    pub fn transform_table(&mut self) -> Result<FilterBank, WsqError> {
        let at = self.at;
        self.parse("transform table (DTT)", |r| {
            let (lo_len, hi_len) = (r.u8()?, r.u8()?);
            if (lo_len, hi_len) != (9, 7) {
                return Err(WsqError::Unsupported(
                    "filter banks other than the 9/7-tap pair of the FBI specification",
                ));
            }
            let mut taps = [0.0; 9];
            for t in &mut taps {
                let sign = r.u8()?;
                let scale = r.u8()?;
                let v = unscale(scale, r.u32()?);
                *t = if sign != 0 { -v } else { v };
            }
            let bank = FilterBank {
                lo: [taps[0], taps[1], taps[2], taps[3], taps[4]],
                hi: [taps[5], taps[6], taps[7], taps[8]],
            };
            if taps.iter().any(|t| !t.is_finite()) {
                return Err(WsqError::BadTable {
                    table: "transform table (DTT)",
                    at,
                    reason: "a filter tap is not a finite number",
                });
            }
            Ok(bank)
        })
    }

    pub fn quantization_table(&mut self) -> Result<QuantTable, WsqError> {
        self.parse("quantization table (DQT)", |r| {
            let center = r.scaled()? as f32;
            let mut table = QuantTable {
                q: [0.0; NUM_SUBBANDS],
                z: [0.0; NUM_SUBBANDS],
                center,
            };
            for k in 0..64 {
                let (q, z) = (r.scaled()? as f32, r.scaled()? as f32);
                if k < NUM_SUBBANDS {
                    table.q[k] = q;
                    table.z[k] = z;
                }
            }
            Ok(table)
        })
    }

    /// One or more Huffman tables.
    pub fn huffman_tables(&mut self) -> Result<Vec<(u8, Spec)>, WsqError> {
        let at = self.at;
        let bad = |reason| WsqError::BadTable {
            table: "Huffman table (DHT)",
            at,
            reason,
        };
        self.parse("Huffman table (DHT)", |r| {
            let mut tables = Vec::new();
            while r.pos < r.data.len() {
                let id = r.u8()?;
                if usize::from(id) >= MAX_TABLES {
                    return Err(bad("the table number is not below 8"));
                }
                let mut bits = [0u8; 16];
                bits.copy_from_slice(r.bytes(16)?);
                let count: usize = bits.iter().map(|&b| usize::from(b)).sum();
                if count > 256 {
                    return Err(bad("it defines more than 256 codes"));
                }
                let values = r.bytes(count)?.to_vec();
                tables.push((id, Spec { bits, values }));
            }
            if tables.is_empty() {
                return Err(bad("the segment is empty"));
            }
            Ok(tables)
        })
    }

    pub fn frame_header(&mut self) -> Result<Frame, WsqError> {
        self.parse("frame header (SOF)", |r| {
            let _black = r.u8()?;
            let _white = r.u8()?;
            let height = r.u16()?;
            let width = r.u16()?;
            let shift = r.scaled()?;
            let scale = r.scaled()?;
            Ok(Frame {
                width,
                height,
                shift,
                scale,
            })
        })
    }

    pub fn block_header(&mut self) -> Result<u8, WsqError> {
        self.parse("block header (SOB)", Reader::u8)
    }

    pub fn text(&self) -> String {
        let text = String::from_utf8_lossy(self.body.data);
        text.trim_end_matches('\0').to_owned()
    }
}

/// The frame header's contents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Frame {
    pub width: u16,
    pub height: u16,
    pub shift: f64,
    pub scale: f64,
}

/// The NISTCOM text NBIS writes: `NAME value` lines, the first giving the
/// number of lines.
pub(crate) fn nistcom(width: usize, height: usize, ppi: Option<u16>, bitrate: f32) -> String {
    let ppi = ppi.map_or(-1, i32::from);
    let fields = [
        ("PIX_WIDTH", width.to_string()),
        ("PIX_HEIGHT", height.to_string()),
        ("PIX_DEPTH", "8".to_owned()),
        ("PPI", ppi.to_string()),
        ("LOSSY", "1".to_owned()),
        ("COLORSPACE", "GRAY".to_owned()),
        ("COMPRESSION", "WSQ".to_owned()),
        ("WSQ_BITRATE", format!("{bitrate:.6}")),
    ];
    let mut text = format!("NIST_COM {}", fields.len() + 1);
    for (name, value) in fields {
        text.push('\n');
        text.push_str(name);
        text.push(' ');
        text.push_str(&value);
    }
    text
}

/// The value of field `name` in a NISTCOM text, if the text is one.
pub(crate) fn nistcom_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    if !text.starts_with("NIST_COM") {
        return None;
    }
    text.lines().find_map(|line| {
        let (n, v) = line.trim().split_once([' ', '\t'])?;
        (n == name).then(|| v.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_numbers_keep_five_significant_digits() {
        assert_eq!(scaled_u16(0.44), (5, 44_000));
        assert_eq!(scaled_u16(178.25), (2, 17_825));
        assert_eq!(scaled_u16(1.2345678), (4, 12_346));
        assert_eq!(scaled_u16(0.0), (0, 0));
        assert_eq!(scaled_u16(1e9), (0, 65_535));
        assert_eq!(scaled_u32(0.852_698_679_009_403_4), (9, 852_698_679));
        assert!((unscale(4, 12_346) - 1.2346).abs() < 1e-12);
    }

    #[test]
    fn nistcom_is_written_and_read_back() {
        let text = nistcom(400, 500, Some(500), 0.75);
        assert_eq!(
            text,
            "NIST_COM 9\nPIX_WIDTH 400\nPIX_HEIGHT 500\nPIX_DEPTH 8\nPPI 500\nLOSSY 1\n\
             COLORSPACE GRAY\nCOMPRESSION WSQ\nWSQ_BITRATE 0.750000"
        );
        assert_eq!(nistcom_field(&text, "PPI"), Some("500"));
        assert_eq!(nistcom_field(&text, "WSQ_BITRATE"), Some("0.750000"));
        assert_eq!(nistcom_field("hello PPI 3", "PPI"), None);
        assert!(nistcom(32, 32, None, 2.25).contains("PPI -1\n"));
    }
}
