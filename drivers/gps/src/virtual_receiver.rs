//! A virtual NMEA receiver: real sentences, served over a pseudo-terminal.
//!
//! The receiver thread owns the master (device) end of a pty pair. The
//! host end is an ordinary tty path ([`VirtualReceiver::path`]) that the
//! real driver opens with `serialport`, exactly like a USB GPS. Each epoch
//! it writes RMC, GGA, GSA and GSV for its position, built with
//! [`crate::proto`]'s writer. Behaviours (cold start, corrupt checksums,
//! garbage, silence, unplug, a fixed baud rate) are set with [`Knobs`],
//! also while it runs, through a cloneable [`ReceiverHandle`].

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use serialport::{SerialPort, TTYPort};

use crate::proto::{
    self, FixQuality, FixType, Gga, Gsa, Gsv, Position, Rmc, SatelliteInView, Status, Talker,
};

/// Central Tehran (the city's usual reference coordinates): the default
/// position.
pub const TEHRAN: (f64, f64) = (35.6892, 51.3890);

/// Altitude of the default position, metres above sea level (nominal).
pub const TEHRAN_ALTITUDE_M: f64 = 1190.0;

/// The behaviour of the virtual receiver, adjustable while it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Knobs {
    /// Time between epochs (a real receiver: 1 s). Each epoch advances the
    /// receiver's clock by one second whatever the interval, so tests can
    /// run fast.
    pub interval: Duration,
    /// Decimal degrees, north positive.
    pub latitude: f64,
    /// Decimal degrees, east positive.
    pub longitude: f64,
    /// Metres above sea level.
    pub altitude_m: f64,
    /// Satellites used once fixed (in view: two more).
    pub satellites: u8,
    pub hdop: f32,
    /// The talker of RMC, GGA and GSA (GSV is always per system, `GP`).
    pub talker: Talker,
    /// UTC time of the first epoch (`None`: the time the receiver starts,
    /// to the second).
    pub start: Option<DateTime<Utc>>,
    /// Epochs without a fix after start-up (a cold start): satellites come
    /// into view one by one; the first half of them without time either.
    pub cold_start: u32,
    /// Every Nth sentence is sent with a wrong checksum (0 = never).
    pub corrupt_every: u32,
    /// Bytes sent after every sentence (line noise, other output).
    pub garbage: Vec<u8>,
    /// Send nothing (epochs still pass).
    pub silent: bool,
    /// Only speak at this baud rate: a host port set to another rate reads
    /// garbage, as from a real UART (`None`: any rate).
    pub baud: Option<u32>,
    /// Close the device end after this many epochs in total.
    pub disconnect_after: Option<u64>,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            latitude: TEHRAN.0,
            longitude: TEHRAN.1,
            altitude_m: TEHRAN_ALTITUDE_M,
            satellites: 8,
            hdop: 0.9,
            talker: Talker::Gps,
            start: None,
            cold_start: 0,
            corrupt_every: 0,
            garbage: Vec::new(),
            silent: false,
            baud: None,
            disconnect_after: None,
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    knobs: Mutex<Knobs>,
    stop: AtomicBool,
    disconnect: AtomicBool,
    epochs: AtomicU64,
    sentences: AtomicU64,
    corrupted: AtomicU64,
}

impl Shared {
    fn knobs(&self) -> MutexGuard<'_, Knobs> {
        // A panic in the receiver thread must not hide the knobs from tests.
        self.knobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A cloneable remote control for a running [`VirtualReceiver`].
#[derive(Debug, Clone)]
pub struct ReceiverHandle(Arc<Shared>);

impl ReceiverHandle {
    /// A copy of the current knobs.
    pub fn knobs(&self) -> Knobs {
        self.0.knobs().clone()
    }

    /// Changes the knobs; the next epoch uses them.
    pub fn update(&self, change: impl FnOnce(&mut Knobs)) {
        change(&mut self.0.knobs());
    }

    /// Closes the device end now, as if the receiver were unplugged.
    pub fn disconnect(&self) {
        self.0.disconnect.store(true, Ordering::SeqCst);
    }

    /// Epochs that have passed (sent or not).
    pub fn epochs(&self) -> u64 {
        self.0.epochs.load(Ordering::SeqCst)
    }

    /// Sentences written (corrupted ones included).
    pub fn sentences_sent(&self) -> u64 {
        self.0.sentences.load(Ordering::SeqCst)
    }

