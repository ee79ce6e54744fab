//! The ZhianTec/Synochip wire protocol, without any I/O.
//!
//! Every packet on the wire is, big-endian:
//!
//! ```text
//! EF 01 | ADDR(4) | PID(1) | LEN(2) = payload + 2 | PAYLOAD(LEN - 2) | SUM(2)
//! SUM = (PID + LEN_hi + LEN_lo + Σ payload) mod 65536
//! ```
//!
//! This module encodes packets, decodes a byte stream into packets
//! ([`Decoder`]), builds the commands the driver sends ([`Command`]) and
//! parses the replies ([`Ack`], [`SystemParameters`]). Images travel as
//! 4 bits per pixel, high nibble first ([`unpack_4bit`], [`pack_4bit`]).

use std::fmt;

/// The two header bytes that start every packet.
pub const HEADER: [u8; 2] = [0xEF, 0x01];
/// The default module address.
pub const DEFAULT_ADDRESS: u32 = 0xFFFF_FFFF;
/// The default module password.
pub const DEFAULT_PASSWORD: u32 = 0;
/// Header, address, packet identifier and length: the bytes before the payload.
pub const PREFIX_LEN: usize = 9;
/// The largest payload the decoder accepts (a 256-byte data packet).
pub const MAX_PAYLOAD: usize = 256;
/// The largest frame: prefix, payload and checksum.
pub const MAX_FRAME: usize = PREFIX_LEN + MAX_PAYLOAD + 2;
/// Native image width of R30x/AS608 modules.
pub const IMAGE_WIDTH: u32 = 256;
/// Native image height of R30x/AS608 modules.
pub const IMAGE_HEIGHT: u32 = 288;
/// Bytes of one uploaded image: two pixels per byte.
pub const IMAGE_BYTES: usize = (IMAGE_WIDTH * IMAGE_HEIGHT / 2) as usize;

/// Instruction codes used by this driver.
pub mod instruction {
    pub const GEN_IMG: u8 = 0x01;
    pub const UP_IMAGE: u8 = 0x0A;
    pub const SET_SYS_PARA: u8 = 0x0E;
    pub const READ_SYS_PARA: u8 = 0x0F;
    pub const VFY_PWD: u8 = 0x13;
}

/// SetSysPara parameter numbers.
pub mod parameter {
    /// Baud multiplier N (baud = N × 9600).
    pub const BAUD: u8 = 4;
    /// Security level 1–5.
    pub const SECURITY_LEVEL: u8 = 5;
    /// Data packet size code 0–3.
    pub const PACKET_SIZE: u8 = 6;
}

/// The packet identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// 0x01: a command from the host.
    Command,
    /// 0x02: a data packet, more follow.
    Data,
    /// 0x07: an acknowledgement from the module.
    Ack,
    /// 0x08: the last data packet.
    EndData,
}

impl PacketKind {
    /// The identifier byte.
    pub fn code(self) -> u8 {
        match self {
            PacketKind::Command => 0x01,
            PacketKind::Data => 0x02,
            PacketKind::Ack => 0x07,
            PacketKind::EndData => 0x08,
        }
    }

    /// The kind with identifier `code`.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0x01 => Some(PacketKind::Command),
            0x02 => Some(PacketKind::Data),
            0x07 => Some(PacketKind::Ack),
            0x08 => Some(PacketKind::EndData),
            _ => None,
        }
    }
}

/// One packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub kind: PacketKind,
    pub address: u32,
    pub payload: Vec<u8>,
}

impl Packet {
    /// A packet to or from the module at `address`.
    pub fn new(kind: PacketKind, address: u32, payload: Vec<u8>) -> Self {
        Self {
            kind,
            address,
            payload,
        }
    }

    /// The value of the LEN field: payload plus checksum.
    ///
    /// # Panics
    /// When the payload is longer than 65533 bytes (no real packet is).
    pub fn length_field(&self) -> u16 {
        u16::try_from(self.payload.len() + 2).expect("payload fits the LEN field")
    }

