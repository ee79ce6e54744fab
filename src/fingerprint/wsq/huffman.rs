//! Entropy coding of the quantised coefficients (spec §A.3, "Huffman coding").
//!
//! A block of coefficients becomes a sequence of symbols: 1–100 are runs of
//! that many zeros, 105/106 a longer zero run with its length in the next 8/16
//! bits, 107–254 the coefficients −73…+74 (symbol − 180), 101/102 a positive/
//! negative coefficient whose magnitude follows in 8 bits, 103/104 the same
//! in 16 bits. Symbols get a JPEG-style canonical Huffman code (ITU T.81
//! Annex C/K): the code is sent as the number of codes of each length 1–16
//! plus the symbols in code order, no code is longer than 16 bits, and no
//! code is all ones, so padding the last byte with ones is unambiguous.
//! Bytes 0xFF in the coded data are followed by a stuffed 0x00.

/// Longest zero run a single symbol codes.
const MAX_RUN_SYMBOL: usize = 100;
/// Largest coefficient magnitude coded by a symbol of its own (−73…+74).
const MAX_COEFF: i32 = 74;

/// One coded symbol, possibly followed by raw bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Token {
    symbol: u8,
    extra: u16,
    extra_bits: u8,
}

fn symbol(symbol: u8) -> Token {
    Token {
        symbol,
        extra: 0,
        extra_bits: 0,
    }
}

fn run_tokens(run: usize, emit: &mut impl FnMut(Token)) {
    let mut left = run;
    while left > 0 {
        let n = left.min(usize::from(u16::MAX));
        emit(match n {
            1..=MAX_RUN_SYMBOL => symbol(n as u8),
            ..=255 => Token {
                symbol: 105,
                extra: n as u16,
                extra_bits: 8,
            },
            _ => Token {
                symbol: 106,
                extra: n as u16,
                extra_bits: 16,
            },
        });
        left -= n;
    }
}

fn coeff_token(v: i16) -> Token {
    let v = i32::from(v);
    let magnitude = v.unsigned_abs() as u16;
    match v {
        _ if (1 - MAX_COEFF..=MAX_COEFF).contains(&v) => symbol((v + 180) as u8),
        _ if v > 0 && magnitude <= 255 => Token {
            symbol: 101,
            extra: magnitude,
            extra_bits: 8,
        },
        _ if v < 0 && magnitude <= 255 => Token {
            symbol: 102,
            extra: magnitude,
            extra_bits: 8,
        },
        _ if v > 0 => Token {
            symbol: 103,
            extra: magnitude,
            extra_bits: 16,
        },
        _ => Token {
            symbol: 104,
            extra: magnitude,
            extra_bits: 16,
        },
    }
}

/// Turns a block of coefficients into tokens.
fn tokenize(coeffs: &[i16], mut emit: impl FnMut(Token)) {
    let mut run = 0;
    for &v in coeffs {
        if v == 0 {
            run += 1;
            continue;
        }
        run_tokens(run, &mut emit);
        run = 0;
        emit(coeff_token(v));
    }
    run_tokens(run, &mut emit);
}

/// Adds the symbol frequencies of a block to `counts`.
pub(crate) fn count_symbols(coeffs: &[i16], counts: &mut [u64; 256]) {
    tokenize(coeffs, |t| counts[usize::from(t.symbol)] += 1);
}

/// A Huffman code as a DHT segment carries it: `bits[i]` codes of length
/// `i + 1`, assigned in order to `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    pub bits: [u8; 16],
    pub values: Vec<u8>,
}

