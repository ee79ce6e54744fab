//! The station's configuration: `pishkhan.toml` in the data directory.
//!
//! Unknown keys are reported as warnings (a typo must not silently fall
//! back to a default); bad values are errors that the GUI shows on a
//! "station not configured" screen instead of crashing.

pub mod edit;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

pub const FILE_NAME: &str = "pishkhan.toml";

/// The office of a station nobody has provisioned yet (the default, and
/// the demo stations' office).
pub const DEMO_OFFICE: &str = "DEMO-OFFICE";

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Language of the interface at start-up: "fa" or "en".
    pub language: Lang,
    pub station: StationConfig,
    pub authority: AuthorityConfig,
    pub devices: DeviceConfig,
    pub fingerprints: FingerprintConfig,
    pub portrait: PortraitConfig,
    pub enrolment: EnrolmentConfig,
    pub outbox: OutboxConfig,
    pub upload: UploadConfig,
    pub accounts: AccountsConfig,
    pub fees: FeesConfig,
    pub display: DisplayConfig,
}

/// How the window looks (`[display]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DisplayConfig {
    /// High contrast (light text on black, yellow actions) with larger
    /// text and touch targets: small laptop screens in poor light. The
    /// top bar's button switches it and writes it here, so a kit stays
    /// in it.
    pub high_contrast: bool,
}

/// The fee schedule (`[fees]`), in rials; empty: no fees are recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeesConfig {
    /// The class of the office's city (1 = the largest cities).
    pub city_class: u8,
    /// Registration completion fee by city class: the first for class 1.
    pub completion_rials: Vec<u64>,
    /// Card delivery fee (0: none).
    pub delivery_rials: u64,
}

/// Sign-in rules (`[accounts]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountsConfig {
    /// Wrong passwords in a row before an account is locked.
    pub max_failed_sign_ins: u32,
    /// How long a locked account stays locked, in seconds.
    pub lockout_seconds: u64,
    /// Seconds without keyboard or mouse input before the operator is
    /// signed out (0: never).
    pub idle_logout_seconds: u64,
    /// How long before the idle sign-out a warning shows, in seconds.
    pub idle_warning_seconds: u64,
    /// The shortest password accepted.
    pub min_password_length: u32,
}

impl AccountsConfig {
    fn validate(&self) -> Result<(), String> {
        if !(1..=20).contains(&self.max_failed_sign_ins) {
            return Err("accounts.max_failed_sign_ins must be between 1 and 20".into());
        }
        if self.lockout_seconds == 0 {
            return Err("accounts.lockout_seconds must be at least 1".into());
        }
        if self.idle_logout_seconds != 0 && self.idle_warning_seconds >= self.idle_logout_seconds {
            return Err(
                "accounts.idle_warning_seconds must be shorter than idle_logout_seconds".into(),
            );
        }
        if !(6..=128).contains(&self.min_password_length) {
            return Err("accounts.min_password_length must be between 6 and 128".into());
        }
        Ok(())
    }
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            max_failed_sign_ins: 5,
            lockout_seconds: 15 * 60,
            idle_logout_seconds: 10 * 60,
            idle_warning_seconds: 60,
            min_password_length: 8,
        }
    }
}

/// Where and how packets are uploaded (`[upload]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadConfig {
    /// The intake's tus endpoint, e.g. `https://intake.example/files/`.
    /// Unset: packets wait in the outbox (export them on removable media).
    pub url: Option<String>,
    /// The intake's certificate or CA (PEM file) to pin; unset: the
    /// operating system's roots.
    pub server_certificate: Option<String>,
    /// The intake's Ed25519 key (hex) that signs receipts.
    pub intake_key: Option<String>,
    /// Bytes per PATCH.
    pub chunk_bytes: u32,
    /// Packets uploaded at the same time.
    pub concurrency: u8,
    /// First wait after a failed attempt, doubled each time (with jitter).
    pub retry_base_ms: u64,
    /// Longest wait between attempts.
    pub retry_max_ms: u64,
    /// An upload request that moves no byte for this long is given up
    /// (and resumed from the intake's offset).
    pub stall_timeout_ms: u64,
}

