//! From sentences to positions, without any I/O.
//!
//! A receiver reports each position (an *epoch*, usually once a second)
//! in several sentences: GGA has the fix quality, satellites, HDOP and
//! altitude but no date; RMC has the date and the valid/warning status.
//! [`Combiner`] pairs the GGA and RMC of the same UTC time, in either
//! order, into a [`Fix`]. A receiver that has no fix (GGA quality 0, RMC
//! status `V`, empty fields) gives [`Reading::NoFix`], which is the
//! normal state after power-up, not an error.

use chrono::{DateTime, Utc};

use crate::proto::{FixQuality, Gga, Rmc, Sentence, Status, Talker};

/// A position the receiver vouches for.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    /// Decimal degrees, north positive (WGS 84).
    pub latitude: f64,
    /// Decimal degrees, east positive (WGS 84).
    pub longitude: f64,
    /// Above mean sea level, metres (GGA).
    pub altitude_m: Option<f64>,
    /// Satellites used for the position (GGA).
    pub satellites: Option<u8>,
    /// Horizontal dilution of precision (GGA, else the last GSA).
    pub hdop: Option<f32>,
    /// How the position was obtained (GGA): plain GPS, differential, RTK,
    /// or estimated/manual/simulated, which a caller may want to refuse.
    pub quality: FixQuality,
    /// The time of the position: the receiver's UTC time with the date
    /// from RMC.
    pub utc: DateTime<Utc>,
}

/// The receiver is working but has no position yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFix {
    /// Satellites the receiver sees, when it says: the satellites in view
    /// from GSV (summed over the talkers), else the count in GGA.
    pub satellites: Option<u8>,
}

/// What one epoch of sentences amounted to.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    Fix(Fix),
    NoFix(NoFix),
}

/// Pairs GGA and RMC sentences into [`Reading`]s.
#[derive(Debug, Clone, Default)]
pub struct Combiner {
    gga: Option<Gga>,
    rmc: Option<Rmc>,
    /// HDOP of the last GSA (GGA's is preferred).
    gsa_hdop: Option<f32>,
    /// Satellites in view per talker, from the last GSV of each.
    in_view: Vec<(Talker, u8)>,
}

impl Combiner {
    /// A combiner that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every sentence seen.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Takes one sentence; returns a reading when it completes one.
    ///
    /// A GGA without a fix, or an RMC with status `V`, is a
    /// [`Reading::NoFix`] at once. A [`Reading::Fix`] needs both the GGA
    /// and the RMC of one UTC time, each with a fix; the second of the
    /// pair completes it. Other sentences only update the satellite count
    /// and HDOP.
    pub fn push(&mut self, sentence: Sentence) -> Option<Reading> {
        match sentence {
            Sentence::Gga(gga) => {
                let fixed = gga.quality != FixQuality::Invalid && gga.position.is_some();
                self.gga = Some(gga);
                if fixed {
                    self.pair()
                } else {
                    Some(self.no_fix())
                }
            }
            Sentence::Rmc(rmc) => {
                let fixed = rmc.status == Status::Active
                    && rmc.mode != Some('N')
                    && rmc.position.is_some()
                    && rmc.date.is_some()
                    && rmc.time.is_some();
                self.rmc = Some(rmc);
                if fixed {
                    self.pair()
                } else {
                    Some(self.no_fix())
                }
            }
            Sentence::Gsa(gsa) => {
                self.gsa_hdop = gsa.hdop;
                None
            }
            Sentence::Gsv(gsv) => {
                match self.in_view.iter_mut().find(|(t, _)| *t == gsv.talker) {
                    Some(entry) => entry.1 = gsv.in_view,
                    None => self.in_view.push((gsv.talker, gsv.in_view)),
                }
                None
            }
            Sentence::Other(_) => None,
        }
    }

    /// Satellites seen, as in [`NoFix::satellites`].
    pub fn satellites_seen(&self) -> Option<u8> {
        // A combined GN count already includes the others.
        if let Some(&(_, n)) = self.in_view.iter().find(|(t, _)| *t == Talker::Gnss) {
            return Some(n);
        }
        if !self.in_view.is_empty() {
            return Some(
                self.in_view
                    .iter()
                    .fold(0u8, |sum, &(_, n)| sum.saturating_add(n)),
            );
        }
        self.gga.as_ref().and_then(|g| g.satellites)
    }

    fn no_fix(&self) -> Reading {
        Reading::NoFix(NoFix {
            satellites: self.satellites_seen(),
        })
    }

