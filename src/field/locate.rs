//! The kit's GPS receiver: a position for a visit record.
//!
//! `[devices] gps` names the receiver: `"off"` (the default: positions
//! are typed, or left out), `"virtual"` (the virtual NMEA receiver of
//! `pishkhan-gps` on a pseudo-terminal, at its position in Tehran; demo
//! stations only, since its position is made up) or the receiver's serial
//! port, read at `gps_baud`. The receiver is opened for each fix and closed
//! after it, so that an unplugged receiver costs nothing and a new one is
//! found on the next try.

use std::time::{Duration, Instant};

use pishkhan_gps::{Fix, FixQuality, GpsError};

use super::{Location, LocationSource};
use crate::station::Station;
use crate::text::Text;

/// Why no position was taken. Each names what the operator can do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LocateError {
    #[error("the GPS receiver is off in the settings ([devices] gps = \"off\")")]
    Off,
    #[error(
        "the virtual GPS receiver gives a made-up position; only a demo station may use it \
         ([devices] gps = \"virtual\")"
    )]
    VirtualOnRealStation,
    #[error("there is no GPS receiver at {port}")]
    PortMissing { port: String },
    #[error("the GPS port {port} cannot be opened: {reason}")]
    PortUnusable { port: String, reason: String },
    #[error("the GPS receiver at {port} was unplugged while it was read ({detail})")]
    Unplugged { port: String, detail: String },
    #[error("the GPS receiver at {port} sent nothing for {seconds} s")]
    Silent { port: String, seconds: u64 },
    #[error(
        "the GPS receiver at {port} sent {bytes} bytes but no valid NMEA sentence at {baud} baud"
    )]
    NotNmea { port: String, baud: u32, bytes: u64 },
    #[error("no GPS fix within {seconds} s ({})", satellites_text(*.satellites))]
    NoFix {
        seconds: u64,
        /// Satellites in view, when the receiver said.
        satellites: Option<u8>,
    },
    #[error("the GPS position is {quality:?}, not a satellite fix")]
    NotSatellite { quality: FixQuality },
    #[error("the GPS receiver gave an impossible position: {0}")]
    Impossible(String),
}

fn satellites_text(satellites: Option<u8>) -> String {
    match satellites {
        None => "satellites in view not reported".into(),
        Some(n) => format!("{n} satellites in view"),
    }
}

impl LocateError {
    /// What the operator reads, in their language.
    pub fn text(&self) -> Text {
        match self {
            LocateError::Off => Text::new("err-gps-off"),
            LocateError::VirtualOnRealStation => Text::new("err-gps-virtual-not-demo"),
            LocateError::PortMissing { port } => {
                Text::new("err-gps-port-missing").code("port", port.clone())
            }
            LocateError::PortUnusable { port, reason } => Text::new("err-gps-port-unusable")
                .code("port", port.clone())
                .arg("reason", reason.clone()),
            LocateError::Unplugged { port, .. } => {
                Text::new("err-gps-unplugged").code("port", port.clone())
            }
            LocateError::Silent { port, seconds } => Text::new("err-gps-silent")
                .code("port", port.clone())
                .arg("seconds", seconds.to_string()),
            LocateError::NotNmea { port, baud, .. } => Text::new("err-gps-not-nmea")
                .code("port", port.clone())
                .arg("baud", baud.to_string()),
            LocateError::NoFix {
                seconds,
                satellites: Some(n),
            } if *n > 0 => Text::new("err-gps-no-fix")
                .arg("seconds", seconds.to_string())
                .arg("satellites", n.to_string()),
            LocateError::NoFix { seconds, .. } => {
                Text::new("err-gps-no-fix-no-satellites").arg("seconds", seconds.to_string())
            }
            LocateError::NotSatellite { .. } => Text::new("err-gps-not-satellite"),
            LocateError::Impossible(detail) => {
                Text::new("err-gps-impossible").arg("detail", detail.clone())
            }
        }
    }

    /// The driver's error for the receiver at `port`, read at `baud`.
    fn from_gps(e: GpsError, port: &str, baud: u32) -> LocateError {
        let port = port.to_owned();
        match e {
            GpsError::PortMissing { .. } => LocateError::PortMissing { port },
            GpsError::Open { reason, .. } => LocateError::PortUnusable { port, reason },
            GpsError::Disconnected(detail) => LocateError::Unplugged { port, detail },
            GpsError::Silent(d) => LocateError::Silent {
                port,
                seconds: d.as_secs_f64().round() as u64,
            },
            GpsError::Protocol { bytes, .. } => LocateError::NotNmea { port, baud, bytes },
            GpsError::NoFix { waited, satellites } => LocateError::NoFix {
                seconds: waited.as_secs_f64().round() as u64,
                satellites,
            },
        }
    }
}

