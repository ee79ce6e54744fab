//! A virtual SBI service: a 4-4-2 slap scanner (deviceSubId 1 left slap,
//! 2 right slap, 3 thumbs) on loopback HTTP, speaking SBI 1.0 and 0.9.5,
//! signing with its own Ed25519 key ([`VirtualSbi::start`]) or, like real
//! devices, with RS256 and an `x5c` certificate chain issued by a test CA
//! ([`VirtualSbi::start_rs256`], [`VirtualPki`]), and drawing synthetic
//! fingers.
//!
//! Knobs, in the manner of MOSIP's MockMDS admin API, change its behaviour
//! at run time: through a cloneable [`VirtualControl`], or over HTTP with
//! `POST /admin/knobs` (body: a [`Knobs`] JSON) and `GET /admin/knobs`.
//!
//! Hash chain, as implemented here: each biometric's `hash` is
//! `UPPERHEX(SHA256(prev ‖ SHA256(record)))` where `prev` is the previous
//! hash decoded from hex (the request's `previousHash`, or SHA-256 of the
//! empty string when absent) and `record` the ISO bytes of `bioValue`.
//!
//! # The applicant, simulated
//!
//! Besides device faults, knobs play the applicant and the capture:
//! fingers placed though not declared missing ([`Knobs::missing_positions`]:
//! the device then segments and returns only the fingers it found), the
//! right hand placed again when the left slap is asked
//! ([`Knobs::hand_twice`]), and poor captures ([`Knobs::poor_captures`]:
//! dry, light or smudged fingers on a noisy sensor, reported with a low
//! `qualityScore`). Capture number *n* of the service (counting from 0, the
//! value of [`VirtualControl::captures_served`] before it) draws every
//! image with capture seed *n*, so tests can render what it must show.
//!
//! # Vendor extension: the unsegmented slap
//!
//! MOSIP SBI 1.0 returns only the segmented fingers (one `biometrics` entry
//! per finger). Many vendor services also return the whole slap, which the
//! station segments itself to count the fingers and to check the hand. With
//! [`Knobs::send_slap`] (the default) this device does so as one more
//! `biometrics` entry after the fingers, signed and hash-chained like them:
//! `bioSubType` `"UNKNOWN"`, and a `bioValue` holding an ISO/IEC 19794-4
//! record whose finger position is the multi-finger code of the impression
//! (ISO/IEC 19794-4 Table 2, as ANSI/NIST-ITL FGP: 13 right four fingers,
//! 14 left four, 15 both thumbs). The slap is [`SLAP_WIDTH`] ×
//! [`SLAP_HEIGHT`] (the 3.2 × 3.0 inch platen of FBI-certified slap
//! scanners) at the resolution the record states (500 ppi: the synthetic
//! hand always fits at full scale; the record would state less if it had to
//! be drawn smaller).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ed25519_dalek::{SigningKey, VerifyingKey};
use pishkhan_scanner::{
    Condition, Finger, Impression, SlapOptions, SyntheticFinger, slap_resolution_ppi, slap_with,
};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::client::{empty_hash, upper_hex};
use crate::http::{BodyKind, RequestHead};
use crate::iso::{self, FingerRecord};
use crate::proto::{
    self, BioData, BiometricEntry, DeviceInfoEntry, DeviceInfoPayload, DeviceStatus, DigitalId,
    DiscoverRequest, DiscoveredDevice, RCaptureRequest, RCaptureResponse, SbiError, StreamRequest,
};
use crate::trust::TrustStore;
use crate::virtual_pki::VirtualPki;

/// Width of each segmented finger image (pixels, 500 ppi).
pub const FINGER_WIDTH: u32 = 288;
/// Height of each segmented finger image.
pub const FINGER_HEIGHT: u32 = 384;
/// Size of the preview frames (a reduced slap).
pub const PREVIEW_SIZE: (u32, u32) = (320, 240);
/// Width of the whole slap image sent with [`Knobs::send_slap`] (pixels).
pub const SLAP_WIDTH: u32 = 1600;
/// Height of the whole slap image.
pub const SLAP_HEIGHT: u32 = 1500;
/// `qualityScore` reported for a poor capture ([`Knobs::poor_captures`]),
/// unless [`Knobs::quality`] is lower.
pub const POOR_QUALITY: u8 = 25;
/// Time between preview frames (well above the spec's 3 fps).
pub const FRAME_INTERVAL: Duration = Duration::from_millis(40);
/// Boundary of the M-JPEG stream.
const BOUNDARY: &str = "pishkhanframe";
/// Longest a capture waits for preview frames to be sent.
const MAX_PREVIEW_WAIT: Duration = Duration::from_secs(5);

