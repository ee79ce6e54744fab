//! The SBI wire format, free of I/O: JSON messages, JWS compact
//! serialisation, the error code table, bioSubType names and an incremental
//! M-JPEG (`multipart/x-mixed-replace`) frame parser.
//!
//! Everything here is a pure function of its input so that it can be unit
//! tested with literal samples and fuzzed.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use pishkhan_scanner::{Finger, Impression};
use serde::{Deserialize, Deserializer, Serialize};

/// Why a message could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("malformed JWS: {0}")]
    Jws(String),
    #[error("malformed base64url: {0}")]
    Base64(String),
    #[error("malformed M-JPEG stream: {0}")]
    Mjpeg(String),
    #[error("malformed HTTP: {0}")]
    Http(String),
    #[error("malformed biometric record: {0}")]
    Record(String),
}

/// Discovery verb of SBI 1.0.
pub const VERB_DISC_10: &str = "SBIDISC";
/// Discovery verb of SBI 0.9.5 (MDS).
pub const VERB_DISC_095: &str = "MOSIPDISC";
/// Device-info verb of SBI 1.0.
pub const VERB_INFO_10: &str = "SBIDINFO";
/// Device-info verb of SBI 0.9.5 (MDS).
pub const VERB_INFO_095: &str = "MOSIPDINFO";
/// Registration capture verb (both versions).
pub const VERB_RCAPTURE: &str = "RCAPTURE";
/// Preview stream verb (both versions).
pub const VERB_STREAM: &str = "STREAM";

/// Which generation of the interface a service speaks; decides the
/// discovery and info verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SbiVersion {
    /// MDS / SBI 0.9.5: `MOSIPDISC`, `MOSIPDINFO`.
    V095,
    /// SBI 1.0: `SBIDISC`, `SBIDINFO`.
    V10,
}

impl SbiVersion {
    /// The discovery verb.
    pub fn disc_verb(self) -> &'static str {
        match self {
            SbiVersion::V095 => VERB_DISC_095,
            SbiVersion::V10 => VERB_DISC_10,
        }
    }

    /// The device-info verb.
    pub fn info_verb(self) -> &'static str {
        match self {
            SbiVersion::V095 => VERB_INFO_095,
            SbiVersion::V10 => VERB_INFO_10,
        }
    }

    /// The `specVersion` string sent in requests.
    pub fn spec_version(self) -> &'static str {
        match self {
            SbiVersion::V095 => "0.9.5",
            SbiVersion::V10 => "1.0",
        }
    }
}

// ---------------------------------------------------------------------------
// Lenient scalars: devices disagree on whether numbers are JSON strings.

#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrNum {
    S(String),
    N(serde_json::Number),
    B(bool),
}

impl StrOrNum {
    fn into_string(self) -> String {
        match self {
            StrOrNum::S(s) => s,
            StrOrNum::N(n) => n.to_string(),
            StrOrNum::B(b) => b.to_string(),
        }
    }
}

fn flex_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<StrOrNum>::deserialize(d)?
        .map(StrOrNum::into_string)
        .unwrap_or_default())
}

fn flex_string_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<StrOrNum>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(StrOrNum::into_string)
        .collect())
}

fn flex_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<StrOrNum>::deserialize(d)?.map(StrOrNum::into_string))
}

// ---------------------------------------------------------------------------
// Errors.

/// The `error` object carried by every SBI reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SbiError {
    #[serde(deserialize_with = "flex_string", default)]
    pub error_code: String,
    #[serde(deserialize_with = "flex_string", default)]
    pub error_info: String,
}

impl SbiError {
    /// `{"errorCode":"0","errorInfo":"Success"}`.
    pub fn success() -> Self {
        Self::from_code(0)
    }

    /// The error for a code of the table, with its English text.
    pub fn from_code(code: u16) -> Self {
        Self {
            error_code: code.to_string(),
            error_info: error_message(&code.to_string()).to_owned(),
        }
    }

    /// Whether this is success (code 0 or an absent code).
    pub fn is_success(&self) -> bool {
        let code = self.error_code.trim();
        code.is_empty() || code.parse::<i64>() == Ok(0)
    }
}

/// Error code of a device that is not registered.
pub const ERR_NOT_REGISTERED: &str = "100";
/// Error code of a device that is not ready.
pub const ERR_NOT_READY: &str = "110";
/// Error code of a busy device.
pub const ERR_BUSY: &str = "111";

