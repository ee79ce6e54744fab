//! The host side: reading a receiver's sentences from a serial port (or
//! any byte stream) and turning them into fixes or specific errors.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use serialport::SerialPort;

use crate::fix::{Combiner, Fix, Reading};
use crate::proto::{Framer, NmeaError};

/// The baud rates NMEA receivers use, tried in this order by
/// [`Receiver::open_auto`]: 9600 (most receivers sold today), then 4800
/// (the NMEA 0183 standard rate, older receivers).
pub const BAUD_RATES: [u32; 2] = [9_600, 4_800];

/// Read timeout of the serial port: the longest a [`Receiver::poll`]
/// waits when nothing arrives.
pub const READ_TIMEOUT: Duration = Duration::from_millis(50);

/// How the driver judges a receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// A receiver sends sentences at least once a second. With no valid
    /// sentence for this long it is [`GpsError::Silent`] (nothing at all
    /// arrived) or [`GpsError::Protocol`] (bytes arrived, none valid).
    /// [`Receiver::open_auto`] listens this long at each baud rate.
    pub sentence_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            sentence_timeout: Duration::from_secs(3),
        }
    }
}

/// Why no position could be had. The `Display` text is a short English
/// sentence for logs and the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpsError {
    /// There is no such port (nothing plugged in, or a wrong name).
    #[error("there is no GPS port {port}")]
    PortMissing { port: String },
    /// The port exists but cannot be opened (busy, no permission).
    #[error("cannot open the GPS port {port}: {reason}")]
    Open { port: String, reason: String },
    /// The port failed while reading: the receiver was unplugged.
    #[error("the GPS receiver was disconnected ({0})")]
    Disconnected(String),
    /// Nothing at all arrived for this long.
    #[error("the GPS receiver sent nothing for {}", seconds(*.0))]
    Silent(Duration),
    /// Bytes arrived but no valid sentence: a wrong baud rate, a device
    /// that is not an NMEA receiver, or a line so noisy that every
    /// sentence is damaged.
    #[error(
        "the GPS receiver sent {bytes} bytes but no valid NMEA sentence{}",
        last_problem(.last.as_ref())
    )]
    Protocol {
        /// Bytes received since the last valid sentence.
        bytes: u64,
        /// Damaged sentences among them.
        bad_sentences: u64,
        /// What was wrong with the last damaged one.
        last: Option<NmeaError>,
    },
    /// The receiver works but found no position in time (indoors, or
    /// still starting).
    #[error("no GPS fix after {}{}", seconds(*.waited), satellites_seen(*.satellites))]
    NoFix {
        waited: Duration,
        /// Satellites the receiver saw (in view), when it said.
        satellites: Option<u8>,
    },
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn last_problem(last: Option<&NmeaError>) -> String {
    last.map(|e| format!(" (last problem: {e})"))
        .unwrap_or_default()
}

fn satellites_seen(satellites: Option<u8>) -> String {
    match satellites {
        None => String::new(),
        Some(0) => " (no satellites in view)".into(),
        Some(1) => " (1 satellite in view)".into(),
        Some(n) => format!(" ({n} satellites in view)"),
    }
}

/// A byte stream a receiver is read from.
pub trait Link: Read + Send {
    /// Drops what was received but not read yet, so that old sentences
    /// are not taken for new ones.
    fn discard_input(&mut self) -> io::Result<()>;
}

impl Link for Box<dyn SerialPort> {
    fn discard_input(&mut self) -> io::Result<()> {
        self.clear(serialport::ClearBuffer::Input)
            .map_err(io::Error::from)
    }
}

#[cfg(unix)]
impl Link for serialport::TTYPort {
    fn discard_input(&mut self) -> io::Result<()> {
        SerialPort::clear(self, serialport::ClearBuffer::Input).map_err(io::Error::from)
    }
}

