//! NMEA 0183 sentences, without any I/O.
//!
//! A sentence on the wire is printable ASCII, at most 82 characters from
//! the `$` to the line end inclusive:
//!
//! ```text
//! $GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n
//!  └─┬─┘ └───────────────────────── fields ─────────────────────┘ └┬┘
//!  address: talker GP + type GGA            XOR of every byte between $ and *
//! ```
//!
//! [`Framer`] finds sentences in a byte stream (garbage, partial reads and
//! line noise included) and checks their length, characters and checksum;
//! [`Sentence::parse`] reads the fields of GGA, RMC, GSA and GSV from the
//! talkers GP, GN, GL, GA and BD/GB (anything else is
//! [`Sentence::Other`], skipped rather than refused). [`sentence`] and the
//! `body` methods write sentences (the virtual receiver and the tests use
//! them). Combining sentences into a position is [`crate::fix`]'s job.

use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

/// The longest sentence NMEA 0183 allows, from `$` to CR LF inclusive.
pub const MAX_SENTENCE_LEN: usize = 82;

/// The longest line without its CR LF.
const MAX_LINE: usize = MAX_SENTENCE_LEN - 2;

/// The XOR of every byte of `body` (what lies between `$` and `*`).
pub fn checksum(body: &str) -> u8 {
    body.bytes().fold(0, |sum, b| sum ^ b)
}

/// The complete sentence for `body` (without `$` and `*`): `$`, the body,
/// `*`, the checksum in two upper-case hex digits, CR LF.
///
/// ```
/// let s = pishkhan_gps::proto::sentence("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,");
/// assert_eq!(s, "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n");
/// ```
pub fn sentence(body: &str) -> String {
    format!("${body}*{:02X}\r\n", checksum(body))
}

/// Why bytes were not a usable sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NmeaError {
    /// The checksum in the sentence does not match its content.
    #[error("checksum mismatch: the content gives {expected:02X}, the sentence says {found:02X}")]
    BadChecksum {
        /// The XOR of the content as received.
        expected: u8,
        /// The checksum written in the sentence.
        found: u8,
    },
    /// The line has no `*hh` checksum.
    #[error("the sentence has no checksum")]
    MissingChecksum,
    /// What follows the `*` is not two hex digits.
    #[error("the checksum {0:?} is not two hex digits")]
    MalformedChecksum(String),
    /// No line end within [`MAX_SENTENCE_LEN`] characters.
    #[error("the sentence is longer than {MAX_SENTENCE_LEN} characters")]
    TooLong,
    /// A byte that is not printable ASCII inside a sentence.
    #[error("byte 0x{0:02X} inside a sentence is not printable ASCII")]
    NotPrintable(u8),
    /// A new `$` arrived before the line end: bytes were lost.
    #[error("a sentence was cut short after {0} characters")]
    Truncated(usize),
    /// The text does not start with `$` (only from [`parse`]).
    #[error("the line does not start with '$'")]
    NoStart,
    /// The address field is not five letters or digits.
    #[error("bad address field {0:?}")]
    BadAddress(String),
    /// A sentence has fewer fields than its type needs.
    #[error("{sentence} has {found} fields, at least {expected} expected")]
    MissingFields {
        sentence: SentenceKind,
        expected: usize,
        found: usize,
    },
    /// One field cannot be read. Fields are numbered from 1 after the
    /// address, as in the NMEA tables.
    #[error("{sentence} field {index} ({name}) is malformed: {value:?}")]
    BadField {
        sentence: SentenceKind,
        index: usize,
        name: &'static str,
        value: String,
    },
}

/// A checked sentence: its checksum matched. Holds the body (between `$`
/// and `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    body: String,
}

impl Frame {
    /// The text between `$` and `*`.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The fields of the body.
    pub fn parse(&self) -> Result<Sentence, NmeaError> {
        Sentence::parse(&self.body)
    }

    /// Checks one line: `$`, printable ASCII, at most 82 characters with
    /// CR LF, a matching `*hh` at the end. `line` starts with `$` and may
    /// end with `\r` (the `\n` is not part of it).
    fn check(line: &[u8]) -> Result<Frame, NmeaError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(text) = line.strip_prefix(b"$") else {
            return Err(NmeaError::NoStart);
        };
        if line.len() > MAX_LINE {
            return Err(NmeaError::TooLong);
        }
        if let Some(&b) = text.iter().find(|&&b| !is_printable(b)) {
            return Err(NmeaError::NotPrintable(b));
        }
        let Some(star) = text.iter().rposition(|&b| b == b'*') else {
            return Err(NmeaError::MissingChecksum);
        };
        let body: String = text[..star].iter().map(|&b| char::from(b)).collect();
        let hex: String = text[star + 1..].iter().map(|&b| char::from(b)).collect();
        let found = match hex.as_bytes() {
            [hi, lo] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                u8::from_str_radix(&hex, 16)
                    .map_err(|_| NmeaError::MalformedChecksum(hex.clone()))?
            }
            _ => return Err(NmeaError::MalformedChecksum(hex)),
        };
        let expected = checksum(&body);
        if expected != found {
            return Err(NmeaError::BadChecksum { expected, found });
        }
        Ok(Frame { body })
    }
}

fn is_printable(b: u8) -> bool {
    (0x20..=0x7E).contains(&b)
}

/// Checks and parses one sentence given as text (`$…*hh`, with or without
/// CR LF).
pub fn parse(line: &str) -> Result<Sentence, NmeaError> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    Frame::check(line.as_bytes())?.parse()
}

/// A streaming framer: push received bytes in, get checked sentences out.
///
/// Bytes outside a sentence (before a `$`) are skipped and counted. A
/// sentence ends at `\n` (with or without the `\r` before it). A new `$`
/// before the line end, a byte that is not printable ASCII, or more than
/// 82 characters abandon the sentence with an error and the framer looks
/// for the next `$`, so one bad sentence never costs the next. The framer
/// never holds more than one sentence's worth of bytes.
#[derive(Debug, Default, Clone)]
pub struct Framer {
    /// The sentence being received, from its `$`; empty between sentences.
    line: Vec<u8>,
    skipped: u64,
}

impl Framer {
    /// An empty framer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `bytes` and returns every sentence (or framing error) they
    /// complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<Frame, NmeaError>> {
        bytes.iter().filter_map(|&b| self.push_byte(b)).collect()
    }

    /// Bytes received but not part of a complete sentence yet.
    pub fn buffered(&self) -> usize {
        self.line.len()
    }

    /// Bytes skipped so far: outside any sentence, or in an abandoned one.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Forgets the sentence being received.
    pub fn reset(&mut self) {
        self.abandon();
    }

    fn abandon(&mut self) {
        self.skipped += self.line.len() as u64;
        self.line.clear();
    }

    fn push_byte(&mut self, b: u8) -> Option<Result<Frame, NmeaError>> {
        if self.line.is_empty() {
            if b == b'$' {
                self.line.push(b);
            } else {
                self.skipped += 1;
            }
            return None;
        }
        match b {
            b'\n' => {
                let line = std::mem::take(&mut self.line);
                let frame = Frame::check(&line);
                if frame.is_err() {
                    self.skipped += line.len() as u64 + 1;
                }
                Some(frame)
            }
            b'$' => {
                let received = self.line.len();
                self.abandon();
                self.line.push(b);
                Some(Err(NmeaError::Truncated(received)))
            }
            // A CR is only allowed right before the LF.
            _ if self.line.last() == Some(&b'\r') => {
                self.abandon();
                self.skipped += 1;
                Some(Err(NmeaError::NotPrintable(b'\r')))
            }
            b'\r' => {
                self.line.push(b);
                None
            }
            _ if is_printable(b) => {
                if self.line.len() >= MAX_LINE {
                    self.abandon();
                    self.skipped += 1;
                    Some(Err(NmeaError::TooLong))
                } else {
                    self.line.push(b);
                    None
                }
            }
            _ => {
                self.abandon();
                self.skipped += 1;
                Some(Err(NmeaError::NotPrintable(b)))
            }
        }
    }
}

