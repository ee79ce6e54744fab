//! The settings a supervisor changes on the settings screen: which keys,
//! how each is typed and checked, when a change takes effect, and the
//! audited save. No UI here (`ui::settings` is the screen).

use crate::config::edit::{Change, ConfigFile, EditError};
use crate::config::{CameraChoice, Config, ScannerChoice};
use crate::enrolment::digits::to_ascii_digits;
use crate::i18n::Lang;
use crate::station::{AuditEntry, SaveConfigError, Station};
use crate::text::Text;

/// The audit action of a changed setting (one entry a key).
pub const ACTION: &str = "settings-changed";

/// When a changed setting applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// At once (the language of the window, the packet size limit).
    Now,
    /// From the next enrolment or portrait.
    NextEnrolment,
    /// When the station is started again (devices, retention).
    Restart,
}

/// How a setting is typed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// `fa` or `en`.
    Language,
    /// `auto`, `synthetic`, `synthetic-seated` or a camera number.
    Camera,
    /// `auto`, `zfm`, `sbi` or `virtual`.
    Scanner,
    /// A serial port name, or `virtual`.
    Port,
    Whole {
        min: i64,
        max: i64,
    },
    Decimal {
        min: f64,
        max: f64,
    },
    /// A whole number in the file (bytes, seconds), typed in a larger
    /// unit on the screen (mebibytes, minutes).
    Scaled {
        unit: Unit,
        min: f64,
        max: f64,
    },
    /// Amounts in rials, one a city class, separated by spaces.
    Amounts {
        max_count: usize,
    },
}

/// The unit a [`Kind::Scaled`] setting is typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Stored in bytes.
    Mebibytes,
    /// Stored in seconds.
    Minutes,
}

impl Unit {
    /// How many stored units one typed unit is.
    fn factor(self) -> f64 {
        match self {
            Unit::Mebibytes => MIB,
            Unit::Minutes => 60.0,
        }
    }

    /// The message when what was typed is out of range.
    fn problem(self) -> &'static str {
        match self {
            Unit::Mebibytes => "err-settings-mebibytes",
            Unit::Minutes => "err-settings-minutes",
        }
    }
}

/// The largest amount of rials a fee may be (a thousand billion).
const MAX_RIALS: i64 = 1_000_000_000_000;

/// One setting of the screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    /// The dotted key in `pishkhan.toml`.
    pub key: &'static str,
    /// The label's translation id.
    pub label: &'static str,
    pub kind: Kind,
    pub effect: Effect,
}