    /// The checksum of this packet.
    pub fn checksum(&self) -> u16 {
        checksum(self.kind.code(), self.length_field(), &self.payload)
    }

    /// The bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PREFIX_LEN + self.payload.len() + 2);
        out.extend_from_slice(&HEADER);
        out.extend_from_slice(&self.address.to_be_bytes());
        out.push(self.kind.code());
        out.extend_from_slice(&self.length_field().to_be_bytes());
        out.extend_from_slice(&self.payload);
        out.extend_from_slice(&self.checksum().to_be_bytes());
        out
    }
}

/// The packet checksum: identifier, both length bytes and every payload
/// byte, summed modulo 65536.
pub fn checksum(kind: u8, length: u16, payload: &[u8]) -> u16 {
    let [hi, lo] = length.to_be_bytes();
    payload
        .iter()
        .chain([kind, hi, lo].iter())
        .fold(0u16, |sum, &b| sum.wrapping_add(u16::from(b)))
}

/// Why bytes on the wire were not a packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A header was followed by an identifier that is not 0x01/0x02/0x07/0x08.
    #[error("unknown packet identifier 0x{0:02X}")]
    UnknownKind(u8),
    /// The LEN field is below 2 or above the largest packet.
    #[error("impossible packet length {0}")]
    BadLength(u16),
    /// The checksum on the wire does not match the packet.
    #[error("checksum mismatch: computed 0x{computed:04X}, received 0x{received:04X}")]
    BadChecksum { computed: u16, received: u16 },
}

/// A streaming decoder: push received bytes in, take packets out.
///
/// Bytes that do not start with the `EF 01` header are skipped (and
/// counted); after a bad frame only its header is dropped, so a real
/// packet hidden behind garbage is still found. The buffer never holds
/// more than [`Decoder::CAPACITY`] bytes.
#[derive(Debug, Default, Clone)]
pub struct Decoder {
    buf: Vec<u8>,
    skipped: u64,
}

impl Decoder {
    /// The most bytes the decoder buffers.
    pub const CAPACITY: usize = 4 * MAX_FRAME;

    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Buffers as many of `bytes` as fit and returns how many were taken.
    ///
    /// Take the packets out with [`Decoder::next_frame`] before pushing the
    /// rest; once drained the decoder always has room.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let room = Self::CAPACITY - self.buf.len();
        let take = room.min(bytes.len());
        self.buf.extend_from_slice(&bytes[..take]);
        take
    }

    /// Bytes buffered but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Bytes skipped so far because they were not part of any packet.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Forgets everything buffered.
    pub fn clear(&mut self) {
        self.skipped += self.buf.len() as u64;
        self.buf.clear();
    }

    /// The next packet or frame error, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Packet, FrameError>> {
        self.resync();
        if self.buf.len() < PREFIX_LEN {
            return None;
        }
        let kind_code = self.buf[6];
        let Some(kind) = PacketKind::from_code(kind_code) else {
            self.drop_front(2);
            return Some(Err(FrameError::UnknownKind(kind_code)));
        };
        let length = u16::from_be_bytes([self.buf[7], self.buf[8]]);
        if length < 2 || usize::from(length) > MAX_PAYLOAD + 2 {
            self.drop_front(2);
            return Some(Err(FrameError::BadLength(length)));
        }
        let total = PREFIX_LEN + usize::from(length);
        if self.buf.len() < total {
            return None;
        }
        let payload = self.buf[PREFIX_LEN..total - 2].to_vec();
        let received = u16::from_be_bytes([self.buf[total - 2], self.buf[total - 1]]);
        let computed = checksum(kind_code, length, &payload);
        if computed != received {
            self.drop_front(2);
            return Some(Err(FrameError::BadChecksum { computed, received }));
        }
        let address = u32::from_be_bytes([self.buf[2], self.buf[3], self.buf[4], self.buf[5]]);
        self.buf.drain(..total);
        Some(Ok(Packet {
            kind,
            address,
            payload,
        }))
    }

    /// Gives up on the incomplete frame at the front of the buffer (when
    /// the line has gone quiet, it was a false header) by dropping its
    /// header bytes, so that a real packet inside it can still be found.
    /// Returns whether anything was dropped.
    pub fn abandon_partial(&mut self) -> bool {
        self.resync();
        if self.buf.len() >= 2 {
            self.drop_front(2);
            true
        } else {
            false
        }
    }

    /// Drops bytes until the buffer starts with a header (or could, once
    /// more bytes arrive).
    fn resync(&mut self) {
        let start = self
            .buf
            .windows(2)
            .position(|w| w == HEADER)
            .unwrap_or_else(|| {
                // Keep a trailing 0xEF: it may be the first header byte.
                if self.buf.last() == Some(&HEADER[0]) {
                    self.buf.len() - 1
                } else {
                    self.buf.len()
                }
            });
        self.drop_front(start);
    }

    fn drop_front(&mut self, n: usize) {
        self.skipped += n as u64;
        self.buf.drain(..n);
    }
}

