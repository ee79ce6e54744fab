//! The Jalali (Solar Hijri) calendar, by Borkowski's algorithm as used in
//! jalaali-js: exact for Jalali years −61 to 3177, including the 1403/1404
//! leap years that the 2820-year arithmetic gets wrong.

use serde::{Deserialize, Serialize};

const BREAKS: [i64; 20] = [
    -61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324,
    2394, 2456, 3178,
];

/// A valid Jalali date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JalaliDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

/// A Gregorian date as (year, month, day).
pub type Gregorian = (i32, u32, u32);

/// Why a date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("write the date as year/month/day")]
    Format,
    #[error("year {0} is outside the supported range")]
    Year(i32),
    #[error("there is no month {0}")]
    Month(u8),
    #[error("month {month} of {year} has {days} days")]
    Day { year: i32, month: u8, days: u8 },
}

struct Cal {
    leap: i64,
    gy: i64,
    march: i64,
}

fn jal_cal(jy: i64) -> Cal {
    let gy = jy + 621;
    let mut leap_j = -14;
    let mut jp = BREAKS[0];
    let mut jump = 0;
    for &jm in &BREAKS[1..] {
        jump = jm - jp;
        if jy < jm {
            break;
        }
        leap_j += jump / 33 * 8 + (jump % 33) / 4;
        jp = jm;
    }
    let mut n = jy - jp;
    leap_j += n / 33 * 8 + (n % 33 + 3) / 4;
    if jump % 33 == 4 && jump - n == 4 {
        leap_j += 1;
    }
    let leap_g = gy / 4 - (gy / 100 + 1) * 3 / 4 - 150;
    let march = 20 + leap_j - leap_g;
    if jump - n < 6 {
        n = n - jump + (jump + 4) / 33 * 33;
    }
    let mut leap = ((n + 1) % 33 - 1) % 4;
    if leap == -1 {
        leap = 4;
    }
    Cal { leap, gy, march }
}

fn g2d(gy: i64, gm: i64, gd: i64) -> i64 {
    let d = (gy + (gm - 8) / 6 + 100_100) * 1461 / 4 + (153 * ((gm + 9) % 12) + 2) / 5 + gd
        - 34_840_408;
    d - (gy + 100_100 + (gm - 8) / 6) / 100 * 3 / 4 + 752
}

fn d2g(jdn: i64) -> (i64, i64, i64) {
    let mut j = 4 * jdn + 139_361_631;
    j += (4 * jdn + 183_187_720) / 146_097 * 3 / 4 * 4 - 3908;
    let i = (j % 1461) / 4 * 5 + 308;
    let gd = (i % 153) / 5 + 1;
    let gm = (i / 153) % 12 + 1;
    let gy = j / 1461 - 100_100 + (8 - gm) / 6;
    (gy, gm, gd)
}

/// Whether Jalali year `year` has 366 days.
pub fn is_leap(year: i32) -> bool {
    jal_cal(i64::from(year)).leap == 0
}

/// Days in `month` of `year` (months 1–6: 31, 7–11: 30, 12: 29 or 30).
pub fn month_length(year: i32, month: u8) -> u8 {
    match month {
        1..=6 => 31,
        7..=11 => 30,
        _ if is_leap(year) => 30,
        _ => 29,
    }
}

