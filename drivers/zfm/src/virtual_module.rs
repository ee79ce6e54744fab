//! A virtual module: the real protocol, served over a pseudo-terminal.
//!
//! The module thread owns the master (device) end of a pty pair. The host
//! end is an ordinary tty path ([`VirtualModule::path`]) that the real
//! driver opens with `serialport`, exactly like a USB-serial bridge.
//! Faults are injected at run time through a cloneable [`ModuleHandle`].

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pishkhan_scanner::{Condition, Finger, SyntheticFinger};
use serialport::{SerialPort, TTYPort};

use crate::proto::{
    self, Ack, Command, Confirmation, Decoder, Packet, PacketKind, PacketSize, SystemParameters,
};

/// The behaviour of the virtual module, adjustable while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Knobs {
    /// How long the applicant takes to place a finger once the glass is
    /// empty and the host starts asking (GenImg).
    pub placement: Duration,
    /// The applicant never places a finger: GenImg always says "no finger".
    pub never_place: bool,
    /// After a finger is lifted, this many GenImg commands find the glass
    /// empty before the applicant starts placing the next finger, so the
    /// host sees the lift even if a reply is lost.
    pub empty_polls: u32,
    /// The module's password; VfyPwd with another one is refused (0x13).
    pub password: u32,
    /// Every Nth acknowledgement is sent with a wrong checksum (0 = never).
    pub corrupt_every: u32,
    /// The next this-many image data packets are sent with a wrong checksum.
    pub corrupt_data_packets: u32,
    /// Bytes sent before every acknowledgement.
    pub garbage_before: Vec<u8>,
    /// Pause before every acknowledgement.
    pub reply_delay: Duration,
    /// Close the device end after sending this many packets in total.
    pub disconnect_after: Option<u64>,
    /// Only understand the host when its port is set to this baud rate
    /// (`None`: any). A mismatched host is ignored, as a real UART would
    /// see only framing errors.
    pub baud: Option<u32>,
    /// The next this-many images are poor ([`Condition::Poor`]: a dry,
    /// light or smudged finger on a noisy sensor). An image is drawn poor at
    /// GenImg while this is above zero; its first upload uses one up.
    pub poor_captures: u32,
    /// The finger the applicant places, as the operator asked for it
    /// (`None`: one after another in `Finger::ALL` order). A module cannot
    /// know which finger is on the glass; in demo mode the station tells
    /// the virtual applicant what the operator's screen asks for.
    pub finger: Option<Finger>,
    /// Whose fingers are placed: a synthetic person's identity seed
    /// ([`SyntheticFinger::DEFAULT_IDENTITY`] unless changed, e.g. to
    /// somebody else at a card handover).
    pub applicant: u64,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            placement: Duration::from_millis(30),
            never_place: false,
            empty_polls: 3,
            password: proto::DEFAULT_PASSWORD,
            corrupt_every: 0,
            corrupt_data_packets: 0,
            garbage_before: Vec::new(),
            reply_delay: Duration::ZERO,
            disconnect_after: None,
            baud: None,
            poor_captures: 0,
            finger: None,
            applicant: SyntheticFinger::DEFAULT_IDENTITY,
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    knobs: Mutex<Knobs>,
    stop: AtomicBool,
    disconnect: AtomicBool,
    commands: AtomicU64,
    packets_sent: AtomicU64,
    images_taken: AtomicU64,
    bad_frames: AtomicU64,
}

/// A cloneable remote control for a running [`VirtualModule`].
#[derive(Debug, Clone)]
pub struct ModuleHandle(Arc<Shared>);

impl ModuleHandle {
    fn knobs_lock(&self) -> MutexGuard<'_, Knobs> {
        // A panic in the module thread must not hide the knobs from tests.
        self.0
            .knobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of the current knobs.
    pub fn knobs(&self) -> Knobs {
        self.knobs_lock().clone()
    }

    /// Changes the knobs.
    pub fn update(&self, change: impl FnOnce(&mut Knobs)) {
        change(&mut self.knobs_lock());
    }

    /// Closes the device end now, as if the module were unplugged.
    pub fn disconnect(&self) {
        self.0.disconnect.store(true, Ordering::SeqCst);
    }

    /// Valid command packets received.
    pub fn commands_received(&self) -> u64 {
        self.0.commands.load(Ordering::SeqCst)
    }