/// A data packet size the module can be set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketSize {
    Bytes32,
    Bytes64,
    Bytes128,
    Bytes256,
}

impl PacketSize {
    /// The size code used by ReadSysPara/SetSysPara (0–3).
    pub fn code(self) -> u8 {
        match self {
            PacketSize::Bytes32 => 0,
            PacketSize::Bytes64 => 1,
            PacketSize::Bytes128 => 2,
            PacketSize::Bytes256 => 3,
        }
    }

    /// The size with code `code`.
    pub fn from_code(code: u16) -> Option<Self> {
        match code {
            0 => Some(PacketSize::Bytes32),
            1 => Some(PacketSize::Bytes64),
            2 => Some(PacketSize::Bytes128),
            3 => Some(PacketSize::Bytes256),
            _ => None,
        }
    }

    /// Payload bytes per data packet.
    pub fn bytes(self) -> usize {
        32 << self.code()
    }
}

/// The baud multiplier N for `baud` (baud = N × 9600, N = 1–12).
pub fn baud_multiplier(baud: u32) -> Option<u8> {
    if !baud.is_multiple_of(9600) {
        return None;
    }
    u8::try_from(baud / 9600)
        .ok()
        .filter(|n| (1..=12).contains(n))
}

/// A command the driver sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Verify the 32-bit password.
    VfyPwd(u32),
    /// Read the 16 bytes of system parameters.
    ReadSysPara,
    /// Image the finger on the glass into the image buffer.
    GenImg,
    /// Upload the image buffer to the host.
    UpImage,
    /// Set system parameter `param` to `value`.
    SetSysPara { param: u8, value: u8 },
}

impl Command {
    /// The instruction code.
    pub fn instruction(self) -> u8 {
        match self {
            Command::VfyPwd(_) => instruction::VFY_PWD,
            Command::ReadSysPara => instruction::READ_SYS_PARA,
            Command::GenImg => instruction::GEN_IMG,
            Command::UpImage => instruction::UP_IMAGE,
            Command::SetSysPara { .. } => instruction::SET_SYS_PARA,
        }
    }

    /// The command payload: instruction then parameters.
    pub fn payload(self) -> Vec<u8> {
        let mut p = vec![self.instruction()];
        match self {
            Command::VfyPwd(password) => p.extend_from_slice(&password.to_be_bytes()),
            Command::SetSysPara { param, value } => p.extend_from_slice(&[param, value]),
            Command::ReadSysPara | Command::GenImg | Command::UpImage => {}
        }
        p
    }

    /// The command packet for the module at `address`.
    pub fn packet(self, address: u32) -> Packet {
        Packet::new(PacketKind::Command, address, self.payload())
    }