/// The English meaning of an SBI error code (spec table; 5xx are vendor
/// codes). The station translates by code; this text is for logs.
pub fn error_message(code: &str) -> &'static str {
    let Ok(n) = code.trim().parse::<u32>() else {
        return "unknown error";
    };
    match n {
        0 => "success",
        100 => "device not registered",
        101 => "no biometric object detected",
        102 => "extraction error",
        103 => "tamper detected",
        104 => "management server unreachable",
        105 => "orientation error",
        106 => "device not found",
        107 => "device key expired",
        108 => "domain key missing",
        109 => "requested count not supported",
        110 => "device not ready",
        111 => "device busy",
        112 => "invalid transactionId",
        500..=599 => "vendor-specific error",
        _ => "unknown error",
    }
}

// ---------------------------------------------------------------------------
// Device status.

/// `deviceStatus` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeviceStatus {
    Ready,
    Busy,
    #[serde(rename = "Not Ready")]
    NotReady,
    #[serde(rename = "Not Registered")]
    NotRegistered,
}

impl DeviceStatus {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Ready => "Ready",
            DeviceStatus::Busy => "Busy",
            DeviceStatus::NotReady => "Not Ready",
            DeviceStatus::NotRegistered => "Not Registered",
        }
    }

    /// Parses the wire string (case-insensitive, spaces optional).
    pub fn parse(s: &str) -> Option<Self> {
        let norm: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        match norm.as_str() {
            "ready" => Some(DeviceStatus::Ready),
            "busy" => Some(DeviceStatus::Busy),
            "notready" => Some(DeviceStatus::NotReady),
            "notregistered" => Some(DeviceStatus::NotRegistered),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Discovery.

/// `MOSIPDISC` / `SBIDISC` request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverRequest {
    /// "Biometric Device", "Finger", "Face" or "Iris".
    #[serde(rename = "type")]
    pub kind: String,
}

/// One element of the (unsigned) discovery reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DiscoveredDevice {
    #[serde(deserialize_with = "flex_string")]
    pub device_id: String,
    #[serde(deserialize_with = "flex_string")]
    pub device_status: String,
    #[serde(deserialize_with = "flex_string")]
    pub certification: String,
    #[serde(deserialize_with = "flex_string")]
    pub service_version: String,
    #[serde(deserialize_with = "flex_string_vec")]
    pub device_sub_id: Vec<String>,
    #[serde(deserialize_with = "flex_string")]
    pub callback_id: String,
    /// Unsigned digital ID (base64url JSON) in discovery.
    #[serde(deserialize_with = "flex_string")]
    pub digital_id: String,
    #[serde(deserialize_with = "flex_string")]
    pub device_code: String,
    #[serde(deserialize_with = "flex_string_vec")]
    pub spec_version: Vec<String>,
    #[serde(deserialize_with = "flex_string")]
    pub purpose: String,
    pub error: Option<SbiError>,
}

/// Parses a discovery reply (a JSON array; a single object is tolerated).
pub fn parse_discovery(body: &[u8]) -> Result<Vec<DiscoveredDevice>, ProtoError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ProtoError::Json(e.to_string()))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        obj @ serde_json::Value::Object(_) => vec![obj],
        _ => return Err(ProtoError::Json("discovery reply is not an array".into())),
    };
    items
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(|e| ProtoError::Json(e.to_string())))
        .collect()
}

// ---------------------------------------------------------------------------
// Device info.

/// One element of the `MOSIPDINFO` / `SBIDINFO` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceInfoEntry {
    /// A JWS, or the bare base64url payload when the device is not
    /// registered (with error 100).
    #[serde(deserialize_with = "flex_string")]
    pub device_info: String,
    pub error: Option<SbiError>,
}

/// Parses a device-info reply (a JSON array).
pub fn parse_device_info_reply(body: &[u8]) -> Result<Vec<DeviceInfoEntry>, ProtoError> {
    serde_json::from_slice(body).map_err(|e| ProtoError::Json(e.to_string()))
}