impl Default for UploadConfig {
    fn default() -> Self {
        Self {
            url: None,
            server_certificate: None,
            intake_key: None,
            chunk_bytes: 1024 * 1024,
            concurrency: 2,
            retry_base_ms: 5_000,
            retry_max_ms: 600_000,
            stall_timeout_ms: 20_000,
        }
    }
}

/// The outbox and retention: what may be queued, for how long it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// Largest sealed packet accepted into the queue, in bytes.
    pub max_packet_bytes: u64,
    /// Free space the data directory must keep after queueing, in bytes.
    pub min_free_bytes: u64,
    /// Days an acknowledged packet is kept before it is deleted.
    pub keep_acknowledged_days: u32,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_packet_bytes: 5 * 1024 * 1024,
            min_free_bytes: 200 * 1024 * 1024,
            keep_acknowledged_days: 30,
        }
    }
}

/// The fingerprint rules: agree them with the authority.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FingerprintConfig {
    /// Lowest acceptable station quality score per finger (0–100).
    pub quality_threshold: u8,
    /// Attempts per slap or finger before force-accept (1–10).
    pub max_attempts: u8,
    /// WSQ bitrate of the finger images in the packet (bits per pixel).
    pub wsq_bitrate: f32,
    /// Matcher score from which two fingers count as the same finger;
    /// unset: the matcher's calibrated default.
    pub match_threshold: Option<f32>,
}

impl Default for FingerprintConfig {
    fn default() -> Self {
        Self {
            quality_threshold: 40,
            max_attempts: 3,
            wsq_bitrate: 0.75,
            match_threshold: None,
        }
    }
}

impl FingerprintConfig {
    /// The workflow's policy.
    pub fn policy(&self) -> crate::enrolment::tenprint::Policy {
        let default = crate::enrolment::tenprint::Policy::default();
        crate::enrolment::tenprint::Policy {
            quality_threshold: self.quality_threshold,
            max_attempts: self.max_attempts,
            match_threshold: self.match_threshold.unwrap_or(default.match_threshold),
        }
    }
}

/// The live portrait's limits (`[portrait]`): agree them with the
/// authority. The other limits keep their ICAO / calibrated defaults
/// (`pishkhan_face::Policy`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortraitConfig {
    /// Analysed frames in a row that must pass every check before the
    /// station takes the portrait by itself (1–30).
    pub auto_capture_frames: u32,
    /// Fewest pixels between the eye centres in the camera frame (ISO: 90).
    pub min_eye_distance: f32,
    /// Largest head roll, yaw and pitch in degrees (ICAO: 8, 5, 5).
    pub max_roll: f32,
    pub max_yaw: f32,
    pub max_pitch: f32,
}

impl Default for PortraitConfig {
    fn default() -> Self {
        let policy = pishkhan_face::Policy::default();
        Self {
            auto_capture_frames: crate::portrait::live::AUTO_CAPTURE_FRAMES,
            min_eye_distance: policy.min_eye_distance,
            max_roll: policy.max_roll,
            max_yaw: policy.max_yaw,
            max_pitch: policy.max_pitch,
        }
    }
}

impl PortraitConfig {
    /// The checks' limits.
    pub fn policy(&self) -> pishkhan_face::Policy {
        pishkhan_face::Policy {
            min_eye_distance: self.min_eye_distance,
            max_roll: self.max_roll,
            max_yaw: self.max_yaw,
            max_pitch: self.max_pitch,
            ..pishkhan_face::Policy::default()
        }
    }

    fn validate(&self) -> Result<(), String> {
        if !(1..=30).contains(&self.auto_capture_frames) {
            return Err("portrait.auto_capture_frames must be between 1 and 30".into());
        }
        if !(self.min_eye_distance.is_finite() && (30.0..=1000.0).contains(&self.min_eye_distance))
        {
            return Err("portrait.min_eye_distance must be between 30 and 1000 pixels".into());
        }
        for (name, value) in [
            ("max_roll", self.max_roll),
            ("max_yaw", self.max_yaw),
            ("max_pitch", self.max_pitch),
        ] {
            if !(value.is_finite() && (0.5..=45.0).contains(&value)) {
                return Err(format!(
                    "portrait.{name} must be between 0.5 and 45 degrees"
                ));
            }
        }
        Ok(())
    }
}