    /// Packets sent (acknowledgements and data).
    pub fn packets_sent(&self) -> u64 {
        self.0.packets_sent.load(Ordering::SeqCst)
    }

    /// Successful GenImg commands (fingers imaged).
    pub fn images_taken(&self) -> u64 {
        self.0.images_taken.load(Ordering::SeqCst)
    }

    /// Received frames that were not valid packets.
    pub fn bad_frames(&self) -> u64 {
        self.0.bad_frames.load(Ordering::SeqCst)
    }
}

/// A ZhianTec module simulated behind a pseudo-terminal.
#[derive(Debug)]
pub struct VirtualModule {
    path: String,
    handle: ModuleHandle,
    /// Holds the host end open so the pty survives until the driver opens
    /// it (and between its reopenings).
    host: Option<TTYPort>,
    thread: Option<JoinHandle<()>>,
}

impl VirtualModule {
    /// Starts a module with `knobs`. Its applicant is the synthetic person
    /// [`Knobs::applicant`] (by default the one
    /// [`pishkhan_scanner::ridge_pattern`] draws); `identity_seed` is the
    /// capture seed of every image it takes.
    pub fn start(identity_seed: u64, knobs: Knobs) -> io::Result<Self> {
        let (mut device, host) = TTYPort::pair().map_err(io::Error::from)?;
        device
            .set_timeout(Duration::from_millis(10))
            .map_err(io::Error::from)?;
        let path = host
            .name()
            .ok_or_else(|| io::Error::other("the pty has no name"))?;
        let shared = Arc::new(Shared {
            knobs: Mutex::new(knobs),
            ..Shared::default()
        });
        let handle = ModuleHandle(shared.clone());
        let thread = std::thread::Builder::new()
            .name(format!("zfm-virtual {path}"))
            .spawn(move || {
                let mut server = Server::new(device, shared, identity_seed);
                if let Err(e) = server.run() {
                    tracing::debug!(error = %e, "virtual zfm module stopped");
                }
            })?;
        Ok(Self {
            path,
            handle,
            host: Some(host),
            thread: Some(thread),
        })
    }

    /// The tty path to open with `serialport::new(path, baud).open()`.
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// The remote control.
    pub fn handle(&self) -> ModuleHandle {
        self.handle.clone()
    }

    /// Hands out the host end the module holds, to drive it directly
    /// (without opening the path).
    pub fn take_host_port(&mut self) -> Option<TTYPort> {
        self.host.take()
    }
}

impl Drop for VirtualModule {
    fn drop(&mut self) {
        self.handle.0.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The module thread's state.
struct Server {
    port: TTYPort,
    shared: Arc<Shared>,
    decoder: Decoder,
    seed: u64,
    address: u32,
    packet_size: PacketSize,
    baud_multiplier: u16,
    security_level: u16,
    /// When the finger being placed will touch the glass.
    finger_at: Option<Instant>,
    /// The packed image in the module's buffer.
    image: Option<Vec<u8>>,
    /// Whether that image was drawn poor and not yet uploaded.
    image_poor: bool,
    /// Fingers placed and lifted so far (selects the finger on the glass
    /// in `Finger::ALL` order unless [`Knobs::finger`] says which).
    captures: usize,
    /// How often each finger (by `Finger::ALL` index) was placed: a finger
    /// placed again is another capture of it (another seed).
    placed: [u64; 10],
    /// The finger on the glass now.
    on_glass: Option<usize>,
    /// GenImg commands still to find the glass empty after a lift.
    empty_polls_left: u32,
    acks: u64,
}

/// Why the module stops serving.
#[derive(Debug)]
enum Stop {
    Asked,
    Io(io::Error),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Asked => f.write_str("stopped or disconnected on request"),
            Stop::Io(e) => write!(f, "{e}"),
        }
    }
}

impl Server {
    fn new(port: TTYPort, shared: Arc<Shared>, seed: u64) -> Self {
        Self {
            port,
            shared,
            decoder: Decoder::new(),
            seed,
            address: proto::DEFAULT_ADDRESS,
            packet_size: PacketSize::Bytes128,
            baud_multiplier: 6,
            security_level: 3,
            finger_at: None,
            image: None,
            image_poor: false,
            captures: 0,
            placed: [0; 10],
            on_glass: None,
            empty_polls_left: 0,
            acks: 0,
        }
    }