/// A fault the virtual device injects into its `RCAPTURE` replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// Sign the biometric data with a key nobody trusts (in RS256 mode:
    /// with the CA's key while presenting the device certificate).
    BadSignature,
    /// Sign the biometric data properly, then alter its payload (the
    /// quality score) without re-signing.
    TamperedPayload,
    /// Answer 200 with a body that is not JSON.
    GarbageBody,
    /// Announce the full reply, send half of it and hang up.
    DisconnectMidResponse,
    /// Wait this long more before answering.
    Delay { ms: u64 },
    /// Answer every capture with this SBI error code.
    ErrorCode { code: u16 },
    /// Stamp the data this many seconds away from the real time.
    ClockSkew { seconds: i64 },
    /// Send the whole-slap entry (see [`Knobs::send_slap`]) of another
    /// impression than the one asked (the right four fingers for the left
    /// slap or the thumbs, the left four for the right slap), properly
    /// signed and chained: a device mixing up its sub-devices.
    WrongSlap,
}

/// The adjustable behaviour of the virtual device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Knobs {
    /// What `deviceStatus` it reports; anything but Ready fails captures
    /// with the matching code (Busy 111, Not Ready 110, Not Registered 100).
    pub status: DeviceStatus,
    /// `qualityScore` of every finger (1–100).
    pub quality: u8,
    /// How long a capture takes after the request, in milliseconds.
    pub capture_delay_ms: u64,
    /// The synthetic person whose fingers are served.
    pub identity_seed: u64,
    /// With a preview stream open, a capture completes only after this many
    /// frames went out (fingers being placed).
    pub preview_frames: u32,
    /// Answer only the SBI 0.9.5 verbs (`MOSIPDISC`, `MOSIPDINFO`).
    pub legacy_only: bool,
    /// Injected fault.
    pub fault: Fault,
    /// ANSI/NIST finger positions (1–10) that the applicant does not place,
    /// though the operator did not declare them as exceptions: the slap is
    /// drawn without them and the device returns segmented entries only for
    /// the fingers it found. Positions of other impressions are ignored.
    /// When no asked finger is placed, the capture fails with SBI error 101
    /// (no biometric object detected).
    pub missing_positions: Vec<u8>,
    /// When the left slap is asked, the applicant places the right hand
    /// again. The device cannot tell: its segmented entries are labelled as
    /// the left fingers but show the corresponding right fingers (same
    /// person, this capture's seed), and the whole slap shows the right
    /// hand in a right hand's layout. `missing_positions` then name right
    /// fingers; the left hand's exceptions do not remove any.
    pub hand_twice: bool,
    /// The next this-many captures are poor (the images drawn in
    /// [`pishkhan_scanner::Condition::Poor`], every `qualityScore`
    /// [`POOR_QUALITY`]); each capture answered with images uses one.
    pub poor_captures: u32,
    /// Whether the reply also carries the whole, unsegmented slap as one
    /// more `biometrics` entry (a vendor extension, see the module doc).
    pub send_slap: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            status: DeviceStatus::Ready,
            quality: 80,
            capture_delay_ms: 0,
            identity_seed: SyntheticFinger::DEFAULT_IDENTITY,
            preview_frames: 3,
            legacy_only: false,
            fault: Fault::None,
            missing_positions: Vec::new(),
            hand_twice: false,
            poor_captures: 0,
            send_slap: true,
        }
    }
}

impl Knobs {
    /// The fingers the applicant does not place.
    fn missing_fingers(&self) -> Vec<Finger> {
        self.missing_positions
            .iter()
            .filter_map(|&p| Finger::from_position(p))
            .collect()
    }

    /// The hand really placed when `impression` is asked: the right hand
    /// for the left slap under [`Knobs::hand_twice`].
    fn placed_hand(&self, impression: Impression) -> Impression {
        if self.hand_twice && impression == Impression::LeftSlap {
            Impression::RightSlap
        } else {
            impression
        }
    }
}

/// The finger really on the glass where `label` is expected, when `placed`
/// is put down instead of `asked`: the finger at the same index of the
/// placed impression.
fn placed_finger(label: Finger, asked: Impression, placed: Impression) -> Finger {
    asked
        .fingers()
        .iter()
        .position(|f| *f == label)
        .and_then(|i| placed.fingers().get(i).copied())
        .unwrap_or(label)
}

struct Shared {
    knobs: Mutex<Knobs>,
    key: SigningKey,
    /// RS256 signing with a certificate chain instead of Ed25519.
    pki: Option<VirtualPki>,
    port: u16,
    shutdown: AtomicBool,
    capturing: AtomicBool,
    streams_open: AtomicU32,
    frames_sent: AtomicU64,
    captures: AtomicU64,
}

impl Shared {
    fn knobs(&self) -> Knobs {
        self.knobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A cloneable handle adjusting a running [`VirtualSbi`].
#[derive(Clone)]
pub struct VirtualControl(Arc<Shared>);

impl std::fmt::Debug for VirtualControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("VirtualControl").field(&self.0.port).finish()
    }
}

