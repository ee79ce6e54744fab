//! Recording a module's traffic once and replaying it in tests.
//!
//! A transcript is a text file, one line per chunk of bytes:
//!
//! ```text
//! # pishkhan-zfm transcript v1
//! # free-form comments start with '#'
//! > ef01ffffffff0100071300000000001b
//! < ef01ffffffff07000300000a
//! ```
//!
//! `> ` lines are bytes the host wrote, `< ` lines bytes it read, as hex.
//! The first line is always the [`HEADER`]. A [`Recorder`] wraps a real
//! port and writes such a transcript while the driver talks through it; a
//! [`Replayer`] plays the module's side back: it checks that the host
//! writes exactly what was recorded and answers with the recorded bytes.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use pishkhan_scanner::{CancelToken, Capture, CaptureRequest, Finger, Polling, ScanError, Scanner};

use crate::driver::{Config, POLL_INTERVAL, PORT_READ_TIMEOUT, ZfmSensor};

/// The first line of every transcript.
pub const HEADER: &str = "# pishkhan-zfm transcript v1";

/// One line of a transcript after the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `# text`: a comment (the text without `#` and one following space).
    Comment(String),
    /// `> hex`: bytes the host wrote to the module.
    Sent(Vec<u8>),
    /// `< hex`: bytes the host read from the module.
    Received(Vec<u8>),
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Comment(text) if text.is_empty() => f.write_str("#"),
            Line::Comment(text) => write!(f, "# {text}"),
            Line::Sent(bytes) => write!(f, "> {}", to_hex(bytes)),
            Line::Received(bytes) => write!(f, "< {}", to_hex(bytes)),
        }
    }
}

/// A parsed transcript: the lines after the header.
///
/// Line `i` of [`Transcript::lines`] is line `i + 2` of the text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    lines: Vec<Line>,
}

/// Why a transcript text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transcript line {line}: {problem}")]
pub struct ParseError {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub problem: String,
}

impl Transcript {
    /// An empty transcript (just the header).
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a transcript text. The parser is strict: the header must
    /// come first, every other line is a comment, `> hex` or `< hex` with
    /// a non-empty, even number of hex digits; blank lines are errors.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut raw = text.lines();
        match raw.next() {
            Some(first) if first == HEADER => {}
            _ => {
                return Err(ParseError {
                    line: 1,
                    problem: format!("expected the header `{HEADER}`"),
                });
            }
        }
        let mut lines = Vec::new();
        for (i, line) in raw.enumerate() {
            let number = i + 2;
            let fail = |problem: String| ParseError {
                line: number,
                problem,
            };
            if let Some(comment) = line.strip_prefix('#') {
                let comment = comment.strip_prefix(' ').unwrap_or(comment);
                lines.push(Line::Comment(comment.to_owned()));
            } else if let Some(hex) = line.strip_prefix("> ") {
                lines.push(Line::Sent(from_hex(hex).map_err(fail)?));
            } else if let Some(hex) = line.strip_prefix("< ") {
                lines.push(Line::Received(from_hex(hex).map_err(fail)?));
            } else if line.is_empty() {
                return Err(fail("a blank line".into()));
            } else {
                return Err(fail("a line must start with `> `, `< ` or `#`".into()));
            }
        }
        Ok(Self { lines })
    }

    /// The lines after the header.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The lines after the header, to edit (tests tamper with them).
    pub fn lines_mut(&mut self) -> &mut Vec<Line> {
        &mut self.lines
    }

    /// Appends a comment; a multi-line text becomes several comment lines.
    pub fn comment(&mut self, text: &str) {
        for line in text.lines() {
            self.lines.push(Line::Comment(line.to_owned()));
        }
        if text.is_empty() {
            self.lines.push(Line::Comment(String::new()));
        }
    }

    /// The text lines, header first, without line ends.
    pub fn text_lines(&self) -> Vec<String> {
        std::iter::once(HEADER.to_owned())
            .chain(self.lines.iter().map(Line::to_string))
            .collect()
    }

    /// All bytes the host wrote, in order.
    pub fn sent_bytes(&self) -> Vec<u8> {
        self.bytes(|l| match l {
            Line::Sent(b) => Some(b),
            _ => None,
        })
    }

    /// All bytes the host read, in order.
    pub fn received_bytes(&self) -> Vec<u8> {
        self.bytes(|l| match l {
            Line::Received(b) => Some(b),
            _ => None,
        })
    }

    fn bytes(&self, pick: impl Fn(&Line) -> Option<&Vec<u8>>) -> Vec<u8> {
        self.lines
            .iter()
            .filter_map(pick)
            .flatten()
            .copied()
            .collect()
    }
}

