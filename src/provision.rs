//! Provisioning: binding a station to its office, its authority and its
//! intake (`pishkhan provision`, and the first-run screen of a station
//! that has none), and the registration file the intake takes the
//! station's public key from (`pishkhan intake register --from`).
//!
//! No UI here: the command line and `ui::provision` call [`provision`]
//! and show its [`Problem`]s in the operator's language.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::config::edit::{Change, ConfigFile};
use crate::config::{Config, DEMO_OFFICE};
use crate::station::{AuditEntry, SaveConfigError, Station};
use crate::text::Text;

/// The audit action of a provisioning.
pub const ACTION: &str = "station-provisioned";
/// The audit actor of a provisioning (nobody is signed in yet).
pub const ACTOR: &str = "provision";
/// The registration file's default name in the data directory.
pub const REGISTRATION_FILE: &str = "station-registration.json";
/// Where the intake's certificate is kept, in the data directory
/// (`[upload] server_certificate` names it).
pub const CERTIFICATE_FILE: &str = "intake-certificate.pem";
/// The longest station name.
pub const MAX_NAME: usize = 64;

/// What the operator asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The office code the authority assigned (`TEH-17`).
    pub office: String,
    /// What the office calls the station.
    pub name: String,
    /// The station number inside tracking codes; `None`: left as it is.
    pub number: Option<u16>,
    /// The authority's age recipients (`age1…`); the first is `recipient`,
    /// the others `recipients`.
    pub recipients: Vec<String>,
    /// The intake's tus endpoint (a bare `https://host` means its
    /// `/files/`).
    pub intake_url: String,
    /// The intake's certificate (PEM) to pin; copied into the data
    /// directory. `None`: the configured one, if any, stays.
    pub intake_certificate: Option<PathBuf>,
    /// The intake's receipt key (hex); `None`: the configured one, which
    /// must exist.
    pub intake_key: Option<String>,
}

/// Which input a [`Problem`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Office,
    Name,
    Number,
    Recipient,
    IntakeUrl,
    Certificate,
    IntakeKey,
}

/// One thing wrong with a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: Field,
    pub text: Text,
}

fn problem(field: Field, text: Text) -> Problem {
    Problem { field, text }
}

/// Why a station was not provisioned.
#[derive(Debug)]
pub enum ProvisionError {
    /// The request has problems; nothing was changed.
    Invalid(Vec<Problem>),
    /// The station is bound to an office already and `force` was not given.
    AlreadyProvisioned { office: String },
    /// Writing the certificate, the configuration or the audit entry failed.
    Failed(String),
}

impl ProvisionError {
    /// What the operator reads, one message a problem.
    pub fn texts(&self) -> Vec<Text> {
        match self {
            ProvisionError::Invalid(problems) => problems.iter().map(|p| p.text.clone()).collect(),
            ProvisionError::AlreadyProvisioned { office } => {
                vec![Text::new("err-provision-already").arg("office", office.clone())]
            }
            ProvisionError::Failed(detail) => {
                vec![Text::new("err-provision-failed").arg("detail", detail.clone())]
            }
        }
    }
}

impl From<SaveConfigError> for ProvisionError {
    fn from(e: SaveConfigError) -> Self {
        ProvisionError::Failed(e.to_string())
    }
}

/// A checked request, ready to be written.
#[derive(Debug, Clone)]
struct Checked {
    office: String,
    name: String,
    number: Option<u16>,
    recipients: Vec<String>,
    url: String,
    certificate: Option<Vec<u8>>,
    intake_key: Option<String>,
}

/// The intake's address as the station stores it: parsed, HTTPS (plain
/// HTTP only to this computer), a bare host meaning its `/files/`.
pub fn intake_url(input: &str) -> Result<String, Text> {
    let input = input.trim();
    if input.is_empty() {
        return Err(Text::new("err-provision-url-missing"));
    }
    let mut url = url::Url::parse(input).map_err(|_| Text::new("err-provision-url"))?;
    let Some(host) = url.host() else {
        return Err(Text::new("err-provision-url"));
    };
    let loopback = match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(Text::new("err-provision-url-not-https")),
    }
    if url.path() == "/" && url.query().is_none() {
        url.set_path(crate::intake::FILES_PATH);
    }
    Ok(url.to_string())
}