/// Rules of the applicant form (`[enrolment]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnrolmentConfig {
    /// When someone born on Esfand 30 of a leap year has their birthday in
    /// a common year: "farvardin-1" (the day after Esfand 29, default) or
    /// "esfand-29". No NOCR rule is published; see docs/architecture.md.
    pub leap_day_birthday: crate::enrolment::jalali::LeapDayBirthday,
}

impl EnrolmentConfig {
    /// The form's rules on `today`.
    pub fn rules(&self, today: crate::enrolment::JalaliDate) -> crate::enrolment::Rules {
        crate::enrolment::Rules {
            today,
            leap_day: self.leap_day_birthday,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StationConfig {
    /// The office this station enrols for ([`DEMO_OFFICE`] until the
    /// station is provisioned).
    pub office: String,
    /// The station's number within the authority (0–9999); printed inside
    /// every tracking code. Derived from the station id when not set.
    pub number: Option<u16>,
    /// What the office calls the station ("Counter 3"), as registered at
    /// the intake.
    pub name: Option<String>,
    /// The mobile team whose kit this is: set, the station works in
    /// mobile-team mode (the team's visit list, a record of each visit).
    pub team: Option<String>,
}

impl Default for StationConfig {
    fn default() -> Self {
        Self {
            office: DEMO_OFFICE.into(),
            number: None,
            name: None,
            team: None,
        }
    }
}

impl StationConfig {
    /// Whether the station was bound to an office (`pishkhan provision`).
    pub fn is_provisioned(&self) -> bool {
        self.office != DEMO_OFFICE
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthorityConfig {
    /// The authority's age X25519 recipient (`age1…`). Packets are
    /// encrypted to it. Without it (and without `recipients`) the station
    /// runs in demo mode with a locally generated demo authority key.
    pub recipient: Option<String>,
    /// More recipients (a second key for rotation, a backup key): packets
    /// open with any one of them.
    pub recipients: Vec<String>,
    /// The authority's agency id: ANSI/NIST-ITL 1.007 DAI (ASCII).
    pub agency: String,
}

impl Default for AuthorityConfig {
    fn default() -> Self {
        Self {
            recipient: None,
            recipients: Vec::new(),
            agency: "NOCR".into(),
        }
    }
}

impl AuthorityConfig {
    /// All the configured recipients (none: demo mode).
    pub fn all_recipients(&self) -> Vec<&str> {
        self.recipient
            .iter()
            .chain(&self.recipients)
            .map(String::as_str)
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceConfig {
    /// "auto" (a real camera when one is attached), "synthetic", or a
    /// camera index such as "0".
    pub camera: CameraChoice,
    /// "auto", "virtual", "zfm" or "sbi".
    pub scanner: ScannerChoice,
    /// Serial port of the ZhianTec module, or "virtual" for the virtual
    /// module on a pseudo-terminal.
    pub zfm_port: String,
    /// Baud rate tried first with the ZhianTec module.
    pub zfm_baud: u32,
    /// "discover" (search 127.0.0.1 ports 4501–4600) or "virtual" (run the
    /// virtual SBI service inside the station).
    pub sbi_service: String,
    /// Ed25519 public keys (hex) of SBI devices whose signatures are
    /// trusted, besides the virtual service's own.
    pub sbi_trusted_keys: Vec<String>,
    /// Files (PEM or DER) of the device CA certificates that SBI devices'
    /// RS256 certificate chains (`x5c`) must lead to.
    pub sbi_trusted_cas: Vec<String>,
    /// How long the virtual scanner's applicant takes to place a finger.
    pub virtual_scanner_delay_ms: u64,
    /// How long to wait for a finger before reporting a timeout.
    pub capture_timeout_s: u64,
    /// The GPS receiver of a mobile team's kit: "off", "virtual" (the
    /// virtual NMEA receiver on a pseudo-terminal; demo stations only) or
    /// the receiver's serial port ("/dev/ttyACM0", "COM4").
    pub gps: String,
    /// Baud rate of the GPS receiver's serial port.
    pub gps_baud: u32,
}

/// Baud rates accepted for `devices.gps_baud`: those NMEA 0183 receivers
/// use (4800 is the standard's, USB receivers often 9600 or more).
pub const GPS_BAUD_RATES: [u32; 6] = [4_800, 9_600, 19_200, 38_400, 57_600, 115_200];

impl Default for DeviceConfig {
    fn default() -> Self {
        Self {
            camera: CameraChoice::Auto,
            scanner: ScannerChoice::Auto,
            zfm_port: "virtual".into(),
            zfm_baud: 57_600,
            sbi_service: "discover".into(),
            sbi_trusted_keys: Vec::new(),
            sbi_trusted_cas: Vec::new(),
            virtual_scanner_delay_ms: 300,
            capture_timeout_s: 30,
            gps: "off".into(),
            gps_baud: 4_800,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CameraChoice {
    Auto,
    Synthetic,
    /// The synthetic applicant seated low and aside: demonstrates the
    /// portrait override.
    SyntheticSeated,
    Index(u32),
}

impl TryFrom<String> for CameraChoice {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        match value.as_str() {
            "auto" => Ok(Self::Auto),
            "synthetic" => Ok(Self::Synthetic),
            "synthetic-seated" => Ok(Self::SyntheticSeated),
            other => other.parse().map(Self::Index).map_err(|_| {
                format!(
                    "camera must be \"auto\", \"synthetic\", \"synthetic-seated\" or a number, not {other:?}"
                )
            }),
        }
    }
}

impl From<CameraChoice> for String {
    fn from(value: CameraChoice) -> String {
        match value {
            CameraChoice::Auto => "auto".into(),
            CameraChoice::Synthetic => "synthetic".into(),
            CameraChoice::SyntheticSeated => "synthetic-seated".into(),
            CameraChoice::Index(i) => i.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScannerChoice {
    /// A ZhianTec module on a known USB-serial bridge, else an SBI service
    /// on loopback, else (demo) the virtual ZhianTec module on a
    /// pseudo-terminal.
    Auto,
    /// The in-process virtual sensor (no protocol; fastest, for tests).
    Virtual,
    /// A ZhianTec/Synochip module on `zfm_port`.
    Zfm,
    /// A slap scanner behind a MOSIP SBI service (`sbi_service`).
    Sbi,
}

/// Why the configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} is not valid: {reason}")]
    Invalid { path: String, reason: String },
}

const TEMPLATE: &str = r#"# Pishkhan station configuration. See README.md, "Configuration".

# Interface language at start-up: "fa" (Persian) or "en" (English).
language = "fa"

[station]
# The office this station enrols for; DEMO-OFFICE until `pishkhan provision`
# (or the first-run form) binds the station to its office.
office = "DEMO-OFFICE"
# The station number assigned by the authority (0-9999).
# number = 42
# What the office calls this station, as registered at the intake.
# name = "Counter 3"
# A mobile team's kit: the team's code turns on mobile-team mode (the
# team's visit list is fetched before leaving and each visit is recorded).
# team = "TEH-M1"

[authority]
# The authority's age X25519 public key. Without it the station runs in
# DEMO mode and encrypts to a demo key kept in this directory.
# recipient = "age1..."
# More keys (rotation, backup); a packet opens with any one of them.
recipients = []
# The authority's agency id in the ANSI/NIST transaction (1.007 DAI).
agency = "NOCR"

[devices]
# "auto", "synthetic", "synthetic-seated" (the demo applicant seated low
# and aside, to show the portrait override) or a camera index such as "0".
camera = "auto"
# "auto" (attached ZhianTec module or SBI service, else the virtual ZhianTec
# module), "virtual" (in-process), "zfm" or "sbi".
scanner = "auto"
# Serial port of a ZhianTec module, or "virtual".
zfm_port = "virtual"
zfm_baud = 57600
# "discover" (127.0.0.1 ports 4501-4600) or "virtual".
sbi_service = "discover"
# Hex Ed25519 keys of trusted SBI devices.
sbi_trusted_keys = []
# Device CA certificates (PEM or DER files) for RS256 SBI devices.
sbi_trusted_cas = []
virtual_scanner_delay_ms = 300
capture_timeout_s = 30
# GPS receiver of a mobile team's kit, for the position of visit records:
# "off", "virtual" (a simulated receiver in Tehran; demo stations only) or
# the receiver's serial port, e.g. "/dev/ttyACM0" or "COM4".
gps = "off"
# 4800 (NMEA 0183), 9600, 19200, 38400, 57600 or 115200.
gps_baud = 4800

[fingerprints]
# Lowest acceptable quality per finger, 0-100 (the station's own score,
# calibrated against NIST NFIQ 2).
quality_threshold = 40
# Attempts per slap or finger; after the last one the best images may be
# force-accepted with a supervisor's approval.
max_attempts = 3
# WSQ bitrate of the finger images in the packet (0.75 = FBI/IAFIS).
wsq_bitrate = 0.75
# Matcher score from which two fingers count as the same (duplicate check).
# match_threshold = 30.0

[portrait]
# Analysed frames in a row that must pass every check before the station
# takes the portrait by itself.
auto_capture_frames = 3
# Fewest pixels between the eye centres in the camera frame (ISO: 90).
min_eye_distance = 90.0
# Largest head tilt (roll), turn (yaw) and nod (pitch) in degrees; yaw and
# pitch are estimates from the face's landmarks, a few degrees uncertain.
max_roll = 8.0
max_yaw = 5.0
max_pitch = 5.0

[enrolment]
# The birthday of someone born on Esfand 30 of a leap year, in common
# years: "farvardin-1" or "esfand-29".
leap_day_birthday = "farvardin-1"

[outbox]
# Largest sealed packet the queue takes (bytes); a larger one stays a draft.
max_packet_bytes = 5242880
# Free disk space to keep after queueing (bytes); below it the enrolment
# stays a draft until space is freed.
min_free_bytes = 209715200
# Days an acknowledged packet is kept before it is deleted.
keep_acknowledged_days = 30

[upload]
# The intake's tus endpoint; unset: packets wait (or go on removable media).
# url = "https://intake.example/files/"
# The intake's certificate or CA to pin (PEM file); unset: the system roots.
# server_certificate = "intake.pem"
# The intake's Ed25519 key (hex) that signs receipts.
# intake_key = "..."
chunk_bytes = 1048576
concurrency = 2
retry_base_ms = 5000
retry_max_ms = 600000
# An upload request that moves no byte for this long is given up and resumed.
stall_timeout_ms = 20000

[accounts]
# Wrong passwords in a row before an account locks, and for how long
# (seconds); a supervisor can also release it from the accounts screen.
max_failed_sign_ins = 5
lockout_seconds = 900
# Seconds without input before the operator is signed out (0: never), and
# how long before that a warning shows. Every completed step is saved as a
# draft, so a sign-out loses at most the step on screen.
idle_logout_seconds = 600
idle_warning_seconds = 60
# The shortest password accepted.
min_password_length = 8

[fees]
# The fee schedule, in rials, as the authority publishes it; recorded at
# review with the payment terminal's reference and printed on the receipt.
# Unset: no fees are asked for.
# city_class = 1
# completion_rials = [3000000, 2500000, 2000000]
# delivery_rials = 500000

[display]
# High contrast (light text on black, yellow buttons) with larger text and
# touch targets, for small screens in poor light; the top bar's "High
# contrast" button switches it and writes it here.
high_contrast = false
"#;

impl Config {
    /// Loads `dir/pishkhan.toml`, writing the commented default first when
    /// there is none. Returns the configuration and warnings about unknown
    /// keys.
    pub fn load_or_create(dir: &Path) -> Result<(Config, Vec<String>), ConfigError> {
        let path = dir.join(FILE_NAME);
        let shown = path.display().to_string();
        if !path.exists() {
            std::fs::write(&path, TEMPLATE).map_err(|e| ConfigError::Read {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        Self::parse(&text).map_err(|reason| ConfigError::Invalid {
            path: shown,
            reason,
        })
    }

    /// Parses configuration text; unknown keys become warnings.
    pub fn parse(text: &str) -> Result<(Config, Vec<String>), String> {
        let mut unknown = Vec::new();
        let value: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
        let lenient = strip_unknown(value, &mut unknown);
        let config: Config = lenient
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        config.validate()?;
        let warnings = unknown
            .into_iter()
            .map(|k| format!("unknown setting ignored: {k}"))
            .collect();
        Ok((config, warnings))
    }

    fn validate(&self) -> Result<(), String> {
        for recipient in self.authority.all_recipients() {
            recipient.parse::<age::x25519::Recipient>().map_err(|e| {
                format!("authority.recipient(s): {recipient:?} is not an age X25519 key: {e}")
            })?;
        }
        let agency = &self.authority.agency;
        if agency.is_empty()
            || agency.len() > 35
            || !agency
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(format!(
                "authority.agency must be 1-35 ASCII letters, digits or '-', not {agency:?}"
            ));
        }
        let upload = &self.upload;
        if let Some(url) = &upload.url {
            url::Url::parse(url).map_err(|e| format!("upload.url {url:?}: {e}"))?;
            if upload.intake_key.is_none() {
                return Err(
                    "upload.intake_key is needed with upload.url (receipts are checked with it)"
                        .into(),
                );
            }
        }
        if let Some(key) = &upload.intake_key
            && hex::decode(key).map(|k| k.len()) != Ok(32)
        {
            return Err(format!(
                "upload.intake_key: {key:?} is not a 64-digit hex Ed25519 key"
            ));
        }
        if !(1..=8).contains(&upload.concurrency) {
            return Err("upload.concurrency must be between 1 and 8".into());
        }
        if upload.stall_timeout_ms < 500 {
            return Err("upload.stall_timeout_ms must be at least 500".into());
        }
        if upload.chunk_bytes < 16 * 1024 {
            return Err("upload.chunk_bytes must be at least 16384".into());
        }
        if self.outbox.max_packet_bytes < 64 * 1024 {
            return Err("outbox.max_packet_bytes must be at least 65536".into());
        }
        if self.station.number.is_some_and(|n| n > 9999) {
            return Err("station.number must be between 0 and 9999".into());
        }
        if !matches!(self.devices.sbi_service.as_str(), "discover" | "virtual") {
            return Err(format!(
                "devices.sbi_service must be \"discover\" or \"virtual\", not {:?}",
                self.devices.sbi_service
            ));
        }
        for key in &self.devices.sbi_trusted_keys {
            if hex::decode(key).map(|k| k.len()) != Ok(32) {
                return Err(format!(
                    "devices.sbi_trusted_keys: {key:?} is not a 64-digit hex Ed25519 key"
                ));
            }
        }
        for path in &self.devices.sbi_trusted_cas {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("devices.sbi_trusted_cas: cannot read {path}: {e}"))?;
            add_ca(pishkhan_sbi::TrustStore::new(), &bytes)
                .map_err(|e| format!("devices.sbi_trusted_cas: {path}: {e}"))?;
        }
        let fp = &self.fingerprints;
        if fp.quality_threshold > 100 {
            return Err("fingerprints.quality_threshold must be between 0 and 100".into());
        }
        if !(1..=10).contains(&fp.max_attempts) {
            return Err("fingerprints.max_attempts must be between 1 and 10".into());
        }
        if !(fp.wsq_bitrate.is_finite() && (0.1..=8.0).contains(&fp.wsq_bitrate)) {
            return Err("fingerprints.wsq_bitrate must be between 0.1 and 8".into());
        }
        if fp
            .match_threshold
            .is_some_and(|t| !t.is_finite() || t <= 0.0)
        {
            return Err("fingerprints.match_threshold must be a positive number".into());
        }
        if self.devices.capture_timeout_s == 0 {
            return Err("devices.capture_timeout_s must be at least 1".into());
        }
        let gps = &self.devices.gps;
        if gps.trim().is_empty() || gps.trim() != gps {
            return Err(format!(
                "devices.gps must be \"off\", \"virtual\" or a serial port such as \"/dev/ttyACM0\", not {gps:?}"
            ));
        }
        if !GPS_BAUD_RATES.contains(&self.devices.gps_baud) {
            return Err(format!(
                "devices.gps_baud must be one of 4800, 9600, 19200, 38400, 57600 or 115200, not {}",
                self.devices.gps_baud
            ));
        }
        self.accounts.validate()?;
        if let Some(team) = &self.station.team {
            crate::field::check_id("station.team", team)?;
        }
        let fees = &self.fees;
        if !fees.completion_rials.is_empty()
            && !(1..=fees.completion_rials.len()).contains(&usize::from(fees.city_class))
        {
            return Err(format!(
                "fees.city_class must be between 1 and {} (one fee per class in completion_rials)",
                fees.completion_rials.len()
            ));
        }
        self.portrait.validate()
    }
}

/// Adds a CA certificate given as PEM or DER.
pub fn add_ca(
    store: pishkhan_sbi::TrustStore,
    bytes: &[u8],
) -> Result<pishkhan_sbi::TrustStore, pishkhan_sbi::TrustError> {
    if bytes.starts_with(b"-----BEGIN") {
        store.with_ca_pem(bytes)
    } else {
        store.with_ca_der(bytes)
    }
}

/// Removes keys the schema does not know, recording their dotted paths, so
/// that a typo warns instead of failing or being silently ignored.
fn strip_unknown(value: toml::Value, unknown: &mut Vec<String>) -> toml::Value {
    const KNOWN: &[(&str, &[&str])] = &[
        (
            "",
            &[
                "language",
                "station",
                "authority",
                "devices",
                "fingerprints",
                "portrait",
                "enrolment",
                "outbox",
                "upload",
                "accounts",
                "fees",
                "display",
            ],
        ),
        ("display", &["high_contrast"]),
        (
            "fees",
            &["city_class", "completion_rials", "delivery_rials"],
        ),
        ("enrolment", &["leap_day_birthday"]),
        (
            "accounts",
            &[
                "max_failed_sign_ins",
                "lockout_seconds",
                "idle_logout_seconds",
                "idle_warning_seconds",
                "min_password_length",
            ],
        ),
        (
            "portrait",
            &[
                "auto_capture_frames",
                "min_eye_distance",
                "max_roll",
                "max_yaw",
                "max_pitch",
            ],
        ),
        (
            "upload",
            &[
                "url",
                "server_certificate",
                "intake_key",
                "chunk_bytes",
                "concurrency",
                "retry_base_ms",
                "retry_max_ms",
                "stall_timeout_ms",
            ],
        ),
        ("station", &["office", "number", "name", "team"]),
        ("authority", &["recipient", "recipients", "agency"]),
        (
            "outbox",
            &[
                "max_packet_bytes",
                "min_free_bytes",
                "keep_acknowledged_days",
            ],
        ),
        (
            "devices",
            &[
                "camera",
                "scanner",
                "zfm_port",
                "zfm_baud",
                "sbi_service",
                "sbi_trusted_keys",
                "sbi_trusted_cas",
                "virtual_scanner_delay_ms",
                "capture_timeout_s",
                "gps",
                "gps_baud",
            ],
        ),
        (
            "fingerprints",
            &[
                "quality_threshold",
                "max_attempts",
                "wsq_bitrate",
                "match_threshold",
            ],
        ),
    ];
    let allowed = |section: &str| {
        KNOWN
            .iter()
            .find(|(s, _)| *s == section)
            .map_or(&[][..], |(_, keys)| *keys)
    };
    let toml::Value::Table(top) = value else {
        return value;
    };
    let mut out = toml::Table::new();
    for (key, value) in top {
        if !allowed("").contains(&key.as_str()) {
            unknown.push(key);
            continue;
        }
        let value = match value {
            toml::Value::Table(section) => {
                let keys = allowed(&key);
                let mut kept = toml::Table::new();
                for (k, v) in section {
                    if keys.contains(&k.as_str()) {
                        kept.insert(k, v);
                    } else {
                        unknown.push(format!("{key}.{k}"));
                    }
                }
                toml::Value::Table(kept)
            }
            other => other,
        };
        out.insert(key, value);
    }
    toml::Value::Table(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parses_to_defaults() {
        let (config, warnings) = Config::parse(TEMPLATE).expect("template is valid");
        assert_eq!(config, Config::default());
        assert!(warnings.is_empty());
    }

    #[test]
    fn unknown_keys_warn() {
        let (_, mut warnings) =
            Config::parse("langauge = \"en\"\n[devices]\ncamra = \"0\"\n").expect("valid");
        warnings.sort();
        assert_eq!(
            warnings,
            vec![
                "unknown setting ignored: devices.camra".to_owned(),
                "unknown setting ignored: langauge".to_owned(),
            ]
        );
    }

    #[test]
    fn bad_values_are_errors_with_the_reason() {
        let err = Config::parse("[authority]\nrecipient = \"age1nope\"\n").expect_err("bad key");
        assert!(err.contains("authority.recipient"), "{err}");
        let err = Config::parse("[devices]\ncamera = \"front\"\n").expect_err("bad camera");
        assert!(err.contains("front"), "{err}");
        let err = Config::parse("language = \"de\"\n").expect_err("bad language");
        assert!(err.contains("de"), "{err}");
        let err = Config::parse("[portrait]\nauto_capture_frames = 0\n").expect_err("frames");
        assert!(err.contains("portrait.auto_capture_frames"), "{err}");
        let err = Config::parse("[portrait]\nmax_yaw = 90.0\n").expect_err("yaw");
        assert!(err.contains("portrait.max_yaw"), "{err}");
    }

    #[test]
    fn gps_settings_are_read_and_checked() {
        let (config, unknown) = Config::parse("").expect("empty is valid");
        assert!(unknown.is_empty());
        assert_eq!(
            (config.devices.gps.as_str(), config.devices.gps_baud),
            ("off", 4800)
        );
        for source in ["virtual", "/dev/ttyACM0", "COM4"] {
            let (config, unknown) =
                Config::parse(&format!("[devices]\ngps = {source:?}\ngps_baud = 9600\n"))
                    .expect("valid");
            assert!(unknown.is_empty(), "{unknown:?}");
            assert_eq!(config.devices.gps, source);
            assert_eq!(config.devices.gps_baud, 9600);
        }
        for bad in ["", " ", " /dev/ttyACM0"] {
            let err = Config::parse(&format!("[devices]\ngps = {bad:?}\n")).expect_err("bad gps");
            assert!(err.contains("devices.gps must be"), "{err}");
        }
        let err = Config::parse("[devices]\ngps_baud = 1200\n").expect_err("bad baud");
        assert!(
            err.contains("devices.gps_baud") && err.contains("1200"),
            "{err}"
        );
        let err = Config::parse("[devices]\ngps = 1\n").expect_err("not a string");
        assert!(err.contains("gps"), "{err}");
    }

    #[test]
    fn portrait_and_enrolment_sections_are_read() {
        let (config, unknown) = Config::parse(
            "[portrait]\nauto_capture_frames = 5\nmin_eye_distance = 120.0\nmax_yaw = 7.5\n\
             [enrolment]\nleap_day_birthday = \"esfand-29\"\n",
        )
        .expect("parses");
        assert!(unknown.is_empty(), "{unknown:?}");
        assert_eq!(config.portrait.auto_capture_frames, 5);
        let policy = config.portrait.policy();
        assert_eq!(policy.min_eye_distance, 120.0);
        assert_eq!(policy.max_yaw, 7.5);
        assert_eq!(policy.max_pitch, pishkhan_face::Policy::default().max_pitch);
        assert_eq!(
            config.enrolment.leap_day_birthday,
            crate::enrolment::jalali::LeapDayBirthday::Esfand29
        );
    }

    #[test]
    fn the_display_section_is_read() {
        let (config, unknown) = Config::parse("[display]\nhigh_contrast = true\n").expect("parses");
        assert!(unknown.is_empty(), "{unknown:?}");
        assert!(config.display.high_contrast);
        let (_, unknown) = Config::parse("[display]\nhigh_contrats = true\n").expect("parses");
        assert_eq!(
            unknown,
            vec!["unknown setting ignored: display.high_contrats".to_owned()]
        );
    }
}