impl VirtualControl {
    /// The current knobs.
    pub fn knobs(&self) -> Knobs {
        self.0.knobs()
    }

    /// Replaces all knobs.
    pub fn set_knobs(&self, knobs: Knobs) {
        *self.0.knobs.lock().unwrap_or_else(PoisonError::into_inner) = knobs;
    }

    /// Changes some knobs.
    pub fn update(&self, change: impl FnOnce(&mut Knobs)) {
        change(&mut self.0.knobs.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Sets the reported device status.
    pub fn set_status(&self, status: DeviceStatus) {
        self.update(|k| k.status = status);
    }

    /// Sets the quality score of every finger.
    pub fn set_quality(&self, quality: u8) {
        self.update(|k| k.quality = quality);
    }

    /// Sets how long a capture takes.
    pub fn set_capture_delay(&self, delay: Duration) {
        self.update(|k| k.capture_delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
    }

    /// Sets the synthetic person served.
    pub fn set_identity_seed(&self, seed: u64) {
        self.update(|k| k.identity_seed = seed);
    }

    /// Sets the injected fault.
    pub fn set_fault(&self, fault: Fault) {
        self.update(|k| k.fault = fault);
    }

    /// Sets the finger positions the applicant does not place
    /// ([`Knobs::missing_positions`]).
    pub fn set_missing_positions(&self, positions: Vec<u8>) {
        self.update(|k| k.missing_positions = positions);
    }

    /// Makes the applicant place the right hand when the left slap is
    /// asked ([`Knobs::hand_twice`]).
    pub fn set_hand_twice(&self, twice: bool) {
        self.update(|k| k.hand_twice = twice);
    }

    /// Makes the next `n` captures poor ([`Knobs::poor_captures`]).
    pub fn set_poor_captures(&self, n: u32) {
        self.update(|k| k.poor_captures = n);
    }

    /// Whether replies carry the whole slap ([`Knobs::send_slap`]).
    pub fn set_send_slap(&self, send: bool) {
        self.update(|k| k.send_slap = send);
    }

    /// Captures answered with images so far.
    pub fn captures_served(&self) -> u64 {
        self.0.captures.load(Ordering::SeqCst)
    }

    /// Whether a capture is in progress (the device holds its glass).
    pub fn capturing(&self) -> bool {
        self.0.capturing.load(Ordering::SeqCst)
    }

    /// Preview frames sent so far, over all streams.
    pub fn frames_sent(&self) -> u64 {
        self.0.frames_sent.load(Ordering::SeqCst)
    }
}

/// A running virtual SBI service on 127.0.0.1; stops when dropped.
pub struct VirtualSbi {
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for VirtualSbi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualSbi")
            .field("port", &self.shared.port)
            .finish()
    }
}

impl VirtualSbi {
    /// Starts a service on `127.0.0.1:port` (0 for any free port) with a
    /// freshly generated signing key.
    pub fn start(port: u16, knobs: Knobs) -> io::Result<VirtualSbi> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| io::Error::other(e.to_string()))?;
        Self::start_with_key(port, knobs, &secret)
    }

    /// Starts a service signing with the Ed25519 key `secret`, so that its
    /// identity survives restarts.
    pub fn start_with_key(port: u16, knobs: Knobs, secret: &[u8; 32]) -> io::Result<VirtualSbi> {
        Self::start_inner(port, knobs, secret, None)
    }

    /// Starts a service that signs like a real device: RS256 with the
    /// device certificate of `pki` in the `x5c` header. Trust it with
    /// [`VirtualSbi::trust_store`] or [`VirtualPki::ca_der`].
    pub fn start_rs256(port: u16, knobs: Knobs, pki: VirtualPki) -> io::Result<VirtualSbi> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| io::Error::other(e.to_string()))?;
        Self::start_inner(port, knobs, &secret, Some(pki))
    }

    fn start_inner(
        port: u16,
        knobs: Knobs,
        secret: &[u8; 32],
        pki: Option<VirtualPki>,
    ) -> io::Result<VirtualSbi> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        listener.set_nonblocking(true)?;
        let shared = Arc::new(Shared {
            knobs: Mutex::new(knobs),
            key: SigningKey::from_bytes(secret),
            pki,
            port: listener.local_addr()?.port(),
            shutdown: AtomicBool::new(false),
            capturing: AtomicBool::new(false),
            streams_open: AtomicU32::new(0),
            frames_sent: AtomicU64::new(0),
            captures: AtomicU64::new(0),
        });
        let accept = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("virtual-sbi-{}", shared.port))
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(VirtualSbi {
            shared,
            accept: Some(accept),
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// Its address (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.shared.port))
    }

    /// The Ed25519 public key its JWS are signed with (in RS256 mode, the
    /// key that derives its serial number and device code only).
    pub fn public_key(&self) -> VerifyingKey {
        self.shared.key.verifying_key()
    }

    /// Its device PKI when it signs with RS256.
    pub fn pki(&self) -> Option<&VirtualPki> {
        self.shared.pki.as_ref()
    }

    /// The DER of the CA certificate that issued its device certificate,
    /// when it signs with RS256.
    pub fn ca_certificate_der(&self) -> Option<&[u8]> {
        self.shared.pki.as_ref().map(VirtualPki::ca_der)
    }

    /// A trust store believing just this device: its Ed25519 key, or in
    /// RS256 mode its CA certificate.
    pub fn trust_store(&self) -> TrustStore {
        match &self.shared.pki {
            Some(pki) => pki.trust_store(),
            None => TrustStore::new().with_key(self.public_key()),
        }
    }

    /// A handle to adjust its knobs.
    pub fn control(&self) -> VirtualControl {
        VirtualControl(Arc::clone(&self.shared))
    }
}

