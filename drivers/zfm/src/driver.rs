//! The host side: a [`FingerSensor`] talking to a module over any byte
//! stream.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use pishkhan_scanner::{
    Capabilities, DeviceInfo, Finger, FingerImage, FingerSensor, Polling, ScanError, Transport,
};

use crate::proto::{
    self, Ack, Command, Confirmation, Decoder, FrameError, Packet, PacketKind, PacketSize,
    ReplyError, SystemParameters,
};

/// How the driver talks to one module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The module address (default `FF FF FF FF`).
    pub address: u32,
    /// The module password (default 0).
    pub password: u32,
    /// How long to wait for the reply to one command. A module silent
    /// for longer is reported as [`ScanError::NoAnswer`] (never as
    /// [`ScanError::Timeout`], which means no finger was placed).
    pub command_timeout: Duration,
    /// How long to wait between two data packets of an upload; longer
    /// silence is [`ScanError::NoAnswer`] too.
    pub packet_timeout: Duration,
    /// How often a command is sent again after a garbled reply.
    pub retries: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            address: proto::DEFAULT_ADDRESS,
            password: proto::DEFAULT_PASSWORD,
            command_timeout: Duration::from_secs(1),
            packet_timeout: Duration::from_secs(1),
            retries: 3,
        }
    }
}

/// Baud rates tried by [`open`] after the configured one, most common first.
pub const COMMON_BAUDS: [u32; 6] = [57_600, 115_200, 9_600, 19_200, 38_400, 76_800];

/// How often the station polls the module for a finger.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Read timeout of the serial port: how often a blocked read wakes up to
/// check the driver's own deadline.
pub(crate) const PORT_READ_TIMEOUT: Duration = Duration::from_millis(20);

/// Silence that ends the draining of a garbled reply before a retry.
const QUIET: Duration = Duration::from_millis(40);

/// How long a valid packet may still arrive after a bad frame.
const GRACE: Duration = Duration::from_millis(60);

/// Timeout of the VfyPwd probe at each baud rate tried by [`open`].
const PROBE_TIMEOUT: Duration = Duration::from_millis(400);

/// What went wrong on the wire, before it becomes a [`ScanError`]:
/// `Garbled` is retried and ends as [`ScanError::Protocol`], `Silent` is
/// [`ScanError::NoAnswer`], `Io` is [`ScanError::Disconnected`] (or
/// [`ScanError::Protocol`] for [`io::ErrorKind::InvalidData`], which a
/// byte stream such as the transcript
/// [`Replayer`](crate::transcript::Replayer) raises when the exchange
/// leaves the expected course), `Device` is [`ScanError::Device`].
#[derive(Debug)]
enum WireError {
    /// Bytes arrived, but not a valid reply: worth sending the command again.
    Garbled(String),
    /// Nothing (valid) arrived in time.
    Silent(Duration),
    /// The port failed: the module is gone.
    Io(io::Error),
    /// The module answered with an error code.
    Device(Confirmation),
}

impl From<FrameError> for WireError {
    fn from(e: FrameError) -> Self {
        WireError::Garbled(e.to_string())
    }
}

impl From<ReplyError> for WireError {
    fn from(e: ReplyError) -> Self {
        WireError::Garbled(e.to_string())
    }
}

/// Whether an I/O error means "nothing to read yet" rather than "gone".
pub(crate) fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

fn disconnected(e: &io::Error) -> ScanError {
    ScanError::Disconnected(match e.raw_os_error() {
        Some(code) => format!("{e} (os error {code})"),
        None => e.to_string(),
    })
}

fn device_error(c: Confirmation) -> ScanError {
    ScanError::Device {
        code: format!("0x{:02X}", c.code()),
        message: c.description().to_owned(),
    }
}

/// A ZhianTec/Synochip module behind a byte stream.
///
/// The stream's reads should time out now and then (serial ports and
/// ptys do); the driver keeps its own per-command deadline on top, so a
/// read that blocks forever would defeat [`Config::command_timeout`].
#[derive(Debug)]
pub struct ZfmSensor<T> {
    port: T,
    config: Config,
    info: DeviceInfo,
    decoder: Decoder,
    parameters: SystemParameters,
}