    /// Sentences written with a wrong checksum.
    pub fn corrupted_sent(&self) -> u64 {
        self.0.corrupted.load(Ordering::SeqCst)
    }
}

/// An NMEA receiver simulated behind a pseudo-terminal.
#[derive(Debug)]
pub struct VirtualReceiver {
    path: String,
    handle: ReceiverHandle,
    /// Holds the host end open so the pty survives until the driver opens
    /// it (and between its reopenings).
    host: Option<TTYPort>,
    thread: Option<JoinHandle<()>>,
}

impl VirtualReceiver {
    /// Starts a receiver with `knobs`.
    pub fn start(knobs: Knobs) -> io::Result<Self> {
        let (mut device, host) = TTYPort::pair().map_err(io::Error::from)?;
        device
            .set_timeout(Duration::from_millis(10))
            .map_err(io::Error::from)?;
        let path = host
            .name()
            .ok_or_else(|| io::Error::other("the pty has no name"))?;
        let start = knobs.start.unwrap_or_else(|| Utc::now().trunc_subsecs(0));
        let shared = Arc::new(Shared {
            knobs: Mutex::new(knobs),
            ..Shared::default()
        });
        let handle = ReceiverHandle(shared.clone());
        let thread = std::thread::Builder::new()
            .name(format!("gps-virtual {path}"))
            .spawn(move || {
                let mut device = Device {
                    port: device,
                    shared,
                    start,
                };
                if let Err(e) = device.run() {
                    tracing::debug!(error = %e, "virtual GPS receiver stopped");
                }
            })?;
        Ok(Self {
            path,
            handle,
            host: Some(host),
            thread: Some(thread),
        })
    }

    /// The tty path to open, e.g. with
    /// [`Receiver::open`](crate::Receiver::open).
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// The remote control.
    pub fn handle(&self) -> ReceiverHandle {
        self.handle.clone()
    }

    /// Hands out the host end the receiver holds, to read it directly
    /// (without opening the path).
    pub fn take_host_port(&mut self) -> Option<TTYPort> {
        self.host.take()
    }
}

impl Drop for VirtualReceiver {
    fn drop(&mut self) {
        self.handle.0.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The receiver thread's state.
struct Device {
    port: TTYPort,
    shared: Arc<Shared>,
    /// UTC time of epoch 0.
    start: DateTime<Utc>,
}

/// Why the receiver stops.
#[derive(Debug)]
enum Stop {
    Asked,
    Io(io::Error),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Asked => f.write_str("stopped or unplugged on request"),
            Stop::Io(e) => write!(f, "{e}"),
        }
    }
}

/// PRNs, elevations and azimuths of the satellites the receiver sees.
const SKY: [(u16, u8, u16); 14] = [
    (2, 62, 45),
    (5, 48, 310),
    (7, 71, 156),
    (9, 35, 201),
    (13, 27, 88),
    (15, 55, 260),
    (18, 40, 20),
    (20, 15, 130),
    (23, 38, 230),
    (26, 82, 187),
    (28, 43, 56),
    (29, 22, 290),
    (30, 11, 340),
    (31, 19, 105),
];

impl Device {
    fn check_stop(&self) -> Result<(), Stop> {
        if self.shared.stop.load(Ordering::SeqCst) || self.shared.disconnect.load(Ordering::SeqCst)
        {
            Err(Stop::Asked)
        } else {
            Ok(())
        }
    }

    fn run(&mut self) -> Result<(), Stop> {
        let mut next = Instant::now();
        for epoch in 0u64.. {
            let knobs = self.shared.knobs().clone();
            if !knobs.silent {
                let mut bytes = Vec::new();
                for body in self.epoch(epoch, &knobs) {
                    let n = self.shared.sentences.fetch_add(1, Ordering::SeqCst) + 1;
                    let corrupt =
                        knobs.corrupt_every > 0 && n.is_multiple_of(u64::from(knobs.corrupt_every));
                    if corrupt {
                        self.shared.corrupted.fetch_add(1, Ordering::SeqCst);
                        let wrong = proto::checksum(&body) ^ 0x5A;
                        bytes.extend_from_slice(format!("${body}*{wrong:02X}\r\n").as_bytes());
                    } else {
                        bytes.extend_from_slice(proto::sentence(&body).as_bytes());
                    }
                    bytes.extend_from_slice(&knobs.garbage);
                }
                if !self.baud_matches(&knobs) {
                    // A UART at the wrong rate reads framing garbage: bytes
                    // with the high bit set, never a '$' or a line end.
                    for b in &mut bytes {
                        *b = (*b).rotate_left(3) | 0x80;
                    }
                }
                self.send(&bytes)?;
            }
            let done = self.shared.epochs.fetch_add(1, Ordering::SeqCst) + 1;
            if knobs.disconnect_after.is_some_and(|n| done >= n) {
                self.shared.disconnect.store(true, Ordering::SeqCst);
                return Err(Stop::Asked);
            }
            next += knobs.interval;
            self.sleep_until(next)?;
        }
        Ok(())
    }