impl Drop for VirtualSbi {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.shutdown.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((conn, _)) => {
                let shared = Arc::clone(shared);
                let spawned = std::thread::Builder::new()
                    .name("virtual-sbi-conn".into())
                    .spawn(move || {
                        if let Err(e) = serve(conn, &shared) {
                            tracing::debug!("virtual SBI connection: {e}");
                        }
                    });
                if let Err(e) = spawned {
                    tracing::warn!("virtual SBI cannot spawn: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                tracing::warn!("virtual SBI accept: {e}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn read_request(conn: &mut TcpStream) -> io::Result<(RequestHead, Vec<u8>)> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut raw = Vec::new();
    let mut tmp = [0u8; 8192];
    let (head, used) = loop {
        let n = conn.read(&mut tmp)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no request"));
        }
        raw.extend_from_slice(&tmp[..n]);
        if let Some(found) = RequestHead::parse(&raw).map_err(io::Error::other)? {
            break found;
        }
    };
    let BodyKind::Length(len) = head.body_kind().map_err(io::Error::other)? else {
        return Err(io::Error::other("only Content-Length request bodies"));
    };
    if len > 1024 * 1024 {
        return Err(io::Error::other("request body too large"));
    }
    raw.drain(..used);
    while raw.len() < len {
        let n = conn.read(&mut tmp)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short body"));
        }
        raw.extend_from_slice(&tmp[..n]);
    }
    raw.truncate(len);
    Ok((head, raw))
}

fn head_bytes(status: u16, reason: &str, content_type: &str, length: Option<usize>) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nCache-Control: no-store\r\nConnection: close\r\n"
    );
    match length {
        Some(n) => head.push_str(&format!("Content-Length: {n}\r\n\r\n")),
        None => head.push_str("Transfer-Encoding: chunked\r\n\r\n"),
    }
    head.into_bytes()
}

fn respond(conn: &mut TcpStream, status: u16, body: &[u8]) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let mut out = head_bytes(status, reason, "application/json", Some(body.len()));
    out.extend_from_slice(body);
    conn.write_all(&out)?;
    conn.flush()
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec())
}

fn serve(mut conn: TcpStream, shared: &Arc<Shared>) -> io::Result<()> {
    let (head, body) = match read_request(&mut conn) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
        Err(e) => {
            let _ = respond(&mut conn, 400, &json(&SbiError::from_code(102)));
            return Err(e);
        }
    };
    let knobs = shared.knobs();
    let method = head.method.to_ascii_uppercase();
    let path = head.path.trim_end_matches('/');
    match (method.as_str(), path) {
        (proto::VERB_DISC_10, "/device") | (proto::VERB_INFO_10, "/info") if knobs.legacy_only => {
            respond(&mut conn, 405, b"[]")
        }
        (proto::VERB_DISC_10 | proto::VERB_DISC_095, "/device") => {
            let kind = serde_json::from_slice::<DiscoverRequest>(&body)
                .map(|r| r.kind)
                .unwrap_or_default();
            let ours = ["biometric device", "finger", ""]
                .contains(&kind.trim().to_ascii_lowercase().as_str());
            let devices = if ours {
                vec![discovered(shared, &knobs)]
            } else {
                Vec::new()
            };
            respond(&mut conn, 200, &json(&devices))
        }
        (proto::VERB_INFO_10 | proto::VERB_INFO_095, "/info") => {
            respond(&mut conn, 200, &json(&vec![device_info(shared, &knobs)]))
        }
        (proto::VERB_RCAPTURE, "/capture") => rcapture(&mut conn, shared, &body),
        (proto::VERB_STREAM, "/stream") => stream(&mut conn, shared, &body),
        ("GET", "/admin/knobs") => respond(&mut conn, 200, &json(&knobs)),
        ("POST", "/admin/knobs") => match serde_json::from_slice::<Knobs>(&body) {
            Ok(new) => {
                *shared.knobs.lock().unwrap_or_else(PoisonError::into_inner) = new.clone();
                respond(&mut conn, 200, &json(&new))
            }
            Err(e) => respond(&mut conn, 400, &json(&e.to_string())),
        },
        (_, "/device" | "/info" | "/capture" | "/stream") => respond(&mut conn, 405, b"[]"),
        _ => respond(&mut conn, 404, b"[]"),
    }
}