/// The optimal length-limited code for symbol frequencies `counts`.
///
/// Huffman's algorithm runs over the used symbols plus one reserved symbol
/// of frequency 1 that is merged first, so it ends up with one of the
/// longest codes; lengths over 16 are then folded back as in T.81 Figure K.3
/// and the reserved code is dropped, which leaves the all-ones code unused.
pub(crate) fn build_spec(counts: &[u64; 256]) -> Spec {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    const RESERVED: usize = 256;
    let leaves: Vec<usize> = (0..256)
        .filter(|&s| counts[s] > 0)
        .chain([RESERVED])
        .collect();
    let mut bits = [0u8; 16];
    if leaves.len() == 1 {
        return Spec {
            bits,
            values: Vec::new(),
        };
    }
    // Nodes 0..leaves.len() are leaves; internal nodes follow.
    let mut parent = vec![usize::MAX; 2 * leaves.len()];
    let mut heap = BinaryHeap::new();
    for (id, &s) in leaves.iter().enumerate() {
        let weight = if s == RESERVED { 1 } else { counts[s] };
        // Ties go to the reserved symbol first, then to lower symbols.
        let order = if s == RESERVED { 0 } else { s + 1 };
        heap.push(Reverse((weight, order, id)));
    }
    let mut next = leaves.len();
    while heap.len() > 1 {
        let (Some(Reverse((w1, _, a))), Some(Reverse((w2, _, b)))) = (heap.pop(), heap.pop())
        else {
            break;
        };
        parent[a] = next;
        parent[b] = next;
        heap.push(Reverse((w1 + w2, 1000 + next, next)));
        next += 1;
    }
    let depth = |mut id: usize| {
        let mut d = 0usize;
        while parent[id] != usize::MAX {
            id = parent[id];
            d += 1;
        }
        d
    };
    let depths: Vec<usize> = (0..leaves.len()).map(depth).collect();
    let longest = depths.iter().copied().max().unwrap_or(1);
    let mut count = vec![0i64; longest.max(16) + 1];
    for &d in &depths {
        count[d] += 1;
    }
    // T.81 Figure K.3: move pairs of over-long codes up the tree.
    for i in (17..count.len()).rev() {
        while count[i] > 0 {
            let mut j = i - 2;
            while count[j] == 0 {
                j -= 1;
            }
            count[i] -= 2;
            count[i - 1] += 1;
            count[j + 1] += 2;
            count[j] -= 1;
        }
    }
    // Drop one of the longest codes: the reserved symbol's.
    if let Some(i) = (1..=16).rev().find(|&i| count[i] > 0) {
        count[i] -= 1;
    }
    for (b, &c) in bits.iter_mut().zip(&count[1..=16]) {
        *b = c as u8;
    }
    let mut symbols: Vec<(usize, u8)> = leaves
        .iter()
        .zip(&depths)
        .filter(|&(&s, _)| s != RESERVED)
        .map(|(&s, &d)| (d, s as u8))
        .collect();
    symbols.sort_unstable();
    Spec {
        bits,
        values: symbols.into_iter().map(|(_, s)| s).collect(),
    }
}

/// Assigns canonical codes to `spec`; `None` if the lengths over-subscribe
/// the code space or the values are too few.
fn canonical(spec: &Spec) -> Option<Vec<(u8, u16, u8)>> {
    let total: usize = spec.bits.iter().map(|&b| usize::from(b)).sum();
    if total > spec.values.len() {
        return None;
    }
    let mut codes = Vec::with_capacity(total);
    let mut code = 0u32;
    let mut values = spec.values.iter();
    for (len, &n) in (1u8..=16).zip(&spec.bits) {
        for _ in 0..n {
            codes.push((*values.next()?, code as u16, len));
            code += 1;
        }
        if code > 1 << len {
            return None;
        }
        code <<= 1;
    }
    Some(codes)
}

/// Code and length of every symbol, for the encoder.
pub(crate) struct EncodeTable {
    code: [u16; 256],
    len: [u8; 256],
}

impl EncodeTable {
    pub fn new(spec: &Spec) -> Self {
        let mut table = Self {
            code: [0; 256],
            len: [0; 256],
        };
        for (s, code, len) in canonical(spec).unwrap_or_default() {
            table.code[usize::from(s)] = code;
            table.len[usize::from(s)] = len;
        }
        table
    }
}

/// MSB-first bit packing with 0xFF byte stuffing.
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u32,
    bits: u32,
}

impl BitWriter<'_> {
    fn put(&mut self, value: u32, len: u32) {
        self.acc = (self.acc << len) | (value & ((1 << len) - 1));
        self.bits += len;
        while self.bits >= 8 {
            self.bits -= 8;
            let byte = (self.acc >> self.bits) as u8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0);
            }
        }
        self.acc &= (1 << self.bits) - 1;
    }

    /// Pads the last byte with ones.
    fn finish(mut self) {
        if self.bits > 0 {
            let pad = 8 - self.bits;
            self.put((1 << pad) - 1, pad);
        }
    }
}

/// Appends the coded block to `out`. Every symbol of the block must have a
/// code in `table` (true when the table was built from its counts).
pub(crate) fn encode_block(coeffs: &[i16], table: &EncodeTable, out: &mut Vec<u8>) {
    let mut w = BitWriter {
        out,
        acc: 0,
        bits: 0,
    };
    tokenize(coeffs, |t| {
        let s = usize::from(t.symbol);
        w.put(u32::from(table.code[s]), u32::from(table.len[s]));
        if t.extra_bits > 0 {
            w.put(u32::from(t.extra), u32::from(t.extra_bits));
        }
    });
    w.finish();
}

