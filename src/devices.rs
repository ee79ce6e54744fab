//! The station's devices at run time: which camera and scanner are used,
//! and the scanner worker thread that stamps every capture.
//!
//! Every capture carries a [`CaptureStamp`]. When the operator leaves a step
//! mid-capture the capture is cancelled and its stamp forgotten, so whatever
//! the device still reports for it afterwards is recognised as stale and
//! dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use pishkhan_scanner::{
    CancelToken, Capture, CaptureRequest, DeviceInfo, ScanError, ScanEvent, Scanner, VirtualScanner,
};

use crate::config::{CameraChoice, Config, ScannerChoice};

/// Identifies one capture request; unique for the life of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaptureStamp(u64);

impl CaptureStamp {
    fn next() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        Self(COUNTER.fetch_add(1, Ordering::Relaxed))
    }
}

/// What the scanner worker reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    Scan(ScanEvent),
    Failed(ScanError),
}

enum Command {
    Capture(CaptureStamp, CaptureRequest, CancelToken),
}

/// Owns the scanner on its own thread; one capture at a time.
pub struct ScannerWorker {
    info: DeviceInfo,
    commands: Mutex<Option<Sender<Command>>>,
    events: Mutex<Receiver<(CaptureStamp, DeviceEvent)>>,
    running: Mutex<Option<CancelToken>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl ScannerWorker {
    /// Starts the worker thread for `scanner`.
    pub fn start(mut scanner: Box<dyn Scanner>) -> Arc<Self> {
        let info = scanner.info().clone();
        let (commands, inbox) = channel::<Command>();
        let (outbox, events) = channel();
        let thread = std::thread::Builder::new()
            .name("scanner".into())
            .spawn(move || {
                while let Ok(Command::Capture(stamp, request, cancel)) = inbox.recv() {
                    let send = |event| {
                        let _ = outbox.send((stamp, event));
                    };
                    let result = scanner.capture(&request, &cancel, &mut |e| {
                        send(DeviceEvent::Scan(e));
                    });
                    if let Err(e) = result {
                        send(DeviceEvent::Failed(e));
                    }
                }
            })
            .ok();
        Arc::new(Self {
            info,
            commands: Mutex::new(Some(commands)),
            events: Mutex::new(events),
            running: Mutex::new(None),
            thread: Mutex::new(thread),
        })
    }

    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// Cancels any running capture and starts `request`.
    pub fn capture(&self, request: CaptureRequest) -> CaptureStamp {
        self.cancel();
        let stamp = CaptureStamp::next();
        let cancel = CancelToken::new();
        if let Ok(mut running) = self.running.lock() {
            *running = Some(cancel.clone());
        }
        if let Ok(commands) = self.commands.lock()
            && let Some(commands) = commands.as_ref()
        {
            let _ = commands.send(Command::Capture(stamp, request, cancel));
        }
        stamp
    }

    /// Cancels the running capture, if any.
    pub fn cancel(&self) {
        if let Ok(mut running) = self.running.lock()
            && let Some(cancel) = running.take()
        {
            cancel.cancel();
        }
    }

    /// Every event reported since the last call.
    pub fn drain(&self) -> Vec<(CaptureStamp, DeviceEvent)> {
        self.events
            .lock()
            .map(|events| events.try_iter().collect())
            .unwrap_or_default()
    }

    /// Waits up to `timeout` for the next event (for headless tools).
    pub fn wait(&self, timeout: Duration) -> Option<(CaptureStamp, DeviceEvent)> {
        let events = self.events.lock().ok()?;
        events.recv_timeout(timeout).ok()
    }
}

impl Drop for ScannerWorker {
    fn drop(&mut self) {
        self.cancel();
        if let Ok(mut commands) = self.commands.lock() {
            commands.take();
        }
        if let Ok(mut thread) = self.thread.lock()
            && let Some(thread) = thread.take()
        {
            let _ = thread.join();
        }
    }
}

/// Virtual devices started for this run; they stop when the last clone of
/// [`Devices`] is dropped.
#[derive(Default)]
struct VirtualDevices {
    #[cfg(unix)]
    zfm: Option<pishkhan_zfm::VirtualModule>,
    sbi: Option<pishkhan_sbi::VirtualSbi>,
}

/// The SBI port range on 127.0.0.1.
pub const SBI_PORTS: std::ops::RangeInclusive<u16> = 4501..=4600;

/// Starts the virtual SBI service on the first free port of the SBI range
/// (so discovery finds it), presenting the virtual applicant.
pub fn start_virtual_sbi(capture_delay: Duration) -> std::io::Result<pishkhan_sbi::VirtualSbi> {
    let knobs = pishkhan_sbi::Knobs {
        identity_seed: VIRTUAL_IDENTITY,
        capture_delay_ms: u64::try_from(capture_delay.as_millis()).unwrap_or(u64::MAX),
        ..Default::default()
    };
    let mut last = None;
    for port in SBI_PORTS {
        match pishkhan_sbi::VirtualSbi::start(port, knobs.clone()) {
            Ok(service) => return Ok(service),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port in the SBI range")))
}

/// The trust store for SBI devices: the configured keys and device CAs.
fn sbi_trust(devices: &crate::config::DeviceConfig) -> pishkhan_sbi::TrustStore {
    let with_cas =
        devices
            .sbi_trusted_cas
            .iter()
            .fold(pishkhan_sbi::TrustStore::new(), |store, path| {
                let added = std::fs::read(path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| {
                        crate::config::add_ca(store.clone(), &b).map_err(|e| e.to_string())
                    });
                added.unwrap_or_else(|e| {
                    tracing::warn!("SBI device CA {path} refused: {e}");
                    store
                })
            });
    devices
        .sbi_trusted_keys
        .iter()
        .filter_map(|k| hex::decode(k).ok()?.try_into().ok())
        .fold(with_cas, |store, key: [u8; 32]| {
            match store.clone().with_ed25519_bytes(&key) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("SBI trusted key refused: {e}");
                    store
                }
            }
        })
}

fn sbi_info(addr: std::net::SocketAddr) -> DeviceInfo {
    DeviceInfo {
        id: format!("sbi:{addr}"),
        name: format!("SBI slap scanner at {addr}"),
        transport: pishkhan_scanner::Transport::LocalService {
            url: format!("http://{addr}"),
        },
        capabilities: pishkhan_scanner::Capabilities {
            four_finger_slap: true,
            two_thumbs: true,
            ..Default::default()
        },
        resolution_ppi: 500,
        image_width: 0,
        image_height: 0,
    }
}

/// The SBI service at `addr`, connected on first use and again after it
/// was lost.
pub fn sbi_scanner(
    addr: std::net::SocketAddr,
    trust: pishkhan_sbi::TrustStore,
) -> Box<dyn Scanner> {
    Box::new(Reconnecting::new(sbi_info(addr), move || {
        pishkhan_sbi::SbiScanner::connect(addr, trust.clone())
            .map(|s| Box::new(s) as Box<dyn Scanner>)
    }))
}

/// The first SBI service on 127.0.0.1 whose device signs with a key or
/// certificate chain that `trust` accepts; untrusted services are logged
/// and skipped.
pub fn trusted_sbi(
    trust: &pishkhan_sbi::TrustStore,
) -> Option<(std::net::SocketAddr, pishkhan_sbi::SbiScanner)> {
    let localhost = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    pishkhan_sbi::discover(localhost, SBI_PORTS, Duration::from_millis(500))
        .into_iter()
        .filter(|d| !d.devices.is_empty())
        .find_map(|d| match pishkhan_sbi::SbiScanner::connect(d.addr, trust.clone()) {
            Ok(scanner) => Some((d.addr, scanner)),
            Err(e) => {
                tracing::warn!(
                    "SBI service at {} not used: {e}; trust it with devices.sbi_trusted_keys or sbi_trusted_cas",
                    d.addr
                );
                None
            }
        })
}

/// The devices chosen for this station run.
#[derive(Clone)]
pub struct Devices {
    pub camera: pishkhan_camera::Source,
    pub scanner: Arc<ScannerWorker>,
    /// What was chosen and why, for the log and `pishkhan devices`.
    pub scanner_origin: String,
    held: Arc<Mutex<VirtualDevices>>,
}

/// The identity seed of the applicant the virtual devices present.
pub const VIRTUAL_IDENTITY: u64 = 0x005E_EDF1_A6E2;

fn serial_info(port: &str) -> DeviceInfo {
    DeviceInfo {
        id: format!("zfm:{port}"),
        name: format!("ZhianTec module on {port}"),
        transport: pishkhan_scanner::Transport::Serial { port: port.into() },
        capabilities: pishkhan_scanner::Capabilities {
            single_flat: true,
            ..Default::default()
        },
        resolution_ppi: 500,
        image_width: 256,
        image_height: 288,
    }
}

/// A ZhianTec module at `port`, opened on first use and reopened after
/// it was lost.
pub fn zfm_scanner(port: String, baud: u32) -> Box<dyn Scanner> {
    let info = serial_info(&port);
    Box::new(Reconnecting::new(info, move || {
        pishkhan_zfm::open(&port, baud).map(|s| Box::new(s) as Box<dyn Scanner>)
    }))
}

impl Devices {
    /// Chooses devices from the configuration: attached hardware when asked
    /// for or found, virtual devices (speaking the real protocols)
    /// otherwise.
    pub fn from_config(config: &Config) -> Self {
        let camera = match config.devices.camera {
            CameraChoice::Auto => pishkhan_camera::detect(),
            CameraChoice::Synthetic => pishkhan_camera::Source::Synthetic,
            CameraChoice::SyntheticSeated => pishkhan_camera::Source::SyntheticSeated,
            CameraChoice::Index(i) => pishkhan_camera::Source::Device(i),
        };
        let mut virtuals = VirtualDevices::default();
        let devices = &config.devices;
        let placement = Duration::from_millis(devices.virtual_scanner_delay_ms);
        let (scanner, origin): (Box<dyn Scanner>, String) = match devices.scanner {
            ScannerChoice::Virtual => (
                Box::new(VirtualScanner::virtual_scanner(placement)),
                "in-process virtual sensor (configured)".into(),
            ),
            ScannerChoice::Zfm if devices.zfm_port != "virtual" => (
                zfm_scanner(devices.zfm_port.clone(), devices.zfm_baud),
                format!("ZhianTec module on {} (configured)", devices.zfm_port),
            ),
            ScannerChoice::Sbi if devices.sbi_service == "virtual" => {
                match start_virtual_sbi(placement) {
                    Ok(service) => {
                        let addr = service.addr();
                        let trust = service.trust_store();
                        virtuals.sbi = Some(service);
                        (
                            sbi_scanner(addr, trust),
                            format!("virtual SBI slap scanner at {addr} (configured)"),
                        )
                    }
                    Err(e) => {
                        tracing::error!("virtual SBI service: {e}");
                        Self::virtual_zfm(&mut virtuals, placement, devices.zfm_baud)
                    }
                }
            }
            ScannerChoice::Sbi => {
                let trust = sbi_trust(devices);
                match trusted_sbi(&trust) {
                    Some((addr, _)) => (
                        sbi_scanner(addr, trust),
                        format!("SBI service at {addr} (configured)"),
                    ),
                    None => {
                        // Configured but not running (or not trusted) yet:
                        // look again on each capture, so starting the vendor
                        // service is enough.
                        let localhost =
                            std::net::SocketAddr::from(([127, 0, 0, 1], *SBI_PORTS.start()));
                        let scanner = Reconnecting::new(sbi_info(localhost), move || {
                            trusted_sbi(&trust)
                                .map(|(_, s)| Box::new(s) as Box<dyn Scanner>)
                                .ok_or_else(|| {
                                    ScanError::Disconnected(
                                        "no trusted SBI service answers on 127.0.0.1 ports 4501-4600"
                                            .into(),
                                    )
                                })
                        });
                        (Box::new(scanner), "SBI service (not found yet)".into())
                    }
                }
            }
            ScannerChoice::Zfm | ScannerChoice::Auto => {
                let found = (devices.scanner == ScannerChoice::Auto)
                    .then(|| Self::attached(devices))
                    .flatten();
                match found {
                    Some(found) => found,
                    None => Self::virtual_zfm(&mut virtuals, placement, devices.zfm_baud),
                }
            }
        };
        tracing::info!(scanner = %origin, "scanner chosen");
        Self {
            camera,
            scanner: ScannerWorker::start(scanner),
            scanner_origin: origin,
            held: Arc::new(Mutex::new(virtuals)),
        }
    }