/// A recorded byte stream (e.g. a log of a receiver's output): nothing
/// arrives later, so there is nothing to discard.
impl Link for &[u8] {
    fn discard_input(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Counts since the receiver was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes read.
    pub bytes: u64,
    /// Valid sentences (of any type, including ones this driver skips).
    pub sentences: u64,
    /// Damaged sentences (checksum, length, characters, fields).
    pub bad_sentences: u64,
    /// Fixes obtained.
    pub fixes: u64,
}

/// What arrived since the last valid sentence.
#[derive(Debug, Clone)]
struct Watch {
    last_valid: Instant,
    last_byte: Instant,
    bytes: u64,
    bad: u64,
    last_error: Option<NmeaError>,
}

impl Watch {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            last_valid: now,
            last_byte: now,
            bytes: 0,
            bad: 0,
            last_error: None,
        }
    }
}

/// An NMEA receiver behind a byte stream, by default a serial port.
pub struct Receiver<L: Link = Box<dyn SerialPort>> {
    link: L,
    name: String,
    config: Config,
    baud: Option<u32>,
    framer: Framer,
    combiner: Combiner,
    stats: Stats,
    watch: Watch,
    /// The virtual receiver this one reads, kept running as long as it.
    #[cfg(unix)]
    held: Option<crate::virtual_receiver::VirtualReceiver>,
}

