//! The real driver against the virtual receiver over a real pseudo-terminal.
#![cfg(unix)]

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use pishkhan_gps::proto::Talker;
use pishkhan_gps::{
    Config, FixQuality, GpsError, Knobs, NmeaError, Reading, Receiver, VirtualReceiver, open,
};

/// Epochs every 20 ms instead of every second.
const INTERVAL: Duration = Duration::from_millis(20);
/// Ten missed epochs.
const SENTENCE_TIMEOUT: Duration = Duration::from_millis(200);
const LONG: Duration = Duration::from_secs(10);

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 21, 6, 30, 0)
        .single()
        .expect("a valid time")
}

fn knobs() -> Knobs {
    Knobs {
        interval: INTERVAL,
        start: Some(start_time()),
        ..Knobs::default()
    }
}

fn start(knobs: Knobs) -> VirtualReceiver {
    VirtualReceiver::start(knobs).expect("a pty pair")
}

fn config() -> Config {
    Config {
        sentence_timeout: SENTENCE_TIMEOUT,
    }
}

fn open_at(device: &VirtualReceiver, baud: u32) -> Receiver {
    Receiver::open_with(&device.path(), Some(baud), config()).expect("the pty opens")
}

fn close(a: f64, b: f64) -> bool {
    // The writer keeps 10⁻⁵ minute: under 2 cm.
    (a - b).abs() < 1e-6
}

#[test]
fn a_fix_at_the_default_position_in_tehran() {
    let device = start(knobs());
    let mut gps = open_at(&device, 9_600);
    let fix = gps.wait_fix(LONG).expect("a fix");
    assert!(close(fix.latitude, 35.6892), "{fix:?}");
    assert!(close(fix.longitude, 51.3890), "{fix:?}");
    assert_eq!(fix.altitude_m, Some(1190.0));
    assert_eq!(fix.satellites, Some(8));
    assert_eq!(fix.hdop, Some(0.9));
    assert_eq!(fix.quality, FixQuality::Gps);
    // Epoch n is start + n seconds on the receiver's clock.
    let epoch = (fix.utc - start_time()).num_seconds();
    assert!(
        (0..=device.handle().epochs() as i64).contains(&epoch),
        "{fix:?}"
    );
    assert_eq!(fix.utc.timestamp_subsec_nanos(), 0);
    assert_eq!(gps.baud(), Some(9_600));
    assert_eq!(gps.stats().bad_sentences, 0, "{:?}", gps.stats());
}

#[test]
fn each_wait_gives_a_fresh_fix() {
    let device = start(knobs());
    let mut gps = open_at(&device, 9_600);
    let first = gps.wait_fix(LONG).expect("a fix");
    // Sentences pile up while nobody reads; they are not taken for new.
    std::thread::sleep(INTERVAL * 10);
    let epochs_before = device.handle().epochs() as i64;
    let second = gps.wait_fix(LONG).expect("another fix");
    let age = (second.utc - start_time()).num_seconds();
    assert!(
        age >= epochs_before - 1,
        "{second:?} after {epochs_before} epochs"
    );
    assert!(second.utc > first.utc);
}

#[test]
fn a_cold_start_reports_no_fix_then_a_fix() {
    let device = start(Knobs {
        cold_start: 10,
        ..knobs()
    });
    let mut gps = open_at(&device, 9_600);
    let mut readings = Vec::new();
    let deadline = Instant::now() + LONG;
    while Instant::now() < deadline {
        if let Some(reading) = gps.poll().expect("a working receiver") {
            let fixed = matches!(reading, Reading::Fix(_));
            readings.push(reading);
            if fixed {
                break;
            }
        }
    }
    let Some(Reading::Fix(fix)) = readings.last() else {
        panic!("no fix: {readings:?}");
    };
    // The first fix comes at the end of the cold start.
    assert!((fix.utc - start_time()).num_seconds() >= 10, "{fix:?}");
    assert!(
        readings
            .iter()
            .any(|r| matches!(r, Reading::NoFix(n) if n.satellites.is_some_and(|s| s > 0))),
        "satellites come into view during the cold start: {readings:?}"
    );
    assert!(matches!(readings[0], Reading::NoFix(_)), "{readings:?}");
}

#[test]
fn wait_fix_outlasts_a_cold_start() {
    let device = start(Knobs {
        cold_start: 15,
        ..knobs()
    });
    let mut gps = open_at(&device, 9_600);
    let fix = gps.wait_fix(LONG).expect("a fix after the cold start");
    assert!((fix.utc - start_time()).num_seconds() >= 15, "{fix:?}");
    assert!(close(fix.latitude, 35.6892));
}