/// The payload of the `deviceInfo` JWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceInfoPayload {
    #[serde(deserialize_with = "flex_string")]
    pub device_status: String,
    #[serde(deserialize_with = "flex_string")]
    pub device_id: String,
    #[serde(deserialize_with = "flex_string")]
    pub firmware: String,
    #[serde(deserialize_with = "flex_string")]
    pub certification: String,
    #[serde(deserialize_with = "flex_string")]
    pub service_version: String,
    #[serde(deserialize_with = "flex_string_vec")]
    pub device_sub_id: Vec<String>,
    #[serde(deserialize_with = "flex_string")]
    pub callback_id: String,
    /// A JWS over a [`DigitalId`].
    #[serde(deserialize_with = "flex_string")]
    pub digital_id: String,
    #[serde(deserialize_with = "flex_string")]
    pub device_code: String,
    #[serde(deserialize_with = "flex_string")]
    pub env: String,
    #[serde(deserialize_with = "flex_string")]
    pub purpose: String,
    #[serde(deserialize_with = "flex_string_vec")]
    pub spec_version: Vec<String>,
}

/// The payload of the `digitalId` JWS (or the unsigned base64url JSON in
/// discovery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DigitalId {
    #[serde(deserialize_with = "flex_string")]
    pub serial_no: String,
    #[serde(deserialize_with = "flex_string")]
    pub make: String,
    #[serde(deserialize_with = "flex_string")]
    pub model: String,
    /// "Finger", "Iris" or "Face".
    #[serde(rename = "type", deserialize_with = "flex_string")]
    pub kind: String,
    /// "Slap", "Single", "Touchless", ...
    #[serde(deserialize_with = "flex_string")]
    pub device_sub_type: String,
    #[serde(deserialize_with = "flex_string")]
    pub device_provider: String,
    #[serde(deserialize_with = "flex_string")]
    pub device_provider_id: String,
    #[serde(deserialize_with = "flex_string")]
    pub date_time: String,
}

// ---------------------------------------------------------------------------
// Capture.

/// `RCAPTURE` request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RCaptureRequest {
    pub env: String,
    pub purpose: String,
    pub spec_version: String,
    /// Milliseconds, as a string.
    #[serde(deserialize_with = "flex_string")]
    pub timeout: String,
    pub capture_time: String,
    pub transaction_id: String,
    pub bio: Vec<BioRequest>,
    #[serde(default)]
    pub custom_opts: serde_json::Map<String, serde_json::Value>,
}

/// One modality of an `RCAPTURE` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BioRequest {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(deserialize_with = "flex_string")]
    pub count: String,
    #[serde(default, deserialize_with = "flex_string_vec")]
    pub bio_sub_type: Vec<String>,
    #[serde(default, deserialize_with = "flex_string_vec")]
    pub exception: Vec<String>,
    #[serde(deserialize_with = "flex_string")]
    pub requested_score: String,
    pub device_id: String,
    #[serde(deserialize_with = "flex_string")]
    pub device_sub_id: String,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub previous_hash: Option<String>,
}

/// `RCAPTURE` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RCaptureResponse {
    pub biometrics: Vec<BiometricEntry>,
}

/// One biometric (finger) of an `RCAPTURE` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct BiometricEntry {
    #[serde(deserialize_with = "flex_string")]
    pub spec_version: String,
    /// A JWS over a [`BioData`]; may be empty on error.
    #[serde(deserialize_with = "flex_string")]
    pub data: String,
    #[serde(deserialize_with = "flex_string")]
    pub hash: String,
    pub error: Option<SbiError>,
}

/// Parses an `RCAPTURE` reply.
pub fn parse_rcapture_reply(body: &[u8]) -> Result<RCaptureResponse, ProtoError> {
    serde_json::from_slice(body).map_err(|e| ProtoError::Json(e.to_string()))
}

/// The payload of one biometric's `data` JWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct BioData {
    #[serde(deserialize_with = "flex_string")]
    pub digital_id: String,
    #[serde(deserialize_with = "flex_string")]
    pub bio_type: String,
    #[serde(deserialize_with = "flex_string")]
    pub device_code: String,
    #[serde(deserialize_with = "flex_string")]
    pub device_service_version: String,
    #[serde(deserialize_with = "flex_string")]
    pub bio_sub_type: String,
    #[serde(deserialize_with = "flex_string")]
    pub purpose: String,
    #[serde(deserialize_with = "flex_string")]
    pub env: String,
    /// base64url of an ISO 19794-4 record.
    #[serde(deserialize_with = "flex_string")]
    pub bio_value: String,
    #[serde(deserialize_with = "flex_string")]
    pub transaction_id: String,
    #[serde(deserialize_with = "flex_string")]
    pub timestamp: String,
    #[serde(deserialize_with = "flex_string")]
    pub requested_score: String,
    #[serde(deserialize_with = "flex_string")]
    pub quality_score: String,
}