impl<L: Link> std::fmt::Debug for Receiver<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("name", &self.name)
            .field("baud", &self.baud)
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<L: Link> Receiver<L> {
    /// A receiver read from `link`; `name` appears in errors and logs.
    ///
    /// The link's reads should time out now and then (serial ports do);
    /// a read that blocks forever would defeat the driver's timeouts.
    pub fn new(link: L, name: &str, config: Config) -> Self {
        Self {
            link,
            name: name.to_owned(),
            config,
            baud: None,
            framer: Framer::new(),
            combiner: Combiner::new(),
            stats: Stats::default(),
            watch: Watch::new(),
            #[cfg(unix)]
            held: None,
        }
    }

    /// The port name (or `virtual`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The serial port's baud rate (`None` for other links).
    pub fn baud(&self) -> Option<u32> {
        self.baud
    }

    /// Counts since the receiver was opened.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The remote control of the virtual receiver this one reads, when it
    /// was opened as `virtual` (demo mode).
    #[cfg(unix)]
    pub fn virtual_handle(&self) -> Option<crate::virtual_receiver::ReceiverHandle> {
        self.held
            .as_ref()
            .map(crate::virtual_receiver::VirtualReceiver::handle)
    }

    /// Reads what has arrived and returns the newest reading it completed,
    /// if any. When nothing has arrived it waits up to the link's read
    /// timeout ([`READ_TIMEOUT`] on serial ports) for a first byte.
    ///
    /// Fails with [`GpsError::Silent`] or [`GpsError::Protocol`] once no
    /// valid sentence has arrived for [`Config::sentence_timeout`], and
    /// with [`GpsError::Disconnected`] when the link fails.
    pub fn poll(&mut self) -> Result<Option<Reading>, GpsError> {
        let mut latest = None;
        let mut buf = [0u8; 1024];
        loop {
            match self.link.read(&mut buf) {
                Ok(0) => return Err(GpsError::Disconnected("end of stream".into())),
                Ok(n) => {
                    if let Some(reading) = self.feed(&buf[..n]) {
                        latest = Some(reading);
                    }
                    if n < buf.len() {
                        break;
                    }
                }
                Err(e) if is_transient(&e) => break,
                Err(e) => return Err(disconnected(&e)),
            }
        }
        if latest.is_none() {
            self.check_watch()?;
        }
        Ok(latest)
    }

    /// Waits up to `timeout` for a fix and returns the first one.
    ///
    /// Only what the receiver sends after the call counts: bytes received
    /// earlier are discarded, so the fix is a fresh one. A receiver
    /// without a fix at the end is [`GpsError::NoFix`] (with the
    /// satellites it saw); one that sent nothing valid during the whole
    /// wait is [`GpsError::Silent`] or [`GpsError::Protocol`], also
    /// before `timeout` when that is longer than
    /// [`Config::sentence_timeout`].
    pub fn wait_fix(&mut self, timeout: Duration) -> Result<Fix, GpsError> {
        self.discard_input()?;
        let start = Instant::now();
        let sentences_before = self.stats.sentences;
        loop {
            if let Some(Reading::Fix(fix)) = self.poll()? {
                return Ok(fix);
            }
            let waited = start.elapsed();
            if waited >= timeout {
                if self.stats.sentences == sentences_before {
                    return Err(self.invalid_since_valid());
                }
                return Err(GpsError::NoFix {
                    waited,
                    satellites: self.combiner.satellites_seen(),
                });
            }
        }
    }

    /// Drops everything received so far: unread bytes, a half sentence,
    /// a half epoch. The silence and protocol timers start again.
    pub fn discard_input(&mut self) -> Result<(), GpsError> {
        self.link.discard_input().map_err(|e| disconnected(&e))?;
        self.framer.reset();
        self.combiner.reset();
        self.watch = Watch::new();
        Ok(())
    }

    /// Reads until one valid sentence arrives (or the watch fails).
    fn listen(&mut self) -> Result<(), GpsError> {
        let before = self.stats.sentences;
        while self.stats.sentences == before {
            self.poll()?;
        }
        Ok(())
    }

    fn feed(&mut self, bytes: &[u8]) -> Option<Reading> {
        let now = Instant::now();
        self.stats.bytes += bytes.len() as u64;
        self.watch.bytes += bytes.len() as u64;
        self.watch.last_byte = now;
        let mut latest = None;
        for frame in self.framer.push(bytes) {
            match frame.and_then(|f| f.parse()) {
                Ok(sentence) => {
                    self.stats.sentences += 1;
                    self.watch = Watch {
                        last_valid: now,
                        last_byte: now,
                        bytes: 0,
                        bad: 0,
                        last_error: None,
                    };
                    if let Some(reading) = self.combiner.push(sentence) {
                        if matches!(reading, Reading::Fix(_)) {
                            self.stats.fixes += 1;
                        }
                        latest = Some(reading);
                    }
                }
                Err(e) => {
                    tracing::debug!(port = %self.name, error = %e, "bad NMEA sentence");
                    self.stats.bad_sentences += 1;
                    self.watch.bad += 1;
                    self.watch.last_error = Some(e);
                }
            }
        }
        latest
    }

    fn check_watch(&self) -> Result<(), GpsError> {
        let limit = self.config.sentence_timeout;
        if self.watch.last_byte.elapsed() >= limit {
            return Err(GpsError::Silent(self.watch.last_byte.elapsed()));
        }
        if self.watch.last_valid.elapsed() >= limit {
            return Err(self.invalid_since_valid());
        }
        Ok(())
    }

    /// The error for "no valid sentence since the last one".
    fn invalid_since_valid(&self) -> GpsError {
        if self.watch.bytes == 0 {
            GpsError::Silent(self.watch.last_valid.elapsed())
        } else {
            GpsError::Protocol {
                bytes: self.watch.bytes,
                bad_sentences: self.watch.bad,
                last: self.watch.last_error.clone(),
            }
        }
    }
}

impl Receiver {
    /// Opens the receiver on serial port `port` (e.g. `/dev/ttyUSB0`,
    /// `COM3`) at `baud`, without waiting for it to speak.
    pub fn open(port: &str, baud: u32) -> Result<Self, GpsError> {
        Self::open_with(port, Some(baud), Config::default())
    }