impl<T: Read + Write + Send> ZfmSensor<T> {
    /// Performs the handshake over `port`: VfyPwd with the configured
    /// password, then ReadSysPara to learn the module's parameters.
    ///
    /// `port_name` is only recorded in the [`DeviceInfo`].
    pub fn connect(port: T, port_name: &str, config: Config) -> Result<Self, ScanError> {
        let info = DeviceInfo {
            id: format!("zfm:{port_name}"),
            name: "ZhianTec/Synochip fingerprint module".into(),
            transport: Transport::Serial {
                port: port_name.to_owned(),
            },
            capabilities: Capabilities {
                single_flat: true,
                ..Capabilities::default()
            },
            resolution_ppi: 500,
            image_width: proto::IMAGE_WIDTH,
            image_height: proto::IMAGE_HEIGHT,
        };
        let mut sensor = Self {
            port,
            config,
            info,
            decoder: Decoder::new(),
            // Replaced by the module's own below.
            parameters: SystemParameters {
                status: 0,
                system_id: 0,
                library_size: 0,
                security_level: 0,
                address: proto::DEFAULT_ADDRESS,
                packet_size: PacketSize::Bytes128,
                baud_multiplier: 6,
            },
        };
        sensor.verify_password()?;
        sensor.read_parameters()?;
        Ok(sensor)
    }

    /// The parameters read from the module at the handshake (updated by
    /// [`Self::set_packet_size`]).
    pub fn parameters(&self) -> &SystemParameters {
        &self.parameters
    }

    /// The driver configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The underlying stream.
    pub fn port(&self) -> &T {
        &self.port
    }

    /// The underlying stream, mutably. Bytes read or written through it
    /// bypass the driver; meant for wrappers such as the transcript
    /// [`Recorder`](crate::transcript::Recorder), e.g. to add a comment.
    pub fn port_mut(&mut self) -> &mut T {
        &mut self.port
    }

    /// Gives the underlying stream back.
    pub fn into_port(self) -> T {
        self.port
    }

    /// Sends VfyPwd with the configured password.
    pub fn verify_password(&mut self) -> Result<(), ScanError> {
        let command = Command::VfyPwd(self.config.password);
        self.command(command).map(drop)
    }

    /// Reads the system parameters (ReadSysPara).
    pub fn read_parameters(&mut self) -> Result<SystemParameters, ScanError> {
        let ack = self.command(Command::ReadSysPara)?;
        let parameters = SystemParameters::parse(&ack.data).map_err(|e| {
            ScanError::Protocol(format!("ReadSysPara returned bad parameters: {e}"))
        })?;
        tracing::debug!(?parameters, "zfm system parameters");
        self.parameters = parameters;
        Ok(parameters)
    }

    /// Sets the data packet size of the module (SetSysPara 6).
    pub fn set_packet_size(&mut self, size: PacketSize) -> Result<(), ScanError> {
        self.command(Command::SetSysPara {
            param: proto::parameter::PACKET_SIZE,
            value: size.code(),
        })?;
        self.parameters.packet_size = size;
        Ok(())
    }

    /// Sends one command and returns its (OK) acknowledgement, sending it
    /// again up to [`Config::retries`] times when the reply is garbled.
    fn command(&mut self, command: Command) -> Result<Ack, ScanError> {
        self.with_retries(command, |s| s.exchange(command))
    }

    fn with_retries<R>(
        &mut self,
        command: Command,
        mut attempt: impl FnMut(&mut Self) -> Result<R, WireError>,
    ) -> Result<R, ScanError> {
        let mut last = String::new();
        for n in 0..=self.config.retries {
            match attempt(self) {
                Ok(r) => return Ok(r),
                Err(WireError::Garbled(why)) => {
                    tracing::debug!(?command, attempt = n + 1, %why, "zfm reply garbled");
                    last = why;
                    self.drain()?;
                }
                Err(WireError::Device(Confirmation::PacketReceiveError)) => {
                    tracing::debug!(
                        ?command,
                        attempt = n + 1,
                        "zfm module got a garbled command"
                    );
                    last =
                        "the module could not read the command (0x01 packet receive error)".into();
                }
                Err(WireError::Device(c)) => return Err(device_error(c)),
                Err(WireError::Silent(t)) => return Err(ScanError::NoAnswer(t)),
                Err(WireError::Io(e)) if e.kind() == io::ErrorKind::InvalidData => {
                    let mut message = format!("the stream refused {command:?}: {e}");
                    if !last.is_empty() {
                        message.push_str(&format!("; before that: {last}"));
                    }
                    return Err(ScanError::Protocol(message));
                }
                Err(WireError::Io(e)) => return Err(disconnected(&e)),
            }
        }
        Err(ScanError::Protocol(format!(
            "no valid reply to {command:?} after {} attempts; last problem: {last}",
            self.config.retries + 1
        )))
    }

    /// Sends `command` and reads its acknowledgement.
    fn exchange(&mut self, command: Command) -> Result<Ack, WireError> {
        self.send(command)?;
        let timeout = self.config.command_timeout;
        let packet = self.read_packet(timeout, true)?;
        let ack = Ack::parse(&packet)?;
        match ack.confirmation {
            Confirmation::Ok => Ok(ack),
            Confirmation::NoFinger if command == Command::GenImg => Ok(ack),
            other => Err(WireError::Device(other)),
        }
    }