impl fmt::Display for Transcript {
    /// The transcript text, each line ended by `\n`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{HEADER}")?;
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

impl FromStr for Transcript {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        Self::parse(text)
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    s
}

/// Parses the hex after a direction mark; the column in errors counts
/// from the start of the line (the mark is 2 characters).
fn from_hex(hex: &str) -> Result<Vec<u8>, String> {
    if hex.is_empty() {
        return Err("no bytes after the direction mark".into());
    }
    let digit = |(i, c): (usize, char)| {
        c.to_digit(16)
            // A hex digit is below 16, so it fits a byte.
            .map(|d| d as u8)
            .ok_or_else(|| format!("{c:?} at column {} is not a hex digit", i + 3))
    };
    let digits = hex
        .chars()
        .enumerate()
        .map(digit)
        .collect::<Result<Vec<u8>, String>>()?;
    if digits.len() % 2 != 0 {
        return Err(format!("an odd number of hex digits ({})", digits.len()));
    }
    Ok(digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect())
}

/// At most this many bytes of a line are quoted in an error message.
const QUOTE: usize = 24;

fn quote(bytes: &[u8]) -> String {
    if bytes.len() > QUOTE {
        format!("{}… ({} bytes)", to_hex(&bytes[..QUOTE]), bytes.len())
    } else {
        to_hex(bytes)
    }
}

/// Passes bytes through to `inner` and records every write and every read
/// chunk in a [`Transcript`], optionally also streaming the text lines
/// to a sink as they happen (so a session that crashes still leaves its
/// transcript so far).
///
/// Read errors (a serial port's read timeouts) are passed on and not
/// recorded. When the sink fails, the read or write that was being
/// recorded returns the error: a recording must not silently miss bytes.
pub struct Recorder<T> {
    inner: T,
    transcript: Transcript,
    sink: Option<Box<dyn Write + Send>>,
}

impl<T> fmt::Debug for Recorder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("lines", &(self.transcript.lines.len() + 1))
            .field("sink", &self.sink.is_some())
            .finish_non_exhaustive()
    }
}

impl<T> Recorder<T> {
    /// Records the traffic through `inner` in memory.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            transcript: Transcript::new(),
            sink: None,
        }
    }

    /// Records in memory and also writes each line to `sink` at once,
    /// starting with the header.
    pub fn with_sink(inner: T, mut sink: Box<dyn Write + Send>) -> io::Result<Self> {
        writeln!(sink, "{HEADER}")?;
        Ok(Self {
            inner,
            transcript: Transcript::new(),
            sink: Some(sink),
        })
    }

    /// Adds a `# comment` line (several for a multi-line text).
    pub fn comment(&mut self, text: &str) -> io::Result<()> {
        let from = self.transcript.lines.len();
        self.transcript.comment(text);
        self.emit(from)
    }

    /// What was recorded so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The text lines recorded so far, header first.
    pub fn lines(&self) -> Vec<String> {
        self.transcript.text_lines()
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably (bytes moved through it directly are
    /// not recorded).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Flushes the sink and gives back the stream and the transcript.
    pub fn finish(mut self) -> io::Result<(T, Transcript)> {
        if let Some(sink) = self.sink.as_mut() {
            sink.flush()?;
        }
        Ok((self.inner, self.transcript))
    }

    fn record(&mut self, line: Line) -> io::Result<()> {
        let from = self.transcript.lines.len();
        self.transcript.lines.push(line);
        self.emit(from)
    }

    /// Writes the lines from index `from` on to the sink.
    fn emit(&mut self, from: usize) -> io::Result<()> {
        let Some(sink) = self.sink.as_mut() else {
            return Ok(());
        };
        for line in &self.transcript.lines[from..] {
            writeln!(sink, "{line}").map_err(|e| {
                io::Error::new(e.kind(), format!("cannot write the transcript: {e}"))
            })?;
        }
        Ok(())
    }
}

impl<T: Read> Read for Recorder<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.record(Line::Received(buf[..n].to_vec()))?;
        }
        Ok(n)
    }
}