/// A receiver's fix as the position of a visit record. Estimated (dead
/// reckoning), manual and simulated fixes are refused: the record says
/// "GPS", so the position must come from satellites.
pub fn location_of(fix: &Fix) -> Result<Location, LocateError> {
    if matches!(
        fix.quality,
        FixQuality::Invalid | FixQuality::Estimated | FixQuality::Manual | FixQuality::Simulation
    ) {
        return Err(LocateError::NotSatellite {
            quality: fix.quality,
        });
    }
    let location = Location {
        latitude: fix.latitude,
        longitude: fix.longitude,
        source: LocationSource::Gps {
            satellites: fix.satellites,
            hdop: fix.hdop,
            fixed_at: fix.utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        },
    };
    location.check().map_err(LocateError::Impossible)?;
    Ok(location)
}

impl Station {
    /// Takes a position from the configured GPS receiver, waiting at most
    /// `timeout` for a fix (opening the port comes on top: at most a few
    /// seconds when the receiver is silent).
    pub fn gps_fix(&self, timeout: Duration) -> Result<Location, LocateError> {
        let devices = &self.config.devices;
        let source = devices.gps.as_str();
        match source {
            "off" => return Err(LocateError::Off),
            pishkhan_gps::VIRTUAL if !self.demo => return Err(LocateError::VirtualOnRealStation),
            _ => {}
        }
        let baud = devices.gps_baud;
        let started = Instant::now();
        let mut receiver = pishkhan_gps::open(source, Some(baud))
            .map_err(|e| LocateError::from_gps(e, source, baud))?;
        let fix = receiver.wait_fix(timeout).map_err(|e| {
            let e = LocateError::from_gps(e, source, baud);
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "no GPS fix: {e}"
            );
            e
        })?;
        location_of(&fix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn fix(quality: FixQuality) -> Fix {
        Fix {
            latitude: 35.6892,
            longitude: 51.389,
            altitude_m: Some(1190.0),
            satellites: Some(8),
            hdop: Some(0.9),
            quality,
            utc: chrono::Utc
                .with_ymd_and_hms(2026, 3, 4, 5, 6, 7)
                .single()
                .expect("a time"),
        }
    }

    #[test]
    fn a_satellite_fix_becomes_a_gps_location() {
        for quality in [FixQuality::Gps, FixQuality::Dgps, FixQuality::RtkFixed] {
            let l = location_of(&fix(quality)).expect("a location");
            assert_eq!((l.latitude, l.longitude), (35.6892, 51.389));
            assert_eq!(
                l.source,
                LocationSource::Gps {
                    satellites: Some(8),
                    hdop: Some(0.9),
                    fixed_at: "2026-03-04T05:06:07Z".into()
                }
            );
        }
    }

    #[test]
    fn made_up_and_impossible_fixes_are_refused() {
        for quality in [
            FixQuality::Estimated,
            FixQuality::Manual,
            FixQuality::Simulation,
        ] {
            assert_eq!(
                location_of(&fix(quality)),
                Err(LocateError::NotSatellite { quality })
            );
        }
        let mut far = fix(FixQuality::Gps);
        far.latitude = 91.0;
        assert!(matches!(
            location_of(&far),
            Err(LocateError::Impossible(d)) if d.contains("latitude 91")
        ));
    }

    #[test]
    fn driver_errors_become_specific_messages() {
        let cases = [
            (
                GpsError::PortMissing {
                    port: "/dev/ttyACM0".into(),
                },
                "err-gps-port-missing",
            ),
            (
                GpsError::Open {
                    port: "/dev/ttyACM0".into(),
                    reason: "busy".into(),
                },
                "err-gps-port-unusable",
            ),
            (GpsError::Disconnected("EIO".into()), "err-gps-unplugged"),
            (GpsError::Silent(Duration::from_secs(3)), "err-gps-silent"),
            (
                GpsError::Protocol {
                    bytes: 900,
                    bad_sentences: 0,
                    last: None,
                },
                "err-gps-not-nmea",
            ),
            (
                GpsError::NoFix {
                    waited: Duration::from_secs(60),
                    satellites: Some(3),
                },
                "err-gps-no-fix",
            ),
            (
                GpsError::NoFix {
                    waited: Duration::from_secs(60),
                    satellites: Some(0),
                },
                "err-gps-no-fix-no-satellites",
            ),
            (
                GpsError::NoFix {
                    waited: Duration::from_secs(60),
                    satellites: None,
                },
                "err-gps-no-fix-no-satellites",
            ),
        ];
        for (gps, id) in cases {
            let e = LocateError::from_gps(gps, "/dev/ttyACM0", 4800);
            assert_eq!(e.text().id, id, "{e:?}");
        }
        let e = LocateError::from_gps(
            GpsError::NoFix {
                waited: Duration::from_millis(59_700),
                satellites: Some(3),
            },
            "virtual",
            4800,
        );
        assert_eq!(
            e.text(),
            Text::new("err-gps-no-fix")
                .arg("seconds", "60")
                .arg("satellites", "3")
        );
        assert_eq!(
            e.to_string(),
            "no GPS fix within 60 s (3 satellites in view)"
        );
        let e = LocateError::from_gps(
            GpsError::Protocol {
                bytes: 512,
                bad_sentences: 4,
                last: None,
            },
            "/dev/ttyUSB0",
            9600,
        );
        assert_eq!(
            e.to_string(),
            "the GPS receiver at /dev/ttyUSB0 sent 512 bytes but no valid NMEA sentence at 9600 baud"
        );
    }
}
