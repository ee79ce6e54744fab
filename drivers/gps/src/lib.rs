//! Driver for serial NMEA 0183 GPS receivers, and a virtual receiver that
//! speaks the same protocol.
//!
//! Mobile teams record each home visit with an optional position. The
//! crate is split in layers:
//!
//! - [`proto`] is the wire protocol and nothing else: a streaming
//!   [`Framer`](proto::Framer) that finds `$…*hh` sentences among garbage
//!   and partial reads and checks their checksum, length (82 characters)
//!   and characters; parsers for GGA, RMC, GSA and GSV from the talkers
//!   GP, GN, GL, GA and BD/GB (other sentences are skipped, not refused);
//!   and a writer ([`proto::sentence`]). It does no I/O, so it is
//!   unit-tested with reference sentences, property-tested and fuzzed.
//! - [`fix`] pairs the GGA and RMC of one epoch into a [`Fix`]; a receiver
//!   without a fix gives [`Reading::NoFix`], not an error.
//! - [`driver`] is the transport: a [`Receiver`] reads a serial port (or
//!   any [`Link`]) with timeouts, and [`Receiver::wait_fix`] and
//!   [`Receiver::poll`] return fixes or a specific [`GpsError`].
//! - `virtual_receiver` (unix) writes real sentences to the master end of
//!   a pseudo-terminal, with behaviours for tests and the demo (cold
//!   start, corrupt checksums, garbage, silence, unplug, a baud rate).
//!
//! Failures map to [`GpsError`] as follows: no such port is `PortMissing`;
//! a port that cannot be opened is `Open`; a port that fails while read
//! is `Disconnected`; no byte for [`Config::sentence_timeout`] is
//! `Silent`; bytes but no valid sentence for that long (wrong baud rate,
//! persistent corruption) is `Protocol`; valid sentences but no position
//! by the caller's deadline is `NoFix`, with the satellites in view.
//!
//! ```no_run
//! // A port name, or "virtual" for the demo receiver; None finds the baud rate.
//! let mut gps = pishkhan_gps::open("/dev/ttyUSB0", None)?;
//! match gps.wait_fix(std::time::Duration::from_secs(30)) {
//!     Ok(fix) => println!("{:.5} {:.5} at {}", fix.latitude, fix.longitude, fix.utc),
//!     Err(e) => println!("no position: {e}"),
//! }
//! # Ok::<(), pishkhan_gps::GpsError>(())
//! ```

pub mod driver;
pub mod fix;
pub mod proto;
#[cfg(unix)]
pub mod virtual_receiver;

pub use driver::{BAUD_RATES, Config, GpsError, Link, Receiver, Stats, VIRTUAL, open};
pub use fix::{Fix, NoFix, Reading};
pub use proto::{FixQuality, NmeaError};
#[cfg(unix)]
pub use virtual_receiver::{Knobs, ReceiverHandle, VirtualReceiver};