/// The talkers this driver reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Talker {
    /// `GP`: GPS.
    Gps,
    /// `GN`: a combination of systems.
    Gnss,
    /// `GL`: GLONASS.
    Glonass,
    /// `GA`: Galileo.
    Galileo,
    /// `BD` (or `GB` since NMEA 4.11): BeiDou.
    Beidou,
}

impl Talker {
    /// The talker with id `code`, if this driver reads it.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "GP" => Some(Talker::Gps),
            "GN" => Some(Talker::Gnss),
            "GL" => Some(Talker::Glonass),
            "GA" => Some(Talker::Galileo),
            "BD" | "GB" => Some(Talker::Beidou),
            _ => None,
        }
    }

    /// The two-letter id written by this driver.
    pub fn code(self) -> &'static str {
        match self {
            Talker::Gps => "GP",
            Talker::Gnss => "GN",
            Talker::Glonass => "GL",
            Talker::Galileo => "GA",
            Talker::Beidou => "BD",
        }
    }
}

/// The sentence types this driver reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SentenceKind {
    Gga,
    Rmc,
    Gsa,
    Gsv,
}

impl SentenceKind {
    /// The three-letter type.
    pub fn code(self) -> &'static str {
        match self {
            SentenceKind::Gga => "GGA",
            SentenceKind::Rmc => "RMC",
            SentenceKind::Gsa => "GSA",
            SentenceKind::Gsv => "GSV",
        }
    }
}

impl fmt::Display for SentenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A position in decimal degrees (WGS 84 for GPS): north and east
/// positive, south and west negative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub latitude: f64,
    pub longitude: f64,
}

/// GGA field 6: how the position was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FixQuality {
    /// 0: no fix.
    Invalid,
    /// 1: autonomous GPS/GNSS fix.
    Gps,
    /// 2: differential (SBAS or DGPS).
    Dgps,
    /// 3: PPS fix.
    Pps,
    /// 4: RTK with fixed integers.
    RtkFixed,
    /// 5: RTK float.
    RtkFloat,
    /// 6: estimated (dead reckoning).
    Estimated,
    /// 7: entered by hand.
    Manual,
    /// 8: simulation.
    Simulation,
}

impl FixQuality {
    /// The digit in GGA field 6.
    pub fn code(self) -> u8 {
        match self {
            FixQuality::Invalid => 0,
            FixQuality::Gps => 1,
            FixQuality::Dgps => 2,
            FixQuality::Pps => 3,
            FixQuality::RtkFixed => 4,
            FixQuality::RtkFloat => 5,
            FixQuality::Estimated => 6,
            FixQuality::Manual => 7,
            FixQuality::Simulation => 8,
        }
    }

    /// The quality with digit `code`.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => FixQuality::Invalid,
            1 => FixQuality::Gps,
            2 => FixQuality::Dgps,
            3 => FixQuality::Pps,
            4 => FixQuality::RtkFixed,
            5 => FixQuality::RtkFloat,
            6 => FixQuality::Estimated,
            7 => FixQuality::Manual,
            8 => FixQuality::Simulation,
            _ => return None,
        })
    }
}

/// GGA: time, position, fix quality, satellites used, HDOP, altitude.
#[derive(Debug, Clone, PartialEq)]
pub struct Gga {
    pub talker: Talker,
    /// UTC time of the position (empty before the receiver knows it).
    pub time: Option<NaiveTime>,
    pub position: Option<Position>,
    /// An empty field reads as [`FixQuality::Invalid`].
    pub quality: FixQuality,
    /// Satellites used for the position.
    pub satellites: Option<u8>,
    /// Horizontal dilution of precision.
    pub hdop: Option<f32>,
    /// Altitude above mean sea level, metres.
    pub altitude_m: Option<f64>,
    /// Height of the geoid above the WGS 84 ellipsoid, metres.
    pub geoid_separation_m: Option<f64>,
}

/// RMC field 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `A`: the data are valid.
    Active,
    /// `V`: warning, no valid position.
    Void,
}

/// RMC: time, status, position, speed, course, date.
#[derive(Debug, Clone, PartialEq)]
pub struct Rmc {
    pub talker: Talker,
    pub time: Option<NaiveTime>,
    pub status: Status,
    pub position: Option<Position>,
    pub speed_knots: Option<f64>,
    /// Course over ground, degrees from true north.
    pub course_deg: Option<f64>,
    pub date: Option<NaiveDate>,
    /// Magnetic variation, degrees, east positive.
    pub magnetic_variation_deg: Option<f64>,
    /// The mode indicator of NMEA 2.3 and later (`A` autonomous, `D`
    /// differential, `E` estimated, `N` not valid, …).
    pub mode: Option<char>,
}

/// GSA field 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FixType {
    /// 1: no fix.
    NoFix,
    /// 2: 2D.
    Fix2d,
    /// 3: 3D.
    Fix3d,
}

/// GSA: fix type, satellites used, dilutions of precision.
#[derive(Debug, Clone, PartialEq)]
pub struct Gsa {
    pub talker: Talker,
    /// Field 1: `A` (automatic 2D/3D) or `M` (manual).
    pub automatic: bool,
    pub fix_type: FixType,
    /// The PRNs of the satellites used (at most 12).
    pub satellites: Vec<u16>,
    pub pdop: Option<f32>,
    pub hdop: Option<f32>,
    pub vdop: Option<f32>,
    /// The GNSS system id of NMEA 4.10 and later.
    pub system: Option<u8>,
}

/// One satellite of a GSV sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SatelliteInView {
    pub prn: u16,
    pub elevation_deg: Option<u8>,
    pub azimuth_deg: Option<u16>,
    /// Signal to noise ratio, dB-Hz (empty when not tracked).
    pub snr: Option<u8>,
}

/// GSV: satellites in view, up to four per sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Gsv {
    pub talker: Talker,
    /// How many GSV sentences this cycle has.
    pub messages: u8,
    /// This sentence's number in the cycle (from 1).
    pub number: u8,
    /// Satellites in view of this talker.
    pub in_view: u8,
    pub satellites: Vec<SatelliteInView>,
    /// The signal id of NMEA 4.10 and later (hex digit).
    pub signal: Option<u8>,
}

/// One parsed sentence.
#[derive(Debug, Clone, PartialEq)]
pub enum Sentence {
    Gga(Gga),
    Rmc(Rmc),
    Gsa(Gsa),
    Gsv(Gsv),
    /// A type or talker this driver does not read (VTG, GLL, TXT,
    /// proprietary `$P…`, …), with its address. Not an error: receivers
    /// send many such sentences.
    Other(String),
}