impl<T: Write> Write for Recorder<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if n > 0 {
            self.record(Line::Sent(buf[..n].to_vec()))?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()?;
        match self.sink.as_mut() {
            Some(sink) => sink.flush(),
            None => Ok(()),
        }
    }
}

/// Plays the module's side of a recorded [`Transcript`].
///
/// - A write must match the next recorded `> ` bytes exactly (consecutive
///   `> ` lines form one stream, so chunking may differ); otherwise it
///   fails with [`io::ErrorKind::InvalidData`], naming the line and the
///   bytes, and nothing is consumed.
/// - A read returns the next recorded `< ` bytes, as many as fit, across
///   line boundaries but never past the next `> ` line: when the host
///   reads there, the recorded module was quiet, and the read fails with
///   [`io::ErrorKind::TimedOut`] like a serial port's read timeout.
/// - Reading past the end fails with [`io::ErrorKind::UnexpectedEof`]
///   (an unplugged module), or with `TimedOut` after
///   [`Replayer::silent_at_end`] (a module that stops answering).
///
/// Comments are skipped.
#[derive(Debug, Clone)]
pub struct Replayer {
    transcript: Transcript,
    /// Index of the current line in `transcript.lines`.
    line: usize,
    /// Bytes of the current line already consumed.
    offset: usize,
    silent_at_end: bool,
    quiet_pause: Duration,
}

impl Replayer {
    /// Replays `transcript` from its start.
    pub fn new(transcript: Transcript) -> Self {
        Self {
            transcript,
            line: 0,
            offset: 0,
            silent_at_end: false,
            quiet_pause: Duration::from_millis(1),
        }
    }

    /// Parses `text` and replays it.
    pub fn from_text(text: &str) -> Result<Self, ParseError> {
        Transcript::parse(text).map(Self::new)
    }

    /// Past the end of the transcript, reads time out (the module fell
    /// silent) instead of reporting the end of the stream.
    #[must_use]
    pub fn silent_at_end(mut self) -> Self {
        self.silent_at_end = true;
        self
    }

    /// The transcript being replayed.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Whether every recorded byte was written and read.
    pub fn is_finished(&self) -> bool {
        self.next_data().is_none()
    }

    /// The 1-based text line number of the next data line to replay, if
    /// any.
    pub fn next_line_number(&self) -> Option<usize> {
        self.next_data().map(|i| i + 2)
    }

    /// The index of the next data line with bytes left, skipping comments
    /// and consumed lines.
    fn next_data(&self) -> Option<usize> {
        let lines = &self.transcript.lines;
        (self.line..lines.len()).find(|&i| match &lines[i] {
            Line::Comment(_) => false,
            Line::Sent(b) | Line::Received(b) => i > self.line || self.offset < b.len(),
        })
    }

    fn end_of_transcript(&self) -> io::Error {
        let last = self.transcript.lines.len() + 1;
        if self.silent_at_end {
            std::thread::sleep(self.quiet_pause);
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the transcript ended at line {last}: the module is silent"),
            )
        } else {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the transcript ended at line {last}"),
            )
        }
    }
}

impl Read for Replayer {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut n = 0;
        while n < buf.len() {
            let Some(i) = self.next_data() else { break };
            let Line::Received(bytes) = &self.transcript.lines[i] else {
                break;
            };
            let from = if i == self.line { self.offset } else { 0 };
            let take = (bytes.len() - from).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&bytes[from..from + take]);
            n += take;
            self.line = i;
            self.offset = from + take;
        }
        if n > 0 {
            return Ok(n);
        }
        match self.next_data() {
            None => Err(self.end_of_transcript()),
            Some(i) => {
                // Like a serial port's read timeout; pause briefly so a
                // driver polling for a reply does not spin.
                std::thread::sleep(self.quiet_pause);
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "nothing recorded from the module before line {} (> )",
                        i + 2
                    ),
                ))
            }
        }
    }
}

