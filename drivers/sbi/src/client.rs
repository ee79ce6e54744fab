//! The SBI client: discovery over a port range and [`SbiScanner`], a
//! [`Scanner`] for a 4-4-2 slap device behind a local SBI service.
//!
//! Blocking, one TCP connection per request (`Connection: close`, as SBI
//! services answer), sockets polled every few milliseconds so that a capture
//! stops promptly when its [`CancelToken`] is set.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pishkhan_scanner::{
    CancelToken, Capabilities, Capture, CaptureRequest, DeviceInfo, Finger, FingerImage, Preview,
    ScanError, ScanEvent, Scanner, SlapImage, Transport,
};

use crate::http::{BodyKind, ChunkedDecoder, ResponseHead, request_bytes};
use crate::iso;
use crate::proto::{
    self, BioData, BioRequest, DeviceInfoPayload, DigitalId, DiscoverRequest, DiscoveredDevice,
    MjpegParser, RCaptureRequest, SbiError, SbiVersion, StreamRequest,
};
use crate::trust::{TrustError, TrustStore};

/// How often blocking reads wake up to look at the cancel token.
const POLL: Duration = Duration::from_millis(10);
/// Largest reply body accepted.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Largest preview frame accepted.
const MAX_FRAME: usize = 4 * 1024 * 1024;

/// A service found by [`discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Which discovery verb it answered (`SBIDISC` → 1.0, `MOSIPDISC` →
    /// 0.9.5).
    pub version: SbiVersion,
    /// Its devices, as announced (unsigned).
    pub devices: Vec<DiscoveredDevice>,
}

/// Probes every port of `ports` on `host` (SBI services bind 127.0.0.1,
/// ports 4501–4600) with `SBIDISC`, then `MOSIPDISC`, on eight threads.
/// Closed ports fail at once; `timeout` bounds each exchange with a port
/// that accepts. Results are in port order.
pub fn discover(host: IpAddr, ports: RangeInclusive<u16>, timeout: Duration) -> Vec<Discovered> {
    let ports: Vec<u16> = ports.collect();
    let next = AtomicUsize::new(0);
    let found = Mutex::new(Vec::new());
    let workers = ports.len().clamp(1, 8);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&port) = ports.get(i) else { break };
                    if let Ok(d) = probe(SocketAddr::new(host, port), timeout) {
                        found.lock().unwrap_or_else(PoisonError::into_inner).push(d);
                    }
                }
            });
        }
    });
    let mut found = found.into_inner().unwrap_or_else(PoisonError::into_inner);
    found.sort_by_key(|d| d.addr.port());
    found
}

/// Asks one port for its devices, SBI 1.0 first.
fn probe(addr: SocketAddr, timeout: Duration) -> Result<Discovered, ScanError> {
    let body = serde_json::to_vec(&DiscoverRequest {
        kind: "Biometric Device".into(),
    })
    .map_err(|e| ScanError::Protocol(e.to_string()))?;
    let mut last = ScanError::Protocol("no discovery verb answered".into());
    for version in [SbiVersion::V10, SbiVersion::V095] {
        let deadline = Instant::now() + timeout;
        match exchange(
            addr,
            version.disc_verb(),
            "/device",
            Some(&body),
            deadline,
            None,
            &mut || {},
        ) {
            Ok((head, reply)) if (200..300).contains(&head.status) => {
                match proto::parse_discovery(&reply) {
                    Ok(devices) => {
                        return Ok(Discovered {
                            addr,
                            version,
                            devices,
                        });
                    }
                    Err(e) => last = ScanError::Protocol(e.to_string()),
                }
            }
            Ok((head, _)) => {
                last = ScanError::Protocol(format!(
                    "{} answered {}",
                    version.disc_verb(),
                    head.status
                ));
            }
            // Nothing listens: no point trying the other verb.
            Err(Failure::Connect(e)) => return Err(ScanError::Disconnected(e)),
            Err(e) => last = e.into_scan_error(timeout),
        }
    }
    Err(last)
}

/// Why an HTTP exchange failed.
#[derive(Debug)]
enum Failure {
    Connect(String),
    Io(String),
    Timeout,
    Cancelled,
    Protocol(String),
}

impl Failure {
    fn into_scan_error(self, timeout: Duration) -> ScanError {
        match self {
            Failure::Connect(e) | Failure::Io(e) => ScanError::Disconnected(e),
            Failure::Timeout => ScanError::Timeout(timeout),
            Failure::Cancelled => ScanError::Cancelled,
            Failure::Protocol(e) => ScanError::Protocol(e),
        }
    }
}