/// Whether `pem` holds at least one readable X.509 certificate, and
/// nothing malformed.
pub fn check_certificate(path: &Path, pem: &[u8]) -> Result<(), Text> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let shown = path.display().to_string();
    let certs: Vec<CertificateDer<'_>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|_| Text::new("err-provision-cert-not-pem").arg("path", shown.clone()))?;
    if certs.is_empty() {
        return Err(Text::new("err-provision-cert-not-pem").arg("path", shown));
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| {
            Text::new("err-provision-cert-bad")
                .arg("path", shown.clone())
                .arg("detail", e.to_string())
        })?;
    }
    Ok(())
}

/// Checks every input of `request` against the configuration it would
/// change; all the problems at once.
fn check(request: &Request, current: &Config) -> Result<Checked, Vec<Problem>> {
    let mut problems = Vec::new();
    let office = request.office.trim().to_owned();
    if office == DEMO_OFFICE {
        problems.push(problem(
            Field::Office,
            Text::new("err-provision-office-demo"),
        ));
    } else if !crate::prereg::is_office_code(&office) {
        problems.push(problem(Field::Office, Text::new("err-provision-office")));
    }
    let name = request.name.trim().to_owned();
    if name.is_empty() {
        problems.push(problem(Field::Name, Text::new("err-provision-name")));
    } else if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        problems.push(problem(
            Field::Name,
            Text::new("err-provision-name-long").arg("max", MAX_NAME.to_string()),
        ));
    }
    if request.number.is_some_and(|n| n > 9999) {
        problems.push(problem(Field::Number, Text::new("err-provision-number")));
    }
    let recipients: Vec<String> = request
        .recipients
        .iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    if recipients.is_empty() {
        problems.push(problem(
            Field::Recipient,
            Text::new("err-provision-recipient-missing"),
        ));
    }
    for (n, recipient) in recipients.iter().enumerate() {
        if recipient.parse::<age::x25519::Recipient>().is_err() {
            problems.push(problem(
                Field::Recipient,
                Text::new("err-provision-recipient").arg("n", (n + 1).to_string()),
            ));
        }
    }
    let url = intake_url(&request.intake_url)
        .map_err(|text| problems.push(problem(Field::IntakeUrl, text)))
        .unwrap_or_default();
    let certificate = match &request.intake_certificate {
        None => None,
        Some(path) => match std::fs::read(path) {
            Ok(pem) => match check_certificate(path, &pem) {
                Ok(()) => Some(pem),
                Err(text) => {
                    problems.push(problem(Field::Certificate, text));
                    None
                }
            },
            Err(e) => {
                problems.push(problem(
                    Field::Certificate,
                    Text::new("err-provision-cert-read")
                        .arg("path", path.display().to_string())
                        .arg("detail", e.to_string()),
                ));
                None
            }
        },
    };
    let intake_key = request
        .intake_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_ascii_lowercase);
    match &intake_key {
        Some(key) if hex::decode(key).map(|k| k.len()) != Ok(32) => {
            problems.push(problem(
                Field::IntakeKey,
                Text::new("err-provision-intake-key"),
            ));
        }
        None if current.upload.intake_key.is_none() => {
            problems.push(problem(
                Field::IntakeKey,
                Text::new("err-provision-intake-key-missing"),
            ));
        }
        _ => {}
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Checked {
        office,
        name,
        number: request.number,
        recipients,
        url,
        certificate,
        intake_key,
    })
}

/// Only the checks of `request` (for a form, before anything is written).
pub fn problems(request: &Request, current: &Config) -> Vec<Problem> {
    check(request, current).err().unwrap_or_default()
}

/// What a provisioning did.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// The keys that changed, with old and new values.
    pub changes: Vec<Change>,
    /// The station's configuration from now on.
    pub config: Config,
    /// What the intake needs to register the station.
    pub registration: Registration,
}