#[test]
fn no_fix_in_time_names_the_satellites_in_view() {
    let device = start(Knobs {
        cold_start: u32::MAX,
        ..knobs()
    });
    let mut gps = open_at(&device, 9_600);
    let timeout = Duration::from_millis(400);
    let err = gps.wait_fix(timeout).expect_err("never fixes");
    let GpsError::NoFix { waited, satellites } = err.clone() else {
        panic!("{err:?}");
    };
    assert!(waited >= timeout, "{err:?}");
    assert!(satellites.is_some_and(|n| n > 0), "{err:?}");
    assert!(err.to_string().starts_with("no GPS fix after 0."), "{err}");
    assert!(err.to_string().contains("satellites in view"), "{err}");
}

#[test]
fn occasional_corruption_and_garbage_are_tolerated() {
    let device = start(Knobs {
        corrupt_every: 3,
        // Line noise, and a stray '$' that starts a sentence never ended.
        garbage: b"\x00\xff\x13#~$GPG".to_vec(),
        ..knobs()
    });
    let mut gps = open_at(&device, 9_600);
    let fix = gps.wait_fix(LONG).expect("a fix despite the noise");
    assert!(close(fix.latitude, 35.6892), "{fix:?}");
    let stats = gps.stats();
    assert!(stats.bad_sentences > 0, "{stats:?}");
    assert!(device.handle().corrupted_sent() > 0);
}

#[test]
fn persistent_corruption_is_a_protocol_error() {
    let device = start(Knobs {
        corrupt_every: 1,
        ..knobs()
    });
    let mut gps = open_at(&device, 9_600);
    let started = Instant::now();
    let err = gps.wait_fix(LONG).expect_err("nothing valid");
    // Reported once no valid sentence came for the sentence timeout, not
    // only at the end of the wait.
    assert!(started.elapsed() < LONG / 2, "{:?}", started.elapsed());
    let GpsError::Protocol {
        bytes,
        bad_sentences,
        last,
    } = err.clone()
    else {
        panic!("{err:?}");
    };
    assert!(bytes > 0 && bad_sentences > 0, "{err:?}");
    assert!(
        matches!(last, Some(NmeaError::BadChecksum { expected, found }) if expected ^ found == 0x5A),
        "{err:?}"
    );
    assert!(err.to_string().contains("no valid NMEA sentence"), "{err}");
}

#[test]
fn a_silent_receiver_is_silent() {
    let device = start(Knobs {
        silent: true,
        ..knobs()
    });
    let mut gps = open_at(&device, 9_600);
    let err = gps.wait_fix(LONG).expect_err("nothing arrives");
    let GpsError::Silent(after) = err else {
        panic!("{err:?}");
    };
    assert!(after >= SENTENCE_TIMEOUT && after < LONG / 2, "{after:?}");
    // A wait shorter than the sentence timeout ends silent too, not "no fix".
    let err = gps
        .wait_fix(Duration::from_millis(60))
        .expect_err("nothing arrives");
    assert!(matches!(err, GpsError::Silent(_)), "{err:?}");
}

