//! A position for a visit record from the kit's GPS receiver
//! (`Station::gps_fix`, `pishkhan gps fix`, `pishkhan visits record
//! --gps`), through the real NMEA driver reading a virtual receiver on a
//! pseudo-terminal.
#![cfg(unix)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use pishkhan::field::locate::LocateError;
use pishkhan::field::{Location, LocationSource};
use pishkhan::i18n::{I18n, Lang};
use pishkhan::station::Station;
use pishkhan_gps::{Knobs, VirtualReceiver};

/// A demo station (no authority key) with `[devices] gps = gps`.
fn station(gps: &str) -> (tempfile::TempDir, Station) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(dir.path(), gps);
    let station = Station::open(dir.path()).expect("station");
    assert!(station.demo);
    (dir, station)
}

fn write_config(dir: &Path, gps: &str) {
    std::fs::write(
        dir.join("pishkhan.toml"),
        format!(
            "[devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\ngps = {gps:?}\ngps_baud = 9600\n"
        ),
    )
    .expect("config");
}

/// Both languages have the message, with its arguments filled in:
/// `numbers` in the language's digits, `ports` exactly as configured.
fn assert_translated(e: &LocateError, numbers: &[&str], ports: &[&str]) {
    for lang in [Lang::En, Lang::Fa] {
        let i18n = I18n::new(lang);
        let text = i18n.text(&e.text());
        assert!(!text.contains(e.text().id), "{lang:?}: {text}");
        for part in numbers {
            let part = i18n.digits(part);
            assert!(text.contains(&part), "{lang:?}: {part:?} not in {text:?}");
        }
        for port in ports {
            assert!(text.contains(port), "{lang:?}: {port:?} not in {text:?}");
        }
    }
}

#[test]
fn a_receiver_on_a_serial_port_gives_a_gps_location() {
    let receiver = VirtualReceiver::start(Knobs {
        latitude: 36.2605,
        longitude: 59.6168,
        satellites: 11,
        hdop: 0.8,
        baud: Some(9600),
        ..Knobs::default()
    })
    .expect("virtual receiver");
    let (_dir, station) = station(&receiver.path());
    let location = station
        .gps_fix(Duration::from_secs(10))
        .expect("a fix from the receiver");
    assert!((location.latitude - 36.2605).abs() < 1e-4, "{location:?}");
    assert!((location.longitude - 59.6168).abs() < 1e-4, "{location:?}");
    let LocationSource::Gps {
        satellites,
        hdop,
        fixed_at,
    } = &location.source
    else {
        panic!("not a GPS location: {location:?}");
    };
    assert_eq!((*satellites, *hdop), (Some(11), Some(0.8)));
    let at = chrono::DateTime::parse_from_rfc3339(fixed_at).expect("RFC 3339");
    let age = chrono::Utc::now().signed_duration_since(at).num_seconds();
    assert!((-5..30).contains(&age), "fixed at {fixed_at}");
    // The record's own check passes, and it serialises as a GPS location.
    location.check().expect("a valid location");
    let json = serde_json::to_value(&location).expect("JSON");
    assert_eq!(json["source"], "gps");
}

#[test]
fn the_virtual_receiver_serves_demo_stations() {
    let (_dir, station) = station("virtual");
    let location: Location = station
        .gps_fix(Duration::from_secs(10))
        .expect("a fix from the virtual receiver");
    // Its default position, in central Tehran.
    assert!((location.latitude - 35.6892).abs() < 1e-3, "{location:?}");
    assert!((location.longitude - 51.389).abs() < 1e-3, "{location:?}");
    assert!(matches!(location.source, LocationSource::Gps { .. }));
}

#[test]
fn gps_off_is_its_own_error() {
    let (_dir, station) = station("off");
    let started = Instant::now();
    let e = station
        .gps_fix(Duration::from_secs(10))
        .expect_err("GPS is off");
    assert_eq!(e, LocateError::Off);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(e.text().id, "err-gps-off");
    assert_translated(&e, &["[devices] gps"], &[]);
}