fn connect(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, Failure> {
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(50))
        .min(Duration::from_secs(5));
    let stream = TcpStream::connect_timeout(&addr, left)
        .map_err(|e| Failure::Connect(format!("{addr}: {e}")))?;
    stream
        .set_read_timeout(Some(POLL))
        .and_then(|()| stream.set_write_timeout(Some(Duration::from_secs(5))))
        .and_then(|()| stream.set_nodelay(true))
        .map_err(|e| Failure::Io(e.to_string()))?;
    Ok(stream)
}

/// Reads once, mapping a poll timeout to `Ok(None)`.
fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> Result<Option<usize>, Failure> {
    match stream.read(buf) {
        Ok(n) => Ok(Some(n)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Ok(None)
        }
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(None),
        Err(e) => Err(Failure::Io(format!("connection lost: {e}"))),
    }
}

/// One request, one reply: sends `method path` with `body`, reads the whole
/// reply. `poll` runs between reads (previews are delivered there).
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    deadline: Instant,
    cancel: Option<&CancelToken>,
    poll: &mut dyn FnMut(),
) -> Result<(ResponseHead, Vec<u8>), Failure> {
    let mut stream = connect(addr, deadline)?;
    let request = request_bytes(method, &addr.to_string(), path, body);
    stream
        .write_all(&request)
        .map_err(|e| Failure::Io(format!("sending {method}: {e}")))?;
    let mut raw = Vec::new();
    let mut head: Option<(ResponseHead, BodyKind)> = None;
    let mut body_out = Vec::new();
    let mut chunked = ChunkedDecoder::new(MAX_BODY);
    let mut tmp = vec![0u8; 64 * 1024];
    loop {
        if cancel.is_some_and(CancelToken::is_cancelled) {
            return Err(Failure::Cancelled);
        }
        poll();
        if Instant::now() >= deadline {
            return Err(Failure::Timeout);
        }
        let n = read_some(&mut stream, &mut tmp)?;
        let eof = n == Some(0);
        if let Some(n) = n {
            raw.extend_from_slice(&tmp[..n]);
        }
        if head.is_none() {
            match ResponseHead::parse(&raw).map_err(|e| Failure::Protocol(e.to_string()))? {
                Some((h, used)) => {
                    let kind = h
                        .body_kind()
                        .map_err(|e| Failure::Protocol(e.to_string()))?;
                    raw.drain(..used);
                    head = Some((h, kind));
                }
                None if eof => {
                    return Err(if raw.is_empty() {
                        Failure::Io("connection closed without a reply".into())
                    } else {
                        Failure::Io("connection closed inside the reply head".into())
                    });
                }
                None => continue,
            }
        }
        let Some((_, kind)) = &head else { continue };
        match *kind {
            BodyKind::Length(n) => {
                if n > MAX_BODY {
                    return Err(Failure::Protocol(format!("reply of {n} bytes too large")));
                }
                if raw.len() >= n {
                    raw.truncate(n);
                    body_out = std::mem::take(&mut raw);
                    break;
                }
                if eof {
                    return Err(Failure::Io(format!(
                        "connection closed after {} of {n} bytes",
                        raw.len()
                    )));
                }
            }
            BodyKind::Chunked => {
                chunked
                    .push(&raw, &mut body_out)
                    .map_err(|e| Failure::Protocol(e.to_string()))?;
                raw.clear();
                if body_out.len() > MAX_BODY {
                    return Err(Failure::Protocol("reply too large".into()));
                }
                if chunked.is_done() {
                    break;
                }
                if eof {
                    return Err(Failure::Io(
                        "connection closed inside a chunked reply".into(),
                    ));
                }
            }
            BodyKind::UntilClose => {
                if raw.len() > MAX_BODY {
                    return Err(Failure::Protocol("reply too large".into()));
                }
                if eof {
                    body_out = std::mem::take(&mut raw);
                    break;
                }
            }
        }
    }
    let (head, _) = head.ok_or_else(|| Failure::Protocol("no reply head".into()))?;
    Ok((head, body_out))
}

fn trust_error(e: TrustError) -> ScanError {
    match e {
        TrustError::Malformed(m) => ScanError::Protocol(m),
        TrustError::Untrusted(m) => ScanError::Untrusted(m),
    }
}