/// Who signs a JWS of the virtual device.
enum Signer<'a> {
    Ed25519(SigningKey),
    /// RS256 with `key`, presenting `pki`'s device certificate.
    Rs256 {
        pki: &'a VirtualPki,
        key: &'a rsa::pkcs1v15::SigningKey<rsa::sha2::Sha256>,
    },
}

impl Signer<'_> {
    fn sign(&self, payload: &[u8]) -> String {
        match self {
            Signer::Ed25519(key) => proto::sign_jws_ed25519(payload, key),
            Signer::Rs256 { pki, key } => proto::sign_jws_rs256(payload, key, &pki.x5c()),
        }
    }
}

/// The device's own signer.
fn device_signer(shared: &Shared) -> Signer<'_> {
    match &shared.pki {
        Some(pki) => Signer::Rs256 {
            pki,
            key: pki.device_key(),
        },
        None => Signer::Ed25519(shared.key.clone()),
    }
}

/// A signer nobody trusts for this device's certificate or key.
fn foreign_signer(shared: &Shared) -> io::Result<Signer<'_>> {
    Ok(match &shared.pki {
        Some(pki) => Signer::Rs256 {
            pki,
            key: pki.ca_key(),
        },
        None => {
            let mut other = [0u8; 32];
            getrandom::fill(&mut other).map_err(|e| io::Error::other(e.to_string()))?;
            Signer::Ed25519(SigningKey::from_bytes(&other))
        }
    })
}

fn serial_no(shared: &Shared) -> String {
    let key = shared.key.verifying_key();
    format!("PKV{}", upper_hex(&key.as_bytes()[..6]))
}

fn digital_id(shared: &Shared) -> DigitalId {
    DigitalId {
        serial_no: serial_no(shared),
        make: "Pishkhan".into(),
        model: "Virtual 4-4-2 Slap".into(),
        kind: "Finger".into(),
        device_sub_type: "Slap".into(),
        device_provider: "Pishkhan".into(),
        device_provider_id: "pishkhan.virtual".into(),
        date_time: now_rfc3339(0),
    }
}

fn device_code(shared: &Shared) -> String {
    upper_hex(&shared.key.verifying_key().as_bytes()[..8])
}

fn spec_versions(knobs: &Knobs) -> Vec<String> {
    if knobs.legacy_only {
        vec!["0.9.5".into()]
    } else {
        vec!["0.9.5".into(), "1.0".into()]
    }
}

fn discovered(shared: &Shared, knobs: &Knobs) -> DiscoveredDevice {
    DiscoveredDevice {
        device_id: "1".into(),
        device_status: knobs.status.as_str().into(),
        certification: "L0".into(),
        service_version: "1.0.0".into(),
        device_sub_id: vec!["1".into(), "2".into(), "3".into()],
        callback_id: format!("http://127.0.0.1:{}/", shared.port),
        digital_id: proto::b64url_encode(&json(&digital_id(shared))),
        device_code: device_code(shared),
        spec_version: spec_versions(knobs),
        purpose: "Registration".into(),
        error: Some(SbiError::success()),
    }
}

fn device_info(shared: &Shared, knobs: &Knobs) -> DeviceInfoEntry {
    let payload = DeviceInfoPayload {
        device_status: knobs.status.as_str().into(),
        device_id: "1".into(),
        firmware: "pishkhan-virtual-1".into(),
        certification: "L0".into(),
        service_version: "1.0.0".into(),
        device_sub_id: vec!["1".into(), "2".into(), "3".into()],
        callback_id: format!("http://127.0.0.1:{}/", shared.port),
        digital_id: device_signer(shared).sign(&json(&digital_id(shared))),
        device_code: device_code(shared),
        env: "Developer".into(),
        purpose: "Registration".into(),
        spec_version: spec_versions(knobs),
    };
    if knobs.status == DeviceStatus::NotRegistered {
        DeviceInfoEntry {
            device_info: proto::b64url_encode(&json(&payload)),
            error: Some(SbiError::from_code(100)),
        }
    } else {
        DeviceInfoEntry {
            device_info: device_signer(shared).sign(&json(&payload)),
            error: Some(SbiError::success()),
        }
    }
}