    /// The knobs of the virtual SBI service, when the station runs one
    /// (demonstrations and tests set the applicant's behaviour with it).
    pub fn virtual_sbi_control(&self) -> Option<pishkhan_sbi::VirtualControl> {
        let virtuals = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        virtuals.sbi.as_ref().map(pishkhan_sbi::VirtualSbi::control)
    }

    /// The knobs of the virtual ZhianTec module, when the station runs one.
    pub fn virtual_zfm_control(&self) -> Option<pishkhan_zfm::ModuleHandle> {
        #[cfg(unix)]
        {
            let virtuals = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            virtuals
                .zfm
                .as_ref()
                .map(pishkhan_zfm::VirtualModule::handle)
        }
        #[cfg(not(unix))]
        None
    }

    /// In "auto" mode: a ZhianTec module on a USB-serial bridge, else an
    /// SBI service whose key is trusted.
    fn attached(devices: &crate::config::DeviceConfig) -> Option<(Box<dyn Scanner>, String)> {
        let baud = devices.zfm_baud;
        if let Some(port) = pishkhan_zfm::list_ports()
            .into_iter()
            .filter(|p| p.bridge.is_some())
            .map(|p| p.path)
            .find(|path| pishkhan_zfm::open(path, baud).is_ok())
        {
            let origin = format!("ZhianTec module found on {port}");
            return Some((zfm_scanner(port, baud), origin));
        }
        // Only a service whose signatures verify with the configured keys
        // or device CAs is chosen automatically.
        let (addr, scanner) = trusted_sbi(&sbi_trust(devices))?;
        Some((Box::new(scanner), format!("SBI service found at {addr}")))
    }