    fn knobs(&self) -> Knobs {
        self.shared
            .knobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn check_stop(&self) -> Result<(), Stop> {
        if self.shared.stop.load(Ordering::SeqCst) || self.shared.disconnect.load(Ordering::SeqCst)
        {
            Err(Stop::Asked)
        } else {
            Ok(())
        }
    }

    /// Whether the host's port is set to the baud rate the module expects.
    fn baud_matches(&self, knobs: &Knobs) -> bool {
        match knobs.baud {
            None => true,
            // On Linux the master end reports the slave's termios.
            Some(want) => self.port.baud_rate().is_ok_and(|b| b == want),
        }
    }

    fn run(&mut self) -> Result<(), Stop> {
        let mut buf = [0u8; 512];
        loop {
            self.check_stop()?;
            match self.port.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    if !self.baud_matches(&self.knobs()) {
                        continue;
                    }
                    let mut rest = &buf[..n];
                    while !rest.is_empty() {
                        let taken = self.decoder.push(rest);
                        rest = &rest[taken..];
                        self.serve_frames()?;
                    }
                }
                Err(e) if crate::driver::is_transient(&e) => {}
                // No host has the pty open (yet, or any more): wait.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe || e.raw_os_error() == Some(5) => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(Stop::Io(e)),
            }
        }
    }

    fn serve_frames(&mut self) -> Result<(), Stop> {
        while let Some(frame) = self.decoder.next_frame() {
            match frame {
                Ok(packet) if packet.address == self.address => {
                    self.shared.commands.fetch_add(1, Ordering::SeqCst);
                    match Command::parse(&packet) {
                        Ok(command) => self.execute(command)?,
                        Err(e) => {
                            tracing::debug!(error = %e, "virtual zfm: bad command");
                            self.ack(Confirmation::PacketReceiveError, &[])?;
                        }
                    }
                }
                // Packets to another address are not for this module.
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "virtual zfm: bad frame");
                    self.shared.bad_frames.fetch_add(1, Ordering::SeqCst);
                    self.ack(Confirmation::PacketReceiveError, &[])?;
                }
            }
        }
        Ok(())
    }

    fn execute(&mut self, command: Command) -> Result<(), Stop> {
        let knobs = self.knobs();
        match command {
            Command::VfyPwd(password) => {
                if password == knobs.password {
                    self.ack(Confirmation::Ok, &[])
                } else {
                    self.ack(Confirmation::WrongPassword, &[])
                }
            }
            Command::ReadSysPara => {
                let parameters = SystemParameters {
                    status: 0,
                    system_id: 0x0009,
                    library_size: 1000,
                    security_level: self.security_level,
                    address: self.address,
                    packet_size: self.packet_size,
                    baud_multiplier: self.baud_multiplier,
                };
                self.ack(Confirmation::Ok, &parameters.encode())
            }
            Command::GenImg => {
                if self.finger_on(&knobs) {
                    let index = knobs
                        .finger
                        .and_then(|f| Finger::ALL.iter().position(|&g| g == f))
                        .unwrap_or(self.captures % Finger::ALL.len());
                    let finger = Finger::ALL[index];
                    self.on_glass = Some(index);
                    let condition = if knobs.poor_captures > 0 {
                        Condition::Poor
                    } else {
                        Condition::Normal
                    };
                    // The applicant is a synthetic person; the module's
                    // seed picks the capture, and each placing of the same
                    // finger again another one.
                    let grey = SyntheticFinger::new(knobs.applicant, finger).capture_in(
                        self.seed.wrapping_add(self.placed[index]),
                        proto::IMAGE_WIDTH,
                        proto::IMAGE_HEIGHT,
                        condition,
                    );
                    self.image = Some(proto::pack_4bit(&grey));
                    self.image_poor = condition == Condition::Poor;
                    self.shared.images_taken.fetch_add(1, Ordering::SeqCst);
                    self.ack(Confirmation::Ok, &[])
                } else {
                    self.ack(Confirmation::NoFinger, &[])
                }
            }
            // The image stays in the buffer until the next GenImg, so an
            // upload can be repeated.
            Command::UpImage => match self.image.clone() {
                Some(image) => {
                    self.ack(Confirmation::Ok, &[])?;
                    self.send_image(&image)?;
                    if std::mem::take(&mut self.image_poor) {
                        let mut knobs = self
                            .shared
                            .knobs
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        knobs.poor_captures = knobs.poor_captures.saturating_sub(1);
                    }
                    // The applicant lifts the finger once it is read.
                    if self.finger_at.take().is_some() {
                        self.captures += 1;
                        if let Some(index) = self.on_glass.take() {
                            self.placed[index] += 1;
                        }
                        self.empty_polls_left = knobs.empty_polls;
                    }
                    Ok(())
                }
                None => self.ack(Confirmation::NoValidImage, &[]),
            },
            Command::SetSysPara { param, value } => match param {
                proto::parameter::PACKET_SIZE => match PacketSize::from_code(u16::from(value)) {
                    Some(size) => {
                        self.ack(Confirmation::Ok, &[])?;
                        self.packet_size = size;
                        Ok(())
                    }
                    None => self.ack(Confirmation::InvalidRegister, &[]),
                },
                proto::parameter::BAUD if (1..=12).contains(&value) => {
                    self.ack(Confirmation::Ok, &[])?;
                    self.baud_multiplier = u16::from(value);
                    // The module's UART now runs at the new rate.
                    self.shared
                        .knobs
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .baud = Some(u32::from(value) * 9600);
                    Ok(())
                }
                proto::parameter::SECURITY_LEVEL if (1..=5).contains(&value) => {
                    self.security_level = u16::from(value);
                    self.ack(Confirmation::Ok, &[])
                }
                _ => self.ack(Confirmation::InvalidRegister, &[]),
            },
        }
    }

    /// Whether a finger is on the glass now. An empty glass starts the
    /// next placement.
    fn finger_on(&mut self, knobs: &Knobs) -> bool {
        if knobs.never_place {
            return false;
        }
        if self.empty_polls_left > 0 {
            self.empty_polls_left -= 1;
            return false;
        }
        match self.finger_at {
            None => {
                self.finger_at = Some(Instant::now() + knobs.placement);
                false
            }
            Some(at) => Instant::now() >= at,
        }
    }

    fn ack(&mut self, confirmation: Confirmation, data: &[u8]) -> Result<(), Stop> {
        let knobs = self.knobs();
        self.acks += 1;
        let mut bytes = knobs.garbage_before.clone();
        let mut packet = Ack::packet(confirmation, data, self.address).encode();
        if knobs.corrupt_every > 0 && self.acks.is_multiple_of(u64::from(knobs.corrupt_every)) {
            corrupt(&mut packet);
        }
        bytes.extend_from_slice(&packet);
        if !knobs.reply_delay.is_zero() {
            self.sleep(knobs.reply_delay)?;
        }
        self.send(&bytes)
    }

    fn send_image(&mut self, image: &[u8]) -> Result<(), Stop> {
        let size = self.packet_size.bytes();
        let count = image.len().div_ceil(size);
        for (i, chunk) in image.chunks(size).enumerate() {
            let kind = if i + 1 == count {
                PacketKind::EndData
            } else {
                PacketKind::Data
            };
            let mut bytes = Packet::new(kind, self.address, chunk.to_vec()).encode();
            let corrupt_this = {
                let mut knobs = self
                    .shared
                    .knobs
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if knobs.corrupt_data_packets > 0 {
                    knobs.corrupt_data_packets -= 1;
                    true
                } else {
                    false
                }
            };
            if corrupt_this {
                corrupt(&mut bytes);
            }
            self.send(&bytes)?;
        }
        Ok(())
    }

    /// Writes one packet's bytes, then applies the disconnect knob.
    fn send(&mut self, mut bytes: &[u8]) -> Result<(), Stop> {
        while !bytes.is_empty() {
            self.check_stop()?;
            match self.port.write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if crate::driver::is_transient(&e) => {}
                Err(e) => return Err(Stop::Io(e)),
            }
        }
        let _ = self.port.flush();
        let sent = self.shared.packets_sent.fetch_add(1, Ordering::SeqCst) + 1;
        if self.knobs().disconnect_after.is_some_and(|n| sent >= n) {
            self.shared.disconnect.store(true, Ordering::SeqCst);
            return Err(Stop::Asked);
        }
        Ok(())
    }

    fn sleep(&self, total: Duration) -> Result<(), Stop> {
        let end = Instant::now() + total;
        while Instant::now() < end {
            self.check_stop()?;
            std::thread::sleep((end - Instant::now()).min(Duration::from_millis(5)));
        }
        Ok(())
    }
}

/// Spoils the checksum of an encoded packet.
fn corrupt(packet: &mut [u8]) {
    if let Some(last) = packet.last_mut() {
        *last ^= 0x5A;
    }
}