/// `STREAM` request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamRequest {
    pub device_id: String,
    #[serde(deserialize_with = "flex_string")]
    pub device_sub_id: String,
    /// Milliseconds; optional (default 5 minutes).
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub timeout: Option<String>,
}

/// Whether a transactionId is acceptable: 4–50 of `[A-Za-z0-9-]`.
pub fn valid_transaction_id(id: &str) -> bool {
    (4..=50).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

// ---------------------------------------------------------------------------
// Slaps and bioSubType names.

/// The `deviceSubId` of a slap impression: 1 left, 2 right, 3 thumbs.
/// `None` for a single finger (not a slap).
pub fn device_sub_id(impression: Impression) -> Option<u8> {
    match impression {
        Impression::LeftSlap => Some(1),
        Impression::RightSlap => Some(2),
        Impression::Thumbs => Some(3),
        Impression::Finger(_) => None,
    }
}

/// The slap impression of a `deviceSubId`.
pub fn impression_of_sub_id(sub_id: u8) -> Option<Impression> {
    match sub_id {
        1 => Some(Impression::LeftSlap),
        2 => Some(Impression::RightSlap),
        3 => Some(Impression::Thumbs),
        _ => None,
    }
}

/// The spec 0.9.5 / 1.0 bioSubType of a finger.
pub fn bio_sub_type(finger: Finger) -> &'static str {
    match finger {
        Finger::RightThumb => "Right Thumb",
        Finger::RightIndex => "Right IndexFinger",
        Finger::RightMiddle => "Right MiddleFinger",
        Finger::RightRing => "Right RingFinger",
        Finger::RightLittle => "Right LittleFinger",
        Finger::LeftThumb => "Left Thumb",
        Finger::LeftIndex => "Left IndexFinger",
        Finger::LeftMiddle => "Left MiddleFinger",
        Finger::LeftRing => "Left RingFinger",
        Finger::LeftLittle => "Left LittleFinger",
    }
}

/// The finger of a bioSubType name: spec 0.9.5 / 1.0 names and the 0.9.2
/// names (`LF_INDEX`, `RF_THUMB`, ...), case-insensitive.
pub fn finger_of_bio_sub_type(name: &str) -> Option<Finger> {
    let trimmed = name.trim();
    if let Some(f) = Finger::ALL
        .into_iter()
        .find(|f| bio_sub_type(*f).eq_ignore_ascii_case(trimmed))
    {
        return Some(f);
    }
    let upper = trimmed.to_ascii_uppercase();
    let f = match upper.as_str() {
        "RF_THUMB" => Finger::RightThumb,
        "RF_INDEX" => Finger::RightIndex,
        "RF_MIDDLE" => Finger::RightMiddle,
        "RF_RING" => Finger::RightRing,
        "RF_LITTLE" => Finger::RightLittle,
        "LF_THUMB" => Finger::LeftThumb,
        "LF_INDEX" => Finger::LeftIndex,
        "LF_MIDDLE" => Finger::LeftMiddle,
        "LF_RING" => Finger::LeftRing,
        "LF_LITTLE" => Finger::LeftLittle,
        _ => return None,
    };
    Some(f)
}

// ---------------------------------------------------------------------------
// base64url and JWS.

/// base64url that accepts input with or without padding (devices differ).
pub const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes base64url without padding.
pub fn b64url_encode(bytes: &[u8]) -> String {
    B64URL.encode(bytes)
}

/// Decodes base64url, padded or not.
pub fn b64url_decode(text: &str) -> Result<Vec<u8>, ProtoError> {
    B64URL
        .decode(text.trim())
        .map_err(|e| ProtoError::Base64(e.to_string()))
}

/// The protected header of a JWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct JwsHeader {
    pub alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Key id; the virtual device puts the base64url public key here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Certificate chain (base64 DER), as real SBI devices send.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub x5c: Vec<String>,
}

/// A parsed (not yet verified) JWS in compact serialisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jws {
    pub header: JwsHeader,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
    /// The raw signature bytes.
    pub signature: Vec<u8>,
    /// `base64url(header) "." base64url(payload)`: what is signed.
    pub signing_input: String,
}