impl Write for Replayer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Check everything first, so a refused write consumes nothing.
        let mut n = 0;
        let mut cursor = (self.line, self.offset);
        let lines = &self.transcript.lines;
        while n < buf.len() {
            let next = (cursor.0..lines.len()).find(|&i| match &lines[i] {
                Line::Comment(_) => false,
                Line::Sent(b) | Line::Received(b) => i > cursor.0 || cursor.1 < b.len(),
            });
            let Some(i) = next else {
                if n > 0 {
                    break;
                }
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the transcript ended at line {}, but the host wrote {}",
                        lines.len() + 1,
                        quote(buf)
                    ),
                ));
            };
            let expected = match &lines[i] {
                Line::Sent(b) => b,
                Line::Received(b) => {
                    if n > 0 {
                        break;
                    }
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "transcript line {}: the module's reply {} was recorded next, \
                             but the host wrote {}",
                            i + 2,
                            quote(b),
                            quote(buf)
                        ),
                    ));
                }
                Line::Comment(_) => unreachable!("comments are skipped"),
            };
            let from = if i == cursor.0 { cursor.1 } else { 0 };
            let take = (expected.len() - from).min(buf.len() - n);
            let want = &expected[from..from + take];
            let got = &buf[n..n + take];
            if let Some(k) = want.iter().zip(got).position(|(a, b)| a != b) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "transcript line {}: byte {} differs: recorded > {}, the host wrote {}",
                        i + 2,
                        from + k + 1,
                        quote(&expected[from..]),
                        quote(&buf[n..])
                    ),
                ));
            }
            n += take;
            cursor = (i, from + take);
        }
        (self.line, self.offset) = cursor;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How long [`record_session`] waits for the finger.
pub const RECORD_TIMEOUT: Duration = Duration::from_secs(30);

/// Records one session with a real module, for a test fixture: opens
/// `path` at `baud` (no baud search: pass the module's rate), connects
/// (VfyPwd, ReadSysPara) through a [`Recorder`], takes one capture of
/// the right index finger through [`Polling`] (waiting up to
/// [`RECORD_TIMEOUT`] for the finger) and writes the transcript to `out`,
/// also when the session fails (with the error as a final comment).
pub fn record_session(path: &str, baud: u32, out: &mut dyn Write) -> Result<Capture, ScanError> {
    let port = serialport::new(path, baud)
        .timeout(PORT_READ_TIMEOUT)
        .open()
        .map_err(|e| ScanError::Disconnected(format!("cannot open {path}: {e}")))?;
    let note = format!("recorded by record_session from {path} at {baud} baud");
    let (result, text) = record_capture(port, path, &note, Finger::RightIndex, RECORD_TIMEOUT);
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| ScanError::Disconnected(format!("cannot write the transcript: {e}")))?;
    result
}

/// A sink that keeps what is written, readable after the writer is gone.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Connects to the module behind `port` through a [`Recorder`] and takes
/// one capture of `finger` through [`Polling`]; returns the result and
/// the transcript text, which starts with `note` as a comment and ends
/// with the outcome (also when the handshake fails). This is what
/// [`record_session`] runs on a real port; the tests run it against the
/// virtual module.
pub fn record_capture<T: Read + Write + Send>(
    port: T,
    port_name: &str,
    note: &str,
    finger: Finger,
    timeout: Duration,
) -> (Result<Capture, ScanError>, String) {
    let buffer = SharedBuffer::default();
    let result = match Recorder::with_sink(port, Box::new(buffer.clone())) {
        Ok(recorder) => capture_through(recorder, port_name, note, finger, timeout),
        Err(e) => Err(ScanError::Disconnected(format!(
            "cannot write the transcript: {e}"
        ))),
    };
    let mut outcome = Transcript::new();
    match &result {
        Ok(c) => outcome.comment(&format!(
            "captured {} image(s) of {}x{}",
            c.fingers.len(),
            c.fingers.first().map_or(0, |i| i.width),
            c.fingers.first().map_or(0, |i| i.height)
        )),
        Err(e) => outcome.comment(&format!("the session failed: {e}")),
    }
    let mut text = String::from_utf8_lossy(&buffer.lock()).into_owned();
    for line in outcome.lines() {
        text.push_str(&format!("{line}\n"));
    }
    (result, text)
}