    /// Parses a command packet (what the virtual module receives).
    pub fn parse(packet: &Packet) -> Result<Command, ReplyError> {
        if packet.kind != PacketKind::Command {
            return Err(ReplyError::WrongKind(packet.kind));
        }
        let (&code, params) = packet.payload.split_first().ok_or(ReplyError::Empty)?;
        let want = |n: usize| {
            if params.len() == n {
                Ok(())
            } else {
                Err(ReplyError::WrongLength {
                    expected: n,
                    got: params.len(),
                })
            }
        };
        match code {
            instruction::VFY_PWD => {
                want(4)?;
                Ok(Command::VfyPwd(u32::from_be_bytes([
                    params[0], params[1], params[2], params[3],
                ])))
            }
            instruction::READ_SYS_PARA => want(0).map(|()| Command::ReadSysPara),
            instruction::GEN_IMG => want(0).map(|()| Command::GenImg),
            instruction::UP_IMAGE => want(0).map(|()| Command::UpImage),
            instruction::SET_SYS_PARA => {
                want(2)?;
                Ok(Command::SetSysPara {
                    param: params[0],
                    value: params[1],
                })
            }
            other => Err(ReplyError::UnknownInstruction(other)),
        }
    }
}

/// Why a packet is not the reply that was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("expected another packet, got a {0:?} packet")]
    WrongKind(PacketKind),
    #[error("the packet has an empty payload")]
    Empty,
    #[error("expected {expected} parameter bytes, got {got}")]
    WrongLength { expected: usize, got: usize },
    #[error("unknown instruction 0x{0:02X}")]
    UnknownInstruction(u8),
    #[error("invalid system parameters: {0}")]
    BadParameters(String),
}

/// A module's confirmation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Confirmation {
    Ok,
    PacketReceiveError,
    NoFinger,
    ImageCaptureFailed,
    ImageTooMessy,
    TooFewFeatures,
    NoMatch,
    NotFound,
    CannotCombine,
    OutOfRange,
    BadTemplate,
    TemplateUploadFailed,
    CannotReceiveFollowUp,
    ImageUploadFailed,
    DeleteFailed,
    ClearFailed,
    WrongPassword,
    NoValidImage,
    FlashWriteError,
    InvalidRegister,
    SensorAbnormal,
    Unknown(u8),
}

impl Confirmation {
    /// The confirmation for `code`.
    pub fn from_code(code: u8) -> Self {
        use Confirmation::*;
        match code {
            0x00 => Ok,
            0x01 => PacketReceiveError,
            0x02 => NoFinger,
            0x03 => ImageCaptureFailed,
            0x06 => ImageTooMessy,
            0x07 => TooFewFeatures,
            0x08 => NoMatch,
            0x09 => NotFound,
            0x0A => CannotCombine,
            0x0B => OutOfRange,
            0x0C => BadTemplate,
            0x0D => TemplateUploadFailed,
            0x0E => CannotReceiveFollowUp,
            0x0F => ImageUploadFailed,
            0x10 => DeleteFailed,
            0x11 => ClearFailed,
            0x13 => WrongPassword,
            0x15 => NoValidImage,
            0x18 => FlashWriteError,
            0x1A => InvalidRegister,
            0x29 => SensorAbnormal,
            other => Unknown(other),
        }
    }

    /// The code byte.
    pub fn code(self) -> u8 {
        use Confirmation::*;
        match self {
            Ok => 0x00,
            PacketReceiveError => 0x01,
            NoFinger => 0x02,
            ImageCaptureFailed => 0x03,
            ImageTooMessy => 0x06,
            TooFewFeatures => 0x07,
            NoMatch => 0x08,
            NotFound => 0x09,
            CannotCombine => 0x0A,
            OutOfRange => 0x0B,
            BadTemplate => 0x0C,
            TemplateUploadFailed => 0x0D,
            CannotReceiveFollowUp => 0x0E,
            ImageUploadFailed => 0x0F,
            DeleteFailed => 0x10,
            ClearFailed => 0x11,
            WrongPassword => 0x13,
            NoValidImage => 0x15,
            FlashWriteError => 0x18,
            InvalidRegister => 0x1A,
            SensorAbnormal => 0x29,
            Unknown(c) => c,
        }
    }