/// Maps a device error to the station's error: Busy (111) to
/// [`ScanError::Busy`], every other code to [`ScanError::Device`] with the
/// English text of the SBI table (the device's own text appended for
/// unknown and vendor codes).
pub fn device_error(err: &SbiError) -> ScanError {
    let code = err.error_code.trim().to_owned();
    if code == proto::ERR_BUSY {
        return ScanError::Busy;
    }
    let known = proto::error_message(&code);
    let message = if known == "unknown error" || known == "vendor-specific error" {
        let info = err.error_info.trim();
        if info.is_empty() {
            known.to_owned()
        } else {
            format!("{known}: {}", info.chars().take(200).collect::<String>())
        }
    } else {
        known.to_owned()
    };
    ScanError::Device { code, message }
}

/// Client settings beyond the trust store.
#[derive(Debug, Clone)]
pub struct SbiOptions {
    /// `purpose` sent in captures ("Registration").
    pub purpose: String,
    /// Timeout of discovery and info exchanges (spec default 5 s).
    pub info_timeout: Duration,
    /// Extra time given to the device beyond the capture's own timeout
    /// before the client gives up.
    pub capture_grace: Duration,
    /// Whether to open a `STREAM` for previews during captures.
    pub preview: bool,
}

impl Default for SbiOptions {
    fn default() -> Self {
        Self {
            purpose: "Registration".into(),
            info_timeout: Duration::from_secs(5),
            capture_grace: Duration::from_secs(5),
            preview: true,
        }
    }
}

/// A 4-4-2 slap scanner behind a local SBI service.
///
/// Single-finger impressions ([`pishkhan_scanner::Impression::Finger`]) are refused with
/// [`ScanError::Unsupported`]: an SBI slap device captures the left slap
/// (deviceSubId 1), the right slap (2) or both thumbs (3), and the station's
/// workflow uses exactly those.
#[derive(Debug)]
pub struct SbiScanner {
    addr: SocketAddr,
    version: SbiVersion,
    trust: TrustStore,
    options: SbiOptions,
    device: DeviceInfoPayload,
    digital_id: DigitalId,
    sub_ids: Vec<u8>,
    info: DeviceInfo,
    previous_hash: String,
}

static TRANSACTIONS: AtomicU64 = AtomicU64::new(0);

fn transaction_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = TRANSACTIONS.fetch_add(1, Ordering::Relaxed);
    format!("pishkhan-{:x}-{n:x}", nanos & 0xffff_ffff_ffff)
}

/// SHA-256 of the empty string, upper hex: the first `previousHash`.
pub fn empty_hash() -> String {
    use sha2::Digest as _;
    upper_hex(&sha2::Sha256::digest(b""))
}

pub(crate) fn upper_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

impl SbiScanner {
    /// Connects to the SBI service at `addr` with default options: finds
    /// its interface version, fetches and verifies its device info and
    /// picks its finger slap device.
    pub fn connect(addr: SocketAddr, trust: TrustStore) -> Result<SbiScanner, ScanError> {
        Self::connect_with(addr, trust, SbiOptions::default())
    }