    /// Whether the host's port is set to the baud rate the receiver uses.
    fn baud_matches(&self, knobs: &Knobs) -> bool {
        match knobs.baud {
            None => true,
            // On Linux the master end reports the slave's termios.
            Some(want) => self.port.baud_rate().is_ok_and(|b| b == want),
        }
    }

    /// The sentence bodies of epoch `n`: RMC, GGA, GSA, then GSV.
    fn epoch(&self, n: u64, knobs: &Knobs) -> Vec<String> {
        let utc = self.start + chrono::Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX));
        let cold = n < u64::from(knobs.cold_start);
        // Half-way through a cold start the receiver learns the time.
        let knows_time = !cold || n >= u64::from(knobs.cold_start / 2);
        let time = knows_time.then(|| utc.time());
        let date = knows_time.then(|| utc.date_naive());
        let in_view_fixed = usize::from(knobs.satellites.saturating_add(2)).min(SKY.len());
        let in_view = if cold {
            usize::try_from(n).map_or(in_view_fixed, |n| n.min(in_view_fixed))
        } else {
            in_view_fixed
        };
        let used = if cold {
            0
        } else {
            usize::from(knobs.satellites).min(in_view)
        };
        let position = (!cold).then_some(Position {
            latitude: knobs.latitude,
            longitude: knobs.longitude,
        });
        let talker = knobs.talker;
        let rmc = Rmc {
            talker,
            time,
            status: if cold { Status::Void } else { Status::Active },
            position,
            speed_knots: position.map(|_| 0.0),
            course_deg: None,
            date,
            magnetic_variation_deg: None,
            mode: Some(if cold { 'N' } else { 'A' }),
        };
        let gga = Gga {
            talker,
            time,
            position,
            quality: if cold {
                FixQuality::Invalid
            } else {
                FixQuality::Gps
            },
            satellites: u8::try_from(used).ok(),
            hdop: Some(if cold { 99.99 } else { knobs.hdop }),
            altitude_m: position.map(|_| knobs.altitude_m),
            geoid_separation_m: None,
        };
        let gsa = Gsa {
            talker,
            automatic: true,
            fix_type: if cold { FixType::NoFix } else { FixType::Fix3d },
            satellites: SKY[..used].iter().map(|s| s.0).collect(),
            pdop: Some(if cold { 99.99 } else { knobs.hdop * 1.6 }),
            hdop: Some(if cold { 99.99 } else { knobs.hdop }),
            vdop: Some(if cold { 99.99 } else { knobs.hdop * 1.3 }),
            system: None,
        };
        let mut bodies = vec![rmc.body(), gga.body(), gsa.body()];
        let visible = &SKY[..in_view];
        let messages = visible.len().div_ceil(4).max(1);
        for number in 0..messages {
            let satellites = visible
                .iter()
                .skip(number * 4)
                .take(4)
                .enumerate()
                .map(|(i, &(prn, elevation, azimuth))| SatelliteInView {
                    prn,
                    elevation_deg: Some(elevation),
                    azimuth_deg: Some(azimuth),
                    // Satellites in use are heard well; the others faintly.
                    snr: Some(if number * 4 + i < used { 44 } else { 21 }),
                })
                .collect();
            let gsv = Gsv {
                talker: Talker::Gps,
                messages: u8::try_from(messages).unwrap_or(u8::MAX),
                number: u8::try_from(number + 1).unwrap_or(u8::MAX),
                in_view: u8::try_from(in_view).unwrap_or(u8::MAX),
                satellites,
                signal: None,
            };
            bodies.push(gsv.body());
        }
        bodies
    }

    /// Writes one epoch. Bytes a full buffer will not take are dropped, as
    /// a real receiver's UART drops them when nobody reads.
    fn send(&mut self, mut bytes: &[u8]) -> Result<(), Stop> {
        while !bytes.is_empty() {
            self.check_stop()?;
            match self.port.write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if crate::driver::is_transient(&e) => return Ok(()),
                Err(e) => return Err(Stop::Io(e)),
            }
        }
        Ok(())
    }

    fn sleep_until(&self, at: Instant) -> Result<(), Stop> {
        loop {
            self.check_stop()?;
            let now = Instant::now();
            if now >= at {
                return Ok(());
            }
            std::thread::sleep((at - now).min(Duration::from_millis(5)));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::proto::{Framer, Sentence};

    /// Reads the host end until `epochs` epochs have been received.
    fn sentences(knobs: Knobs, count: usize) -> Vec<Result<Sentence, proto::NmeaError>> {
        let mut receiver = VirtualReceiver::start(knobs).expect("a pty pair");
        let mut port = receiver.take_host_port().expect("the host end");
        SerialPort::set_timeout(&mut port, Duration::from_millis(20)).expect("timeout");
        let mut framer = Framer::new();
        let mut out = Vec::new();
        let mut buf = [0u8; 512];
        let deadline = Instant::now() + Duration::from_secs(10);
        while out.len() < count && Instant::now() < deadline {
            match port.read(&mut buf) {
                Ok(n) => out.extend(
                    framer
                        .push(&buf[..n])
                        .into_iter()
                        .map(|f| f.and_then(|f| f.parse())),
                ),
                Err(e) if crate::driver::is_transient(&e) => {}
                Err(e) => panic!("read: {e}"),
            }
        }
        out
    }

    fn quick() -> Knobs {
        Knobs {
            interval: Duration::from_millis(5),
            ..Knobs::default()
        }
    }

    #[test]
    fn an_epoch_is_rmc_gga_gsa_and_gsv_within_82_characters() {
        let out = sentences(quick(), 12);
        let kinds: Vec<&str> = out
            .iter()
            .take(6)
            .map(|s| match s {
                Ok(Sentence::Rmc(_)) => "RMC",
                Ok(Sentence::Gga(_)) => "GGA",
                Ok(Sentence::Gsa(_)) => "GSA",
                Ok(Sentence::Gsv(_)) => "GSV",
                other => panic!("{other:?}"),
            })
            .collect();
        // 10 satellites in view: three GSV sentences.
        assert_eq!(kinds, ["RMC", "GGA", "GSA", "GSV", "GSV", "GSV"]);
        let Ok(Sentence::Gsv(gsv)) = &out[5] else {
            panic!("GSV");
        };
        assert_eq!((gsv.messages, gsv.number, gsv.in_view), (3, 3, 10));
        assert_eq!(gsv.satellites.len(), 2);
        // The framer refuses anything over 82 characters, so all passed.
        assert!(out.iter().all(Result::is_ok), "{out:?}");
    }

    #[test]
    fn corrupt_every_third_sentence() {
        let out = sentences(
            Knobs {
                corrupt_every: 3,
                ..quick()
            },
            12,
        );
        for (i, s) in out.iter().enumerate() {
            assert_eq!(s.is_err(), (i + 1) % 3 == 0, "sentence {i}: {s:?}");
        }
        assert!(matches!(
            out[2],
            Err(proto::NmeaError::BadChecksum { expected, found }) if expected ^ found == 0x5A
        ));
    }

    #[test]
    fn a_cold_start_has_no_time_then_time_then_a_fix() {
        let out = sentences(
            Knobs {
                cold_start: 4,
                ..quick()
            },
            40,
        );
        let rmcs: Vec<&Rmc> = out
            .iter()
            .filter_map(|s| match s {
                Ok(Sentence::Rmc(r)) => Some(r),
                _ => None,
            })
            .collect();
        assert!(rmcs.len() >= 5, "{out:?}");
        assert_eq!(rmcs[0].time, None);
        assert_eq!(rmcs[0].status, Status::Void);
        assert!(rmcs[2].time.is_some());
        assert_eq!(rmcs[3].status, Status::Void);
        assert_eq!(rmcs[4].status, Status::Active);
        assert_eq!(rmcs[4].mode, Some('A'));
    }
}