    /// An English description.
    pub fn description(self) -> &'static str {
        use Confirmation::*;
        match self {
            Ok => "OK",
            PacketReceiveError => "packet receive error",
            NoFinger => "no finger on the sensor",
            ImageCaptureFailed => "image capture failed",
            ImageTooMessy => "image too messy",
            TooFewFeatures => "too few features",
            NoMatch => "no match",
            NotFound => "not found",
            CannotCombine => "cannot combine character files",
            OutOfRange => "address or page out of range",
            BadTemplate => "bad template",
            TemplateUploadFailed => "template upload failed",
            CannotReceiveFollowUp => "cannot receive follow-up packets",
            ImageUploadFailed => "image upload failed",
            DeleteFailed => "delete failed",
            ClearFailed => "clear failed",
            WrongPassword => "wrong password",
            NoValidImage => "no valid image in the buffer",
            FlashWriteError => "flash write error",
            InvalidRegister => "invalid register number",
            SensorAbnormal => "sensor abnormal",
            Unknown(_) => "unknown confirmation code",
        }
    }
}

impl fmt::Display for Confirmation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X} {}", self.code(), self.description())
    }
}

/// An acknowledgement: confirmation code and any data after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub confirmation: Confirmation,
    pub data: Vec<u8>,
}

impl Ack {
    /// Parses an ack packet.
    pub fn parse(packet: &Packet) -> Result<Ack, ReplyError> {
        if packet.kind != PacketKind::Ack {
            return Err(ReplyError::WrongKind(packet.kind));
        }
        let (&code, data) = packet.payload.split_first().ok_or(ReplyError::Empty)?;
        Ok(Ack {
            confirmation: Confirmation::from_code(code),
            data: data.to_vec(),
        })
    }

    /// The ack packet from the module at `address`.
    pub fn packet(confirmation: Confirmation, data: &[u8], address: u32) -> Packet {
        let mut payload = vec![confirmation.code()];
        payload.extend_from_slice(data);
        Packet::new(PacketKind::Ack, address, payload)
    }
}

/// The 16 bytes returned by ReadSysPara.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemParameters {
    /// Status register.
    pub status: u16,
    /// System identifier (0x0009 on the documented modules).
    pub system_id: u16,
    /// Template library size.
    pub library_size: u16,
    /// Security level 1–5.
    pub security_level: u16,
    /// Device address.
    pub address: u32,
    /// Data packet size.
    pub packet_size: PacketSize,
    /// Baud multiplier N: baud = N × 9600.
    pub baud_multiplier: u16,
}

impl SystemParameters {
    /// The encoded length.
    pub const LEN: usize = 16;

    /// Parses the data of a ReadSysPara ack.
    pub fn parse(data: &[u8]) -> Result<Self, ReplyError> {
        if data.len() != Self::LEN {
            return Err(ReplyError::WrongLength {
                expected: Self::LEN,
                got: data.len(),
            });
        }
        let word = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
        let code = word(12);
        let packet_size = PacketSize::from_code(code)
            .ok_or_else(|| ReplyError::BadParameters(format!("packet size code {code}")))?;
        Ok(Self {
            status: word(0),
            system_id: word(2),
            library_size: word(4),
            security_level: word(6),
            address: u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
            packet_size,
            baud_multiplier: word(14),
        })
    }

    /// The 16 bytes on the wire.
    pub fn encode(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[0..2].copy_from_slice(&self.status.to_be_bytes());
        out[2..4].copy_from_slice(&self.system_id.to_be_bytes());
        out[4..6].copy_from_slice(&self.library_size.to_be_bytes());
        out[6..8].copy_from_slice(&self.security_level.to_be_bytes());
        out[8..12].copy_from_slice(&self.address.to_be_bytes());
        out[12..14].copy_from_slice(&u16::from(self.packet_size.code()).to_be_bytes());
        out[14..16].copy_from_slice(&self.baud_multiplier.to_be_bytes());
        out
    }

    /// The configured baud rate.
    pub fn baud(&self) -> u32 {
        u32::from(self.baud_multiplier) * 9600
    }
}

