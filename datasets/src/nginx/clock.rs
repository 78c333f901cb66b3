//! Calendar arithmetic and nginx's `$time_local` format: `dd/Mon/yyyy:HH:MM:SS +zzzz`.
//!
//! Days are counted with Howard Hinnant's `days_from_civil` / `civil_from_days`, which are exact for the
//! proleptic Gregorian calendar, so no date library is needed and leap years come out right.

/// English month abbreviations, as nginx writes them.
pub(crate) const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// Length of a formatted stamp: `01/Mar/2026:00:00:00 +0800`.
pub(crate) const STAMP_LEN: usize = 26;

/// Days since 1970-01-01 of the civil date `y-m-d` (`m` in 1..=12).
#[cfg(test)]
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(y, m, d)` of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The year of a unix instant seen at `offset_minutes` east of UTC.
pub(crate) fn local_year(time: i64, offset_minutes: i32) -> i64 {
    let local = time + i64::from(offset_minutes) * 60;
    civil_from_days(local.div_euclid(86_400)).0
}

/// Writes the stamp of unix instant `time` at `offset_minutes` into `out`.
///
/// The year must have four digits (1000..=9999); the generator checks its time span up front.
pub(crate) fn format_stamp(time: i64, offset_minutes: i32, out: &mut [u8; STAMP_LEN]) {
    let local = time + i64::from(offset_minutes) * 60;
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    let two = |out: &mut [u8], at: usize, v: i64| {
        out[at] = b'0' + (v / 10) as u8;
        out[at + 1] = b'0' + (v % 10) as u8;
    };
    two(out, 0, i64::from(d));
    out[2] = b'/';
    out[3..6].copy_from_slice(MONTHS[m as usize - 1]);
    out[6] = b'/';
    two(out, 7, y / 100);
    two(out, 9, y % 100);
    out[11] = b':';
    two(out, 12, secs / 3600);
    out[14] = b':';
    two(out, 15, secs / 60 % 60);
    out[17] = b':';
    two(out, 18, secs % 60);
    out[20] = b' ';
    out[21] = if offset_minutes < 0 { b'-' } else { b'+' };
    let zone = i64::from(offset_minutes.unsigned_abs());
    two(out, 22, zone / 60);
    two(out, 24, zone % 60);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(time: i64, offset: i32) -> String {
        let mut out = [0; STAMP_LEN];
        format_stamp(time, offset, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn round_trips_days() {
        for z in -800_000..800_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(stamp(0, 0), "01/Jan/1970:00:00:00 +0000");
        // 2026-03-01T00:00:00Z seen from +08:00 and -05:30.
        let t = days_from_civil(2026, 3, 1) * 86_400;
        assert_eq!(t, 1_772_323_200);
        assert_eq!(stamp(t, 480), "01/Mar/2026:08:00:00 +0800");
        assert_eq!(stamp(t, -330), "28/Feb/2026:18:30:00 -0530");
        let leap = days_from_civil(2024, 2, 29) * 86_400 + 3_661;
        assert_eq!(stamp(leap, 0), "29/Feb/2024:01:01:01 +0000");
    }
}