impl JalaliDate {
    /// A checked date.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, DateError> {
        if !(1..3178).contains(&year) {
            return Err(DateError::Year(year));
        }
        if !(1..=12).contains(&month) {
            return Err(DateError::Month(month));
        }
        let days = month_length(year, month);
        if !(1..=days).contains(&day) {
            return Err(DateError::Day { year, month, days });
        }
        Ok(Self { year, month, day })
    }

    /// Parses `1405/09/01` (also with `-`, and Persian digits).
    pub fn parse(input: &str) -> Result<Self, DateError> {
        let ascii = super::digits::to_ascii_digits(input.trim());
        let parts: Vec<&str> = ascii.split(['/', '-']).collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(DateError::Format);
        };
        let y: i32 = y.parse().map_err(|_| DateError::Format)?;
        let m: u8 = m.parse().map_err(|_| DateError::Format)?;
        let d: u8 = d.parse().map_err(|_| DateError::Format)?;
        Self::new(y, m, d)
    }

    fn jdn(self) -> i64 {
        let cal = jal_cal(i64::from(self.year));
        let jm = i64::from(self.month);
        g2d(cal.gy, 3, cal.march) + (jm - 1) * 31 - jm / 7 * (jm - 7) + i64::from(self.day) - 1
    }

    fn from_jdn(jdn: i64) -> Self {
        let (gy, _, _) = d2g(jdn);
        let mut jy = gy - 621;
        let cal = jal_cal(jy);
        let mut k = jdn - g2d(gy, 3, cal.march);
        if k >= 0 {
            if k <= 185 {
                return Self::raw(jy, 1 + k / 31, k % 31 + 1);
            }
            k -= 186;
        } else {
            jy -= 1;
            k += 179;
            if cal.leap == 1 {
                k += 1;
            }
        }
        Self::raw(jy, 7 + k / 30, k % 30 + 1)
    }

    fn raw(y: i64, m: i64, d: i64) -> Self {
        Self {
            year: y as i32,
            month: m as u8,
            day: d as u8,
        }
    }

    /// The Gregorian date of the same day.
    pub fn to_gregorian(self) -> Gregorian {
        let (y, m, d) = d2g(self.jdn());
        (y as i32, m as u32, d as u32)
    }

    /// The Jalali date of a Gregorian day.
    pub fn from_gregorian((y, m, d): Gregorian) -> Self {
        Self::from_jdn(g2d(i64::from(y), i64::from(m), i64::from(d)))
    }

    /// Today in the station's local time zone.
    pub fn today() -> Self {
        use chrono::Datelike;
        let now = chrono::Local::now().date_naive();
        Self::from_gregorian((now.year(), now.month(), now.day()))
    }

    /// Full years from `self` (a birth date) to `on`: `(ty − by, tm, td) ≥
    /// (n, bm, bd)` compared lexicographically (domain.md §5.4).
    ///
    /// Someone born on Esfand 30 of a leap year turns a year older on 1
    /// Farvardin in common years, since their birthday does not occur
    /// (the default [`LeapDayBirthday`] convention).
    pub fn full_years_on(self, on: JalaliDate) -> i32 {
        self.full_years_with(on, LeapDayBirthday::default())
    }

    /// [`full_years_on`](Self::full_years_on) under an explicit convention
    /// for Esfand-30 birthdays.
    pub fn full_years_with(self, on: JalaliDate, convention: LeapDayBirthday) -> i32 {
        let mut birthday = (self.month, self.day);
        if birthday == (12, 30) && convention == LeapDayBirthday::Esfand29 && !is_leap(on.year) {
            birthday = (12, 29);
        }
        let years = on.year - self.year;
        if (on.month, on.day) < birthday {
            years - 1
        } else {
            years
        }
    }

    /// The first day on which someone born on `self` is `age` full years
    /// old, under `convention`.
    pub fn reaches_age(self, age: i32, convention: LeapDayBirthday) -> JalaliDate {
        let year = self.year + age;
        match JalaliDate::new(year, self.month, self.day) {
            Ok(date) => date,
            // Esfand 30 in a common year.
            Err(_) => match convention {
                LeapDayBirthday::Farvardin1 => JalaliDate::raw(i64::from(year) + 1, 1, 1),
                LeapDayBirthday::Esfand29 => JalaliDate::raw(i64::from(year), 12, 29),
            },
        }
    }

    /// `1405/09/01`, ASCII digits.
    pub fn to_ascii(self) -> String {
        format!("{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }

    /// Weekday, 0 = Saturday (شنبه) … 6 = Friday (جمعه).
    pub fn weekday(self) -> u8 {
        // JDN 0 mod 7 is a Monday; shift so that Saturday is 0.
        ((self.jdn() + 2).rem_euclid(7)) as u8
    }
}

/// When someone born on Esfand 30 of a leap year has their birthday in a
/// common year. No NOCR rule was found (domain.md §5.4), so the station's
/// `[enrolment] leap_day_birthday` setting chooses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeapDayBirthday {
    /// On 1 Farvardin of the next year (the day after Esfand 29).
    #[default]
    #[serde(rename = "farvardin-1")]
    Farvardin1,
    /// On Esfand 29, the last day of the common year.
    #[serde(rename = "esfand-29")]
    Esfand29,
}