    /// [`SbiScanner::connect`] with explicit options.
    pub fn connect_with(
        addr: SocketAddr,
        trust: TrustStore,
        options: SbiOptions,
    ) -> Result<SbiScanner, ScanError> {
        let found = probe(addr, options.info_timeout)?;
        let version = found.version;
        let deadline = Instant::now() + options.info_timeout;
        let (head, body) = exchange(
            addr,
            version.info_verb(),
            "/info",
            None,
            deadline,
            None,
            &mut || {},
        )
        .map_err(|e| e.into_scan_error(options.info_timeout))?;
        if head.status != 200 {
            return Err(ScanError::Protocol(format!(
                "{} answered HTTP {}",
                version.info_verb(),
                head.status
            )));
        }
        let entries = proto::parse_device_info_reply(&body)
            .map_err(|e| ScanError::Protocol(e.to_string()))?;
        let mut first_error = None;
        for entry in entries {
            if let Some(err) = entry.error.as_ref().filter(|e| !e.is_success()) {
                first_error.get_or_insert_with(|| device_error(err));
                continue;
            }
            let candidate = (|| {
                let jws = trust.verify(&entry.device_info).map_err(trust_error)?;
                let device: DeviceInfoPayload = serde_json::from_slice(&jws.payload)
                    .map_err(|e| ScanError::Protocol(format!("deviceInfo: {e}")))?;
                let digital = trust.verify(&device.digital_id).map_err(trust_error)?;
                let digital_id: DigitalId = serde_json::from_slice(&digital.payload)
                    .map_err(|e| ScanError::Protocol(format!("digitalId: {e}")))?;
                Ok::<_, ScanError>((device, digital_id))
            })();
            let (device, digital_id) = match candidate {
                Ok(c) => c,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            let is_slap = digital_id.kind.eq_ignore_ascii_case("finger")
                && digital_id.device_sub_type.eq_ignore_ascii_case("slap");
            if !is_slap {
                continue;
            }
            let sub_ids: Vec<u8> = device
                .device_sub_id
                .iter()
                .filter_map(|s| s.trim().parse().ok())
                .filter(|s| (1..=3).contains(s))
                .collect();
            let info = DeviceInfo {
                id: format!("sbi:{}:{}", digital_id.make, digital_id.serial_no),
                name: format!("{} {}", digital_id.make, digital_id.model),
                transport: Transport::LocalService {
                    url: format!("http://{addr}/"),
                },
                capabilities: Capabilities {
                    single_flat: false,
                    four_finger_slap: sub_ids.contains(&1) || sub_ids.contains(&2),
                    two_thumbs: sub_ids.contains(&3),
                    rolled: false,
                },
                resolution_ppi: 500,
                image_width: 0,
                image_height: 0,
            };
            return Ok(SbiScanner {
                addr,
                version,
                trust,
                options,
                device,
                digital_id,
                sub_ids,
                info,
                previous_hash: empty_hash(),
            });
        }
        Err(first_error.unwrap_or(ScanError::Unsupported))
    }

    /// The service address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The interface version in use.
    pub fn version(&self) -> SbiVersion {
        self.version
    }

    /// The verified device info.
    pub fn device(&self) -> &DeviceInfoPayload {
        &self.device
    }

    /// The verified digital ID.
    pub fn digital_id(&self) -> &DigitalId {
        &self.digital_id
    }

    fn build_request(&self, request: &CaptureRequest, sub_id: u8, txn: &str) -> RCaptureRequest {
        let expected = request.expected();
        let exceptions: Vec<String> = request
            .impression
            .fingers()
            .into_iter()
            .filter(|f| request.exceptions.contains(f))
            .map(|f| proto::bio_sub_type(f).to_owned())
            .collect();
        RCaptureRequest {
            env: if self.device.env.is_empty() {
                "Staging".into()
            } else {
                self.device.env.clone()
            },
            purpose: self.options.purpose.clone(),
            spec_version: self.version.spec_version().into(),
            timeout: request.timeout.as_millis().to_string(),
            capture_time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            transaction_id: txn.to_owned(),
            bio: vec![BioRequest {
                kind: "Finger".into(),
                count: expected.len().to_string(),
                bio_sub_type: expected
                    .iter()
                    .map(|f| proto::bio_sub_type(*f).to_owned())
                    .collect(),
                exception: exceptions,
                requested_score: request.target_quality.min(100).to_string(),
                device_id: self.device.device_id.clone(),
                device_sub_id: sub_id.to_string(),
                previous_hash: Some(self.previous_hash.clone()),
            }],
            custom_opts: serde_json::Map::new(),
        }
    }

    /// Validates an RCAPTURE reply into finger images and, when the device
    /// sends it, the whole slap.
    ///
    /// Every entry must be signed by a trusted key, stamped within the skew
    /// window and carry the request's transactionId. Finger entries must be
    /// of requested fingers, each at most once; a device may return fewer
    /// than requested (it found fewer fingers on the glass): the station
    /// judges the capture. An entry with `bioSubType` `"UNKNOWN"` is the
    /// whole slap (a vendor extension of SBI 1.0): an ISO 19794-4 record
    /// whose finger position is the requested impression's multi-finger
    /// code (13, 14, 15); it goes to [`Capture::slap`].
    fn read_reply(
        &mut self,
        request: &CaptureRequest,
        txn: &str,
        body: &[u8],
    ) -> Result<(Vec<FingerImage>, Option<SlapImage>), ScanError> {
        let reply =
            proto::parse_rcapture_reply(body).map_err(|e| ScanError::Protocol(e.to_string()))?;
        if reply.biometrics.is_empty() {
            return Err(ScanError::Protocol("the reply holds no biometrics".into()));
        }
        if let Some(err) = reply
            .biometrics
            .iter()
            .filter_map(|b| b.error.as_ref())
            .find(|e| !e.is_success())
        {
            return Err(device_error(err));
        }
        let expected = request.expected();
        let now = chrono::Utc::now();
        let mut images: Vec<FingerImage> = Vec::new();
        let mut slap: Option<SlapImage> = None;
        let mut last_hash = None;
        for entry in &reply.biometrics {
            let jws = self.trust.verify(&entry.data).map_err(trust_error)?;
            let data: BioData = serde_json::from_slice(&jws.payload)
                .map_err(|e| ScanError::Protocol(format!("biometric data: {e}")))?;
            self.trust
                .check_timestamp(&data.timestamp, now)
                .map_err(trust_error)?;
            if data.transaction_id != txn {
                return Err(ScanError::Protocol(format!(
                    "transactionId {:?} does not match the request",
                    data.transaction_id
                )));
            }
            if !data.bio_type.eq_ignore_ascii_case("finger") {
                return Err(ScanError::Protocol(format!(
                    "unexpected bioType {:?}",
                    data.bio_type
                )));
            }
            if data
                .bio_sub_type
                .trim()
                .eq_ignore_ascii_case(SLAP_BIO_SUB_TYPE)
            {
                if slap.is_some() {
                    return Err(ScanError::Protocol(
                        "the device returned two whole-slap images".into(),
                    ));
                }
                slap = Some(read_slap(request, &data)?);
                if !entry.hash.is_empty() {
                    last_hash = Some(entry.hash.clone());
                }
                continue;
            }
            let finger = proto::finger_of_bio_sub_type(&data.bio_sub_type).ok_or_else(|| {
                ScanError::Protocol(format!("unknown bioSubType {:?}", data.bio_sub_type))
            })?;
            if !expected.contains(&finger) {
                return Err(ScanError::Protocol(format!(
                    "the device returned {finger:?}, which was not requested"
                )));
            }
            if images.iter().any(|i| i.finger == finger) {
                return Err(ScanError::Protocol(format!("{finger:?} returned twice")));
            }
            let quality: f64 = data.quality_score.trim().parse().map_err(|_| {
                ScanError::Protocol(format!("bad qualityScore {:?}", data.quality_score))
            })?;
            if !quality.is_finite() {
                return Err(ScanError::Protocol("qualityScore is not a number".into()));
            }
            let record_bytes = proto::b64url_decode(&data.bio_value)
                .map_err(|e| ScanError::Protocol(e.to_string()))?;
            let record =
                iso::decode(&record_bytes).map_err(|e| ScanError::Protocol(e.to_string()))?;
            if record.position != 0 && Finger::from_position(record.position) != Some(finger) {
                return Err(ScanError::Protocol(format!(
                    "record of finger position {} labelled {finger:?}",
                    record.position
                )));
            }
            images.push(FingerImage {
                finger,
                width: record.width,
                height: record.height,
                resolution_ppi: record.resolution_ppi,
                pixels: record.pixels,
                device_quality: Some(quality.round().clamp(0.0, 100.0) as u8),
            });
            if !entry.hash.is_empty() {
                last_hash = Some(entry.hash.clone());
            }
        }
        if images.is_empty() && slap.is_none() {
            return Err(ScanError::Protocol(
                "the reply holds no finger image".into(),
            ));
        }
        images.sort_by_key(|i| expected.iter().position(|f| *f == i.finger));
        if let Some(hash) = last_hash {
            self.previous_hash = hash;
        }
        Ok((images, slap))
    }
}

/// `bioSubType` of a whole-slap entry.
const SLAP_BIO_SUB_TYPE: &str = "UNKNOWN";

/// Decodes a whole-slap entry (already authenticated) and checks that it
/// is the slap of the requested impression.
fn read_slap(request: &CaptureRequest, data: &BioData) -> Result<SlapImage, ScanError> {
    let asked = iso::slap_position(request.impression).ok_or_else(|| {
        ScanError::Protocol("the device returned a slap image for a single finger".into())
    })?;
    let record_bytes =
        proto::b64url_decode(&data.bio_value).map_err(|e| ScanError::Protocol(e.to_string()))?;
    let record = iso::decode(&record_bytes).map_err(|e| ScanError::Protocol(e.to_string()))?;
    if record.position != asked {
        return Err(ScanError::Protocol(
            match iso::impression_of_slap_position(record.position) {
                Some(other) => format!(
                    "the device returned the slap of {other:?} (finger position {}) \
                     for a {:?} capture (position {asked})",
                    record.position, request.impression
                ),
                None => format!(
                    "a bioSubType UNKNOWN entry holds finger position {}, \
                     not the {:?} slap (position {asked})",
                    record.position, request.impression
                ),
            },
        ));
    }
    if record.resolution_ppi == 0 {
        return Err(ScanError::Protocol(
            "the slap image states no resolution".into(),
        ));
    }
    Ok(SlapImage {
        width: record.width,
        height: record.height,
        resolution_ppi: record.resolution_ppi,
        pixels: record.pixels,
    })
}

impl Scanner for SbiScanner {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn capture(
        &mut self,
        request: &CaptureRequest,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(ScanEvent),
    ) -> Result<Capture, ScanError> {
        let sub_id = proto::device_sub_id(request.impression).ok_or(ScanError::Unsupported)?;
        if !self.sub_ids.contains(&sub_id) {
            return Err(ScanError::Unsupported);
        }
        if cancel.is_cancelled() {
            return Err(ScanError::Cancelled);
        }
        if request.expected().is_empty() {
            // Every finger of the impression is an exception: nothing to
            // place on the glass.
            let capture = Capture {
                impression: request.impression,
                fingers: Vec::new(),
                slap: None,
            };
            on_event(ScanEvent::Captured(capture.clone()));
            return Ok(capture);
        }
        let txn = transaction_id();
        let body = serde_json::to_vec(&self.build_request(request, sub_id, &txn))
            .map_err(|e| ScanError::Protocol(e.to_string()))?;
        on_event(ScanEvent::WaitingForFinger);

        let stream = if self.options.preview {
            PreviewStream::open(
                self.addr,
                &self.device.device_id,
                sub_id,
                request.timeout,
                cancel,
            )
        } else {
            None
        };
        if cancel.is_cancelled() {
            if let Some(s) = stream {
                s.stop();
            }
            return Err(ScanError::Cancelled);
        }
        let deadline = Instant::now() + request.timeout + self.options.capture_grace;
        let result = {
            let rx = stream.as_ref().map(|s| &s.rx);
            let mut deliver = || {
                if let Some(rx) = rx {
                    while let Ok(p) = rx.try_recv() {
                        on_event(ScanEvent::Preview(p));
                    }
                }
            };
            exchange(
                self.addr,
                proto::VERB_RCAPTURE,
                "/capture",
                Some(&body),
                deadline,
                Some(cancel),
                &mut deliver,
            )
        };
        if let Some(s) = stream {
            for p in s.stop() {
                on_event(ScanEvent::Preview(p));
            }
        }
        let (head, reply) = result.map_err(|e| e.into_scan_error(request.timeout))?;
        if cancel.is_cancelled() {
            return Err(ScanError::Cancelled);
        }
        if head.status != 200 {
            // Some services put an SBI error in a non-200 reply.
            if let Ok(parsed) = proto::parse_rcapture_reply(&reply)
                && let Some(err) = parsed
                    .biometrics
                    .iter()
                    .filter_map(|b| b.error.as_ref())
                    .find(|e| !e.is_success())
            {
                return Err(device_error(err));
            }
            return Err(ScanError::Protocol(format!(
                "RCAPTURE answered HTTP {}",
                head.status
            )));
        }
        let (fingers, slap) = self.read_reply(request, &txn, &reply)?;
        let capture = Capture {
            impression: request.impression,
            fingers,
            slap,
        };
        on_event(ScanEvent::Captured(capture.clone()));
        Ok(capture)
    }
}

/// What the preview thread reports.
enum StreamMsg {
    Ready,
    Failed(String),
}

/// A `STREAM` connection read on its own thread; frames are decoded there
/// and handed to the capture thread, which owns the event callback.
struct PreviewStream {
    stop: Arc<AtomicBool>,
    rx: Receiver<Preview>,
    thread: JoinHandle<()>,
}

impl PreviewStream {
    /// Opens the stream and waits (bounded) until the service accepted it,
    /// so that frames flow before the capture starts. `None` when the
    /// service offers no preview; the capture goes on without one.
    fn open(
        addr: SocketAddr,
        device_id: &str,
        sub_id: u8,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Option<PreviewStream> {
        let body = serde_json::to_vec(&StreamRequest {
            device_id: device_id.to_owned(),
            device_sub_id: sub_id.to_string(),
            timeout: Some(timeout.as_millis().to_string()),
        })
        .ok()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (ctl_tx, ctl_rx) = mpsc::sync_channel::<StreamMsg>(2);
        let (tx, rx) = mpsc::sync_channel::<Preview>(64);
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("sbi-stream".into())
                .spawn(move || {
                    if let Err(e) = run_stream(addr, &body, &stop, &ctl_tx, &tx) {
                        tracing::warn!("SBI preview stream ended: {e}");
                        let _ = ctl_tx.try_send(StreamMsg::Failed(e));
                    }
                })
                .ok()?
        };
        let stream = PreviewStream { stop, rx, thread };
        let until = Instant::now() + Duration::from_secs(2);
        loop {
            match ctl_rx.recv_timeout(POLL) {
                Ok(StreamMsg::Ready) => return Some(stream),
                Ok(StreamMsg::Failed(e)) => {
                    tracing::warn!("no SBI preview: {e}");
                    stream.stop();
                    return None;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    stream.stop();
                    return None;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if cancel.is_cancelled() || Instant::now() >= until {
                // Go on without waiting; frames may still come.
                return Some(stream);
            }
        }
    }

    /// Stops the thread after it has read what already arrived; returns
    /// the frames not yet delivered.
    fn stop(self) -> Vec<Preview> {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
        self.rx.try_iter().collect()
    }
}

fn decode_preview(frame: &[u8]) -> Result<Preview, String> {
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(frame), image::ImageFormat::Jpeg);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(4096);
    limits.max_image_height = Some(4096);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| e.to_string())?.to_luma8();
    Ok(Preview {
        width: img.width(),
        height: img.height(),
        pixels: img.into_raw(),
    })
}

fn run_stream(
    addr: SocketAddr,
    body: &[u8],
    stop: &AtomicBool,
    ctl: &SyncSender<StreamMsg>,
    tx: &SyncSender<Preview>,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut stream = connect(addr, deadline).map_err(|e| format!("{e:?}"))?;
    let request = request_bytes(proto::VERB_STREAM, &addr.to_string(), "/stream", Some(body));
    stream.write_all(&request).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    let mut tmp = vec![0u8; 64 * 1024];
    let mut parser: Option<(MjpegParser, Option<ChunkedDecoder>)> = None;
    let mut decoded = Vec::new();
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        let n = read_some(&mut stream, &mut tmp).map_err(|e| format!("{e:?}"))?;
        match n {
            Some(0) => return Ok(()),
            Some(n) => raw.extend_from_slice(&tmp[..n]),
            // Nothing more is waiting: after a stop request, we are done.
            None if stopping => return Ok(()),
            None => {
                if parser.is_none() && Instant::now() >= deadline {
                    return Err("no reply to STREAM".into());
                }
                continue;
            }
        }
        if parser.is_none() {
            let Some((head, used)) = ResponseHead::parse(&raw).map_err(|e| e.to_string())? else {
                continue;
            };
            if head.status != 200 {
                return Err(format!("STREAM answered HTTP {}", head.status));
            }
            let boundary = head
                .header("content-type")
                .and_then(proto::multipart_boundary)
                .ok_or("STREAM reply is not multipart")?;
            let chunked = (head.body_kind().map_err(|e| e.to_string())? == BodyKind::Chunked)
                .then(|| ChunkedDecoder::new(MAX_FRAME * 2));
            raw.drain(..used);
            parser = Some((MjpegParser::new(&boundary, MAX_FRAME), chunked));
            let _ = ctl.try_send(StreamMsg::Ready);
        }
        let Some((mjpeg, chunked)) = parser.as_mut() else {
            continue;
        };
        let frames = match chunked {
            Some(dec) => {
                decoded.clear();
                dec.push(&raw, &mut decoded).map_err(|e| e.to_string())?;
                mjpeg.push(&decoded)
            }
            None => mjpeg.push(&raw),
        }
        .map_err(|e| e.to_string())?;
        raw.clear();
        for frame in frames {
            match decode_preview(&frame) {
                // A full queue drops the frame: previews are best effort.
                Ok(p) => {
                    let _ = tx.try_send(p);
                }
                Err(e) => tracing::debug!("undecodable preview frame: {e}"),
            }
        }
    }
}