/// Largest JWS accepted (a slap finger is well under 1 MiB).
pub const MAX_JWS_LEN: usize = 16 * 1024 * 1024;

/// Parses a compact JWS `h.p.s`. Verification is the trust store's job.
pub fn parse_jws(compact: &str) -> Result<Jws, ProtoError> {
    let compact = compact.trim();
    if compact.len() > MAX_JWS_LEN {
        return Err(ProtoError::Jws("too long".into()));
    }
    let mut parts = compact.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ProtoError::Jws("expected three dot-separated parts".into()));
    };
    if h.is_empty() {
        return Err(ProtoError::Jws("empty header".into()));
    }
    let header_bytes = b64url_decode(h)?;
    let header: JwsHeader = serde_json::from_slice(&header_bytes)
        .map_err(|e| ProtoError::Jws(format!("header: {e}")))?;
    let payload = b64url_decode(p)?;
    let signature = b64url_decode(s)?;
    Ok(Jws {
        header,
        payload,
        signature,
        signing_input: format!("{h}.{p}"),
    })
}

/// Signs `payload` with Ed25519 as a compact JWS (`alg: EdDSA`, RFC 8037).
pub fn sign_jws_ed25519(payload: &[u8], key: &ed25519_dalek::SigningKey) -> String {
    use ed25519_dalek::Signer as _;
    let header = JwsHeader {
        alg: "EdDSA".into(),
        typ: Some("JWT".into()),
        kid: Some(b64url_encode(key.verifying_key().as_bytes())),
        x5c: Vec::new(),
    };
    let header_json = serde_json::to_vec(&header).unwrap_or_default();
    let signing_input = format!("{}.{}", b64url_encode(&header_json), b64url_encode(payload));
    let signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64url_encode(&signature.to_bytes()))
}

/// Signs `payload` as a compact JWS with `alg: RS256` (RSASSA-PKCS1-v1_5,
/// SHA-256) and the certificate chain `x5c` (standard base64 DER, leaf
/// first) in the header, as real SBI devices do.
pub fn sign_jws_rs256(
    payload: &[u8],
    key: &rsa::pkcs1v15::SigningKey<rsa::sha2::Sha256>,
    x5c: &[String],
) -> String {
    use rsa::signature::{SignatureEncoding as _, Signer as _};
    let header = JwsHeader {
        alg: "RS256".into(),
        typ: Some("JWT".into()),
        kid: None,
        x5c: x5c.to_vec(),
    };
    let header_json = serde_json::to_vec(&header).unwrap_or_default();
    let signing_input = format!("{}.{}", b64url_encode(&header_json), b64url_encode(payload));
    let signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64url_encode(&signature.to_vec()))
}

// ---------------------------------------------------------------------------
// M-JPEG.

/// The boundary of a `multipart/x-mixed-replace; boundary=...` content type.
pub fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let mime = parts.next()?.trim().to_ascii_lowercase();
    if !mime.starts_with("multipart/") {
        return None;
    }
    parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        // Some servers include the leading dashes in the parameter.
        let v = v.strip_prefix("--").unwrap_or(v);
        (!v.is_empty() && v.len() <= 70).then(|| v.to_owned())
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MjpegState {
    /// Looking for `--boundary`.
    Boundary,
    /// After the boundary line, reading part headers up to a blank line.
    Headers,
    /// Reading a body of known length.
    Body(usize),
    /// Reading a body up to the next boundary (no Content-Length).
    BodyUntilBoundary,
}

/// Incremental parser of a multipart M-JPEG stream: push bytes as they
/// arrive, take complete frames (the bodies of the parts) out.
///
/// The buffer is bounded: a part body larger than `max_frame`, or headers
/// longer than 8 KiB, is a [`ProtoError::Mjpeg`].
#[derive(Debug, Clone)]
pub struct MjpegParser {
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    state: MjpegState,
    max_frame: usize,
}

const MAX_PART_HEADERS: usize = 8 * 1024;