impl Sentence {
    /// Parses a checked body (the text between `$` and `*`).
    pub fn parse(body: &str) -> Result<Sentence, NmeaError> {
        let fields: Vec<&str> = body.split(',').collect();
        let address = fields[0];
        // Proprietary sentences: `P` and a manufacturer code, any length.
        if address.starts_with('P') && address.len() > 1 {
            return Ok(Sentence::Other(address.to_owned()));
        }
        if address.len() != 5
            || !address
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(NmeaError::BadAddress(address.to_owned()));
        }
        let Some(talker) = Talker::from_code(&address[..2]) else {
            return Ok(Sentence::Other(address.to_owned()));
        };
        let values = &fields[1..];
        Ok(match &address[2..] {
            "GGA" => Sentence::Gga(Gga::parse(talker, &Fields::new(SentenceKind::Gga, values))?),
            "RMC" => Sentence::Rmc(Rmc::parse(talker, &Fields::new(SentenceKind::Rmc, values))?),
            "GSA" => Sentence::Gsa(Gsa::parse(talker, &Fields::new(SentenceKind::Gsa, values))?),
            "GSV" => Sentence::Gsv(Gsv::parse(talker, &Fields::new(SentenceKind::Gsv, values))?),
            _ => Sentence::Other(address.to_owned()),
        })
    }

    /// The body this driver writes for the sentence (`None` for
    /// [`Sentence::Other`]).
    pub fn body(&self) -> Option<String> {
        match self {
            Sentence::Gga(s) => Some(s.body()),
            Sentence::Rmc(s) => Some(s.body()),
            Sentence::Gsa(s) => Some(s.body()),
            Sentence::Gsv(s) => Some(s.body()),
            Sentence::Other(_) => None,
        }
    }
}

/// The fields after the address, numbered from 1.
struct Fields<'a> {
    kind: SentenceKind,
    values: &'a [&'a str],
}

impl<'a> Fields<'a> {
    fn new(kind: SentenceKind, values: &'a [&'a str]) -> Self {
        Self { kind, values }
    }

    /// Field `index` (from 1); empty when the sentence is shorter.
    fn get(&self, index: usize) -> &'a str {
        self.values.get(index - 1).copied().unwrap_or("")
    }

    fn need(&self, expected: usize) -> Result<(), NmeaError> {
        if self.values.len() < expected {
            Err(NmeaError::MissingFields {
                sentence: self.kind,
                expected,
                found: self.values.len(),
            })
        } else {
            Ok(())
        }
    }

    fn bad(&self, index: usize, name: &'static str) -> NmeaError {
        NmeaError::BadField {
            sentence: self.kind,
            index,
            name,
            value: self.get(index).to_owned(),
        }
    }

    /// Reads field `index` with `read`; an empty field is `None`.
    fn opt<T>(
        &self,
        index: usize,
        name: &'static str,
        read: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, NmeaError> {
        let value = self.get(index);
        if value.is_empty() {
            return Ok(None);
        }
        read(value).map(Some).ok_or_else(|| self.bad(index, name))
    }

    fn time(&self, index: usize) -> Result<Option<NaiveTime>, NmeaError> {
        self.opt(index, "UTC time", read_time)
    }

    fn float(&self, index: usize, name: &'static str) -> Result<Option<f64>, NmeaError> {
        self.opt(index, name, read_decimal)
    }

    fn unsigned_float(&self, index: usize, name: &'static str) -> Result<Option<f64>, NmeaError> {
        self.opt(index, name, |v| read_decimal(v).filter(|x| *x >= 0.0))
    }

    fn dop(&self, index: usize, name: &'static str) -> Result<Option<f32>, NmeaError> {
        #[allow(clippy::cast_possible_truncation)]
        self.opt(index, name, |v| {
            read_decimal(v)
                .filter(|x| *x >= 0.0)
                .map(|x| x as f32)
                .filter(|x| x.is_finite())
        })
    }

    fn number<T: std::str::FromStr>(
        &self,
        index: usize,
        name: &'static str,
    ) -> Result<Option<T>, NmeaError> {
        self.opt(index, name, |v| {
            if v.bytes().all(|b| b.is_ascii_digit()) {
                v.parse().ok()
            } else {
                None
            }
        })
    }

    /// A position from the latitude at `index` (with its hemisphere after
    /// it) and the longitude after that.
    fn position(&self, index: usize) -> Result<Option<Position>, NmeaError> {
        let latitude = self.coordinate(index, "latitude", 2, 90.0, ('N', 'S'))?;
        let longitude = self.coordinate(index + 2, "longitude", 3, 180.0, ('E', 'W'))?;
        match (latitude, longitude) {
            (Some(latitude), Some(longitude)) => Ok(Some(Position {
                latitude,
                longitude,
            })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(self.bad(index + 2, "longitude")),
            (None, Some(_)) => Err(self.bad(index, "latitude")),
        }
    }

    /// `d…dmm.mmmm` at `index` and its hemisphere letter at `index + 1`.
    fn coordinate(
        &self,
        index: usize,
        name: &'static str,
        degree_digits: usize,
        limit: f64,
        (positive, negative): (char, char),
    ) -> Result<Option<f64>, NmeaError> {
        let value = self.get(index);
        let hemisphere = self.get(index + 1);
        if value.is_empty() && hemisphere.is_empty() {
            return Ok(None);
        }
        let magnitude =
            read_coordinate(value, degree_digits, limit).ok_or_else(|| self.bad(index, name))?;
        let hemisphere_name = if positive == 'N' { "N/S" } else { "E/W" };
        let sign = match hemisphere.chars().collect::<Vec<_>>()[..] {
            [c] if c == positive => 1.0,
            [c] if c == negative => -1.0,
            _ => return Err(self.bad(index + 1, hemisphere_name)),
        };
        Ok(Some(sign * magnitude))
    }

    /// A one-character field.
    fn letter(&self, index: usize, name: &'static str) -> Result<Option<char>, NmeaError> {
        self.opt(index, name, |v| {
            let mut chars = v.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        })
    }
}

/// `hhmmss` or `hhmmss.s…` (a second 60 is a leap second).
fn read_time(v: &str) -> Option<NaiveTime> {
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    if whole.len() != 6 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |i: usize| whole[i..i + 2].parse::<u32>().ok();
    let (hour, minute, second) = (n(0)?, n(2)?, n(4)?);
    let nanos = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse::<u32>().ok()?
    };
    match second {
        60 => NaiveTime::from_hms_nano_opt(hour, minute, 59, 1_000_000_000 + nanos),
        _ => NaiveTime::from_hms_nano_opt(hour, minute, second, nanos),
    }
}

/// `ddmmyy`; years 80–99 are 1980–1999, 00–79 are 2000–2079.
fn read_date(v: &str) -> Option<NaiveDate> {
    if v.len() != 6 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |i: usize| v[i..i + 2].parse::<u32>().ok();
    let (day, month, yy) = (n(0)?, n(2)?, n(4)?);
    let year = if yy >= 80 { 1900 + yy } else { 2000 + yy };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// A plain decimal number: optional `-`, digits, optional `.` and digits
/// (no exponent, no `inf`, no `+`).
fn read_decimal(v: &str) -> Option<f64> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    v.parse().ok().filter(|x: &f64| x.is_finite())
}

/// `d…dmm.mmmm` with `degree_digits` digits of degrees, as unsigned
/// decimal degrees no larger than `limit`.
fn read_coordinate(v: &str, degree_digits: usize, limit: f64) -> Option<f64> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if int.len() != degree_digits + 2
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let degrees: f64 = int[..degree_digits].parse().ok()?;
    let minutes: f64 = v[degree_digits..].parse().ok()?;
    if minutes >= 60.0 {
        return None;
    }
    let value = degrees + minutes / 60.0;
    (value <= limit).then_some(value)
}