    fn send(&mut self, command: Command) -> Result<(), WireError> {
        let bytes = command.packet(self.config.address).encode();
        self.port.write_all(&bytes).map_err(WireError::Io)?;
        self.port.flush().map_err(WireError::Io)
    }

    /// Reads the next valid packet from this module within `timeout`.
    ///
    /// A bad frame before an acknowledgement may be line noise in front of
    /// the real reply, so with `noise_ok` the driver still waits [`GRACE`]
    /// for a valid packet before it calls the reply garbled. Within an
    /// image (`noise_ok` false) a bad frame is a lost data packet.
    fn read_packet(&mut self, timeout: Duration, noise_ok: bool) -> Result<Packet, WireError> {
        let mut deadline = Instant::now() + timeout;
        let mut garbled: Option<String> = None;
        let mut buf = [0u8; 512];
        let mut last_byte = Instant::now();
        loop {
            // A false header in line noise announces a frame that never
            // completes; once the line is quiet, look past it.
            if last_byte.elapsed() >= GRACE && self.decoder.abandon_partial() {
                garbled = Some("an incomplete frame".into());
                last_byte = Instant::now();
            }
            while let Some(frame) = self.decoder.next_frame() {
                match frame {
                    Ok(packet) if packet.address == self.config.address => return Ok(packet),
                    Ok(packet) => {
                        garbled = Some(format!(
                            "reply from address 0x{:08X}, expected 0x{:08X}",
                            packet.address, self.config.address
                        ));
                    }
                    Err(e) if noise_ok => garbled = Some(e.to_string()),
                    Err(e) => return Err(e.into()),
                }
                deadline = deadline.min(Instant::now() + GRACE);
            }
            if Instant::now() >= deadline {
                return Err(match garbled {
                    Some(why) => WireError::Garbled(why),
                    None => WireError::Silent(timeout),
                });
            }
            match self.port.read(&mut buf) {
                Ok(0) => {
                    return Err(WireError::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "end of stream",
                    )));
                }
                Ok(n) => {
                    last_byte = Instant::now();
                    self.push(&buf[..n])?;
                }
                Err(e) if is_transient(&e) => {}
                Err(e) => return Err(WireError::Io(e)),
            }
        }
    }

    /// Feeds the decoder; frames are taken out as soon as they complete, so
    /// a bounded decoder only refuses bytes while a frame error is pending.
    fn push(&mut self, mut bytes: &[u8]) -> Result<(), WireError> {
        while !bytes.is_empty() {
            let n = self.decoder.push(bytes);
            if n == 0 {
                return Err(WireError::Garbled("receive buffer overflow".into()));
            }
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// Discards whatever the module is still sending, until it falls
    /// quiet (or the command timeout passes).
    fn drain(&mut self) -> Result<(), ScanError> {
        self.decoder.clear();
        let start = Instant::now();
        let mut last_byte = Instant::now();
        let mut buf = [0u8; 512];
        while last_byte.elapsed() < QUIET && start.elapsed() < self.config.command_timeout {
            match self.port.read(&mut buf) {
                Ok(0) => {
                    return Err(ScanError::Disconnected("end of stream".into()));
                }
                Ok(_) => last_byte = Instant::now(),
                Err(e) if is_transient(&e) => {}
                Err(e) => return Err(disconnected(&e)),
            }
        }
        Ok(())
    }

    /// UpImage and the data packets that follow, as packed 4-bit bytes.
    fn upload_packed(&mut self) -> Result<Vec<u8>, WireError> {
        self.exchange(Command::UpImage)?;
        let limit = self.parameters.packet_size.bytes();
        let mut image = Vec::with_capacity(proto::IMAGE_BYTES);
        loop {
            let packet = self.read_packet(self.config.packet_timeout, false)?;
            match packet.kind {
                PacketKind::Data | PacketKind::EndData => {}
                other => {
                    return Err(WireError::Garbled(format!(
                        "a {other:?} packet in the middle of the image"
                    )));
                }
            }
            if packet.payload.len() > limit {
                return Err(WireError::Garbled(format!(
                    "a {}-byte data packet with the packet size set to {limit}",
                    packet.payload.len()
                )));
            }
            image.extend_from_slice(&packet.payload);
            if image.len() > proto::IMAGE_BYTES {
                return Err(WireError::Garbled(format!(
                    "more than {} image bytes",
                    proto::IMAGE_BYTES
                )));
            }
            if packet.kind == PacketKind::EndData {
                break;
            }
        }
        if image.len() != proto::IMAGE_BYTES {
            return Err(WireError::Garbled(format!(
                "the image has {} bytes, expected {}",
                image.len(),
                proto::IMAGE_BYTES
            )));
        }
        Ok(image)
    }
}

impl ZfmSensor<Box<dyn serialport::SerialPort>> {
    /// Changes the module's baud rate (SetSysPara 4), then switches the
    /// host port and checks that the module still answers.
    ///
    /// Some modules only apply a new baud rate after a power cycle; in that
    /// case the check fails, the host port is switched back and the error
    /// is returned.
    pub fn set_baud(&mut self, baud: u32) -> Result<(), ScanError> {
        let n = proto::baud_multiplier(baud)
            .ok_or_else(|| ScanError::Protocol(format!("{baud} is not N × 9600 with N = 1–12")))?;
        self.command(Command::SetSysPara {
            param: proto::parameter::BAUD,
            value: n,
        })?;
        let old = self.port.baud_rate().map_err(|e| {
            ScanError::Disconnected(format!("cannot read the port's baud rate: {e}"))
        })?;
        self.port.set_baud_rate(baud).map_err(|e| {
            ScanError::Disconnected(format!("cannot set the port to {baud} baud: {e}"))
        })?;
        match self.verify_password() {
            Ok(()) => {
                self.parameters.baud_multiplier = u16::from(n);
                Ok(())
            }
            Err(e) => {
                let _ = self.port.set_baud_rate(old);
                Err(e)
            }
        }
    }
}

impl<T: Read + Write + Send> FingerSensor for ZfmSensor<T> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn take_image(&mut self) -> Result<bool, ScanError> {
        let ack = self.command(Command::GenImg)?;
        Ok(ack.confirmation == Confirmation::Ok)
    }

    fn upload_image(&mut self, finger: Finger) -> Result<FingerImage, ScanError> {
        let packed = self.with_retries(Command::UpImage, Self::upload_packed)?;
        Ok(FingerImage {
            finger,
            width: proto::IMAGE_WIDTH,
            height: proto::IMAGE_HEIGHT,
            resolution_ppi: 500,
            pixels: proto::unpack_4bit(&packed),
            device_quality: None,
        })
    }
}