impl MjpegParser {
    /// A parser for parts delimited by `--boundary`.
    pub fn new(boundary: &str, max_frame: usize) -> Self {
        let mut delimiter = b"--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        Self {
            delimiter,
            buf: Vec::new(),
            state: MjpegState::Boundary,
            max_frame,
        }
    }

    /// Bytes buffered and not yet returned.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Adds `bytes` and returns the frames completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, ProtoError> {
        self.buf.extend_from_slice(bytes);
        let mut frames = Vec::new();
        loop {
            match self.state {
                MjpegState::Boundary => {
                    let Some(at) = find(&self.buf, &self.delimiter) else {
                        // Keep a tail that might be the start of a delimiter.
                        let keep = self.delimiter.len().saturating_sub(1);
                        if self.buf.len() > keep {
                            self.buf.drain(..self.buf.len() - keep);
                        }
                        break;
                    };
                    let after = at + self.delimiter.len();
                    // Need the rest of the boundary line.
                    let Some(eol) = find(&self.buf[after..], b"\n") else {
                        if self.buf.len() - after > 128 {
                            return Err(ProtoError::Mjpeg("overlong boundary line".into()));
                        }
                        break;
                    };
                    let line = &self.buf[after..after + eol];
                    if line.starts_with(b"--") {
                        // Closing delimiter: the stream is over.
                        self.buf.clear();
                        break;
                    }
                    self.buf.drain(..after + eol + 1);
                    self.state = MjpegState::Headers;
                }
                MjpegState::Headers => {
                    let blank = if self.buf.starts_with(b"\r\n") {
                        Some((0, 2))
                    } else if self.buf.starts_with(b"\n") {
                        Some((0, 1))
                    } else if self.buf.len() < 2 {
                        break;
                    } else {
                        header_end(&self.buf)
                    };
                    let Some((end, sep)) = blank else {
                        if self.buf.len() > MAX_PART_HEADERS {
                            return Err(ProtoError::Mjpeg("part headers too long".into()));
                        }
                        break;
                    };
                    if end > MAX_PART_HEADERS {
                        return Err(ProtoError::Mjpeg("part headers too long".into()));
                    }
                    let headers = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                    self.buf.drain(..end + sep);
                    let mut length = None;
                    for line in headers.lines() {
                        if let Some((k, v)) = line.split_once(':')
                            && k.trim().eq_ignore_ascii_case("content-length")
                        {
                            let n: usize = v.trim().parse().map_err(|_| {
                                ProtoError::Mjpeg(format!("bad Content-Length {:?}", v.trim()))
                            })?;
                            length = Some(n);
                        }
                    }
                    self.state = match length {
                        Some(n) if n > self.max_frame => {
                            return Err(ProtoError::Mjpeg(format!(
                                "frame of {n} bytes exceeds {}",
                                self.max_frame
                            )));
                        }
                        Some(n) => MjpegState::Body(n),
                        None => MjpegState::BodyUntilBoundary,
                    };
                }
                MjpegState::Body(n) => {
                    if self.buf.len() < n {
                        break;
                    }
                    let frame: Vec<u8> = self.buf.drain(..n).collect();
                    frames.push(frame);
                    self.state = MjpegState::Boundary;
                }
                MjpegState::BodyUntilBoundary => {
                    let Some(at) = find(&self.buf, &self.delimiter) else {
                        if self.buf.len() > self.max_frame + self.delimiter.len() + 2 {
                            return Err(ProtoError::Mjpeg(format!(
                                "frame exceeds {} bytes",
                                self.max_frame
                            )));
                        }
                        break;
                    };
                    let mut end = at;
                    if end >= 2 && &self.buf[end - 2..end] == b"\r\n" {
                        end -= 2;
                    } else if end >= 1 && self.buf[end - 1] == b'\n' {
                        end -= 1;
                    }
                    if end > self.max_frame {
                        return Err(ProtoError::Mjpeg(format!(
                            "frame exceeds {} bytes",
                            self.max_frame
                        )));
                    }
                    let frame = self.buf[..end].to_vec();
                    self.buf.drain(..at);
                    frames.push(frame);
                    self.state = MjpegState::Boundary;
                }
            }
        }
        Ok(frames)
    }
}