impl Gga {
    fn parse(talker: Talker, f: &Fields<'_>) -> Result<Self, NmeaError> {
        f.need(9)?;
        let quality = match f.get(6) {
            "" => FixQuality::Invalid,
            v => v
                .parse::<u8>()
                .ok()
                .filter(|_| v.len() == 1)
                .and_then(FixQuality::from_code)
                .ok_or_else(|| f.bad(6, "fix quality"))?,
        };
        let altitude_m = f.float(9, "altitude")?;
        if altitude_m.is_some() && !matches!(f.get(10), "M" | "") {
            return Err(f.bad(10, "altitude unit"));
        }
        let geoid_separation_m = f.float(11, "geoid separation")?;
        if geoid_separation_m.is_some() && !matches!(f.get(12), "M" | "") {
            return Err(f.bad(12, "geoid separation unit"));
        }
        Ok(Gga {
            talker,
            time: f.time(1)?,
            position: f.position(2)?,
            quality,
            satellites: f.number(7, "satellites used")?,
            hdop: f.dop(8, "HDOP")?,
            altitude_m,
            geoid_separation_m,
        })
    }

    /// The body this driver writes (`GPGGA,…`), 14 fields.
    pub fn body(&self) -> String {
        let (lat, lon) = position_fields(self.position);
        format!(
            "{}GGA,{},{lat},{lon},{},{},{},{},{},,",
            self.talker.code(),
            time_field(self.time),
            self.quality.code(),
            self.satellites
                .map(|n| format!("{n:02}"))
                .unwrap_or_default(),
            self.hdop.map(|x| format!("{x:.2}")).unwrap_or_default(),
            metres_field(self.altitude_m),
            metres_field(self.geoid_separation_m),
        )
    }
}

impl Rmc {
    fn parse(talker: Talker, f: &Fields<'_>) -> Result<Self, NmeaError> {
        f.need(11)?;
        let status = match f.get(2) {
            "A" => Status::Active,
            // Some receivers leave the status empty before the first fix.
            "V" | "" => Status::Void,
            _ => return Err(f.bad(2, "status")),
        };
        let magnetic_variation_deg = match f.unsigned_float(10, "magnetic variation")? {
            None => None,
            Some(x) => match f.get(11) {
                "E" => Some(x),
                "W" => Some(-x),
                _ => return Err(f.bad(11, "magnetic variation E/W")),
            },
        };
        let mode = f.letter(12, "mode")?;
        if mode.is_some_and(|m| !"ADEFMNPRS".contains(m)) {
            return Err(f.bad(12, "mode"));
        }
        Ok(Rmc {
            talker,
            time: f.time(1)?,
            status,
            position: f.position(3)?,
            speed_knots: f.unsigned_float(7, "speed")?,
            course_deg: f.unsigned_float(8, "course")?,
            date: f.opt(9, "date", read_date)?,
            magnetic_variation_deg,
            mode,
        })
    }

    /// The body this driver writes (`GPRMC,…`), with the mode field when
    /// there is a mode.
    pub fn body(&self) -> String {
        let (lat, lon) = position_fields(self.position);
        let variation = match self.magnetic_variation_deg {
            Some(x) => format!("{:05.1},{}", x.abs(), if x < 0.0 { 'W' } else { 'E' }),
            None => ",".into(),
        };
        let mut body = format!(
            "{}RMC,{},{},{lat},{lon},{},{},{},{variation}",
            self.talker.code(),
            time_field(self.time),
            match self.status {
                Status::Active => 'A',
                Status::Void => 'V',
            },
            self.speed_knots
                .map(|x| format!("{x:.3}"))
                .unwrap_or_default(),
            self.course_deg
                .map(|x| format!("{x:.2}"))
                .unwrap_or_default(),
            self.date
                .map(|d| format!(
                    "{:02}{:02}{:02}",
                    d.day(),
                    d.month(),
                    d.year().rem_euclid(100)
                ))
                .unwrap_or_default(),
        );
        if let Some(mode) = self.mode {
            body.push(',');
            body.push(mode);
        }
        body
    }
}

impl Gsa {
    fn parse(talker: Talker, f: &Fields<'_>) -> Result<Self, NmeaError> {
        f.need(17)?;
        let automatic = match f.get(1) {
            "A" => true,
            "M" => false,
            _ => return Err(f.bad(1, "mode")),
        };
        let fix_type = match f.get(2) {
            "1" | "" => FixType::NoFix,
            "2" => FixType::Fix2d,
            "3" => FixType::Fix3d,
            _ => return Err(f.bad(2, "fix type")),
        };
        let mut satellites = Vec::new();
        for index in 3..=14 {
            if let Some(prn) = f.number::<u16>(index, "satellite PRN")? {
                satellites.push(prn);
            }
        }
        Ok(Gsa {
            talker,
            automatic,
            fix_type,
            satellites,
            pdop: f.dop(15, "PDOP")?,
            hdop: f.dop(16, "HDOP")?,
            vdop: f.dop(17, "VDOP")?,
            system: f.opt(18, "system id", |v| {
                u8::from_str_radix(v, 16).ok().filter(|_| v.len() == 1)
            })?,
        })
    }

    /// The body this driver writes (`GPGSA,…`): twelve satellite slots.
    pub fn body(&self) -> String {
        let mut slots: Vec<String> = self
            .satellites
            .iter()
            .take(12)
            .map(|prn| format!("{prn:02}"))
            .collect();
        slots.resize(12, String::new());
        let dop = |x: Option<f32>| x.map(|x| format!("{x:.2}")).unwrap_or_default();
        let mut body = format!(
            "{}GSA,{},{},{},{},{},{}",
            self.talker.code(),
            if self.automatic { 'A' } else { 'M' },
            match self.fix_type {
                FixType::NoFix => 1,
                FixType::Fix2d => 2,
                FixType::Fix3d => 3,
            },
            slots.join(","),
            dop(self.pdop),
            dop(self.hdop),
            dop(self.vdop),
        );
        if let Some(system) = self.system {
            body.push_str(&format!(",{system:X}"));
        }
        body
    }
}

impl Gsv {
    fn parse(talker: Talker, f: &Fields<'_>) -> Result<Self, NmeaError> {
        f.need(3)?;
        let required = |index, name| {
            f.number::<u8>(index, name)?
                .ok_or_else(|| f.bad(index, name))
        };
        let messages = required(1, "number of messages")?;
        let number = required(2, "message number")?;
        if messages == 0 || number == 0 || number > messages {
            return Err(f.bad(2, "message number"));
        }
        let in_view = required(3, "satellites in view")?;
        // Blocks of four after field 3; one field more is the signal id.
        let rest = f.values.len() - 3;
        let (blocks, signal) = match rest % 4 {
            0 => (rest / 4, None),
            1 => {
                let index = f.values.len();
                let signal = f.opt(index, "signal id", |v| {
                    u8::from_str_radix(v, 16).ok().filter(|_| v.len() == 1)
                })?;
                (rest / 4, signal)
            }
            _ => {
                return Err(NmeaError::MissingFields {
                    sentence: SentenceKind::Gsv,
                    expected: 3 + rest.div_ceil(4) * 4,
                    found: f.values.len(),
                });
            }
        };
        let mut satellites = Vec::with_capacity(blocks);
        for block in 0..blocks {
            let at = 4 + block * 4;
            // Some receivers pad the last sentence with empty blocks.
            let Some(prn) = f.number::<u16>(at, "satellite PRN")? else {
                continue;
            };
            let elevation_deg = f.number::<u8>(at + 1, "elevation")?;
            if elevation_deg.is_some_and(|e| e > 90) {
                return Err(f.bad(at + 1, "elevation"));
            }
            let azimuth_deg = f.number::<u16>(at + 2, "azimuth")?;
            if azimuth_deg.is_some_and(|a| a > 359) {
                return Err(f.bad(at + 2, "azimuth"));
            }
            satellites.push(SatelliteInView {
                prn,
                elevation_deg,
                azimuth_deg,
                snr: f.number::<u8>(at + 3, "SNR")?,
            });
        }
        Ok(Gsv {
            talker,
            messages,
            number,
            in_view,
            satellites,
            signal,
        })
    }