const fn setting(key: &'static str, label: &'static str, kind: Kind, effect: Effect) -> Setting {
    Setting {
        key,
        label,
        kind,
        effect,
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// Every setting of the screen, in its order.
pub const SETTINGS: &[Setting] = &[
    setting(
        "language",
        "ui-settings-language",
        Kind::Language,
        Effect::Now,
    ),
    setting(
        "devices.camera",
        "ui-settings-camera",
        Kind::Camera,
        Effect::Restart,
    ),
    setting(
        "devices.scanner",
        "ui-settings-scanner",
        Kind::Scanner,
        Effect::Restart,
    ),
    setting(
        "devices.zfm_port",
        "ui-settings-serial-port",
        Kind::Port,
        Effect::Restart,
    ),
    setting(
        "fingerprints.quality_threshold",
        "ui-settings-quality-threshold",
        Kind::Whole { min: 0, max: 100 },
        Effect::NextEnrolment,
    ),
    setting(
        "fingerprints.max_attempts",
        "ui-settings-max-attempts",
        Kind::Whole { min: 1, max: 10 },
        Effect::NextEnrolment,
    ),
    setting(
        "portrait.auto_capture_frames",
        "ui-settings-auto-capture-frames",
        Kind::Whole { min: 1, max: 30 },
        Effect::NextEnrolment,
    ),
    setting(
        "portrait.max_roll",
        "ui-settings-max-roll",
        Kind::Decimal {
            min: 0.5,
            max: 45.0,
        },
        Effect::NextEnrolment,
    ),
    setting(
        "portrait.max_yaw",
        "ui-settings-max-yaw",
        Kind::Decimal {
            min: 0.5,
            max: 45.0,
        },
        Effect::NextEnrolment,
    ),
    setting(
        "portrait.max_pitch",
        "ui-settings-max-pitch",
        Kind::Decimal {
            min: 0.5,
            max: 45.0,
        },
        Effect::NextEnrolment,
    ),
    setting(
        "portrait.min_eye_distance",
        "ui-settings-min-eye-distance",
        Kind::Decimal {
            min: 30.0,
            max: 1000.0,
        },
        Effect::NextEnrolment,
    ),
    setting(
        "outbox.max_packet_bytes",
        "ui-settings-max-packet",
        Kind::Scaled {
            unit: Unit::Mebibytes,
            min: 0.0625,
            max: 1024.0,
        },
        Effect::Now,
    ),
    setting(
        "outbox.keep_acknowledged_days",
        "ui-settings-keep-days",
        Kind::Whole { min: 1, max: 3650 },
        Effect::Restart,
    ),
    setting(
        "fees.city_class",
        "ui-settings-city-class",
        Kind::Whole { min: 0, max: 9 },
        Effect::NextEnrolment,
    ),
    setting(
        "fees.completion_rials",
        "ui-settings-completion-rials",
        Kind::Amounts { max_count: 9 },
        Effect::NextEnrolment,
    ),
    setting(
        "fees.delivery_rials",
        "ui-settings-delivery-rials",
        Kind::Whole {
            min: 0,
            max: MAX_RIALS,
        },
        Effect::NextEnrolment,
    ),
    setting(
        "accounts.max_failed_sign_ins",
        "ui-settings-max-failed-sign-ins",
        Kind::Whole { min: 1, max: 20 },
        Effect::Now,
    ),
    setting(
        "accounts.lockout_seconds",
        "ui-settings-lockout-minutes",
        Kind::Scaled {
            unit: Unit::Minutes,
            min: 1.0,
            max: 1440.0,
        },
        Effect::Now,
    ),
    setting(
        "accounts.idle_logout_seconds",
        "ui-settings-idle-minutes",
        Kind::Scaled {
            unit: Unit::Minutes,
            min: 2.0,
            max: 480.0,
        },
        Effect::Now,
    ),
    setting(
        "accounts.min_password_length",
        "ui-settings-min-password",
        Kind::Whole { min: 6, max: 128 },
        Effect::Now,
    ),
];

/// The setting of `key`.
pub fn find(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

/// A number as typed on the screen: shortest form, no trailing `.0`.
fn decimal(value: f64) -> String {
    let rounded = (value * 10_000.0).round() / 10_000.0;
    let text = format!("{rounded}");
    text.strip_suffix(".0")
        .map_or_else(|| text.clone(), str::to_owned)
}

/// The value of `setting` in `config`, as the screen shows it (ASCII
/// digits; the screen localises them).
pub fn current(config: &Config, setting: &Setting) -> String {
    let d = &config.devices;
    let f = &config.fingerprints;
    let p = &config.portrait;
    let o = &config.outbox;
    let fees = &config.fees;
    let a = &config.accounts;
    let minutes = |seconds: u64| decimal(seconds as f64 / 60.0);
    match setting.key {
        "language" => match config.language {
            Lang::Fa => "fa".into(),
            Lang::En => "en".into(),
        },
        "devices.camera" => String::from(d.camera),
        "devices.scanner" => scanner_name(d.scanner).into(),
        "devices.zfm_port" => d.zfm_port.clone(),
        "fingerprints.quality_threshold" => f.quality_threshold.to_string(),
        "fingerprints.max_attempts" => f.max_attempts.to_string(),
        "portrait.auto_capture_frames" => p.auto_capture_frames.to_string(),
        "portrait.max_roll" => decimal(f64::from(p.max_roll)),
        "portrait.max_yaw" => decimal(f64::from(p.max_yaw)),
        "portrait.max_pitch" => decimal(f64::from(p.max_pitch)),
        "portrait.min_eye_distance" => decimal(f64::from(p.min_eye_distance)),
        "outbox.max_packet_bytes" => decimal(o.max_packet_bytes as f64 / MIB),
        "outbox.keep_acknowledged_days" => o.keep_acknowledged_days.to_string(),
        "fees.city_class" => fees.city_class.to_string(),
        "fees.completion_rials" => fees
            .completion_rials
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        "fees.delivery_rials" => fees.delivery_rials.to_string(),
        "accounts.max_failed_sign_ins" => a.max_failed_sign_ins.to_string(),
        "accounts.lockout_seconds" => minutes(a.lockout_seconds),
        "accounts.idle_logout_seconds" => minutes(a.idle_logout_seconds),
        "accounts.min_password_length" => a.min_password_length.to_string(),
        other => unreachable!("no setting {other}"),
    }
}

/// The configuration name of a scanner choice.
pub fn scanner_name(choice: ScannerChoice) -> &'static str {
    match choice {
        ScannerChoice::Auto => "auto",
        ScannerChoice::Virtual => "virtual",
        ScannerChoice::Zfm => "zfm",
        ScannerChoice::Sbi => "sbi",
    }
}

/// What was typed, trimmed, in ASCII digits.
pub fn normalise(input: &str) -> String {
    to_ascii_digits(input.trim())
}

/// A number as typed: ASCII digits, the Persian decimal separator (and the
/// slash Persian writing also uses) read as a point, thousands separators
/// dropped.
fn number(input: &str) -> String {
    normalise(input)
        .replace(['\u{066B}', '/'], ".")
        .replace(['\u{066C}', ','], "")
}

fn number_problem(id: &'static str, min: String, max: String) -> Text {
    Text::new(id).arg("min", min).arg("max", max)
}

/// Checks what was typed for `setting` and gives the value to store, or
/// the message to show under the field.
pub fn parse(setting: &Setting, input: &str) -> Result<toml_edit::Value, Text> {
    let typed = normalise(input);
    match setting.kind {
        Kind::Language => match typed.as_str() {
            "fa" | "en" => Ok(typed.into()),
            _ => Err(Text::new("err-settings-language")),
        },
        Kind::Camera => match CameraChoice::try_from(typed.clone()) {
            Ok(choice) => Ok(String::from(choice).into()),
            Err(_) => Err(Text::new("err-settings-camera")),
        },
        Kind::Scanner => match typed.as_str() {
            "auto" | "zfm" | "sbi" | "virtual" => Ok(typed.into()),
            _ => Err(Text::new("err-settings-scanner")),
        },
        Kind::Port => {
            if typed.is_empty()
                || typed.len() > 256
                || typed.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                Err(Text::new("err-settings-port"))
            } else {
                Ok(typed.into())
            }
        }
        Kind::Whole { min, max } => match number(input).parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n.into()),
            _ => Err(number_problem(
                "err-settings-whole",
                min.to_string(),
                max.to_string(),
            )),
        },
        Kind::Decimal { min, max } => match number(input).parse::<f64>() {
            Ok(x) if x.is_finite() && (min..=max).contains(&x) => Ok(x.into()),
            _ => Err(number_problem(
                "err-settings-decimal",
                decimal(min),
                decimal(max),
            )),
        },
        Kind::Scaled { unit, min, max } => match number(input).parse::<f64>() {
            Ok(x) if x.is_finite() && (min..=max).contains(&x) => {
                Ok(((x * unit.factor()).round() as i64).into())
            }
            _ => Err(number_problem(unit.problem(), decimal(min), decimal(max))),
        },
        Kind::Amounts { max_count } => amounts(input, max_count).map(Into::into),
    }
}