fn now_rfc3339(skew_seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(skew_seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn error_reply(code: u16) -> Vec<u8> {
    json(&RCaptureResponse {
        biometrics: vec![BiometricEntry {
            spec_version: "1.0".into(),
            data: String::new(),
            hash: String::new(),
            error: Some(SbiError::from_code(code)),
        }],
    })
}

/// Whether the peer has closed its side (a cancelled capture).
fn peer_gone(conn: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    if conn.set_nonblocking(true).is_err() {
        return true;
    }
    let gone = match conn.peek(&mut probe) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    };
    let _ = conn.set_nonblocking(false);
    gone
}

/// Waits `total`, in steps; `false` if the service stops or the peer leaves.
fn wait(shared: &Shared, conn: &TcpStream, total: Duration) -> bool {
    let until = Instant::now() + total;
    while Instant::now() < until {
        if shared.shutdown.load(Ordering::SeqCst) || peer_gone(conn) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5).min(until - Instant::now()));
    }
    true
}

struct CaptureGuard<'a>(&'a AtomicBool);

impl Drop for CaptureGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

fn rcapture(conn: &mut TcpStream, shared: &Arc<Shared>, body: &[u8]) -> io::Result<()> {
    let Ok(request) = serde_json::from_slice::<RCaptureRequest>(body) else {
        return respond(conn, 400, &error_reply(102));
    };
    let knobs = shared.knobs();
    let code = match knobs.status {
        DeviceStatus::Ready => None,
        DeviceStatus::Busy => Some(111),
        DeviceStatus::NotReady => Some(110),
        DeviceStatus::NotRegistered => Some(100),
    };
    if let Some(code) = code {
        return respond(conn, 200, &error_reply(code));
    }
    if !proto::valid_transaction_id(&request.transaction_id) {
        return respond(conn, 200, &error_reply(112));
    }
    let Some(bio) = request.bio.first() else {
        return respond(conn, 200, &error_reply(109));
    };
    let impression = bio
        .device_sub_id
        .trim()
        .parse()
        .ok()
        .and_then(proto::impression_of_sub_id);
    let (Some(impression), true) = (impression, bio.device_id == "1") else {
        return respond(conn, 200, &error_reply(106));
    };
    if !bio.kind.eq_ignore_ascii_case("finger") {
        return respond(conn, 200, &error_reply(109));
    }
    let exceptions: Vec<Finger> = bio
        .exception
        .iter()
        .filter_map(|s| proto::finger_of_bio_sub_type(s))
        .collect();
    let fingers: Vec<Finger> = impression
        .fingers()
        .into_iter()
        .filter(|f| !exceptions.contains(f))
        .collect();
    if bio
        .count
        .trim()
        .parse::<usize>()
        .is_ok_and(|n| n > fingers.len())
    {
        return respond(conn, 200, &error_reply(109));
    }
    if shared
        .capturing
        .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return respond(conn, 200, &error_reply(111));
    }
    let _guard = CaptureGuard(&shared.capturing);
    if let Fault::ErrorCode { code } = knobs.fault {
        return respond(conn, 200, &error_reply(code));
    }
    let mut delay = Duration::from_millis(knobs.capture_delay_ms);
    if let Fault::Delay { ms } = knobs.fault {
        delay += Duration::from_millis(ms);
    }
    if !wait(shared, conn, delay) {
        return Ok(());
    }
    // With a preview open, the fingers are "placed" while frames go out.
    if shared.streams_open.load(Ordering::SeqCst) > 0 && knobs.preview_frames > 0 {
        let start = shared.frames_sent.load(Ordering::SeqCst);
        let until = Instant::now() + MAX_PREVIEW_WAIT;
        while shared.frames_sent.load(Ordering::SeqCst) < start + u64::from(knobs.preview_frames)
            && shared.streams_open.load(Ordering::SeqCst) > 0
            && Instant::now() < until
        {
            if !wait(shared, conn, Duration::from_millis(5)) {
                return Ok(());
            }
        }
    }

    // What the applicant really put down, and what the device finds.
    let placed = knobs.placed_hand(impression);
    let missing = knobs.missing_fingers();
    let found: Vec<(Finger, Finger)> = fingers
        .iter()
        .map(|&label| (label, placed_finger(label, impression, placed)))
        .filter(|(_, real)| !missing.contains(real))
        .collect();
    if found.is_empty() {
        return respond(conn, 200, &error_reply(101));
    }

    let capture_seed = shared.captures.load(Ordering::SeqCst);
    let condition = if take_poor_capture(shared) {
        Condition::Poor
    } else {
        Condition::Normal
    };
    let quality = match condition {
        Condition::Poor => knobs.quality.min(POOR_QUALITY),
        Condition::Normal => knobs.quality,
    };
    let skew = match knobs.fault {
        Fault::ClockSkew { seconds } => seconds,
        _ => 0,
    };
    let signer = if knobs.fault == Fault::BadSignature {
        foreign_signer(shared)?
    } else {
        device_signer(shared)
    };
    let digital = signer.sign(&json(&digital_id(shared)));
    let mut previous = match &bio.previous_hash {
        Some(h) if !h.is_empty() => h.clone(),
        _ => empty_hash(),
    };
    let mut entries = Vec::new();
    let mut push = |bio_sub_type: &str, record: &[u8]| {
        let data = BioData {
            digital_id: digital.clone(),
            bio_type: "Finger".into(),
            device_code: device_code(shared),
            device_service_version: "1.0.0".into(),
            bio_sub_type: bio_sub_type.into(),
            purpose: request.purpose.clone(),
            env: request.env.clone(),
            bio_value: proto::b64url_encode(record),
            transaction_id: request.transaction_id.clone(),
            timestamp: now_rfc3339(skew),
            requested_score: bio.requested_score.clone(),
            quality_score: quality.to_string(),
        };
        let prev_bytes = decode_hex(&previous).unwrap_or_else(|| previous.clone().into_bytes());
        let mut hasher = sha2::Sha256::new();
        hasher.update(&prev_bytes);
        hasher.update(sha2::Sha256::digest(record));
        let hash = upper_hex(&hasher.finalize());
        previous.clone_from(&hash);
        entries.push(BiometricEntry {
            spec_version: request.spec_version.clone(),
            data: if knobs.fault == Fault::TamperedPayload {
                tampered(&signer, &data)
            } else {
                signer.sign(&json(&data))
            },
            hash,
            error: Some(SbiError::success()),
        });
    };
    for (label, real) in found {
        let pixels = SyntheticFinger::new(knobs.identity_seed, real).capture_in(
            capture_seed,
            FINGER_WIDTH,
            FINGER_HEIGHT,
            condition,
        );
        // The device labels what it segmented by where it expected it.
        let record = iso::encode(&FingerRecord {
            position: label.position(),
            quality: quality.min(100),
            resolution_ppi: 500,
            width: FINGER_WIDTH,
            height: FINGER_HEIGHT,
            pixels,
        })
        .map_err(io::Error::other)?;
        push(proto::bio_sub_type(label), &record);
    }
    if knobs.send_slap {
        let record = whole_slap(
            &knobs,
            impression,
            &exceptions,
            capture_seed,
            condition,
            quality,
        )?;
        if let Some(record) = record {
            push(SLAP_BIO_SUB_TYPE, &record);
        }
    }
    shared.captures.fetch_add(1, Ordering::SeqCst);
    let reply = json(&RCaptureResponse {
        biometrics: entries,
    });
    match knobs.fault {
        Fault::GarbageBody => respond(
            conn,
            200,
            b"<html><body>Internal error</body></html>\x00\xff",
        ),
        Fault::DisconnectMidResponse => {
            let mut out = head_bytes(200, "OK", "application/json", Some(reply.len()));
            out.extend_from_slice(&reply[..reply.len() / 2]);
            conn.write_all(&out)?;
            conn.flush()?;
            conn.shutdown(std::net::Shutdown::Both)
        }
        _ => respond(conn, 200, &reply),
    }
}

