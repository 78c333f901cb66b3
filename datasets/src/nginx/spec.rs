//! [`LogSpec`]: what a generated access log looks like, before a single line is drawn.

use super::clock;

/// The shape of a generated access log. Two generators with equal specs write identical bytes.
///
/// # Examples
///
/// ```
/// use datasets::nginx::LogSpec;
///
/// let spec = LogSpec { seed: 7, mean_rate: 5.0, ..LogSpec::default() };
/// assert_eq!(spec.utc_offset_minutes, 480);
/// ```
#[derive(Clone, Debug)]
pub struct LogSpec {
    /// Seed of every random draw: the same seed gives the same log, byte for byte.
    pub seed: u64,
    /// Unix seconds of the first line (default 2026-03-01T00:00:00Z).
    pub start: i64,
    /// Mean lines per second over a day (default 200.0). The rate follows a day/night curve in the
    /// written zone: 0.4× the mean at 03:00, 1.6× at 15:00.
    pub mean_rate: f64,
    /// Zone written on every line, in minutes east of UTC (default +0800, that is 480).
    pub utc_offset_minutes: i32,
    /// Share of malformed lines, in `0.0..=1.0` (default 0.002).
    pub malformed_ratio: f64,
    /// Size of the URL population, drawn Zipf-distributed (default 50,000).
    pub urls: usize,
    /// Size of the client population, drawn Zipf-distributed (default 20,000).
    pub clients: usize,
}

/// 2026-03-01T00:00:00Z in unix seconds.
pub(crate) const DEFAULT_START: i64 = 1_772_323_200;

impl Default for LogSpec {
    fn default() -> Self {
        Self {
            seed: 0,
            start: DEFAULT_START,
            mean_rate: 200.0,
            utc_offset_minutes: 480,
            malformed_ratio: 0.002,
            urls: 50_000,
            clients: 20_000,
        }
    }
}

impl LogSpec {
    /// Panics with a message naming the first field that no log can be made from.
    pub(crate) fn validate(&self) {
        assert!(
            self.mean_rate.is_finite() && self.mean_rate > 0.0,
            "LogSpec::mean_rate must be a positive number, got {}",
            self.mean_rate
        );
        assert!(
            (0.0..=1.0).contains(&self.malformed_ratio),
            "LogSpec::malformed_ratio must be within 0.0..=1.0, got {}",
            self.malformed_ratio
        );
        assert!(
            self.utc_offset_minutes.unsigned_abs() < 24 * 60,
            "LogSpec::utc_offset_minutes must be within ±23:59, got {}",
            self.utc_offset_minutes
        );
        assert!(self.urls > 0, "LogSpec::urls must be at least 1");
        assert!(self.clients > 0, "LogSpec::clients must be at least 1");
        let year = clock::local_year(self.start, self.utc_offset_minutes);
        assert!(
            (1000..=9000).contains(&year),
            "LogSpec::start must fall in a four-digit year with room to run, got year {year}"
        );
    }
}
