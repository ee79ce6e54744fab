//! Driver for ZhianTec/Synochip serial fingerprint modules (R30x, R503,
//! AS608, FPM10A), and a virtual module that speaks the same protocol.
//!
//! The crate is split in layers:
//!
//! - [`proto`] is the wire protocol and nothing else: packet encoding,
//!   a streaming [`Decoder`](proto::Decoder) that resynchronises on the
//!   `EF 01` header, the commands this driver uses (VfyPwd, ReadSysPara,
//!   GenImg, UpImage, SetSysPara), confirmation codes and the 4-bit image
//!   format. It does no I/O, so it is unit-tested byte by byte and fuzzed.
//! - [`driver`] is the transport: [`ZfmSensor`] sends commands over any
//!   `Read + Write` byte stream, keeps per-command deadlines, resends a
//!   command whose reply was garbled and maps failures to
//!   [`ScanError`](pishkhan_scanner::ScanError). It implements
//!   [`FingerSensor`](pishkhan_scanner::FingerSensor); [`open`] finds the
//!   module's baud rate on a serial port and wraps the sensor in the
//!   station's [`Polling`](pishkhan_scanner::Polling) state machine.
//! - [`ports`] lists the machine's serial ports and names known USB-serial
//!   bridges.
//! - `virtual_module` (unix) serves the protocol on the master end of a
//!   pseudo-terminal, with fault knobs, so the real driver is tested over
//!   a real tty.
//! - [`transcript`] records the bytes between the driver and a module
//!   ([`Recorder`]) and replays them in tests ([`Replayer`]).
//!
//! Failures map to [`ScanError`](pishkhan_scanner::ScanError) as follows:
//! a module silent beyond [`Config::command_timeout`] (or
//! [`Config::packet_timeout`] within an image) is `NoAnswer`; `Timeout`
//! only comes from [`Polling`](pishkhan_scanner::Polling) when no finger
//! was placed in time; replies that stay garbled after the retries are
//! `Protocol`; a port that fails is `Disconnected`.
//!
//! # Recording a real module
//!
//! Like libfprint's device tests, the driver's tests replay a session
//! recorded once with a module (`tests/transcripts/*.txt`). To record a
//! real one, a technician attaches it, finds its port (`pishkhan devices`
//! lists them) and runs, e.g. from a scratch test or example:
//!
//! ```no_run
//! let mut out = std::fs::File::create("r307-capture.txt")?;
//! // Opens the port at the module's baud rate, connects, and waits up to
//! // 30 s for a finger; the transcript is written even if this fails.
//! let capture = pishkhan_zfm::record_session("/dev/ttyUSB0", 57_600, &mut out)?;
//! println!("{}x{}", capture.fingers[0].width, capture.fingers[0].height);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The file is text: a `# pishkhan-zfm transcript v1` header, `#`
//! comments, then one `> hex` line per write and one `< hex` line per read
//! chunk. A test replays it with
//! `ZfmSensor::connect(Replayer::from_text(&text)?, "replay", Config::default())`
//! inside [`Polling`](pishkhan_scanner::Polling): the replayer checks that
//! the driver writes exactly the recorded bytes and answers with the
//! recorded replies, so the replay takes the same course (the same number
//! of "no finger" polls) as the recording. The finger images in a real
//! recording are the applicant's fingerprints: record with a test finger
//! or a fake, never with an applicant's.

pub mod driver;
pub mod ports;
pub mod proto;
pub mod transcript;
#[cfg(unix)]
pub mod virtual_module;

pub use driver::{COMMON_BAUDS, Config, ZfmScanner, ZfmSensor, open, open_with};
pub use ports::{PortInfo, PortKind, list_ports};
pub use proto::{Confirmation, PacketSize, SystemParameters};
pub use transcript::{Recorder, Replayer, Transcript, record_session};
#[cfg(unix)]
pub use virtual_module::{Knobs, ModuleHandle, VirtualModule};