/// The first occurrence of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The end of a header block: (offset of the blank line, its length).
pub(crate) fn header_end(buf: &[u8]) -> Option<(usize, usize)> {
    let crlf = find(buf, b"\r\n\r\n").map(|i| (i, 4));
    let lf = find(buf, b"\n\n").map(|i| (i, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_sample_parses_with_string_and_number_scalars() {
        let body = br#"[{"deviceId":"4","deviceStatus":"Ready","certification":"L0",
            "serviceVersion":"0.9.5","deviceSubId":["1",2,"3"],"callbackId":"http://127.0.0.1:4501/",
            "digitalId":"eyJ4Ijp7fX0","deviceCode":"b692b595","specVersion":["0.9.5"],
            "purpose":"Registration","error":{"errorCode":0,"errorInfo":"Success"}}]"#;
        let devices = parse_discovery(body).unwrap();
        assert_eq!(devices.len(), 1);
        let d = &devices[0];
        assert_eq!(d.device_id, "4");
        assert_eq!(d.device_sub_id, vec!["1", "2", "3"]);
        assert_eq!(
            DeviceStatus::parse(&d.device_status),
            Some(DeviceStatus::Ready)
        );
        assert!(d.error.as_ref().unwrap().is_success());
        assert_eq!(d.spec_version, vec!["0.9.5"]);
    }

    #[test]
    fn discovery_rejects_non_json_and_scalars() {
        assert!(matches!(
            parse_discovery(b"<html>"),
            Err(ProtoError::Json(_))
        ));
        assert!(matches!(parse_discovery(b"42"), Err(ProtoError::Json(_))));
        // A single object is tolerated.
        assert_eq!(parse_discovery(br#"{"deviceId":"1"}"#).unwrap().len(), 1);
    }

    #[test]
    fn rcapture_reply_sample_parses() {
        let body = br#"{"biometrics":[{"specVersion":"0.9.5","data":"a.b.c","hash":"AB12",
            "error":{"errorCode":"111","errorInfo":"Busy"}}]}"#;
        let reply = parse_rcapture_reply(body).unwrap();
        assert_eq!(reply.biometrics.len(), 1);
        let err = reply.biometrics[0].error.clone().unwrap();
        assert_eq!(err.error_code, "111");
        assert!(!err.is_success());
        assert_eq!(error_message(&err.error_code), "device busy");
    }

    #[test]
    fn rcapture_request_round_trips_with_spec_field_names() {
        let req = RCaptureRequest {
            env: "Developer".into(),
            purpose: "Registration".into(),
            spec_version: "0.9.5".into(),
            timeout: "40000".into(),
            capture_time: "2024-01-01T10:00:00Z".into(),
            transaction_id: "abcd-1234".into(),
            bio: vec![BioRequest {
                kind: "Finger".into(),
                count: "3".into(),
                bio_sub_type: vec!["Left IndexFinger".into()],
                exception: vec!["Left LittleFinger".into()],
                requested_score: "40".into(),
                device_id: "1".into(),
                device_sub_id: "1".into(),
                previous_hash: Some(String::new()),
            }],
            custom_opts: serde_json::Map::new(),
        };
        let json = serde_json::to_string(&req).unwrap();
        for key in [
            "\"specVersion\"",
            "\"captureTime\"",
            "\"transactionId\"",
            "\"bioSubType\"",
            "\"requestedScore\"",
            "\"deviceSubId\"",
            "\"previousHash\"",
            "\"customOpts\"",
            "\"type\":\"Finger\"",
        ] {
            assert!(json.contains(key), "{key} missing in {json}");
        }
        let back: RCaptureRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, req);
    }

    #[test]
    fn error_table_covers_spec_codes() {
        assert_eq!(error_message("0"), "success");
        assert_eq!(error_message("100"), "device not registered");
        assert_eq!(error_message("105"), "orientation error");
        assert_eq!(error_message("112"), "invalid transactionId");
        assert_eq!(error_message("503"), "vendor-specific error");
        assert_eq!(error_message("x"), "unknown error");
        assert!(SbiError::from_code(0).is_success());
        assert!(!SbiError::from_code(101).is_success());
    }

    #[test]
    fn bio_sub_types_round_trip_and_accept_old_names() {
        for f in Finger::ALL {
            assert_eq!(finger_of_bio_sub_type(bio_sub_type(f)), Some(f));
        }
        assert_eq!(finger_of_bio_sub_type("LF_INDEX"), Some(Finger::LeftIndex));
        assert_eq!(finger_of_bio_sub_type("rf_thumb"), Some(Finger::RightThumb));
        assert_eq!(finger_of_bio_sub_type("UNKNOWN"), None);
        assert_eq!(device_sub_id(Impression::LeftSlap), Some(1));
        assert_eq!(device_sub_id(Impression::RightSlap), Some(2));
        assert_eq!(device_sub_id(Impression::Thumbs), Some(3));
        assert_eq!(impression_of_sub_id(0), None);
    }

    #[test]
    fn transaction_id_rule() {
        assert!(valid_transaction_id("abcd"));
        assert!(valid_transaction_id("0190f3a2-7b9c-7000-8000-000000000000"));
        assert!(!valid_transaction_id("abc"));
        assert!(!valid_transaction_id("abcd_1234"));
        assert!(!valid_transaction_id(&"a".repeat(51)));
    }

    #[test]
    fn jws_literal_sample_parses() {
        // {"alg":"RS256","typ":"JWT","x5c":["MIIB"]} . {"a":1} . "sig"
        let compact = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsIng1YyI6WyJNSUlCIl19.eyJhIjoxfQ.c2ln";
        let jws = parse_jws(compact).unwrap();
        assert_eq!(jws.header.alg, "RS256");
        assert_eq!(jws.header.x5c, vec!["MIIB"]);
        assert_eq!(jws.payload, br#"{"a":1}"#);
        assert_eq!(jws.signature, b"sig");
        assert!(jws.signing_input.ends_with(".eyJhIjoxfQ"));
    }

    #[test]
    fn jws_malformed_inputs_are_errors() {
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            ".eyJhIjoxfQ.c2ln",
            "!!!.e30.c2ln",
            "e30.e30.c2ln",
        ] {
            assert!(parse_jws(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ed25519_jws_sign_then_parse() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let compact = sign_jws_ed25519(br#"{"x":"y"}"#, &key);
        let jws = parse_jws(&compact).unwrap();
        assert_eq!(jws.header.alg, "EdDSA");
        assert_eq!(jws.payload, br#"{"x":"y"}"#);
        assert_eq!(jws.signature.len(), 64);
    }

    #[test]
    fn boundary_from_content_type() {
        assert_eq!(
            multipart_boundary("multipart/x-mixed-replace; boundary=frame").as_deref(),
            Some("frame")
        );
        assert_eq!(
            multipart_boundary("multipart/x-mixed-replace;boundary=\"--abc\"").as_deref(),
            Some("abc")
        );
        assert_eq!(multipart_boundary("image/jpeg"), None);
        assert_eq!(multipart_boundary("multipart/mixed"), None);
    }

    fn part(boundary: &str, body: &[u8], with_length: bool) -> Vec<u8> {
        let mut out = format!("--{boundary}\r\nContent-Type: image/jpeg\r\n").into_bytes();
        if with_length {
            out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
        out
    }

    #[test]
    fn mjpeg_frames_come_out_whatever_the_chunking() {
        let mut stream = b"preamble\r\n".to_vec();
        stream.extend(part("frame", b"\xff\xd8one\xff\xd9", true));
        stream.extend(part("frame", b"\xff\xd8two--fram\xff\xd9", true));
        stream.extend(part("frame", b"\xff\xd8three\xff\xd9", false));
        stream.extend_from_slice(b"--frame--\r\n");
        for chunk in [1, 2, 3, 7, 64, stream.len()] {
            let mut p = MjpegParser::new("frame", 1024);
            let mut frames = Vec::new();
            for piece in stream.chunks(chunk) {
                frames.extend(p.push(piece).unwrap());
            }
            assert_eq!(
                frames,
                vec![
                    b"\xff\xd8one\xff\xd9".to_vec(),
                    b"\xff\xd8two--fram\xff\xd9".to_vec(),
                    b"\xff\xd8three\xff\xd9".to_vec()
                ],
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn mjpeg_is_bounded() {
        let mut p = MjpegParser::new("b", 16);
        let err = p.push(b"--b\r\nContent-Length: 17\r\n\r\n").unwrap_err();
        assert!(matches!(err, ProtoError::Mjpeg(_)));

        let mut p = MjpegParser::new("b", 16);
        p.push(b"--b\r\n\r\n").unwrap();
        assert!(p.push(&[0u8; 64]).is_err());

        let mut p = MjpegParser::new("b", 16);
        assert!(p.push(b"--b\r\nContent-Length: x\r\n\r\n").is_err());

        // Garbage without any boundary is dropped, not accumulated.
        let mut p = MjpegParser::new("b", 16);
        for _ in 0..100 {
            assert!(p.push(&[b'x'; 100]).unwrap().is_empty());
        }
        assert!(p.buffered() < 8);
    }
}