    /// The body this driver writes (`GPGSV,…`).
    pub fn body(&self) -> String {
        let mut body = format!(
            "{}GSV,{},{},{:02}",
            self.talker.code(),
            self.messages,
            self.number,
            self.in_view
        );
        let opt = |x: Option<String>| x.unwrap_or_default();
        for s in &self.satellites {
            body.push_str(&format!(
                ",{:02},{},{},{}",
                s.prn,
                opt(s.elevation_deg.map(|x| format!("{x:02}"))),
                opt(s.azimuth_deg.map(|x| format!("{x:03}"))),
                opt(s.snr.map(|x| format!("{x:02}"))),
            ));
        }
        if let Some(signal) = self.signal {
            body.push_str(&format!(",{signal:X}"));
        }
        body
    }
}

/// `hhmmss.ss` (hundredths truncated), empty for `None`.
fn time_field(time: Option<NaiveTime>) -> String {
    let Some(t) = time else {
        return String::new();
    };
    // A leap second is stored as second 59 with nanoseconds ≥ 10⁹.
    let (second, nanos) = if t.nanosecond() >= 1_000_000_000 {
        (60, t.nanosecond() - 1_000_000_000)
    } else {
        (t.second(), t.nanosecond())
    };
    format!(
        "{:02}{:02}{:02}.{:02}",
        t.hour(),
        t.minute(),
        second,
        nanos / 10_000_000
    )
}

/// The latitude (`ddmm.mmmmm,N`) and longitude (`dddmm.mmmmm,E`) fields,
/// empty pairs for `None`.
fn position_fields(position: Option<Position>) -> (String, String) {
    match position {
        Some(p) => (
            coordinate_field(p.latitude, 2, ('N', 'S')),
            coordinate_field(p.longitude, 3, ('E', 'W')),
        ),
        None => (",".into(), ",".into()),
    }
}

fn coordinate_field(
    value: f64,
    degree_digits: usize,
    (positive, negative): (char, char),
) -> String {
    const UNITS_PER_DEGREE: u64 = 60 * 100_000;
    // Hundred-thousandths of a minute (about 2 cm), rounded once so that
    // 59.999996' carries into the degrees.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let units = (value.abs() * UNITS_PER_DEGREE as f64).round() as u64;
    let degrees = units / UNITS_PER_DEGREE;
    let minutes = units % UNITS_PER_DEGREE;
    format!(
        "{degrees:0degree_digits$}{:02}.{:05},{}",
        minutes / 100_000,
        minutes % 100_000,
        if value < 0.0 { negative } else { positive }
    )
}