/// Expands 4-bit pixels (two per byte, high nibble first) to 8-bit grey.
/// Each nibble is multiplied by 17, so 0x0 → 0 and 0xF → 255.
pub fn unpack_4bit(packed: &[u8]) -> Vec<u8> {
    packed
        .iter()
        .flat_map(|&b| [(b >> 4) * 17, (b & 0x0F) * 17])
        .collect()
}

/// Packs 8-bit grey to 4 bits per pixel, rounding to the nearest level.
/// An odd trailing pixel fills the high nibble of the last byte.
pub fn pack_4bit(grey: &[u8]) -> Vec<u8> {
    let level = |v: u8| -> u8 {
        // (v + 8) / 17 is at most 15, so the cast never truncates.
        ((u16::from(v) + 8) / 17) as u8
    };
    grey.chunks(2)
        .map(|pair| {
            let hi = level(pair[0]);
            let lo = pair.get(1).map_or(0, |&v| level(v));
            (hi << 4) | lo
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// VfyPwd with password 0 to the default address, computed by hand:
    /// 01 + 00 + 07 + 13 + 0 + 0 + 0 + 0 = 0x1B.
    const VFY_PWD_0: [u8; 16] = [
        0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x07, 0x13, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x1B,
    ];
    /// GenImg: 01 + 00 + 03 + 01 = 0x05.
    const GEN_IMG: [u8; 12] = [
        0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x03, 0x01, 0x00, 0x05,
    ];
    /// Ack "no finger": 07 + 00 + 03 + 02 = 0x0C.
    const ACK_NO_FINGER: [u8; 12] = [
        0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x00, 0x03, 0x02, 0x00, 0x0C,
    ];

    #[test]
    fn commands_encode_to_hand_computed_bytes() {
        assert_eq!(
            Command::VfyPwd(0).packet(DEFAULT_ADDRESS).encode(),
            VFY_PWD_0
        );
        assert_eq!(Command::GenImg.packet(DEFAULT_ADDRESS).encode(), GEN_IMG);
        // ReadSysPara: 01 + 00 + 03 + 0F = 0x13.
        assert_eq!(
            Command::ReadSysPara.packet(DEFAULT_ADDRESS).encode(),
            [
                0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x03, 0x0F, 0x00, 0x13
            ]
        );
        // UpImage: 01 + 00 + 03 + 0A = 0x0E.
        assert_eq!(
            Command::UpImage.packet(DEFAULT_ADDRESS).encode(),
            [
                0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x03, 0x0A, 0x00, 0x0E
            ]
        );
        // SetSysPara(6, 3): 01 + 00 + 05 + 0E + 06 + 03 = 0x1D.
        assert_eq!(
            Command::SetSysPara { param: 6, value: 3 }
                .packet(0x1234_5678)
                .encode(),
            [
                0xEF, 0x01, 0x12, 0x34, 0x56, 0x78, 0x01, 0x00, 0x05, 0x0E, 0x06, 0x03, 0x00, 0x1D
            ]
        );
        // VfyPwd(0xFFFFFFFF): 01 + 07 + 13 + 4 × FF = 0x417.
        let bytes = Command::VfyPwd(u32::MAX).packet(DEFAULT_ADDRESS).encode();
        assert_eq!(&bytes[14..], &[0x04, 0x17]);
    }

    #[test]
    fn checksum_wraps_modulo_65536() {
        // 0x08 + 0xFF + 0xFF + 256 × 0xFF = 0x10106 → 0x0106.
        let payload = vec![0xFF; 256];
        assert_eq!(checksum(0x08, 0xFFFF, &payload), 0x0106);
    }

    #[test]
    fn decoder_reads_a_hand_made_ack() {
        let mut d = Decoder::new();
        assert_eq!(d.push(&ACK_NO_FINGER), ACK_NO_FINGER.len());
        let packet = d.next_frame().expect("a frame").expect("valid");
        assert_eq!(packet.kind, PacketKind::Ack);
        assert_eq!(packet.address, DEFAULT_ADDRESS);
        let ack = Ack::parse(&packet).expect("an ack");
        assert_eq!(ack.confirmation, Confirmation::NoFinger);
        assert!(ack.data.is_empty());
        assert_eq!(d.next_frame(), None);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn decoder_handles_byte_by_byte_input() {
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for b in VFY_PWD_0.iter().chain(GEN_IMG.iter()) {
            d.push(&[*b]);
            while let Some(f) = d.next_frame() {
                got.push(f.expect("valid"));
            }
        }
        assert_eq!(
            got,
            vec![
                Command::VfyPwd(0).packet(DEFAULT_ADDRESS),
                Command::GenImg.packet(DEFAULT_ADDRESS)
            ]
        );
    }

    #[test]
    fn decoder_skips_garbage_and_false_headers() {
        let mut d = Decoder::new();
        let mut bytes = vec![0x00, 0xEF, 0x55, 0xEF, 0xEF, 0x01, 0xFF];
        bytes.extend_from_slice(&ACK_NO_FINGER);
        d.push(&bytes);
        // The false header "EF 01 FF EF 01 FF FF FF" has identifier 0xFF.
        assert_eq!(d.next_frame(), Some(Err(FrameError::UnknownKind(0xFF))));
        let packet = d.next_frame().expect("a frame").expect("valid");
        assert_eq!(
            Ack::parse(&packet).expect("ack").confirmation,
            Confirmation::NoFinger
        );
        assert_eq!(d.skipped(), 7);
        assert_eq!(d.next_frame(), None);
    }

    #[test]
    fn decoder_reports_bad_checksum_then_recovers() {
        let mut bad = ACK_NO_FINGER;
        bad[11] ^= 0x40;
        let mut d = Decoder::new();
        d.push(&bad);
        d.push(&ACK_NO_FINGER);
        assert_eq!(
            d.next_frame(),
            Some(Err(FrameError::BadChecksum {
                computed: 0x000C,
                received: 0x004C
            }))
        );
        assert!(matches!(d.next_frame(), Some(Ok(_))));
        assert_eq!(d.next_frame(), None);
    }

    #[test]
    fn a_stalled_false_header_can_be_abandoned() {
        // A false header announcing 256 payload bytes, then a real ack.
        let mut d = Decoder::new();
        d.push(&[0xEF, 0x01, 0x00, 0x00, 0x00, 0x00, 0x07, 0x01, 0x02]);
        d.push(&ACK_NO_FINGER);
        assert_eq!(d.next_frame(), None, "waits for the announced length");
        assert!(d.abandon_partial());
        let packet = d.next_frame().expect("a frame").expect("valid");
        assert_eq!(packet.payload, vec![0x02]);
        assert_eq!(d.skipped(), 9);
        assert!(!d.abandon_partial());
    }

    #[test]
    fn decoder_rejects_impossible_lengths() {
        let mut d = Decoder::new();
        d.push(&[0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x00, 0x01]);
        assert_eq!(d.next_frame(), Some(Err(FrameError::BadLength(1))));
        d.push(&[0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x01, 0x03]);
        assert_eq!(d.next_frame(), Some(Err(FrameError::BadLength(0x0103))));
        assert_eq!(d.next_frame(), None);
    }

    #[test]
    fn decoder_buffer_is_bounded() {
        let mut d = Decoder::new();
        let junk = vec![0x55u8; Decoder::CAPACITY * 3];
        let mut fed = 0;
        while fed < junk.len() {
            let n = d.push(&junk[fed..]);
            assert!(n > 0, "a drained decoder always has room");
            assert!(d.buffered() <= Decoder::CAPACITY);
            fed += n;
            assert_eq!(d.next_frame(), None);
        }
        assert_eq!(d.skipped(), junk.len() as u64);
    }

    #[test]
    fn round_trip_every_kind_and_size() {
        for kind in [
            PacketKind::Command,
            PacketKind::Data,
            PacketKind::Ack,
            PacketKind::EndData,
        ] {
            for size in [0usize, 1, 17, 32, 128, 256] {
                let payload: Vec<u8> = (0..size).map(|i| (i * 37 + 11) as u8).collect();
                let p = Packet::new(kind, 0xA1B2_C3D4, payload);
                let mut d = Decoder::new();
                d.push(&p.encode());
                assert_eq!(d.next_frame(), Some(Ok(p)));
            }
        }
    }

    #[test]
    fn system_parameters_parse_hand_made_bytes() {
        let data = [
            0x00, 0x04, // status
            0x00, 0x09, // system id
            0x00, 0xA3, // library size 163
            0x00, 0x03, // security level
            0xFF, 0xFF, 0xFF, 0xFF, // address
            0x00, 0x02, // 128-byte packets
            0x00, 0x06, // 57600 baud
        ];
        let p = SystemParameters::parse(&data).expect("valid");
        assert_eq!(p.status, 4);
        assert_eq!(p.system_id, 9);
        assert_eq!(p.library_size, 163);
        assert_eq!(p.security_level, 3);
        assert_eq!(p.address, DEFAULT_ADDRESS);
        assert_eq!(p.packet_size, PacketSize::Bytes128);
        assert_eq!(p.packet_size.bytes(), 128);
        assert_eq!(p.baud(), 57_600);
        assert_eq!(p.encode(), data);

        let mut bad = data;
        bad[13] = 4;
        assert!(matches!(
            SystemParameters::parse(&bad),
            Err(ReplyError::BadParameters(_))
        ));
        assert_eq!(
            SystemParameters::parse(&data[..15]),
            Err(ReplyError::WrongLength {
                expected: 16,
                got: 15
            })
        );
    }

    #[test]
    fn commands_parse_back() {
        for c in [
            Command::VfyPwd(0xDEAD_BEEF),
            Command::ReadSysPara,
            Command::GenImg,
            Command::UpImage,
            Command::SetSysPara {
                param: 4,
                value: 12,
            },
        ] {
            assert_eq!(Command::parse(&c.packet(DEFAULT_ADDRESS)), Ok(c));
        }
        let odd = Packet::new(PacketKind::Command, 0, vec![0x13, 0, 0]);
        assert_eq!(
            Command::parse(&odd),
            Err(ReplyError::WrongLength {
                expected: 4,
                got: 2
            })
        );
        let unknown = Packet::new(PacketKind::Command, 0, vec![0x35]);
        assert_eq!(
            Command::parse(&unknown),
            Err(ReplyError::UnknownInstruction(0x35))
        );
    }

    #[test]
    fn confirmation_codes_round_trip_with_descriptions() {
        for code in 0..=u8::MAX {
            let c = Confirmation::from_code(code);
            assert_eq!(c.code(), code);
            assert!(!c.description().is_empty());
        }
        assert_eq!(Confirmation::from_code(0x13), Confirmation::WrongPassword);
        assert_eq!(
            Confirmation::WrongPassword.to_string(),
            "0x13 wrong password"
        );
    }

    #[test]
    fn packet_sizes_and_baud() {
        assert_eq!(PacketSize::Bytes32.bytes(), 32);
        assert_eq!(PacketSize::Bytes256.bytes(), 256);
        assert_eq!(PacketSize::from_code(1), Some(PacketSize::Bytes64));
        assert_eq!(baud_multiplier(57_600), Some(6));
        assert_eq!(baud_multiplier(115_200), Some(12));
        assert_eq!(baud_multiplier(9_600), Some(1));
        assert_eq!(baud_multiplier(230_400), None);
        assert_eq!(baud_multiplier(19_201), None);
    }

    #[test]
    fn four_bit_unpack_and_pack() {
        assert_eq!(unpack_4bit(&[0x0F, 0xA5]), vec![0, 255, 170, 85]);
        assert_eq!(pack_4bit(&[0, 255, 170, 85]), vec![0x0F, 0xA5]);
        // Rounding to the nearest level: 8 → 0, 9 → 1, 254 → 15.
        assert_eq!(pack_4bit(&[8, 9, 254]), vec![0x01, 0xF0]);
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(pack_4bit(&unpack_4bit(&all)), all);
    }
}