/// Minimum age for a national card, in full Jalali years.
pub const MINIMUM_AGE: i32 = 15;

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: [((i32, u8, u8), Gregorian, u8); 14] = [
        ((1304, 1, 2), (1925, 3, 22), 1),
        ((1357, 11, 22), (1979, 2, 11), 1),
        ((1368, 1, 1), (1989, 3, 21), 3),
        ((1378, 10, 11), (2000, 1, 1), 0),
        ((1391, 10, 21), (2013, 1, 10), 5),
        ((1395, 1, 23), (2016, 4, 11), 2),
        ((1399, 12, 30), (2021, 3, 20), 0),
        ((1400, 1, 1), (2021, 3, 21), 1),
        ((1402, 12, 29), (2024, 3, 19), 3),
        ((1403, 1, 1), (2024, 3, 20), 4),
        ((1403, 12, 30), (2025, 3, 20), 5),
        ((1404, 1, 1), (2025, 3, 21), 6),
        ((1404, 12, 29), (2026, 3, 20), 6),
        ((1405, 1, 1), (2026, 3, 21), 0),
    ];

    #[test]
    fn conversions_match_reference_vectors() {
        for ((y, m, d), g, weekday) in VECTORS {
            let j = JalaliDate::new(y, m, d).expect("valid vector");
            assert_eq!(j.to_gregorian(), g, "{j:?}");
            assert_eq!(JalaliDate::from_gregorian(g), j, "{g:?}");
            assert_eq!(j.weekday(), weekday, "{j:?}");
        }
    }

    #[test]
    fn leap_years_1390_to_1420() {
        let leaps: Vec<i32> = (1390..=1420).filter(|&y| is_leap(y)).collect();
        assert_eq!(leaps, [1391, 1395, 1399, 1403, 1408, 1412, 1416, 1420]);
    }

    #[test]
    fn round_trip_every_day_1300_to_1500() {
        let mut jdn = JalaliDate::new(1300, 1, 1).expect("valid").jdn();
        let end = JalaliDate::new(1500, 12, 29).expect("valid").jdn();
        let mut previous = JalaliDate::from_jdn(jdn - 1);
        while jdn <= end {
            let j = JalaliDate::from_jdn(jdn);
            assert_eq!(j.jdn(), jdn);
            assert!(j > previous);
            assert!(JalaliDate::new(j.year, j.month, j.day).is_ok());
            previous = j;
            jdn += 1;
        }
    }

    #[test]
    fn invalid_dates_are_refused() {
        assert!(matches!(
            JalaliDate::new(1404, 12, 30),
            Err(DateError::Day { days: 29, .. })
        ));
        assert!(JalaliDate::new(1402, 12, 30).is_err());
        assert!(JalaliDate::new(1394, 12, 30).is_err());
        assert!(JalaliDate::new(1403, 7, 31).is_err());
        assert_eq!(JalaliDate::new(1403, 13, 1), Err(DateError::Month(13)));
        assert_eq!(JalaliDate::new(1403, 0, 1), Err(DateError::Month(0)));
        assert!(JalaliDate::new(1395, 12, 31).is_err());
        assert_eq!(JalaliDate::parse("1403/1"), Err(DateError::Format));
    }

    #[test]
    fn parse_accepts_persian_digits() {
        assert_eq!(
            JalaliDate::parse("۱۴۰۳/۰۱/۱۵"),
            JalaliDate::new(1403, 1, 15)
        );
    }

    #[test]
    fn full_years_and_leap_day_birthdays() {
        let birth = JalaliDate::new(1390, 9, 1).expect("valid");
        let eve = JalaliDate::new(1405, 8, 30).expect("valid");
        let day = JalaliDate::new(1405, 9, 1).expect("valid");
        assert_eq!(birth.full_years_on(eve), 14);
        assert_eq!(birth.full_years_on(day), 15);
        let leap_born = JalaliDate::new(1399, 12, 30).expect("valid");
        let last = JalaliDate::new(1414, 12, 29).expect("valid");
        let nowruz = JalaliDate::new(1415, 1, 1).expect("valid");
        assert_eq!(leap_born.full_years_on(last), 14);
        assert_eq!(leap_born.full_years_on(nowruz), 15);
        assert_eq!(
            leap_born.reaches_age(15, LeapDayBirthday::Farvardin1),
            nowruz
        );
        // The other convention: the birthday is Esfand 29 in common years.
        assert_eq!(
            leap_born.full_years_with(last, LeapDayBirthday::Esfand29),
            15
        );
        assert_eq!(leap_born.reaches_age(15, LeapDayBirthday::Esfand29), last);
        // 1403/12/30 turns 15 in 1418, a common year; in a leap year the
        // birthday itself exists under both conventions.
        let born_1403 = JalaliDate::new(1403, 12, 30).expect("valid");
        assert!(!is_leap(1418));
        assert_eq!(
            born_1403.reaches_age(15, LeapDayBirthday::Farvardin1),
            JalaliDate::new(1419, 1, 1).expect("valid")
        );
        let born_1391 = JalaliDate::new(1391, 12, 30).expect("valid");
        assert!(is_leap(1391 + 12));
        assert_eq!(
            born_1391.reaches_age(12, LeapDayBirthday::Esfand29),
            JalaliDate::new(1403, 12, 30).expect("valid")
        );
    }

    /// Every day of Jalali 1300–1500 against ICU4X's Persian calendar, both
    /// ways, with the leap years and the weekday.
    #[test]
    fn every_day_1300_to_1500_agrees_with_icu_calendar() {
        use icu_calendar::{Date, Iso, cal::Persian, types::Weekday};
        let mut jdn = JalaliDate::new(1300, 1, 1).expect("valid").jdn();
        let end = JalaliDate::new(1500, 12, 29).expect("valid").jdn();
        let mut days = 0;
        while jdn <= end {
            let j = JalaliDate::from_jdn(jdn);
            let (gy, gm, gd) = j.to_gregorian();
            let iso = Date::try_new_iso(gy, gm as u8, gd as u8).expect("valid ISO date");
            let persian = iso.to_calendar(Persian);
            assert_eq!(
                (
                    persian.era_year().year,
                    persian.month().ordinal,
                    persian.day_of_month().0
                ),
                (j.year, j.month, j.day),
                "{gy}-{gm}-{gd}"
            );
            assert_eq!(persian.is_in_leap_year(), is_leap(j.year), "{j:?}");
            let back = Date::try_new_persian(j.year, j.month, j.day)
                .expect("valid Persian date")
                .to_calendar(Iso);
            assert_eq!(
                (
                    back.era_year().year,
                    back.month().ordinal,
                    back.day_of_month().0
                ),
                (gy, gm as u8, gd as u8)
            );
            let weekday = match persian.weekday() {
                Weekday::Saturday => 0,
                Weekday::Sunday => 1,
                Weekday::Monday => 2,
                Weekday::Tuesday => 3,
                Weekday::Wednesday => 4,
                Weekday::Thursday => 5,
                Weekday::Friday => 6,
            };
            assert_eq!(j.weekday(), weekday, "{j:?}");
            jdn += 1;
            days += 1;
        }
        assert_eq!(days, 73_414);
    }
}