/// A length in metres with its unit (`545.4,M`), or `,` for `None`.
fn metres_field(metres: Option<f64>) -> String {
    match metres {
        Some(x) => format!("{x:.1},M"),
        None => ",".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The GGA example of the NMEA references (gpsd's "NMEA 0183 revealed",
    /// Dale DePriester's notes), position 48°07.038' N 11°31.000' E.
    const GGA: &str = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n";
    /// The RMC of the same references.
    const RMC: &str = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n";

    fn gga(line: &str) -> Gga {
        match parse(line) {
            Ok(Sentence::Gga(g)) => g,
            other => panic!("not a GGA: {other:?}"),
        }
    }

    fn rmc(line: &str) -> Rmc {
        match parse(line) {
            Ok(Sentence::Rmc(r)) => r,
            other => panic!("not an RMC: {other:?}"),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn checksums_of_the_reference_sentences() {
        assert_eq!(
            checksum("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"),
            0x47
        );
        assert_eq!(
            checksum("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"),
            0x6A
        );
        assert_eq!(
            sentence("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"),
            RMC
        );
    }

    #[test]
    fn reference_gga() {
        let g = gga(GGA);
        assert_eq!(g.talker, Talker::Gps);
        assert_eq!(g.time, NaiveTime::from_hms_opt(12, 35, 19));
        let p = g.position.expect("a position");
        assert!(close(p.latitude, 48.0 + 7.038 / 60.0), "{p:?}");
        assert!(close(p.longitude, 11.0 + 31.0 / 60.0), "{p:?}");
        assert_eq!(g.quality, FixQuality::Gps);
        assert_eq!(g.satellites, Some(8));
        assert_eq!(g.hdop, Some(0.9));
        assert_eq!(g.altitude_m, Some(545.4));
        assert_eq!(g.geoid_separation_m, Some(46.9));
    }

    #[test]
    fn reference_rmc() {
        let r = rmc(RMC);
        assert_eq!(r.time, NaiveTime::from_hms_opt(12, 35, 19));
        assert_eq!(r.status, Status::Active);
        let p = r.position.expect("a position");
        assert!(close(p.latitude, 48.1173), "{p:?}");
        assert!(close(p.longitude, 11.516_666_666_666_667), "{p:?}");
        assert_eq!(r.speed_knots, Some(22.4));
        assert_eq!(r.course_deg, Some(84.4));
        assert_eq!(r.date, NaiveDate::from_ymd_opt(1994, 3, 23));
        assert_eq!(r.magnetic_variation_deg, Some(-3.1));
        assert_eq!(r.mode, None);
    }

    /// Sentences as a u-blox NEO-6M/M8N sends them (NMEA 2.3/4.0 output
    /// of the u-blox protocol specification's examples).
    #[test]
    fn u_blox_style_sentences() {
        let r = rmc("$GPRMC,083559.00,A,4717.11437,N,00833.91522,E,0.004,77.52,091202,,,A*57");
        assert_eq!(r.talker, Talker::Gps);
        assert_eq!(r.time, NaiveTime::from_hms_milli_opt(8, 35, 59, 0));
        assert_eq!(r.mode, Some('A'));
        assert_eq!(r.date, NaiveDate::from_ymd_opt(2002, 12, 9));
        let p = r.position.expect("position");
        assert!(close(p.latitude, 47.0 + 17.11437 / 60.0));
        assert!(close(p.longitude, 8.0 + 33.91522 / 60.0));

        let g = gga("$GPGGA,092725.00,4717.11399,N,00833.91590,E,1,08,1.01,499.6,M,48.0,M,,*5B");
        assert_eq!(g.time, NaiveTime::from_hms_milli_opt(9, 27, 25, 0));
        assert_eq!(g.satellites, Some(8));
        assert_eq!(g.hdop, Some(1.01));
        assert_eq!(g.altitude_m, Some(499.6));

        let Ok(Sentence::Gsa(a)) =
            parse("$GPGSA,A,3,23,29,07,08,09,18,26,28,,,,,1.94,1.18,1.54*0D")
        else {
            panic!("GSA");
        };
        assert!(a.automatic);
        assert_eq!(a.fix_type, FixType::Fix3d);
        assert_eq!(a.satellites, [23, 29, 7, 8, 9, 18, 26, 28]);
        assert_eq!(
            (a.pdop, a.hdop, a.vdop),
            (Some(1.94), Some(1.18), Some(1.54))
        );

        let Ok(Sentence::Gsv(v)) =
            parse("$GPGSV,3,1,10,23,38,230,44,29,71,156,47,07,29,116,41,08,09,081,36*7F")
        else {
            panic!("GSV");
        };
        assert_eq!((v.messages, v.number, v.in_view), (3, 1, 10));
        assert_eq!(v.satellites.len(), 4);
        assert_eq!(
            v.satellites[0],
            SatelliteInView {
                prn: 23,
                elevation_deg: Some(38),
                azimuth_deg: Some(230),
                snr: Some(44)
            }
        );
        let Ok(Sentence::Gsv(last)) = parse("$GPGSV,3,3,10,26,82,187,47,28,43,056,46*77") else {
            panic!("GSV 3/3");
        };
        assert_eq!(last.satellites.len(), 2);
    }

    /// A receiver during a cold start: empty fields are "no fix", not errors.
    #[test]
    fn cold_start_sentences_have_empty_fields() {
        let g = gga("$GPGGA,,,,,,0,00,99.99,,,,,,*48");
        assert_eq!(g.time, None);
        assert_eq!(g.position, None);
        assert_eq!(g.quality, FixQuality::Invalid);
        assert_eq!(g.satellites, Some(0));
        assert_eq!(g.hdop, Some(99.99));
        let r = rmc("$GPRMC,,V,,,,,,,,,,N*53");
        assert_eq!(r.status, Status::Void);
        assert_eq!((r.time, r.position, r.date), (None, None, None));
        assert_eq!(r.mode, Some('N'));
        let Ok(Sentence::Gsa(a)) = parse("$GPGSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99*30") else {
            panic!("GSA");
        };
        assert_eq!(a.fix_type, FixType::NoFix);
        assert!(a.satellites.is_empty());
        let Ok(Sentence::Gsv(v)) = parse("$GPGSV,1,1,00*79") else {
            panic!("GSV");
        };
        assert_eq!(v.in_view, 0);
    }

    #[test]
    fn southern_and_western_hemispheres() {
        // Sydney Opera House and Rio de Janeiro.
        let body = "GPGGA,010203.00,3351.40800,S,15112.91800,E,1,09,0.80,5.0,M,,M,,";
        let g = gga(&sentence(body));
        let p = g.position.expect("position");
        assert!(close(p.latitude, -(33.0 + 51.408 / 60.0)), "{p:?}");
        assert!(close(p.longitude, 151.0 + 12.918 / 60.0), "{p:?}");
        let body = "GNRMC,235959.50,A,2254.41400,S,04312.57000,W,0.000,,311299,,,D";
        let r = rmc(&sentence(body));
        let p = r.position.expect("position");
        assert!(close(p.latitude, -(22.0 + 54.414 / 60.0)), "{p:?}");
        assert!(close(p.longitude, -(43.0 + 12.57 / 60.0)), "{p:?}");
        assert_eq!(r.date, NaiveDate::from_ymd_opt(1999, 12, 31));
        assert_eq!(r.time, NaiveTime::from_hms_milli_opt(23, 59, 59, 500));
        // And back: the writer puts S and W with positive magnitudes.
        assert_eq!(r.body(), body);
    }

    #[test]
    fn writer_round_trips_the_reference_sentences() {
        let g = gga(GGA);
        assert_eq!(
            g.body(),
            "GPGGA,123519.00,4807.03800,N,01131.00000,E,1,08,0.90,545.4,M,46.9,M,,"
        );
        assert_eq!(gga(&sentence(&g.body())), g);
        let r = rmc(RMC);
        assert_eq!(
            r.body(),
            "GPRMC,123519.00,A,4807.03800,N,01131.00000,E,22.400,84.40,230394,003.1,W"
        );
        assert_eq!(rmc(&sentence(&r.body())), r);
    }

    #[test]
    fn talkers() {
        for (code, talker) in [
            ("GP", Talker::Gps),
            ("GN", Talker::Gnss),
            ("GL", Talker::Glonass),
            ("GA", Talker::Galileo),
            ("BD", Talker::Beidou),
        ] {
            let g = gga(&sentence(&format!("{code}GGA,,,,,,0,00,,,,,,,")));
            assert_eq!(g.talker, talker);
            assert_eq!(talker.code(), code);
        }
        assert_eq!(Talker::from_code("GB"), Some(Talker::Beidou));
        // A talker this driver does not read is skipped, not refused.
        assert_eq!(
            parse(&sentence("IIGGA,,,,,,0,00,,,,,,,")),
            Ok(Sentence::Other("IIGGA".into()))
        );
    }

    #[test]
    fn unknown_and_proprietary_sentences_are_skipped() {
        assert_eq!(
            parse("$GPVTG,77.52,T,,M,0.004,N,0.008,K,A*06"),
            Ok(Sentence::Other("GPVTG".into()))
        );
        assert_eq!(
            parse(&sentence("PUBX,00,081350.00,4717.113210,N")),
            Ok(Sentence::Other("PUBX".into()))
        );
        assert_eq!(
            parse(&sentence("GPTXT,01,01,02,u-blox ag - www.u-blox.com")),
            Ok(Sentence::Other("GPTXT".into()))
        );
    }

    #[test]
    fn checksum_errors_are_precise() {
        let bad = GGA.replace("*47", "*46");
        assert_eq!(
            parse(&bad),
            Err(NmeaError::BadChecksum {
                expected: 0x47,
                found: 0x46
            })
        );
        // A flipped digit in the content, checksum unchanged.
        let flipped = GGA.replace("545.4", "545.5");
        assert!(
            matches!(
                parse(&flipped),
                Err(NmeaError::BadChecksum { found: 0x47, .. })
            ),
            "{:?}",
            parse(&flipped)
        );
        assert_eq!(
            parse("$GPGGA,123519,4807.038,N"),
            Err(NmeaError::MissingChecksum)
        );
        assert_eq!(
            parse("$GPGGA,1*4"),
            Err(NmeaError::MalformedChecksum("4".into()))
        );
        assert_eq!(
            parse("$GPGGA,1*4G"),
            Err(NmeaError::MalformedChecksum("4G".into()))
        );
        // Lower-case hex is accepted.
        assert!(parse("$GPGSA,A,3,23,29,07,08,09,18,26,28,,,,,1.94,1.18,1.54*0d").is_ok());
        assert_eq!(parse("GPGGA*00"), Err(NmeaError::NoStart));
    }

    #[test]
    fn field_errors_name_the_field() {
        let e = parse(&sentence(
            "GPGGA,123519,48x7.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",
        ));
        assert_eq!(
            e,
            Err(NmeaError::BadField {
                sentence: SentenceKind::Gga,
                index: 2,
                name: "latitude",
                value: "48x7.038".into()
            })
        );
        assert_eq!(
            e.expect_err("bad").to_string(),
            "GGA field 2 (latitude) is malformed: \"48x7.038\""
        );
        let bad_field = |body: &str| match parse(&sentence(body)) {
            Err(NmeaError::BadField { index, name, .. }) => (index, name),
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(
            bad_field("GPGGA,123519,4807.038,X,01131.000,E,1,08,0.9,545.4,M,,M,,"),
            (3, "N/S")
        );
        assert_eq!(
            bad_field("GPGGA,123519,4807.038,N,,,1,08,0.9,545.4,M,,M,,"),
            (4, "longitude")
        );
        assert_eq!(
            bad_field("GPGGA,123519,9107.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,"),
            (2, "latitude")
        );
        assert_eq!(
            bad_field("GPGGA,123519,4867.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,"),
            (2, "latitude")
        );
        assert_eq!(
            bad_field("GPGGA,123519,4807.038,N,18131.000,E,1,08,0.9,545.4,M,,M,,"),
            (4, "longitude")
        );
        assert_eq!(
            bad_field("GPGGA,126519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,"),
            (1, "UTC time")
        );
        assert_eq!(
            bad_field("GPGGA,123519,4807.038,N,01131.000,E,9,08,0.9,545.4,M,,M,,"),
            (6, "fix quality")
        );
        assert_eq!(
            bad_field("GPGGA,123519,4807.038,N,01131.000,E,1,8a,0.9,545.4,M,,M,,"),
            (7, "satellites used")
        );
        assert_eq!(
            bad_field("GPGGA,123519,4807.038,N,01131.000,E,1,08,inf,545.4,M,,M,,"),
            (8, "HDOP")
        );
        assert_eq!(
            bad_field("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,5e2,M,,M,,"),
            (9, "altitude")
        );
        assert_eq!(
            bad_field("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,F,,M,,"),
            (10, "altitude unit")
        );
        assert_eq!(
            bad_field("GPRMC,123519,X,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"),
            (2, "status")
        );
        assert_eq!(
            bad_field("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,310294,003.1,W"),
            (9, "date")
        );
        assert_eq!(
            bad_field("GPRMC,123519,A,4807.038,N,01131.000,E,-22.4,084.4,230394,003.1,W"),
            (7, "speed")
        );
        assert_eq!(
            bad_field("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,Q"),
            (11, "magnetic variation E/W")
        );
        assert_eq!(
            bad_field("GPGSV,2,3,08,01,40,083,46"),
            (2, "message number")
        );
        assert_eq!(bad_field("GPGSV,1,1,01,01,95,083,46"), (5, "elevation"));
        assert_eq!(
            parse(&sentence("GPRMC,123519,A")),
            Err(NmeaError::MissingFields {
                sentence: SentenceKind::Rmc,
                expected: 11,
                found: 2
            })
        );
        assert_eq!(
            parse(&sentence("GPGSV,1,1,01,01,40")),
            Err(NmeaError::MissingFields {
                sentence: SentenceKind::Gsv,
                expected: 7,
                found: 5
            })
        );
        assert_eq!(
            parse(&sentence("GPG,1")),
            Err(NmeaError::BadAddress("GPG".into()))
        );
        assert_eq!(
            parse(&sentence("gpgga,1")),
            Err(NmeaError::BadAddress("gpgga".into()))
        );
    }

    #[test]
    fn leap_seconds_and_fractions() {
        let t = read_time("235960.5").expect("a leap second");
        assert_eq!(time_field(Some(t)), "235960.50");
        assert_eq!(
            read_time("010203.123456789"),
            NaiveTime::from_hms_nano_opt(1, 2, 3, 123_456_789)
        );
        assert_eq!(read_time("010203.1234567891"), None);
        assert_eq!(read_time("0102"), None);
        assert_eq!(read_time("240000"), None);
        assert_eq!(read_date("290200"), NaiveDate::from_ymd_opt(2000, 2, 29));
        assert_eq!(read_date("290201"), None);
        assert_eq!(read_date("010180"), NaiveDate::from_ymd_opt(1980, 1, 1));
        assert_eq!(read_date("311279"), NaiveDate::from_ymd_opt(2079, 12, 31));
    }

    #[test]
    fn coordinates_round_at_the_last_digit_and_carry() {
        // 59.999999' rounds to a whole degree.
        assert_eq!(
            coordinate_field(35.999_999_99, 2, ('N', 'S')),
            "3600.00000,N"
        );
        assert_eq!(coordinate_field(-0.5, 3, ('E', 'W')), "00030.00000,W");
        assert_eq!(coordinate_field(180.0, 3, ('E', 'W')), "18000.00000,E");
        assert_eq!(coordinate_field(35.6892, 2, ('N', 'S')), "3541.35200,N");
        assert_eq!(coordinate_field(51.389, 3, ('E', 'W')), "05123.34000,E");
    }

    fn frames(framer: &mut Framer, bytes: &[u8]) -> Vec<Result<Sentence, NmeaError>> {
        framer
            .push(bytes)
            .into_iter()
            .map(|f| f.and_then(|f| f.parse()))
            .collect()
    }

    #[test]
    fn framer_finds_sentences_between_garbage() {
        let mut stream = b"\x00\xff garbage \r\n".to_vec();
        stream.extend_from_slice(GGA.as_bytes());
        stream.extend_from_slice(b"~~\x80\x81");
        stream.extend_from_slice(RMC.as_bytes());
        let mut framer = Framer::new();
        let out = frames(&mut framer, &stream);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(matches!(out[0], Ok(Sentence::Gga(_))));
        assert!(matches!(out[1], Ok(Sentence::Rmc(_))));
        assert_eq!(framer.skipped(), 13 + 4);
        assert_eq!(framer.buffered(), 0);
    }

    #[test]
    fn framer_handles_byte_by_byte_and_split_reads() {
        let stream = format!("{GGA}{RMC}");
        for chunk in [1, 2, 3, 7, 64, 200] {
            let mut framer = Framer::new();
            let out: Vec<_> = stream
                .as_bytes()
                .chunks(chunk)
                .flat_map(|c| frames(&mut framer, c))
                .collect();
            assert_eq!(out.len(), 2, "chunk {chunk}: {out:?}");
            assert!(out.iter().all(Result::is_ok), "chunk {chunk}: {out:?}");
        }
    }

    #[test]
    fn framer_accepts_a_bare_line_feed() {
        let mut framer = Framer::new();
        let line = GGA.replace("\r\n", "\n");
        assert!(matches!(frames(&mut framer, line.as_bytes())[..], [Ok(_)]));
    }

    #[test]
    fn a_cut_sentence_does_not_cost_the_next() {
        let mut stream = GGA.as_bytes()[..30].to_vec();
        stream.extend_from_slice(RMC.as_bytes());
        let mut framer = Framer::new();
        let out = frames(&mut framer, &stream);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0], Err(NmeaError::Truncated(30)));
        assert!(matches!(out[1], Ok(Sentence::Rmc(_))));
    }

    #[test]
    fn line_noise_inside_a_sentence_is_reported() {
        let mut noisy = GGA.as_bytes().to_vec();
        noisy[20] = 0x8A;
        noisy.extend_from_slice(RMC.as_bytes());
        let mut framer = Framer::new();
        let out = frames(&mut framer, &noisy);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0], Err(NmeaError::NotPrintable(0x8A)));
        assert!(matches!(out[1], Ok(Sentence::Rmc(_))));

        // A lone CR in the middle of a line.
        let cr = GGA.replacen(",", "\r,", 1);
        let out = frames(&mut Framer::new(), cr.as_bytes());
        assert_eq!(out, [Err(NmeaError::NotPrintable(b'\r'))]);
    }

    #[test]
    fn sentences_over_82_characters_are_refused() {
        // Exactly 82 with CR LF: accepted.
        let body = format!("GPTXT,{}", "x".repeat(82 - 6 - 6));
        let line = sentence(&body);
        assert_eq!(line.len(), MAX_SENTENCE_LEN);
        let mut framer = Framer::new();
        assert!(matches!(
            frames(&mut framer, line.as_bytes())[..],
            [Ok(Sentence::Other(_))]
        ));
        // One more: refused, and the framer holds no more than a sentence.
        let long = sentence(&format!("{body}x"));
        let mut stream = long.as_bytes().to_vec();
        stream.extend_from_slice(GGA.as_bytes());
        let out = frames(&mut framer, &stream);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0], Err(NmeaError::TooLong));
        assert!(matches!(out[1], Ok(Sentence::Gga(_))));
        assert_eq!(parse(&long), Err(NmeaError::TooLong));
        // A '$' followed by endless printable noise stays bounded.
        let mut framer = Framer::new();
        let noise = format!("${}", "A".repeat(10_000));
        let out = framer.push(noise.as_bytes());
        assert!(framer.buffered() <= MAX_SENTENCE_LEN);
        assert!(out.iter().all(|r| r == &Err(NmeaError::TooLong)), "{out:?}");
    }

    #[test]
    fn framer_never_panics_on_random_bytes() {
        // xorshift64*: deterministic, no dependency.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let alphabet = b"$*,.\r\nGPNRMCAV0123456789ABCDEFNSEW";
        let mut sentences = 0usize;
        for _ in 0..5_000 {
            let len = (next() % 300) as usize;
            let bias = next() % 3;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    match bias {
                        // Raw bytes.
                        0 => r.to_le_bytes()[0],
                        // NMEA-ish characters, to reach the field parsers.
                        _ => alphabet[(r % alphabet.len() as u64) as usize],
                    }
                })
                .collect();
            let mut framer = Framer::new();
            let mut combiner = crate::fix::Combiner::new();
            for chunk in bytes.chunks(1 + (next() % 17) as usize) {
                for frame in framer.push(chunk) {
                    assert!(framer.buffered() <= MAX_SENTENCE_LEN);
                    let Ok(frame) = frame else { continue };
                    sentences += 1;
                    if let Ok(s) = frame.parse() {
                        if let Some(body) = s.body() {
                            // Whatever parsed is written back parseably.
                            assert!(Sentence::parse(&body).is_ok(), "{body}");
                        }
                        let _ = combiner.push(s);
                    }
                }
            }
        }
        // Random framing rarely yields a checksum-valid line; it is the
        // error paths that are exercised. Make sure of a few valid ones too.
        let mut framer = Framer::new();
        for i in 0..2_000u32 {
            let body = format!("GPGGA,{:06},{i}", next() % 1_000_000);
            let n = framer.push(sentence(&body).as_bytes()).len();
            sentences += n;
        }
        assert!(sentences >= 2_000);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn talker() -> impl Strategy<Value = Talker> {
            prop_oneof![
                Just(Talker::Gps),
                Just(Talker::Gnss),
                Just(Talker::Glonass),
                Just(Talker::Galileo),
                Just(Talker::Beidou),
            ]
        }

        /// Times at the hundredth of a second the writer keeps.
        fn time() -> impl Strategy<Value = Option<NaiveTime>> {
            proptest::option::of((0u32..24, 0u32..60, 0u32..60, 0u32..100).prop_map(
                |(h, m, s, cs)| NaiveTime::from_hms_milli_opt(h, m, s, cs * 10).expect("valid"),
            ))
        }

        /// Positions at the 10⁻⁵ minute the writer keeps.
        fn position() -> impl Strategy<Value = Option<Position>> {
            let units = |max: i64| (-max..=max).prop_map(|u| u as f64 / 6_000_000.0);
            proptest::option::of((units(90 * 6_000_000), units(180 * 6_000_000)).prop_map(
                |(latitude, longitude)| Position {
                    latitude,
                    longitude,
                },
            ))
        }

        fn tenths() -> impl Strategy<Value = Option<f64>> {
            proptest::option::of((-100_000i32..100_000).prop_map(|t| f64::from(t) / 10.0))
        }

        fn dop() -> impl Strategy<Value = Option<f32>> {
            proptest::option::of((0u16..10_000).prop_map(|h| f32::from(h) / 100.0))
        }

        fn same_position(a: Option<Position>, b: Option<Position>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => {
                    (a.latitude - b.latitude).abs() < 1e-9
                        && (a.longitude - b.longitude).abs() < 1e-9
                }
                (None, None) => true,
                _ => false,
            }
        }

        proptest! {
            #[test]
            fn gga_round_trips(
                talker in talker(),
                time in time(),
                position in position(),
                quality in (0u8..=8).prop_map(|q| FixQuality::from_code(q).expect("0-8")),
                satellites in proptest::option::of(0u8..=99),
                hdop in dop(),
                altitude_m in tenths(),
                geoid_separation_m in tenths(),
            ) {
                let g = Gga { talker, time, position, quality, satellites, hdop, altitude_m, geoid_separation_m };
                let line = sentence(&g.body());
                prop_assert!(line.len() <= MAX_SENTENCE_LEN, "{}", line);
                let Ok(Sentence::Gga(back)) = parse(&line) else {
                    return Err(TestCaseError::fail(format!("{line}: {:?}", parse(&line))));
                };
                prop_assert!(same_position(back.position, g.position), "{line}");
                prop_assert_eq!(Gga { position: g.position, ..back }, g);
            }

            #[test]
            fn rmc_round_trips(
                talker in talker(),
                time in time(),
                active in any::<bool>(),
                position in position(),
                speed in proptest::option::of((0u32..1_000_000).prop_map(|k| f64::from(k) / 1000.0)),
                course in proptest::option::of((0u32..36_000).prop_map(|c| f64::from(c) / 100.0)),
                date in proptest::option::of((1980i32..2080, 1u32..=12, 1u32..=28)
                    .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).expect("valid"))),
                variation in proptest::option::of((-1800i32..=1800).prop_map(|v| f64::from(v) / 10.0)),
                mode in proptest::option::of(proptest::sample::select(vec!['A', 'D', 'E', 'N'])),
            ) {
                let r = Rmc {
                    talker,
                    time,
                    status: if active { Status::Active } else { Status::Void },
                    position,
                    speed_knots: speed,
                    course_deg: course,
                    date,
                    // -0.0 is written as 000.0,E and reads back as 0.0.
                    magnetic_variation_deg: variation.map(|v| if v == 0.0 { 0.0 } else { v }),
                    mode,
                };
                let line = sentence(&r.body());
                prop_assert!(line.len() <= MAX_SENTENCE_LEN, "{}", line);
                let Ok(Sentence::Rmc(back)) = parse(&line) else {
                    return Err(TestCaseError::fail(format!("{line}: {:?}", parse(&line))));
                };
                prop_assert!(same_position(back.position, r.position), "{line}");
                prop_assert_eq!(Rmc { position: r.position, ..back }, r);
            }

            #[test]
            fn gsa_and_gsv_round_trip(
                talker in talker(),
                used in proptest::collection::vec(1u16..=99, 0..=12),
                pdop in dop(), hdop in dop(), vdop in dop(),
                sats in proptest::collection::vec(
                    (1u16..=99, proptest::option::of(0u8..=90), proptest::option::of(0u16..360), proptest::option::of(0u8..=99)),
                    0..=4),
            ) {
                let a = Gsa {
                    talker,
                    automatic: true,
                    fix_type: if used.is_empty() { FixType::NoFix } else { FixType::Fix3d },
                    satellites: used,
                    pdop, hdop, vdop,
                    system: None,
                };
                prop_assert_eq!(parse(&sentence(&a.body())), Ok(Sentence::Gsa(a)));
                let v = Gsv {
                    talker,
                    messages: 1,
                    number: 1,
                    in_view: u8::try_from(sats.len()).expect("≤ 4"),
                    satellites: sats.into_iter().map(|(prn, elevation_deg, azimuth_deg, snr)| SatelliteInView { prn, elevation_deg, azimuth_deg, snr }).collect(),
                    signal: None,
                };
                prop_assert_eq!(parse(&sentence(&v.body())), Ok(Sentence::Gsv(v)));
            }

            #[test]
            fn any_bytes_any_split_never_panic(
                bytes in proptest::collection::vec(any::<u8>(), 0..400),
                split in 1usize..50,
            ) {
                let mut framer = Framer::new();
                let mut total = 0;
                for chunk in bytes.chunks(split) {
                    total += framer.push(chunk).len();
                    prop_assert!(framer.buffered() <= MAX_SENTENCE_LEN);
                }
                prop_assert!(total <= bytes.len());
            }

            #[test]
            fn a_sentence_survives_any_garbage_before_it(
                garbage in proptest::collection::vec(any::<u8>().prop_filter("no $", |b| *b != b'$'), 0..200),
            ) {
                let mut framer = Framer::new();
                let mut stream = garbage;
                // The garbage may leave a sentence open; a new line ends it.
                stream.push(b'\n');
                stream.extend_from_slice(GGA.as_bytes());
                let out = framer.push(&stream);
                prop_assert!(matches!(out.last(), Some(Ok(_))), "{:?}", out);
            }
        }
    }
}