/// Binds the open `station` to an office, its authority and intake:
/// checks the request, copies the intake's certificate into the data
/// directory, sets only the keys concerned in `pishkhan.toml` (comments
/// and other keys stay) and records `station-provisioned` with the changed
/// keys in the audit log. A station bound to an office already needs
/// `force`. The station's key pair is the one [`Station::open`] made on
/// the station itself; the returned [`Registration`] carries its public
/// half. `station` keeps its old configuration: open it again to use the
/// new one.
pub fn provision(
    station: &Station,
    request: &Request,
    force: bool,
) -> Result<Provisioned, ProvisionError> {
    let mut file =
        ConfigFile::open(&station.data_dir).map_err(|e| ProvisionError::Failed(e.to_string()))?;
    let current = file
        .check()
        .map_err(|e| ProvisionError::Failed(e.to_string()))?;
    let checked = check(request, &current).map_err(ProvisionError::Invalid)?;
    if current.station.is_provisioned() && !force {
        return Err(ProvisionError::AlreadyProvisioned {
            office: current.station.office,
        });
    }
    file.set("station.office", checked.office.as_str());
    file.set("station.name", checked.name.as_str());
    if let Some(number) = checked.number {
        file.set("station.number", i64::from(number));
    }
    file.set("authority.recipient", checked.recipients[0].as_str());
    file.set(
        "authority.recipients",
        checked.recipients[1..]
            .iter()
            .map(String::as_str)
            .collect::<toml_edit::Array>(),
    );
    file.set("upload.url", checked.url.as_str());
    if let Some(key) = &checked.intake_key {
        file.set("upload.intake_key", key.as_str());
    }
    if let Some(pem) = &checked.certificate {
        let target = station.data_dir.join(CERTIFICATE_FILE);
        crate::config::edit::write_atomically(&target, pem)
            .map_err(|e| ProvisionError::Failed(format!("{}: {e}", target.display())))?;
        file.set("upload.server_certificate", CERTIFICATE_FILE);
    }
    let changes = file.changes();
    let detail = changes
        .iter()
        .map(|c| format!("{}: {}", c.key, c.detail()))
        .collect::<Vec<_>>()
        .join("; ");
    let entry = AuditEntry {
        actor: ACTOR.to_owned(),
        action: ACTION.to_owned(),
        subject: Some(checked.office.clone()),
        detail: Some(if detail.is_empty() {
            "nothing changed".to_owned()
        } else {
            detail
        }),
    };
    let config = station.save_config(&file, &[entry])?;
    let registration = Registration::new(station, &config);
    Ok(Provisioned {
        changes,
        config,
        registration,
    })
}

/// Whether the window should ask for provisioning first: a station with
/// the authority's key (not demo) that has no office yet. Demo stations
/// start as they always did.
pub fn needed(station: &Station) -> bool {
    !station.demo && !station.config.station.is_provisioned()
}

/// The first line of every registration signature.
const SIGNATURE_DOMAIN: &str = "pishkhan-registration-signature/1";
/// The `format` field of a registration file.
pub const FORMAT: &str = "pishkhan-registration/1";

/// What the intake needs to register a station, signed by the station's
/// own key (so a file damaged in transit, or a QR code misread, is refused
/// rather than registering a wrong key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub format: String,
    pub station_id: String,
    pub number: u16,
    pub office: String,
    pub name: String,
    /// The station's Ed25519 public key, hex.
    pub public_key: String,
    /// Ed25519 over [`Registration::signed_text`], hex.
    pub signature: String,
}

/// Why a registration file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("not a station registration (JSON with format {FORMAT:?}): {0}")]
    Format(String),
    #[error("the public key {0:?} is not a hex Ed25519 key")]
    Key(String),
    #[error("the signature does not match: the file was changed or misread")]
    Signature,
}

impl Registration {
    /// The registration of `station` under `config` (its office, name and
    /// number), signed with the station key.
    pub fn new(station: &Station, config: &Config) -> Self {
        let mut registration = Self {
            format: FORMAT.to_owned(),
            station_id: station.id.to_string(),
            number: crate::station::station_number(station.id, &config.station),
            office: config.station.office.clone(),
            name: config.station.name.clone().unwrap_or_default(),
            public_key: hex::encode(station.verifying_key().as_bytes()),
            signature: String::new(),
        };
        registration.signature = hex::encode(
            station
                .sign(registration.signed_text().as_bytes())
                .to_bytes(),
        );
        registration
    }