/// Amounts in rials as typed: whole numbers separated by spaces (or
/// commas, semicolons, the Persian comma or semicolon), thousands
/// separators `٬` dropped; empty for none.
fn amounts(input: &str, max_count: usize) -> Result<toml_edit::Array, Text> {
    let problem = || Text::new("err-settings-amounts").arg("count", max_count.to_string());
    let typed = normalise(input).replace('\u{066C}', "");
    let mut list = toml_edit::Array::new();
    for word in typed
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '\u{060C}' | '\u{061B}'))
        .filter(|w| !w.is_empty())
    {
        match word.parse::<i64>() {
            Ok(n) if (0..=MAX_RIALS).contains(&n) => list.push(n),
            _ => return Err(problem()),
        }
    }
    if list.len() > max_count {
        return Err(problem());
    }
    Ok(list)
}

/// Problems between settings that are each fine alone, found in the file
/// as it would be written: a city class without its fee, an idle warning
/// no shorter than the idle sign-out.
fn across(text: &str) -> Vec<(&'static str, Text)> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let get = |section: &str, key: &str| table.get(section).and_then(|s| s.get(key));
    let whole = |section: &str, key: &str, default: u64| {
        get(section, key)
            .and_then(toml::Value::as_integer)
            .map_or(default, |n| u64::try_from(n).unwrap_or(0))
    };
    let mut problems = Vec::new();
    let classes = get("fees", "completion_rials")
        .and_then(toml::Value::as_array)
        .map_or(0, Vec::len) as u64;
    let class = whole("fees", "city_class", 0);
    if classes > 0 && !(1..=classes).contains(&class) {
        problems.push((
            "fees.city_class",
            Text::new("err-settings-city-class").arg("count", classes.to_string()),
        ));
    }
    let defaults = crate::config::AccountsConfig::default();
    let logout = whole(
        "accounts",
        "idle_logout_seconds",
        defaults.idle_logout_seconds,
    );
    let warning = whole(
        "accounts",
        "idle_warning_seconds",
        defaults.idle_warning_seconds,
    );
    if logout != 0 && warning >= logout {
        problems.push((
            "accounts.idle_logout_seconds",
            Text::new("err-settings-idle-warning").arg("seconds", warning.to_string()),
        ));
    }
    problems
}