/// `bioSubType` of the whole-slap entry: it is no single finger.
const SLAP_BIO_SUB_TYPE: &str = "UNKNOWN";

/// Uses up one poor capture, if any is left ([`Knobs::poor_captures`]).
fn take_poor_capture(shared: &Shared) -> bool {
    let mut knobs = shared.knobs.lock().unwrap_or_else(PoisonError::into_inner);
    if knobs.poor_captures > 0 {
        knobs.poor_captures -= 1;
        true
    } else {
        false
    }
}

/// The ISO 19794-4 record of the whole slap of `impression` (`None` for a
/// single finger): the hand really placed, without the fingers not placed
/// (undeclared missing ones, and the declared exceptions of the hand that
/// was asked for), finger position 13, 14 or 15. Under
/// [`Fault::WrongSlap`], another impression's slap.
fn whole_slap(
    knobs: &Knobs,
    impression: Impression,
    exceptions: &[Finger],
    capture_seed: u64,
    condition: Condition,
    quality: u8,
) -> io::Result<Option<Vec<u8>>> {
    let shown = if knobs.fault == Fault::WrongSlap {
        match impression {
            Impression::RightSlap => Impression::LeftSlap,
            _ => Impression::RightSlap,
        }
    } else {
        impression
    };
    let Some(position) = iso::slap_position(shown) else {
        return Ok(None);
    };
    let placed = knobs.placed_hand(shown);
    let mut missing = knobs.missing_fingers();
    if placed == shown {
        missing.extend_from_slice(exceptions);
    }
    let options = SlapOptions {
        missing,
        hand_of: (placed != shown).then_some(placed),
        condition,
    };
    let id = knobs.identity_seed;
    let (pixels, _) = slap_with(id, shown, capture_seed, SLAP_WIDTH, SLAP_HEIGHT, &options);
    let ppi = slap_resolution_ppi(id, shown, capture_seed, SLAP_WIDTH, SLAP_HEIGHT, &options);
    let record = iso::encode(&FingerRecord {
        position,
        quality: quality.min(100),
        resolution_ppi: ppi.round() as u16,
        width: SLAP_WIDTH,
        height: SLAP_HEIGHT,
        pixels,
    })
    .map_err(io::Error::other)?;
    Ok(Some(record))
}

