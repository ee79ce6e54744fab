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

pub mod driver;
pub mod ports;
pub mod proto;
#[cfg(unix)]
pub mod virtual_module;

pub use driver::{COMMON_BAUDS, Config, ZfmScanner, ZfmSensor, open, open_with};
pub use ports::{PortInfo, PortKind, list_ports};
pub use proto::{Confirmation, PacketSize, SystemParameters};
#[cfg(unix)]
pub use virtual_module::{Knobs, ModuleHandle, VirtualModule};
