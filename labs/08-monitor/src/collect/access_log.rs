//! Request rates from an nginx access log: requests, bytes sent and status classes per second,
//! counted from the lines written since the last tick.
//!
//! The log is followed with lab 01's [`logstat::Follower`], which keeps reading across both kinds of
//! rotation (renamed away and re-created, or copied and truncated in place), and each line is
//! parsed with its [`logstat::parse_line`] (the `combined` format). A line that is not `combined`
//! is counted in `nginx.log.unparsed`, not dropped silently: a changed `log_format` shows up there.

use std::path::PathBuf;
use std::time::Duration;

use logstat::{Follower, StartAt};

use super::{CollectError, Collector, seconds_between};
use crate::{Millis, Sample};

/// What the lines of one interval add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogTally {
    /// Lines in the `combined` format.
    pub requests: u64,
    /// Their `$body_bytes_sent`, added up.
    pub bytes: u64,
    /// Requests by status class: `[1xx, 2xx, 3xx, 4xx, 5xx]`.
    pub classes: [u64; 5],
    /// Lines that are not.
    pub unparsed: u64,
}

impl LogTally {
    /// Counts one line (without its newline).
    pub fn add(&mut self, line: &[u8]) {
        todo!(
            "stage 1: logstat::parse_line; count the request, its bytes and its status class (1xx to 5xx), or an unparsed line"
        )
    }

    /// `nginx.log.requests`, `nginx.log.bytes`, `nginx.log.unparsed` and `nginx.log.status` tagged
    /// `class=1xx` … `class=5xx` (every class, 0 included), all per second over `seconds`.
    pub fn samples(&self, seconds: f64) -> Vec<Sample> {
        todo!("stage 1: every count divided by seconds; nginx.log.status for each class, 0 included")
    }
}

/// Follows an nginx access log and reports its rates at each tick.
///
/// The first call starts following at the log's end (what was written before the agent started is
/// not this interval's) and returns no samples; each later call counts the lines written since.
#[derive(Debug)]
pub struct AccessLogCollector {
    path: PathBuf,
    interval: Duration,
    /// The follower and the time of the last reading, from the first call on.
    follower: Option<(Follower, Millis)>,
}

impl AccessLogCollector {
    /// A collector following the log at `path` (which need not exist yet) every `interval`.
    pub fn new(path: impl Into<PathBuf>, interval: Duration) -> AccessLogCollector {
        todo!("stage 1: keep the path and interval; the follower is opened by the first collect")
    }
}

impl Collector for AccessLogCollector {
    fn name(&self) -> &str {
        todo!("stage 1: \"access_log\"")
    }

    fn interval(&self) -> Duration {
        todo!("stage 1: the interval")
    }

    fn collect(&mut self, now: Millis) -> Result<Vec<Sample>, CollectError> {
        todo!(
            "stage 1: first call: Follower::open at the end, remember now, no samples; then poll, tally the lines, rates over the seconds since the last call"
        )
    }
}