#[test]
fn a_receiver_falling_silent_while_polled() {
    let device = start(knobs());
    let mut gps = open_at(&device, 9_600);
    gps.wait_fix(LONG).expect("a fix");
    device.handle().update(|k| k.silent = true);
    let deadline = Instant::now() + LONG;
    let err = loop {
        match gps.poll() {
            Ok(_) => assert!(Instant::now() < deadline, "never reported"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, GpsError::Silent(_)), "{err:?}");
    // It speaks again: the next wait has a fix.
    device.handle().update(|k| k.silent = false);
    gps.wait_fix(LONG).expect("a fix again");
}

#[test]
fn unplug_while_waiting_is_a_disconnect() {
    let device = start(Knobs {
        cold_start: u32::MAX,
        ..knobs()
    });
    let mut gps = open_at(&device, 9_600);
    let handle = device.handle();
    let epochs = handle.epochs();
    let unplug = std::thread::spawn(move || {
        while handle.epochs() < epochs + 3 {
            std::thread::sleep(Duration::from_millis(2));
        }
        handle.disconnect();
    });
    let err = gps.wait_fix(LONG).expect_err("unplugged");
    unplug.join().expect("unplug thread");
    assert!(matches!(err, GpsError::Disconnected(_)), "{err:?}");
}

#[test]
fn unplug_after_some_epochs_is_a_disconnect() {
    let device = start(knobs());
    let mut gps = open_at(&device, 9_600);
    let handle = device.handle();
    handle.update(|k| k.disconnect_after = Some(handle.epochs() + 5));
    let deadline = Instant::now() + LONG;
    let err = loop {
        match gps.poll() {
            Ok(_) => assert!(Instant::now() < deadline, "never reported"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, GpsError::Disconnected(_)), "{err:?}");
    assert!(gps.stats().fixes >= 1, "{:?}", gps.stats());
}

#[test]
fn southern_and_western_coordinates() {
    // Rio de Janeiro (S, W) and Sydney (S, E), under a combined talker.
    for (latitude, longitude) in [(-22.906_85, -43.172_9), (-33.856_8, 151.215_3)] {
        let device = start(Knobs {
            latitude,
            longitude,
            altitude_m: -3.5,
            talker: Talker::Gnss,
            ..knobs()
        });
        let mut gps = open_at(&device, 9_600);
        let fix = gps.wait_fix(LONG).expect("a fix");
        assert!(close(fix.latitude, latitude), "{fix:?}");
        assert!(close(fix.longitude, longitude), "{fix:?}");
        assert_eq!(fix.altitude_m, Some(-3.5));
    }
}

#[test]
fn a_wrong_baud_rate_is_a_protocol_error() {
    let device = start(Knobs {
        baud: Some(4_800),
        ..knobs()
    });
    let mut gps = open_at(&device, 9_600);
    let err = gps.wait_fix(LONG).expect_err("garbage at 9600");
    assert!(
        matches!(err, GpsError::Protocol { bytes, last: None, .. } if bytes > 0),
        "{err:?}"
    );
}

#[test]
fn open_auto_finds_4800_baud() {
    let device = start(Knobs {
        baud: Some(4_800),
        ..knobs()
    });
    let mut gps = Receiver::open_with(&device.path(), None, config()).expect("found at 4800");
    assert_eq!(gps.baud(), Some(4_800));
    let fix = gps.wait_fix(LONG).expect("a fix");
    assert!(close(fix.latitude, 35.6892));
}

#[test]
fn open_auto_stays_at_9600_when_it_answers() {
    let device = start(Knobs {
        baud: Some(9_600),
        ..knobs()
    });
    let gps = Receiver::open_with(&device.path(), None, config()).expect("found at 9600");
    assert_eq!(gps.baud(), Some(9_600));
}

#[test]
fn open_auto_reports_garbage_at_every_rate_as_protocol() {
    let device = start(Knobs {
        baud: Some(38_400),
        ..knobs()
    });
    let err = Receiver::open_with(&device.path(), None, config()).expect_err("no rate matches");
    assert!(matches!(err, GpsError::Protocol { .. }), "{err:?}");
}

#[test]
fn open_auto_reports_a_silent_port_as_silent() {
    let device = start(Knobs {
        silent: true,
        ..knobs()
    });
    let err = Receiver::open_with(&device.path(), None, config()).expect_err("nothing at all");
    assert!(matches!(err, GpsError::Silent(_)), "{err:?}");
}

#[test]
fn the_host_port_handed_out_works_with_new() {
    let mut device = start(knobs());
    let mut port = device.take_host_port().expect("the host end");
    serialport::SerialPort::set_timeout(&mut port, Duration::from_millis(20)).expect("timeout");
    let mut gps = Receiver::new(port, "pty", config());
    let fix = gps.wait_fix(LONG).expect("a fix");
    assert!(close(fix.longitude, 51.3890));
    assert_eq!(gps.baud(), None);
}

#[test]
fn open_virtual_runs_the_demo_receiver() {
    let mut gps = open("virtual", None).expect("the virtual receiver");
    assert_eq!(gps.name(), "virtual");
    let handle = gps.virtual_handle().expect("a virtual receiver");
    handle.update(|k| k.interval = INTERVAL);
    // The default interval is a second: the first epoch may take that.
    let fix = gps.wait_fix(LONG).expect("a fix");
    assert!(close(fix.latitude, 35.6892) && close(fix.longitude, 51.3890));
    // Its clock starts at the wall clock's second.
    let skew = (Utc::now() - fix.utc).num_seconds().abs();
    assert!(skew < 3_600, "{fix:?}");
}

#[test]
fn a_missing_port_is_port_missing() {
    let err = Receiver::open_auto("/dev/pishkhan-no-such-gps").expect_err("no port");
    assert_eq!(
        err,
        GpsError::PortMissing {
            port: "/dev/pishkhan-no-such-gps".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "there is no GPS port /dev/pishkhan-no-such-gps"
    );
}