    /// Opens the receiver on `port` and finds its baud rate: listens at
    /// each of [`BAUD_RATES`] for up to [`Config::sentence_timeout`] until
    /// a valid sentence arrives.
    ///
    /// When none does, the error is [`GpsError::Protocol`] if bytes came at
    /// some rate (a device that is not an NMEA receiver, or one at an
    /// unusual rate), else [`GpsError::Silent`].
    pub fn open_auto(port: &str) -> Result<Self, GpsError> {
        Self::open_with(port, None, Config::default())
    }

    /// [`Receiver::open`] (with `Some(baud)`) or [`Receiver::open_auto`]
    /// (with `None`) with an explicit configuration.
    pub fn open_with(port: &str, baud: Option<u32>, config: Config) -> Result<Self, GpsError> {
        let first = baud.unwrap_or(BAUD_RATES[0]);
        let link = serialport::new(port, first)
            .timeout(READ_TIMEOUT)
            .open()
            .map_err(|e| open_error(port, &e))?;
        let mut receiver = Receiver::new(link, port, config);
        receiver.baud = Some(first);
        if baud.is_some() {
            receiver.discard_input()?;
            return Ok(receiver);
        }
        let mut errors = Vec::new();
        for rate in BAUD_RATES {
            receiver.link.set_baud_rate(rate).map_err(|e| {
                GpsError::Disconnected(format!("cannot set {port} to {rate} baud: {e}"))
            })?;
            receiver.baud = Some(rate);
            receiver.discard_input()?;
            match receiver.listen() {
                Ok(()) => {
                    tracing::info!(port, baud = rate, "GPS receiver found");
                    return Ok(receiver);
                }
                Err(e @ (GpsError::Silent(_) | GpsError::Protocol { .. })) => {
                    tracing::debug!(port, baud = rate, error = %e, "no NMEA at this baud rate");
                    errors.push(e);
                }
                Err(e) => return Err(e),
            }
        }
        // Bytes at some rate say more than silence at the other.
        let protocol = errors
            .iter()
            .position(|e| matches!(e, GpsError::Protocol { .. }));
        Err(errors.swap_remove(protocol.unwrap_or(0)))
    }
}

/// Opens a receiver for the station: `source` is a serial port name, or
/// [`VIRTUAL`] for the virtual receiver (demo mode: it runs as long as the
/// returned receiver, at its default position in Tehran, one epoch a
/// second). `baud` `None` finds the rate ([`Receiver::open_auto`]).
pub fn open(source: &str, baud: Option<u32>) -> Result<Receiver, GpsError> {
    if source == VIRTUAL {
        return open_virtual();
    }
    Receiver::open_with(source, baud, Config::default())
}

/// The name that selects the virtual receiver in [`open`].
pub const VIRTUAL: &str = "virtual";

#[cfg(unix)]
fn open_virtual() -> Result<Receiver, GpsError> {
    use crate::virtual_receiver::{Knobs, VirtualReceiver};
    let device = VirtualReceiver::start(Knobs::default()).map_err(|e| GpsError::Open {
        port: VIRTUAL.into(),
        reason: e.to_string(),
    })?;
    let mut receiver = Receiver::open(&device.path(), BAUD_RATES[0])?;
    receiver.name = VIRTUAL.into();
    receiver.held = Some(device);
    Ok(receiver)
}

#[cfg(not(unix))]
fn open_virtual() -> Result<Receiver, GpsError> {
    Err(GpsError::Open {
        port: VIRTUAL.into(),
        reason: "the virtual receiver needs a pseudo-terminal (Unix only)".into(),
    })
}

// The station reads the receiver on a worker thread.
const _: () = {
    const fn send<T: Send>() {}
    send::<Receiver>();
};

/// Whether an I/O error means "nothing to read yet" rather than "gone".
pub(crate) fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

fn disconnected(e: &io::Error) -> GpsError {
    GpsError::Disconnected(e.to_string())
}