fn capture_through<T: Read + Write + Send>(
    mut recorder: Recorder<T>,
    port_name: &str,
    note: &str,
    finger: Finger,
    timeout: Duration,
) -> Result<Capture, ScanError> {
    let sink_failed =
        |e: io::Error| ScanError::Disconnected(format!("cannot write the transcript: {e}"));
    recorder.comment(note).map_err(sink_failed)?;
    recorder
        .comment("connect: VfyPwd, ReadSysPara")
        .map_err(sink_failed)?;
    let mut sensor = ZfmSensor::connect(recorder, port_name, Config::default())?;
    let p = *sensor.parameters();
    let recorder = sensor.port_mut();
    recorder
        .comment(&format!(
            "module: system id 0x{:04X}, {}-byte packets, {} baud",
            p.system_id,
            p.packet_size.bytes(),
            p.baud()
        ))
        .map_err(sink_failed)?;
    recorder
        .comment(&format!(
            "capture {finger:?} through Polling: GenImg until a finger, UpImage, \
             GenImg until it is lifted"
        ))
        .map_err(sink_failed)?;
    let mut scanner = Polling::new(sensor, POLL_INTERVAL);
    scanner.capture(
        &CaptureRequest::finger(finger, timeout),
        &CancelToken::new(),
        &mut |_| {},
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[&str]) -> String {
        let mut s = String::new();
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    #[test]
    fn parse_and_print_round_trip() {
        let t = text(&[HEADER, "# hello", "#", "> 0a0B", "< ff", "< 00ef"]);
        let parsed = Transcript::parse(&t).expect("valid");
        assert_eq!(
            parsed.lines(),
            &[
                Line::Comment("hello".into()),
                Line::Comment(String::new()),
                Line::Sent(vec![0x0A, 0x0B]),
                Line::Received(vec![0xFF]),
                Line::Received(vec![0x00, 0xEF]),
            ]
        );
        assert_eq!(parsed.to_string(), t.replace("0a0B", "0a0b"));
        assert_eq!(parsed.sent_bytes(), vec![0x0A, 0x0B]);
        assert_eq!(parsed.received_bytes(), vec![0xFF, 0x00, 0xEF]);
        // CRLF line ends (a Windows checkout) parse the same.
        assert_eq!(Transcript::parse(&t.replace('\n', "\r\n")), Ok(parsed));
    }

    #[test]
    fn parse_errors_name_the_line() {
        let err = |lines: &[&str]| Transcript::parse(&text(lines)).expect_err("invalid");
        assert_eq!(err(&["# pishkhan-zfm transcript v2"]).line, 1);
        assert_eq!(err(&[]).line, 1);
        let e = err(&[HEADER, "> 0102", "< 01x3"]);
        assert_eq!(e.line, 3);
        assert!(e.problem.contains("'x' at column 5"), "{e}");
        assert_eq!(e.to_string(), format!("transcript line 3: {}", e.problem));
        let e = err(&[HEADER, "# ok", "> 012"]);
        assert_eq!(e.line, 3);
        assert!(e.problem.contains("odd number"), "{e}");
        assert!(err(&[HEADER, "> "]).problem.contains("no bytes"));
        assert!(err(&[HEADER, ">0102"]).problem.contains("must start"));
        assert!(err(&[HEADER, "> 01 02"]).problem.contains("column 5"));
        assert!(err(&[HEADER, "", "> 01"]).problem.contains("blank"));
    }

    /// A stream that answers every write with a fixed reply.
    struct Echo {
        reply: Vec<u8>,
        pending: Vec<u8>,
    }

    impl Read for Echo {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pending.is_empty() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            Ok(n)
        }
    }

    impl Write for Echo {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.pending.extend_from_slice(&self.reply);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A sink whose lines the test can look at while the recorder runs.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("sink").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn recorder_passes_through_and_records_chunks() {
        let sink = Shared::default();
        let echo = Echo {
            reply: vec![1, 2, 3],
            pending: Vec::new(),
        };
        let mut r = Recorder::with_sink(echo, Box::new(sink.clone())).expect("sink");
        r.comment("two lines\nof comment").expect("comment");
        let mut buf = [0u8; 2];
        assert_eq!(
            r.read(&mut buf).expect_err("nothing yet").kind(),
            io::ErrorKind::TimedOut
        );
        r.write_all(&[0xAB, 0xCD]).expect("write");
        assert_eq!(r.read(&mut buf).expect("read"), 2);
        assert_eq!(buf, [1, 2]);
        assert_eq!(r.read(&mut buf).expect("read"), 1);
        let expected = [
            HEADER,
            "# two lines",
            "# of comment",
            "> abcd",
            "< 0102",
            "< 03",
        ];
        assert_eq!(r.lines(), expected);
        let streamed = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf-8");
        assert_eq!(streamed, text(&expected));
        let (_, transcript) = r.finish().expect("finish");
        assert_eq!(transcript.to_string(), streamed);
    }

    fn replayer(lines: &[&str]) -> Replayer {
        Replayer::from_text(&text(lines)).expect("valid")
    }

    #[test]
    fn replayer_reads_across_chunks_but_not_past_a_write() {
        let mut r = replayer(&[
            HEADER, "> 0102", "# c", "> 03", "< 0a0b", "# c", "< 0c", "> 04",
        ]);
        r.write_all(&[1, 2, 3]).expect("matches across lines");
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf[..1]).expect("read"), 1);
        assert_eq!(r.read(&mut buf).expect("read"), 2);
        assert_eq!(&buf[..2], &[0x0B, 0x0C]);
        let quiet = r.read(&mut buf).expect_err("the module was quiet");
        assert_eq!(quiet.kind(), io::ErrorKind::TimedOut);
        assert!(quiet.to_string().contains("line 8"), "{quiet}");
        assert_eq!(r.next_line_number(), Some(8));
        assert!(!r.is_finished());
        r.write_all(&[4]).expect("the last write");
        assert!(r.is_finished());
        let end = r.read(&mut buf).expect_err("past the end");
        assert_eq!(end.kind(), io::ErrorKind::UnexpectedEof);
        let more = r.write(&[5]).expect_err("nothing more recorded");
        assert_eq!(more.kind(), io::ErrorKind::InvalidData);
        assert!(more.to_string().contains("ended at line 8"), "{more}");
    }

    #[test]
    fn replayer_refuses_a_different_write_without_consuming_it() {
        let mut r = replayer(&[HEADER, "# c", "> 010203", "< 07"]);
        let e = r.write(&[1, 2, 9]).expect_err("differs");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let message = e.to_string();
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("byte 3"), "{message}");
        assert!(
            message.contains("010203") && message.contains("010209"),
            "{message}"
        );
        // Nothing was consumed: the right bytes still pass.
        assert_eq!(r.write(&[1, 2]).expect("prefix"), 2);
        assert_eq!(r.write(&[3, 3]).expect("the rest of the line"), 1);
        let e = r.write(&[3]).expect_err("a reply is due");
        assert!(e.to_string().contains("line 4"), "{e}");
        let mut buf = [0u8; 4];
        assert_eq!(r.read(&mut buf).expect("the reply"), 1);
        assert!(r.is_finished());
    }

    #[test]
    fn replayer_can_be_silent_at_the_end() {
        let mut r = replayer(&[HEADER, "< 01"]).silent_at_end();
        let mut buf = [0u8; 4];
        assert_eq!(r.read(&mut buf).expect("read"), 1);
        let e = r.read(&mut buf).expect_err("silent");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }
}