/// A module on a serial port, ready for the station.
pub type ZfmScanner = Polling<ZfmSensor<Box<dyn serialport::SerialPort>>>;

/// Opens the module on serial port `path`.
///
/// Tries `baud` first, then the [`COMMON_BAUDS`], until the module answers
/// VfyPwd (with the default password and address); then reads its
/// parameters. A module that answers "wrong password" is reported as
/// [`ScanError::Device`] at once; when nothing answers at any baud rate
/// the last probe's error is returned, usually [`ScanError::NoAnswer`].
pub fn open(path: &str, baud: u32) -> Result<ZfmScanner, ScanError> {
    open_with(path, baud, Config::default())
}

/// [`open`] with an explicit configuration.
pub fn open_with(path: &str, baud: u32, config: Config) -> Result<ZfmScanner, ScanError> {
    let mut bauds = vec![baud];
    bauds.extend(COMMON_BAUDS.iter().filter(|&&b| b != baud));
    // Open once and only change the baud rate between probes: reopening
    // an exclusive tty could fail, and the port stays ours throughout.
    let port = serialport::new(path, baud)
        .timeout(PORT_READ_TIMEOUT)
        .open()
        .map_err(|e| ScanError::Disconnected(format!("cannot open {path}: {e}")))?;
    let mut last = ScanError::NoAnswer(PROBE_TIMEOUT);
    for b in bauds {
        let mut probe_port = port
            .try_clone()
            .map_err(|e| ScanError::Disconnected(format!("cannot use {path}: {e}")))?;
        probe_port
            .set_baud_rate(b)
            .map_err(|e| ScanError::Disconnected(format!("cannot set {path} to {b} baud: {e}")))?;
        // Stale bytes from an earlier probe are not replies.
        let _ = probe_port.clear(serialport::ClearBuffer::All);
        let probe = Config {
            command_timeout: PROBE_TIMEOUT,
            retries: 0,
            ..config.clone()
        };
        match ZfmSensor::connect(probe_port, path, probe) {
            Ok(mut sensor) => {
                tracing::info!(path, baud = b, "zfm module answered");
                sensor.config = config;
                return Ok(Polling::new(sensor, POLL_INTERVAL));
            }
            Err(e @ (ScanError::NoAnswer(_) | ScanError::Protocol(_))) => {
                tracing::debug!(path, baud = b, error = %e, "no zfm module at this baud");
                last = e;
            }
            Err(e) => return Err(e),
        }
    }
    Err(last)
}