fn open_error(port: &str, e: &serialport::Error) -> GpsError {
    let missing = match e.kind() {
        serialport::ErrorKind::Io(io::ErrorKind::NotFound) => true,
        // Windows reports a missing COM port as "no device".
        serialport::ErrorKind::NoDevice => cfg!(windows) && !std::path::Path::new(port).exists(),
        _ => false,
    };
    if missing {
        GpsError::PortMissing { port: port.into() }
    } else {
        GpsError::Open {
            port: port.into(),
            reason: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::sentence;

    fn log(lines: &[&str]) -> Vec<u8> {
        lines
            .iter()
            .flat_map(|l| sentence(l).into_bytes())
            .collect()
    }

    const GGA: &str = "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,";
    const RMC: &str = "GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W";

    #[test]
    fn a_recorded_log_gives_its_fix_then_ends() {
        let bytes = log(&["GPGGA,,,,,,0,00,99.99,,,,,,", GGA, RMC]);
        let mut receiver = Receiver::new(&bytes[..], "log", Config::default());
        let fix = receiver.wait_fix(Duration::from_secs(5)).expect("a fix");
        assert_eq!(fix.satellites, Some(8));
        assert_eq!(
            receiver.stats(),
            Stats {
                bytes: bytes.len() as u64,
                sentences: 3,
                bad_sentences: 0,
                fixes: 1
            }
        );
        // The end of a recording is the end of the stream.
        assert!(matches!(
            receiver.poll(),
            Err(GpsError::Disconnected(m)) if m == "end of stream"
        ));
    }

    #[test]
    fn poll_returns_the_newest_reading_of_a_read() {
        let bytes = log(&[GGA, RMC, "GPGGA,,,,,,0,05,99.99,,,,,,"]);
        let mut receiver = Receiver::new(&bytes[..], "log", Config::default());
        assert_eq!(
            receiver.poll(),
            Ok(Some(Reading::NoFix(crate::NoFix {
                satellites: Some(5)
            })))
        );
        assert_eq!(receiver.stats().fixes, 1);
    }

    #[test]
    fn errors_read_well() {
        assert_eq!(
            GpsError::PortMissing {
                port: "/dev/ttyUSB0".into()
            }
            .to_string(),
            "there is no GPS port /dev/ttyUSB0"
        );
        assert_eq!(
            GpsError::Silent(Duration::from_millis(3_020)).to_string(),
            "the GPS receiver sent nothing for 3.0 s"
        );
        assert_eq!(
            GpsError::NoFix {
                waited: Duration::from_secs(60),
                satellites: Some(3)
            }
            .to_string(),
            "no GPS fix after 60.0 s (3 satellites in view)"
        );
        assert_eq!(
            GpsError::NoFix {
                waited: Duration::from_secs(1),
                satellites: None
            }
            .to_string(),
            "no GPS fix after 1.0 s"
        );
        assert_eq!(
            GpsError::Protocol {
                bytes: 400,
                bad_sentences: 5,
                last: Some(NmeaError::BadChecksum {
                    expected: 0x47,
                    found: 0x46
                })
            }
            .to_string(),
            "the GPS receiver sent 400 bytes but no valid NMEA sentence \
             (last problem: checksum mismatch: the content gives 47, the sentence says 46)"
        );
        assert_eq!(
            GpsError::Disconnected("Broken pipe".into()).to_string(),
            "the GPS receiver was disconnected (Broken pipe)"
        );
    }

    #[test]
    fn a_missing_port_is_port_missing() {
        let err = Receiver::open("/dev/pishkhan-no-such-gps", 9_600).expect_err("no such port");
        assert_eq!(
            err,
            GpsError::PortMissing {
                port: "/dev/pishkhan-no-such-gps".into()
            }
        );
        assert!(matches!(
            open("/dev/pishkhan-no-such-gps", None),
            Err(GpsError::PortMissing { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_that_is_no_tty_cannot_be_opened() {
        let err = Receiver::open("/dev/null", 9_600).expect_err("not a tty");
        assert!(matches!(err, GpsError::Open { .. }), "{err:?}");
    }
}