/// What [`save`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub changes: Vec<Change>,
    pub config: Config,
    /// The language to switch to, when it changed.
    pub language: Option<Lang>,
    /// Some change applies only after a restart.
    pub restart_needed: bool,
}

/// Why [`save`] wrote nothing.
#[derive(Debug)]
pub enum SaveError {
    /// Messages under the fields, by key.
    Invalid(Vec<(&'static str, Text)>),
    Failed(String),
}

impl From<SaveConfigError> for SaveError {
    fn from(e: SaveConfigError) -> Self {
        SaveError::Failed(e.to_string())
    }
}

impl From<EditError> for SaveError {
    fn from(e: EditError) -> Self {
        SaveError::Failed(e.to_string())
    }
}

/// Checks every typed value (key → text) and writes those that changed
/// since `before` (what the screen showed), with one `settings-changed`
/// audit entry per key: the supervisor, the key, `old → new`.
pub fn save(
    station: &Station,
    before: &[(&'static str, String)],
    typed: &[(&'static str, String)],
    supervisor: &str,
) -> Result<Saved, SaveError> {
    let mut file = ConfigFile::open(&station.data_dir)?;
    let mut problems = Vec::new();
    for (key, text) in typed {
        let Some(setting) = find(key) else { continue };
        let shown = before
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| normalise(v));
        if shown.as_deref() == Some(normalise(text).as_str()) {
            continue;
        }
        match parse(setting, text) {
            Ok(value) => file.set(key, value),
            Err(problem) => problems.push((setting.key, problem)),
        }
    }
    if problems.is_empty() {
        problems = across(&file.text());
    }
    if !problems.is_empty() {
        return Err(SaveError::Invalid(problems));
    }
    let changes = file.changes();
    let entries: Vec<AuditEntry> = changes
        .iter()
        .map(|c| AuditEntry {
            actor: supervisor.to_owned(),
            action: ACTION.to_owned(),
            subject: Some(c.key.clone()),
            detail: Some(c.detail()),
        })
        .collect();
    let config = if changes.is_empty() {
        file.check()?
    } else {
        station.save_config(&file, &entries)?
    };
    let language = changes
        .iter()
        .any(|c| c.key == "language")
        .then_some(config.language);
    let restart_needed = changes
        .iter()
        .any(|c| find(&c.key).is_some_and(|s| s.effect == Effect::Restart));
    Ok(Saved {
        changes,
        config,
        language,
        restart_needed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(key: &str) -> &'static Setting {
        find(key).expect("a setting")
    }

    #[test]
    fn numbers_are_read_in_any_digits_and_checked_against_their_range() {
        let threshold = get("fingerprints.quality_threshold");
        assert_eq!(
            parse(threshold, "۵۵").expect("Persian digits").to_string(),
            "55"
        );
        assert_eq!(parse(threshold, " 0 ").expect("spaces").to_string(), "0");
        let e = parse(threshold, "101").expect_err("out of range");
        assert_eq!(e.id, "err-settings-whole");
        assert_eq!(e.args, vec![("min", "0".into()), ("max", "100".into())]);
        assert!(parse(threshold, "4o").is_err());
        assert!(parse(threshold, "40.5").is_err(), "a whole number");
        assert!(parse(get("fingerprints.max_attempts"), "0").is_err());

        let roll = get("portrait.max_roll");
        assert_eq!(
            parse(roll, "۶٫۵").expect("Persian decimal").to_string(),
            "6.5"
        );
        assert_eq!(parse(roll, "۶/۵").expect("slash").to_string(), "6.5");
        let e = parse(roll, "0.2").expect_err("too small");
        assert_eq!(e.id, "err-settings-decimal");
        assert_eq!(e.args, vec![("min", "0.5".into()), ("max", "45".into())]);
        assert!(parse(roll, "NaN").is_err());
        assert!(parse(get("portrait.min_eye_distance"), "20").is_err());
    }

    #[test]
    fn the_packet_limit_is_typed_in_mebibytes_and_stored_in_bytes() {
        let packet = get("outbox.max_packet_bytes");
        assert_eq!(parse(packet, "5").expect("5 MiB").to_string(), "5242880");
        assert_eq!(parse(packet, "0.5").expect("half").to_string(), "524288");
        let e = parse(packet, "0.01").expect_err("below 64 KiB");
        assert_eq!(e.id, "err-settings-mebibytes");
        assert_eq!(current(&Config::default(), packet), "5");
    }

    #[test]
    fn choices_and_ports_are_checked() {
        let camera = get("devices.camera");
        assert_eq!(parse(camera, "۱").expect("index").to_string(), "\"1\"");
        assert_eq!(
            parse(camera, "synthetic-seated")
                .expect("seated")
                .to_string(),
            "\"synthetic-seated\""
        );
        assert_eq!(
            parse(camera, "front").expect_err("no such camera").id,
            "err-settings-camera"
        );
        assert_eq!(
            parse(get("devices.scanner"), "usb")
                .expect_err("no such scanner")
                .id,
            "err-settings-scanner"
        );
        let port = get("devices.zfm_port");
        assert_eq!(
            parse(port, "/dev/ttyUSB0").expect("a path").to_string(),
            "\"/dev/ttyUSB0\"",
            "a port is kept as typed"
        );
        assert!(parse(port, "COM3").is_ok());
        assert_eq!(parse(port, "").expect_err("empty").id, "err-settings-port");
        assert!(parse(port, "/dev/tty USB0").is_err());
        assert_eq!(
            parse(get("language"), "de").expect_err("no German").id,
            "err-settings-language"
        );
    }

    #[test]
    fn minutes_are_stored_in_seconds_and_amounts_as_a_list() {
        let lockout = get("accounts.lockout_seconds");
        assert_eq!(parse(lockout, "۱۵").expect("15 min").to_string(), "900");
        assert_eq!(current(&Config::default(), lockout), "15");
        let e = parse(lockout, "0").expect_err("no lockout is no lockout");
        assert_eq!(e.id, "err-settings-minutes");
        assert!(parse(get("accounts.idle_logout_seconds"), "1").is_err());

        let fees = get("fees.completion_rials");
        let list = |typed: &str| parse(fees, typed).map(|v| v.to_string());
        assert_eq!(
            list("۳۰۰۰۰۰۰ ۲۵۰۰۰۰۰").expect("spaces"),
            "[3000000, 2500000]"
        );
        assert_eq!(
            list("3000000،2500000").expect("Persian comma"),
            "[3000000, 2500000]"
        );
        assert_eq!(
            list("۳٬۰۰۰٬۰۰۰").expect("thousands separators"),
            "[3000000]"
        );
        assert_eq!(list("").expect("none"), "[]");
        assert_eq!(
            list("3000000 -5").expect_err("negative").id,
            "err-settings-amounts"
        );
        assert!(
            list("1 2 3 4 5 6 7 8 9 10").is_err(),
            "at most nine classes"
        );
        assert_eq!(
            parse(get("fees.delivery_rials"), "۵۰۰,۰۰۰")
                .expect("thousands")
                .to_string(),
            "500000"
        );
    }

    #[test]
    fn settings_that_disagree_are_named_together() {
        let problems = across("[fees]\ncity_class = 3\ncompletion_rials = [1, 2]\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, "fees.city_class");
        assert_eq!(problems[0].1.args, vec![("count", "2".into())]);
        assert!(across("[fees]\ncity_class = 2\ncompletion_rials = [1, 2]\n").is_empty());
        assert!(
            across("[fees]\ndelivery_rials = 5\n").is_empty(),
            "no class without fees"
        );

        let problems =
            across("[accounts]\nidle_warning_seconds = 300\nidle_logout_seconds = 120\n");
        assert_eq!(problems[0].0, "accounts.idle_logout_seconds");
        assert!(across("").is_empty(), "the defaults agree");
    }

    #[test]
    fn every_setting_shows_its_default_and_takes_it_back() {
        let config = Config::default();
        for setting in SETTINGS {
            let shown = current(&config, setting);
            parse(setting, &shown)
                .unwrap_or_else(|e| panic!("{} shows {shown:?}, refused: {e:?}", setting.key));
        }
    }
}