    /// The virtual ZhianTec module on a pseudo-terminal, driven by the real
    /// driver; the in-process sensor where there are no pseudo-terminals.
    fn virtual_zfm(
        virtuals: &mut VirtualDevices,
        placement: Duration,
        baud: u32,
    ) -> (Box<dyn Scanner>, String) {
        #[cfg(unix)]
        {
            let knobs = pishkhan_zfm::Knobs {
                placement,
                ..Default::default()
            };
            match pishkhan_zfm::VirtualModule::start(VIRTUAL_IDENTITY, knobs) {
                Ok(module) => {
                    let path = module.path();
                    let applicant = module.handle();
                    virtuals.zfm = Some(module);
                    let scanner = FollowingApplicant {
                        inner: zfm_scanner(path.clone(), baud),
                        applicant,
                    };
                    return (
                        Box::new(scanner),
                        format!("virtual ZhianTec module on {path} (demo)"),
                    );
                }
                Err(e) => tracing::warn!("virtual ZhianTec module: {e}"),
            }
        }
        let _ = (virtuals, baud);
        (
            Box::new(VirtualScanner::virtual_scanner(placement)),
            "in-process virtual sensor (demo)".into(),
        )
    }
}

/// The virtual ZhianTec module's applicant does what the operator's screen
/// asks: before each capture it is told which finger to place (a real
/// module cannot know, and a real applicant listens to the operator).
#[cfg(unix)]
struct FollowingApplicant {
    inner: Box<dyn Scanner>,
    applicant: pishkhan_zfm::ModuleHandle,
}

#[cfg(unix)]
impl Scanner for FollowingApplicant {
    fn info(&self) -> &DeviceInfo {
        self.inner.info()
    }