/// Signs `data`, then swaps in a payload with another quality score.
fn tampered(signer: &Signer<'_>, data: &BioData) -> String {
    let signed = signer.sign(&json(data));
    let mut forged = data.clone();
    forged.quality_score = "100".into();
    let mut parts = signed.split('.');
    let (Some(header), Some(_), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return signed;
    };
    format!(
        "{header}.{}.{signature}",
        proto::b64url_encode(&json(&forged))
    )
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

struct StreamGuard<'a>(&'a AtomicU32);

impl Drop for StreamGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Renders the preview of an impression: the slap of the hand really
/// placed, without the fingers not placed ([`Knobs::missing_positions`]; the
/// stream does not know the exceptions), scaled down.
fn preview_base(knobs: &Knobs, impression: Impression) -> Vec<u8> {
    let (w, h) = PREVIEW_SIZE;
    let placed = knobs.placed_hand(impression);
    let options = SlapOptions {
        missing: knobs.missing_fingers(),
        hand_of: (placed != impression).then_some(placed),
        condition: Condition::Normal,
    };
    slap_with(knobs.identity_seed, impression, 0, w, h, &options).0
}

fn jpeg(pixels: &[u8], width: u32, height: u32) -> io::Result<Vec<u8>> {
    use image::ImageEncoder as _;
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
        .write_image(pixels, width, height, image::ExtendedColorType::L8)
        .map_err(io::Error::other)?;
    Ok(out)
}

fn stream(conn: &mut TcpStream, shared: &Arc<Shared>, body: &[u8]) -> io::Result<()> {
    let Ok(request) = serde_json::from_slice::<StreamRequest>(body) else {
        return respond(conn, 400, &json(&SbiError::from_code(102)));
    };
    let knobs = shared.knobs();
    if knobs.status != DeviceStatus::Ready {
        let code = match knobs.status {
            DeviceStatus::Busy => 111,
            DeviceStatus::NotRegistered => 100,
            _ => 110,
        };
        return respond(conn, 200, &json(&SbiError::from_code(code)));
    }
    let impression = request
        .device_sub_id
        .trim()
        .parse()
        .ok()
        .and_then(proto::impression_of_sub_id);
    let (Some(impression), true) = (impression, request.device_id == "1") else {
        return respond(conn, 200, &json(&SbiError::from_code(106)));
    };
    let timeout = request
        .timeout
        .as_deref()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(300), Duration::from_millis)
        .min(Duration::from_secs(300));
    let base = preview_base(&knobs, impression);
    let (w, h) = PREVIEW_SIZE;
    conn.write_all(&head_bytes(
        200,
        "OK",
        &format!("multipart/x-mixed-replace; boundary={BOUNDARY}"),
        None,
    ))?;
    shared.streams_open.fetch_add(1, Ordering::SeqCst);
    let _guard = StreamGuard(&shared.streams_open);
    let until = Instant::now() + timeout;
    let mut n: u32 = 0;
    while Instant::now() < until && !shared.shutdown.load(Ordering::SeqCst) {
        // The finger presses down over the first frames: fade in.
        let pressure = (n.min(4) + 1) * 20;
        let frame: Vec<u8> = base
            .iter()
            .map(|&p| (255 - ((255 - u32::from(p)) * pressure / 100)) as u8)
            .collect();
        let jpg = jpeg(&frame, w, h)?;
        let mut part = format!(
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            jpg.len()
        )
        .into_bytes();
        part.extend_from_slice(&jpg);
        part.extend_from_slice(b"\r\n");
        let mut chunk = format!("{:X}\r\n", part.len()).into_bytes();
        chunk.extend_from_slice(&part);
        chunk.extend_from_slice(b"\r\n");
        if conn.write_all(&chunk).and_then(|()| conn.flush()).is_err() {
            return Ok(());
        }
        shared.frames_sent.fetch_add(1, Ordering::SeqCst);
        n = n.saturating_add(1);
        if !wait(shared, conn, FRAME_INTERVAL) {
            return Ok(());
        }
    }
    let end = format!("--{BOUNDARY}--\r\n");
    let mut tail = format!("{:X}\r\n", end.len()).into_bytes();
    tail.extend_from_slice(end.as_bytes());
    tail.extend_from_slice(b"\r\n0\r\n\r\n");
    let _ = conn.write_all(&tail);
    Ok(())
}