    /// What the signature covers: every field but the signature, one a line.
    pub fn signed_text(&self) -> String {
        format!(
            "{SIGNATURE_DOMAIN}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.format, self.station_id, self.number, self.office, self.name, self.public_key
        )
    }

    /// The file's (and the QR code's) content: one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a registration serialises")
    }

    /// Reads and checks a registration: its format, the key, the signature.
    pub fn parse(text: &str) -> Result<(Self, VerifyingKey), RegistrationError> {
        let registration: Self = serde_json::from_str(text.trim())
            .map_err(|e| RegistrationError::Format(e.to_string()))?;
        if registration.format != FORMAT {
            return Err(RegistrationError::Format(format!(
                "format {:?}",
                registration.format
            )));
        }
        let key = hex::decode(&registration.public_key)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .ok_or_else(|| RegistrationError::Key(registration.public_key.clone()))?;
        let signature = hex::decode(&registration.signature)
            .ok()
            .and_then(|b| Signature::from_slice(&b).ok())
            .ok_or(RegistrationError::Signature)?;
        key.verify(registration.signed_text().as_bytes(), &signature)
            .map_err(|_| RegistrationError::Signature)?;
        Ok((registration, key))
    }

    /// Reads and checks a registration file.
    pub fn read(path: &Path) -> Result<(Self, VerifyingKey), RegistrationError> {
        let text = std::fs::read_to_string(path).map_err(|e| RegistrationError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text)
    }

    /// Writes the registration file.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        crate::config::edit::write_atomically(path, format!("{}\n", self.to_json()).as_bytes())
    }

    /// The QR code of [`to_json`](Self::to_json). Error correction L
    /// keeps it within an 80-column terminal for a usual station name; a
    /// misread code fails the signature check anyway.
    fn qr(&self) -> Result<qrcode::QrCode, qrcode::types::QrError> {
        qrcode::QrCode::with_error_correction_level(self.to_json(), qrcode::EcLevel::L)
    }

    /// The QR code for a terminal: two rows of modules a line (Unicode
    /// half blocks), dark on light, with its quiet zone.
    pub fn qr_text(&self) -> Result<String, qrcode::types::QrError> {
        use qrcode::render::unicode::Dense1x2;
        Ok(self
            .qr()?
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build())
    }

    /// Writes the QR code as a PNG (8 pixels a module, 4 modules of quiet
    /// zone).
    pub fn write_qr_png(&self, path: &Path) -> Result<(), String> {
        const SCALE: u32 = 8;
        const QUIET: u32 = 4;
        let code = self.qr().map_err(|e| e.to_string())?;
        let width = u32::try_from(code.width()).map_err(|e| e.to_string())?;
        let colors = code.to_colors();
        let side = (width + 2 * QUIET) * SCALE;
        let img = image::GrayImage::from_fn(side, side, |x, y| {
            let (mx, my) = (x / SCALE, y / SCALE);
            let dark = (QUIET..QUIET + width).contains(&mx)
                && (QUIET..QUIET + width).contains(&my)
                && colors[((my - QUIET) * width + (mx - QUIET)) as usize] == qrcode::Color::Dark;
            image::Luma([if dark { 0 } else { 255 }])
        });
        img.save_with_format(path, image::ImageFormat::Png)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intake_urls_are_https_or_loopback_and_a_bare_host_means_its_files() {
        let ok = |input: &str| intake_url(input).expect(input);
        let refused = |input: &str| intake_url(input).expect_err(input).id;
        assert_eq!(
            ok("https://intake.example"),
            "https://intake.example/files/"
        );
        assert_eq!(
            ok(" https://intake.example/files/ "),
            "https://intake.example/files/"
        );
        assert_eq!(
            ok("https://intake.example:8443/tus/"),
            "https://intake.example:8443/tus/"
        );
        assert_eq!(
            ok("http://127.0.0.1:4600/files/"),
            "http://127.0.0.1:4600/files/"
        );
        assert!(intake_url("http://localhost/files/").is_ok());
        assert!(intake_url("http://[::1]:4600/files/").is_ok());
        assert_eq!(
            refused("http://intake.example/files/"),
            "err-provision-url-not-https"
        );
        assert_eq!(
            refused("http://10.0.0.5/files/"),
            "err-provision-url-not-https"
        );
        assert_eq!(
            refused("ftp://intake.example/"),
            "err-provision-url-not-https"
        );
        assert_eq!(refused("intake.example/files/"), "err-provision-url");
        assert_eq!(refused("https://"), "err-provision-url");
        assert_eq!(refused("  "), "err-provision-url-missing");
    }

    #[test]
    fn a_certificate_file_must_be_pem_with_a_readable_certificate() {
        let path = Path::new("intake.pem");
        let made = rcgen::generate_simple_self_signed(vec!["intake.example".to_owned()])
            .expect("a certificate");
        check_certificate(path, made.cert.pem().as_bytes()).expect("a real certificate");
        let id = |pem: &str| check_certificate(path, pem.as_bytes()).expect_err(pem).id;
        assert_eq!(id("just some text\n"), "err-provision-cert-not-pem");
        assert_eq!(
            id(&made.signing_key.serialize_pem()),
            "err-provision-cert-not-pem",
            "a key is not a certificate"
        );
        assert_eq!(
            id("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            "err-provision-cert-bad"
        );
    }

    #[test]
    fn every_problem_of_a_request_is_named_with_its_field() {
        let request = Request {
            office: "TEH 17".into(),
            name: " ".into(),
            number: Some(10_000),
            recipients: vec!["age1nope".into()],
            intake_url: "http://intake.example/".into(),
            intake_certificate: Some(PathBuf::from("/nonexistent/intake.pem")),
            intake_key: Some("12ab".into()),
        };
        let fields: Vec<Field> = problems(&request, &Config::default())
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            [
                Field::Office,
                Field::Name,
                Field::Number,
                Field::Recipient,
                Field::IntakeUrl,
                Field::Certificate,
                Field::IntakeKey
            ]
        );

        let recipient = age::x25519::Identity::generate().to_public().to_string();
        let mut good = Request {
            office: "TEH-17".into(),
            name: "باجهٔ ۳".into(),
            number: None,
            recipients: vec![recipient],
            intake_url: "https://intake.example/files/".into(),
            intake_certificate: None,
            intake_key: None,
        };
        let missing = problems(&good, &Config::default());
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].text.id, "err-provision-intake-key-missing");
        let mut configured = Config::default();
        configured.upload.intake_key = Some("ab".repeat(32));
        assert!(
            problems(&good, &configured).is_empty(),
            "the configured receipt key stays"
        );
        good.name = "x".repeat(MAX_NAME + 1);
        assert_eq!(
            problems(&good, &configured)[0].text.id,
            "err-provision-name-long"
        );
        good.name = "line\nbreak".into();
        assert_eq!(
            problems(&good, &configured)[0].text.id,
            "err-provision-name-long"
        );
        good.name = "Counter 3".into();
        good.office = DEMO_OFFICE.into();
        assert_eq!(
            problems(&good, &configured)[0].text.id,
            "err-provision-office-demo"
        );
    }

    #[test]
    fn a_registration_is_signed_by_the_station_and_fits_a_terminal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let station = Station::open(dir.path()).expect("station");
        let mut config = station.config.clone();
        config.station.office = "TEH-17".into();
        config.station.name = Some("باجهٔ ۳".into());
        let registration = Registration::new(&station, &config);
        let (read, key) = Registration::parse(&registration.to_json()).expect("verifies");
        assert_eq!(read, registration);
        assert_eq!(key, station.verifying_key());
        assert_eq!(read.number, station.number);

        let changed = registration.to_json().replace("TEH-17", "TEH-18");
        assert_eq!(
            Registration::parse(&changed).expect_err("changed"),
            RegistrationError::Signature
        );
        assert!(matches!(
            Registration::parse("{\"station_id\": 1}"),
            Err(RegistrationError::Format(_))
        ));

        let qr = registration.qr_text().expect("a QR code");
        let width = qr.lines().map(|l| l.chars().count()).max().expect("lines");
        assert!(width <= 80, "{width} columns");
        let png = dir.path().join("qr.png");
        registration.write_qr_png(&png).expect("PNG");
        let image = image::open(&png).expect("reads").to_luma8();
        assert_eq!(image.width(), image.height());
        assert_eq!(image.get_pixel(0, 0).0, [255], "quiet zone");
    }
}