    /// The fix made of the stored GGA and RMC, if they have one time and
    /// both have a fix; both are consumed then.
    fn pair(&mut self) -> Option<Reading> {
        let (gga, rmc) = (self.gga.as_ref()?, self.rmc.as_ref()?);
        let time = gga.time?;
        if rmc.time != Some(time)
            || rmc.status != Status::Active
            || gga.quality == FixQuality::Invalid
        {
            return None;
        }
        let position = gga.position?;
        let date = rmc.date?;
        let fix = Fix {
            latitude: position.latitude,
            longitude: position.longitude,
            altitude_m: gga.altitude_m,
            satellites: gga.satellites,
            hdop: gga.hdop.or(self.gsa_hdop),
            quality: gga.quality,
            utc: date.and_time(time).and_utc(),
        };
        self.gga = None;
        self.rmc = None;
        Some(Reading::Fix(fix))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::proto::{parse, sentence};

    fn push(combiner: &mut Combiner, line: &str) -> Option<Reading> {
        combiner.push(parse(line).expect("a valid sentence"))
    }

    const GGA: &str = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47";
    const RMC: &str = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A";

    fn reference_fix() -> Fix {
        Fix {
            latitude: 48.0 + 7.038 / 60.0,
            longitude: 11.0 + 31.0 / 60.0,
            altitude_m: Some(545.4),
            satellites: Some(8),
            hdop: Some(0.9),
            quality: FixQuality::Gps,
            utc: Utc
                .with_ymd_and_hms(1994, 3, 23, 12, 35, 19)
                .single()
                .expect("a valid time"),
        }
    }

    #[test]
    fn gga_then_rmc_is_a_fix() {
        let mut c = Combiner::new();
        assert_eq!(push(&mut c, GGA), None);
        assert_eq!(push(&mut c, RMC), Some(Reading::Fix(reference_fix())));
        // Both were consumed: the same RMC again completes nothing.
        assert_eq!(push(&mut c, RMC), None);
    }

    #[test]
    fn rmc_then_gga_is_a_fix() {
        let mut c = Combiner::new();
        assert_eq!(push(&mut c, RMC), None);
        assert_eq!(push(&mut c, GGA), Some(Reading::Fix(reference_fix())));
    }

    #[test]
    fn sentences_of_different_epochs_do_not_pair() {
        let mut c = Combiner::new();
        let later = sentence("GPRMC,123520,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W");
        assert_eq!(push(&mut c, GGA), None);
        assert_eq!(push(&mut c, &later), None);
        // The next GGA matches the stored RMC.
        let gga = sentence("GPGGA,123520,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,");
        let Some(Reading::Fix(fix)) = push(&mut c, &gga) else {
            panic!("a fix");
        };
        assert_eq!(fix.utc.timestamp() - reference_fix().utc.timestamp(), 1);
    }

    #[test]
    fn no_fix_is_a_reading_with_the_satellites_seen() {
        let mut c = Combiner::new();
        assert_eq!(
            push(&mut c, "$GPGGA,,,,,,0,00,99.99,,,,,,*48"),
            Some(Reading::NoFix(NoFix {
                satellites: Some(0)
            }))
        );
        // GSV's satellites in view are preferred over GGA's used count.
        push(
            &mut c,
            "$GPGSV,3,1,10,23,38,230,44,29,71,156,47,07,29,116,41,08,09,081,36*7F",
        );
        push(
            &mut c,
            &sentence("GLGSV,1,1,03,65,10,100,,66,20,200,,67,30,300,"),
        );
        assert_eq!(
            push(&mut c, "$GPRMC,,V,,,,,,,,,,N*53"),
            Some(Reading::NoFix(NoFix {
                satellites: Some(13)
            }))
        );
        // A combined GN count is not added to the per-system ones.
        push(&mut c, &sentence("GNGSV,1,1,11"));
        assert_eq!(c.satellites_seen(), Some(11));
    }

    #[test]
    fn a_void_rmc_spoils_the_epoch() {
        let mut c = Combiner::new();
        assert_eq!(push(&mut c, GGA), None);
        let void = sentence("GPRMC,123519,V,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W");
        assert!(matches!(push(&mut c, &void), Some(Reading::NoFix(_))));
        // Mode N ("data not valid") with status A is no fix either.
        let mode_n = sentence("GPRMC,123519,A,4807.038,N,01131.000,E,,,230394,,,N");
        assert!(matches!(push(&mut c, &mode_n), Some(Reading::NoFix(_))));
    }

    #[test]
    fn a_gga_without_quality_spoils_the_epoch() {
        let mut c = Combiner::new();
        assert_eq!(push(&mut c, RMC), None);
        let invalid = sentence("GPGGA,123519,4807.038,N,01131.000,E,0,03,,,,,,,");
        assert_eq!(
            push(&mut c, &invalid),
            Some(Reading::NoFix(NoFix {
                satellites: Some(3)
            }))
        );
    }

    #[test]
    fn gsa_hdop_fills_a_missing_gga_hdop() {
        let mut c = Combiner::new();
        push(
            &mut c,
            "$GPGSA,A,3,23,29,07,08,09,18,26,28,,,,,1.94,1.18,1.54*0D",
        );
        push(
            &mut c,
            &sentence("GNGGA,123519,4807.038,N,01131.000,E,2,08,,545.4,M,46.9,M,,"),
        );
        let Some(Reading::Fix(fix)) = push(&mut c, RMC) else {
            panic!("a fix");
        };
        assert_eq!(fix.hdop, Some(1.18));
        assert_eq!(fix.quality, FixQuality::Dgps);
    }

    #[test]
    fn southern_western_fix() {
        let mut c = Combiner::new();
        push(
            &mut c,
            &sentence("GPRMC,010203.00,A,2254.41400,S,04312.57000,W,0.0,,010126,,,A"),
        );
        let Some(Reading::Fix(fix)) = push(
            &mut c,
            &sentence("GPGGA,010203.00,2254.41400,S,04312.57000,W,1,07,1.20,11.0,M,,,,"),
        ) else {
            panic!("a fix");
        };
        assert!((fix.latitude + 22.906_9).abs() < 1e-9, "{fix:?}");
        assert!((fix.longitude + 43.2095).abs() < 1e-9, "{fix:?}");
        assert_eq!(
            fix.utc.date_naive(),
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
        );
    }

    #[test]
    fn reset_forgets_a_half_epoch() {
        let mut c = Combiner::new();
        push(&mut c, GGA);
        c.reset();
        assert_eq!(push(&mut c, RMC), None);
        assert_eq!(c.satellites_seen(), None);
    }
}