/// Codes up to this long are decoded by one table lookup.
const LUT_BITS: u32 = 10;

/// A Huffman code ready for decoding.
#[derive(Debug, Clone)]
pub(crate) struct DecodeTable {
    /// `(length << 8) | symbol` for every `LUT_BITS`-bit prefix that starts
    /// with a short code; 0 otherwise.
    lut: Vec<u16>,
    /// Per length: first code, last code (−1: none), index of its first value.
    min_code: [u32; 17],
    max_code: [i32; 17],
    first: [usize; 17],
    values: Vec<u8>,
}

impl DecodeTable {
    /// `None` if the code lengths over-subscribe the code space.
    pub fn new(spec: &Spec) -> Option<Self> {
        let codes = canonical(spec)?;
        let mut t = Self {
            lut: vec![0; 1 << LUT_BITS],
            min_code: [0; 17],
            max_code: [-1; 17],
            first: [0; 17],
            values: codes.iter().map(|c| c.0).collect(),
        };
        for (i, &(s, code, len)) in codes.iter().enumerate() {
            let l = usize::from(len);
            if t.max_code[l] < 0 {
                t.min_code[l] = u32::from(code);
                t.first[l] = i;
            }
            t.max_code[l] = i32::from(code);
            if u32::from(len) <= LUT_BITS {
                let shift = LUT_BITS - u32::from(len);
                let start = usize::from(code) << shift;
                t.lut[start..start + (1 << shift)].fill((u16::from(len) << 8) | u16::from(s));
            }
        }
        Some(t)
    }

    /// The symbol and code length at the front of `peek` (16 bits).
    fn lookup(&self, peek: u32) -> Option<(u8, u32)> {
        let e = self.lut[(peek >> (16 - LUT_BITS)) as usize];
        if e != 0 {
            return Some(((e & 0xFF) as u8, u32::from(e >> 8)));
        }
        for len in LUT_BITS + 1..=16 {
            let l = len as usize;
            let code = peek >> (16 - len);
            if self.max_code[l] >= 0 && code >= self.min_code[l] && code as i32 <= self.max_code[l]
            {
                return Some((
                    self.values[self.first[l] + (code - self.min_code[l]) as usize],
                    len,
                ));
            }
        }
        None
    }
}

/// Why a coded block could not be decoded; `bit` counts from the block start
/// (after unstuffing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlockError {
    InvalidCode { bit: usize },
    InvalidSymbol { symbol: u8, bit: usize },
    CutEscape { bit: usize },
    Overflow { bit: usize },
}

/// Reads bits MSB first from unstuffed data; past the end it reads ones.
struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn remaining(&self) -> usize {
        self.data.len() * 8 - self.pos
    }

    fn peek16(&self) -> u32 {
        let byte = self.pos / 8;
        let mut v = 0u32;
        for i in 0..3 {
            v = (v << 8) | u32::from(self.data.get(byte + i).copied().unwrap_or(0xFF));
        }
        (v >> (8 - self.pos % 8)) & 0xFFFF
    }

    fn take(&mut self, n: u32) -> u32 {
        let v = self.peek16() >> (16 - n);
        self.pos += n as usize;
        v
    }
}

