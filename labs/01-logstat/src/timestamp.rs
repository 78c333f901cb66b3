//! Timestamps as nginx writes them: `$time_local`, e.g. `10/Oct/2026:13:55:36 +0200`.
//!
//! A [`Timestamp`] keeps both the instant (seconds since the Unix epoch, UTC) and the zone offset the
//! line was written in, so a parsed time can be printed back exactly as it was logged while comparisons
//! use the instant alone.

use std::fmt;

use crate::Error;

/// The month abbreviations nginx writes, in calendar order.
pub const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// The length of `dd/Mon/yyyy:HH:MM:SS +zzzz`, the only shape nginx writes.
pub const NGINX_TIME_LEN: usize = 26;

/// One instant as written in a log line.
///
/// # Examples
///
/// ```
/// use logstat::Timestamp;
/// let t = Timestamp::parse_nginx(b"01/Mar/2026:08:00:00 +0800").unwrap();
/// assert_eq!(t.unix, 1_772_323_200); // 2026-03-01T00:00:00Z
/// assert_eq!(t.offset_minutes, 480);
/// assert_eq!(t.to_string(), "01/Mar/2026:08:00:00 +0800");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix: i64,
    /// The zone the time was written in, in minutes east of UTC (`+0800` is 480).
    pub offset_minutes: i32,
}

impl Timestamp {
    /// Parses nginx's `$time_local`: `dd/Mon/yyyy:HH:MM:SS +zzzz`, exactly 26 bytes.
    ///
    /// Returns `None` for anything else: a wrong length or separator, an unknown month, a day that
    /// its month does not have (`31/Apr`, `29/Feb` outside leap years), an hour above 23, a minute or
    /// second above 59, or a zone whose hours exceed 23 or minutes exceed 59.
    pub fn parse_nginx(text: &[u8]) -> Option<Timestamp> {
        todo!("stage 1: parse dd/Mon/yyyy:HH:MM:SS +zzzz, checking every range (see the chapter, Stage 1)")
    }

    /// Parses a time given on the command line: nginx's format (`01/Mar/2026:08:00:00 +0800`) or
    /// ISO 8601 with seconds and a zone (`2026-03-01T08:00:00+08:00`, `2026-03-01T00:00:00Z`).
    ///
    /// # Errors
    ///
    /// [`Error::BadTime`] naming the text when it is neither.
    pub fn parse_arg(text: &str) -> Result<Timestamp, Error> {
        Timestamp::parse_nginx(text.as_bytes())
            .or_else(|| parse_iso8601(text))
            .ok_or_else(|| Error::BadTime { value: text.to_owned() })
    }
}

impl fmt::Display for Timestamp {
    /// Writes the time as nginx would have logged it, in its own zone.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.unix + i64::from(self.offset_minutes) * 60;
        let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let zone = self.offset_minutes.unsigned_abs();
        write!(
            f,
            "{day:02}/{}/{year:04}:{:02}:{:02}:{:02} {sign}{:02}{:02}",
            MONTHS[month as usize - 1],
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            zone / 60,
            zone % 60,
        )
    }
}

/// Seconds since the Unix epoch of a local civil time written in a zone `offset_minutes` east of UTC.
///
/// Valid for any proleptic Gregorian date; the caller checks ranges.
pub fn unix_from_civil(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    offset_minutes: i32,
) -> i64 {
    let days = days_from_civil(year, month, day);
    days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - i64::from(offset_minutes) * 60
}

/// The number of days in `month` (1–12) of `year`.
pub fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = i64::from((month + 9) % 12);
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DDTHH:MM:SS` followed by `Z` or `±HH:MM`.
fn parse_iso8601(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let (month, day) = (digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    let offset_minutes = match &b[19..] {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let minutes = digits(&[*h1, *h2])? * 60 + digits(&[*m1, *m2])?;
            if *sign == b'-' { -(minutes as i32) } else { minutes as i32 }
        }
        _ => return None,
    };
    let valid_day = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
    if !valid_day || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let unix = unix_from_civil(year as i64, month, day, hour, minute, second, offset_minutes);
    Some(Timestamp { unix, offset_minutes })
}

/// The value of a run of ASCII digits, or `None` if any byte is not one.
fn digits(text: &[u8]) -> Option<u32> {
    text.iter()
        .try_fold(0u32, |value, &byte| byte.is_ascii_digit().then(|| value * 10 + u32::from(byte - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_across_eras() {
        for days in [-800_000, -1, 0, 1, 11_016, 20_513, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn parses_command_line_times_in_both_formats() {
        let nginx = Timestamp::parse_arg("01/Mar/2026:08:00:00 +0800").unwrap();
        let iso = Timestamp::parse_arg("2026-03-01T00:00:00Z").unwrap();
        assert_eq!(nginx.unix, iso.unix);
        assert!(Timestamp::parse_arg("yesterday").is_err());
    }
}