    fn capture(
        &mut self,
        request: &CaptureRequest,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(ScanEvent),
    ) -> Result<Capture, ScanError> {
        let finger = request.expected().first().copied();
        self.applicant.update(|k| k.finger = finger);
        self.inner.capture(request, cancel, on_event)
    }
}

/// Opens a device when it is first needed, and again after it was lost, so
/// that an unplugged scanner is one "try again" away rather than a restart.
pub struct Reconnecting {
    info: DeviceInfo,
    open: Box<dyn FnMut() -> Result<Box<dyn Scanner>, ScanError> + Send>,
    device: Option<Box<dyn Scanner>>,
}

impl Reconnecting {
    /// `info` describes the device until it is open.
    pub fn new(
        info: DeviceInfo,
        open: impl FnMut() -> Result<Box<dyn Scanner>, ScanError> + Send + 'static,
    ) -> Self {
        Self {
            info,
            open: Box::new(open),
            device: None,
        }
    }
}

impl Scanner for Reconnecting {
    fn info(&self) -> &DeviceInfo {
        self.device.as_ref().map_or(&self.info, |d| d.info())
    }

    fn capture(
        &mut self,
        request: &CaptureRequest,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(ScanEvent),
    ) -> Result<pishkhan_scanner::Capture, ScanError> {
        if self.device.is_none() {
            let device = (self.open)()?;
            self.info = device.info().clone();
            self.device = Some(device);
        }
        let Some(device) = self.device.as_mut() else {
            return Err(ScanError::Disconnected("the scanner is not open".into()));
        };
        let result = device.capture(request, cancel, on_event);
        if matches!(result, Err(ScanError::Disconnected(_))) {
            tracing::warn!(device = %self.info.name, "scanner lost; it will be reopened on the next capture");
            self.device = None;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pishkhan_scanner::Finger;

    #[test]
    fn worker_stamps_events_and_cancels_the_previous_capture() {
        let worker = ScannerWorker::start(Box::new(VirtualScanner::virtual_scanner(
            Duration::from_millis(200),
        )));
        let first = worker.capture(CaptureRequest::finger(
            Finger::RightThumb,
            Duration::from_secs(5),
        ));
        let second = worker.capture(CaptureRequest::finger(
            Finger::RightIndex,
            Duration::from_secs(5),
        ));
        assert_ne!(first, second);
        let mut seen = Vec::new();
        while let Some((stamp, event)) = worker.wait(Duration::from_secs(5)) {
            let done = matches!(event, DeviceEvent::Scan(ScanEvent::FingerOff));
            seen.push((stamp, event));
            if stamp == second && done {
                break;
            }
        }
        assert!(seen.contains(&(first, DeviceEvent::Failed(ScanError::Cancelled))));
        let captured: Vec<_> = seen
            .iter()
            .filter_map(|(s, e)| match e {
                DeviceEvent::Scan(ScanEvent::Captured(c)) => Some((*s, c.fingers[0].finger)),
                _ => None,
            })
            .collect();
        assert_eq!(captured, vec![(second, Finger::RightIndex)]);
    }
}