/// Decodes one unstuffed coded block, appending coefficients to `out`
/// without letting it grow past `capacity`. The block ends where the data
/// does; a partial code in the last bits is the padding.
pub(crate) fn decode_block(
    data: &[u8],
    table: &DecodeTable,
    out: &mut Vec<i16>,
    capacity: usize,
) -> Result<(), BlockError> {
    let mut r = BitReader { data, pos: 0 };
    while r.remaining() > 0 {
        let bit = r.pos;
        let Some((sym, len)) = table.lookup(r.peek16()) else {
            if r.remaining() < 16 {
                return Ok(());
            }
            return Err(BlockError::InvalidCode { bit });
        };
        if len as usize > r.remaining() {
            return Ok(());
        }
        r.take(len);
        let raw = |n: u32, r: &mut BitReader<'_>| {
            if r.remaining() < n as usize {
                Err(BlockError::CutEscape { bit })
            } else {
                Ok(r.take(n))
            }
        };
        let (value, repeat) = match sym {
            1..=100 => (0, usize::from(sym)),
            101 => (raw(8, &mut r)? as i16, 1),
            102 => (-(raw(8, &mut r)? as i32) as i16, 1),
            103 => (raw(16, &mut r)? as u16 as i16, 1),
            104 => (-(raw(16, &mut r)? as i32) as i16, 1),
            105 => (0, raw(8, &mut r)? as usize),
            106 => (0, raw(16, &mut r)? as usize),
            107..=254 => (i16::from(sym) - 180, 1),
            _ => return Err(BlockError::InvalidSymbol { symbol: sym, bit }),
        };
        if out.len() + repeat > capacity {
            return Err(BlockError::Overflow { bit });
        }
        out.resize(out.len() + repeat, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(coeffs: &[i16]) -> Vec<i16> {
        let mut counts = [0u64; 256];
        count_symbols(coeffs, &mut counts);
        let spec = build_spec(&counts);
        let mut coded = Vec::new();
        encode_block(coeffs, &EncodeTable::new(&spec), &mut coded);
        // Unstuff as the decoder's segment scanner does.
        let mut plain = Vec::new();
        let mut i = 0;
        while i < coded.len() {
            plain.push(coded[i]);
            if coded[i] == 0xFF {
                assert_eq!(coded.get(i + 1), Some(&0));
                i += 1;
            }
            i += 1;
        }
        let table = DecodeTable::new(&spec).expect("valid code");
        let mut out = Vec::new();
        decode_block(&plain, &table, &mut out, coeffs.len()).expect("decodes");
        out
    }

    #[test]
    fn blocks_round_trip_with_runs_and_escapes() {
        let mut coeffs = vec![0i16; 70_000];
        coeffs[0] = 1;
        coeffs[5] = -73;
        coeffs[6] = 74;
        coeffs[7] = 75;
        coeffs[8] = -74;
        coeffs[9] = 255;
        coeffs[10] = -256;
        coeffs[11] = 32767;
        coeffs[12] = -32767;
        coeffs[300] = 3;
        coeffs[69_999] = -2;
        for (i, c) in coeffs[400..2400].iter_mut().enumerate() {
            *c = ((i * 7919) % 23) as i16 - 11;
        }
        assert_eq!(round_trip(&coeffs), coeffs);
        assert_eq!(round_trip(&[0; 10]), vec![0; 10]);
        assert_eq!(round_trip(&[5]), vec![5]);
        assert!(round_trip(&[]).is_empty());
    }

    #[test]
    fn codes_are_limited_to_16_bits_and_never_all_ones() {
        // Fibonacci-like frequencies force a very deep Huffman tree.
        let mut counts = [0u64; 256];
        let (mut a, mut b) = (1u64, 1u64);
        for c in counts.iter_mut().skip(1).take(40) {
            *c = a;
            (a, b) = (b, a + b);
        }
        let spec = build_spec(&counts);
        assert_eq!(spec.values.len(), 40);
        let codes = canonical(&spec).expect("valid");
        for (_, code, len) in codes {
            assert!((1..=16).contains(&len));
            assert_ne!(
                u32::from(code),
                (1 << len) - 1,
                "all-ones code of length {len}"
            );
        }
    }

    #[test]
    fn oversubscribed_tables_are_rejected() {
        let mut bits = [0u8; 16];
        bits[0] = 3; // three 1-bit codes
        assert!(
            DecodeTable::new(&Spec {
                bits,
                values: vec![1, 2, 3]
            })
            .is_none()
        );
        bits[0] = 2;
        assert!(
            DecodeTable::new(&Spec {
                bits,
                values: vec![1]
            })
            .is_none()
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut bits = [0u8; 16];
        bits[1] = 3; // 00, 01, 10; 11 is unused
        let table = DecodeTable::new(&Spec {
            bits,
            values: vec![1, 180, 255],
        })
        .expect("valid");
        let mut out = Vec::new();
        assert_eq!(
            decode_block(&[0b1000_0000], &table, &mut out, 10),
            Err(BlockError::InvalidSymbol {
                symbol: 255,
                bit: 0
            })
        );
        out.clear();
        assert_eq!(
            decode_block(&[0, 0, 0], &table, &mut out, 10),
            Err(BlockError::Overflow { bit: 20 })
        );
        out.clear();
        assert!(matches!(
            decode_block(&[0xFF; 4], &table, &mut out, 10),
            Err(BlockError::InvalidCode { .. })
        ));
    }
}