#[test]
fn a_missing_port_is_named() {
    let port = "/dev/pishkhan-no-such-gps";
    let (_dir, station) = station(port);
    let e = station
        .gps_fix(Duration::from_secs(5))
        .expect_err("no port");
    assert_eq!(
        e,
        LocateError::PortMissing {
            port: port.to_owned()
        }
    );
    assert_translated(&e, &[], &[port]);
}

#[test]
fn no_fix_in_time_and_a_silent_receiver_are_told_apart() {
    // Still searching: sentences arrive, no position for 100 epochs.
    let searching = VirtualReceiver::start(Knobs {
        cold_start: 100,
        interval: Duration::from_millis(200),
        baud: Some(9600),
        ..Knobs::default()
    })
    .expect("virtual receiver");
    let (_dir, station) = self::station(&searching.path());
    let e = station
        .gps_fix(Duration::from_secs(2))
        .expect_err("no fix yet");
    assert!(matches!(e, LocateError::NoFix { seconds: 2, .. }), "{e:?}");
    assert!(
        ["err-gps-no-fix", "err-gps-no-fix-no-satellites"].contains(&e.text().id),
        "{e:?}"
    );
    assert_translated(&e, &["2"], &[]);

    // Switched off or a dead cable: nothing at all arrives.
    let silent = VirtualReceiver::start(Knobs {
        silent: true,
        baud: Some(9600),
        ..Knobs::default()
    })
    .expect("virtual receiver");
    let (_dir, station) = self::station(&silent.path());
    let e = station
        .gps_fix(Duration::from_secs(10))
        .expect_err("silent");
    assert!(
        matches!(&e, LocateError::Silent { port, .. } if *port == silent.path()),
        "{e:?}"
    );
    assert_eq!(e.text().id, "err-gps-silent");
    assert_translated(&e, &[], &[&silent.path()]);
}

fn pishkhan(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pishkhan"));
    cmd.env("PISHKHAN_DATA_DIR", dir)
        .env("PISHKHAN_LOG", "warn");
    cmd
}

#[test]
fn command_line_gps_fix_and_visits_record_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(dir.path(), "virtual");
    let out = pishkhan(dir.path())
        .args(["gps", "fix", "--timeout", "10", "--json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fix: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(fix["source"], "gps");
    assert!((fix["latitude"].as_f64().expect("latitude") - 35.6892).abs() < 1e-3);
    assert_eq!(fix["satellites"], 8);

    let out = pishkhan(dir.path())
        .args(["gps", "fix", "--timeout", "10"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(" N ") && text.contains(" E"),
        "{text}"
    );

    // --gps and --location exclude each other.
    let out = pishkhan(dir.path())
        .args([
            "visits",
            "record",
            "V-1",
            "not-home",
            "--operator",
            "op1",
            "--gps",
            "--location",
            "35.7, 51.4",
        ])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--gps") && err.contains("--location"), "{err}");

    // GPS off: the operator's language first, the detail after it.
    write_config(dir.path(), "off");
    let out = pishkhan(dir.path())
        .args(["gps", "fix"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("[devices] gps"), "{err}");
    assert!(
        err.contains("the GPS receiver is off in the settings"),
        "{err}"
    );
}

#[test]
fn the_virtual_receiver_is_refused_on_a_real_station() {
    // A station with the authority's key is no demo: a made-up position
    // must not reach a record.
    let dir = tempfile::tempdir().expect("tempdir");
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        format!(
            "[authority]\nrecipient = {recipient:?}\n[devices]\ncamera = \"synthetic\"\n\
             scanner = \"virtual\"\ngps = \"virtual\"\n"
        ),
    )
    .expect("config");
    let station = Station::open(dir.path()).expect("station");
    assert!(!station.demo);
    let e = station
        .gps_fix(Duration::from_secs(5))
        .expect_err("virtual refused");
    assert_eq!(e, LocateError::VirtualOnRealStation);
    assert_translated(&e, &["[devices] gps"], &[]);
}
